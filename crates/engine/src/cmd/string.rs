//! Commands of the `string` family: SET and its variants, GET and its
//! variants, counters (INCR...INCRBYFLOAT), APPEND, ranges and LCS.
//!
//! Replies, errors and stored encodings follow Redis 7.0's `t_string.c`.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::command::Cmd;
use crate::ctx::{eq_ic, notify, Ctx};
use crate::errors;
use crate::repl;
use crate::value::{Entry, Str, Value, EMBSTR_MAX};

/// Declares this family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    let g = "string";
    let k = (1, 1, 1);
    v.push(
        Cmd::new(
            "get",
            2,
            "readonly fast",
            k,
            g,
            "Get the value of a key",
            get,
        )
        .syntax("key"),
    );
    v.push(
        Cmd::new("set", -3, "write denyoom", k, g, "Set the string value of a key", set).syntax(
            "key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]",
        ),
    );
    v.push(
        Cmd::new(
            "getset",
            3,
            "write denyoom fast",
            k,
            g,
            "Set the string value of a key and return its old value",
            getset,
        )
        .syntax("key value"),
    );
    v.push(
        Cmd::new(
            "getdel",
            2,
            "write fast",
            k,
            g,
            "Get the value of a key and delete the key",
            getdel,
        )
        .syntax("key")
        .since("6.2.0"),
    );
    v.push(
        Cmd::new("getex", -2, "write fast", k, g, "Get the value of a key and optionally set its expiration", getex)
            .syntax("key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST]")
            .since("6.2.0"),
    );
    v.push(
        Cmd::new(
            "setnx",
            3,
            "write denyoom fast",
            k,
            g,
            "Set the value of a key, only if the key does not exist",
            setnx,
        )
        .syntax("key value"),
    );
    v.push(
        Cmd::new(
            "setex",
            4,
            "write denyoom",
            k,
            g,
            "Set the value and expiration of a key",
            setex,
        )
        .syntax("key seconds value")
        .since("2.0.0"),
    );
    v.push(
        Cmd::new(
            "psetex",
            4,
            "write denyoom",
            k,
            g,
            "Set the value and expiration in milliseconds of a key",
            psetex,
        )
        .syntax("key milliseconds value")
        .since("2.6.0"),
    );
    v.push(
        Cmd::new(
            "mget",
            -2,
            "readonly fast",
            (1, -1, 1),
            g,
            "Get the values of all the given keys",
            mget,
        )
        .syntax("key [key ...]"),
    );
    v.push(
        Cmd::new(
            "mset",
            -3,
            "write denyoom",
            (1, -1, 2),
            g,
            "Set multiple keys to multiple values",
            mset,
        )
        .syntax("key value [key value ...]")
        .since("1.0.1"),
    );
    v.push(
        Cmd::new(
            "msetnx",
            -3,
            "write denyoom",
            (1, -1, 2),
            g,
            "Set multiple keys to multiple values, only if none of the keys exist",
            msetnx,
        )
        .syntax("key value [key value ...]")
        .since("1.0.1"),
    );
    v.push(
        Cmd::new(
            "incr",
            2,
            "write denyoom fast",
            k,
            g,
            "Increment the integer value of a key by one",
            incr,
        )
        .syntax("key"),
    );
    v.push(
        Cmd::new(
            "decr",
            2,
            "write denyoom fast",
            k,
            g,
            "Decrement the integer value of a key by one",
            decr,
        )
        .syntax("key"),
    );
    v.push(
        Cmd::new(
            "incrby",
            3,
            "write denyoom fast",
            k,
            g,
            "Increment the integer value of a key by the given amount",
            incrby,
        )
        .syntax("key increment"),
    );
    v.push(
        Cmd::new(
            "decrby",
            3,
            "write denyoom fast",
            k,
            g,
            "Decrement the integer value of a key by the given number",
            decrby,
        )
        .syntax("key decrement"),
    );
    v.push(
        Cmd::new(
            "incrbyfloat",
            3,
            "write denyoom fast",
            k,
            g,
            "Increment the float value of a key by the given amount",
            incrbyfloat,
        )
        .syntax("key increment")
        .since("2.6.0"),
    );
    v.push(
        Cmd::new(
            "append",
            3,
            "write denyoom fast",
            k,
            g,
            "Append a value to a key",
            append,
        )
        .syntax("key value")
        .since("2.0.0"),
    );
    v.push(
        Cmd::new(
            "strlen",
            2,
            "readonly fast",
            k,
            g,
            "Get the length of the value stored in a key",
            strlen,
        )
        .syntax("key")
        .since("2.2.0"),
    );
    v.push(
        Cmd::new(
            "getrange",
            4,
            "readonly",
            k,
            g,
            "Get a substring of the string stored at a key",
            getrange,
        )
        .syntax("key start end")
        .since("2.4.0"),
    );
    v.push(
        Cmd::new(
            "substr",
            4,
            "readonly",
            k,
            g,
            "Get a substring of the string stored at a key",
            getrange,
        )
        .syntax("key start end"),
    );
    v.push(
        Cmd::new(
            "setrange",
            4,
            "write denyoom",
            k,
            g,
            "Overwrite part of a string at key starting at the specified offset",
            setrange,
        )
        .syntax("key offset value")
        .since("2.2.0"),
    );
    v.push(
        Cmd::new(
            "lcs",
            -3,
            "readonly",
            (1, 2, 1),
            g,
            "Find longest common substring",
            lcs,
        )
        .syntax("key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]")
        .since("7.0.0"),
    );
}

/// The configured `proto-max-bulk-len`, the largest string a command may
/// build.
pub(crate) fn proto_max_bulk_len(ctx: &Ctx<'_>) -> i64 {
    ctx.eng.shared.proto_max_bulk_len.load(Ordering::Relaxed)
}

/// Redis's `checkStringLength`: an error if a string of `size + append`
/// bytes would exceed `proto-max-bulk-len` (or overflow).
pub(crate) fn check_string_length(ctx: &Ctx<'_>, size: i64, append: i64) -> Result<(), Reply> {
    let max = proto_max_bulk_len(ctx);
    match size.checked_add(append) {
        Some(total) if total <= max => Ok(()),
        _ => Err(Reply::err_static(
            "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
        )),
    }
}

/// A string value as `createStringObject` builds it (no integer encoding):
/// embstr up to 44 bytes, raw beyond.
fn plain_str(b: &[u8]) -> Str {
    if b.len() <= EMBSTR_MAX {
        Str::Emb(b.into())
    } else {
        Str::Raw(b.to_vec())
    }
}

