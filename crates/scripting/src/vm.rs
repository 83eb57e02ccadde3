//! One sandboxed Lua VM with the `redis` API, and how a script runs in it.
//!
//! [`LuaVm`] is the reusable piece: EVAL uses one, and FUNCTION/FCALL will
//! use a second one. It owns the Lua state (which must stay on the engine
//! thread), the `redis` table, the sandbox, the instruction hook and the
//! error handler that turns a Lua error into Redis's error reply.
//!
//! While a script runs, the `redis.*` callbacks reach the server through a
//! pointer to the caller's `&mut dyn Host`, stored in the shared `RunCtx`
//! for exactly the duration of [`LuaVm::run`] (see `HostSlot`).

use std::cell::{Cell, RefCell};
use std::ffi::c_int;
use std::ptr::NonNull;
use std::rc::Rc;

use bytes::Bytes;
use lunakv_protocol::{fmt_g17, Reply};
use mlua::chunk::ChunkMode;
use mlua::{ffi, Function, HookTriggers, Lua, LuaOptions, StdLib, Table, Value, VmState};

use crate::convert::{self, error_table, error_table_text};
use crate::flags::ScriptFlags;
use crate::host::{CallOptions, Host, LogLevel};
use crate::sandbox;

/// Chunk name of the engine's own Lua code; the error handler skips its
/// frames so errors point at the script's line.
const INTERNAL_CHUNK: &str = "=lunakv";
/// Source name of that code as `lua_getinfo` reports it.
const INTERNAL_SOURCE: &str = "=lunakv";

/// How many VM instructions run between two calls of [`Host::interrupt`].
pub const HOOK_INTERVAL: u32 = 100_000;

/// Heap growth (KB) since the last periodic GC step below which the next
/// one is skipped (see `LuaVm::gc_step`).
const GC_SLACK_KB: i32 = 64;

/// Longest KEYS/ARGV table kept for reuse by the next EVAL.
const MAX_SPARE_LEN: usize = 64;

/// The Redis version the `redis` table reports.
pub const REDIS_VERSION: &str = "7.0.15";
/// `REDIS_VERSION` as a number (`0x00MMmmpp`).
pub const REDIS_VERSION_NUM: u32 = 0x07_00_0f;

/// Where an error was raised, and its message, as Redis's error handler
/// (`__redis__err__handler`) records it.
#[derive(Debug, Default)]
struct ErrorInfo {
    msg: Option<Vec<u8>>,
    source: Option<String>,
    line: Option<String>,
    /// The error came from a command, which already counted it.
    ignore_stats: bool,
}

/// The raw pointer to the running script's host.
type HostPtr = NonNull<dyn Host + 'static>;

/// State shared between the VM and its callbacks for one script run.
pub(crate) struct RunCtx {
    host: Cell<Option<HostPtr>>,
    host_busy: Cell<bool>,
    resp: Cell<u8>,
    read_only: Cell<bool>,
    allow_oom: Cell<bool>,
    allow_stale: Cell<bool>,
    has_shebang: Cell<bool>,
    keys: RefCell<Vec<Bytes>>,
    killed: RefCell<Option<Reply>>,
    hook_fast: Cell<bool>,
    /// The argument vector of `redis.call`, reused from call to call.
    argv: Cell<Vec<Bytes>>,
    /// The last short string arguments of `redis.call`, shared with the
    /// commands that received them (see [`ArgCache`]).
    arg_cache: Cell<Option<Box<ArgCache>>>,
    /// A panic caught inside a raw C callback, resumed once the script
    /// has returned to Rust.
    panic: Cell<Option<Box<dyn std::any::Any + Send + 'static>>>,
}

impl RunCtx {
    fn new() -> RunCtx {
        RunCtx {
            host: Cell::new(None),
            host_busy: Cell::new(false),
            resp: Cell::new(2),
            read_only: Cell::new(false),
            allow_oom: Cell::new(false),
            allow_stale: Cell::new(false),
            has_shebang: Cell::new(false),
            keys: RefCell::new(Vec::new()),
            killed: RefCell::new(None),
            hook_fast: Cell::new(false),
            argv: Cell::new(Vec::new()),
            arg_cache: Cell::new(None),
            panic: Cell::new(None),
        }
    }

    /// True while a script runs (a host is attached).
    fn running(&self) -> bool {
        self.host.get().is_some()
    }

    /// Calls `f` with the running script's host; `None` outside a run or
    /// if the host is already in use further up the Rust stack.
    fn with_host<R>(&self, f: impl FnOnce(&mut dyn Host) -> R) -> Option<R> {
        let mut p = self.host.get()?;
        if self.host_busy.replace(true) {
            return None;
        }
        // SAFETY: the pointer was made from the `&mut dyn Host` that
        // `LuaVm::run` holds for the whole run, and `HostSlot` clears it
        // before `run` returns (also on unwinding). `host_busy` makes the
        // borrow exclusive: no other `&mut` to the host exists while `f`
        // runs.
        let r = f(unsafe { p.as_mut() });
        self.host_busy.set(false);
        Some(r)
    }

    fn call_options<'a>(&self, keys: &'a [Bytes]) -> CallOptions<'a> {
        CallOptions {
            resp: self.resp.get(),
            read_only: self.read_only.get(),
            allow_oom: self.allow_oom.get(),
            allow_stale: self.allow_stale.get(),
            has_shebang: self.has_shebang.get(),
            keys,
        }
    }
}

/// Entries of the [`ArgCache`].
const ARG_CACHE_SLOTS: usize = 8;
/// Longest argument the [`ArgCache`] keeps: longer ones are copied each
/// time, so that the cache never pins a large buffer.
const ARG_CACHE_MAX_LEN: usize = 64;

/// The `Bytes` made for recent `redis.call` string arguments, with the
/// address of the Lua string they were copied from.
///
/// Scripts pass the same strings over and over (the command name, a key
/// from `KEYS`); handing out a clone of the same shared buffer replaces an
/// allocation, a copy and a free per argument with a reference count
/// increment and decrement. An entry is only used when its bytes equal the
/// argument's, so a Lua string freed and another allocated at the same
/// address can never be confused with it.
struct ArgCache {
    slots: [(usize, Bytes); ARG_CACHE_SLOTS],
    /// The entry to replace next (round robin).
    next: usize,
}

impl ArgCache {
    fn new() -> ArgCache {
        ArgCache {
            slots: std::array::from_fn(|_| (0, Bytes::new())),
            next: 0,
        }
    }

    /// The argument `bytes`, which Lua keeps at `addr`, as `Bytes`.
    fn get(&mut self, addr: usize, bytes: &[u8]) -> Bytes {
        if bytes.len() > ARG_CACHE_MAX_LEN {
            return Bytes::copy_from_slice(bytes);
        }
        for (a, b) in &self.slots {
            if *a == addr && b[..] == *bytes {
                return b.clone();
            }
        }
        let b = Bytes::copy_from_slice(bytes);
        // The first clone turns the buffer into a shared one, so that the
        // clones handed out later only count references.
        self.slots[self.next] = (addr, b.clone());
        self.next = (self.next + 1) % ARG_CACHE_SLOTS;
        b
    }
}

