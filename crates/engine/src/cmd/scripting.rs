//! EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT: the server side of the
//! script engine.
//!
//! The engine in `lunakv-scripting` runs the Lua code; it reaches the
//! server only through [`ScriptHost`], which runs every `redis.call`
//! through the one dispatch path (`Engine::execute` with `Caller::Script`)
//! on a script client that starts in the caller's database.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use lunakv_protocol::Reply;
use lunakv_scripting::{CallOptions, Host, LogLevel, ScriptEngine, ScriptFlags};

use crate::client::{Caller, Client};
use crate::command::{flags, Cmd};
use crate::ctx::{eq_ic, Ctx};
use crate::errors;
use crate::Engine;

/// Declares this family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    let g = "scripting";
    let run = "noscript skip_monitor may_replicate no_mandatory_keys stale";
    let run_ro = "noscript skip_monitor no_mandatory_keys stale readonly";
    v.push(
        Cmd::new(
            "eval",
            -3,
            run,
            (0, 0, 0),
            g,
            "Executes a server-side Lua script.",
            eval,
        )
        .keys_fn(eval_keys)
        .syntax("script numkeys [key [key ...]] [arg [arg ...]]")
        .since("2.6.0"),
    );
    v.push(
        Cmd::new(
            "evalsha",
            -3,
            run,
            (0, 0, 0),
            g,
            "Executes a server-side Lua script by SHA1 digest.",
            evalsha,
        )
        .keys_fn(eval_keys)
        .syntax("sha1 numkeys [key [key ...]] [arg [arg ...]]")
        .since("2.6.0"),
    );
    v.push(
        Cmd::new(
            "eval_ro",
            -3,
            run_ro,
            (0, 0, 0),
            g,
            "Executes a read-only server-side Lua script.",
            eval_ro,
        )
        .keys_fn(eval_keys)
        .syntax("script numkeys [key [key ...]] [arg [arg ...]]")
        .since("7.0.0"),
    );
    v.push(
        Cmd::new(
            "evalsha_ro",
            -3,
            run_ro,
            (0, 0, 0),
            g,
            "Executes a read-only server-side Lua script by SHA1 digest.",
            evalsha_ro,
        )
        .keys_fn(eval_keys)
        .syntax("sha1 numkeys [key [key ...]] [arg [arg ...]]")
        .since("7.0.0"),
    );
    v.push(
        Cmd::new(
            "script",
            -2,
            "",
            (0, 0, 0),
            g,
            "A container for Lua scripts management commands.",
            script_help,
        )
        .since("2.6.0")
        .sub(
            Cmd::new(
                "load",
                3,
                "noscript stale",
                (0, 0, 0),
                g,
                "Loads a server-side Lua script to the script cache.",
                script_load,
            )
            .syntax("script")
            .since("2.6.0"),
        )
        .sub(
            Cmd::new(
                "exists",
                -3,
                "noscript",
                (0, 0, 0),
                g,
                "Determines whether server-side Lua scripts exist in the script cache.",
                script_exists,
            )
            .syntax("sha1 [sha1 ...]")
            .since("2.6.0"),
        )
        .sub(
            Cmd::new(
                "flush",
                -2,
                "noscript may_replicate",
                (0, 0, 0),
                g,
                "Removes all server-side Lua scripts from the script cache.",
                script_flush,
            )
            .syntax("[ASYNC | SYNC]")
            .since("2.6.0"),
        )
        .sub(
            Cmd::new(
                "kill",
                2,
                "noscript allow_busy",
                (0, 0, 0),
                g,
                "Terminates a server-side Lua script during execution.",
                script_kill,
            )
            .since("2.6.0"),
        )
        .sub(
            Cmd::new(
                "debug",
                3,
                "noscript",
                (0, 0, 0),
                g,
                "Sets the debug mode of server-side Lua scripts.",
                script_debug,
            )
            .syntax("YES | SYNC | NO")
            .since("3.2.0"),
        )
        .sub(
            Cmd::new(
                "help",
                2,
                "loading stale",
                (0, 0, 0),
                g,
                "Returns helpful text about the different subcommands.",
                script_help,
            )
            .since("5.0.0"),
        ),
    );
}

