//! Server commands: INFO, CONFIG, DBSIZE, FLUSHDB, FLUSHALL, TIME,
//! LASTSAVE, SHUTDOWN, DEBUG, FUNCTION FLUSH (until Functions exist).

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::command::Cmd;
use crate::ctx::Ctx;
use crate::Engine;

/// Declares this family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    v.push(Cmd::new(
        "shutdown",
        -1,
        "admin noscript loading stale no_multi allow_busy",
        (0, 0, 0),
        "server",
        "Synchronously saves the database(s) to disk and shuts down the Redis server.",
        shutdown,
    )
    .syntax("[NOSAVE | SAVE] [NOW] [FORCE] [ABORT]"));
}

/// Stops the server: saves first unless `nosave` (once persistence
/// exists), then ends the engine loop so the process exits.
pub fn shutdown_now(eng: &mut Engine, nosave: bool) {
    let _ = nosave;
    crate::log::warning("User requested shutdown...");
    crate::log::warning("lunakv is now ready to exit, bye bye...");
    eng.shutdown_requested = true;
}

fn shutdown(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let mut nosave = false;
    for a in &args[1..] {
        if a.eq_ignore_ascii_case(b"nosave") {
            nosave = true;
        } else if a.eq_ignore_ascii_case(b"save") || a.eq_ignore_ascii_case(b"now") || a.eq_ignore_ascii_case(b"force") {
        } else if a.eq_ignore_ascii_case(b"abort") {
            return Reply::err_static("ERR No shutdown in progress.");
        } else {
            return crate::errors::syntax();
        }
    }
    shutdown_now(ctx.eng, nosave);
    // The connection is closed without a reply when the process exits.
    ctx.client.close_after_reply = true;
    Reply::Raw(Bytes::new())
}
