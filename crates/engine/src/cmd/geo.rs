//! The `geo` command family.

use crate::command::Cmd;

/// Declares the family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    let _ = v;
}
