//! Commands of the `keys` (generic keyspace) family: DEL, UNLINK, EXISTS,
//! TYPE, KEYS, SCAN, RANDOMKEY, RENAME, RENAMENX, COPY, MOVE, SWAPDB, TOUCH,
//! the EXPIRE / TTL family, PERSIST, OBJECT, DBSIZE, FLUSHDB and FLUSHALL.

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::command::Cmd;
use crate::ctx::{eq_ic, notify, Ctx};
use crate::dict::{Dict, Key};
use crate::errors;
use crate::glob::glob_match;
use crate::value::{Entry, OwnedEntry, Str, Value};

/// Declares this family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    let g = "generic";
    v.push(
        Cmd::new("del", -2, "write", (1, -1, 1), g, "Delete a key", del)
            .syntax("key [key ...]")
            .complexity("O(N) where N is the number of keys that will be removed."),
    );
    v.push(
        Cmd::new("unlink", -2, "write fast", (1, -1, 1), g, "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.", unlink)
            .syntax("key [key ...]")
            .since("4.0.0")
            .complexity("O(1) for each key removed regardless of its size."),
    );
    v.push(
        Cmd::new(
            "exists",
            -2,
            "readonly fast",
            (1, -1, 1),
            g,
            "Determine if a key exists",
            exists,
        )
        .syntax("key [key ...]")
        .complexity("O(N) where N is the number of keys to check."),
    );
    v.push(
        Cmd::new(
            "type",
            2,
            "readonly fast",
            (1, 1, 1),
            g,
            "Determine the type stored at key",
            type_cmd,
        )
        .syntax("key")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new(
            "keys",
            2,
            "readonly",
            (0, 0, 0),
            g,
            "Find all keys matching the given pattern",
            keys,
        )
        .syntax("pattern")
        .acl("dangerous")
        .complexity("O(N) with N being the number of keys in the database"),
    );
    v.push(
        Cmd::new(
            "scan",
            -2,
            "readonly",
            (0, 0, 0),
            g,
            "Incrementally iterate the keys space",
            scan,
        )
        .syntax("cursor [MATCH pattern] [COUNT count] [TYPE type]")
        .since("2.8.0")
        .complexity("O(1) for every call. O(N) for a complete iteration."),
    );
    v.push(
        Cmd::new(
            "randomkey",
            1,
            "readonly",
            (0, 0, 0),
            g,
            "Return a random key from the keyspace",
            randomkey,
        )
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new("rename", 3, "write", (1, 2, 1), g, "Rename a key", rename)
            .syntax("key newkey")
            .complexity("O(1)"),
    );
    v.push(
        Cmd::new(
            "renamenx",
            3,
            "write fast",
            (1, 2, 1),
            g,
            "Rename a key, only if the new key does not exist",
            renamenx,
        )
        .syntax("key newkey")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new("copy", -3, "write denyoom", (1, 2, 1), g, "Copy a key", copy)
            .syntax("source destination [DB destination-db] [REPLACE]")
            .since("6.2.0")
            .complexity("O(N) worst case for collections, where N is the number of nested items. O(1) for string values."),
    );
    v.push(
        Cmd::new(
            "move",
            3,
            "write fast",
            (1, 1, 1),
            g,
            "Move a key to another database",
            move_cmd,
        )
        .syntax("key db")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new("swapdb", 3, "write fast", (0, 0, 0), "server", "Swaps two Redis databases", swapdb)
            .syntax("index1 index2")
            .since("4.0.0")
            .acl("keyspace dangerous")
            .complexity("O(N) where N is the count of clients watching or blocking on keys from both databases."),
    );
    v.push(
        Cmd::new("touch", -2, "readonly fast", (1, -1, 1), g, "Alters the last access time of a key(s). Returns the number of existing keys specified.", touch)
            .syntax("key [key ...]")
            .since("3.2.1")
            .complexity("O(N) where N is the number of keys that will be touched."),
    );
    let exp_syntax = "key seconds [NX | XX | GT | LT]";
    v.push(
        Cmd::new(
            "expire",
            -3,
            "write fast",
            (1, 1, 1),
            g,
            "Set a key's time to live in seconds",
            expire,
        )
        .syntax(exp_syntax)
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new(
            "pexpire",
            -3,
            "write fast",
            (1, 1, 1),
            g,
            "Set a key's time to live in milliseconds",
            pexpire,
        )
        .syntax("key milliseconds [NX | XX | GT | LT]")
        .since("2.6.0")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new(
            "expireat",
            -3,
            "write fast",
            (1, 1, 1),
            g,
            "Set the expiration for a key as a UNIX timestamp",
            expireat,
        )
        .syntax("key unix-time-seconds [NX | XX | GT | LT]")
        .since("1.2.0")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new(
            "pexpireat",
            -3,
            "write fast",
            (1, 1, 1),
            g,
            "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
            pexpireat,
        )
        .syntax("key unix-time-milliseconds [NX | XX | GT | LT]")
        .since("2.6.0")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new(
            "ttl",
            2,
            "readonly fast",
            (1, 1, 1),
            g,
            "Get the time to live for a key in seconds",
            ttl,
        )
        .syntax("key")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new(
            "pttl",
            2,
            "readonly fast",
            (1, 1, 1),
            g,
            "Get the time to live for a key in milliseconds",
            pttl,
        )
        .syntax("key")
        .since("2.6.0")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new(
            "expiretime",
            2,
            "readonly fast",
            (1, 1, 1),
            g,
            "Get the expiration Unix timestamp for a key",
            expiretime,
        )
        .syntax("key")
        .since("7.0.0")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new(
            "pexpiretime",
            2,
            "readonly fast",
            (1, 1, 1),
            g,
            "Get the expiration Unix timestamp for a key in milliseconds",
            pexpiretime,
        )
        .syntax("key")
        .since("7.0.0")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new(
            "persist",
            2,
            "write fast",
            (1, 1, 1),
            g,
            "Remove the expiration from a key",
            persist,
        )
        .syntax("key")
        .since("2.2.0")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new(
            "object",
            -2,
            "",
            (0, 0, 0),
            g,
            "A container for object introspection commands",
            object_help,
        )
        .since("2.2.3")
        .sub(
            Cmd::new(
                "encoding",
                3,
                "readonly",
                (2, 2, 1),
                g,
                "Inspect the internal encoding of a Redis object",
                object_encoding,
            )
            .syntax("key")
            .since("2.2.3")
            .complexity("O(1)"),
        )
        .sub(
            Cmd::new(
                "idletime",
                3,
                "readonly",
                (2, 2, 1),
                g,
                "Get the time since a Redis object was last accessed",
                object_idletime,
            )
            .syntax("key")
            .since("2.2.3")
            .complexity("O(1)"),
        )
        .sub(
            Cmd::new(
                "freq",
                3,
                "readonly",
                (2, 2, 1),
                g,
                "Get the logarithmic access frequency counter of a Redis object",
                object_freq,
            )
            .syntax("key")
            .since("4.0.0")
            .complexity("O(1)"),
        )
        .sub(
            Cmd::new(
                "refcount",
                3,
                "readonly",
                (2, 2, 1),
                g,
                "Get the number of references to the value of the key",
                object_refcount,
            )
            .syntax("key")
            .since("2.2.3")
            .complexity("O(1)"),
        )
        .sub(
            Cmd::new(
                "help",
                2,
                "loading stale",
                (0, 0, 0),
                g,
                "Show helpful text about the different subcommands",
                object_help,
            )
            .since("6.2.0")
            .acl("keyspace")
            .complexity("O(1)"),
        ),
    );
    v.push(
        Cmd::new(
            "dbsize",
            1,
            "readonly fast",
            (0, 0, 0),
            "server",
            "Return the number of keys in the selected database",
            dbsize,
        )
        .acl("keyspace")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new(
            "flushdb",
            -1,
            "write",
            (0, 0, 0),
            "server",
            "Remove all keys from the current database",
            flushdb,
        )
        .syntax("[ASYNC | SYNC]")
        .acl("keyspace dangerous")
        .complexity("O(N) where N is the number of keys in the selected database"),
    );
    v.push(
        Cmd::new(
            "flushall",
            -1,
            "write",
            (0, 0, 0),
            "server",
            "Remove all keys from all databases",
            flushall,
        )
        .syntax("[ASYNC | SYNC]")
        .acl("keyspace dangerous")
        .complexity("O(N) where N is the total number of keys in all databases"),
    );
}

// ---------------------------------------------------------------------------
// Helpers

/// `ERR source and destination objects are the same` (Redis's
/// `shared.sameobjecterr`).
fn same_object() -> Reply {
    Reply::err_static("ERR source and destination objects are the same")
}

/// Looks a key up for reading without touching its access clock (Redis's
/// `LOOKUP_NOTOUCH`), counting a keyspace hit or miss.
fn peek<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Option<Entry<&'c Value>> {
    let now = ctx.now();
    let db = ctx.client.db;
    let eng = &mut *ctx.eng;
    let e = eng.dbs[db].get(key, now);
    if e.is_some() {
        eng.stats.keyspace_hits += 1;
    } else {
        eng.stats.keyspace_misses += 1;
    }
    e
}

