//! Commands of the `set` family.

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::cmd::hash::{scan_options, scan_reply, MAX_RANDOM_REPLY};
use crate::cmd::keys::parse_cursor;
use crate::command::Cmd;
use crate::ctx::{notify, Ctx};
use crate::db::Db;
use crate::errors;
use crate::glob::glob_match;
use crate::types::set::Set;
use crate::value::{Entry, Value};

/// Declares this family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    let g = "set";
    let k = (1, 1, 1);
    let all = (1, -1, 1);
    v.push(
        Cmd::new("sadd", -3, "write denyoom fast", k, g, "Add one or more members to a set", sadd)
            .syntax("key member [member ...]")
            .complexity("O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."),
    );
    v.push(
        Cmd::new(
            "srem",
            -3,
            "write fast",
            k,
            g,
            "Remove one or more members from a set",
            srem,
        )
        .syntax("key member [member ...]")
        .complexity("O(N) where N is the number of members to be removed."),
    );
    v.push(
        Cmd::new(
            "smove",
            4,
            "write fast",
            (1, 2, 1),
            g,
            "Move a member from one set to another",
            smove,
        )
        .syntax("source destination member")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new(
            "sismember",
            3,
            "readonly fast",
            k,
            g,
            "Determine if a given value is a member of a set",
            sismember,
        )
        .syntax("key member")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new(
            "smismember",
            -3,
            "readonly fast",
            k,
            g,
            "Returns the membership associated with the given elements for a set",
            smismember,
        )
        .syntax("key member [member ...]")
        .since("6.2.0")
        .complexity("O(N) where N is the number of elements being checked for membership"),
    );
    v.push(
        Cmd::new(
            "smembers",
            2,
            "readonly",
            k,
            g,
            "Get all the members in a set",
            smembers,
        )
        .syntax("key")
        .complexity("O(N) where N is the set cardinality."),
    );
    v.push(
        Cmd::new(
            "scard",
            2,
            "readonly fast",
            k,
            g,
            "Get the number of members in a set",
            scard,
        )
        .syntax("key")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new(
            "spop",
            -2,
            "write fast",
            k,
            g,
            "Remove and return one or multiple random members from a set",
            spop,
        )
        .syntax("key [count]")
        .complexity("Without the count argument O(1), otherwise O(N) where N is the value of the passed count."),
    );
    v.push(
        Cmd::new(
            "srandmember",
            -2,
            "readonly",
            k,
            g,
            "Get one or multiple random members from a set",
            srandmember,
        )
        .syntax("key [count]")
        .complexity("Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count."),
    );
    let inter_cx = "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.";
    v.push(
        Cmd::new(
            "sinter",
            -2,
            "readonly",
            all,
            g,
            "Intersect multiple sets",
            sinter,
        )
        .syntax("key [key ...]")
        .complexity(inter_cx),
    );
    v.push(
        Cmd::new(
            "sintercard",
            -3,
            "readonly",
            (0, 0, 0),
            g,
            "Intersect multiple sets and return the cardinality of the result",
            sintercard,
        )
        .syntax("numkeys key [key ...] [LIMIT limit]")
        .since("7.0.0")
        .complexity(inter_cx)
        .keys_fn(sintercard_keys),
    );
    v.push(
        Cmd::new(
            "sinterstore",
            -3,
            "write denyoom",
            all,
            g,
            "Intersect multiple sets and store the resulting set in a key",
            sinterstore,
        )
        .syntax("destination key [key ...]")
        .complexity(inter_cx),
    );
    let union_cx = "O(N) where N is the total number of elements in all given sets.";
    v.push(
        Cmd::new(
            "sunion",
            -2,
            "readonly",
            all,
            g,
            "Add multiple sets",
            sunion,
        )
        .syntax("key [key ...]")
        .complexity(union_cx),
    );
    v.push(
        Cmd::new(
            "sunionstore",
            -3,
            "write denyoom",
            all,
            g,
            "Add multiple sets and store the resulting set in a key",
            sunionstore,
        )
        .syntax("destination key [key ...]")
        .complexity(union_cx),
    );
    v.push(
        Cmd::new(
            "sdiff",
            -2,
            "readonly",
            all,
            g,
            "Subtract multiple sets",
            sdiff,
        )
        .syntax("key [key ...]")
        .complexity(union_cx),
    );
    v.push(
        Cmd::new(
            "sdiffstore",
            -3,
            "write denyoom",
            all,
            g,
            "Subtract multiple sets and store the resulting set in a key",
            sdiffstore,
        )
        .syntax("destination key [key ...]")
        .complexity(union_cx),
    );
    v.push(
        Cmd::new("sscan", -3, "readonly", k, g, "Incrementally iterate Set elements", sscan)
            .syntax("key cursor [MATCH pattern] [COUNT count]")
            .since("2.8.0")
            .complexity("O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.."),
    );
}