/// Attaches a host to a [`RunCtx`] for the lifetime of the slot.
struct HostSlot<'c> {
    ctx: &'c RunCtx,
}

impl<'c> HostSlot<'c> {
    fn attach<'h>(ctx: &'c RunCtx, host: &'h mut (dyn Host + 'h)) -> HostSlot<'c> {
        let p: NonNull<dyn Host + 'h> = NonNull::from(host);
        // SAFETY: only the lifetime bound of the trait object changes; the
        // pointer is never used after this slot is dropped (see
        // `RunCtx::with_host`), and the slot lives shorter than `'h`.
        let p: HostPtr = unsafe { std::mem::transmute::<NonNull<dyn Host + 'h>, HostPtr>(p) };
        ctx.host.set(Some(p));
        HostSlot { ctx }
    }
}

impl Drop for HostSlot<'_> {
    fn drop(&mut self) {
        self.ctx.host.set(None);
        self.ctx.host_busy.set(false);
    }
}

/// Errors creating a VM.
#[derive(Debug)]
pub struct VmError(pub String);

impl std::fmt::Display for VmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Lua VM setup failed: {}", self.0)
    }
}

impl std::error::Error for VmError {}

impl From<mlua::Error> for VmError {
    fn from(e: mlua::Error) -> VmError {
        VmError(e.to_string())
    }
}

/// A sandboxed Lua VM with Redis's libraries and `redis` table.
pub struct LuaVm {
    lua: Lua,
    /// The (read-only) globals table: every script's environment.
    env: Table,
    ctx: Rc<RunCtx>,
    /// The closure that runs every script ([`sb_invoke`]); its upvalues
    /// hold the real globals table, the error handler and the `KEYS` and
    /// `ARGV` tables kept for the next EVAL, reused while no script
    /// changed them.
    invoker: Function,
    /// Lua's own `next`, for walking returned maps and sets.
    next: Function,
    runs: u32,
    /// How many entries the spare tables were filled with.
    spare_len: [Cell<usize>; 2],
    /// Lua heap (KB) right after the last periodic GC step.
    gc_floor_kb: i32,
    last_error_counted: bool,
}

/// Builds an error table from plain text (`luaPushError`).
fn plain_error(lua: &Lua, msg: &str) -> mlua::Result<Value> {
    Ok(Value::Table(error_table(
        lua,
        &error_table_text(msg.as_bytes()),
        false,
    )?))
}

/// The arguments of a `redis.*` call, packed by the C wrapper into a
/// table `{n = argc, ...}`.
struct Args {
    t: Table,
    n: usize,
}

impl Args {
    fn new(t: Table) -> Args {
        let n = match t.raw_get::<Value>("n") {
            Ok(Value::Integer(i)) => usize::try_from(i).unwrap_or(0),
            Ok(Value::Number(f)) if f >= 0.0 => f as usize,
            _ => 0,
        };
        Args { t, n }
    }

    /// Argument `i` (1-based), nil when absent.
    fn get(&self, i: usize) -> Value {
        self.t.raw_get(i as i64).unwrap_or(Value::Nil)
    }
}

/// Returns `(error table, true)`: the C wrapper raises the table.
fn raise_with(lua: &Lua, msg: &str) -> mlua::Result<(Value, bool)> {
    Ok((plain_error(lua, msg)?, true))
}

/// Puts a `redis.*` callback behind the C wrapper that unpacks its
/// `(value, raise)` result ([`sandbox::sb_call_raising`]).
fn wrap(lua: &Lua, f: Function, raise: bool) -> mlua::Result<Function> {
    let cf: ffi::lua_CFunction = if raise {
        sandbox::sb_call_raising
    } else {
        sandbox::sb_call_plain
    };
    // SAFETY: pushes a C closure over the one argument (the callback).
    unsafe { lua.exec_raw::<Function>(f, |l| ffi::lua_pushcclosure(l, cf, 1)) }
}

/// Converts the arguments of `redis.call`-like functions, or the error
/// table to raise. This is the hot path of `redis.call`, so it reads the
/// packed arguments straight off the Lua stack instead of creating one
/// mlua value per argument.
fn command_args(lua: &Lua, args: &Args) -> mlua::Result<Result<Vec<Bytes>, Value>> {
    if args.n == 0 {
        return Ok(Err(plain_error(
            lua,
            "Please specify at least one argument for this redis lib call",
        )?));
    }
    let n = args.n;
    let mut argv: Vec<Bytes> = Vec::with_capacity(n);
    let mut bad = false;
    // SAFETY: the closure only reads the table given as its one argument
    // (index 1) with `lua_rawgeti`, `lua_type`, `lua_tolstring` on strings
    // and `lua_tonumber` on numbers, none of which can raise a Lua error,
    // so no `longjmp` can cross the Rust values it touches. It pushes at
    // most one value at a time and pops it.
    unsafe {
        lua.exec_raw::<()>(&args.t, |l| {
            for i in 1..=n {
                ffi::lua_rawgeti_(l, 1, i as std::ffi::c_int);
                match ffi::lua_type(l, -1) {
                    ffi::LUA_TSTRING => {
                        let mut len = 0usize;
                        let p = ffi::lua_tolstring(l, -1, &mut len) as *const u8;
                        let bytes = if p.is_null() {
                            &[][..]
                        } else {
                            std::slice::from_raw_parts(p, len)
                        };
                        argv.push(Bytes::copy_from_slice(bytes));
                    }
                    ffi::LUA_TNUMBER => argv.push(Bytes::from(fmt_g17(ffi::lua_tonumber(l, -1)))),
                    _ => bad = true,
                }
                ffi::lua_pop(l, 1);
                if bad {
                    break;
                }
            }
        })?;
    }
    if bad {
        return Ok(Err(plain_error(
            lua,
            "Lua redis lib command arguments must be strings or integers",
        )?));
    }
    Ok(Ok(argv))
}

/// What [`LuaVm::invoke`] hands to [`sb_invoke`] (as a light userdata).
struct InvokeParams<'a> {
    keys: &'a [Bytes],
    argv: &'a [Bytes],
    /// How many entries the spare `KEYS` and `ARGV` tables were filled with.
    spare_len: &'a [Cell<usize>; 2],
    /// FCALL: pass the tables as the function's arguments.
    as_params: bool,
}

/// Upvalues of the invoker closure ([`sb_invoke`]).
const UV_GLOBALS: c_int = 1;
const UV_HANDLER: c_int = 2;
const UV_SPARE: c_int = 3;
const UV_KEYS: c_int = 4;
const UV_ARGV: c_int = 5;
/// How many upvalues the invoker has.
const INVOKER_UPVALUES: c_int = 5;

