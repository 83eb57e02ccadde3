//! Redis 7 Functions: libraries of named Lua functions (FUNCTION, FCALL).
//!
//! A library is a Lua chunk that starts with `#!lua name=<lib>` and, when
//! FUNCTION LOAD runs it, registers functions with
//! `redis.register_function`. Every library lives in one Lua VM of its own
//! (a second [`LuaVm`], separate from EVAL's), as in Redis 7.0.
//!
//! Library code is compiled with an environment of its own (`genv`) whose
//! metatable's `__index` points, while the library loads, at the *load
//! API* (a table holding only a reduced `redis` table: `register_function`,
//! `log`, the log levels and the version), and at the VM's normal globals
//! the rest of the time. Functions defined by a library keep `genv` as
//! their environment, so once loaded they see the full `redis` API, while
//! the load run sees nothing else (`redis.call` and `math` are errors, as
//! in Redis). The load run happens in a coroutine with its own instruction
//! hook that stops it after the load timeout (`FUNCTION LOAD timeout`).
//!
//! [`FunctionsEngine`] keeps the libraries ([`LibCtx`]) and offers what the
//! server's FUNCTION and FCALL handlers need, including Redis 7.0's
//! FUNCTION DUMP / RESTORE payload format ([`FunctionsEngine::dump`],
//! [`FunctionsEngine::restore`]).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use lunakv_protocol::{parse_i64, Reply};
use mlua::chunk::ChunkMode;
use mlua::{Function, HookTriggers, Lua, MultiValue, Table, Value, VmState};

use crate::flags::{split_args, ScriptFlags};
use crate::host::{Host, LogLevel};
pub use crate::rdbfmt::{crc64, lzf_decompress};
use crate::rdbfmt::{rdb_read_len, rdb_read_string, rdb_write_string};
use crate::vm::{LuaVm, VmError, REDIS_VERSION, REDIS_VERSION_NUM};

/// How long FUNCTION LOAD lets library code run (Redis's `LOAD_TIMEOUT_MS`).
pub const LOAD_TIMEOUT: Duration = Duration::from_millis(500);

/// The RDB opcode of a function library (`RDB_OPCODE_FUNCTION2`).
pub const RDB_OPCODE_FUNCTION2: u8 = 245;
/// The RDB opcode of a 7.0-rc library (`RDB_OPCODE_FUNCTION`: name,
/// engine, optional description and code).
pub const RDB_OPCODE_FUNCTION: u8 = 246;
/// The RDB version written in DUMP payloads (Redis 7.0's `RDB_VERSION`).
pub const RDB_VERSION: u16 = 10;

/// The text of the function and library name rule.
const NAME_RULE: &str = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// One registered function.
#[derive(Clone)]
pub struct FunctionInfo {
    /// The name as registered (FCALL looks it up case-insensitively).
    pub name: String,
    /// The description given to `redis.register_function`, if any.
    pub desc: Option<Bytes>,
    /// The declared flags (never [`ScriptFlags::EVAL_COMPAT`]).
    pub flags: ScriptFlags,
    func: Function,
}

/// One library: its full code (with the `#!lua` line) and its functions.
#[derive(Clone)]
pub struct Library {
    /// The library name (case-sensitive).
    pub name: String,
    /// The code as given to FUNCTION LOAD, shebang included.
    pub code: Bytes,
    /// The functions, by name (case-sensitive within a library).
    pub functions: BTreeMap<String, FunctionInfo>,
}

/// A set of libraries and the index of their functions: the current one,
/// or a temporary one that FUNCTION RESTORE fills before joining it.
#[derive(Clone, Default)]
pub struct LibCtx {
    libraries: BTreeMap<String, Library>,
    /// Lowercased function name -> the function (a copy of the library's
    /// entry: FCALL finds its function with one hash lookup).
    functions: HashMap<Box<[u8]>, FunctionInfo, foldhash::fast::FixedState>,
}

impl LibCtx {
    /// Number of libraries.
    pub fn libraries_count(&self) -> usize {
        self.libraries.len()
    }

    /// Number of functions in all libraries.
    pub fn functions_count(&self) -> usize {
        self.functions.len()
    }

    /// The libraries, by name.
    pub fn libraries(&self) -> impl Iterator<Item = &Library> {
        self.libraries.values()
    }

    /// The function called `name` (any case).
    pub fn function(&self, name: &[u8]) -> Option<&FunctionInfo> {
        // FCALL looks up its function on every call: a name already in
        // lower case (the usual) is used as is, without a copy.
        if name.iter().any(|b| b.is_ascii_uppercase()) {
            self.functions.get(&name.to_ascii_lowercase()[..])
        } else {
            self.functions.get(name)
        }
    }

    fn unlink(&mut self, name: &str) -> Option<Library> {
        let lib = self.libraries.remove(name)?;
        for f in lib.functions.keys() {
            self.functions.remove(f.to_ascii_lowercase().as_bytes());
        }
        Some(lib)
    }

    fn link(&mut self, lib: Library) {
        // In name order, so that of two names differing only in case the
        // first one answers (they cannot be told apart by FCALL).
        for (name, f) in &lib.functions {
            self.functions
                .entry(name.to_ascii_lowercase().into_bytes().into_boxed_slice())
                .or_insert_with(|| f.clone());
        }
        self.libraries.insert(lib.name.clone(), lib);
    }

