//! Pub/Sub (channels, patterns, shard channels) and keyspace notifications.
//!
//! Subscriptions live in the engine; a message to another client is encoded
//! in that client's protocol and sent through its outbound channel, a
//! message to the client whose command is running goes into its own output
//! buffer, so ordering with the command's reply is kept.

use std::collections::HashMap;

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::client::{Client, ClientId, Out};
use crate::command::Cmd;
use crate::ctx::{eq_ic, notify, Ctx};
use crate::errors;
use crate::glob::glob_match;
use crate::Engine;

/// The three kinds of subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    fn sub_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"subscribe",
            Kind::Pattern => b"psubscribe",
            Kind::Shard => b"ssubscribe",
        }
    }

    fn unsub_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"unsubscribe",
            Kind::Pattern => b"punsubscribe",
            Kind::Shard => b"sunsubscribe",
        }
    }
}

/// What one client is subscribed to, in subscription order.
#[derive(Debug, Default)]
struct ClientSubs {
    channels: Vec<Bytes>,
    patterns: Vec<Bytes>,
    shard: Vec<Bytes>,
}

impl ClientSubs {
    fn list(&mut self, k: Kind) -> &mut Vec<Bytes> {
        match k {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    fn total(&self) -> usize {
        self.channels.len() + self.patterns.len() + self.shard.len()
    }

    /// Redis counts shard channels separately from the others in replies.
    fn count_for(&self, k: Kind) -> usize {
        match k {
            Kind::Shard => self.shard.len(),
            _ => self.channels.len() + self.patterns.len(),
        }
    }
}

/// The server's subscription registry.
#[derive(Debug, Default)]
pub struct PubSub {
    channels: HashMap<Bytes, Vec<ClientId>>,
    patterns: HashMap<Bytes, Vec<ClientId>>,
    /// Patterns in the order they were first subscribed (delivery order).
    pattern_order: Vec<Bytes>,
    shard: HashMap<Bytes, Vec<ClientId>>,
    clients: HashMap<ClientId, ClientSubs>,
}

impl PubSub {
    fn map(&mut self, k: Kind) -> &mut HashMap<Bytes, Vec<ClientId>> {
        match k {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    /// Number of pattern subscriptions over all clients (PUBSUB NUMPAT).
    pub fn numpat(&self) -> usize {
        self.patterns.values().map(|v| v.len()).sum()
    }

    /// Number of clients with at least one subscription.
    pub fn subscribed_clients(&self) -> usize {
        self.clients.values().filter(|s| s.total() > 0).count()
    }

    /// Channel, pattern and shard subscription counts of a client
    /// (CLIENT LIST `sub=`, `psub=`, `ssub=`).
    pub fn counts(&self, id: ClientId) -> (usize, usize, usize) {
        self.clients
            .get(&id)
            .map(|s| (s.channels.len(), s.patterns.len(), s.shard.len()))
            .unwrap_or((0, 0, 0))
    }

    fn subscribe(&mut self, id: ClientId, k: Kind, ch: &Bytes) -> bool {
        let subs = self.clients.entry(id).or_default();
        if subs.list(k).contains(ch) {
            return false;
        }
        // A copy: the argument is a slice of the connection's read buffer,
        // which a subscription must not keep alive.
        let ch = &Bytes::copy_from_slice(ch);
        subs.list(k).push(ch.clone());
        if k == Kind::Pattern && !self.patterns.contains_key(ch) {
            self.pattern_order.push(ch.clone());
        }
        self.map(k).entry(ch.clone()).or_default().push(id);
        true
    }

    fn unsubscribe(&mut self, id: ClientId, k: Kind, ch: &Bytes) -> bool {
        let Some(subs) = self.clients.get_mut(&id) else {
            return false;
        };
        let list = subs.list(k);
        let Some(pos) = list.iter().position(|c| c == ch) else {
            return false;
        };
        list.remove(pos);
        let m = self.map(k);
        if let Some(v) = m.get_mut(ch) {
            v.retain(|&c| c != id);
            if v.is_empty() {
                m.remove(ch);
                if k == Kind::Pattern {
                    self.pattern_order.retain(|p| p != ch);
                }
            }
        }
        true
    }

    fn subscribed(&self, id: ClientId, k: Kind) -> Vec<Bytes> {
        self.clients
            .get(&id)
            .map(|s| match k {
                Kind::Channel => s.channels.clone(),
                Kind::Pattern => s.patterns.clone(),
                Kind::Shard => s.shard.clone(),
            })
            .unwrap_or_default()
    }

    fn count(&self, id: ClientId, k: Kind) -> usize {
        self.clients.get(&id).map(|s| s.count_for(k)).unwrap_or(0)
    }

    fn total(&self, id: ClientId) -> usize {
        self.clients.get(&id).map(|s| s.total()).unwrap_or(0)
    }
}

/// Declares this family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    let g = "pubsub";
    let f = "pubsub noscript loading stale";
    v.push(
        Cmd::new(
            "subscribe",
            -2,
            f,
            (0, 0, 0),
            g,
            "Listens for messages published to channels.",
            subscribe,
        )
        .syntax("channel [channel ...]")
        .since("2.0.0"),
    );
    v.push(
        Cmd::new(
            "unsubscribe",
            -1,
            f,
            (0, 0, 0),
            g,
            "Stops listening to messages posted to channels.",
            unsubscribe,
        )
        .syntax("[channel [channel ...]]")
        .since("2.0.0"),
    );
    v.push(
        Cmd::new(
            "psubscribe",
            -2,
            f,
            (0, 0, 0),
            g,
            "Listens for messages published to channels that match one or more patterns.",
            psubscribe,
        )
        .syntax("pattern [pattern ...]")
        .since("2.0.0"),
    );
    v.push(
        Cmd::new(
            "punsubscribe",
            -1,
            f,
            (0, 0, 0),
            g,
            "Stops listening to messages published to channels that match one or more patterns.",
            punsubscribe,
        )
        .syntax("[pattern [pattern ...]]")
        .since("2.0.0"),
    );
    v.push(
        Cmd::new(
            "ssubscribe",
            -2,
            f,
            (1, -1, 1),
            g,
            "Listens for messages published to shard channels.",
            ssubscribe,
        )
        .syntax("shardchannel [shardchannel ...]")
        .since("7.0.0"),
    );
    v.push(
        Cmd::new(
            "sunsubscribe",
            -1,
            f,
            (1, -1, 1),
            g,
            "Stops listening to messages posted to shard channels.",
            sunsubscribe,
        )
        .syntax("[shardchannel [shardchannel ...]]")
        .since("7.0.0"),
    );
    v.push(
        Cmd::new(
            "publish",
            3,
            "pubsub loading stale fast may_replicate",
            (0, 0, 0),
            g,
            "Posts a message to a channel.",
            publish,
        )
        .syntax("channel message")
        .since("2.0.0"),
    );
    v.push(
        Cmd::new(
            "spublish",
            3,
            "pubsub loading stale fast may_replicate",
            (1, 1, 1),
            g,
            "Post a message to a shard channel",
            spublish,
        )
        .syntax("shardchannel message")
        .since("7.0.0"),
    );
    let sf = "pubsub loading stale";
    v.push(
        Cmd::new(
            "pubsub",
            -2,
            "",
            (0, 0, 0),
            g,
            "A container for Pub/Sub commands.",
            help,
        )
        .since("2.8.0")
        .sub(
            Cmd::new(
                "channels",
                -2,
                sf,
                (0, 0, 0),
                g,
                "Returns the active channels.",
                channels,
            )
            .syntax("[pattern]"),
        )
        .sub(
            Cmd::new(
                "numsub",
                -2,
                sf,
                (0, 0, 0),
                g,
                "Returns a count of subscribers to channels.",
                numsub,
            )
            .syntax("[channel [channel ...]]"),
        )
        .sub(Cmd::new(
            "numpat",
            2,
            sf,
            (0, 0, 0),
            g,
            "Returns a count of unique pattern subscriptions.",
            numpat,
        ))
        .sub(
            Cmd::new(
                "shardchannels",
                -2,
                sf,
                (0, 0, 0),
                g,
                "Returns the active shard channels.",
                shardchannels,
            )
            .syntax("[pattern]")
            .since("7.0.0"),
        )
        .sub(
            Cmd::new(
                "shardnumsub",
                -2,
                sf,
                (0, 0, 0),
                g,
                "Returns the count of subscribers of shard channels.",
                shardnumsub,
            )
            .syntax("[shardchannel [shardchannel ...]]")
            .since("7.0.0"),
        )
        .sub(Cmd::new(
            "help",
            2,
            "loading stale",
            (0, 0, 0),
            g,
            "Returns helpful text about the different subcommands.",
            help,
        )),
    );
}

fn push(items: Vec<Reply>) -> Reply {
    Reply::Push(items)
}

/// Sends (un)subscribe confirmations. To a network client they go straight
/// into its output, bypassing CLIENT REPLY OFF/SKIP as Redis's push
/// messages do; inside EXEC they become part of EXEC's reply.
fn encode_all(ctx: &mut Ctx<'_>, msgs: &[Reply]) -> Reply {
    let resp = ctx.client.resp;
    if ctx.caller == crate::client::Caller::Client {
        for m in msgs {
            lunakv_protocol::encode(m, resp, &mut ctx.client.outbuf);
        }
        return Reply::Raw(Bytes::new());
    }
    let mut out = Vec::new();
    for m in msgs {
        lunakv_protocol::encode(m, resp, &mut out);
    }
    Reply::Raw(Bytes::from(out))
}

fn sync_count(ctx: &mut Ctx<'_>) {
    ctx.client.subscriptions = ctx.eng.pubsub.total(ctx.client.id);
}

fn do_subscribe(ctx: &mut Ctx<'_>, args: &[Bytes], k: Kind) -> Reply {
    let id = ctx.client.id;
    let mut msgs = Vec::new();
    for ch in &args[1..] {
        ctx.eng.pubsub.subscribe(id, k, ch);
        let n = ctx.eng.pubsub.count(id, k);
        msgs.push(push(vec![
            Reply::bulk(k.sub_word()),
            Reply::Bulk(ch.clone()),
            Reply::Int(n as i64),
        ]));
    }
    sync_count(ctx);
    encode_all(ctx, &msgs)
}

fn do_unsubscribe(ctx: &mut Ctx<'_>, args: &[Bytes], k: Kind) -> Reply {
    let id = ctx.client.id;
    let targets: Vec<Bytes> = if args.len() > 1 {
        args[1..].to_vec()
    } else {
        ctx.eng.pubsub.subscribed(id, k)
    };
    let mut msgs = Vec::new();
    for ch in &targets {
        ctx.eng.pubsub.unsubscribe(id, k, ch);
        let n = ctx.eng.pubsub.count(id, k);
        msgs.push(push(vec![
            Reply::bulk(k.unsub_word()),
            Reply::Bulk(ch.clone()),
            Reply::Int(n as i64),
        ]));
    }
    if targets.is_empty() {
        let n = ctx.eng.pubsub.count(id, k);
        msgs.push(push(vec![
            Reply::bulk(k.unsub_word()),
            Reply::Null,
            Reply::Int(n as i64),
        ]));
    }
    sync_count(ctx);
    encode_all(ctx, &msgs)
}

fn subscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    do_subscribe(ctx, args, Kind::Channel)
}
fn psubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    do_subscribe(ctx, args, Kind::Pattern)
}
fn ssubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    do_subscribe(ctx, args, Kind::Shard)
}
fn unsubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    do_unsubscribe(ctx, args, Kind::Channel)
}
fn punsubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    do_unsubscribe(ctx, args, Kind::Pattern)
}
fn sunsubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    do_unsubscribe(ctx, args, Kind::Shard)
}

