//! The `stream` command family: XADD, XLEN, XRANGE/XREVRANGE, XDEL, XTRIM,
//! XREAD/XREADGROUP (blocking), XGROUP, XACK, XPENDING, XCLAIM,
//! XAUTOCLAIM, XINFO and XSETID.
//!
//! Replies, errors, keyspace events and their order follow Redis 7.0's
//! `t_stream.c`. Blocking reads park the client with [`Ctx::block`]; the
//! engine re-runs the command when a key is signalled ready, so `$` IDs are
//! resolved to the stream's last ID before blocking. A re-run XREADGROUP
//! that finds its key gone (or of another type) fails with `-UNBLOCKED the
//! stream key no longer exists`, as Redis does.

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::blocking::parse_timeout_ms;
use crate::command::Cmd;
use crate::ctx::{eq_ic, notify, Ctx};
use crate::errors;
use crate::types::stream::{
    AppendError, EntryRef, Group, Nack, NodeLimits, Stream, StreamId, Trim,
};
use crate::value::{Entry, Value};

/// Declares this family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    let g = "stream";
    let k = (1, 1, 1);
    let k2 = (2, 2, 1);
    v.push(
        Cmd::new("xadd", -5, "write denyoom fast", k, g, "Appends a new entry to a stream", xadd)
            .syntax("key [NOMKSTREAM] [<MAXLEN | MINID> [= | ~] threshold [LIMIT count]] <* | id> field value [field value ...]")
            .since("5.0.0")
            .complexity("O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted."),
    );
    v.push(
        Cmd::new("xrange", -4, "readonly", k, g, "Return a range of elements in a stream, with IDs matching the specified IDs interval", xrange)
            .syntax("key start end [COUNT count]")
            .since("5.0.0")
            .complexity("O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1)."),
    );
    v.push(
        Cmd::new("xrevrange", -4, "readonly", k, g, "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE", xrevrange)
            .syntax("key end start [COUNT count]")
            .since("5.0.0")
            .complexity("O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1)."),
    );
    v.push(
        Cmd::new(
            "xlen",
            2,
            "readonly fast",
            k,
            g,
            "Return the number of entries in a stream",
            xlen,
        )
        .syntax("key")
        .since("5.0.0")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new("xdel", -3, "write fast", k, g, "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.", xdel)
            .syntax("key id [id ...]")
            .since("5.0.0")
            .complexity("O(1) for each single item to delete in the stream, regardless of the stream size."),
    );
    v.push(
        Cmd::new("xtrim", -4, "write", k, g, "Trims the stream to (approximately if '~' is passed) a certain size", xtrim)
            .syntax("key <MAXLEN | MINID> [= | ~] threshold [LIMIT count]")
            .since("5.0.0")
            .complexity("O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation."),
    );
    v.push(
        Cmd::new("xread", -4, "readonly blocking", (0, 0, 0), g, "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.", xread)
            .syntax("[COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]")
            .since("5.0.0")
            .complexity("For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.")
            .keys_fn(xread_keys),
    );
    v.push(
        Cmd::new("xreadgroup", -7, "write blocking", (0, 0, 0), g, "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.", xread)
            .syntax("GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]")
            .since("5.0.0")
            .complexity("For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.")
            .keys_fn(xread_keys),
    );
    v.push(
        Cmd::new(
            "xgroup",
            -2,
            "",
            (0, 0, 0),
            g,
            "A container for consumer groups commands",
            xgroup_help,
        )
        .since("5.0.0")
        .complexity("Depends on subcommand.")
        .sub(
            Cmd::new(
                "create",
                -5,
                "write denyoom",
                k2,
                g,
                "Create a consumer group.",
                xgroup_create,
            )
            .syntax("key groupname <id | $> [MKSTREAM] [ENTRIESREAD entries_read]")
            .since("5.0.0")
            .complexity("O(1)"),
        )
        .sub(
            Cmd::new(
                "setid",
                -5,
                "write",
                k2,
                g,
                "Set a consumer group to an arbitrary last delivered ID value.",
                xgroup_setid,
            )
            .syntax("key groupname <id | $> [ENTRIESREAD entries_read]")
            .since("5.0.0")
            .complexity("O(1)"),
        )
        .sub(
            Cmd::new(
                "destroy",
                4,
                "write",
                k2,
                g,
                "Destroy a consumer group.",
                xgroup_destroy,
            )
            .syntax("key groupname")
            .since("5.0.0")
            .complexity(
                "O(N) where N is the number of entries in the group's pending entries list (PEL).",
            ),
        )
        .sub(
            Cmd::new(
                "createconsumer",
                5,
                "write denyoom",
                k2,
                g,
                "Create a consumer in a consumer group.",
                xgroup_createconsumer,
            )
            .syntax("key groupname consumername")
            .since("6.2.0")
            .complexity("O(1)"),
        )
        .sub(
            Cmd::new(
                "delconsumer",
                5,
                "write",
                k2,
                g,
                "Delete a consumer from a consumer group.",
                xgroup_delconsumer,
            )
            .syntax("key groupname consumername")
            .since("5.0.0")
            .complexity("O(1)"),
        )
        .sub(
            Cmd::new(
                "help",
                2,
                "loading stale",
                (0, 0, 0),
                g,
                "Show helpful text about the different subcommands",
                xgroup_help,
            )
            .since("5.0.0")
            .complexity("O(1)"),
        ),
    );
    v.push(
        Cmd::new("xack", -4, "write fast", k, g, "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.", xack)
            .syntax("key group id [id ...]")
            .since("5.0.0")
            .complexity("O(1) for each message ID processed."),
    );
    v.push(
        Cmd::new("xpending", -3, "readonly", k, g, "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.", xpending)
            .syntax("key group [[IDLE min-idle-time] start end count [consumer]]")
            .since("5.0.0")
            .complexity("O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer."),
    );
    v.push(
        Cmd::new("xclaim", -6, "write fast", k, g, "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.", xclaim)
            .syntax("key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]")
            .since("5.0.0")
            .complexity("O(log N) with N being the number of messages in the PEL of the consumer group."),
    );
    v.push(
        Cmd::new("xautoclaim", -6, "write fast", k, g, "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.", xautoclaim)
            .syntax("key group consumer min-idle-time start [COUNT count] [JUSTID]")
            .since("6.2.0")
            .complexity("O(1) if COUNT is small."),
    );
    v.push(
        Cmd::new(
            "xinfo",
            -2,
            "",
            (0, 0, 0),
            g,
            "A container for stream introspection commands",
            xinfo_help,
        )
        .since("5.0.0")
        .complexity("Depends on subcommand.")
        .sub(
            Cmd::new(
                "stream",
                -3,
                "readonly",
                k2,
                g,
                "Get information about a stream",
                xinfo_stream,
            )
            .syntax("key [FULL [COUNT count]]")
            .since("5.0.0")
            .complexity("O(1)"),
        )
        .sub(
            Cmd::new(
                "groups",
                3,
                "readonly",
                k2,
                g,
                "List the consumer groups of a stream",
                xinfo_groups,
            )
            .syntax("key")
            .since("5.0.0")
            .complexity("O(1)"),
        )
        .sub(
            Cmd::new(
                "consumers",
                4,
                "readonly",
                k2,
                g,
                "List the consumers in a consumer group",
                xinfo_consumers,
            )
            .syntax("key groupname")
            .since("5.0.0")
            .complexity("O(1)"),
        )
        .sub(
            Cmd::new(
                "help",
                2,
                "loading stale",
                (0, 0, 0),
                g,
                "Show helpful text about the different subcommands",
                xinfo_help,
            )
            .since("5.0.0")
            .complexity("O(1)"),
        ),
    );
    v.push(
        Cmd::new(
            "xsetid",
            -3,
            "write denyoom fast",
            k,
            g,
            "An internal command for replicating stream values",
            xsetid,
        )
        .syntax("key last-id [ENTRIESADDED entries_added] [MAXDELETEDID max_deleted_entry_id]")
        .since("5.0.0")
        .complexity("O(1)"),
    );
}

/// Key positions of XREAD/XREADGROUP: the first half of the arguments
/// after STREAMS.
fn xread_keys(args: &[Bytes]) -> Vec<usize> {
    let from = if args.first().is_some_and(|a| a.len() == 10) {
        4
    } else {
        1
    };
    for i in from..args.len() {
        if eq_ic(&args[i], "streams") {
            let first = i + 1;
            let n = (args.len() - first) / 2;
            return (first..first + n).collect();
        }
    }
    Vec::new()
}

// ---------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------

