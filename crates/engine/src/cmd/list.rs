//! Commands of the `list` family: pushes and pops (with counts), ranges,
//! LINDEX/LSET/LINSERT/LREM/LTRIM/LPOS, LMOVE/RPOPLPUSH, LMPOP and the
//! blocking BLPOP/BRPOP/BLMOVE/BRPOPLPUSH/BLMPOP.
//!
//! Replies, errors, keyspace events and their order follow Redis 7.0's
//! `t_list.c`. Blocking commands park the client with [`Ctx::block`] and
//! are run again when a key they wait on is signalled ready; pushes signal
//! every key they add to.

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::blocking::parse_timeout_secs;
use crate::command::Cmd;
use crate::ctx::{eq_ic, notify, Ctx};
use crate::errors;
use crate::types::list::List;
use crate::value::{Entry, Value};

/// Declares this family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    let g = "list";
    let k = (1, 1, 1);
    let k2 = (1, 2, 1);
    v.push(
        Cmd::new("lpush", -3, "write denyoom fast", k, g, "Prepend one or multiple elements to a list", lpush)
            .syntax("key element [element ...]")
            .complexity("O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."),
    );
    v.push(
        Cmd::new("rpush", -3, "write denyoom fast", k, g, "Append one or multiple elements to a list", rpush)
            .syntax("key element [element ...]")
            .complexity("O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."),
    );
    v.push(
        Cmd::new("lpushx", -3, "write denyoom fast", k, g, "Prepend an element to a list, only if the list exists", lpushx)
            .syntax("key element [element ...]")
            .since("2.2.0")
            .complexity("O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."),
    );
    v.push(
        Cmd::new("rpushx", -3, "write denyoom fast", k, g, "Append an element to a list, only if the list exists", rpushx)
            .syntax("key element [element ...]")
            .since("2.2.0")
            .complexity("O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."),
    );
    v.push(
        Cmd::new(
            "lpop",
            -2,
            "write fast",
            k,
            g,
            "Remove and get the first elements in a list",
            lpop,
        )
        .syntax("key [count]")
        .complexity("O(N) where N is the number of elements returned"),
    );
    v.push(
        Cmd::new(
            "rpop",
            -2,
            "write fast",
            k,
            g,
            "Remove and get the last elements in a list",
            rpop,
        )
        .syntax("key [count]")
        .complexity("O(N) where N is the number of elements returned"),
    );
    v.push(
        Cmd::new(
            "llen",
            2,
            "readonly fast",
            k,
            g,
            "Get the length of a list",
            llen,
        )
        .syntax("key")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new("lrange", 4, "readonly", k, g, "Get a range of elements from a list", lrange)
            .syntax("key start stop")
            .complexity("O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range."),
    );
    v.push(
        Cmd::new("lindex", 3, "readonly", k, g, "Get an element from a list by its index", lindex)
            .syntax("key index")
            .complexity("O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1)."),
    );
    v.push(
        Cmd::new("lset", 4, "write denyoom", k, g, "Set the value of an element in a list by its index", lset)
            .syntax("key index element")
            .complexity("O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1)."),
    );
    v.push(
        Cmd::new("linsert", 5, "write denyoom", k, g, "Insert an element before or after another element in a list", linsert)
            .syntax("key <BEFORE | AFTER> pivot element")
            .since("2.2.0")
            .complexity("O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N)."),
    );
    v.push(
        Cmd::new(
            "lrem",
            4,
            "write",
            k,
            g,
            "Remove elements from a list",
            lrem,
        )
        .syntax("key count element")
        .complexity(
            "O(N+M) where N is the length of the list and M is the number of elements removed.",
        ),
    );
    v.push(
        Cmd::new(
            "ltrim",
            4,
            "write",
            k,
            g,
            "Trim a list to the specified range",
            ltrim,
        )
        .syntax("key start stop")
        .complexity("O(N) where N is the number of elements to be removed by the operation."),
    );
    v.push(
        Cmd::new("lpos", -3, "readonly", k, g, "Return the index of matching elements on a list", lpos)
            .syntax("key element [RANK rank] [COUNT num-matches] [MAXLEN len]")
            .since("6.0.6")
            .complexity("O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time."),
    );
    v.push(
        Cmd::new(
            "lmove",
            5,
            "write denyoom",
            k2,
            g,
            "Pop an element from a list, push it to another list and return it",
            lmove,
        )
        .syntax("source destination <LEFT | RIGHT> <LEFT | RIGHT>")
        .since("6.2.0")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new(
            "rpoplpush",
            3,
            "write denyoom",
            k2,
            g,
            "Remove the last element in a list, prepend it to another list and return it",
            rpoplpush,
        )
        .syntax("source destination")
        .since("1.2.0")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new("lmpop", -4, "write", (0, 0, 0), g, "Pop elements from a list", lmpop)
            .syntax("numkeys key [key ...] <LEFT | RIGHT> [COUNT count]")
            .since("7.0.0")
            .complexity("O(N+M) where N is the number of provided keys and M is the number of elements returned.")
            .keys_fn(lmpop_keys),
    );
    v.push(
        Cmd::new(
            "blpop",
            -3,
            "write noscript blocking",
            (1, -2, 1),
            g,
            "Remove and get the first element in a list, or block until one is available",
            blpop,
        )
        .syntax("key [key ...] timeout")
        .since("2.0.0")
        .complexity("O(N) where N is the number of provided keys."),
    );
    v.push(
        Cmd::new(
            "brpop",
            -3,
            "write noscript blocking",
            (1, -2, 1),
            g,
            "Remove and get the last element in a list, or block until one is available",
            brpop,
        )
        .syntax("key [key ...] timeout")
        .since("2.0.0")
        .complexity("O(N) where N is the number of provided keys."),
    );
    v.push(
        Cmd::new(
            "blmove",
            6,
            "write denyoom noscript blocking",
            k2,
            g,
            "Pop an element from a list, push it to another list and return it; or block until one is available",
            blmove,
        )
        .syntax("source destination <LEFT | RIGHT> <LEFT | RIGHT> timeout")
        .since("6.2.0")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new(
            "brpoplpush",
            4,
            "write denyoom noscript blocking",
            k2,
            g,
            "Pop an element from a list, push it to another list and return it; or block until one is available",
            brpoplpush,
        )
        .syntax("source destination timeout")
        .since("2.2.0")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new("blmpop", -5, "write blocking", (0, 0, 0), g, "Pop elements from a list, or block until one is available", blmpop)
            .syntax("timeout numkeys key [key ...] <LEFT | RIGHT> [COUNT count]")
            .since("7.0.0")
            .complexity("O(N+M) where N is the number of provided keys and M is the number of elements returned.")
            .keys_fn(blmpop_keys),
    );
}

