//! The `bit` library (LuaBitOp 1.0.2 as bundled with Redis): 32-bit bitwise
//! operations on Lua numbers.
//!
//! Every argument is normalised the way LuaBitOp does it on a double-number
//! Lua: `2^52 + 2^51` is added to the number and the low 32 bits of the
//! resulting IEEE-754 pattern are taken, which rounds to nearest-even and
//! wraps modulo 2^32. Results are returned as signed 32-bit values.

use mlua::{Lua, MultiValue, Value};

use crate::glue::{make_fn, set_global, Args, LibResult, Ret};

/// Converts an argument like LuaBitOp's `barg`: `lua_tonumber` (so numeric
/// strings are accepted), the 2^52+2^51 trick, and a type error only when the
/// result is 0 and the argument is not a number.
fn barg(lua: &Lua, args: &Args, idx: usize) -> LibResult<u32> {
    let n = args.to_number(lua, idx)?;
    let b = norm(n.unwrap_or(0.0));
    if b == 0 && n.is_none() {
        return crate::glue::arg_err(
            idx as i32,
            format!(
                "number expected, got {}",
                crate::glue::type_name(args.get(idx).as_ref())
            ),
        );
    }
    Ok(b)
}

/// The 2^52+2^51 normalisation of a double to 32 bits.
pub(crate) fn norm(n: f64) -> u32 {
    (n + 6_755_399_441_055_744.0).to_bits() as u32
}

fn bret(b: u32) -> LibResult<Ret> {
    Ok(Ret::one(Value::Number(f64::from(b as i32))))
}

type BitFn = fn(&Lua, &Args) -> LibResult<Ret>;

fn reduce(lua: &Lua, args: &Args, op: fn(u32, u32) -> u32) -> LibResult<Ret> {
    let mut b = barg(lua, args, 1)?;
    let mut i = args.top();
    while i > 1 {
        b = op(b, barg(lua, args, i)?);
        i -= 1;
    }
    bret(b)
}

fn shift(lua: &Lua, args: &Args, op: fn(u32, u32) -> u32) -> LibResult<Ret> {
    let b = barg(lua, args, 1)?;
    let n = barg(lua, args, 2)? & 31;
    bret(op(b, n))
}

