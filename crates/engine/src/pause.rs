//! CLIENT PAUSE / CLIENT UNPAUSE, as Redis 7.0's `pauseClients`.
//!
//! While a pause is on, a client command that it covers (every command for
//! `ALL`; for `WRITE` the commands that may write or replicate, including
//! EXEC of a transaction holding one and scripts not declared `no-writes`)
//! is postponed: the client is parked like a blocked client without keys
//! (counted in `blocked_clients`), and the rest of its pipeline waits
//! behind it, in order. Other clients go on being served. When the pause
//! ends (CLIENT UNPAUSE or its timeout), postponed clients are resumed
//! before the engine next sleeps, in the order they were postponed.
//! Keys are not expired (actively or lazily) while a pause is on.

use std::collections::VecDeque;

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::blocking::Blocked;
use crate::client::{Client, ClientId};
use crate::command::{flags, Cmd};
use crate::Engine;

/// What a pause covers.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    #[default]
    Off,
    Write,
    All,
}

/// The pause state.
#[derive(Debug, Default)]
pub struct Pause {
    pub kind: Kind,
    /// End of the pause (Unix ms).
    pub end_ms: u64,
    /// Postponed clients, in order.
    pub postponed: VecDeque<ClientId>,
    /// The pause ended: postponed clients must be resumed.
    pub resume: bool,
}

/// Starts or extends the pause (the most restrictive kind and the latest
/// end win, as Redis's pauseClients).
pub fn pause(eng: &mut Engine, end_ms: u64, kind: Kind) {
    let p = &mut eng.pause;
    if p.kind == Kind::Off {
        p.kind = kind;
        p.end_ms = end_ms;
    } else {
        p.kind = p.kind.max(kind);
        p.end_ms = p.end_ms.max(end_ms);
    }
    set_expiry_hold(eng, true);
}

/// Ends the pause; postponed clients are resumed before the next sleep.
pub fn unpause(eng: &mut Engine) {
    if eng.pause.kind == Kind::Off {
        return;
    }
    eng.pause.kind = Kind::Off;
    eng.pause.end_ms = 0;
    eng.pause.resume = !eng.pause.postponed.is_empty();
    set_expiry_hold(eng, false);
}

fn set_expiry_hold(eng: &mut Engine, on: bool) {
    for db in &mut eng.dbs {
        db.hold_expired = on;
    }
}

/// True while clients are paused (ending a pause whose time is up, as
/// Redis's checkClientPauseTimeoutAndReturnIfPaused).
pub fn paused(eng: &mut Engine) -> bool {
    if eng.pause.kind == Kind::Off {
        return false;
    }
    if eng.pause.end_ms < crate::unix_ms() {
        unpause(eng);
        return false;
    }
    true
}

/// True if running `cmd` with `args` may write or replicate: the command's
/// own `write` / `may_replicate` flags, or for EVAL/FCALL of a script that
/// declares its flags, whether it may write.
fn may_replicate(eng: &Engine, cmd: &Cmd, args: &[Bytes]) -> bool {
    let (script, is_sha, is_fn) = match cmd.full_name.as_str() {
        "eval" | "eval_ro" => (true, false, false),
        "evalsha" | "evalsha_ro" => (true, true, false),
        "fcall" | "fcall_ro" => (true, false, true),
        _ => (false, false, false),
    };
    if script {
        if let Some(body) = args.get(1) {
            let f = if is_fn {
                eng.functions
                    .as_deref()
                    .and_then(|f| f.command_flags(body))
                    .filter(|f| !f.is_compat())
            } else {
                eng.scripts
                    .as_deref()
                    .and_then(|s| s.command_flags(body, is_sha))
            };
            if let Some((write, _, _)) = f.and_then(|f| f.command_gates()) {
                return write;
            }
        }
    }
    cmd.is(flags::WRITE) || cmd.is(flags::MAY_REPLICATE)
}

/// True if the pause covers this command of `c` (Redis's processCommand
/// pause branch).
pub fn must_postpone(eng: &mut Engine, c: &Client, cmd: &Cmd, args: &[Bytes]) -> bool {
    if !paused(eng) {
        return false;
    }
    if eng.pause.kind == Kind::All {
        return true;
    }
    if may_replicate(eng, cmd, args) {
        return true;
    }
    if cmd.full_name == "exec" {
        if let Some(m) = c.multi.as_ref() {
            return m
                .queue
                .iter()
                .any(|q| eng.lookup(q).is_ok_and(|qc| may_replicate(eng, qc, q)));
        }
    }
    false
}

