//! The lunakv engine: the keyspace, the command table and the one dispatch
//! path every command takes, whoever sends it (a client, a script, EXEC).
//!
//! The engine runs on one thread that owns all data and the Lua VMs, so a
//! command or a script is atomic by construction. Network tasks talk to it
//! only through [`client::Msg`] (in) and [`client::Out`] (back).

#![deny(clippy::unwrap_used, clippy::expect_used)]
// Tests may panic on purpose.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod blocking;
pub mod busy;
pub mod client;
pub mod cmd;
pub mod command;
pub mod config;
pub mod ctx;
pub mod db;
pub mod dict;
pub mod errors;
pub mod evict;
pub mod glob;
pub mod log;
pub mod net;
pub mod pause;
pub mod rdb;
pub mod repl;
pub mod testkit;
pub mod tracking;
pub mod types;
pub mod value;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use lunakv_protocol::Reply;

use client::{Caller, Client, ClientId, Msg, ReplyMode};
use command::{flags, Cmd, CommandTable};
use config::Config;
use ctx::Ctx;
use db::Db;

/// The version of Redis whose behaviour lunakv follows; reported as
/// `redis_version` so that client libraries enable their features.
pub const REDIS_VERSION: &str = "7.0.15";
/// lunakv's own version.
pub const LUNAKV_VERSION: &str = env!("CARGO_PKG_VERSION");

/// State shared between the engine thread and the network tasks, read
/// without locks.
#[derive(Debug)]
pub struct Shared {
    /// Start of the running script in Unix ms, 0 when none runs.
    pub script_start_ms: AtomicU64,
    /// Set by SCRIPT KILL / FUNCTION KILL; the Lua hook checks it.
    pub script_kill: AtomicBool,
    /// `busy-reply-threshold` in ms.
    pub busy_threshold_ms: AtomicU64,
    /// `proto-max-bulk-len`.
    pub proto_max_bulk_len: AtomicI64,
    /// `client-query-buffer-limit`.
    pub query_buf_limit: AtomicU64,
    /// `maxclients`.
    pub maxclients: AtomicU64,
    /// `timeout` in seconds (0 = never close idle clients).
    pub idle_timeout_s: AtomicU64,
    /// Connected clients right now.
    pub connected: AtomicU64,
    /// True when a password is required (tighter parser limits before AUTH).
    pub auth_required: AtomicBool,
    /// Set when the server is shutting down.
    pub shutdown: AtomicBool,
    /// The running script has written (SCRIPT KILL must refuse).
    pub script_wrote: AtomicBool,
    /// The running script is a function (FCALL) rather than EVAL.
    pub script_is_function: AtomicBool,
    /// Total bytes read from / written to clients.
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    /// Connections refused because of maxclients.
    pub rejected_connections: AtomicU64,
    /// Next client id.
    pub next_client_id: AtomicU64,
}

impl Shared {
    pub fn new(cfg: &Config) -> Shared {
        let s = Shared {
            script_start_ms: AtomicU64::new(0),
            script_kill: AtomicBool::new(false),
            busy_threshold_ms: AtomicU64::new(5000),
            proto_max_bulk_len: AtomicI64::new(512 * 1024 * 1024),
            query_buf_limit: AtomicU64::new(1 << 30),
            maxclients: AtomicU64::new(10000),
            idle_timeout_s: AtomicU64::new(0),
            connected: AtomicU64::new(0),
            auth_required: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            script_wrote: AtomicBool::new(false),
            script_is_function: AtomicBool::new(false),
            net_input_bytes: AtomicU64::new(0),
            net_output_bytes: AtomicU64::new(0),
            rejected_connections: AtomicU64::new(0),
            next_client_id: AtomicU64::new(1),
        };
        s.refresh(cfg);
        s
    }

    /// Copies the configuration values the network tasks read.
    pub fn refresh(&self, cfg: &Config) {
        let r = Ordering::Relaxed;
        self.busy_threshold_ms
            .store(cfg.get_i64("busy-reply-threshold") as u64, r);
        self.proto_max_bulk_len
            .store(cfg.get_i64("proto-max-bulk-len"), r);
        self.query_buf_limit
            .store(cfg.get_i64("client-query-buffer-limit") as u64, r);
        self.maxclients.store(cfg.get_i64("maxclients") as u64, r);
        self.idle_timeout_s.store(cfg.get_i64("timeout") as u64, r);
        self.auth_required
            .store(!cfg.get("requirepass").unwrap_or("").is_empty(), r);
    }

