//! Redis 7 Functions: FUNCTION (LOAD, DELETE, LIST, STATS, KILL, FLUSH,
//! DUMP, RESTORE, HELP), FCALL and FCALL_RO.
//!
//! The libraries and their Lua VM live in
//! [`lunakv_scripting::functions::FunctionsEngine`], stored in
//! `Engine::functions` and created on first use. FCALL runs a function
//! through the same [`ScriptHost`] as EVAL, so `redis.call` takes the one
//! dispatch path; the host only marks the run as a function so that the
//! network task's BUSY replies name FUNCTION KILL.

use std::sync::atomic::Ordering;
use std::sync::Mutex;

use bytes::Bytes;
use lunakv_protocol::Reply;
use lunakv_scripting::functions::{FunctionsEngine, RestorePolicy, LOAD_TIMEOUT};
use lunakv_scripting::{CallOptions, Host, LogLevel, ScriptFlags};

use crate::cmd::scripting::ScriptHost;
use crate::cmd::server::{
    NUMBER_OF_FUNCTIONS, NUMBER_OF_LIBRARIES, USED_MEMORY_FUNCTIONS, USED_MEMORY_VM_FUNCTIONS,
};
use crate::command::Cmd;
use crate::ctx::{eq_ic, Ctx};
use crate::{errors, Engine};

/// Declares this family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    let g = "scripting";
    v.push(
        Cmd::new(
            "fcall",
            -3,
            "noscript skip_monitor may_replicate no_mandatory_keys stale",
            (0, 0, 0),
            g,
            "Invoke a function",
            fcall,
        )
        .keys_fn(fcall_keys)
        .syntax("function numkeys [key [key ...]] [arg [arg ...]]")
        .since("7.0.0")
        .complexity("Depends on the function that is executed."),
    );
    v.push(
        Cmd::new(
            "fcall_ro",
            -3,
            "noscript skip_monitor no_mandatory_keys stale readonly",
            (0, 0, 0),
            g,
            "Invoke a read-only function",
            fcall_ro,
        )
        .keys_fn(fcall_keys)
        .syntax("function numkeys [key [key ...]] [arg [arg ...]]")
        .since("7.0.0")
        .complexity("Depends on the function that is executed."),
    );
    v.push(
        Cmd::new("function", -2, "", (0, 0, 0), g, "A container for function commands", function_help)
            .since("7.0.0")
            .complexity("Depends on subcommand.")
            .sub(Cmd::new("load", -3, "noscript write denyoom", (0, 0, 0), g, "Create a function with the given arguments (name, code, description)", function_load).syntax("[REPLACE] function-code").since("7.0.0").complexity("O(1) (considering compilation time is redundant)"))
            .sub(Cmd::new("delete", 3, "noscript write", (0, 0, 0), g, "Delete a function by name", function_delete).syntax("library-name").since("7.0.0").complexity("O(1)"))
            .sub(Cmd::new("list", -2, "noscript", (0, 0, 0), g, "List information about all the functions", function_list).syntax("[LIBRARYNAME library-name-pattern] [WITHCODE]").since("7.0.0").complexity("O(N) where N is the number of functions"))
            .sub(Cmd::new("stats", 2, "noscript allow_busy", (0, 0, 0), g, "Return information about the function currently running (name, description, duration)", function_stats).since("7.0.0").complexity("O(1)"))
            .sub(Cmd::new("kill", 2, "noscript allow_busy", (0, 0, 0), g, "Kill the function currently in execution.", function_kill).since("7.0.0").complexity("O(1)"))
            .sub(Cmd::new("flush", -2, "noscript write", (0, 0, 0), g, "Deleting all functions", function_flush).syntax("[ASYNC | SYNC]").since("7.0.0").complexity("O(N) where N is the number of functions deleted"))
            .sub(Cmd::new("dump", 2, "noscript", (0, 0, 0), g, "Dump all functions into a serialized binary payload", function_dump).since("7.0.0").complexity("O(N) where N is the number of functions"))
            .sub(Cmd::new("restore", -3, "noscript write denyoom", (0, 0, 0), g, "Restore all the functions on the given payload", function_restore).syntax("serialized-value [FLUSH | APPEND | REPLACE]").since("7.0.0").complexity("O(N) where N is the number of functions on the payload"))
            .sub(Cmd::new("help", 2, "loading stale", (0, 0, 0), g, "Show helpful text about the different subcommands", function_help).since("7.0.0").complexity("O(1)")),
    );
}