fn invalid_id() -> Reply {
    Reply::err_static("ERR Invalid stream ID specified as stream command argument")
}

/// Redis's `string2ull`.
fn parse_u64(b: &[u8]) -> Option<u64> {
    if let Some(v) = lunakv_protocol::parse_i64(b) {
        return if v < 0 { None } else { Some(v as u64) };
    }
    let s = std::str::from_utf8(b).ok()?;
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let s = s.strip_prefix('+').unwrap_or(s);
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse::<u64>().ok()
}

/// Parses an ID (`streamGenericParseIDOrReply`). Returns the ID and
/// whether the sequence was given (false for `<ms>-*` when `seq_star`).
fn parse_id_full(
    b: &[u8],
    missing_seq: u64,
    strict: bool,
    seq_star: bool,
) -> Result<(StreamId, bool), Reply> {
    if b.len() > 127 {
        return Err(invalid_id());
    }
    // C strings stop at a NUL byte.
    let b = match b.iter().position(|&c| c == 0) {
        Some(p) => &b[..p],
        None => b,
    };
    if strict && (b == b"-" || b == b"+") {
        return Err(invalid_id());
    }
    if b == b"-" {
        return Ok((StreamId::MIN, true));
    }
    if b == b"+" {
        return Ok((StreamId::MAX, true));
    }
    let (ms_part, seq_part) = match b.iter().position(|&c| c == b'-') {
        Some(p) => (&b[..p], Some(&b[p + 1..])),
        None => (b, None),
    };
    let ms = parse_u64(ms_part).ok_or_else(invalid_id)?;
    match seq_part {
        Some(s) if seq_star && s == b"*" => Ok((StreamId::new(ms, 0), false)),
        Some(s) => Ok((
            StreamId::new(ms, parse_u64(s).ok_or_else(invalid_id)?),
            true,
        )),
        None => Ok((StreamId::new(ms, missing_seq), true)),
    }
}

fn parse_id(b: &[u8], missing_seq: u64) -> Result<StreamId, Reply> {
    parse_id_full(b, missing_seq, false, false).map(|x| x.0)
}

fn parse_strict_id(b: &[u8], missing_seq: u64) -> Result<StreamId, Reply> {
    parse_id_full(b, missing_seq, true, false).map(|x| x.0)
}

/// Parses a range bound with an optional `(` (exclusive) prefix.
fn parse_interval(b: &[u8], missing_seq: u64) -> Result<(StreamId, bool), Reply> {
    if b.len() > 1 && b[0] == b'(' {
        Ok((parse_strict_id(&b[1..], missing_seq)?, true))
    } else {
        Ok((parse_id(b, missing_seq)?, false))
    }
}

/// A range start: exclusive bounds move to the next ID.
fn parse_start(b: &[u8]) -> Result<StreamId, Reply> {
    let (id, ex) = parse_interval(b, 0)?;
    if ex {
        id.incr()
            .ok_or_else(|| Reply::err_static("ERR invalid start ID for the interval"))
    } else {
        Ok(id)
    }
}

/// A range end: exclusive bounds move to the previous ID.
fn parse_end(b: &[u8]) -> Result<StreamId, Reply> {
    let (id, ex) = parse_interval(b, u64::MAX)?;
    if ex {
        id.decr()
            .ok_or_else(|| Reply::err_static("ERR invalid end ID for the interval"))
    } else {
        Ok(id)
    }
}

fn id_reply(id: StreamId) -> Reply {
    Reply::Bulk(id.to_bytes())
}

fn entry_reply(id: StreamId, e: EntryRef<'_>) -> Reply {
    let mut f = Vec::with_capacity(e.len() * 2);
    for (a, b) in e.pairs() {
        f.push(Reply::bulk(a));
        f.push(Reply::bulk(b));
    }
    Reply::Array(vec![id_reply(id), Reply::Array(f)])
}

/// Entries of `[start, end]` (count 0 = all).
fn range_reply(s: &Stream, start: StreamId, end: StreamId, count: usize, rev: bool) -> Vec<Reply> {
    let mut out = Vec::new();
    s.for_each_range(start, end, rev, |id, e| {
        out.push(entry_reply(id, e));
        count == 0 || out.len() < count
    });
    out
}

fn word(s: &'static str) -> Bytes {
    Bytes::from_static(s.as_bytes())
}

/// The XCLAIM Redis propagates for a delivered or claimed entry
/// (`streamPropagateXCLAIM`).
fn xclaim_argv(key: &Bytes, group: &Bytes, id: StreamId, n: &Nack, last: StreamId) -> Vec<Bytes> {
    vec![
        word("XCLAIM"),
        key.clone(),
        group.clone(),
        n.consumer.clone(),
        word("0"),
        id.to_bytes(),
        word("TIME"),
        Bytes::from(n.delivery_time.to_string()),
        word("RETRYCOUNT"),
        Bytes::from(n.delivery_count.to_string()),
        word("FORCE"),
        word("JUSTID"),
        word("LASTID"),
        last.to_bytes(),
    ]
}

/// The XGROUP SETID Redis propagates when a group's last ID moved
/// (`streamPropagateGroupID`).
fn setid_argv(key: &Bytes, group: &Bytes, g: &Group) -> Vec<Bytes> {
    vec![
        word("XGROUP"),
        word("SETID"),
        key.clone(),
        group.clone(),
        g.last_id.to_bytes(),
        word("ENTRIESREAD"),
        Bytes::from(g.entries_read.to_string()),
    ]
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn sub_syntax_error(args: &[Bytes]) -> Reply {
    let sub: String = lossy(args.get(1).map_or(&b""[..], |b| &b[..]))
        .chars()
        .take(128)
        .collect();
    Reply::err(format!(
        "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {} HELP.",
        lossy(&args[0]).to_uppercase()
    ))
}

fn get_stream<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<Option<&'c mut Stream>, Reply> {
    match ctx.lookup(key) {
        None => Ok(None),
        Some(Entry {
            val: Value::Stream(s),
            ..
        }) => Ok(Some(s)),
        Some(_) => Err(errors::wrongtype()),
    }
}

fn get_stream_w<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<Option<&'c mut Stream>, Reply> {
    match ctx.lookup_write(key) {
        None => Ok(None),
        Some(Entry {
            val: Value::Stream(s),
            ..
        }) => Ok(Some(s)),
        Some(_) => Err(errors::wrongtype()),
    }
}

/// Emits a keyspace event and counts a change without signalling the key
/// as modified (Redis's bare `notifyKeyspaceEvent` + `dirty++`).
fn notify_only(ctx: &mut Ctx<'_>, key: &[u8], event: &str) {
    let db = ctx.client.db;
    ctx.eng
        .notify_keyspace_event(notify::STREAM, event, key, db);
}

fn node_limits(ctx: &Ctx<'_>) -> NodeLimits {
    NodeLimits {
        max_entries: ctx.eng.config.get_i64("stream-node-max-entries"),
        max_bytes: ctx.eng.config.get_i64("stream-node-max-bytes"),
    }
}

fn nogroup_key(key: &[u8], group: &[u8]) -> Reply {
    Reply::err(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        lossy(key),
        lossy(group)
    ))
}

// ---------------------------------------------------------------------
// XADD / XTRIM
// ---------------------------------------------------------------------

struct AddTrimArgs {
    trim: Trim,
    approx: bool,
    limit: u64,
    no_mkstream: bool,
    id: Option<(StreamId, bool)>,
    /// Position of the ID (XADD).
    idpos: usize,
    /// Position of the trim threshold argument.
    trim_arg: usize,
    /// Position of the `~` / `=` specifier, if any.
    spec_arg: Option<usize>,
    /// Position of the LIMIT keyword, if any.
    limit_arg: Option<usize>,
}

impl AddTrimArgs {
    /// MAXLEN / MINID at `i` may be followed by `~` or `=`: records which
    /// and returns the index just before the threshold argument.
    fn trim_operator(&mut self, args: &[Bytes], i: usize, more: usize) -> usize {
        self.approx = false;
        self.spec_arg = None;
        if more >= 2 {
            match &args[i + 1][..] {
                b"~" => self.approx = true,
                b"=" => {}
                _ => return i,
            }
            self.spec_arg = Some(i + 1);
            return i + 1;
        }
        i
    }
}