/// Key positions of `SINTERCARD numkeys key...`.
fn sintercard_keys(args: &[Bytes]) -> Vec<usize> {
    let n = args
        .get(1)
        .and_then(|a| lunakv_protocol::parse_i64(a))
        .unwrap_or(0)
        .max(0) as usize;
    (2..args.len().min(n.saturating_add(2))).collect()
}

/// `set-max-intset-entries`.
fn max_intset(ctx: &Ctx<'_>) -> usize {
    ctx.eng.config.get_i64("set-max-intset-entries").max(0) as usize
}

/// Reads a set key: `Ok(None)` if missing, WRONGTYPE for other types.
fn get_set<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<Option<&'c mut Set>, Reply> {
    match ctx.lookup(key) {
        None => Ok(None),
        Some(Entry {
            val: Value::Set(s), ..
        }) => Ok(Some(s)),
        Some(_) => Err(errors::wrongtype()),
    }
}

/// Like [`get_set`] for a write path.
fn get_set_w<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<Option<&'c mut Set>, Reply> {
    match ctx.lookup_write(key) {
        None => Ok(None),
        Some(Entry {
            val: Value::Set(s), ..
        }) => Ok(Some(s)),
        Some(_) => Err(errors::wrongtype()),
    }
}

/// A live set in `db` (the caller has already expired and type-checked it).
fn set_ref<'d>(db: &'d Db, key: &[u8]) -> Option<&'d Set> {
    match db.dict.entry(key) {
        Some(Entry {
            val: Value::Set(s), ..
        }) => Some(s),
        _ => None,
    }
}

/// Looks every key up for reading (expiry, stats) and checks its type.
fn check_sets(ctx: &mut Ctx<'_>, keys: &[Bytes]) -> Result<(), Reply> {
    for k in keys {
        get_set(ctx, k)?;
    }
    Ok(())
}

fn random_usize(rng: &mut rand::rngs::SmallRng) -> usize {
    rand::Rng::random::<u64>(rng) as usize
}

fn bulks(v: Vec<Bytes>) -> Vec<Reply> {
    v.into_iter().map(Reply::Bulk).collect()
}

fn sadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let max = max_intset(ctx);
    let exists = match get_set_w(ctx, key) {
        Err(e) => return e,
        Ok(s) => s.is_some(),
    };
    if !exists {
        let lru = ctx.lru();
        let s = Set::for_member(&args[2]);
        ctx.db().add(key, Value::Set(Box::new(s)), lru);
    }
    let Ok(Some(s)) = get_set_w(ctx, key) else {
        return errors::wrongtype();
    };
    let mut added = 0u64;
    for m in &args[2..] {
        if s.add(m, max) {
            added += 1;
        }
    }
    if added > 0 {
        ctx.modified(key, notify::SET, "sadd");
        ctx.eng.dirty += added - 1;
    }
    Reply::Int(added as i64)
}

fn srem(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let s = match get_set_w(ctx, key) {
        Err(e) => return e,
        Ok(None) => return Reply::Int(0),
        Ok(Some(s)) => s,
    };
    let mut deleted = 0u64;
    let mut emptied = false;
    for m in &args[2..] {
        if s.remove(m) {
            deleted += 1;
            if s.is_empty() {
                emptied = true;
                break;
            }
        }
    }
    if deleted > 0 {
        if emptied {
            ctx.delete(key);
        }
        ctx.modified(key, notify::SET, "srem");
        if emptied {
            ctx.notify(notify::GENERIC, "del", key);
        }
        ctx.eng.dirty += deleted - 1;
    }
    Reply::Int(deleted as i64)
}