    /// True while a script has run longer than the busy threshold.
    pub fn busy(&self) -> bool {
        let start = self.script_start_ms.load(Ordering::Acquire);
        start != 0
            && unix_ms().saturating_sub(start) >= self.busy_threshold_ms.load(Ordering::Relaxed)
    }
}

/// Server-wide counters for INFO stats.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub total_commands: u64,
    pub total_connections: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub total_error_replies: u64,
    pub unexpected_error_replies: u64,
    pub expired_stale_perc: f64,
    pub evicted_keys: u64,
    /// Values freed on a background thread (INFO `lazyfreed_objects`).
    pub lazyfreed_objects: u64,
}

/// Per-command counters (INFO commandstats).
#[derive(Debug, Default, Clone, Copy)]
pub struct CmdStat {
    pub calls: u64,
    pub usec: u64,
    pub rejected: u64,
    pub failed: u64,
}

/// Current Unix time in milliseconds.
pub fn unix_ms() -> u64 {
    unix_us() / 1000
}

/// Current Unix time in microseconds: one `clock_gettime(CLOCK_REALTIME)`
/// (a vDSO call, no system call), as Redis's `ustime()`. Every command reads
/// it twice (start and end, for INFO commandstats and the slow log), so it
/// skips `SystemTime`'s checked `Duration` arithmetic.
pub fn unix_us() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_REALTIME always
    // exists, so the call cannot fail (on failure `ts` stays 0).
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    (ts.tv_sec.max(0) as u64)
        .wrapping_mul(1_000_000)
        .wrapping_add(ts.tv_nsec.max(0) as u64 / 1000)
}

/// Microseconds of rehashing per cron tick for a table being resized.
const CRON_REHASH_US: u64 = 500;

/// The engine: all data and all per-client state, owned by one thread.
pub struct Engine {
    pub dbs: Vec<Db>,
    /// Connected clients. The client whose batch runs is taken out of the
    /// map while it runs and put back afterwards.
    pub clients: HashMap<ClientId, Box<Client>, foldhash::fast::RandomState>,
    pub config: Config,
    pub table: &'static CommandTable,
    pub shared: Arc<Shared>,
    pub stats: Stats,
    pub cmdstats: Vec<CmdStat>,
    /// Error replies by code (INFO errorstats).
    pub errorstats: HashMap<String, u64>,
    /// Writes since the last save.
    pub dirty: u64,
    /// Time snapshot of the running command (frozen during a script).
    pub now_ms: u64,
    pub start_time: Instant,
    pub start_unix_ms: u64,
    pub lastsave_unix: u64,
    /// Keys watched by clients: (db, key) → watching clients, each with
    /// "the key was already expired when WATCH ran" (such a key being
    /// deleted is no change, as in Redis).
    pub watched_keys: HashMap<(usize, Bytes), Vec<(ClientId, bool)>>,
    /// Clients whose WATCHed keys were modified.
    pub watch_dirty: HashSet<ClientId>,
    /// `notify-keyspace-events` as class bits (0 = off).
    pub notify_flags: u32,
    /// True when the active expiry cycle is on (DEBUG SET-ACTIVE-EXPIRE).
    pub active_expire: bool,
    /// Set by SHUTDOWN; the run loop ends.
    pub shutdown_requested: bool,
    /// When the last top-level command ended ([`unix_us`]; read by `call`
    /// for the command's duration anyway).
    pub(crate) last_call_end_us: u64,
    /// Set to request a process exit code when the loop ends.
    pub exit_code: i32,
    /// Nesting depth of dispatch (1 = a client's command; >1 inside
    /// EXEC or a script).
    pub depth: u32,
    /// Random source for RANDOMKEY, SPOP and friends.
    pub rng: rand::rngs::SmallRng,
    /// Pub/Sub subscriptions.
    pub pubsub: cmd::pubsub::PubSub,
    /// The EVAL engine (taken out while a script runs, so a script cannot
    /// re-enter it).
    pub scripts: Option<Box<lunakv_scripting::ScriptEngine>>,
    /// Set by a handler whose error reply repeats an error already counted
    /// in errorstats (a script failing on a command's error).
    pub error_already_counted: bool,
    /// Redis 7 Functions (FUNCTION / FCALL), with their own Lua VM.
    pub functions: Option<Box<lunakv_scripting::functions::FunctionsEngine>>,
    /// The client scripts run their commands as, kept between scripts.
    pub script_client: Option<Box<Client>>,
    /// `slowlog-log-slower-than` in µs (negative: off), cached.
    pub slowlog_threshold_us: i64,
    /// `latency-monitor-threshold` in ms (0: off), cached.
    pub latency_threshold_ms: i64,
    /// Clients waiting in blocking commands.
    pub blocking: blocking::Blocking,
    /// While a parked command is re-run: its original deadline, so that
    /// blocking again keeps it.
    pub reblock_deadline: Option<u64>,
    /// maxmemory: cached settings, the eviction pool, the OOM state.
    pub evict: evict::Evict,
    /// Command propagation, replicas, backlog and MONITOR.
    pub repl: repl::Repl,
    /// RDB save state (BGSAVE child, INFO persistence figures).
    pub persist: rdb::Persist,
    /// Serving clients while a script is busy.
    pub busy: busy::BusyState,
    /// The sockets, while [`Engine::run`] serves them (taken out while a
    /// connection's input is parsed or its output written).
    pub net: Option<Box<net::Net>>,
    /// Client-side caching (CLIENT TRACKING).
    pub tracking: tracking::Tracking,
    /// CLIENT PAUSE state and the postponed clients.
    pub pause: pause::Pause,
}