/// Key positions of FCALL / FCALL_RO: `numkeys` keys after argument 2
/// (the same layout as EVAL).
pub fn fcall_keys(args: &[Bytes]) -> Vec<usize> {
    crate::cmd::scripting::eval_keys(args)
}

/// The functions engine, created on first use; `None` only if its Lua VM
/// cannot be created.
fn engine(eng: &mut Engine) -> Option<&mut FunctionsEngine> {
    if eng.functions.is_none() {
        eng.functions = FunctionsEngine::new().ok().map(Box::new);
    }
    eng.functions.as_deref_mut()
}

fn unavailable() -> Reply {
    Reply::err_static("ERR Lua functions are not available")
}

/// Publishes the figures INFO shows (memory and counts).
pub fn update_stats(eng: &Engine) {
    let Some(f) = eng.functions.as_deref() else {
        return;
    };
    let r = Ordering::Relaxed;
    USED_MEMORY_VM_FUNCTIONS.store(f.vm().used_memory() as u64, r);
    USED_MEMORY_FUNCTIONS.store(f.libraries().memory_overhead() as u64, r);
    NUMBER_OF_FUNCTIONS.store(f.libraries().functions_count() as u64, r);
    NUMBER_OF_LIBRARIES.store(f.libraries().libraries_count() as u64, r);
}

/// The function FCALL is running, for FUNCTION STATS.
#[derive(Debug, Clone)]
pub struct RunningFunction {
    /// The function's name as registered.
    pub name: String,
    /// The FCALL command that runs it.
    pub command: Vec<Bytes>,
    /// When it started (Unix ms).
    pub start_ms: u64,
}

/// The running function, set for the duration of an FCALL so that the
/// network tasks can answer FUNCTION STATS while the engine is busy.
pub static RUNNING: Mutex<Option<RunningFunction>> = Mutex::new(None);

/// The FUNCTION STATS reply, from the figures published by
/// [`update_stats`] and [`RUNNING`]: usable from a network task while a
/// script keeps the engine busy (Redis answers FUNCTION STATS then, with
/// the running function's name, command and duration).
pub fn stats_reply() -> Reply {
    let r = Ordering::Relaxed;
    stats_map(NUMBER_OF_LIBRARIES.load(r), NUMBER_OF_FUNCTIONS.load(r))
}

fn stats_map(libraries: u64, functions: u64) -> Reply {
    let running = match RUNNING.lock().ok().and_then(|g| g.clone()) {
        None => Reply::Null,
        Some(r) => Reply::Map(vec![
            (Reply::bulk(b"name"), Reply::bulk_str(r.name)),
            (
                Reply::bulk(b"command"),
                Reply::Array(r.command.into_iter().map(Reply::Bulk).collect()),
            ),
            (
                Reply::bulk(b"duration_ms"),
                Reply::Int(crate::unix_ms().saturating_sub(r.start_ms) as i64),
            ),
        ]),
    };
    Reply::Map(vec![
        (Reply::bulk(b"running_script"), running),
        (
            Reply::bulk(b"engines"),
            Reply::Map(vec![(
                Reply::bulk(b"LUA"),
                Reply::Map(vec![
                    (
                        Reply::bulk(b"libraries_count"),
                        Reply::Int(libraries as i64),
                    ),
                    (
                        Reply::bulk(b"functions_count"),
                        Reply::Int(functions as i64),
                    ),
                ]),
            )]),
        ),
    ])
}

/// The host of a function run: EVAL's [`ScriptHost`], marked as a
/// function for the BUSY machinery.
///
/// [`RUNNING`] is only filled once the run reaches the instruction hook
/// ([`Host::interrupt`]), which is where FUNCTION STATS can be served
/// during a busy function: short runs never take its lock or copy the
/// command.
struct FunctionHost<'a> {
    inner: ScriptHost<'a>,
    /// The function's registered name and the FCALL command, for [`RUNNING`].
    name: String,
    command: &'a [Bytes],
    /// When the run started (Unix ms).
    start_ms: u64,
    /// [`RUNNING`] holds this run.
    published: bool,
}