/// Pushes a new array of strings.
///
/// # Safety
/// `l` must be a valid Lua state with two free stack slots; raises on
/// memory errors only.
unsafe fn push_array(l: *mut ffi::lua_State, items: &[Bytes]) {
    ffi::lua_createtable(l, c_int::try_from(items.len()).unwrap_or(c_int::MAX), 0);
    for (i, b) in items.iter().enumerate() {
        ffi::lua_pushlstring(l, b.as_ptr() as *const std::ffi::c_char, b.len());
        ffi::lua_rawseti_(l, -2, (i + 1) as c_int);
    }
}

/// `globals[<name upvalue>] = <top>` (popped), raw; nothing is written
/// when the global already holds that very value (the spare table of the
/// last run: a raw read is cheaper than a table write).
///
/// # Safety
/// To be called from [`sb_invoke`] with two free stack slots.
unsafe fn set_global(l: *mut ffi::lua_State, name: c_int) {
    ffi::lua_pushvalue(l, ffi::lua_upvalueindex(name));
    ffi::lua_rawget(l, ffi::lua_upvalueindex(UV_GLOBALS));
    let same = ffi::lua_rawequal(l, -1, -2) != 0;
    ffi::lua_pop(l, 1);
    if same {
        ffi::lua_pop(l, 1);
        return;
    }
    ffi::lua_pushvalue(l, ffi::lua_upvalueindex(name));
    ffi::lua_insert(l, -2);
    // The globals are read-only to scripts; EVAL opens them for this one
    // write, as Redis's `luaCallFunction` does.
    let globals = ffi::lua_upvalueindex(UV_GLOBALS);
    lunakv_lua::set_readonly(l, globals, false);
    ffi::lua_rawset(l, globals);
    lunakv_lua::set_readonly(l, globals, true);
}

/// Fills the spare table in `slot` of the spare tables (a fresh one if
/// there is none or the last one was large) with `items`, and leaves it
/// on the stack.
///
/// # Safety
/// To be called from [`sb_invoke`] with three free stack slots.
unsafe fn fill_spare(l: *mut ffi::lua_State, slot: c_int, items: &[Bytes], prev: &Cell<usize>) {
    let spare = ffi::lua_upvalueindex(UV_SPARE);
    ffi::lua_rawgeti_(l, spare, slot);
    if ffi::lua_type(l, -1) != ffi::LUA_TTABLE || prev.get() > MAX_SPARE_LEN {
        ffi::lua_pop(l, 1);
        ffi::lua_createtable(l, c_int::try_from(items.len()).unwrap_or(c_int::MAX), 0);
        ffi::lua_pushvalue(l, -1);
        ffi::lua_rawseti_(l, spare, slot);
        prev.set(0);
    }
    for (i, b) in items.iter().enumerate() {
        ffi::lua_pushlstring(l, b.as_ptr() as *const std::ffi::c_char, b.len());
        ffi::lua_rawseti_(l, -2, (i + 1) as c_int);
    }
    for i in items.len() + 1..=prev.get() {
        ffi::lua_pushnil(l);
        ffi::lua_rawseti_(l, -2, i as c_int);
    }
    prev.set(items.len());
}

/// Drops the spare table in `slot` unless it is still exactly an array of
/// `n` entries without a metatable (a script may have added keys or a
/// metatable; values are overwritten anyway).
///
/// # Safety
/// To be called from [`sb_invoke`] with three free stack slots.
unsafe fn check_spare(l: *mut ffi::lua_State, slot: c_int, n: usize) {
    let spare = ffi::lua_upvalueindex(UV_SPARE);
    ffi::lua_rawgeti_(l, spare, slot);
    let mut clean = ffi::lua_type(l, -1) == ffi::LUA_TTABLE;
    if clean && ffi::lua_getmetatable(l, -1) != 0 {
        ffi::lua_pop(l, 1);
        clean = false;
    }
    if clean {
        let mut count = 0usize;
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            ffi::lua_pop(l, 1);
            count += 1;
            if count > n {
                ffi::lua_pop(l, 1);
                break;
            }
        }
        clean = count == n;
    }
    ffi::lua_pop(l, 1);
    if !clean {
        ffi::lua_pushnil(l);
        ffi::lua_rawseti_(l, spare, slot);
    }
}

