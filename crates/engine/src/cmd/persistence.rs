//! Persistence commands: SAVE, BGSAVE, DUMP, RESTORE (LASTSAVE lives with
//! the other server commands). The file format is in [`crate::rdb`].

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::command::Cmd;
use crate::ctx::{eq_ic, notify, Ctx};
use crate::errors;
use crate::rdb;
use crate::value::OwnedEntry;

/// Declares the commands of this module.
pub fn register(v: &mut Vec<Cmd>) {
    v.push(
        Cmd::new(
            "save",
            1,
            "admin noscript no_async_loading no_multi",
            (0, 0, 0),
            "server",
            "Synchronously save the dataset to disk",
            save,
        )
        .since("1.0.0")
        .complexity("O(N) where N is the total number of keys in all databases"),
    );
    v.push(
        Cmd::new(
            "bgsave",
            -1,
            "admin noscript no_async_loading",
            (0, 0, 0),
            "server",
            "Asynchronously save the dataset to disk",
            bgsave,
        )
        .syntax("[SCHEDULE]")
        .since("1.0.0")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new(
            "dump",
            2,
            "readonly",
            (1, 1, 1),
            "generic",
            "Return a serialized version of the value stored at the specified key.",
            dump,
        )
        .acl("keyspace")
        .since("2.6.0")
        .complexity("O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1)."),
    );
    v.push(
        Cmd::new(
            "restore",
            -4,
            "write denyoom",
            (1, 1, 1),
            "generic",
            "Create a key using the provided serialized value, previously obtained using DUMP.",
            restore,
        )
        .acl("keyspace dangerous")
        .syntax("key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]")
        .since("2.6.0")
        .complexity("O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N))."),
    );
}

fn save(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    if ctx.eng.persist.child.is_some() {
        return Reply::err_static("ERR Background save already in progress");
    }
    match rdb::save(ctx.eng) {
        Ok(()) => Reply::ok(),
        Err(_) => Reply::err_static("ERR"),
    }
}

fn bgsave(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let schedule = match args.get(1) {
        None => false,
        Some(a) if args.len() == 2 && eq_ic(a, "schedule") => true,
        Some(_) => return errors::syntax(),
    };
    if ctx.eng.persist.child.is_some() {
        if schedule {
            ctx.eng.persist.scheduled = true;
            return Reply::status("Background saving scheduled");
        }
        return Reply::err_static("ERR Background save already in progress");
    }
    match rdb::bgsave(ctx.eng) {
        Ok(_) => Reply::status("Background saving started"),
        Err(_) => Reply::err_static("ERR"),
    }
}

fn dump(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let compress = ctx.eng.config.get_bool("rdbcompression");
    let Some(e) = ctx.lookup(&args[1]) else {
        return Reply::Null;
    };
    match rdb::dump_payload(e.val, compress) {
        Ok(p) => Reply::Bulk(Bytes::from(p)),
        Err(er) => Reply::err(format!("ERR {er}")),
    }
}

fn restore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (mut replace, mut absttl) = (false, false);
    let mut idle: Option<i64> = None;
    let mut freq: Option<i64> = None;
    let mut j = 4;
    while j < args.len() {
        let more = args.len() - j - 1;
        let a = &args[j];
        if eq_ic(a, "replace") {
            replace = true;
        } else if eq_ic(a, "absttl") {
            absttl = true;
        } else if eq_ic(a, "idletime") && more >= 1 && freq.is_none() {
            let v = match ctx.int_arg(&args[j + 1]) {
                Ok(v) => v,
                Err(e) => return e,
            };
            if v < 0 {
                return Reply::err_static("ERR Invalid IDLETIME value, must be >= 0");
            }
            idle = Some(v);
            j += 1;
        } else if eq_ic(a, "freq") && more >= 1 && idle.is_none() {
            let v = match ctx.int_arg(&args[j + 1]) {
                Ok(v) => v,
                Err(e) => return e,
            };
            if !(0..=255).contains(&v) {
                return Reply::err_static("ERR Invalid FREQ value, must be >= 0 and <= 255");
            }
            freq = Some(v);
            j += 1;
        } else {
            return errors::syntax();
        }
        j += 1;
    }
    let key = &args[1];
    if !replace && ctx.lookup_write(key).is_some() {
        return Reply::err_static("BUSYKEY Target key name already exists.");
    }
    let mut ttl = match ctx.int_arg(&args[2]) {
        Ok(v) => v,
        Err(e) => return e,
    };
    if ttl < 0 {
        return Reply::err_static("ERR Invalid TTL value, must be >= 0");
    }
    let skip = ctx.eng.config.get_bool("skip-checksum-validation");
    if !rdb::verify_payload(&args[3], skip) {
        return Reply::err_static("ERR DUMP payload version or checksum are wrong");
    }
    let lim = rdb::LoadLimits::from_config(&ctx.eng.config);
    let Ok(val) = rdb::restore_value(&args[3], &lim) else {
        return Reply::err_static("ERR Bad data format");
    };
    let deleted = replace && ctx.delete(key);
    let now = ctx.now() as i64;
    if ttl != 0 && !absttl {
        ttl = ttl.saturating_add(now);
    }
    if ttl != 0 && ttl <= now {
        if deleted {
            ctx.modified(key, notify::GENERIC, "del");
        }
        return Reply::ok();
    }
    let lru = rdb::lru_or_lfu(
        ctx.eng,
        ctx.now(),
        freq.map(|f| f as u8),
        idle.map(|i| i as u64),
    );
    let db = ctx.client.db;
    ctx.eng.dbs[db].insert_entry(
        key.to_vec().into_boxed_slice(),
        OwnedEntry {
            val,
            expire: ttl as u64,
            lru,
        },
    );
    ctx.modified(key, notify::GENERIC, "restore");
    Reply::ok()
}

