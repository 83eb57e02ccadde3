//! Redis's bundled Lua libraries (`cjson`, `cmsgpack`, `struct`, `bit`),
//! written in Rust against Redis's documented behaviour. Each module has a
//! `register(lua)` that installs its global table.
//!
//! The libraries reproduce what scripts observe on Redis 7.0.15 byte for
//! byte: results, error texts (including the `bad argument #n to 'name'`
//! and position prefixes that Lua's C API adds) and the limits of the C
//! implementations, while bounds-checking every read and never recursing
//! without a bound on the Rust stack.
//!
//! Every library function is a C closure around an mlua callback (see
//! `glue`), so errors reach scripts as Lua strings raised from a C
//! function, exactly like in Redis, rather than as mlua error userdata.
//! C casts whose result the C standard leaves undefined (out-of-range
//! doubles to integers) are reproduced as GCC on x86-64 computes them,
//! which is what Redis's own builds do on that platform.
//!
//! Known deviation from Redis 7.0.15: running out of memory (possible
//! only when the embedding sets an mlua memory limit) is reported with
//! mlua's error value instead of Lua's `not enough memory` string.

#![deny(clippy::unwrap_used, clippy::expect_used)]
// Tests may panic on purpose.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

// Links Lua 5.1.5 with read-only tables (mlua links no Lua of its own).
extern crate lunakv_lua;

mod glue;
mod num;
#[cfg(test)]
mod robust_tests;
#[cfg(test)]
mod testutil;

pub mod bit;
pub mod cjson;
pub mod cmsgpack;
pub mod structlib;

/// Installs all four libraries as globals (`cjson`, `cmsgpack`, `struct`,
/// `bit`), as Redis does when it creates its Lua interpreter.
pub fn register_all(lua: &mlua::Lua) -> mlua::Result<()> {
    cjson::register(lua)?;
    structlib::register(lua)?;
    cmsgpack::register(lua)?;
    bit::register(lua)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::testutil::check_all;

    /// Error texts that depend on how a function is called (method call,
    /// local name, called from `pcall`), checked against redis-server.
    const CALL_CASES: &[(&str, &str)] = &[
        (
            r#"cjson:encode()"#,
            r#"false user_script:1: Cannot serialise function: type not supported"#,
        ),
        (
            r#"cjson:encode(1)"#,
            r#"false user_script:1: calling 'encode' on bad self (expected 1 argument)"#,
        ),
        (
            r#"struct:pack("i")"#,
            r#"false user_script:1: calling 'pack' on bad self (string expected, got table)"#,
        ),
        (
            r#"bit:tobit()"#,
            r#"false user_script:1: calling 'tobit' on bad self (number expected, got table)"#,
        ),
        (
            r#"(function() local f = cjson.encode return f(1, 2) end)()"#,
            r#"false user_script:1: bad argument #1 to 'f' (expected 1 argument)"#,
        ),
        (
            r#"(function() local t = {e = struct.pack} return t.e("q") end)()"#,
            r#"false user_script:1: bad argument #1 to 'e' (invalid format option 'q')"#,
        ),
        (
            r#"(function() local ok, e = pcall(cmsgpack.unpack_one, "", -1) return e end)()"#,
            r#"true Invalid request to unpack with offset of -1 and limit of 0."#,
        ),
        (
            r#"select(2, pcall(bit.tobit))"#,
            r#"true bad argument #1 to '?' (number expected, got no value)"#,
        ),
        (
            r#"(function() local t = {} for i = 1, 7997 do t[i] = 1 end return bit.bor(unpack(t)) end)()"#,
            r#"true 1"#,
        ),
        (
            r#"(function() local t = {} for i = 1, 7996 do t[i] = 1 end return #struct.pack(string.rep("b", 7996), unpack(t)) end)()"#,
            r#"true 7996"#,
        ),
        (
            r##"(function() local t = {} for i = 1, 7996 do t[i] = 1 end return select("#", cmsgpack.unpack(string.rep("\1", 3), unpack(t))) end)()"##,
            r#"true 3"#,
        ),
        (
            r##"(function() local t = {} for i = 1, 7997 do t[i] = 1 end return select("#", cmsgpack.unpack(string.rep("\1", 3), unpack(t))) end)()"##,
            r#"false user_script:1: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"#,
        ),
        (
            r##"(function() local t = {} for i = 1, 7996 do t[i] = 1 end return select("#", struct.unpack("bb", "\1\2", 1, unpack(t))) end)()"##,
            r#"false user_script:1: stack overflow (too many results)"#,
        ),
        (
            r#"(function() local t = {} for i = 1, 7997 do t[i] = "1" end return bit.bor(unpack(t)) end)()"#,
            r#"true 1"#,
        ),
        (
            r#"(function() local t = {} for i = 1, 7996 do t[i] = "x" end return #struct.pack(string.rep("c1", 7996), unpack(t)) end)()"#,
            r#"true 7996"#,
        ),
        (
            r##"(function() local t = {} for i = 1, 7993 do t[i] = 1 end return select("#", struct.unpack("bb", "\1\2", 1, unpack(t))) end)()"##,
            r#"true 3"#,
        ),
        (
            r#"(function() local t = {} for i = 1, 4000 do t[i] = "s" .. i end return #cmsgpack.pack(unpack(t)) end)()"#,
            r#"true 22893"#,
        ),
        (
            r##"(function() local t = {} for i = 1, 4000 do t[i] = "s" .. i end return select("#", cmsgpack.unpack(cmsgpack.pack(unpack(t)))) end)()"##,
            r#"true 4000"#,
        ),
        (
            r#"(function() local t = {} for i = 1, 100 do t[i] = i end return cjson.encode(unpack(t)) end)()"#,
            r#"false user_script:1: bad argument #1 to 'encode' (expected 1 argument)"#,
        ),
        (
            r#"(function() local t = {} for i = 1, 100 do t[i] = i end return bit.band(unpack(t)), bit.tohex(unpack(t)) end)()"#,
            r#"true 0 01"#,
        ),
    ];

    #[test]
    fn call_site_dependent_errors() {
        let lua = mlua::Lua::new();
        super::register_all(&lua).unwrap();
        check_all(&lua, CALL_CASES);
    }

    #[test]
    fn registers_the_same_globals_as_redis() {
        let lua = mlua::Lua::new();
        super::register_all(&lua).unwrap();
        let names: String = lua
            .load(
                "local t = {} for _, lib in ipairs({'cjson', 'cmsgpack', 'struct', 'bit'}) do \
                 for k in pairs(_G[lib]) do t[#t+1] = lib .. '.' .. k end end \
                 table.sort(t) return table.concat(t, ' ')",
            )
            .eval()
            .unwrap();
        assert_eq!(
            names,
            "bit.arshift bit.band bit.bnot bit.bor bit.bswap bit.bxor bit.lshift bit.rol \
             bit.ror bit.rshift bit.tobit bit.tohex cjson._NAME cjson._VERSION cjson.decode \
             cjson.decode_invalid_numbers cjson.decode_max_depth cjson.encode \
             cjson.encode_invalid_numbers cjson.encode_keep_buffer cjson.encode_max_depth \
             cjson.encode_number_precision cjson.encode_sparse_array cjson.new cjson.null \
             cmsgpack._COPYRIGHT cmsgpack._DESCRIPTION cmsgpack._NAME cmsgpack._VERSION \
             cmsgpack.pack cmsgpack.unpack cmsgpack.unpack_limit cmsgpack.unpack_one \
             struct.pack struct.size struct.unpack"
        );
    }
}
