//! Redis's bundled Lua libraries (`cjson`, `cmsgpack`, `struct`, `bit`),
//! written in Rust against Redis's documented behaviour. Each module has a
//! `register(lua)` that installs its global table.
//!
//! The libraries reproduce what scripts observe on Redis 7.0.15 byte for
//! byte: results, error texts (including the `bad argument #n to 'name'`
//! and position prefixes that Lua's C API adds) and the limits of the C
//! implementations, while bounds-checking every read and never recursing
//! without a bound on the Rust stack.

mod glue;
mod num;
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