fn parse_add_trim(ctx: &Ctx<'_>, args: &[Bytes], xadd: bool) -> Result<AddTrimArgs, Reply> {
    let mut a = AddTrimArgs {
        trim: Trim::None,
        approx: false,
        limit: 0,
        no_mkstream: false,
        id: None,
        idpos: args.len(),
        trim_arg: 0,
        spec_arg: None,
        limit_arg: None,
    };
    let mut limit_given = false;
    let mut limit: i64 = 0;
    let mut i = 2;
    let both = "ERR syntax error, MAXLEN and MINID options at the same time are not compatible";
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = &args[i];
        if xadd && &opt[..] == b"*" {
            break;
        } else if eq_ic(opt, "maxlen") && more > 0 {
            if a.trim != Trim::None {
                return Err(Reply::err_static(both));
            }
            i = a.trim_operator(args, i, more);
            let n = ctx.int_arg(&args[i + 1])?;
            if n < 0 {
                return Err(Reply::err_static("ERR The MAXLEN argument must be >= 0."));
            }
            i += 1;
            a.trim_arg = i;
            a.trim = Trim::MaxLen(n as u64);
        } else if eq_ic(opt, "minid") && more > 0 {
            if a.trim != Trim::None {
                return Err(Reply::err_static(both));
            }
            i = a.trim_operator(args, i, more);
            let id = parse_strict_id(&args[i + 1], 0)?;
            i += 1;
            a.trim_arg = i;
            a.trim = Trim::MinId(id);
        } else if eq_ic(opt, "limit") && more > 0 {
            limit = ctx.int_arg(&args[i + 1])?;
            if limit < 0 {
                return Err(Reply::err_static("ERR The LIMIT argument must be >= 0."));
            }
            limit_given = true;
            a.limit_arg = Some(i);
            i += 1;
        } else if xadd && eq_ic(opt, "nomkstream") {
            a.no_mkstream = true;
        } else if xadd {
            a.id = Some(parse_id_full(opt, 0, true, true)?);
            break;
        } else {
            return Err(errors::syntax());
        }
        i += 1;
    }
    a.idpos = i;
    if limit != 0 && a.trim == Trim::None {
        return Err(Reply::err_static(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && a.trim == Trim::None {
        return Err(Reply::err_static(
            "ERR syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if limit_given {
        if !a.approx {
            return Err(Reply::err_static(
                "ERR syntax error, LIMIT cannot be used without the special ~ option",
            ));
        }
        a.limit = limit as u64;
    } else if a.approx {
        let mut l = ctx
            .eng
            .config
            .get_i64("stream-node-max-entries")
            .saturating_mul(100);
        if l <= 0 {
            l = 10000;
        }
        if l > 1_000_000 {
            l = 1_000_000;
        }
        a.limit = l as u64;
    }
    Ok(a)
}

fn xadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let a = match parse_add_trim(ctx, args, true) {
        Ok(a) => a,
        Err(e) => return e,
    };
    let field_pos = a.idpos + 1;
    let nargs = args.len().saturating_sub(field_pos);
    if field_pos > args.len() || nargs < 2 || nargs % 2 == 1 {
        return errors::wrong_args("xadd");
    }
    if let Some((id, true)) = a.id {
        if id.is_zero() {
            return Reply::err_static("ERR The ID specified in XADD must be greater than 0-0");
        }
    }
    let key = &args[1];
    let limits = node_limits(ctx);
    let now = ctx.now();
    let prop = ctx.propagating();
    let exists = match get_stream_w(ctx, key) {
        Err(e) => return e,
        Ok(s) => s.is_some(),
    };
    if !exists {
        if a.no_mkstream {
            return Reply::Null;
        }
        let lru = ctx.lru();
        ctx.db().add(key, Value::Stream(Box::default()), lru);
    }
    let Ok(Some(s)) = get_stream_w(ctx, key) else {
        return errors::wrongtype();
    };
    if s.last_id() == StreamId::MAX {
        return Reply::err_static(
            "ERR The stream has exhausted the last possible ID, unable to add more items",
        );
    }
    let too_small =
        "ERR The ID specified in XADD is equal or smaller than the target stream top item";
    let id = match a.id {
        None => s.next_auto_id(now),
        Some((id, true)) => Some(id),
        Some((id, false)) => {
            let last = s.last_id();
            if last.ms == id.ms {
                if last.seq == u64::MAX {
                    None
                } else {
                    Some(StreamId::new(id.ms, last.seq + 1))
                }
            } else {
                Some(id)
            }
        }
    };
    let Some(id) = id else {
        return Reply::err_static(too_small);
    };
    let fields: Vec<(&[u8], &[u8])> = args[field_pos..]
        .chunks_exact(2)
        .map(|c| (&c[0][..], &c[1][..]))
        .collect();
    match s.append_with_limits(id, &fields, limits) {
        Ok(()) => {}
        Err(AppendError::IdTooSmall) => return Reply::err_static(too_small),
        Err(AppendError::TooLarge) => {
            return Reply::err_static("ERR Elements are too large to be stored")
        }
    }
    let trimmed = s.trim(a.trim, a.approx, a.limit);
    let rewrite = if prop {
        let new_id = (!matches!(a.id, Some((_, true)))).then_some((a.idpos, id));
        rewrite_trim_args(args, &a, s, new_id)
    } else {
        None
    };
    ctx.modified(key, notify::STREAM, "xadd");
    if trimmed > 0 {
        notify_only(ctx, key, "xtrim");
    }
    if let Some(argv) = rewrite {
        ctx.rewrite_propagation(argv);
    }
    id_reply(id)
}

/// The argv to propagate for XADD/XTRIM: an approximate trim becomes an
/// exact one to the resulting length (or first ID), LIMIT is dropped, and
/// a generated ID replaces `*` / `<ms>-*` (Redis's
/// `streamRewriteTrimArgument` and ID rewriting). `None` if nothing changes.
fn rewrite_trim_args(
    args: &[Bytes],
    a: &AddTrimArgs,
    s: &Stream,
    new_id: Option<(usize, StreamId)>,
) -> Option<Vec<Bytes>> {
    if !a.approx && new_id.is_none() {
        return None;
    }
    let mut out = Vec::with_capacity(args.len() + 1);
    let mut i = 0;
    while i < args.len() {
        if a.approx && Some(i) == a.limit_arg {
            i += 2;
            continue;
        }
        if a.approx && Some(i) == a.spec_arg {
            out.push(Bytes::from_static(b"="));
        } else if a.approx && i == a.trim_arg {
            out.push(match a.trim {
                Trim::MaxLen(_) => Bytes::from(s.len().to_string()),
                _ => s.first_node_id().to_bytes(),
            });
        } else if let Some((pos, id)) = new_id.filter(|(p, _)| *p == i) {
            let _ = pos;
            out.push(id.to_bytes());
        } else {
            out.push(args[i].clone());
        }
        i += 1;
    }
    Some(out)
}

fn xtrim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let a = match parse_add_trim(ctx, args, false) {
        Ok(a) => a,
        Err(e) => return e,
    };
    let key = &args[1];
    let prop = ctx.propagating();
    let s = match get_stream_w(ctx, key) {
        Err(e) => return e,
        Ok(None) => return Reply::Int(0),
        Ok(Some(s)) => s,
    };
    let n = s.trim(a.trim, a.approx, a.limit);
    let rewrite = if n > 0 && prop {
        rewrite_trim_args(args, &a, s, None)
    } else {
        None
    };
    if let Some(argv) = rewrite {
        ctx.rewrite_propagation(argv);
    }
    if n > 0 {
        notify_only(ctx, key, "xtrim");
        let db = ctx.client.db;
        ctx.eng.signal_modified(db, key);
        ctx.eng.dirty += n;
    }
    Reply::Int(n as i64)
}

// ---------------------------------------------------------------------
// XRANGE / XREVRANGE / XLEN / XDEL
// ---------------------------------------------------------------------

fn xrange_generic(ctx: &mut Ctx<'_>, args: &[Bytes], rev: bool) -> Reply {
    let (sa, ea) = if rev {
        (&args[3], &args[2])
    } else {
        (&args[2], &args[3])
    };
    let start = match parse_start(sa) {
        Ok(x) => x,
        Err(e) => return e,
    };
    let end = match parse_end(ea) {
        Ok(x) => x,
        Err(e) => return e,
    };
    let mut count: i64 = -1;
    let mut j = 4;
    while j < args.len() {
        if eq_ic(&args[j], "count") && j + 1 < args.len() {
            count = match ctx.int_arg(&args[j + 1]) {
                Ok(c) => c.max(0),
                Err(e) => return e,
            };
            j += 2;
        } else {
            return errors::syntax();
        }
    }
    let s = match get_stream(ctx, &args[1]) {
        Err(e) => return e,
        Ok(None) => return Reply::Array(vec![]),
        Ok(Some(s)) => s,
    };
    if count == 0 {
        return Reply::NullArray;
    }
    let count = if count < 0 { 0 } else { count as usize };
    Reply::Array(range_reply(s, start, end, count, rev))
}

fn xrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    xrange_generic(ctx, args, false)
}

fn xrevrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    xrange_generic(ctx, args, true)
}