/// Key positions of EVAL-like commands: `numkeys` keys after argument 2.
pub fn eval_keys(args: &[Bytes]) -> Vec<usize> {
    let Some(n) = args.get(2).and_then(|b| lunakv_protocol::parse_i64(b)) else {
        return Vec::new();
    };
    if n <= 0 {
        return Vec::new();
    }
    let n = n as usize;
    if 3 + n > args.len() {
        return Vec::new();
    }
    (3..3 + n).collect()
}

/// The server as a script sees it.
pub struct ScriptHost<'a> {
    pub eng: &'a mut Engine,
    /// The script's own client: starts in the caller's database; SELECT
    /// inside the script changes only this one. Reused across scripts
    /// (kept in `Engine::script_client` between runs), so entering a script
    /// allocates nothing for it.
    pub client: Option<Box<Client>>,
    /// Flags of the script (for the write gates).
    pub flags: ScriptFlags,
    /// A write command has run (the script can no longer be killed).
    pub wrote: bool,
    /// The commands `redis.call` resolved during this run, by the name
    /// argument they were resolved from (see [`ScriptHost::resolve`]).
    resolved: [Option<(Bytes, &'static Cmd)>; RESOLVED_SLOTS],
    /// The next slot of `resolved` to replace.
    resolved_next: usize,
}

/// How many resolved commands a [`ScriptHost`] remembers.
const RESOLVED_SLOTS: usize = 4;

impl<'a> ScriptHost<'a> {
    /// Builds the host for a script called by `caller`.
    pub fn new(eng: &'a mut Engine, caller: &Client) -> ScriptHost<'a> {
        let mut client = eng
            .script_client
            .take()
            .unwrap_or_else(|| Box::new(Client::new(0, eng.now_ms)));
        client.db = caller.db;
        client.resp = 2;
        if client.user != caller.user {
            client.user.clone_from(&caller.user);
        }
        client.no_touch = caller.no_touch;
        client.multi = None;
        client.outbuf.clear();
        ScriptHost {
            eng,
            client: Some(client),
            flags: ScriptFlags::EVAL_COMPAT,
            wrote: false,
            resolved: Default::default(),
            resolved_next: 0,
        }
    }

    /// [`Engine::lookup`] with a memory: the script engine hands out the
    /// same shared buffer each time a script passes the same command name
    /// string, so a name is recognised by its address (the `Bytes` kept
    /// here holds the buffer alive, so the address cannot be reused for
    /// other bytes). Subcommands are always looked up in full.
    fn resolve(&mut self, args: &[Bytes]) -> Option<&'static Cmd> {
        let name = args.first()?;
        for (b, cmd) in self.resolved.iter().flatten() {
            if b.as_ptr() == name.as_ptr() && b.len() == name.len() {
                return Some(cmd);
            }
        }
        let cmd = self.eng.lookup(args).ok()?;
        if !cmd.full_name.contains('|') {
            self.resolved[self.resolved_next] = Some((name.clone(), cmd));
            self.resolved_next = (self.resolved_next + 1) % RESOLVED_SLOTS;
        }
        Some(cmd)
    }
}

impl Host for ScriptHost<'_> {
    fn call(&mut self, args: &[Bytes], opts: &CallOptions<'_>) -> Reply {
        let resolved = self.resolve(args);
        if let Some(cmd) = resolved {
            if cmd.arity_ok(args.len()) && !cmd.is(flags::NOSCRIPT) {
                if opts.read_only && cmd.is(flags::WRITE | flags::MAY_REPLICATE) {
                    let e = Reply::err_static(
                        "ERR Write commands are not allowed from read-only scripts.",
                    );
                    self.eng.cmdstats[cmd.id].rejected += 1;
                    self.eng.count_error(&e);
                    return e;
                }
                if cmd.is(flags::WRITE) && !crate::repl::enough_good_replicas(self.eng) {
                    let e = Reply::err_static("NOREPLICAS Not enough good replicas to write.");
                    self.eng.count_error(&e);
                    return e;
                }
                if let Some(e) =
                    crate::evict::script_call_check(self.eng, cmd, opts.allow_oom, self.wrote)
                {
                    return e;
                }
                if cmd.is(flags::WRITE) {
                    self.wrote = true;
                    self.eng.shared.script_wrote.store(true, Ordering::Release);
                }
            }
        }
        let Some(client) = self.client.as_deref_mut() else {
            return Reply::err_static("ERR script client unavailable");
        };
        client.resp = opts.resp;
        // Resolved once: the dispatch path continues after its lookup.
        match resolved {
            Some(cmd) => self.eng.execute_cmd(client, cmd, args, Caller::Script),
            None => self.eng.execute(client, args, Caller::Script),
        }
    }

    fn acl_check_cmd(&mut self, args: &[Bytes]) -> Result<bool, Reply> {
        match self.eng.lookup(args) {
            Ok(_) => Ok(true),
            Err(_) => Err(Reply::err_static(
                "ERR Invalid command passed to redis.acl_check_cmd()",
            )),
        }
    }

    fn log(&mut self, level: LogLevel, msg: &[u8]) {
        let l = match level {
            LogLevel::Debug => crate::log::DEBUG,
            LogLevel::Verbose => crate::log::VERBOSE,
            LogLevel::Notice => crate::log::NOTICE,
            LogLevel::Warning => crate::log::WARNING,
        };
        crate::log::log(l, &String::from_utf8_lossy(msg));
    }

    fn interrupt(&mut self) -> Option<Reply> {
        self.eng.process_events_while_busy();
        if self.eng.shared.script_kill.swap(false, Ordering::AcqRel) {
            return Some(Reply::err_static(
                "ERR Script killed by user with SCRIPT KILL...",
            ));
        }
        None
    }

    fn set_repl(&mut self, flags: i32) {
        // REPL_AOF and REPL_REPLICA are the propagation target bits.
        self.eng.repl.script_target = (flags & 3) as u8;
    }

    fn before_run(&mut self, flags: ScriptFlags, read_only: bool) -> Result<(), Reply> {
        flags.check_ro_command(read_only)?;
        if !flags.is_compat()
            && !flags.contains(ScriptFlags::NO_WRITES)
            && !crate::repl::enough_good_replicas(self.eng)
        {
            return Err(Reply::err_static(
                "NOREPLICAS Not enough good replicas to write.",
            ));
        }
        crate::evict::script_start_check(self.eng, flags)?;
        self.flags = flags;
        let sh = &self.eng.shared;
        sh.script_kill.store(false, Ordering::Release);
        sh.script_wrote.store(false, Ordering::Release);
        sh.script_is_function.store(false, Ordering::Release);
        // A top-level EVAL/FCALL started at the time its call() just read;
        // one nested in MULTI or another path reads the clock.
        let start = if self.eng.depth <= 1 {
            self.eng.now_ms
        } else {
            crate::unix_ms()
        };
        sh.script_start_ms.store(start.max(1), Ordering::Release);
        Ok(())
    }

    fn after_run(&mut self) {
        let sh = &self.eng.shared;
        sh.script_start_ms.store(0, Ordering::Release);
        sh.script_kill.store(false, Ordering::Release);
        sh.script_wrote.store(false, Ordering::Release);
    }
}