impl Engine {
    /// Builds an engine with the given configuration.
    pub fn new(config: Config, shared: Arc<Shared>) -> Engine {
        use rand::SeedableRng;
        let n = config.get_i64("databases").max(1) as usize;
        let mut cmds = cmd::all();
        repl::register(&mut cmds);
        let table: &'static CommandTable = Box::leak(Box::new(CommandTable::build(cmds)));
        let now = unix_ms();
        let mut e = Engine {
            dbs: (0..n).map(|_| Db::new()).collect(),
            clients: HashMap::default(),
            table,
            shared,
            stats: Stats::default(),
            cmdstats: vec![CmdStat::default(); table.count],
            errorstats: HashMap::new(),
            dirty: 0,
            now_ms: now,
            start_time: Instant::now(),
            start_unix_ms: now,
            lastsave_unix: now / 1000,
            watched_keys: HashMap::new(),
            watch_dirty: HashSet::new(),
            notify_flags: 0,
            active_expire: true,
            shutdown_requested: false,
            last_call_end_us: 0,
            exit_code: 0,
            depth: 0,
            rng: rand::rngs::SmallRng::from_os_rng(),
            pubsub: Default::default(),
            scripts: None,
            error_already_counted: false,
            functions: None,
            script_client: None,
            slowlog_threshold_us: 10_000,
            latency_threshold_ms: 0,
            blocking: Default::default(),
            reblock_deadline: None,
            evict: evict::Evict::default(),
            repl: repl::Repl::default(),
            persist: rdb::Persist::default(),
            busy: Default::default(),
            net: None,
            tracking: Default::default(),
            pause: Default::default(),
            config,
        };
        e.repl.init(table);
        e.config_changed();
        match lunakv_scripting::ScriptEngine::new() {
            Ok(s) => e.scripts = Some(Box::new(s)),
            Err(err) => log::warning(&format!("Lua scripting is unavailable: {err:?}")),
        }
        e
    }

    /// Re-derives cached values after the configuration changed.
    pub fn config_changed(&mut self) {
        self.shared.refresh(&self.config);
        log::set_level(self.config.get("loglevel").unwrap_or("notice"));
        self.slowlog_threshold_us = self.config.get_i64("slowlog-log-slower-than");
        self.latency_threshold_ms = self.config.get_i64("latency-monitor-threshold");
        self.notify_flags =
            cmd::parse_notify_flags(self.config.get("notify-keyspace-events").unwrap_or(""))
                .unwrap_or(0);
        let track_new = self.notify_flags & ctx::notify::NEW != 0
            && self.notify_flags & (ctx::notify::KEYSPACE | ctx::notify::KEYEVENT) != 0;
        for d in &mut self.dbs {
            d.track_new = track_new;
            if !track_new {
                d.new_keys.clear();
            }
        }
        evict::config_changed(self);
        self.repl.min_replicas = self.config.get_i64("min-replicas-to-write");
    }