fn smove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (src, dst, m) = (&args[1], &args[2], &args[3]);
    let max = max_intset(ctx);
    let src_kind = match ctx.lookup_write(src) {
        None => return Reply::Int(0),
        Some(Entry {
            val: Value::Set(_), ..
        }) => true,
        Some(_) => false,
    };
    let dst_exists = match ctx.lookup_write(dst) {
        None => false,
        Some(Entry {
            val: Value::Set(_), ..
        }) => true,
        Some(_) => return errors::wrongtype(),
    };
    if !src_kind {
        return errors::wrongtype();
    }
    if src == dst {
        return match get_set_w(ctx, src) {
            Ok(Some(s)) => Reply::Int(s.contains(m) as i64),
            _ => Reply::Int(0),
        };
    }
    let Ok(Some(s)) = get_set_w(ctx, src) else {
        return Reply::Int(0);
    };
    if !s.remove(m) {
        return Reply::Int(0);
    }
    let emptied = s.is_empty();
    let db = ctx.client.db;
    ctx.eng.notify_keyspace_event(notify::SET, "srem", src, db);
    if emptied {
        ctx.delete(src);
        ctx.notify(notify::GENERIC, "del", src);
    }
    if !dst_exists {
        let lru = ctx.lru();
        ctx.db()
            .add(dst, Value::Set(Box::new(Set::for_member(m))), lru);
    }
    // srem/del events were emitted above; count the change and WATCH.
    ctx.eng.signal_modified(db, src);
    ctx.eng.dirty += 1;
    if let Ok(Some(d)) = get_set_w(ctx, dst) {
        if d.add(m, max) {
            ctx.modified(dst, notify::SET, "sadd");
        }
    }
    Reply::Int(1)
}

fn sismember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match get_set(ctx, &args[1]) {
        Err(e) => e,
        Ok(None) => Reply::Int(0),
        Ok(Some(s)) => Reply::Int(s.contains(&args[2]) as i64),
    }
}

fn smismember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match get_set(ctx, &args[1]) {
        Err(e) => e,
        Ok(None) => Reply::Array(args[2..].iter().map(|_| Reply::Int(0)).collect()),
        Ok(Some(s)) => Reply::Array(
            args[2..]
                .iter()
                .map(|m| Reply::Int(s.contains(m) as i64))
                .collect(),
        ),
    }
}

fn smembers(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match get_set(ctx, &args[1]) {
        Err(e) => e,
        Ok(None) => Reply::Set(vec![]),
        Ok(Some(s)) => Reply::Set(bulks(s.members())),
    }
}

fn scard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match get_set(ctx, &args[1]) {
        Err(e) => e,
        Ok(None) => Reply::Int(0),
        Ok(Some(s)) => Reply::Int(s.len() as i64),
    }
}

fn spop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if args.len() > 3 {
        return errors::syntax();
    }
    let key = &args[1];
    let count = if args.len() == 3 {
        match ctx.int_arg(&args[2]) {
            Err(e) => return e,
            Ok(c) if c < 0 => {
                return Reply::err_static("ERR value is out of range, must be positive")
            }
            Ok(c) => Some(c as u64),
        }
    } else {
        None
    };
    let i = ctx.client.db;
    let now = ctx.now();
    let eng = &mut *ctx.eng;
    let s = match eng.dbs[i].get_mut(key, now) {
        None => {
            return if count.is_some() {
                Reply::Set(vec![])
            } else {
                Reply::Null
            }
        }
        Some(Entry {
            val: Value::Set(s), ..
        }) => s,
        Some(_) => return errors::wrongtype(),
    };
    let rng = &mut eng.rng;
    let Some(count) = count else {
        let Some(m) = s.random_member(|| random_usize(rng)) else {
            return Reply::Null;
        };
        s.remove(&m);
        let emptied = s.is_empty();
        ctx.modified(key, notify::SET, "spop");
        // Propagated as SREM of the popped member.
        if ctx.propagating() {
            ctx.rewrite_propagation(vec![crate::repl::word("SREM"), key.clone(), m.clone()]);
        }
        if emptied {
            ctx.delete(key);
            ctx.notify(notify::GENERIC, "del", key);
        }
        return Reply::Bulk(m);
    };
    if count == 0 {
        return Reply::Set(vec![]);
    }
    let size = s.len() as u64;
    let out;
    let mut emptied = false;
    if count >= size {
        out = s.members();
        emptied = true;
    } else if (size - count) * 5 > count {
        // Case 2: pop random members one by one.
        let mut v = Vec::with_capacity(count as usize);
        for _ in 0..count {
            if let Some(m) = s.random_member(|| random_usize(rng)) {
                s.remove(&m);
                v.push(m);
            }
        }
        out = v;
    } else {
        // Case 3: pick the members that stay, return the rest.
        let mut all = s.members();
        for _ in 0..size - count {
            let j = random_usize(rng) % all.len();
            all.swap_remove(j);
        }
        for m in &all {
            s.remove(m);
        }
        out = all;
    }
    // Propagated as DEL when the whole set went, else one SREM a member.
    if ctx.propagating() {
        if emptied {
            ctx.rewrite_propagation(vec![crate::repl::word("DEL"), key.clone()]);
        } else {
            for m in &out {
                ctx.also_propagate(vec![crate::repl::word("SREM"), key.clone(), m.clone()]);
            }
            ctx.no_propagate();
        }
    }
    let db = ctx.client.db;
    ctx.eng.notify_keyspace_event(notify::SET, "spop", key, db);
    if emptied {
        ctx.delete(key);
        ctx.notify(notify::GENERIC, "del", key);
    }
    ctx.eng.signal_modified(db, key);
    ctx.eng.dirty += out.len() as u64;
    Reply::Set(bulks(out))
}

