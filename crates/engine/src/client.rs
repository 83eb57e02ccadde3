//! Per-connection state kept by the engine, and the messages exchanged with
//! the network tasks.

use bytes::Bytes;
use lunakv_protocol::Request;
use tokio::sync::mpsc::UnboundedSender;

/// Identifies a connection (CLIENT ID).
pub type ClientId = u64;

/// What the engine sends back to a connection's network task.
#[derive(Debug)]
pub enum Out {
    /// Encoded reply bytes to write.
    Data(Vec<u8>),
    /// The batch the task sent has been fully handled; it may send more.
    Done,
    /// Reply bytes for a whole batch, which is thereby done (`Data` + `Done`
    /// in one message: one wake-up per batch on the hot path).
    Batch(Vec<u8>),
    /// Write what was sent so far, then close the connection.
    Close,
}

/// Sender half of a connection's outbound channel.
pub type OutTx = UnboundedSender<Out>;

/// Batch states: waiting in the engine's queue, taken by the engine, or
/// cancelled by the network task (answered `-BUSY` while a script ran).
pub const BATCH_PENDING: u8 = 0;
pub const BATCH_TAKEN: u8 = 1;
pub const BATCH_CANCELLED: u8 = 2;

/// Commands parsed from one read, to run in order. The state lets a
/// network task take back a batch still queued behind a long script and
/// answer it with `-BUSY` itself, as Redis does for clients it serves while
/// a script runs; whoever wins the compare-and-swap owns the batch.
#[derive(Debug)]
pub struct Batch {
    pub state: std::sync::atomic::AtomicU8,
    pub cmds: Vec<Request>,
}

impl Batch {
    pub fn new(cmds: Vec<Request>) -> Batch {
        Batch {
            state: std::sync::atomic::AtomicU8::new(BATCH_PENDING),
            cmds,
        }
    }

    /// Claims the batch for `to` (TAKEN or CANCELLED); false if the other
    /// side already has it.
    pub fn claim(&self, to: u8) -> bool {
        use std::sync::atomic::Ordering;
        self.state
            .compare_exchange(BATCH_PENDING, to, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

/// Messages from network tasks to the engine thread.
pub enum Msg {
    /// A new connection was accepted.
    Connect {
        id: ClientId,
        addr: String,
        laddr: String,
        fd: i64,
        out: OutTx,
    },
    /// Commands parsed from one read, to run in order.
    Batch {
        id: ClientId,
        batch: std::sync::Arc<Batch>,
    },
    /// The connection is gone.
    Disconnect { id: ClientId },
    /// Run a closure on the engine thread (tests, admin).
    Call(Box<dyn FnOnce(&mut crate::Engine) + Send>),
}

/// CLIENT REPLY mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    Skip,
    /// Set while the command after CLIENT REPLY SKIP runs.
    SkipThis,
}

/// Who runs a command: decides which checks apply and the error texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// A client over the network.
    Client,
    /// `redis.call` / `redis.pcall` from a script.
    Script,
    /// A command queued in MULTI, run by EXEC.
    Exec,
}

/// The MULTI state of a client.
#[derive(Debug, Default)]
pub struct MultiState {
    pub queue: Vec<Request>,
    /// A queued command was rejected: EXEC answers EXECABORT.
    pub dirty: bool,
}

/// One connection's state.
pub struct Client {
    pub id: ClientId,
    pub db: usize,
    /// RESP version (2 or 3).
    pub resp: u8,
    pub name: Option<Bytes>,
    pub lib_name: Option<Bytes>,
    pub lib_ver: Option<Bytes>,
    pub addr: String,
    pub laddr: String,
    pub fd: i64,
    /// Creation time (Unix ms).
    pub created_ms: u64,
    /// Time of the last command (Unix ms).
    pub last_interaction_ms: u64,
    /// Full name of the last command run (CLIENT LIST `cmd=`).
    pub last_cmd: &'static str,
    pub authenticated: bool,
    pub user: String,
    pub multi: Option<MultiState>,
    /// Keys watched with WATCH: (db, key).
    pub watched: Vec<(usize, Bytes)>,
    /// A watched key was modified: EXEC must fail.
    pub watch_dirty: bool,
    pub reply_mode: ReplyMode,
    /// Replies accumulated for the current batch.
    pub outbuf: Vec<u8>,
    pub out: Option<OutTx>,
    /// Close after the current replies are written (QUIT, CLIENT KILL).
    pub close_after_reply: bool,
    /// Subscribed channels/patterns count (pub/sub mode in RESP2).
    pub subscriptions: usize,
    /// Flags shown by CLIENT LIST (`N`, `x`, `b`...).
    pub flags_str: String,
    pub no_evict: bool,
    pub no_touch: bool,
    /// Set while the client waits in a blocking command.
    pub blocked: Option<crate::blocking::Blocked>,
    /// Commands of the current batch not yet run (waiting behind a
    /// blocking command).
    pub pending: std::collections::VecDeque<Request>,
}

impl Client {
    pub fn new(id: ClientId, now_ms: u64) -> Client {
        Client {
            id,
            db: 0,
            resp: 2,
            name: None,
            lib_name: None,
            lib_ver: None,
            addr: String::new(),
            laddr: String::new(),
            fd: -1,
            created_ms: now_ms,
            last_interaction_ms: now_ms,
            last_cmd: "NULL",
            authenticated: true,
            user: "default".into(),
            multi: None,
            watched: Vec::new(),
            watch_dirty: false,
            reply_mode: ReplyMode::On,
            outbuf: Vec::new(),
            out: None,
            close_after_reply: false,
            subscriptions: 0,
            flags_str: String::new(),
            no_evict: false,
            no_touch: false,
            blocked: None,
            pending: std::collections::VecDeque::new(),
        }
    }

    /// Sends accumulated replies to the network task.
    pub fn flush(&mut self) {
        if self.outbuf.is_empty() {
            return;
        }
        let data = std::mem::take(&mut self.outbuf);
        if let Some(out) = &self.out {
            let _ = out.send(Out::Data(data));
        }
    }

    /// Sends a message to the network task.
    pub fn send(&self, m: Out) {
        if let Some(out) = &self.out {
            let _ = out.send(m);
        }
    }
}