impl Host for FunctionHost<'_> {
    fn call(&mut self, args: &[Bytes], opts: &CallOptions<'_>) -> Reply {
        self.inner.call(args, opts)
    }

    fn acl_check_cmd(&mut self, args: &[Bytes]) -> Result<bool, Reply> {
        self.inner.acl_check_cmd(args)
    }

    fn log(&mut self, level: LogLevel, msg: &[u8]) {
        self.inner.log(level, msg)
    }

    fn interrupt(&mut self) -> Option<Reply> {
        if !self.published {
            if let Ok(mut g) = RUNNING.lock() {
                *g = Some(RunningFunction {
                    name: std::mem::take(&mut self.name),
                    command: self.command.to_vec(),
                    start_ms: self.start_ms,
                });
                self.published = true;
            }
        }
        self.inner.interrupt()
    }

    fn set_repl(&mut self, flags: i32) {
        self.inner.set_repl(flags)
    }

    fn before_run(&mut self, flags: ScriptFlags, read_only: bool) -> Result<(), Reply> {
        self.inner.before_run(flags, read_only)?;
        self.inner
            .eng
            .shared
            .script_is_function
            .store(true, Ordering::Release);
        self.start_ms = self
            .inner
            .eng
            .shared
            .script_start_ms
            .load(Ordering::Acquire);
        Ok(())
    }

    fn after_run(&mut self) {
        self.inner.after_run();
        self.inner
            .eng
            .shared
            .script_is_function
            .store(false, Ordering::Release);
        if self.published {
            if let Ok(mut g) = RUNNING.lock() {
                *g = None;
            }
            self.published = false;
        }
    }
}

fn run(ctx: &mut Ctx<'_>, args: &[Bytes], read_only: bool) -> Reply {
    // Shown by MONITOR before the commands the function runs; propagated
    // as those commands, never as FCALL itself.
    crate::repl::monitor_self(ctx, args);
    ctx.no_propagate();
    ctx.eng.repl.script_target = crate::repl::TARGET_ALL;
    if engine(ctx.eng).is_none() {
        return unavailable();
    }
    let Some(mut fe) = ctx.eng.functions.take() else {
        return unavailable();
    };
    let name = args
        .get(1)
        .and_then(|n| fe.function(n))
        .map(|f| f.name.clone())
        .unwrap_or_default();
    let reply = {
        let mut host = FunctionHost {
            inner: ScriptHost::new(ctx.eng, ctx.client),
            name,
            command: args,
            start_ms: 0,
            published: false,
        };
        fe.fcall_command(&mut host, &args[1..], read_only)
    };
    if reply.is_error() && fe.last_error_counted() {
        ctx.eng.error_already_counted = true;
    }
    ctx.eng.functions = Some(fe);
    update_stats(ctx.eng);
    reply
}

fn fcall(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    run(ctx, args, false)
}

fn fcall_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    run(ctx, args, true)
}

fn function_load(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let mut replace = false;
    let mut pos = 2;
    while pos < args.len() - 1 {
        let a = &args[pos];
        pos += 1;
        if eq_ic(a, "replace") {
            replace = true;
            continue;
        }
        return Reply::err(format!(
            "ERR Unknown option given: {}",
            String::from_utf8_lossy(a)
        ));
    }
    let Some(code) = args.get(pos) else {
        return Reply::err_static("ERR Function code is missing");
    };
    // Redis lifts the timeout only for its master and the AOF, which
    // lunakv does not have yet.
    let timeout = Some(LOAD_TIMEOUT);
    let Some(fe) = engine(ctx.eng) else {
        return unavailable();
    };
    let r = fe.load(code, replace, timeout);
    write_load_logs(fe);
    let reply = match r {
        Ok(name) => {
            ctx.eng.dirty += 1;
            Reply::bulk_str(name)
        }
        Err(e) => e,
    };
    update_stats(ctx.eng);
    reply
}

