//! The `cmsgpack` library (lua-cmsgpack 0.4.0 as bundled with Redis):
//! MessagePack encoding of Lua values.
//!
//! `cmsgpack.pack(v1, v2, ...)` encodes each argument and concatenates the
//! encodings; `cmsgpack.unpack(s)` decodes every value of the stream;
//! `cmsgpack.unpack_one(s [, offset])` and `cmsgpack.unpack_limit(s, limit
//! [, offset])` decode at most one / `limit` values and return the offset
//! to continue from first (-1 once the input is exhausted).
//!
//! As in Redis: numbers that are exactly a 64-bit integer are encoded as the
//! smallest integer type, other numbers as a float when the conversion to
//! single precision is exact and as a double otherwise; tables whose keys are
//! exactly `1..n` become arrays and other tables maps; tables nested 16 deep
//! (circular references, for instance) are encoded as nil; functions and
//! other unsupported types are encoded as nil. The decoder accepts the types
//! the C decoder accepts (no bin/ext types) and needs no recursion.

use std::os::raw::c_char;

use mlua::{ffi, Lua, MultiValue, Table, Value};

use crate::glue::{
    arg_err, make_fn, msg_err, set_global, Args, LibError, LibResult, Ret, MAX_C_STACK,
};
use crate::num::{f64_to_i32, f64_to_i64};

/// Tables nested this deep are encoded as nil.
const MAX_NESTING: u32 = 16;

fn check_stack(top: i64, space: i64, what: &str) -> LibResult<()> {
    if top + space > MAX_C_STACK {
        return msg_err(format!("stack overflow ({what})"));
    }
    Ok(())
}

fn encode_bytes(buf: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        buf.push(0xa0 | len as u8);
    } else if len <= 0xff {
        buf.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        buf.push(0xda);
        buf.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        buf.push(0xdb);
        buf.extend_from_slice(&(len as u32).to_be_bytes());
    }
    buf.extend_from_slice(s);
}

fn encode_double(buf: &mut Vec<u8>, d: f64) {
    let f = d as f32;
    if d == f64::from(f) {
        buf.push(0xca);
        buf.extend_from_slice(&f.to_be_bytes());
    } else {
        buf.push(0xcb);
        buf.extend_from_slice(&d.to_be_bytes());
    }
}

