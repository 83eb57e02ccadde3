//! Conversions between server replies and Lua values, by Redis's rules.
//!
//! [`reply_to_lua`] turns what a command answered (`redis.call`) into the
//! Lua value a script sees, for the protocol the script chose with
//! `redis.setresp` (RESP2 by default). It works straight from the
//! protocol-neutral [`Reply`]: RESP3-only types are downgraded the way the
//! RESP2 encoder would downgrade them, so the result is the one Redis gets
//! by parsing its own RESP output, without encoding anything.
//!
//! [`lua_to_reply`] turns a script's return value into the reply for the
//! caller. It is iterative (an explicit stack, no recursion), so a hostile
//! self-referencing table cannot overflow the Rust stack; it reproduces
//! Redis's `reached lua stack limit` cut-off at the same depth.

use bytes::Bytes;
use lunakv_protocol::{fmt_g17, Reply};
use std::ffi::c_char;
use std::ffi::c_int;

use mlua::{ffi, Function, Lua, Table, Value};

/// Depth of nested replies converted to Lua; deeper parts become errors.
/// Server replies never come close (Redis panics instead).
const MAX_REPLY_DEPTH: usize = 200;

/// The stack budget of [`lua_to_reply`]. Redis's recursive conversion
/// stops with `reached lua stack limit` when Lua's C stack
/// (`LUAI_MAXCSTACK`, 8000 slots) runs out, i.e. after 7995 nested arrays.
/// We keep one mlua reference per open table, and mlua's reference stack
/// has the same 8000-slot bound shared with everything else, so we stop
/// at half of it: 3995 nested arrays (fewer maps), same error.
const LUA_MAX_CSTACK: usize = 4000;

/// Builds the text of an error table the way Redis's `luaPushErrorBuff`
/// does from an error string: `-CODE msg` keeps its code, anything else
/// gets `ERR`; CR/LF around the message are trimmed.
pub(crate) fn error_table_text(buf: &[u8]) -> Vec<u8> {
    let (code, msg): (&[u8], &[u8]) = if let Some(rest) = buf.strip_prefix(b"-") {
        match memchr_space(rest) {
            Some(sp) => (&rest[..sp], &rest[sp + 1..]),
            None => (b"ERR", rest),
        }
    } else {
        (b"ERR", buf)
    };
    let msg = trim_crlf(msg);
    let mut out = Vec::with_capacity(code.len() + 1 + msg.len());
    out.extend_from_slice(code);
    out.push(b' ');
    out.extend_from_slice(msg);
    out
}

fn memchr_space(s: &[u8]) -> Option<usize> {
    s.iter().position(|&c| c == b' ')
}

/// Trims CR and LF from both ends (`sdstrim(s, "\r\n")`).
pub(crate) fn trim_crlf(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|&c| c != b'\r' && c != b'\n')
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|&c| c != b'\r' && c != b'\n')
        .map_or(start, |e| e + 1);
    &s[start..end.max(start)]
}

/// Truncates at the first NUL, as C string functions in Redis do.
pub(crate) fn c_str(s: &[u8]) -> &[u8] {
    match s.iter().position(|&c| c == 0) {
        Some(p) => &s[..p],
        None => s,
    }
}

/// Replaces CR and LF with spaces (`sdsmapchars(s, "\r\n", "  ")`).
pub(crate) fn map_crlf(s: &[u8]) -> Vec<u8> {
    s.iter()
        .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c })
        .collect()
}

/// Creates `{err = text}`; `from_command` adds the
/// `ignore_error_stats_update` marker Redis puts on command errors.
pub(crate) fn error_table(lua: &Lua, text: &[u8], from_command: bool) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(0, 2)?;
    t.raw_set("err", lua.create_string(text)?)?;
    if from_command {
        t.raw_set("ignore_error_stats_update", true)?;
    }
    Ok(t)
}

