//! The Lua sandbox: which globals a script sees, and read-only tables.
//!
//! # Read-only tables
//!
//! Redis 7 patches Lua's table-write path with a `readonly` flag on tables
//! and sets it on the globals table, on every table reachable from it and
//! on their metatables (`luaSetTableProtectionRecursively`); Redis 7.0.15
//! as packaged by Debian also protects the string metatable. We link a Lua
//! 5.1.5 built with the same flag (crates/lua, a patch of our own applied
//! to the `lua-src` crate's sources at build time), so the VM's
//! assignments, `rawset`, `rawseti` (`table.insert`, `table.remove`,
//! `table.sort`) and `setmetatable` refuse protected tables with Redis's
//! text `Attempt to modify a readonly table` (with the position of the
//! writing line for assignments, without it from C functions, as in
//! Redis), while reads are plain table reads. [`crate::vm`] sets the flags
//! once the VM is built; EVAL opens the globals only to set `KEYS` and
//! `ARGV`. `getfenv`/`setfenv`/`debug` are not exposed (as in the Redis
//! 7.0.15 packaged by Debian, which removed them as a security fix).
//!
//! The functions replaced below are plain C functions (`lua_CFunction`s
//! written in Rust against `mlua::ffi`), not mlua callbacks, so that their
//! argument errors name the function and the script line exactly as Lua's
//! own do and errors are ordinary Lua strings that a script's `pcall` can
//! catch. They hold no value with a destructor when Lua raises an error
//! (which `longjmp`s through them), and they never panic.
//!
//! Bytecode loading is refused the way Redis does it: Redis's Lua parses
//! every chunk as text, so a binary chunk fails with
//! `unexpected symbol near 'char(27)'`; we get the same message by feeding
//! the parser a leading space when a chunk starts with `\27`.
//!
//! `math.random` and `math.randomseed` use Redis's own 48-bit generator
//! (`redisLrand48`), so scripts get the same sequence on every platform and
//! the same numbers as Redis.

use std::ffi::{c_char, c_int, c_void};

use mlua::ffi;

/// The functions that scripts see in place of Lua's own, by table and name.
pub(crate) const REPLACEMENTS: &[(&str, &str, ffi::lua_CFunction)] = &[
    ("", "pcall", sb_pcall),
    ("", "xpcall", sb_xpcall),
    ("", "loadstring", sb_loadstring),
    ("", "load", sb_load),
    ("math", "random", sb_random),
    ("math", "randomseed", sb_randomseed),
];

/// Globals of Lua's base library that Redis does not expose.
pub(crate) const REMOVED_GLOBALS: &[&str] = &[
    "dofile", "loadfile", "print", "getfenv", "setfenv", "newproxy", "module", "require",
    "package", "io", "os", "debug",
];

/// `__index` of the globals table: reading an unknown global is an error.
pub(crate) unsafe extern "C-unwind" fn sb_nonexistent_global(l: *mut ffi::lua_State) -> c_int {
    let argc = ffi::lua_gettop(l);
    if argc != 2 {
        ffi::lua_pushliteral(l, c"Wrong number of arguments to luaProtectedTableError");
        ffi::lua_error(l)
    }
    if ffi::lua_isstring(l, 2) == 0 {
        ffi::luaL_where(l, 1);
        ffi::lua_pushliteral(
            l,
            c"Second argument to luaProtectedTableError must be a string or number",
        );
        ffi::lua_concat(l, 2);
        ffi::lua_error(l)
    }
    ffi::luaL_where(l, 1);
    ffi::lua_pushliteral(
        l,
        c"Script attempted to access nonexistent global variable '",
    );
    ffi::lua_pushvalue(l, 2);
    ffi::lua_pushliteral(l, c"'");
    ffi::lua_concat(l, 4);
    ffi::lua_error(l)
}

/// Redis's global `pcall`: like Lua's, but an error that is a table with a
/// string `err` field (what `redis.call` raises) is returned as that string,
/// for compatibility with scripts written for Redis 6.
unsafe extern "C-unwind" fn sb_pcall(l: *mut ffi::lua_State) -> c_int {
    let argc = ffi::lua_gettop(l);
    if argc == 0 {
        // Redis's version then calls its own `true` placeholder.
        ffi::lua_pushboolean(l, 0);
        ffi::lua_pushliteral(l, c"attempt to call a boolean value");
        return 2;
    }
    ffi::lua_pushboolean(l, 1);
    ffi::lua_insert(l, 1);
    if ffi::lua_pcall(l, argc - 1, ffi::LUA_MULTRET, 0) != 0 {
        ffi::lua_remove(l, 1);
        // Room for `err` and `false` (the call may have used our slots).
        ffi::lua_checkstack(l, 3);
        if ffi::lua_type(l, -1) == ffi::LUA_TTABLE {
            ffi::lua_getfield(l, -1, c"err".as_ptr());
            if ffi::lua_isstring(l, -1) != 0 {
                ffi::lua_replace(l, -2);
            }
        }
        ffi::lua_pushboolean(l, 0);
        ffi::lua_insert(l, 1);
    }
    ffi::lua_gettop(l)
}

