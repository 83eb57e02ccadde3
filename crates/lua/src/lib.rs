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

    /// Evaluates `code` (an expression returning a string or nil) in a
    /// fresh state, over `arg` given as the global `x`.
    fn eval(code: &str, arg: &[u8]) -> Option<Vec<u8>> {
        // SAFETY: a private state, used and closed here.
        unsafe {
            let l = ffi::luaL_newstate();
            ffi::luaL_openlibs(l);
            ffi::lua_pushlstring(l, arg.as_ptr() as *const std::ffi::c_char, arg.len());
            ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"x".as_ptr());
            let chunk = std::ffi::CString::new(format!("return {code}")).unwrap();
            assert_eq!(ffi::luaL_loadstring(l, chunk.as_ptr()), 0);
            assert_eq!(ffi::lua_pcall(l, 0, 1, 0), 0, "{code}");
            let mut len = 0usize;
            let p = ffi::lua_tolstring(l, -1, &mut len);
            let r =
                (!p.is_null()).then(|| std::slice::from_raw_parts(p as *const u8, len).to_vec());
            ffi::lua_close(l);
            r
        }
    }

    /// What C's `sprintf("%.14g", n)` prints (stock Lua's `tostring`).
    fn c_fmt(n: f64) -> Vec<u8> {
        let mut buf = [0u8; 64];
        // SAFETY: a 64-byte buffer for a %.14g conversion (at most ~24 bytes).
        let len = unsafe {
            libc::snprintf(
                buf.as_mut_ptr() as *mut libc::c_char,
                buf.len(),
                c"%.14g".as_ptr(),
                n,
            )
        };
        buf[..len as usize].to_vec()
    }

    /// Stock Lua's `luaO_str2d` over C's `strtod`.
    fn c_str2d(s: &[u8]) -> Option<f64> {
        let c = std::ffi::CString::new(s).ok()?;
        let mut end: *mut libc::c_char = std::ptr::null_mut();
        // SAFETY: a NUL-terminated string; `end` points into it.
        unsafe {
            let mut v = libc::strtod(c.as_ptr(), &mut end);
            if std::ptr::eq(end, c.as_ptr()) {
                return None;
            }
            if *end == b'x' as libc::c_char || *end == b'X' as libc::c_char {
                v = libc::strtoul(c.as_ptr(), &mut end, 16) as f64;
            }
            // C's isspace: space, \t, \n, \v, \f, \r.
            while matches!(*end as u8, b' ' | b'\t'..=b'\r') {
                end = end.add(1);
            }
            (*end == 0).then_some(v)
        }
    }

    #[test]
    fn number_conversions_match_the_c_library() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 11
        };
        let mut numbers: Vec<f64> = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            9.0,
            10.0,
            99999999999999.0,
            -99999999999999.0,
            1e14,
            -1e14,
            1e15,
            123456789012345.0,
            0.5,
            -2.5,
            1e-300,
            f64::NAN,
            f64::INFINITY,
            -f64::INFINITY,
            4503599627370496.0,
            9007199254740993.0,
            1e300,
        ];
        for _ in 0..20000 {
            let r = next();
            let digits = (r % 16) as i32;
            let v = (next() % 10u64.pow(digits as u32 + 1)) as f64;
            numbers.push(if r & 1 == 1 { -v } else { v });
            numbers.push(f64::from_bits(next() << 11 ^ next()));
        }
        for n in numbers {
            let s = c_fmt(n);
            // SAFETY: a private state, used and closed here.
            let got = unsafe {
                let l = ffi::luaL_newstate();
                ffi::lua_pushnumber(l, n);
                let mut len = 0usize;
                let p = ffi::lua_tolstring(l, -1, &mut len);
                let r = std::slice::from_raw_parts(p as *const u8, len).to_vec();
                ffi::lua_close(l);
                r
            };
            assert_eq!(got, s, "tostring({n:?})");
        }
        let mut strings: Vec<Vec<u8>> = [
            "0",
            "-0",
            "+0",
            "7",
            "007",
            " 12 ",
            "\t-3\n",
            "- 3",
            "--3",
            "+-3",
            "1e5",
            "1.",
            ".5",
            "0x10",
            "0X1f",
            "123456789012345",
            "1234567890123456",
            "9999999999999999",
            "99999999999999999999",
            "",
            " ",
            "-",
            "+",
            "12a",
            "1 2",
            "inf",
            "nan",
            "1\x0b",
            "\x0c5",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        for _ in 0..20000 {
            let len = (next() % 20) as usize;
            let alphabet = b"0123456789  -+.ex\t";
            strings.push(
                (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect(),
            );
        }
        for s in strings {
            let want = c_str2d(&s);
            let got = eval("tonumber(x)", &s).map(|b| b.to_vec());
            // Compare as the bits of the number (tostring would round).
            let got_bits = eval("tonumber(x) and string.format('%.17g', tonumber(x))", &s);
            match want {
                None => assert_eq!(got, None, "tonumber({:?})", String::from_utf8_lossy(&s)),
                Some(v) => {
                    let mut buf = [0u8; 64];
                    // SAFETY: as in c_fmt.
                    let len = unsafe {
                        libc::snprintf(
                            buf.as_mut_ptr() as *mut libc::c_char,
                            64,
                            c"%.17g".as_ptr(),
                            v,
                        )
                    };
                    assert_eq!(
                        got_bits.as_deref(),
                        Some(&buf[..len as usize]),
                        "tonumber({:?})",
                        String::from_utf8_lossy(&s)
                    );
                }
            }
        }
    }
}
