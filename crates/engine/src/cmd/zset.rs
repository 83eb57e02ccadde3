//! Commands of the `zset` family (sorted sets), with Redis 7.0's replies,
//! errors and keyspace events.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use lunakv_protocol::{fmt_g17, parse_f64, parse_i64, Reply};
use rand::Rng;

use crate::command::Cmd;
use crate::ctx::{eq_ic, notify, Ctx};
use crate::errors;
use crate::glob::glob_match;
use crate::types::zset::{cmp_entry, ZSet};
use crate::value::{Entry, Value};

/// A handler's result: the reply, or an error reply returned early with `?`.
pub(crate) type R = Result<Reply, Reply>;

/// Either side of [`R`] is what the client gets.
pub(crate) fn run(r: R) -> Reply {
    match r {
        Ok(x) | Err(x) => x,
    }
}

/// Declares this family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    const G: &str = "sorted-set";
    v.push(
        Cmd::new(
            "zadd",
            -4,
            "write denyoom fast",
            (1, 1, 1),
            G,
            "Add one or more members to a sorted set, or update its score if it already exists",
            |c, a| run(zadd(c, a, false)),
        )
        .syntax("key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]")
        .since("1.2.0"),
    );
    v.push(
        Cmd::new(
            "zincrby",
            4,
            "write denyoom fast",
            (1, 1, 1),
            G,
            "Increment the score of a member in a sorted set",
            |c, a| run(zadd(c, a, true)),
        )
        .syntax("key increment member")
        .since("1.2.0"),
    );
    v.push(
        Cmd::new(
            "zrem",
            -3,
            "write fast",
            (1, 1, 1),
            G,
            "Remove one or more members from a sorted set",
            |c, a| run(zrem(c, a)),
        )
        .syntax("key member [member ...]")
        .since("1.2.0"),
    );
    v.push(
        Cmd::new(
            "zcard",
            2,
            "readonly fast",
            (1, 1, 1),
            G,
            "Get the number of members in a sorted set",
            |c, a| run(zcard(c, a)),
        )
        .syntax("key")
        .since("1.2.0"),
    );
    v.push(
        Cmd::new(
            "zcount",
            4,
            "readonly fast",
            (1, 1, 1),
            G,
            "Count the members in a sorted set with scores within the given values",
            |c, a| run(zcount(c, a, false)),
        )
        .syntax("key min max")
        .since("2.0.0"),
    );
    v.push(
        Cmd::new(
            "zlexcount",
            4,
            "readonly fast",
            (1, 1, 1),
            G,
            "Count the number of members in a sorted set between a given lexicographical range",
            |c, a| run(zcount(c, a, true)),
        )
        .syntax("key min max")
        .since("2.8.9"),
    );
    v.push(
        Cmd::new(
            "zscore",
            3,
            "readonly fast",
            (1, 1, 1),
            G,
            "Get the score associated with the given member in a sorted set",
            |c, a| run(zscore(c, a)),
        )
        .syntax("key member")
        .since("1.2.0"),
    );
    v.push(
        Cmd::new(
            "zmscore",
            -3,
            "readonly fast",
            (1, 1, 1),
            G,
            "Get the score associated with the given members in a sorted set",
            |c, a| run(zmscore(c, a)),
        )
        .syntax("key member [member ...]")
        .since("6.2.0"),
    );
    v.push(
        Cmd::new(
            "zrank",
            3,
            "readonly fast",
            (1, 1, 1),
            G,
            "Determine the index of a member in a sorted set",
            |c, a| run(zrank(c, a, false)),
        )
        .syntax("key member")
        .since("2.0.0"),
    );
    v.push(
        Cmd::new(
            "zrevrank",
            3,
            "readonly fast",
            (1, 1, 1),
            G,
            "Determine the index of a member in a sorted set, with scores ordered from high to low",
            |c, a| run(zrank(c, a, true)),
        )
        .syntax("key member")
        .since("2.0.0"),
    );
    v.push(
        Cmd::new(
            "zrange",
            -4,
            "readonly",
            (1, 1, 1),
            G,
            "Return a range of members in a sorted set",
            |c, a| run(zrange(c, a, 1, false, Kind::Auto, Dir::Auto)),
        )
        .syntax("key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]")
        .since("1.2.0"),
    );
    v.push(
        Cmd::new(
            "zrangestore",
            -5,
            "write denyoom",
            (1, 2, 1),
            G,
            "Store a range of members from sorted set into another key",
            |c, a| run(zrange(c, a, 2, true, Kind::Auto, Dir::Auto)),
        )
        .syntax("dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]")
        .since("6.2.0"),
    );
    v.push(
        Cmd::new(
            "zrangebyscore",
            -4,
            "readonly",
            (1, 1, 1),
            G,
            "Return a range of members in a sorted set, by score",
            |c, a| run(zrange(c, a, 1, false, Kind::Score, Dir::Fwd)),
        )
        .syntax("key min max [WITHSCORES] [LIMIT offset count]")
        .since("1.0.5"),
    );
    v.push(
        Cmd::new("zrevrangebyscore", -4, "readonly", (1, 1, 1), G, "Return a range of members in a sorted set, by score, with scores ordered from high to low", |c, a| run(zrange(c, a, 1, false, Kind::Score, Dir::Rev)))
            .syntax("key max min [WITHSCORES] [LIMIT offset count]")
            .since("2.2.0"),
    );
    v.push(
        Cmd::new(
            "zrangebylex",
            -4,
            "readonly",
            (1, 1, 1),
            G,
            "Return a range of members in a sorted set, by lexicographical range",
            |c, a| run(zrange(c, a, 1, false, Kind::Lex, Dir::Fwd)),
        )
        .syntax("key min max [LIMIT offset count]")
        .since("2.8.9"),
    );
    v.push(
        Cmd::new("zrevrangebylex", -4, "readonly", (1, 1, 1), G, "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.", |c, a| run(zrange(c, a, 1, false, Kind::Lex, Dir::Rev)))
            .syntax("key max min [LIMIT offset count]")
            .since("2.8.9"),
    );
    v.push(
        Cmd::new("zrevrange", -4, "readonly", (1, 1, 1), G, "Return a range of members in a sorted set, by index, with scores ordered from high to low", |c, a| run(zrange(c, a, 1, false, Kind::Rank, Dir::Rev)))
            .syntax("key start stop [WITHSCORES]")
            .since("1.2.0"),
    );
    v.push(
        Cmd::new(
            "zremrangebyscore",
            4,
            "write",
            (1, 1, 1),
            G,
            "Remove all members in a sorted set within the given scores",
            |c, a| run(zremrange(c, a, Kind::Score)),
        )
        .syntax("key min max")
        .since("1.2.0"),
    );
    v.push(
        Cmd::new(
            "zremrangebyrank",
            4,
            "write",
            (1, 1, 1),
            G,
            "Remove all members in a sorted set within the given indexes",
            |c, a| run(zremrange(c, a, Kind::Rank)),
        )
        .syntax("key start stop")
        .since("2.0.0"),
    );
    v.push(
        Cmd::new(
            "zremrangebylex",
            4,
            "write",
            (1, 1, 1),
            G,
            "Remove all members in a sorted set between the given lexicographical range",
            |c, a| run(zremrange(c, a, Kind::Lex)),
        )
        .syntax("key min max")
        .since("2.8.9"),
    );
    v.push(
        Cmd::new(
            "zpopmin",
            -2,
            "write fast",
            (1, 1, 1),
            G,
            "Remove and return members with the lowest scores in a sorted set",
            |c, a| run(zpop_cmd(c, a, false)),
        )
        .syntax("key [count]")
        .since("5.0.0"),
    );
    v.push(
        Cmd::new(
            "zpopmax",
            -2,
            "write fast",
            (1, 1, 1),
            G,
            "Remove and return members with the highest scores in a sorted set",
            |c, a| run(zpop_cmd(c, a, true)),
        )
        .syntax("key [count]")
        .since("5.0.0"),
    );
    v.push(
        Cmd::new(
            "zmpop",
            -4,
            "write",
            (0, 0, 0),
            G,
            "Remove and return members with scores in a sorted set",
            |c, a| run(zmpop(c, a, false)),
        )
        .syntax("numkeys key [key ...] MIN | MAX [COUNT count]")
        .since("7.0.0")
        .keys_fn(keys_numkeys_at1),
    );
    v.push(
        Cmd::new("bzpopmin", -3, "write noscript fast blocking", (1, -2, 1), G, "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available", |c, a| run(bzpop(c, a, false)))
            .syntax("key [key ...] timeout")
            .since("5.0.0"),
    );
    v.push(
        Cmd::new("bzpopmax", -3, "write noscript fast blocking", (1, -2, 1), G, "Remove and return the member with the highest score from one or more sorted sets, or block until one is available", |c, a| run(bzpop(c, a, true)))
            .syntax("key [key ...] timeout")
            .since("5.0.0"),
    );
    v.push(
        Cmd::new(
            "bzmpop",
            -5,
            "write blocking",
            (0, 0, 0),
            G,
            "Remove and return members with scores in a sorted set or block until one is available",
            |c, a| run(zmpop(c, a, true)),
        )
        .syntax("timeout numkeys key [key ...] MIN | MAX [COUNT count]")
        .since("7.0.0")
        .keys_fn(keys_numkeys_at2),
    );
    v.push(
        Cmd::new(
            "zrandmember",
            -2,
            "readonly",
            (1, 1, 1),
            G,
            "Get one or multiple random elements from a sorted set",
            |c, a| run(zrandmember(c, a)),
        )
        .syntax("key [count [WITHSCORES]]")
        .since("6.2.0"),
    );
    v.push(
        Cmd::new("zunion", -3, "readonly", (0, 0, 0), G, "Add multiple sorted sets", |c, a| run(zsetop(c, a, false, Op::Union, false)))
            .syntax("numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX] [WITHSCORES]")
            .since("6.2.0")
            .keys_fn(keys_numkeys_at1),
    );
    v.push(
        Cmd::new("zinter", -3, "readonly", (0, 0, 0), G, "Intersect multiple sorted sets", |c, a| run(zsetop(c, a, false, Op::Inter, false)))
            .syntax("numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX] [WITHSCORES]")
            .since("6.2.0")
            .keys_fn(keys_numkeys_at1),
    );
    v.push(
        Cmd::new(
            "zdiff",
            -3,
            "readonly",
            (0, 0, 0),
            G,
            "Subtract multiple sorted sets",
            |c, a| run(zsetop(c, a, false, Op::Diff, false)),
        )
        .syntax("numkeys key [key ...] [WITHSCORES]")
        .since("6.2.0")
        .keys_fn(keys_numkeys_at1),
    );
    v.push(
        Cmd::new("zunionstore", -4, "write denyoom", (1, 1, 1), G, "Add multiple sorted sets and store the resulting sorted set in a new key", |c, a| run(zsetop(c, a, true, Op::Union, false)))
            .syntax("destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX]")
            .since("2.0.0")
            .keys_fn(keys_store),
    );
    v.push(
        Cmd::new("zinterstore", -4, "write denyoom", (1, 1, 1), G, "Intersect multiple sorted sets and store the resulting sorted set in a new key", |c, a| run(zsetop(c, a, true, Op::Inter, false)))
            .syntax("destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX]")
            .since("2.0.0")
            .keys_fn(keys_store),
    );
    v.push(
        Cmd::new(
            "zdiffstore",
            -4,
            "write denyoom",
            (1, 1, 1),
            G,
            "Subtract multiple sorted sets and store the resulting sorted set in a new key",
            |c, a| run(zsetop(c, a, true, Op::Diff, false)),
        )
        .syntax("destination numkeys key [key ...]")
        .since("6.2.0")
        .keys_fn(keys_store),
    );
    v.push(
        Cmd::new(
            "zintercard",
            -3,
            "readonly",
            (0, 0, 0),
            G,
            "Intersect multiple sorted sets and return the cardinality of the result",
            |c, a| run(zsetop(c, a, false, Op::Inter, true)),
        )
        .syntax("numkeys key [key ...] [LIMIT limit]")
        .since("7.0.0")
        .keys_fn(keys_numkeys_at1),
    );
    v.push(
        Cmd::new(
            "zscan",
            -3,
            "readonly",
            (1, 1, 1),
            G,
            "Incrementally iterate sorted sets elements and associated scores",
            |c, a| run(zscan(c, a)),
        )
        .syntax("key cursor [MATCH pattern] [COUNT count]")
        .since("2.8.0"),
    );
}

