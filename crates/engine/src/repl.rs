//! Command propagation (the stream that feeds replicas and the AOF) and the
//! master side of replication (SYNC / PSYNC).
//!
//! Every top-level command execution collects what it propagates, as
//! Redis 7.0's `call()` / `alsoPropagate()` / `propagatePendingCommands()`
//! do: by default the command's own argv when it changed the dataset
//! (`Engine::dirty` grew), or what the handler asked for through the
//! [`Ctx`] API ([`Ctx::rewrite_propagation`], [`Ctx::also_propagate`],
//! [`Ctx::no_propagate`], [`Ctx::force_propagate`]). Keys deleted by
//! expiry are propagated as `DEL` (`UNLINK` with `lazyfree-lazy-expire`).
//! When the top-level command ends, the collected operations are written
//! to the replication stream, wrapped in MULTI/EXEC when there are several
//! (scripts, transactions), with a SELECT whenever the database changes.
//!
//! Nothing is collected while nobody consumes the stream ([`Repl::active`]
//! is false: no replica and no backlog): the cost on the command path is
//! one boolean test.
//!
//! The master side: SYNC and PSYNC answer with an RDB snapshot and turn the
//! connection into a replica that receives the stream; REPLCONF, the
//! backlog (`repl-backlog-size`), `master_repl_offset`, INFO replication,
//! ROLE, WAIT, the periodic PING (`repl-ping-replica-period`) and MONITOR.

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::client::{Caller, Client, ClientId, Out, OutTx};
use crate::command::{flags, Cmd};
use crate::ctx::{eq_ic, Ctx};
use crate::Engine;

/// Propagate to the AOF.
pub const TARGET_AOF: u8 = 1;
/// Propagate to replicas.
pub const TARGET_REPL: u8 = 2;
/// Propagate everywhere (the default).
pub const TARGET_ALL: u8 = TARGET_AOF | TARGET_REPL;

/// One command to propagate, in the database it ran in.
#[derive(Debug, Clone)]
pub struct Op {
    pub db: usize,
    pub argv: Vec<Bytes>,
    pub target: u8,
}

/// What the running command asked for about its own propagation.
#[derive(Debug, Default)]
pub struct Frame {
    /// Propagate this instead of the command's argv.
    pub rewrite: Option<Vec<Bytes>>,
    /// Do not propagate the command itself (`also_propagate`d operations
    /// still are).
    pub prevent: bool,
    /// Propagate the command even if it changed nothing.
    pub force: bool,
}

/// An extra consumer of the propagated stream (the AOF writer, later).
pub type Sink = Box<dyn FnMut(&[u8]) + Send>;

/// A connected replica (a connection that sent SYNC or PSYNC).
#[derive(Debug)]
pub struct Replica {
    pub id: ClientId,
    pub out: OutTx,
    /// The peer's IP address.
    pub ip: String,
    /// Port announced with `REPLCONF listening-port`.
    pub listening_port: u16,
    /// Offset acknowledged with `REPLCONF ACK`.
    pub ack_offset: u64,
    /// When the last ACK arrived (Unix ms).
    pub ack_time_ms: u64,
}

/// The replication backlog: the last `repl-backlog-size` bytes of the
/// stream, for partial resynchronization.
#[derive(Debug, Default)]
pub struct Backlog {
    pub buf: VecDeque<u8>,
    pub size: usize,
    /// Stream offset of the first byte held.
    pub first_byte_offset: u64,
}

/// Propagation and replication state, owned by the engine.
pub struct Repl {
    /// True when the stream has consumers (replicas or a backlog): only
    /// then is anything collected.
    pub active: bool,
    /// The running command's requests (saved and restored around nested
    /// calls).
    pub frame: Frame,
    /// Operations collected during the current top-level command.
    pub pending: Vec<Op>,
    /// Never wrap in MULTI/EXEC (active expiry).
    pub no_multi: bool,
    /// Targets of commands run by the running script (`redis.set_repl`).
    pub script_target: u8,
    pub replicas: Vec<Replica>,
    /// Clients in MONITOR mode.
    pub monitors: Vec<(ClientId, OutTx)>,
    /// Database selected in the replication stream (None: unknown, the
    /// next operation starts with SELECT).
    pub seldb: Option<usize>,
    /// The same for the sink (the AOF has its own selected database).
    pub aof_seldb: Option<usize>,
    /// `master_repl_offset`: bytes written to the stream so far.
    pub offset: u64,
    pub backlog: Option<Backlog>,
    /// Ports announced with REPLCONF before SYNC.
    pub announced_ports: HashMap<ClientId, u16>,
    /// Per client: the stream offset after its last propagated write
    /// (what WAIT waits for).
    pub woff: HashMap<ClientId, u64>,
    /// When the replicas were last pinged (Unix ms).
    pub last_ping_ms: u64,
    /// When the last replica left (Unix ms; backlog TTL).
    pub no_replicas_since_ms: u64,
    /// `min-replicas-to-write` (cached; 0 = off).
    pub min_replicas: i64,
    /// Optional extra consumer of the stream (the AOF, later).
    pub sink: Option<Sink>,
    ids: SpecialIds,
}

/// Command ids with special propagation rules, resolved once.
#[derive(Debug, Clone, Copy)]
struct SpecialIds {
    exec: usize,
    publish: usize,
    scan: usize,
    randomkey: usize,
    restore: usize,
}

impl Default for Repl {
    fn default() -> Self {
        Repl {
            active: false,
            frame: Frame::default(),
            pending: Vec::new(),
            no_multi: false,
            script_target: TARGET_ALL,
            replicas: Vec::new(),
            monitors: Vec::new(),
            seldb: None,
            aof_seldb: None,
            offset: 0,
            backlog: None,
            announced_ports: HashMap::new(),
            woff: HashMap::new(),
            last_ping_ms: 0,
            no_replicas_since_ms: 0,
            min_replicas: 0,
            sink: None,
            ids: SpecialIds {
                exec: usize::MAX,
                publish: usize::MAX,
                scan: usize::MAX,
                randomkey: usize::MAX,
                restore: usize::MAX,
            },
        }
    }
}

