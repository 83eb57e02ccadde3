//! Builds Lua 5.1.5 with read-only tables.
//!
//! The sources are those of the `lua-src` crate (the ones mlua's `vendored`
//! feature compiles), taken from cargo's registry; nothing of Lua is kept
//! in this repository. They are copied to `OUT_DIR`, changed by the edits
//! below (each one must apply exactly once, or the build stops and says
//! which), and compiled with the settings `lua-src` uses.
//!
//! The edits give tables the `readonly` flag of Redis 7's Lua: a table
//! with the flag refuses every write (the VM's assignments, `lua_rawset`,
//! `lua_rawseti`, `lua_setmetatable`) with `Attempt to modify a readonly
//! table`, and two API functions set and read the flag. The flag takes a
//! byte of padding in `struct Table`, so the table keeps its size.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The `lua-src` sources of Lua 5.1.5 (`LUNAKV_LUA_SRC` overrides).
fn find_sources() -> PathBuf {
    println!("cargo:rerun-if-env-changed=LUNAKV_LUA_SRC");
    if let Some(dir) = env::var_os("LUNAKV_LUA_SRC") {
        return PathBuf::from(dir);
    }
    // Cargo's registry: $CARGO_HOME/registry/src/<index>/lua-src-<ver>/.
    let cargo_home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let mut found: Vec<PathBuf> = Vec::new();
    if let Some(home) = cargo_home {
        if let Ok(indexes) = fs::read_dir(home.join("registry").join("src")) {
            for index in indexes.flatten() {
                let Ok(crates) = fs::read_dir(index.path()) else {
                    continue;
                };
                for c in crates.flatten() {
                    let name = c.file_name().to_string_lossy().into_owned();
                    let dir = c.path().join("lua-5.1.5");
                    if name.starts_with("lua-src-551.") && dir.join("lapi.c").is_file() {
                        found.push(dir);
                    }
                }
            }
        }
    }
    // Elsewhere (vendored sources, another registry layout): ask cargo.
    if found.is_empty() {
        if let Some(dir) = from_cargo_metadata() {
            found.push(dir);
        }
    }
    found.sort();
    match found.pop() {
        Some(dir) => dir,
        None => panic!(
            "lunakv-lua: cannot find the Lua 5.1.5 sources of the lua-src crate; \
             set LUNAKV_LUA_SRC to a directory holding them"
        ),
    }
}

/// The `lua-5.1.5` directory of the `lua-src` package, from `cargo metadata`.
fn from_cargo_metadata() -> Option<PathBuf> {
    let cargo = env::var_os("CARGO")?;
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR")?).join("Cargo.toml");
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--manifest-path",
        ])
        .arg(manifest)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // `"manifest_path":"<dir>/lua-src-551.x.y/Cargo.toml"`
    text.split("\"manifest_path\":\"").skip(1).find_map(|rest| {
        let path = &rest[..rest.find('"')?];
        let dir = Path::new(path).parent()?;
        let name = dir.file_name()?.to_string_lossy();
        let src = dir.join("lua-5.1.5");
        (name.starts_with("lua-src-551.") && src.join("lapi.c").is_file()).then_some(src)
    })
}

/// Replaces the one occurrence of `anchor` in `text` by `with`.
fn edit(text: &mut String, file: &str, anchor: &str, with: &str) {
    let n = text.matches(anchor).count();
    assert!(
        n == 1,
        "lunakv-lua: the edit of {file} expects its anchor once, found it {n} times: {anchor:?}"
    );
    *text = text.replacen(anchor, with, 1);
}

const READONLY_ERROR: &str = "luaG_runerror(L, \"Attempt to modify a readonly table\");";

