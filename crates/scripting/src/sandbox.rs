//! The Lua sandbox: which globals a script sees, and read-only tables.
//!
//! # Read-only tables
//!
//! Redis 7 patches Lua's table-write path (a `readonly` flag checked by the
//! VM, `rawset`, `lua_setmetatable`, ...) and sets it on the globals table,
//! on every table reachable from it and on their metatables. We link the
//! stock Lua 5.1 that mlua builds (`vendored`), which has no such flag, and a
//! metatable on `_G` alone is not enough: assignments to *existing* keys
//! never consult `__newindex`, and `rawset`, `setmetatable` and
//! `table.insert` bypass metatables entirely.
//!
//! So every protected table `T` is hidden behind an *empty proxy* `P`
//! whose metatable is `{__index = T, __newindex = <readonly error>}`:
//!
//! - reads go through `__index` to `T`, in the VM, with no Rust call;
//! - every Lua-level write hits `__newindex` because `P` stays empty, and
//!   fails with Redis's text `Attempt to modify a readonly table` and the
//!   position of the writing line, exactly as the patched VM reports it;
//! - the C functions that write raw (`rawset`, `setmetatable`,
//!   `table.insert`) are replaced by versions that refuse protected tables
//!   (`table.remove` and `table.sort` only write into a table's array part,
//!   which a proxy does not have, so they cannot change one);
//! - the functions that read raw (`rawget`, `next`, `pairs`, `getmetatable`)
//!   see through a proxy to its table, so scripts observe the same contents
//!   as in Redis; `getmetatable` hands out proxies of protected metatables
//!   (the string metatable, `_G`'s), never the tables themselves;
//! - the real tables are reachable from nothing a script can touch: the
//!   globals of every script (its environment and the thread's global
//!   table) is the proxy of `_G`, and `getfenv`/`setfenv`/`debug` are not
//!   exposed (as in the Redis 7.0.15 packaged by Debian, which removed them
//!   as a security fix).
//!
//! The replaced functions are plain C functions (`lua_CFunction`s written in
//! Rust against `mlua::ffi`), not mlua callbacks, so that their argument
//! errors name the function and the script line exactly as Lua's own do and
//! errors are ordinary Lua strings that a script's `pcall` can catch. They
//! hold no value with a destructor when Lua raises an error (which
//! `longjmp`s through them), and they never panic.
//!
//! Bytecode loading is refused the way Redis does it: Redis's Lua parses
//! every chunk as text, so a binary chunk fails with
//! `unexpected symbol near 'char(27)'`; we get the same message by feeding
//! the parser a leading space when a chunk starts with `\27`.
//!
//! `math.random` and `math.randomseed` use Redis's own 48-bit generator
//! (`redisLrand48`), so scripts get the same sequence on every platform and
//! the same numbers as Redis.

use std::ffi::{c_char, c_int, c_void, CStr};

use mlua::ffi;

/// Registry key of the set of protected tables and proxies (`t[x] = true`).
const RO_SET: &CStr = c"lunakv.readonly";
/// Registry key of the map proxy -> protected table.
const REAL_OF: &CStr = c"lunakv.real_of";
/// Registry key of the map protected table -> proxy.
const PROXY_OF: &CStr = c"lunakv.proxy_of";
/// Registry key of the sandboxed `next`, returned by `pairs`.
const NEXT_FN: &CStr = c"lunakv.next";

const READONLY_MSG: &[u8] = b"Attempt to modify a readonly table";

/// The functions that scripts see in place of Lua's own, by table and name.
pub(crate) const REPLACEMENTS: &[(&str, &str, ffi::lua_CFunction)] = &[
    ("", "rawset", sb_rawset),
    ("", "rawget", sb_rawget),
    ("", "setmetatable", sb_setmetatable),
    ("", "getmetatable", sb_getmetatable),
    ("", "next", sb_next),
    ("", "pairs", sb_pairs),
    ("", "pcall", sb_pcall),
    ("", "xpcall", sb_xpcall),
    ("", "loadstring", sb_loadstring),
    ("", "load", sb_load),
    ("table", "insert", sb_tinsert),
    ("table", "foreach", sb_tforeach),
    ("math", "random", sb_random),
    ("math", "randomseed", sb_randomseed),
];

/// Globals of Lua's base library that Redis does not expose.
pub(crate) const REMOVED_GLOBALS: &[&str] = &[
    "dofile", "loadfile", "print", "getfenv", "setfenv", "newproxy", "module", "require",
    "package", "io", "os", "debug",
];

/// Pushes the registry value stored under `key`.
unsafe fn push_registry(l: *mut ffi::lua_State, key: &CStr) {
    ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, key.as_ptr());
}