/// The invoker: `invoker(params, f)` runs the script function `f` as
/// Redis's `luaCallFunction` does, with the error handler as message
/// handler, and returns `true, <first result>` or `false, <error table>`.
/// Its upvalues are the globals table, the error handler, the spare
/// `KEYS`/`ARGV` tables and the strings `"KEYS"` and `"ARGV"`.
///
/// EVAL reuses its KEYS/ARGV tables from run to run: the globals `KEYS`
/// and `ARGV` keep pointing at them between runs (as in Redis, where they
/// stay set until the next run replaces them), so a run only refills them
/// and writes no global; a table a script changed beyond its items (extra
/// keys, a metatable) is dropped after the run by [`check_spare`] and the
/// next run gets a fresh one. FCALL's are passed to library code that may
/// keep them in upvalues, so they are always fresh.
unsafe extern "C-unwind" fn sb_invoke(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: `LuaVm::invoke` is the only caller, with a pointer to live
    // parameters; nothing here owns a value that needs dropping, so a
    // memory error raised by the C API cannot skip a destructor.
    let p = &*(ffi::lua_touserdata(l, 1) as *const InvokeParams<'_>);
    ffi::luaL_checkstack(l, 12, c"stack overflow".as_ptr());
    ffi::lua_settop(l, 2);
    // 3: the message handler, 4: the function.
    ffi::lua_pushvalue(l, ffi::lua_upvalueindex(UV_HANDLER));
    ffi::lua_pushvalue(l, 2);
    let [keys_len, argv_len] = p.spare_len;
    let status = if p.as_params {
        push_array(l, p.keys);
        push_array(l, p.argv);
        ffi::lua_pcall(l, 2, 1, 3)
    } else {
        fill_spare(l, 1, p.keys, keys_len);
        set_global(l, UV_KEYS);
        fill_spare(l, 2, p.argv, argv_len);
        set_global(l, UV_ARGV);
        let status = ffi::lua_pcall(l, 0, 1, 3);
        check_spare(l, 1, p.keys.len());
        check_spare(l, 2, p.argv.len());
        status
    };
    // The result (or error) is at 4.
    ffi::lua_pushboolean(l, (status == 0) as c_int);
    ffi::lua_pushvalue(l, 4);
    2
}

/// `(int)lua_tonumber(v)`: 0 for non-numbers, C-style truncation.
fn to_int(lua: &Lua, v: Value) -> i64 {
    match lua.coerce_number(v) {
        Ok(Some(n)) => convert::number_to_i64(n),
        _ => 0,
    }
}

/// `__gc` of the userdata that keeps a [`RunCtx`] alive for the raw
/// `redis.call`/`redis.pcall` closures (their one upvalue).
unsafe extern "C-unwind" fn ctx_gc(l: *mut ffi::lua_State) -> std::ffi::c_int {
    let p = ffi::lua_touserdata(l, 1) as *mut *const RunCtx;
    if !p.is_null() && !(*p).is_null() {
        // SAFETY: the pointer came from `Rc::into_raw` in `ctx_closure`
        // and is released exactly once (then nulled).
        drop(Rc::from_raw(*p));
        *p = std::ptr::null();
    }
    0
}

/// Creates a C closure over a userdata that owns a reference to `ctx`.
fn ctx_closure(lua: &Lua, ctx: &Rc<RunCtx>, f: ffi::lua_CFunction) -> mlua::Result<Function> {
    let raw = Rc::into_raw(ctx.clone());
    // SAFETY: creates a userdata holding the pointer, with a `__gc`
    // metatable that releases it, and the closure over it. A memory error
    // would leak one `Rc` reference at worst.
    unsafe {
        lua.exec_raw::<Function>((), |l| {
            let p =
                ffi::lua_newuserdata(l, std::mem::size_of::<*const RunCtx>()) as *mut *const RunCtx;
            *p = raw;
            ffi::lua_createtable(l, 0, 1);
            ffi::lua_pushcfunction(l, ctx_gc);
            ffi::lua_setfield(l, -2, c"__gc".as_ptr());
            ffi::lua_setmetatable(l, -2);
            ffi::lua_pushcclosure(l, f, 1);
        })
    }
}

/// `redis.call`: runs the command and raises its error, as a raw C
/// function (the hot path of scripts; see [`redis_generic`]).
unsafe extern "C-unwind" fn sb_redis_call(l: *mut ffi::lua_State) -> std::ffi::c_int {
    redis_generic(l, true)
}

/// `redis.pcall`: like [`sb_redis_call`], but returns errors as tables.
unsafe extern "C-unwind" fn sb_redis_pcall(l: *mut ffi::lua_State) -> std::ffi::c_int {
    redis_generic(l, false)
}

/// Redis's `luaRedisGenericCommand` on the raw C API: the arguments are
/// read straight off the Lua stack into a reused vector, the command runs
/// through the host, and its reply is pushed as a Lua value without any
/// mlua value or registry reference in between.
///
/// Errors are raised (`lua_error`) only from this frame, after every Rust
/// value of the call has been dropped; a panic in the host is caught,
/// parked in the [`RunCtx`] and resumed by [`LuaVm::run`].
unsafe fn redis_generic(l: *mut ffi::lua_State, raise: bool) -> std::ffi::c_int {
    let p = ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)) as *const *const RunCtx;
    if p.is_null() || (*p).is_null() {
        return 0;
    }
    // SAFETY: the userdata owns a reference to the context (see
    // `ctx_closure`), and it is alive while this closure is.
    let ctx: &RunCtx = &**p;
    let outcome =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| redis_call_body(l, ctx)));
    match outcome {
        Ok(is_error) => {
            if raise && is_error {
                ffi::lua_error(l)
            }
            1
        }
        Err(payload) => {
            ctx.panic.set(Some(payload));
            ffi::lua_settop(l, 0);
            ffi::lua_pushliteral(l, c"panic in a redis.call callback");
            ffi::lua_error(l)
        }
    }
}

/// The body of [`redis_generic`]: leaves the reply (or an error table) on
/// the stack and says whether it is an error to raise.
unsafe fn redis_call_body(l: *mut ffi::lua_State, ctx: &RunCtx) -> bool {
    if !ctx.running() {
        convert::push_error_table(
            l,
            b"ERR",
            b"redis.call/pcall can only be called inside a script invocation",
            false,
        );
        return true;
    }
    let argc = ffi::lua_gettop(l);
    if argc <= 0 {
        convert::push_error_table(
            l,
            b"ERR",
            b"Please specify at least one argument for this redis lib call",
            false,
        );
        return true;
    }
    let mut argv = ctx.argv.take();
    argv.clear();
    let mut cache = ctx
        .arg_cache
        .take()
        .unwrap_or_else(|| Box::new(ArgCache::new()));
    let mut bad = false;
    for i in 1..=argc {
        match ffi::lua_type(l, i) {
            ffi::LUA_TSTRING => {
                let mut len = 0usize;
                let p = ffi::lua_tolstring(l, i, &mut len) as *const u8;
                if p.is_null() {
                    argv.push(Bytes::new());
                } else {
                    argv.push(cache.get(p as usize, std::slice::from_raw_parts(p, len)));
                }
            }
            ffi::LUA_TNUMBER => argv.push(Bytes::from(fmt_g17(ffi::lua_tonumber(l, i)))),
            _ => {
                bad = true;
                break;
            }
        }
    }
    ctx.arg_cache.set(Some(cache));
    // The arguments are no longer needed on the stack: free the slots for
    // the reply.
    ffi::lua_settop(l, 0);
    if bad {
        argv.clear();
        ctx.argv.set(argv);
        convert::push_error_table(
            l,
            b"ERR",
            b"Lua redis lib command arguments must be strings or integers",
            false,
        );
        return true;
    }
    let reply = {
        let keys = ctx.keys.borrow();
        let opts = ctx.call_options(&keys);
        ctx.with_host(|h| h.call(&argv, &opts))
    };
    argv.clear();
    ctx.argv.set(argv);
    let Some(reply) = reply else {
        convert::push_error_table(
            l,
            b"ERR",
            b"luaRedisGenericCommand() recursive call detected. Are you doing funny stuff with Lua debug hooks?",
            false,
        );
        return true;
    };
    let is_err = reply.is_error();
    convert::push_command_reply(l, &reply, ctx.resp.get() == 3);
    is_err
}

impl LuaVm {
    /// Creates a VM: Lua's base, table, string and math libraries, Redis's
    /// `cjson`, `cmsgpack`, `struct` and `bit`, the `redis` table, and the
    /// sandbox (read-only globals and libraries).
    pub fn new() -> Result<LuaVm, VmError> {
        Self::with_api(true)
    }

    /// A VM for FUNCTION: without EVAL's `redis.breakpoint`, `redis.debug`
    /// and `redis.replicate_commands`.
    pub fn for_functions() -> Result<LuaVm, VmError> {
        Self::with_api(false)
    }

