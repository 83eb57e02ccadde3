//! Plumbing shared by the libraries: how a Rust implementation raises a
//! genuine Lua string error (like `luaL_error` / `luaL_argerror` in C), how
//! it returns many values, and the argument checks of Lua 5.1's auxiliary
//! library (`luaL_checknumber`, `luaL_checklstring`...) with their texts.
//!
//! mlua turns an `Err` returned by a Rust callback into a userdata error
//! value, which a script would see from `pcall` instead of a string. To be
//! byte-for-byte compatible, every library function is a small C closure
//! (the "trampoline") around the mlua callback: the callback reports an
//! error as ordinary return values tagged with a private sentinel, and the
//! trampoline, which is the function the script actually called, raises it
//! with `luaL_where` / `luaL_argerror` exactly as the C libraries do, so the
//! position prefix and the function name in `bad argument #n to 'name'` come
//! out as in Redis. The trampoline holds no Rust values, so the `longjmp` of
//! `lua_error` skips nothing that needs dropping.

use std::os::raw::{c_int, c_void};
use std::ptr;

use mlua::{ffi, Function, LightUserData, Lua, MultiValue, Table, Value};

/// `LUAI_MAXCSTACK` of Redis's Lua: the most stack slots a C function may use.
pub(crate) const MAX_C_STACK: i64 = 8000;

static SENTINEL: u8 = 0;

fn sentinel() -> *mut c_void {
    ptr::addr_of!(SENTINEL) as *mut c_void
}

const CODE_MSG: i64 = 1;
const CODE_ARG: i64 = 2;
const CODE_MANY: i64 = 3;
const CODE_RAW: i64 = 4;

/// An error raised by a library function.
pub(crate) enum LibError {
    /// Raised like `luaL_error`: the caller's position is prefixed.
    Msg(Vec<u8>),
    /// Raised like `luaL_argerror(narg, msg)`.
    Arg(i32, Vec<u8>),
    /// Raised as is, without position (like errors of the Lua core raised
    /// inside a C function, e.g. `table index is nil`).
    Raw(Vec<u8>),
    /// An error of mlua itself (for instance out of memory), passed through.
    Lua(mlua::Error),
}

impl From<mlua::Error> for LibError {
    fn from(e: mlua::Error) -> Self {
        LibError::Lua(e)
    }
}

/// Shorthand for results of library functions.
pub(crate) type LibResult<T> = Result<T, LibError>;

/// Builds a [`LibError::Msg`].
pub(crate) fn msg_err<T>(m: impl Into<Vec<u8>>) -> LibResult<T> {
    Err(LibError::Msg(m.into()))
}

/// Builds a [`LibError::Arg`].
pub(crate) fn arg_err<T>(narg: i32, m: impl Into<Vec<u8>>) -> LibResult<T> {
    Err(LibError::Arg(narg, m.into()))
}

/// What a library function returns.
pub(crate) enum Ret {
    /// A handful of values, returned as they are.
    Values(MultiValue),
    /// `n` values stored at `1..=n` of the table, unpacked by the trampoline
    /// (so that up to `LUAI_MAXCSTACK` results fit, as in C).
    Many(Table, i64),
}

impl Ret {
    /// One value.
    pub(crate) fn one(v: Value) -> Ret {
        Ret::Values(MultiValue::from_vec(vec![v]))
    }
}

/// `lua_checkstack`, raising "stack overflow" when the slots are not
/// available (mlua's `luaL_checkstack` asks for 20 more slots than needed).
unsafe fn ensure_stack(l: *mut ffi::lua_State, n: c_int) {
    if ffi::lua_checkstack(l, n) == 0 {
        ffi::lua_pushstring(l, c"stack overflow".as_ptr());
        ffi::lua_error(l);
    }
}

/// Calls with more arguments than this pass them to the mlua callback in a
/// table: mlua reserves stack space per argument and per result on top of
/// what is used, which would fail near `LUAI_MAXCSTACK` where C does not.
const PACK_ARGS_ABOVE: c_int = 32;

static ARGS_SENTINEL: u8 = 0;

fn args_sentinel() -> *mut c_void {
    ptr::addr_of!(ARGS_SENTINEL) as *mut c_void
}