/// Sends a push message to a client: into the running client's buffer if
/// it is the target, otherwise through the target's outbound channel.
fn deliver(eng: &mut Engine, current: Option<&mut Client>, target: ClientId, msg: &Reply) {
    if let Some(c) = current {
        if c.id == target {
            lunakv_protocol::encode(msg, c.resp, &mut c.outbuf);
            return;
        }
    }
    if let Some(c) = eng.clients.get(&target) {
        let mut out = Vec::new();
        lunakv_protocol::encode(msg, c.resp, &mut out);
        c.send(Out::Data(out));
    }
}

/// Publishes `msg` on `channel` to channel and pattern subscribers;
/// returns the number of clients that received it.
pub fn publish_message(
    eng: &mut Engine,
    mut current: Option<&mut Client>,
    channel: &[u8],
    msg: &[u8],
    shard: bool,
) -> usize {
    let mut n = 0;
    let ch = Bytes::copy_from_slice(channel);
    let map = if shard {
        &eng.pubsub.shard
    } else {
        &eng.pubsub.channels
    };
    if let Some(ids) = map.get(&ch).cloned() {
        let word: &[u8] = if shard { b"smessage" } else { b"message" };
        let m = push(vec![
            Reply::bulk(word),
            Reply::Bulk(ch.clone()),
            Reply::bulk(msg),
        ]);
        for id in ids {
            deliver(eng, current.as_deref_mut(), id, &m);
            n += 1;
        }
    }
    if !shard && !eng.pubsub.pattern_order.is_empty() {
        let pats: Vec<Bytes> = eng.pubsub.pattern_order.clone();
        for p in pats {
            if !glob_match(&p, channel, false) {
                continue;
            }
            let ids = eng.pubsub.patterns.get(&p).cloned().unwrap_or_default();
            let m = push(vec![
                Reply::bulk(b"pmessage"),
                Reply::Bulk(p.clone()),
                Reply::Bulk(ch.clone()),
                Reply::bulk(msg),
            ]);
            for id in ids {
                deliver(eng, current.as_deref_mut(), id, &m);
                n += 1;
            }
        }
    }
    n
}

