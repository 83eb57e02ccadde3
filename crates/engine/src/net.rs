//! The event loop: the engine thread accepts connections, reads and parses
//! requests, runs them and writes the replies itself, as Redis's `ae` loop
//! does. There is no hop to another thread on the way in or out: a request
//! costs one `epoll_wait` (shared by every ready connection), one `read`
//! and one `write`.
//!
//! Sockets are registered edge-triggered for reading and writing. A
//! readable connection is read until the kernel has nothing more or the
//! per-event budget is spent (then it is looked at again on the next turn,
//! so that one client sending megabytes cannot starve the others); its
//! complete requests then run as one batch. While a batch has not finished
//! (the client is blocked in BLPOP, XREAD BLOCK...) the connection is still
//! read, so that a disconnect is noticed, but nothing more is parsed.
//!
//! Output: the engine puts replies in the client's [`OutQueue`]; the loop
//! writes them right after the batch, and writes the output queued for
//! other connections (pub/sub messages, unblocked clients, replicas,
//! MONITOR) at the end of each turn. What the socket does not take waits
//! for the next writable event.
//!
//! While a script runs past `busy-reply-threshold`, the script's hook calls
//! [`Engine::process_events_while_busy`] (see `busy.rs`), which polls the
//! same sockets without blocking and answers the other clients.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{BufMut, BytesMut};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};

use lunakv_protocol::parse::Parser;
use lunakv_protocol::{ParseLimits, Reply, Request};

use crate::client::{ClientId, Msg, Out, OutHub, OutQueue, OutTx};
use crate::{log, Engine, Shared};

/// The token of the waker (other threads' messages).
const WAKER: Token = Token(usize::MAX);
/// Listener `i` has token `LISTENER0 + i`; client `id` has token `id`.
const LISTENER0: usize = usize::MAX - 1024;
/// Bytes read from one connection per turn before the others get theirs
/// (Redis reads 16 KB, PROTO_IOBUF_LEN, per event): a client loading
/// millions of keys through a pipe runs a few hundred commands per turn,
/// so a PING from another client waits well under a millisecond. A bulk
/// argument being received may be read whole (it runs nothing until it is
/// complete).
const READ_BUDGET: usize = 16 * 1024;
/// Most requests run as one batch.
const MAX_BATCH: usize = 4096;
/// Fewest requests a batch may be cut down to by [`BATCH_BUDGET_US`].
const MIN_BATCH: usize = 32;
/// Time a connection's batch should take, in microseconds of command
/// execution: the batch size follows the cost of recent commands so that
/// a turn stays short when commands get slow (at ten million keys a SET
/// that misses the CPU caches and TLB in a rehashing table, or faults in
/// a page of the new bucket array, takes 5-15 us: a 16 KB read of ~420
/// SETs was a 2-8 ms turn, and a PING from another client waited that
/// long). A batch slower than its size predicted stops at twice the
/// budget (`Engine::run_batch` looks at the end time of each command) and
/// its remaining requests run on the next turn.
const BATCH_BUDGET_US: u64 = 300;

/// One connection's socket and buffers.
struct Conn {
    stream: TcpStream,
    out: OutTx,
    rbuf: BytesMut,
    parser: Parser,
    /// Output not yet taken by the socket, from `wpos`.
    wbuf: Vec<u8>,
    wpos: usize,
    /// A batch was handed to the engine and has not finished.
    in_flight: bool,
    /// A protocol error ends the connection once the requests before it
    /// are answered.
    proto_err: Option<String>,
    /// Close once the output is written (QUIT, CLIENT KILL...).
    closing: bool,
    /// The last batch was cut at the batch size limit, so complete
    /// requests wait in `rbuf`: reading stops while 16 KB are buffered.
    capped: bool,
    /// A write failed: the connection is closed at the next look.
    broken: bool,
    last_active: Instant,
    /// Parsed requests of a batch stopped at its deadline: they run
    /// before anything else of this connection, on the next turn.
    deferred: std::collections::VecDeque<Request>,
}

