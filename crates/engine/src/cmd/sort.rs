//! The `sort` command family: SORT and SORT_RO over lists, sets and sorted
//! sets, with BY / GET patterns, LIMIT, ALPHA, ASC / DESC and STORE, as
//! Redis 7.0's `sortCommandGeneric`.

use std::cmp::Ordering;

use bytes::Bytes;
use lunakv_protocol::{parse_i64, Reply};

use crate::cmd::zset::score_arg;
use crate::command::Cmd;
use crate::ctx::{eq_ic, notify, Ctx};
use crate::errors;
use crate::types::list::List;
use crate::value::{Entry, Value};

/// Declares the family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    const CX: &str = "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).";
    v.push(
        Cmd::new(
            "sort",
            -2,
            "write denyoom",
            (1, 1, 1),
            "generic",
            "Sort the elements in a list, set or sorted set",
            |c, a| sort(c, a, false),
        )
        .syntax("key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC] [ALPHA] [STORE destination]")
        .since("1.0.0")
        .complexity(CX)
        .acl("set sortedset list dangerous")
        .keys_fn(sort_keys),
    );
    v.push(
        Cmd::new(
            "sort_ro",
            -2,
            "readonly",
            (1, 1, 1),
            "generic",
            "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
            |c, a| sort(c, a, true),
        )
        .syntax("key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC] [ALPHA]")
        .since("7.0.0")
        .complexity(CX)
        .acl("set sortedset list dangerous")
        .keys_fn(|_| vec![1]),
    );
}

/// SORT's keys: the sorted key plus the last STORE target (Redis's
/// `sortGetKeys`, which skips the arguments of LIMIT, GET and BY).
fn sort_keys(args: &[Bytes]) -> Vec<usize> {
    let mut store = None;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if eq_ic(a, "limit") {
            i += 2;
        } else if eq_ic(a, "get") || eq_ic(a, "by") {
            i += 1;
        } else if eq_ic(a, "store") && i + 1 < args.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    let mut v = vec![1];
    v.extend(store);
    v
}

/// `strtod` as SORT uses it: leading white space allowed, nothing after the
/// number, NaN and out-of-range values rejected; an empty string is 0.
fn sort_score(b: &[u8]) -> Option<f64> {
    let b = match b.iter().position(|&c| c == 0) {
        Some(p) => &b[..p],
        None => b,
    };
    if b.is_empty() {
        return Some(0.0);
    }
    let t = b.trim_ascii_start();
    if t.is_empty() {
        return None;
    }
    score_arg(t)
}

