//! Serving other clients while a script runs past `busy-reply-threshold`
//! (Redis's `processEventsWhileBlocked`).
//!
//! The engine thread is the one running the script, so nothing else is
//! served while it runs. Every few thousand Lua instructions the script's
//! hook calls [`Engine::process_events_while_busy`]; once the script has
//! run past the threshold, that polls the sockets without blocking (see
//! `net.rs`) and answers each command the way Redis 7.0's `processCommand` does during a
//! busy script: unknown commands, arity and authentication errors first;
//! then the commands flagged `allow_busy` (MULTI, DISCARD, WATCH, UNWATCH,
//! AUTH, HELLO, RESET, QUIT, SCRIPT KILL, FUNCTION KILL / STATS, SHUTDOWN
//! NOSAVE) run; every other command gets `-BUSY`, which also flags the
//! client's open transaction so that its EXEC answers `EXECABORT`.
//! Disconnections and messages from other threads wait in
//! [`BusyState::deferred`] until the script has finished.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use lunakv_protocol::Reply;

use lunakv_protocol::Request;

use crate::client::{Client, ClientId, Msg};
use crate::command::{flags, Cmd};
use crate::{Caller, Engine};

/// The engine's state for serving clients during a busy script.
#[derive(Default)]
pub struct BusyState {
    /// The engine's message channel (set by [`Engine::run`]).
    pub rx: Option<crossbeam_channel::Receiver<Msg>>,
    /// Messages that must wait until the script has finished.
    pub deferred: VecDeque<Msg>,
    /// True while busy events are being processed (no re-entry).
    active: bool,
}

impl BusyState {
    /// True while the engine serves clients from a busy script's hook.
    pub fn is_active(&self) -> bool {
        self.active
    }
}

const BUSY_SCRIPT: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

impl Engine {
    /// Serves the clients that are waiting behind a script that has run
    /// past `busy-reply-threshold` (called from the script's hook).
    pub fn process_events_while_busy(&mut self) {
        if self.busy.active || !self.shared.busy() {
            return;
        }
        self.busy.active = true;
        let saved_now = self.now_ms;
        if let Some(rx) = self.busy.rx.clone() {
            while let Ok(m) = rx.try_recv() {
                self.busy.deferred.push_back(m);
            }
        }
        self.poll_while_busy();
        self.now_ms = saved_now;
        self.busy.active = false;
    }

    /// Answers one connection's requests during a busy script.
    pub(crate) fn serve_busy_batch(&mut self, id: ClientId, cmds: Vec<Request>) {
        let Some(mut c) = self.clients.remove(&id) else {
            return;
        };
        for args in &cmds {
            let reply = self.busy_command(&mut c, args);
            self.write_reply(&mut c, &reply);
            if c.close_after_reply {
                break;
            }
        }
        if c.close_after_reply {
            self.close_client(&mut c);
            return;
        }
        self.end_batch(&mut c);
        self.clients.insert(id, c);
    }

    /// Handles the messages that waited for the script to finish.
    pub fn handle_deferred(&mut self) {
        while let Some(m) = self.busy.deferred.pop_front() {
            self.handle(m);
        }
    }

    /// One command from another client during a busy script.
    fn busy_command(&mut self, c: &mut Client, args: &[Bytes]) -> Reply {
        self.now_ms = crate::unix_ms();
        let cmd = match self.lookup(args) {
            Ok(cmd) => cmd,
            // Unknown command / subcommand: the usual error.
            Err(_) => return self.execute(c, args, Caller::Client),
        };
        if !cmd.arity_ok(args.len()) || (!c.authenticated && !cmd.is(flags::NO_AUTH)) {
            return self.execute(c, args, Caller::Client);
        }
        let is_function = self.shared.script_is_function.load(Ordering::Acquire);
        if let Some(r) = self.busy_special(cmd, args, is_function) {
            return r;
        }
        if cmd.is(flags::ALLOW_BUSY) {
            return self.execute(c, args, Caller::Client);
        }
        let e = Reply::err_static(if is_function {
            BUSY_FUNCTION
        } else {
            BUSY_SCRIPT
        });
        self.cmdstats[cmd.id].rejected += 1;
        self.count_error(&e);
        if c.multi.is_some() {
            if cmd.full_name == "exec" {
                c.multi = None;
                self.unwatch_all(c);
                let text = if is_function {
                    BUSY_FUNCTION
                } else {
                    BUSY_SCRIPT
                };
                return Reply::err(format!(
                    "EXECABORT Transaction discarded because of: {text}"
                ));
            }
            if let Some(m) = c.multi.as_mut() {
                m.dirty = true;
            }
        }
        e
    }

    /// The commands whose busy-time answer differs from their normal one.
    fn busy_special(&mut self, cmd: &Cmd, args: &[Bytes], is_function: bool) -> Option<Reply> {
        let busy = |f: bool| Reply::err_static(if f { BUSY_FUNCTION } else { BUSY_SCRIPT });
        match cmd.full_name.as_str() {
            "script|kill" if is_function => Some(busy(true)),
            "script|kill" => Some(self.kill_running_script()),
            "function|kill" if !is_function => Some(busy(false)),
            "function|kill" => Some(self.kill_running_script()),
            "function|stats" if is_function => Some(crate::cmd::functions::stats_reply()),
            "function|stats" => Some(busy(false)),
            "shutdown" => {
                if args
                    .iter()
                    .skip(1)
                    .any(|a| a.eq_ignore_ascii_case(b"nosave"))
                {
                    crate::log::warning(
                        "User requested shutdown during a busy script (SHUTDOWN NOSAVE)...",
                    );
                    std::process::exit(0);
                }
                Some(busy(is_function))
            }
            _ => None,
        }
    }

    /// SCRIPT KILL / FUNCTION KILL of the running script.
    fn kill_running_script(&mut self) -> Reply {
        if self.shared.script_wrote.load(Ordering::Acquire) {
            return Reply::err_static("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.");
        }
        self.shared.script_kill.store(true, Ordering::Release);
        Reply::ok()
    }
}
