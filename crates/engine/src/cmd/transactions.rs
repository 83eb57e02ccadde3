//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! Queueing happens in the dispatch path (`Engine::execute`): inside MULTI
//! every command other than EXEC, DISCARD, MULTI, WATCH, QUIT and RESET is
//! checked (lookup, arity, [`queue_check`]) and queued; EXEC then runs the
//! queue through the same dispatch path with the `Exec` caller, so the
//! commands are atomic like any single command.

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::client::{Caller, MultiState};
use crate::command::{flags, Cmd};
use crate::ctx::Ctx;
use crate::Engine;

/// Declares this family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    let g = "transactions";
    v.push(Cmd::new(
        "multi",
        1,
        "noscript loading stale fast allow_busy",
        (0, 0, 0),
        g,
        "Starts a transaction.",
        multi,
    ));
    v.push(Cmd::new(
        "exec",
        1,
        "noscript loading stale skip_slowlog",
        (0, 0, 0),
        g,
        "Executes all commands in a transaction.",
        exec,
    ));
    v.push(Cmd::new(
        "discard",
        1,
        "noscript loading stale fast allow_busy",
        (0, 0, 0),
        g,
        "Discards a transaction.",
        discard,
    ));
    v.push(
        Cmd::new(
            "watch",
            -2,
            "noscript loading stale fast allow_busy",
            (1, -1, 1),
            g,
            "Monitors changes to keys to determine the execution of a transaction.",
            watch,
        )
        .syntax("key [key ...]")
        .since("2.2.0"),
    );
    v.push(
        Cmd::new(
            "unwatch",
            1,
            "noscript loading stale fast allow_busy",
            (0, 0, 0),
            g,
            "Forgets about watched keys of a transaction.",
            unwatch,
        )
        .since("2.2.0"),
    );
}

/// Queue-time checks inside MULTI: commands that may not be queued.
pub fn queue_check(eng: &mut Engine, cmd: &Cmd, args: &[Bytes]) -> Option<Reply> {
    let _ = (eng, args);
    if cmd.is(flags::NO_MULTI) {
        return Some(Reply::err_static(
            "ERR Command not allowed inside a transaction",
        ));
    }
    None
}

fn multi(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    if ctx.client.multi.is_some() {
        return Reply::err_static("ERR MULTI calls can not be nested");
    }
    ctx.client.multi = Some(MultiState::default());
    Reply::ok()
}

fn discard(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    if ctx.client.multi.take().is_none() {
        return Reply::err_static("ERR DISCARD without MULTI");
    }
    ctx.eng.unwatch_all(ctx.client);
    Reply::ok()
}

/// True if a key watched while alive has expired since (Redis's
/// `isWatchedKeyExpired`): EXEC must then fail as if it had been modified.
fn watched_key_expired(ctx: &mut Ctx<'_>) -> bool {
    let now = ctx.now();
    let id = ctx.client.id;
    for (db, key) in &ctx.client.watched {
        let stale_at_watch = ctx
            .eng
            .watched_keys
            .get(&(*db, key.clone()))
            .and_then(|v| v.iter().find(|(c, _)| *c == id))
            .is_some_and(|(_, e)| *e);
        if stale_at_watch {
            continue;
        }
        if let Some(e) = ctx.eng.dbs.get(*db).and_then(|d| d.dict.entry(key)) {
            if e.expire() != 0 && e.expire() <= now {
                return true;
            }
        }
    }
    false
}

fn exec(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    let Some(m) = ctx.client.multi.take() else {
        return Reply::err_static("ERR EXEC without MULTI");
    };
    if m.dirty {
        ctx.eng.unwatch_all(ctx.client);
        return Reply::err_static("EXECABORT Transaction discarded because of previous errors.");
    }
    let aborted = ctx.eng.watch_dirty.contains(&ctx.client.id) || watched_key_expired(ctx);
    ctx.eng.unwatch_all(ctx.client);
    if aborted {
        return Reply::NullArray;
    }
    let mut replies = Vec::with_capacity(m.queue.len());
    for args in &m.queue {
        let r = ctx.eng.execute(ctx.client, args, Caller::Exec);
        replies.push(r);
    }
    Reply::Array(replies)
}

fn watch(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if ctx.client.multi.is_some() {
        return Reply::err_static("ERR WATCH inside MULTI is not allowed");
    }
    let now = ctx.now();
    let db = ctx.client.db;
    let id = ctx.client.id;
    for key in &args[1..] {
        if ctx.client.watched.iter().any(|(d, k)| *d == db && k == key) {
            continue;
        }
        let expired = ctx.eng.dbs[db]
            .dict
            .entry(key)
            .is_some_and(|e| e.expire() != 0 && e.expire() <= now);
        // A copy: the argument is a slice of the connection's read buffer,
        // which a long-lived WATCH must not keep alive.
        let key = Bytes::copy_from_slice(key);
        ctx.eng
            .watched_keys
            .entry((db, key.clone()))
            .or_default()
            .push((id, expired));
        ctx.client.watched.push((db, key));
    }
    Reply::ok()
}

fn unwatch(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    ctx.eng.unwatch_all(ctx.client);
    Reply::ok()
}

#[cfg(test)]
mod tests {
    use crate::testkit::TestEngine;

    #[test]
    fn multi_exec_queues_and_runs() {
        let mut t = TestEngine::new();
        assert_eq!(t.raw(&["multi"]), "+OK\r\n");
        assert_eq!(t.raw(&["set", "a", "1"]), "+QUEUED\r\n");
        assert_eq!(t.raw(&["get", "a"]), "+QUEUED\r\n");
        assert_eq!(t.raw(&["exec"]), "*2\r\n+OK\r\n$1\r\n1\r\n");
        assert_eq!(t.raw(&["exec"]), "-ERR EXEC without MULTI\r\n");
        assert_eq!(t.raw(&["discard"]), "-ERR DISCARD without MULTI\r\n");
    }

    #[test]
    fn queue_errors_abort_exec() {
        let mut t = TestEngine::new();
        t.cmd(&["multi"]);
        assert_eq!(t.raw(&["multi"]), "-ERR MULTI calls can not be nested\r\n");
        assert!(t.raw(&["nosuch"]).starts_with("-ERR unknown command"));
        assert_eq!(
            t.raw(&["exec"]),
            "-EXECABORT Transaction discarded because of previous errors.\r\n"
        );
    }

    #[test]
    fn watch_aborts_on_change() {
        let mut t = TestEngine::new();
        t.cmd(&["set", "x", "1"]);
        assert_eq!(t.raw(&["watch", "x"]), "+OK\r\n");
        t.cmd(&["set", "x", "2"]);
        t.cmd(&["multi"]);
        t.cmd(&["get", "x"]);
        assert_eq!(t.raw(&["exec"]), "*-1\r\n");
        // After EXEC nothing is watched any more.
        t.cmd(&["multi"]);
        t.cmd(&["get", "x"]);
        assert_eq!(t.raw(&["exec"]), "*1\r\n$1\r\n2\r\n");
        assert_eq!(t.raw(&["multi"]), "+OK\r\n");
        assert_eq!(
            t.raw(&["watch", "x"]),
            "-ERR WATCH inside MULTI is not allowed\r\n"
        );
    }
}