fn xlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match get_stream(ctx, &args[1]) {
        Err(e) => e,
        Ok(None) => Reply::Int(0),
        Ok(Some(s)) => Reply::Int(s.len() as i64),
    }
}

fn xdel(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let key = &args[1];
    match get_stream_w(ctx, key) {
        Err(e) => return e,
        Ok(None) => return Reply::Int(0),
        Ok(Some(_)) => {}
    }
    let mut ids = Vec::with_capacity(args.len() - 2);
    for a in &args[2..] {
        match parse_strict_id(a, 0) {
            Ok(id) => ids.push(id),
            Err(e) => return e,
        }
    }
    let Ok(Some(s)) = get_stream_w(ctx, key) else {
        return Reply::Int(0);
    };
    let n = s.delete(&ids);
    if n > 0 {
        ctx.modified(key, notify::STREAM, "xdel");
        ctx.eng.dirty += n - 1;
    }
    Reply::Int(n as i64)
}

// ---------------------------------------------------------------------
// XREAD / XREADGROUP
// ---------------------------------------------------------------------

/// What a stream argument of XREAD asks for.
#[derive(Clone, Copy)]
enum ReadId {
    /// Entries after this ID.
    After(StreamId),
    /// XREADGROUP's `>`.
    New,
}

fn xread(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let is_group = args[0].len() == 10;
    let rerun = ctx.eng.reblock_deadline.is_some();
    let mut timeout: Option<u64> = None;
    let mut count: i64 = 0;
    let mut streams_arg = 0;
    let mut noack = false;
    let mut group: Option<(&Bytes, &Bytes)> = None;
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - i - 1;
        let o = &args[i];
        if eq_ic(o, "block") && more > 0 {
            if ctx.in_script() {
                return Reply::err(format!(
                    "ERR {} command is not allowed with BLOCK option from scripts",
                    lossy(&args[0])
                ));
            }
            i += 1;
            match parse_timeout_ms(&args[i]) {
                Ok(t) => timeout = Some(t),
                Err(e) => return e,
            }
        } else if eq_ic(o, "count") && more > 0 {
            i += 1;
            match ctx.int_arg(&args[i]) {
                Ok(c) => count = c.max(0),
                Err(e) => return e,
            }
        } else if eq_ic(o, "streams") && more > 0 {
            streams_arg = i + 1;
            if !(args.len() - streams_arg).is_multiple_of(2) {
                return Reply::err_static("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
            }
            break;
        } else if eq_ic(o, "group") && more >= 2 {
            if !is_group {
                return Reply::err_static(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                );
            }
            group = Some((&args[i + 1], &args[i + 2]));
            i += 2;
        } else if eq_ic(o, "noack") {
            if !is_group {
                return Reply::err_static(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                );
            }
            noack = true;
        } else {
            return errors::syntax();
        }
        i += 1;
    }
    if streams_arg == 0 {
        return errors::syntax();
    }
    if is_group && group.is_none() {
        return Reply::err_static("ERR Missing GROUP option for XREADGROUP");
    }
    let n = (args.len() - streams_arg) / 2;
    let keys = &args[streams_arg..streams_arg + n];
    let id_args = &args[streams_arg + n..];
    let mut ids: Vec<ReadId> = Vec::with_capacity(n);
    let mut dollar = false;
    for (key, ida) in keys.iter().zip(id_args) {
        let found = match get_stream(ctx, key) {
            Err(e) => {
                if rerun {
                    if is_group {
                        return Reply::err_static("UNBLOCKED the stream key no longer exists");
                    }
                    None
                } else {
                    return e;
                }
            }
            Ok(s) => s.map(|s| {
                (
                    s.last_id(),
                    group.map(|(g, _)| s.group(g).is_some()).unwrap_or(false),
                )
            }),
        };
        if let Some((gname, _)) = group {
            match found {
                Some((_, true)) => {}
                None if rerun => {
                    return Reply::err_static("UNBLOCKED the stream key no longer exists")
                }
                Some(_) if rerun => {
                    return Reply::err_static(
                        "NOGROUP the consumer group this client was blocked on no longer exists",
                    )
                }
                _ => {
                    return Reply::err(format!(
                        "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                        lossy(key),
                        lossy(gname)
                    ))
                }
            }
        }
        if &ida[..] == b"$" {
            if is_group {
                return Reply::err_static("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.");
            }
            dollar = true;
            ids.push(ReadId::After(found.map_or(StreamId::MIN, |f| f.0)));
            continue;
        } else if &ida[..] == b">" {
            if !is_group {
                return Reply::err_static("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
            }
            ids.push(ReadId::New);
            continue;
        }
        match parse_strict_id(ida, 0) {
            Ok(id) => ids.push(ReadId::After(id)),
            Err(e) => return e,
        }
    }
    // A blocked client served later gets at most 1000 entries per stream
    // unless it gave COUNT (Redis's XREAD_BLOCKED_DEFAULT_COUNT).
    let count = if count == 0 && rerun {
        1000
    } else {
        count as usize
    };
    let now = ctx.now();
    let resp3 = ctx.resp() >= 3;
    let mut out: Vec<(Bytes, Vec<Reply>)> = Vec::new();
    let mut events: Vec<(Bytes, &'static str)> = Vec::new();
    let prop = ctx.propagating();
    let mut ops: Vec<Vec<Bytes>> = Vec::new();
    // A re-run after a wake-up serves the key that became ready only (once,
    // even if it is named several times), as Redis does.
    let serving = if rerun {
        ctx.eng.blocking.serving.clone()
    } else {
        None
    };
    for (idx, key) in keys.iter().enumerate() {
        if let Some(k) = &serving {
            if key != k || keys[..idx].contains(key) {
                continue;
            }
        }
        let Ok(Some(s)) = get_stream(ctx, key) else {
            continue;
        };
        let mut history = false;
        let mut start = None;
        match ids[idx] {
            ReadId::After(gt) => {
                if group.is_some() {
                    history = true;
                    start = Some(gt);
                } else if !s.is_empty() && s.edge_id(false).is_some_and(|m| m > gt) {
                    start = Some(gt);
                }
            }
            ReadId::New => {
                if let Some((g, _)) = group {
                    if !s.is_empty() {
                        let last = s.group(g).map_or(StreamId::MAX, |g| g.last_id);
                        if s.edge_id(false).is_some_and(|m| m > last) {
                            start = Some(last);
                        }
                    }
                }
            }
        }
        let Some(gt) = start else { continue };
        // Entries strictly after `gt`.
        let from = gt.incr();
        let mut entries = Vec::new();
        match group {
            None => {
                if let Some(from) = from {
                    entries = range_reply(s, from, StreamId::MAX, count, false);
                }
            }
            Some((gname, cname)) => {
                let gname = gname.clone();
                let created = {
                    let Some(g) = s.group_mut(&gname) else {
                        continue;
                    };
                    let created = g.create_consumer(cname, now);
                    if let Some(c) = g.consumers.get_mut(&cname[..]) {
                        c.seen_time = now;
                    }
                    created
                };
                if created {
                    events.push((key.clone(), "xgroup-createconsumer"));
                    if noack && prop {
                        ops.push(vec![
                            word("XGROUP"),
                            word("CREATECONSUMER"),
                            key.clone(),
                            gname.clone(),
                            cname.clone(),
                        ]);
                    }
                }
                if history {
                    entries = read_history(s, &gname, cname, from, count, now);
                } else if let Some(from) = from {
                    // Collect the IDs first, then update the group.
                    let mut got: Vec<StreamId> = Vec::new();
                    s.for_each_range(from, StreamId::MAX, false, |id, e| {
                        entries.push(entry_reply(id, e));
                        got.push(id);
                        count == 0 || got.len() < count
                    });
                    let advanced = !got.is_empty();
                    for id in got {
                        s.group_advance(&gname, id);
                        if !noack {
                            if let Some(g) = s.group_mut(&gname) {
                                g.add_pending(id, cname, now, 1);
                                if prop {
                                    if let Some(n) = g.pel.get(&id) {
                                        ops.push(xclaim_argv(key, &gname, id, n, g.last_id));
                                    }
                                }
                            }
                        }
                    }
                    if noack && advanced && prop {
                        if let Some(g) = s.group(&gname) {
                            ops.push(setid_argv(key, &gname, g));
                        }
                    }
                }
                events.push((key.clone(), ""));
            }
        }
        out.push((key.clone(), entries));
    }
    ctx.no_propagate();
    for op in ops {
        ctx.also_propagate(op);
    }
    for (k, ev) in events {
        if ev.is_empty() {
            ctx.eng.dirty += 1;
        } else {
            notify_only(ctx, &k, ev);
            ctx.eng.dirty += 1;
        }
    }
    if !out.is_empty() {
        return if resp3 {
            Reply::Map(
                out.into_iter()
                    .map(|(k, e)| (Reply::Bulk(k), Reply::Array(e)))
                    .collect(),
            )
        } else {
            Reply::Array(
                out.into_iter()
                    .map(|(k, e)| Reply::Array(vec![Reply::Bulk(k), Reply::Array(e)]))
                    .collect(),
            )
        };
    }
    let Some(timeout) = timeout else {
        return Reply::NullArray;
    };
    if !ctx.can_block() {
        return Reply::NullArray;
    }
    let block_keys: Vec<Bytes> = keys.to_vec();
    if dollar {
        // Block with `$` resolved, so that a re-run serves what arrives
        // after this moment.
        let mut a: Vec<Bytes> = args[..streams_arg + n].to_vec();
        for (idx, ida) in id_args.iter().enumerate() {
            match (ida == &b"$"[..], ids[idx]) {
                (true, ReadId::After(id)) => a.push(id.to_bytes()),
                _ => a.push(ida.clone()),
            }
        }
        ctx.block(&block_keys, timeout, &a, Reply::NullArray)
    } else {
        ctx.block(&block_keys, timeout, args, Reply::NullArray)
    }
}

/// XREADGROUP with an explicit ID: the consumer's own pending entries
/// after `from`.
fn read_history(
    s: &mut Stream,
    gname: &[u8],
    cname: &[u8],
    from: Option<StreamId>,
    count: usize,
    now: u64,
) -> Vec<Reply> {
    let Some(from) = from else { return vec![] };
    let ids: Vec<StreamId> = match s.group(gname).and_then(|g| g.consumers.get(cname)) {
        Some(c) => c
            .pel
            .range(from..)
            .take(if count == 0 { usize::MAX } else { count })
            .copied()
            .collect(),
        None => return vec![],
    };
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        match s.get(id) {
            Some(e) => {
                out.push(entry_reply(id, e));
                if let Some(n) = s.group_mut(gname).and_then(|g| g.pel.get_mut(&id)) {
                    n.delivery_time = now;
                    n.delivery_count += 1;
                }
            }
            None => out.push(Reply::Array(vec![id_reply(id), Reply::NullArray])),
        }
    }
    out
}

// ---------------------------------------------------------------------
// XGROUP
// ---------------------------------------------------------------------

const XGROUP_HELP: &str = "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
CREATE <key> <groupname> <id|$> [option]
    Create a new consumer group. Options are:
    * MKSTREAM
      Create the empty stream if it does not exist.
    * ENTRIESREAD entries_read
      Set the group's entries_read counter (internal use).
CREATECONSUMER <key> <groupname> <consumer>
    Create a new consumer in the specified group.
DELCONSUMER <key> <groupname> <consumer>
    Remove the specified consumer.
DESTROY <key> <groupname>
    Remove the specified group.
SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]
    Set the current group ID and entries_read counter.
