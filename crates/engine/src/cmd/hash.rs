//! Commands of the `hash` family.

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::cmd::keys::parse_cursor;
use crate::command::Cmd;
use crate::ctx::{eq_ic, notify, Ctx};
use crate::errors;
use crate::glob::glob_match;
use crate::types::hash::{Hash, Limits};
use crate::value::{Entry, Value};

/// Declares this family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    let g = "hash";
    let k = (1, 1, 1);
    let wf = "write denyoom fast";
    let rf = "readonly fast";
    v.push(
        Cmd::new("hset", -4, wf, k, g, "Set the string value of a hash field", hset)
            .syntax("key field value [field value ...]")
            .since("2.0.0")
            .complexity("O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs."),
    );
    v.push(
        Cmd::new(
            "hsetnx",
            4,
            wf,
            k,
            g,
            "Set the value of a hash field, only if the field does not exist",
            hsetnx,
        )
        .syntax("key field value")
        .since("2.0.0")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new("hget", 3, rf, k, g, "Get the value of a hash field", hget)
            .syntax("key field")
            .since("2.0.0")
            .complexity("O(1)"),
    );
    v.push(
        Cmd::new(
            "hmget",
            -3,
            rf,
            k,
            g,
            "Get the values of all the given hash fields",
            hmget,
        )
        .syntax("key field [field ...]")
        .since("2.0.0")
        .complexity("O(N) where N is the number of fields being requested."),
    );
    v.push(
        Cmd::new(
            "hmset",
            -4,
            wf,
            k,
            g,
            "Set multiple hash fields to multiple values",
            hset,
        )
        .syntax("key field value [field value ...]")
        .since("2.0.0")
        .complexity("O(N) where N is the number of fields being set."),
    );
    v.push(
        Cmd::new(
            "hdel",
            -3,
            "write fast",
            k,
            g,
            "Delete one or more hash fields",
            hdel,
        )
        .syntax("key field [field ...]")
        .since("2.0.0")
        .complexity("O(N) where N is the number of fields to be removed."),
    );
    v.push(
        Cmd::new(
            "hexists",
            3,
            rf,
            k,
            g,
            "Determine if a hash field exists",
            hexists,
        )
        .syntax("key field")
        .since("2.0.0")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new(
            "hlen",
            2,
            rf,
            k,
            g,
            "Get the number of fields in a hash",
            hlen,
        )
        .syntax("key")
        .since("2.0.0")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new(
            "hstrlen",
            3,
            rf,
            k,
            g,
            "Get the length of the value of a hash field",
            hstrlen,
        )
        .syntax("key field")
        .since("3.2.0")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new(
            "hkeys",
            2,
            "readonly",
            k,
            g,
            "Get all the fields in a hash",
            hkeys,
        )
        .syntax("key")
        .since("2.0.0")
        .complexity("O(N) where N is the size of the hash."),
    );
    v.push(
        Cmd::new(
            "hvals",
            2,
            "readonly",
            k,
            g,
            "Get all the values in a hash",
            hvals,
        )
        .syntax("key")
        .since("2.0.0")
        .complexity("O(N) where N is the size of the hash."),
    );
    v.push(
        Cmd::new(
            "hgetall",
            2,
            "readonly",
            k,
            g,
            "Get all the fields and values in a hash",
            hgetall,
        )
        .syntax("key")
        .since("2.0.0")
        .complexity("O(N) where N is the size of the hash."),
    );
    v.push(
        Cmd::new(
            "hincrby",
            4,
            wf,
            k,
            g,
            "Increment the integer value of a hash field by the given number",
            hincrby,
        )
        .syntax("key field increment")
        .since("2.0.0")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new(
            "hincrbyfloat",
            4,
            wf,
            k,
            g,
            "Increment the float value of a hash field by the given amount",
            hincrbyfloat,
        )
        .syntax("key field increment")
        .since("2.6.0")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new(
            "hrandfield",
            -2,
            "readonly",
            k,
            g,
            "Get one or multiple random fields from a hash",
            hrandfield,
        )
        .syntax("key [count [WITHVALUES]]")
        .since("6.2.0")
        .complexity("O(N) where N is the number of fields returned"),
    );
    v.push(
        Cmd::new(
            "hscan",
            -3,
            "readonly",
            k,
            g,
            "Incrementally iterate hash fields and associated values",
            hscan,
        )
        .syntax("key cursor [MATCH pattern] [COUNT count]")
        .since("2.8.0")
        .complexity("O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.."),
    );
}

