//! Blocking commands (BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK, ...).
//!
//! A handler that finds nothing to serve calls [`Ctx::block`]: the client is
//! parked on its keys with a deadline, and the rest of its batch waits in
//! `Client::pending`. A write that makes a key servable calls
//! [`Ctx::signal_ready`]; once the top-level command (or EXEC, or script)
//! that did it has finished, [`Engine::handle_ready_keys`] re-runs the
//! parked command of each waiting client, first come first served, exactly
//! as Redis 7 does. Clients whose deadline passes get the command's timeout
//! reply. Inside MULTI and scripts `Ctx::can_block` is false and commands
//! answer as their non-blocking forms.

use std::collections::{BTreeSet, HashMap, VecDeque};

use bytes::Bytes;
use lunakv_protocol::{Reply, Request};

use crate::client::{Caller, Client, ClientId, Out};
use crate::ctx::Ctx;
use crate::Engine;

/// Why and how a client waits.
#[derive(Debug)]
pub struct Blocked {
    pub db: usize,
    pub keys: Vec<Bytes>,
    /// Absolute deadline in Unix ms; 0 waits for ever.
    pub deadline_ms: u64,
    /// The command to run again when a key is ready.
    pub args: Request,
    /// The reply on timeout (nil array for BLPOP, nil bulk for BLMOVE...).
    pub timeout_reply: Reply,
}

/// The registry of blocked clients.
#[derive(Debug, Default)]
pub struct Blocking {
    /// (db, key) → clients waiting on it, in arrival order.
    pub by_key: HashMap<(usize, Bytes), VecDeque<ClientId>>,
    /// (deadline, client) for clients with a timeout.
    pub deadlines: BTreeSet<(u64, ClientId)>,
    /// Keys signalled ready since the last pass.
    pub ready: Vec<(usize, Bytes)>,
    /// Number of blocked clients (INFO `blocked_clients`).
    pub count: usize,
    /// The ready key whose waiters are being re-run (XREAD answers for
    /// that key only, as Redis serves one key at a time).
    pub serving: Option<Bytes>,
}

/// Parses a blocking timeout in seconds (fractions allowed) into
/// milliseconds, with Redis's errors.
/// Like Redis 7.0, the value is converted with C's truncating cast to
/// `long long` milliseconds: `-0.0001` becomes 0 (block for ever), and
/// infinite or huge values overflow to a negative number.
pub fn parse_timeout_secs(arg: &[u8]) -> Result<u64, Reply> {
    let Some(secs) = lunakv_protocol::parse_f64(arg) else {
        return Err(Reply::err_static(
            "ERR timeout is not a float or out of range",
        ));
    };
    let ms = secs * 1000.0;
    if !ms.is_finite() || ms >= 9.2e18 || ms <= -9.2e18 {
        return Err(Reply::err_static("ERR timeout is negative"));
    }
    let t = ms.trunc() as i64;
    if t < 0 {
        return Err(Reply::err_static("ERR timeout is negative"));
    }
    Ok(t as u64)
}

/// Parses a blocking timeout in milliseconds (XREAD BLOCK).
pub fn parse_timeout_ms(arg: &[u8]) -> Result<u64, Reply> {
    match lunakv_protocol::parse_i64(arg) {
        Some(n) if n < 0 => Err(Reply::err_static("ERR timeout is negative")),
        Some(n) => Ok(n as u64),
        None => Err(Reply::err_static(
            "ERR timeout is not an integer or out of range",
        )),
    }
}

impl<'a> Ctx<'a> {
    /// True when the running command may block: only a network client's
    /// command outside MULTI/EXEC and scripts.
    pub fn can_block(&self) -> bool {
        self.caller == Caller::Client
    }