HELP
    Prints this help.";

fn xgroup_help(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    crate::cmd::server::help_reply(XGROUP_HELP)
}

/// Common XGROUP checks (Redis's order): options, key, group. Returns
/// (mkstream, entries_read, key exists, group exists).
fn xgroup_prepare(
    ctx: &mut Ctx<'_>,
    args: &[Bytes],
    create: bool,
    setid: bool,
) -> Result<(bool, i64, bool, bool), Reply> {
    let mut mkstream = false;
    let mut entries_read = -1i64;
    let mut i = 5;
    while i < args.len() {
        if create && eq_ic(&args[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if (create || setid) && eq_ic(&args[i], "entriesread") && i + 1 < args.len() {
            entries_read = ctx.int_arg(&args[i + 1])?;
            if entries_read < 0 && entries_read != -1 {
                return Err(Reply::err_static(
                    "ERR value for ENTRIESREAD must be positive or -1",
                ));
            }
            i += 2;
        } else {
            return Err(sub_syntax_error(args));
        }
    }
    let key = &args[2];
    let gname = &args[3];
    let (exists, has_group) = match get_stream_w(ctx, key)? {
        Some(s) => (true, s.group(gname).is_some()),
        None => (false, false),
    };
    if !mkstream {
        if !exists {
            return Err(Reply::err_static("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."));
        }
        if !has_group && !create && !eq_ic(&args[1], "destroy") {
            return Err(Reply::err(format!(
                "NOGROUP No such consumer group '{}' for key name '{}'",
                lossy(gname),
                lossy(key)
            )));
        }
    }
    Ok((mkstream, entries_read, exists, has_group))
}

fn xgroup_create(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (_, entries_read, exists, _) = match xgroup_prepare(ctx, args, true, false) {
        Ok(x) => x,
        Err(e) => return e,
    };
    if args.len() > 8 {
        return sub_syntax_error(args);
    }
    let key = &args[1 + 1];
    let id = if &args[4][..] == b"$" {
        match get_stream_w(ctx, key) {
            Ok(Some(s)) => s.last_id(),
            _ => StreamId::MIN,
        }
    } else {
        match parse_strict_id(&args[4], 0) {
            Ok(id) => id,
            Err(e) => return e,
        }
    };
    if !exists {
        let lru = ctx.lru();
        ctx.db().add(key, Value::Stream(Box::default()), lru);
        let db = ctx.client.db;
        ctx.eng.signal_modified(db, key);
    }
    let Ok(Some(s)) = get_stream_w(ctx, key) else {
        return errors::wrongtype();
    };
    if s.create_group(&args[3], id, entries_read).is_some() {
        ctx.eng.dirty += 1;
        notify_only(ctx, key, "xgroup-create");
        Reply::ok()
    } else {
        Reply::err_static("BUSYGROUP Consumer Group name already exists")
    }
}

fn xgroup_setid(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (_, entries_read, _, _) = match xgroup_prepare(ctx, args, false, true) {
        Ok(x) => x,
        Err(e) => return e,
    };
    if args.len() != 5 && args.len() != 7 {
        return sub_syntax_error(args);
    }
    let key = &args[2];
    let Ok(Some(s)) = get_stream_w(ctx, key) else {
        return errors::wrongtype();
    };
    let id = if &args[4][..] == b"$" {
        s.last_id()
    } else {
        match parse_id(&args[4], 0) {
            Ok(id) => id,
            Err(e) => return e,
        }
    };
    if let Some(g) = s.group_mut(&args[3]) {
        g.last_id = id;
        g.entries_read = entries_read;
    }
    ctx.eng.dirty += 1;
    notify_only(ctx, key, "xgroup-setid");
    Reply::ok()
}

fn xgroup_destroy(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if let Err(e) = xgroup_prepare(ctx, args, false, false) {
        return e;
    }
    let key = &args[2];
    let Ok(Some(s)) = get_stream_w(ctx, key) else {
        return errors::wrongtype();
    };
    if s.destroy_group(&args[3]) {
        ctx.eng.dirty += 1;
        notify_only(ctx, key, "xgroup-destroy");
        // Wake XREADGROUP clients so that they get -NOGROUP.
        ctx.signal_ready(key);
        Reply::Int(1)
    } else {
        Reply::Int(0)
    }
}

fn xgroup_createconsumer(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if let Err(e) = xgroup_prepare(ctx, args, false, false) {
        return e;
    }
    let key = &args[2];
    let now = ctx.now();
    let Ok(Some(s)) = get_stream_w(ctx, key) else {
        return errors::wrongtype();
    };
    let created = s
        .group_mut(&args[3])
        .is_some_and(|g| g.create_consumer(&args[4], now));
    if created {
        ctx.eng.dirty += 1;
        notify_only(ctx, key, "xgroup-createconsumer");
    }
    Reply::Int(created as i64)
}

fn xgroup_delconsumer(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if let Err(e) = xgroup_prepare(ctx, args, false, false) {
        return e;
    }
    let key = &args[2];
    let Ok(Some(s)) = get_stream_w(ctx, key) else {
        return errors::wrongtype();
    };
    match s
        .group_mut(&args[3])
        .and_then(|g| g.delete_consumer(&args[4]))
    {
        Some(n) => {
            ctx.eng.dirty += 1;
            notify_only(ctx, key, "xgroup-delconsumer");
            Reply::Int(n as i64)
        }
        None => Reply::Int(0),
    }
}

// ---------------------------------------------------------------------
// XSETID / XACK / XPENDING
// ---------------------------------------------------------------------

fn xsetid(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let id = match parse_strict_id(&args[2], 0) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let mut entries_added: i64 = -1;
    let mut max_xdel = StreamId::MIN;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if eq_ic(&args[i], "entriesadded") && more > 0 {
            match ctx.int_arg(&args[i + 1]) {
                Ok(n) if n < 0 => return Reply::err_static("ERR entries_added must be positive"),
                Ok(n) => entries_added = n,
                Err(e) => return e,
            }
            i += 2;
        } else if eq_ic(&args[i], "maxdeletedid") && more > 0 {
            match parse_strict_id(&args[i + 1], 0) {
                Ok(m) => {
                    if id < m {
                        return Reply::err_static("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
                    }
                    max_xdel = m;
                }
                Err(e) => return e,
            }
            i += 2;
        } else {
            return errors::syntax();
        }
    }
    let key = &args[1];
    let s = match get_stream_w(ctx, key) {
        Err(e) => return e,
        Ok(None) => return errors::no_such_key(),
        Ok(Some(s)) => s,
    };
    if !s.is_empty() {
        let maxid = s.edge_id(false).unwrap_or(StreamId::MIN);
        if id < maxid {
            return Reply::err_static(
                "ERR The ID specified in XSETID is smaller than the target stream top item",
            );
        }
        if entries_added != -1 && s.len() > entries_added as u64 {
            return Reply::err_static("ERR The entries_added specified in XSETID is smaller than the target stream length");
        }
    }
    s.set_last_id(id);
    if entries_added != -1 {
        s.set_entries_added(entries_added as u64);
    }
    if !max_xdel.is_zero() {
        s.set_max_deleted_entry_id(max_xdel);
    }
    ctx.modified(key, notify::STREAM, "xsetid");
    Reply::ok()
}

fn xack(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let key = &args[1];
    match get_stream(ctx, key) {
        Err(e) => return e,
        Ok(None) => return Reply::Int(0),
        Ok(Some(s)) => {
            if s.group(&args[2]).is_none() {
                return Reply::Int(0);
            }
        }
    }
    let mut ids = Vec::with_capacity(args.len() - 3);
    for a in &args[3..] {
        match parse_strict_id(a, 0) {
            Ok(id) => ids.push(id),
            Err(e) => return e,
        }
    }
    let Ok(Some(s)) = get_stream(ctx, key) else {
        return Reply::Int(0);
    };
    let Some(g) = s.group_mut(&args[2]) else {
        return Reply::Int(0);
    };
    let mut n = 0;
    for id in ids {
        if g.remove_pending(id).is_some() {
            n += 1;
        }
    }
    ctx.eng.dirty += n;
    Reply::Int(n as i64)
}

fn xpending(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let argc = args.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return errors::syntax();
    }
    let mut start = StreamId::MIN;
    let mut end = StreamId::MAX;
    let mut count: i64 = 0;
    let mut minidle: i64 = 0;
    let mut consumer: Option<&Bytes> = None;
    if argc >= 6 {
        let mut si = 3;
        if eq_ic(&args[3], "idle") {
            minidle = match ctx.int_arg(&args[4]) {
                Ok(v) => v,
                Err(e) => return e,
            };
            if argc < 8 {
                return errors::syntax();
            }
            si += 2;
        }
        count = match ctx.int_arg(&args[si + 2]) {
            Ok(v) => v.max(0),
            Err(e) => return e,
        };
        start = match parse_start(&args[si]) {
            Ok(v) => v,
            Err(e) => return e,
        };
        end = match parse_end(&args[si + 1]) {
            Ok(v) => v,
            Err(e) => return e,
        };
        consumer = args.get(si + 3);
    }
    let now = ctx.now() as i64;
    let key = &args[1];
    let s = match get_stream(ctx, key) {
        Err(e) => return e,
        Ok(None) => return nogroup_key(key, &args[2]),
        Ok(Some(s)) => s,
    };
    let Some(g) = s.group(&args[2]) else {
        return nogroup_key(key, &args[2]);
    };
    if argc == 3 {
        if g.pel.is_empty() {
            return Reply::Array(vec![
                Reply::Int(0),
                Reply::Null,
                Reply::Null,
                Reply::NullArray,
            ]);
        }
        let first = g.pel.keys().next().copied().unwrap_or_default();
        let last = g.pel.keys().next_back().copied().unwrap_or_default();
        let cons: Vec<Reply> = g
            .consumers
            .iter()
            .filter(|(_, c)| !c.pel.is_empty())
            .map(|(n, c)| {
                Reply::Array(vec![
                    Reply::Bulk(n.clone()),
                    Reply::Bulk(Bytes::from(c.pel.len().to_string())),
                ])
            })
            .collect();
        return Reply::Array(vec![
            Reply::Int(g.pel.len() as i64),
            id_reply(first),
            id_reply(last),
            Reply::Array(cons),
        ]);
    }
    let mut out = Vec::new();
    if start > end {
        return Reply::Array(out);
    }
    let item = |id: &StreamId, n: &crate::types::stream::Nack| {
        Reply::Array(vec![
            id_reply(*id),
            Reply::Bulk(n.consumer.clone()),
            Reply::Int((now - n.delivery_time as i64).max(0)),
            Reply::Int(n.delivery_count as i64),
        ])
    };
    let idle_ok =
        |n: &crate::types::stream::Nack| minidle == 0 || now - n.delivery_time as i64 >= minidle;
    match consumer {
        Some(cn) => {
            let Some(c) = g.consumers.get(&cn[..]) else {
                return Reply::Array(vec![]);
            };
            for id in c.pel.range(start..=end) {
                if count == 0 {
                    break;
                }
                if let Some(n) = g.pel.get(id) {
                    if !idle_ok(n) {
                        continue;
                    }
                    out.push(item(id, n));
                    count -= 1;
                }
            }
        }
        None => {
            for (id, n) in g.pel.range(start..=end) {
                if count == 0 {
                    break;
                }
                if !idle_ok(n) {
                    continue;
                }
                out.push(item(id, n));
                count -= 1;
            }
        }
    }
    Reply::Array(out)
}

// ---------------------------------------------------------------------
// XCLAIM / XAUTOCLAIM
// ---------------------------------------------------------------------

fn int_or(ctx: &Ctx<'_>, b: &[u8], msg: &str) -> Result<i64, Reply> {
    ctx.int_arg(b).map_err(|_| Reply::err(format!("ERR {msg}")))
}

fn xclaim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let gname = &args[2];
    match get_stream(ctx, key) {
        Err(e) => return e,
        Ok(Some(s)) if s.group(gname).is_some() => {}
        _ => return nogroup_key(key, gname),
    }
    let minidle = match int_or(ctx, &args[4], "Invalid min-idle-time argument for XCLAIM") {
        Ok(v) => v.max(0),
        Err(e) => return e,
    };
    let mut ids = Vec::new();
    let mut j = 5;
    while j < args.len() {
        match parse_strict_id(&args[j], 0) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        j += 1;
    }
    let now = ctx.now() as i64;
    let mut force = false;
    let mut justid = false;
    let mut deliverytime: i64 = -1;
    let mut retrycount: i64 = -1;
    let mut last_id = StreamId::MIN;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let o = &args[j];
        if eq_ic(o, "force") {
            force = true;
        } else if eq_ic(o, "justid") {
            justid = true;
        } else if eq_ic(o, "idle") && more > 0 {
            j += 1;
            match int_or(ctx, &args[j], "Invalid IDLE option argument for XCLAIM") {
                Ok(v) => deliverytime = now.saturating_sub(v),
                Err(e) => return e,
            }
        } else if eq_ic(o, "time") && more > 0 {
            j += 1;
            match int_or(ctx, &args[j], "Invalid TIME option argument for XCLAIM") {
                Ok(v) => deliverytime = v,
                Err(e) => return e,
            }
        } else if eq_ic(o, "retrycount") && more > 0 {
            j += 1;
            match int_or(
                ctx,
                &args[j],
                "Invalid RETRYCOUNT option argument for XCLAIM",
            ) {
                Ok(v) => retrycount = v,
                Err(e) => return e,
            }
        } else if eq_ic(o, "lastid") && more > 0 {
            j += 1;
            match parse_strict_id(&args[j], 0) {
                Ok(v) => last_id = v,
                Err(e) => return e,
            }
        } else {
            return Reply::err(format!("ERR Unrecognized XCLAIM option '{}'", lossy(o)));
        }
        j += 1;
    }
    if deliverytime != -1 {
        if deliverytime < 0 || deliverytime > now {
            deliverytime = now;
        }
    } else {
        deliverytime = now;
    }
    let cname = &args[3];
    let prop = ctx.propagating();
    let mut ops: Vec<Vec<Bytes>> = Vec::new();
    let Ok(Some(s)) = get_stream(ctx, key) else {
        return nogroup_key(key, gname);
    };
    let mut dirty = 0u64;
    let mut created = false;
    let mut propagate_last_id = false;
    if let Some(g) = s.group_mut(gname) {
        if last_id > g.last_id {
            g.last_id = last_id;
            propagate_last_id = true;
        }
    }
    let mut out = Vec::new();
    for id in ids {
        let exists = s.contains(id);
        let Some(g) = s.group_mut(gname) else { break };
        if !exists {
            if let Some(n) = g.remove_pending(id) {
                if prop {
                    ops.push(xclaim_argv(key, gname, id, &n, g.last_id));
                }
                propagate_last_id = false;
                dirty += 1;
            }
            continue;
        }
        let has = g.pel.contains_key(&id);
        if !has && !force {
            continue;
        }
        if has && minidle > 0 {
            if let Some(n) = g.pel.get(&id) {
                if now - (n.delivery_time as i64) < minidle {
                    continue;
                }
            }
        }
        if g.create_consumer(cname, now as u64) {
            created = true;
        }
        if let Some(c) = g.consumers.get_mut(&cname[..]) {
            c.seen_time = now as u64;
        }
        let old = g.remove_pending(id);
        let mut cnt = old.map_or(1, |n| n.delivery_count);
        if retrycount >= 0 {
            cnt = retrycount as u64;
        } else if !justid {
            cnt += 1;
        }
        g.add_pending(id, cname, deliverytime as u64, cnt);
        if prop {
            if let Some(n) = g.pel.get(&id) {
                ops.push(xclaim_argv(key, gname, id, n, g.last_id));
            }
        }
        propagate_last_id = false;
        dirty += 1;
        if justid {
            out.push(id_reply(id));
        } else if let Some(e) = s.get(id) {
            out.push(entry_reply(id, e));
        }
    }
    if propagate_last_id {
        if prop {
            if let Some(g) = s.group(gname) {
                ops.push(setid_argv(key, gname, g));
            }
        }
        dirty += 1;
    }
    ctx.eng.dirty += dirty;
    if created {
        notify_only(ctx, key, "xgroup-createconsumer");
        ctx.eng.dirty += 1;
    }
    ctx.no_propagate();
    for op in ops {
        ctx.also_propagate(op);
    }
    Reply::Array(out)
}