/// The listpack limits from the configuration.
fn limits(ctx: &Ctx<'_>) -> Limits {
    Limits {
        max_entries: ctx.eng.config.get_i64("hash-max-listpack-entries").max(0) as usize,
        max_value: ctx.eng.config.get_i64("hash-max-listpack-value").max(0) as usize,
    }
}

/// Reads a hash key: `Ok(None)` if missing, WRONGTYPE for other types.
fn get_hash<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<Option<&'c mut Hash>, Reply> {
    match ctx.lookup(key) {
        None => Ok(None),
        Some(Entry {
            val: Value::Hash(h),
            ..
        }) => Ok(Some(h)),
        Some(_) => Err(errors::wrongtype()),
    }
}

/// Like [`get_hash`] for a write path (no hit/miss accounting).
fn get_hash_w<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<Option<&'c mut Hash>, Reply> {
    match ctx.lookup_write(key) {
        None => Ok(None),
        Some(Entry {
            val: Value::Hash(h),
            ..
        }) => Ok(Some(h)),
        Some(_) => Err(errors::wrongtype()),
    }
}

/// The hash at `key`, created empty if missing (the caller must add to it).
fn hash_or_create<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<&'c mut Hash, Reply> {
    if get_hash_w(ctx, key)?.is_none() {
        let lru = ctx.lru();
        ctx.db().add(key, Value::Hash(Box::default()), lru);
    }
    match ctx.lookup_write(key) {
        Some(Entry {
            val: Value::Hash(h),
            ..
        }) => Ok(h),
        _ => Err(errors::wrongtype()),
    }
}

/// Emits `del` for a key an aggregate command emptied and removed.
fn bulk(b: &[u8]) -> Reply {
    Reply::Bulk(Bytes::copy_from_slice(b))
}

fn hset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if args.len() % 2 == 1 {
        return errors::wrong_args(&String::from_utf8_lossy(&args[0]).to_lowercase());
    }
    let lim = limits(ctx);
    let key = &args[1];
    let h = match hash_or_create(ctx, key) {
        Ok(h) => h,
        Err(e) => return e,
    };
    h.try_conversion(args[2..].iter().map(|a| &a[..]), lim);
    let mut created = 0;
    for p in args[2..].chunks_exact(2) {
        if h.set(&p[0], &p[1], lim) {
            created += 1;
        }
    }
    ctx.modified(key, notify::HASH, "hset");
    ctx.eng.dirty += (args.len() as u64 - 2) / 2 - 1;
    if args[0]
        .get(1)
        .is_some_and(|c| c.eq_ignore_ascii_case(&b's'))
    {
        Reply::Int(created)
    } else {
        Reply::ok()
    }
}

fn hsetnx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let lim = limits(ctx);
    let key = &args[1];
    let h = match hash_or_create(ctx, key) {
        Ok(h) => h,
        Err(e) => return e,
    };
    if h.contains(&args[2]) {
        return Reply::Int(0);
    }
    h.try_conversion([&args[2][..], &args[3][..]].into_iter(), lim);
    h.set(&args[2], &args[3], lim);
    ctx.modified(key, notify::HASH, "hset");
    Reply::Int(1)
}

fn hget(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match get_hash(ctx, &args[1]) {
        Err(e) => e,
        Ok(None) => Reply::Null,
        Ok(Some(h)) => h.get(&args[2]).map_or(Reply::Null, bulk),
    }
}

fn hmget(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match get_hash(ctx, &args[1]) {
        Err(e) => e,
        Ok(None) => Reply::Array(args[2..].iter().map(|_| Reply::Null).collect()),
        Ok(Some(h)) => Reply::Array(
            args[2..]
                .iter()
                .map(|f| h.get(f).map_or(Reply::Null, bulk))
                .collect(),
        ),
    }
}