/// GET's lookup: `Ok(Some(bytes))`, `Ok(None)` for a missing key, or the
/// WRONGTYPE error.
fn get_bytes(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Bytes>, Reply> {
    Ok(ctx.get_str(key)?.map(|s| s.to_bytes()))
}

fn get(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match get_bytes(ctx, &args[1]) {
        Ok(Some(b)) => Reply::Bulk(b),
        Ok(None) => Reply::Null,
        Err(e) => e,
    }
}

const NX: u32 = 1 << 0;
const XX: u32 = 1 << 1;
const EX: u32 = 1 << 2;
const PX: u32 = 1 << 3;
const KEEPTTL: u32 = 1 << 4;
const GET: u32 = 1 << 5;
const EXAT: u32 = 1 << 6;
const PXAT: u32 = 1 << 7;
const PERSIST: u32 = 1 << 8;
const ANY_EXPIRE: u32 = EX | PX | EXAT | PXAT;

/// Parses SET's (`for_set`) or GETEX's options the way Redis's
/// `parseExtendedStringArgumentsOrReply` does: returns the flags and the
/// expire argument.
fn parse_extended(args: &[Bytes], for_set: bool) -> Result<(u32, Option<Bytes>), Reply> {
    let mut flags = 0u32;
    let mut expire = None;
    let mut j = if for_set { 3 } else { 2 };
    while j < args.len() {
        let opt = &args[j];
        let next = args.get(j + 1);
        if for_set && eq_ic(opt, "nx") && flags & XX == 0 {
            flags |= NX;
        } else if for_set && eq_ic(opt, "xx") && flags & NX == 0 {
            flags |= XX;
        } else if for_set && eq_ic(opt, "get") {
            flags |= GET;
        } else if for_set && eq_ic(opt, "keepttl") && flags & (PERSIST | ANY_EXPIRE) == 0 {
            flags |= KEEPTTL;
        } else if !for_set && eq_ic(opt, "persist") && flags & (ANY_EXPIRE | KEEPTTL) == 0 {
            flags |= PERSIST;
        } else if let (Some(n), Some(bit)) = (next, expire_option(opt)) {
            if flags & (KEEPTTL | PERSIST | (ANY_EXPIRE & !bit)) != 0 {
                return Err(errors::syntax());
            }
            flags |= bit;
            expire = Some(n.clone());
            j += 1;
        } else {
            return Err(errors::syntax());
        }
        j += 1;
    }
    Ok((flags, expire))
}

fn expire_option(opt: &[u8]) -> Option<u32> {
    if eq_ic(opt, "ex") {
        Some(EX)
    } else if eq_ic(opt, "px") {
        Some(PX)
    } else if eq_ic(opt, "exat") {
        Some(EXAT)
    } else if eq_ic(opt, "pxat") {
        Some(PXAT)
    } else {
        None
    }
}

/// Redis's `getExpireMillisecondsOrReply`: the absolute expiry in ms.
fn expire_ms(ctx: &Ctx<'_>, arg: &[u8], flags: u32, cmd: &str) -> Result<i64, Reply> {
    let mut ms = ctx.int_arg(arg)?;
    let seconds = flags & (EX | EXAT) != 0;
    if ms <= 0 || (seconds && ms > i64::MAX / 1000) {
        return Err(errors::invalid_expire(cmd));
    }
    if seconds {
        ms *= 1000;
    }
    if flags & (EX | PX) != 0 {
        ms = ms.wrapping_add(ctx.now() as i64);
    }
    if ms <= 0 {
        return Err(errors::invalid_expire(cmd));
    }
    Ok(ms)
}

/// Redis's `setGenericCommand`. `ok`/`abort` replace `+OK` and nil.
#[allow(clippy::too_many_arguments)]
fn set_generic(
    ctx: &mut Ctx<'_>,
    flags: u32,
    key: &[u8],
    val: &[u8],
    expire: Option<&[u8]>,
    cmd: &str,
    ok: Reply,
    abort: Reply,
) -> Reply {
    let ms = match expire {
        Some(e) => match expire_ms(ctx, e, flags, cmd) {
            Ok(ms) => Some(ms),
            Err(r) => return r,
        },
        None => None,
    };
    let mut old = Reply::Null;
    if flags & GET != 0 {
        match get_bytes(ctx, key) {
            Ok(Some(b)) => old = Reply::Bulk(b),
            Ok(None) => {}
            Err(e) => return e,
        }
    }
    let found = ctx.lookup_write(key).is_some();
    if (flags & NX != 0 && found) || (flags & XX != 0 && !found) {
        return if flags & GET != 0 { old } else { abort };
    }
    ctx.set_value(key, Value::Str(Str::from_bytes(val)), flags & KEEPTTL != 0);
    ctx.modified(key, notify::STRING, "set");
    if let Some(ms) = ms {
        ctx.db().set_expire(key, ms as u64);
        let db = ctx.client.db;
        ctx.eng
            .notify_keyspace_event(notify::GENERIC, "expire", key, db);
        // Propagated as `SET key value PXAT <ms>` (absolute expiry).
        if ctx.propagating() {
            ctx.rewrite_propagation(vec![
                repl::word("SET"),
                Bytes::copy_from_slice(key),
                Bytes::copy_from_slice(val),
                repl::word("PXAT"),
                repl::int(ms),
            ]);
        }
    }
    if flags & GET != 0 {
        old
    } else {
        ok
    }
}

fn set(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (flags, expire) = match parse_extended(args, true) {
        Ok(x) => x,
        Err(e) => return e,
    };
    let r = set_generic(
        ctx,
        flags,
        &args[1],
        &args[2],
        expire.as_deref(),
        "set",
        Reply::ok(),
        Reply::Null,
    );
    if flags & GET != 0 && expire.is_none() && ctx.propagating() {
        // Propagated without its GET arguments.
        let argv = args
            .iter()
            .enumerate()
            .filter(|(j, a)| *j < 3 || !eq_ic(a, "get"))
            .map(|(_, a)| a.clone())
            .collect();
        ctx.rewrite_propagation(argv);
    }
    r
}

fn setnx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    set_generic(
        ctx,
        NX,
        &args[1],
        &args[2],
        None,
        "setnx",
        Reply::Int(1),
        Reply::Int(0),
    )
}

fn setex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    set_generic(
        ctx,
        EX,
        &args[1],
        &args[3],
        Some(&args[2]),
        "setex",
        Reply::ok(),
        Reply::Null,
    )
}

fn psetex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    set_generic(
        ctx,
        PX,
        &args[1],
        &args[3],
        Some(&args[2]),
        "psetex",
        Reply::ok(),
        Reply::Null,
    )
}

fn getex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (flags, expire) = match parse_extended(args, false) {
        Ok(x) => x,
        Err(e) => return e,
    };
    let key = &args[1];
    let val = match get_bytes(ctx, key) {
        Ok(Some(b)) => b,
        Ok(None) => return Reply::Null,
        Err(e) => return e,
    };
    let ms = match &expire {
        Some(e) => match expire_ms(ctx, e, flags, "getex") {
            Ok(ms) => Some(ms),
            Err(r) => return r,
        },
        None => None,
    };
    if let Some(ms) = ms {
        if flags & (EXAT | PXAT) != 0 && ms as u64 <= ctx.now() {
            ctx.delete(key);
            ctx.modified(key, notify::GENERIC, "del");
            let lazy = ctx.eng.config.get_bool("lazyfree-lazy-expire");
            ctx.rewrite_propagation(vec![
                repl::word(if lazy { "UNLINK" } else { "DEL" }),
                key.clone(),
            ]);
        } else {
            ctx.db().set_expire(key, ms as u64);
            ctx.modified(key, notify::GENERIC, "expire");
            ctx.rewrite_propagation(vec![repl::word("PEXPIREAT"), key.clone(), repl::int(ms)]);
        }
    } else if flags & PERSIST != 0 {
        let had = ctx.lookup_write(key).is_some_and(|e| e.expire() != 0);
        if had {
            ctx.db().set_expire(key, 0);
            ctx.modified(key, notify::GENERIC, "persist");
            ctx.rewrite_propagation(vec![repl::word("PERSIST"), key.clone()]);
        }
    }
    Reply::Bulk(val)
}

fn getdel(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let key = &args[1];
    match get_bytes(ctx, key) {
        Ok(Some(b)) => {
            if ctx.delete(key) {
                ctx.modified(key, notify::GENERIC, "del");
                let lazy = ctx.eng.config.get_bool("lazyfree-lazy-user-del");
                ctx.rewrite_propagation(vec![
                    repl::word(if lazy { "UNLINK" } else { "DEL" }),
                    key.clone(),
                ]);
            }
            Reply::Bulk(b)
        }
        Ok(None) => Reply::Null,
        Err(e) => e,
    }
}

