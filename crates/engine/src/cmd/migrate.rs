//! MIGRATE: moves keys to another instance with DUMP payloads and RESTORE,
//! synchronously as Redis 7.0 does (the engine waits for the target, within
//! the given timeout).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::command::Cmd;
use crate::ctx::{eq_ic, notify, Ctx};
use crate::{errors, rdb};

/// Declares MIGRATE.
pub fn register(v: &mut Vec<Cmd>) {
    v.push(
        Cmd::new(
            "migrate",
            -6,
            "write",
            (3, 3, 1),
            "generic",
            "Atomically transfer a key from a Redis instance to another one.",
            migrate,
        )
        .keys_fn(migrate_keys)
        .acl("keyspace dangerous")
        .syntax("host port <key | \"\"> destination-db timeout [COPY] [REPLACE] [AUTH password | AUTH2 username password] [KEYS key [key ...]]")
        .since("2.6.0")
        .complexity("This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed."),
    );
}

/// Key positions: the key argument, or every key after KEYS (Redis's
/// migrateGetKeys).
fn migrate_keys(args: &[Bytes]) -> Vec<usize> {
    let mut j = 6;
    while j < args.len() {
        let a = &args[j];
        if eq_ic(a, "auth") {
            j += 1;
        } else if eq_ic(a, "auth2") {
            j += 2;
        } else if eq_ic(a, "keys") {
            if args.get(3).is_some_and(|k| k.is_empty()) {
                return (j + 1..args.len()).collect();
            }
            break;
        }
        j += 1;
    }
    vec![3]
}