/// Converts a command's reply to the Lua value a script sees.
/// `resp3` is the protocol chosen with `redis.setresp`.
pub fn reply_to_lua(lua: &Lua, r: &Reply, resp3: bool) -> mlua::Result<Value> {
    // SAFETY: `push_reply` pushes exactly one value and raises only on
    // memory errors, which `exec_raw` catches.
    unsafe { lua.exec_raw::<Value>((), |l| push_reply(l, r, resp3, 0)) }
}

/// Pushes `s` as a Lua string.
///
/// # Safety
/// `l` must be a valid Lua state with one free stack slot.
#[inline]
unsafe fn push_bytes(l: *mut ffi::lua_State, s: &[u8]) {
    ffi::lua_pushlstring(l, s.as_ptr() as *const c_char, s.len());
}

/// Pushes an error table `{err = "<code> <msg>"}` (plus
/// `ignore_error_stats_update = true` when `from_command`), built like
/// [`error_table`] from the pieces of [`error_table_text`].
///
/// # Safety
/// `l` must be a valid Lua state with four free stack slots. Raises only
/// on memory errors; the caller's frames must then own nothing that needs
/// dropping.
pub(crate) unsafe fn push_error_table(
    l: *mut ffi::lua_State,
    code: &[u8],
    msg: &[u8],
    from_command: bool,
) {
    ffi::lua_createtable(l, 0, 2);
    push_bytes(l, b"err");
    push_bytes(l, code);
    push_bytes(l, b" ");
    push_bytes(l, msg);
    ffi::lua_concat(l, 3);
    ffi::lua_rawset(l, -3);
    if from_command {
        push_bytes(l, b"ignore_error_stats_update");
        ffi::lua_pushboolean(l, 1);
        ffi::lua_rawset(l, -3);
    }
}

/// Wraps the value on top of the stack in a one-field table `{key = v}`.
///
/// # Safety
/// `l` must be a valid Lua state with three free stack slots.
unsafe fn wrap_single(l: *mut ffi::lua_State, key: &[u8]) {
    ffi::lua_createtable(l, 0, 1);
    push_bytes(l, key);
    ffi::lua_pushvalue(l, -3);
    ffi::lua_rawset(l, -3);
    ffi::lua_remove(l, -2);
}

