//! MULTI / EXEC / DISCARD / WATCH / UNWATCH.

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::command::Cmd;
use crate::Engine;

/// Declares this family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    let _ = v;
}

/// Queue-time checks inside MULTI (see `cmd::queue_check`).
pub fn queue_check(eng: &mut Engine, cmd: &Cmd, args: &[Bytes]) -> Option<Reply> {
    let _ = (eng, cmd, args);
    None
}