fn encode(args: &[&[u8]], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

fn read_line(r: &mut BufReader<TcpStream>) -> Result<String, Reply> {
    let mut line = String::new();
    match r.read_line(&mut line) {
        Ok(n) if n > 0 => Ok(line.trim_end_matches(['\r', '\n']).to_string()),
        _ => Err(Reply::err_static(
            "IOERR error or timeout reading to target instance",
        )),
    }
}

fn migrate(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (mut copy, mut replace) = (false, false);
    let mut auth: Option<(Option<Bytes>, Bytes)> = None;
    let mut first = 3;
    let mut num = 1;
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let a = &args[j];
        if eq_ic(a, "copy") {
            copy = true;
        } else if eq_ic(a, "replace") {
            replace = true;
        } else if eq_ic(a, "auth") {
            if more == 0 {
                return errors::syntax();
            }
            j += 1;
            auth = Some((None, args[j].clone()));
        } else if eq_ic(a, "auth2") {
            if more < 2 {
                return errors::syntax();
            }
            auth = Some((Some(args[j + 1].clone()), args[j + 2].clone()));
            j += 2;
        } else if eq_ic(a, "keys") {
            if !args[3].is_empty() {
                return Reply::err_static("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string");
            }
            first = j + 1;
            num = args.len() - j - 1;
            break;
        } else {
            return errors::syntax();
        }
        j += 1;
    }
    let Some(mut timeout) = lunakv_protocol::parse_i64(&args[5]) else {
        return errors::not_int();
    };
    let Some(dbid) = lunakv_protocol::parse_i64(&args[4]) else {
        return errors::not_int();
    };
    if timeout <= 0 {
        timeout = 1000;
    }
    // The keys that exist, with their payloads and remaining TTLs.
    let compress = ctx.eng.config.get_bool("rdbcompression");
    let now = ctx.now();
    let mut items: Vec<(Bytes, Vec<u8>, u64)> = Vec::new();
    for k in args.iter().skip(first).take(num) {
        let Some(e) = ctx.lookup(k) else { continue };
        let ttl = if e.expire() != 0 {
            e.expire().saturating_sub(now).max(1)
        } else {
            0
        };
        match rdb::dump_payload(e.val, compress) {
            Ok(p) => items.push((k.clone(), p, ttl)),
            Err(er) => return Reply::err(format!("ERR {er}")),
        }
    }
    if items.is_empty() {
        return Reply::status("NOKEY");
    }
    let host = String::from_utf8_lossy(&args[1]).into_owned();
    let port = String::from_utf8_lossy(&args[2]).into_owned();
    let to = Duration::from_millis(timeout as u64);
    let connect_err = || Reply::err_static("IOERR error or timeout connecting to the client");
    let Some(addr) = format!("{host}:{port}")
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
    else {
        return connect_err();
    };
    let Ok(sock) = TcpStream::connect_timeout(&addr, to) else {
        return connect_err();
    };
    let _ = sock.set_read_timeout(Some(to));
    let _ = sock.set_write_timeout(Some(to));
    let mut buf = Vec::new();
    if let Some((user, pass)) = &auth {
        match user {
            Some(u) => encode(&[b"AUTH", u, pass], &mut buf),
            None => encode(&[b"AUTH", pass], &mut buf),
        }
    }
    let dbs = dbid.to_string();
    encode(&[b"SELECT", dbs.as_bytes()], &mut buf);
    for (k, p, ttl) in &items {
        let ttl = ttl.to_string();
        let mut a: Vec<&[u8]> = vec![b"RESTORE", k, ttl.as_bytes(), p];
        if replace {
            a.push(b"REPLACE");
        }
        encode(&a, &mut buf);
    }
    let mut w = match sock.try_clone() {
        Ok(w) => w,
        Err(_) => return connect_err(),
    };
    if w.write_all(&buf).is_err() {
        return Reply::err_static("IOERR error or timeout writing to target instance");
    }
    let mut r = BufReader::new(sock);
    let target_err = |line: &str| {
        Reply::err(format!(
            "ERR Target instance replied with error: {}",
            line.get(1..).unwrap_or("")
        ))
    };
    if auth.is_some() {
        let line = match read_line(&mut r) {
            Ok(l) => l,
            Err(e) => return e,
        };
        if line.starts_with('-') {
            return target_err(&line);
        }
    }
    let line = match read_line(&mut r) {
        Ok(l) => l,
        Err(e) => return e,
    };
    if line.starts_with('-') {
        return target_err(&line);
    }
    let mut error: Option<String> = None;
    let mut moved = Vec::new();
    for (k, _, _) in &items {
        let line = match read_line(&mut r) {
            Ok(l) => l,
            Err(e) => return e,
        };
        if line.starts_with('-') {
            error = Some(line);
        } else if !copy && ctx.delete(k) {
            ctx.modified(k, notify::GENERIC, "del");
            moved.push(k.clone());
        }
    }
    if moved.is_empty() {
        ctx.no_propagate();
    } else {
        let mut del = vec![Bytes::from_static(b"DEL")];
        del.extend(moved);
        ctx.rewrite_propagation(del);
    }
    match error {
        Some(l) => target_err(&l),
        None => Reply::ok(),
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::TestEngine;

    #[test]
    fn migrate_arguments() {
        let mut t = TestEngine::new();
        assert_eq!(
            t.raw(&["MIGRATE", "127.0.0.1", "1", "k", "0", "100"]),
            "+NOKEY\r\n"
        );
        assert_eq!(
            t.raw(&["MIGRATE", "127.0.0.1", "1", "k", "0", "100", "KEYS", "a"]),
            "-ERR When using MIGRATE KEYS option, the key argument must be set to the empty string\r\n"
        );
        assert_eq!(
            t.raw(&["MIGRATE", "127.0.0.1", "1", "k", "0", "100", "BOGUS"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            t.raw(&["MIGRATE", "127.0.0.1", "1", "k", "0", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            super::migrate_keys(
                &["MIGRATE", "h", "p", "", "0", "5", "AUTH", "x", "KEYS", "a", "b"]
                    .iter()
                    .map(|s| bytes::Bytes::from(s.to_string()))
                    .collect::<Vec<_>>()
            ),
            vec![9, 10]
        );
    }
}