    fn with_api(eval_api: bool) -> Result<LuaVm, VmError> {
        let lua = Lua::new_with(
            StdLib::TABLE | StdLib::STRING | StdLib::MATH,
            LuaOptions::default(),
        )?;
        // Small blocks (strings, tables, closures) come from a private pool
        // (see `pool`); without one the state keeps mlua's allocator.
        crate::pool::install(&lua);
        let globals = lua.globals();
        let ctx = Rc::new(RunCtx::new());

        // Redis's libraries (`cjson`, `cmsgpack`, `struct`, `bit`), written
        // in Rust in the lualibs crate. They must be installed before the
        // sandbox locks the globals table.
        crate::libs::register(&lua)?;

        let internal = |src: &str| -> mlua::Result<Function> {
            lua.load(src)
                .set_name(INTERNAL_CHUNK)
                .set_environment(globals.clone())
                .into_function()
        };
        let string_mt: Value = internal("return getmetatable('')")?.call(())?;
        let next: Function = globals.raw_get("next")?;

        let redis = Self::redis_table(&lua, &ctx, eval_api)?;
        globals.raw_set("redis", redis)?;
        globals.raw_set("__redis__err__handler", public_error_handler(&lua)?)?;

        let handler = Self::error_handler(&lua, &ctx)?;
        if eval_api {
            // EVAL writes these two globals before every run, with the
            // globals opened for the write: taking their slots now means
            // that write never allocates, so it cannot fail half-way.
            globals.raw_set("KEYS", false)?;
            globals.raw_set("ARGV", false)?;
        }
        Self::lock_down(&lua, &globals, string_mt)?;
        let env = globals.clone();

        let spare = lua.create_table()?;
        // SAFETY: pushes the two names and creates the closure over the
        // globals, the handler, the spare tables and the names (its five
        // upvalues).
        let invoker = unsafe {
            lua.exec_raw::<Function>((globals.clone(), handler.clone(), spare.clone()), |l| {
                ffi::lua_pushstring(l, c"KEYS".as_ptr());
                ffi::lua_pushstring(l, c"ARGV".as_ptr());
                ffi::lua_pushcclosure(l, sb_invoke, INVOKER_UPVALUES);
            })?
        };
        let vm = LuaVm {
            lua,
            env,
            ctx,
            invoker,
            next,
            runs: 0,
            spare_len: [Cell::new(0), Cell::new(0)],
            gc_floor_kb: 0,
            last_error_counted: false,
        };
        vm.install_hook()?;
        Ok(vm)
    }

    /// The Lua state (for a second front end such as FUNCTION).
    pub fn lua(&self) -> &Lua {
        &self.lua
    }

    /// The environment scripts run in (the read-only globals table).
    pub fn env(&self) -> &Table {
        &self.env
    }

    /// Lua memory in use, in bytes (INFO's `used_memory_lua`).
    pub fn used_memory(&self) -> usize {
        self.lua.used_memory()
    }

    /// Bounds the memory the Lua state may allocate (0: no limit). A
    /// script that needs more fails with a Lua memory error.
    pub fn set_memory_limit(&self, bytes: usize) -> Result<(), VmError> {
        if crate::pool::set_limit(&self.lua, bytes) {
            return Ok(());
        }
        self.lua
            .set_memory_limit(bytes)
            .map(|_| ())
            .map_err(VmError::from)
    }

    fn install_hook(&self) -> mlua::Result<()> {
        let ctx = self.ctx.clone();
        self.lua.set_global_hook(
            HookTriggers::new().every_nth_instruction(HOOK_INTERVAL),
            move |lua, _| {
                let kill = if ctx.killed.borrow().is_some() {
                    true
                } else if let Some(Some(r)) = ctx.with_host(|h| h.interrupt()) {
                    *ctx.killed.borrow_mut() = Some(r);
                    true
                } else {
                    false
                };
                if !kill {
                    return Ok(VmState::Continue);
                }
                // From now on stop at every instruction, so a script that
                // catches the error with pcall cannot keep running.
                ctx.hook_fast.set(true);
                // SAFETY: only reads and re-installs the current thread's hook
                // with a different count; no Lua value is touched.
                unsafe {
                    let _ = lua.exec_raw::<()>((), |state| {
                        if let Some(h) = ffi::lua_gethook(state) {
                            ffi::lua_sethook(state, Some(h), ffi::LUA_MASKCOUNT, 1);
                        }
                    });
                }
                Err(mlua::Error::runtime("Script killed"))
            },
        )
    }

    /// Compiles `code` as a script function named `@user_script` in the
    /// sandbox. A chunk starting with `\x1b` is parsed as text (and fails)
    /// like in Redis, whose Lua never loads bytecode. `Err` carries Lua's
    /// message (`user_script:1: ...`).
    pub fn compile(&self, code: &[u8]) -> Result<Function, String> {
        let owned;
        let code = if code.first() == Some(&0x1b) {
            owned = [b" ", code].concat();
            &owned[..]
        } else {
            code
        };
        self.lua
            .load(code)
            .set_name("@user_script")
            .set_environment(self.env.clone())
            .set_mode(ChunkMode::Text)
            .into_function()
            .map_err(|e| match e {
                mlua::Error::SyntaxError { message, .. } => message,
                mlua::Error::MemoryError(m) => m,
                other => other.to_string(),
            })
    }