    /// Parks the client on `keys` (current database) for `timeout_ms`
    /// (0 = for ever). `args` is the command to run again when a key is
    /// signalled ready; `timeout_reply` is sent if the time runs out. The
    /// returned reply is a marker the dispatcher does not send.
    pub fn block(
        &mut self,
        keys: &[Bytes],
        timeout_ms: u64,
        args: &[Bytes],
        timeout_reply: Reply,
    ) -> Reply {
        let id = self.client.id;
        let db = self.client.db;
        // A command re-run after a wake-up that blocks again keeps its
        // original deadline and its place in the queues.
        if let Some(prev) = self.eng.reblock_deadline.take() {
            self.client.blocked = Some(Blocked {
                db,
                keys: keys.to_vec(),
                deadline_ms: prev,
                args: args.to_vec(),
                timeout_reply,
            });
            return Reply::Raw(Bytes::new());
        }
        let deadline = if timeout_ms == 0 {
            0
        } else {
            self.eng.now_ms.saturating_add(timeout_ms)
        };
        let b = &mut self.eng.blocking;
        for k in keys {
            let q = b.by_key.entry((db, k.clone())).or_default();
            if !q.contains(&id) {
                q.push_back(id);
            }
        }
        if deadline != 0 {
            b.deadlines.insert((deadline, id));
        }
        b.count += 1;
        self.client.blocked = Some(Blocked {
            db,
            keys: keys.to_vec(),
            deadline_ms: deadline,
            args: args.to_vec(),
            timeout_reply,
        });
        Reply::Raw(Bytes::new())
    }

    /// Tells waiting clients that `key` (current database) may now serve
    /// them. Call after adding elements to a list, sorted set or stream.
    pub fn signal_ready(&mut self, key: &[u8]) {
        let db = self.client.db;
        self.eng.signal_ready_in(db, key);
    }
}

impl Engine {
    /// [`Ctx::signal_ready`] for an explicit database.
    pub fn signal_ready_in(&mut self, db: usize, key: &[u8]) {
        if self.blocking.by_key.is_empty() {
            return;
        }
        let k = (db, Bytes::copy_from_slice(key));
        if self.blocking.by_key.contains_key(&k) && !self.blocking.ready.contains(&k) {
            self.blocking.ready.push(k);
        }
    }

    /// Signals every key of database `db` that has waiters (SWAPDB).
    pub fn signal_ready_all_in(&mut self, db: usize) {
        let keys: Vec<(usize, Bytes)> = self
            .blocking
            .by_key
            .keys()
            .filter(|(d, _)| *d == db)
            .cloned()
            .collect();
        for k in keys {
            if !self.blocking.ready.contains(&k) {
                self.blocking.ready.push(k);
            }
        }
    }

    /// Removes a client from the blocking registry (unblocked, timed out,
    /// disconnected).
    pub fn forget_blocked(&mut self, c: &mut Client) {
        let Some(b) = c.blocked.take() else { return };
        for k in b.keys {
            let key = (b.db, k);
            if let Some(q) = self.blocking.by_key.get_mut(&key) {
                q.retain(|&x| x != c.id);
                if q.is_empty() {
                    self.blocking.by_key.remove(&key);
                }
            }
        }
        if b.deadline_ms != 0 {
            self.blocking.deadlines.remove(&(b.deadline_ms, c.id));
        }
        self.blocking.count = self.blocking.count.saturating_sub(1);
    }

    /// Runs a client's queued commands until it blocks or runs out, then
    /// hands its replies to its network task (ending the batch unless the
    /// client is blocked). The client must not be in `self.clients`.
    pub fn run_pending(&mut self, mut c: Box<Client>) {
        while c.blocked.is_none() && !c.close_after_reply && !self.shutdown_requested {
            let Some(args) = c.pending.pop_front() else {
                break;
            };
            self.now_ms = crate::unix_ms();
            let reply = self.execute(&mut c, &args, Caller::Client);
            if c.blocked.is_none() {
                self.write_reply(&mut c, &reply);
            }
            self.handle_ready_keys(Some(&mut c));
        }
        self.process_expired_logs();
        if c.close_after_reply {
            self.close_client(&mut c);
            return;
        }
        if c.blocked.is_some() {
            c.flush();
        } else {
            self.end_batch(&mut c);
        }
        self.clients.insert(c.id, c);
    }

