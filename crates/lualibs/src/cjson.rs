//! The `cjson` library (Lua CJSON 2.1.0 with Redis's patches): JSON
//! encoding and decoding.
//!
//! `cjson.encode(value)` serialises strings, numbers, booleans, nil,
//! `cjson.null` and tables (arrays when every key is a positive integer and
//! the array is not excessively sparse, objects otherwise); `cjson.decode(s)`
//! parses JSON into Lua values, with JSON `null` decoded as `cjson.null`
//! (a NULL light userdata). The configuration functions
//! (`encode_sparse_array`, `encode_max_depth`, `decode_max_depth`,
//! `encode_number_precision`, `encode_keep_buffer`, `encode_invalid_numbers`,
//! `decode_invalid_numbers`) behave as in Redis and `cjson.new()` returns an
//! independent module with its own configuration.
//!
//! Both directions walk nested data with an explicit stack instead of
//! recursion, and keep the C implementation's Lua stack usage so that the
//! nesting limits and their errors match Redis exactly.

use std::os::raw::c_char;
use std::ptr;
use std::sync::{Arc, Mutex, MutexGuard};

use mlua::{ffi, LightUserData, Lua, MultiValue, Table, Value};

use crate::glue::{arg_err, make_fn, msg_err, set_global, Args, LibResult, Ret};
use crate::num::{at, f64_to_i32, fmt_g, strtod};

/// The configuration of one cjson module table.
#[derive(Clone, Copy)]
struct Config {
    encode_sparse_convert: i32,
    encode_sparse_ratio: i32,
    encode_sparse_safe: i32,
    encode_max_depth: i32,
    decode_max_depth: i32,
    encode_invalid_numbers: i32,
    encode_number_precision: i32,
    encode_keep_buffer: i32,
    decode_invalid_numbers: i32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            encode_sparse_convert: 0,
            encode_sparse_ratio: 2,
            encode_sparse_safe: 10,
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            encode_invalid_numbers: 0,
            encode_number_precision: 14,
            encode_keep_buffer: 1,
            decode_invalid_numbers: 1,
        }
    }
}

type Shared = Arc<Mutex<Config>>;

fn lock(cfg: &Shared) -> MutexGuard<'_, Config> {
    cfg.lock().unwrap_or_else(|e| e.into_inner())
}

// ===== Configuration =====

/// `json_arg_init`: at most `n` arguments.
fn arg_init(args: &Args, n: usize) -> LibResult<()> {
    if args.top() > n {
        return arg_err(n as i32 + 1, "found too many arguments");
    }
    Ok(())
}

fn integer_option(
    lua: &Lua,
    args: &Args,
    idx: usize,
    setting: &mut i32,
    min: i32,
    max: i32,
) -> LibResult<Value> {
    if !args.is_none_or_nil(idx) {
        let value = args.check_integer(lua, idx)? as i32;
        if !(min <= value && value <= max) {
            return arg_err(1, format!("expected integer between {min} and {max}"));
        }
        *setting = value;
    }
    Ok(Value::Number(f64::from(*setting)))
}

fn enum_option(
    lua: &Lua,
    args: &Args,
    idx: usize,
    setting: &mut i32,
    options: &[&str],
) -> LibResult<Value> {
    match args.get(idx) {
        None | Some(Value::Nil) => {}
        Some(Value::Boolean(b)) => *setting = i32::from(b),
        Some(_) => {
            let mut name = args.check_bytes(lua, idx)?;
            if let Some(nul) = name.iter().position(|&c| c == 0) {
                name.truncate(nul);
            }
            match options.iter().position(|o| o.as_bytes() == name.as_slice()) {
                Some(i) => *setting = i as i32,
                None => {
                    let mut m = b"invalid option '".to_vec();
                    m.extend_from_slice(&name);
                    m.push(b'\'');
                    return arg_err(idx as i32, m);
                }
            }
        }
    }
    Ok(if *setting == 0 || *setting == 1 {
        Value::Boolean(*setting != 0)
    } else {
        Value::String(lua.create_string(options[*setting as usize])?)
    })
}

const BOOL_OPTIONS: &[&str] = &["off", "on"];

fn values(v: Vec<Value>) -> LibResult<Ret> {
    Ok(Ret::Values(MultiValue::from_vec(v)))
}

// ===== Encoding =====

fn escape(c: u8) -> Option<&'static [u8]> {
    Some(match c {
        b'\x08' => b"\\b",
        b'\t' => b"\\t",
        b'\n' => b"\\n",
        b'\x0c' => b"\\f",
        b'\r' => b"\\r",
        b'"' => b"\\\"",
        b'\\' => b"\\\\",
        b'/' => b"\\/",
        _ => return None,
    })
}

fn append_string(buf: &mut Vec<u8>, s: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buf.reserve(s.len() + 2);
    buf.push(b'"');
    for &c in s {
        if let Some(e) = escape(c) {
            buf.extend_from_slice(e);
        } else if c < 0x20 || c == 0x7f {
            buf.extend_from_slice(b"\\u00");
            buf.push(HEX[usize::from(c >> 4)]);
            buf.push(HEX[usize::from(c & 15)]);
        } else {
            buf.push(c);
        }
    }
    buf.push(b'"');
}

enum EncFrame {
    Array { len: i32, next: i32 },
    Object { first: bool },
}

/// The type name Lua gives the value at `idx`.
unsafe fn type_name_at(l: *mut ffi::lua_State, idx: i32) -> String {
    let t = ffi::lua_type(l, idx);
    let p = ffi::lua_typename(l, t);
    if p.is_null() {
        return "?".into();
    }
    std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
}

unsafe fn exception(l: *mut ffi::lua_State, idx: i32, reason: &str) -> Vec<u8> {
    format!("Cannot serialise {}: {}", type_name_at(l, idx), reason).into_bytes()
}

unsafe fn lua_bytes<'a>(l: *mut ffi::lua_State, idx: i32) -> &'a [u8] {
    let mut len = 0usize;
    let p = ffi::lua_tolstring(l, idx, &mut len);
    if p.is_null() {
        &[]
    } else {
        std::slice::from_raw_parts(p as *const u8, len)
    }
}