impl Conn {
    fn push_out(&mut self, d: Vec<u8>) {
        if self.wpos >= self.wbuf.len() && self.wbuf.capacity() <= d.capacity() {
            self.wbuf = d;
            self.wpos = 0;
        } else {
            self.wbuf.extend_from_slice(&d);
        }
    }

    /// Writes what the socket takes; `Err` when the connection is dead.
    fn write_pending(&mut self, shared: &Shared) -> Result<(), ()> {
        while self.wpos < self.wbuf.len() {
            match std::io::Write::write(&mut self.stream, &self.wbuf[self.wpos..]) {
                Ok(0) => return Err(()),
                Ok(n) => {
                    self.wpos += n;
                    shared
                        .net_output_bytes
                        .fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return Err(()),
            }
        }
        self.wbuf.clear();
        self.wpos = 0;
        if self.wbuf.capacity() > 1024 * 1024 {
            self.wbuf = Vec::new();
        }
        Ok(())
    }

    /// Reads what the kernel has, up to the budget. `Ok(true)` when the
    /// budget ran out with data possibly left; `Err` when the peer is gone.
    fn read_some(&mut self, shared: &Shared, now: Instant, budget: usize) -> Result<bool, ()> {
        let mut total = 0;
        loop {
            if self.rbuf.capacity() - self.rbuf.len() < 4096 {
                self.rbuf.reserve(16 * 1024);
            }
            let n = {
                let dst = self.rbuf.chunk_mut();
                let want = dst.len();
                // SAFETY: `read` writes at most `want` bytes into the
                // buffer's spare capacity, which `chunk_mut` hands out as
                // valid for writes of that length.
                let r = unsafe {
                    libc::read(
                        std::os::fd::AsRawFd::as_raw_fd(&self.stream),
                        dst.as_mut_ptr() as *mut libc::c_void,
                        want,
                    )
                };
                if r < 0 {
                    let e = std::io::Error::last_os_error();
                    match e.kind() {
                        std::io::ErrorKind::WouldBlock => return Ok(false),
                        std::io::ErrorKind::Interrupted => continue,
                        _ => return Err(()),
                    }
                }
                if r == 0 {
                    return Err(());
                }
                let n = r as usize;
                // SAFETY: the kernel initialised `n <= want` bytes.
                unsafe { self.rbuf.advance_mut(n) };
                if n < want {
                    // The socket is drained; the next arrival is a new edge.
                    shared
                        .net_input_bytes
                        .fetch_add(n as u64, Ordering::Relaxed);
                    self.last_active = now;
                    return Ok(false);
                }
                n
            };
            total += n;
            shared
                .net_input_bytes
                .fetch_add(n as u64, Ordering::Relaxed);
            self.last_active = now;
            if total >= budget {
                return Ok(true);
            }
        }
    }
}

/// What flushing a connection found.
#[derive(PartialEq, Eq)]
enum Flushed {
    /// Still open.
    Open,
    /// Closed (by the peer, an error, or a `Close` from the engine).
    Gone,
}

/// The sockets: listeners and connections, and the poller.
pub struct Net {
    poll: Poll,
    events: Events,
    listeners: Vec<TcpListener>,
    conns: HashMap<ClientId, Conn, foldhash::fast::RandomState>,
    waker: Arc<Waker>,
    hub: Arc<OutHub>,
    /// Connections to look at again on the next turn (read budget spent,
    /// or a batch finished with requests left in the buffer).
    again: Vec<ClientId>,
    /// Events polled and not yet handled. The main loop takes them one at
    /// a time, so that a busy script's hook (which polls too) handles the
    /// rest: an edge-triggered event is reported only once.
    pending: VecDeque<(usize, bool)>,
    scratch_dirty: Vec<ClientId>,
    scratch_msgs: VecDeque<Out>,
    /// When the current turn's events were polled (idle time of clients).
    tick: Instant,
    /// Most requests parsed into one batch (see [`BATCH_BUDGET_US`]).
    batch_cap: usize,
}

impl Net {
    /// Binds every address of `binds` on `port`; a failure names the
    /// address, as Redis's start-up message does.
    pub fn bind(binds: &[String], port: u16) -> Result<Net, String> {
        let poll = Poll::new().map_err(|e| format!("Can't create the event loop: {e}"))?;
        let waker = Waker::new(poll.registry(), WAKER)
            .map_err(|e| format!("Can't create the event loop: {e}"))?;
        let mut listeners = Vec::new();
        for b in binds {
            let addr = if b.contains(':') {
                format!("[{b}]:{port}")
            } else {
                format!("{b}:{port}")
            };
            let l = std::net::TcpListener::bind(&addr)
                .and_then(|l| l.set_nonblocking(true).map(|_| l))
                .map_err(|e| {
                    format!("Warning: Could not create server TCP listening socket {addr}: {e}\nFailed listening on port {port} (tcp), aborting.")
                })?;
            let mut l = TcpListener::from_std(l);
            let tok = Token(LISTENER0 + listeners.len());
            poll.registry()
                .register(&mut l, tok, Interest::READABLE)
                .map_err(|e| format!("Can't listen on {addr}: {e}"))?;
            listeners.push(l);
        }
        Ok(Net {
            poll,
            events: Events::with_capacity(1024),
            listeners,
            conns: HashMap::default(),
            waker: Arc::new(waker),
            hub: Arc::new(OutHub::default()),
            again: Vec::new(),
            batch_cap: MAX_BATCH,
            pending: VecDeque::new(),
            scratch_dirty: Vec::new(),
            scratch_msgs: VecDeque::new(),
            tick: Instant::now(),
        })
    }