    /// Memory taken by the libraries' bookkeeping and code (INFO's
    /// `used_memory_functions`), an estimate in Redis's spirit.
    pub fn memory_overhead(&self) -> usize {
        let mut n = 184;
        for lib in self.libraries.values() {
            n += 64 + lib.name.len() + lib.code.len();
            for f in lib.functions.values() {
                n += 80 + f.name.len() + f.desc.as_ref().map_or(0, |d| d.len());
            }
        }
        n
    }
}

/// What `redis.register_function` collects while a library loads.
struct LoadState {
    functions: Vec<FunctionInfo>,
}

/// Lines logged with `redis.log` during a load, shared with the callback.
type LoadLogs = Rc<RefCell<Vec<(LogLevel, Vec<u8>)>>>;

/// An error table `{err = "ERR <msg>"}` (Redis's `luaPushError`).
fn error_value(lua: &Lua, msg: &str) -> mlua::Result<Value> {
    let t = lua.create_table()?;
    t.raw_set("err", format!("ERR {msg}"))?;
    Ok(Value::Table(t))
}

/// Splits `(n, args...)` as packed by the Lua wrappers into `n` values.
fn unpack_args(mv: MultiValue) -> Vec<Value> {
    let mut it = mv.into_iter();
    let n = match it.next() {
        Some(Value::Integer(n)) => n.max(0) as usize,
        Some(Value::Number(n)) => n.max(0.0) as usize,
        _ => 0,
    };
    let mut args: Vec<Value> = it.collect();
    args.resize(n, Value::Nil);
    args
}

/// The function libraries and their Lua VM.
pub struct FunctionsEngine {
    vm: LuaVm,
    /// The environment of all library code.
    genv: Table,
    /// `genv`'s metatable, whose `__index` switches between the two below.
    genv_mt: Table,
    /// The globals a library sees while it loads.
    load_api: Table,
    /// `xpcall(f, identity)`, run in the load coroutine.
    pcall: Function,
    /// The registrations of the library being loaded; `None` outside a load.
    load: Rc<RefCell<Option<LoadState>>>,
    /// Lines written with `redis.log` by library code while it loaded.
    load_logs: LoadLogs,
    /// The current libraries.
    ctx: LibCtx,
}

/// The Lua side of the load API and of `genv`.
const LOAD_API_LUA: &str = r#"
local register_raw, log_raw, version, version_num, error, setmetatable, tostring, select, xpcall = ...
local function ro()
  error("Attempt to modify a readonly table", 2)
end
local function missing(t, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end
local function register_function(...)
  local e = register_raw(select('#', ...), ...)
  if e then error(e) end
end
local function log(...)
  local e = log_raw(select('#', ...), ...)
  if e then error(e) end
end
local api = {
  register_function = register_function,
  log = log,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REDIS_VERSION = version, REDIS_VERSION_NUM = version_num,
}
setmetatable(api, {__index = missing})
local redis = setmetatable({}, {__index = api, __newindex = ro})
local load_globals = setmetatable({redis = redis}, {__index = missing})
local genv_mt = {__index = load_globals, __newindex = ro}
local genv = setmetatable({}, genv_mt)
local function identity(e) return e end
local function run(f) return xpcall(f, identity) end
return load_globals, genv, genv_mt, run
"#;

/// True for a valid function or library name: `[A-Za-z0-9_]+`.
pub fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

/// A Lua value that `lua_isstring` accepts (string or number), as bytes.
fn lua_string(lua: &Lua, v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(_) | Value::Number(_) => lua
            .coerce_string(v.clone())
            .ok()
            .flatten()
            .map(|s| s.as_bytes().to_vec()),
        _ => None,
    }
}

/// Reads a `flags` table: every entry `1..` up to the first nil must name
/// a flag (any case).
fn read_flags(lua: &Lua, t: &Table) -> Option<ScriptFlags> {
    let mut flags = ScriptFlags::empty();
    let mut i = 1i64;
    loop {
        let v: Value = t.get(i).ok()?;
        if v.is_nil() {
            return Some(flags);
        }
        let s = lua_string(lua, &v)?;
        let (_, f) = ScriptFlags::NAMES
            .iter()
            .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(&s))?;
        flags = flags.union(*f);
        i += 1;
    }
}