fn publish(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let n = publish_message(ctx.eng, Some(ctx.client), &args[1], &args[2], false);
    Reply::Int(n as i64)
}

fn spublish(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let n = publish_message(ctx.eng, Some(ctx.client), &args[1], &args[2], true);
    Reply::Int(n as i64)
}

fn list_channels(map: &HashMap<Bytes, Vec<ClientId>>, pat: Option<&Bytes>) -> Reply {
    Reply::Array(
        map.keys()
            .filter(|c| pat.is_none_or(|p| glob_match(p, c, false)))
            .map(|c| Reply::Bulk(c.clone()))
            .collect(),
    )
}

fn channels(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if args.len() > 3 {
        return errors::wrong_args("pubsub|channels");
    }
    list_channels(&ctx.eng.pubsub.channels, args.get(2))
}

fn shardchannels(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if args.len() > 3 {
        return errors::wrong_args("pubsub|shardchannels");
    }
    list_channels(&ctx.eng.pubsub.shard, args.get(2))
}

fn numsub_of(map: &HashMap<Bytes, Vec<ClientId>>, args: &[Bytes]) -> Reply {
    let mut v = Vec::new();
    for ch in &args[2..] {
        v.push((
            Reply::Bulk(ch.clone()),
            Reply::Int(map.get(ch).map(|x| x.len()).unwrap_or(0) as i64),
        ));
    }
    Reply::Map(v)
}