fn xautoclaim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let minidle = match int_or(
        ctx,
        &args[4],
        "Invalid min-idle-time argument for XAUTOCLAIM",
    ) {
        Ok(v) => v.max(0),
        Err(e) => return e,
    };
    let start = match parse_start(&args[5]) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if eq_ic(&args[j], "count") && more > 0 {
            let max = i64::MAX / 16;
            match ctx.int_arg(&args[j + 1]) {
                Ok(v) if (1..=max).contains(&v) => count = v,
                _ => return Reply::err_static("ERR COUNT must be > 0"),
            }
            j += 1;
        } else if eq_ic(&args[j], "justid") {
            justid = true;
        } else {
            return errors::syntax();
        }
        j += 1;
    }
    let key = &args[1];
    let gname = &args[2];
    match get_stream(ctx, key) {
        Err(e) => return e,
        Ok(Some(s)) if s.group(gname).is_some() => {}
        _ => return nogroup_key(key, gname),
    }
    let now = ctx.now();
    let cname = &args[3];
    let prop = ctx.propagating();
    let mut ops: Vec<Vec<Bytes>> = Vec::new();
    let Ok(Some(s)) = get_stream(ctx, key) else {
        return nogroup_key(key, gname);
    };
    let mut attempts = count.saturating_mul(10);
    let keys: Vec<StreamId> = match s.group(gname) {
        Some(g) => g
            .pel
            .range(start..)
            .take((attempts as usize).saturating_add(1))
            .map(|(k, _)| *k)
            .collect(),
        None => vec![],
    };
    let mut out = Vec::new();
    let mut deleted = Vec::new();
    let mut dirty = 0u64;
    let mut created = false;
    let mut i = 0;
    while attempts > 0 && count > 0 && i < keys.len() {
        attempts -= 1;
        let id = keys[i];
        i += 1;
        let exists = s.contains(id);
        let Some(g) = s.group_mut(gname) else { break };
        if !exists {
            if let Some(n) = g.remove_pending(id) {
                if prop {
                    ops.push(xclaim_argv(key, gname, id, &n, g.last_id));
                }
            }
            deleted.push(id_reply(id));
            dirty += 1;
            count -= 1;
            continue;
        }
        if minidle > 0 {
            if let Some(n) = g.pel.get(&id) {
                if (now as i64) - (n.delivery_time as i64) < minidle {
                    continue;
                }
            }
        }
        if g.create_consumer(cname, now) {
            created = true;
        }
        if let Some(c) = g.consumers.get_mut(&cname[..]) {
            c.seen_time = now;
        }
        let old = g.remove_pending(id);
        let mut cnt = old.map_or(0, |n| n.delivery_count);
        if !justid {
            cnt += 1;
        }
        g.add_pending(id, cname, now, cnt);
        if prop {
            if let Some(n) = g.pel.get(&id) {
                ops.push(xclaim_argv(key, gname, id, n, g.last_id));
            }
        }
        if justid {
            out.push(id_reply(id));
        } else if let Some(e) = s.get(id) {
            out.push(entry_reply(id, e));
        }
        count -= 1;
        dirty += 1;
    }
    let cursor = keys.get(i).copied().unwrap_or(StreamId::MIN);
    ctx.eng.dirty += dirty;
    if created {
        notify_only(ctx, key, "xgroup-createconsumer");
        ctx.eng.dirty += 1;
    }
    ctx.no_propagate();
    for op in ops {
        ctx.also_propagate(op);
    }
    Reply::Array(vec![
        id_reply(cursor),
        Reply::Array(out),
        Reply::Array(deleted),
    ])
}