unsafe extern "C-unwind" fn trampoline(l: *mut ffi::lua_State) -> c_int {
    let nargs = ffi::lua_gettop(l);
    // Index of the first result once the callback returned.
    let base = if nargs <= PACK_ARGS_ABOVE {
        ensure_stack(l, 2);
        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
        ffi::lua_insert(l, 1);
        ffi::lua_call(l, nargs, ffi::LUA_MULTRET);
        1
    } else {
        // A C function always has LUA_MINSTACK (20) free slots above its
        // arguments; this uses 5 of them.
        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
        ffi::lua_pushlightuserdata(l, args_sentinel());
        ffi::lua_createtable(l, nargs, 0);
        for i in 1..=nargs {
            ffi::lua_pushvalue(l, i);
            ffi::lua_rawseti_(l, -2, i);
        }
        ffi::lua_pushnumber(l, f64::from(nargs));
        ffi::lua_call(l, 3, ffi::LUA_MULTRET);
        nargs + 1
    };
    let n = ffi::lua_gettop(l) - base + 1;
    if n < 3
        || ffi::lua_type(l, base) != ffi::LUA_TLIGHTUSERDATA
        || ffi::lua_touserdata(l, base) != sentinel()
    {
        return n;
    }
    let code = ffi::lua_tonumber(l, base + 1) as i64;
    match code {
        CODE_MSG => {
            ffi::lua_settop(l, base + 2);
            ffi::luaL_where(l, 1);
            ffi::lua_pushvalue(l, base + 2);
            ffi::lua_concat(l, 2);
            ffi::lua_error(l)
        }
        CODE_RAW => {
            ffi::lua_settop(l, base + 2);
            ffi::lua_error(l)
        }
        CODE_ARG if n >= 4 => {
            ffi::lua_settop(l, base + 3);
            let narg = ffi::lua_tonumber(l, base + 2) as c_int;
            let msg = ffi::lua_tolstring(l, base + 3, ptr::null_mut());
            ffi::luaL_argerror(l, narg, msg);
            0
        }
        CODE_MANY if n >= 4 => {
            // The results go right above the arguments, as in C; the table
            // holding them waits in upvalue 2 meanwhile.
            let cnt = ffi::lua_tonumber(l, base + 3) as c_int;
            ffi::lua_settop(l, base + 2);
            ffi::lua_replace(l, ffi::lua_upvalueindex(2));
            ffi::lua_settop(l, base - 1);
            if cnt <= 0 {
                return 0;
            }
            ensure_stack(l, cnt);
            for i in 1..=cnt {
                ffi::lua_rawgeti_(l, ffi::lua_upvalueindex(2), i);
            }
            if ffi::lua_checkstack(l, 1) != 0 {
                ffi::lua_pushnil(l);
                ffi::lua_replace(l, ffi::lua_upvalueindex(2));
            }
            cnt
        }
        _ => n,
    }
}

/// Wraps a library function into a Lua function that raises its errors as
/// Lua strings, exactly like a C function of the Lua API would.
pub(crate) fn make_fn<F>(lua: &Lua, f: F) -> mlua::Result<Function>
where
    F: Fn(&Lua, MultiValue) -> LibResult<Ret> + mlua::MaybeSend + 'static,
{
    let inner = lua.create_function(move |lua, args: MultiValue| {
        let tag = Value::LightUserData(LightUserData(sentinel()));
        match f(lua, args) {
            Ok(Ret::Values(v)) => Ok(v),
            Ok(Ret::Many(t, n)) => Ok(MultiValue::from_vec(vec![
                tag,
                Value::Number(CODE_MANY as f64),
                Value::Table(t),
                Value::Number(n as f64),
            ])),
            Err(LibError::Msg(m)) => Ok(MultiValue::from_vec(vec![
                tag,
                Value::Number(CODE_MSG as f64),
                Value::String(lua.create_string(&m)?),
            ])),
            Err(LibError::Raw(m)) => Ok(MultiValue::from_vec(vec![
                tag,
                Value::Number(CODE_RAW as f64),
                Value::String(lua.create_string(&m)?),
            ])),
            Err(LibError::Arg(narg, m)) => Ok(MultiValue::from_vec(vec![
                tag,
                Value::Number(CODE_ARG as f64),
                Value::Number(f64::from(narg)),
                Value::String(lua.create_string(&m)?),
            ])),
            Err(LibError::Lua(e)) => Err(e),
        }
    })?;
    // SAFETY: the closure only pushes a C closure over the function that
    // `exec_raw` placed on the stack.
    unsafe {
        lua.exec_raw::<Function>(inner, |state| {
            ffi::lua_pushnil(state);
            ffi::lua_pushcclosure(state, trampoline, 2);
        })
    }
}

/// Installs `value` as the global `name` (the way `luaL_register` /
/// `lua_setglobal` do for the C libraries).
pub(crate) fn set_global(lua: &Lua, name: &str, value: Table) -> mlua::Result<()> {
    lua.globals().raw_set(name, value)
}

/// `luaL_typename`: the type name of argument `idx` (1-based).
pub(crate) fn type_name(v: Option<&Value>) -> &'static str {
    match v {
        None => "no value",
        Some(Value::Nil) => "nil",
        Some(Value::Boolean(_)) => "boolean",
        Some(Value::LightUserData(_)) => "userdata",
        Some(Value::Integer(_)) | Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Table(_)) => "table",
        Some(Value::Function(_)) => "function",
        Some(Value::Thread(_)) => "thread",
        Some(_) => "userdata",
    }
}