fn tohex(lua: &Lua, args: &Args) -> LibResult<Ret> {
    let mut b = barg(lua, args, 1)?;
    let mut n: i64 = if args.get(2).is_none() {
        8
    } else {
        i64::from(barg(lua, args, 2)? as i32)
    };
    let digits: &[u8; 16] = if n < 0 {
        n = -n;
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let n = n.min(8) as usize;
    let mut buf = vec![0u8; n];
    for slot in buf.iter_mut().rev() {
        *slot = digits[(b & 15) as usize];
        b >>= 4;
    }
    Ok(Ret::one(Value::String(lua.create_string(&buf)?)))
}

/// Installs the global `bit` table.
pub fn register(lua: &Lua) -> mlua::Result<()> {
    let t = lua.create_table()?;
    let funcs: [(&str, BitFn); 12] = [
        ("tobit", |l, a| bret(barg(l, a, 1)?)),
        ("bnot", |l, a| bret(!barg(l, a, 1)?)),
        ("band", |l, a| reduce(l, a, |x, y| x & y)),
        ("bor", |l, a| reduce(l, a, |x, y| x | y)),
        ("bxor", |l, a| reduce(l, a, |x, y| x ^ y)),
        ("lshift", |l, a| shift(l, a, |b, n| b << n)),
        ("rshift", |l, a| shift(l, a, |b, n| b >> n)),
        ("arshift", |l, a| {
            shift(l, a, |b, n| ((b as i32) >> n) as u32)
        }),
        ("rol", |l, a| shift(l, a, |b, n| b.rotate_left(n))),
        ("ror", |l, a| shift(l, a, |b, n| b.rotate_right(n))),
        ("bswap", |l, a| bret(barg(l, a, 1)?.swap_bytes())),
        ("tohex", tohex),
    ];
    for (name, f) in funcs {
        let func = make_fn(lua, move |lua, m: MultiValue| f(lua, &Args::new(m)))?;
        t.raw_set(name, func)?;
    }
    set_global(lua, "bit", t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lua() -> Lua {
        let lua = Lua::new();
        register(&lua).unwrap();
        lua
    }

    fn eval(lua: &Lua, code: &str) -> String {
        lua.load(code)
            .set_name("@user_script")
            .eval::<mlua::LuaString>()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string()
    }

    /// Runs `expr` and renders its results the way the comparisons against
    /// redis-server were made: `tostring` of every result joined by spaces.
    fn run(lua: &Lua, expr: &str) -> String {
        eval(
            lua,
            &format!(
                "local r = {{pcall(function() return {expr} end)}} local o = {{}} \
                 for i = 1, #r do o[#o+1] = tostring(r[i]) end return table.concat(o, ' ')"
            ),
        )
    }

    #[test]
    fn redis_minimal_bitop_test() {
        let lua = lua();
        lua.load(
            "assert(bit.tobit(1) == 1); assert(bit.band(1) == 1); assert(bit.bxor(1,2) == 3); \
             assert(bit.bor(1,2,4,8,16,32,64,128) == 255)",
        )
        .exec()
        .unwrap();
    }

    #[test]
    fn tobit_normalisation() {
        let lua = lua();
        let cases = [
            ("bit.tobit(2^31)", "true -2147483648"),
            ("bit.tobit(-2^31-1)", "true 2147483647"),
            ("bit.tobit('0x10')", "true 16"),
            ("bit.tobit(' 12 ')", "true 12"),
            ("bit.tobit(1.5)", "true 2"),
            ("bit.tobit(2.5)", "true 2"),
            ("bit.tobit(-1.5)", "true -2"),
            ("bit.tobit(2^53)", "true 0"),
            ("bit.tobit(1e300)", "true -2013235812"),
            ("bit.tobit(0xffffffff)", "true -1"),
            ("bit.tobit(2^32+5)", "true 5"),
            ("bit.tobit(0/0)", "true 0"),
        ];
        for (e, want) in cases {
            assert_eq!(run(&lua, e), want, "{e}");
        }
    }

    #[test]
    fn operations() {
        let lua = lua();
        let cases = [
            ("bit.bnot(0)", "true -1"),
            ("bit.bnot(5)", "true -6"),
            ("bit.band(0xff, 0x0f, 0x3)", "true 3"),
            ("bit.bor(1, 2, 4)", "true 7"),
            ("bit.bxor(0xff, 0x0f)", "true 240"),
            ("bit.lshift(1, 31)", "true -2147483648"),
            ("bit.lshift(1, 32)", "true 1"),
            ("bit.lshift(1, 33)", "true 2"),
            ("bit.rshift(-1, 28)", "true 15"),
            ("bit.arshift(-256, 4)", "true -16"),
            ("bit.arshift(256, 4)", "true 16"),
            ("bit.rol(0x12345678, 12)", "true 1164411171"),
            ("bit.ror(0x12345678, 12)", "true 1736516421"),
            ("bit.rol(0x12345678, 0)", "true 305419896"),
            ("bit.bswap(0x12345678)", "true 2018915346"),
            ("bit.bswap(-1)", "true -1"),
        ];
        for (e, want) in cases {
            assert_eq!(run(&lua, e), want, "{e}");
        }
    }

    #[test]
    fn tohex() {
        let lua = lua();
        let cases = [
            ("bit.tohex(255)", "true 000000ff"),
            ("bit.tohex(255, -4)", "true 00FF"),
            ("bit.tohex(-1)", "true ffffffff"),
            ("bit.tohex(255, 0)", "true "),
            ("bit.tohex(255, 12)", "true 000000ff"),
            ("bit.tohex(2^32+5)", "true 00000005"),
            ("bit.tohex(255, -2^31)", "true 000000FF"),
            ("bit.tohex(0x12345678, 2)", "true 78"),
            ("bit.tohex(0x12345678, -3)", "true 678"),
        ];
        for (e, want) in cases {
            assert_eq!(run(&lua, e), want, "{e}");
        }
    }

    #[test]
    fn errors() {
        let lua = lua();
        let cases = [
            (
                "bit.band, 1, 'x', {}",
                "false bad argument #3 to '?' (number expected, got table)",
            ),
            (
                "bit.tohex, 1, nil",
                "false bad argument #2 to '?' (number expected, got nil)",
            ),
            (
                "bit.tobit",
                "false bad argument #1 to '?' (number expected, got no value)",
            ),
            (
                "bit.tobit, 'abc'",
                "false bad argument #1 to '?' (number expected, got string)",
            ),
            (
                "bit.tobit, true",
                "false bad argument #1 to '?' (number expected, got boolean)",
            ),
        ];
        for (e, want) in cases {
            let code = format!("local ok, e = pcall({e}) return tostring(ok)..' '..e");
            assert_eq!(eval(&lua, &code), want, "{e}");
        }
        // Called from Lua code, the position and the function name appear.
        assert_eq!(
            run(&lua, "bit.lshift(1)"),
            "false user_script:1: bad argument #2 to 'lshift' (number expected, got no value)"
        );
        // A string that converts to 0 is a valid number.
        assert_eq!(run(&lua, "bit.tobit('0')"), "true 0");
    }
}