/// Parses the arguments of `redis.register_function` as Redis's
/// `luaRegisterFunctionReadArgs`: `Err` is the error text (without `ERR`).
fn register_args(lua: &Lua, args: &[Value]) -> Result<FunctionInfo, &'static str> {
    if args.is_empty() || args.len() > 2 {
        return Err("wrong number of arguments to redis.register_function");
    }
    let (name, desc, func, flags) = if args.len() == 1 {
        let Value::Table(t) = &args[0] else {
            return Err("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
        };
        let (mut name, mut desc, mut func, mut flags) = (None, None, None, ScriptFlags::empty());
        for pair in t.clone().pairs::<Value, Value>() {
            let Ok((k, v)) = pair else {
                return Err("named argument key given to redis.register_function is not a string");
            };
            let Some(key) = lua_string(lua, &k) else {
                return Err("named argument key given to redis.register_function is not a string");
            };
            if key.eq_ignore_ascii_case(b"function_name") {
                name = Some(lua_string(lua, &v).ok_or(
                    "function_name argument given to redis.register_function must be a string",
                )?);
            } else if key.eq_ignore_ascii_case(b"description") {
                desc = Some(lua_string(lua, &v).ok_or(
                    "description argument given to redis.register_function must be a string",
                )?);
            } else if key.eq_ignore_ascii_case(b"callback") {
                let Value::Function(f) = v else {
                    return Err(
                        "callback argument given to redis.register_function must be a function",
                    );
                };
                func = Some(f);
            } else if key.eq_ignore_ascii_case(b"flags") {
                let Value::Table(ft) = v else {
                    return Err("flags argument to redis.register_function must be a table representing function flags");
                };
                flags = read_flags(lua, &ft).ok_or("unknown flag given")?;
            } else {
                return Err("unknown argument given to redis.register_function");
            }
        }
        let name = name.ok_or("redis.register_function must get a function name argument")?;
        let func = func.ok_or("redis.register_function must get a callback argument")?;
        (name, desc, func, flags)
    } else {
        let name = lua_string(lua, &args[0])
            .ok_or("first argument to redis.register_function must be a string")?;
        let Value::Function(f) = &args[1] else {
            return Err("second argument to redis.register_function must be a function");
        };
        (name, None, f.clone(), ScriptFlags::empty())
    };
    if !valid_name(&name) {
        return Err(NAME_RULE);
    }
    Ok(FunctionInfo {
        name: String::from_utf8_lossy(&name).into_owned(),
        desc: desc.map(Bytes::from),
        flags,
        func,
    })
}

/// The parts of a library's `#!<engine> name=<lib>` line.
struct MetaData {
    engine: Vec<u8>,
    name: Vec<u8>,
    /// The code after the shebang line (from its newline on).
    code_start: usize,
}

/// Redis's `functionExtractLibMetaData`.
fn extract_metadata(payload: &[u8]) -> Result<MetaData, String> {
    if !payload.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    // Redis looks for the newline with strchr: a NUL byte ends the search.
    let text = payload.split(|&c| c == 0).next().unwrap_or_default();
    let Some(end) = text.iter().position(|&c| c == b'\n') else {
        return Err("Invalid library metadata".into());
    };
    let parts = match split_args(&payload[..end]) {
        Some(p) if !p.is_empty() => p,
        _ => return Err("Invalid library metadata".into()),
    };
    let engine = parts[0].get(2..).unwrap_or_default().to_vec();
    let mut name: Option<Vec<u8>> = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    "Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(part[5..].to_vec());
            continue;
        }
        return Err(format!(
            "Invalid metadata value given: {}",
            String::from_utf8_lossy(part)
        ));
    }
    let Some(name) = name else {
        return Err("Library name was not given".into());
    };
    Ok(MetaData {
        engine,
        name,
        code_start: end,
    })
}

/// An error reply `ERR <msg>` with CR/LF turned into spaces.
fn err_reply(msg: &str) -> Reply {
    let text = format!("ERR {msg}");
    Reply::Error(Bytes::from(crate::convert::map_crlf(text.as_bytes())))
}

/// What FUNCTION RESTORE does with existing libraries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestorePolicy {
    /// Drop every existing library first.
    Flush,
    /// Add the libraries; fail on any collision (the default).
    Append,
    /// Add the libraries, replacing libraries of the same name.
    Replace,
}

impl FunctionsEngine {
    /// Creates the engine and its Lua VM.
    pub fn new() -> Result<FunctionsEngine, VmError> {
        let vm = LuaVm::for_functions()?;
        let load: Rc<RefCell<Option<LoadState>>> = Rc::new(RefCell::new(None));
        let load_logs: LoadLogs = Rc::new(RefCell::new(Vec::new()));
        let (load_api, genv, genv_mt, pcall) = {
            let lua = vm.lua();
            let env = vm.env();
            let l = load.clone();
            let register_raw = lua.create_function(move |lua, mv: MultiValue| {
                let args = unpack_args(mv);
                let fail = |msg: &str| error_value(lua, msg);
                let mut guard = l.borrow_mut();
                let Some(state) = guard.as_mut() else {
                    return fail(
                        "redis.register_function can only be called on FUNCTION LOAD command",
                    );
                };
                let info = match register_args(lua, &args) {
                    Ok(i) => i,
                    Err(msg) => return fail(msg),
                };
                if state.functions.iter().any(|f| f.name == info.name) {
                    return fail("Function already exists in the library");
                }
                state.functions.push(info);
                Ok(Value::Nil)
            })?;
            let logs = load_logs.clone();
            let log = lua.create_function(move |lua, mv: MultiValue| {
                let args = unpack_args(mv);
                if args.len() < 2 {
                    return error_value(lua, "redis.log() requires two arguments or more.");
                }
                let level = match lua.coerce_number(args[0].clone()) {
                    Ok(Some(n)) => n,
                    _ => return error_value(lua, "First argument must be a number (log level)."),
                };
                let level = match level as i64 {
                    0 => LogLevel::Debug,
                    1 => LogLevel::Verbose,
                    2 => LogLevel::Notice,
                    3 => LogLevel::Warning,
                    _ => return error_value(lua, "Invalid debug level."),
                };
                let mut msg = Vec::new();
                for (j, v) in args[1..].iter().enumerate() {
                    if let Ok(Some(s)) = lua.coerce_string(v.clone()) {
                        if j != 0 {
                            msg.push(b' ');
                        }
                        msg.extend_from_slice(&s.as_bytes());
                    }
                }
                logs.borrow_mut().push((level, msg));
                Ok(Value::Nil)
            })?;
            let chunk = lua
                .load(LOAD_API_LUA)
                .set_name("=lunakv")
                .set_environment(env.clone())
                .into_function()?;
            let (load_api, genv, genv_mt, pcall): (Table, Table, Table, Function) =
                chunk.call((
                    register_raw,
                    log,
                    REDIS_VERSION,
                    REDIS_VERSION_NUM,
                    env.get::<Function>("error")?,
                    env.get::<Function>("setmetatable")?,
                    env.get::<Function>("tostring")?,
                    env.get::<Function>("select")?,
                    env.get::<Function>("xpcall")?,
                ))?;
            (load_api, genv, genv_mt, pcall)
        };
        genv_mt.raw_set("__index", vm.env().clone())?;
        Ok(FunctionsEngine {
            vm,
            genv,
            genv_mt,
            load_api,
            pcall,
            load,
            load_logs,
            ctx: LibCtx::default(),
        })
    }