unsafe fn append_number(
    l: *mut ffi::lua_State,
    cfg: &Config,
    buf: &mut Vec<u8>,
    idx: i32,
) -> Result<(), Vec<u8>> {
    let num = ffi::lua_tonumber(l, idx);
    match cfg.encode_invalid_numbers {
        0 => {
            if num.is_infinite() || num.is_nan() {
                return Err(exception(l, idx, "must not be NaN or Inf"));
            }
        }
        1 => {
            if num.is_nan() {
                buf.extend_from_slice(b"nan");
                return Ok(());
            }
        }
        _ => {
            if num.is_infinite() || num.is_nan() {
                buf.extend_from_slice(b"null");
                return Ok(());
            }
        }
    }
    buf.extend_from_slice(fmt_g(num, cfg.encode_number_precision as usize).as_bytes());
    Ok(())
}

/// `lua_array_length`: the size of the array on top of the stack, or -1 if
/// it must be encoded as an object.
unsafe fn array_length(l: *mut ffi::lua_State, cfg: &Config) -> Result<i32, Vec<u8>> {
    let mut max: i32 = 0;
    let mut items: i32 = 0;
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        if ffi::lua_type(l, -2) == ffi::LUA_TNUMBER {
            let k = ffi::lua_tonumber(l, -2);
            if k != 0.0 && k.floor() == k && k >= 1.0 {
                if k > f64::from(max) {
                    max = f64_to_i32(k);
                }
                items = items.wrapping_add(1);
                ffi::lua_pop(l, 1);
                continue;
            }
        }
        ffi::lua_pop(l, 2);
        return Ok(-1);
    }
    if cfg.encode_sparse_ratio > 0
        && max > items.wrapping_mul(cfg.encode_sparse_ratio)
        && max > cfg.encode_sparse_safe
    {
        if cfg.encode_sparse_convert == 0 {
            return Err(exception(l, -1, "excessively sparse array"));
        }
        return Ok(-1);
    }
    Ok(max)
}

/// Serialises the value on top of the stack, walking tables with the Lua
/// stack exactly as the C encoder does (one slot per array level, two per
/// object level) but without recursion.
unsafe fn encode_raw(
    l: *mut ffi::lua_State,
    cfg: &Config,
    buf: &mut Vec<u8>,
    frames: &mut Vec<EncFrame>,
) -> Result<(), Vec<u8>> {
    let mut depth: i32 = 0;
    let mut pending = true;
    let mut entered = false;
    loop {
        if pending {
            pending = false;
            match ffi::lua_type(l, -1) {
                ffi::LUA_TSTRING => append_string(buf, lua_bytes(l, -1)),
                ffi::LUA_TNUMBER => append_number(l, cfg, buf, -1)?,
                ffi::LUA_TBOOLEAN => {
                    if ffi::lua_toboolean(l, -1) != 0 {
                        buf.extend_from_slice(b"true");
                    } else {
                        buf.extend_from_slice(b"false");
                    }
                }
                ffi::LUA_TTABLE => {
                    depth += 1;
                    if !(depth <= cfg.encode_max_depth && ffi::lua_checkstack(l, 3) != 0) {
                        return Err(
                            format!("Cannot serialise, excessive nesting ({depth})").into_bytes()
                        );
                    }
                    let len = array_length(l, cfg)?;
                    if len > 0 {
                        buf.push(b'[');
                        frames.push(EncFrame::Array { len, next: 1 });
                    } else {
                        buf.push(b'{');
                        frames.push(EncFrame::Object { first: true });
                        ffi::lua_pushnil(l);
                    }
                    entered = true;
                }
                ffi::LUA_TNIL => buf.extend_from_slice(b"null"),
                ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, -1).is_null() => {
                    buf.extend_from_slice(b"null")
                }
                _ => return Err(exception(l, -1, "type not supported")),
            }
        }
        let Some(frame) = frames.last_mut() else {
            return Ok(());
        };
        let just_entered = std::mem::replace(&mut entered, false);
        match frame {
            EncFrame::Array { len, next } => {
                if !just_entered {
                    ffi::lua_pop(l, 1);
                }
                if *next <= *len {
                    if *next > 1 {
                        buf.push(b',');
                    }
                    ffi::lua_rawgeti_(l, -1, *next);
                    *next += 1;
                    pending = true;
                } else {
                    buf.push(b']');
                    frames.pop();
                    depth -= 1;
                }
            }
            EncFrame::Object { first } => {
                if !just_entered {
                    ffi::lua_pop(l, 1);
                }
                if ffi::lua_next(l, -2) != 0 {
                    if !*first {
                        buf.push(b',');
                    }
                    *first = false;
                    match ffi::lua_type(l, -2) {
                        ffi::LUA_TNUMBER => {
                            buf.push(b'"');
                            append_number(l, cfg, buf, -2)?;
                            buf.extend_from_slice(b"\":");
                        }
                        ffi::LUA_TSTRING => {
                            append_string(buf, lua_bytes(l, -2));
                            buf.push(b':');
                        }
                        _ => return Err(exception(l, -2, "table key must be a number or string")),
                    }
                    pending = true;
                } else {
                    buf.push(b'}');
                    frames.pop();
                    depth -= 1;
                }
            }
        }
    }
}

fn encode(lua: &Lua, cfg: &Shared, args: Args) -> LibResult<Ret> {
    if args.top() != 1 {
        return arg_err(1, "expected 1 argument");
    }
    let cfg = *lock(cfg);
    let mut buf = Vec::new();
    let mut frames = Vec::new();
    let mut result: Result<(), Vec<u8>> = Ok(());
    let value = args.get(1).unwrap_or(Value::Nil);
    // SAFETY: the closure only uses the Lua C API on the stack `exec_raw`
    // prepared (the value at index 1), within the slots it checks, and owns
    // nothing that needs dropping.
    unsafe {
        lua.exec_raw::<()>(value, |l| {
            result = encode_raw(l, &cfg, &mut buf, &mut frames);
            ffi::lua_settop(l, 0);
        })?;
    }
    match result {
        Ok(()) => Ok(Ret::one(Value::String(lua.create_string(&buf)?))),
        Err(m) => msg_err(m),
    }
}

// ===== Decoding =====

#[derive(Clone, Copy, PartialEq)]
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Number(f64),
    Boolean(bool),
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

impl Tok {
    fn name(self) -> &'static str {
        match self {
            Tok::ObjBegin => "T_OBJ_BEGIN",
            Tok::ObjEnd => "T_OBJ_END",
            Tok::ArrBegin => "T_ARR_BEGIN",
            Tok::ArrEnd => "T_ARR_END",
            Tok::Str => "T_STRING",
            Tok::Number(_) => "T_NUMBER",
            Tok::Boolean(_) => "T_BOOLEAN",
            Tok::Null => "T_NULL",
            Tok::Colon => "T_COLON",
            Tok::Comma => "T_COMMA",
            Tok::End => "T_END",
            Tok::Error(e) => e,
        }
    }
}