/// The value a BY / GET pattern names for element `subst`
/// (`lookupKeyByPattern`): `#` is the element itself, `key*->field` reads a
/// hash field, otherwise the string at the substituted key.
fn lookup_by_pattern(ctx: &mut Ctx<'_>, pattern: &[u8], subst: &[u8]) -> Option<Bytes> {
    if pattern == b"#" {
        return Some(Bytes::copy_from_slice(subst));
    }
    let star = pattern.iter().position(|&c| c == b'*')?;
    let after = &pattern[star + 1..];
    let arrow = after
        .windows(2)
        .position(|w| w == b"->")
        .filter(|&f| f + 2 < after.len());
    let (post, field) = match arrow {
        Some(f) => (&after[..f], Some(&after[f + 2..])),
        None => (after, None),
    };
    let mut key = Vec::with_capacity(star + subst.len() + post.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(subst);
    key.extend_from_slice(post);
    match (ctx.lookup(&key)?, field) {
        (
            Entry {
                val: Value::Hash(h),
                ..
            },
            Some(f),
        ) => h.get(f).map(Bytes::copy_from_slice),
        (
            Entry {
                val: Value::Str(s), ..
            },
            None,
        ) => Some(s.to_bytes()),
        _ => None,
    }
}

/// One element to sort, with its weight.
struct Item {
    obj: Bytes,
    score: f64,
    cmp: Option<Bytes>,
}

fn sort(ctx: &mut Ctx<'_>, args: &[Bytes], readonly: bool) -> Reply {
    match sort_generic(ctx, args, readonly) {
        Ok(r) | Err(r) => r,
    }
}

fn sort_generic(ctx: &mut Ctx<'_>, args: &[Bytes], readonly: bool) -> Result<Reply, Reply> {
    let (mut desc, mut alpha) = (false, false);
    let (mut limit_start, mut limit_count): (i64, i64) = (0, -1);
    let mut dontsort = false;
    let mut sortby: Option<Bytes> = None;
    let mut storekey: Option<Bytes> = None;
    let mut gets: Vec<Bytes> = Vec::new();
    let mut j = 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = &args[j];
        if eq_ic(a, "asc") {
            desc = false;
        } else if eq_ic(a, "desc") {
            desc = true;
        } else if eq_ic(a, "alpha") {
            alpha = true;
        } else if eq_ic(a, "limit") && left >= 2 {
            limit_start = parse_i64(&args[j + 1]).ok_or_else(errors::not_int)?;
            limit_count = parse_i64(&args[j + 2]).ok_or_else(errors::not_int)?;
            j += 2;
        } else if !readonly && eq_ic(a, "store") && left >= 1 {
            storekey = Some(args[j + 1].clone());
            j += 1;
        } else if eq_ic(a, "by") && left >= 1 {
            let p = args[j + 1].clone();
            // A constant pattern means there is nothing to sort by.
            if !p.contains(&b'*') {
                dontsort = true;
            }
            sortby = Some(p);
            j += 1;
        } else if eq_ic(a, "get") && left >= 1 {
            gets.push(args[j + 1].clone());
            j += 1;
        } else {
            return Err(errors::syntax());
        }
        j += 1;
    }

    // Load the elements (the sorted key is read once, with statistics).
    enum Kind {
        List,
        Set,
        ZSet,
    }
    let kind = match ctx.lookup(&args[1]) {
        None => Kind::List,
        Some(Entry {
            val: Value::List(_),
            ..
        }) => Kind::List,
        Some(Entry {
            val: Value::Set(_), ..
        }) => Kind::Set,
        Some(Entry {
            val: Value::ZSet(z),
            ..
        }) => {
            // Redis converts a compact sorted set for SORT, for good.
            z.convert_to_big();
            Kind::ZSet
        }
        Some(_) => return Err(errors::wrongtype()),
    };
    if dontsort && matches!(kind, Kind::Set) && (storekey.is_some() || ctx.in_script()) {
        // Sets have no order of their own: force one that is the same on
        // replicas and for scripts.
        dontsort = false;
        alpha = true;
        sortby = None;
    }

    let now = ctx.now();
    let entry = ctx.db().get(&args[1], now);
    let full_len = match entry {
        Some(Entry {
            val: Value::List(l),
            ..
        }) => l.len(),
        Some(Entry {
            val: Value::Set(s), ..
        }) => s.len(),
        Some(Entry {
            val: Value::ZSet(z),
            ..
        }) => z.len(),
        _ => 0,
    } as i64;
    let vectorlen = full_len;
    let mut start = limit_start.max(0).min(vectorlen);
    let limit_count = limit_count.max(-1).min(vectorlen);
    let mut end = if limit_count < 0 {
        vectorlen - 1
    } else {
        start + limit_count - 1
    };
    if start >= vectorlen {
        start = vectorlen - 1;
        end = vectorlen - 2;
    }
    if end >= vectorlen {
        end = vectorlen - 1;
    }
    let ranged = dontsort && !matches!(kind, Kind::Set) && (start != 0 || end != vectorlen - 1);
    let take = if ranged {
        (end - start + 1).max(0) as usize
    } else {
        vectorlen.max(0) as usize
    };

    let mut items: Vec<Item> = Vec::with_capacity(take);
    let mut push = |b: &[u8]| {
        items.push(Item {
            obj: Bytes::copy_from_slice(b),
            score: 0.0,
            cmp: None,
        })
    };
    match entry {
        Some(Entry {
            val: Value::List(l),
            ..
        }) => {
            if dontsort {
                if end >= start {
                    let s = start as usize;
                    if desc {
                        let from = l.len().saturating_sub(s + 1);
                        l.iter_rev_from(from).take(take).for_each(&mut push);
                    } else {
                        l.iter_from(s).take(take).for_each(&mut push);
                    }
                    end -= start;
                    start = 0;
                }
            } else {
                l.iter().for_each(&mut push);
            }
        }
        Some(Entry {
            val: Value::Set(s), ..
        }) => s.for_each(&mut push),
        Some(Entry {
            val: Value::ZSet(z),
            ..
        }) => {
            if dontsort {
                let s = start.max(0) as usize;
                let n = z.len();
                if desc {
                    let hi = n.saturating_sub(s);
                    z.for_range_rev(hi.saturating_sub(take), hi, |m, _| {
                        push(m);
                        true
                    });
                } else {
                    z.for_range(s, s + take, |m, _| {
                        push(m);
                        true
                    });
                }
                end -= start;
                start = 0;
            } else {
                for (m, _) in z.iter() {
                    push(m);
                }
            }
        }
        _ => {}
    }

    // Weights.
    let mut conversion_error = false;
    if !dontsort {
        for it in items.iter_mut() {
            let byval = match &sortby {
                Some(p) => match lookup_by_pattern(ctx, p, &it.obj) {
                    Some(v) => v,
                    None => continue,
                },
                None => it.obj.clone(),
            };
            if alpha {
                if sortby.is_some() {
                    it.cmp = Some(byval);
                }
            } else {
                match sort_score(&byval) {
                    Some(s) => it.score = s,
                    None => conversion_error = true,
                }
            }
        }
        let bypattern = sortby.is_some();
        items.sort_by(|a, b| {
            let c = if !alpha {
                a.score
                    .partial_cmp(&b.score)
                    .unwrap_or(Ordering::Equal)
                    .then_with(|| a.obj.cmp(&b.obj))
            } else if bypattern {
                match (&a.cmp, &b.cmp) {
                    (Some(x), Some(y)) => x.cmp(y),
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                }
            } else {
                a.obj.cmp(&b.obj)
            };
            if desc {
                c.reverse()
            } else {
                c
            }
        });
    }

    let span = (end - start + 1).max(0) as usize;
    let outputlen = if gets.is_empty() {
        span
    } else {
        gets.len() * span
    };
    if conversion_error {
        return Err(Reply::err_static(
            "ERR One or more scores can't be converted into double",
        ));
    }
    let selected = items
        .get(start.max(0) as usize..)
        .unwrap_or(&[])
        .iter()
        .take(span);
    match storekey {
        None => {
            let mut out = Vec::with_capacity(outputlen);
            for it in selected {
                if gets.is_empty() {
                    out.push(Reply::Bulk(it.obj.clone()));
                }
                for g in &gets {
                    out.push(match lookup_by_pattern(ctx, g, &it.obj) {
                        Some(v) => Reply::Bulk(v),
                        None => Reply::Null,
                    });
                }
            }
            Ok(Reply::Array(out))
        }
        Some(dst) => {
            let mut list = List::new();
            for it in selected {
                if gets.is_empty() {
                    list.push_back(&it.obj);
                }
                for g in &gets {
                    match lookup_by_pattern(ctx, g, &it.obj) {
                        Some(v) => list.push_back(&v),
                        None => list.push_back(b""),
                    }
                }
            }
            if outputlen > 0 {
                ctx.set_value(&dst, Value::List(Box::new(list)), false);
                ctx.modified(&dst, notify::LIST, "sortstore");
            } else if ctx.delete(&dst) {
                ctx.modified(&dst, notify::GENERIC, "del");
            }
            Ok(Reply::Int(outputlen as i64))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::TestEngine;

    #[test]
    fn numeric_alpha_and_limits() {
        let mut t = TestEngine::new();
        t.cmd(&["RPUSH", "l", "3", "1", "2", "10"]);
        assert_eq!(
            t.raw(&["SORT", "l"]),
            "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"
        );
        assert_eq!(
            t.raw(&["SORT", "l", "ALPHA", "DESC", "LIMIT", "1", "2"]),
            "*2\r\n$1\r\n2\r\n$2\r\n10\r\n"
        );
        assert_eq!(
            t.raw(&["SORT", "l", "LIMIT", "x", "1"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(t.raw(&["SORT", "l", "foo"]), "-ERR syntax error\r\n");
        assert_eq!(
            t.raw(&["SORT_RO", "l", "STORE", "x"]),
            "-ERR syntax error\r\n"
        );
        t.cmd(&["RPUSH", "bad", "1", "x"]);
        assert_eq!(
            t.raw(&["SORT", "bad"]),
            "-ERR One or more scores can't be converted into double\r\n"
        );
        t.cmd(&["SET", "s", "v"]);
        assert!(t.raw(&["SORT", "s"]).starts_with("-WRONGTYPE"));
        assert_eq!(t.raw(&["SORT", "nokey"]), "*0\r\n");
    }

    #[test]
    fn by_get_and_store() {
        let mut t = TestEngine::new();
        t.cmd(&["RPUSH", "l", "a", "b", "c"]);
        t.cmd(&["MSET", "w_a", "3", "w_b", "1", "w_c", "2"]);
        t.cmd(&["HSET", "h_a", "f", "x"]);
        assert_eq!(
            t.raw(&["SORT", "l", "BY", "w_*", "GET", "#", "GET", "h_*->f"]),
            "*6\r\n$1\r\nb\r\n$-1\r\n$1\r\nc\r\n$-1\r\n$1\r\na\r\n$1\r\nx\r\n"
        );
        assert_eq!(
            t.raw(&["SORT", "l", "BY", "nosort", "DESC"]),
            "*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n"
        );
        assert_eq!(t.raw(&["SORT", "l", "BY", "w_*", "STORE", "dst"]), ":3\r\n");
        assert_eq!(
            t.raw(&["LRANGE", "dst", "0", "-1"]),
            "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n"
        );
        assert_eq!(t.raw(&["SORT", "nokey", "STORE", "dst"]), ":0\r\n");
        assert_eq!(t.raw(&["EXISTS", "dst"]), ":0\r\n");
        assert_eq!(
            t.raw(&[
                "COMMAND", "GETKEYS", "SORT", "abc", "STORE", "invalid", "STORE", "stillbad",
                "STORE", "def"
            ]),
            "*2\r\n$3\r\nabc\r\n$3\r\ndef\r\n"
        );
        t.cmd(&[
            "ZADD", "z", "1", "a", "5", "b", "2", "c", "10", "d", "3", "e",
        ]);
        assert_eq!(
            t.raw(&["SORT", "z", "BY", "nosort", "DESC", "LIMIT", "0", "2"]),
            "*2\r\n$1\r\nd\r\n$1\r\nb\r\n"
        );
        assert_eq!(
            t.raw(&["SORT", "z", "BY", "nosort", "LIMIT", "-10", "100"]),
            "*5\r\n$1\r\na\r\n$1\r\nc\r\n$1\r\ne\r\n$1\r\nb\r\n$1\r\nd\r\n"
        );
        t.cmd(&["SADD", "set", "c", "a", "b"]);
        assert_eq!(t.raw(&["SORT", "set", "BY", "x", "STORE", "o"]), ":3\r\n");
        assert_eq!(
            t.raw(&["LRANGE", "o", "0", "-1"]),
            "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"
        );
    }
}