fn hdel(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let h = match get_hash_w(ctx, key) {
        Err(e) => return e,
        Ok(None) => return Reply::Int(0),
        Ok(Some(h)) => h,
    };
    let mut deleted = 0i64;
    let mut emptied = false;
    for f in &args[2..] {
        if h.remove(f) {
            deleted += 1;
            if h.is_empty() {
                emptied = true;
                break;
            }
        }
    }
    if deleted > 0 {
        if emptied {
            ctx.delete(key);
        }
        ctx.modified(key, notify::HASH, "hdel");
        if emptied {
            ctx.notify(notify::GENERIC, "del", key);
        }
        ctx.eng.dirty += deleted as u64 - 1;
    }
    Reply::Int(deleted)
}

fn hexists(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match get_hash(ctx, &args[1]) {
        Err(e) => e,
        Ok(None) => Reply::Int(0),
        Ok(Some(h)) => Reply::Int(h.contains(&args[2]) as i64),
    }
}

fn hlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match get_hash(ctx, &args[1]) {
        Err(e) => e,
        Ok(None) => Reply::Int(0),
        Ok(Some(h)) => Reply::Int(h.len() as i64),
    }
}

fn hstrlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match get_hash(ctx, &args[1]) {
        Err(e) => e,
        Ok(None) => Reply::Int(0),
        Ok(Some(h)) => Reply::Int(h.get(&args[2]).map_or(0, |v| v.len() as i64)),
    }
}

fn hkeys(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match get_hash(ctx, &args[1]) {
        Err(e) => e,
        Ok(None) => Reply::Array(vec![]),
        Ok(Some(h)) => Reply::Array(h.iter().map(|(k, _)| bulk(k)).collect()),
    }
}

fn hvals(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match get_hash(ctx, &args[1]) {
        Err(e) => e,
        Ok(None) => Reply::Array(vec![]),
        Ok(Some(h)) => Reply::Array(h.iter().map(|(_, v)| bulk(v)).collect()),
    }
}

fn hgetall(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match get_hash(ctx, &args[1]) {
        Err(e) => e,
        Ok(None) => Reply::Map(vec![]),
        Ok(Some(h)) => Reply::Map(h.iter().map(|(k, v)| (bulk(k), bulk(v))).collect()),
    }
}

fn hincrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let incr = match ctx.int_arg(&args[3]) {
        Ok(i) => i,
        Err(e) => return e,
    };
    let key = &args[1];
    let old = match get_hash_w(ctx, key) {
        Err(e) => return e,
        Ok(None) => 0,
        Ok(Some(h)) => match h.get(&args[2]) {
            None => 0,
            Some(v) => match lunakv_protocol::parse_i64(v) {
                Some(i) => i,
                None => return Reply::err_static("ERR hash value is not an integer"),
            },
        },
    };
    let Some(new) = old.checked_add(incr) else {
        return errors::overflow();
    };
    let lim = limits(ctx);
    let mut b = itoa::Buffer::new();
    let text = b.format(new);
    match hash_or_create(ctx, key) {
        Ok(h) => {
            h.set(&args[2], text.as_bytes(), lim);
        }
        Err(e) => return e,
    }
    ctx.modified(key, notify::HASH, "hincrby");
    Reply::Int(new)
}

fn hincrbyfloat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    // Redis computes in long double: the same software 80-bit arithmetic
    // as INCRBYFLOAT, so the printed sums are identical to Redis's.
    use crate::cmd::string::ld;
    let Some(incr) = ld::parse(&args[3]) else {
        return crate::errors::not_float();
    };
    if !incr.is_finite() {
        return Reply::err_static("ERR value is NaN or Infinity");
    }
    let key = &args[1];
    let old = match get_hash_w(ctx, key) {
        Err(e) => return e,
        Ok(None) => ld::Ld::ZERO,
        Ok(Some(h)) => match h.get(&args[2]) {
            None => ld::Ld::ZERO,
            Some(v) => match ld::parse(v) {
                Some(i) => i,
                None => return Reply::err_static("ERR hash value is not a float"),
            },
        },
    };
    let new = old.add(&incr);
    if !new.is_finite() {
        return Reply::err_static("ERR increment would produce NaN or Infinity");
    }
    let text = new.human();
    let lim = limits(ctx);
    match hash_or_create(ctx, key) {
        Ok(h) => {
            h.set(&args[2], text.as_bytes(), lim);
        }
        Err(e) => return e,
    }
    ctx.modified(key, notify::HASH, "hincrbyfloat");
    // Propagated as HSET of the new value (no float formatting on replicas).
    let text = Bytes::from(text);
    if ctx.propagating() {
        ctx.rewrite_propagation(vec![
            crate::repl::word("HSET"),
            key.clone(),
            args[2].clone(),
            text.clone(),
        ]);
    }
    Reply::Bulk(text)
}