fn patch(dir: &Path) {
    let rw = |name: &str, f: &dyn Fn(&mut String)| {
        let path = dir.join(name);
        let mut text = fs::read_to_string(&path).expect("read a Lua source file");
        f(&mut text);
        fs::write(&path, text).expect("write a Lua source file");
    };
    rw("lobject.h", &|t| {
        edit(
            t,
            "lobject.h",
            "  lu_byte lsizenode;  /* log2 of size of `node' array */\n",
            "  lu_byte lsizenode;  /* log2 of size of `node' array */\n  \
             lu_byte readonly;  /* lunakv: every write raises an error */\n",
        )
    });
    rw("ltable.c", &|t| {
        edit(
            t,
            "ltable.c",
            "  t->lsizenode = 0;\n",
            "  t->lsizenode = 0;\n  t->readonly = 0;\n",
        )
    });
    rw("lvm.c", &|t| {
        let anchor = "      Table *h = hvalue(t);\n      TValue *oldval = luaH_set(L, h, key);";
        let with = format!(
            "      Table *h = hvalue(t);\n      TValue *oldval;\n      \
             if (h->readonly) {READONLY_ERROR}\n      oldval = luaH_set(L, h, key);"
        );
        edit(t, "lvm.c", anchor, &with)
    });
    // Faster number <-> string conversions with the same results: plain
    // decimal integers of up to 15 digits are read without strtod (every
    // such integer is exactly a double, which is what strtod returns), and
    // integral numbers below 1e14 in magnitude are written without
    // sprintf("%.14g") (which prints all their digits, no exponent).
    rw("lobject.c", &|t| {
        edit(
            t,
            "lobject.c",
            "int luaO_str2d (const char *s, lua_Number *result) {\n  char *endptr;\n",
            "int luaO_str2d (const char *s, lua_Number *result) {\n  char *endptr;\n  \
             { /* lunakv: [spaces][sign]1-15 digits[spaces], as strtod reads it */\n    \
             const unsigned char *p = (const unsigned char *)s;\n    \
             long long acc = 0;\n    int neg = 0, nd = 0;\n    \
             while (isspace(*p)) p++;\n    \
             if (*p == '-') { neg = 1; p++; } else if (*p == '+') p++;\n    \
             while (*p >= '0' && *p <= '9' && nd < 16) { acc = acc * 10 + (*p - '0'); p++; nd++; }\n    \
             if (nd > 0 && nd <= 15) {\n      \
             while (isspace(*p)) p++;\n      \
             if (*p == '\\0') { *result = neg ? -(lua_Number)acc : (lua_Number)acc; return 1; }\n    \
             }\n  }\n",
        )
    });
    rw("lvm.c", &|t| {
        edit(
            t,
            "lvm.c",
            "int luaV_tostring (lua_State *L, StkId obj) {\n",
            "/* lunakv: lua_number2str (\"%.14g\") with integral values below 1e14\n   \
             (but 0, which may be -0) written directly: the same digits. */\n\
             static void lunakv_number2str (char *s, lua_Number n) {\n  \
             if (n > -1e14 && n < 1e14 && n != 0 && n == (lua_Number)(long long)n) {\n    \
             long long v = (long long)n;\n    unsigned long long u;\n    \
             char buf[24];\n    int i = 0;\n    \
             if (v < 0) { *s++ = '-'; u = (unsigned long long)(-v); } else u = (unsigned long long)v;\n    \
             do { buf[i++] = (char)('0' + (int)(u % 10)); u /= 10; } while (u);\n    \
             while (i > 0) *s++ = buf[--i];\n    *s = '\\0';\n  \
             }\n  else\n    lua_number2str(s, n);\n}\n\n\
             int luaV_tostring (lua_State *L, StkId obj) {\n",
        );
        edit(
            t,
            "lvm.c",
            "    lua_number2str(s, n);\n    setsvalue2s",
            "    lunakv_number2str(s, n);\n    setsvalue2s",
        );
    });
    rw("lapi.c", &|t| {
        edit(
            t,
            "lapi.c",
            "  api_check(L, ttistable(t));\n  setobj2t(L, luaH_set(L, hvalue(t), L->top-2), L->top-1);",
            &format!(
                "  api_check(L, ttistable(t));\n  if (hvalue(t)->readonly) {READONLY_ERROR}\n  \
                 setobj2t(L, luaH_set(L, hvalue(t), L->top-2), L->top-1);"
            ),
        );
        edit(
            t,
            "lapi.c",
            "  api_check(L, ttistable(o));\n  setobj2t(L, luaH_setnum(L, hvalue(o), n), L->top-1);",
            &format!(
                "  api_check(L, ttistable(o));\n  if (hvalue(o)->readonly) {READONLY_ERROR}\n  \
                 setobj2t(L, luaH_setnum(L, hvalue(o), n), L->top-1);"
            ),
        );
        edit(
            t,
            "lapi.c",
            "    case LUA_TTABLE: {\n      hvalue(obj)->metatable = mt;",
            &format!(
                "    case LUA_TTABLE: {{\n      if (hvalue(obj)->readonly) {READONLY_ERROR}\n      \
                 hvalue(obj)->metatable = mt;"
            ),
        );
        t.push_str(
            "\n\n/* lunakv: read-only tables. */\n\
             LUA_API void lua_enablereadonlytable (lua_State *L, int idx, int enabled) {\n  \
             const TValue *o = index2adr(L, idx);\n  \
             api_check(L, ttistable(o));\n  \
             hvalue(o)->readonly = (lu_byte)(enabled != 0);\n}\n\n\
             LUA_API int lua_isreadonlytable (lua_State *L, int idx) {\n  \
             const TValue *o = index2adr(L, idx);\n  \
             api_check(L, ttistable(o));\n  \
             return hvalue(o)->readonly;\n}\n",
        );
    });
    rw("lua.h", &|t| {
        edit(
            t,
            "lua.h",
            "LUA_API int lua_gethookcount (lua_State *L);\n",
            "LUA_API int lua_gethookcount (lua_State *L);\n\n\
             LUA_API void lua_enablereadonlytable (lua_State *L, int idx, int enabled);\n\
             LUA_API int lua_isreadonlytable (lua_State *L, int idx);\n",
        )
    });
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let src = find_sources();
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR is set for build scripts"));
    let dir = out.join("lua-5.1.5");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create the Lua build directory");
    let mut sources = Vec::new();
    for entry in fs::read_dir(&src).expect("list the Lua sources").flatten() {
        let path = entry.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext != "c" && ext != "h" {
            continue;
        }
        let name = entry.file_name();
        let name_str = name.to_string_lossy();
        // The stand-alone interpreter and compiler are not part of the library.
        if name_str == "lua.c" || name_str == "luac.c" || name_str == "print.c" {
            continue;
        }
        let to = dir.join(&name);
        fs::copy(&path, &to).expect("copy a Lua source file");
        if ext == "c" {
            sources.push(to);
        }
    }
    sources.sort();
    patch(&dir);

    let target = env::var("TARGET").unwrap_or_default();
    let mut build = cc::Build::new();
    if target.contains("linux") || target.contains("bsd") || target.contains("apple") {
        build.define("LUA_USE_LINUX", None);
    } else {
        build.define("LUA_USE_POSIX", None);
    }
    if env::var("PROFILE").as_deref() == Ok("debug") {
        build.define("LUA_USE_APICHECK", None);
    }
    build
        .include(&dir)
        .warnings(false)
        .flag_if_supported("-fno-common")
        .files(&sources)
        .compile("lunakv_lua51");
    println!("cargo:include={}", dir.display());
}