    /// The Lua VM of the functions (memory figures).
    pub fn vm(&self) -> &LuaVm {
        &self.vm
    }

    /// The current libraries.
    pub fn libraries(&self) -> &LibCtx {
        &self.ctx
    }

    /// The function called `name` (any case).
    pub fn function(&self, name: &[u8]) -> Option<&FunctionInfo> {
        self.ctx.function(name)
    }

    /// The flags of function `name`, for the server's command gates
    /// before FCALL runs (Redis's `fcallGetCommandFlags`); `None` if no
    /// such function exists.
    pub fn command_flags(&self, name: &[u8]) -> Option<ScriptFlags> {
        self.ctx.function(name).map(|f| f.flags)
    }

    /// `FUNCTION LOAD [REPLACE] code`: creates the library and returns
    /// its name. `timeout` is `None` for loads that must not time out
    /// (replication, AOF, RDB).
    pub fn load(
        &mut self,
        code: &[u8],
        replace: bool,
        timeout: Option<Duration>,
    ) -> Result<String, Reply> {
        let mut ctx = std::mem::take(&mut self.ctx);
        let r = self.create_in(&mut ctx, code, replace, timeout);
        self.ctx = ctx;
        r.map_err(|e| err_reply(&e))
    }

    /// Takes the lines library code wrote with `redis.log` while loading
    /// (the load context has no host; the server writes them to its log).
    pub fn take_load_logs(&mut self) -> Vec<(LogLevel, Vec<u8>)> {
        std::mem::take(&mut *self.load_logs.borrow_mut())
    }

    /// `FUNCTION DELETE name`.
    pub fn delete(&mut self, name: &[u8]) -> Result<(), Reply> {
        let name = String::from_utf8_lossy(name);
        match self.ctx.unlink(&name) {
            Some(_) => Ok(()),
            None => Err(Reply::err_static("ERR Library not found")),
        }
    }

    /// `FUNCTION FLUSH`: drops every library.
    pub fn flush(&mut self) {
        self.ctx = LibCtx::default();
        // Let the collector reclaim the dropped functions.
        let _ = self.vm.lua().gc_collect();
    }

    /// Redis's `functionsCreateWithLibraryCtx`: the error is the text
    /// without `ERR`.
    fn create_in(
        &mut self,
        ctx: &mut LibCtx,
        code: &[u8],
        replace: bool,
        timeout: Option<Duration>,
    ) -> Result<String, String> {
        let md = extract_metadata(code)?;
        if !valid_name(&md.name) {
            return Err(NAME_RULE.into());
        }
        if !md.engine.eq_ignore_ascii_case(b"lua") {
            return Err(format!(
                "Engine '{}' not found",
                String::from_utf8_lossy(&md.engine)
            ));
        }
        let name = String::from_utf8_lossy(&md.name).into_owned();
        if ctx.libraries.contains_key(&name) && !replace {
            return Err(format!("Library '{name}' already exists"));
        }
        let old = ctx.unlink(&name);
        let result = self
            .run_library(&code[md.code_start..], timeout)
            .and_then(|functions| {
                if functions.is_empty() {
                    return Err("No functions registered".to_string());
                }
                for f in &functions {
                    if ctx
                        .functions
                        .contains_key(f.name.to_ascii_lowercase().as_bytes())
                    {
                        return Err(format!("Function {} already exists", f.name));
                    }
                }
                Ok(functions)
            });
        match result {
            Ok(functions) => {
                let lib = Library {
                    name: name.clone(),
                    code: Bytes::copy_from_slice(code),
                    functions: functions.into_iter().map(|f| (f.name.clone(), f)).collect(),
                };
                ctx.link(lib);
                Ok(name)
            }
            Err(e) => {
                if let Some(old) = old {
                    ctx.link(old);
                }
                Err(e)
            }
        }
    }