    /// Runs a compiled script as EVAL does and returns the reply for the
    /// caller. `name` is the script's SHA1 (used in error messages);
    /// `keys` and `argv` become the `KEYS` and `ARGV` globals. The caller
    /// has already passed [`Host::before_run`].
    // One argument per piece of EVAL's context reads better here than a
    // parameter struct built for a single call site.
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        &mut self,
        host: &mut dyn Host,
        func: &Function,
        name: &str,
        keys: &[Bytes],
        argv: &[Bytes],
        flags: ScriptFlags,
        read_only: bool,
    ) -> Reply {
        self.run_inner(host, func, name, keys, argv, flags, read_only, false)
    }

    /// Runs a function as FCALL does: like [`LuaVm::run`], but `keys` and
    /// `args` are passed to `func` as its two arguments (tables) instead of
    /// the `KEYS`/`ARGV` globals; `name` is the function's name, used in
    /// error messages.
    #[allow(clippy::too_many_arguments)]
    pub fn run_function(
        &mut self,
        host: &mut dyn Host,
        func: &Function,
        name: &str,
        keys: &[Bytes],
        args: &[Bytes],
        flags: ScriptFlags,
        read_only: bool,
    ) -> Reply {
        self.run_inner(host, func, name, keys, args, flags, read_only, true)
    }

    #[allow(clippy::too_many_arguments)]
    fn run_inner(
        &mut self,
        host: &mut dyn Host,
        func: &Function,
        name: &str,
        keys: &[Bytes],
        argv: &[Bytes],
        flags: ScriptFlags,
        read_only: bool,
        as_params: bool,
    ) -> Reply {
        let ctx = self.ctx.clone();
        let _slot = HostSlot::attach(&ctx, host);
        ctx.resp.set(2);
        ctx.read_only.set(flags.run_read_only(read_only));
        ctx.allow_oom
            .set(!flags.is_compat() && flags.contains(ScriptFlags::ALLOW_OOM));
        ctx.allow_stale
            .set(flags.contains(ScriptFlags::ALLOW_STALE));
        ctx.has_shebang.set(!flags.is_compat());
        {
            let mut k = ctx.keys.borrow_mut();
            k.clear();
            k.extend_from_slice(keys);
        }
        *ctx.killed.borrow_mut() = None;
        if ctx.hook_fast.replace(false) {
            if let Err(e) = self.install_hook() {
                return Reply::err(format!("ERR Error running script {name}, {e}"));
            }
        }

        let result = self.invoke(func, keys, argv, as_params);
        if let Some(payload) = ctx.panic.take() {
            std::panic::resume_unwind(payload);
        }

        self.runs += 1;
        if self.runs >= 50 {
            self.runs = 0;
            self.gc_step();
        }

        let resp3 = ctx.resp.get() == 3;
        let killed = ctx.killed.borrow_mut().take();
        self.last_error_counted = false;
        let reply = match (result, killed) {
            (Ok((ok, v)), killed) => {
                if let Some(kill) = killed {
                    // Killed, even if the script caught the error at the
                    // very end: report the kill, where it happened.
                    let mut info = match &v {
                        Value::Table(t) if !ok => error_info(&self.lua, t),
                        _ => ErrorInfo::default(),
                    };
                    info.msg = Some(match kill {
                        Reply::Error(e) => e.to_vec(),
                        _ => b"ERR Script killed by user with SCRIPT KILL...".to_vec(),
                    });
                    self.error_reply(name, info)
                } else if ok {
                    if let Value::Table(t) = &v {
                        self.last_error_counted =
                            matches!(t.raw_get::<Value>("err"), Ok(Value::String(_)))
                                && matches!(
                                    t.raw_get::<Value>("ignore_error_stats_update"),
                                    Ok(Value::Boolean(true))
                                );
                    }
                    convert::lua_to_reply(v, resp3, &self.next)
                } else if let Value::Table(t) = &v {
                    let info = error_info(&self.lua, t);
                    self.last_error_counted = info.ignore_stats;
                    self.error_reply(name, info)
                } else {
                    // The handler did not run: out of memory, or an error
                    // while handling an error.
                    let msg = match &v {
                        Value::String(s) => s.as_bytes().to_vec(),
                        _ => b"execution failure".to_vec(),
                    };
                    running_error(name, &msg)
                }
            }
            (Err(e), _) => running_error(name, e.to_string().as_bytes()),
        };
        reply
    }

    /// Calls `func` with the error handler, in one protected raw call of
    /// the invoker ([`sb_invoke`]): `KEYS` and `ARGV` are built with the C
    /// API and set as globals (or passed as the function's two arguments
    /// for FCALL). Returns `(ok, value)`: the script's first result, or
    /// the error handler's table.
    ///
    /// This is `lua_pcall` straight on the state: mlua's `exec_raw` would
    /// create and collect a fresh C closure for every run.
    fn invoke(
        &self,
        func: &Function,
        keys: &[Bytes],
        argv: &[Bytes],
        as_params: bool,
    ) -> mlua::Result<(bool, Value)> {
        let params = InvokeParams {
            keys,
            argv,
            spare_len: &self.spare_len,
            as_params,
        };
        self.lua.exec_raw_lua(|raw| {
            // SAFETY: pushes the invoker, a light userdata pointing at
            // `params` (which outlives the call) and the function, then
            // runs the invoker under `lua_pcall`, which catches whatever it
            // raises (memory errors; the script's own errors are caught by
            // the invoker's inner `lua_pcall`). The stack is restored to
            // its height on entry on every path.
            unsafe {
                let l = raw.state();
                let top = ffi::lua_gettop(l);
                if ffi::lua_checkstack(l, 4) == 0 {
                    return Err(mlua::Error::StackError);
                }
                raw.push(&self.invoker)?;
                ffi::lua_pushlightuserdata(
                    l,
                    &params as *const InvokeParams<'_> as *mut std::ffi::c_void,
                );
                if let Err(e) = raw.push(func) {
                    ffi::lua_settop(l, top);
                    return Err(e);
                }
                let status = ffi::lua_pcall(l, 2, 2, 0);
                if status != 0 {
                    let mut len = 0usize;
                    let p = ffi::lua_tolstring(l, -1, &mut len) as *const u8;
                    let msg = if p.is_null() {
                        String::from("execution failure")
                    } else {
                        String::from_utf8_lossy(std::slice::from_raw_parts(p, len)).into_owned()
                    };
                    ffi::lua_settop(l, top);
                    return Err(if status == ffi::LUA_ERRMEM {
                        mlua::Error::MemoryError(msg)
                    } else {
                        mlua::Error::RuntimeError(msg)
                    });
                }
                let ok = ffi::lua_toboolean(l, -2) != 0;
                let v = raw.pop_value();
                ffi::lua_settop(l, top);
                Ok((ok, v))
            }
        })
    }

    /// Redis's `LUA_GC_CYCLE_PERIOD`: every 50 runs, a 50-step collection
    /// (`lua_gc(LUA_GCSTEP, 50)`). On a heap smaller than 50 KB that step is
    /// a full mark-and-sweep of everything live, even when the runs left
    /// almost no garbage; so the step is taken only once the heap has grown
    /// by [`GC_SLACK_KB`] since the last one (Lua's own incremental collector
    /// keeps running on allocation in any case). Scripts that allocate more
    /// than that per 50 runs get exactly Redis's schedule.
    fn gc_step(&mut self) {
        let floor = &mut self.gc_floor_kb;
        // SAFETY: GC count and step on the current thread; no Lua value is
        // touched.
        unsafe {
            let _ = self.lua.exec_raw::<()>((), |state| {
                let kb = ffi::lua_gc(state, ffi::LUA_GCCOUNT, 0);
                if kb >= floor.saturating_add(GC_SLACK_KB) {
                    ffi::lua_gc(state, ffi::LUA_GCSTEP, 50);
                    *floor = ffi::lua_gc(state, ffi::LUA_GCCOUNT, 0);
                } else if kb < *floor {
                    *floor = kb;
                }
            });
        }
    }

    /// True if the error reply of the last [`LuaVm::run`] repeats an error
    /// a command already returned (and counted in the error stats): Redis's
    /// `ERR_REPLY_FLAG_NO_STATS_UPDATE`. The server should then not count
    /// the script's error reply again in `errorstats`.
    pub fn last_error_counted(&self) -> bool {
        self.last_error_counted
    }

    /// The final error reply: `<msg> script: <name>, on <source>:<line>.`
    fn error_reply(&self, name: &str, info: ErrorInfo) -> Reply {
        // Redis 7.0 crashes on an error object without a message
        // (`error({})`); we report a generic error instead.
        let mut out = info.msg.unwrap_or_else(|| b"ERR unknown error".to_vec());
        if let (Some(src), Some(line)) = (info.source, info.line) {
            out.extend_from_slice(format!(" script: {name}, on {src}:{line}.").as_bytes());
        }
        Reply::Error(Bytes::from(out))
    }

    /// The message handler of every script run, Redis's
    /// `__redis__err__handler`: turns the error into a table
    /// `{err = "ERR <message>", source = ..., line = ...}` (an error that is
    /// already a table gets `source` and `line` added), from which
    /// [`LuaVm::run`] builds the reply. Lua 5.1 also calls it for errors
    /// raised by `load`'s reader function, whose error value it then
    /// becomes, exactly as in Redis.
    fn error_handler(lua: &Lua, ctx: &Rc<RunCtx>) -> mlua::Result<Function> {
        let ctx = ctx.clone();
        let tostring: Function = lua.globals().raw_get("tostring")?;
        lua.create_function(move |lua, err: Value| {
            let frame = error_position(lua);
            let killed = ctx.killed.borrow().clone();
            let t = match (killed, err) {
                (Some(kill), _) => {
                    let text = match kill {
                        Reply::Error(e) => e.to_vec(),
                        _ => b"ERR Script killed by user with SCRIPT KILL...".to_vec(),
                    };
                    let t = lua.create_table()?;
                    t.raw_set("err", lua.create_string(text)?)?;
                    t
                }
                (None, Value::Table(t)) => t,
                (None, other) => {
                    let text: Vec<u8> = match &other {
                        Value::Error(e) => e.to_string().into_bytes(),
                        v => match tostring.call::<Value>(v.clone()) {
                            Ok(Value::String(s)) => s.as_bytes().to_vec(),
                            _ => b"?".to_vec(),
                        },
                    };
                    let mut msg = b"ERR ".to_vec();
                    msg.extend_from_slice(&text);
                    let t = lua.create_table()?;
                    t.raw_set("err", lua.create_string(msg)?)?;
                    t
                }
            };
            if let Some((source, line)) = frame {
                // Plain assignments, as in Redis: a read-only table
                // refuses them and the error simply carries no position.
                let _ = t.set("source", source);
                let _ = t.set("line", line.map_or(-1, |l| l as i64));
            }
            Ok(t)
        })
    }

    /// Builds the `redis` table.
    fn redis_table(lua: &Lua, ctx: &Rc<RunCtx>, eval_api: bool) -> mlua::Result<Table> {
        let t = lua.create_table()?;

        t.raw_set("call", ctx_closure(lua, ctx, sb_redis_call)?)?;
        t.raw_set("pcall", ctx_closure(lua, ctx, sb_redis_pcall)?)?;

        let c = ctx.clone();
        let setresp = lua.create_function(move |lua, args: Table| {
            let args = Args::new(args);
            if !c.running() {
                return raise_with(
                    lua,
                    "redis.setresp can only be called inside a script invocation",
                );
            }
            if args.n != 1 {
                return raise_with(lua, "redis.setresp() requires one argument.");
            }
            let resp = to_int(lua, args.get(1));
            if resp != 2 && resp != 3 {
                return raise_with(lua, "RESP version must be 2 or 3.");
            }
            c.resp.set(resp as u8);
            Ok((Value::Nil, false))
        })?;
        t.raw_set("setresp", wrap(lua, setresp, true)?)?;

        let c = ctx.clone();
        let log = lua.create_function(move |lua, args: Table| {
            let args = Args::new(args);
            if args.n < 2 {
                return raise_with(lua, "redis.log() requires two arguments or more.");
            }
            let level = match lua.coerce_number(args.get(1)) {
                Ok(Some(n)) => convert::number_to_i64(n),
                _ => return raise_with(lua, "First argument must be a number (log level)."),
            };
            let level = match level {
                0 => LogLevel::Debug,
                1 => LogLevel::Verbose,
                2 => LogLevel::Notice,
                3 => LogLevel::Warning,
                _ => return raise_with(lua, "Invalid debug level."),
            };
            let mut msg = Vec::new();
            for j in 2..=args.n {
                if let Ok(Some(s)) = lua.coerce_string(args.get(j)) {
                    if j != 2 {
                        msg.push(b' ');
                    }
                    msg.extend_from_slice(&s.as_bytes());
                }
            }
            c.with_host(|h| h.log(level, &msg));
            Ok((Value::Nil, false))
        })?;
        t.raw_set("log", wrap(lua, log, true)?)?;

        let c = ctx.clone();
        let set_repl = lua.create_function(move |lua, args: Table| {
            let args = Args::new(args);
            if !c.running() {
                return raise_with(
                    lua,
                    "redis.set_repl can only be called inside a script invocation",
                );
            }
            if args.n != 1 {
                return raise_with(lua, "redis.set_repl() requires two arguments.");
            }
            let flags = to_int(lua, args.get(1)) as i32;
            if flags & !3 != 0 {
                return raise_with(
                    lua,
                    "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
                );
            }
            c.with_host(|h| h.set_repl(flags));
            Ok((Value::Nil, false))
        })?;
        t.raw_set("set_repl", wrap(lua, set_repl, true)?)?;

        let c = ctx.clone();
        let acl = lua.create_function(move |lua, args: Table| {
            if !c.running() {
                return raise_with(
                    lua,
                    "redis.acl_check_cmd can only be called inside a script invocation",
                );
            }
            let argv = match command_args(lua, &Args::new(args))? {
                Ok(a) => a,
                Err(e) => return Ok((e, true)),
            };
            match c.with_host(|h| h.acl_check_cmd(&argv)) {
                Some(Ok(b)) => Ok((Value::Boolean(b), false)),
                Some(Err(Reply::Error(e))) => {
                    let mut buf = b"-".to_vec();
                    buf.extend_from_slice(&e);
                    Ok((
                        Value::Table(error_table(lua, &error_table_text(&buf), false)?),
                        true,
                    ))
                }
                _ => raise_with(lua, "Invalid command passed to redis.acl_check_cmd()"),
            }
        })?;
        t.raw_set("acl_check_cmd", wrap(lua, acl, true)?)?;

        let sha1hex = lua.create_function(|lua, args: Table| {
            let args = Args::new(args);
            if args.n != 1 {
                return raise_with(lua, "wrong number of arguments");
            }
            let data = match lua.coerce_string(args.get(1)) {
                Ok(Some(s)) => s.as_bytes().to_vec(),
                _ => Vec::new(),
            };
            let hex = sha1_smol::Sha1::from(&data).digest().to_string();
            Ok((Value::String(lua.create_string(hex)?), false))
        })?;
        t.raw_set("sha1hex", wrap(lua, sha1hex, true)?)?;

        let error_reply = lua.create_function(|lua, args: Table| {
            let args = Args::new(args);
            let Value::String(s) = args.get(1) else {
                return Ok((
                    plain_error(lua, "wrong number or type of arguments")?,
                    false,
                ));
            };
            if args.n != 1 {
                return Ok((
                    plain_error(lua, "wrong number or type of arguments")?,
                    false,
                ));
            }
            let bytes = s.as_bytes();
            let s = convert::c_str(&bytes);
            let mut buf = Vec::with_capacity(s.len() + 1);
            if s.first() != Some(&b'-') {
                buf.push(b'-');
            }
            buf.extend_from_slice(s);
            Ok((
                Value::Table(error_table(lua, &error_table_text(&buf), false)?),
                false,
            ))
        })?;
        t.raw_set("error_reply", wrap(lua, error_reply, false)?)?;

        let status_reply = lua.create_function(|lua, args: Table| {
            let args = Args::new(args);
            let Value::String(s) = args.get(1) else {
                return Ok((
                    plain_error(lua, "wrong number or type of arguments")?,
                    false,
                ));
            };
            if args.n != 1 {
                return Ok((
                    plain_error(lua, "wrong number or type of arguments")?,
                    false,
                ));
            }
            let t = lua.create_table_with_capacity(0, 1)?;
            t.raw_set("ok", s)?;
            Ok((Value::Table(t), false))
        })?;
        t.raw_set("status_reply", wrap(lua, status_reply, false)?)?;

        // Redis defines redis.breakpoint, redis.debug and
        // redis.replicate_commands in EVAL's VM only (eval.c), not in the
        // functions' one.
        if eval_api {
            let constant =
                |v: Value| lua.create_function(move |_, _: Table| Ok((v.clone(), false)));
            t.raw_set(
                "breakpoint",
                wrap(lua, constant(Value::Boolean(false))?, false)?,
            )?;
            t.raw_set("debug", wrap(lua, constant(Value::Nil)?, false)?)?;
            t.raw_set(
                "replicate_commands",
                wrap(lua, constant(Value::Boolean(true))?, false)?,
            )?;
        }

        for (k, v) in [
            ("LOG_DEBUG", 0),
            ("LOG_VERBOSE", 1),
            ("LOG_NOTICE", 2),
            ("LOG_WARNING", 3),
            ("REPL_NONE", 0),
            ("REPL_AOF", 1),
            ("REPL_SLAVE", 2),
            ("REPL_REPLICA", 2),
            ("REPL_ALL", 3),
        ] {
            t.raw_set(k, v)?;
        }
        t.raw_set("REDIS_VERSION", REDIS_VERSION)?;
        t.raw_set("REDIS_VERSION_NUM", REDIS_VERSION_NUM)?;
        Ok(t)
    }

    /// Installs the sandbox: every table reachable from the globals and
    /// the string metatable becomes read-only.
    fn lock_down(lua: &Lua, globals: &Table, string_mt: Value) -> mlua::Result<()> {
        for name in sandbox::REMOVED_GLOBALS {
            globals.raw_set(*name, Value::Nil)?;
        }
        for (table, name, f) in sandbox::REPLACEMENTS {
            // SAFETY: `f` is one of the sandbox's C functions, which follow
            // the Lua C API protocol.
            let func = unsafe { lua.create_c_function(*f)? };
            if table.is_empty() {
                globals.raw_set(*name, func)?;
            } else if let Ok(Value::Table(t)) = globals.raw_get::<Value>(*table) {
                t.raw_set(*name, func)?;
            }
        }
        // Unknown globals are errors (Redis's luaSetErrorMetatable).
        let err_mt = lua.create_table()?;
        // SAFETY: a sandbox C function.
        err_mt.raw_set("__index", unsafe {
            lua.create_c_function(sandbox::sb_nonexistent_global)?
        })?;
        globals.set_metatable(Some(err_mt))?;

        // Every table reachable from the globals, their metatables and the
        // string metatable become read-only.
        let mut protected: Vec<Table> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut todo = vec![globals.clone()];
        if let Value::Table(t) = string_mt {
            todo.push(t);
        }
        while let Some(t) = todo.pop() {
            if !seen.insert(t.to_pointer() as usize) {
                continue;
            }
            for (_, v) in t.pairs::<Value, Value>().flatten() {
                if let Value::Table(c) = v {
                    todo.push(c);
                }
            }
            if let Some(mt) = t.metatable() {
                todo.push(mt);
            }
            protected.push(t);
        }
        for t in &protected {
            // SAFETY: sets a flag of the table pushed as the only argument.
            unsafe {
                lua.exec_raw::<()>(t.clone(), |l| lunakv_lua::set_readonly(l, 1, true))?;
            }
        }
        Ok(())
    }
}