fn encode_int(buf: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            buf.push(n as u8);
        } else if n <= 0xff {
            buf.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            buf.push(0xcd);
            buf.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            buf.push(0xce);
            buf.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            buf.push(0xcf);
            buf.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        buf.push(n as i8 as u8);
    } else if n >= -128 {
        buf.extend_from_slice(&[0xd0, n as u8]);
    } else if n >= -32768 {
        buf.push(0xd1);
        buf.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        buf.push(0xd2);
        buf.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        buf.push(0xd3);
        buf.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_len(buf: &mut Vec<u8>, n: u64, fix: u8, b16: u8, b32: u8) {
    if n <= 15 {
        buf.push(fix | n as u8);
    } else if n <= 65535 {
        buf.push(b16);
        buf.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        buf.push(b32);
        buf.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

fn encode_number(buf: &mut Vec<u8>, n: f64) {
    let i = f64_to_i64(n);
    if !n.is_infinite() && i as f64 == n {
        encode_int(buf, i);
    } else {
        encode_double(buf, n);
    }
}

/// Runs `f` on every pair of `t` (in `next` order), stopping at the first
/// error `f` returns.
fn for_each_pair(t: &Table, mut f: impl FnMut(Value, Value) -> LibResult<()>) -> LibResult<()> {
    let mut failure: Option<LibError> = None;
    let res = t.for_each::<Value, Value>(|k, v| match f(k, v) {
        Ok(()) => Ok(()),
        Err(e) => {
            failure = Some(e);
            Err(mlua::Error::RuntimeError(String::new()))
        }
    });
    match failure {
        Some(e) => Err(e),
        None => res.map_err(LibError::from),
    }
}

fn table_is_array(t: &Table, top: i64) -> LibResult<bool> {
    check_stack(top, 2, "in function table_is_an_array")?;
    let mut count: i64 = 0;
    let mut max: i64 = 0;
    let mut array = true;
    for_each_pair(t, |k, _| {
        if !array {
            return Ok(());
        }
        let n = match k {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => {
                array = false;
                return Ok(());
            }
        };
        if n <= 0.0 || n.is_infinite() || f64::from(f64_to_i32(n)) != n {
            array = false;
            return Ok(());
        }
        if n > max as f64 {
            max = i64::from(f64_to_i32(n));
        }
        count += 1;
        Ok(())
    })?;
    Ok(array && max == count)
}

fn encode_value(buf: &mut Vec<u8>, v: &Value, level: u32, top: i64) -> LibResult<()> {
    match v {
        Value::Table(_) if level == MAX_NESTING => buf.push(0xc0),
        Value::String(s) => encode_bytes(buf, &s.as_bytes()),
        Value::Boolean(b) => buf.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => encode_number(buf, *i as f64),
        Value::Number(n) => encode_number(buf, *n),
        Value::Table(t) => {
            if table_is_array(t, top)? {
                let len = t.raw_len();
                encode_len(buf, len as u64, 0x90, 0xdc, 0xdd);
                check_stack(top, 1, "in function mp_encode_lua_table_as_array")?;
                for j in 1..=len {
                    let item: Value = t.raw_get(j as i64)?;
                    encode_value(buf, &item, level + 1, top + 1)?;
                }
            } else {
                check_stack(top, 3, "in function mp_encode_lua_table_as_map")?;
                let mut len: u64 = 0;
                for_each_pair(t, |_, _| {
                    len += 1;
                    Ok(())
                })?;
                encode_len(buf, len, 0x80, 0xde, 0xdf);
                for_each_pair(t, |k, v| {
                    encode_value(buf, &k, level + 1, top + 3)?;
                    encode_value(buf, &v, level + 1, top + 2)
                })?;
            }
        }
        _ => buf.push(0xc0),
    }
    Ok(())
}

fn pack(lua: &Lua, args: &Args) -> LibResult<Ret> {
    let nargs = args.top() as i64;
    if nargs == 0 {
        return arg_err(0, "MessagePack pack needs input.");
    }
    if nargs + nargs > MAX_C_STACK {
        return arg_err(0, "Too many arguments for MessagePack pack.");
    }
    let mut buf = Vec::new();
    for i in 1..=args.top() {
        let v = args.get(i).unwrap_or(Value::Nil);
        encode_value(&mut buf, &v, 0, nargs + i as i64)?;
    }
    Ok(Ret::one(Value::String(lua.create_string(&buf)?)))
}

/// Why decoding stopped.
enum DecodeStop {
    Eof,
    BadFormat,
    Err(LibError),
}

impl From<LibError> for DecodeStop {
    fn from(e: LibError) -> Self {
        DecodeStop::Err(e)
    }
}

struct Cursor<'a> {
    s: &'a [u8],
    p: usize,
}

impl Cursor<'_> {
    fn left(&self) -> usize {
        self.s.len() - self.p
    }

    fn need(&self, n: usize) -> Result<(), DecodeStop> {
        if self.left() < n {
            Err(DecodeStop::Eof)
        } else {
            Ok(())
        }
    }

    fn byte(&self, i: usize) -> u8 {
        self.s.get(self.p + i).copied().unwrap_or(0)
    }

    fn be(&self, from: usize, n: usize) -> u64 {
        (0..n).fold(0u64, |acc, k| (acc << 8) | u64::from(self.byte(from + k)))
    }
}

/// What the header at the cursor starts.
enum Item {
    Nil,
    Bool(bool),
    Num(f64),
    /// A string: its bytes are `s[start..start + len]`.
    Str(usize, usize),
    Array(u64),
    Map(u64),
}

fn read_item(c: &mut Cursor<'_>) -> Result<Item, DecodeStop> {
    let b = c.byte(0);
    // A number of `size` bytes with value `v` (computed with bounds-checked
    // reads; it is dropped when the input is too short).
    fn fixed(c: &mut Cursor<'_>, size: usize, v: f64) -> Result<Item, DecodeStop> {
        c.need(size)?;
        c.p += size;
        Ok(Item::Num(v))
    }
    match b {
        0xcc => {
            let v = f64::from(c.byte(1));
            fixed(c, 2, v)
        }
        0xd0 => {
            let v = f64::from(c.byte(1) as i8);
            fixed(c, 2, v)
        }
        0xcd => {
            let v = c.be(1, 2) as f64;
            fixed(c, 3, v)
        }
        0xd1 => {
            let v = f64::from(c.be(1, 2) as u16 as i16);
            fixed(c, 3, v)
        }
        0xce => {
            let v = c.be(1, 4) as f64;
            fixed(c, 5, v)
        }
        0xd2 => {
            let v = f64::from(c.be(1, 4) as u32 as i32);
            fixed(c, 5, v)
        }
        // lua_pushunsigned is lua_pushinteger on 64-bit builds, so uint64
        // values above INT64_MAX come out negative, as in Redis.
        0xcf | 0xd3 => {
            let v = c.be(1, 8) as i64 as f64;
            fixed(c, 9, v)
        }
        0xca => {
            let v = f64::from(f32::from_bits(c.be(1, 4) as u32));
            fixed(c, 5, v)
        }
        0xcb => {
            let v = f64::from_bits(c.be(1, 8));
            fixed(c, 9, v)
        }
        0xc0 => {
            c.p += 1;
            Ok(Item::Nil)
        }
        0xc3 | 0xc2 => {
            c.p += 1;
            Ok(Item::Bool(b == 0xc3))
        }
        0xd9..=0xdb => {
            let hdr = match b {
                0xd9 => 2,
                0xda => 3,
                _ => 5,
            };
            c.need(hdr)?;
            let l = c.be(1, hdr - 1) as usize;
            c.p += hdr;
            c.need(l)?;
            let start = c.p;
            c.p += l;
            Ok(Item::Str(start, l))
        }
        0xdc | 0xde => {
            c.need(3)?;
            let l = c.be(1, 2);
            c.p += 3;
            Ok(if b == 0xdc {
                Item::Array(l)
            } else {
                Item::Map(l)
            })
        }
        0xdd | 0xdf => {
            c.need(5)?;
            let l = c.be(1, 4);
            c.p += 5;
            Ok(if b == 0xdd {
                Item::Array(l)
            } else {
                Item::Map(l)
            })
        }
        _ if b & 0x80 == 0 => fixed(c, 1, f64::from(b)),
        _ if b & 0xe0 == 0xe0 => fixed(c, 1, f64::from(b as i8)),
        _ if b & 0xe0 == 0xa0 => {
            let l = usize::from(b & 0x1f);
            c.need(1 + l)?;
            let start = c.p + 1;
            c.p += 1 + l;
            Ok(Item::Str(start, l))
        }
        _ if b & 0xf0 == 0x90 => {
            c.p += 1;
            Ok(Item::Array(u64::from(b & 0xf)))
        }
        _ if b & 0xf0 == 0x80 => {
            c.p += 1;
            Ok(Item::Map(u64::from(b & 0xf)))
        }
        _ => Err(DecodeStop::BadFormat),
    }
}

const TOO_MANY: &str = "too many return values at once; use unpack_one or unpack_limit instead.";

enum Frame {
    Array { remaining: u64, index: i32 },
    Map { remaining: u64, have_key: bool },
}

/// The state of one `unpack` call, kept outside the protected closure.
struct Decoder<'a> {
    c: Cursor<'a>,
    /// The C decoder's stack height (arguments and decoded values), for
    /// its `luaL_checkstack` limits.
    top: i64,
    frames: Vec<Frame>,
}