/// Key positions of `LMPOP numkeys key...`.
fn lmpop_keys(args: &[Bytes]) -> Vec<usize> {
    numkeys_positions(args, 1)
}

/// Key positions of `BLMPOP timeout numkeys key...`.
fn blmpop_keys(args: &[Bytes]) -> Vec<usize> {
    numkeys_positions(args, 2)
}

fn numkeys_positions(args: &[Bytes], idx: usize) -> Vec<usize> {
    let n = args
        .get(idx)
        .and_then(|a| lunakv_protocol::parse_i64(a))
        .unwrap_or(0);
    if n <= 0 {
        return Vec::new();
    }
    let first = idx + 1;
    let last = (first as i64).saturating_add(n).min(args.len() as i64) as usize;
    (first..last).collect()
}

/// The list under `key` for writing (no hit/miss stats): `Ok(None)` if the
/// key is missing, WRONGTYPE if it holds another type.
fn list_w<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<Option<&'c mut List>, Reply> {
    match ctx.lookup_write(key) {
        None => Ok(None),
        Some(Entry {
            val: Value::List(l),
            ..
        }) => Ok(Some(l)),
        Some(_) => Err(errors::wrongtype()),
    }
}

/// The list under `key` for reading (counts keyspace hits and misses).
fn list_r<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<Option<&'c mut List>, Reply> {
    match ctx.lookup(key) {
        None => Ok(None),
        Some(Entry {
            val: Value::List(l),
            ..
        }) => Ok(Some(l)),
        Some(_) => Err(errors::wrongtype()),
    }
}

fn bulk(b: &[u8]) -> Reply {
    Reply::Bulk(Bytes::copy_from_slice(b))
}

fn side(arg: &[u8]) -> Result<bool, Reply> {
    if eq_ic(arg, "left") {
        Ok(true)
    } else if eq_ic(arg, "right") {
        Ok(false)
    } else {
        Err(errors::syntax())
    }
}

fn pop_event(front: bool) -> &'static str {
    if front {
        "lpop"
    } else {
        "rpop"
    }
}

fn push_event(front: bool) -> &'static str {
    if front {
        "lpush"
    } else {
        "rpush"
    }
}

/// Parses an integer that must be in `min..`, replying `msg` otherwise
/// (Redis's `getRangeLongFromObjectOrReply` with a message).
fn ranged(arg: &[u8], min: i64, msg: &'static str) -> Result<i64, Reply> {
    match lunakv_protocol::parse_i64(arg) {
        Some(n) if n >= min => Ok(n),
        _ => Err(Reply::err_static(msg)),
    }
}

/// Bookkeeping after elements were removed from `key` (Redis's
/// `listElementsRemoved`): deletes the key if the list is now empty, emits
/// the pop event (then `del`), invalidates WATCHes and counts `n` changes.
fn removed(ctx: &mut Ctx<'_>, key: &[u8], event: &str, n: usize, now_empty: bool) {
    if now_empty {
        ctx.delete(key);
    }
    ctx.modified(key, notify::LIST, event);
    ctx.eng.dirty += (n as u64).saturating_sub(1);
    if now_empty {
        ctx.notify(notify::GENERIC, "del", key);
    }
}

/// Pushes `elems` to `key`, creating the list if needed. Returns the new
/// length. The key must hold a list or nothing (checked by the caller).
fn push_to(ctx: &mut Ctx<'_>, key: &[u8], elems: &[&[u8]], front: bool) -> usize {
    if let Ok(Some(l)) = list_w(ctx, key) {
        for e in elems {
            l.push(e, front);
        }
        return l.len();
    }
    let mut l = List::new();
    for e in elems {
        l.push(e, front);
    }
    let n = l.len();
    let lru = ctx.lru();
    ctx.db().add(key, Value::List(Box::new(l)), lru);
    n
}

fn push_generic(ctx: &mut Ctx<'_>, args: &[Bytes], front: bool, xx: bool) -> Reply {
    let key = &args[1];
    match list_w(ctx, key) {
        Err(e) => return e,
        Ok(None) if xx => return Reply::Int(0),
        _ => {}
    }
    let elems: Vec<&[u8]> = args[2..].iter().map(|a| &a[..]).collect();
    let len = push_to(ctx, key, &elems, front);
    ctx.modified(key, notify::LIST, push_event(front));
    ctx.eng.dirty += (elems.len() as u64).saturating_sub(1);
    ctx.signal_ready(key);
    Reply::Int(len as i64)
}

fn lpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    push_generic(ctx, args, true, false)
}

fn rpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    push_generic(ctx, args, false, false)
}

fn lpushx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    push_generic(ctx, args, true, true)
}

fn rpushx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    push_generic(ctx, args, false, true)
}

/// Pops up to `count` elements from `key`'s list (which must exist and be
/// non-empty), with the bookkeeping. Returns the elements.
fn pop_n(ctx: &mut Ctx<'_>, key: &[u8], front: bool, count: usize) -> Vec<Reply> {
    let (out, empty) = match list_w(ctx, key) {
        Ok(Some(l)) => {
            let n = count.min(l.len());
            let mut out = Vec::with_capacity(n);
            for _ in 0..n {
                match l.pop(front) {
                    Some(v) => out.push(Reply::Bulk(Bytes::from(v))),
                    None => break,
                }
            }
            (out, l.is_empty())
        }
        _ => return Vec::new(),
    };
    removed(ctx, key, pop_event(front), out.len(), empty);
    out
}