#[derive(Clone, Copy)]
struct Token {
    t: Tok,
    index: usize,
}

enum DecFrame {
    Object,
    Array(i32),
}

struct Parser<'a> {
    data: &'a [u8],
    ptr: usize,
    cfg: Config,
    depth: i32,
    tmp: Vec<u8>,
    frames: Vec<DecFrame>,
}

fn hexdigit(c: u8) -> i32 {
    match c {
        b'0'..=b'9' => i32::from(c - b'0'),
        _ => {
            let c = c | 0x20;
            if (b'a'..=b'f').contains(&c) {
                10 + i32::from(c - b'a')
            } else {
                -1
            }
        }
    }
}

impl Parser<'_> {
    fn ch(&self, off: usize) -> u8 {
        at(self.data, self.ptr + off)
    }

    fn decode_hex4(&self, off: usize) -> i32 {
        let mut v = 0;
        for k in 0..4 {
            let d = hexdigit(self.ch(off + k));
            if d < 0 {
                return -1;
            }
            v = (v << 4) + d;
        }
        v
    }

    /// Decodes the `\uXXXX` escape at `ptr`, appending UTF-8 to `tmp`.
    fn unicode_escape(&mut self) -> bool {
        let mut cp = self.decode_hex4(2);
        if cp < 0 {
            return false;
        }
        let mut esc_len = 6;
        if cp & 0xF800 == 0xD800 {
            if cp & 0x400 != 0 {
                return false;
            }
            if self.ch(6) != b'\\' || self.ch(7) != b'u' {
                return false;
            }
            let low = self.decode_hex4(8);
            if low < 0 || low & 0xFC00 != 0xDC00 {
                return false;
            }
            cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            esc_len = 12;
        }
        let cp = cp as u32;
        if cp <= 0x7F {
            self.tmp.push(cp as u8);
        } else if cp <= 0x7FF {
            self.tmp
                .extend_from_slice(&[(cp >> 6) as u8 | 0xC0, (cp & 0x3F) as u8 | 0x80]);
        } else if cp <= 0xFFFF {
            self.tmp.extend_from_slice(&[
                (cp >> 12) as u8 | 0xE0,
                ((cp >> 6) & 0x3F) as u8 | 0x80,
                (cp & 0x3F) as u8 | 0x80,
            ]);
        } else {
            self.tmp.extend_from_slice(&[
                (cp >> 18) as u8 | 0xF0,
                ((cp >> 12) & 0x3F) as u8 | 0x80,
                ((cp >> 6) & 0x3F) as u8 | 0x80,
                (cp & 0x3F) as u8 | 0x80,
            ]);
        }
        self.ptr += esc_len;
        true
    }

    fn error_here(&self, what: &'static str) -> Token {
        Token {
            t: Tok::Error(what),
            index: self.ptr,
        }
    }

    fn string_token(&mut self) -> Token {
        self.ptr += 1;
        self.tmp.clear();
        loop {
            let mut ch = self.ch(0);
            if ch == b'"' {
                break;
            }
            if ch == 0 {
                return self.error_here("unexpected end of string");
            }
            if ch == b'\\' {
                let esc = match self.ch(1) {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => 0x08,
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'f' => 0x0c,
                    b'r' => b'\r',
                    b'u' => {
                        if self.unicode_escape() {
                            continue;
                        }
                        return self.error_here("invalid unicode escape code");
                    }
                    _ => return self.error_here("invalid escape code"),
                };
                self.ptr += 1;
                ch = esc;
            }
            self.tmp.push(ch);
            self.ptr += 1;
        }
        self.ptr += 1;
        Token {
            t: Tok::Str,
            index: 0,
        }
    }

    fn is_invalid_number(&self) -> bool {
        let mut p = self.ptr;
        let c = at(self.data, p);
        if c == b'+' {
            return true;
        }
        if c == b'-' {
            p += 1;
        }
        let c = at(self.data, p);
        if c == b'0' {
            let ch2 = at(self.data, p + 1);
            return (ch2 | 0x20) == b'x' || ch2.is_ascii_digit();
        } else if (c as i8) <= b'9' as i8 {
            return false;
        }
        let word = |w: &[u8]| (0..3).all(|k| at(self.data, p + k).eq_ignore_ascii_case(&w[k]));
        word(b"inf") || word(b"nan")
    }

    fn number_token(&mut self) -> Token {
        match strtod(self.data, self.ptr) {
            Some((v, end)) => {
                self.ptr = end;
                Token {
                    t: Tok::Number(v),
                    index: 0,
                }
            }
            None => self.error_here("invalid number"),
        }
    }

    fn next_token(&mut self) -> Token {
        while matches!(self.ch(0), b' ' | b'\t' | b'\n' | b'\r') {
            self.ptr += 1;
        }
        let index = self.ptr;
        let ch = self.ch(0);
        let simple = match ch {
            b'{' => Some(Tok::ObjBegin),
            b'}' => Some(Tok::ObjEnd),
            b'[' => Some(Tok::ArrBegin),
            b']' => Some(Tok::ArrEnd),
            b',' => Some(Tok::Comma),
            b':' => Some(Tok::Colon),
            0 => return Token { t: Tok::End, index },
            _ => None,
        };
        if let Some(t) = simple {
            self.ptr += 1;
            return Token { t, index };
        }
        let starts = |w: &[u8]| w.iter().enumerate().all(|(k, c)| self.ch(k) == *c);
        let mut tok = match ch {
            b'"' => self.string_token(),
            b'-' | b'0'..=b'9' => {
                if self.cfg.decode_invalid_numbers == 0 && self.is_invalid_number() {
                    self.error_here("invalid number")
                } else {
                    self.number_token()
                }
            }
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'+' => {
                if starts(b"true") {
                    self.ptr += 4;
                    Token {
                        t: Tok::Boolean(true),
                        index,
                    }
                } else if starts(b"false") {
                    self.ptr += 5;
                    Token {
                        t: Tok::Boolean(false),
                        index,
                    }
                } else if starts(b"null") {
                    self.ptr += 4;
                    Token {
                        t: Tok::Null,
                        index,
                    }
                } else if self.cfg.decode_invalid_numbers != 0 && self.is_invalid_number() {
                    self.number_token()
                } else {
                    self.error_here("invalid token")
                }
            }
            _ => self.error_here("invalid token"),
        };
        if !matches!(tok.t, Tok::Error(_)) {
            tok.index = index;
        }
        tok
    }

    fn parse_error(&self, expected: &str, tok: Token) -> Vec<u8> {
        format!(
            "Expected {expected} but found {} at character {}",
            tok.t.name(),
            tok.index + 1
        )
        .into_bytes()
    }

    unsafe fn descend(&mut self, l: *mut ffi::lua_State, slots: i32) -> Result<(), Vec<u8>> {
        self.depth += 1;
        if self.depth <= self.cfg.decode_max_depth && ffi::lua_checkstack(l, slots) != 0 {
            return Ok(());
        }
        Err(format!(
            "Found too many nested data structures ({}) at character {}",
            self.depth, self.ptr
        )
        .into_bytes())
    }

    unsafe fn push_tmp(&self, l: *mut ffi::lua_State) {
        ffi::lua_pushlstring(l, self.tmp.as_ptr() as *const c_char, self.tmp.len());
    }

    /// Pushes an object key (the current token) and checks for the colon.
    unsafe fn object_key(&mut self, l: *mut ffi::lua_State, tok: Token) -> Result<(), Vec<u8>> {
        if tok.t != Tok::Str {
            return Err(self.parse_error("object key string", tok));
        }
        self.push_tmp(l);
        let colon = self.next_token();
        if colon.t != Tok::Colon {
            return Err(self.parse_error("colon", colon));
        }
        Ok(())
    }

    /// Parses the whole document, leaving the value on top of the stack.
    unsafe fn parse(&mut self, l: *mut ffi::lua_State) -> Result<(), Vec<u8>> {
        let mut tok = self.next_token();
        'value: loop {
            match tok.t {
                Tok::Str => self.push_tmp(l),
                Tok::Number(n) => ffi::lua_pushnumber(l, n),
                Tok::Boolean(b) => ffi::lua_pushboolean(l, i32::from(b)),
                Tok::Null => ffi::lua_pushlightuserdata(l, ptr::null_mut()),
                Tok::ObjBegin => {
                    self.descend(l, 3)?;
                    ffi::lua_createtable(l, 0, 0);
                    tok = self.next_token();
                    if tok.t == Tok::ObjEnd {
                        self.depth -= 1;
                    } else {
                        self.frames.push(DecFrame::Object);
                        self.object_key(l, tok)?;
                        tok = self.next_token();
                        continue 'value;
                    }
                }
                Tok::ArrBegin => {
                    self.descend(l, 2)?;
                    ffi::lua_createtable(l, 0, 0);
                    tok = self.next_token();
                    if tok.t == Tok::ArrEnd {
                        self.depth -= 1;
                    } else {
                        self.frames.push(DecFrame::Array(1));
                        continue 'value;
                    }
                }
                _ => return Err(self.parse_error("value", tok)),
            }
            // A complete value is on top: store it into its containers.
            loop {
                match self.frames.last_mut() {
                    None => {
                        let end = self.next_token();
                        if end.t != Tok::End {
                            return Err(self.parse_error("the end", end));
                        }
                        return Ok(());
                    }
                    Some(DecFrame::Object) => {
                        ffi::lua_rawset(l, -3);
                        tok = self.next_token();
                        if tok.t == Tok::ObjEnd {
                            self.depth -= 1;
                            self.frames.pop();
                            continue;
                        }
                        if tok.t != Tok::Comma {
                            return Err(self.parse_error("comma or object end", tok));
                        }
                        tok = self.next_token();
                        self.object_key(l, tok)?;
                        tok = self.next_token();
                        continue 'value;
                    }
                    Some(DecFrame::Array(i)) => {
                        ffi::lua_rawseti_(l, -2, *i);
                        *i = i.wrapping_add(1);
                        tok = self.next_token();
                        if tok.t == Tok::ArrEnd {
                            self.depth -= 1;
                            self.frames.pop();
                            continue;
                        }
                        if tok.t != Tok::Comma {
                            return Err(self.parse_error("comma or array end", tok));
                        }
                        tok = self.next_token();
                        continue 'value;
                    }
                }
            }
        }
    }
}