/// Pushes the Lua value a script sees for a command's reply straight onto
/// the Lua stack, with the raw C API (no mlua value, no registry
/// reference): the `redis.call` hot path. Same rules as the RESP round
/// trip in Redis; see the module documentation.
///
/// # Safety
/// `l` must be a valid Lua state. Raises (longjmp) only on memory errors;
/// the frames between here and the protected call must then own nothing
/// that needs dropping (this function's own frames hold only references).
pub(crate) unsafe fn push_reply(l: *mut ffi::lua_State, r: &Reply, resp3: bool, depth: usize) {
    ffi::luaL_checkstack(l, 8, c"reply too deep".as_ptr());
    if depth > MAX_REPLY_DEPTH {
        push_error_table(l, b"ERR", b"reply nesting too deep for Lua", true);
        return;
    }
    match r {
        Reply::Status(s) => {
            push_bytes(l, s);
            wrap_single(l, b"ok");
        }
        Reply::Error(e) => {
            let (code, msg): (&[u8], &[u8]) = match memchr_space(e) {
                Some(sp) => (&e[..sp], &e[sp + 1..]),
                None => (b"ERR", &e[..]),
            };
            push_error_table(l, code, trim_crlf(msg), true);
        }
        Reply::Int(i) => ffi::lua_pushnumber(l, *i as f64),
        Reply::Bulk(b) => push_bytes(l, b),
        Reply::Null | Reply::NullArray => {
            if resp3 {
                ffi::lua_pushnil(l)
            } else {
                ffi::lua_pushboolean(l, 0)
            }
        }
        Reply::Array(items) | Reply::Push(items) => {
            push_array(l, items.iter(), items.len(), resp3, depth)
        }
        Reply::Set(items) => {
            if resp3 {
                ffi::lua_createtable(l, 0, table_size(items.len()));
                for it in items {
                    push_reply(l, it, resp3, depth + 1);
                    if ffi::lua_type(l, -1) == ffi::LUA_TNIL {
                        ffi::lua_pop(l, 1);
                    } else {
                        ffi::lua_pushboolean(l, 1);
                        ffi::lua_rawset(l, -3);
                    }
                }
                wrap_single(l, b"set");
            } else {
                push_array(l, items.iter(), items.len(), resp3, depth)
            }
        }
        Reply::Map(pairs) => {
            if resp3 {
                ffi::lua_createtable(l, 0, table_size(pairs.len()));
                for (k, v) in pairs {
                    push_reply(l, k, resp3, depth + 1);
                    push_reply(l, v, resp3, depth + 1);
                    if ffi::lua_type(l, -2) == ffi::LUA_TNIL {
                        ffi::lua_pop(l, 2);
                    } else {
                        ffi::lua_rawset(l, -3);
                    }
                }
                wrap_single(l, b"map");
            } else {
                let flat = pairs.iter().flat_map(|(k, v)| [k, v]);
                push_array(l, flat, pairs.len() * 2, resp3, depth)
            }
        }
        Reply::Double(d) => {
            if resp3 {
                ffi::lua_pushnumber(l, *d);
                wrap_single(l, b"double");
            } else {
                // Formatted into a stack buffer: nothing owned stays live
                // across the push.
                let mut buf = [0u8; 64];
                let n = {
                    let s = fmt_g17(*d);
                    let n = s.len().min(buf.len());
                    buf[..n].copy_from_slice(&s.as_bytes()[..n]);
                    n
                };
                push_bytes(l, &buf[..n]);
            }
        }
        Reply::Bool(b) => {
            if resp3 {
                ffi::lua_pushboolean(l, *b as c_int)
            } else {
                ffi::lua_pushnumber(l, if *b { 1.0 } else { 0.0 })
            }
        }
        Reply::BigNumber(n) => {
            push_bytes(l, n);
            if resp3 {
                wrap_single(l, b"big_number");
            }
        }
        Reply::Verbatim(fmt, s) => {
            if resp3 {
                ffi::lua_createtable(l, 0, 2);
                push_bytes(l, b"string");
                push_bytes(l, s);
                ffi::lua_rawset(l, -3);
                push_bytes(l, b"format");
                push_bytes(l, fmt.as_ref());
                ffi::lua_rawset(l, -3);
                wrap_single(l, b"verbatim_string");
            } else {
                push_bytes(l, s)
            }
        }
        Reply::Raw(bytes) => match crate::resp::parse_reply(bytes) {
            Some(parsed) => push_reply(l, &parsed, resp3, depth),
            None => push_error_table(l, b"ERR", b"invalid reply from command", true),
        },
    }
}

/// [`push_reply`] for a C function's own stack, whose `LUA_MINSTACK`
/// free slots hold any scalar reply: the common replies (integers, bulk
/// strings) are pushed without first checking the stack.
///
/// # Safety
/// As [`push_reply`], and `l` must have at least one free stack slot.
#[inline]
pub(crate) unsafe fn push_command_reply(l: *mut ffi::lua_State, r: &Reply, resp3: bool) {
    match r {
        Reply::Int(i) => ffi::lua_pushnumber(l, *i as f64),
        Reply::Bulk(b) => push_bytes(l, b),
        _ => push_reply(l, r, resp3, 0),
    }
}

/// A table size hint as `lua_createtable` takes it.
fn table_size(n: usize) -> c_int {
    c_int::try_from(n).unwrap_or(c_int::MAX)
}

/// Pushes a Lua array of converted replies.
///
/// # Safety
/// As [`push_reply`].
unsafe fn push_array<'r>(
    l: *mut ffi::lua_State,
    items: impl Iterator<Item = &'r Reply>,
    len: usize,
    resp3: bool,
    depth: usize,
) {
    ffi::lua_createtable(l, table_size(len), 0);
    for (i, it) in items.enumerate() {
        push_reply(l, it, resp3, depth + 1);
        ffi::lua_rawseti_(l, -2, (i + 1) as c_int);
    }
}