fn numsub(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    numsub_of(&ctx.eng.pubsub.channels, args)
}

fn shardnumsub(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    numsub_of(&ctx.eng.pubsub.shard, args)
}

fn numpat(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    Reply::Int(ctx.eng.pubsub.patterns.len() as i64)
}

fn help(_ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if args.len() >= 2 && !eq_ic(&args[1], "help") {
        return errors::unknown_subcommand(&args[0], &args[1]);
    }
    let lines = [
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    ];
    Reply::Array(
        lines
            .iter()
            .map(|l| Reply::Status(Bytes::from_static(l.as_bytes())))
            .collect(),
    )
}

/// Drops a departing client's subscriptions.
pub fn on_client_freed(eng: &mut Engine, c: &mut Client) {
    let id = c.id;
    if let Some(subs) = eng.pubsub.clients.remove(&id) {
        for (k, list) in [
            (Kind::Channel, subs.channels),
            (Kind::Pattern, subs.patterns),
            (Kind::Shard, subs.shard),
        ] {
            for ch in list {
                let m = eng.pubsub.map(k);
                if let Some(v) = m.get_mut(&ch) {
                    v.retain(|&x| x != id);
                    if v.is_empty() {
                        m.remove(&ch);
                        if k == Kind::Pattern {
                            eng.pubsub.pattern_order.retain(|p| p != &ch);
                        }
                    }
                }
            }
        }
    }
    c.subscriptions = 0;
}

