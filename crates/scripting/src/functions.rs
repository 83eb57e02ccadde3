//! Redis 7 Functions: libraries of named Lua functions (FUNCTION, FCALL).

/// The function libraries and their Lua VM.
#[derive(Default)]
pub struct FunctionsEngine {}