    /// Sends a client's last replies, then closes its connection (QUIT,
    /// CLIENT KILL of itself, a reply-then-close error) and forgets it.
    pub(crate) fn close_client(&mut self, c: &mut Client) {
        c.flush();
        c.send(Out::Close);
        self.free_client(c);
    }

    /// Serves clients blocked on keys signalled ready, in order, until no
    /// key is ready. `current` is the client whose command is running (not
    /// in `self.clients`), which cannot itself be blocked.
    pub fn handle_ready_keys(&mut self, current: Option<&mut Client>) {
        let _ = current;
        let mut rounds = 0;
        while !self.blocking.ready.is_empty() && rounds < 1_000_000 {
            rounds += 1;
            let ready = std::mem::take(&mut self.blocking.ready);
            for (db, key) in ready {
                let Some(q) = self.blocking.by_key.get(&(db, key.clone())) else {
                    continue;
                };
                let waiting: Vec<ClientId> = q.iter().copied().collect();
                for id in waiting {
                    let Some(mut c) = self.clients.remove(&id) else {
                        continue;
                    };
                    let Some(b) = c.blocked.as_ref() else {
                        self.clients.insert(id, c);
                        continue;
                    };
                    let args = b.args.clone();
                    let deadline = b.deadline_ms;
                    let saved_db = c.db;
                    c.db = b.db;
                    // Re-run the command as if it had just arrived.
                    let blocked = c.blocked.take();
                    self.reblock_deadline = Some(deadline);
                    self.blocking.serving = Some(key.clone());
                    self.now_ms = crate::unix_ms();
                    let reply = self.execute(&mut c, &args, Caller::Client);
                    self.blocking.serving = None;
                    self.reblock_deadline = None;
                    c.db = saved_db;
                    if c.blocked.is_some() {
                        // Still nothing for it: keep its registration.
                        c.blocked = blocked;
                        self.clients.insert(id, c);
                        continue;
                    }
                    c.blocked = blocked;
                    self.forget_blocked(&mut c);
                    self.write_reply(&mut c, &reply);
                    self.run_pending(c);
                }
            }
        }
    }

    /// The nearest blocking deadline, if any.
    pub fn next_block_deadline(&self) -> Option<u64> {
        self.blocking.deadlines.iter().next().map(|(d, _)| *d)
    }

    /// Answers clients whose blocking timeout has passed.
    pub fn handle_block_timeouts(&mut self) {
        let now = crate::unix_ms();
        while let Some(&(d, id)) = self.blocking.deadlines.iter().next() {
            if d > now {
                break;
            }
            self.blocking.deadlines.remove(&(d, id));
            let Some(mut c) = self.clients.remove(&id) else {
                continue;
            };
            let reply = c.blocked.as_ref().map(|b| b.timeout_reply.clone());
            self.forget_blocked(&mut c);
            if let Some(r) = reply {
                self.write_reply(&mut c, &r);
            }
            self.run_pending(c);
        }
    }

    /// CLIENT UNBLOCK: wakes a blocked client with its timeout reply, or
    /// with `-UNBLOCKED` if `error`. Returns false if it was not blocked.
    pub fn unblock_client(&mut self, id: ClientId, error: bool) -> bool {
        let Some(mut c) = self.clients.remove(&id) else {
            return false;
        };
        let Some(b) = c.blocked.as_ref() else {
            self.clients.insert(id, c);
            return false;
        };
        let reply = if error {
            Reply::err_static("UNBLOCKED client unblocked via CLIENT UNBLOCK")
        } else {
            b.timeout_reply.clone()
        };
        self.forget_blocked(&mut c);
        self.write_reply(&mut c, &reply);
        self.run_pending(c);
        true
    }
}