/// Converts a Lua number to a reply integer the way C's `(long long)`
/// cast does on x86-64: truncation, and `i64::MIN` for NaN or out of range.
pub(crate) fn number_to_i64(n: f64) -> i64 {
    const LIM: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if n.is_nan() || !(-LIM..LIM).contains(&n) {
        i64::MIN
    } else {
        n as i64
    }
}

/// One table being converted.
enum Frame {
    Array {
        t: Table,
        next: i64,
        items: Vec<Reply>,
    },
    /// A `{map=...}`: `last` is the iteration key, `key` the converted key
    /// waiting for its value, `val` the value to convert next.
    Map {
        t: Table,
        last: Value,
        items: Vec<(Reply, Reply)>,
        key: Option<Reply>,
        val: Option<Value>,
    },
    Set {
        t: Table,
        last: Value,
        items: Vec<Reply>,
    },
}

impl Frame {
    /// Lua stack slots Redis's recursive conversion holds below the value
    /// currently being converted inside this frame.
    fn slots(&self) -> usize {
        match self {
            Frame::Array { .. } => 1,
            // table, map, key, value below the duplicated key; then
            // table, map, key below the value.
            Frame::Map { key: None, .. } => 4,
            Frame::Map { .. } => 3,
            Frame::Set { .. } => 3,
        }
    }
}

/// What converting one value produced: a finished reply or a table to walk.
enum Step {
    Done(Reply),
    Open(Frame),
}

/// Converts a script's return value to the reply for its caller.
/// `resp3` is the script's protocol (`redis.setresp`), which decides how
/// booleans are returned; `next` is Lua's `next`, used to walk maps and
/// sets one entry at a time.
pub fn lua_to_reply(v: Value, resp3: bool, next: &Function) -> Reply {
    let mut stack: Vec<Frame> = Vec::new();
    // The error handler and the value itself sit on Lua's stack in Redis.
    let base = 2usize;
    let mut used = base;
    let mut cur = Some(v);
    loop {
        let done = match cur.take() {
            Some(v) => {
                if used + 4 > LUA_MAX_CSTACK {
                    Reply::err_static("ERR reached lua stack limit")
                } else {
                    match convert_one(v, resp3) {
                        Step::Done(r) => r,
                        Step::Open(f) => {
                            stack.push(f);
                            match advance(&mut stack, &mut used, next) {
                                Advance::Value(v) => {
                                    cur = Some(v);
                                    continue;
                                }
                                Advance::Finished(r) => r,
                            }
                        }
                    }
                }
            }
            None => return Reply::Null,
        };
        // Deliver `done` to the parent frame, closing frames as they end.
        let mut done = done;
        loop {
            let Some(top) = stack.last_mut() else {
                return done;
            };
            used -= top.slots();
            match top {
                Frame::Array { items, .. } => items.push(done),
                Frame::Map { items, key, .. } => match key.take() {
                    None => *key = Some(done),
                    Some(k) => items.push((k, done)),
                },
                Frame::Set { items, .. } => items.push(done),
            }
            match advance(&mut stack, &mut used, next) {
                Advance::Value(v) => {
                    cur = Some(v);
                    break;
                }
                Advance::Finished(r) => done = r,
            }
        }
    }
}

enum Advance {
    /// The next value to convert inside the top frame.
    Value(Value),
    /// The top frame ended (and was popped) with this reply.
    Finished(Reply),
}

/// Moves the top frame to its next value, or closes it.
fn advance(stack: &mut Vec<Frame>, used: &mut usize, next_fn: &Function) -> Advance {
    let Some(top) = stack.last_mut() else {
        return Advance::Finished(Reply::Null);
    };
    let next = match top {
        Frame::Array { t, next, .. } => {
            let v: Value = t.raw_get(*next).unwrap_or(Value::Nil);
            *next += 1;
            if matches!(v, Value::Nil) {
                None
            } else {
                Some(v)
            }
        }
        Frame::Map {
            t, last, key, val, ..
        } => {
            if key.is_some() {
                val.take()
            } else {
                match table_next(next_fn, t, last) {
                    Some((k, v)) => {
                        *last = k.clone();
                        *val = Some(v);
                        Some(k)
                    }
                    None => None,
                }
            }
        }
        Frame::Set { t, last, .. } => match table_next(next_fn, t, last) {
            Some((k, _)) => {
                *last = k.clone();
                Some(k)
            }
            None => None,
        },
    };
    match next {
        Some(v) => {
            *used += top.slots();
            Advance::Value(v)
        }
        None => {
            let r = match stack.pop() {
                Some(Frame::Array { items, .. }) => Reply::Array(items),
                Some(Frame::Map { items, .. }) => Reply::Map(items),
                Some(Frame::Set { items, .. }) => Reply::Set(items),
                None => Reply::Null,
            };
            Advance::Finished(r)
        }
    }
}

