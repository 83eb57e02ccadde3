//! Commands of the `zset` family.

use crate::command::Cmd;

/// Declares this family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    let _ = v;
}