fn numkeys_keys(args: &[Bytes], idx: usize) -> Vec<usize> {
    let Some(n) = args.get(idx).and_then(|b| parse_i64(b)) else {
        return Vec::new();
    };
    if n <= 0 {
        return Vec::new();
    }
    let n = n as usize;
    if idx + 1 + n > args.len() {
        return Vec::new();
    }
    (idx + 1..idx + 1 + n).collect()
}

fn keys_numkeys_at1(args: &[Bytes]) -> Vec<usize> {
    numkeys_keys(args, 1)
}

fn keys_numkeys_at2(args: &[Bytes]) -> Vec<usize> {
    numkeys_keys(args, 2)
}

fn keys_store(args: &[Bytes]) -> Vec<usize> {
    let mut v = vec![1];
    v.extend(numkeys_keys(args, 2));
    v
}

// ---------------------------------------------------------------- helpers

/// (zset-max-listpack-entries, zset-max-listpack-value).
fn limits(ctx: &Ctx<'_>) -> (usize, usize) {
    let e = ctx.eng.config.get_i64("zset-max-listpack-entries").max(0) as usize;
    let v = ctx.eng.config.get_i64("zset-max-listpack-value").max(0) as usize;
    (e, v)
}

/// Reads a sorted set (read path: hit/miss stats).
pub(crate) fn get_zset<'c>(
    ctx: &'c mut Ctx<'_>,
    key: &[u8],
) -> Result<Option<&'c mut ZSet>, Reply> {
    match ctx.lookup(key) {
        None => Ok(None),
        Some(Entry {
            val: Value::ZSet(z),
            ..
        }) => Ok(Some(z)),
        Some(_) => Err(errors::wrongtype()),
    }
}

/// Reads a sorted set for writing.
fn get_zset_w<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<Option<&'c mut ZSet>, Reply> {
    match ctx.lookup_write(key) {
        None => Ok(None),
        Some(Entry {
            val: Value::ZSet(z),
            ..
        }) => Ok(Some(z)),
        Some(_) => Err(errors::wrongtype()),
    }
}

fn bulk(m: &[u8]) -> Reply {
    Reply::Bulk(Bytes::copy_from_slice(m))
}

fn long_arg(b: &[u8]) -> Result<i64, Reply> {
    parse_i64(b).ok_or_else(errors::not_int)
}

/// Replies with members and optional scores: flat in RESP2, pairs in RESP3.
fn reply_members(resp: u8, items: Vec<(Vec<u8>, f64)>, withscores: bool) -> Reply {
    let mut out = Vec::with_capacity(items.len() * if withscores && resp == 2 { 2 } else { 1 });
    for (m, s) in items {
        if withscores {
            if resp > 2 {
                out.push(Reply::Array(vec![
                    Reply::Bulk(Bytes::from(m)),
                    Reply::Double(s),
                ]));
            } else {
                out.push(Reply::Bulk(Bytes::from(m)));
                out.push(Reply::Double(s));
            }
        } else {
            out.push(Reply::Bulk(Bytes::from(m)));
        }
    }
    Reply::Array(out)
}

/// Parses a score, weight or increment as Redis's `getDoubleFromObject`:
/// `strtod` with no space around, NaN rejected, and overflow or complete
/// underflow (ERANGE) rejected too.
pub(crate) fn score_arg(b: &[u8]) -> Option<f64> {
    let v = parse_f64(b)?;
    if v.is_finite() && v != 0.0 {
        return Some(v);
    }
    if v.is_infinite() && !b.windows(3).any(|w| w.eq_ignore_ascii_case(b"inf")) {
        return None;
    }
    if v == 0.0 {
        let mantissa = b.split(|&c| (c | 0x20) == b'e').next().unwrap_or(&[]);
        if mantissa.iter().any(|c| (b'1'..=b'9').contains(c)) {
            return None;
        }
    }
    Some(v)
}

/// `strtod` as `zslParseRange` uses it: leading space allowed, nothing
/// after the number, NaN rejected; an empty string is 0.
fn strtod_whole(b: &[u8]) -> Option<f64> {
    if b.is_empty() {
        return Some(0.0);
    }
    let t = b.trim_ascii_start();
    if t.is_empty() {
        return None;
    }
    parse_f64(t)
}

/// A score range bound: value and exclusiveness.
fn parse_score_bound(b: &[u8]) -> Option<(f64, bool)> {
    match b.strip_prefix(b"(") {
        Some(rest) => strtod_whole(rest).map(|v| (v, true)),
        None => strtod_whole(b).map(|v| (v, false)),
    }
}

#[derive(Clone, Copy)]
struct ScoreRange {
    min: f64,
    max: f64,
    minex: bool,
    maxex: bool,
}

fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, Reply> {
    match (parse_score_bound(min), parse_score_bound(max)) {
        (Some((min, minex)), Some((max, maxex))) => Ok(ScoreRange {
            min,
            max,
            minex,
            maxex,
        }),
        _ => Err(Reply::err_static("ERR min or max is not a float")),
    }
}