fn getset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let old = match get_bytes(ctx, &args[1]) {
        Ok(Some(b)) => Reply::Bulk(b),
        Ok(None) => Reply::Null,
        Err(e) => return e,
    };
    ctx.set_value(&args[1], Value::Str(Str::from_bytes(&args[2])), false);
    ctx.modified(&args[1], notify::STRING, "set");
    if ctx.propagating() {
        ctx.rewrite_propagation(vec![repl::word("SET"), args[1].clone(), args[2].clone()]);
    }
    old
}

fn mget(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let mut out = Vec::with_capacity(args.len() - 1);
    for k in &args[1..] {
        out.push(match ctx.lookup(k) {
            Some(Entry {
                val: Value::Str(s), ..
            }) => Reply::Bulk(s.to_bytes()),
            #[allow(unreachable_patterns)]
            _ => Reply::Null,
        });
    }
    Reply::Array(out)
}

fn mset_generic(ctx: &mut Ctx<'_>, args: &[Bytes], nx: bool) -> Reply {
    if args.len().is_multiple_of(2) {
        let name = if nx { "msetnx" } else { "mset" };
        return errors::wrong_args(name);
    }
    if nx {
        for pair in args[1..].chunks(2) {
            if ctx.lookup_write(&pair[0]).is_some() {
                return Reply::Int(0);
            }
        }
    }
    for pair in args[1..].chunks(2) {
        ctx.set_value(&pair[0], Value::Str(Str::from_bytes(&pair[1])), false);
        ctx.modified(&pair[0], notify::STRING, "set");
    }
    if nx {
        Reply::Int(1)
    } else {
        Reply::ok()
    }
}

fn mset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    mset_generic(ctx, args, false)
}

fn msetnx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    mset_generic(ctx, args, true)
}

/// Redis's `incrDecrCommand`: the stored value keeps its TTL and becomes
/// int-encoded.
fn incr_decr(ctx: &mut Ctx<'_>, key: &[u8], by: i64) -> Reply {
    let lru = ctx.lru();
    let value = match ctx.get_str_mut(key) {
        Err(e) => return e,
        Ok(None) => {
            ctx.db().add(key, Value::Str(Str::Int(by)), lru);
            by
        }
        Ok(Some(s)) => {
            let Some(old) = s.as_int() else {
                return errors::not_int();
            };
            let Some(v) = old.checked_add(by) else {
                return errors::overflow();
            };
            *s = Str::Int(v);
            v
        }
    };
    ctx.modified(key, notify::STRING, "incrby");
    Reply::Int(value)
}

fn incr(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    incr_decr(ctx, &args[1], 1)
}

fn decr(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    incr_decr(ctx, &args[1], -1)
}

fn incrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match ctx.int_arg(&args[2]) {
        Ok(by) => incr_decr(ctx, &args[1], by),
        Err(e) => e,
    }
}

fn decrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match ctx.int_arg(&args[2]) {
        Ok(i64::MIN) => Reply::err_static("ERR decrement would overflow"),
        Ok(by) => incr_decr(ctx, &args[1], -by),
        Err(e) => e,
    }
}

fn incrbyfloat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let lru = ctx.lru();
    let cur = match ctx.get_str_mut(key) {
        Err(e) => return e,
        Ok(None) => None,
        Ok(Some(s)) => Some(s.with_bytes(ld::parse)),
    };
    let value = match cur {
        None => ld::Ld::ZERO,
        Some(Some(v)) => v,
        Some(None) => return errors::not_float(),
    };
    let Some(by) = ld::parse(&args[2]) else {
        return errors::not_float();
    };
    let sum = value.add(&by);
    if !sum.is_finite() {
        return Reply::err_static("ERR increment would produce NaN or Infinity");
    }
    let text = sum.human();
    let new = plain_str(text.as_bytes());
    match ctx.get_str_mut(key) {
        Ok(Some(s)) => *s = new,
        _ => ctx.db().add(key, Value::Str(new), lru),
    }
    ctx.modified(key, notify::STRING, "incrbyfloat");
    // Propagated as `SET key <value> KEEPTTL`, so that float formatting
    // differences cannot make replicas diverge.
    let text = Bytes::from(text);
    if ctx.propagating() {
        ctx.rewrite_propagation(vec![
            repl::word("SET"),
            key.clone(),
            text.clone(),
            repl::word("KEEPTTL"),
        ]);
    }
    Reply::Bulk(text)
}

fn append(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let add = &args[2];
    let lru = ctx.lru();
    let cur_len = match ctx.get_str_mut(key) {
        Err(e) => return e,
        Ok(None) => None,
        Ok(Some(s)) => Some(s.len()),
    };
    let total = match cur_len {
        None => {
            let s = Str::from_bytes(add);
            let n = s.len();
            ctx.db().add(key, Value::Str(s), lru);
            n
        }
        Some(len) => {
            if let Err(e) = check_string_length(ctx, len as i64, add.len() as i64) {
                return e;
            }
            match ctx.get_str_mut(key) {
                Ok(Some(s)) => {
                    let v = s.make_raw();
                    v.extend_from_slice(add);
                    v.len()
                }
                _ => 0,
            }
        }
    };
    ctx.modified(key, notify::STRING, "append");
    Reply::Int(total as i64)
}

fn strlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match ctx.get_str(&args[1]) {
        Ok(Some(s)) => Reply::Int(s.len() as i64),
        Ok(None) => Reply::Int(0),
        Err(e) => e,
    }
}

fn getrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let mut start = match ctx.int_arg(&args[2]) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let mut end = match ctx.int_arg(&args[3]) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let empty = Reply::Bulk(Bytes::new());
    let s = match ctx.get_str(&args[1]) {
        Ok(Some(s)) => s,
        Ok(None) => return empty,
        Err(e) => return e,
    };
    s.with_bytes(|b| {
        let len = b.len() as i64;
        if start < 0 && end < 0 && start > end {
            return empty;
        }
        if start < 0 {
            start += len;
        }
        if end < 0 {
            end += len;
        }
        start = start.max(0);
        end = end.max(0);
        if end >= len {
            end = len - 1;
        }
        if start > end || len == 0 {
            empty
        } else {
            Reply::bulk(&b[start as usize..=end as usize])
        }
    })
}

fn setrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let value = &args[3];
    let offset = match ctx.int_arg(&args[2]) {
        Ok(v) => v,
        Err(e) => return e,
    };
    if offset < 0 {
        return Reply::err_static("ERR offset is out of range");
    }
    let lru = ctx.lru();
    let cur_len = match ctx.get_str_mut(key) {
        Err(e) => return e,
        Ok(None) => None,
        Ok(Some(s)) => Some(s.len()),
    };
    match cur_len {
        None => {
            if value.is_empty() {
                return Reply::Int(0);
            }
            if let Err(e) = check_string_length(ctx, offset, value.len() as i64) {
                return e;
            }
            ctx.db().add(key, Value::Str(Str::Raw(Vec::new())), lru);
        }
        Some(len) => {
            if value.is_empty() {
                return Reply::Int(len as i64);
            }
            if let Err(e) = check_string_length(ctx, offset, value.len() as i64) {
                return e;
            }
        }
    }
    let new_len = match ctx.get_str_mut(key) {
        Ok(Some(s)) => {
            let v = s.make_raw();
            let off = offset as usize;
            let end = off + value.len();
            if v.len() < end {
                v.resize(end, 0);
            }
            v[off..end].copy_from_slice(value);
            v.len()
        }
        _ => 0,
    };
    ctx.modified(key, notify::STRING, "setrange");
    Reply::Int(new_len as i64)
}