/// `lua_checkstack` on the real stack, which is never higher than the
/// emulated one; failing it means running out of memory.
unsafe fn real_check(l: *mut ffi::lua_State) -> Result<(), DecodeStop> {
    if ffi::lua_checkstack(l, 1) == 0 {
        return Err(LibError::Msg(format!("stack overflow ({TOO_MANY})").into_bytes()).into());
    }
    Ok(())
}

impl Decoder<'_> {
    /// Decodes one value onto the Lua stack, building tables with the Lua
    /// stack as the C decoder does, but iteratively.
    unsafe fn decode_one(&mut self, l: *mut ffi::lua_State) -> Result<(), DecodeStop> {
        loop {
            self.c.need(1)?;
            check_stack(self.top, 1, TOO_MANY)?;
            real_check(l)?;
            match read_item(&mut self.c)? {
                Item::Nil => ffi::lua_pushnil(l),
                Item::Bool(b) => ffi::lua_pushboolean(l, i32::from(b)),
                Item::Num(n) => ffi::lua_pushnumber(l, n),
                Item::Str(start, len) => {
                    let bytes = &self.c.s[start..start + len];
                    ffi::lua_pushlstring(l, bytes.as_ptr() as *const c_char, bytes.len());
                }
                Item::Array(len) => {
                    ffi::lua_createtable(l, 0, 0);
                    self.top += 1;
                    check_stack(self.top, 1, "in function mp_decode_to_lua_array")?;
                    if len > 0 {
                        real_check(l)?;
                        self.frames.push(Frame::Array {
                            remaining: len,
                            index: 1,
                        });
                        ffi::lua_pushnumber(l, 1.0);
                        self.top += 1;
                        continue;
                    }
                    self.top -= 1;
                }
                Item::Map(len) => {
                    ffi::lua_createtable(l, 0, 0);
                    if len > 0 {
                        self.top += 1;
                        self.frames.push(Frame::Map {
                            remaining: len,
                            have_key: false,
                        });
                        continue;
                    }
                }
            }
            self.top += 1;
            // A complete value is on top: store it into its containers.
            loop {
                match self.frames.last_mut() {
                    None => return Ok(()),
                    Some(Frame::Array { remaining, index }) => {
                        ffi::lua_rawset(l, -3);
                        self.top -= 2;
                        *remaining -= 1;
                        if *remaining > 0 {
                            *index = index.wrapping_add(1);
                            real_check(l)?;
                            ffi::lua_pushnumber(l, f64::from(*index));
                            self.top += 1;
                            break;
                        }
                    }
                    Some(Frame::Map {
                        remaining,
                        have_key,
                    }) => {
                        if !*have_key {
                            *have_key = true;
                            break;
                        }
                        match ffi::lua_type(l, -2) {
                            ffi::LUA_TNIL => {
                                return Err(LibError::Raw(b"table index is nil".to_vec()).into())
                            }
                            ffi::LUA_TNUMBER if ffi::lua_tonumber(l, -2).is_nan() => {
                                return Err(LibError::Raw(b"table index is NaN".to_vec()).into())
                            }
                            _ => {}
                        }
                        ffi::lua_rawset(l, -3);
                        self.top -= 2;
                        *have_key = false;
                        *remaining -= 1;
                        if *remaining > 0 {
                            break;
                        }
                    }
                }
                self.frames.pop();
            }
        }
    }
}

