//! The call site of Redis's bundled Lua libraries.

use mlua::Lua;

/// Installs `cjson`, `cmsgpack`, `struct` and `bit` as globals, from the
/// `lunakv-lualibs` crate (Rust versions of Redis's C libraries). It runs
/// before the sandbox locks the globals, so the library tables become
/// read-only like Lua's own.
pub(crate) fn register(lua: &Lua) -> mlua::Result<()> {
    lunakv_lualibs::register_all(lua)
}
