//! Pub/Sub and keyspace notifications.

use crate::client::Client;
use crate::command::Cmd;
use crate::Engine;

/// Declares this family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    let _ = v;
}

/// Drops a departing client's subscriptions.
pub fn on_client_freed(eng: &mut Engine, c: &mut Client) {
    let _ = (eng, c);
}

/// Publishes a keyspace event (`__keyspace@<db>__:<key>` / `__keyevent@<db>__:<event>`).
pub fn publish_keyspace_event(eng: &mut Engine, class: u32, event: &str, key: &[u8], db: usize) {
    let _ = (eng, class, event, key, db);
}

/// Parses `notify-keyspace-events` into class bits (`None` if invalid).
pub fn parse_notify_flags(s: &str) -> Option<u32> {
    let _ = s;
    Some(0)
}