/// Reads an error table as Redis's `luaExtractErrorInformation` does
/// (plain gets, strings or numbers accepted).
fn error_info(lua: &Lua, t: &Table) -> ErrorInfo {
    let text = |key: &str| -> Option<Vec<u8>> {
        match t.get::<Value>(key) {
            Ok(v @ (Value::String(_) | Value::Integer(_) | Value::Number(_))) => {
                match lua.coerce_string(v) {
                    Ok(Some(s)) => Some(convert::c_str(&s.as_bytes()).to_vec()),
                    _ => None,
                }
            }
            _ => None,
        }
    };
    ErrorInfo {
        msg: text("err"),
        source: text("source").map(|s| String::from_utf8_lossy(&s).into_owned()),
        line: text("line").map(|s| String::from_utf8_lossy(&s).into_owned()),
        ignore_stats: matches!(
            t.get::<Value>("ignore_error_stats_update"),
            Ok(Value::Boolean(true))
        ),
    }
}

/// Where an error raised now comes from, as Redis's error handler finds
/// it: the function at stack level 1 (the one that raised), or its caller
/// when that is a C function (`error`, `redis.call`...). Our own Lua
/// frames are skipped. Returns the source (`@user_script`) and line.
fn error_position(lua: &Lua) -> Option<(String, Option<usize>)> {
    let mut frames: Vec<(String, bool, Option<usize>)> = Vec::with_capacity(2);
    let mut level = 1;
    while frames.len() < 2 && level < 64 {
        let f = lua.inspect_stack(level, |d| {
            let s = d.source();
            (
                s.source.map(|x| x.into_owned()).unwrap_or_default(),
                s.what == "C",
                d.current_line(),
            )
        })?;
        level += 1;
        if f.0 != INTERNAL_SOURCE {
            frames.push(f);
        }
    }
    let mut it = frames.into_iter();
    let mut frame = it.next();
    if frame.as_ref().is_some_and(|f| f.1) {
        frame = it.next();
    }
    frame.map(|(s, _, l)| (s, l))
}