fn pop_generic(ctx: &mut Ctx<'_>, args: &[Bytes], front: bool) -> Reply {
    if args.len() > 3 {
        return errors::wrong_args(if front { "lpop" } else { "rpop" });
    }
    let has_count = args.len() == 3;
    let mut count = 0;
    if has_count {
        count = match ranged(&args[2], 0, "ERR value is out of range, must be positive") {
            Ok(n) => n as usize,
            Err(e) => return e,
        };
    }
    let key = &args[1];
    match list_w(ctx, key) {
        Err(e) => return e,
        Ok(None) => {
            return if has_count {
                Reply::NullArray
            } else {
                Reply::Null
            }
        }
        Ok(Some(_)) => {}
    }
    if has_count && count == 0 {
        return Reply::Array(Vec::new());
    }
    let mut out = pop_n(ctx, key, front, if has_count { count } else { 1 });
    if has_count {
        Reply::Array(out)
    } else {
        out.pop().unwrap_or(Reply::Null)
    }
}

fn lpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    pop_generic(ctx, args, true)
}

fn rpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    pop_generic(ctx, args, false)
}

fn llen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match list_r(ctx, &args[1]) {
        Err(e) => e,
        Ok(None) => Reply::Int(0),
        Ok(Some(l)) => Reply::Int(l.len() as i64),
    }
}

/// Converts Redis's inclusive (start, end) with negative indexes into a
/// (first position, count) range of a list of `len` elements.
fn range_of(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 {
        len.saturating_add(start)
    } else {
        start
    };
    let mut end = if end < 0 {
        len.saturating_add(end)
    } else {
        end
    };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    if end >= len {
        end = len - 1;
    }
    Some((start as usize, (end - start + 1) as usize))
}

fn lrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (start, end) = match (ctx.int_arg(&args[2]), ctx.int_arg(&args[3])) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    match list_r(ctx, &args[1]) {
        Err(e) => e,
        Ok(None) => Reply::Array(Vec::new()),
        Ok(Some(l)) => match range_of(l.len(), start, end) {
            None => Reply::Array(Vec::new()),
            Some((from, n)) => Reply::Array(l.iter_from(from).take(n).map(bulk).collect()),
        },
    }
}

fn lindex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let idx = lunakv_protocol::parse_i64(&args[2]);
    match list_r(ctx, &args[1]) {
        Err(e) => e,
        Ok(None) => Reply::Null,
        Ok(Some(l)) => {
            let Some(idx) = idx else {
                return errors::not_int();
            };
            match l.resolve(idx).and_then(|i| l.get(i)) {
                Some(v) => bulk(v),
                None => Reply::Null,
            }
        }
    }
}

fn lset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let idx = lunakv_protocol::parse_i64(&args[2]);
    match list_w(ctx, key) {
        Err(e) => return e,
        Ok(None) => return errors::no_such_key(),
        Ok(Some(l)) => {
            let Some(idx) = idx else {
                return errors::not_int();
            };
            match l.resolve(idx) {
                Some(i) if l.set(i, &args[3]) => {}
                _ => return errors::out_of_range(),
            }
        }
    }
    ctx.modified(key, notify::LIST, "lset");
    Reply::ok()
}

fn linsert(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let after = if eq_ic(&args[2], "after") {
        true
    } else if eq_ic(&args[2], "before") {
        false
    } else {
        return errors::syntax();
    };
    let key = &args[1];
    let len = match list_w(ctx, key) {
        Err(e) => return e,
        Ok(None) => return Reply::Int(0),
        Ok(Some(l)) => {
            let Some(pos) = l.iter().position(|e| e == &args[3][..]) else {
                return Reply::Int(-1);
            };
            l.insert(if after { pos + 1 } else { pos }, &args[4]);
            l.len()
        }
    };
    ctx.modified(key, notify::LIST, "linsert");
    Reply::Int(len as i64)
}

fn lrem(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let count = match ctx.int_arg(&args[2]) {
        Ok(n) => n,
        Err(e) => return e,
    };
    let elem = &args[3][..];
    let (n, empty) = match list_w(ctx, key) {
        Err(e) => return e,
        Ok(None) => return Reply::Int(0),
        Ok(Some(l)) => {
            let limit = count.unsigned_abs() as usize;
            // Positions to remove, found from the head or from the tail.
            let mut hits: Vec<usize> = Vec::new();
            if count >= 0 {
                for (i, e) in l.iter().enumerate() {
                    if e == elem {
                        hits.push(i);
                        if limit != 0 && hits.len() == limit {
                            break;
                        }
                    }
                }
            } else {
                let len = l.len();
                for (j, e) in l.iter_rev().enumerate() {
                    if e == elem {
                        hits.push(len - 1 - j);
                        if hits.len() == limit {
                            break;
                        }
                    }
                }
                hits.reverse();
            }
            if hits.len() == 1 {
                l.remove(hits[0]);
            } else if !hits.is_empty() {
                let mut it = hits.iter().peekable();
                l.retain(|i, _| {
                    if it.peek() == Some(&&i) {
                        it.next();
                        false
                    } else {
                        true
                    }
                });
            }
            (hits.len(), l.is_empty())
        }
    };
    if n > 0 {
        ctx.modified(key, notify::LIST, "lrem");
        ctx.eng.dirty += (n as u64).saturating_sub(1);
    }
    if empty {
        ctx.delete(key);
        ctx.notify(notify::GENERIC, "del", key);
    }
    Reply::Int(n as i64)
}

fn ltrim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (start, end) = match (ctx.int_arg(&args[2]), ctx.int_arg(&args[3])) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let key = &args[1];
    let (n, empty) = match list_w(ctx, key) {
        Err(e) => return e,
        Ok(None) => return Reply::ok(),
        Ok(Some(l)) => {
            let len = l.len();
            let (ltrim, rtrim) = match range_of(len, start, end) {
                None => (len, 0),
                Some((from, n)) => (from, len - from - n),
            };
            l.drop_front(ltrim);
            l.drop_back(rtrim);
            (ltrim + rtrim, l.is_empty())
        }
    };
    let db = ctx.client.db;
    ctx.eng
        .notify_keyspace_event(notify::LIST, "ltrim", key, db);
    if empty {
        ctx.delete(key);
        ctx.notify(notify::GENERIC, "del", key);
    }
    ctx.eng.signal_modified(db, key);
    ctx.eng.dirty += n as u64;
    Reply::ok()
}