fn lcs(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let get_str = |ctx: &mut Ctx<'_>, k: &[u8]| -> Result<Vec<u8>, ()> {
        match ctx.lookup(k) {
            None => Ok(Vec::new()),
            Some(Entry {
                val: Value::Str(s), ..
            }) => Ok(s.with_bytes(|b| b.to_vec())),
            #[allow(unreachable_patterns)]
            Some(_) => Err(()),
        }
    };
    let a = get_str(ctx, &args[1]);
    let b = get_str(ctx, &args[2]);
    let (Ok(a), Ok(b)) = (a, b) else {
        return Reply::err_static("ERR The specified keys must contain string values");
    };
    let (mut getlen, mut getidx, mut withmatchlen) = (false, false, false);
    let mut minmatchlen: i64 = 0;
    let mut j = 3;
    while j < args.len() {
        let opt = &args[j];
        let more = args.len() - 1 - j;
        if eq_ic(opt, "idx") {
            getidx = true;
        } else if eq_ic(opt, "len") {
            getlen = true;
        } else if eq_ic(opt, "withmatchlen") {
            withmatchlen = true;
        } else if eq_ic(opt, "minmatchlen") && more > 0 {
            match ctx.int_arg(&args[j + 1]) {
                Ok(v) => minmatchlen = v.max(0),
                Err(e) => return e,
            }
            j += 1;
        } else {
            return errors::syntax();
        }
        j += 1;
    }
    if getlen && getidx {
        return Reply::err_static(
            "ERR If you want both the length and indexes, please just use IDX.",
        );
    }
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return Reply::err_static("ERR String too long for LCS");
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen as u128 + 1) * (blen as u128 + 1);
    if cells * 4 > proto_max_bulk_len(ctx).max(0) as u128 {
        return Reply::err_static(
            "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        );
    }
    let w = blen + 1;
    let mut t = vec![0u32; cells as usize];
    for i in 1..=alen {
        for jj in 1..=blen {
            t[i * w + jj] = if a[i - 1] == b[jj - 1] {
                t[(i - 1) * w + jj - 1] + 1
            } else {
                t[(i - 1) * w + jj].max(t[i * w + jj - 1])
            };
        }
    }
    let total = t[alen * w + blen];
    let mut idx = total as usize;
    let computelcs = getidx || !getlen;
    let mut result = vec![0u8; if computelcs { idx } else { 0 }];
    let mut matches = Vec::new();
    let (mut i, mut jj) = (alen, blen);
    let (mut as_, mut ae, mut bs, mut be) = (alen, 0usize, 0usize, 0usize);
    while computelcs && i > 0 && jj > 0 {
        let mut emit = false;
        if a[i - 1] == b[jj - 1] {
            result[idx - 1] = a[i - 1];
            if as_ == alen {
                as_ = i - 1;
                ae = i - 1;
                bs = jj - 1;
                be = jj - 1;
            } else if as_ == i && bs == jj {
                as_ -= 1;
                bs -= 1;
            } else {
                emit = true;
            }
            if as_ == 0 || bs == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            jj -= 1;
        } else {
            let l1 = t[(i - 1) * w + jj];
            let l2 = t[i * w + jj - 1];
            if l1 > l2 {
                i -= 1;
            } else {
                jj -= 1;
            }
            if as_ != alen {
                emit = true;
            }
        }
        let match_len = ae.wrapping_sub(as_).wrapping_add(1);
        if emit {
            if (minmatchlen == 0 || match_len as i64 >= minmatchlen) && getidx {
                let mut m = vec![
                    Reply::Array(vec![Reply::Int(as_ as i64), Reply::Int(ae as i64)]),
                    Reply::Array(vec![Reply::Int(bs as i64), Reply::Int(be as i64)]),
                ];
                if withmatchlen {
                    m.push(Reply::Int(match_len as i64));
                }
                matches.push(Reply::Array(m));
            }
            as_ = alen;
        }
    }
    if getidx {
        Reply::Map(vec![
            (Reply::bulk(b"matches"), Reply::Array(matches)),
            (Reply::bulk(b"len"), Reply::Int(total as i64)),
        ])
    } else if getlen {
        Reply::Int(total as i64)
    } else {
        Reply::Bulk(Bytes::from(result))
    }
}

/// An x87 80-bit `long double` emulated in software, so that INCRBYFLOAT
/// parses, adds, rounds and prints (`%.17Lf`) exactly as Redis on x86-64.
pub(crate) mod ld {
    use std::cmp::Ordering;

    /// An unsigned big integer (little-endian 32-bit limbs, no leading
    /// zero limbs).
    #[derive(Clone, Debug, PartialEq)]
    struct Big(Vec<u32>);

    impl Big {
        fn from_u128(mut v: u128) -> Big {
            let mut l = Vec::new();
            while v != 0 {
                l.push(v as u32);
                v >>= 32;
            }
            Big(l)
        }

        fn is_zero(&self) -> bool {
            self.0.is_empty()
        }

        fn trim(&mut self) {
            while self.0.last() == Some(&0) {
                self.0.pop();
            }
        }

        /// Number of significant bits.
        fn bits(&self) -> u64 {
            match self.0.last() {
                None => 0,
                Some(&top) => (self.0.len() as u64 - 1) * 32 + (32 - top.leading_zeros() as u64),
            }
        }

        fn bit(&self, i: u64) -> bool {
            let limb = (i / 32) as usize;
            self.0.get(limb).is_some_and(|l| l >> (i % 32) & 1 == 1)
        }

        /// True if any bit below position `i` is set.
        fn any_below(&self, i: u64) -> bool {
            let full = (i / 32) as usize;
            if self.0.iter().take(full).any(|&l| l != 0) {
                return true;
            }
            let r = i % 32;
            r != 0 && self.0.get(full).is_some_and(|l| l & ((1u32 << r) - 1) != 0)
        }

        fn mul_add_small(&mut self, m: u32, a: u32) {
            let mut carry = a as u64;
            for l in &mut self.0 {
                let v = *l as u64 * m as u64 + carry;
                *l = v as u32;
                carry = v >> 32;
            }
            if carry != 0 {
                self.0.push(carry as u32);
            }
        }

        fn divmod_small(&mut self, d: u32) -> u32 {
            let mut rem = 0u64;
            for l in self.0.iter_mut().rev() {
                let cur = (rem << 32) | *l as u64;
                *l = (cur / d as u64) as u32;
                rem = cur % d as u64;
            }
            self.trim();
            rem as u32
        }

        fn shl(&self, n: u64) -> Big {
            if self.is_zero() {
                return Big(Vec::new());
            }
            let limbs = (n / 32) as usize;
            let r = (n % 32) as u32;
            let mut out = vec![0u32; limbs];
            let mut carry = 0u32;
            for &l in &self.0 {
                if r == 0 {
                    out.push(l);
                } else {
                    out.push((l << r) | carry);
                    carry = l >> (32 - r);
                }
            }
            if carry != 0 {
                out.push(carry);
            }
            let mut b = Big(out);
            b.trim();
            b
        }

        fn shr(&self, n: u64) -> Big {
            let limbs = (n / 32) as usize;
            if limbs >= self.0.len() {
                return Big(Vec::new());
            }
            let r = (n % 32) as u32;
            let src = &self.0[limbs..];
            let mut out = Vec::with_capacity(src.len());
            for (i, &l) in src.iter().enumerate() {
                if r == 0 {
                    out.push(l);
                } else {
                    let hi = src.get(i + 1).map_or(0, |h| h << (32 - r));
                    out.push((l >> r) | hi);
                }
            }
            let mut b = Big(out);
            b.trim();
            b
        }

        /// The low 128 bits.
        fn low_u128(&self) -> u128 {
            let mut v = 0u128;
            for (i, &l) in self.0.iter().take(4).enumerate() {
                v |= (l as u128) << (32 * i);
            }
            v
        }

