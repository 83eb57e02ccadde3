//! Per-connection state kept by the engine, and the messages exchanged with
//! the network tasks.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use lunakv_protocol::Request;

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

/// A connection's outbound queue: what the engine has produced for it and
/// the event loop has not yet written. Held by the client and by whoever
/// else writes to the connection (replicas, MONITOR). The event loop runs
/// on the engine thread, so the queue only records the connection as
/// having output ([`OutHub`]); the loop writes it out after the current
/// event.
pub type OutTx = Arc<OutQueue>;

/// The connections that have queued output since the event loop last
/// looked (Redis's `clients_pending_write`).
#[derive(Default)]
pub struct OutHub {
    dirty: Mutex<Vec<ClientId>>,
}

impl OutHub {
    /// Takes the list of connections with queued output into `into`.
    pub fn take_dirty(&self, into: &mut Vec<ClientId>) {
        let mut d = lock(&self.dirty);
        into.append(&mut d);
    }
}

#[derive(Default)]
struct OutState {
    msgs: VecDeque<Out>,
    /// Listed in the hub's dirty list and not yet drained.
    listed: bool,
    /// The connection is gone: messages are dropped.
    closed: bool,
}

/// See [`OutTx`].
pub struct OutQueue {
    id: ClientId,
    /// Something is queued (read without the lock by the event loop).
    nonempty: std::sync::atomic::AtomicBool,
    state: Mutex<OutState>,
    hub: Option<Arc<OutHub>>,
}

impl std::fmt::Debug for OutQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OutQueue({})", self.id)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; go on.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl OutQueue {
    /// A queue for connection `id` that reports to `hub`.
    pub fn new(id: ClientId, hub: Arc<OutHub>) -> OutTx {
        Arc::new(OutQueue {
            id,
            nonempty: Default::default(),
            state: Mutex::new(OutState::default()),
            hub: Some(hub),
        })
    }

    /// A queue read by hand with [`OutQueue::try_recv`] (tests).
    pub fn detached(id: ClientId) -> OutTx {
        Arc::new(OutQueue {
            id,
            nonempty: Default::default(),
            state: Mutex::new(OutState::default()),
            hub: None,
        })
    }

    /// Queues a message; `Err` gives it back when the connection is gone.
    pub fn send(&self, m: Out) -> Result<(), Out> {
        let mut st = lock(&self.state);
        if st.closed {
            return Err(m);
        }
        st.msgs.push_back(m);
        self.nonempty
            .store(true, std::sync::atomic::Ordering::Release);
        if !st.listed {
            st.listed = true;
            drop(st);
            if let Some(h) = &self.hub {
                lock(&h.dirty).push(self.id);
            }
        }
        Ok(())
    }

    /// The oldest queued message (`Err` when there is none).
    #[allow(clippy::result_unit_err)]
    pub fn try_recv(&self) -> Result<Out, ()> {
        let mut st = lock(&self.state);
        match st.msgs.pop_front() {
            Some(m) => Ok(m),
            None => {
                self.nonempty
                    .store(false, std::sync::atomic::Ordering::Release);
                st.listed = false;
                Err(())
            }
        }
    }

    /// Moves every queued message into `into` (the event loop).
    pub fn drain_into(&self, into: &mut VecDeque<Out>) {
        if !self.nonempty.load(std::sync::atomic::Ordering::Acquire) {
            return;
        }
        let mut st = lock(&self.state);
        self.nonempty
            .store(false, std::sync::atomic::Ordering::Release);
        st.listed = false;
        into.append(&mut st.msgs);
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        !self.nonempty.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Marks the connection gone; later messages are dropped.
    pub fn close(&self) {
        let mut st = lock(&self.state);
        st.closed = true;
        st.msgs.clear();
        self.nonempty
            .store(false, std::sync::atomic::Ordering::Release);
    }

    /// True once the connection is gone.
    pub fn is_closed(&self) -> bool {
        lock(&self.state).closed
    }
}

/// Commands parsed from one read, to run in order (tests hand them to
/// [`crate::Engine::handle`]; the event loop calls `run_batch` directly).
#[derive(Debug)]
pub struct Batch {
    pub cmds: Vec<Request>,
}

impl Batch {
    pub fn new(cmds: Vec<Request>) -> Batch {
        Batch { cmds }
    }
}

/// Messages to the engine thread (from other threads, and from tests).
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
