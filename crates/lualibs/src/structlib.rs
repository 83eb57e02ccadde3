//! The `struct` library (Roberto Ierusalimschy's `struct` as bundled with
//! Redis): `struct.pack`, `struct.unpack` and `struct.size` convert between
//! Lua values and binary strings described by a format.
//!
//! Formats: `>` big endian, `<` little endian, `!n` maximum alignment
//! (default 8, must be a power of 2), ` ` ignored, `x` one padding byte,
//! `b`/`B` char, `h`/`H` short, `l`/`L` long, `T` size_t, `i`/`I` int with
//! an optional size in bytes (at most 32), `f` float, `d` double, `cn` a
//! fixed string of n bytes (`c0` takes the length from the string when
//! packing, or from the previous result when unpacking) and `s` a
//! zero-terminated string. Lower case integer options are signed.
//!
//! The sizes are those of Redis on x86-64 Linux (long and size_t are 8
//! bytes), integers are handled as 64-bit like the C code's `long`, and
//! every read of the data string is bounds-checked.

use mlua::{Lua, MultiValue, Value};

use crate::glue::{arg_err, make_fn, msg_err, set_global, Args, LibResult, Ret, MAX_C_STACK};
use crate::num::{f64_to_i64, f64_to_u64};

/// Largest size, in bytes, of an `i`/`I` integer.
const MAXINTSIZE: i32 = 32;
/// Default alignment of `!` (that of a double on x86-64).
const MAXALIGN: i32 = 8;

#[derive(Clone, Copy)]
struct Header {
    little: bool,
    align: usize,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            little: true,
            align: 1,
        }
    }
}

/// A format string, read as a C string (it ends at the first NUL).
struct Fmt {
    s: Vec<u8>,
    pos: usize,
}

impl Fmt {
    fn new(mut s: Vec<u8>) -> Fmt {
        if let Some(nul) = s.iter().position(|&c| c == 0) {
            s.truncate(nul);
        }
        Fmt { s, pos: 0 }
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.s.get(self.pos).copied();
        self.pos += 1;
        c
    }

    fn getnum(&mut self, df: i32) -> LibResult<i32> {
        let digit = |f: &Fmt| f.s.get(f.pos).copied().filter(u8::is_ascii_digit);
        if digit(self).is_none() {
            return Ok(df);
        }
        let mut a: i32 = 0;
        while let Some(c) = digit(self) {
            let d = i32::from(c - b'0');
            if a > i32::MAX / 10 || a * 10 > i32::MAX - d {
                return msg_err("integral size overflow");
            }
            a = a * 10 + d;
            self.pos += 1;
        }
        Ok(a)
    }

    fn optsize(&mut self, opt: u8) -> LibResult<usize> {
        Ok(match opt {
            b'B' | b'b' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'x' => 1,
            b'c' => self.getnum(1)? as usize,
            b'i' | b'I' => {
                let sz = self.getnum(4)?;
                if sz > MAXINTSIZE {
                    return msg_err(format!(
                        "integral size {sz} is larger than limit of {MAXINTSIZE}"
                    ));
                }
                sz as usize
            }
            _ => 0,
        })
    }

    fn controloptions(&mut self, opt: u8, h: &mut Header) -> LibResult<()> {
        match opt {
            b' ' => Ok(()),
            b'>' => {
                h.little = false;
                Ok(())
            }
            b'<' => {
                h.little = true;
                Ok(())
            }
            b'!' => {
                let a = self.getnum(MAXALIGN)?;
                if !(a > 0 && a & (a - 1) == 0) {
                    return msg_err(format!("alignment {a} is not a power of 2"));
                }
                h.align = a as usize;
                Ok(())
            }
            _ => {
                let mut m = b"invalid format option '".to_vec();
                m.push(opt);
                m.push(b'\'');
                arg_err(1, m)
            }
        }
    }
}

/// Padding needed before an item of `size` bytes at offset `len`, with the
/// C code's arithmetic (which is odd for sizes that are not powers of 2).
fn gettoalign(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    size.wrapping_sub(len & size.wrapping_sub(1)) & size.wrapping_sub(1)
}

fn put_integer(out: &mut Vec<u8>, n: f64, little: bool, size: usize) {
    let mut value = if n < 0.0 {
        f64_to_i64(n) as u64
    } else {
        f64_to_u64(n)
    };
    let mut buf = [0u8; MAXINTSIZE as usize];
    for k in 0..size {
        let i = if little { k } else { size - 1 - k };
        buf[i] = (value & 0xff) as u8;
        value >>= 8;
    }
    out.extend_from_slice(&buf[..size]);
}