impl Drop for ScriptHost<'_> {
    fn drop(&mut self) {
        self.eng.script_client = self.client.take();
    }
}

fn run(ctx: &mut Ctx<'_>, args: &[Bytes], is_sha: bool, read_only: bool) -> Reply {
    // Shown by MONITOR before the commands the script runs; propagated as
    // those commands (effects), never as EVAL itself.
    crate::repl::monitor_self(ctx, args);
    ctx.no_propagate();
    ctx.eng.repl.script_target = crate::repl::TARGET_ALL;
    let Some(mut engine) = ctx.eng.scripts.take() else {
        return Reply::err_static("ERR Lua scripting is not available");
    };
    let reply = {
        let mut host = ScriptHost::new(ctx.eng, ctx.client);
        engine.eval_command(&mut host, &args[1..], is_sha, read_only)
    };
    if reply.is_error() && engine.last_error_counted() {
        ctx.eng.error_already_counted = true;
    }
    ctx.eng.scripts = Some(engine);
    reply
}

fn eval(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    run(ctx, args, false, false)
}

fn evalsha(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    run(ctx, args, true, false)
}

fn eval_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    run(ctx, args, false, true)
}

fn evalsha_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    run(ctx, args, true, true)
}

fn with_engine<R>(ctx: &mut Ctx<'_>, f: impl FnOnce(&mut ScriptEngine) -> R) -> Option<R> {
    ctx.eng.scripts.as_deref_mut().map(f)
}