fn function_delete(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let Some(fe) = engine(ctx.eng) else {
        return unavailable();
    };
    match fe.delete(&args[2]) {
        Ok(()) => {
            ctx.eng.dirty += 1;
            update_stats(ctx.eng);
            Reply::ok()
        }
        Err(e) => e,
    }
}

fn function_list(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let mut with_code = false;
    let mut pattern: Option<&Bytes> = None;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if !with_code && eq_ic(a, "withcode") {
            with_code = true;
            i += 1;
            continue;
        }
        if pattern.is_none() && eq_ic(a, "libraryname") {
            if i >= args.len() - 1 {
                return Reply::err_static("ERR library name argument was not given");
            }
            pattern = Some(&args[i + 1]);
            i += 2;
            continue;
        }
        return Reply::err(format!(
            "ERR Unknown argument {}",
            String::from_utf8_lossy(a)
        ));
    }
    let Some(fe) = engine(ctx.eng) else {
        return unavailable();
    };
    let mut out = Vec::new();
    for lib in fe.libraries().libraries() {
        if let Some(p) = pattern {
            if !crate::glob::glob_match(p, lib.name.as_bytes(), true) {
                continue;
            }
        }
        let functions = lib
            .functions
            .values()
            .map(|f| {
                let flags = ScriptFlags::NAMES
                    .iter()
                    .filter(|(_, fl)| f.flags.contains(*fl))
                    .map(|(n, _)| Reply::Status(Bytes::from_static(n.as_bytes())))
                    .collect();
                Reply::Map(vec![
                    (Reply::bulk(b"name"), Reply::bulk_str(f.name.clone())),
                    (
                        Reply::bulk(b"description"),
                        match &f.desc {
                            Some(d) => Reply::Bulk(d.clone()),
                            None => Reply::Null,
                        },
                    ),
                    (Reply::bulk(b"flags"), Reply::Set(flags)),
                ])
            })
            .collect();
        let mut m = vec![
            (
                Reply::bulk(b"library_name"),
                Reply::bulk_str(lib.name.clone()),
            ),
            (Reply::bulk(b"engine"), Reply::bulk(b"LUA")),
            (Reply::bulk(b"functions"), Reply::Array(functions)),
        ];
        if with_code {
            m.push((Reply::bulk(b"library_code"), Reply::Bulk(lib.code.clone())));
        }
        out.push(Reply::Map(m));
    }
    Reply::Array(out)
}

fn function_stats(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    let Some(fe) = engine(ctx.eng) else {
        return unavailable();
    };
    let libs = fe.libraries();
    // Redis counts each library's functions (its engine stats), which can
    // exceed the case-insensitive index when a library registers `f` and `F`.
    let functions: usize = libs.libraries().map(|l| l.functions.len()).sum();
    stats_map(libs.libraries_count() as u64, functions as u64)
}

fn function_kill(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    // A running function is killed by the network task; reaching the
    // engine means nothing runs.
    Reply::err_static("NOTBUSY No scripts in execution right now.")
}

fn function_flush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if args.len() > 3 {
        return subcommand_syntax_error(&args[1]);
    }
    if let Some(a) = args.get(2) {
        if !eq_ic(a, "async") && !eq_ic(a, "sync") {
            return Reply::err_static("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        }
    }
    if let Some(fe) = engine(ctx.eng) {
        fe.flush();
    }
    ctx.eng.dirty += 1;
    update_stats(ctx.eng);
    Reply::ok()
}

fn function_dump(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    let Some(fe) = engine(ctx.eng) else {
        return unavailable();
    };
    Reply::Bulk(Bytes::from(fe.dump()))
}

fn function_restore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if args.len() > 4 {
        return subcommand_syntax_error(&args[1]);
    }
    let policy =
        match args.get(3) {
            None => RestorePolicy::Append,
            Some(p) if eq_ic(p, "append") => RestorePolicy::Append,
            Some(p) if eq_ic(p, "replace") => RestorePolicy::Replace,
            Some(p) if eq_ic(p, "flush") => RestorePolicy::Flush,
            Some(_) => return Reply::err_static(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            ),
        };
    let skip = ctx
        .eng
        .config
        .get("skip-checksum-validation")
        .is_some_and(|v| v.eq_ignore_ascii_case("yes"));
    let Some(fe) = engine(ctx.eng) else {
        return unavailable();
    };
    let r = fe.restore(&args[2], policy, skip);
    write_load_logs(fe);
    let reply = match r {
        Ok(()) => {
            ctx.eng.dirty += 1;
            Reply::ok()
        }
        Err(e) => e,
    };
    update_stats(ctx.eng);
    reply
}