/// `next(t, key)`, or `None` at the end (or on any error).
fn table_next(next_fn: &Function, t: &Table, key: &Value) -> Option<(Value, Value)> {
    match next_fn.call::<(Value, Value)>((t.clone(), key.clone())) {
        Ok((Value::Nil, _)) | Err(_) => None,
        Ok(kv) => Some(kv),
    }
}

fn convert_one(v: Value, resp3: bool) -> Step {
    Step::Done(match v {
        Value::String(s) => Reply::Bulk(Bytes::copy_from_slice(&s.as_bytes())),
        Value::Boolean(b) => {
            if resp3 {
                Reply::Bool(b)
            } else if b {
                Reply::Int(1)
            } else {
                Reply::Null
            }
        }
        Value::Integer(i) => Reply::Int(i),
        Value::Number(n) => Reply::Int(number_to_i64(n)),
        Value::Table(t) => return convert_table(t),
        _ => Reply::Null,
    })
}

fn convert_table(t: Table) -> Step {
    if let Ok(Value::String(e)) = t.raw_get::<Value>("err") {
        // luaExtractErrorInformation reads `err` with a plain get, which
        // finds the same string; the reply is "-<msg>" with CR/LF mapped.
        let bytes = e.as_bytes();
        let msg = c_str(&bytes);
        let trimmed = {
            let end = msg
                .iter()
                .rposition(|&c| c != b'\r' && c != b'\n')
                .map_or(0, |p| p + 1);
            &msg[..end]
        };
        return Step::Done(Reply::Error(Bytes::from(map_crlf(trimmed))));
    }
    if let Ok(Value::String(s)) = t.raw_get::<Value>("ok") {
        let bytes = s.as_bytes();
        return Step::Done(Reply::Status(Bytes::from(map_crlf(c_str(&bytes)))));
    }
    match t.raw_get::<Value>("double") {
        Ok(Value::Number(d)) => return Step::Done(Reply::Double(d)),
        Ok(Value::Integer(i)) => return Step::Done(Reply::Double(i as f64)),
        _ => {}
    }
    if let Ok(Value::String(s)) = t.raw_get::<Value>("big_number") {
        return Step::Done(Reply::BigNumber(Bytes::from(map_crlf(&s.as_bytes()))));
    }
    if let Ok(Value::Table(vt)) = t.raw_get::<Value>("verbatim_string") {
        if let Ok(Value::String(fmt)) = vt.raw_get::<Value>("format") {
            if let Ok(Value::String(s)) = vt.raw_get::<Value>("string") {
                let f = fmt.as_bytes();
                let f = c_str(&f);
                let mut ext = [b' '; 3];
                for (i, c) in f.iter().take(3).enumerate() {
                    ext[i] = *c;
                }
                return Step::Done(Reply::Verbatim(ext, Bytes::copy_from_slice(&s.as_bytes())));
            }
        }
    }
    if let Ok(Value::Table(m)) = t.raw_get::<Value>("map") {
        return Step::Open(Frame::Map {
            t: m,
            last: Value::Nil,
            items: Vec::new(),
            key: None,
            val: None,
        });
    }
    if let Ok(Value::Table(s)) = t.raw_get::<Value>("set") {
        return Step::Open(Frame::Set {
            t: s,
            last: Value::Nil,
            items: Vec::new(),
        });
    }
    Step::Open(Frame::Array {
        t,
        next: 1,
        items: Vec::new(),
    })
}
