//! The interface between a running script and the server.

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::flags::ScriptFlags;

/// Levels of `redis.log`, with Redis's numeric values
/// (`redis.LOG_DEBUG` = 0 ... `redis.LOG_WARNING` = 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// `redis.LOG_DEBUG`.
    Debug = 0,
    /// `redis.LOG_VERBOSE`.
    Verbose = 1,
    /// `redis.LOG_NOTICE`.
    Notice = 2,
    /// `redis.LOG_WARNING`.
    Warning = 3,
}

/// How a command issued by a script must be checked and answered.
#[derive(Debug, Clone, Copy)]
pub struct CallOptions<'a> {
    /// The protocol the script asked for with `redis.setresp` (2 or 3):
    /// handlers shape some replies by it (HGETALL, ZRANGE WITHSCORES...).
    pub resp: u8,
    /// The script may not write: EVAL_RO / EVALSHA_RO / FCALL_RO, or the
    /// `no-writes` shebang flag.
    pub read_only: bool,
    /// The script declared `allow-oom`.
    pub allow_oom: bool,
    /// The script declared `allow-stale`.
    pub allow_stale: bool,
    /// The script has a shebang (`#!lua`), which turns on Redis 7's stricter
    /// checks (e.g. undeclared keys in cluster mode); false for legacy scripts.
    pub has_shebang: bool,
    /// The keys the script declared (KEYS).
    pub keys: &'a [Bytes],
}

/// What the script engine needs from the server.
///
/// The engine holds the `&mut dyn Host` given to
/// [`ScriptEngine::eval`](crate::ScriptEngine::eval) for the duration of
/// that one call and uses it only from the thread that made it. No method
/// is called re-entrantly, and none may call back into the engine.
pub trait Host {
    /// Runs one command (`args[0]` is its name) on behalf of the script,
    /// through the server's one dispatch path with the script as caller.
    /// Refusals (unknown command, wrong arity, `noscript`, write in a
    /// read-only script, OOM...) come back as `Reply::Error` with Redis's
    /// texts; the engine decides whether to raise them (`redis.call`) or
    /// return them (`redis.pcall`).
    fn call(&mut self, args: &[Bytes], opts: &CallOptions<'_>) -> Reply;

    /// Checks whether the script's user may run the command (`redis.acl_check_cmd`).
    /// `Err` carries the error to raise (e.g. unknown command).
    fn acl_check_cmd(&mut self, args: &[Bytes]) -> Result<bool, Reply>;

    /// Writes a line to the server log (`redis.log`).
    fn log(&mut self, level: LogLevel, msg: &[u8]);

    /// Called from the Lua instruction hook every few thousand
    /// instructions while a script runs. Returns an error reply when the
    /// script must stop now (SCRIPT KILL, FUNCTION KILL, SHUTDOWN NOSAVE);
    /// this is where the busy-script machinery plugs in.
    fn interrupt(&mut self) -> Option<Reply>;

    /// `redis.set_repl(flags)`: how the script's writes are propagated.
    /// Accepted now, honoured once the AOF and replication exist.
    fn set_repl(&mut self, flags: i32);

    /// Redis's start-of-script checks (`scriptPrepareForRun`), called once
    /// the script is compiled and before any of it runs. `Err` is returned
    /// to the client as is and the script does not run.
    ///
    /// The server should check, in Redis's order, for a shebang script
    /// (`!flags.is_compat()`): `no-cluster` in cluster mode
    /// (`ERR Can not run script on cluster, 'no-cluster' flag is set.`),
    /// a stale replica without `allow-stale` (`MASTERDOWN ...`); then, for
    /// a script that may write (no `no-writes`): a read-only replica
    /// (`READONLY Can not run script with write flag on readonly replica`),
    /// disk errors (`MISCONF ...`), [`ScriptFlags::check_ro_command`],
    /// min-replicas (`NOREPLICAS ...`); then OOM without `allow-oom`
    /// (`OOM allow-oom flag is not set on the script, can not run it when
    /// used memory > 'maxmemory'`). For a legacy script only the stale
    /// replica check applies (plain `MASTERDOWN`). This is also the place
    /// to publish "a script is running since T" for the BUSY machinery.
    ///
    /// The default performs only the check that needs no server state,
    /// [`ScriptFlags::check_ro_command`].
    fn before_run(&mut self, flags: ScriptFlags, read_only: bool) -> Result<(), Reply> {
        flags.check_ro_command(read_only)
    }

    /// Called when a script that passed [`Host::before_run`] has finished,
    /// whatever its outcome (clear the BUSY status, propagate the script's
    /// effects as one transaction...). The default does nothing.
    fn after_run(&mut self) {}
}
