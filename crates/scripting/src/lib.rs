//! The Lua script engine of lunakv.
//!
//! It knows nothing of sockets or of the keyspace: everything a script does
//! to the server goes through the small [`Host`] trait, which the engine
//! implements over its single command dispatch path. That keeps this crate
//! testable with a fake host and keeps one path for every command.

pub mod host;

pub use host::{CallOptions, Host, LogLevel};