        /// The bits below position `n`.
        fn low_bits(&self, n: u64) -> Big {
            let limbs = (n / 32) as usize;
            let r = (n % 32) as u32;
            let mut out: Vec<u32> = self.0.iter().take(limbs + 1).copied().collect();
            if out.len() > limbs {
                if r == 0 {
                    out.truncate(limbs);
                } else if let Some(l) = out.get_mut(limbs) {
                    *l &= (1u32 << r) - 1;
                }
            }
            let mut b = Big(out);
            b.trim();
            b
        }

        fn cmp(&self, o: &Big) -> Ordering {
            if self.0.len() != o.0.len() {
                return self.0.len().cmp(&o.0.len());
            }
            for (a, b) in self.0.iter().rev().zip(o.0.iter().rev()) {
                if a != b {
                    return a.cmp(b);
                }
            }
            Ordering::Equal
        }

        fn add(&self, o: &Big) -> Big {
            let n = self.0.len().max(o.0.len());
            let mut out = Vec::with_capacity(n + 1);
            let mut carry = 0u64;
            for i in 0..n {
                let v =
                    *self.0.get(i).unwrap_or(&0) as u64 + *o.0.get(i).unwrap_or(&0) as u64 + carry;
                out.push(v as u32);
                carry = v >> 32;
            }
            if carry != 0 {
                out.push(carry as u32);
            }
            Big(out)
        }

        /// `self - o`, requires `self >= o`.
        fn sub(&self, o: &Big) -> Big {
            let mut out = Vec::with_capacity(self.0.len());
            let mut borrow = 0i64;
            for i in 0..self.0.len() {
                let mut v = self.0[i] as i64 - *o.0.get(i).unwrap_or(&0) as i64 - borrow;
                if v < 0 {
                    v += 1 << 32;
                    borrow = 1;
                } else {
                    borrow = 0;
                }
                out.push(v as u32);
            }
            let mut b = Big(out);
            b.trim();
            b
        }

        fn pow10(k: u32) -> Big {
            let mut b = Big::from_u128(1);
            let mut left = k;
            while left > 0 {
                let step = left.min(9);
                b.mul_add_small(10u32.pow(step), 0);
                left -= step;
            }
            b
        }

        fn to_decimal(&self) -> String {
            if self.is_zero() {
                return "0".into();
            }
            let mut n = self.clone();
            let mut chunks = Vec::new();
            while !n.is_zero() {
                chunks.push(n.divmod_small(1_000_000_000));
            }
            let mut s = String::new();
            for (i, c) in chunks.iter().rev().enumerate() {
                if i == 0 {
                    s.push_str(&c.to_string());
                } else {
                    s.push_str(&format!("{c:09}"));
                }
            }
            s
        }
    }

    /// Exponent limits of the x87 extended format (value = mant * 2^exp
    /// with a 64-bit mantissa whose top bit is set).
    const MAX_EXP: i64 = 16384 - 64;
    const MIN_EXP: i64 = -16445 - 63;