fn get_integer(b: &[u8], little: bool, signed: bool) -> f64 {
    let size = b.len();
    let mut l: u64 = 0;
    for k in 0..size {
        let i = if little { size - 1 - k } else { k };
        l = (l << 8) | u64::from(b[i]);
    }
    if !signed {
        return l as f64;
    }
    let shift = ((size as i64) * 8 - 1) & 63;
    let mask = u64::MAX << shift;
    if l & mask != 0 {
        l |= mask;
    }
    l as i64 as f64
}

fn endian_bytes<const N: usize>(mut b: [u8; N], little: bool) -> [u8; N] {
    if !little {
        b.reverse();
    }
    b
}

fn pack(lua: &Lua, args: &Args) -> LibResult<Ret> {
    let mut fmt = Fmt::new(args.check_bytes(lua, 1)?);
    let mut h = Header::default();
    let mut arg = 2usize;
    let mut total = 0usize;
    let mut out = Vec::new();
    while let Some(opt) = fmt.next() {
        let mut size = fmt.optsize(opt)?;
        let toalign = gettoalign(total, &h, opt, size);
        total = total.wrapping_add(toalign);
        out.resize(out.len() + toalign, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = args.check_number(lua, arg)?;
                arg += 1;
                put_integer(&mut out, n, h.little, size);
            }
            b'x' => out.push(0),
            b'f' => {
                let f = args.check_number(lua, arg)? as f32;
                arg += 1;
                out.extend_from_slice(&endian_bytes(f.to_le_bytes(), h.little));
            }
            b'd' => {
                let d = args.check_number(lua, arg)?;
                arg += 1;
                out.extend_from_slice(&endian_bytes(d.to_le_bytes(), h.little));
            }
            b'c' | b's' => {
                let s = args.check_bytes(lua, arg)?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    return arg_err(arg as i32, "string too short");
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                    size += 1;
                }
            }
            _ => fmt.controloptions(opt, &mut h)?,
        }
        total = total.wrapping_add(size);
    }
    Ok(Ret::one(Value::String(lua.create_string(&out)?)))
}

fn unpack(lua: &Lua, args: &Args) -> LibResult<Ret> {
    let mut fmt = Fmt::new(args.check_bytes(lua, 1)?);
    let data = args.check_bytes(lua, 2)?;
    let ld = data.len();
    let mut pos = args.opt_integer(lua, 3, 1)? as u64 as usize;
    if pos == 0 {
        return arg_err(3, "offset must be 1 or greater");
    }
    pos -= 1;
    let nargs = args.top() as i64;
    let mut h = Header::default();
    let mut res: Vec<Value> = Vec::new();
    let fits = |pos: usize, size: usize| size <= ld && pos <= ld - size;
    while let Some(opt) = fmt.next() {
        let mut size = fmt.optsize(opt)?;
        pos = pos.wrapping_add(gettoalign(pos, &h, opt, size));
        if !fits(pos, size) {
            return arg_err(2, "data string too short");
        }
        if nargs + res.len() as i64 + 2 > MAX_C_STACK {
            return msg_err("stack overflow (too many results)");
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let signed = opt.is_ascii_lowercase();
                res.push(Value::Number(get_integer(
                    &data[pos..pos + size],
                    h.little,
                    signed,
                )));
            }
            b'x' => {}
            b'f' => {
                let mut b = [0u8; 4];
                b.copy_from_slice(&data[pos..pos + 4]);
                let f = f32::from_le_bytes(endian_bytes(b, h.little));
                res.push(Value::Number(f64::from(f)));
            }
            b'd' => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[pos..pos + 8]);
                res.push(Value::Number(f64::from_le_bytes(endian_bytes(b, h.little))));
            }
            b'c' => {
                if size == 0 {
                    let prev = match res.last() {
                        Some(v) => Args::from_vec(vec![v.clone()]).to_number(lua, 1)?,
                        None => None,
                    };
                    let Some(n) = prev else {
                        return msg_err("format 'c0' needs a previous size");
                    };
                    size = f64_to_u64(n) as usize;
                    res.pop();
                    if !fits(pos, size) {
                        return arg_err(2, "data string too short");
                    }
                }
                res.push(Value::String(lua.create_string(&data[pos..pos + size])?));
            }
            b's' => {
                let Some(z) = data[pos..].iter().position(|&c| c == 0) else {
                    return msg_err("unfinished string in data");
                };
                size = z + 1;
                res.push(Value::String(lua.create_string(&data[pos..pos + z])?));
            }
            _ => fmt.controloptions(opt, &mut h)?,
        }
        pos = pos.wrapping_add(size);
    }
    res.push(Value::Number(pos.wrapping_add(1) as i64 as f64));
    crate::glue::ret_values(lua, res)
}