    /// Handles one message from a network task.
    pub fn handle(&mut self, m: Msg) {
        match m {
            Msg::Connect {
                id,
                addr,
                laddr,
                fd,
                out,
            } => {
                let mut c = Client::new(id, unix_ms());
                c.addr = addr;
                c.laddr = laddr;
                c.fd = fd;
                c.out = Some(out);
                c.authenticated = !self.shared.auth_required.load(Ordering::Relaxed);
                self.stats.total_connections += 1;
                self.clients.insert(id, Box::new(c));
            }
            Msg::Batch { id, batch } => {
                let cmds = std::sync::Arc::try_unwrap(batch)
                    .map(|b| b.cmds)
                    .unwrap_or_else(|b| b.cmds.clone());
                self.run_batch(id, cmds);
            }
            Msg::Disconnect { id } => {
                if let Some(mut c) = self.clients.remove(&id) {
                    self.free_client(&mut c);
                }
            }
            Msg::Call(f) => {
                f(self);
                self.handle_ready_keys(None);
            }
        }
    }

    /// Runs requests parsed from one read of client `id`, in order, and
    /// queues the replies (ending the batch unless the client blocks).
    pub fn run_batch(&mut self, id: ClientId, cmds: Vec<lunakv_protocol::Request>) {
        self.run_batch_until(id, cmds, None);
    }

    /// [`Engine::run_batch`] that stops once a command ends at or after
    /// `deadline` ([`unix_us`]) and returns the requests it did not run
    /// (empty when it ran them all, or parked them for a blocked client).
    pub(crate) fn run_batch_until(
        &mut self,
        id: ClientId,
        cmds: Vec<lunakv_protocol::Request>,
        deadline: Option<u64>,
    ) -> Vec<lunakv_protocol::Request> {
        let Some(mut c) = self.clients.remove(&id) else {
            return Vec::new();
        };
        let mut cut = false;
        let mut rest = cmds.into_iter();
        for args in rest.by_ref() {
            let reply = self.execute(&mut c, &args, Caller::Client);
            if c.blocked.is_some() {
                break;
            }
            self.write_reply(&mut c, &reply);
            if !self.blocking.ready.is_empty() {
                self.handle_ready_keys(Some(&mut c));
            }
            if c.close_after_reply || self.shutdown_requested {
                break;
            }
            // A batch that turns out slower than its size predicted (at
            // ten million keys, a table being resized makes a SET take
            // 5-15 us; a slow script takes what it takes) stops at its
            // deadline, and the rest runs on a later turn. The time is
            // the end of the last command, which `call` reads anyway.
            if let Some(d) = deadline {
                if self.last_call_end_us >= d {
                    cut = true;
                    break;
                }
            }
        }
        let mut left = Vec::new();
        if c.blocked.is_some() {
            c.pending.extend(rest);
        } else if cut {
            left.extend(rest);
        }
        self.run_pending(c);
        left
    }

    /// Forgets everything a departing client left behind (WATCHes, ...).
    pub fn free_client(&mut self, c: &mut Client) {
        self.forget_blocked(c);
        self.unwatch_all(c);
        tracking::disable(self, c.id);
        cmd::on_client_freed(self, c);
        repl::on_client_freed(self, c.id);
    }

    /// Drops every WATCH of a client.
    pub fn unwatch_all(&mut self, c: &mut Client) {
        for (db, key) in c.watched.drain(..) {
            if let Some(v) = self.watched_keys.get_mut(&(db, key.clone())) {
                v.retain(|&(id, _)| id != c.id);
                if v.is_empty() {
                    self.watched_keys.remove(&(db, key));
                }
            }
        }
        self.watch_dirty.remove(&c.id);
    }

    /// Encodes a reply into the client's output, honouring CLIENT REPLY.
    pub fn write_reply(&mut self, c: &mut Client, r: &Reply) {
        match c.reply_mode {
            ReplyMode::On => lunakv_protocol::encode(r, c.resp, &mut c.outbuf),
            ReplyMode::Off => {}
            ReplyMode::Skip => c.reply_mode = ReplyMode::SkipThis,
            ReplyMode::SkipThis => c.reply_mode = ReplyMode::On,
        }
        if self.tracking.current == Some(c.id) {
            tracking::flush_to(self, c);
            self.tracking.current = None;
        }
    }