fn random_usize(rng: &mut rand::rngs::SmallRng) -> usize {
    rand::Rng::random::<u64>(rng) as usize
}

/// The most elements a negative-count HRANDFIELD/SRANDMEMBER may ask for:
/// Redis streams such replies; this server builds them in memory, so an
/// absurd count is refused instead of exhausting memory.
pub(crate) const MAX_RANDOM_REPLY: u64 = 1 << 26;

fn hrandfield(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let resp3 = ctx.resp() >= 3;
    if args.len() == 2 {
        let i = ctx.client.db;
        let now = ctx.now();
        let eng = &mut *ctx.eng;
        let entry = eng.dbs[i].get_mut(&args[1], now);
        let rng = &mut eng.rng;
        return match entry {
            None => {
                eng.stats.keyspace_misses += 1;
                Reply::Null
            }
            Some(Entry {
                val: Value::Hash(h),
                ..
            }) => {
                eng.stats.keyspace_hits += 1;
                h.random_pair(|| random_usize(rng))
                    .map_or(Reply::Null, |(k, _)| bulk(k))
            }
            Some(_) => errors::wrongtype(),
        };
    }
    let l = match ctx.int_arg(&args[2]) {
        Ok(l) => l,
        Err(e) => return e,
    };
    if l == i64::MIN {
        return Reply::err_static(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        );
    }
    let mut withvalues = false;
    if args.len() > 4 || (args.len() == 4 && !eq_ic(&args[3], "withvalues")) {
        return errors::syntax();
    } else if args.len() == 4 {
        withvalues = true;
        if !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
            return Reply::err_static("ERR value is out of range");
        }
    }
    let (count, uniq) = if l >= 0 {
        (l as u64, true)
    } else {
        (l.unsigned_abs(), false)
    };
    if !uniq && count > MAX_RANDOM_REPLY {
        return Reply::err_static("ERR value is out of range");
    }
    let i = ctx.client.db;
    let now = ctx.now();
    let eng = &mut *ctx.eng;
    let h = match eng.dbs[i].get_mut(&args[1], now) {
        None => {
            eng.stats.keyspace_misses += 1;
            return Reply::Array(vec![]);
        }
        Some(Entry {
            val: Value::Hash(h),
            ..
        }) => {
            eng.stats.keyspace_hits += 1;
            &**h
        }
        Some(_) => return errors::wrongtype(),
    };
    let rng = &mut eng.rng;
    if count == 0 {
        return Reply::Array(vec![]);
    }
    let mut out = Vec::new();
    let push = |out: &mut Vec<Reply>, k: &[u8], v: &[u8]| {
        if withvalues && resp3 {
            out.push(Reply::Array(vec![bulk(k), bulk(v)]));
        } else {
            out.push(bulk(k));
            if withvalues {
                out.push(bulk(v));
            }
        }
    };
    let size = h.len() as u64;
    // Case 1: negative count (or 1): independent picks, repeats allowed.
    if !uniq || count == 1 {
        if count.saturating_mul(4) >= size && size > 0 {
            // Many picks: index a snapshot, which is exactly uniform.
            let all: Vec<(&[u8], &[u8])> = h.iter().collect();
            for _ in 0..count {
                let (k, v) = all[random_usize(rng) % all.len()];
                push(&mut out, k, v);
            }
        } else {
            for _ in 0..count {
                if let Some((k, v)) = h.random_pair(|| random_usize(rng)) {
                    push(&mut out, k, v);
                }
            }
        }
        return Reply::Array(out);
    }
    // Case 2: the whole hash.
    if count >= size {
        for (k, v) in h.iter() {
            push(&mut out, k, v);
        }
        return Reply::Array(out);
    }
    // Cases 3 and 4: distinct random fields.
    let mut picked: Vec<(&[u8], &[u8])> = h.iter().collect();
    if count * 3 > size {
        // Remove random elements until `count` remain.
        while picked.len() as u64 > count {
            let j = random_usize(rng) % picked.len();
            picked.swap_remove(j);
        }
    } else {
        // Partial Fisher-Yates shuffle.
        for j in 0..count as usize {
            let r = j + random_usize(rng) % (picked.len() - j);
            picked.swap(j, r);
        }
        picked.truncate(count as usize);
    }
    for (k, v) in picked {
        push(&mut out, k, v);
    }
    Reply::Array(out)
}

