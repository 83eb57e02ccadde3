//! Lua 5.1.5 with read-only tables, linked in place of mlua's vendored
//! Lua (mlua-sys is built with its `external` feature, which links none).
//!
//! A crate that uses mlua must name this one (`extern crate lunakv_lua;`)
//! so that the library is linked into its binaries and tests.

use std::ffi::c_int;

pub use mlua_sys::lua_State;

extern "C-unwind" {
    fn lua_enablereadonlytable(l: *mut lua_State, idx: c_int, enabled: c_int);
    fn lua_isreadonlytable(l: *mut lua_State, idx: c_int) -> c_int;
}

/// Sets or clears the read-only flag of the table at `idx`: while set,
/// every write to the table (assignment, `rawset`, `table.insert`,
/// `setmetatable`, ...) raises `Attempt to modify a readonly table`.
/// Does nothing if the value at `idx` is not a table.
///
/// # Safety
/// `l` must be a valid Lua state and `idx` an acceptable index.
pub unsafe fn set_readonly(l: *mut lua_State, idx: c_int, readonly: bool) {
    if mlua_sys::lua_type(l, idx) == mlua_sys::LUA_TTABLE {
        lua_enablereadonlytable(l, idx, readonly as c_int);
    }
}

/// True if the value at `idx` is a read-only table.
///
/// # Safety
/// `l` must be a valid Lua state and `idx` an acceptable index.
pub unsafe fn is_readonly(l: *mut lua_State, idx: c_int) -> bool {
    mlua_sys::lua_type(l, idx) == mlua_sys::LUA_TTABLE && lua_isreadonlytable(l, idx) != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlua_sys as ffi;
    use std::ffi::CStr;

    /// Runs `code` in a fresh state whose global `t` is a read-only table
    /// `{a = 1}` and returns the error message, or None if it ran.
    fn run(code: &str) -> Option<String> {
        // SAFETY: a private state, used and closed here.
        unsafe {
            let l = ffi::luaL_newstate();
            assert!(!l.is_null());
            ffi::luaL_openlibs(l);
            ffi::lua_createtable(l, 0, 1);
            ffi::lua_pushinteger(l, 1);
            ffi::lua_setfield(l, -2, c"a".as_ptr());
            set_readonly(l, -1, true);
            assert!(is_readonly(l, -1));
            ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"t".as_ptr());
            let chunk = std::ffi::CString::new(code).unwrap();
            let status = ffi::luaL_loadstring(l, chunk.as_ptr());
            assert_eq!(status, 0, "{code} compiles");
            let r = if ffi::lua_pcall(l, 0, 0, 0) == 0 {
                None
            } else {
                Some(
                    CStr::from_ptr(ffi::lua_tolstring(l, -1, std::ptr::null_mut()))
                        .to_string_lossy()
                        .into_owned(),
                )
            };
            ffi::lua_close(l);
            r
        }
    }

    #[test]
    fn every_write_path_is_refused() {
        let msg = "Attempt to modify a readonly table";
        // Assignments raise with the line, the C API without it.
        assert_eq!(
            run("t.a = 2").as_deref(),
            Some(&*format!("[string \"t.a = 2\"]:1: {msg}"))
        );
        assert_eq!(
            run("t.b = 2").as_deref(),
            Some(&*format!("[string \"t.b = 2\"]:1: {msg}"))
        );
        assert_eq!(
            run("t[1] = 2").as_deref(),
            Some(&*format!("[string \"t[1] = 2\"]:1: {msg}"))
        );
        for code in [
            "rawset(t, 'a', 2)",
            "table.insert(t, 1)",
            "setmetatable(t, {})",
            "setmetatable(t, nil)",
        ] {
            assert_eq!(run(code).as_deref(), Some(msg), "{code}");
        }
    }

    #[test]
    fn reads_and_other_tables_are_untouched() {
        assert_eq!(
            run("assert(t.a == 1 and rawget(t, 'a') == 1 and next(t) == 'a')"),
            None
        );
        assert_eq!(
            run("local u = {} u.x = 1 rawset(u, 'y', 2) table.insert(u, 3) setmetatable(u, {})"),
            None
        );
        // A table made writable again takes writes.
        // SAFETY: a private state, used and closed here.
        unsafe {
            let l = ffi::luaL_newstate();
            ffi::lua_createtable(l, 0, 0);
            set_readonly(l, -1, true);
            set_readonly(l, -1, false);
            assert!(!is_readonly(l, -1));
            ffi::lua_pushinteger(l, 5);
            ffi::lua_rawseti(l, -2, 1);
            ffi::lua_pushinteger(l, 7);
            set_readonly(l, -1, true); // not a table: nothing happens
            assert!(!is_readonly(l, -1));
            ffi::lua_close(l);
        }
    }
}
