//! The command families. Each module declares its commands with
//! [`crate::command::Cmd`] in a `register` function; [`all`] gathers them
//! into the one command table.

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::client::Client;
use crate::command::Cmd;
use crate::Engine;

pub mod bitmap;
pub mod connection;
pub mod functions;
pub mod geo;
pub mod hash;
pub mod hyperloglog;
pub mod introspection;
pub mod keys;
pub mod list;
pub mod migrate;
pub mod persistence;
pub mod pubsub;
pub mod scripting;
pub mod server;
pub mod set;
pub mod sort;
pub mod stream;
pub mod string;
pub mod transactions;
pub mod zset;

/// Every command declaration.
pub fn all() -> Vec<Cmd> {
    let mut v = Vec::new();
    connection::register(&mut v);
    keys::register(&mut v);
    string::register(&mut v);
    bitmap::register(&mut v);
    server::register(&mut v);
    introspection::register(&mut v);
    transactions::register(&mut v);
    pubsub::register(&mut v);
    scripting::register(&mut v);
    functions::register(&mut v);
    hash::register(&mut v);
    list::register(&mut v);
    set::register(&mut v);
    zset::register(&mut v);
    stream::register(&mut v);
    hyperloglog::register(&mut v);
    geo::register(&mut v);
    sort::register(&mut v);
    persistence::register(&mut v);
    migrate::register(&mut v);
    v
}

/// Commands a RESP2 client in subscribed mode may still send.
pub fn allowed_in_pubsub_context(cmd: &Cmd) -> bool {
    matches!(
        cmd.full_name.as_str(),
        "ping"
            | "subscribe"
            | "unsubscribe"
            | "psubscribe"
            | "punsubscribe"
            | "ssubscribe"
            | "sunsubscribe"
            | "quit"
            | "reset"
    )
}

/// Commands that run immediately even inside MULTI instead of being queued.
pub fn runs_inside_multi(cmd: &Cmd) -> bool {
    matches!(
        cmd.full_name.as_str(),
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// Queue-time checks for a command inside MULTI; `Some(error)` rejects it
/// (and makes EXEC answer EXECABORT).
pub fn queue_check(eng: &mut Engine, cmd: &Cmd, args: &[Bytes]) -> Option<Reply> {
    transactions::queue_check(eng, cmd, args)
}

/// Called when a client goes away: pub/sub, blocking and other per-client
/// registrations are dropped.
pub fn on_client_freed(eng: &mut Engine, c: &mut Client) {
    pubsub::on_client_freed(eng, c);
}

/// Publishes a keyspace notification.
pub fn publish_keyspace_event(eng: &mut Engine, class: u32, event: &str, key: &[u8], db: usize) {
    pubsub::publish_keyspace_event(eng, class, event, key, db);
}

/// Parses `notify-keyspace-events` into class bits (`None` if invalid).
pub fn parse_notify_flags(s: &str) -> Option<u32> {
    pubsub::parse_notify_flags(s)
}

/// Per-tick work of the families (blocked-client timeouts, ...).
pub fn cron(eng: &mut Engine) {
    let _ = eng;
}