fn decode(lua: &Lua, cfg: &Shared, args: Args) -> LibResult<Ret> {
    if args.top() != 1 {
        return arg_err(1, "expected 1 argument");
    }
    let cfg = *lock(cfg);
    let data = args.check_bytes(lua, 1)?;
    if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return msg_err("JSON parser does not support UTF-16 or UTF-32");
    }
    let mut parser = Parser {
        data: &data,
        ptr: 0,
        cfg,
        depth: 0,
        tmp: Vec::new(),
        frames: Vec::new(),
    };
    let mut result: Result<(), Vec<u8>> = Ok(());
    let arg = args.get(1).unwrap_or(Value::Nil);
    // SAFETY: the closure builds the decoded value with the Lua C API on the
    // stack prepared by `exec_raw` (the JSON text at index 1), checking stack
    // space as it descends; everything it owns lives outside of it.
    let value = unsafe {
        lua.exec_raw::<Value>(arg, |l| {
            result = parser.parse(l);
            if result.is_ok() {
                ffi::lua_replace(l, 1);
            }
            ffi::lua_settop(l, 1);
        })?
    };
    match result {
        Ok(()) => Ok(Ret::one(value)),
        Err(m) => msg_err(m),
    }
}

// ===== Module =====

fn new_module(lua: &Lua) -> mlua::Result<Table> {
    let cfg: Shared = Arc::new(Mutex::new(Config::default()));
    let t = lua.create_table()?;
    let add = |name: &str, f: fn(&Lua, &Shared, Args) -> LibResult<Ret>| -> mlua::Result<()> {
        let cfg = cfg.clone();
        t.raw_set(
            name,
            make_fn(lua, move |lua, m: MultiValue| f(lua, &cfg, Args::new(m)))?,
        )
    };
    add("encode", encode)?;
    add("decode", decode)?;
    add("encode_sparse_array", |lua, cfg, args| {
        arg_init(&args, 3)?;
        let mut c = lock(cfg);
        let a = enum_option(lua, &args, 1, &mut c.encode_sparse_convert, BOOL_OPTIONS)?;
        let b = integer_option(lua, &args, 2, &mut c.encode_sparse_ratio, 0, i32::MAX)?;
        let d = integer_option(lua, &args, 3, &mut c.encode_sparse_safe, 0, i32::MAX)?;
        values(vec![a, b, d])
    })?;
    add("encode_max_depth", |lua, cfg, args| {
        arg_init(&args, 1)?;
        let mut c = lock(cfg);
        values(vec![integer_option(
            lua,
            &args,
            1,
            &mut c.encode_max_depth,
            1,
            i32::MAX,
        )?])
    })?;
    add("decode_max_depth", |lua, cfg, args| {
        arg_init(&args, 1)?;
        let mut c = lock(cfg);
        values(vec![integer_option(
            lua,
            &args,
            1,
            &mut c.decode_max_depth,
            1,
            i32::MAX,
        )?])
    })?;
    add("encode_number_precision", |lua, cfg, args| {
        arg_init(&args, 1)?;
        let mut c = lock(cfg);
        values(vec![integer_option(
            lua,
            &args,
            1,
            &mut c.encode_number_precision,
            1,
            14,
        )?])
    })?;
    add("encode_keep_buffer", |lua, cfg, args| {
        arg_init(&args, 1)?;
        let mut c = lock(cfg);
        values(vec![enum_option(
            lua,
            &args,
            1,
            &mut c.encode_keep_buffer,
            BOOL_OPTIONS,
        )?])
    })?;
    add("encode_invalid_numbers", |lua, cfg, args| {
        arg_init(&args, 1)?;
        let mut c = lock(cfg);
        let opts = &["off", "on", "null"];
        values(vec![enum_option(
            lua,
            &args,
            1,
            &mut c.encode_invalid_numbers,
            opts,
        )?])
    })?;
    add("decode_invalid_numbers", |lua, cfg, args| {
        arg_init(&args, 1)?;
        let mut c = lock(cfg);
        values(vec![enum_option(
            lua,
            &args,
            1,
            &mut c.decode_invalid_numbers,
            BOOL_OPTIONS,
        )?])
    })?;
    t.raw_set(
        "new",
        make_fn(lua, |lua, _m: MultiValue| {
            Ok(Ret::one(Value::Table(new_module(lua)?)))
        })?,
    )?;
    t.raw_set("null", Value::LightUserData(LightUserData(ptr::null_mut())))?;
    t.raw_set("_NAME", "cjson")?;
    t.raw_set("_VERSION", "2.1.0")?;
    Ok(t)
}