fn script_load(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match with_engine(ctx, |e| e.load(&args[2])) {
        Some(Ok(sha)) => Reply::bulk_str(sha),
        Some(Err(e)) => e,
        None => Reply::err_static("ERR Lua scripting is not available"),
    }
}

fn script_exists(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let found: Vec<Reply> = args[2..]
        .iter()
        .map(|sha| {
            let ok = ctx.eng.scripts.as_deref().is_some_and(|e| e.exists(sha));
            Reply::Int(ok as i64)
        })
        .collect();
    Reply::Array(found)
}

fn script_flush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if args.len() > 3 {
        return errors::syntax();
    }
    if args.len() == 3 && !eq_ic(&args[2], "async") && !eq_ic(&args[2], "sync") {
        return Reply::err_static("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
    }
    with_engine(ctx, |e| e.flush());
    Reply::ok()
}

fn script_kill(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    // A running script is killed by the network task (see server net.rs);
    // reaching the engine means nothing runs.
    Reply::err_static("NOTBUSY No scripts in execution right now.")
}

fn script_debug(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    Reply::err_static("ERR SCRIPT DEBUG is not supported by lunakv yet")
}

fn script_help(_ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if args.len() >= 2 && !eq_ic(&args[1], "help") {
        return errors::unknown_subcommand(&args[0], &args[1]);
    }
    let lines = [
        "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        "HELP",
        "    Prints this help.",
    ];
    Reply::Array(
        lines
            .iter()
            .map(|l| Reply::Status(Bytes::from_static(l.as_bytes())))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use crate::testkit::TestEngine;

    #[test]
    fn eval_runs_commands_through_dispatch() {
        let mut t = TestEngine::new();
        assert_eq!(
            t.raw(&[
                "eval",
                "redis.call('set', KEYS[1], ARGV[1]); return redis.call('get', KEYS[1])",
                "1",
                "name",
                "Alice"
            ]),
            "$5\r\nAlice\r\n"
        );
        let sha = match t.cmd(&["script", "load", "return redis.call('incr', KEYS[1])"]) {
            lunakv_protocol::Reply::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
            r => panic!("{r:?}"),
        };
        assert_eq!(t.raw(&["evalsha", &sha, "1", "n"]), ":1\r\n");
        assert_eq!(t.raw(&["evalsha", &sha, "1", "n"]), ":2\r\n");
        assert_eq!(
            t.raw(&["script", "exists", &sha, "ffff"]),
            "*2\r\n:1\r\n:0\r\n"
        );
        assert_eq!(t.raw(&["script", "flush"]), "+OK\r\n");
        assert_eq!(
            t.raw(&["evalsha", &sha, "1", "n"]),
            "-NOSCRIPT No matching script. Please use EVAL.\r\n"
        );
        assert_eq!(
            t.raw(&["script", "kill"]),
            "-NOTBUSY No scripts in execution right now.\r\n"
        );
    }

    #[test]
    fn read_only_and_noscript_gates() {
        let mut t = TestEngine::new();
        let r = t.raw(&["eval_ro", "return redis.call('set', KEYS[1], 1)", "1", "k"]);
        assert!(
            r.starts_with("-ERR Write commands are not allowed from read-only scripts."),
            "{r}"
        );
        let r = t.raw(&["eval", "return redis.call('eval', 'return 1', 0)", "0"]);
        assert!(
            r.starts_with("-ERR This Redis command is not allowed from script"),
            "{r}"
        );
        let r = t.raw(&["eval", "return redis.call('nosuch')", "0"]);
        assert!(
            r.starts_with("-ERR Unknown Redis command called from script"),
            "{r}"
        );
    }

    #[test]
    fn select_inside_script_does_not_leak() {
        let mut t = TestEngine::new();
        t.cmd(&[
            "eval",
            "redis.call('select', 9); return redis.call('set', 'x', 1)",
            "0",
        ]);
        assert_eq!(t.raw(&["get", "x"]), "$-1\r\n");
        t.cmd(&["select", "9"]);
        assert_eq!(t.raw(&["get", "x"]), "$1\r\n1\r\n");
    }
}
