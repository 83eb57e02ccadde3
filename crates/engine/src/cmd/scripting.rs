//! EVAL / EVALSHA / SCRIPT and, later, FUNCTION / FCALL.

use crate::command::Cmd;

/// Declares this family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    let _ = v;
}