    /// Wakes the loop from another thread (after sending it a [`Msg`]).
    pub fn waker(&self) -> Arc<Waker> {
        self.waker.clone()
    }

    /// The ports the listeners are bound to (for `--port 0`).
    pub fn local_ports(&self) -> Vec<u16> {
        self.listeners
            .iter()
            .filter_map(|l| l.local_addr().ok().map(|a| a.port()))
            .collect()
    }

    /// Waits for events (at most `timeout`) and queues the ready tokens in
    /// `pending`, each with whether the peer has closed its side (edge-triggered: the
    /// end of the stream is reported once, with the last data).
    fn poll_pending(&mut self, timeout: Option<Duration>) {
        let ready = &mut self.pending;
        if let Err(e) = self.poll.poll(&mut self.events, timeout) {
            if e.kind() != std::io::ErrorKind::Interrupted {
                log::warning(&format!("epoll_wait: {e}"));
            }
        }
        self.tick = Instant::now();
        for ev in self.events.iter() {
            let closed = ev.is_read_closed() || ev.is_error();
            let t = ev.token().0;
            if !closed && !ev.is_readable() && t < LISTENER0 {
                // Writable only: worth a look only with output waiting
                // (saves a read that would find nothing).
                let waiting = self
                    .conns
                    .get(&(t as ClientId))
                    .is_some_and(|c| c.wpos < c.wbuf.len() || c.closing);
                if !waiting {
                    continue;
                }
            }
            ready.push_back((t, closed));
        }
        // A connection may have asked for another look more than once this
        // turn (read budget spent, batch full, batch finished): once is
        // enough, or a busy client would be handled ever more often per
        // turn and starve the others.
        self.again.sort_unstable();
        self.again.dedup();
        for id in self.again.drain(..) {
            ready.push_back((id as usize, false));
        }
    }