impl Repl {
    /// Resolves the ids of the commands with special rules.
    pub fn init(&mut self, table: &crate::command::CommandTable) {
        let id = |n: &str| table.get(n.as_bytes()).map(|c| c.id).unwrap_or(usize::MAX);
        self.ids = SpecialIds {
            exec: id("exec"),
            publish: id("publish"),
            scan: id("scan"),
            randomkey: id("randomkey"),
            restore: id("restore"),
        };
    }

    fn refresh_active(&mut self) {
        self.active = !self.replicas.is_empty() || self.backlog.is_some() || self.sink.is_some();
    }

    /// Installs (or removes) an extra consumer of the propagated stream,
    /// e.g. the AOF writer. It receives the RESP bytes of the operations
    /// targeted at the AOF (`redis.set_repl` may exclude some), with its own
    /// SELECTs; the first write after installing starts with a SELECT.
    pub fn set_sink(&mut self, sink: Option<Sink>) {
        self.sink = sink;
        self.aof_seldb = None;
        self.refresh_active();
    }
}

// ------------------------------------------------------- the handler API

impl<'a> Ctx<'a> {
    /// True when the propagated stream has consumers. Handlers may test it
    /// before building a rewritten argv; the other calls are no-ops
    /// otherwise.
    pub fn propagating(&self) -> bool {
        self.eng.repl.active
    }

    /// Propagates `argv` instead of this command's own argv (Redis's
    /// `rewriteClientCommandVector`). The rewritten form is propagated if
    /// the command changed the dataset (or [`Ctx::force_propagate`]).
    pub fn rewrite_propagation(&mut self, argv: Vec<Bytes>) {
        if self.eng.repl.active {
            self.eng.repl.frame.rewrite = Some(argv);
        }
    }

    /// Propagates `argv` (in the current database) in addition to, and
    /// before, the command itself (Redis's `alsoPropagate`).
    pub fn also_propagate(&mut self, argv: Vec<Bytes>) {
        if self.eng.repl.active {
            let db = self.client.db;
            collect_expired(self.eng);
            let target = self.target();
            self.eng.repl.pending.push(Op { db, argv, target });
        }
    }

    /// Does not propagate this command itself (Redis's
    /// `preventCommandPropagation`); operations added with
    /// [`Ctx::also_propagate`] still are.
    pub fn no_propagate(&mut self) {
        self.eng.repl.frame.prevent = true;
    }

    /// Propagates this command even if the dataset did not change
    /// (Redis's `forceCommandPropagation`: FLUSHALL on an empty server).
    pub fn force_propagate(&mut self) {
        self.eng.repl.frame.force = true;
    }

    fn target(&self) -> u8 {
        if self.caller == Caller::Script {
            self.eng.repl.script_target
        } else {
            TARGET_ALL
        }
    }
}

/// Installs (or removes) the stream's sink (see [`Repl::set_sink`]) and
/// starts collecting expired keys at once.
pub fn install_sink(eng: &mut Engine, sink: Option<Sink>) {
    eng.repl.set_sink(sink);
    for db in &mut eng.dbs {
        db.prop_expired = eng.repl.active;
    }
}

/// Argument helper: a static word as `Bytes`.
pub fn word(s: &'static str) -> Bytes {
    Bytes::from_static(s.as_bytes())
}

/// Argument helper: an integer as `Bytes`.
pub fn int(n: i64) -> Bytes {
    Bytes::from(n.to_string())
}

// ------------------------------------------------- the dispatcher's side

/// State saved by [`before_call`], handed back to [`after_call`].
pub struct CallMark {
    frame: Frame,
    dirty: u64,
}

/// Called by `Engine::call` before a handler runs, only when
/// [`Repl::active`].
pub fn before_call(eng: &mut Engine) -> CallMark {
    CallMark {
        frame: std::mem::take(&mut eng.repl.frame),
        dirty: eng.dirty,
    }
}

/// Called by `Engine::call` after a handler ran, only when
/// [`Repl::active`] was true before it: queues the command's propagated
/// form and, at the top level, writes what the command propagated.
pub fn after_call(
    eng: &mut Engine,
    mark: CallMark,
    c: &mut Client,
    cmd: &'static Cmd,
    args: &[Bytes],
    caller: Caller,
) {
    let frame = std::mem::replace(&mut eng.repl.frame, mark.frame);
    collect_expired(eng);
    if c.blocked.is_none() && cmd.id != eng.repl.ids.exec && !frame.prevent {
        let dirty = eng.dirty > mark.dirty;
        let force = frame.force || cmd.id == eng.repl.ids.publish;
        if dirty || force {
            let target = if caller == Caller::Script {
                eng.repl.script_target
            } else {
                TARGET_ALL
            };
            let argv = match frame.rewrite {
                Some(a) => a,
                None if cmd.id == eng.repl.ids.restore => restore_argv(eng.now_ms, args),
                None => args.to_vec(),
            };
            eng.repl.pending.push(Op {
                db: c.db,
                argv,
                target,
            });
        }
    }
    if eng.depth == 0 && !eng.repl.pending.is_empty() {
        let arbitrary = cmd.id == eng.repl.ids.scan || cmd.id == eng.repl.ids.randomkey;
        flush_pending(eng, arbitrary);
        if caller == Caller::Client {
            let off = eng.repl.offset;
            eng.repl.woff.insert(c.id, off);
        }
    }
}