/// Parses a database index as Redis's `getIntFromObjectOrReply` +
/// `selectDb` do: not an int → `not_int`, out of range → `db_index`.
fn parse_db(ctx: &Ctx<'_>, b: &[u8]) -> Result<usize, Reply> {
    let i = ctx.int_arg(b)?;
    if i < i32::MIN as i64 || i > i32::MAX as i64 {
        return Err(Reply::err_static(
            "ERR value is out of range, value must between -2147483648 and 2147483647",
        ));
    }
    if i < 0 || i as usize >= ctx.eng.dbs.len() {
        return Err(errors::db_index());
    }
    Ok(i as usize)
}

/// Parses a SCAN cursor with C's `strtoul` rules, as Redis does: an optional
/// sign (a negative value wraps), decimal digits, nothing after them; an
/// empty string is cursor 0; leading space and overflow are errors.
pub fn parse_cursor(b: &[u8]) -> Option<u64> {
    let (neg, digits) = match b.first() {
        None => return Some(0),
        Some(b'+') => (false, &b[1..]),
        Some(b'-') => (true, &b[1..]),
        Some(_) => (false, b),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Writes a RESP bulk string (`$len\r\nbytes\r\n`).
fn put_bulk(out: &mut Vec<u8>, b: &[u8]) {
    let mut n = itoa::Buffer::new();
    out.push(b'$');
    out.extend_from_slice(n.format(b.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

/// Room reserved in front of a pre-encoded array body for its header.
const HDR_ROOM: usize = 24;

/// Finishes an array encoded after `HDR_ROOM` reserved bytes: writes the
/// `*count\r\n` header right before the body and returns the reply without
/// copying the body.
fn finish_array(mut buf: Vec<u8>, count: usize) -> Reply {
    let mut n = itoa::Buffer::new();
    let digits = n.format(count).as_bytes();
    let hlen = digits.len() + 3;
    let start = HDR_ROOM - hlen;
    buf[start] = b'*';
    buf[start + 1..start + 1 + digits.len()].copy_from_slice(digits);
    buf[HDR_ROOM - 2] = b'\r';
    buf[HDR_ROOM - 1] = b'\n';
    Reply::Raw(Bytes::from(buf).slice(start..))
}

/// Whether a lazy free of `n` entries is worth a background thread (Redis's
/// `LAZYFREE_THRESHOLD`).
const LAZYFREE_THRESHOLD: usize = 64;

/// Frees a detached keyspace table, on a background thread when asked to
/// and when it is big enough for that to matter.
fn free_dict(d: Dict<Value>, lazy: bool) {
    if lazy && d.len() > LAZYFREE_THRESHOLD {
        let spawned = std::thread::Builder::new()
            .name("lazyfree".into())
            .spawn(move || drop(d));
        // If no thread could be started the closure (and the table) is
        // dropped right here, synchronously.
        let _ = spawned;
    }
}

/// Fires the `expired` events of keys lazily expired by this command before
/// the ones it emits itself (Redis emits them inside the lookup).
fn flush_expired(ctx: &mut Ctx<'_>) {
    let db = ctx.client.db;
    if !ctx.eng.dbs[db].expired_log.is_empty() {
        ctx.eng.process_expired_logs();
    }
}

// ---------------------------------------------------------------------------
// DEL, UNLINK, EXISTS, TYPE, TOUCH

fn del_generic(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let mut n = 0;
    for k in &args[1..] {
        if ctx.delete(k) {
            ctx.modified(k, notify::GENERIC, "del");
            n += 1;
        }
    }
    Reply::Int(n)
}

fn del(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    del_generic(ctx, args)
}

/// Redis's lazyfreeGetFreeEffort: roughly the number of allocations
/// freeing a value takes.
fn free_effort(v: &crate::value::Value) -> usize {
    use crate::value::Value;
    match v {
        Value::List(l) => l.chunk_count(),
        Value::Set(s) if s.encoding() == "hashtable" => s.len(),
        Value::ZSet(z) if z.encoding() == "skiplist" => z.len(),
        Value::Hash(h) if h.encoding() == "hashtable" => h.len(),
        Value::Stream(s) => {
            let mut effort = s.node_count();
            let mut groups = s.groups();
            if let Some((_, first)) = groups.next() {
                let n = 1 + groups.count();
                effort += n * (1 + first.pel.len());
            }
            effort
        }
        _ => 1,
    }
}

/// UNLINK: values whose freeing is costly are freed on a background
/// thread and counted in INFO `lazyfreed_objects` (Redis's
/// dbAsyncDelete); expired keys are reclaimed as by a lookup.
fn unlink(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let mut n = 0;
    for k in &args[1..] {
        let now = ctx.now();
        let db = ctx.client.db;
        let live = ctx.eng.dbs[db]
            .dict
            .entry(k)
            .is_some_and(|e| e.expire() == 0 || e.expire() > now);
        if !live {
            if ctx.delete(k) {
                ctx.modified(k, notify::GENERIC, "del");
                n += 1;
            }
            continue;
        }
        let Some((_, e)) = ctx.eng.dbs[db].remove(k) else {
            continue;
        };
        if free_effort(&e.val) > LAZYFREE_THRESHOLD {
            ctx.eng.stats.lazyfreed_objects += 1;
            let val = e.val;
            let spawned = std::thread::Builder::new()
                .name("lazyfree".into())
                .spawn(move || drop(val));
            let _ = spawned;
        }
        ctx.modified(k, notify::GENERIC, "del");
        n += 1;
    }
    Reply::Int(n)
}

fn exists(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let mut n = 0;
    for k in &args[1..] {
        if peek(ctx, k).is_some() {
            n += 1;
        }
    }
    Reply::Int(n)
}

fn type_cmd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let t = peek(ctx, &args[1])
        .map(|e| e.val.type_name())
        .unwrap_or("none");
    Reply::Status(Bytes::from_static(t.as_bytes()))
}

fn touch(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let mut n = 0;
    for k in &args[1..] {
        if ctx.lookup(k).is_some() {
            n += 1;
        }
    }
    Reply::Int(n)
}

// ---------------------------------------------------------------------------
// KEYS, SCAN, RANDOMKEY, DBSIZE

fn keys(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let pat = &args[1][..];
    let all = pat == b"*";
    let now = ctx.now();
    let db = ctx.db();
    let mut buf = vec![0u8; HDR_ROOM];
    let mut count = 0usize;
    for (k, e) in db.dict.iter_entries() {
        if (all || glob_match(pat, k, false)) && (e.expire() == 0 || e.expire() > now) {
            put_bulk(&mut buf, k);
            count += 1;
        }
    }
    finish_array(buf, count)
}

fn scan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let Some(mut cursor) = parse_cursor(&args[1]) else {
        return Reply::err_static("ERR invalid cursor");
    };
    let mut count: i64 = 10;
    let mut pat: Option<&[u8]> = None;
    let mut typ: Option<&[u8]> = None;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - i >= 2;
        if eq_ic(&args[i], "count") && more {
            count = match ctx.int_arg(&args[i + 1]) {
                Ok(c) => c,
                Err(e) => return e,
            };
            if count < 1 {
                return errors::syntax();
            }
        } else if eq_ic(&args[i], "match") && more {
            let p = &args[i + 1][..];
            pat = if p == b"*" { None } else { Some(p) };
        } else if eq_ic(&args[i], "type") && more {
            typ = Some(&args[i + 1][..]);
        } else {
            return errors::syntax();
        }
        i += 2;
    }
    let now = ctx.now();
    let db = ctx.db();
    // (key, expired) for the keys that pass MATCH and TYPE.
    let mut found: Vec<(Bytes, bool)> = Vec::new();
    let mut iterations = count.saturating_mul(10);
    let mut visited = 0i64;
    loop {
        cursor = db.dict.scan_entries(cursor, |k, e| {
            visited += 1;
            if let Some(p) = pat {
                if !glob_match(p, k, false) {
                    return;
                }
            }
            let expired = e.expire() != 0 && e.expire() <= now;
            // An expired key's type is "none"; it is filtered out below anyway.
            if let Some(t) = typ {
                if !expired && !t.eq_ignore_ascii_case(e.val.type_name().as_bytes()) {
                    return;
                }
            }
            found.push((Bytes::copy_from_slice(k), expired));
        });
        let more = iterations > 0;
        iterations -= 1;
        if cursor == 0 || !more || visited >= count {
            break;
        }
    }
    let mut out = Vec::with_capacity(found.len());
    for (k, expired) in found {
        if expired {
            // Redis deletes it here (lazy expiry).
            db.get(&k, now);
        } else {
            out.push(Reply::Bulk(k));
        }
    }
    let mut c = itoa::Buffer::new();
    Reply::Array(vec![
        Reply::Bulk(Bytes::copy_from_slice(c.format(cursor).as_bytes())),
        Reply::Array(out),
    ])
}

fn randomkey(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    let now = ctx.now();
    let i = ctx.client.db;
    let eng = &mut *ctx.eng;
    let db = &mut eng.dbs[i];
    let rng = &mut eng.rng;
    loop {
        let (key, expired) = {
            let Some((k, e)) = db
                .dict
                .random_node(|| rand::Rng::random::<u64>(rng) as usize)
            else {
                return Reply::Null;
            };
            (
                Bytes::copy_from_slice(k),
                e.expire() != 0 && e.expire() <= now,
            )
        };
        if !expired {
            return Reply::Bulk(key);
        }
        db.get(&key, now);
    }
}

fn dbsize(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    Reply::Int(ctx.db().len() as i64)
}

// ---------------------------------------------------------------------------
// RENAME, RENAMENX, COPY, MOVE, SWAPDB

fn rename_generic(ctx: &mut Ctx<'_>, args: &[Bytes], nx: bool) -> Reply {
    let (src, dst) = (&args[1], &args[2]);
    if ctx.lookup_write(src).is_none() {
        return errors::no_such_key();
    }
    if src == dst {
        return if nx { Reply::Int(0) } else { Reply::ok() };
    }
    if ctx.lookup_write(dst).is_some() {
        if nx {
            return Reply::Int(0);
        }
        ctx.db().remove(dst);
    }
    let db = ctx.db();
    let Some((_, e)) = db.remove(src) else {
        return errors::no_such_key();
    };
    db.insert_entry(Key::from(&dst[..]), e);
    flush_expired(ctx);
    ctx.modified(src, notify::GENERIC, "rename_from");
    ctx.modified(dst, notify::GENERIC, "rename_to");
    ctx.eng.dirty -= 1;
    if nx {
        Reply::Int(1)
    } else {
        Reply::ok()
    }
}

fn rename(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    rename_generic(ctx, args, false)
}

fn renamenx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    rename_generic(ctx, args, true)
}

fn copy(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let src_db = ctx.client.db;
    let mut dst_db = src_db;
    let mut replace = false;
    let mut j = 3;
    while j < args.len() {
        if eq_ic(&args[j], "replace") {
            replace = true;
        } else if eq_ic(&args[j], "db") && j + 1 < args.len() {
            dst_db = match parse_db(ctx, &args[j + 1]) {
                Ok(d) => d,
                Err(e) => return e,
            };
            j += 1;
        } else {
            return errors::syntax();
        }
        j += 1;
    }
    let (key, newkey) = (&args[1], &args[2]);
    if src_db == dst_db && key == newkey {
        return same_object();
    }
    let lru = ctx.lru();
    let (val, expire) = match ctx.lookup(key) {
        None => return Reply::Int(0),
        Some(e) => (e.val.clone(), e.expire()),
    };
    let now = ctx.now();
    let dst = &mut ctx.eng.dbs[dst_db];
    if dst.get(newkey, now).is_some() {
        if !replace {
            return Reply::Int(0);
        }
        dst.remove(newkey);
    }
    dst.insert_entry(Key::from(&newkey[..]), OwnedEntry { val, expire, lru });
    ctx.eng.process_expired_logs();
    ctx.modified_in(dst_db, newkey, notify::GENERIC, "copy_to");
    Reply::Int(1)
}

fn move_cmd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let src_db = ctx.client.db;
    let dst_db = match parse_db(ctx, &args[2]) {
        Ok(d) => d,
        Err(e) => return e,
    };
    if src_db == dst_db {
        return same_object();
    }
    let key = &args[1];
    if ctx.lookup_write(key).is_none() {
        return Reply::Int(0);
    }
    let now = ctx.now();
    if ctx.eng.dbs[dst_db].get(key, now).is_some() {
        ctx.eng.process_expired_logs();
        return Reply::Int(0);
    }
    let Some((k, e)) = ctx.eng.dbs[src_db].remove(key) else {
        return Reply::Int(0);
    };
    ctx.eng.dbs[dst_db].insert_entry(k, e);
    ctx.eng.process_expired_logs();
    ctx.modified_in(src_db, key, notify::GENERIC, "move_from");
    ctx.modified_in(dst_db, key, notify::GENERIC, "move_to");
    ctx.eng.dirty -= 1;
    Reply::Int(1)
}