    /// Accepts what listener `i` has waiting. Returns the new connections.
    fn accept(&mut self, i: usize, shared: &Shared) -> Vec<(ClientId, String, String, i64, OutTx)> {
        let mut out = Vec::new();
        loop {
            let Some(l) = self.listeners.get(i) else {
                return out;
            };
            let (mut stream, peer) = match l.accept() {
                Ok(x) => x,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return out,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::log(log::VERBOSE, &format!("Accepting client connection: {e}"));
                    return out;
                }
            };
            let _ = stream.set_nodelay(true);
            let max = shared.maxclients.load(Ordering::Relaxed);
            if shared.connected.load(Ordering::Relaxed) >= max {
                shared.rejected_connections.fetch_add(1, Ordering::Relaxed);
                let _ =
                    std::io::Write::write(&mut stream, b"-ERR max number of clients reached\r\n");
                continue;
            }
            let id = shared.next_client_id.fetch_add(1, Ordering::Relaxed);
            if self
                .poll
                .registry()
                .register(
                    &mut stream,
                    Token(id as usize),
                    Interest::READABLE | Interest::WRITABLE,
                )
                .is_err()
            {
                continue;
            }
            shared.connected.fetch_add(1, Ordering::Relaxed);
            let laddr = fmt_addr(stream.local_addr().ok());
            let fd = std::os::fd::AsRawFd::as_raw_fd(&stream) as i64;
            let q = OutQueue::new(id, self.hub.clone());
            self.conns.insert(
                id,
                Conn {
                    stream,
                    out: q.clone(),
                    rbuf: BytesMut::with_capacity(16 * 1024),
                    parser: Parser::new(),
                    wbuf: Vec::new(),
                    wpos: 0,
                    in_flight: false,
                    proto_err: None,
                    closing: false,
                    capped: false,
                    broken: false,
                    last_active: self.tick,
                    deferred: std::collections::VecDeque::new(),
                },
            );
            out.push((id, fmt_addr(Some(peer)), laddr, fd, q));
        }
    }