/// Parks `c` until the pause ends; the command runs then.
pub fn postpone(eng: &mut Engine, c: &mut Client, args: &[Bytes]) -> Reply {
    c.blocked = Some(Blocked {
        db: c.db,
        keys: Vec::new(),
        deadline_ms: 0,
        args: args.to_vec(),
        timeout_reply: Reply::Null,
    });
    eng.blocking.count += 1;
    eng.pause.postponed.push_back(c.id);
    Reply::Raw(Bytes::new())
}

/// Runs the commands of clients postponed by a pause that has ended.
pub fn resume(eng: &mut Engine) {
    eng.pause.resume = false;
    let ids = std::mem::take(&mut eng.pause.postponed);
    for id in ids {
        let Some(mut c) = eng.clients.remove(&id) else {
            continue;
        };
        let ours = c
            .blocked
            .as_ref()
            .is_some_and(|b| b.keys.is_empty() && b.deadline_ms == 0);
        if !ours {
            eng.clients.insert(id, c);
            continue;
        }
        let args = c.blocked.as_ref().map(|b| b.args.clone());
        eng.forget_blocked(&mut c);
        if let Some(a) = args {
            c.pending.push_front(a);
        }
        eng.run_pending(c);
        eng.handle_ready_keys(None);
    }
}

/// Periodic check: ends a pause whose time is up and resumes clients.
pub fn cron(eng: &mut Engine) {
    if eng.pause.kind != Kind::Off {
        paused(eng);
    }
    if eng.pause.resume {
        resume(eng);
    }
}

/// CLIENT PAUSE timeout [WRITE | ALL].
pub fn client_pause(eng: &mut Engine, args: &[Bytes]) -> Reply {
    if args.len() > 4 {
        return Reply::err_static(
            "ERR Unknown subcommand or wrong number of arguments for 'pause'. Try CLIENT HELP.",
        );
    }
    let mut kind = Kind::All;
    if let Some(m) = args.get(3) {
        if crate::ctx::eq_ic(m, "write") {
            kind = Kind::Write;
        } else if crate::ctx::eq_ic(m, "all") {
            kind = Kind::All;
        } else {
            return Reply::err_static("ERR CLIENT PAUSE mode must be WRITE or ALL");
        }
    }
    let ms = match args.get(2).and_then(|a| lunakv_protocol::parse_i64(a)) {
        Some(n) if n < 0 => return Reply::err_static("ERR timeout is negative"),
        Some(n) => n as u64,
        None => return Reply::err_static("ERR timeout is not an integer or out of range"),
    };
    let end = crate::unix_ms().saturating_add(ms);
    pause(eng, end, kind);
    Reply::ok()
}

/// CLIENT UNPAUSE.
pub fn client_unpause(eng: &mut Engine) -> Reply {
    unpause(eng);
    Reply::ok()
}

#[cfg(test)]
mod tests {
    use crate::testkit::TestEngine;

    #[test]
    fn pause_arguments_and_state() {
        let mut t = TestEngine::new();
        assert_eq!(
            t.raw(&["CLIENT", "PAUSE", "100", "READ"]),
            "-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n"
        );
        assert_eq!(
            t.raw(&["CLIENT", "PAUSE", "-1"]),
            "-ERR timeout is negative\r\n"
        );
        assert_eq!(
            t.raw(&["CLIENT", "PAUSE", "x"]),
            "-ERR timeout is not an integer or out of range\r\n"
        );
        assert_eq!(t.raw(&["CLIENT", "PAUSE", "100000", "WRITE"]), "+OK\r\n");
        assert_eq!(t.eng.pause.kind, super::Kind::Write);
        // Reads run, writes are postponed.
        assert_eq!(t.raw(&["GET", "k"]), "$-1\r\n");
        assert_eq!(t.raw(&["SET", "k", "v"]), "");
        assert!(t.client.blocked.is_some());
        assert_eq!(t.eng.blocking.count, 1);
        assert_eq!(t.eng.pause.postponed.len(), 1);
        t.client.blocked = None;
        t.eng.blocking.count = 0;
        t.eng.pause.postponed.clear();
        assert_eq!(t.raw(&["CLIENT", "UNPAUSE"]), "+OK\r\n");
        assert_eq!(t.raw(&["SET", "k", "v"]), "+OK\r\n");
    }
}