fn lpos(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let elem = &args[2][..];
    let mut rank: i64 = 1;
    let mut count: i64 = -1;
    let mut maxlen: i64 = 0;
    let mut j = 3;
    while j < args.len() {
        let opt = &args[j];
        let more = j + 1 < args.len();
        if eq_ic(opt, "rank") && more {
            j += 1;
            rank = match ctx.int_arg(&args[j]) {
                Ok(n) => n,
                Err(e) => return e,
            };
            if rank == 0 {
                return Reply::err_static(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                );
            }
        } else if eq_ic(opt, "count") && more {
            j += 1;
            count = match ranged(&args[j], 0, "ERR COUNT can't be negative") {
                Ok(n) => n,
                Err(e) => return e,
            };
        } else if eq_ic(opt, "maxlen") && more {
            j += 1;
            maxlen = match ranged(&args[j], 0, "ERR MAXLEN can't be negative") {
                Ok(n) => n,
                Err(e) => return e,
            };
        } else {
            return errors::syntax();
        }
        j += 1;
    }
    let from_tail = rank < 0;
    // Redis negates RANK in a C long: i64::MIN stays negative and so
    // matches from the first hit, as rank 1 from the tail does.
    let rank = if rank == i64::MIN {
        1
    } else {
        rank.unsigned_abs()
    };
    let l = match list_r(ctx, &args[1]) {
        Err(e) => return e,
        Ok(None) => {
            return if count != -1 {
                Reply::Array(Vec::new())
            } else {
                Reply::Null
            }
        }
        Ok(Some(l)) => l,
    };
    let len = l.len();
    let maxlen = if maxlen == 0 {
        usize::MAX
    } else {
        maxlen as usize
    };
    let mut found = Vec::new();
    let mut matches: u64 = 0;
    let iter: Box<dyn Iterator<Item = &[u8]>> = if from_tail {
        Box::new(l.iter_rev())
    } else {
        Box::new(l.iter())
    };
    for (index, e) in iter.take(maxlen).enumerate() {
        if e != elem {
            continue;
        }
        matches += 1;
        if matches >= rank {
            let at = if from_tail { len - index - 1 } else { index };
            found.push(Reply::Int(at as i64));
            if count == -1 || (count != 0 && found.len() as i64 >= count) {
                break;
            }
        }
    }
    if count != -1 {
        Reply::Array(found)
    } else {
        found.pop().unwrap_or(Reply::Null)
    }
}

/// LMOVE's work once the source is known to hold a non-empty list:
/// checks the destination, moves one element and replies with it.
fn move_one(ctx: &mut Ctx<'_>, src: &[u8], dst: &[u8], from_front: bool, to_front: bool) -> Reply {
    if let Err(e) = list_w(ctx, dst) {
        return e;
    }
    let v = match list_w(ctx, src) {
        Ok(Some(l)) => match l.pop(from_front) {
            Some(v) => v,
            None => return Reply::Null,
        },
        _ => return Reply::Null,
    };
    push_to(ctx, dst, &[&v], to_front);
    ctx.modified(dst, notify::LIST, push_event(to_front));
    // One change in Redis's dirty counter for the whole move.
    ctx.eng.dirty = ctx.eng.dirty.saturating_sub(1);
    ctx.signal_ready(dst);
    let empty = matches!(list_w(ctx, src), Ok(Some(l)) if l.is_empty());
    removed(ctx, src, pop_event(from_front), 1, empty);
    Reply::Bulk(Bytes::from(v))
}

fn lmove_generic(
    ctx: &mut Ctx<'_>,
    src: &[u8],
    dst: &[u8],
    from_front: bool,
    to_front: bool,
) -> Reply {
    match list_w(ctx, src) {
        Err(e) => e,
        Ok(None) => Reply::Null,
        Ok(Some(l)) if l.is_empty() => Reply::Null,
        Ok(Some(_)) => move_one(ctx, src, dst, from_front, to_front),
    }
}

fn lmove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (from, to) = match (side(&args[3]), side(&args[4])) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    lmove_generic(ctx, &args[1], &args[2], from, to)
}

fn rpoplpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    lmove_generic(ctx, &args[1], &args[2], false, true)
}

/// Parsed `numkeys key... LEFT|RIGHT [COUNT n]` of LMPOP/BLMPOP.
struct Mpop<'a> {
    keys: &'a [Bytes],
    front: bool,
    count: usize,
}

fn parse_mpop(args: &[Bytes], numkeys_idx: usize) -> Result<Mpop<'_>, Reply> {
    let numkeys = ranged(
        &args[numkeys_idx],
        1,
        "ERR numkeys should be greater than 0",
    )?;
    let first = numkeys_idx + 1;
    let where_idx = (first as i64).saturating_add(numkeys);
    if where_idx >= args.len() as i64 {
        return Err(errors::syntax());
    }
    let where_idx = where_idx as usize;
    let front = side(&args[where_idx])?;
    let mut count: i64 = -1;
    let mut j = where_idx + 1;
    while j < args.len() {
        if count == -1 && eq_ic(&args[j], "count") && j + 1 < args.len() {
            j += 1;
            count = ranged(&args[j], 1, "ERR count should be greater than 0")?;
        } else {
            return Err(errors::syntax());
        }
        j += 1;
    }
    let count = if count == -1 { 1 } else { count as usize };
    Ok(Mpop {
        keys: &args[first..where_idx],
        front,
        count,
    })
}

/// True while a parked blocking command is being run again after one of
/// its keys was signalled ready: keys that now hold another type are then
/// passed over, as Redis serves a ready key only if it holds a list.
fn rerun(ctx: &Ctx<'_>) -> bool {
    ctx.eng.reblock_deadline.is_some()
}

