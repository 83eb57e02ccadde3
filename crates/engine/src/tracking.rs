//! Server-assisted client-side caching (CLIENT TRACKING), as Redis 7.0's
//! tracking.c.
//!
//! In the default mode the engine remembers, in a table shared by all
//! databases, which tracking clients read which keys; when such a key is
//! modified (by a command, expiry, eviction) every client in its entry gets
//! an invalidation message and the entry is dropped. In BCAST mode clients
//! subscribe to key prefixes instead and receive, once per event-loop turn,
//! the list of modified keys matching each prefix. Messages are RESP3
//! `>invalidate` pushes, or with REDIRECT Pub/Sub messages on
//! `__redis__:invalidate` to a RESP2 client subscribed to that channel.
//! A flush sends a null invalidation ("every key") to all tracking clients.
//!
//! Invalidations for the client whose command is running are queued and
//! written after its reply, so they never interleave with it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::client::{Client, ClientId, Out};
use crate::command::{flags, Cmd};
use crate::Engine;

/// The Pub/Sub channel used for RESP2 redirection.
pub const CHANNEL: &[u8] = b"__redis__:invalidate";

/// The tracking state of one client.
#[derive(Debug, Default, Clone)]
pub struct ClientTracking {
    /// Client receiving the messages (0: the client itself).
    pub redirect: ClientId,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    /// CLIENT CACHING YES/NO was given for the next command.
    pub caching: bool,
    /// The redirection client disappeared.
    pub broken_redir: bool,
    /// BCAST prefixes.
    pub prefixes: BTreeSet<Bytes>,
}

/// A broadcast prefix: its subscribers and the keys modified since the
/// last broadcast (with the client that modified each, for NOLOOP).
#[derive(Debug, Default)]
pub struct Bcast {
    pub clients: BTreeSet<ClientId>,
    pub keys: BTreeMap<Bytes, Option<ClientId>>,
}

/// What an invalidation message carries.
enum Payload<'a> {
    Key(&'a [u8]),
    Keys(Vec<Bytes>),
    Null,
}