/// Redis's `__redis__err__handler` global, for scripts that call it: turns
/// an error into `{err=..., source=..., line=...}`.
fn public_error_handler(lua: &Lua) -> mlua::Result<Function> {
    let tostring: Function = lua.globals().raw_get("tostring")?;
    lua.create_function(move |lua, err: Value| {
        let pos = error_position(lua);
        let t = match err {
            Value::Table(t) => t,
            other => {
                let t = lua.create_table()?;
                let s: Value = tostring.call(other).unwrap_or(Value::Nil);
                let mut msg = b"ERR ".to_vec();
                if let Value::String(s) = s {
                    msg.extend_from_slice(&s.as_bytes());
                }
                t.raw_set("err", lua.create_string(msg)?)?;
                t
            }
        };
        if let Some((source, line)) = pos {
            // A read-only table refuses, as in Redis (the error propagates).
            t.set("source", source)?;
            t.set("line", line.map_or(-1, |l| l as i64))?;
        }
        Ok(t)
    })
}

/// `ERR Error running script <name>, <msg>` (at most 100 bytes of it), the
/// reply when Lua fails without a usable error object.
fn running_error(name: &str, msg: &[u8]) -> Reply {
    let msg = &msg[..msg.len().min(100)];
    let mut out = format!("ERR Error running script {name}, ").into_bytes();
    out.extend_from_slice(msg);
    let trimmed = convert::trim_crlf(&out).to_vec();
    Reply::Error(Bytes::from(convert::map_crlf(&trimmed)))
}