/// Writes what library code logged with `redis.log` while loading.
fn write_load_logs(fe: &mut FunctionsEngine) {
    for (level, msg) in fe.take_load_logs() {
        let l = match level {
            LogLevel::Debug => crate::log::DEBUG,
            LogLevel::Verbose => crate::log::VERBOSE,
            LogLevel::Notice => crate::log::NOTICE,
            LogLevel::Warning => crate::log::WARNING,
        };
        crate::log::log(l, &String::from_utf8_lossy(&msg));
    }
}

/// `ERR unknown subcommand or wrong number of arguments for 'x'. Try FUNCTION HELP.`
fn subcommand_syntax_error(sub: &[u8]) -> Reply {
    Reply::err(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try FUNCTION HELP.",
        String::from_utf8_lossy(sub)
    ))
}

fn function_help(_ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if args.len() >= 2 && !eq_ic(&args[1], "help") {
        return errors::unknown_subcommand(&args[0], &args[1]);
    }
    let lines = [
        "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
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

    const LIB: &str = "#!lua name=mylib\nredis.register_function('myset', function(keys, args) return redis.call('set', keys[1], args[1]) end)\nredis.register_function{function_name='myget', callback=function(keys, args) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}";

    #[test]
    fn load_fcall_list() {
        let mut t = TestEngine::new();
        assert_eq!(t.raw(&["FUNCTION", "LOAD", LIB]), "$5\r\nmylib\r\n");
        assert_eq!(t.raw(&["FCALL", "myset", "1", "k", "v"]), "+OK\r\n");
        assert_eq!(t.raw(&["FCALL_RO", "MYGET", "1", "k"]), "$1\r\nv\r\n");
        assert_eq!(
            t.raw(&["FCALL_RO", "myset", "1", "k", "v"]),
            "-ERR Can not execute a script with write flag using *_ro command.\r\n"
        );
        assert_eq!(
            t.raw(&["FCALL", "nope", "0"]),
            "-ERR Function not found\r\n"
        );
        assert_eq!(
            t.raw(&["FUNCTION", "LIST"]),
            "*1\r\n*6\r\n$12\r\nlibrary_name\r\n$5\r\nmylib\r\n$6\r\nengine\r\n$3\r\nLUA\r\n$9\r\nfunctions\r\n*2\r\n\
             *6\r\n$4\r\nname\r\n$5\r\nmyget\r\n$11\r\ndescription\r\n$5\r\nreads\r\n$5\r\nflags\r\n*1\r\n+no-writes\r\n\
             *6\r\n$4\r\nname\r\n$5\r\nmyset\r\n$11\r\ndescription\r\n$-1\r\n$5\r\nflags\r\n*0\r\n"
        );
        assert_eq!(t.raw(&["FUNCTION", "LIST", "LIBRARYNAME", "x*"]), "*0\r\n");
        assert_eq!(
            t.raw(&["FUNCTION", "LIST", "LIBRARYNAME"]),
            "-ERR library name argument was not given\r\n"
        );
        assert_eq!(
            t.raw(&["FUNCTION", "LIST", "withcode", "withcode"]),
            "-ERR Unknown argument withcode\r\n"
        );
        assert_eq!(
            t.raw(&["FUNCTION", "STATS"]),
            "*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\nlibraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:2\r\n"
        );
        assert_eq!(
            t.raw(&["FUNCTION", "LOAD", "foo", LIB]),
            "-ERR Unknown option given: foo\r\n"
        );
        assert_eq!(
            t.raw(&["FUNCTION", "LOAD", LIB]),
            "-ERR Library 'mylib' already exists\r\n"
        );
        assert_eq!(
            t.raw(&["FUNCTION", "LOAD", "REPLACE", LIB]),
            "$5\r\nmylib\r\n"
        );
    }

    #[test]
    fn stats_count_functions_per_library() {
        let mut t = TestEngine::new();
        let code = "#!lua name=cased\nredis.register_function('f', function() return 1 end)\nredis.register_function('F', function() return 2 end)";
        assert_eq!(t.raw(&["FUNCTION", "LOAD", code]), "$5\r\ncased\r\n");
        assert!(t
            .raw(&["FUNCTION", "STATS"])
            .ends_with("$15\r\nfunctions_count\r\n:2\r\n"));
    }

    #[test]
    fn delete_flush_kill_help() {
        let mut t = TestEngine::new();
        t.raw(&["FUNCTION", "LOAD", LIB]);
        assert_eq!(
            t.raw(&["FUNCTION", "DELETE", "nope"]),
            "-ERR Library not found\r\n"
        );
        assert_eq!(t.raw(&["FUNCTION", "DELETE", "mylib"]), "+OK\r\n");
        assert_eq!(
            t.raw(&["FCALL", "myset", "0"]),
            "-ERR Function not found\r\n"
        );
        t.raw(&["FUNCTION", "LOAD", LIB]);
        assert_eq!(
            t.raw(&["FUNCTION", "FLUSH", "x"]),
            "-ERR FUNCTION FLUSH only supports SYNC|ASYNC option\r\n"
        );
        assert_eq!(
            t.raw(&["FUNCTION", "FLUSH", "sync", "x"]),
            "-ERR unknown subcommand or wrong number of arguments for 'FLUSH'. Try FUNCTION HELP.\r\n"
        );
        assert_eq!(t.raw(&["FUNCTION", "FLUSH", "async"]), "+OK\r\n");
        assert_eq!(t.raw(&["FUNCTION", "LIST"]), "*0\r\n");
        assert_eq!(
            t.raw(&["FUNCTION", "KILL"]),
            "-NOTBUSY No scripts in execution right now.\r\n"
        );
        assert!(t
            .raw(&["FUNCTION", "HELP"])
            .starts_with("*40\r\n+FUNCTION <subcommand>"));
        assert_eq!(
            t.raw(&["FUNCTION", "bad"]),
            "-ERR unknown subcommand 'bad'. Try FUNCTION HELP.\r\n"
        );
    }

    fn cmd_bytes(t: &mut TestEngine, args: &[bytes::Bytes]) -> lunakv_protocol::Reply {
        t.eng
            .execute(&mut t.client, args, crate::client::Caller::Client)
    }

    #[test]
    fn dump_restore() {
        let mut t = TestEngine::new();
        t.raw(&["FUNCTION", "LOAD", LIB]);
        let payload = match t.cmd(&["FUNCTION", "DUMP"]) {
            lunakv_protocol::Reply::Bulk(b) => b,
            r => panic!("{r:?}"),
        };
        let mut args: Vec<bytes::Bytes> = ["FUNCTION", "RESTORE"]
            .iter()
            .map(|s| bytes::Bytes::from_static(s.as_bytes()))
            .collect();
        args.push(payload.clone());
        assert!(
            matches!(cmd_bytes(&mut t, &args), lunakv_protocol::Reply::Error(e) if e.starts_with(b"ERR Library mylib already exists"))
        );
        args.push(bytes::Bytes::from_static(b"REPLACE"));
        assert_eq!(cmd_bytes(&mut t, &args), lunakv_protocol::Reply::ok());
        assert_eq!(
            t.raw(&["FUNCTION", "RESTORE", "bad_payload"]),
            "-ERR DUMP payload version or checksum are wrong\r\n"
        );
        assert_eq!(
            t.raw(&["FUNCTION", "RESTORE", "a", "b"]),
            "-ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.\r\n"
        );
    }

    #[test]
    fn fcall_keys_positions() {
        let a: Vec<bytes::Bytes> = ["fcall", "f", "2", "a", "b", "c"]
            .iter()
            .map(|s| bytes::Bytes::from_static(s.as_bytes()))
            .collect();
        assert_eq!(super::fcall_keys(&a), vec![3, 4]);
    }
}