/// True if the value at `idx` (absolute) is a protected table or a proxy.
unsafe fn is_readonly(l: *mut ffi::lua_State, idx: c_int) -> bool {
    if ffi::lua_type(l, idx) != ffi::LUA_TTABLE {
        return false;
    }
    push_registry(l, RO_SET);
    if ffi::lua_type(l, -1) != ffi::LUA_TTABLE {
        ffi::lua_pop(l, 1);
        return false;
    }
    ffi::lua_pushvalue(l, idx);
    ffi::lua_rawget_(l, -2);
    let ro = ffi::lua_toboolean(l, -1) != 0;
    ffi::lua_pop(l, 2);
    ro
}

/// Replaces the value at `idx` (absolute) by the value `map[value]` of the
/// registry map `key`, if there is one.
unsafe fn map_in_place(l: *mut ffi::lua_State, idx: c_int, key: &CStr) {
    if ffi::lua_type(l, idx) != ffi::LUA_TTABLE {
        return;
    }
    push_registry(l, key);
    if ffi::lua_type(l, -1) != ffi::LUA_TTABLE {
        ffi::lua_pop(l, 1);
        return;
    }
    ffi::lua_pushvalue(l, idx);
    ffi::lua_rawget_(l, -2);
    if ffi::lua_type(l, -1) == ffi::LUA_TTABLE {
        ffi::lua_replace(l, idx);
        ffi::lua_pop(l, 1);
    } else {
        ffi::lua_pop(l, 2);
    }
}

/// Raises `Attempt to modify a readonly table`, without position (as the
/// patched `lua_rawset` & co. do in Redis).
unsafe fn raise_readonly(l: *mut ffi::lua_State) -> ! {
    ffi::lua_pushlstring(
        l,
        READONLY_MSG.as_ptr() as *const c_char,
        READONLY_MSG.len(),
    );
    ffi::lua_error(l)
}

/// `__newindex` of every proxy: the VM-level write error, with the
/// position of the writing line.
pub(crate) unsafe extern "C-unwind" fn sb_readonly_newindex(l: *mut ffi::lua_State) -> c_int {
    ffi::luaL_where(l, 1);
    ffi::lua_pushlstring(
        l,
        READONLY_MSG.as_ptr() as *const c_char,
        READONLY_MSG.len(),
    );
    ffi::lua_concat(l, 2);
    ffi::lua_error(l)
}

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

/// `rawset(t, k, v)` that refuses protected tables.
unsafe extern "C-unwind" fn sb_rawset(l: *mut ffi::lua_State) -> c_int {
    ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
    ffi::luaL_checkany(l, 2);
    ffi::luaL_checkany(l, 3);
    ffi::lua_settop(l, 3);
    if is_readonly(l, 1) {
        raise_readonly(l);
    }
    ffi::lua_rawset(l, 1);
    1
}

/// `rawget(t, k)` that reads a proxy's table.
unsafe extern "C-unwind" fn sb_rawget(l: *mut ffi::lua_State) -> c_int {
    ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
    ffi::luaL_checkany(l, 2);
    ffi::lua_settop(l, 2);
    map_in_place(l, 1, REAL_OF);
    ffi::lua_rawget_(l, 1);
    1
}

/// `setmetatable(t, mt)` that refuses protected tables.
unsafe extern "C-unwind" fn sb_setmetatable(l: *mut ffi::lua_State) -> c_int {
    let t = ffi::lua_type(l, 2);
    ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
    if t != ffi::LUA_TNIL && t != ffi::LUA_TTABLE {
        return ffi::luaL_argerror(l, 2, c"nil or table expected".as_ptr());
    }
    if is_readonly(l, 1) {
        raise_readonly(l);
    }
    if ffi::luaL_getmetafield_(l, 1, c"__metatable".as_ptr()) != 0 {
        ffi::lua_pushliteral(l, c"cannot change a protected metatable");
        ffi::luaL_where(l, 1);
        ffi::lua_insert(l, -2);
        ffi::lua_concat(l, 2);
        ffi::lua_error(l)
    }
    ffi::lua_settop(l, 2);
    ffi::lua_setmetatable(l, 1);
    1
}

/// `getmetatable(v)` that sees through proxies and never hands out a
/// protected metatable itself, only its proxy.
unsafe extern "C-unwind" fn sb_getmetatable(l: *mut ffi::lua_State) -> c_int {
    ffi::luaL_checkany(l, 1);
    ffi::lua_settop(l, 1);
    map_in_place(l, 1, REAL_OF);
    if ffi::lua_getmetatable(l, 1) == 0 {
        ffi::lua_pushnil(l);
        return 1;
    }
    // Stack: v, mt. Honour `__metatable` like Lua does.
    if ffi::luaL_getmetafield_(l, 1, c"__metatable".as_ptr()) != 0 {
        return 1;
    }
    map_in_place(l, 2, PROXY_OF);
    1
}