fn swapdb(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let parse = |b: &[u8], msg: &'static str| -> Result<i64, Reply> {
        match lunakv_protocol::parse_i64(b) {
            Some(i) if i >= i32::MIN as i64 && i <= i32::MAX as i64 => Ok(i),
            _ => Err(Reply::err_static(msg)),
        }
    };
    let a = match parse(&args[1], "ERR invalid first DB index") {
        Ok(i) => i,
        Err(e) => return e,
    };
    let b = match parse(&args[2], "ERR invalid second DB index") {
        Ok(i) => i,
        Err(e) => return e,
    };
    let n = ctx.eng.dbs.len() as i64;
    if a < 0 || a >= n || b < 0 || b >= n {
        return errors::db_index();
    }
    let (a, b) = (a as usize, b as usize);
    if a != b {
        // Expiry bookkeeping must be reported for the database it happened in.
        ctx.eng.process_expired_logs();
        touch_swapped_watches(ctx, a, b);
        let (lo, hi) = (a.min(b), a.max(b));
        let (left, right) = ctx.eng.dbs.split_at_mut(hi);
        let (x, y) = (&mut left[lo], &mut right[0]);
        std::mem::swap(&mut x.dict, &mut y.dict);
        std::mem::swap(&mut x.expires, &mut y.expires);
        std::mem::swap(&mut x.expire_cursor, &mut y.expire_cursor);
        // Clients blocked on keys of either database may now be served.
        ctx.eng.signal_ready_all_in(a);
        ctx.eng.signal_ready_all_in(b);
    }
    ctx.eng.dirty += 1;
    Reply::ok()
}

/// Invalidates the WATCHes on keys of databases `a` and `b` that the swap
/// changes (Redis's `touchAllWatchedKeysInDb` both ways): a key that exists
/// on either side counts, except a stale key replaced by nothing or by
/// another stale key, and a missing key replaced by a stale one (which is
/// then remembered as expired, so its later deletion is no change either).
fn touch_swapped_watches(ctx: &mut Ctx<'_>, a: usize, b: usize) {
    let eng = &mut *ctx.eng;
    let now = crate::unix_ms();
    for ((d, key), ids) in eng.watched_keys.iter_mut() {
        let (emptied, replaced) = if *d == a {
            (a, b)
        } else if *d == b {
            (b, a)
        } else {
            continue;
        };
        let exists_in_emptied = eng.dbs[emptied].dict.entry(key).is_some();
        let in_replaced = eng.dbs[replaced].dict.entry(key);
        if !exists_in_emptied && in_replaced.is_none() {
            continue;
        }
        let replaced_expired = in_replaced.is_some_and(|e| e.expire() != 0 && e.expire() <= now);
        for (id, expired_at_watch) in ids.iter_mut() {
            if *expired_at_watch {
                if in_replaced.is_none() {
                    *expired_at_watch = false;
                    continue;
                }
                if replaced_expired {
                    continue;
                }
            } else if !exists_in_emptied && replaced_expired {
                *expired_at_watch = true;
                continue;
            }
            eng.watch_dirty.insert(*id);
        }
    }
}

// ---------------------------------------------------------------------------
// EXPIRE family, TTL family, PERSIST

const NX: u8 = 1;
const XX: u8 = 2;
const GT: u8 = 4;
const LT: u8 = 8;