/// RESTORE with a relative TTL is propagated with the absolute time and
/// ABSTTL; one whose time has passed (the key was not kept) as DEL.
fn restore_argv(now: u64, args: &[Bytes]) -> Vec<Bytes> {
    let ttl = args
        .get(2)
        .and_then(|a| lunakv_protocol::parse_i64(a))
        .unwrap_or(0);
    if ttl <= 0 {
        return args.to_vec();
    }
    let abs = args.iter().skip(4).any(|a| eq_ic(a, "absttl"));
    let at = if abs {
        ttl
    } else {
        ttl.saturating_add(now as i64)
    };
    if at <= now as i64 {
        return vec![word("DEL"), args[1].clone()];
    }
    let mut v = args.to_vec();
    if !abs {
        v[2] = int(at);
        v.push(word("ABSTTL"));
    }
    v
}

/// Queues DELs for keys deleted by expiry since the last look.
pub fn collect_expired(eng: &mut Engine) {
    let lazy = eng.config.get_bool("lazyfree-lazy-expire");
    for i in 0..eng.dbs.len() {
        let db = &mut eng.dbs[i];
        db.prop_expired = true;
        if db.expired_prop.is_empty() {
            continue;
        }
        let keys = std::mem::take(&mut db.expired_prop);
        for k in keys {
            let name = if lazy { word("UNLINK") } else { word("DEL") };
            eng.repl.pending.push(Op {
                db: i,
                argv: vec![name, Bytes::from(Vec::from(k))],
                target: TARGET_ALL,
            });
        }
    }
}

/// Propagates the keys reclaimed by the active expiry cycle, one DEL each
/// (never wrapped in MULTI/EXEC).
pub fn propagate_active_expired(eng: &mut Engine) {
    if !eng.repl.active {
        return;
    }
    collect_expired(eng);
    flush_pending(eng, true);
}