/// Pops from the first key holding a non-empty list: `[key, [elems]]` with
/// `count`, `[key, elem]` without. `None` if every key is empty.
fn pop_first(
    ctx: &mut Ctx<'_>,
    keys: &[Bytes],
    front: bool,
    count: Option<usize>,
) -> Option<Reply> {
    let skip_wrong = rerun(ctx);
    for key in keys {
        match list_w(ctx, key) {
            Err(e) if !skip_wrong => return Some(e),
            Ok(Some(l)) if !l.is_empty() => {}
            _ => continue,
        }
        let k = bulk(key);
        let pop = crate::repl::word(if front { "LPOP" } else { "RPOP" });
        return Some(match count {
            Some(n) => {
                let popped = pop_n(ctx, key, front, n);
                // Propagated as [LR]POP key <count actually popped>.
                if ctx.propagating() {
                    let n = crate::repl::int(popped.len() as i64);
                    ctx.rewrite_propagation(vec![pop, key.clone(), n]);
                }
                Reply::Array(vec![k, Reply::Array(popped)])
            }
            None => {
                let mut v = pop_n(ctx, key, front, 1);
                // Propagated as [LR]POP key.
                if ctx.propagating() {
                    ctx.rewrite_propagation(vec![pop, key.clone()]);
                }
                Reply::Array(vec![k, v.pop().unwrap_or(Reply::Null)])
            }
        });
    }
    None
}

fn lmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let m = match parse_mpop(args, 1) {
        Ok(m) => m,
        Err(e) => return e,
    };
    pop_first(ctx, m.keys, m.front, Some(m.count)).unwrap_or(Reply::NullArray)
}

fn bpop_generic(ctx: &mut Ctx<'_>, args: &[Bytes], front: bool) -> Reply {
    let last = args.len() - 1;
    let timeout = match parse_timeout_secs(&args[last]) {
        Ok(t) => t,
        Err(e) => return e,
    };
    let keys = &args[1..last];
    if let Some(r) = pop_first(ctx, keys, front, None) {
        return r;
    }
    if !ctx.can_block() {
        return Reply::NullArray;
    }
    ctx.block(keys, timeout, args, Reply::NullArray)
}

fn blpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    bpop_generic(ctx, args, true)
}

fn brpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    bpop_generic(ctx, args, false)
}

fn blmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let m = match parse_mpop(args, 2) {
        Ok(m) => m,
        Err(e) => return e,
    };
    let timeout = match parse_timeout_secs(&args[1]) {
        Ok(t) => t,
        Err(e) => return e,
    };
    if let Some(r) = pop_first(ctx, m.keys, m.front, Some(m.count)) {
        return r;
    }
    if !ctx.can_block() {
        return Reply::NullArray;
    }
    ctx.block(m.keys, timeout, args, Reply::NullArray)
}

fn blmove_generic(ctx: &mut Ctx<'_>, args: &[Bytes], from: bool, to: bool, timeout: u64) -> Reply {
    let (src, dst) = (&args[1], &args[2]);
    let skip_wrong = rerun(ctx);
    match list_w(ctx, src) {
        Err(e) if !skip_wrong => return e,
        Ok(Some(l)) if !l.is_empty() => {
            let r = move_one(ctx, src, dst, from, to);
            // Propagated as LMOVE / RPOPLPUSH.
            if ctx.propagating() {
                let argv = if args.len() == 6 {
                    let pos = |front: bool| crate::repl::word(if front { "LEFT" } else { "RIGHT" });
                    vec![
                        crate::repl::word("LMOVE"),
                        src.clone(),
                        dst.clone(),
                        pos(from),
                        pos(to),
                    ]
                } else {
                    vec![crate::repl::word("RPOPLPUSH"), src.clone(), dst.clone()]
                };
                ctx.rewrite_propagation(argv);
            }
            return r;
        }
        _ => {}
    }
    if !ctx.can_block() {
        return Reply::Null;
    }
    ctx.block(std::slice::from_ref(src), timeout, args, Reply::Null)
}

fn blmove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (from, to) = match (side(&args[3]), side(&args[4])) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let timeout = match parse_timeout_secs(&args[5]) {
        Ok(t) => t,
        Err(e) => return e,
    };
    blmove_generic(ctx, args, from, to, timeout)
}