/// `next(t, k)` that iterates a proxy's table.
unsafe extern "C-unwind" fn sb_next(l: *mut ffi::lua_State) -> c_int {
    ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
    ffi::lua_settop(l, 2);
    map_in_place(l, 1, REAL_OF);
    if ffi::lua_next(l, 1) != 0 {
        2
    } else {
        ffi::lua_pushnil(l);
        1
    }
}

/// `pairs(t)`, returning the sandboxed `next`.
unsafe extern "C-unwind" fn sb_pairs(l: *mut ffi::lua_State) -> c_int {
    ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
    push_registry(l, NEXT_FN);
    ffi::lua_pushvalue(l, 1);
    ffi::lua_pushnil(l);
    3
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

/// `table.insert(t, [pos,] v)` (Lua 5.1's) that refuses protected tables.
unsafe extern "C-unwind" fn sb_tinsert(l: *mut ffi::lua_State) -> c_int {
    ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
    let n = ffi::lua_objlen(l, 1);
    let mut e: c_int = (n as c_int).wrapping_add(1);
    let pos: c_int;
    match ffi::lua_gettop(l) {
        2 => pos = e,
        3 => {
            pos = ffi::luaL_checkinteger(l, 2) as c_int;
            if pos > e {
                e = pos;
            }
            if is_readonly(l, 1) && e > pos {
                raise_readonly(l);
            }
            let mut i = e;
            while i > pos {
                ffi::lua_rawgeti_(l, 1, i - 1);
                ffi::lua_rawseti_(l, 1, i);
                i -= 1;
            }
        }
        _ => {
            ffi::luaL_where(l, 1);
            ffi::lua_pushliteral(l, c"wrong number of arguments to 'insert'");
            ffi::lua_concat(l, 2);
            ffi::lua_error(l)
        }
    }
    if is_readonly(l, 1) {
        raise_readonly(l);
    }
    ffi::lua_rawseti_(l, 1, pos);
    0
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

/// `table.foreach(t, f)` (Lua 5.1's) that iterates a proxy's table.
unsafe extern "C-unwind" fn sb_tforeach(l: *mut ffi::lua_State) -> c_int {
    ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
    ffi::luaL_checktype(l, 2, ffi::LUA_TFUNCTION);
    ffi::lua_settop(l, 2);
    map_in_place(l, 1, REAL_OF);
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, 1) != 0 {
        ffi::lua_pushvalue(l, 2);
        ffi::lua_pushvalue(l, -3);
        ffi::lua_pushvalue(l, -3);
        ffi::lua_call(l, 2, 1);
        if ffi::lua_type(l, -1) != ffi::LUA_TNIL {
            return 1;
        }
        ffi::lua_pop(l, 2);
    }
    0
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

/// Creates the registry entries the replacement functions rely on: the
/// read-only bookkeeping tables, the sandboxed `next` and the RNG state.
/// Runs inside `Lua::exec_raw`, so errors (out of memory) are caught.
pub(crate) unsafe fn init_registry(l: *mut ffi::lua_State) {
    for key in [RO_SET, REAL_OF, PROXY_OF] {
        ffi::lua_newtable(l);
        ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, key.as_ptr());
    }
    ffi::lua_pushcfunction(l, sb_next);
    ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, NEXT_FN.as_ptr());
}

/// Records `real` (stack index 1) and its proxy (stack index 2) in the
/// read-only bookkeeping tables. Runs inside `Lua::exec_raw`.
pub(crate) unsafe fn register_proxy(l: *mut ffi::lua_State) {
    push_registry(l, RO_SET);
    ffi::lua_pushvalue(l, 1);
    ffi::lua_pushboolean(l, 1);
    ffi::lua_rawset(l, -3);
    ffi::lua_pushvalue(l, 2);
    ffi::lua_pushboolean(l, 1);
    ffi::lua_rawset(l, -3);
    ffi::lua_pop(l, 1);
    push_registry(l, REAL_OF);
    ffi::lua_pushvalue(l, 2);
    ffi::lua_pushvalue(l, 1);
    ffi::lua_rawset(l, -3);
    ffi::lua_pop(l, 1);
    push_registry(l, PROXY_OF);
    ffi::lua_pushvalue(l, 1);
    ffi::lua_pushvalue(l, 2);
    ffi::lua_rawset(l, -3);
    ffi::lua_pop(l, 1);
    ffi::lua_settop(l, 0);
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