fn size(lua: &Lua, args: &Args) -> LibResult<Ret> {
    let mut fmt = Fmt::new(args.check_bytes(lua, 1)?);
    let mut h = Header::default();
    let mut pos = 0usize;
    while let Some(opt) = fmt.next() {
        let size = fmt.optsize(opt)?;
        pos = pos.wrapping_add(gettoalign(pos, &h, opt, size));
        if opt == b's' {
            return arg_err(1, "option 's' has no fixed size");
        } else if opt == b'c' && size == 0 {
            return arg_err(1, "option 'c0' has no fixed size");
        }
        if !opt.is_ascii_alphanumeric() {
            fmt.controloptions(opt, &mut h)?;
        }
        pos = pos.wrapping_add(size);
    }
    Ok(Ret::one(Value::Number(pos as i64 as f64)))
}

/// Installs the global `struct` table (`pack`, `unpack`, `size`).
pub fn register(lua: &Lua) -> mlua::Result<()> {
    let t = lua.create_table()?;
    type F = fn(&Lua, &Args) -> LibResult<Ret>;
    // `pack` pushes a nil "mark" above its arguments in C: a missing
    // argument right after the last one is seen as nil, not "no value".
    let funcs: [(&str, F, bool); 3] = [
        ("pack", pack, true),
        ("unpack", unpack, false),
        ("size", size, false),
    ];
    for (name, f, mark) in funcs {
        let func = make_fn(lua, move |lua, m: MultiValue| {
            let args = Args::new(m);
            f(lua, &if mark { args.with_nil_mark() } else { args })
        })?;
        t.raw_set(name, func)?;
    }
    set_global(lua, "struct", t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lua() -> Lua {
        let lua = Lua::new();
        register(&lua).unwrap();
        lua
    }

    /// Evaluates `expr` inside `pcall` and renders the results like the
    /// probes run against redis-server: `tostring` of each value, strings
    /// with bytes outside printable ASCII (and `\`) written as `\xNN`.
    fn run(lua: &Lua, expr: &str) -> String {
        let code = format!(
            "local function hx(s) if type(s) ~= 'string' then return tostring(s) end \
             local h = '' for i = 1, #s do local b = s:byte(i) \
             if b < 32 or b > 126 or b == 92 then h = h .. string.format('\\\\x%02x', b) \
             else h = h .. string.char(b) end end return h end \
             local r = {{pcall(function() return {expr} end)}} local o = {{}} \
             for i = 1, table.maxn(r) do o[#o+1] = hx(r[i]) end return table.concat(o, ' ')"
        );
        lua.load(&code)
            .set_name("@user_script")
            .eval::<mlua::LuaString>()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string()
    }

    const CASES: &[(&str, &str)] = &[
        (
            r#"struct.pack(">i16", -1)"#,
            r"true \x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff",
        ),
        (r#"struct.unpack("<i16", ("\255"):rep(16))"#, "true -1 17"),
        (r#"struct.unpack("<i12", ("\255"):rep(12))"#, "true -1 13"),
        (
            r#"struct.unpack("<I12", ("\255"):rep(12))"#,
            "true 1.844674407371e+19 13",
        ),
        (r#"struct.unpack("<i0", "")"#, "true 0 1"),
        (r#"struct.size("!8bid")"#, "true 16"),
        (r#"struct.size("!bid")"#, "true 16"),
        (r#"struct.size("!4bhd")"#, "true 12"),
        (
            r#"struct.pack("!4bhd", 1, 2, 3.5)"#,
            r"true \x01\x00\x02\x00\x00\x00\x00\x00\x00\x00\x0c@",
        ),
        (r#"struct.size("a5z")"#, "true 0"),
        (
            r#"struct.pack("a")"#,
            "false user_script:1: bad argument #1 to 'pack' (invalid format option 'a')",
        ),
        (
            r#"struct.size("!3")"#,
            "false user_script:1: alignment 3 is not a power of 2",
        ),
        (
            r#"struct.pack("i33")"#,
            "false user_script:1: integral size 33 is larger than limit of 32",
        ),
        (
            r#"struct.pack("i99999999999")"#,
            "false user_script:1: integral size overflow",
        ),
        (
            r#"struct.pack("c5", "ab")"#,
            "false user_script:1: bad argument #3 to 'pack' (string too short)",
        ),
        (r#"struct.pack("c0", "ab")"#, "true ab"),
        (r#"struct.pack("s", "ab")"#, r"true ab\x00"),
        (
            r#"struct.unpack("s", "ab")"#,
            "false user_script:1: unfinished string in data",
        ),
        (
            r#"struct.unpack("c0", "ab")"#,
            "false user_script:1: format 'c0' needs a previous size",
        ),
        (r#"struct.unpack("bc0", "\2abc")"#, "true ab 4"),
        (r#"struct.unpack("c1c0", "5hello")"#, "true hello 7"),
        (
            r#"struct.unpack("i", "abc")"#,
            "false user_script:1: bad argument #2 to 'unpack' (data string too short)",
        ),
        (
            r#"struct.unpack("b", "a", 0)"#,
            "false user_script:1: bad argument #3 to 'unpack' (offset must be 1 or greater)",
        ),
        (
            r#"struct.unpack("b", "a", -1)"#,
            "false user_script:1: bad argument #2 to 'unpack' (data string too short)",
        ),
        (r#"struct.unpack("b", "ab", 2)"#, "true 98 3"),
        (
            r#"struct.size("s")"#,
            "false user_script:1: bad argument #1 to 'size' (option 's' has no fixed size)",
        ),
        (
            r#"struct.size("c0")"#,
            "false user_script:1: bad argument #1 to 'size' (option 'c0' has no fixed size)",
        ),
        (
            r#"struct.pack("\200")"#,
            r"false user_script:1: bad argument #1 to 'pack' (invalid format option '\xc8')",
        ),
        (
            r#"struct.pack(5)"#,
            "false user_script:1: bad argument #1 to 'pack' (invalid format option '5')",
        ),
        (
            r#"struct.pack("i", "x")"#,
            "false user_script:1: bad argument #2 to 'pack' (number expected, got string)",
        ),
        (
            r#"struct.pack("i")"#,
            "false user_script:1: bad argument #2 to 'pack' (number expected, got nil)",
        ),
        (
            r#"struct.pack("<f>f", 1.5, 1/3)"#,
            r"true \x00\x00\xc0?>\xaa\xaa\xab",
        ),
        (
            r#"struct.unpack("<d", struct.pack("<d", 0.1))"#,
            "true 0.1 9",
        ),
        (
            r#"struct.pack("i3i5", 1,2)"#,
            r"true \x01\x00\x00\x02\x00\x00\x00\x00",
        ),
        (
            r#"struct.pack("!8i3i5", 1,2)"#,
            r"true \x00\x00\x01\x00\x00\x02\x00\x00\x00\x00",
        ),
        (r#"struct.unpack("b\0z", "\1")"#, "true 1 2"),
        (r#"struct.pack("!i", 1, 2)"#, r"true \x01\x00\x00\x00"),
        (
            r#"struct.pack("x5")"#,
            "false user_script:1: bad argument #1 to 'pack' (invalid format option '5')",
        ),
        (r#"struct.unpack("<h>h", "\1\2\1\2")"#, "true 513 258 5"),
        (
            r#"struct.unpack("<T", "\255\255\255\255\255\255\255\255")"#,
            "true 1.844674407371e+19 9",
        ),
        (
            r#"struct.unpack("<l", "\255\255\255\255\255\255\255\255")"#,
            "true -1 9",
        ),
        (
            r#"struct.unpack("c2000000000", "x")"#,
            "false user_script:1: bad argument #2 to 'unpack' (data string too short)",
        ),
        (
            r#"struct.size("c2000000000c2000000000")"#,
            "true 4000000000",
        ),
        (
            r#"struct.unpack("bb", "\1\2", 2)"#,
            "false user_script:1: bad argument #2 to 'unpack' (data string too short)",
        ),
        (
            r##"select("#", struct.unpack(string.rep("b", 7997), string.rep("\0", 7997)))"##,
            "true 7998",
        ),
        (
            r##"select("#", struct.unpack(string.rep("b", 7998), string.rep("\0", 7998)))"##,
            "false user_script:1: stack overflow (too many results)",
        ),
        (
            r#"struct.pack("<L<l<I<B", 0/0, 1/0, 2^64, -1/0)"#,
            r"true \x00\x00\x00\x00\x00\x00\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
        ),
        (
            r#"struct.pack(">L", 2^63+2^11)"#,
            r"true \x80\x00\x00\x00\x00\x00\x08\x00",
        ),
        (
            r#"struct.pack("<b<B<h", -1.5, 3.7, -32769)"#,
            r"true \xff\x03\xff\x7f",
        ),
        (r#"struct.unpack("<f", "\0\0\192\127")"#, "true nan 5"),
        (
            r#"struct.pack("d", "1e3")"#,
            r"true \x00\x00\x00\x00\x00@\x8f@",
        ),
        (r#"struct.pack("c", 12)"#, "true 1"),
        (
            r#"struct.pack("c1", {})"#,
            "false user_script:1: bad argument #2 to 'pack' (string expected, got table)",
        ),
    ];

    #[test]
    fn matches_redis() {
        let lua = lua();
        for (expr, want) in CASES {
            assert_eq!(run(&lua, expr), *want, "{expr}");
        }
    }
}