/// The engine-wide tracking state.
#[derive(Default)]
pub struct Tracking {
    /// Clients with tracking on.
    pub clients: HashMap<ClientId, ClientTracking>,
    /// Key → clients that may have it cached (default mode).
    pub table: HashMap<Bytes, HashSet<ClientId>>,
    /// Sum of the table's client sets (INFO `tracking_total_items`).
    pub total_items: u64,
    /// BCAST prefixes.
    pub prefixes: BTreeMap<Bytes, Bcast>,
    /// The client whose command runs at the top level (Redis's
    /// `server.current_client`), not in `Engine::clients` meanwhile.
    pub current: Option<ClientId>,
    /// Its protocol.
    pub current_resp: u8,
    /// True while its command's handler runs.
    pub in_cmd: bool,
    /// Keys (None: flush) to invalidate for the current client once its
    /// command is done.
    pub pending: Vec<Option<Bytes>>,
    /// Encoded messages for the current client, written after its reply.
    pub outq: Vec<u8>,
    /// The last command run on behalf of a client (not from a script):
    /// a script's reads track the keys declared to EVAL/FCALL.
    pub outer: Option<(&'static Cmd, Vec<Bytes>)>,
    /// Effort multiplier of the table limit (Redis's timeout_counter).
    pub limit_rounds: u32,
    /// Set while expired keys are signalled (no modifying client).
    pub expiring: bool,
}

impl Tracking {
    /// True when any client has tracking on or state is left to clean.
    pub fn active(&self) -> bool {
        !self.clients.is_empty()
    }
}

/// CLIENT TRACKING's options once parsed.
#[derive(Debug, Default)]
pub struct Options {
    pub redirect: ClientId,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    pub prefixes: Vec<Bytes>,
}

fn overlaps(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

/// Turns tracking on for `c` with `o` (options already validated against
/// each other), checking the client's current state as Redis does.
pub fn enable(eng: &mut Engine, c: &Client, o: Options) -> Result<(), Reply> {
    let t = &mut eng.tracking;
    if !o.bcast && !o.prefixes.is_empty() {
        return Err(Reply::err_static(
            "ERR PREFIX option requires BCAST mode to be enabled",
        ));
    }
    let old = t.clients.get(&c.id);
    if let Some(old) = old {
        if old.bcast != o.bcast {
            return Err(Reply::err_static("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."));
        }
    }
    if o.bcast && (o.optin || o.optout) {
        return Err(Reply::err_static(
            "ERR OPTIN and OPTOUT are not compatible with BCAST",
        ));
    }
    if o.optin && o.optout {
        return Err(Reply::err_static(
            "ERR You can't specify both OPTIN mode and OPTOUT mode",
        ));
    }
    if let Some(old) = old {
        if (o.optin && old.optout) || (o.optout && old.optin) {
            return Err(Reply::err_static("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."));
        }
    }
    if o.bcast {
        for (i, p) in o.prefixes.iter().enumerate() {
            if let Some(old) = old {
                if let Some(x) = old.prefixes.iter().find(|x| overlaps(x, p)) {
                    return Err(Reply::err(format!(
                        "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                        String::from_utf8_lossy(p),
                        String::from_utf8_lossy(x)
                    )));
                }
            }
            if let Some(q) = o.prefixes[i + 1..].iter().find(|q| overlaps(p, q)) {
                return Err(Reply::err(format!(
                    "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                    String::from_utf8_lossy(p),
                    String::from_utf8_lossy(q)
                )));
            }
        }
    }
    let st = t.clients.entry(c.id).or_default();
    let caching = st.caching;
    st.redirect = o.redirect;
    st.broken_redir = false;
    st.bcast = o.bcast;
    st.optin = o.optin;
    st.optout = o.optout;
    st.noloop = o.noloop;
    st.caching = caching;
    if o.bcast {
        let mut list = o.prefixes;
        if list.is_empty() {
            list.push(Bytes::new());
        }
        for p in list {
            let b = t.prefixes.entry(p.clone()).or_default();
            if b.clients.insert(c.id) {
                st.prefixes.insert(p);
            }
        }
    }
    Ok(())
}

/// Turns tracking off for a client (CLIENT TRACKING OFF, RESET, disconnect).
/// Its entries in the key table are dropped lazily, as in Redis.
pub fn disable(eng: &mut Engine, id: ClientId) {
    let t = &mut eng.tracking;
    let Some(st) = t.clients.remove(&id) else {
        return;
    };
    for p in st.prefixes {
        if let Some(b) = t.prefixes.get_mut(&p) {
            b.clients.remove(&id);
            if b.clients.is_empty() {
                t.prefixes.remove(&p);
            }
        }
    }
}

/// Called after a read-only command: remembers the keys it read for the
/// client that tracks them (for a script's commands: the script's caller,
/// with the keys declared to the script).
pub fn remember_keys(
    eng: &mut Engine,
    c: &Client,
    cmd: &'static Cmd,
    args: &[Bytes],
    script: bool,
) {
    let id = if script {
        match eng.tracking.current {
            Some(id) => id,
            None => return,
        }
    } else {
        c.id
    };
    let Some(st) = eng.tracking.clients.get(&id) else {
        return;
    };
    if st.bcast || (st.optin && !st.caching) || (st.optout && st.caching) {
        return;
    }
    let (cmd, args): (&Cmd, Vec<Bytes>) = if script {
        match &eng.tracking.outer {
            Some((oc, oa)) => (oc, oa.clone()),
            None => return,
        }
    } else {
        (cmd, args.to_vec())
    };
    if cmd.is(flags::PUBSUB) {
        return;
    }
    let t = &mut eng.tracking;
    for pos in cmd.key_positions(&args) {
        let Some(k) = args.get(pos) else { continue };
        if t.table.entry(k.clone()).or_default().insert(id) {
            t.total_items += 1;
        }
    }
}

/// Protocol and Pub/Sub state of a live client, the running one included.
fn client_state(eng: &Engine, id: ClientId) -> Option<(u8, bool)> {
    if eng.tracking.current == Some(id) && !eng.clients.contains_key(&id) {
        let (s, p, sh) = eng.pubsub.counts(id);
        return Some((eng.tracking.current_resp, s + p + sh > 0));
    }
    let c = eng.clients.get(&id)?;
    c.out.as_ref()?;
    let (s, p, sh) = eng.pubsub.counts(id);
    Some((c.resp, s + p + sh > 0 || c.subscriptions > 0))
}

/// Writes a message to a client: queued for after the reply if it is the
/// running client, otherwise straight to its connection.
fn deliver(eng: &mut Engine, id: ClientId, resp: u8, msg: &Reply) {
    if eng.tracking.current == Some(id) && !eng.clients.contains_key(&id) {
        lunakv_protocol::encode(msg, resp, &mut eng.tracking.outq);
        return;
    }
    if let Some(c) = eng.clients.get(&id) {
        let mut out = Vec::new();
        lunakv_protocol::encode(msg, resp, &mut out);
        c.send(Out::Data(out));
    }
}

/// Sends one invalidation message on behalf of tracking client `id`
/// (Redis's sendTrackingMessage), following its redirection.
fn send(eng: &mut Engine, id: ClientId, payload: Payload<'_>) {
    let Some(st) = eng.tracking.clients.get(&id) else {
        return;
    };
    let redirect = st.redirect;
    let Some((own_resp, _)) = client_state(eng, id) else {
        return;
    };
    let (target, resp, redirected) = if redirect != 0 {
        match client_state(eng, redirect) {
            Some((r, pubsub)) => {
                if r < 3 && !pubsub {
                    return;
                }
                (redirect, r, true)
            }
            None => {
                if let Some(st) = eng.tracking.clients.get_mut(&id) {
                    st.broken_redir = true;
                }
                if own_resp > 2 {
                    let m = Reply::Push(vec![
                        Reply::bulk(b"tracking-redir-broken"),
                        Reply::Int(redirect as i64),
                    ]);
                    deliver(eng, id, own_resp, &m);
                }
                return;
            }
        }
    } else {
        if own_resp < 3 {
            return;
        }
        (id, own_resp, false)
    };
    let value = match payload {
        Payload::Key(k) => Reply::Array(vec![Reply::bulk(k)]),
        Payload::Keys(ks) => Reply::Array(ks.into_iter().map(Reply::Bulk).collect()),
        // Redis sends the null of the tracking client's own protocol.
        Payload::Null if own_resp > 2 => Reply::Null,
        Payload::Null => Reply::Raw(Bytes::from_static(b"$-1\r\n")),
    };
    let msg = if resp > 2 {
        Reply::Push(vec![Reply::bulk(b"invalidate"), value])
    } else {
        let _ = redirected;
        Reply::Push(vec![Reply::bulk(b"message"), Reply::bulk(CHANNEL), value])
    };
    deliver(eng, target, resp, &msg);
}

/// A key was modified (Redis's trackingInvalidateKey): notifies the clients
/// that read it and records it for BCAST prefixes. `by` is the client that
/// modified it (None for expiry and eviction).
pub fn invalidate_key(eng: &mut Engine, key: &[u8], bcast: bool, by: Option<ClientId>) {
    if bcast && !eng.tracking.prefixes.is_empty() {
        for (p, b) in eng.tracking.prefixes.iter_mut() {
            if key.starts_with(p) {
                b.keys.insert(Bytes::copy_from_slice(key), by);
            }
        }
    }
    let Some(ids) = eng.tracking.table.remove(key) else {
        return;
    };
    eng.tracking.total_items = eng.tracking.total_items.saturating_sub(ids.len() as u64);
    let mut ids: Vec<ClientId> = ids.into_iter().collect();
    ids.sort_unstable();
    for id in ids {
        let Some(st) = eng.tracking.clients.get(&id) else {
            continue;
        };
        if st.bcast {
            continue;
        }
        let current = eng.tracking.current == Some(id);
        if st.noloop && current {
            continue;
        }
        if current && eng.tracking.in_cmd {
            eng.tracking.pending.push(Some(Bytes::copy_from_slice(key)));
        } else {
            send(eng, id, Payload::Key(key));
        }
    }
}

/// A database or all of them were flushed: every tracking client gets a
/// null invalidation and the key table is emptied.
pub fn invalidate_all(eng: &mut Engine) {
    let mut ids: Vec<ClientId> = eng.tracking.clients.keys().copied().collect();
    ids.sort_unstable();
    for id in ids {
        if eng.tracking.current == Some(id) && !eng.clients.contains_key(&id) {
            eng.tracking.pending.push(None);
        } else {
            send(eng, id, Payload::Null);
        }
    }
    eng.tracking.table.clear();
    eng.tracking.total_items = 0;
}

/// Sends the invalidations queued for the running client (after its
/// command, Redis's trackingHandlePendingKeyInvalidations).
pub fn handle_pending(eng: &mut Engine) {
    if eng.tracking.pending.is_empty() {
        return;
    }
    let Some(id) = eng.tracking.current else {
        eng.tracking.pending.clear();
        return;
    };
    for k in std::mem::take(&mut eng.tracking.pending) {
        match k {
            Some(k) => send(eng, id, Payload::Key(&k)),
            None => send(eng, id, Payload::Null),
        }
    }
}

/// Starts a top-level command of `c`: it becomes the current client.
pub fn begin(eng: &mut Engine, c: &Client) {
    if eng.tracking.current != Some(c.id) {
        release(eng);
    }
    eng.tracking.current = Some(c.id);
    eng.tracking.current_resp = c.resp;
}

/// Writes what is queued for the running client `c` into its output.
pub fn flush_to(eng: &mut Engine, c: &mut Client) {
    if eng.tracking.current == Some(c.id) && !eng.tracking.outq.is_empty() {
        c.outbuf.append(&mut eng.tracking.outq);
    }
}

/// The running client's turn is over: anything still queued for it goes
/// through its connection, and there is no current client any more.
pub fn release(eng: &mut Engine) {
    if let Some(id) = eng.tracking.current.take() {
        if !eng.tracking.outq.is_empty() {
            let data = std::mem::take(&mut eng.tracking.outq);
            if let Some(c) = eng.clients.get(&id) {
                c.send(Out::Data(data));
            }
        }
    }
    eng.tracking.pending.clear();
    eng.tracking.outq.clear();
}

/// Sends the keys modified under each BCAST prefix to its subscribers
/// (Redis's trackingBroadcastInvalidationMessages, run before sleeping).
pub fn broadcast(eng: &mut Engine) {
    if eng.tracking.prefixes.values().all(|b| b.keys.is_empty()) {
        return;
    }
    let prefixes: Vec<Bytes> = eng.tracking.prefixes.keys().cloned().collect();
    for p in prefixes {
        let Some(b) = eng.tracking.prefixes.get_mut(&p) else {
            continue;
        };
        if b.keys.is_empty() {
            continue;
        }
        let keys = std::mem::take(&mut b.keys);
        let clients: Vec<ClientId> = b.clients.iter().copied().collect();
        for id in clients {
            let noloop = eng.tracking.clients.get(&id).is_some_and(|s| s.noloop);
            let list: Vec<Bytes> = keys
                .iter()
                .filter(|(_, by)| !(noloop && **by == Some(id)))
                .map(|(k, _)| k.clone())
                .collect();
            if list.is_empty() {
                continue;
            }
            send(eng, id, Payload::Keys(list));
        }
    }
}

/// Keeps the key table within `tracking-table-max-keys`, invalidating
/// keys as if they were modified (Redis's trackingLimitUsedSlots).
pub fn limit_used_slots(eng: &mut Engine) {
    let max = eng.config.get_i64("tracking-table-max-keys");
    if max <= 0 || eng.tracking.table.is_empty() {
        return;
    }
    let max = max as usize;
    if eng.tracking.table.len() <= max {
        eng.tracking.limit_rounds = 0;
        return;
    }
    let mut effort = 100 * (eng.tracking.limit_rounds as usize + 1);
    while effort > 0 {
        effort -= 1;
        let Some(k) = eng.tracking.table.keys().next().cloned() else {
            break;
        };
        invalidate_key(eng, &k, false, None);
        if eng.tracking.table.len() <= max {
            eng.tracking.limit_rounds = 0;
            return;
        }
    }
    eng.tracking.limit_rounds += 1;
}

/// Work done when the engine is about to wait for more input: no client
/// runs, broadcasts go out.
pub fn before_sleep(eng: &mut Engine) {
    release(eng);
    if !eng.tracking.prefixes.is_empty() {
        broadcast(eng);
    }
}

/// Splits CLIENT TRACKING's arguments (from index 3) into options.
pub fn parse_options(eng: &Engine, c: &Client, args: &[Bytes]) -> Result<Options, Reply> {
    let mut o = Options::default();
    let mut j = 3;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let a = &args[j];
        if crate::ctx::eq_ic(a, "redirect") && more > 0 {
            j += 1;
            if o.redirect != 0 {
                return Err(Reply::err_static(
                    "ERR A client can only redirect to a single other client",
                ));
            }
            let Some(id) = lunakv_protocol::parse_i64(&args[j]) else {
                return Err(crate::errors::not_int());
            };
            let exists = id > 0
                && (id as ClientId == c.id
                    || eng
                        .clients
                        .get(&(id as ClientId))
                        .is_some_and(|x| x.out.is_some()));
            if !exists {
                return Err(Reply::err_static(
                    "ERR The client ID you want redirect to does not exist",
                ));
            }
            o.redirect = id as ClientId;
        } else if crate::ctx::eq_ic(a, "bcast") {
            o.bcast = true;
        } else if crate::ctx::eq_ic(a, "optin") {
            o.optin = true;
        } else if crate::ctx::eq_ic(a, "optout") {
            o.optout = true;
        } else if crate::ctx::eq_ic(a, "noloop") {
            o.noloop = true;
        } else if crate::ctx::eq_ic(a, "prefix") && more > 0 {
            j += 1;
            o.prefixes.push(args[j].clone());
        } else {
            return Err(crate::errors::syntax());
        }
        j += 1;
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use crate::testkit::TestEngine;

    #[test]
    fn tracking_options_and_info() {
        let mut t = TestEngine::new();
        assert_eq!(
            t.raw(&["CLIENT", "TRACKING", "on", "PREFIX", "a"]),
            "-ERR PREFIX option requires BCAST mode to be enabled\r\n"
        );
        assert_eq!(
            t.raw(&["CLIENT", "TRACKING", "on", "optin", "optout"]),
            "-ERR You can't specify both OPTIN mode and OPTOUT mode\r\n"
        );
        assert_eq!(
            t.raw(&["CLIENT", "TRACKING", "on", "bcast", "optin"]),
            "-ERR OPTIN and OPTOUT are not compatible with BCAST\r\n"
        );
        assert_eq!(
            t.raw(&["CLIENT", "TRACKING", "on", "REDIRECT", "9999"]),
            "-ERR The client ID you want redirect to does not exist\r\n"
        );
        assert_eq!(
            t.raw(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "FOO", "PREFIX", "FOOBAR"]),
            "-ERR Prefix 'FOO' overlaps with another provided prefix 'FOOBAR'. Prefixes for a single client must not overlap.\r\n"
        );
        assert_eq!(t.raw(&["CLIENT", "GETREDIR"]), ":-1\r\n");
        assert_eq!(t.raw(&["CLIENT", "TRACKING", "on", "optin"]), "+OK\r\n");
        assert_eq!(t.raw(&["CLIENT", "GETREDIR"]), ":0\r\n");
        assert_eq!(
            t.raw(&["CLIENT", "CACHING", "no"]),
            "-ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.\r\n"
        );
        assert_eq!(t.raw(&["CLIENT", "CACHING", "yes"]), "+OK\r\n");
        assert_eq!(t.raw(&["GET", "k"]), "$-1\r\n");
        assert_eq!(t.eng.tracking.table.len(), 1);
        // Without CACHING yes the next read is not tracked.
        assert_eq!(t.raw(&["GET", "k2"]), "$-1\r\n");
        assert_eq!(t.eng.tracking.table.len(), 1);
        assert_eq!(t.raw(&["CLIENT", "TRACKING", "off"]), "+OK\r\n");
        assert_eq!(
            t.raw(&["CLIENT", "CACHING", "yes"]),
            "-ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled\r\n"
        );
        assert!(t.eng.tracking.clients.is_empty());
    }

    /// Runs a command and returns what the connection receives, written
    /// through the engine's reply path.
    fn run(t: &mut TestEngine, args: &[&str]) -> String {
        let r = t.cmd(args);
        t.eng.write_reply(&mut t.client, &r);
        String::from_utf8_lossy(&std::mem::take(&mut t.client.outbuf)).into_owned()
    }

    #[test]
    fn invalidation_after_reply_in_resp3() {
        let mut t = TestEngine::new();
        t.raw(&["HELLO", "3"]);
        assert_eq!(t.raw(&["CLIENT", "TRACKING", "on"]), "+OK\r\n");
        t.raw(&["SET", "k", "v"]);
        assert_eq!(run(&mut t, &["GET", "k"]), "$1\r\nv\r\n");
        assert_eq!(
            run(&mut t, &["DEL", "k"]),
            ":1\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"
        );
        t.raw(&["GET", "k"]);
        assert_eq!(
            run(&mut t, &["FLUSHALL"]),
            "+OK\r\n>2\r\n$10\r\ninvalidate\r\n_\r\n"
        );
    }
}