fn brpoplpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let timeout = match parse_timeout_secs(&args[3]) {
        Ok(t) => t,
        Err(e) => return e,
    };
    blmove_generic(ctx, args, false, true, timeout)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;

    use crate::client::{Batch, Msg, Out, OutQueue, OutTx};
    use crate::testkit::TestEngine;
    use crate::Engine;

    fn arr(items: &[&str]) -> String {
        let mut s = format!("*{}\r\n", items.len());
        for i in items {
            s.push_str(&format!("${}\r\n{}\r\n", i.len(), i));
        }
        s
    }

    #[test]
    fn push_pop_len_range() {
        let mut t = TestEngine::new();
        assert_eq!(t.raw(&["RPUSH", "l", "a", "b", "c"]), ":3\r\n");
        assert_eq!(t.raw(&["LPUSH", "l", "x", "y"]), ":5\r\n");
        assert_eq!(
            t.raw(&["LRANGE", "l", "0", "-1"]),
            arr(&["y", "x", "a", "b", "c"])
        );
        assert_eq!(t.raw(&["LRANGE", "l", "-2", "100"]), arr(&["b", "c"]));
        assert_eq!(t.raw(&["LRANGE", "l", "3", "1"]), "*0\r\n");
        assert_eq!(
            t.raw(&["LRANGE", "l", "x", "1"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(t.raw(&["LRANGE", "none", "0", "1"]), "*0\r\n");
        assert_eq!(t.raw(&["LLEN", "l"]), ":5\r\n");
        assert_eq!(t.raw(&["LLEN", "none"]), ":0\r\n");
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "l"]), "$9\r\nquicklist\r\n");
        assert_eq!(t.raw(&["LPUSHX", "none", "a"]), ":0\r\n");
        assert_eq!(t.raw(&["RPUSHX", "l", "z", "w"]), ":7\r\n");
        assert_eq!(t.raw(&["LPOP", "l"]), "$1\r\ny\r\n");
        assert_eq!(t.raw(&["RPOP", "l"]), "$1\r\nw\r\n");
        assert_eq!(t.raw(&["LPOP", "l", "2"]), arr(&["x", "a"]));
        assert_eq!(t.raw(&["RPOP", "l", "2"]), arr(&["z", "c"]));
        assert_eq!(t.raw(&["LPOP", "l", "0"]), "*0\r\n");
        assert_eq!(
            t.raw(&["LPOP", "l", "-1"]),
            "-ERR value is out of range, must be positive\r\n"
        );
        assert_eq!(
            t.raw(&["LPOP", "l", "1", "2"]),
            "-ERR wrong number of arguments for 'lpop' command\r\n"
        );
        assert_eq!(t.raw(&["RPOP", "l", "9"]), arr(&["b"]));
        assert_eq!(t.raw(&["EXISTS", "l"]), ":0\r\n");
        assert_eq!(t.raw(&["LPOP", "l"]), "$-1\r\n");
        assert_eq!(t.raw(&["LPOP", "l", "1"]), "*-1\r\n");
        assert_eq!(t.raw(&["LPOP", "l", "0"]), "*-1\r\n");
        t.raw(&["HELLO", "3"]);
        assert_eq!(t.raw(&["LPOP", "l"]), "_\r\n");
        assert_eq!(t.raw(&["LPOP", "l", "1"]), "_\r\n");
    }

    #[test]
    fn wrong_type_everywhere() {
        let mut t = TestEngine::new();
        t.raw(&["SET", "s", "v"]);
        let wt = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
        for c in [
            &["LPUSH", "s", "a"][..],
            &["RPUSHX", "s", "a"],
            &["LPOP", "s"],
            &["LLEN", "s"],
            &["LRANGE", "s", "0", "1"],
            &["LINDEX", "s", "0"],
            &["LSET", "s", "0", "x"],
            &["LINSERT", "s", "before", "a", "b"],
            &["LREM", "s", "0", "a"],
            &["LTRIM", "s", "0", "1"],
            &["LPOS", "s", "a"],
            &["LMOVE", "s", "d", "left", "left"],
            &["LMPOP", "1", "s", "left"],
            &["BLPOP", "s", "0"],
            &["BLMPOP", "0", "1", "s", "left"],
            &["BRPOPLPUSH", "s", "d", "0"],
        ] {
            assert_eq!(t.raw(c), wt, "{c:?}");
        }
        t.raw(&["RPUSH", "l", "a"]);
        assert_eq!(t.raw(&["LMOVE", "l", "s", "left", "left"]), wt);
        assert_eq!(t.raw(&["LRANGE", "l", "0", "-1"]), arr(&["a"]));
    }

    #[test]
    fn index_set_insert() {
        let mut t = TestEngine::new();
        t.raw(&["RPUSH", "l", "a", "b", "c"]);
        assert_eq!(t.raw(&["LINDEX", "l", "0"]), "$1\r\na\r\n");
        assert_eq!(t.raw(&["LINDEX", "l", "-1"]), "$1\r\nc\r\n");
        assert_eq!(t.raw(&["LINDEX", "l", "3"]), "$-1\r\n");
        assert_eq!(
            t.raw(&["LINDEX", "l", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(t.raw(&["LINDEX", "none", "x"]), "$-1\r\n");
        assert_eq!(t.raw(&["LSET", "l", "1", "B"]), "+OK\r\n");
        assert_eq!(
            t.raw(&["LSET", "l", "-4", "B"]),
            "-ERR index out of range\r\n"
        );
        assert_eq!(t.raw(&["LSET", "none", "0", "B"]), "-ERR no such key\r\n");
        assert_eq!(t.raw(&["LINSERT", "l", "BEFORE", "B", "x"]), ":4\r\n");
        assert_eq!(t.raw(&["LINSERT", "l", "after", "c", "y"]), ":5\r\n");
        assert_eq!(t.raw(&["LINSERT", "l", "after", "nope", "y"]), ":-1\r\n");
        assert_eq!(t.raw(&["LINSERT", "none", "after", "nope", "y"]), ":0\r\n");
        assert_eq!(
            t.raw(&["LINSERT", "l", "middle", "c", "y"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            t.raw(&["LRANGE", "l", "0", "-1"]),
            arr(&["a", "x", "B", "c", "y"])
        );
    }

    #[test]
    fn lrem_ltrim() {
        let mut t = TestEngine::new();
        t.raw(&["RPUSH", "l", "a", "b", "a", "c", "a", "b"]);
        assert_eq!(t.raw(&["LREM", "l", "-1", "a"]), ":1\r\n");
        assert_eq!(
            t.raw(&["LRANGE", "l", "0", "-1"]),
            arr(&["a", "b", "a", "c", "b"])
        );
        assert_eq!(t.raw(&["LREM", "l", "1", "b"]), ":1\r\n");
        assert_eq!(t.raw(&["LREM", "l", "0", "a"]), ":2\r\n");
        assert_eq!(t.raw(&["LREM", "l", "0", "zz"]), ":0\r\n");
        assert_eq!(
            t.raw(&["LREM", "l", "x", "a"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(t.raw(&["LRANGE", "l", "0", "-1"]), arr(&["c", "b"]));
        assert_eq!(t.raw(&["LREM", "l", "0", "c"]), ":1\r\n");
        assert_eq!(t.raw(&["LREM", "l", "0", "b"]), ":1\r\n");
        assert_eq!(t.raw(&["EXISTS", "l"]), ":0\r\n");
        t.raw(&["RPUSH", "l", "1", "2", "3", "4", "5"]);
        assert_eq!(t.raw(&["LTRIM", "l", "1", "-2"]), "+OK\r\n");
        assert_eq!(t.raw(&["LRANGE", "l", "0", "-1"]), arr(&["2", "3", "4"]));
        assert_eq!(t.raw(&["LTRIM", "l", "0", "-10"]), "+OK\r\n");
        assert_eq!(t.raw(&["EXISTS", "l"]), ":0\r\n");
        assert_eq!(t.raw(&["LTRIM", "none", "0", "1"]), "+OK\r\n");
        assert_eq!(
            t.raw(&["LTRIM", "l", "a", "1"]),
            "-ERR value is not an integer or out of range\r\n"
        );
    }

    #[test]
    fn lpos_options_and_errors() {
        let mut t = TestEngine::new();
        t.raw(&["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"]);
        assert_eq!(t.raw(&["LPOS", "l", "c"]), ":2\r\n");
        assert_eq!(t.raw(&["LPOS", "l", "c", "RANK", "2"]), ":6\r\n");
        assert_eq!(t.raw(&["LPOS", "l", "c", "RANK", "4"]), "$-1\r\n");
        assert_eq!(t.raw(&["LPOS", "l", "c", "RANK", "-2"]), ":6\r\n");
        assert_eq!(
            t.raw(&["LPOS", "l", "c", "COUNT", "0"]),
            "*3\r\n:2\r\n:6\r\n:7\r\n"
        );
        assert_eq!(
            t.raw(&["LPOS", "l", "c", "COUNT", "2", "RANK", "-1"]),
            "*2\r\n:7\r\n:6\r\n"
        );
        assert_eq!(
            t.raw(&["LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7", "RANK", "2"]),
            "*1\r\n:6\r\n"
        );
        assert_eq!(t.raw(&["LPOS", "none", "c", "COUNT", "0"]), "*0\r\n");
        assert_eq!(t.raw(&["LPOS", "none", "c"]), "$-1\r\n");
        assert!(t
            .raw(&["LPOS", "l", "c", "RANK", "0"])
            .starts_with("-ERR RANK can't be zero"));
        assert_eq!(
            t.raw(&["LPOS", "l", "c", "COUNT", "-1"]),
            "-ERR COUNT can't be negative\r\n"
        );
        assert_eq!(
            t.raw(&["LPOS", "l", "c", "MAXLEN", "x"]),
            "-ERR MAXLEN can't be negative\r\n"
        );
        assert_eq!(t.raw(&["LPOS", "l", "c", "RANK"]), "-ERR syntax error\r\n");
        assert_eq!(
            t.raw(&["LPOS", "l", "c", "RANK", "-9223372036854775808"]),
            ":7\r\n"
        );
    }

    #[test]
    fn lmove_rpoplpush_lmpop() {
        let mut t = TestEngine::new();
        t.raw(&["RPUSH", "a", "1", "2", "3"]);
        assert_eq!(t.raw(&["LMOVE", "a", "b", "LEFT", "RIGHT"]), "$1\r\n1\r\n");
        assert_eq!(t.raw(&["RPOPLPUSH", "a", "b"]), "$1\r\n3\r\n");
        assert_eq!(t.raw(&["LRANGE", "b", "0", "-1"]), arr(&["3", "1"]));
        assert_eq!(t.raw(&["LMOVE", "a", "a", "left", "right"]), "$1\r\n2\r\n");
        assert_eq!(
            t.raw(&["LMOVE", "a", "b", "up", "right"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(t.raw(&["RPOPLPUSH", "a", "b"]), "$1\r\n2\r\n");
        assert_eq!(t.raw(&["EXISTS", "a"]), ":0\r\n");
        assert_eq!(t.raw(&["RPOPLPUSH", "a", "b"]), "$-1\r\n");
        assert_eq!(
            t.raw(&["LMPOP", "2", "a", "b", "LEFT"]),
            "*2\r\n$1\r\nb\r\n*1\r\n$1\r\n2\r\n"
        );
        assert_eq!(
            t.raw(&["LMPOP", "1", "b", "RIGHT", "COUNT", "5"]),
            "*2\r\n$1\r\nb\r\n*2\r\n$1\r\n1\r\n$1\r\n3\r\n"
        );
        assert_eq!(t.raw(&["LMPOP", "1", "b", "RIGHT"]), "*-1\r\n");
        assert_eq!(
            t.raw(&["LMPOP", "0", "b", "RIGHT"]),
            "-ERR numkeys should be greater than 0\r\n"
        );
        assert_eq!(
            t.raw(&["LMPOP", "x", "b", "RIGHT"]),
            "-ERR numkeys should be greater than 0\r\n"
        );
        assert_eq!(
            t.raw(&["LMPOP", "3", "b", "RIGHT"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(t.raw(&["LMPOP", "1", "b", "UP"]), "-ERR syntax error\r\n");
        assert_eq!(
            t.raw(&["LMPOP", "1", "b", "LEFT", "COUNT", "0"]),
            "-ERR count should be greater than 0\r\n"
        );
        assert_eq!(
            t.raw(&["LMPOP", "1", "b", "LEFT", "COUNT", "1", "COUNT", "1"]),
            "-ERR syntax error\r\n"
        );
    }

    #[test]
    fn blocking_forms_do_not_block_outside_a_client() {
        let mut t = TestEngine::new();
        assert_eq!(t.raw(&["BLPOP", "k", "-1"]), "-ERR timeout is negative\r\n");
        assert_eq!(
            t.raw(&["BLPOP", "k", "x"]),
            "-ERR timeout is not a float or out of range\r\n"
        );
        assert_eq!(
            t.raw(&["BLMPOP", "x", "1", "k", "left"]),
            "-ERR timeout is not a float or out of range\r\n"
        );
        assert_eq!(
            t.raw(&["BLMPOP", "0", "0", "k", "left"]),
            "-ERR numkeys should be greater than 0\r\n"
        );
        t.raw(&["RPUSH", "k", "a", "b", "c"]);
        assert_eq!(t.raw(&["BLPOP", "none", "k", "0"]), arr(&["k", "a"]));
        assert_eq!(t.raw(&["BRPOP", "none", "k", "0"]), arr(&["k", "c"]));
        assert_eq!(
            t.raw(&["BLMOVE", "k", "d", "left", "left", "0"]),
            "$1\r\nb\r\n"
        );
        assert_eq!(t.raw(&["BRPOPLPUSH", "d", "e", "0"]), "$1\r\nb\r\n");
        assert_eq!(
            t.raw(&["BLMPOP", "0", "1", "e", "left", "count", "5"]),
            "*2\r\n$1\r\ne\r\n*1\r\n$1\r\nb\r\n"
        );
        // Inside MULTI: the non-blocking answers.
        t.raw(&["MULTI"]);
        t.raw(&["BLPOP", "none", "0"]);
        t.raw(&["BLMOVE", "none", "x", "left", "left", "0"]);
        t.raw(&["BLMPOP", "0", "1", "none", "left"]);
        assert_eq!(t.raw(&["EXEC"]), "*3\r\n*-1\r\n$-1\r\n*-1\r\n");
    }

    /// A network-like connection driven through `Engine::handle`.
    struct Conn {
        id: u64,
        rx: OutTx,
    }

    fn connect(eng: &mut Engine, id: u64) -> Conn {
        let rx = OutQueue::detached(id);
        let tx = rx.clone();
        eng.handle(Msg::Connect {
            id,
            addr: format!("127.0.0.1:{id}"),
            laddr: String::new(),
            fd: -1,
            out: tx,
        });
        Conn { id, rx }
    }

    fn send(eng: &mut Engine, c: &Conn, cmds: &[&[&str]]) {
        let cmds = cmds
            .iter()
            .map(|a| {
                a.iter()
                    .map(|s| Bytes::copy_from_slice(s.as_bytes()))
                    .collect()
            })
            .collect();
        eng.handle(Msg::Batch {
            id: c.id,
            batch: Arc::new(Batch::new(cmds)),
        });
    }

    fn read(c: &mut Conn) -> String {
        let mut s = Vec::new();
        while let Ok(m) = c.rx.try_recv() {
            if let Out::Data(d) | Out::Batch(d) = m {
                s.extend_from_slice(&d);
            }
        }
        String::from_utf8_lossy(&s).into_owned()
    }

    #[test]
    fn blpop_is_served_in_arrival_order() {
        let mut t = TestEngine::new();
        let eng = &mut t.eng;
        let mut a = connect(eng, 10);
        let mut b = connect(eng, 11);
        let mut p = connect(eng, 12);
        send(eng, &a, &[&["BLPOP", "k", "0"], &["PING"]]);
        send(eng, &b, &[&["BRPOP", "other", "k", "0"]]);
        assert_eq!(read(&mut a), "");
        assert_eq!(eng.blocking.count, 2);
        send(eng, &p, &[&["RPUSH", "k", "v1", "v2", "v3"]]);
        assert_eq!(read(&mut p), ":3\r\n");
        // The first waiter also runs the rest of its batch.
        assert_eq!(read(&mut a), arr(&["k", "v1"]) + "+PONG\r\n");
        assert_eq!(read(&mut b), arr(&["k", "v3"]));
        assert_eq!(eng.blocking.count, 0);
        send(eng, &p, &[&["LRANGE", "k", "0", "-1"]]);
        assert_eq!(read(&mut p), arr(&["v2"]));
    }

    #[test]
    fn multi_wakes_after_exec_and_del_hides_the_push() {
        let mut t = TestEngine::new();
        let eng = &mut t.eng;
        let mut a = connect(eng, 10);
        let mut p = connect(eng, 12);
        send(
            eng,
            &a,
            &[&["BLMPOP", "0", "1", "l", "LEFT", "COUNT", "10"]],
        );
        send(
            eng,
            &p,
            &[&["MULTI"], &["LPUSH", "l", "a"], &["DEL", "l"], &["EXEC"]],
        );
        read(&mut p);
        assert_eq!(read(&mut a), "");
        send(
            eng,
            &p,
            &[
                &["MULTI"],
                &["LPUSH", "l", "a"],
                &["LPUSH", "l", "b"],
                &["EXEC"],
            ],
        );
        read(&mut p);
        assert_eq!(
            read(&mut a),
            "*2\r\n$1\r\nl\r\n".to_string() + &arr(&["b", "a"])
        );
    }

    #[test]
    fn blmove_chains_and_wrong_destination() {
        let mut t = TestEngine::new();
        let eng = &mut t.eng;
        let mut a = connect(eng, 10);
        let mut b = connect(eng, 11);
        let mut p = connect(eng, 12);
        // list1 -> list2 -> list3
        send(
            eng,
            &a,
            &[&["BLMOVE", "list1", "list2", "right", "left", "0"]],
        );
        send(
            eng,
            &b,
            &[&["BLMOVE", "list2", "list3", "left", "right", "0"]],
        );
        send(
            eng,
            &p,
            &[
                &["RPUSH", "list1", "foo"],
                &["LRANGE", "list3", "0", "-1"],
                &["EXISTS", "list2"],
            ],
        );
        assert_eq!(
            read(&mut p),
            ":1\r\n".to_string() + &arr(&["foo"]) + ":0\r\n"
        );
        assert_eq!(read(&mut a), "$3\r\nfoo\r\n");
        assert_eq!(read(&mut b), "$3\r\nfoo\r\n");
        // A wrong-typed destination: the first waiter gets WRONGTYPE, the
        // element goes to the next one.
        send(eng, &p, &[&["SET", "t1", "x"]]);
        read(&mut p);
        send(eng, &a, &[&["BRPOPLPUSH", "src", "t1", "0"]]);
        send(eng, &b, &[&["BRPOPLPUSH", "src", "t2", "0"]]);
        send(
            eng,
            &p,
            &[&["LPUSH", "src", "foo"], &["LRANGE", "t2", "0", "-1"]],
        );
        assert_eq!(read(&mut p), ":1\r\n".to_string() + &arr(&["foo"]));
        assert!(read(&mut a).starts_with("-WRONGTYPE"));
        assert_eq!(read(&mut b), "$3\r\nfoo\r\n");
    }

    #[test]
    fn blocking_timeout_replies() {
        let mut t = TestEngine::new();
        let eng = &mut t.eng;
        let mut a = connect(eng, 10);
        let mut b = connect(eng, 11);
        send(eng, &a, &[&["BLPOP", "k", "0.02"]]);
        send(eng, &b, &[&["BLMOVE", "k", "d", "left", "left", "0.02"]]);
        std::thread::sleep(std::time::Duration::from_millis(40));
        eng.handle_block_timeouts();
        assert_eq!(read(&mut a), "*-1\r\n");
        assert_eq!(read(&mut b), "$-1\r\n");
        assert_eq!(eng.blocking.count, 0);
    }
}