impl ScoreRange {
    /// The rank interval `[start, end)` of the entries in range.
    fn ranks(&self, z: &ZSet) -> (usize, usize) {
        let r = *self;
        if r.min > r.max || (r.min == r.max && (r.minex || r.maxex)) {
            return (0, 0);
        }
        let start = z.partition_point(|s, _| if r.minex { s <= r.min } else { s < r.min });
        let end = z.partition_point(|s, _| if r.maxex { s < r.max } else { s <= r.max });
        (start, end.max(start))
    }
}

#[derive(Clone)]
enum Lex {
    Min,
    Max,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

fn parse_lex_item(b: &[u8]) -> Option<Lex> {
    match b.first() {
        Some(b'+') if b.len() == 1 => Some(Lex::Max),
        Some(b'-') if b.len() == 1 => Some(Lex::Min),
        Some(b'(') => Some(Lex::Excl(b[1..].to_vec())),
        Some(b'[') => Some(Lex::Incl(b[1..].to_vec())),
        _ => None,
    }
}

struct LexRange {
    min: Lex,
    max: Lex,
}

fn parse_lex_range(min: &[u8], max: &[u8]) -> Result<LexRange, Reply> {
    match (parse_lex_item(min), parse_lex_item(max)) {
        (Some(min), Some(max)) => Ok(LexRange { min, max }),
        _ => Err(Reply::err_static(
            "ERR min or max not valid string range item",
        )),
    }
}

impl LexRange {
    fn empty(&self) -> bool {
        let (a, aex) = match &self.min {
            Lex::Max => return true,
            Lex::Min => return false,
            Lex::Incl(v) => (v, false),
            Lex::Excl(v) => (v, true),
        };
        let (b, bex) = match &self.max {
            Lex::Min => return true,
            Lex::Max => return false,
            Lex::Incl(v) => (v, false),
            Lex::Excl(v) => (v, true),
        };
        a > b || (a == b && (aex || bex))
    }

    fn ranks(&self, z: &ZSet) -> (usize, usize) {
        if self.empty() {
            return (0, 0);
        }
        let start = z.partition_point(|_, m| match &self.min {
            Lex::Min => false,
            Lex::Max => true,
            Lex::Incl(v) => m < &v[..],
            Lex::Excl(v) => m <= &v[..],
        });
        let end = z.partition_point(|_, m| match &self.max {
            Lex::Min => false,
            Lex::Max => true,
            Lex::Incl(v) => m <= &v[..],
            Lex::Excl(v) => m < &v[..],
        });
        (start, end.max(start))
    }
}

/// Normalizes Redis rank arguments to an ascending interval `[a, b)`;
/// `rev` counts from the highest score.
fn rank_interval(len: usize, start: i64, end: i64, rev: bool) -> (usize, usize) {
    let llen = len as i64;
    let mut start = if start < 0 {
        start.saturating_add(llen)
    } else {
        start
    };
    let mut end = if end < 0 {
        end.saturating_add(llen)
    } else {
        end
    };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return (0, 0);
    }
    if end >= llen {
        end = llen - 1;
    }
    if rev {
        ((llen - 1 - end) as usize, (llen - start) as usize)
    } else {
        (start as usize, (end + 1) as usize)
    }
}

/// Deletes `key` when its set became empty, with the `del` event.
fn delete_if_empty(ctx: &mut Ctx<'_>, key: &[u8], empty: bool) {
    if empty {
        ctx.delete(key);
        ctx.modified(key, notify::GENERIC, "del");
    }
}

/// Stores `z` at `dst` (or deletes `dst` when empty) and replies its size.
fn store_result(ctx: &mut Ctx<'_>, dst: &[u8], z: ZSet, event: &str) -> Reply {
    let n = z.len();
    if n > 0 {
        ctx.set_value(dst, Value::ZSet(Box::new(z)), false);
        ctx.modified(dst, notify::ZSET, event);
        ctx.signal_ready(dst);
    } else if ctx.delete(dst) {
        ctx.modified(dst, notify::GENERIC, "del");
    }
    Reply::Int(n as i64)
}

/// Builds a new set from ordered entries, choosing the encoding as Redis
/// does for destination keys.
pub(crate) fn build_zset(ctx: &Ctx<'_>, items: &[(Vec<u8>, f64)]) -> ZSet {
    let (me, mv) = limits(ctx);
    let mut z = if items.len() > me || items.iter().any(|(m, _)| m.len() > mv) {
        ZSet::new_big()
    } else {
        ZSet::default()
    };
    for (m, s) in items {
        z.insert_new(m, *s, me, mv);
    }
    z
}

// ---------------------------------------------------------------- ZADD