/// Parses `[MATCH pattern] [COUNT count]` of HSCAN/SSCAN starting at
/// `args[3]`: (count, pattern).
pub(crate) fn scan_options<'a>(
    ctx: &Ctx<'_>,
    args: &'a [Bytes],
) -> Result<(i64, Option<&'a [u8]>), Reply> {
    let mut count = 10;
    let mut pat = None;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - i >= 2;
        if eq_ic(&args[i], "count") && more {
            count = ctx.int_arg(&args[i + 1])?;
            if count < 1 {
                return Err(errors::syntax());
            }
        } else if eq_ic(&args[i], "match") && more {
            let p = &args[i + 1][..];
            pat = if p == b"*" { None } else { Some(p) };
        } else {
            return Err(errors::syntax());
        }
        i += 2;
    }
    Ok((count, pat))
}

/// The reply of a SCAN-family command.
pub(crate) fn scan_reply(cursor: u64, items: Vec<Reply>) -> Reply {
    let mut c = itoa::Buffer::new();
    Reply::Array(vec![bulk(c.format(cursor).as_bytes()), Reply::Array(items)])
}

fn hscan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let Some(mut cursor) = parse_cursor(&args[2]) else {
        return Reply::err_static("ERR invalid cursor");
    };
    let opts = scan_options(ctx, args);
    let h = match get_hash(ctx, &args[1]) {
        Err(e) => return e,
        Ok(None) => return scan_reply(0, vec![]),
        Ok(Some(h)) => h,
    };
    let (count, pat) = match opts {
        Ok(o) => o,
        Err(e) => return e,
    };
    let mut out = Vec::new();
    let mut emit = |k: &[u8], v: &[u8]| {
        if pat.is_none_or(|p| glob_match(p, k, false)) {
            out.push(bulk(k));
            out.push(bulk(v));
        }
    };
    match h {
        Hash::Listpack(_) => {
            h.scan(0, &mut emit);
            cursor = 0;
        }
        Hash::Table(_) => {
            let mut iterations = count.saturating_mul(10);
            let mut visited = 0i64;
            loop {
                cursor = h.scan(cursor, |k, v| {
                    visited += 2;
                    emit(k, v);
                });
                let more = iterations > 0;
                iterations -= 1;
                if cursor == 0 || !more || visited >= count {
                    break;
                }
            }
        }
    }
    scan_reply(cursor, out)
}

#[cfg(test)]
mod tests {
    use crate::testkit::TestEngine;