    /// Records an error reply in INFO errorstats.
    pub fn count_error(&mut self, r: &Reply) {
        if let Some(code) = r.error_code() {
            self.stats.total_error_replies += 1;
            let code = String::from_utf8_lossy(code).into_owned();
            *self.errorstats.entry(code).or_insert(0) += 1;
        }
    }

    /// Resolves `args` to a command or subcommand declaration.
    pub fn lookup(&self, args: &[Bytes]) -> Result<&'static Cmd, Reply> {
        let table = self.table;
        let Some(name) = args.first() else {
            return Err(errors::unknown_command(args));
        };
        if let Some(c) = lookup_cache::get(table, name) {
            return Ok(c);
        }
        let Some(c) = table.get(name) else {
            return Err(errors::unknown_command(args));
        };
        if !c.has_subs() {
            lookup_cache::put(table, name, c);
        }
        if c.has_subs() {
            if args.len() < 2 {
                return Err(errors::wrong_args(&c.full_name));
            }
            return match c.find_sub(&args[1]) {
                Some(s) => Ok(s),
                None => Err(errors::unknown_subcommand(name, &args[1])),
            };
        }
        Ok(c)
    }

    /// The one dispatch path: lookup, arity, the caller's gates (AUTH,
    /// MULTI queueing, pub/sub mode, script rules), then the handler, with
    /// statistics. Every command from every caller runs through here.
    pub fn execute(&mut self, c: &mut Client, args: &[Bytes], caller: Caller) -> Reply {
        let cmd = match self.lookup(args) {
            Ok(cmd) => cmd,
            Err(e) => {
                if caller == Caller::Client && self.depth == 0 {
                    // Redis's lastcmd is the lookup's NULL.
                    c.last_cmd = "NULL";
                }
                if let Some(m) = c.multi.as_mut() {
                    m.dirty = true;
                }
                let e = if caller == Caller::Script {
                    Reply::err_static("ERR Unknown Redis command called from script")
                } else {
                    e
                };
                self.count_error(&e);
                return e;
            }
        };
        self.execute_cmd(c, cmd, args, caller)
    }

    /// [`Engine::execute`] after the lookup, for a command already resolved
    /// with [`Engine::lookup`] (a script's `redis.call` resolves it once for
    /// its own gates, then comes here).
    pub fn execute_cmd(
        &mut self,
        c: &mut Client,
        cmd: &'static Cmd,
        args: &[Bytes],
        caller: Caller,
    ) -> Reply {
        // CLIENT LIST's `cmd`: set before the command runs, as Redis's
        // processCommand sets `lastcmd` (so a blocked command, a queued
        // one in MULTI or one refused for its arity shows too).
        if caller == Caller::Client && self.depth == 0 {
            c.last_cmd = &cmd.full_name;
        }
        if !cmd.arity_ok(args.len()) {
            if let Some(m) = c.multi.as_mut() {
                m.dirty = true;
            }
            self.cmdstats[cmd.id].rejected += 1;
            let e = if caller == Caller::Script {
                Reply::err_static("ERR Wrong number of args calling Redis command from script")
            } else {
                errors::wrong_args(&cmd.full_name)
            };
            self.count_error(&e);
            return e;
        }
        if caller == Caller::Client && self.depth == 0 && self.tracking.active() {
            tracking::begin(self, c);
            tracking::limit_used_slots(self);
            tracking::flush_to(self, c);
        }
        if caller == Caller::Client {
            if !c.authenticated && !cmd.is(flags::NO_AUTH) {
                let e = Reply::err_static("NOAUTH Authentication required.");
                self.cmdstats[cmd.id].rejected += 1;
                self.count_error(&e);
                return e;
            }
            if self.repl.min_replicas > 0 {
                if let Some(e) = repl::min_replicas_gate(self, c, cmd) {
                    self.cmdstats[cmd.id].rejected += 1;
                    self.count_error(&e);
                    return e;
                }
            }
            if self.evict.maxmemory > 0 {
                if let Some(e) = evict::gate(self, c, cmd, args) {
                    self.cmdstats[cmd.id].rejected += 1;
                    self.count_error(&e);
                    return e;
                }
            } else {
                self.evict.pre_command_oom = false;
            }
            if c.resp == 2 && c.subscriptions > 0 && !cmd::allowed_in_pubsub_context(cmd) {
                let e = Reply::err(format!(
                    "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                    cmd.full_name
                ));
                self.cmdstats[cmd.id].rejected += 1;
                self.count_error(&e);
                return e;
            }
            if self.pause.kind != pause::Kind::Off
                && self.reblock_deadline.is_none()
                && pause::must_postpone(self, c, cmd, args)
            {
                return pause::postpone(self, c, args);
            }
            if c.multi.is_some() && !cmd::runs_inside_multi(cmd) {
                if let Some(e) = cmd::queue_check(self, cmd, args) {
                    if let Some(m) = c.multi.as_mut() {
                        m.dirty = true;
                    }
                    self.cmdstats[cmd.id].rejected += 1;
                    self.count_error(&e);
                    return e;
                }
                if let Some(m) = c.multi.as_mut() {
                    m.queue.push(args.to_vec());
                }
                return Reply::status("QUEUED");
            }
        } else if caller == Caller::Script
            && cmd.is(flags::NOSCRIPT)
            && !cmd::server::DISABLE_DENY_SCRIPTS.load(std::sync::atomic::Ordering::Relaxed)
        {
            self.cmdstats[cmd.id].rejected += 1;
            let e = Reply::err_static("ERR This Redis command is not allowed from script");
            self.count_error(&e);
            return e;
        }
        self.call(c, cmd, args, caller)
    }

    /// Runs a resolved command's handler, timing it for INFO commandstats.
    pub fn call(
        &mut self,
        c: &mut Client,
        cmd: &'static Cmd,
        args: &[Bytes],
        caller: Caller,
    ) -> Reply {
        // One clock read gives the command's start for its duration and,
        // for a top-level command, the time it sees (Redis's `call()`:
        // `updateCachedTimeWithUs` with the same `ustime()`); commands run
        // from a script or MULTI keep their caller's frozen time.
        let start = unix_us();
        if self.depth == 0 {
            self.now_ms = start / 1000;
        }
        let prop = if self.repl.active {
            Some(repl::before_call(self))
        } else {
            None
        };
        let track = self.tracking.active();
        if track {
            if self.depth == 0 {
                self.tracking.in_cmd = true;
                tracking::flush_to(self, c);
            }
            if caller != Caller::Script {
                self.tracking.outer = Some((cmd, args.to_vec()));
            }
        }
        self.depth += 1;
        let reply = {
            let mut ctx = Ctx {
                eng: self,
                client: c,
                caller,
            };
            (cmd.handler)(&mut ctx, args)
        };
        self.depth -= 1;
        if track {
            self.tracking_after_call(c, cmd, args, caller);
        }
        if let Some(mark) = prop {
            repl::after_call(self, mark, c, cmd, args, caller);
        }
        if !self.repl.monitors.is_empty() && repl::monitored(cmd) {
            repl::feed_monitors(self, c, cmd, args, caller);
        }
        let end = unix_us();
        if self.depth == 0 {
            self.last_call_end_us = end;
        }
        let us = end.saturating_sub(start);
        let st = &mut self.cmdstats[cmd.id];
        st.usec += us;
        if c.blocked.is_some() {
            // Counted once, when it is finally served or times out.
            return reply;
        }
        st.calls += 1;
        self.stats.total_commands += 1;
        if caller != Caller::Script {
            if self.slowlog_threshold_us >= 0
                && us as i64 >= self.slowlog_threshold_us
                && !cmd.is(flags::SKIP_SLOWLOG)
            {
                cmd::server::slowlog_push_if_needed(self, c, args, us);
            }
            if self.latency_threshold_ms > 0 && (us / 1000) as i64 >= self.latency_threshold_ms {
                cmd::server::latency_add_sample_if_needed(self, "command", us / 1000);
            }
        }
        if reply.is_error() {
            self.cmdstats[cmd.id].failed += 1;
            if self.error_already_counted {
                self.error_already_counted = false;
            } else {
                self.count_error(&reply);
            }
        }
        c.last_interaction_ms = self.now_ms;
        reply
    }

    /// Tracking work after a command: remembers the keys a read-only
    /// command read, and once the top-level command is done, sends the
    /// invalidations it caused (after its reply).
    fn tracking_after_call(
        &mut self,
        c: &mut Client,
        cmd: &'static Cmd,
        args: &[Bytes],
        caller: Caller,
    ) {
        if cmd.is(flags::READONLY)
            && !matches!(
                cmd.full_name.as_str(),
                "eval_ro" | "evalsha_ro" | "fcall_ro"
            )
        {
            tracking::remember_keys(self, c, cmd, args, caller == Caller::Script);
        }
        if self.depth == 0 {
            self.process_expired_logs();
            self.tracking.in_cmd = false;
            if self.tracking.current == Some(c.id) {
                tracking::handle_pending(self);
                if c.blocked.is_some() {
                    tracking::flush_to(self, c);
                }
            }
            if c.multi.is_none() && !cmd.full_name.starts_with("client|") {
                if let Some(st) = self.tracking.clients.get_mut(&c.id) {
                    st.caching = false;
                }
            }
        }
    }

    /// Invalidates the WATCHes on a key (Redis's `signalModifiedKey`).
    pub fn signal_modified(&mut self, db: usize, key: &[u8]) {
        if !self.tracking.table.is_empty() || !self.tracking.prefixes.is_empty() {
            let by = if self.tracking.expiring {
                None
            } else {
                self.tracking.current
            };
            tracking::invalidate_key(self, key, true, by);
        }
        if self.watched_keys.is_empty() {
            return;
        }
        let Some(ids) = self
            .watched_keys
            .get_mut(&(db, Bytes::copy_from_slice(key)))
        else {
            return;
        };
        let exists = self
            .dbs
            .get(db)
            .is_some_and(|d| d.dict.entry(key).is_some());
        for (id, expired_at_watch) in ids.iter_mut() {
            if *expired_at_watch {
                if !exists {
                    // The stale key was deleted: logically no change.
                    *expired_at_watch = false;
                    continue;
                }
                *expired_at_watch = false;
            }
            self.watch_dirty.insert(*id);
        }
    }

    /// Invalidates the WATCHes on the keys of a database that is about to
    /// be emptied or replaced (FLUSHDB, FLUSHALL with `None`, SWAPDB): only
    /// keys that exist count, and stale keys already expired at WATCH time
    /// do not (Redis's `touchAllWatchedKeysInDb`). Call it before the change.
    pub fn signal_flushed(&mut self, db: Option<usize>) {
        if self.tracking.active() || !self.tracking.table.is_empty() {
            tracking::invalidate_all(self);
        }
        for ((d, key), ids) in &self.watched_keys {
            if db.is_some() && db != Some(*d) {
                continue;
            }
            let exists = self
                .dbs
                .get(*d)
                .is_some_and(|x| x.dict.entry(key).is_some());
            if !exists {
                continue;
            }
            for (id, expired_at_watch) in ids {
                if !*expired_at_watch {
                    self.watch_dirty.insert(*id);
                }
            }
        }
    }

    /// Publishes the `new` events of keys created in database `db` since
    /// the last call (before the creating command's own event, as Redis's
    /// dbAdd does).
    pub fn notify_new_keys(&mut self, db: usize) {
        let Some(d) = self.dbs.get_mut(db) else {
            return;
        };
        if d.new_keys.is_empty() {
            return;
        }
        let keys = std::mem::take(&mut d.new_keys);
        for k in keys {
            self.notify_keyspace_event(ctx::notify::NEW, "new", &k, db);
        }
    }

    /// Publishes a keyspace event if `notify-keyspace-events` selects it.
    pub fn notify_keyspace_event(&mut self, class: u32, event: &str, key: &[u8], db: usize) {
        if self.notify_flags & class == 0 {
            return;
        }
        cmd::publish_keyspace_event(self, class, event, key, db);
    }

    /// Periodic work: active expiry, incremental rehashing, expired-key
    /// bookkeeping.
    pub fn cron(&mut self) {
        self.now_ms = unix_ms();
        let now = self.now_ms;
        if self.active_expire && !pause::paused(self) {
            // A slice of at most ~1 ms per database set, as Redis's
            // "slow" expire cycle does (25% of a 10 Hz tick at most).
            let cycle_start = Instant::now();
            let deadline = cycle_start + Duration::from_millis(2);
            for db in &mut self.dbs {
                if db.expires == 0 {
                    continue;
                }
                loop {
                    let n = db.active_expire(now, 20);
                    if db.expire_cursor == 0 || Instant::now() >= deadline {
                        break;
                    }
                    let _ = n;
                }
            }
            if self.latency_threshold_ms > 0 {
                let ms = cycle_start.elapsed().as_millis() as u64;
                cmd::server::latency_add_sample_if_needed(self, "expire-cycle", ms);
            }
            repl::propagate_active_expired(self);
            self.process_expired_logs();
        }
        repl::cron(self);
        if self.tracking.active() {
            tracking::limit_used_slots(self);
            tracking::before_sleep(self);
        }
        pause::cron(self);
        for db in &mut self.dbs {
            db.dict.shrink_if_needed();
            if db.dict.is_rehashing() {
                // Half of Redis's 1 ms per cron tick: a client waiting
                // behind it waits less (operations on the table rehash
                // too, a bucket each).
                db.dict.rehash_for(CRON_REHASH_US);
            }
        }
        evict::cron(self);
        cmd::cron(self);
        rdb::cron(self);
    }

    /// Turns keys deleted by expiry into WATCH invalidations and `expired`
    /// keyspace events.
    pub fn process_expired_logs(&mut self) {
        if self.dbs.iter().all(|d| d.expired_log.is_empty()) {
            return;
        }
        for i in 0..self.dbs.len() {
            if self.dbs[i].expired_log.is_empty() {
                continue;
            }
            let keys = std::mem::take(&mut self.dbs[i].expired_log);
            let was = std::mem::replace(&mut self.tracking.expiring, true);
            for k in keys {
                self.signal_modified(i, &k);
                self.notify_keyspace_event(ctx::notify::EXPIRED, "expired", &k, i);
            }
            self.tracking.expiring = was;
        }
    }

    /// Sum of expired keys over all databases (INFO `expired_keys`).
    pub fn expired_keys(&self) -> u64 {
        self.dbs.iter().map(|d| d.stat_expired).sum()
    }
}