#[cfg(test)]
mod tests {
    use crate::testkit::TestEngine;
    use bytes::Bytes;
    use lunakv_protocol::Reply;

    fn dump(t: &mut TestEngine, k: &str) -> Bytes {
        match t.cmd(&["DUMP", k]) {
            Reply::Bulk(b) => b,
            r => panic!("{r:?}"),
        }
    }

    fn restore(t: &mut TestEngine, k: &str, ttl: &str, p: &Bytes, extra: &[&str]) -> String {
        let mut args: Vec<Bytes> = vec![
            Bytes::from_static(b"RESTORE"),
            Bytes::copy_from_slice(k.as_bytes()),
            Bytes::copy_from_slice(ttl.as_bytes()),
            p.clone(),
        ];
        args.extend(extra.iter().map(|a| Bytes::copy_from_slice(a.as_bytes())));
        t.eng.now_ms = crate::unix_ms();
        let r = t
            .eng
            .execute(&mut t.client, &args, crate::client::Caller::Client);
        let mut out = Vec::new();
        lunakv_protocol::encode(&r, 2, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn dump_restore_roundtrip_and_errors() {
        let mut t = TestEngine::new();
        t.cmd(&["SET", "s", "hello"]);
        t.cmd(&["RPUSH", "l", "a", "1", "b"]);
        t.cmd(&["HSET", "h", "f", "v", "n", "12"]);
        t.cmd(&["SADD", "si", "1", "2", "3"]);
        t.cmd(&["SADD", "ss", "a", "b"]);
        t.cmd(&["ZADD", "z", "1.5", "a", "2", "b"]);
        for k in ["s", "l", "h", "si", "ss", "z"] {
            let p = dump(&mut t, k);
            let before = t.raw(&["DEBUG", "DIGEST-VALUE", k]);
            let enc = t.raw(&["OBJECT", "ENCODING", k]);
            assert_eq!(
                restore(&mut t, k, "0", &p, &[]),
                "-BUSYKEY Target key name already exists.\r\n"
            );
            assert_eq!(restore(&mut t, k, "0", &p, &["REPLACE"]), "+OK\r\n");
            assert_eq!(t.raw(&["DEBUG", "DIGEST-VALUE", k]), before, "{k}");
            assert_eq!(t.raw(&["OBJECT", "ENCODING", k]), enc, "{k}");
        }
        assert_eq!(t.raw(&["DUMP", "nokey"]), "$-1\r\n");
        let p = dump(&mut t, "s");
        let mut bad = p.to_vec();
        bad[1] ^= 1;
        assert_eq!(
            restore(&mut t, "x", "0", &Bytes::from(bad), &[]),
            "-ERR DUMP payload version or checksum are wrong\r\n"
        );
        assert_eq!(
            restore(&mut t, "x", "-1", &p, &[]),
            "-ERR Invalid TTL value, must be >= 0\r\n"
        );
        assert_eq!(
            restore(&mut t, "x", "0", &p, &["IDLETIME", "-1"]),
            "-ERR Invalid IDLETIME value, must be >= 0\r\n"
        );
        assert_eq!(
            restore(&mut t, "x", "0", &p, &["FREQ", "256"]),
            "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n"
        );
        assert_eq!(
            restore(&mut t, "x", "0", &p, &["BOGUS"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(restore(&mut t, "x", "100000", &p, &[]), "+OK\r\n");
        let ttl = t.raw(&["PTTL", "x"]);
        assert!(ttl.starts_with(':') && ttl != ":-1\r\n", "{ttl}");
        assert_eq!(restore(&mut t, "y", "1", &p, &["ABSTTL"]), "+OK\r\n");
        assert_eq!(t.raw(&["EXISTS", "y"]), ":0\r\n");
        assert_eq!(
            restore(&mut t, "idle", "0", &p, &["IDLETIME", "1000"]),
            "+OK\r\n"
        );
        let idle = t.raw(&["OBJECT", "IDLETIME", "idle"]);
        assert!(idle == ":1000\r\n" || idle == ":1001\r\n", "{idle}");
        t.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
        assert_eq!(restore(&mut t, "lfu", "0", &p, &["FREQ", "100"]), "+OK\r\n");
        assert_eq!(t.raw(&["OBJECT", "FREQ", "lfu"]), ":100\r\n");
    }
}