pub(crate) fn zadd(ctx: &mut Ctx<'_>, args: &[Bytes], zincrby: bool) -> R {
    let key = &args[1];
    let (mut nx, mut xx, mut gt, mut lt, mut ch, mut incr) =
        (false, false, false, false, false, zincrby);
    let mut idx = 2;
    while idx < args.len() {
        let a = &args[idx];
        if eq_ic(a, "nx") {
            nx = true;
        } else if eq_ic(a, "xx") {
            xx = true;
        } else if eq_ic(a, "ch") {
            ch = true;
        } else if eq_ic(a, "incr") {
            incr = true;
        } else if eq_ic(a, "gt") {
            gt = true;
        } else if eq_ic(a, "lt") {
            lt = true;
        } else {
            break;
        }
        idx += 1;
    }
    let elements = args.len() - idx;
    if elements % 2 == 1 || elements == 0 {
        return Err(errors::syntax());
    }
    let elements = elements / 2;
    if nx && xx {
        return Err(Reply::err_static(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if (nx && (gt || lt)) || (gt && lt) {
        return Err(Reply::err_static(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if incr && elements > 1 {
        return Err(Reply::err_static(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    let mut scores = Vec::with_capacity(elements);
    for j in 0..elements {
        scores.push(score_arg(&args[idx + j * 2]).ok_or_else(errors::not_float)?);
    }
    let (me, mv) = limits(ctx);
    let exists = get_zset_w(ctx, key)?.is_some();
    if !exists {
        if xx {
            return Ok(if incr { Reply::Null } else { Reply::Int(0) });
        }
        let first = &args[idx + 1];
        let z = if me == 0 || mv < first.len() {
            ZSet::new_big()
        } else {
            ZSet::default()
        };
        let lru = ctx.lru();
        ctx.db().add(key, Value::ZSet(Box::new(z)), lru);
    }
    let Some(z) = get_zset_w(ctx, key)? else {
        return Ok(Reply::Int(0));
    };
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0i64);
    let mut score = 0.0;
    let mut nan = false;
    for (j, &sc) in scores.iter().enumerate() {
        let m = &args[idx + 1 + j * 2];
        match z.score(m) {
            Some(cur) => {
                if nx {
                    continue;
                }
                let mut newscore = sc;
                if incr {
                    newscore += cur;
                    if newscore.is_nan() {
                        nan = true;
                        break;
                    }
                }
                if (lt && newscore >= cur) || (gt && newscore <= cur) {
                    continue;
                }
                processed += 1;
                score = newscore;
                if newscore != cur {
                    z.set(m, newscore, me, mv);
                    updated += 1;
                }
            }
            None => {
                if xx {
                    continue;
                }
                z.insert_new(m, sc, me, mv);
                added += 1;
                processed += 1;
                score = sc;
            }
        }
    }
    if added > 0 || updated > 0 {
        ctx.modified(key, notify::ZSET, if incr { "zincr" } else { "zadd" });
        ctx.signal_ready(key);
    }
    if nan {
        return Err(Reply::err_static(
            "ERR resulting score is not a number (NaN)",
        ));
    }
    Ok(if incr {
        if processed > 0 {
            Reply::Double(score)
        } else {
            Reply::Null
        }
    } else {
        Reply::Int(if ch { added + updated } else { added })
    })
}

fn zrem(ctx: &mut Ctx<'_>, args: &[Bytes]) -> R {
    let key = &args[1];
    let Some(z) = get_zset_w(ctx, key)? else {
        return Ok(Reply::Int(0));
    };
    let mut deleted = 0;
    for m in &args[2..] {
        if z.remove(m).is_some() {
            deleted += 1;
        }
        if z.is_empty() {
            break;
        }
    }
    let empty = z.is_empty();
    if deleted > 0 {
        ctx.modified(key, notify::ZSET, "zrem");
        delete_if_empty(ctx, key, empty);
    }
    Ok(Reply::Int(deleted))
}

fn zcard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> R {
    Ok(Reply::Int(
        get_zset(ctx, &args[1])?.map_or(0, |z| z.len() as i64),
    ))
}

fn zcount(ctx: &mut Ctx<'_>, args: &[Bytes], lex: bool) -> R {
    let (a, b) = if lex {
        let r = parse_lex_range(&args[2], &args[3])?;
        let Some(z) = get_zset(ctx, &args[1])? else {
            return Ok(Reply::Int(0));
        };
        r.ranks(z)
    } else {
        let r = parse_score_range(&args[2], &args[3])?;
        let Some(z) = get_zset(ctx, &args[1])? else {
            return Ok(Reply::Int(0));
        };
        r.ranks(z)
    };
    Ok(Reply::Int((b - a) as i64))
}

fn zscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> R {
    let Some(z) = get_zset(ctx, &args[1])? else {
        return Ok(Reply::Null);
    };
    Ok(z.score(&args[2]).map_or(Reply::Null, Reply::Double))
}

fn zmscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> R {
    let z = get_zset(ctx, &args[1])?;
    let out = args[2..]
        .iter()
        .map(|m| {
            z.as_ref()
                .and_then(|z| z.score(m))
                .map_or(Reply::Null, Reply::Double)
        })
        .collect();
    Ok(Reply::Array(out))
}

fn zrank(ctx: &mut Ctx<'_>, args: &[Bytes], rev: bool) -> R {
    let Some(z) = get_zset(ctx, &args[1])? else {
        return Ok(Reply::Null);
    };
    let len = z.len();
    Ok(match z.rank(&args[2]) {
        Some(r) => Reply::Int(if rev { len - 1 - r } else { r } as i64),
        None => Reply::Null,
    })
}

// ---------------------------------------------------------------- ranges

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Auto,
    Rank,
    Score,
    Lex,
}

#[derive(Clone, Copy, PartialEq)]
enum Dir {
    Auto,
    Fwd,
    Rev,
}

/// Selects the entries (in reply order) for a score or lex rank interval
/// with Redis's LIMIT semantics: a negative offset gives nothing, a
/// negative count means all.
fn select_limited(
    z: &ZSet,
    a: usize,
    b: usize,
    rev: bool,
    offset: i64,
    limit: i64,
) -> Vec<(Vec<u8>, f64)> {
    let mut out = Vec::new();
    if offset < 0 || (offset > 0 && offset as u64 >= z.len() as u64) || a >= b {
        return out;
    }
    let off = offset as usize;
    if off >= b - a {
        return out;
    }
    let avail = b - a - off;
    let n = if limit < 0 {
        avail
    } else {
        avail.min(limit as usize)
    };
    if n == 0 {
        return out;
    }
    if rev {
        z.for_range_rev(b - off - n, b - off, |m, s| {
            out.push((m.to_vec(), s));
            true
        });
    } else {
        z.for_range(a + off, a + off + n, |m, s| {
            out.push((m.to_vec(), s));
            true
        });
    }
    out
}

fn zrange(
    ctx: &mut Ctx<'_>,
    args: &[Bytes],
    argc_start: usize,
    store: bool,
    kind: Kind,
    dir: Dir,
) -> R {
    let (mut kind, mut dir) = (kind, dir);
    let key = &args[argc_start];
    let mut minidx = argc_start + 1;
    let mut maxidx = argc_start + 2;
    let mut withscores = false;
    let mut offset: i64 = 0;
    let mut limit: i64 = -1;
    let mut j = argc_start + 3;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = &args[j];
        if !store && eq_ic(a, "withscores") {
            withscores = true;
        } else if eq_ic(a, "limit") && left >= 2 {
            offset = long_arg(&args[j + 1])?;
            limit = long_arg(&args[j + 2])?;
            j += 2;
        } else if dir == Dir::Auto && eq_ic(a, "rev") {
            dir = Dir::Rev;
        } else if kind == Kind::Auto && eq_ic(a, "bylex") {
            kind = Kind::Lex;
        } else if kind == Kind::Auto && eq_ic(a, "byscore") {
            kind = Kind::Score;
        } else {
            return Err(errors::syntax());
        }
        j += 1;
    }
    if dir == Dir::Auto {
        dir = Dir::Fwd;
    }
    if kind == Kind::Auto {
        kind = Kind::Rank;
    }
    if limit != -1 && kind == Kind::Rank {
        return Err(Reply::err_static(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && kind == Kind::Lex {
        return Err(Reply::err_static(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let rev = dir == Dir::Rev;
    if rev && kind != Kind::Rank {
        std::mem::swap(&mut minidx, &mut maxidx);
    }
    enum Spec {
        Rank(i64, i64),
        Score(ScoreRange),
        Lex(LexRange),
    }
    let spec = match kind {
        Kind::Score => Spec::Score(parse_score_range(&args[minidx], &args[maxidx])?),
        Kind::Lex => Spec::Lex(parse_lex_range(&args[minidx], &args[maxidx])?),
        _ => Spec::Rank(long_arg(&args[minidx])?, long_arg(&args[maxidx])?),
    };
    let resp = ctx.resp();
    let items = {
        let Some(z) = get_zset(ctx, key)? else {
            if store {
                return Ok(store_result(ctx, &args[1], ZSet::default(), "zrangestore"));
            }
            return Ok(Reply::Array(Vec::new()));
        };
        match &spec {
            Spec::Rank(s, e) => {
                let (a, b) = rank_interval(z.len(), *s, *e, rev);
                let mut v = Vec::with_capacity(b - a);
                if rev {
                    z.for_range_rev(a, b, |m, s| {
                        v.push((m.to_vec(), s));
                        true
                    });
                } else {
                    v = z.range_vec(a, b);
                }
                v
            }
            Spec::Score(r) => {
                let (a, b) = r.ranks(z);
                select_limited(z, a, b, rev, offset, limit)
            }
            Spec::Lex(r) => {
                let (a, b) = r.ranks(z);
                select_limited(z, a, b, rev, offset, limit)
            }
        }
    };
    if store {
        let mut sorted = items;
        if rev {
            sorted.reverse();
        }
        let z = build_zset(ctx, &sorted);
        return Ok(store_result(ctx, &args[1], z, "zrangestore"));
    }
    Ok(reply_members(resp, items, withscores))
}

fn zremrange(ctx: &mut Ctx<'_>, args: &[Bytes], kind: Kind) -> R {
    let key = &args[1];
    enum Spec {
        Rank(i64, i64),
        Score(ScoreRange),
        Lex(LexRange),
    }
    let (spec, event) = match kind {
        Kind::Rank => (
            Spec::Rank(long_arg(&args[2])?, long_arg(&args[3])?),
            "zremrangebyrank",
        ),
        Kind::Score => (
            Spec::Score(parse_score_range(&args[2], &args[3])?),
            "zremrangebyscore",
        ),
        _ => (
            Spec::Lex(parse_lex_range(&args[2], &args[3])?),
            "zremrangebylex",
        ),
    };
    let Some(z) = get_zset_w(ctx, key)? else {
        return Ok(Reply::Int(0));
    };
    let (a, b) = match &spec {
        Spec::Rank(s, e) => rank_interval(z.len(), *s, *e, false),
        Spec::Score(r) => r.ranks(z),
        Spec::Lex(r) => r.ranks(z),
    };
    let deleted = z.remove_range(a, b);
    let empty = z.is_empty();
    if deleted > 0 {
        ctx.modified(key, notify::ZSET, event);
        delete_if_empty(ctx, key, empty);
    }
    Ok(Reply::Int(deleted as i64))
}

// ---------------------------------------------------------------- pops

#[derive(Clone, Copy, PartialEq)]
enum PopShape {
    /// ZPOPMIN/ZPOPMAX: flat array (or pairs in RESP3 with COUNT).
    Plain { nested: bool },
    /// BZPOPMIN/BZPOPMAX: [key, member, score].
    Blocking,
    /// ZMPOP/BZMPOP: [key, [[member, score], ...]].
    Multi,
}

/// Pops from the first non-empty key of `keys` (count -1: single pop).
fn zpop(ctx: &mut Ctx<'_>, keys: &[Bytes], max: bool, count: i64, shape: PopShape) -> R {
    let mut found = None;
    for k in keys {
        if let Some(z) = get_zset_w(ctx, k)? {
            found = Some((k, z.len()));
            break;
        }
    }
    let Some((key, len)) = found else {
        return Ok(if shape == PopShape::Multi {
            Reply::NullArray
        } else {
            Reply::Array(Vec::new())
        });
    };
    if count == 0 {
        return Ok(Reply::Array(Vec::new()));
    }
    let count = if count < 0 { 1 } else { count as usize };
    let n = count.min(len);
    let Some(z) = get_zset_w(ctx, key)? else {
        return Ok(Reply::Array(Vec::new()));
    };
    let items: Vec<(Vec<u8>, f64)> = if max {
        let mut v = Vec::with_capacity(n);
        z.for_range_rev(len - n, len, |m, s| {
            v.push((m.to_vec(), s));
            true
        });
        z.remove_range(len - n, len);
        v
    } else {
        let v = z.range_vec(0, n);
        z.remove_range(0, n);
        v
    };
    let empty = z.is_empty();
    ctx.modified(key, notify::ZSET, if max { "zpopmax" } else { "zpopmin" });
    delete_if_empty(ctx, key, empty);
    // BZPOP* propagate as ZPOP* key, [B]ZMPOP as ZPOP* key <count popped>.
    if !matches!(shape, PopShape::Plain { .. }) && ctx.propagating() {
        let pop = crate::repl::word(if max { "ZPOPMAX" } else { "ZPOPMIN" });
        let argv = if shape == PopShape::Blocking {
            vec![pop, key.clone()]
        } else {
            vec![pop, key.clone(), crate::repl::int(n as i64)]
        };
        ctx.rewrite_propagation(argv);
    }
    Ok(match shape {
        PopShape::Plain { nested } => {
            if nested {
                Reply::Array(
                    items
                        .into_iter()
                        .map(|(m, s)| Reply::Array(vec![bulk(&m), Reply::Double(s)]))
                        .collect(),
                )
            } else {
                let mut out = Vec::with_capacity(items.len() * 2);
                for (m, s) in items {
                    out.push(bulk(&m));
                    out.push(Reply::Double(s));
                }
                Reply::Array(out)
            }
        }
        PopShape::Blocking => {
            let mut out = vec![Reply::Bulk(key.clone())];
            for (m, s) in items {
                out.push(bulk(&m));
                out.push(Reply::Double(s));
            }
            Reply::Array(out)
        }
        PopShape::Multi => Reply::Array(vec![
            Reply::Bulk(key.clone()),
            Reply::Array(
                items
                    .into_iter()
                    .map(|(m, s)| Reply::Array(vec![bulk(&m), Reply::Double(s)]))
                    .collect(),
            ),
        ]),
    })
}

fn zpop_cmd(ctx: &mut Ctx<'_>, args: &[Bytes], max: bool) -> R {
    if args.len() > 3 {
        return Err(errors::syntax());
    }
    let mut count = -1;
    if args.len() == 3 {
        count = match parse_i64(&args[2]) {
            Some(c) if c >= 0 => c,
            _ => {
                return Err(Reply::err_static(
                    "ERR value is out of range, must be positive",
                ))
            }
        };
    }
    let nested = ctx.resp() > 2 && count != -1;
    zpop(ctx, &args[1..2], max, count, PopShape::Plain { nested })
}

/// The blocking part shared by BZPOPMIN/BZPOPMAX/BZMPOP.
fn blocking_pop(
    ctx: &mut Ctx<'_>,
    args: &[Bytes],
    keys: &[Bytes],
    timeout_arg: &[u8],
    max: bool,
    count: i64,
    shape: PopShape,
) -> R {
    let timeout = crate::blocking::parse_timeout_secs(timeout_arg)?;
    for k in keys {
        match get_zset_w(ctx, k)? {
            Some(z) if !z.is_empty() => {
                return zpop(ctx, std::slice::from_ref(k), max, count, shape)
            }
            _ => {}
        }
    }
    if !ctx.can_block() {
        return Ok(Reply::NullArray);
    }
    Ok(ctx.block(keys, timeout, args, Reply::NullArray))
}

fn bzpop(ctx: &mut Ctx<'_>, args: &[Bytes], max: bool) -> R {
    let n = args.len();
    blocking_pop(
        ctx,
        args,
        &args[1..n - 1],
        &args[n - 1],
        max,
        -1,
        PopShape::Blocking,
    )
}

fn zmpop(ctx: &mut Ctx<'_>, args: &[Bytes], block: bool) -> R {
    let numkeys_idx = if block { 2 } else { 1 };
    let numkeys = match parse_i64(&args[numkeys_idx]) {
        Some(n) if n >= 1 => n as usize,
        _ => return Err(Reply::err_static("ERR numkeys should be greater than 0")),
    };
    let where_idx = numkeys_idx.saturating_add(numkeys).saturating_add(1);
    if where_idx >= args.len() {
        return Err(errors::syntax());
    }
    let max = if eq_ic(&args[where_idx], "min") {
        false
    } else if eq_ic(&args[where_idx], "max") {
        true
    } else {
        return Err(errors::syntax());
    };
    let mut count: i64 = -1;
    let mut j = where_idx + 1;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if count == -1 && eq_ic(&args[j], "count") && more > 0 {
            j += 1;
            count = match parse_i64(&args[j]) {
                Some(c) if c >= 1 => c,
                _ => return Err(Reply::err_static("ERR count should be greater than 0")),
            };
        } else {
            return Err(errors::syntax());
        }
        j += 1;
    }
    if count == -1 {
        count = 1;
    }
    let keys = &args[numkeys_idx + 1..where_idx];
    if block {
        blocking_pop(ctx, args, keys, &args[1], max, count, PopShape::Multi)
    } else {
        zpop(ctx, keys, max, count, PopShape::Multi)
    }
}

// ---------------------------------------------------------------- random

/// Most elements one ZRANDMEMBER with a negative count returns (Redis
/// streams any number; this bounds the reply built in memory).
const RANDOM_REPLY_MAX: u64 = 1 << 24;

fn zrandmember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> R {
    let key = &args[1];
    if args.len() == 2 {
        let Some(z) = get_zset(ctx, key)? else {
            return Ok(Reply::Null);
        };
        let len = z.len();
        let i = ctx.eng.rng.random_range(0..len.max(1));
        let Some(z) = get_zset(ctx, key)? else {
            return Ok(Reply::Null);
        };
        return Ok(z
            .at(i)
            .map_or(Reply::Null, |(m, _)| Reply::Bulk(Bytes::from(m))));
    }
    let l = match parse_i64(&args[2]) {
        None => return Err(errors::not_int()),
        Some(i64::MIN) => {
            return Err(Reply::err_static(
                "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            ))
        }
        Some(l) => l,
    };
    let mut withscores = false;
    if args.len() > 4 || (args.len() == 4 && !eq_ic(&args[3], "withscores")) {
        return Err(errors::syntax());
    } else if args.len() == 4 {
        withscores = true;
        if !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
            return Err(Reply::err_static("ERR value is out of range"));
        }
    }
    let resp = ctx.resp();
    let Some(z) = get_zset(ctx, key)? else {
        return Ok(Reply::Array(Vec::new()));
    };
    let size = z.len();
    if l == 0 {
        return Ok(Reply::Array(Vec::new()));
    }
    let uniq = l > 0;
    let count = l.unsigned_abs();
    let idxs: Vec<usize> = if !uniq || count == 1 {
        let n = count.min(RANDOM_REPLY_MAX) as usize;
        (0..n).map(|_| ctx.eng.rng.random_range(0..size)).collect()
    } else if count as usize >= size {
        (0..size).collect()
    } else {
        let count = count as usize;
        if count * 3 > size {
            let mut all: Vec<usize> = (0..size).collect();
            for i in 0..count {
                let j = ctx.eng.rng.random_range(i..size);
                all.swap(i, j);
            }
            all.truncate(count);
            all
        } else {
            let mut seen = HashSet::with_capacity(count);
            let mut v = Vec::with_capacity(count);
            while v.len() < count {
                let i = ctx.eng.rng.random_range(0..size);
                if seen.insert(i) {
                    v.push(i);
                }
            }
            v
        }
    };
    let Some(z) = get_zset(ctx, key)? else {
        return Ok(Reply::Array(Vec::new()));
    };
    let all_in_order = idxs.len() == size && idxs.iter().enumerate().all(|(i, &x)| i == x);
    let items: Vec<(Vec<u8>, f64)> = if all_in_order {
        // Redis walks the whole set from the highest score down.
        let mut v = z.range_vec(0, size);
        v.reverse();
        v
    } else if let ZSet::Pack(_) = z {
        let all = z.range_vec(0, size);
        idxs.iter().filter_map(|&i| all.get(i).cloned()).collect()
    } else {
        idxs.iter().filter_map(|&i| z.at(i)).collect()
    };
    Ok(reply_members(resp, items, withscores))
}

// ---------------------------------------------------------------- set operations

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq)]
enum Agg {
    Sum,
    Min,
    Max,
}

fn aggregate(target: &mut f64, val: f64, agg: Agg) {
    match agg {
        Agg::Sum => {
            *target += val;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Agg::Min => {
            if val < *target {
                *target = val;
            }
        }
        Agg::Max => {
            if val > *target {
                *target = val;
            }
        }
    }
}

/// One input of a set operation: its entries (sets have score 1).
struct Src {
    key: Bytes,
    items: Vec<(Vec<u8>, f64)>,
    index: Option<HashMap<Vec<u8>, f64>>,
    weight: f64,
}

impl Src {
    fn find(&mut self, m: &[u8]) -> Option<f64> {
        if self.index.is_none() {
            self.index = Some(self.items.iter().cloned().collect());
        }
        self.index.as_ref().and_then(|ix| ix.get(m).copied())
    }
}

/// The members of a plain set input (score 1 each).
fn set_members(s: &crate::types::set::Set) -> Vec<Vec<u8>> {
    let mut v = Vec::with_capacity(s.len());
    s.for_each(|m| v.push(m.to_vec()));
    v
}

fn zsetop(ctx: &mut Ctx<'_>, args: &[Bytes], store: bool, op: Op, card_only: bool) -> R {
    let numkeys_idx = if store { 2 } else { 1 };
    let setnum = long_arg(&args[numkeys_idx])?;
    let name = String::from_utf8_lossy(&args[0]).to_lowercase();
    if setnum < 1 {
        return Err(Reply::err(format!(
            "ERR at least 1 input key is needed for '{name}' command"
        )));
    }
    if setnum as u64 > (args.len() - (numkeys_idx + 1)) as u64 {
        return Err(errors::syntax());
    }
    let setnum = setnum as usize;
    let mut srcs: Vec<Src> = Vec::with_capacity(setnum);
    let mut j = numkeys_idx + 1;
    for _ in 0..setnum {
        let k = &args[j];
        let items = match ctx.lookup(k) {
            None => Vec::new(),
            Some(Entry {
                val: Value::ZSet(z),
                ..
            }) => z.iter().map(|(m, s)| (m.to_vec(), s)).collect(),
            Some(Entry {
                val: Value::Set(s), ..
            }) => set_members(s).into_iter().map(|m| (m, 1.0)).collect(),
            Some(_) => return Err(errors::wrongtype()),
        };
        srcs.push(Src {
            key: k.clone(),
            items,
            index: None,
            weight: 1.0,
        });
        j += 1;
    }
    let mut agg = Agg::Sum;
    let mut withscores = false;
    let mut limit: i64 = 0;
    while j < args.len() {
        let remaining = args.len() - j;
        let a = &args[j];
        if op != Op::Diff && !card_only && remaining > setnum && eq_ic(a, "weights") {
            j += 1;
            for s in srcs.iter_mut() {
                s.weight = score_arg(&args[j])
                    .ok_or_else(|| Reply::err_static("ERR weight value is not a float"))?;
                j += 1;
            }
        } else if op != Op::Diff && !card_only && remaining >= 2 && eq_ic(a, "aggregate") {
            let v = &args[j + 1];
            agg = if eq_ic(v, "sum") {
                Agg::Sum
            } else if eq_ic(v, "min") {
                Agg::Min
            } else if eq_ic(v, "max") {
                Agg::Max
            } else {
                return Err(errors::syntax());
            };
            j += 2;
        } else if !store && !card_only && eq_ic(a, "withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && eq_ic(a, "limit") {
            limit = match parse_i64(&args[j + 1]) {
                Some(l) if l >= 0 => l,
                _ => return Err(Reply::err_static("ERR LIMIT can't be negative")),
            };
            j += 2;
        } else {
            return Err(errors::syntax());
        }
    }
    if op != Op::Diff {
        srcs.sort_by_key(|s| s.items.len());
    }
    let mut result: Vec<(Vec<u8>, f64)> = Vec::new();
    let mut card: i64 = 0;
    match op {
        Op::Inter => {
            if !srcs.is_empty() && !srcs[0].items.is_empty() {
                let first = std::mem::take(&mut srcs[0].items);
                let w0 = srcs[0].weight;
                let k0 = srcs[0].key.clone();
                'outer: for (m, s0) in &first {
                    let mut score = w0 * s0;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    for src in srcs.iter_mut().skip(1) {
                        let value = if src.key == k0 {
                            s0 * src.weight
                        } else if let Some(v) = src.find(m) {
                            v * src.weight
                        } else {
                            continue 'outer;
                        };
                        aggregate(&mut score, value, agg);
                    }
                    if card_only {
                        card += 1;
                        if limit > 0 && card >= limit {
                            break;
                        }
                    } else {
                        result.push((m.clone(), score));
                    }
                }
            }
        }
        Op::Union => {
            let mut acc: HashMap<Vec<u8>, f64> = HashMap::new();
            for src in &srcs {
                for (m, s) in &src.items {
                    let mut score = src.weight * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get_mut(m) {
                        Some(t) => aggregate(t, score, agg),
                        None => {
                            acc.insert(m.clone(), score);
                        }
                    }
                }
            }
            result = acc.into_iter().collect();
        }
        Op::Diff => {
            let first = std::mem::take(&mut srcs[0].items);
            'next: for (m, s) in first {
                for src in srcs.iter_mut().skip(1) {
                    if src.find(&m).is_some() {
                        continue 'next;
                    }
                }
                result.push((m, s));
            }
        }
    }
    if card_only {
        return Ok(Reply::Int(card));
    }
    result.sort_by(|a, b| cmp_entry(a.1, &a.0, b.1, &b.0));
    if store {
        let z = build_zset(ctx, &result);
        let event = match op {
            Op::Union => "zunionstore",
            Op::Inter => "zinterstore",
            Op::Diff => "zdiffstore",
        };
        return Ok(store_result(ctx, &args[1], z, event));
    }
    Ok(reply_members(ctx.resp(), result, withscores))
}

// ---------------------------------------------------------------- scan

fn zscan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> R {
    let Some(mut cursor) = crate::cmd::keys::parse_cursor(&args[2]) else {
        return Err(Reply::err_static("ERR invalid cursor"));
    };
    let empty = || {
        Reply::Array(vec![
            Reply::Bulk(Bytes::from_static(b"0")),
            Reply::Array(Vec::new()),
        ])
    };
    if get_zset(ctx, &args[1])?.is_none() {
        return Ok(empty());
    }
    let mut count: i64 = 10;
    let mut pat: Option<Bytes> = None;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - i >= 2;
        if eq_ic(&args[i], "count") && more {
            count = long_arg(&args[i + 1])?;
            if count < 1 {
                return Err(errors::syntax());
            }
        } else if eq_ic(&args[i], "match") && more {
            pat = if &args[i + 1][..] == b"*" {
                None
            } else {
                Some(args[i + 1].clone())
            };
        } else {
            return Err(errors::syntax());
        }
        i += 2;
    }
    let Some(z) = get_zset(ctx, &args[1])? else {
        return Ok(empty());
    };
    let mut found: Vec<(Vec<u8>, f64)> = Vec::new();
    let mut iterations = count.saturating_mul(10);
    loop {
        cursor = z.scan(cursor, |m, s| found.push((m.to_vec(), s)));
        iterations -= 1;
        if cursor == 0 || iterations <= 0 || found.len() as i64 >= count {
            break;
        }
    }
    let mut out = Vec::with_capacity(found.len() * 2);
    for (m, s) in found {
        if let Some(p) = &pat {
            if !glob_match(p, &m, false) {
                continue;
            }
        }
        out.push(Reply::Bulk(Bytes::from(m)));
        out.push(Reply::Bulk(Bytes::from(fmt_g17(s))));
    }
    Ok(Reply::Array(vec![
        Reply::Bulk(Bytes::from(cursor.to_string())),
        Reply::Array(out),
    ]))
}

#[cfg(test)]
mod tests {
    use crate::testkit::TestEngine;

    fn r(t: &mut TestEngine, args: &[&str]) -> String {
        t.raw(args)
    }

    #[test]
    fn zadd_options_and_errors() {
        let mut t = TestEngine::new();
        assert_eq!(r(&mut t, &["ZADD", "z", "1", "a", "2", "b"]), ":2\r\n");
        assert_eq!(
            r(&mut t, &["ZADD", "z", "NX", "XX", "1", "a"]),
            "-ERR XX and NX options at the same time are not compatible\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZADD", "z", "GT", "LT", "1", "a"]),
            "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZADD", "z", "NX", "GT", "1", "a"]),
            "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZADD", "z", "INCR", "1", "a", "2", "b"]),
            "-ERR INCR option supports a single increment-element pair\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZADD", "z", "1", "a", "2"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZADD", "z", "x", "a"]),
            "-ERR value is not a valid float\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZADD", "z", "nan", "a"]),
            "-ERR value is not a valid float\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZADD", "z", "CH", "5", "a", "2", "b", "3", "c"]),
            ":2\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZADD", "z", "GT", "CH", "1", "a", "9", "b"]),
            ":1\r\n"
        );
        assert_eq!(r(&mut t, &["ZSCORE", "z", "a"]), "$1\r\n5\r\n");
        assert_eq!(r(&mut t, &["ZADD", "z", "LT", "INCR", "1", "a"]), "$-1\r\n");
        assert_eq!(r(&mut t, &["ZADD", "z", "NX", "INCR", "1", "a"]), "$-1\r\n");
        assert_eq!(
            r(&mut t, &["ZADD", "z", "XX", "INCR", "1", "zz"]),
            "$-1\r\n"
        );
        assert_eq!(r(&mut t, &["ZADD", "nokey", "XX", "1", "zz"]), ":0\r\n");
        assert_eq!(r(&mut t, &["EXISTS", "nokey"]), ":0\r\n");
        assert_eq!(
            r(&mut t, &["ZADD", "z", "INCR", "1.5", "a"]),
            "$3\r\n6.5\r\n"
        );
        assert_eq!(r(&mut t, &["ZINCRBY", "z", "1", "a"]), "$3\r\n7.5\r\n");
        assert_eq!(r(&mut t, &["ZADD", "z", "+inf", "a"]), ":0\r\n");
        assert_eq!(
            r(&mut t, &["ZINCRBY", "z", "-inf", "a"]),
            "-ERR resulting score is not a number (NaN)\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZINCRBY", "z", "x", "a"]),
            "-ERR value is not a valid float\r\n"
        );
        assert_eq!(r(&mut t, &["SET", "s", "x"]), "+OK\r\n");
        assert_eq!(
            r(&mut t, &["ZADD", "s", "1", "a"]),
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
        );
        assert_eq!(r(&mut t, &["ZCARD", "z"]), ":3\r\n");
        assert_eq!(r(&mut t, &["ZCARD", "none"]), ":0\r\n");
        assert_eq!(
            r(&mut t, &["OBJECT", "ENCODING", "z"]),
            "$8\r\nlistpack\r\n"
        );
    }

    #[test]
    fn encodings_convert() {
        let mut t = TestEngine::new();
        for i in 0..128 {
            t.raw(&["ZADD", "z", &i.to_string(), &format!("m{i}")]);
        }
        assert_eq!(
            r(&mut t, &["OBJECT", "ENCODING", "z"]),
            "$8\r\nlistpack\r\n"
        );
        t.raw(&["ZADD", "z", "1000", "x"]);
        assert_eq!(
            r(&mut t, &["OBJECT", "ENCODING", "z"]),
            "$8\r\nskiplist\r\n"
        );
        assert_eq!(r(&mut t, &["ZRANK", "z", "x"]), ":128\r\n");
        assert_eq!(r(&mut t, &["ZREVRANK", "z", "x"]), ":0\r\n");
        let long = "x".repeat(65);
        t.raw(&["ZADD", "y", "1", &long]);
        assert_eq!(
            r(&mut t, &["OBJECT", "ENCODING", "y"]),
            "$8\r\nskiplist\r\n"
        );
        assert_eq!(r(&mut t, &["ZUNIONSTORE", "d", "1", "z"]), ":129\r\n");
        assert_eq!(
            r(&mut t, &["OBJECT", "ENCODING", "d"]),
            "$8\r\nskiplist\r\n"
        );
        assert_eq!(r(&mut t, &["ZRANGESTORE", "d2", "z", "0", "2"]), ":3\r\n");
        assert_eq!(
            r(&mut t, &["OBJECT", "ENCODING", "d2"]),
            "$8\r\nlistpack\r\n"
        );
    }

    #[test]
    fn ranges() {
        let mut t = TestEngine::new();
        t.raw(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
        assert_eq!(
            r(&mut t, &["ZRANGE", "z", "0", "-1"]),
            "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZRANGE", "z", "1", "2", "REV"]),
            "*2\r\n$1\r\nc\r\n$1\r\nb\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZREVRANGE", "z", "0", "0", "WITHSCORES"]),
            "*2\r\n$1\r\nd\r\n$1\r\n4\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZRANGEBYSCORE", "z", "(1", "3"]),
            "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"
        );
        assert_eq!(
            r(
                &mut t,
                &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "1", "2"]
            ),
            "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"
        );
        assert_eq!(
            r(
                &mut t,
                &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "-1", "2"]
            ),
            "*0\r\n"
        );
        assert_eq!(
            r(
                &mut t,
                &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "2", "-1"]
            ),
            "*2\r\n$1\r\nc\r\n$1\r\nd\r\n"
        );
        assert_eq!(
            r(
                &mut t,
                &["ZREVRANGEBYSCORE", "z", "3", "(1", "LIMIT", "1", "5"]
            ),
            "*1\r\n$1\r\nb\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZRANGE", "z", "(1", "3", "BYSCORE", "REV"]),
            "*0\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZRANGE", "z", "3", "(1", "BYSCORE", "REV"]),
            "*2\r\n$1\r\nc\r\n$1\r\nb\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZRANGEBYSCORE", "z", "x", "3"]),
            "-ERR min or max is not a float\r\n"
        );
        assert_eq!(r(&mut t, &["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"]), "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n");
        assert_eq!(
            r(&mut t, &["ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"]),
            "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZRANGEBYSCORE", "z", "0", "1", "BYSCORE"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZRANGE", "z", "a", "1"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(r(&mut t, &["ZRANGE", "none", "0", "1"]), "*0\r\n");
        assert_eq!(r(&mut t, &["ZCOUNT", "z", "(1", "+inf"]), ":3\r\n");
        assert_eq!(r(&mut t, &["ZCOUNT", "z", "2", "1"]), ":0\r\n");
        t.raw(&["ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d"]);
        assert_eq!(
            r(&mut t, &["ZRANGEBYLEX", "l", "[b", "(d"]),
            "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"
        );
        assert_eq!(
            r(
                &mut t,
                &["ZREVRANGEBYLEX", "l", "+", "(b", "LIMIT", "0", "1"]
            ),
            "*1\r\n$1\r\nd\r\n"
        );
        assert_eq!(r(&mut t, &["ZLEXCOUNT", "l", "-", "+"]), ":4\r\n");
        assert_eq!(
            r(&mut t, &["ZLEXCOUNT", "l", "a", "+"]),
            "-ERR min or max not valid string range item\r\n"
        );
        assert_eq!(r(&mut t, &["ZREMRANGEBYLEX", "l", "[a", "[b"]), ":2\r\n");
        assert_eq!(r(&mut t, &["ZREMRANGEBYRANK", "l", "0", "-1"]), ":2\r\n");
        assert_eq!(r(&mut t, &["EXISTS", "l"]), ":0\r\n");
        assert_eq!(r(&mut t, &["ZREMRANGEBYSCORE", "z", "(1", "2"]), ":1\r\n");
        assert_eq!(r(&mut t, &["ZRANGESTORE", "dst", "z", "0", "-1"]), ":3\r\n");
        assert_eq!(
            r(&mut t, &["ZRANGESTORE", "dst", "none", "0", "-1"]),
            ":0\r\n"
        );
        assert_eq!(r(&mut t, &["EXISTS", "dst"]), ":0\r\n");
        t.client.resp = 3;
        assert_eq!(
            r(&mut t, &["ZRANGE", "z", "0", "0", "WITHSCORES"]),
            "*1\r\n*2\r\n$1\r\na\r\n,1\r\n"
        );
        assert_eq!(r(&mut t, &["ZSCORE", "z", "a"]), ",1\r\n");
    }

    #[test]
    fn scores_ranks_members() {
        let mut t = TestEngine::new();
        t.raw(&["ZADD", "z", "1.5", "a", "2", "b"]);
        assert_eq!(
            r(&mut t, &["ZMSCORE", "z", "a", "x"]),
            "*2\r\n$3\r\n1.5\r\n$-1\r\n"
        );
        assert_eq!(r(&mut t, &["ZMSCORE", "none", "a"]), "*1\r\n$-1\r\n");
        assert_eq!(r(&mut t, &["ZRANK", "z", "b"]), ":1\r\n");
        assert_eq!(r(&mut t, &["ZRANK", "z", "x"]), "$-1\r\n");
        assert_eq!(r(&mut t, &["ZREM", "z", "a", "x"]), ":1\r\n");
        assert_eq!(r(&mut t, &["ZREM", "z", "b"]), ":1\r\n");
        assert_eq!(r(&mut t, &["EXISTS", "z"]), ":0\r\n");
        t.raw(&["ZADD", "z", "0.1", "a"]);
        assert_eq!(
            r(&mut t, &["ZSCORE", "z", "a"]),
            "$19\r\n0.10000000000000001\r\n"
        );
    }

    #[test]
    fn pops() {
        let mut t = TestEngine::new();
        t.raw(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
        assert_eq!(r(&mut t, &["ZPOPMIN", "z"]), "*2\r\n$1\r\na\r\n$1\r\n1\r\n");
        assert_eq!(
            r(&mut t, &["ZPOPMAX", "z", "5"]),
            "*4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n"
        );
        assert_eq!(r(&mut t, &["EXISTS", "z"]), ":0\r\n");
        assert_eq!(r(&mut t, &["ZPOPMIN", "z"]), "*0\r\n");
        assert_eq!(
            r(&mut t, &["ZPOPMIN", "z", "-1"]),
            "-ERR value is out of range, must be positive\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZPOPMIN", "z", "1", "2"]),
            "-ERR syntax error\r\n"
        );
        t.raw(&["ZADD", "z", "1", "a", "2", "b"]);
        assert_eq!(
            r(&mut t, &["ZMPOP", "2", "none", "z", "MAX", "COUNT", "1"]),
            "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
        );
        assert_eq!(r(&mut t, &["ZMPOP", "1", "none", "MIN"]), "*-1\r\n");
        assert_eq!(
            r(&mut t, &["ZMPOP", "0", "z", "MIN"]),
            "-ERR numkeys should be greater than 0\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZMPOP", "1", "z", "MIN", "COUNT", "0"]),
            "-ERR count should be greater than 0\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZMPOP", "1", "z", "FOO"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            r(&mut t, &["BZPOPMIN", "none", "z", "0"]),
            "*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n"
        );
        assert_eq!(
            r(&mut t, &["BZPOPMIN", "z", "-1"]),
            "-ERR timeout is negative\r\n"
        );
        t.raw(&["ZADD", "z", "1", "a", "2", "b"]);
        t.client.resp = 3;
        assert_eq!(
            r(&mut t, &["ZPOPMIN", "z", "1"]),
            "*1\r\n*2\r\n$1\r\na\r\n,1\r\n"
        );
        assert_eq!(r(&mut t, &["ZPOPMIN", "z"]), "*2\r\n$1\r\nb\r\n,2\r\n");
    }

    #[test]
    fn set_operations() {
        let mut t = TestEngine::new();
        t.raw(&["ZADD", "a", "1", "x", "2", "y"]);
        t.raw(&["ZADD", "b", "3", "y", "4", "z"]);
        assert_eq!(
            r(&mut t, &["ZUNION", "2", "a", "b", "WITHSCORES"]),
            "*6\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\nz\r\n$1\r\n4\r\n$1\r\ny\r\n$1\r\n5\r\n"
        );
        assert_eq!(
            r(
                &mut t,
                &["ZINTER", "2", "a", "b", "AGGREGATE", "MAX", "WITHSCORES"]
            ),
            "*2\r\n$1\r\ny\r\n$1\r\n3\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZINTER", "2", "a", "b", "WEIGHTS", "2", "3"]),
            "*1\r\n$1\r\ny\r\n"
        );
        assert_eq!(r(&mut t, &["ZDIFF", "2", "a", "b"]), "*1\r\n$1\r\nx\r\n");
        assert_eq!(r(&mut t, &["ZINTERCARD", "2", "a", "b"]), ":1\r\n");
        assert_eq!(
            r(&mut t, &["ZINTERCARD", "2", "a", "b", "LIMIT", "-1"]),
            "-ERR LIMIT can't be negative\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZUNIONSTORE", "d", "0", "a"]),
            "-ERR at least 1 input key is needed for 'zunionstore' command\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZUNIONSTORE", "d", "3", "a"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            r(
                &mut t,
                &["ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "x", "1"]
            ),
            "-ERR weight value is not a float\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZDIFF", "2", "a", "b", "WEIGHTS", "1", "1"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZUNIONSTORE", "d", "2", "a", "b", "WITHSCORES"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(r(&mut t, &["ZINTERSTORE", "d", "2", "a", "b"]), ":1\r\n");
        assert_eq!(r(&mut t, &["ZINTERSTORE", "d", "2", "a", "none"]), ":0\r\n");
        assert_eq!(r(&mut t, &["EXISTS", "d"]), ":0\r\n");
        t.raw(&["ZADD", "i1", "inf", "m"]);
        t.raw(&["ZADD", "i2", "-inf", "m"]);
        assert_eq!(
            r(&mut t, &["ZUNION", "2", "i1", "i2", "WITHSCORES"]),
            "*2\r\n$1\r\nm\r\n$1\r\n0\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZUNION", "1", "i1", "WEIGHTS", "0", "WITHSCORES"]),
            "*2\r\n$1\r\nm\r\n$1\r\n0\r\n"
        );
    }

    #[test]
    fn random_and_scan() {
        let mut t = TestEngine::new();
        t.raw(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
        assert_eq!(r(&mut t, &["ZRANDMEMBER", "none"]), "$-1\r\n");
        assert_eq!(r(&mut t, &["ZRANDMEMBER", "none", "3"]), "*0\r\n");
        assert_eq!(r(&mut t, &["ZRANDMEMBER", "z", "0"]), "*0\r\n");
        assert!(r(&mut t, &["ZRANDMEMBER", "z", "-5"]).starts_with("*5\r\n"));
        assert!(r(&mut t, &["ZRANDMEMBER", "z", "2", "WITHSCORES"]).starts_with("*4\r\n"));
        assert_eq!(
            r(&mut t, &["ZRANDMEMBER", "z", "9", "WITHSCORES"]).len(),
            "*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n".len()
        );
        assert_eq!(
            r(&mut t, &["ZRANDMEMBER", "z", "1", "x"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            r(
                &mut t,
                &["ZRANDMEMBER", "z", "-9223372036854770000", "WITHSCORES"]
            ),
            "-ERR value is out of range\r\n"
        );
        assert_eq!(r(&mut t, &["ZSCAN", "z", "0"]), "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n");
        assert_eq!(
            r(&mut t, &["ZSCAN", "z", "0", "MATCH", "b"]),
            "*2\r\n$1\r\n0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
        );
        assert_eq!(r(&mut t, &["ZSCAN", "z", "x"]), "-ERR invalid cursor\r\n");
        assert_eq!(
            r(&mut t, &["ZSCAN", "z", "0", "COUNT", "0"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZSCAN", "none", "0"]),
            "*2\r\n$1\r\n0\r\n*0\r\n"
        );
    }

    #[test]
    fn float_parsing_like_redis() {
        let mut t = TestEngine::new();
        assert_eq!(
            r(&mut t, &["ZADD", "z", "1e400", "a"]),
            "-ERR value is not a valid float\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZADD", "z", "1e-400", "a"]),
            "-ERR value is not a valid float\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZADD", "z", " 1", "a"]),
            "-ERR value is not a valid float\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZADD", "z", "-0", "a", "1", "b", "2", "c"]),
            ":3\r\n"
        );
        assert_eq!(r(&mut t, &["ZSCORE", "z", "a"]), "$1\r\n0\r\n");
        assert_eq!(
            r(&mut t, &["ZRANGEBYSCORE", "z", " 1", "1e400"]),
            "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZRANGEBYSCORE", "z", "(", "2"]),
            "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZRANGEBYSCORE", "z", "( ", "2"]),
            "-ERR min or max is not a float\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZCOUNT", "z", "nan", "1"]),
            "-ERR min or max is not a float\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZUNION", "1", "z", "WEIGHTS", "1e400"]),
            "-ERR weight value is not a float\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZPOPMIN", "z", "abc"]),
            "-ERR value is out of range, must be positive\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZRANDMEMBER", "z", "5", "WITHSCORES"]),
            "*6\r\n$1\r\nc\r\n$1\r\n2\r\n$1\r\nb\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n0\r\n"
        );
    }

    #[test]
    fn plain_sets_as_inputs() {
        let mut t = TestEngine::new();
        t.raw(&["SADD", "s", "a", "b", "c"]);
        t.raw(&["ZADD", "z", "2", "b", "3", "c", "4", "d"]);
        assert_eq!(
            r(
                &mut t,
                &["ZINTER", "2", "s", "z", "WEIGHTS", "2", "3", "WITHSCORES"]
            ),
            "*4\r\n$1\r\nb\r\n$1\r\n8\r\n$1\r\nc\r\n$2\r\n11\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZDIFF", "2", "s", "z", "WITHSCORES"]),
            "*2\r\n$1\r\na\r\n$1\r\n1\r\n"
        );
        assert_eq!(r(&mut t, &["ZUNIONSTORE", "d", "2", "s", "z"]), ":4\r\n");
        assert_eq!(
            r(&mut t, &["ZRANGE", "d", "0", "-1"]),
            "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"
        );
        assert_eq!(
            r(&mut t, &["ZINTERCARD", "2", "s", "z", "LIMIT", "1"]),
            ":1\r\n"
        );
    }

    #[test]
    fn blocking_pop_outside_a_client_answers_at_once() {
        let mut t = TestEngine::new();
        let args: Vec<bytes::Bytes> = ["BZMPOP", "0", "1", "none", "MIN"]
            .iter()
            .map(|a| bytes::Bytes::from_static(a.as_bytes()))
            .collect();
        let reply = t
            .eng
            .execute(&mut t.client, &args, crate::client::Caller::Script);
        assert_eq!(reply, lunakv_protocol::Reply::NullArray);
    }
}