fn unpack_full(lua: &Lua, s: &[u8], mut limit: i64, offset: i64, top: i64) -> LibResult<Ret> {
    let len = s.len();
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        return msg_err(format!(
            "Invalid request to unpack with offset of {} and limit of {}.",
            offset as i32, len as i32
        ));
    } else if offset as u64 > len as u64 {
        return msg_err(format!(
            "Start offset {} greater than input length {}.",
            offset as i32, len as i32
        ));
    }
    if decode_all {
        limit = i64::from(i32::MAX);
    }
    let mut d = Decoder {
        c: Cursor {
            s,
            p: offset as usize,
        },
        top,
        frames: Vec::new(),
    };
    let shift = i32::from(!decode_all);
    let mut cnt: i32 = 0;
    let mut result: Result<(), DecodeStop> = Ok(());
    // SAFETY: the closure only uses the Lua C API on the stack prepared by
    // `exec_raw` (empty; the results table it pushes goes at index 1, like
    // the C function's argument), checking stack space before every push;
    // all the state it updates lives outside of it.
    let results = unsafe {
        lua.exec_raw::<Value>((), |l| {
            ffi::lua_createtable(l, 0, 0);
            while d.c.left() > 0 && i64::from(cnt) < limit {
                if let Err(e) = d.decode_one(l) {
                    result = Err(e);
                    break;
                }
                cnt += 1;
                ffi::lua_rawseti_(l, 1, cnt + shift);
            }
            if result.is_ok() && !decode_all {
                match check_stack(d.top, 1, "in function mp_unpack_full") {
                    Ok(()) => {
                        let next = if d.c.left() == 0 {
                            -1.0
                        } else {
                            (len - d.c.left()) as f64
                        };
                        ffi::lua_pushnumber(l, next);
                        ffi::lua_rawseti_(l, 1, 1);
                    }
                    Err(e) => result = Err(e.into()),
                }
            }
            ffi::lua_settop(l, 1);
        })?
    };
    match result {
        Ok(()) => match results {
            Value::Table(t) => Ok(Ret::Many(t, i64::from(cnt + shift))),
            _ => Ok(Ret::Values(MultiValue::new())),
        },
        Err(DecodeStop::Eof) => msg_err("Missing bytes in input."),
        Err(DecodeStop::BadFormat) => msg_err("Bad data format in input."),
        Err(DecodeStop::Err(e)) => Err(e),
    }
}