/// Redis's `expireGenericCommand`: `basetime` is added to the argument,
/// `seconds` tells whether the argument is in seconds.
fn expire_generic(
    ctx: &mut Ctx<'_>,
    args: &[Bytes],
    basetime: i64,
    seconds: bool,
    name: &str,
) -> Reply {
    let mut flags = 0u8;
    for opt in &args[3..] {
        flags |= if eq_ic(opt, "nx") {
            NX
        } else if eq_ic(opt, "xx") {
            XX
        } else if eq_ic(opt, "gt") {
            GT
        } else if eq_ic(opt, "lt") {
            LT
        } else {
            return Reply::err(format!(
                "ERR Unsupported option {}",
                String::from_utf8_lossy(opt)
            ));
        };
    }
    if flags & NX != 0 && flags & (XX | GT | LT) != 0 {
        return Reply::err_static(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        );
    }
    if flags & GT != 0 && flags & LT != 0 {
        return Reply::err_static("ERR GT and LT options at the same time are not compatible");
    }
    let mut when = match ctx.int_arg(&args[2]) {
        Ok(w) => w,
        Err(e) => return e,
    };
    if seconds {
        when = match when.checked_mul(1000) {
            Some(w) => w,
            None => return errors::invalid_expire(name),
        };
    }
    when = match when.checked_add(basetime) {
        Some(w) => w,
        None => return errors::invalid_expire(name),
    };
    let key = &args[1];
    let now = ctx.now() as i64;
    let Some(mut e) = ctx.lookup_write(key) else {
        return Reply::Int(0);
    };
    let current: i64 = if e.expire() == 0 {
        -1
    } else {
        e.expire() as i64
    };
    if flags & NX != 0 && current != -1 {
        return Reply::Int(0);
    }
    if flags & XX != 0 && current == -1 {
        return Reply::Int(0);
    }
    if flags & GT != 0 && (when <= current || current == -1) {
        return Reply::Int(0);
    }
    if flags & LT != 0 && current != -1 && when >= current {
        return Reply::Int(0);
    }
    if when <= now {
        ctx.db().remove(key);
        ctx.modified(key, notify::GENERIC, "del");
        // Propagated as an explicit DEL (UNLINK with lazyfree-lazy-expire).
        if ctx.propagating() {
            let lazy = ctx.eng.config.get_bool("lazyfree-lazy-expire");
            let del = crate::repl::word(if lazy { "UNLINK" } else { "DEL" });
            ctx.rewrite_propagation(vec![del, key.clone()]);
        }
    } else {
        // A node with an expiry field takes the new time in place (no
        // second lookup); one without grows by the field.
        let at = when as u64;
        if e.set_expire_in_place(at) {
            if current == -1 {
                ctx.db().expires += 1;
            }
        } else {
            ctx.db().set_expire(key, at);
        }
        ctx.modified(key, notify::GENERIC, "expire");
        // Propagated as PEXPIREAT with the absolute time, options kept.
        if ctx.propagating() {
            let mut argv = args.to_vec();
            if name != "pexpireat" {
                argv[0] = crate::repl::word("PEXPIREAT");
                argv[2] = crate::repl::int(when);
            }
            ctx.rewrite_propagation(argv);
        }
    }
    Reply::Int(1)
}

fn expire(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let now = ctx.now() as i64;
    expire_generic(ctx, args, now, true, "expire")
}

fn pexpire(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let now = ctx.now() as i64;
    expire_generic(ctx, args, now, false, "pexpire")
}

fn expireat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    expire_generic(ctx, args, 0, true, "expireat")
}

fn pexpireat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    expire_generic(ctx, args, 0, false, "pexpireat")
}

/// Redis's `ttlGenericCommand`.
fn ttl_generic(ctx: &mut Ctx<'_>, key: &[u8], ms: bool, abs: bool) -> Reply {
    let now = ctx.now() as i64;
    let Some(e) = peek(ctx, key) else {
        return Reply::Int(-2);
    };
    if e.expire() == 0 {
        return Reply::Int(-1);
    }
    let exp = e.expire() as i64;
    let t = if abs {
        exp
    } else {
        exp.saturating_sub(now).max(0)
    };
    // Computed wider so that times near i64::MAX round as Redis's do.
    Reply::Int(if ms {
        t
    } else {
        ((i128::from(t) + 500) / 1000) as i64
    })
}

fn ttl(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    ttl_generic(ctx, &args[1], false, false)
}

fn pttl(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    ttl_generic(ctx, &args[1], true, false)
}

fn expiretime(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    ttl_generic(ctx, &args[1], false, true)
}

fn pexpiretime(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    ttl_generic(ctx, &args[1], true, true)
}

fn persist(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let key = &args[1];
    match ctx.lookup_write(key) {
        Some(mut e) if e.expire() != 0 => {
            e.set_expire_in_place(0);
        }
        _ => return Reply::Int(0),
    }
    ctx.db().expires -= 1;
    ctx.modified(key, notify::GENERIC, "persist");
    Reply::Int(1)
}

// ---------------------------------------------------------------------------
// OBJECT

/// Redis's `OBJ_SHARED_REFCOUNT`: the refcount of shared integers.
const SHARED_REFCOUNT: i64 = i32::MAX as i64;
/// Integers below this are shared objects in Redis (`OBJ_SHARED_INTEGERS`).
const SHARED_INTEGERS: i64 = 10000;

fn lfu_policy(ctx: &Ctx<'_>) -> bool {
    ctx.eng.evict.policy.is_lfu()
}

fn object_encoding(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match peek(ctx, &args[2]) {
        None => Reply::Null,
        Some(e) => Reply::Bulk(Bytes::from_static(e.val.encoding().as_bytes())),
    }
}

fn object_refcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let lru_or_lfu = {
        let p = ctx.eng.config.get("maxmemory-policy").unwrap_or("");
        p.contains("lru") || p.contains("lfu")
    };
    let shared_ok = ctx.eng.config.get_i64("maxmemory") == 0 || !lru_or_lfu;
    match peek(ctx, &args[2]) {
        None => Reply::Null,
        Some(Entry {
            val: Value::Str(Str::Int(i)),
            ..
        }) if shared_ok && (0..SHARED_INTEGERS).contains(i) => Reply::Int(SHARED_REFCOUNT),
        Some(_) => Reply::Int(1),
    }
}

fn object_idletime(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let lfu = lfu_policy(ctx);
    let now = ctx.now();
    match peek(ctx, &args[2]) {
        None => Reply::Null,
        Some(_) if lfu => Reply::err_static("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."),
        Some(e) => Reply::Int((crate::evict::estimate_idle_ms(e.lru(), now) / 1000) as i64),
    }
}

fn object_freq(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let lfu = lfu_policy(ctx);
    let now = ctx.now();
    match peek(ctx, &args[2]).map(|e| e.lru()) {
        None => Reply::Null,
        Some(_) if !lfu => Reply::err_static("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."),
        Some(lru) => Reply::Int(i64::from(ctx.eng.evict.freq(lru, now))),
    }
}

fn object_help(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    const LINES: &[&str] = &[
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    ];
    Reply::Array(
        LINES
            .iter()
            .map(|l| Reply::Status(Bytes::from_static(l.as_bytes())))
            .collect(),
    )
}

// ---------------------------------------------------------------------------
// FLUSHDB, FLUSHALL

/// Parses `[ASYNC | SYNC]`: `Ok(true)` for a lazy (background) free.
fn flush_flags(ctx: &Ctx<'_>, args: &[Bytes]) -> Result<bool, Reply> {
    match args.len() {
        1 => Ok(ctx.eng.config.get("lazyfree-lazy-user-flush") == Some("yes")),
        2 if eq_ic(&args[1], "sync") => Ok(false),
        2 if eq_ic(&args[1], "async") => Ok(true),
        _ => Err(errors::syntax()),
    }
}

/// Empties one database; returns the number of keys it held.
fn empty_db(ctx: &mut Ctx<'_>, i: usize, lazy: bool) -> usize {
    let db = &mut ctx.eng.dbs[i];
    let n = db.len();
    let old = std::mem::take(&mut db.dict);
    db.clear();
    free_dict(old, lazy);
    n
}

fn flushdb(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let lazy = match flush_flags(ctx, args) {
        Ok(l) => l,
        Err(e) => return e,
    };
    let i = ctx.client.db;
    ctx.eng.process_expired_logs();
    ctx.eng.signal_flushed(Some(i));
    let n = empty_db(ctx, i, lazy);
    // Blocked clients re-check their keys (XREADGROUP fails on a vanished
    // stream, as in Redis).
    ctx.eng.signal_ready_all_in(i);
    ctx.eng.dirty += n as u64;
    // Replicated and written to the AOF even when nothing was deleted
    // (Redis's forceCommandPropagation).
    ctx.force_propagate();
    Reply::ok()
}