    /// An extended-precision value: `(-1)^neg * mant * 2^exp`, or infinity.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Ld {
        neg: bool,
        inf: bool,
        mant: u64,
        exp: i64,
    }

    impl Ld {
        pub const ZERO: Ld = Ld {
            neg: false,
            inf: false,
            mant: 0,
            exp: 0,
        };

        pub fn is_finite(&self) -> bool {
            !self.inf
        }

        fn infinity(neg: bool) -> Ld {
            Ld {
                neg,
                inf: true,
                mant: 0,
                exp: 0,
            }
        }

        /// Rounds `n * 2^e` (plus a non-zero `sticky` fraction below it) to
        /// the nearest value with a 64-bit mantissa, ties to even.
        fn round(neg: bool, n: &Big, e: i64, sticky: bool) -> Ld {
            let bl = n.bits();
            if bl == 0 {
                return Ld { neg, ..Ld::ZERO };
            }
            let (mut mant, mut exp) = if bl <= 64 {
                (n.low_u128() as u64, e)
            } else {
                let sh = bl - 64;
                let q = n.shr(sh).low_u128() as u64;
                let guard = n.bit(sh - 1);
                let rest = sticky || n.any_below(sh - 1);
                let mut exp = e + sh as i64;
                let mut q = q as u128;
                if guard && (rest || q & 1 == 1) {
                    q += 1;
                }
                if q >> 64 != 0 {
                    q >>= 1;
                    exp += 1;
                }
                (q as u64, exp)
            };
            let lz = mant.leading_zeros();
            mant <<= lz;
            exp -= lz as i64;
            if exp > MAX_EXP {
                return Ld::infinity(neg);
            }
            if exp < MIN_EXP {
                return Ld { neg, ..Ld::ZERO };
            }
            Ld {
                neg,
                inf: false,
                mant,
                exp,
            }
        }

        /// Exact sum rounded once, as the FPU does.
        pub fn add(&self, o: &Ld) -> Ld {
            if self.inf || o.inf {
                if self.inf && o.inf && self.neg != o.neg {
                    // NaN: reported like infinity by the caller.
                    return Ld::infinity(false);
                }
                return if self.inf { *self } else { *o };
            }
            if self.mant == 0 {
                return *o;
            }
            if o.mant == 0 {
                return *self;
            }
            let emin = self.exp.min(o.exp);
            let a = Big::from_u128(self.mant as u128).shl((self.exp - emin) as u64);
            let b = Big::from_u128(o.mant as u128).shl((o.exp - emin) as u64);
            if self.neg == o.neg {
                return Ld::round(self.neg, &a.add(&b), emin, false);
            }
            match a.cmp(&b) {
                Ordering::Equal => Ld::ZERO,
                Ordering::Greater => Ld::round(self.neg, &a.sub(&b), emin, false),
                Ordering::Less => Ld::round(o.neg, &b.sub(&a), emin, false),
            }
        }

        /// Redis's human-friendly `ld2string`: `%.17Lf`, trailing zeros
        /// (and a trailing dot) removed, `-0` shown as `0`.
        pub fn human(&self) -> String {
            let mut s = self.fmt_fixed17();
            if s.contains('.') {
                while s.ends_with('0') {
                    s.pop();
                }
                if s.ends_with('.') {
                    s.pop();
                }
            }
            if s == "-0" {
                s = "0".into();
            }
            s
        }

        /// C's `%.17Lf`.
        fn fmt_fixed17(&self) -> String {
            let sign = if self.neg { "-" } else { "" };
            if self.inf {
                return format!("{sign}inf");
            }
            const P17: u128 = 100_000_000_000_000_000;
            let m = Big::from_u128(self.mant as u128);
            let (int, frac) = if self.exp >= 0 {
                (m.shl(self.exp as u64), 0u128)
            } else {
                let sh = (-self.exp) as u64;
                let int = m.shr(sh);
                let f = m.low_bits(sh);
                let mut scaled = f.clone();
                scaled.mul_add_small(100_000_000, 0);
                scaled.mul_add_small(1_000_000_000, 0);
                let q = scaled.shr(sh);
                let rem = scaled.low_bits(sh);
                let mut q = q.low_u128();
                let half_bit = rem.bit(sh - 1);
                let above = rem.any_below(sh - 1);
                if half_bit && (above || q & 1 == 1) {
                    q += 1;
                }
                if q >= P17 {
                    (int.add(&Big::from_u128(1)), q - P17)
                } else {
                    (int, q)
                }
            };
            format!("{sign}{}.{:017}", int.to_decimal(), frac)
        }
    }

    /// Parses a number the way Redis's `string2ld` (strtold) accepts it:
    /// no leading space, the whole string consumed, no NaN, and neither
    /// overflow nor underflow to zero. `inf` is accepted.
    pub fn parse(s: &[u8]) -> Option<Ld> {
        if s.is_empty() || s.len() >= 5 * 1024 {
            return None;
        }
        let (neg, body) = match s[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(Ld::infinity(neg));
        }
        if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
            return parse_hex(neg, &body[2..]);
        }
        let mut i = 0;
        let mut d = Big(Vec::new());
        let mut ndigits = 0usize;
        let mut sig = 0u64;
        let mut scale: i64 = 0;
        let mut seen_dot = false;
        let mut chunk = 0u32;
        let mut chunk_len = 0u32;
        while i < body.len() {
            let c = body[i];
            if c.is_ascii_digit() {
                ndigits += 1;
                if sig > 0 || c != b'0' {
                    sig += 1;
                }
                chunk = chunk * 10 + (c - b'0') as u32;
                chunk_len += 1;
                if chunk_len == 9 {
                    d.mul_add_small(1_000_000_000, chunk);
                    chunk = 0;
                    chunk_len = 0;
                }
                if seen_dot {
                    scale -= 1;
                }
            } else if c == b'.' && !seen_dot {
                seen_dot = true;
            } else {
                break;
            }
            i += 1;
        }
        if chunk_len > 0 {
            d.mul_add_small(10u32.pow(chunk_len), chunk);
        }
        if ndigits == 0 {
            return None;
        }
        if i < body.len() {
            if body[i] | 0x20 != b'e' {
                return None;
            }
            let mut rest = &body[i + 1..];
            let eneg = match rest.first() {
                Some(b'-') => {
                    rest = &rest[1..];
                    true
                }
                Some(b'+') => {
                    rest = &rest[1..];
                    false
                }
                _ => false,
            };
            if rest.is_empty() || !rest.iter().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let mut e: i64 = 0;
            for &c in rest {
                e = (e * 10 + (c - b'0') as i64).min(1_000_000_000);
            }
            scale += if eneg { -e } else { e };
        }
        from_decimal(neg, &d, sig as i64, scale)
    }

    /// `d * 10^k` rounded; `sig` is the number of significant digits of d.
    fn from_decimal(neg: bool, d: &Big, sig: i64, k: i64) -> Option<Ld> {
        if d.is_zero() {
            return Some(Ld { neg, ..Ld::ZERO });
        }
        let mag = sig + k; // value is in [10^(mag-1), 10^mag)
        if mag > 4935 {
            return None;
        }
        if mag < -4953 {
            return None;
        }
        let v = if k >= 0 {
            let n = mul_big(d, &Big::pow10(k as u32));
            Ld::round(neg, &n, 0, false)
        } else {
            // d / 10^-k: scale so that the quotient has 68..70 bits, then
            // divide bit by bit; the remainder only matters as "sticky".
            let p0 = Big::pow10((-k) as u32);
            let (db, pb) = (d.bits() as i64, p0.bits() as i64);
            let s = pb + 68 - db; // scale of d (negative: scale p up instead)
            let (mut r, p) = if s >= 0 {
                (d.shl(s as u64), p0)
            } else {
                (d.clone(), p0.shl((-s) as u64))
            };
            let top = r.bits().saturating_sub(p.bits()) + 1;
            let mut q: u128 = 0;
            for i in (0..=top.min(127)).rev() {
                let ps = p.shl(i);
                if ps.cmp(&r) != Ordering::Greater {
                    r = r.sub(&ps);
                    q |= 1u128 << i;
                }
            }
            Ld::round(neg, &Big::from_u128(q), -s, !r.is_zero())
        };
        if v.inf || v.mant == 0 {
            None
        } else {
            Some(v)
        }
    }

    fn mul_big(a: &Big, b: &Big) -> Big {
        let mut out = vec![0u32; a.0.len() + b.0.len() + 1];
        for (i, &x) in a.0.iter().enumerate() {
            let mut carry = 0u64;
            for (j, &y) in b.0.iter().enumerate() {
                let cur = out[i + j] as u64 + x as u64 * y as u64 + carry;
                out[i + j] = cur as u32;
                carry = cur >> 32;
            }
            let mut k = i + b.0.len();
            while carry != 0 {
                let cur = out[k] as u64 + carry;
                out[k] = cur as u32;
                carry = cur >> 32;
                k += 1;
            }
        }
        let mut r = Big(out);
        r.trim();
        r
    }

    /// strtold's hexadecimal form: `0x` digits, optional fraction, optional
    /// binary exponent `p`.
    fn parse_hex(neg: bool, s: &[u8]) -> Option<Ld> {
        let mut d = Big(Vec::new());
        let mut e: i64 = 0;
        let mut n = 0;
        let mut seen_dot = false;
        let mut i = 0;
        while i < s.len() {
            let c = s[i];
            if let Some(v) = (c as char).to_digit(16) {
                d.mul_add_small(16, v);
                n += 1;
                if seen_dot {
                    e -= 4;
                }
            } else if c == b'.' && !seen_dot {
                seen_dot = true;
            } else {
                break;
            }
            i += 1;
        }
        if n == 0 {
            return None;
        }
        if i < s.len() {
            if s[i] | 0x20 != b'p' {
                return None;
            }
            let mut rest = &s[i + 1..];
            let eneg = match rest.first() {
                Some(b'-') => {
                    rest = &rest[1..];
                    true
                }
                Some(b'+') => {
                    rest = &rest[1..];
                    false
                }
                _ => false,
            };
            if rest.is_empty() || !rest.iter().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let mut x: i64 = 0;
            for &c in rest {
                x = (x * 10 + (c - b'0') as i64).min(1_000_000);
            }
            e += if eneg { -x } else { x };
        }
        if d.is_zero() {
            return Some(Ld { neg, ..Ld::ZERO });
        }
        let v = Ld::round(neg, &d, e, false);
        if v.inf || v.mant == 0 {
            None
        } else {
            Some(v)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn h(a: &str, b: &str) -> String {
            let (Some(a), Some(b)) = (parse(a.as_bytes()), parse(b.as_bytes())) else {
                panic!("unparsable {a} {b}")
            };
            a.add(&b).human()
        }

        #[test]
        fn long_double_sums_match_redis() {
            assert_eq!(h("10.5", "0.1"), "10.6");
            assert_eq!(h("0", "3.0e3"), "3000");
            assert_eq!(h("1.1", "2.2"), "3.3");
            assert_eq!(h("0.1", "0.2"), "0.3");
            assert_eq!(h("5.0e3", "2.0e2"), "5200");
            assert_eq!(h("17179869184", "1.5"), "17179869185.5");
            assert_eq!(h("1", "-1"), "0");
            assert_eq!(h("-1.5", "0.25"), "-1.25");
            // Values checked against Redis 7.0.15 on x86-64.
            assert_eq!(
                h("-903427.1527463753", "123456789.123456789"),
                "122553361.97071041369781597"
            );
            assert_eq!(
                h("-163655.69725848106", "-1509616217.14972115"),
                "-1509779872.84697963111102581"
            );
            assert_eq!(h("2.2", "2.5e-300"), "2.2");
            assert_eq!(h("0.000000000000000015", "0"), "0.00000000000000002");
            assert_eq!(h("0.000000000000000025", "0"), "0.00000000000000002");
            assert_eq!(h("9.99999999999999999999", "0"), "10");
            assert_eq!(h("-5e-18", "0"), "0");
            assert_eq!(h("0X1P-3", "0"), "0.125");
            assert_eq!(h("+.5", "1"), "1.5");
            assert_eq!(
                h("5755947090054749952525594461092483435261195537215397431.08359245195926484756469606230798", "1e30"),
                "5755947090054749952440417017440620580475558051436298240"
            );
            assert_eq!(h("1e-4950", "1"), "1");
            assert!(h("1e300", "-9.0683464e-05")
                .starts_with("10000000000000000000089973240795591938705239442732907"));
            for bad in ["1e5000", "1e-5000", " 1", "1 ", "nan", "1e", "e5", "0x", ""] {
                assert!(parse(bad.as_bytes()).is_none(), "{bad}");
            }
            assert!(parse(b"inf").is_some_and(|v| !v.is_finite()));
            let big = parse(b"1.1e4932");
            assert!(big.is_some_and(|v| !v.add(&v).is_finite()));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::TestEngine;

    fn t() -> TestEngine {
        TestEngine::new()
    }

    #[test]
    fn set_get_and_options() {
        let mut t = t();
        assert_eq!(t.raw(&["SET", "k", "v"]), "+OK\r\n");
        assert_eq!(t.raw(&["GET", "k"]), "$1\r\nv\r\n");
        assert_eq!(t.raw(&["GET", "nokey"]), "$-1\r\n");
        assert_eq!(t.raw(&["SET", "k", "w", "NX"]), "$-1\r\n");
        assert_eq!(t.raw(&["SET", "k", "w", "XX"]), "+OK\r\n");
        assert_eq!(t.raw(&["SET", "k2", "w", "XX"]), "$-1\r\n");
        assert_eq!(t.raw(&["SET", "k", "x", "GET"]), "$1\r\nw\r\n");
        assert_eq!(t.raw(&["SET", "new", "x", "GET"]), "$-1\r\n");
        assert_eq!(t.raw(&["SET", "k", "y", "NX", "GET"]), "$1\r\nx\r\n");
        assert_eq!(t.raw(&["GET", "k"]), "$1\r\nx\r\n");
        assert_eq!(
            t.raw(&["SET", "k", "v", "NX", "XX"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            t.raw(&["SET", "k", "v", "EX", "10", "PX", "100"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            t.raw(&["SET", "k", "v", "EX", "10", "KEEPTTL"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            t.raw(&["SET", "k", "v", "KEEPTTL", "EX", "10"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(t.raw(&["SET", "k", "v", "EX"]), "-ERR syntax error\r\n");
        assert_eq!(
            t.raw(&["SET", "k", "v", "PERSIST"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            t.raw(&["SET", "k", "v", "EX", "0"]),
            "-ERR invalid expire time in 'set' command\r\n"
        );
        assert_eq!(
            t.raw(&["SET", "k", "v", "EX", "-1"]),
            "-ERR invalid expire time in 'set' command\r\n"
        );
        assert_eq!(
            t.raw(&["SET", "k", "v", "EX", "9223372036854775807"]),
            "-ERR invalid expire time in 'set' command\r\n"
        );
        assert_eq!(
            t.raw(&["SET", "k", "v", "PX", "9223372036854775807"]),
            "-ERR invalid expire time in 'set' command\r\n"
        );
        assert_eq!(
            t.raw(&["SET", "k", "v", "EX", "abc"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(t.raw(&["SET", "k", "v", "EX", "100"]), "+OK\r\n");
        assert_eq!(t.raw(&["TTL", "k"]), ":100\r\n");
        assert_eq!(t.raw(&["SET", "k", "v2", "KEEPTTL"]), "+OK\r\n");
        assert_eq!(t.raw(&["TTL", "k"]), ":100\r\n");
        assert_eq!(t.raw(&["SET", "k", "v3"]), "+OK\r\n");
        assert_eq!(t.raw(&["TTL", "k"]), ":-1\r\n");
        assert_eq!(t.raw(&["SET", "k", "v", "PXAT", "1"]), "+OK\r\n");
        assert_eq!(t.raw(&["GET", "k"]), "$-1\r\n");
        assert_eq!(t.raw(&["SET", "k", "v", "exat", "99999999999"]), "+OK\r\n");
        assert!(t.raw(&["TTL", "k"]).starts_with(':'));
    }

    #[test]
    fn set_encodings() {
        let mut t = t();
        t.cmd(&["SET", "a", "12345"]);
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "a"]), "$3\r\nint\r\n");
        t.cmd(&["SET", "a", "012"]);
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "a"]), "$6\r\nembstr\r\n");
        t.cmd(&["SET", "a", &"x".repeat(45)]);
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "a"]), "$3\r\nraw\r\n");
        t.cmd(&["SET", "a", "1"]);
        t.cmd(&["APPEND", "a", "2"]);
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "a"]), "$3\r\nraw\r\n");
        t.cmd(&["APPEND", "fresh", "2"]);
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "fresh"]), "$3\r\nint\r\n");
        t.cmd(&["INCRBYFLOAT", "f", "1"]);
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "f"]), "$6\r\nembstr\r\n");
        t.cmd(&["SETRANGE", "r", "0", "1"]);
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "r"]), "$3\r\nraw\r\n");
    }

    #[test]
    fn wrongtype_errors() {
        let mut t = t();
        t.cmd(&["LPUSH", "l", "a"]);
        if t.raw(&["TYPE", "l"]) != "+list\r\n" {
            return;
        }
        let wt = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
        assert_eq!(t.raw(&["GET", "l"]), wt);
        assert_eq!(t.raw(&["SET", "l", "x", "GET"]), wt);
        assert_eq!(t.raw(&["INCR", "l"]), wt);
        assert_eq!(t.raw(&["APPEND", "l", "x"]), wt);
        assert_eq!(t.raw(&["MGET", "l"]), "*1\r\n$-1\r\n");
        assert_eq!(
            t.raw(&["LCS", "l", "x"]),
            "-ERR The specified keys must contain string values\r\n"
        );
    }

    #[test]
    fn getex_getdel_getset() {
        let mut t = t();
        t.cmd(&["SET", "k", "v"]);
        assert_eq!(t.raw(&["GETEX", "k", "EX", "100"]), "$1\r\nv\r\n");
        assert_eq!(t.raw(&["TTL", "k"]), ":100\r\n");
        assert_eq!(t.raw(&["GETEX", "k", "PERSIST"]), "$1\r\nv\r\n");
        assert_eq!(t.raw(&["TTL", "k"]), ":-1\r\n");
        assert_eq!(
            t.raw(&["GETEX", "k", "EX", "10", "PX", "10"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            t.raw(&["GETEX", "k", "PERSIST", "EX", "10"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(t.raw(&["GETEX", "k", "KEEPTTL"]), "-ERR syntax error\r\n");
        assert_eq!(
            t.raw(&["GETEX", "k", "EX", "0"]),
            "-ERR invalid expire time in 'getex' command\r\n"
        );
        assert_eq!(t.raw(&["GETEX", "nokey", "EX", "0"]), "$-1\r\n");
        assert_eq!(t.raw(&["GETEX", "k", "PXAT", "1"]), "$1\r\nv\r\n");
        assert_eq!(t.raw(&["EXISTS", "k"]), ":0\r\n");
        t.cmd(&["SET", "k", "v"]);
        assert_eq!(t.raw(&["GETDEL", "k"]), "$1\r\nv\r\n");
        assert_eq!(t.raw(&["GETDEL", "k"]), "$-1\r\n");
        assert_eq!(t.raw(&["GETSET", "k", "a"]), "$-1\r\n");
        assert_eq!(t.raw(&["GETSET", "k", "b"]), "$1\r\na\r\n");
    }

    #[test]
    fn setnx_setex_psetex_mset() {
        let mut t = t();
        assert_eq!(t.raw(&["SETNX", "k", "1"]), ":1\r\n");
        assert_eq!(t.raw(&["SETNX", "k", "2"]), ":0\r\n");
        assert_eq!(t.raw(&["SETEX", "k", "100", "v"]), "+OK\r\n");
        assert_eq!(t.raw(&["TTL", "k"]), ":100\r\n");
        assert_eq!(
            t.raw(&["SETEX", "k", "0", "v"]),
            "-ERR invalid expire time in 'setex' command\r\n"
        );
        assert_eq!(
            t.raw(&["PSETEX", "k", "-5", "v"]),
            "-ERR invalid expire time in 'psetex' command\r\n"
        );
        assert_eq!(t.raw(&["PSETEX", "k", "100000", "v"]), "+OK\r\n");
        assert_eq!(t.raw(&["TTL", "k"]), ":100\r\n");
        assert_eq!(t.raw(&["MSET", "a", "1", "b", "2"]), "+OK\r\n");
        assert_eq!(
            t.raw(&["MSET", "a", "1", "b"]),
            "-ERR wrong number of arguments for 'mset' command\r\n"
        );
        assert_eq!(
            t.raw(&["MSETNX", "a", "1", "b"]),
            "-ERR wrong number of arguments for 'msetnx' command\r\n"
        );
        assert_eq!(
            t.raw(&["MGET", "a", "x", "b"]),
            "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n"
        );
        assert_eq!(t.raw(&["MSETNX", "x", "1", "a", "2"]), ":0\r\n");
        assert_eq!(t.raw(&["EXISTS", "x"]), ":0\r\n");
        assert_eq!(t.raw(&["MSETNX", "x", "1", "y", "2"]), ":1\r\n");
    }

    #[test]
    fn counters() {
        let mut t = t();
        assert_eq!(t.raw(&["INCR", "n"]), ":1\r\n");
        assert_eq!(t.raw(&["INCRBY", "n", "10"]), ":11\r\n");
        assert_eq!(t.raw(&["DECR", "n"]), ":10\r\n");
        assert_eq!(t.raw(&["DECRBY", "n", "20"]), ":-10\r\n");
        assert_eq!(
            t.raw(&["DECRBY", "n", "-9223372036854775808"]),
            "-ERR decrement would overflow\r\n"
        );
        assert_eq!(
            t.raw(&["INCRBY", "n", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        t.cmd(&["SET", "n", "9223372036854775807"]);
        assert_eq!(
            t.raw(&["INCR", "n"]),
            "-ERR increment or decrement would overflow\r\n"
        );
        t.cmd(&["SET", "n", " 1"]);
        assert_eq!(
            t.raw(&["INCR", "n"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        t.cmd(&["SET", "n", "5", "EX", "100"]);
        assert_eq!(t.raw(&["INCR", "n"]), ":6\r\n");
        assert_eq!(t.raw(&["TTL", "n"]), ":100\r\n");
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "n"]), "$3\r\nint\r\n");
    }

    #[test]
    fn incrbyfloat_cases() {
        let mut t = t();
        assert_eq!(t.raw(&["INCRBYFLOAT", "f", "10.5"]), "$4\r\n10.5\r\n");
        assert_eq!(t.raw(&["INCRBYFLOAT", "f", "0.1"]), "$4\r\n10.6\r\n");
        assert_eq!(t.raw(&["INCRBYFLOAT", "g", "3.0e3"]), "$4\r\n3000\r\n");
        assert_eq!(
            t.raw(&["INCRBYFLOAT", "g", "x"]),
            "-ERR value is not a valid float\r\n"
        );
        assert_eq!(
            t.raw(&["INCRBYFLOAT", "g", " 1"]),
            "-ERR value is not a valid float\r\n"
        );
        assert_eq!(
            t.raw(&["INCRBYFLOAT", "g", "nan"]),
            "-ERR value is not a valid float\r\n"
        );
        assert_eq!(
            t.raw(&["INCRBYFLOAT", "g", "+inf"]),
            "-ERR increment would produce NaN or Infinity\r\n"
        );
        t.cmd(&["SET", "s", "abc"]);
        assert_eq!(
            t.raw(&["INCRBYFLOAT", "s", "1"]),
            "-ERR value is not a valid float\r\n"
        );
        t.cmd(&["SET", "s", "1e4950"]);
        assert_eq!(
            t.raw(&["INCRBYFLOAT", "s", "1"]),
            "-ERR value is not a valid float\r\n"
        );
        t.cmd(&["SET", "s", "1.1e4932"]);
        assert_eq!(
            t.raw(&["INCRBYFLOAT", "s", "1.1e4932"]),
            "-ERR increment would produce NaN or Infinity\r\n"
        );
        t.cmd(&["SET", "s", "1"]);
        assert!(t.raw(&["INCRBYFLOAT", "s", "1e300"]).len() > 300);
    }

    #[test]
    fn append_strlen_ranges() {
        let mut t = t();
        assert_eq!(t.raw(&["APPEND", "k", "Hello"]), ":5\r\n");
        assert_eq!(t.raw(&["APPEND", "k", " World"]), ":11\r\n");
        assert_eq!(t.raw(&["STRLEN", "k"]), ":11\r\n");
        assert_eq!(t.raw(&["STRLEN", "none"]), ":0\r\n");
        assert_eq!(t.raw(&["GETRANGE", "k", "0", "4"]), "$5\r\nHello\r\n");
        assert_eq!(t.raw(&["GETRANGE", "k", "-5", "-1"]), "$5\r\nWorld\r\n");
        assert_eq!(t.raw(&["GETRANGE", "k", "-1", "-5"]), "$0\r\n\r\n");
        assert_eq!(t.raw(&["GETRANGE", "k", "5", "3"]), "$0\r\n\r\n");
        assert_eq!(
            t.raw(&["GETRANGE", "k", "0", "100"]),
            "$11\r\nHello World\r\n"
        );
        assert_eq!(t.raw(&["SUBSTR", "k", "0", "0"]), "$1\r\nH\r\n");
        assert_eq!(t.raw(&["GETRANGE", "none", "0", "1"]), "$0\r\n\r\n");
        assert_eq!(
            t.raw(&["GETRANGE", "k", "a", "1"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        t.cmd(&["SET", "i", "1234"]);
        assert_eq!(t.raw(&["GETRANGE", "i", "1", "2"]), "$2\r\n23\r\n");
        assert_eq!(t.raw(&["SETRANGE", "k", "6", "Redis"]), ":11\r\n");
        assert_eq!(t.raw(&["GET", "k"]), "$11\r\nHello Redis\r\n");
        assert_eq!(t.raw(&["SETRANGE", "n", "2", "x"]), ":3\r\n");
        assert_eq!(t.raw(&["GET", "n"]), "$3\r\n\0\0x\r\n");
        assert_eq!(t.raw(&["SETRANGE", "m", "2", ""]), ":0\r\n");
        assert_eq!(t.raw(&["EXISTS", "m"]), ":0\r\n");
        assert_eq!(t.raw(&["SETRANGE", "k", "2", ""]), ":11\r\n");
        assert_eq!(
            t.raw(&["SETRANGE", "k", "-1", "x"]),
            "-ERR offset is out of range\r\n"
        );
        assert_eq!(
            t.raw(&["SETRANGE", "k", "536870911", "xx"]),
            "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
        );
        assert_eq!(
            t.raw(&["SETRANGE", "k", "9223372036854775807", "x"]),
            "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
        );
    }

    #[test]
    fn lcs_cases() {
        let mut t = t();
        t.cmd(&["MSET", "a", "ohmytext", "b", "mynewtext"]);
        assert_eq!(t.raw(&["LCS", "a", "b"]), "$6\r\nmytext\r\n");
        assert_eq!(t.raw(&["LCS", "a", "b", "LEN"]), ":6\r\n");
        assert_eq!(
            t.raw(&["LCS", "a", "b", "IDX"]),
            "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n"
        );
        assert_eq!(
            t.raw(&["LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]),
            "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n"
        );
        assert_eq!(
            t.raw(&["LCS", "a", "b", "IDX", "LEN"]),
            "-ERR If you want both the length and indexes, please just use IDX.\r\n"
        );
        assert_eq!(t.raw(&["LCS", "a", "b", "FOO"]), "-ERR syntax error\r\n");
        assert_eq!(
            t.raw(&["LCS", "a", "b", "MINMATCHLEN"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(t.raw(&["LCS", "x", "y"]), "$0\r\n\r\n");
    }
}