fn srandmember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if args.len() > 3 {
        return errors::syntax();
    }
    let count = if args.len() == 3 {
        let l = match ctx.int_arg(&args[2]) {
            Err(e) => return e,
            Ok(l) => l,
        };
        if l == i64::MIN {
            return Reply::err_static(
                "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            );
        }
        if l < 0 && l.unsigned_abs() > MAX_RANDOM_REPLY {
            return Reply::err_static("ERR value is out of range");
        }
        Some(l)
    } else {
        None
    };
    let i = ctx.client.db;
    let now = ctx.now();
    let eng = &mut *ctx.eng;
    let s = match eng.dbs[i].get_mut(&args[1], now) {
        None => {
            eng.stats.keyspace_misses += 1;
            return if count.is_some() {
                Reply::Array(vec![])
            } else {
                Reply::Null
            };
        }
        Some(Entry {
            val: Value::Set(s), ..
        }) => {
            eng.stats.keyspace_hits += 1;
            &**s
        }
        Some(_) => return errors::wrongtype(),
    };
    let rng = &mut eng.rng;
    let Some(l) = count else {
        return s
            .random_member(|| random_usize(rng))
            .map_or(Reply::Null, Reply::Bulk);
    };
    let (count, uniq) = if l >= 0 {
        (l as u64, true)
    } else {
        (l.unsigned_abs(), false)
    };
    if count == 0 {
        return Reply::Array(vec![]);
    }
    let size = s.len() as u64;
    if !uniq || count == 1 {
        let mut out = Vec::with_capacity(count as usize);
        if count.saturating_mul(4) >= size && size > 0 {
            // Many picks: index a snapshot, which is exactly uniform.
            let all = s.members();
            for _ in 0..count {
                out.push(Reply::Bulk(all[random_usize(rng) % all.len()].clone()));
            }
        } else {
            for _ in 0..count {
                if let Some(m) = s.random_member(|| random_usize(rng)) {
                    out.push(Reply::Bulk(m));
                }
            }
        }
        return Reply::Array(out);
    }
    let mut all = s.members();
    if count >= size {
        return Reply::Array(bulks(all));
    }
    if count * 3 > size {
        while all.len() as u64 > count {
            let j = random_usize(rng) % all.len();
            all.swap_remove(j);
        }
    } else {
        for j in 0..count as usize {
            let r = j + random_usize(rng) % (all.len() - j);
            all.swap(j, r);
        }
        all.truncate(count as usize);
    }
    Reply::Array(bulks(all))
}

/// The intersection of the sets at `keys` (all present), in the iteration
/// order of the smallest; stops after `limit` members when non-zero.
fn intersect(db: &Db, keys: &[Bytes], limit: usize) -> Vec<Bytes> {
    let mut sets: Vec<&Set> = keys.iter().filter_map(|k| set_ref(db, k)).collect();
    sets.sort_by_key(|s| s.len());
    let mut out = Vec::new();
    let Some((first, rest)) = sets.split_first() else {
        return out;
    };
    let mut done = false;
    first.for_each(|m| {
        if done {
            return;
        }
        if rest
            .iter()
            .all(|s| std::ptr::eq(*s, *first) || s.contains(m))
        {
            out.push(Bytes::copy_from_slice(m));
            if limit > 0 && out.len() >= limit {
                done = true;
            }
        }
    });
    out
}