/// Installs the global `cjson` table.
pub fn register(lua: &Lua) -> mlua::Result<()> {
    let t = new_module(lua)?;
    set_global(lua, "cjson", t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{check_all, probe};

    fn lua() -> Lua {
        let lua = Lua::new();
        register(&lua).unwrap();
        lua
    }

    /// Expressions and the results redis-server 7.0.15 gave for them, run
    /// in this order on one fresh interpreter (some change the global
    /// configuration, which persists, as it does in Redis).
    const CASES: &[(&str, &str)] = &[
        (r#"cjson.encode({1,2,3})"#, r#"true [1,2,3]"#),
        (r#"cjson.encode({})"#, r#"true {}"#),
        (r#"cjson.encode({a=1})"#, r#"true {"a":1}"#),
        (
            r#"cjson.encode("a/b\"c\\d\1\8\9\10\12\13\127\31 é")"#,
            r#"true "a\x5c/b\x5c"c\x5c\x5cd\x5cu0001\x5cb\x5ct\x5cn\x5cf\x5cr\x5cu007f\x5cu001f \xc3\xa9""#,
        ),
        (r#"cjson.encode(0.1)"#, r#"true 0.1"#),
        (r#"cjson.encode(1/3)"#, r#"true 0.33333333333333"#),
        (r#"cjson.encode(1e100)"#, r#"true 1e+100"#),
        (r#"cjson.encode(-0.0)"#, r#"true -0"#),
        (
            r#"cjson.encode(123456789012345678)"#,
            r#"true 1.2345678901235e+17"#,
        ),
        (
            r#"cjson.encode(1/0)"#,
            r#"false user_script:1: Cannot serialise number: must not be NaN or Inf"#,
        ),
        (
            r#"cjson.encode(-1/0)"#,
            r#"false user_script:1: Cannot serialise number: must not be NaN or Inf"#,
        ),
        (
            r#"cjson.encode(0/0)"#,
            r#"false user_script:1: Cannot serialise number: must not be NaN or Inf"#,
        ),
        (
            r#"cjson.encode({1/0})"#,
            r#"false user_script:1: Cannot serialise number: must not be NaN or Inf"#,
        ),
        (
            r#"cjson.encode({[1/0]=1})"#,
            r#"false user_script:1: Cannot serialise number: must not be NaN or Inf"#,
        ),
        (
            r#"cjson.encode(function() end)"#,
            r#"false user_script:1: Cannot serialise function: type not supported"#,
        ),
        (r#"cjson.encode(cjson.null)"#, r#"true null"#),
        (
            r#"cjson.encode({cjson.null, true, false})"#,
            r#"true [null,true,false]"#,
        ),
        (r#"cjson.encode(nil)"#, r#"true null"#),
        (
            r#"cjson.encode()"#,
            r#"false user_script:1: bad argument #1 to 'encode' (expected 1 argument)"#,
        ),
        (
            r#"cjson.encode(1, 2)"#,
            r#"false user_script:1: bad argument #1 to 'encode' (expected 1 argument)"#,
        ),
        (
            r#"cjson.encode({[false]=1})"#,
            r#"false user_script:1: Cannot serialise boolean: table key must be a number or string"#,
        ),
        (r#"cjson.encode({[1]=1, [3]=3})"#, r#"true [1,null,3]"#),
        (
            r#"cjson.encode({[1]=1, [11]=11})"#,
            r#"false user_script:1: Cannot serialise table: excessively sparse array"#,
        ),
        (
            r#"cjson.encode({[1]=1, [12]=1})"#,
            r#"false user_script:1: Cannot serialise table: excessively sparse array"#,
        ),
        (
            r#"cjson.encode({[1]=1, [2]=2, [3]=3, [4]=4, [5]=5, [6]=6, [20]=1})"#,
            r#"false user_script:1: Cannot serialise table: excessively sparse array"#,
        ),
        (r#"cjson.encode({[0]=1})"#, r#"true {"0":1}"#),
        (r#"cjson.encode({[-1]=1})"#, r#"true {"-1":1}"#),
        (r#"cjson.encode({[1.5]=1})"#, r#"true {"1.5":1}"#),
        (r#"cjson.encode({[2^31]=1})"#, r#"true {"2147483648":1}"#),
        (
            r#"cjson.encode({[2^31-1]=1})"#,
            r#"false user_script:1: Cannot serialise table: excessively sparse array"#,
        ),
        (r#"cjson.encode({1, nil, 3})"#, r#"true [1,null,3]"#),
        (
            r#"cjson.encode({1, {2, {3, {a={}}}}})"#,
            r#"true [1,[2,[3,{"a":{}}]]]"#,
        ),
        (r#"cjson.encode({[1]=1, a=2})"#, r#"true {"1":1,"a":2}"#),
        (
            r#"cjson.encode({coroutine.create(function() end)})"#,
            r#"false user_script:1: Cannot serialise thread: type not supported"#,
        ),
        (
            r#"cjson.encode({{{{{{{{{{{{{{{{{{{{}}}}}}}}}}}}}}}}}}}})"#,
            r#"true [[[[[[[[[[[[[[[[[[[{}]]]]]]]]]]]]]]]]]]]"#,
        ),
        (
            r#"(function() local t = {} t[1] = t return cjson.encode(t) end)()"#,
            r#"false user_script:1: Cannot serialise, excessive nesting (1001)"#,
        ),
        (
            r#"(function() local t = {} t.a = t return cjson.encode(t) end)()"#,
            r#"false user_script:1: Cannot serialise, excessive nesting (1001)"#,
        ),
        (
            r#"(function() local c = cjson.new() c.encode_max_depth(2) return c.encode({{1}}), pcall(c.encode, {{{1}}}) end)()"#,
            r#"true [[1]] false Cannot serialise, excessive nesting (3)"#,
        ),
        (
            r#"(function() local c = cjson.new() c.encode_max_depth(1e9) local t = {} t[1] = t return c.encode(t) end)()"#,
            r#"false user_script:1: Cannot serialise, excessive nesting (7998)"#,
        ),
        (
            r#"(function() local c = cjson.new() c.encode_max_depth(1e9) local t = {} t.a = t return c.encode(t) end)()"#,
            r#"false user_script:1: Cannot serialise, excessive nesting (4000)"#,
        ),
        (
            r#"(function() local c = cjson.new() c.decode_max_depth(1e9) return type(c.decode(string.rep("[", 7990) .. string.rep("]", 7990))) end)()"#,
            r#"true table"#,
        ),
        (
            r#"(function() local c = cjson.new() c.decode_max_depth(1e9) return type(c.decode(string.rep("[", 8000) .. string.rep("]", 8000))) end)()"#,
            r#"false user_script:1: Found too many nested data structures (7999) at character 7999"#,
        ),
        (
            r#"(function() local c = cjson.new() c.decode_max_depth(1e9) return type(c.decode(string.rep("{\"a\":", 8000))) end)()"#,
            r#"false user_script:1: Found too many nested data structures (4000) at character 19996"#,
        ),
        (
            r#"cjson.decode(string.rep("[", 1001) .. string.rep("]", 1001))"#,
            r#"false user_script:1: Found too many nested data structures (1001) at character 1001"#,
        ),
        (
            r#"cjson.decode(string.rep("[", 1000) .. string.rep("]", 1000))[1][1][1][1] ~= nil"#,
            r#"true true"#,
        ),
        (
            r#"(function() local c = cjson.new() c.decode_max_depth(1) return c.decode('[[1]]') end)()"#,
            r#"false user_script:1: Found too many nested data structures (2) at character 2"#,
        ),
        (
            r#"(function() local c = cjson.new() c.decode_max_depth(1) return c.decode('{"a":{"b":1}}') end)()"#,
            r#"false user_script:1: Found too many nested data structures (2) at character 6"#,
        ),
        (r#"cjson.decode('[1,2,3]')[3]"#, r#"true 3"#),
        (
            r#"cjson.decode('{"a":[1,{"b":null}]}').a[2].b == cjson.null"#,
            r#"true true"#,
        ),
        (
            r#"cjson.decode('"\\u00e9\\ud83d\\ude00\\/\\b\\t\\n\\f\\r\\"\\\\"')"#,
            r#"true \xc3\xa9\xf0\x9f\x98\x80/\x08\x09\x0a\x0c\x0d"\x5c"#,
        ),
        (
            r#"cjson.decode('"\\ude00"')"#,
            r#"false user_script:1: Expected value but found invalid unicode escape code at character 2"#,
        ),
        (
            r#"cjson.decode('"\\ud83dx"')"#,
            r#"false user_script:1: Expected value but found invalid unicode escape code at character 2"#,
        ),
        (
            r#"cjson.decode('"\\u12"')"#,
            r#"false user_script:1: Expected value but found invalid unicode escape code at character 2"#,
        ),
        (
            r#"cjson.decode('"\\q"')"#,
            r#"false user_script:1: Expected value but found invalid escape code at character 2"#,
        ),
        (
            r#"cjson.decode('"abc')"#,
            r#"false user_script:1: Expected value but found unexpected end of string at character 5"#,
        ),
        (
            r#"cjson.decode('')"#,
            r#"false user_script:1: Expected value but found T_END at character 1"#,
        ),
        (
            r#"cjson.decode(' ')"#,
            r#"false user_script:1: Expected value but found T_END at character 2"#,
        ),
        (
            r#"cjson.decode('x')"#,
            r#"false user_script:1: Expected value but found invalid token at character 1"#,
        ),
        (
            r#"cjson.decode('[1,]')"#,
            r#"false user_script:1: Expected value but found T_ARR_END at character 4"#,
        ),
        (
            r#"cjson.decode('[1 2]')"#,
            r#"false user_script:1: Expected comma or array end but found T_NUMBER at character 4"#,
        ),
        (
            r#"cjson.decode('{"a" 1}')"#,
            r#"false user_script:1: Expected colon but found T_NUMBER at character 6"#,
        ),
        (
            r#"cjson.decode('{1:2}')"#,
            r#"false user_script:1: Expected object key string but found T_NUMBER at character 2"#,
        ),
        (
            r#"cjson.decode('{"a":1,}')"#,
            r#"false user_script:1: Expected object key string but found T_OBJ_END at character 8"#,
        ),
        (
            r#"cjson.decode('{"a":1 "b"}')"#,
            r#"false user_script:1: Expected comma or object end but found T_STRING at character 8"#,
        ),
        (
            r#"cjson.decode('[1] x')"#,
            r#"false user_script:1: Expected the end but found invalid token at character 5"#,
        ),
        (
            r#"cjson.decode('tru')"#,
            r#"false user_script:1: Expected value but found invalid token at character 1"#,
        ),
        (
            r#"cjson.decode('nil')"#,
            r#"false user_script:1: Expected value but found invalid token at character 1"#,
        ),
        (r#"cjson.decode('0x10')"#, r#"true 16"#),
        (r#"cjson.decode('-0x1p4')"#, r#"true -16"#),
        (r#"cjson.decode('+5')"#, r#"true 5"#),
        (r#"cjson.decode('01')"#, r#"true 1"#),
        (r#"cjson.decode('1e2')"#, r#"true 100"#),
        (r#"cjson.decode('-.5')"#, r#"true -0.5"#),
        (
            r#"cjson.decode('.5')"#,
            r#"false user_script:1: Expected value but found invalid token at character 1"#,
        ),
        (
            r#"cjson.decode('inf'), cjson.decode('-inf'), cjson.decode('Infinity'), cjson.decode('nan'), cjson.decode('-nan'), cjson.decode('NaN')"#,
            r#"true inf -inf inf nan -nan nan"#,
        ),
        (
            r#"cjson.decode('infinit')"#,
            r#"false user_script:1: Expected the end but found invalid token at character 4"#,
        ),
        (r#"cjson.decode('[nan(12)]')[1]"#, r#"true nan"#),
        (
            r#"cjson.decode('-')"#,
            r#"false user_script:1: Expected value but found invalid number at character 1"#,
        ),
        (
            r#"cjson.decode('- 1')"#,
            r#"false user_script:1: Expected value but found invalid number at character 1"#,
        ),
        (r#"cjson.decode('1.e5')"#, r#"true 100000"#),
        (r#"cjson.decode('1.')"#, r#"true 1"#),
        (
            r#"cjson.decode('1e')"#,
            r#"false user_script:1: Expected the end but found invalid token at character 2"#,
        ),
        (
            r#"cjson.decode('2e+')"#,
            r#"false user_script:1: Expected the end but found invalid token at character 2"#,
        ),
        (
            r#"cjson.decode('1e')"#,
            r#"false user_script:1: Expected the end but found invalid token at character 2"#,
        ),
        (
            r#"cjson.decode('[1e]')"#,
            r#"false user_script:1: Expected comma or array end but found invalid token at character 3"#,
        ),
        (
            r#"cjson.decode('[0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10]')[4]"#,
            r#"true 0.0003"#,
        ),
        (
            r#"cjson.decode('"a\0b"')"#,
            r#"false user_script:1: Expected value but found unexpected end of string at character 3"#,
        ),
        (r#"cjson.decode('[1]\0garbage')[1]"#, r#"true 1"#),
        (
            r#"cjson.decode('\0[')"#,
            r#"false user_script:1: JSON parser does not support UTF-16 or UTF-32"#,
        ),
        (
            r#"cjson.decode('a\0')"#,
            r#"false user_script:1: JSON parser does not support UTF-16 or UTF-32"#,
        ),
        (r#"cjson.decode(123)"#, r#"true 123"#),
        (
            r#"cjson.decode({})"#,
            r#"false user_script:1: bad argument #1 to 'decode' (string expected, got table)"#,
        ),
        (
            r#"cjson.decode()"#,
            r#"false user_script:1: bad argument #1 to 'decode' (expected 1 argument)"#,
        ),
        (
            r#"cjson.decode('1', 2)"#,
            r#"false user_script:1: bad argument #1 to 'decode' (expected 1 argument)"#,
        ),
        (r#"cjson.decode('"\\u0000"')"#, r#"true \x00"#),
        (r#"cjson.decode('  true  ')"#, r#"true true"#),
        (
            r#"cjson.decode('falsey')"#,
            r#"false user_script:1: Expected the end but found invalid token at character 6"#,
        ),
        (
            r#"cjson.encode(cjson.decode('{"b":1,"a":2,"c":[1,2,{"d":"x"}]}'))"#,
            r#"true {"a":2,"c":[1,2,{"d":"x"}],"b":1}"#,
        ),
        (r#"cjson.encode_sparse_array()"#, r#"true false 2 10"#),
        (
            r#"cjson.encode_sparse_array(true, 3, 4)"#,
            r#"true true 3 4"#,
        ),
        (r#"cjson.encode_sparse_array("on")"#, r#"true true 3 4"#),
        (
            r#"cjson.encode_sparse_array("bad")"#,
            r#"false user_script:1: bad argument #1 to 'encode_sparse_array' (invalid option 'bad')"#,
        ),
        (
            r#"cjson.encode_sparse_array(1)"#,
            r#"false user_script:1: bad argument #1 to 'encode_sparse_array' (invalid option '1')"#,
        ),
        (
            r#"cjson.encode_sparse_array(nil, -1)"#,
            r#"false user_script:1: bad argument #1 to 'encode_sparse_array' (expected integer between 0 and 2147483647)"#,
        ),
        (
            r#"cjson.encode_sparse_array(nil, nil, -1)"#,
            r#"false user_script:1: bad argument #1 to 'encode_sparse_array' (expected integer between 0 and 2147483647)"#,
        ),
        (
            r#"cjson.encode_sparse_array(1, 2, 3, 4)"#,
            r#"false user_script:1: bad argument #4 to 'encode_sparse_array' (found too many arguments)"#,
        ),
        (r#"cjson.encode_max_depth()"#, r#"true 1000"#),
        (
            r#"cjson.encode_max_depth(0)"#,
            r#"false user_script:1: bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)"#,
        ),
        (r#"cjson.encode_max_depth(2^32+7)"#, r#"true 7"#),
        (
            r#"cjson.encode_max_depth("x")"#,
            r#"false user_script:1: bad argument #1 to 'encode_max_depth' (number expected, got string)"#,
        ),
        (
            r#"cjson.encode_number_precision(15)"#,
            r#"false user_script:1: bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)"#,
        ),
        (r#"cjson.encode_invalid_numbers()"#, r#"true false"#),
        (r#"cjson.encode_invalid_numbers("null")"#, r#"true null"#),
        (r#"cjson.encode_keep_buffer(false)"#, r#"true false"#),
        (r#"cjson.decode_invalid_numbers()"#, r#"true true"#),
        (
            r#"(function() local c = cjson.new() c.encode_sparse_array(true) return c.encode({[1]=1, [12]=1}) end)()"#,
            r#"true {"1":1,"12":1}"#,
        ),
        (
            r#"(function() local c = cjson.new() c.encode_sparse_array(false, 0) return c.encode({[1]=1, [12]=1}) end)()"#,
            r#"true [1,null,null,null,null,null,null,null,null,null,null,1]"#,
        ),
        (
            r#"(function() local c = cjson.new() c.encode_sparse_array(false, 1, 0) return c.encode({[1]=1, [3]=1}) end)()"#,
            r#"false user_script:1: Cannot serialise table: excessively sparse array"#,
        ),
        (
            r#"(function() local c = cjson.new() c.encode_number_precision(3) return c.encode({1/3, 1234567, 0.0001234, 100}) end)()"#,
            r#"true [0.333,1.23e+06,0.000123,100]"#,
        ),
        (
            r#"(function() local c = cjson.new() c.encode_invalid_numbers(true) return c.encode({1/0, -1/0, 0/0, [1/0]=1}) end)()"#,
            r#"true {"1":inf,"2":-inf,"3":nan,"inf":1}"#,
        ),
        (
            r#"(function() local c = cjson.new() c.encode_invalid_numbers(true) return c.encode({a=1/0}) end)()"#,
            r#"true {"a":inf}"#,
        ),
        (
            r#"(function() local c = cjson.new() c.encode_invalid_numbers("null") return c.encode({1/0, 0/0}) end)()"#,
            r#"true [null,null]"#,
        ),
        (
            r#"(function() local c = cjson.new() c.decode_invalid_numbers(false) return pcall(c.decode, '0x10'), pcall(c.decode, 'inf'), pcall(c.decode, '+1'), pcall(c.decode, '01'), pcall(c.decode, '-.5'), pcall(c.decode, '-inf') end)()"#,
            r#"true false false false false true false Expected value but found invalid number at character 1"#,
        ),
        (
            r#"(function() local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('nan') end)()"#,
            r#"false user_script:1: Expected value but found invalid token at character 1"#,
        ),
        (
            r#"(function() local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('[-x]') end)()"#,
            r#"false user_script:1: Expected value but found invalid number at character 2"#,
        ),
        (
            r#"cjson.new()._NAME, type(cjson.new().new), cjson.new().null == cjson.null"#,
            r#"true cjson function true"#,
        ),
        (r#"cjson.encode({["\0a"]=1})"#, r#"true {"\x5cu0000a":1}"#),
        (
            r#"cjson.encode({[1]=1,[2]=2,[3]=3,n=3})"#,
            r#"true {"1":1,"2":2,"3":3,"n":3}"#,
        ),
        (
            r#"cjson.encode(setmetatable({}, {__index=function() return 1 end}))"#,
            r#"true {}"#,
        ),
        (r#"cjson.encode({[1e300]=1})"#, r#"true {"1e+300":1}"#),
        (
            r#"cjson.encode({[-2^63]=1})"#,
            r#"true {"-9.2233720368548e+18":1}"#,
        ),
        (
            r#"cjson.encode({"x", [2^53]=1})"#,
            r#"true {"1":"x","9.007199254741e+15":1}"#,
        ),
    ];

    #[test]
    fn matches_redis() {
        check_all(&lua(), CASES);
    }

    /// The cjson tests of Redis's `tests/unit/scripting.tcl`.
    #[test]
    fn redis_test_suite() {
        let lua = lua();
        assert_eq!(
            probe(
                &lua,
                "table.concat(cjson.decode(\"[0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10]\"), \" \")"
            ),
            "true 0 -5000 -1 0.0003 1023.2 0"
        );
        assert_eq!(
            probe(
                &lua,
                "(function() local decoded = cjson.decode('{\"keya\": \"a\", \"keyb\": \"b\"}') \
                 return decoded.keya, decoded.keyb end)()"
            ),
            "true a b"
        );
        lua.load(SMOKE).exec().unwrap();
    }

    const SMOKE: &str = r#"
        local some_map = {
            s1="Some string",
            n1=100,
            a1={"Some","String","Array"},
            nil1=nil,
            b1=true,
            b2=false}
        local encoded = cjson.encode(some_map)
        local decoded = cjson.decode(encoded)
        assert(table.concat(some_map) == table.concat(decoded))

        cjson.encode_keep_buffer(false)
        encoded = cjson.encode(some_map)
        decoded = cjson.decode(encoded)
        assert(table.concat(some_map) == table.concat(decoded))

        -- Table with numeric keys
        local table1 = {one="one", [1]="one"}
        encoded = cjson.encode(table1)
        decoded = cjson.decode(encoded)
        assert(decoded["one"] == table1["one"])
        assert(decoded["1"] == table1[1])

        -- Array
        local array1 = {[1]="one", [2]="two"}
        encoded = cjson.encode(array1)
        decoded = cjson.decode(encoded)
        assert(table.concat(array1) == table.concat(decoded))

        -- Invalid keys
        local invalid_map = {}
        invalid_map[false] = "false"
        local ok, encoded = pcall(cjson.encode, invalid_map)
        assert(ok == false)

        -- Max depth
        cjson.encode_max_depth(1)
        ok, encoded = pcall(cjson.encode, some_map)
        assert(ok == false)

        cjson.decode_max_depth(1)
        ok, decoded = pcall(cjson.decode, '{"obj": {"array": [1,2,3,4]}}')
        assert(ok == false)

        -- Invalid numbers
        ok, encoded = pcall(cjson.encode, {num1=0/0})
        assert(ok == false)
        cjson.encode_invalid_numbers(true)
        ok, encoded = pcall(cjson.encode, {num1=0/0})
        assert(ok == true)

        -- Restore defaults
        cjson.decode_max_depth(1000)
        cjson.encode_max_depth(1000)
        cjson.encode_invalid_numbers(false)
    "#;

    #[test]
    fn null_is_a_null_light_userdata() {
        let lua = lua();
        let null: Value = lua.load("return cjson.null").eval().unwrap();
        assert!(matches!(null, Value::LightUserData(LightUserData(p)) if p.is_null()));
        assert_eq!(
            probe(&lua, "type(cjson.null), tostring(cjson.null)"),
            "true userdata userdata: (nil)"
        );
    }
}
