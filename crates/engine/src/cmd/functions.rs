//! Redis 7 Functions: FUNCTION and FCALL.

use crate::command::Cmd;

/// Declares this family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    let _ = v;
}