    /// Compiles and runs library code in the load context; returns the
    /// functions it registered.
    fn run_library(
        &mut self,
        body: &[u8],
        timeout: Option<Duration>,
    ) -> Result<Vec<FunctionInfo>, String> {
        let lua = self.vm.lua();
        let owned;
        let body = if body.first() == Some(&0x1b) {
            owned = [b" ", body].concat();
            &owned[..]
        } else {
            body
        };
        let func = lua
            .load(body)
            .set_name("@user_function")
            .set_environment(self.genv.clone())
            .set_mode(ChunkMode::Text)
            .into_function()
            .map_err(|e| {
                let m = match e {
                    mlua::Error::SyntaxError { message, .. } => message,
                    mlua::Error::MemoryError(m) => m,
                    other => other.to_string(),
                };
                format!("Error compiling function: {m}")
            })?;

        let thread = lua
            .create_thread(self.pcall.clone())
            .map_err(|e| format!("Error registering functions: ERR {e}"))?;
        let timed_out = Rc::new(std::cell::Cell::new(false));
        if let Some(limit) = timeout {
            let start = Instant::now();
            let flag = timed_out.clone();
            thread
                .set_hook(
                    HookTriggers::new().every_nth_instruction(crate::vm::HOOK_INTERVAL),
                    move |_, _| {
                        if flag.get() || start.elapsed() > limit {
                            flag.set(true);
                            return Err(mlua::Error::runtime("FUNCTION LOAD timeout"));
                        }
                        Ok(VmState::Continue)
                    },
                )
                .map_err(|e| format!("Error registering functions: ERR {e}"))?;
        } else {
            thread.remove_hook();
        }

        *self.load.borrow_mut() = Some(LoadState {
            functions: Vec::new(),
        });
        let _ = self.genv_mt.raw_set("__index", self.load_api.clone());
        let result = thread.resume::<MultiValue>(func);
        let _ = self.genv_mt.raw_set("__index", self.vm.env().clone());
        let state = self.load.borrow_mut().take();

        let error = match result {
            Err(e) => Some(format!("ERR {e}")),
            Ok(mut mv) => {
                if matches!(mv.pop_front(), Some(Value::Boolean(true))) {
                    None
                } else if timed_out.get() {
                    Some("ERR FUNCTION LOAD timeout".to_string())
                } else {
                    Some(match mv.pop_front().unwrap_or(Value::Nil) {
                        Value::String(s) => format!("ERR {}", s.to_string_lossy()),
                        Value::Table(t) => match t.raw_get::<Value>("err") {
                            Ok(v) => match lua_string(lua, &v) {
                                Some(s) => String::from_utf8_lossy(&s).into_owned(),
                                None => "ERR unknown error".to_string(),
                            },
                            Err(_) => "ERR unknown error".to_string(),
                        },
                        Value::Error(e) => format!("ERR {e}"),
                        _ => "ERR unknown error".to_string(),
                    })
                }
            }
        };
        if let Some(e) = error {
            return Err(format!("Error registering functions: {e}"));
        }
        Ok(state.map(|s| s.functions).unwrap_or_default())
    }

    /// `FCALL` / `FCALL_RO` from the command's arguments after its name
    /// (`function numkeys key... arg...`), with Redis's checks in order.
    pub fn fcall_command(&mut self, host: &mut dyn Host, args: &[Bytes], read_only: bool) -> Reply {
        let (Some(name), Some(numkeys)) = (args.first(), args.get(1)) else {
            let cmd = if read_only { "fcall_ro" } else { "fcall" };
            return Reply::err(format!("ERR wrong number of arguments for '{cmd}' command"));
        };
        let Some(f) = self.ctx.function(name) else {
            return Reply::err_static("ERR Function not found");
        };
        let Some(n) = parse_i64(numkeys) else {
            return Reply::err_static("ERR Bad number of keys provided");
        };
        let rest = &args[2..];
        if n > rest.len() as i64 {
            return Reply::err_static("ERR Number of keys can't be greater than number of args");
        }
        if n < 0 {
            return Reply::err_static("ERR Number of keys can't be negative");
        }
        let (keys, argv) = rest.split_at(n as usize);
        if let Err(e) = host.before_run(f.flags, read_only) {
            return e;
        }
        // `f` borrows the libraries, the run borrows the VM: no copy of the
        // function (a registry reference) or of its name per call.
        let reply = self
            .vm
            .run_function(host, &f.func, &f.name, keys, argv, f.flags, read_only);
        host.after_run();
        reply
    }

    /// True if the error reply of the last FCALL repeats an error already
    /// counted in the error stats (see [`LuaVm::last_error_counted`]).
    pub fn last_error_counted(&self) -> bool {
        self.vm.last_error_counted()
    }