/// Lua 5.1's `xpcall`, but with the stack check its `lua_pushboolean`
/// lacks (a function returning many values overflowed the frame).
unsafe extern "C-unwind" fn sb_xpcall(l: *mut ffi::lua_State) -> c_int {
    ffi::luaL_checkany(l, 2);
    ffi::lua_settop(l, 2);
    ffi::lua_insert(l, 1);
    let status = ffi::lua_pcall(l, 0, ffi::LUA_MULTRET, 1);
    if ffi::lua_checkstack(l, 1) == 0 {
        ffi::lua_settop(l, 1);
        ffi::lua_pushliteral(l, c"stack overflow");
        ffi::lua_error(l)
    }
    ffi::lua_pushboolean(l, (status == 0) as c_int);
    ffi::lua_replace(l, 1);
    ffi::lua_gettop(l)
}

/// The tail of `loadstring`/`load`: the function, or nil and the message.
unsafe fn load_result(l: *mut ffi::lua_State, status: c_int) -> c_int {
    if status == 0 {
        1
    } else {
        ffi::lua_pushnil(l);
        ffi::lua_insert(l, -2);
        2
    }
}

/// `loadstring(s [, name])` that parses binary chunks as text (and so
/// refuses them with Lua's syntax error, as Redis does).
unsafe extern "C-unwind" fn sb_loadstring(l: *mut ffi::lua_State) -> c_int {
    let mut len: usize = 0;
    let s = ffi::luaL_checklstring(l, 1, &mut len);
    let name = ffi::luaL_optlstring(l, 2, s, std::ptr::null_mut());
    ffi::lua_settop(l, 2);
    if len > 0 && *s as u8 == 0x1b {
        ffi::lua_pushliteral(l, c" ");
        ffi::lua_pushvalue(l, 1);
        ffi::lua_concat(l, 2);
        let mut blen: usize = 0;
        let b = ffi::lua_tolstring(l, -1, &mut blen);
        let status = ffi::luaL_loadbuffer(l, b, blen, name);
        return load_result(l, status);
    }
    let status = ffi::luaL_loadbuffer(l, s, len, name);
    load_result(l, status)
}

/// State of the reader behind `load`.
struct ReaderState {
    first: bool,
    pending: bool,
}

unsafe extern "C-unwind" fn sb_load_reader(
    l: *mut ffi::lua_State,
    ud: *mut c_void,
    size: *mut usize,
) -> *const c_char {
    let st = ud as *mut ReaderState;
    if (*st).pending {
        (*st).pending = false;
        return ffi::lua_tolstring(l, 3, size);
    }
    ffi::luaL_checkstack(l, 2, c"too many nested functions".as_ptr());
    ffi::lua_pushvalue(l, 1);
    ffi::lua_call(l, 0, 1);
    if ffi::lua_type(l, -1) == ffi::LUA_TNIL {
        ffi::lua_pop(l, 1);
        *size = 0;
        return std::ptr::null();
    }
    if ffi::lua_isstring(l, -1) == 0 {
        ffi::lua_pushliteral(l, c"reader function must return a string");
        ffi::luaL_where(l, 1);
        ffi::lua_insert(l, -2);
        ffi::lua_concat(l, 2);
        ffi::lua_error(l);
    }
    ffi::lua_replace(l, 3);
    let p = ffi::lua_tolstring(l, 3, size);
    if (*st).first && *size > 0 {
        (*st).first = false;
        if *p as u8 == 0x1b {
            (*st).pending = true;
            *size = 1;
            return c" ".as_ptr();
        }
    }
    p
}

/// `load(f [, name])` with the same bytecode refusal as `loadstring`.
unsafe extern "C-unwind" fn sb_load(l: *mut ffi::lua_State) -> c_int {
    let name = ffi::luaL_optlstring(l, 2, c"=(load)".as_ptr(), std::ptr::null_mut());
    ffi::luaL_checktype(l, 1, ffi::LUA_TFUNCTION);
    ffi::lua_settop(l, 3);
    let mut st = ReaderState {
        first: true,
        pending: false,
    };
    let status = ffi::lua_load(
        l,
        sb_load_reader,
        &mut st as *mut ReaderState as *mut c_void,
        name,
    );
    load_result(l, status)
}

/// Calls the function in upvalue 1 with this call's arguments packed in
/// one table (`{n = argc, ...}`) and expects `(value, raise)` back; raises
/// `value` when `raise` is true, else returns it. The `redis.*` functions
/// are mlua callbacks behind this wrapper: being a C function, it keeps
/// the script's frame for error positions (even in `return redis.call()`,
/// a tail call), it raises the error *table* a script's `pcall` sees, and
/// the callback receives one value however many arguments a script passes
/// (mlua would otherwise hold one reference per argument).
pub(crate) unsafe extern "C-unwind" fn sb_call_raising(l: *mut ffi::lua_State) -> c_int {
    call_packed(l, true)
}