    /// Forgets a connection (closing its socket).
    fn drop_conn(&mut self, id: ClientId, shared: &Shared) {
        if let Some(mut c) = self.conns.remove(&id) {
            let _ = self.poll.registry().deregister(&mut c.stream);
            c.out.close();
            shared.connected.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Reads a ready connection. `Err` when it is gone.
    fn read_conn(&mut self, id: ClientId, shared: &Shared) -> Result<(), ()> {
        let Some(c) = self.conns.get_mut(&id) else {
            return Ok(());
        };
        if c.closing {
            return Ok(());
        }
        if c.capped && c.rbuf.len() >= READ_BUDGET {
            // A batch's worth of requests is still waiting (batches are
            // cut short when commands are slow): read no more until it is
            // run, or the buffer would grow without bound. (A client
            // blocked in its batch is looked at again when it finishes.)
            if !c.in_flight {
                self.again.push(id);
            }
            return Ok(());
        }
        let budget = READ_BUDGET.max(c.parser.wanted(c.rbuf.len()).unwrap_or(0));
        let more = c.read_some(shared, self.tick, budget)?;
        let limit = shared.query_buf_limit.load(Ordering::Relaxed) as usize;
        if c.rbuf.len() > limit {
            log::warning(&format!(
                "Closing client id={id} that reached max query buffer length"
            ));
            return Err(());
        }
        if more {
            self.again.push(id);
        }
        Ok(())
    }

    /// Gives back the requests of a batch stopped at its deadline: they
    /// are the connection's next requests, run on the next turn.
    fn defer(&mut self, id: ClientId, left: Vec<Request>) {
        if let Some(c) = self.conns.get_mut(&id) {
            for r in left.into_iter().rev() {
                c.deferred.push_front(r);
            }
            c.capped = true;
            self.again.push(id);
        }
    }

    /// Parses the complete requests of an idle connection into `cmds`.
    /// `Err` when the connection must close (protocol error answered).
    fn parse(&mut self, id: ClientId, shared: &Shared, cmds: &mut Vec<Request>) -> Result<(), ()> {
        let Some(c) = self.conns.get_mut(&id) else {
            return Ok(());
        };
        if c.in_flight || c.closing {
            return Ok(());
        }
        let limits = ParseLimits {
            max_bulk_len: shared.proto_max_bulk_len.load(Ordering::Relaxed),
            unauthenticated: false,
        };
        while cmds.len() < self.batch_cap {
            let Some(r) = c.deferred.pop_front() else {
                break;
            };
            cmds.push(r);
        }
        while c.proto_err.is_none() && cmds.len() < self.batch_cap {
            match c.parser.next(&mut c.rbuf, &limits) {
                Ok(Some(r)) => cmds.push(r),
                Ok(None) => break,
                Err(e) => c.proto_err = Some(e.0),
            }
        }
        // Complete requests are left (in the buffer, or deferred) only when
        // the batch was cut at its size limit or at its deadline.
        c.capped = cmds.len() >= self.batch_cap || !c.deferred.is_empty();
        if c.capped {
            self.again.push(id);
        }
        if !cmds.is_empty() {
            c.in_flight = true;
        } else if let Some(e) = c.proto_err.take() {
            let mut b = Vec::new();
            lunakv_protocol::encode(&Reply::err(e.clone()), 2, &mut b);
            c.push_out(b);
            let _ = c.write_pending(shared);
            log::log(
                log::VERBOSE,
                &format!("Protocol error ({e}) from client id={id}"),
            );
            return Err(());
        }
        // Grow the buffer ahead of a large bulk so it is read in place.
        if let Some(w) = c.parser.wanted(c.rbuf.len()) {
            let cap = c.rbuf.capacity() - c.rbuf.len();
            if w > cap {
                c.rbuf.reserve(w.min(64 * 1024 * 1024));
            }
        }
        Ok(())
    }

    /// Moves a connection's queued output to its socket.
    fn flush(&mut self, id: ClientId, shared: &Shared) -> Flushed {
        let Some(c) = self.conns.get_mut(&id) else {
            return Flushed::Open;
        };
        if c.broken {
            return Flushed::Gone;
        }
        c.out.drain_into(&mut self.scratch_msgs);
        let mut finished = false;
        for m in self.scratch_msgs.drain(..) {
            if c.closing {
                continue;
            }
            match m {
                Out::Data(d) => c.push_out(d),
                Out::Batch(d) => {
                    c.push_out(d);
                    c.in_flight = false;
                    finished = true;
                }
                Out::Done => {
                    c.in_flight = false;
                    finished = true;
                }
                Out::Close => c.closing = true,
            }
        }
        if c.write_pending(shared).is_err() {
            return Flushed::Gone;
        }
        if c.closing && c.wpos >= c.wbuf.len() {
            return Flushed::Gone;
        }
        if finished && (!c.rbuf.is_empty() || c.proto_err.is_some()) {
            self.again.push(id);
        }
        Flushed::Open
    }
}

fn fmt_addr(a: Option<std::net::SocketAddr>) -> String {
    match a {
        Some(std::net::SocketAddr::V4(v)) => format!("{}:{}", v.ip(), v.port()),
        Some(std::net::SocketAddr::V6(v)) => format!("{}:{}", v.ip(), v.port()),
        None => "?:0".into(),
    }
}

impl Engine {
    /// The engine thread's main loop: serves the network and the messages
    /// of other threads until SHUTDOWN, running the cron `hz` times a
    /// second.
    pub fn run(mut self, rx: crossbeam_channel::Receiver<Msg>, net: Net) -> i32 {
        self.net = Some(Box::new(net));
        self.busy.rx = Some(rx.clone());
        let mut next_cron = Instant::now();
        let mut next_idle_check = Instant::now();
        loop {
            if !self.busy.deferred.is_empty() {
                self.handle_deferred();
            }
            self.flush_dirty();
            if self.shutdown_requested {
                break;
            }
            let hz = self.config.get_i64("hz").clamp(1, 500) as u64;
            let period = Duration::from_millis(1000 / hz);
            let mut wait = next_cron.saturating_duration_since(Instant::now());
            if let Some(d) = self.next_block_deadline() {
                wait = wait.min(Duration::from_millis(d.saturating_sub(crate::unix_ms())));
            }
            let Some(net) = self.net.as_mut() else {
                break;
            };
            if !net.again.is_empty() || !net.pending.is_empty() {
                wait = Duration::ZERO;
            }
            net.poll_pending(Some(wait));
            self.handle_pending();
            for _ in 0..1024 {
                match rx.try_recv() {
                    Ok(m) => self.handle(m),
                    Err(_) => break,
                }
            }
            if self.tracking.current.is_some() || !self.tracking.prefixes.is_empty() {
                crate::tracking::before_sleep(&mut self);
            }
            if self.pause.resume {
                crate::pause::resume(&mut self);
            }
            if self.shutdown_requested {
                self.flush_dirty();
                break;
            }
            if !self.blocking.deadlines.is_empty() {
                self.handle_block_timeouts();
            }
            let now = Instant::now();
            if now >= next_cron {
                self.cron();
                next_cron = Instant::now() + period;
            }
            if now >= next_idle_check {
                self.close_idle_clients();
                next_idle_check = now + Duration::from_secs(1);
            }
        }
        self.flush_dirty();
        self.net = None;
        self.exit_code
    }

    /// Handles the polled events one at a time (see `Net::pending`): the
    /// main loop and a busy script's hook both come here.
    fn handle_pending(&mut self) {
        while let Some((t, closed)) = self.net.as_mut().and_then(|n| n.pending.pop_front()) {
            if t == WAKER.0 {
                continue;
            }
            if t >= LISTENER0 {
                self.accept_on(t - LISTENER0);
            } else {
                self.conn_event(t as ClientId, closed);
            }
        }
    }

    fn accept_on(&mut self, i: usize) {
        let Some(net) = self.net.as_mut() else {
            return;
        };
        for (id, addr, laddr, fd, out) in net.accept(i, &self.shared) {
            self.handle(Msg::Connect {
                id,
                addr,
                laddr,
                fd,
                out,
            });
        }
    }

    /// A connection is readable or writable (or has input left over).
    /// `closed`: the peer has closed its side; what it sent before is still
    /// answered (Redis answers what one read got, then frees the client on
    /// the next read), then the client is freed, even if it is blocked.
    fn conn_event(&mut self, id: ClientId, closed: bool) {
        let (Some(net), shared) = (self.net.as_mut(), &self.shared) else {
            return;
        };
        if net.read_conn(id, shared).is_err() || net.flush(id, shared) == Flushed::Gone {
            self.conn_gone(id);
            return;
        }
        self.process_input(id);
        if closed {
            self.conn_gone(id);
        }
    }

    /// Runs the complete requests an idle connection has buffered (as
    /// Redis's `processCommand` does during a busy script when one runs).
    fn process_input(&mut self, id: ClientId) {
        let mut cmds = Vec::new();
        let (Some(net), shared) = (self.net.as_mut(), &self.shared) else {
            return;
        };
        if net.parse(id, shared, &mut cmds).is_err() {
            self.conn_gone(id);
            return;
        }
        if cmds.is_empty() {
            return;
        }
        if self.busy.is_active() {
            self.serve_busy_batch(id, cmds);
        } else {
            let n = cmds.len();
            if n >= MIN_BATCH {
                // Big batches are timed (whole: execution, replies) and
                // size the next ones: what fits in the budget at this
                // batch's cost per request (halfway there, to smooth).
                let start = Instant::now();
                let deadline = crate::unix_us() + 2 * BATCH_BUDGET_US;
                let left = self.run_batch_until(id, cmds, Some(deadline));
                let ns = start.elapsed().as_nanos() as u64;
                let n = n - left.len();
                if !left.is_empty() {
                    if let Some(net) = self.net.as_mut() {
                        net.defer(id, left);
                    }
                }
                let per_cmd = (ns / n.max(1) as u64).max(1);
                let fit = ((BATCH_BUDGET_US * 1000 / per_cmd) as usize).clamp(MIN_BATCH, MAX_BATCH);
                if let Some(net) = self.net.as_mut() {
                    net.batch_cap = (net.batch_cap + fit) / 2;
                }
            } else {
                self.run_batch(id, cmds);
            }
        }
        let (Some(net), shared) = (self.net.as_mut(), &self.shared) else {
            return;
        };
        if net.flush(id, shared) == Flushed::Gone {
            self.conn_gone(id);
        }
    }

    /// Ends a client's batch: its replies go straight from the client's
    /// output buffer to the socket when nothing else is queued for the
    /// connection (the common case: no copy, no allocation, no queue);
    /// otherwise they are queued behind what is there.
    pub(crate) fn end_batch(&mut self, c: &mut crate::client::Client) {
        let shared = &self.shared;
        if let Some(conn) = self.net.as_mut().and_then(|n| n.conns.get_mut(&c.id)) {
            if conn.wpos >= conn.wbuf.len() && !conn.closing && conn.out.is_empty() {
                conn.in_flight = false;
                let mut pos = 0;
                while pos < c.outbuf.len() {
                    match std::io::Write::write(&mut conn.stream, &c.outbuf[pos..]) {
                        Ok(0) => {
                            conn.broken = true;
                            break;
                        }
                        Ok(n) => pos += n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                        Err(_) => {
                            conn.broken = true;
                            break;
                        }
                    }
                }
                shared
                    .net_output_bytes
                    .fetch_add(pos as u64, Ordering::Relaxed);
                if pos < c.outbuf.len() && !conn.broken {
                    conn.wbuf.clear();
                    conn.wpos = 0;
                    conn.wbuf.extend_from_slice(&c.outbuf[pos..]);
                }
                c.outbuf.clear();
                if c.outbuf.capacity() > 64 * 1024 {
                    c.outbuf = Vec::new();
                }
                let again = conn.broken || !conn.rbuf.is_empty() || conn.proto_err.is_some();
                if again {
                    if let Some(n) = self.net.as_mut() {
                        n.again.push(c.id);
                    }
                }
                return;
            }
        }
        let data = std::mem::take(&mut c.outbuf);
        c.send(Out::Batch(data));
    }

    /// Writes the output queued for any connection since the last turn.
    pub(crate) fn flush_dirty(&mut self) {
        let (Some(net), shared) = (self.net.as_mut(), &self.shared) else {
            return;
        };
        let mut dirty = std::mem::take(&mut net.scratch_dirty);
        net.hub.take_dirty(&mut dirty);
        let mut gone = Vec::new();
        for &id in &dirty {
            if net.flush(id, shared) == Flushed::Gone {
                gone.push(id);
            }
        }
        dirty.clear();
        net.scratch_dirty = dirty;
        for id in gone {
            self.conn_gone(id);
        }
    }

    /// A connection closed: forget its socket, then its client (later, if
    /// a script is running).
    fn conn_gone(&mut self, id: ClientId) {
        if let Some(net) = self.net.as_mut() {
            net.drop_conn(id, &self.shared);
        }
        if self.busy.is_active() {
            self.busy.deferred.push_back(Msg::Disconnect { id });
        } else {
            self.handle(Msg::Disconnect { id });
        }
    }

    /// Closes connections idle for longer than `timeout` seconds (Redis's
    /// `clientsCronHandleTimeout`: not blocked clients, subscribers or
    /// replicas).
    fn close_idle_clients(&mut self) {
        let idle = self.shared.idle_timeout_s.load(Ordering::Relaxed);
        if idle == 0 {
            return;
        }
        let Some(net) = self.net.as_mut() else {
            return;
        };
        let limit = Duration::from_secs(idle);
        let now = Instant::now();
        let candidates: Vec<ClientId> = net
            .conns
            .iter()
            .filter(|(_, c)| !c.in_flight && now.duration_since(c.last_active) > limit)
            .map(|(id, _)| *id)
            .collect();
        for id in candidates {
            let exempt = self.clients.get(&id).is_some_and(|c| {
                c.subscriptions > 0 || c.blocked.is_some() || c.flags_str.contains('S')
            }) || self.repl.replicas.iter().any(|r| r.id == id);
            if !exempt {
                log::log(log::VERBOSE, "Closing idle client");
                self.conn_gone(id);
            }
        }
    }

    /// Serves other connections without blocking while a script is busy:
    /// accepts, reads, and answers each complete request (see
    /// `Engine::serve_busy_batch`).
    pub(crate) fn poll_while_busy(&mut self) {
        let Some(net) = self.net.as_mut() else {
            return;
        };
        net.poll_pending(Some(Duration::ZERO));
        self.handle_pending();
        self.flush_dirty();
    }
}