/// True if any of `keys` is missing (after [`check_sets`]).
fn any_missing(ctx: &mut Ctx<'_>, keys: &[Bytes]) -> bool {
    let db = ctx.db();
    keys.iter().any(|k| set_ref(db, k).is_none())
}

/// Stores `members` as a set at `dst` (or deletes `dst` when empty) and
/// replies with the cardinality, as Redis's *STORE commands.
fn store(ctx: &mut Ctx<'_>, dst: &[u8], members: Vec<Bytes>, event: &str) -> Reply {
    let max = max_intset(ctx);
    if members.is_empty() {
        if ctx.delete(dst) {
            let db = ctx.client.db;
            ctx.eng.signal_modified(db, dst);
            ctx.notify(notify::GENERIC, "del", dst);
            ctx.eng.dirty += 1;
        }
        return Reply::Int(0);
    }
    let mut s = Set::default();
    for m in &members {
        s.add(m, max);
    }
    let n = s.len();
    ctx.set_value(dst, Value::Set(Box::new(s)), false);
    ctx.modified(dst, notify::SET, event);
    Reply::Int(n as i64)
}

fn sinter_generic(ctx: &mut Ctx<'_>, keys: &[Bytes], dst: Option<&[u8]>) -> Reply {
    if let Err(e) = check_sets(ctx, keys) {
        return e;
    }
    let members = if any_missing(ctx, keys) {
        Vec::new()
    } else {
        intersect(ctx.db(), keys, 0)
    };
    match dst {
        Some(d) => store(ctx, d, members, "sinterstore"),
        None => Reply::Set(bulks(members)),
    }
}

fn sinter(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    sinter_generic(ctx, &args[1..], None)
}

fn sinterstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    sinter_generic(ctx, &args[2..], Some(&args[1]))
}

fn sintercard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let numkeys = match lunakv_protocol::parse_i64(&args[1]) {
        Some(n) if n >= 1 => n as u64,
        _ => return Reply::err_static("ERR numkeys should be greater than 0"),
    };
    if numkeys > (args.len() - 2) as u64 {
        return Reply::err_static("ERR Number of keys can't be greater than number of args");
    }
    let nk = numkeys as usize;
    let mut limit = 0u64;
    let mut j = 2 + nk;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if crate::ctx::eq_ic(&args[j], "limit") && more > 0 {
            j += 1;
            match lunakv_protocol::parse_i64(&args[j]) {
                Some(l) if l >= 0 => limit = l as u64,
                _ => return Reply::err_static("ERR LIMIT can't be negative"),
            }
        } else {
            return errors::syntax();
        }
        j += 1;
    }
    let keys = &args[2..2 + nk];
    if let Err(e) = check_sets(ctx, keys) {
        return e;
    }
    if any_missing(ctx, keys) {
        return Reply::Int(0);
    }
    let lim = usize::try_from(limit).unwrap_or(usize::MAX);
    Reply::Int(intersect(ctx.db(), keys, lim).len() as i64)
}

#[derive(PartialEq, Clone, Copy)]
enum Op {
    Union,
    Diff,
}

fn sunion_diff(ctx: &mut Ctx<'_>, keys: &[Bytes], dst: Option<&[u8]>, op: Op) -> Reply {
    if let Err(e) = check_sets(ctx, keys) {
        return e;
    }
    let max = max_intset(ctx);
    let db = ctx.db();
    let sets: Vec<Option<&Set>> = keys.iter().map(|k| set_ref(db, k)).collect();
    let mut res = Set::default();
    match op {
        Op::Union => {
            for s in sets.iter().flatten() {
                s.for_each(|m| {
                    res.add(m, max);
                });
            }
        }
        Op::Diff => {
            if let Some(Some(first)) = sets.first() {
                let same = sets[1..].iter().flatten().any(|s| std::ptr::eq(*s, *first));
                if !same {
                    first.for_each(|m| {
                        if !sets[1..].iter().flatten().any(|s| s.contains(m)) {
                            res.add(m, max);
                        }
                    });
                }
            }
        }
    }
    let members = res.members();
    match dst {
        Some(d) => store(
            ctx,
            d,
            members,
            if op == Op::Union {
                "sunionstore"
            } else {
                "sdiffstore"
            },
        ),
        None => Reply::Set(bulks(members)),
    }
}

fn sunion(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    sunion_diff(ctx, &args[1..], None, Op::Union)
}

fn sunionstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    sunion_diff(ctx, &args[2..], Some(&args[1]), Op::Union)
}

fn sdiff(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    sunion_diff(ctx, &args[1..], None, Op::Diff)
}