fn flushall(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let lazy = match flush_flags(ctx, args) {
        Ok(l) => l,
        Err(e) => return e,
    };
    ctx.eng.process_expired_logs();
    ctx.eng.signal_flushed(None);
    let mut n = 0;
    for i in 0..ctx.eng.dbs.len() {
        n += empty_db(ctx, i, lazy);
        ctx.eng.signal_ready_all_in(i);
    }
    ctx.eng.dirty += n as u64;
    // The save that follows resets the dirty counter; FLUSHALL is
    // replicated and written to the AOF anyway (forceCommandPropagation).
    crate::rdb::after_flushall(ctx.eng);
    ctx.force_propagate();
    Reply::ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::TestEngine;

    fn t() -> TestEngine {
        TestEngine::new()
    }

    fn bulks(items: &[&str]) -> String {
        let mut s = format!("*{}\r\n", items.len());
        for i in items {
            s.push_str(&format!("${}\r\n{}\r\n", i.len(), i));
        }
        s
    }

    fn set_expired(t: &mut TestEngine, key: &str) {
        t.raw(&["SET", key, "v"]);
        let db = t.client.db;
        t.eng.dbs[db].set_expire(key.as_bytes(), 1);
    }

    /// Registers a WATCH of `key` in db 0 by client 99 and returns whether a
    /// command invalidated it.
    fn watch(t: &mut TestEngine, db: usize, key: &str) {
        t.eng.watched_keys.insert(
            (db, Bytes::copy_from_slice(key.as_bytes())),
            vec![(99, false)],
        );
        t.eng.watch_dirty.clear();
    }

    fn watch_fired(t: &TestEngine) -> bool {
        t.eng.watch_dirty.contains(&99)
    }

    #[test]
    fn del_unlink_exists_counts() {
        let mut t = t();
        t.raw(&["SET", "a", "1"]);
        t.raw(&["SET", "b", "2"]);
        t.raw(&["SET", "c", "3"]);
        assert_eq!(t.raw(&["EXISTS", "a", "a", "nokey", "b"]), ":3\r\n");
        assert_eq!(t.raw(&["DEL", "a", "a", "nokey"]), ":1\r\n");
        assert_eq!(t.raw(&["UNLINK", "b", "c", "b"]), ":2\r\n");
        assert_eq!(t.raw(&["EXISTS", "a", "b", "c"]), ":0\r\n");
        assert_eq!(
            t.raw(&["DEL"]),
            "-ERR wrong number of arguments for 'del' command\r\n"
        );
        assert_eq!(
            t.raw(&["EXISTS"]),
            "-ERR wrong number of arguments for 'exists' command\r\n"
        );
    }

    #[test]
    fn del_of_expired_key_is_zero() {
        let mut t = t();
        set_expired(&mut t, "x");
        assert_eq!(t.raw(&["DEL", "x"]), ":0\r\n");
        assert_eq!(t.raw(&["EXISTS", "x"]), ":0\r\n");
        assert_eq!(t.raw(&["DBSIZE"]), ":0\r\n");
    }

    #[test]
    fn del_invalidates_watch() {
        let mut t = t();
        t.raw(&["SET", "a", "1"]);
        watch(&mut t, 0, "a");
        t.raw(&["DEL", "nokey"]);
        assert!(!watch_fired(&t));
        t.raw(&["DEL", "a"]);
        assert!(watch_fired(&t));
    }

    #[test]
    fn type_and_touch() {
        let mut t = t();
        t.raw(&["SET", "a", "1"]);
        assert_eq!(t.raw(&["TYPE", "a"]), "+string\r\n");
        assert_eq!(t.raw(&["TYPE", "nokey"]), "+none\r\n");
        assert_eq!(t.raw(&["TOUCH", "a", "a", "nokey"]), ":2\r\n");
        assert_eq!(
            t.raw(&["TYPE"]),
            "-ERR wrong number of arguments for 'type' command\r\n"
        );
    }

    #[test]
    fn keys_with_patterns_skips_expired() {
        let mut t = t();
        for k in ["foo_a", "foo_b", "foo_c", "key_x", "key_y", "key_z"] {
            t.raw(&["SET", k, "hello"]);
        }
        set_expired(&mut t, "foo_dead");
        let mut got = match t.cmd(&["KEYS", "foo*"]) {
            Reply::Raw(b) => String::from_utf8_lossy(&b).into_owned(),
            r => panic!("{r:?}"),
        };
        got = got.replace("\r\n", "|");
        assert!(got.starts_with("*3|"), "{got}");
        for k in ["foo_a", "foo_b", "foo_c"] {
            assert!(got.contains(k));
        }
        assert!(t.raw(&["KEYS", "*"]).starts_with("*6\r\n"));
        assert_eq!(t.raw(&["KEYS", "nomatch*"]), "*0\r\n");
        assert_eq!(
            t.raw(&["KEYS", "key_[xy]"]).len(),
            bulks(&["key_x", "key_y"]).len()
        );
        // Expired keys are not deleted by KEYS (Redis's keyIsExpired).
        assert_eq!(t.raw(&["DBSIZE"]), ":7\r\n");
    }

    #[test]
    fn keys_long_key_and_pathological_pattern() {
        let mut t = t();
        let long = "x".repeat(10000);
        t.raw(&["SET", &long, "1"]);
        assert_eq!(t.raw(&["KEYS", "*"]), bulks(&[&long]));
        assert_eq!(t.raw(&["KEYS", "*"]), bulks(&[&long]));
        t.raw(&["FLUSHDB"]);
        t.raw(&["SET", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "1"]);
        assert_eq!(
            t.raw(&["KEYS", "a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"]),
            "*0\r\n"
        );
    }

    #[test]
    fn keys_big_db_is_linear_and_one_buffer() {
        let mut t = t();
        for i in 0..50_000 {
            t.raw(&["SET", &format!("k:{i}"), "1"]);
        }
        let start = std::time::Instant::now();
        let r = t.raw(&["KEYS", "*"]);
        assert!(r.starts_with("*50000\r\n"));
        assert!(start.elapsed().as_secs() < 5);
    }

    #[test]
    fn dbsize_flushdb_flushall() {
        let mut t = t();
        t.raw(&["SET", "a", "1"]);
        t.raw(&["SET", "b", "1"]);
        assert_eq!(t.raw(&["DBSIZE"]), ":2\r\n");
        t.raw(&["SELECT", "1"]);
        t.raw(&["SET", "a", "1"]);
        assert_eq!(t.raw(&["FLUSHDB", "foo"]), "-ERR syntax error\r\n");
        assert_eq!(
            t.raw(&["FLUSHDB", "sync", "async"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(t.raw(&["FLUSHALL", "a", "b"]), "-ERR syntax error\r\n");
        assert_eq!(t.raw(&["FLUSHDB", "SYNC"]), "+OK\r\n");
        assert_eq!(t.raw(&["DBSIZE"]), ":0\r\n");
        t.raw(&["SELECT", "0"]);
        assert_eq!(t.raw(&["DBSIZE"]), ":2\r\n");
        t.raw(&["SELECT", "2"]);
        t.raw(&["SET", "z", "1"]);
        watch(&mut t, 0, "a");
        assert_eq!(t.raw(&["FLUSHALL", "async"]), "+OK\r\n");
        assert!(watch_fired(&t));
        assert_eq!(t.raw(&["DBSIZE"]), ":0\r\n");
        t.raw(&["SELECT", "0"]);
        assert_eq!(t.raw(&["DBSIZE"]), ":0\r\n");
        assert_eq!(
            t.raw(&["DBSIZE", "x"]),
            "-ERR wrong number of arguments for 'dbsize' command\r\n"
        );
    }

    #[test]
    fn flush_async_of_big_db() {
        let mut t = t();
        for i in 0..1000 {
            t.raw(&["SET", &format!("k{i}"), "v"]);
        }
        t.raw(&["PEXPIRE", "k1", "100000"]);
        assert_eq!(t.raw(&["FLUSHDB", "ASYNC"]), "+OK\r\n");
        assert_eq!(t.raw(&["DBSIZE"]), ":0\r\n");
        assert_eq!(t.eng.dbs[0].expires, 0);
        assert_eq!(t.raw(&["SET", "k1", "v"]), "+OK\r\n");
        assert_eq!(t.raw(&["DBSIZE"]), ":1\r\n");
    }

    #[test]
    fn flushdb_invalidates_watch_of_its_db_only() {
        let mut t = t();
        t.raw(&["SET", "a", "1"]);
        t.raw(&["SELECT", "1"]);
        t.raw(&["SET", "a", "1"]);
        t.raw(&["SELECT", "0"]);
        watch(&mut t, 1, "a");
        t.raw(&["FLUSHDB"]);
        assert!(!watch_fired(&t));
        t.raw(&["SELECT", "1"]);
        t.raw(&["FLUSHDB"]);
        assert!(watch_fired(&t));
        // A watched key that did not exist is not touched by a flush.
        watch(&mut t, 1, "nokey");
        t.raw(&["FLUSHALL"]);
        assert!(!watch_fired(&t));
    }

    #[test]
    fn scan_cursor_parsing() {
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b"+12"), Some(12));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
        assert_eq!(parse_cursor(b" 1"), None);
        assert_eq!(parse_cursor(b"1 "), None);
        assert_eq!(parse_cursor(b"+"), None);
        assert_eq!(parse_cursor(b"-"), None);
        assert_eq!(parse_cursor(b"abc"), None);
        assert_eq!(parse_cursor(b"0x10"), None);
    }

    #[test]
    fn scan_errors() {
        let mut t = t();
        t.raw(&["SET", "a", "1"]);
        assert_eq!(t.raw(&["SCAN", "x"]), "-ERR invalid cursor\r\n");
        assert_eq!(t.raw(&["SCAN", " 1"]), "-ERR invalid cursor\r\n");
        assert_eq!(
            t.raw(&["SCAN", "18446744073709551616"]),
            "-ERR invalid cursor\r\n"
        );
        assert_eq!(t.raw(&["SCAN", "0", "count", "0"]), "-ERR syntax error\r\n");
        assert_eq!(
            t.raw(&["SCAN", "0", "count", "-1"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            t.raw(&["SCAN", "0", "count", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(t.raw(&["SCAN", "0", "match"]), "-ERR syntax error\r\n");
        assert_eq!(t.raw(&["SCAN", "0", "type"]), "-ERR syntax error\r\n");
        assert_eq!(t.raw(&["SCAN", "0", "foo", "bar"]), "-ERR syntax error\r\n");
        assert_eq!(
            t.raw(&["SCAN"]),
            "-ERR wrong number of arguments for 'scan' command\r\n"
        );
        assert_eq!(t.raw(&["SCAN", ""]), "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n");
        assert_eq!(
            t.raw(&["SCAN", "0", "COUNT", "9223372036854775807"]),
            "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"
        );
    }

    fn scan_all(t: &mut TestEngine, extra: &[&str]) -> Vec<String> {
        let mut cursor = "0".to_string();
        let mut keys = Vec::new();
        loop {
            let mut args = vec!["SCAN", cursor.as_str()];
            args.extend_from_slice(extra);
            let Reply::Array(parts) = t.cmd(&args) else {
                panic!("scan reply")
            };
            let [Reply::Bulk(c), Reply::Array(ks)] = &parts[..] else {
                panic!("scan shape")
            };
            for k in ks {
                let Reply::Bulk(k) = k else { panic!("key") };
                keys.push(String::from_utf8_lossy(k).into_owned());
            }
            cursor = String::from_utf8_lossy(c).into_owned();
            if cursor == "0" {
                break;
            }
        }
        keys
    }

    #[test]
    fn scan_match_count_type() {
        let mut t = t();
        for i in 0..1000 {
            t.raw(&["SET", &format!("key:{i}"), "v"]);
        }
        let mut all = scan_all(&mut t, &["COUNT", "7"]);
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 1000);
        let m = scan_all(&mut t, &["MATCH", "key:1??", "COUNT", "100"]);
        let mut m2 = m.clone();
        m2.sort();
        m2.dedup();
        assert_eq!(m2.len(), 100);
        assert!(m2.iter().all(|k| k.starts_with("key:1") && k.len() == 7));
        assert_eq!(
            scan_all(&mut t, &["TYPE", "STRING", "MATCH", "key:99?"]).len(),
            10
        );
        assert_eq!(scan_all(&mut t, &["TYPE", "list"]).len(), 0);
        assert_eq!(scan_all(&mut t, &["TYPE", "nosuchtype"]).len(), 0);
    }

    #[test]
    fn scan_deletes_expired_matching_keys() {
        let mut t = t();
        t.raw(&["SET", "live", "v"]);
        set_expired(&mut t, "dead1");
        set_expired(&mut t, "other");
        let keys = scan_all(&mut t, &["MATCH", "[dl]*"]);
        assert_eq!(keys, vec!["live".to_string()]);
        // "dead1" was reclaimed, "other" (not matched) was not.
        assert_eq!(t.raw(&["DBSIZE"]), ":2\r\n");
    }

    #[test]
    fn scan_misses_no_stable_key_while_the_table_grows() {
        let mut t = t();
        for i in 0..500 {
            t.raw(&["SET", &format!("stable:{i}"), "v"]);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = "0".to_string();
        let mut extra = 0;
        loop {
            let Reply::Array(parts) = t.cmd(&["SCAN", &cursor, "COUNT", "5"]) else {
                panic!()
            };
            let [Reply::Bulk(c), Reply::Array(ks)] = &parts[..] else {
                panic!()
            };
            for k in ks {
                if let Reply::Bulk(k) = k {
                    seen.insert(k.clone());
                }
            }
            cursor = String::from_utf8_lossy(c).into_owned();
            // Grow the table (to ~16x) between steps.
            if extra < 8000 {
                for _ in 0..40 {
                    t.raw(&["SET", &format!("new:{extra}"), "v"]);
                    extra += 1;
                }
            }
            if cursor == "0" {
                break;
            }
        }
        for i in 0..500 {
            assert!(
                seen.contains(format!("stable:{i}").as_bytes()),
                "missed stable:{i}"
            );
        }
    }

    #[test]
    fn randomkey_cases() {
        let mut t = t();
        assert_eq!(t.raw(&["RANDOMKEY"]), "$-1\r\n");
        t.raw(&["SET", "foo", "x"]);
        t.raw(&["SET", "bar", "y"]);
        let mut foo = false;
        let mut bar = false;
        for _ in 0..200 {
            match t.raw(&["RANDOMKEY"]).as_str() {
                "$3\r\nfoo\r\n" => foo = true,
                "$3\r\nbar\r\n" => bar = true,
                r => panic!("{r}"),
            }
        }
        assert!(foo && bar);
        t.raw(&["FLUSHDB"]);
        set_expired(&mut t, "a");
        set_expired(&mut t, "b");
        assert_eq!(t.raw(&["RANDOMKEY"]), "$-1\r\n");
        assert_eq!(t.raw(&["DBSIZE"]), ":0\r\n");
        assert_eq!(
            t.raw(&["RANDOMKEY", "x"]),
            "-ERR wrong number of arguments for 'randomkey' command\r\n"
        );
    }

    #[test]
    fn rename_cases() {
        let mut t = t();
        assert_eq!(t.raw(&["RENAME", "nokey", "x"]), "-ERR no such key\r\n");
        assert_eq!(t.raw(&["RENAME", "nokey", "nokey"]), "-ERR no such key\r\n");
        assert_eq!(
            t.raw(&["RENAMENX", "nokey", "nokey"]),
            "-ERR no such key\r\n"
        );
        t.raw(&["SET", "mykey", "a"]);
        assert_eq!(t.raw(&["RENAME", "mykey", "mykey"]), "+OK\r\n");
        assert_eq!(t.raw(&["RENAMENX", "mykey", "mykey"]), ":0\r\n");
        assert_eq!(t.raw(&["RENAME", "mykey", "mykey1"]), "+OK\r\n");
        assert_eq!(t.raw(&["GET", "mykey1"]), "$1\r\na\r\n");
        assert_eq!(t.raw(&["EXISTS", "mykey"]), ":0\r\n");
        t.raw(&["SET", "mykey2", "xxx"]);
        assert_eq!(t.raw(&["RENAME", "mykey2", "mykey1"]), "+OK\r\n");
        assert_eq!(t.raw(&["GET", "mykey1"]), "$3\r\nxxx\r\n");
        assert_eq!(t.raw(&["DBSIZE"]), ":1\r\n");
        t.raw(&["SET", "other", "o"]);
        assert_eq!(t.raw(&["RENAMENX", "mykey1", "other"]), ":0\r\n");
        assert_eq!(t.raw(&["GET", "other"]), "$1\r\no\r\n");
        assert_eq!(t.raw(&["RENAMENX", "mykey1", "fresh"]), ":1\r\n");
        assert_eq!(t.raw(&["GET", "fresh"]), "$3\r\nxxx\r\n");
        assert_eq!(
            t.raw(&["RENAME", "a"]),
            "-ERR wrong number of arguments for 'rename' command\r\n"
        );
    }

    #[test]
    fn rename_moves_ttl_and_drops_target_ttl() {
        let mut t = t();
        t.raw(&["SET", "mykey", "foo"]);
        t.raw(&["EXPIRE", "mykey", "100"]);
        assert_eq!(t.raw(&["RENAME", "mykey", "mykey2"]), "+OK\r\n");
        let Reply::Int(ttl) = t.cmd(&["TTL", "mykey2"]) else {
            panic!()
        };
        assert!(ttl > 95 && ttl <= 100);
        t.raw(&["SET", "mykey", "foo"]);
        t.raw(&["SET", "mykey2", "bar"]);
        t.raw(&["EXPIRE", "mykey2", "100"]);
        assert_eq!(t.raw(&["RENAME", "mykey", "mykey2"]), "+OK\r\n");
        assert_eq!(t.raw(&["TTL", "mykey2"]), ":-1\r\n");
        assert_eq!(t.eng.dbs[0].expires, 0);
    }

    #[test]
    fn rename_invalidates_both_watches() {
        let mut t = t();
        t.raw(&["SET", "a", "1"]);
        watch(&mut t, 0, "b");
        t.raw(&["RENAME", "a", "b"]);
        assert!(watch_fired(&t));
        watch(&mut t, 0, "b");
        t.raw(&["RENAME", "b", "c"]);
        assert!(watch_fired(&t));
    }

    #[test]
    fn copy_cases() {
        let mut t = t();
        assert_eq!(t.raw(&["COPY", "nokey", "x"]), ":0\r\n");
        t.raw(&["SET", "mykey", "foobar"]);
        assert_eq!(
            t.raw(&["COPY", "mykey", "mykey"]),
            "-ERR source and destination objects are the same\r\n"
        );
        assert_eq!(
            t.raw(&["COPY", "mykey", "mykey", "DB", "0"]),
            "-ERR source and destination objects are the same\r\n"
        );
        assert_eq!(
            t.raw(&["COPY", "mykey", "m2", "DB", "99"]),
            "-ERR DB index is out of range\r\n"
        );
        assert_eq!(
            t.raw(&["COPY", "mykey", "m2", "DB", "-1"]),
            "-ERR DB index is out of range\r\n"
        );
        assert_eq!(
            t.raw(&["COPY", "mykey", "m2", "DB", "notanint"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            t.raw(&["COPY", "mykey", "m2", "DB", "2147483648"]),
            "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"
        );
        assert_eq!(
            t.raw(&["COPY", "mykey", "m2", "DB"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            t.raw(&["COPY", "mykey", "m2", "foo"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(t.raw(&["COPY", "mykey", "m2"]), ":1\r\n");
        assert_eq!(t.raw(&["GET", "m2"]), "$6\r\nfoobar\r\n");
        t.raw(&["SET", "m3", "other"]);
        assert_eq!(t.raw(&["COPY", "mykey", "m3"]), ":0\r\n");
        assert_eq!(t.raw(&["GET", "m3"]), "$5\r\nother\r\n");
        assert_eq!(t.raw(&["COPY", "mykey", "m3", "REPLACE"]), ":1\r\n");
        assert_eq!(t.raw(&["GET", "m3"]), "$6\r\nfoobar\r\n");
        // Independent copies.
        t.raw(&["SET", "mykey", "changed"]);
        assert_eq!(t.raw(&["GET", "m3"]), "$6\r\nfoobar\r\n");
        // Same key name into another db.
        assert_eq!(t.raw(&["COPY", "mykey", "mykey", "DB", "1"]), ":1\r\n");
        t.raw(&["SELECT", "1"]);
        assert_eq!(t.raw(&["GET", "mykey"]), "$7\r\nchanged\r\n");
        assert_eq!(
            t.raw(&["COPY"]),
            "-ERR wrong number of arguments for 'copy' command\r\n"
        );
    }

    #[test]
    fn copy_keeps_expire_only_if_any() {
        let mut t = t();
        t.raw(&["SET", "a", "1"]);
        t.raw(&["EXPIRE", "a", "100"]);
        t.raw(&["COPY", "a", "b"]);
        let Reply::Int(ttl) = t.cmd(&["TTL", "b"]) else {
            panic!()
        };
        assert!(ttl > 95);
        t.raw(&["SET", "c", "1"]);
        t.raw(&["COPY", "c", "d"]);
        assert_eq!(t.raw(&["TTL", "d"]), ":-1\r\n");
        assert_eq!(t.eng.dbs[0].expires, 2);
        t.raw(&["SET", "e", "x"]);
        t.raw(&["EXPIRE", "e", "100"]);
        t.raw(&["COPY", "c", "e", "REPLACE"]);
        assert_eq!(t.raw(&["TTL", "e"]), ":-1\r\n");
        assert_eq!(t.eng.dbs[0].expires, 2);
    }

    #[test]
    fn move_cases() {
        let mut t = t();
        t.raw(&["SET", "mykey", "foobar"]);
        assert_eq!(
            t.raw(&["MOVE", "mykey", "0"]),
            "-ERR source and destination objects are the same\r\n"
        );
        assert_eq!(
            t.raw(&["MOVE", "mykey", "99"]),
            "-ERR DB index is out of range\r\n"
        );
        assert_eq!(
            t.raw(&["MOVE", "mykey", "notanint"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(t.raw(&["MOVE", "nokey", "1"]), ":0\r\n");
        t.raw(&["EXPIRE", "mykey", "100"]);
        assert_eq!(t.raw(&["MOVE", "mykey", "1"]), ":1\r\n");
        assert_eq!(t.raw(&["EXISTS", "mykey"]), ":0\r\n");
        assert_eq!(t.eng.dbs[0].expires, 0);
        t.raw(&["SET", "mykey", "local"]);
        assert_eq!(t.raw(&["MOVE", "mykey", "1"]), ":0\r\n");
        t.raw(&["SELECT", "1"]);
        assert_eq!(t.raw(&["GET", "mykey"]), "$6\r\nfoobar\r\n");
        let Reply::Int(ttl) = t.cmd(&["TTL", "mykey"]) else {
            panic!()
        };
        assert!(ttl > 95);
        assert_eq!(t.eng.dbs[1].expires, 1);
        t.raw(&["SET", "plain", "p"]);
        assert_eq!(t.raw(&["MOVE", "plain", "0"]), ":1\r\n");
        t.raw(&["SELECT", "0"]);
        assert_eq!(t.raw(&["TTL", "plain"]), ":-1\r\n");
    }

    #[test]
    fn swapdb_cases() {
        let mut t = t();
        assert_eq!(
            t.raw(&["SWAPDB", "0", "x"]),
            "-ERR invalid second DB index\r\n"
        );
        assert_eq!(
            t.raw(&["SWAPDB", "x", "0"]),
            "-ERR invalid first DB index\r\n"
        );
        assert_eq!(
            t.raw(&["SWAPDB", "0", "2147483648"]),
            "-ERR invalid second DB index\r\n"
        );
        assert_eq!(
            t.raw(&["SWAPDB", "0", "16"]),
            "-ERR DB index is out of range\r\n"
        );
        assert_eq!(
            t.raw(&["SWAPDB", "-1", "0"]),
            "-ERR DB index is out of range\r\n"
        );
        t.raw(&["SET", "a", "db0"]);
        t.raw(&["EXPIRE", "a", "100"]);
        watch(&mut t, 1, "a");
        assert_eq!(t.raw(&["SWAPDB", "0", "1"]), "+OK\r\n");
        assert!(watch_fired(&t));
        assert_eq!(t.raw(&["EXISTS", "a"]), ":0\r\n");
        t.raw(&["SELECT", "1"]);
        assert_eq!(t.raw(&["GET", "a"]), "$3\r\ndb0\r\n");
        assert_eq!(t.eng.dbs[1].expires, 1);
        assert_eq!(t.eng.dbs[0].expires, 0);
        assert_eq!(t.raw(&["SWAPDB", "1", "1"]), "+OK\r\n");
        assert_eq!(t.raw(&["GET", "a"]), "$3\r\ndb0\r\n");
    }

    #[test]
    fn expire_basics_and_options() {
        let mut t = t();
        assert_eq!(t.raw(&["EXPIRE", "nokey", "100"]), ":0\r\n");
        for o in ["NX", "XX", "GT", "LT"] {
            assert_eq!(t.raw(&["EXPIRE", "nokey", "100", o]), ":0\r\n");
        }
        t.raw(&["SET", "foo", "bar"]);
        assert_eq!(t.raw(&["EXPIRE", "foo", "100", "XX"]), ":0\r\n");
        assert_eq!(t.raw(&["EXPIRE", "foo", "100", "GT"]), ":0\r\n");
        assert_eq!(t.raw(&["EXPIRE", "foo", "100", "LT"]), ":1\r\n");
        assert_eq!(t.raw(&["EXPIRE", "foo", "200", "NX"]), ":0\r\n");
        assert_eq!(t.raw(&["EXPIRE", "foo", "200", "GT"]), ":1\r\n");
        assert_eq!(t.raw(&["EXPIRE", "foo", "100", "GT"]), ":0\r\n");
        assert_eq!(t.raw(&["EXPIRE", "foo", "300", "LT"]), ":0\r\n");
        assert_eq!(t.raw(&["EXPIRE", "foo", "50", "LT", "XX"]), ":1\r\n");
        assert_eq!(t.raw(&["TTL", "foo"]), ":50\r\n");
        assert_eq!(
            t.raw(&["EXPIRE", "foo", "10", "gt", "lt"]),
            "-ERR GT and LT options at the same time are not compatible\r\n"
        );
        let nx = "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n";
        assert_eq!(t.raw(&["EXPIRE", "foo", "10", "nx", "xx"]), nx);
        assert_eq!(t.raw(&["EXPIRE", "foo", "10", "nx", "gt"]), nx);
        assert_eq!(t.raw(&["EXPIRE", "foo", "10", "lt", "nx"]), nx);
        assert_eq!(
            t.raw(&["EXPIRE", "foo", "200", "AB"]),
            "-ERR Unsupported option AB\r\n"
        );
        assert_eq!(
            t.raw(&["EXPIRE", "foo", "200", "XX", "AB"]),
            "-ERR Unsupported option AB\r\n"
        );
        assert_eq!(
            t.raw(&["EXPIRE", "foo", "x", "AB"]),
            "-ERR Unsupported option AB\r\n"
        );
        assert_eq!(
            t.raw(&["EXPIRE", "foo", ""]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            t.raw(&["EXPIRE", "foo", "1.5"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            t.raw(&["EXPIRE", "foo"]),
            "-ERR wrong number of arguments for 'expire' command\r\n"
        );
    }

    #[test]
    fn expire_overflow_errors() {
        let mut t = t();
        t.raw(&["SET", "foo", "bar"]);
        let e = "-ERR invalid expire time in 'expire' command\r\n";
        for v in [
            "9223370399119966",
            "9223372036854776",
            "10000000000000000",
            "18446744073709561",
            "-9223372036854776",
            "-9999999999999999",
        ] {
            let r = t.raw(&["EXPIRE", "foo", v]);
            // 18446744073709561 is not an i64 in seconds... it is; all overflow.
            assert_eq!(r, e, "{v}");
        }
        assert_eq!(t.raw(&["TTL", "foo"]), ":-1\r\n");
        assert_eq!(
            t.raw(&["PEXPIRE", "foo", "9223372036854770000"]),
            "-ERR invalid expire time in 'pexpire' command\r\n"
        );
        assert_eq!(
            t.raw(&["EXPIREAT", "foo", "9223372036854776"]),
            "-ERR invalid expire time in 'expireat' command\r\n"
        );
        assert_eq!(
            t.raw(&["PEXPIREAT", "foo", "9223372036854770000"]),
            ":1\r\n"
        );
        assert_eq!(t.raw(&["EXPIRETIME", "foo"]), ":9223372036854770\r\n");
        assert_eq!(t.raw(&["PEXPIRETIME", "foo"]), ":9223372036854770000\r\n");
        assert_eq!(
            t.raw(&["PEXPIREAT", "foo", "9223372036854775807"]),
            ":1\r\n"
        );
        assert_eq!(t.raw(&["EXPIRETIME", "foo"]), ":9223372036854776\r\n");
        t.raw(&["SET", "foo", "bar"]);
        assert_eq!(
            t.raw(&["PEXPIREAT", "foo", "-9223372036854770000"]),
            ":1\r\n"
        );
        assert_eq!(t.raw(&["TTL", "foo"]), ":-2\r\n");
    }

    #[test]
    fn expire_in_the_past_deletes() {
        let mut t = t();
        t.raw(&["SET", "foo", "bar"]);
        t.raw(&["EXPIRE", "foo", "100"]);
        assert_eq!(t.eng.dbs[0].expires, 1);
        watch(&mut t, 0, "foo");
        assert_eq!(t.raw(&["EXPIRE", "foo", "-10", "LT"]), ":1\r\n");
        assert!(watch_fired(&t));
        assert_eq!(t.raw(&["TTL", "foo"]), ":-2\r\n");
        assert_eq!(t.eng.dbs[0].expires, 0);
        t.raw(&["SET", "foo", "bar"]);
        assert_eq!(t.raw(&["EXPIRE", "foo", "-10", "LT"]), ":1\r\n");
        assert_eq!(t.raw(&["EXISTS", "foo"]), ":0\r\n");
        t.raw(&["SET", "foo", "bar"]);
        assert_eq!(t.raw(&["PEXPIREAT", "foo", "0"]), ":1\r\n");
        assert_eq!(t.raw(&["EXISTS", "foo"]), ":0\r\n");
        t.raw(&["SET", "foo", "bar"]);
        assert_eq!(t.raw(&["EXPIREAT", "foo", "1"]), ":1\r\n");
        assert_eq!(t.raw(&["EXISTS", "foo"]), ":0\r\n");
        t.raw(&["SET", "foo", "bar"]);
        assert_eq!(t.raw(&["PEXPIRE", "foo", "0"]), ":1\r\n");
        assert_eq!(t.raw(&["EXISTS", "foo"]), ":0\r\n");
    }

    #[test]
    fn ttl_family() {
        let mut t = t();
        for c in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
            assert_eq!(t.raw(&[c, "nokey"]), ":-2\r\n");
        }
        t.raw(&["SET", "k", "v"]);
        for c in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
            assert_eq!(t.raw(&[c, "k"]), ":-1\r\n");
        }
        t.raw(&["EXPIRE", "k", "10"]);
        let Reply::Int(p) = t.cmd(&["PTTL", "k"]) else {
            panic!()
        };
        assert!(p > 9000 && p <= 10000);
        assert_eq!(t.raw(&["TTL", "k"]), ":10\r\n");
        t.raw(&["EXPIREAT", "k", "4000000000"]);
        assert_eq!(t.raw(&["EXPIRETIME", "k"]), ":4000000000\r\n");
        assert_eq!(t.raw(&["PEXPIRETIME", "k"]), ":4000000000000\r\n");
        t.raw(&["PEXPIREAT", "k", "4000000000123"]);
        assert_eq!(t.raw(&["PEXPIRETIME", "k"]), ":4000000000123\r\n");
        assert_eq!(t.raw(&["EXPIRETIME", "k"]), ":4000000000\r\n");
        t.raw(&["PEXPIREAT", "k", "4000000000500"]);
        assert_eq!(t.raw(&["EXPIRETIME", "k"]), ":4000000001\r\n");
        set_expired(&mut t, "gone");
        assert_eq!(t.raw(&["TTL", "gone"]), ":-2\r\n");
        assert_eq!(
            t.raw(&["TTL"]),
            "-ERR wrong number of arguments for 'ttl' command\r\n"
        );
    }

    #[test]
    fn persist_cases() {
        let mut t = t();
        assert_eq!(t.raw(&["PERSIST", "nokey"]), ":0\r\n");
        t.raw(&["SET", "x", "foo"]);
        assert_eq!(t.raw(&["PERSIST", "x"]), ":0\r\n");
        t.raw(&["EXPIRE", "x", "100"]);
        assert_eq!(t.raw(&["PERSIST", "x"]), ":1\r\n");
        assert_eq!(t.raw(&["TTL", "x"]), ":-1\r\n");
        assert_eq!(t.eng.dbs[0].expires, 0);
        assert_eq!(t.raw(&["PERSIST", "x"]), ":0\r\n");
    }

    #[test]
    fn object_subcommands() {
        let mut t = t();
        t.raw(&["SET", "n", "5"]);
        t.raw(&["SET", "big", "123456"]);
        t.raw(&["SET", "s", "hello"]);
        t.raw(&["SET", "l", &"x".repeat(45)]);
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "n"]), "$3\r\nint\r\n");
        assert_eq!(t.raw(&["OBJECT", "encoding", "s"]), "$6\r\nembstr\r\n");
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "l"]), "$3\r\nraw\r\n");
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "nokey"]), "$-1\r\n");
        assert_eq!(t.raw(&["OBJECT", "REFCOUNT", "n"]), ":2147483647\r\n");
        assert_eq!(t.raw(&["OBJECT", "REFCOUNT", "big"]), ":1\r\n");
        assert_eq!(t.raw(&["OBJECT", "REFCOUNT", "nokey"]), "$-1\r\n");
        assert_eq!(t.raw(&["OBJECT", "IDLETIME", "s"]), ":0\r\n");
        assert_eq!(t.raw(&["OBJECT", "IDLETIME", "nokey"]), "$-1\r\n");
        assert_eq!(t.raw(&["OBJECT", "FREQ", "nokey"]), "$-1\r\n");
        assert_eq!(
            t.raw(&["OBJECT", "FREQ", "s"]),
            "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n"
        );
        assert_eq!(
            t.raw(&["OBJECT"]),
            "-ERR wrong number of arguments for 'object' command\r\n"
        );
        assert_eq!(
            t.raw(&["OBJECT", "encoding"]),
            "-ERR wrong number of arguments for 'object|encoding' command\r\n"
        );
        assert_eq!(
            t.raw(&["OBJECT", "help", "x"]),
            "-ERR wrong number of arguments for 'object|help' command\r\n"
        );
        assert_eq!(
            t.raw(&["OBJECT", "foo"]),
            "-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n"
        );
        let h = t.raw(&["OBJECT", "HELP"]);
        assert!(h.starts_with("*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+ENCODING <key>\r\n"));
        assert!(h.ends_with("+HELP\r\n+    Prints this help.\r\n"));
    }

    #[test]
    fn object_idletime_counts_seconds() {
        let mut t = t();
        t.raw(&["SET", "s", "v"]);
        if let Some(mut e) = t.eng.dbs[0].dict.entry_mut(b"s") {
            let l = e.lru();
            e.set_lru(l - 7);
        }
        assert_eq!(t.raw(&["OBJECT", "IDLETIME", "s"]), ":7\r\n");
        // OBJECT does not touch; TOUCH does.
        assert_eq!(t.raw(&["OBJECT", "IDLETIME", "s"]), ":7\r\n");
        t.raw(&["TOUCH", "s"]);
        assert_eq!(t.raw(&["OBJECT", "IDLETIME", "s"]), ":0\r\n");
    }

    #[test]
    fn writes_are_counted_dirty() {
        let mut t = t();
        t.raw(&["SET", "a", "1"]);
        let d = t.eng.dirty;
        t.raw(&["EXPIRE", "a", "100"]);
        t.raw(&["PERSIST", "a"]);
        t.raw(&["RENAME", "a", "b"]);
        t.raw(&["DEL", "b"]);
        assert_eq!(t.eng.dirty, d + 4);
        t.raw(&["DEL", "b"]);
        t.raw(&["EXPIRE", "b", "1"]);
        assert_eq!(t.eng.dirty, d + 4);
    }

    #[test]
    fn unlink_counts_lazy_freed_values() {
        let mut t = TestEngine::new();
        let mut args = vec!["SADD".to_string(), "s".to_string()];
        for i in 0..200 {
            args.push(format!("member-{i}"));
        }
        let refs: Vec<&str> = args.iter().map(|a| a.as_str()).collect();
        assert_eq!(t.raw(&refs), ":200\r\n");
        t.raw(&["SET", "k", "v"]);
        assert_eq!(t.raw(&["UNLINK", "s", "k", "nokey"]), ":2\r\n");
        assert_eq!(t.eng.stats.lazyfreed_objects, 1);
        assert_eq!(t.raw(&["EXISTS", "s", "k"]), ":0\r\n");
    }
}