/// Publishes a keyspace event (`__keyspace@<db>__:<key>` carrying the event,
/// `__keyevent@<db>__:<event>` carrying the key), as selected by
/// `notify-keyspace-events`.
pub fn publish_keyspace_event(eng: &mut Engine, class: u32, event: &str, key: &[u8], db: usize) {
    let flags = eng.notify_flags;
    if flags & notify::KEYSPACE != 0 {
        let mut ch = format!("__keyspace@{db}__:").into_bytes();
        ch.extend_from_slice(key);
        publish_message(eng, None, &ch, event.as_bytes(), false);
    }
    if flags & notify::KEYEVENT != 0 {
        let ch = format!("__keyevent@{db}__:{event}");
        publish_message(eng, None, ch.as_bytes(), key, false);
    }
    let _ = class;
}

/// Parses `notify-keyspace-events` into class bits (`None` if a character
/// is not a class). Without `K` or `E` nothing is published, so the result
/// is then 0, as in Redis.
pub fn parse_notify_flags(s: &str) -> Option<u32> {
    let mut f = 0;
    for c in s.chars() {
        f |= match c {
            'A' => notify::ALL,
            'g' => notify::GENERIC,
            '$' => notify::STRING,
            'l' => notify::LIST,
            's' => notify::SET,
            'h' => notify::HASH,
            'z' => notify::ZSET,
            'x' => notify::EXPIRED,
            'e' => notify::EVICTED,
            'K' => notify::KEYSPACE,
            'E' => notify::KEYEVENT,
            't' => notify::STREAM,
            'm' => notify::KEY_MISS,
            'd' => notify::MODULE,
            'n' => notify::NEW,
            _ => return None,
        };
    }
    if f & (notify::KEYSPACE | notify::KEYEVENT) == 0 {
        return Some(0);
    }
    Some(f)
}

/// The canonical text of notification flags (what CONFIG GET prints).
pub fn notify_flags_to_string(f: u32) -> String {
    let mut s = String::new();
    if f & notify::ALL == notify::ALL {
        s.push('A');
    } else {
        for (bit, c) in [
            (notify::GENERIC, 'g'),
            (notify::STRING, '$'),
            (notify::LIST, 'l'),
            (notify::SET, 's'),
            (notify::HASH, 'h'),
            (notify::ZSET, 'z'),
            (notify::EXPIRED, 'x'),
            (notify::EVICTED, 'e'),
            (notify::STREAM, 't'),
            (notify::MODULE, 'd'),
        ] {
            if f & bit != 0 {
                s.push(c);
            }
        }
    }
    for (bit, c) in [
        (notify::KEYSPACE, 'K'),
        (notify::KEYEVENT, 'E'),
        (notify::KEY_MISS, 'm'),
        (notify::NEW, 'n'),
    ] {
        if f & bit != 0 {
            s.push(c);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::TestEngine;

    #[test]
    fn subscribe_replies_and_counts() {
        let mut t = TestEngine::new();
        assert_eq!(
            t.raw(&["subscribe", "a", "b"]),
            "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
        );
        assert!(t.raw(&["get", "x"]).starts_with("-ERR Can't execute 'get'"));
        assert_eq!(t.raw(&["ping"]), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
        assert!(t
            .raw(&["publish", "a", "hi"])
            .starts_with("-ERR Can't execute 'publish'"));
        assert_eq!(
            t.raw(&["unsubscribe"]),
            "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n"
        );
        assert_eq!(
            t.raw(&["unsubscribe"]),
            "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"
        );
    }

    #[test]
    fn notify_flags_round_trip() {
        assert_eq!(
            parse_notify_flags("KEA")
                .map(notify_flags_to_string)
                .as_deref(),
            Some("AKE")
        );
        assert_eq!(parse_notify_flags("g$"), Some(0));
        assert_eq!(
            parse_notify_flags("Kx")
                .map(notify_flags_to_string)
                .as_deref(),
            Some("xK")
        );
        assert_eq!(parse_notify_flags("Q"), None);
    }
}