fn sdiffstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    sunion_diff(ctx, &args[2..], Some(&args[1]), Op::Diff)
}

fn sscan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let Some(mut cursor) = parse_cursor(&args[2]) else {
        return Reply::err_static("ERR invalid cursor");
    };
    let opts = scan_options(ctx, args);
    let s = match get_set(ctx, &args[1]) {
        Err(e) => return e,
        Ok(None) => return scan_reply(0, vec![]),
        Ok(Some(s)) => s,
    };
    let (count, pat) = match opts {
        Ok(o) => o,
        Err(e) => return e,
    };
    let mut out = Vec::new();
    let mut emit = |m: &[u8]| {
        if pat.is_none_or(|p| glob_match(p, m, false)) {
            out.push(Reply::Bulk(Bytes::copy_from_slice(m)));
        }
    };
    match s {
        Set::Intset(_) => {
            s.scan(0, &mut emit);
            cursor = 0;
        }
        Set::Table(_) => {
            let mut iterations = count.saturating_mul(10);
            let mut visited = 0i64;
            loop {
                cursor = s.scan(cursor, |m| {
                    visited += 1;
                    emit(m);
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

    fn sorted(t: &mut TestEngine, args: &[&str]) -> Vec<String> {
        let r = t.cmd(args);
        let items = match r {
            lunakv_protocol::Reply::Array(v) | lunakv_protocol::Reply::Set(v) => v,
            other => panic!("{other:?}"),
        };
        let mut v: Vec<String> = items
            .iter()
            .map(|x| match x {
                lunakv_protocol::Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                o => panic!("{o:?}"),
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn sadd_srem_basics() {
        let mut t = TestEngine::new();
        assert_eq!(t.raw(&["SADD", "s", "3", "1", "2", "1"]), ":3\r\n");
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "s"]), "$6\r\nintset\r\n");
        assert_eq!(
            t.raw(&["SMEMBERS", "s"]),
            "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
        );
        assert_eq!(t.raw(&["SCARD", "s"]), ":3\r\n");
        assert_eq!(t.raw(&["SISMEMBER", "s", "2"]), ":1\r\n");
        assert_eq!(t.raw(&["SISMEMBER", "s", "9"]), ":0\r\n");
        assert_eq!(t.raw(&["SMISMEMBER", "s", "2", "9"]), "*2\r\n:1\r\n:0\r\n");
        assert_eq!(t.raw(&["SMISMEMBER", "nokey", "2"]), "*1\r\n:0\r\n");
        assert_eq!(t.raw(&["SADD", "s", "a"]), ":1\r\n");
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "s"]), "$9\r\nhashtable\r\n");
        assert_eq!(t.raw(&["SREM", "s", "1", "9", "a"]), ":2\r\n");
        assert_eq!(t.raw(&["SREM", "s", "2", "3"]), ":2\r\n");
        assert_eq!(t.raw(&["EXISTS", "s"]), ":0\r\n");
        assert_eq!(t.raw(&["SREM", "s", "2"]), ":0\r\n");
        assert_eq!(t.raw(&["SMEMBERS", "nokey"]), "*0\r\n");
        assert_eq!(t.raw(&["SCARD", "nokey"]), ":0\r\n");
        t.raw(&["CONFIG", "SET", "set-max-intset-entries", "2"]);
        t.raw(&["SADD", "i", "1", "2"]);
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "i"]), "$6\r\nintset\r\n");
        t.raw(&["SADD", "i", "3"]);
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "i"]), "$9\r\nhashtable\r\n");
        t.raw(&["HELLO", "3"]);
        assert_eq!(t.raw(&["SMEMBERS", "nokey"]), "~0\r\n");
    }

    #[test]
    fn wrongtype() {
        let mut t = TestEngine::new();
        t.raw(&["SET", "str", "x"]);
        t.raw(&["SADD", "s", "a"]);
        let wt = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
        for c in [
            &["SADD", "str", "a"][..],
            &["SREM", "str", "a"],
            &["SISMEMBER", "str", "a"],
            &["SMISMEMBER", "str", "a"],
            &["SMEMBERS", "str"],
            &["SCARD", "str"],
            &["SPOP", "str"],
            &["SPOP", "str", "2"],
            &["SRANDMEMBER", "str"],
            &["SRANDMEMBER", "str", "2"],
            &["SINTER", "s", "str"],
            &["SINTERCARD", "2", "s", "str"],
            &["SINTERSTORE", "d", "s", "str"],
            &["SUNION", "s", "str"],
            &["SUNIONSTORE", "d", "s", "str"],
            &["SDIFF", "s", "str"],
            &["SDIFFSTORE", "d", "s", "str"],
            &["SMOVE", "str", "s", "a"],
            &["SMOVE", "s", "str", "a"],
            &["SSCAN", "str", "0"],
        ] {
            assert_eq!(t.raw(c), wt, "{c:?}");
        }
        assert_eq!(t.raw(&["SMOVE", "nokey", "str", "a"]), ":0\r\n");
    }

    #[test]
    fn algebra() {
        let mut t = TestEngine::new();
        t.raw(&["SADD", "a", "1", "2", "3", "4"]);
        t.raw(&["SADD", "b", "3", "4", "5"]);
        t.raw(&["SADD", "c", "x", "3"]);
        assert_eq!(t.raw(&["SINTER", "a", "b"]), "*2\r\n$1\r\n3\r\n$1\r\n4\r\n");
        assert_eq!(sorted(&mut t, &["SINTER", "a", "b", "c"]), vec!["3"]);
        assert_eq!(t.raw(&["SINTER", "a", "nokey"]), "*0\r\n");
        assert_eq!(
            t.raw(&["SUNION", "a", "b", "nokey"]),
            "*5\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n"
        );
        assert_eq!(t.raw(&["SDIFF", "a", "b"]), "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
        assert_eq!(t.raw(&["SDIFF", "a", "a"]), "*0\r\n");
        assert_eq!(t.raw(&["SDIFF", "nokey", "a"]), "*0\r\n");
        assert_eq!(t.raw(&["SINTERSTORE", "d", "a", "b"]), ":2\r\n");
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "d"]), "$6\r\nintset\r\n");
        assert_eq!(t.raw(&["SUNIONSTORE", "d", "a", "c"]), ":5\r\n");
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "d"]), "$9\r\nhashtable\r\n");
        assert_eq!(t.raw(&["SDIFFSTORE", "d", "a", "b"]), ":2\r\n");
        assert_eq!(t.raw(&["SINTERSTORE", "d", "a", "nokey"]), ":0\r\n");
        assert_eq!(t.raw(&["EXISTS", "d"]), ":0\r\n");
        t.raw(&["SET", "d", "x"]);
        assert_eq!(t.raw(&["SUNIONSTORE", "d", "a"]), ":4\r\n");
        assert_eq!(t.raw(&["SUNIONSTORE", "a", "a", "b"]), ":5\r\n");
        assert_eq!(t.raw(&["SINTERCARD", "2", "a", "b"]), ":3\r\n");
        assert_eq!(
            t.raw(&["SINTERCARD", "2", "a", "b", "LIMIT", "1"]),
            ":1\r\n"
        );
        assert_eq!(
            t.raw(&["SINTERCARD", "2", "a", "b", "LIMIT", "0"]),
            ":3\r\n"
        );
        assert_eq!(t.raw(&["SINTERCARD", "1", "nokey"]), ":0\r\n");
        assert_eq!(
            t.raw(&["SINTERCARD", "0", "a"]),
            "-ERR numkeys should be greater than 0\r\n"
        );
        assert_eq!(
            t.raw(&["SINTERCARD", "x", "a"]),
            "-ERR numkeys should be greater than 0\r\n"
        );
        assert_eq!(
            t.raw(&["SINTERCARD", "3", "a", "b"]),
            "-ERR Number of keys can't be greater than number of args\r\n"
        );
        assert_eq!(
            t.raw(&["SINTERCARD", "2", "a", "b", "LIMIT", "-1"]),
            "-ERR LIMIT can't be negative\r\n"
        );
        assert_eq!(
            t.raw(&["SINTERCARD", "2", "a", "b", "LIMIT"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            t.raw(&["SINTERCARD", "1", "a", "b"]),
            "-ERR syntax error\r\n"
        );
    }

    #[test]
    fn smove_cases() {
        let mut t = TestEngine::new();
        t.raw(&["SADD", "a", "1", "2"]);
        assert_eq!(t.raw(&["SMOVE", "a", "b", "1"]), ":1\r\n");
        assert_eq!(t.raw(&["SMOVE", "a", "b", "9"]), ":0\r\n");
        assert_eq!(t.raw(&["SMOVE", "a", "a", "2"]), ":1\r\n");
        assert_eq!(t.raw(&["SMOVE", "a", "a", "9"]), ":0\r\n");
        assert_eq!(t.raw(&["SMOVE", "a", "b", "2"]), ":1\r\n");
        assert_eq!(t.raw(&["EXISTS", "a"]), ":0\r\n");
        assert_eq!(t.raw(&["SMEMBERS", "b"]), "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
        assert_eq!(t.raw(&["SMOVE", "nokey", "b", "1"]), ":0\r\n");
    }

    #[test]
    fn spop_srandmember() {
        let mut t = TestEngine::new();
        assert_eq!(t.raw(&["SPOP", "nokey"]), "$-1\r\n");
        assert_eq!(t.raw(&["SPOP", "nokey", "3"]), "*0\r\n");
        assert_eq!(t.raw(&["SRANDMEMBER", "nokey"]), "$-1\r\n");
        assert_eq!(t.raw(&["SRANDMEMBER", "nokey", "3"]), "*0\r\n");
        assert_eq!(
            t.raw(&["SPOP", "s", "-1"]),
            "-ERR value is out of range, must be positive\r\n"
        );
        assert_eq!(
            t.raw(&["SPOP", "s", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(t.raw(&["SPOP", "s", "1", "2"]), "-ERR syntax error\r\n");
        assert_eq!(
            t.raw(&["SRANDMEMBER", "s", "1", "2"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            t.raw(&["SRANDMEMBER", "s", "-9223372036854775808"]),
            "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"
        );
        for i in 0..30 {
            t.raw(&["SADD", "s", &i.to_string(), &format!("m{i}")]);
        }
        assert!(t.raw(&["SRANDMEMBER", "s", "-100"]).starts_with("*100\r\n"));
        for n in [1usize, 5, 25, 59, 60, 100] {
            let v = sorted(&mut t, &["SRANDMEMBER", "s", &n.to_string()]);
            let mut d = v.clone();
            d.dedup();
            assert_eq!(v.len(), n.min(60));
            assert_eq!(d.len(), v.len());
        }
        assert_eq!(t.raw(&["SRANDMEMBER", "s", "0"]), "*0\r\n");
        assert_eq!(t.raw(&["SPOP", "s", "0"]), "*0\r\n");
        let mut popped = Vec::new();
        for n in ["5", "40"] {
            popped.extend(sorted(&mut t, &["SPOP", "s", n]));
        }
        assert_eq!(t.raw(&["SCARD", "s"]), ":15\r\n");
        popped.extend(sorted(&mut t, &["SPOP", "s", "100"]));
        popped.sort();
        popped.dedup();
        assert_eq!(popped.len(), 60);
        assert_eq!(t.raw(&["EXISTS", "s"]), ":0\r\n");
        t.raw(&["SADD", "one", "x"]);
        assert_eq!(t.raw(&["SPOP", "one"]), "$1\r\nx\r\n");
        assert_eq!(t.raw(&["EXISTS", "one"]), ":0\r\n");
        t.raw(&["HELLO", "3"]);
        assert_eq!(t.raw(&["SPOP", "nokey", "3"]), "~0\r\n");
        assert_eq!(t.raw(&["SPOP", "nokey"]), "_\r\n");
    }

    #[test]
    fn sscan_cases() {
        let mut t = TestEngine::new();
        t.raw(&["SADD", "s", "1", "2", "10"]);
        assert_eq!(
            t.raw(&["SSCAN", "s", "0", "MATCH", "1*"]),
            "*2\r\n$1\r\n0\r\n*2\r\n$1\r\n1\r\n$2\r\n10\r\n"
        );
        assert_eq!(
            t.raw(&["SSCAN", "s", "0", "COUNT", "0"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(t.raw(&["SSCAN", "s", "abc"]), "-ERR invalid cursor\r\n");
        for i in 0..500 {
            t.raw(&["SADD", "big", &format!("m{i}")]);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = "0".to_string();
        loop {
            let r = t.cmd(&["SSCAN", "big", &cursor]);
            let lunakv_protocol::Reply::Array(v) = r else {
                panic!()
            };
            let lunakv_protocol::Reply::Bulk(c) = &v[0] else {
                panic!()
            };
            let lunakv_protocol::Reply::Array(items) = &v[1] else {
                panic!()
            };
            for m in items {
                seen.insert(format!("{m:?}"));
            }
            cursor = String::from_utf8_lossy(c).into_owned();
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 500);
    }
}