/// The arguments of a call, addressed 1-based like the Lua stack. Large
/// argument lists arrive packed in a table and are read on demand.
pub(crate) struct Args {
    vals: Vec<Value>,
    packed: Option<(Table, usize)>,
    nil_mark: bool,
}

impl Args {
    /// Wraps the values mlua passed to the callback.
    pub(crate) fn new(m: MultiValue) -> Args {
        let mut vals: Vec<Value> = m.into_iter().collect();
        if vals.len() == 3
            && matches!(&vals[0], Value::LightUserData(LightUserData(p)) if *p == args_sentinel())
        {
            let n = match &vals[2] {
                Value::Integer(n) => *n as usize,
                Value::Number(n) => *n as usize,
                _ => 0,
            };
            if let Value::Table(t) = vals.swap_remove(1) {
                return Args {
                    vals: Vec::new(),
                    packed: Some((t, n)),
                    nil_mark: false,
                };
            }
        }
        Args::from_vec(vals)
    }

    /// Arguments given directly.
    pub(crate) fn from_vec(vals: Vec<Value>) -> Args {
        Args {
            vals,
            packed: None,
            nil_mark: false,
        }
    }

    /// Makes the slot just above the last argument read as nil instead of
    /// "no value" (for C code that pushed a nil mark there).
    pub(crate) fn with_nil_mark(mut self) -> Args {
        self.nil_mark = true;
        self
    }

    /// `lua_gettop`.
    pub(crate) fn top(&self) -> usize {
        match &self.packed {
            Some((_, n)) => *n,
            None => self.vals.len(),
        }
    }

    /// Argument `i` (1-based), `None` when absent.
    pub(crate) fn get(&self, i: usize) -> Option<Value> {
        if i == 0 {
            return None;
        }
        if i > self.top() {
            return (self.nil_mark && i == self.top() + 1).then_some(Value::Nil);
        }
        match &self.packed {
            Some((t, _)) => Some(t.raw_get(i as i64).unwrap_or(Value::Nil)),
            None => self.vals.get(i - 1).cloned(),
        }
    }

    /// `lua_isnoneornil`.
    pub(crate) fn is_none_or_nil(&self, i: usize) -> bool {
        matches!(self.get(i), None | Some(Value::Nil))
    }

    fn type_error<T>(&self, i: usize, expected: &str) -> LibResult<T> {
        arg_err(
            i as i32,
            format!(
                "{expected} expected, got {}",
                type_name(self.get(i).as_ref())
            ),
        )
    }

    /// `lua_tonumber`, with `None` where `lua_isnumber` is false.
    pub(crate) fn to_number(&self, lua: &Lua, i: usize) -> LibResult<Option<f64>> {
        Ok(match self.get(i) {
            Some(Value::Number(n)) => Some(n),
            Some(Value::Integer(n)) => Some(n as f64),
            Some(v @ Value::String(_)) => lua.coerce_number(v)?,
            _ => None,
        })
    }

    /// `luaL_checknumber`.
    pub(crate) fn check_number(&self, lua: &Lua, i: usize) -> LibResult<f64> {
        match self.to_number(lua, i)? {
            Some(n) => Ok(n),
            None => self.type_error(i, "number"),
        }
    }

    /// `luaL_checkinteger` (the double is truncated the way x86-64 does).
    pub(crate) fn check_integer(&self, lua: &Lua, i: usize) -> LibResult<i64> {
        Ok(crate::num::f64_to_i64(self.check_number(lua, i)?))
    }

    /// `luaL_optinteger`.
    pub(crate) fn opt_integer(&self, lua: &Lua, i: usize, def: i64) -> LibResult<i64> {
        if self.is_none_or_nil(i) {
            Ok(def)
        } else {
            self.check_integer(lua, i)
        }
    }

    /// `luaL_checklstring`: strings, and numbers converted by Lua itself.
    pub(crate) fn check_bytes(&self, lua: &Lua, i: usize) -> LibResult<Vec<u8>> {
        match self.get(i) {
            Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
            Some(v @ (Value::Number(_) | Value::Integer(_))) => match lua.coerce_string(v)? {
                Some(s) => Ok(s.as_bytes().to_vec()),
                None => self.type_error(i, "string"),
            },
            _ => self.type_error(i, "string"),
        }
    }
}

/// Returns `vals` as the results of a call: directly when there are few,
/// through a table unpacked by the trampoline when there are many.
pub(crate) fn ret_values(lua: &Lua, vals: Vec<Value>) -> LibResult<Ret> {
    if vals.len() <= 32 {
        return Ok(Ret::Values(MultiValue::from_vec(vals)));
    }
    let n = vals.len() as i64;
    let t = lua.create_table_with_capacity(vals.len(), 0)?;
    for (i, v) in vals.into_iter().enumerate() {
        t.raw_set(i as i64 + 1, v)?;
    }
    Ok(Ret::Many(t, n))
}