fn unpack(lua: &Lua, args: &Args) -> LibResult<Ret> {
    let s = args.check_bytes(lua, 1)?;
    unpack_full(lua, &s, 0, 0, args.top() as i64)
}

fn unpack_one(lua: &Lua, args: &Args) -> LibResult<Ret> {
    let offset = args.opt_integer(lua, 2, 0)?;
    let s = args.check_bytes(lua, 1)?;
    unpack_full(lua, &s, 1, offset, 1)
}

fn unpack_limit(lua: &Lua, args: &Args) -> LibResult<Ret> {
    let limit = args.check_integer(lua, 2)?;
    let offset = args.opt_integer(lua, 3, 0)?;
    let s = args.check_bytes(lua, 1)?;
    unpack_full(lua, &s, limit, offset, 1)
}

/// Installs the global `cmsgpack` table (`pack`, `unpack`, `unpack_one`,
/// `unpack_limit` and the `_NAME`, `_VERSION`, `_COPYRIGHT`,
/// `_DESCRIPTION` fields).
pub fn register(lua: &Lua) -> mlua::Result<()> {
    let t = lua.create_table()?;
    type F = fn(&Lua, &Args) -> LibResult<Ret>;
    let funcs: [(&str, F); 4] = [
        ("pack", pack),
        ("unpack", unpack),
        ("unpack_one", unpack_one),
        ("unpack_limit", unpack_limit),
    ];
    for (name, f) in funcs {
        t.raw_set(
            name,
            make_fn(lua, move |lua, m: MultiValue| f(lua, &Args::new(m)))?,
        )?;
    }
    t.raw_set("_NAME", "cmsgpack")?;
    t.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    set_global(lua, "cmsgpack", t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::check_all;

    fn lua() -> Lua {
        let lua = Lua::new();
        register(&lua).unwrap();
        lua
    }

    /// Expressions and the results redis-server 7.0.15 gave for them.
    const CASES: &[(&str, &str)] = &[
        (
            r#"cmsgpack.pack(0.1)"#,
            r#"true \xcb?\xb9\x99\x99\x99\x99\x99\x9a"#,
        ),
        (
            r#"cmsgpack.pack(-1099511627776)"#,
            r#"true \xd3\xff\xff\xff\x00\x00\x00\x00\x00"#,
        ),
        (
            r#"cmsgpack.pack(1, -1, 127, 128, 255, 256, 65535, 65536, 2^32-1, 2^32, -32, -33, -128, -129, -32768, -32769, -2^31, -2^31-1)"#,
            r#"true \x01\xff\x7f\xcc\x80\xcc\xff\xcd\x01\x00\xcd\xff\xff\xce\x00\x01\x00\x00\xce\xff\xff\xff\xff\xcf\x00\x00\x00\x01\x00\x00\x00\x00\xe0\xd0\xdf\xd0\x80\xd1\xff\x7f\xd1\x80\x00\xd2\xff\xff\x7f\xff\xd2\x80\x00\x00\x00\xd3\xff\xff\xff\xff\x7f\xff\xff\xff"#,
        ),
        (
            r#"cmsgpack.pack(2^63, -2^63, 2^64, 1.5, 1/0, -1/0, 0/0, -0.0, 1e300, 2^53+1)"#,
            r#"true \xca_\x00\x00\x00\xd3\x80\x00\x00\x00\x00\x00\x00\x00\xca_\x80\x00\x00\xca?\xc0\x00\x00\xca\x7f\x80\x00\x00\xca\xff\x80\x00\x00\xcb\xff\xf8\x00\x00\x00\x00\x00\x00\x00\xcb~7\xe4<\x88\x00u\x9c\xcf\x00 \x00\x00\x00\x00\x00\x00"#,
        ),
        (
            r#"cmsgpack.pack("", "abc", string.rep("x", 31), string.rep("x", 32))"#,
            r#"true \xa0\xa3abc\xbfxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\xd9 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"#,
        ),
        (
            r#"#cmsgpack.pack(string.rep("x", 255)), #cmsgpack.pack(string.rep("x", 256)), #cmsgpack.pack(string.rep("x", 65536))"#,
            r#"true 257 259 65541"#,
        ),
        (r#"cmsgpack.pack({})"#, r#"true \x90"#),
        (r#"cmsgpack.pack({1,2,3})"#, r#"true \x93\x01\x02\x03"#),
        (
            r#"cmsgpack.pack({1,nil,3})"#,
            r#"true \x82\x01\x01\x03\x03"#,
        ),
        (r#"cmsgpack.pack({a=1})"#, r#"true \x81\xa1a\x01"#),
        (
            r#"cmsgpack.pack({[1.5]=1})"#,
            r#"true \x81\xca?\xc0\x00\x00\x01"#,
        ),
        (r#"cmsgpack.pack({[0]=1})"#, r#"true \x81\x00\x01"#),
        (r#"cmsgpack.pack({[2]=1})"#, r#"true \x81\x02\x01"#),
        (
            r#"cmsgpack.pack(true, false, nil, type)"#,
            r#"true \xc3\xc2\xc0\xc0"#,
        ),
        (r#"cmsgpack.pack({{{{}}}})"#, r#"true \x91\x91\x91\x90"#),
        (
            r#"cmsgpack.pack()"#,
            r#"false user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)"#,
        ),
        (
            r#"#cmsgpack.pack(unpack({}, 1, 4001))"#,
            r#"false user_script:1: bad argument #0 to 'pack' (Too many arguments for MessagePack pack.)"#,
        ),
        (r#"#cmsgpack.pack(unpack({}, 1, 4000))"#, r#"true 4000"#),
        (
            r#"cmsgpack.unpack(cmsgpack.pack(1, "a", true, nil, 2.5))"#,
            r#"true 1 a true nil 2.5"#,
        ),
        (r#"cmsgpack.unpack("")"#, r#"true"#),
        (
            r#"cmsgpack.unpack("\193")"#,
            r#"false user_script:1: Bad data format in input."#,
        ),
        (
            r#"cmsgpack.unpack("\196\1a")"#,
            r#"false user_script:1: Bad data format in input."#,
        ),
        (
            r#"cmsgpack.unpack("\205\1")"#,
            r#"false user_script:1: Missing bytes in input."#,
        ),
        (
            r#"cmsgpack.unpack("\145")"#,
            r#"false user_script:1: Missing bytes in input."#,
        ),
        (
            r#"cmsgpack.unpack("\129\192\1")"#,
            r#"false table index is nil"#,
        ),
        (
            r#"cmsgpack.unpack("\129\203\255\248\0\0\0\0\0\0\1")"#,
            r#"false table index is NaN"#,
        ),
        (
            r#"cmsgpack.unpack("\207\255\255\255\255\255\255\255\255")"#,
            r#"true -1"#,
        ),
        (
            r#"cmsgpack.unpack("\211\128\0\0\0\0\0\0\0")"#,
            r#"true -9.2233720368548e+18"#,
        ),
        (
            r#"cmsgpack.unpack("\209\255\128", "\208\128", "\210\128\0\0\0")"#,
            r#"true -128"#,
        ),
        (
            r#"cmsgpack.unpack("\209\255\128\208\128\210\128\0\0\0")"#,
            r#"true -128 -128 -2147483648"#,
        ),
        (
            r#"cmsgpack.unpack("\202\63\192\0\0\203\63\185\153\153\153\153\153\154")"#,
            r#"true 1.5 0.1"#,
        ),
        (
            r#"cmsgpack.unpack("\217\3abc\218\0\1z\219\0\0\0\2zz\163xyz")"#,
            r#"true abc z zz xyz"#,
        ),
        (
            r#"cmsgpack.unpack("\219\255\255\255\255abc")"#,
            r#"false user_script:1: Missing bytes in input."#,
        ),
        (
            r#"cmsgpack.unpack("\221\255\255\255\255")"#,
            r#"false user_script:1: Missing bytes in input."#,
        ),
        (r#"cmsgpack.unpack("\146\1\2")[2]"#, r#"true 2"#),
        (r#"cmsgpack.unpack("\130\161a\1\161b\2").b"#, r#"true 2"#),
        (r#"cmsgpack.unpack_one("\1\2\3")"#, r#"true 1 1"#),
        (r#"cmsgpack.unpack_one("\1\2\3", 2)"#, r#"true -1 3"#),
        (r#"cmsgpack.unpack_one("\1\2\3", 3)"#, r#"true -1"#),
        (
            r#"cmsgpack.unpack_one("\1\2\3", 4)"#,
            r#"false user_script:1: Start offset 4 greater than input length 3."#,
        ),
        (
            r#"cmsgpack.unpack_one("\1\2\3", -1)"#,
            r#"false user_script:1: Invalid request to unpack with offset of -1 and limit of 3."#,
        ),
        (r#"cmsgpack.unpack_one("")"#, r#"true -1"#),
        (r#"cmsgpack.unpack_limit("\1\2\3", 2)"#, r#"true 2 1 2"#),
        (r#"cmsgpack.unpack_limit("\1\2\3", 0)"#, r#"true 1 2 3"#),
        (r#"cmsgpack.unpack_limit("\1\2\3", 0, 1)"#, r#"true 1"#),
        (
            r#"cmsgpack.unpack_limit("\1\2\3", -1)"#,
            r#"false user_script:1: Invalid request to unpack with offset of 0 and limit of 3."#,
        ),
        (
            r#"cmsgpack.unpack_limit("\1\2\3")"#,
            r#"false user_script:1: bad argument #2 to 'unpack_limit' (number expected, got no value)"#,
        ),
        (
            r#"cmsgpack.unpack_one("\1\2\3", "x")"#,
            r#"false user_script:1: bad argument #2 to 'unpack_one' (number expected, got string)"#,
        ),
        (r#"cmsgpack.unpack_one("\1\2\3", 1.7)"#, r#"true 2 2"#),
        (
            r#"cmsgpack.unpack({})"#,
            r#"false user_script:1: bad argument #1 to 'unpack' (string expected, got table)"#,
        ),
        (r#"cmsgpack.unpack(12)"#, r#"true 49 50"#),
        (
            r#"cmsgpack.unpack(string.rep("\1", 8000))"#,
            r#"false user_script:1: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"#,
        ),
        (
            r##"select("#", cmsgpack.unpack(string.rep("\1", 7000)))"##,
            r#"true 7000"#,
        ),
        (
            r#"cmsgpack.unpack(string.rep("\145", 5000))"#,
            r#"false user_script:1: stack overflow (in function mp_decode_to_lua_array)"#,
        ),
        (
            r#"cmsgpack.unpack(string.rep("\129\1", 5000))"#,
            r#"false user_script:1: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"#,
        ),
        (
            r#"type(cmsgpack.unpack(string.rep("\145", 3990) .. "\1")[1][1][1][1])"#,
            r#"true table"#,
        ),
        (
            r#"type(cmsgpack.unpack(string.rep("\145", 3999) .. "\1")[1][1][1][1])"#,
            r#"true table"#,
        ),
        (
            r#"cmsgpack.unpack(string.rep("\145", 4000) .. "\1")[1][1][1][1]"#,
            r#"false user_script:1: stack overflow (in function mp_decode_to_lua_array)"#,
        ),
        (
            r#"cmsgpack.pack(cmsgpack.unpack(string.rep("\145", 30) .. "\1"))"#,
            r#"true \x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\xc0"#,
        ),
        (r#"cmsgpack.unpack("\1\2", 5)"#, r#"true 1 2"#),
        (
            r#"cmsgpack.unpack_one("\1\2", 2^32+1)"#,
            r#"false user_script:1: Start offset 1 greater than input length 2."#,
        ),
        (
            r#"cmsgpack.unpack_one("\1\2", 2^32)"#,
            r#"false user_script:1: Start offset 0 greater than input length 2."#,
        ),
        (
            r#"cmsgpack.unpack("\220\0\2\1\2\222\0\1\1\2\223\0\0\0\0")[2][1]"#,
            r#"false user_script:1: attempt to index field '?' (a number value)"#,
        ),
        (
            r##"select("#", cmsgpack.unpack(string.rep("\1", 7999)))"##,
            r#"true 7999"#,
        ),
        (
            r##"select("#", cmsgpack.unpack_limit(string.rep("\1", 7999), 7998))"##,
            r#"true 7999"#,
        ),
        (
            r##"select("#", cmsgpack.unpack_limit(string.rep("\1", 7999), 7999))"##,
            r#"false user_script:1: stack overflow (in function mp_unpack_full)"#,
        ),
        (
            r##"select("#", cmsgpack.unpack(string.rep("\1", 7998), 1))"##,
            r#"true 7998"#,
        ),
    ];

    #[test]
    fn matches_redis() {
        check_all(&lua(), CASES);
    }

    /// The cmsgpack tests of Redis's `tests/unit/scripting.tcl`.
    #[test]
    fn redis_test_suite() {
        let lua = lua();
        let hex = "local function hex(encoded) local h = '' for i = 1, #encoded do \
                   h = h .. string.format('%02x', string.byte(encoded, i)) end return h end ";
        let got: String = lua
            .load(format!("{hex} return hex(cmsgpack.pack(0.1))"))
            .eval()
            .unwrap();
        assert_eq!(got, "cb3fb999999999999a");
        let got: String = lua
            .load(format!("{hex} return hex(cmsgpack.pack(-1099511627776))"))
            .eval()
            .unwrap();
        assert_eq!(got, "d3ffffff0000000000");
        lua.load(SMOKE).exec().unwrap();
        let (h, a, b): (String, bool, bool) = lua.load(format!("{hex} {CIRCULAR}")).eval().unwrap();
        assert_eq!(
            h,
            "82a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905\
             a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a178c0"
        );
        assert!(a && b);
    }

    const SMOKE: &str = r#"
        local str_lt_32 = string.rep("x", 30)
        local str_lt_255 = string.rep("x", 250)
        local str_lt_65535 = string.rep("x", 65530)
        local str_long = string.rep("x", 100000)
        local array_lt_15 = {1, 2, 3, 4, 5}
        local array_lt_65535 = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18}
        local array_big = {}
        for i=1, 100000 do array_big[i] = i end
        local map_lt_15 = {a=1, b=2}
        local map_big = {}
        for i=1, 100000 do map_big[tostring(i)] = i end
        local some_map = {
            s1=str_lt_32, s2=str_lt_255, s3=str_lt_65535, s4=str_long,
            d1=0.1, i1=1, i2=250, i3=65530, i4=100000, i5=2^40, i6=-1, i7=-120,
            i8=-32000, i9=-100000, i10=-3147483648, a1=array_lt_15, a2=array_lt_65535,
            a3=array_big, m1=map_lt_15, m2=map_big, b1=false, b2=true, n=nil
        }
        local encoded = cmsgpack.pack(some_map)
        local decoded = cmsgpack.unpack(encoded)
        assert(table.concat(some_map) == table.concat(decoded))
        local offset, decoded_one = cmsgpack.unpack_one(encoded, 0)
        assert(table.concat(some_map) == table.concat(decoded_one))
        assert(offset == -1)
        assert(decoded.m2["777"] == 777 and decoded.a3[99999] == 99999)
        assert(decoded.s4 == str_long and decoded.i10 == -3147483648 and decoded.d1 == 0.1)

        local encoded_multiple = cmsgpack.pack(str_lt_32, str_lt_255, str_lt_65535, str_long)
        local offset, obj = cmsgpack.unpack_limit(encoded_multiple, 1, 0)
        assert(obj == str_lt_32)
        offset, obj = cmsgpack.unpack_limit(encoded_multiple, 1, offset)
        assert(obj == str_lt_255)
        offset, obj = cmsgpack.unpack_limit(encoded_multiple, 1, offset)
        assert(obj == str_lt_65535)
        offset, obj = cmsgpack.unpack_limit(encoded_multiple, 1, offset)
        assert(obj == str_long)
        assert(offset == -1)
    "#;

    const CIRCULAR: &str = r#"
        local a = {x=nil,y=5}
        local b = {x=a}
        a['x'] = b
        local encoded = cmsgpack.pack(a)
        local h = hex(encoded)
        local re = cmsgpack.unpack(encoded)
        assert(re)
        assert(re.x)
        assert(re.x.x.y == re.y)
        assert(re.x.x.x.x.y == re.y)
        assert(re.x.x.x.x.x.x.y == re.y)
        assert(re.x.x.x.x.x.x.x.x.x.x.y == re.y)
        assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.y == re.y)
        assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x)
        assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x == nil)
        return h, re.x.x.x.x.x.x.x.x.y == re.y, re.y == 5
    "#;
}