    /// `FUNCTION DUMP`: Redis 7.0's payload (one `RDB_OPCODE_FUNCTION2` +
    /// code string per library, the 2-byte RDB version, the CRC64).
    pub fn dump(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for lib in self.ctx.libraries.values() {
            out.push(RDB_OPCODE_FUNCTION2);
            rdb_write_string(&mut out, &lib.code);
        }
        out.extend_from_slice(&RDB_VERSION.to_le_bytes());
        let crc = crc64(0, &out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// `FUNCTION RESTORE payload [policy]`, with Redis's errors (without
    /// `ERR`). `skip_checksum` is `skip-checksum-validation`.
    pub fn restore(
        &mut self,
        data: &[u8],
        policy: RestorePolicy,
        skip_checksum: bool,
    ) -> Result<(), Reply> {
        if !verify_dump_payload(data, skip_checksum) {
            return Err(Reply::err_static(
                "ERR DUMP payload version or checksum are wrong",
            ));
        }
        let mut tmp = LibCtx::default();
        let mut pos = 0usize;
        let body_end = data.len() - 10;
        while pos < body_end {
            let ty = data[pos];
            pos += 1;
            if ty != RDB_OPCODE_FUNCTION && ty != RDB_OPCODE_FUNCTION2 {
                return Err(err_reply("given type is not a function"));
            }
            let payload = if ty == RDB_OPCODE_FUNCTION2 {
                rdb_read_string(data, &mut pos, body_end)
                    .ok_or_else(|| err_reply("Failed loading library payload"))?
            } else {
                let name = rdb_read_string(data, &mut pos, body_end)
                    .ok_or_else(|| err_reply("Failed loading library name"))?;
                let engine = rdb_read_string(data, &mut pos, body_end)
                    .ok_or_else(|| err_reply("Failed loading engine name"))?;
                let has_desc = rdb_read_len(data, &mut pos, body_end)
                    .ok_or_else(|| err_reply("Failed loading library description indicator"))?;
                if has_desc.0 != 0 {
                    rdb_read_string(data, &mut pos, body_end)
                        .ok_or_else(|| err_reply("Failed loading library description"))?;
                }
                let blob = rdb_read_string(data, &mut pos, body_end)
                    .ok_or_else(|| err_reply("Failed loading library blob"))?;
                let mut p = b"#!".to_vec();
                p.extend_from_slice(&engine);
                p.extend_from_slice(b" name=");
                p.extend_from_slice(&name);
                p.push(b'\n');
                p.extend_from_slice(&blob);
                p
            };
            self.create_in(&mut tmp, &payload, false, None)
                .map_err(|e| err_reply(&e))?;
        }
        match policy {
            RestorePolicy::Flush => {
                self.ctx = tmp;
                Ok(())
            }
            RestorePolicy::Append | RestorePolicy::Replace => self
                .join(tmp, policy == RestorePolicy::Replace)
                .map_err(|e| err_reply(&e)),
        }
    }

    /// Redis's `libraryJoin`: adds `src`'s libraries to the current ones,
    /// all or nothing.
    fn join(&mut self, src: LibCtx, replace: bool) -> Result<(), String> {
        let mut dst = self.ctx.clone();
        for name in src.libraries.keys() {
            if dst.libraries.contains_key(name) {
                if !replace {
                    return Err(format!("Library {name} already exists"));
                }
                dst.unlink(name);
            }
        }
        for lib in src.libraries.values() {
            for f in lib.functions.keys() {
                if dst
                    .functions
                    .contains_key(f.to_ascii_lowercase().as_bytes())
                {
                    return Err(format!("Function {f} already exists"));
                }
            }
        }
        for lib in src.libraries.into_values() {
            dst.link(lib);
        }
        self.ctx = dst;
        Ok(())
    }
}

/// Redis's `verifyDumpPayload`: a 10-byte footer with an RDB version we
/// can read and the CRC64 of everything before the checksum.
pub fn verify_dump_payload(p: &[u8], skip_checksum: bool) -> bool {
    if p.len() < 10 {
        return false;
    }
    let footer = &p[p.len() - 10..];
    let ver = u16::from_le_bytes([footer[0], footer[1]]);
    if ver > RDB_VERSION {
        return false;
    }
    if skip_checksum {
        return true;
    }
    let mut c = [0u8; 8];
    c.copy_from_slice(&footer[2..]);
    crc64(0, &p[..p.len() - 8]) == u64::from_le_bytes(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::CallOptions;

    struct FakeHost;

    impl Host for FakeHost {
        fn call(&mut self, args: &[Bytes], _opts: &CallOptions<'_>) -> Reply {
            if args[0].eq_ignore_ascii_case(b"ping") {
                Reply::Status(Bytes::from_static(b"PONG"))
            } else {
                Reply::err_static("ERR unknown command")
            }
        }
        fn acl_check_cmd(&mut self, _args: &[Bytes]) -> Result<bool, Reply> {
            Ok(true)
        }
        fn log(&mut self, _level: LogLevel, _msg: &[u8]) {}
        fn interrupt(&mut self) -> Option<Reply> {
            None
        }
        fn set_repl(&mut self, _flags: i32) {}
    }

    fn err_text(r: Result<String, Reply>) -> String {
        match r {
            Err(Reply::Error(e)) => String::from_utf8_lossy(&e).into_owned(),
            other => panic!("expected error, got {:?}", other.map_err(|_| ())),
        }
    }

    fn call(e: &mut FunctionsEngine, args: &[&str]) -> Reply {
        let a: Vec<Bytes> = args
            .iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect();
        e.fcall_command(&mut FakeHost, &a, false)
    }

    fn lib(name: &str, f: &str, body: &str) -> String {
        format!("#!lua name={name}\nredis.register_function('{f}', function(KEYS, ARGV)\n {body} \nend)")
    }

    #[test]
    fn crc64_check_value() {
        assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
    }

    #[test]
    fn lzf_roundtrip_known() {
        // "aaaaaaaaaa": literal 'a' then a back-reference of 9 bytes.
        let c = [0u8, b'a', 0xe0, 0x00, 0x00];
        assert_eq!(lzf_decompress(&c, 10).unwrap(), b"aaaaaaaaaa");
        assert!(lzf_decompress(&[0xe0, 0, 5], 10).is_none());
    }

    #[test]
    fn load_and_call() {
        let mut e = FunctionsEngine::new().unwrap();
        assert_eq!(
            e.load(
                lib("test", "test", "return 'hello'").as_bytes(),
                false,
                Some(LOAD_TIMEOUT)
            )
            .unwrap(),
            "test"
        );
        assert_eq!(
            call(&mut e, &["TEST", "0"]),
            Reply::Bulk(Bytes::from_static(b"hello"))
        );
        assert!(
            err_text(e.load(lib("test", "t2", "return 1").as_bytes(), false, None))
                .contains("Library 'test' already exists")
        );
        assert_eq!(
            call(&mut e, &["nope", "0"]),
            Reply::err_static("ERR Function not found")
        );
        assert_eq!(
            call(&mut e, &["test", "x"]),
            Reply::err_static("ERR Bad number of keys provided")
        );
        assert_eq!(
            call(&mut e, &["test", "10", "k"]),
            Reply::err_static("ERR Number of keys can't be greater than number of args")
        );
        assert_eq!(
            call(&mut e, &["test", "-1", "k"]),
            Reply::err_static("ERR Number of keys can't be negative")
        );
        // keys and args are the function's parameters
        e.load(
            lib("kv", "kv", "return {KEYS[1], ARGV[1], redis.call('ping')}").as_bytes(),
            false,
            None,
        )
        .unwrap();
        assert_eq!(
            call(&mut e, &["kv", "1", "a", "b"]),
            Reply::Array(vec![
                Reply::bulk(b"a"),
                Reply::bulk(b"b"),
                Reply::Status(Bytes::from_static(b"PONG"))
            ])
        );
        assert!(e.delete(b"kv").is_ok());
        assert!(e.delete(b"kv").is_err());
        assert_eq!(e.libraries().functions_count(), 1);
    }

    #[test]
    fn load_errors() {
        let mut e = FunctionsEngine::new().unwrap();
        let t = |e: &mut FunctionsEngine, code: &str| {
            err_text(e.load(code.as_bytes(), true, Some(LOAD_TIMEOUT)))
        };
        assert_eq!(t(&mut e, "return 1"), "ERR Missing library metadata");
        assert_eq!(t(&mut e, "#!lua name=x"), "ERR Invalid library metadata");
        assert_eq!(
            t(&mut e, "#! name=test\nreturn 1"),
            "ERR Engine '' not found"
        );
        assert_eq!(
            t(&mut e, "#!lua name=a name=b\n"),
            "ERR Invalid metadata value, name argument was given multiple times"
        );
        assert_eq!(
            t(&mut e, "#!lua foo=bar\n"),
            "ERR Invalid metadata value given: foo=bar"
        );
        assert_eq!(t(&mut e, "#!lua\n"), "ERR Library name was not given");
        // A NUL byte before the first newline hides it, as Redis's strchr.
        assert_eq!(
            t(&mut e, "#!lua name=a\0b\nreturn 1"),
            "ERR Invalid library metadata"
        );
        assert!(t(&mut e, "#!lua name=a-b\n").starts_with("ERR Library names can only contain"));
        assert_eq!(
            t(&mut e, "#!lua name=l\nbad script"),
            "ERR Error compiling function: user_function:2: '=' expected near 'script'"
        );
        assert_eq!(
            t(&mut e, "#!lua name=l\nreturn 1"),
            "ERR No functions registered"
        );
        assert_eq!(t(&mut e, "#!lua name=l\nreturn math.random()"), "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'math'");
        assert_eq!(t(&mut e, "#!lua name=l\nreturn redis.call('ping')"), "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'");
        assert_eq!(t(&mut e, "#!lua name=l\na = 1"), "ERR Error registering functions: ERR user_function:2: Attempt to modify a readonly table");
        assert_eq!(
            t(&mut e, "#!lua name=l\nlocal a = 1 while 1 do a = a + 1 end"),
            "ERR Error registering functions: ERR FUNCTION LOAD timeout"
        );
        assert_eq!(
            t(&mut e, "#!lua name=l\nredis.register_function('f', function() end)\nredis.register_function('f', function() end)"),
            "ERR Error registering functions: ERR Function already exists in the library"
        );
        assert_eq!(t(&mut e, "#!lua name=l\nredis.register_function()"), "ERR Error registering functions: ERR wrong number of arguments to redis.register_function");
        assert_eq!(t(&mut e, "#!lua name=l\nredis.register_function(nil, function() end)"), "ERR Error registering functions: ERR first argument to redis.register_function must be a string");
        assert_eq!(t(&mut e, "#!lua name=l\nredis.register_function{function_name='f', callback=function() end, flags={'bad'}}"), "ERR Error registering functions: ERR unknown flag given");
        assert_eq!(t(&mut e, "#!lua name=l\nredis.register_function{function_name='f', callback=function() end, flags='x'}"), "ERR Error registering functions: ERR flags argument to redis.register_function must be a table representing function flags");
        assert_eq!(e.libraries().libraries_count(), 0);
        assert_eq!(
            t(&mut e, "#!lua name=l\nredis.log(redis.LOG_WARNING)"),
            "ERR Error registering functions: ERR redis.log() requires two arguments or more."
        );
        e.take_load_logs();
        e.load(b"#!lua name=l\nredis.log(redis.LOG_WARNING, 'a', 1)\nredis.register_function('f', function() end)", false, None).unwrap();
        assert_eq!(
            e.take_load_logs(),
            vec![(LogLevel::Warning, b"a 1".to_vec())]
        );
    }

    #[test]
    fn named_arguments_and_flags() {
        let mut e = FunctionsEngine::new().unwrap();
        e.load(b"#!lua name=l\nredis.register_function{function_name='f', callback=function() return redis.call('ping') end, description='d', flags={'no-writes', 'ALLOW-OOM'}}", false, None).unwrap();
        let f = e.function(b"F").unwrap();
        assert_eq!(f.desc.as_deref(), Some(&b"d"[..]));
        assert!(f
            .flags
            .contains(ScriptFlags::NO_WRITES.union(ScriptFlags::ALLOW_OOM)));
        assert_eq!(
            call(&mut e, &["f", "0"]),
            Reply::Status(Bytes::from_static(b"PONG"))
        );
    }

    #[test]
    fn runtime_protection() {
        let mut e = FunctionsEngine::new().unwrap();
        e.load(b"#!lua name=l\nlocal lib = redis\nlib.register_function('f1', function() lib.redis = redis end)\nlib.register_function('f2', function() lib.register_function('f3', function() end) end)\nlib.register_function('f4', function() redis.register_function('f3', function() end) end)", false, None).unwrap();
        let text = |r: Reply| match r {
            Reply::Error(e) => String::from_utf8_lossy(&e).into_owned(),
            other => panic!("{other:?}"),
        };
        assert_eq!(text(call(&mut e, &["f1", "0"])), "ERR user_function:3: Attempt to modify a readonly table script: f1, on @user_function:3.");
        assert!(text(call(&mut e, &["f2", "0"])).starts_with(
            "ERR redis.register_function can only be called on FUNCTION LOAD command"
        ));
        assert!(text(call(&mut e, &["f4", "0"]))
            .contains("attempt to call field 'register_function' (a nil value)"));
        // EVAL's debugger API does not exist in the functions' VM.
        e.load(b"#!lua name=dbg\nredis.register_function('d', function() return {type(redis.breakpoint), type(redis.debug), type(redis.replicate_commands), type(redis.call)} end)", false, None).unwrap();
        assert_eq!(
            call(&mut e, &["d", "0"]),
            Reply::Array(vec![
                Reply::bulk(b"nil"),
                Reply::bulk(b"nil"),
                Reply::bulk(b"nil"),
                Reply::bulk(b"function")
            ])
        );
    }

    #[test]
    fn dump_restore() {
        let mut e = FunctionsEngine::new().unwrap();
        e.load(lib("lib1", "f1", "return 1").as_bytes(), false, None)
            .unwrap();
        let d = e.dump();
        assert!(verify_dump_payload(&d, false));
        assert_eq!(
            err_text(
                e.restore(&d, RestorePolicy::Append, false)
                    .map(|_| String::new())
            ),
            "ERR Library lib1 already exists"
        );
        e.restore(&d, RestorePolicy::Replace, false).unwrap();
        e.restore(&d, RestorePolicy::Flush, false).unwrap();
        assert_eq!(call(&mut e, &["f1", "0"]), Reply::Int(1));
        assert_eq!(
            err_text(
                e.restore(b"bad_payload", RestorePolicy::Append, false)
                    .map(|_| String::new())
            ),
            "ERR DUMP payload version or checksum are wrong"
        );
        // A payload from Redis 7.0.15 (LZF-compressed code).
        e.flush();
        let redis_payload = b"\xf5\xc3\x40\x80\x40\xd6\x1f\x23\x21\x6c\x75\x61\x20\x6e\x61\x6d\x65\x3d\x6d\x79\x6c\x69\x62\x0a\x72\x65\x64\x69\x73\x2e\x72\x65\x67\x69\x73\x74\x65\x72\x5f\x0b\x66\x75\x6e\x63\x74\x69\x6f\x6e\x28\x27\x6d\x79\x40\x0b\x02\x27\x2c\x20\x40\x06\x60\x12\x11\x6b\x65\x79\x73\x2c\x20\x61\x72\x67\x73\x29\x20\x72\x65\x74\x75\x72\x6e\x20\x06\x40\x3d\x08\x63\x61\x6c\x6c\x28\x27\x73\x65\x74\x20\x2d\x40\x24\x02\x5b\x31\x5d\x80\x27\x20\x08\x05\x29\x20\x65\x6e\x64\x29\xe0\x17\x66\x00\x32\x20\x39\xe0\x1f\x67\x00\x67\xe0\x03\x67\x40\x5e\x01\x64\x29\x0a\x00\x04\xc6\xf3\xcb\xc1\x13\xd4\x30";
        e.restore(redis_payload, RestorePolicy::Append, false)
            .unwrap();
        let l = e.libraries().libraries().next().unwrap();
        assert_eq!(l.name, "mylib");
        assert!(l.code.ends_with(b"redis.register_function('myfunc2', function(keys, args) return redis.call('get', keys[1]) end)"));
        assert_eq!(e.libraries().functions_count(), 2);
    }
}