// ---------------------------------------------------------------------
// XINFO
// ---------------------------------------------------------------------

const XINFO_HELP: &str = "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
CONSUMERS <key> <groupname>
    Show consumers of <groupname>.
GROUPS <key>
    Show the stream consumer groups.
STREAM <key> [FULL [COUNT <count>]
    Show information about the stream.
HELP
    Prints this help.";

fn xinfo_help(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    crate::cmd::server::help_reply(XINFO_HELP)
}

fn s_(k: &'static str) -> Reply {
    Reply::Bulk(Bytes::from_static(k.as_bytes()))
}

fn get_stream_or_nokey<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<&'c mut Stream, Reply> {
    match get_stream(ctx, key)? {
        Some(s) => Ok(s),
        None => Err(errors::no_such_key()),
    }
}

fn opt_int(v: Option<i64>) -> Reply {
    v.map_or(Reply::Null, Reply::Int)
}

fn xinfo_stream(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let optc = args.len() - 3;
    let mut full = false;
    let mut count: i64 = 10;
    if optc > 0 {
        if optc != 1 && optc != 3 {
            return sub_syntax_error(args);
        }
        if !eq_ic(&args[3], "full") {
            return sub_syntax_error(args);
        }
        full = true;
        if optc == 3 {
            if !eq_ic(&args[4], "count") {
                return sub_syntax_error(args);
            }
            count = match ctx.int_arg(&args[5]) {
                Ok(c) if c < 0 => 10,
                Ok(c) => c,
                Err(e) => return e,
            };
        }
    }
    let s = match get_stream_or_nokey(ctx, &args[2]) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let keys = s.node_count() as i64;
    let mut m = vec![
        (s_("length"), Reply::Int(s.len() as i64)),
        (s_("radix-tree-keys"), Reply::Int(keys)),
        (
            s_("radix-tree-nodes"),
            Reply::Int(if keys == 0 { 1 } else { keys * 2 }),
        ),
        (s_("last-generated-id"), id_reply(s.last_id())),
        (
            s_("max-deleted-entry-id"),
            id_reply(s.max_deleted_entry_id()),
        ),
        (s_("entries-added"), Reply::Int(s.entries_added() as i64)),
        (s_("recorded-first-entry-id"), id_reply(s.first_id())),
    ];
    if !full {
        m.push((s_("groups"), Reply::Int(s.group_count() as i64)));
        let first = range_reply(s, StreamId::MIN, StreamId::MAX, 1, false).pop();
        let last = range_reply(s, StreamId::MIN, StreamId::MAX, 1, true).pop();
        m.push((s_("first-entry"), first.unwrap_or(Reply::Null)));
        m.push((s_("last-entry"), last.unwrap_or(Reply::Null)));
        return Reply::Map(m);
    }
    let count = count as usize;
    let within = |n: usize| count == 0 || n < count;
    m.push((
        s_("entries"),
        Reply::Array(range_reply(s, StreamId::MIN, StreamId::MAX, count, false)),
    ));
    let mut groups = Vec::new();
    for (name, g) in s.groups() {
        let mut pel = Vec::new();
        for (id, n) in &g.pel {
            if !within(pel.len()) {
                break;
            }
            pel.push(Reply::Array(vec![
                id_reply(*id),
                Reply::Bulk(n.consumer.clone()),
                Reply::Int(n.delivery_time as i64),
                Reply::Int(n.delivery_count as i64),
            ]));
        }
        let mut consumers = Vec::new();
        for (cn, c) in &g.consumers {
            let mut cp = Vec::new();
            for id in &c.pel {
                if !within(cp.len()) {
                    break;
                }
                let (t, d) = g.pel.get(id).map_or((0, 0), |n| {
                    (n.delivery_time as i64, n.delivery_count as i64)
                });
                cp.push(Reply::Array(vec![
                    id_reply(*id),
                    Reply::Int(t),
                    Reply::Int(d),
                ]));
            }
            consumers.push(Reply::Map(vec![
                (s_("name"), Reply::Bulk(cn.clone())),
                (s_("seen-time"), Reply::Int(c.seen_time as i64)),
                (s_("pel-count"), Reply::Int(c.pel.len() as i64)),
                (s_("pending"), Reply::Array(cp)),
            ]));
        }
        groups.push(Reply::Map(vec![
            (s_("name"), Reply::Bulk(name.clone())),
            (s_("last-delivered-id"), id_reply(g.last_id)),
            (
                s_("entries-read"),
                opt_int((g.entries_read != -1).then_some(g.entries_read)),
            ),
            (s_("lag"), opt_int(s.group_lag(g))),
            (s_("pel-count"), Reply::Int(g.pel.len() as i64)),
            (s_("pending"), Reply::Array(pel)),
            (s_("consumers"), Reply::Array(consumers)),
        ]));
    }
    m.push((s_("groups"), Reply::Array(groups)));
    Reply::Map(m)
}