/// Like [`sb_call_raising`], but never raises (`redis.pcall` & co.).
pub(crate) unsafe extern "C-unwind" fn sb_call_plain(l: *mut ffi::lua_State) -> c_int {
    call_packed(l, false)
}

unsafe fn call_packed(l: *mut ffi::lua_State, raise: bool) -> c_int {
    // A C function always has LUA_MINSTACK free slots above its
    // arguments, enough here even with ~8000 arguments (`unpack`), where
    // `lua_checkstack` would refuse.
    let argc = ffi::lua_gettop(l);
    ffi::lua_createtable(l, argc, 1);
    for i in 1..=argc {
        ffi::lua_pushvalue(l, i);
        ffi::lua_rawseti_(l, -2, i);
    }
    ffi::lua_pushnumber(l, argc as ffi::lua_Number);
    ffi::lua_setfield(l, -2, c"n".as_ptr());
    ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
    ffi::lua_insert(l, -2);
    ffi::lua_call(l, 1, 2);
    if raise && ffi::lua_toboolean(l, -1) != 0 {
        ffi::lua_pop(l, 1);
        ffi::lua_error(l)
    }
    ffi::lua_pop(l, 1);
    1
}

thread_local! {
    /// Redis's `redisLrand48` state: like Redis's C static, one sequence
    /// shared by every script and every VM (all Lua runs on the engine
    /// thread), not reset by SCRIPT FLUSH (which makes a new VM); only
    /// `math.randomseed` moves it.
    static RNG: std::cell::Cell<u64> = const { std::cell::Cell::new(RNG_INIT) };
}

fn rng_take() -> i32 {
    RNG.with(|r| {
        let mut x = r.get();
        let v = rng_next(&mut x);
        r.set(x);
        v
    })
}

const RNG_MASK: u64 = (1 << 48) - 1;
/// `lrand48`'s initial state (`X0`, `X1`, `X2` of Redis's rand.c).
pub(crate) const RNG_INIT: u64 = 0x1234_ABCD_330E;

fn rng_next(x: &mut u64) -> i32 {
    *x = (x.wrapping_mul(0x5_DEEC_E66D).wrapping_add(0xB)) & RNG_MASK;
    (*x >> 17) as i32
}

/// `math.random([m [, n]])` exactly as Redis's `redis_math_random`.
unsafe extern "C-unwind" fn sb_random(l: *mut ffi::lua_State) -> c_int {
    let raw = rng_take();
    let max = i32::MAX as f64;
    let r = ((raw % i32::MAX) as f64) / max;
    match ffi::lua_gettop(l) {
        0 => ffi::lua_pushnumber(l, r),
        1 => {
            let u = ffi::luaL_checkinteger(l, 1) as c_int;
            if u < 1 {
                return ffi::luaL_argerror(l, 1, c"interval is empty".as_ptr());
            }
            ffi::lua_pushnumber(l, (r * u as f64).floor() + 1.0);
        }
        2 => {
            let lo = ffi::luaL_checkinteger(l, 1) as c_int;
            let up = ffi::luaL_checkinteger(l, 2) as c_int;
            if lo > up {
                return ffi::luaL_argerror(l, 2, c"interval is empty".as_ptr());
            }
            let span = (up as f64) - (lo as f64) + 1.0;
            ffi::lua_pushnumber(l, (r * span).floor() + lo as f64);
        }
        _ => {
            ffi::luaL_where(l, 1);
            ffi::lua_pushliteral(l, c"wrong number of arguments");
            ffi::lua_concat(l, 2);
            ffi::lua_error(l)
        }
    }
    1
}

/// `math.randomseed(n)` exactly as Redis's `redis_math_randomseed`.
unsafe extern "C-unwind" fn sb_randomseed(l: *mut ffi::lua_State) -> c_int {
    let seed = ffi::luaL_checkinteger(l, 1) as i32 as u32;
    RNG.with(|r| r.set(((seed as u64) << 16) | 0x330E));
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_matches_redis_first_values() {
        // Redis 7.0.15, fresh server:
        // EVAL "return {math.random(), math.random(10), math.random(5,10)}" 0
        // -> 0 (0.17... truncated), 9, 7
        let mut x = RNG_INIT;
        let r1 = ((rng_next(&mut x) % i32::MAX) as f64) / i32::MAX as f64;
        assert!(r1 < 1.0);
        let r2 = ((rng_next(&mut x) % i32::MAX) as f64) / i32::MAX as f64;
        assert_eq!((r2 * 10.0).floor() + 1.0, 9.0);
        let r3 = ((rng_next(&mut x) % i32::MAX) as f64) / i32::MAX as f64;
        assert_eq!((r3 * 6.0).floor() + 5.0, 7.0);
    }
}