    #[test]
    fn hset_hget_and_friends() {
        let mut t = TestEngine::new();
        assert_eq!(t.raw(&["HSET", "h", "a", "1", "b", "2"]), ":2\r\n");
        assert_eq!(t.raw(&["HSET", "h", "a", "3", "c", "4"]), ":1\r\n");
        assert_eq!(
            t.raw(&["HSET", "h", "a"]),
            "-ERR wrong number of arguments for 'hset' command\r\n"
        );
        assert_eq!(
            t.raw(&["HSET", "h", "a", "1", "b"]),
            "-ERR wrong number of arguments for 'hset' command\r\n"
        );
        assert_eq!(
            t.raw(&["HMSET", "h", "a", "1", "b"]),
            "-ERR wrong number of arguments for 'hmset' command\r\n"
        );
        assert_eq!(t.raw(&["HMSET", "h", "d", "5"]), "+OK\r\n");
        assert_eq!(t.raw(&["HGET", "h", "a"]), "$1\r\n3\r\n");
        assert_eq!(t.raw(&["HGET", "h", "zz"]), "$-1\r\n");
        assert_eq!(t.raw(&["HGET", "nokey", "a"]), "$-1\r\n");
        assert_eq!(
            t.raw(&["HMGET", "h", "a", "zz", "b"]),
            "*3\r\n$1\r\n3\r\n$-1\r\n$1\r\n2\r\n"
        );
        assert_eq!(t.raw(&["HMGET", "nokey", "a", "b"]), "*2\r\n$-1\r\n$-1\r\n");
        assert_eq!(t.raw(&["HLEN", "h"]), ":4\r\n");
        assert_eq!(t.raw(&["HLEN", "nokey"]), ":0\r\n");
        assert_eq!(t.raw(&["HEXISTS", "h", "a"]), ":1\r\n");
        assert_eq!(t.raw(&["HEXISTS", "h", "x"]), ":0\r\n");
        assert_eq!(t.raw(&["HSTRLEN", "h", "a"]), ":1\r\n");
        assert_eq!(t.raw(&["HSTRLEN", "h", "x"]), ":0\r\n");
        assert_eq!(
            t.raw(&["HKEYS", "h"]),
            "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"
        );
        assert_eq!(
            t.raw(&["HVALS", "h"]),
            "*4\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n4\r\n$1\r\n5\r\n"
        );
        assert_eq!(t.raw(&["HKEYS", "nokey"]), "*0\r\n");
        assert_eq!(t.raw(&["HGETALL", "nokey"]), "*0\r\n");
        assert_eq!(t.raw(&["HSETNX", "h", "a", "9"]), ":0\r\n");
        assert_eq!(t.raw(&["HSETNX", "h", "e", "9"]), ":1\r\n");
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "h"]), "$8\r\nlistpack\r\n");
        assert_eq!(t.raw(&["HDEL", "h", "a", "a", "zz", "b"]), ":2\r\n");
        assert_eq!(t.raw(&["HDEL", "h", "c", "d", "e"]), ":3\r\n");
        assert_eq!(t.raw(&["EXISTS", "h"]), ":0\r\n");
        assert_eq!(t.raw(&["HDEL", "h", "c"]), ":0\r\n");
        t.raw(&["HSET", "h", "a", "1", "b", "2"]);
        assert_eq!(
            t.raw(&["HGETALL", "h"]),
            "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
        );
        t.raw(&["HELLO", "3"]);
        assert_eq!(
            t.raw(&["HGETALL", "h"]),
            "%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
        );
        assert_eq!(t.raw(&["HGETALL", "nokey"]), "%0\r\n");
    }

    #[test]
    fn wrongtype() {
        let mut t = TestEngine::new();
        t.raw(&["SET", "s", "x"]);
        let wt = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
        for c in [
            &["HSET", "s", "a", "1"][..],
            &["HSETNX", "s", "a", "1"],
            &["HGET", "s", "a"],
            &["HMGET", "s", "a"],
            &["HDEL", "s", "a"],
            &["HLEN", "s"],
            &["HEXISTS", "s", "a"],
            &["HSTRLEN", "s", "a"],
            &["HKEYS", "s"],
            &["HVALS", "s"],
            &["HGETALL", "s"],
            &["HINCRBY", "s", "a", "1"],
            &["HINCRBYFLOAT", "s", "a", "1"],
            &["HRANDFIELD", "s"],
            &["HRANDFIELD", "s", "2"],
            &["HSCAN", "s", "0"],
        ] {
            assert_eq!(t.raw(c), wt, "{c:?}");
        }
    }

    #[test]
    fn encodings() {
        let mut t = TestEngine::new();
        t.raw(&["CONFIG", "SET", "hash-max-listpack-entries", "4"]);
        t.raw(&["CONFIG", "SET", "hash-max-listpack-value", "8"]);
        t.raw(&["HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"]);
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "h"]), "$8\r\nlistpack\r\n");
        t.raw(&["HSET", "h", "e", "5"]);
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "h"]), "$9\r\nhashtable\r\n");
        t.raw(&["HSET", "h2", "a", "123456789"]);
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "h2"]), "$9\r\nhashtable\r\n");
        t.raw(&["HSET", "h3", "tmp", "0"]);
        t.raw(&["HINCRBYFLOAT", "h3", "tmp", "0.000005"]);
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "h3"]), "$8\r\nlistpack\r\n");
        t.raw(&["HINCRBYFLOAT", "h3", "tmp", "0.0000005"]);
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "h3"]), "$9\r\nhashtable\r\n");
        t.raw(&["HINCRBYFLOAT", "h4", "abcdefghi", "1"]);
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "h4"]), "$9\r\nhashtable\r\n");
    }

    #[test]
    fn hincrby_family() {
        let mut t = TestEngine::new();
        assert_eq!(t.raw(&["HINCRBY", "h", "n", "5"]), ":5\r\n");
        assert_eq!(t.raw(&["HINCRBY", "h", "n", "-7"]), ":-2\r\n");
        assert_eq!(
            t.raw(&["HINCRBY", "h", "n", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        t.raw(&["HSET", "h", "s", " 1", "big", "9223372036854775807"]);
        assert_eq!(
            t.raw(&["HINCRBY", "h", "s", "1"]),
            "-ERR hash value is not an integer\r\n"
        );
        assert_eq!(
            t.raw(&["HINCRBY", "h", "big", "1"]),
            "-ERR increment or decrement would overflow\r\n"
        );
        assert_eq!(
            t.raw(&["HINCRBYFLOAT", "h", "s", "1"]),
            "-ERR hash value is not a float\r\n"
        );
        assert_eq!(
            t.raw(&["HINCRBYFLOAT", "h", "n", "x"]),
            "-ERR value is not a valid float\r\n"
        );
        assert_eq!(
            t.raw(&["HINCRBYFLOAT", "hf", "f", "+inf"]),
            "-ERR value is NaN or Infinity\r\n"
        );
        assert_eq!(t.raw(&["EXISTS", "hf"]), ":0\r\n");
        assert_eq!(t.raw(&["HINCRBYFLOAT", "h", "n", "10.5"]), "$3\r\n8.5\r\n");
        assert_eq!(t.raw(&["HINCRBYFLOAT", "m", "f", "1.23"]), "$4\r\n1.23\r\n");
        assert_eq!(t.raw(&["HINCRBYFLOAT", "m", "f", "0.77"]), "$1\r\n2\r\n");
        assert_eq!(t.raw(&["HINCRBYFLOAT", "m", "f", "-0.1"]), "$3\r\n1.9\r\n");
        assert_eq!(
            t.raw(&["HINCRBYFLOAT", "m", "g", "1.5e3"]),
            "$4\r\n1500\r\n"
        );
        assert_eq!(t.raw(&["HINCRBYFLOAT", "m", "p", "1.1"]), "$3\r\n1.1\r\n");
        assert_eq!(t.raw(&["HINCRBYFLOAT", "m", "p", "0.2"]), "$3\r\n1.3\r\n");
        assert_eq!(t.raw(&["HINCRBYFLOAT", "m", "q", "1e-20"]), "$1\r\n0\r\n");
        assert_eq!(
            t.raw(&["HINCRBYFLOAT", "m", "r", "1e20"]),
            "$21\r\n100000000000000000000\r\n"
        );
        // Redis sums in long double, so 1.7e308 + 1.7e308 is finite there
        // (checked on redis-server 7.0.15: a 309-digit integer); only sums
        // past ~1.19e4932 overflow.
        t.raw(&["HSET", "m", "huge", "1.7e308"]);
        let r = t.raw(&["HINCRBYFLOAT", "m", "huge", "1.7e308"]);
        assert!(
            r.starts_with(
                "$309\r\n3400000000000000000062735560503951935905404277793882674660871715264049"
            ),
            "{r}"
        );
        t.raw(&["HSET", "m", "huge", "1.1e4932"]);
        assert_eq!(
            t.raw(&["HINCRBYFLOAT", "m", "huge", "1.1e4932"]),
            "-ERR increment would produce NaN or Infinity\r\n"
        );
    }

    #[test]
    fn hrandfield_shapes_and_errors() {
        let mut t = TestEngine::new();
        assert_eq!(t.raw(&["HRANDFIELD", "nokey"]), "$-1\r\n");
        assert_eq!(t.raw(&["HRANDFIELD", "nokey", "100"]), "*0\r\n");
        t.raw(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
        assert_eq!(t.raw(&["HRANDFIELD", "h", "0"]), "*0\r\n");
        assert!(t.raw(&["HRANDFIELD", "h", "-5"]).starts_with("*5\r\n"));
        assert!(t
            .raw(&["HRANDFIELD", "h", "-5", "WITHVALUES"])
            .starts_with("*10\r\n"));
        assert!(t.raw(&["HRANDFIELD", "h", "2"]).starts_with("*2\r\n"));
        assert!(t
            .raw(&["HRANDFIELD", "h", "10", "withvalues"])
            .starts_with("*6\r\n"));
        assert_eq!(
            t.raw(&["HRANDFIELD", "h", "1", "x"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            t.raw(&["HRANDFIELD", "h", "1", "withvalues", "x"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            t.raw(&["HRANDFIELD", "h", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            t.raw(&["HRANDFIELD", "h", "-9223372036854775808"]),
            "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"
        );
        assert_eq!(
            t.raw(&["HRANDFIELD", "h", "-9223372036854770000", "withvalues"]),
            "-ERR value is out of range\r\n"
        );
        t.raw(&["HELLO", "3"]);
        let r = t.raw(&["HRANDFIELD", "h", "3", "withvalues"]);
        assert!(r.starts_with("*3\r\n*2\r\n"), "{r}");
        let r = t.raw(&["HRANDFIELD", "h", "-3", "withvalues"]);
        assert!(r.starts_with("*3\r\n*2\r\n"), "{r}");
        // Distinct fields for a positive count.
        t.raw(&["HELLO", "2"]);
        for i in 0..50 {
            t.raw(&["HSET", "big", &format!("f{i}"), "v"]);
        }
        for n in [5usize, 20, 49] {
            let r = t.cmd(&["HRANDFIELD", "big", &n.to_string()]);
            if let lunakv_protocol::Reply::Array(v) = r {
                let set: std::collections::HashSet<_> =
                    v.iter().map(|x| format!("{x:?}")).collect();
                assert_eq!(set.len(), n);
            } else {
                panic!("not an array");
            }
        }
    }

    #[test]
    fn hscan_cases() {
        let mut t = TestEngine::new();
        assert_eq!(t.raw(&["HSCAN", "nokey", "0"]), "*2\r\n$1\r\n0\r\n*0\r\n");
        assert_eq!(t.raw(&["HSCAN", "nokey", "x"]), "-ERR invalid cursor\r\n");
        t.raw(&["HSET", "h", "a", "1", "b", "2", "ab", "3"]);
        assert_eq!(
            t.raw(&["HSCAN", "h", "0", "MATCH", "a*"]),
            "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$2\r\nab\r\n$1\r\n3\r\n"
        );
        assert_eq!(
            t.raw(&["HSCAN", "h", "0", "COUNT", "0"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            t.raw(&["HSCAN", "h", "0", "TYPE", "string"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            t.raw(&["HSCAN", "h", "0", "COUNT"]),
            "-ERR syntax error\r\n"
        );
        for i in 0..1000 {
            t.raw(&["HSET", "big", &format!("f{i}"), "v"]);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = "0".to_string();
        loop {
            let r = t.cmd(&["HSCAN", "big", &cursor, "COUNT", "20"]);
            let lunakv_protocol::Reply::Array(v) = r else {
                panic!()
            };
            let lunakv_protocol::Reply::Bulk(c) = &v[0] else {
                panic!()
            };
            let lunakv_protocol::Reply::Array(items) = &v[1] else {
                panic!()
            };
            for p in items.chunks(2) {
                seen.insert(format!("{:?}", p[0]));
            }
            cursor = String::from_utf8_lossy(c).into_owned();
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
    }
}