fn encode_cmd(out: &mut Vec<u8>, argv: &[Bytes]) {
    out.push(b'*');
    out.extend_from_slice(argv.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in argv {
        out.push(b'$');
        out.extend_from_slice(a.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

fn emit(sel: &mut Option<usize>, out: &mut Vec<u8>, db: usize, argv: &[Bytes]) {
    if *sel != Some(db) {
        encode_cmd(out, &[word("SELECT"), int(db as i64)]);
        *sel = Some(db);
    }
    encode_cmd(out, argv);
}

/// Encodes the operations meant for `target`, in a MULTI/EXEC when
/// `transaction`, tracking the database selected in that stream.
fn encode_ops(ops: &[Op], target: u8, transaction: bool, sel: &mut Option<usize>) -> Vec<u8> {
    let mut out = Vec::new();
    if transaction {
        emit(sel, &mut out, ops[0].db, &[word("MULTI")]);
    }
    for op in ops {
        if op.target & target != 0 {
            emit(sel, &mut out, op.db, &op.argv);
        }
    }
    if transaction {
        let last = ops.last().map(|o| o.db).unwrap_or(0);
        emit(sel, &mut out, last, &[word("EXEC")]);
    }
    out
}

/// Writes the collected operations to the replication stream (when there
/// are replicas or a backlog) and to the sink (the AOF), in a MULTI/EXEC
/// when there are several (unless `no_multi`).
pub fn flush_pending(eng: &mut Engine, no_multi: bool) {
    if eng.repl.pending.is_empty() {
        return;
    }
    let ops = std::mem::take(&mut eng.repl.pending);
    let transaction = ops.len() > 1 && !no_multi && !eng.repl.no_multi;
    let r = &mut eng.repl;
    if let Some(sink) = r.sink.as_mut() {
        let out = encode_ops(&ops, TARGET_AOF, transaction, &mut r.aof_seldb);
        if !out.is_empty() {
            sink(&out);
        }
    }
    if r.backlog.is_some() || !r.replicas.is_empty() {
        let out = encode_ops(&ops, TARGET_REPL, transaction, &mut r.seldb);
        feed(eng, out);
    }
}

/// Appends raw replication stream bytes: counts them in the offset, keeps
/// them in the backlog and sends them to every replica.
pub fn feed(eng: &mut Engine, data: Vec<u8>) {
    if data.is_empty() {
        return;
    }
    let r = &mut eng.repl;
    r.offset += data.len() as u64;
    if let Some(b) = r.backlog.as_mut() {
        b.buf.extend(data.iter().copied());
        if b.buf.len() > b.size {
            let drop = b.buf.len() - b.size;
            b.buf.drain(..drop);
            b.first_byte_offset += drop as u64;
        }
    }
    match r.replicas.len() {
        0 => {}
        1 => {
            let _ = r.replicas[0].out.send(Out::Data(data));
        }
        _ => {
            for rep in &r.replicas {
                let _ = rep.out.send(Out::Data(data.clone()));
            }
        }
    }
}

// ------------------------------------------------------------- MONITOR

/// Quotes an argument as Redis's `sdscatrepr`.
fn repr(out: &mut String, s: &[u8]) {
    out.push('"');
    for &b in s {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
}

/// Arguments MONITOR must not show (passwords), as Redis redacts them.
fn redacted(cmd: &Cmd, args: &[Bytes], i: usize) -> bool {
    match cmd.full_name.as_str() {
        "auth" => i >= 1,
        "hello" => args
            .iter()
            .enumerate()
            .skip(2)
            .any(|(j, a)| eq_ic(a, "auth") && (i == j + 1 || i == j + 2)),
        "migrate" => args.iter().enumerate().skip(6).any(|(j, a)| {
            (eq_ic(a, "auth") && i == j + 1) || (eq_ic(a, "auth2") && (i == j + 1 || i == j + 2))
        }),
        _ => false,
    }
}

/// Sends a command to the clients in MONITOR mode, formatted as Redis
/// does: `+<sec>.<usec> [<db> <addr>] "arg" ...`.
pub fn feed_monitors(eng: &mut Engine, c: &Client, cmd: &Cmd, args: &[Bytes], caller: Caller) {
    if eng.repl.monitors.is_empty() {
        return;
    }
    let us = crate::unix_us();
    let mut line = format!("+{}.{:06} ", us / 1_000_000, us % 1_000_000);
    if caller == Caller::Script {
        line.push_str(&format!("[{} lua] ", c.db));
    } else {
        line.push_str(&format!("[{} {}] ", c.db, c.addr));
    }
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        if redacted(cmd, args, i) {
            line.push_str("\"(redacted)\"");
        } else {
            repr(&mut line, a);
        }
    }
    line.push_str("\r\n");
    eng.repl.monitors.retain(|(_, out)| !out.is_closed());
    for (id, out) in &eng.repl.monitors {
        if *id != c.id {
            let _ = out.send(Out::Data(line.clone().into_bytes()));
        }
    }
}

/// Feeds a command to monitors from its handler (EVAL and FCALL show
/// themselves before the commands their script runs).
pub fn monitor_self(ctx: &mut Ctx<'_>, args: &[Bytes]) {
    if ctx.eng.repl.monitors.is_empty() {
        return;
    }
    if let Ok(cmd) = ctx.eng.lookup(args) {
        let caller = ctx.caller;
        feed_monitors(ctx.eng, ctx.client, cmd, args, caller);
    }
}

// -------------------------------------------------------------- engine

/// Forgets a departing client (replica, monitor, WAIT state).
pub fn on_client_freed(eng: &mut Engine, id: ClientId) {
    let r = &mut eng.repl;
    r.announced_ports.remove(&id);
    r.woff.remove(&id);
    r.monitors.retain(|(m, _)| *m != id);
    if let Some(i) = r.replicas.iter().position(|x| x.id == id) {
        let gone = r.replicas.remove(i);
        crate::log::log(
            crate::log::NOTICE,
            &format!(
                "Connection with replica {}:{} lost.",
                gone.ip, gone.listening_port
            ),
        );
        if r.replicas.is_empty() {
            r.no_replicas_since_ms = crate::unix_ms();
        }
    }
}

/// Periodic work: PING replicas every `repl-ping-replica-period` seconds,
/// free the backlog after `repl-backlog-ttl` seconds without replicas.
pub fn cron(eng: &mut Engine) {
    if !eng.repl.active {
        return;
    }
    let now = crate::unix_ms();
    eng.repl.replicas.retain(|r| !r.out.is_closed());
    if !eng.repl.replicas.is_empty() {
        let period = eng.config.get_i64("repl-ping-replica-period").max(1) as u64 * 1000;
        if now.saturating_sub(eng.repl.last_ping_ms) >= period {
            eng.repl.last_ping_ms = now;
            let mut out = Vec::new();
            encode_cmd(&mut out, &[word("PING")]);
            feed(eng, out);
        }
    } else if eng.repl.backlog.is_some() {
        let ttl = eng.config.get_i64("repl-backlog-ttl").max(0) as u64 * 1000;
        if ttl > 0 && now.saturating_sub(eng.repl.no_replicas_since_ms) >= ttl {
            eng.repl.backlog = None;
            eng.repl.refresh_active();
        }
    }
}

/// An empty RDB file (version 10): what a replica loads until the RDB
/// module can serialize the dataset.
pub fn empty_rdb() -> Vec<u8> {
    let mut v = b"REDIS0010".to_vec();
    let aux = |v: &mut Vec<u8>, k: &str, val: &str| {
        v.push(0xfa);
        v.push(k.len() as u8);
        v.extend_from_slice(k.as_bytes());
        v.push(val.len() as u8);
        v.extend_from_slice(val.as_bytes());
    };
    aux(&mut v, "redis-ver", crate::REDIS_VERSION);
    aux(&mut v, "redis-bits", "64");
    v.push(0xff);
    let crc = lunakv_scripting::functions::crc64(0, &v);
    v.extend_from_slice(&crc.to_le_bytes());
    v
}

/// The snapshot sent on a full resynchronization: the dataset in RDB
/// format (an empty RDB if serialization failed).
fn snapshot(eng: &Engine) -> Vec<u8> {
    let v = crate::rdb::dump_to_vec(eng);
    if v.is_empty() {
        empty_rdb()
    } else {
        v
    }
}

// ------------------------------------------------------------ commands

/// Registers SYNC, PSYNC, REPLCONF, WAIT, MONITOR, REPLICAOF and SLAVEOF.
pub fn register(v: &mut Vec<Cmd>) {
    let g = "server";
    v.push(
        Cmd::new(
            "sync",
            1,
            "no_async_loading admin no_multi noscript",
            (0, 0, 0),
            g,
            "Internal command used for replication",
            sync,
        )
        .since("1.0.0")
        .acl("admin slow dangerous"),
    );
    v.push(
        Cmd::new(
            "psync",
            -3,
            "no_async_loading admin no_multi noscript",
            (0, 0, 0),
            g,
            "Internal command used for replication",
            psync,
        )
        .syntax("replicationid offset")
        .since("2.8.0")
        .acl("admin slow dangerous"),
    );
    v.push(
        Cmd::new(
            "replconf",
            -1,
            "admin noscript loading stale allow_busy",
            (0, 0, 0),
            g,
            "An internal command for configuring the replication stream",
            replconf,
        )
        .since("3.0.0")
        .complexity("O(1)")
        .acl("admin slow dangerous"),
    );
    v.push(
        Cmd::new(
            "wait",
            3,
            "noscript",
            (0, 0, 0),
            "generic",
            "Wait for the synchronous replication of all the write commands sent in the context of the current connection",
            wait,
        )
        .syntax("numreplicas timeout")
        .since("3.0.0")
        .complexity("O(1)")
        .acl("connection slow"),
    );
    v.push(
        Cmd::new(
            "monitor",
            1,
            "admin noscript loading stale",
            (0, 0, 0),
            g,
            "Listen for all requests received by the server in real time",
            monitor,
        )
        .since("1.0.0")
        .acl("admin slow dangerous"),
    );
    for (name, since) in [("replicaof", "5.0.0"), ("slaveof", "1.0.0")] {
        v.push(
            Cmd::new(
                name,
                3,
                "no_async_loading admin noscript stale",
                (0, 0, 0),
                g,
                "Make the server a replica of another instance, or promote it as master.",
                replicaof,
            )
            .syntax("host port")
            .since(since)
            .complexity("O(1)")
            .acl("admin slow dangerous"),
        );
    }
}

fn peer_ip(addr: &str) -> String {
    match addr.rfind(':') {
        Some(i) => addr[..i].to_string(),
        None => addr.to_string(),
    }
}

/// Turns the calling connection into a replica after a full sync.
fn attach_replica(ctx: &mut Ctx<'_>, preamble: &[u8]) -> Reply {
    let Some(out) = ctx.client.out.clone() else {
        return Reply::err_static("ERR replication needs a network connection");
    };
    let id = ctx.client.id;
    let eng = &mut *ctx.eng;
    if eng.repl.backlog.is_none() {
        let size = eng.config.get_i64("repl-backlog-size").max(16 * 1024) as usize;
        eng.repl.backlog = Some(Backlog {
            buf: VecDeque::new(),
            size,
            first_byte_offset: eng.repl.offset + 1,
        });
    }
    let rdb = snapshot(eng);
    let mut payload = preamble.to_vec();
    payload.extend_from_slice(format!("${}\r\n", rdb.len()).as_bytes());
    payload.extend_from_slice(&rdb);
    // Replies already queued for this connection go first.
    ctx.client.flush();
    let _ = out.send(Out::Data(payload));
    let port = eng.repl.announced_ports.remove(&id).unwrap_or(0);
    eng.repl.replicas.retain(|r| r.id != id);
    eng.repl.replicas.push(Replica {
        id,
        out,
        ip: peer_ip(&ctx.client.addr),
        listening_port: port,
        ack_offset: 0,
        ack_time_ms: crate::unix_ms(),
    });
    // The replica's dataset starts without a selected database.
    eng.repl.seldb = None;
    eng.repl.last_ping_ms = crate::unix_ms();
    eng.repl.refresh_active();
    for db in &mut eng.dbs {
        db.prop_expired = true;
    }
    if !ctx.client.flags_str.contains('S') {
        ctx.client.flags_str.push('S');
    }
    crate::log::log(
        crate::log::NOTICE,
        &format!("Synchronization with replica {} succeeded", ctx.client.addr),
    );
    Reply::Raw(Bytes::new())
}

fn is_replica(ctx: &Ctx<'_>) -> bool {
    let id = ctx.client.id;
    ctx.eng.repl.replicas.iter().any(|r| r.id == id)
}

fn sync(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    if is_replica(ctx) {
        return Reply::Raw(Bytes::new());
    }
    crate::log::log(
        crate::log::NOTICE,
        &format!("Replica {} asks for synchronization", ctx.client.addr),
    );
    attach_replica(ctx, b"")
}

fn psync(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if is_replica(ctx) {
        return Reply::Raw(Bytes::new());
    }
    let replid = crate::cmd::server::master_replid();
    // Partial resynchronization from the backlog when possible.
    if args[1].as_ref() == replid.as_bytes() {
        if let (Some(off), Some(b)) = (lunakv_protocol::parse_i64(&args[2]), &ctx.eng.repl.backlog)
        {
            let off = off.max(0) as u64;
            let end = ctx.eng.repl.offset;
            if off >= b.first_byte_offset && off <= end + 1 {
                let skip = (off - b.first_byte_offset) as usize;
                let mut data = format!("+CONTINUE {replid}\r\n").into_bytes();
                data.extend(b.buf.iter().skip(skip).copied());
                let Some(out) = ctx.client.out.clone() else {
                    return Reply::err_static("ERR replication needs a network connection");
                };
                ctx.client.flush();
                let _ = out.send(Out::Data(data));
                let id = ctx.client.id;
                let port = ctx.eng.repl.announced_ports.remove(&id).unwrap_or(0);
                ctx.eng.repl.replicas.push(Replica {
                    id,
                    out,
                    ip: peer_ip(&ctx.client.addr),
                    listening_port: port,
                    ack_offset: 0,
                    ack_time_ms: crate::unix_ms(),
                });
                ctx.eng.repl.refresh_active();
                return Reply::Raw(Bytes::new());
            }
        }
    }
    let pre = format!("+FULLRESYNC {} {}\r\n", replid, ctx.eng.repl.offset);
    attach_replica(ctx, pre.as_bytes())
}

fn replconf(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if args.len().is_multiple_of(2) {
        return crate::errors::syntax();
    }
    let id = ctx.client.id;
    let mut i = 1;
    while i + 1 < args.len() {
        let (k, v) = (&args[i], &args[i + 1]);
        if eq_ic(k, "listening-port") {
            let Some(p) = lunakv_protocol::parse_i64(v).filter(|p| (0..=65535).contains(p)) else {
                return Reply::err_static("ERR value is not an integer or out of range");
            };
            if let Some(r) = ctx.eng.repl.replicas.iter_mut().find(|r| r.id == id) {
                r.listening_port = p as u16;
            } else {
                ctx.eng.repl.announced_ports.insert(id, p as u16);
            }
        } else if eq_ic(k, "ack") {
            // An ACK gets no reply.
            if let Some(off) = lunakv_protocol::parse_i64(v) {
                let now = crate::unix_ms();
                if let Some(r) = ctx.eng.repl.replicas.iter_mut().find(|r| r.id == id) {
                    if off as u64 > r.ack_offset {
                        r.ack_offset = off as u64;
                    }
                    r.ack_time_ms = now;
                }
                wake_waiters(ctx.eng);
            }
            return Reply::Raw(Bytes::new());
        } else if eq_ic(k, "getack") {
            // Only meaningful on a replica.
            return Reply::Raw(Bytes::new());
        } else if eq_ic(k, "capa")
            || eq_ic(k, "ip-address")
            || eq_ic(k, "rdb-only")
            || eq_ic(k, "rdb-filter-only")
        {
        } else {
            return Reply::err(format!(
                "ERR Unrecognized REPLCONF option: {}",
                String::from_utf8_lossy(k)
            ));
        }
        i += 2;
    }
    Reply::ok()
}

/// The key WAIT clients park on (not a valid user key in practice).
const WAIT_KEY: &[u8] = b"\x00lunakv-wait";

fn acked(eng: &Engine, off: u64) -> i64 {
    eng.repl
        .replicas
        .iter()
        .filter(|r| r.ack_offset >= off)
        .count() as i64
}

/// Re-runs the WAIT commands of blocked clients after an ACK, and keeps
/// their timeout replies up to date.
fn wake_waiters(eng: &mut Engine) {
    let key = (0usize, Bytes::from_static(WAIT_KEY));
    let Some(q) = eng.blocking.by_key.get(&key) else {
        return;
    };
    let ids: Vec<ClientId> = q.iter().copied().collect();
    for id in ids {
        let off = eng.repl.woff.get(&id).copied().unwrap_or(0);
        let n = acked(eng, off);
        if let Some(c) = eng.clients.get_mut(&id) {
            if let Some(b) = c.blocked.as_mut() {
                b.timeout_reply = Reply::Int(n);
            }
        }
    }
    eng.signal_ready_in(0, WAIT_KEY);
}

fn wait(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let Some(n) = lunakv_protocol::parse_i64(&args[1]) else {
        return crate::errors::not_int();
    };
    let timeout = match lunakv_protocol::parse_i64(&args[2]) {
        Some(t) if t < 0 => return Reply::err_static("ERR timeout is negative"),
        Some(t) => t as u64,
        None => {
            return Reply::err_static("ERR timeout is not an integer or out of range");
        }
    };
    let off = ctx.eng.repl.woff.get(&ctx.client.id).copied().unwrap_or(0);
    let got = acked(ctx.eng, off);
    if got >= n || !ctx.can_block() {
        return Reply::Int(got);
    }
    let first = ctx.eng.reblock_deadline.is_none();
    if first {
        // Ask the replicas for an acknowledgement now.
        let mut out = Vec::new();
        encode_cmd(&mut out, &[word("REPLCONF"), word("GETACK"), word("*")]);
        feed(ctx.eng, out);
    }
    let db = ctx.client.db;
    ctx.client.db = 0;
    let r = ctx.block(
        &[Bytes::from_static(WAIT_KEY)],
        timeout,
        args,
        Reply::Int(got),
    );
    ctx.client.db = db;
    if let Some(b) = ctx.client.blocked.as_mut() {
        b.db = 0;
    }
    r
}

fn monitor(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    if is_replica(ctx) {
        return Reply::Raw(Bytes::new());
    }
    let id = ctx.client.id;
    if ctx.eng.repl.monitors.iter().any(|(m, _)| *m == id) {
        return Reply::Raw(Bytes::new());
    }
    let Some(out) = ctx.client.out.clone() else {
        return Reply::err_static("ERR MONITOR needs a network connection");
    };
    ctx.eng.repl.monitors.push((id, out));
    if !ctx.client.flags_str.contains('O') {
        ctx.client.flags_str.push('O');
    }
    Reply::ok()
}

fn replicaof(_ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if eq_ic(&args[1], "no") && eq_ic(&args[2], "one") {
        return Reply::ok();
    }
    if lunakv_protocol::parse_i64(&args[2]).is_none_or(|p| !(0..=65535).contains(&p)) {
        return Reply::err_static("ERR Invalid master port");
    }
    Reply::err_static("ERR REPLICAOF is not supported: lunakv can only be a master")
}

// ---------------------------------------------------------- INFO / ROLE

/// The lines of INFO's `# Replication` section.
pub fn info_section(eng: &Engine, o: &mut String) {
    use std::fmt::Write;
    let r = &eng.repl;
    let now = crate::unix_ms();
    o.push_str("# Replication\r\n");
    o.push_str("role:master\r\n");
    let _ = write!(o, "connected_slaves:{}\r\n", r.replicas.len());
    for (i, s) in r.replicas.iter().enumerate() {
        let _ = write!(
            o,
            "slave{}:ip={},port={},state=online,offset={},lag={}\r\n",
            i,
            s.ip,
            s.listening_port,
            s.ack_offset,
            now.saturating_sub(s.ack_time_ms) / 1000
        );
    }
    o.push_str("master_failover_state:no-failover\r\n");
    let _ = write!(
        o,
        "master_replid:{}\r\n",
        crate::cmd::server::master_replid()
    );
    o.push_str("master_replid2:0000000000000000000000000000000000000000\r\n");
    let _ = write!(o, "master_repl_offset:{}\r\n", r.offset);
    o.push_str("second_repl_offset:-1\r\n");
    let (active, first, hist) = match &r.backlog {
        Some(b) => (1, b.first_byte_offset, b.buf.len()),
        None => (0, 0, 0),
    };
    let _ = write!(o, "repl_backlog_active:{active}\r\n");
    let _ = write!(
        o,
        "repl_backlog_size:{}\r\n",
        eng.config.get_i64("repl-backlog-size")
    );
    let _ = write!(o, "repl_backlog_first_byte_offset:{first}\r\n");
    let _ = write!(o, "repl_backlog_histlen:{hist}\r\n");
}

/// ROLE's reply: `master`, the offset, and each replica's ip, port and
/// acknowledged offset.
pub fn role_reply(eng: &Engine) -> Reply {
    let reps = eng
        .repl
        .replicas
        .iter()
        .map(|r| {
            Reply::Array(vec![
                Reply::Bulk(Bytes::from(r.ip.clone())),
                Reply::Bulk(Bytes::from(r.listening_port.to_string())),
                Reply::Bulk(Bytes::from(r.ack_offset.to_string())),
            ])
        })
        .collect();
    Reply::Array(vec![
        Reply::bulk(b"master"),
        Reply::Int(eng.repl.offset as i64),
        Reply::Array(reps),
    ])
}

/// Used by `Engine::call`: true if the command is shown by MONITOR.
pub fn monitored(cmd: &Cmd) -> bool {
    !cmd.is(flags::SKIP_MONITOR | flags::ADMIN)
}

/// The number of replicas that acknowledged within
/// `min-replicas-max-lag` seconds.
pub fn good_replicas(eng: &Engine) -> i64 {
    let max_lag = eng.config.get_i64("min-replicas-max-lag").max(0) as u64;
    let now = crate::unix_ms();
    eng.repl
        .replicas
        .iter()
        .filter(|r| now.saturating_sub(r.ack_time_ms) / 1000 <= max_lag)
        .count() as i64
}

/// Redis's `checkGoodReplicasStatus`: false when `min-replicas-to-write`
/// is set and fewer good replicas are connected.
pub fn enough_good_replicas(eng: &Engine) -> bool {
    eng.repl.min_replicas <= 0 || good_replicas(eng) >= eng.repl.min_replicas
}

/// Redis's `min-replicas-to-write` check in `processCommand`: refuses
/// write commands (and EXEC of a transaction with writes, which is then
/// discarded) while too few good replicas are connected.
pub fn min_replicas_gate(eng: &mut Engine, c: &mut Client, cmd: &Cmd) -> Option<Reply> {
    let is_exec = cmd.id == eng.repl.ids.exec;
    let writes = if is_exec {
        c.multi.as_ref().is_some_and(|m| {
            m.queue
                .iter()
                .any(|a| eng.lookup(a).is_ok_and(|q| q.is(flags::WRITE)))
        })
    } else {
        cmd.is(flags::WRITE)
    };
    if !writes || good_replicas(eng) >= eng.repl.min_replicas {
        return None;
    }
    const MSG: &str = "NOREPLICAS Not enough good replicas to write.";
    if is_exec {
        c.multi = None;
        eng.unwatch_all(c);
        return Some(Reply::err(format!(
            "EXECABORT Transaction discarded because of: {MSG}"
        )));
    }
    if let Some(m) = c.multi.as_mut() {
        m.dirty = true;
    }
    Some(Reply::err_static(MSG))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::OutQueue;
    use crate::testkit::TestEngine;

    /// Attaches the test client as a replica (as SYNC does) and returns its
    /// stream, with the RDB payload already consumed.
    fn attach(t: &mut TestEngine) -> OutTx {
        let rx = OutQueue::detached(t.client.id);
        t.client.out = Some(rx.clone());
        t.client.addr = "127.0.0.1:5555".into();
        let r = t.cmd(&["SYNC"]);
        assert_eq!(r, Reply::Raw(Bytes::new()));
        let Ok(Out::Data(d)) = rx.try_recv() else {
            panic!("no payload");
        };
        let s = String::from_utf8_lossy(&d).into_owned();
        assert!(s.starts_with('$') && s.contains("\r\nREDIS00"), "{s}");
        // Commands now come from another client.
        t.client = Client::new(2, crate::unix_ms());
        rx
    }

    /// Everything propagated so far, as inline text: one command a line,
    /// arguments separated by spaces.
    fn stream(rx: &OutTx) -> Vec<String> {
        let mut buf = Vec::new();
        while let Ok(Out::Data(d)) = rx.try_recv() {
            buf.extend_from_slice(&d);
        }
        let mut out = Vec::new();
        let mut p = lunakv_protocol::Parser::new();
        let mut b = bytes::BytesMut::from(&buf[..]);
        while let Ok(Some(r)) = p.next(&mut b, &Default::default()) {
            out.push(
                r.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
        out
    }

    #[test]
    fn nothing_is_collected_without_consumers() {
        let mut t = TestEngine::new();
        assert!(!t.eng.repl.active);
        t.cmd(&["SET", "k", "v"]);
        assert!(t.eng.repl.pending.is_empty());
        assert_eq!(t.eng.repl.offset, 0);
    }

    #[test]
    fn writes_are_propagated_with_select() {
        let mut t = TestEngine::new();
        let rx = attach(&mut t);
        t.cmd(&["SET", "foo", "bar"]);
        t.cmd(&["GET", "foo"]);
        t.cmd(&["DEL", "nokey"]);
        t.cmd(&["SELECT", "3"]);
        t.cmd(&["INCR", "n"]);
        assert_eq!(
            stream(&rx),
            ["SELECT 0", "SET foo bar", "SELECT 3", "INCR n"]
        );
        assert!(t.eng.repl.offset > 0);
        assert!(t
            .raw(&["INFO", "replication"])
            .contains("connected_slaves:1"));
    }

    #[test]
    fn multi_exec_wraps_several_writes_only() {
        let mut t = TestEngine::new();
        let rx = attach(&mut t);
        t.cmd(&["MULTI"]);
        t.cmd(&["SET", "a", "1"]);
        t.cmd(&["EXEC"]);
        t.cmd(&["MULTI"]);
        t.cmd(&["SET", "a", "1"]);
        t.cmd(&["GET", "a"]);
        t.cmd(&["SELECT", "1"]);
        t.cmd(&["SET", "b", "2"]);
        t.cmd(&["EXEC"]);
        t.cmd(&["MULTI"]);
        t.cmd(&["GET", "a"]);
        t.cmd(&["EXEC"]);
        assert_eq!(
            stream(&rx),
            ["SELECT 0", "SET a 1", "MULTI", "SET a 1", "SELECT 1", "SET b 2", "EXEC"]
        );
    }

    #[test]
    fn lazy_expiry_is_propagated_as_del() {
        let mut t = TestEngine::new();
        t.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
        t.cmd(&["SET", "k", "v", "PX", "1"]);
        let rx = attach(&mut t);
        std::thread::sleep(std::time::Duration::from_millis(5));
        t.cmd(&["GET", "k"]);
        assert_eq!(stream(&rx), ["SELECT 0", "DEL k"]);
    }

    #[test]
    fn rewritten_commands() {
        let mut t = TestEngine::new();
        let rx = attach(&mut t);
        t.cmd(&["SET", "a", "1", "EX", "100"]);
        t.cmd(&["EXPIRE", "a", "200", "GT"]);
        t.cmd(&["GETEX", "a", "PERSIST"]);
        t.cmd(&["GETDEL", "a"]);
        t.cmd(&["INCRBYFLOAT", "f", "1.5"]);
        t.cmd(&["HINCRBYFLOAT", "h", "x", "2"]);
        t.cmd(&["SET", "g", "v", "GET"]);
        t.cmd(&["RPUSH", "l", "a", "b"]);
        t.cmd(&["BLPOP", "l", "0"]);
        t.cmd(&["LMPOP", "1", "l", "RIGHT", "COUNT", "5"]);
        t.cmd(&["ZADD", "z", "1", "a"]);
        t.cmd(&["BZPOPMIN", "z", "0"]);
        t.cmd(&["SADD", "s", "m"]);
        t.cmd(&["SPOP", "s"]);
        t.cmd(&[
            "EVAL",
            "redis.call('set', 'x', '1'); redis.call('get', 'x')",
            "0",
        ]);
        t.cmd(&["FLUSHALL"]);
        let st = stream(&rx);
        let pxat = |s: &str, pre: &str| s.starts_with(pre) && s.len() > pre.len() + 10;
        assert!(pxat(&st[1], "SET a 1 PXAT "), "{st:?}");
        assert!(
            pxat(&st[2], "PEXPIREAT a ") && st[2].ends_with(" GT"),
            "{st:?}"
        );
        assert_eq!(
            &st[3..],
            [
                "PERSIST a",
                "DEL a",
                "SET f 1.5 KEEPTTL",
                "HSET h x 2",
                "SET g v",
                "RPUSH l a b",
                "LPOP l",
                "RPOP l 1",
                "ZADD z 1 a",
                "ZPOPMIN z",
                "SADD s m",
                "SREM s m",
                "set x 1",
                "FLUSHALL"
            ]
        );
    }

    #[test]
    fn script_set_repl_none_is_not_propagated() {
        let mut t = TestEngine::new();
        let rx = attach(&mut t);
        t.cmd(&[
            "EVAL",
            "redis.call('set','a','1'); redis.set_repl(redis.REPL_NONE); redis.call('set','b','2'); redis.set_repl(redis.REPL_ALL); redis.call('set','c','3')",
            "0",
        ]);
        assert_eq!(
            stream(&rx),
            ["SELECT 0", "MULTI", "set a 1", "set c 3", "EXEC"]
        );
    }

    #[test]
    fn the_sink_gets_what_targets_the_aof() {
        use std::sync::{Arc, Mutex};
        let mut t = TestEngine::new();
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        install_sink(
            &mut t.eng,
            Some(Box::new(move |d: &[u8]| {
                g.lock().unwrap().extend_from_slice(d)
            })),
        );
        t.cmd(&["SET", "a", "1"]);
        t.cmd(&[
            "EVAL",
            "redis.set_repl(redis.REPL_REPLICA); redis.call('set','r','1'); redis.set_repl(redis.REPL_AOF); redis.call('set','f','1')",
            "0",
        ]);
        let text = String::from_utf8(got.lock().unwrap().clone()).unwrap();
        let words: Vec<&str> = text
            .split("\r\n")
            .filter(|l| !l.is_empty() && !l.starts_with(['*', '$']))
            .collect();
        assert_eq!(
            words,
            ["SELECT", "0", "SET", "a", "1", "MULTI", "set", "f", "1", "EXEC"]
        );
        // No replica and no backlog: the replication offset does not move.
        assert_eq!(t.eng.repl.offset, 0);
    }

    #[test]
    fn psync_and_role() {
        let mut t = TestEngine::new();
        let rx = OutQueue::detached(t.client.id);
        t.client.out = Some(rx.clone());
        t.client.addr = "10.0.0.1:4444".into();
        assert_eq!(t.raw(&["REPLCONF", "listening-port", "6380"]), "+OK\r\n");
        assert_eq!(
            t.raw(&["REPLCONF", "capa", "eof", "capa", "psync2"]),
            "+OK\r\n"
        );
        t.cmd(&["PSYNC", "?", "-1"]);
        let Ok(Out::Data(d)) = rx.try_recv() else {
            panic!("no payload");
        };
        let s = String::from_utf8_lossy(&d).into_owned();
        assert!(s.starts_with("+FULLRESYNC "), "{s}");
        assert!(s.contains("\r\n$"));
        let role = t.raw(&["ROLE"]);
        assert!(role.contains("10.0.0.1") && role.contains("6380"), "{role}");
        assert_eq!(t.raw(&["REPLCONF", "ACK", "0"]), "");
        assert!(t
            .raw(&["INFO", "replication"])
            .contains("slave0:ip=10.0.0.1,port=6380,state=online"));
    }

    #[test]
    fn monitor_lines_are_quoted_like_redis() {
        let mut s = String::new();
        repr(&mut s, b"a\"b\\c\n\x01");
        assert_eq!(s, "\"a\\\"b\\\\c\\n\\x01\"");
    }

    #[test]
    fn replicaof_is_refused_except_no_one() {
        let mut t = TestEngine::new();
        assert_eq!(t.raw(&["REPLICAOF", "no", "one"]), "+OK\r\n");
        assert!(t
            .raw(&["REPLICAOF", "127.0.0.1", "6379"])
            .starts_with("-ERR"));
        assert_eq!(t.raw(&["WAIT", "0", "0"]), ":0\r\n");
    }

    #[test]
    fn empty_rdb_has_a_valid_checksum() {
        let r = empty_rdb();
        assert!(r.starts_with(b"REDIS0010"));
        let (body, crc) = r.split_at(r.len() - 8);
        assert_eq!(
            lunakv_scripting::functions::crc64(0, body).to_le_bytes(),
            crc
        );
    }
}