/// A small direct-mapped cache of command lookups by exact name bytes, in
/// front of [`CommandTable::get`] (which lowercases and hashes the name):
/// scripts and clients repeat the same few names. Only commands without
/// subcommands are cached; tables are never freed (`Box::leak`), so a
/// table's address identifies it for good.
mod lookup_cache {
    use std::cell::Cell;

    use crate::command::{Cmd, CommandTable};

    /// Longest cached name.
    const NAME: usize = 23;
    const SLOTS: usize = 16;

    #[derive(Clone, Copy)]
    struct Slot {
        table: usize,
        len: u8,
        name: [u8; NAME],
        cmd: Option<&'static Cmd>,
    }

    const EMPTY: Slot = Slot {
        table: 0,
        len: 0,
        name: [0; NAME],
        cmd: None,
    };

    thread_local! {
        static CACHE: [Cell<Slot>; SLOTS] = const { [const { Cell::new(EMPTY) }; SLOTS] };
    }

    fn slot_of(name: &[u8]) -> usize {
        let first = name.first().copied().unwrap_or(0) as usize;
        let last = name.last().copied().unwrap_or(0) as usize;
        (name.len() * 7 + first * 3 + last) % SLOTS
    }

    /// The cached command named exactly `name` in `table`.
    pub(crate) fn get(table: &'static CommandTable, name: &[u8]) -> Option<&'static Cmd> {
        if name.len() > NAME {
            return None;
        }
        let i = slot_of(name);
        let s = CACHE.with(|c| c[i].get());
        (s.table == table as *const CommandTable as usize
            && s.len as usize == name.len()
            && s.name[..name.len()] == *name)
            .then_some(s.cmd)
            .flatten()
    }

    /// Remembers that `name` resolves to `cmd` in `table`.
    pub(crate) fn put(table: &'static CommandTable, name: &[u8], cmd: &'static Cmd) {
        if name.len() > NAME {
            return;
        }
        let mut slot = Slot {
            table: table as *const CommandTable as usize,
            len: name.len() as u8,
            name: [0; NAME],
            cmd: Some(cmd),
        };
        slot.name[..name.len()].copy_from_slice(name);
        let i = slot_of(name);
        CACHE.with(|c| c[i].set(slot));
    }
}