fn xinfo_groups(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let s = match get_stream_or_nokey(ctx, &args[2]) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let mut out = Vec::new();
    for (name, g) in s.groups() {
        out.push(Reply::Map(vec![
            (s_("name"), Reply::Bulk(name.clone())),
            (s_("consumers"), Reply::Int(g.consumers.len() as i64)),
            (s_("pending"), Reply::Int(g.pel.len() as i64)),
            (s_("last-delivered-id"), id_reply(g.last_id)),
            (
                s_("entries-read"),
                opt_int((g.entries_read != -1).then_some(g.entries_read)),
            ),
            (s_("lag"), opt_int(s.group_lag(g))),
        ]));
    }
    Reply::Array(out)
}

fn xinfo_consumers(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let now = ctx.now() as i64;
    let key = &args[2];
    let s = match get_stream_or_nokey(ctx, key) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let Some(g) = s.group(&args[3]) else {
        return Reply::err(format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            lossy(&args[3]),
            lossy(key)
        ));
    };
    let out = g
        .consumers
        .iter()
        .map(|(n, c)| {
            Reply::Map(vec![
                (s_("name"), Reply::Bulk(n.clone())),
                (s_("pending"), Reply::Int(c.pel.len() as i64)),
                (s_("idle"), Reply::Int((now - c.seen_time as i64).max(0))),
            ])
        })
        .collect();
    Reply::Array(out)
}

#[cfg(test)]
mod tests {
    use crate::testkit::TestEngine;

    #[test]
    fn xadd_xrange_basics() {
        let mut t = TestEngine::new();
        assert_eq!(t.raw(&["XADD", "s", "1-1", "a", "b"]), "$3\r\n1-1\r\n");
        assert_eq!(t.raw(&["XADD", "s", "1-*", "c", "d"]), "$3\r\n1-2\r\n");
        assert_eq!(t.raw(&["XLEN", "s"]), ":2\r\n");
        assert_eq!(
            t.raw(&["XRANGE", "s", "-", "+", "COUNT", "1"]),
            "*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"
        );
        assert_eq!(
            t.raw(&["XADD", "s", "1-1", "a", "b"]),
            "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"
        );
        assert_eq!(
            t.raw(&["XADD", "s", "0-0", "a", "b"]),
            "-ERR The ID specified in XADD must be greater than 0-0\r\n"
        );
        assert_eq!(
            t.raw(&["XRANGE", "s", "(1-1", "+", "COUNT", "0"]),
            "*-1\r\n"
        );
        assert_eq!(
            t.raw(&["XADD", "n", "NOMKSTREAM", "*", "a", "b"]),
            "$-1\r\n"
        );
        assert_eq!(t.raw(&["TYPE", "s"]), "+stream\r\n");
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "s"]), "$6\r\nstream\r\n");
        assert_eq!(
            t.raw(&["XADD", "s", "*", "a"]),
            "-ERR wrong number of arguments for 'xadd' command\r\n"
        );
    }

    #[test]
    fn groups_pending_and_claims() {
        let mut t = TestEngine::new();
        for id in ["1", "2", "3"] {
            t.raw(&["XADD", "s", id, "f", "v"]);
        }
        assert_eq!(t.raw(&["XGROUP", "CREATE", "s", "g", "0"]), "+OK\r\n");
        assert!(t
            .raw(&["XGROUP", "CREATE", "s", "g", "0"])
            .starts_with("-BUSYGROUP"));
        let r = t.raw(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "2",
            "STREAMS",
            "s",
            ">",
        ]);
        assert!(r.contains("1-0") && r.contains("2-0") && !r.contains("3-0"));
        assert_eq!(
            t.raw(&["XPENDING", "s", "g"]),
            "*4\r\n:2\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n*1\r\n*2\r\n$5\r\nalice\r\n$1\r\n2\r\n"
        );
        assert_eq!(
            t.raw(&["XCLAIM", "s", "g", "bob", "0", "1-0", "JUSTID"]),
            "*1\r\n$3\r\n1-0\r\n"
        );
        assert_eq!(t.raw(&["XACK", "s", "g", "1-0", "2-0"]), ":2\r\n");
        assert_eq!(
            t.raw(&["XPENDING", "s", "g"]),
            "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n"
        );
        assert_eq!(
            t.raw(&["XAUTOCLAIM", "s", "g", "c", "0", "0-0"]),
            "*3\r\n$3\r\n0-0\r\n*0\r\n*0\r\n"
        );
        assert!(t
            .raw(&["XREADGROUP", "GROUP", "nog", "a", "STREAMS", "s", ">"])
            .starts_with("-NOGROUP"));
    }

    #[test]
    fn xread_resp3_is_a_map() {
        let mut t = TestEngine::new();
        t.raw(&["XADD", "s", "5-0", "f", "v"]);
        t.raw(&["HELLO", "3"]);
        assert!(t
            .raw(&["XREAD", "STREAMS", "s", "0"])
            .starts_with("%1\r\n$1\r\ns\r\n*1\r\n"));
        assert_eq!(t.raw(&["XREAD", "STREAMS", "s", "$"]), "_\r\n");
    }

    #[test]
    fn trimming_and_setid() {
        let mut t = TestEngine::new();
        for i in 1..=10 {
            t.raw(&["XADD", "s", &i.to_string(), "f", "v"]);
        }
        assert_eq!(t.raw(&["XTRIM", "s", "MAXLEN", "~", "5"]), ":0\r\n");
        assert_eq!(t.raw(&["XTRIM", "s", "MAXLEN", "5"]), ":5\r\n");
        assert_eq!(t.raw(&["XTRIM", "s", "MINID", "8"]), ":2\r\n");
        assert_eq!(
            t.raw(&["XTRIM", "s", "MAXLEN", "1", "LIMIT", "1"]),
            "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n"
        );
        assert!(t.raw(&["XSETID", "s", "1-0"]).contains("smaller"));
        assert_eq!(t.raw(&["XSETID", "s", "100-0"]), "+OK\r\n");
        assert_eq!(t.raw(&["XSETID", "nokey", "1-0"]), "-ERR no such key\r\n");
    }
}
