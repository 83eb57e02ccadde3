//! The Lua script engine of lunakv: EVAL, EVALSHA and SCRIPT, with
//! Redis 7.0's Lua environment.
//!
//! It knows nothing of sockets or of the keyspace: everything a script does
//! to the server goes through the small [`Host`] trait, which the engine
//! implements over its single command dispatch path. That keeps this crate
//! testable with a fake host and keeps one path for every command.
//!
//! - [`ScriptEngine`] is what command handlers call: `eval_command`,
//!   `load`, `exists`, `flush`, `stats`, `command_flags`.
//! - [`LuaVm`] is the reusable Lua side (sandbox, `redis` table,
//!   conversions, error handling, kill hook) that FUNCTION/FCALL will use
//!   for its own VM.
//! - [`convert`] holds Redis's reply <-> Lua conversion rules.

#![deny(clippy::unwrap_used, clippy::expect_used)]
#![warn(missing_docs)]
// Tests may panic on purpose.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

// Links Lua 5.1.5 with read-only tables (mlua links no Lua of its own).
extern crate lunakv_lua;

pub mod convert;
pub mod eval;
pub mod flags;
pub mod functions;
pub mod host;
mod libs;
mod pool;
pub mod rdbfmt;
mod resp;
mod sandbox;
pub mod vm;

#[cfg(test)]
mod tests;

pub use eval::{
    noscript_error, parse_numkeys, sha1_hex, ScriptEngine, ScriptStats, EVAL_LRU_CAPACITY,
};
pub use flags::{parse_shebang, ScriptFlags};
pub use host::{CallOptions, Host, LogLevel};
pub use vm::{LuaVm, VmError, HOOK_INTERVAL, REDIS_VERSION, REDIS_VERSION_NUM};
