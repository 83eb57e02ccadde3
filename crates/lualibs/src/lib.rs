//! Redis's bundled Lua libraries (`cjson`, `cmsgpack`, `struct`, `bit`),
//! written in Rust against Redis's documented behaviour. Each module has a
//! `register(lua)` that installs its global table.
