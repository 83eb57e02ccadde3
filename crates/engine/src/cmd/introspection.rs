//! Introspection commands: COMMAND (COUNT, INFO, DOCS, GETKEYS,
//! GETKEYSANDFLAGS, LIST) and CLIENT.
//!
//! COMMAND DOCS builds Redis's argument-docs structure from each
//! declaration's `syntax` string (the docs line `key value [NX | XX]`), so
//! that redis-cli's hints work. COMMAND INFO and GETKEYSANDFLAGS use Redis
//! 7.0.15's key specifications (a fact table below) where a command has
//! them, and the declaration's key positions otherwise.

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::client::{Client, ClientId, Out, ReplyMode};
use crate::cmd::server::help_reply;
use crate::command::{acl, flags, Cmd};
use crate::ctx::{eq_ic, Ctx};
use crate::{errors, Engine};

/// Declares this family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    let g = "server";
    // COMMAND runs its own subcommand dispatch: the engine's lookup wants a
    // subcommand for every container, and plain `COMMAND` must work.
    v.push(
        Cmd::new(
            "command",
            -1,
            "loading stale",
            (0, 0, 0),
            g,
            "Get array of Redis command details",
            command,
        )
        .syntax("")
        .since("2.8.13")
        .complexity("O(N) where N is the total number of Redis commands")
        .acl("connection"),
    );
    let cg = "connection";
    let cl = |name,
              arity,
              fl,
              summary,
              h,
              syntax: &'static str,
              since: &'static str,
              cx: &'static str| {
        Cmd::new(name, arity, fl, (0, 0, 0), cg, summary, h)
            .syntax(syntax)
            .since(since)
            .complexity(cx)
    };
    let ns = "noscript loading stale";
    let ans = "admin noscript loading stale";
    v.push(
        Cmd::new("client", -2, "", (0, 0, 0), cg, "A container for client connection commands", client_container)
            .since("2.4.0")
            .complexity("Depends on subcommand.")
            .sub(cl(
                "caching",
                3,
                ns,
                "Instruct the server about tracking or not keys in the next request",
                client_caching,
                "<YES | NO>",
                "6.0.0",
                "O(1)",
            ))
            .sub(cl("getname", 2, ns, "Get the current connection name", client_getname, "", "2.6.9", "O(1)"))
            .sub(cl(
                "getredir",
                2,
                ns,
                "Get tracking notifications redirection client ID if any",
                client_getredir,
                "",
                "6.0.0",
                "O(1)",
            ))
            .sub(cl(
                "help",
                2,
                "loading stale",
                "Show helpful text about the different subcommands",
                client_help,
                "",
                "5.0.0",
                "O(1)",
            ))
            .sub(cl("id", 2, ns, "Returns the client ID for the current connection", client_id, "", "5.0.0", "O(1)"))
            .sub(cl(
                "info",
                2,
                ns,
                "Returns information about the current client connection.",
                client_info,
                "",
                "6.2.0",
                "O(1)",
            ))
            .sub(cl(
                "kill",
                -3,
                ans,
                "Kill the connection of a client",
                client_kill,
                "<ip:port | [ID client-id] [TYPE NORMAL | MASTER | SLAVE | REPLICA | PUBSUB] [USER username] [ADDR ip:port] [LADDR ip:port] [SKIPME YES | NO] [[ID client-id] ...]>",
                "2.4.0",
                "O(N) where N is the number of client connections",
            ))
            .sub(cl(
                "list",
                -2,
                ans,
                "Get the list of client connections",
                client_list,
                "[TYPE NORMAL | MASTER | REPLICA | PUBSUB] [ID client-id [client-id ...]]",
                "2.4.0",
                "O(N) where N is the number of client connections",
            ))
            .sub(cl(
                "no-evict",
                3,
                ans,
                "Set client eviction mode for the current connection",
                client_no_evict,
                "<ON | OFF>",
                "7.0.0",
                "O(1)",
            ))
            .sub(cl(
                "no-touch",
                3,
                ns,
                "Controls whether commands sent by the client will alter the LRU/LFU of the keys they access.",
                client_no_touch,
                "<ON | OFF>",
                "7.2.0",
                "O(1)",
            ))
            .sub(cl(
                "pause",
                -3,
                ans,
                "Stop processing commands from clients for some time",
                client_pause,
                "timeout [WRITE | ALL]",
                "2.9.50",
                "O(1)",
            ))
            .sub(cl(
                "reply",
                3,
                ns,
                "Instruct the server whether to reply to commands",
                client_reply,
                "<ON | OFF | SKIP>",
                "3.2.0",
                "O(1)",
            ))
            .sub(cl("setname", 3, ns, "Set the current connection name", client_setname, "connection-name", "2.6.9", "O(1)"))
            .sub(cl(
                "setinfo",
                4,
                ns,
                "Set client or connection specific info",
                client_setinfo,
                "<LIB-NAME libname | LIB-VER libver>",
                "7.2.0",
                "O(1)",
            ))
            .sub(cl(
                "tracking",
                -3,
                ns,
                "Enable or disable server assisted client side caching support",
                client_tracking,
                "<ON | OFF> [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]",
                "6.0.0",
                "O(1). Some options may introduce additional complexity.",
            ))
            .sub(cl(
                "trackinginfo",
                2,
                ns,
                "Return information about server assisted client side caching for the current connection",
                client_trackinginfo,
                "",
                "6.2.0",
                "O(1)",
            ))
            .sub(cl(
                "unblock",
                -3,
                ans,
                "Unblock a client blocked in a blocking command from a different connection",
                client_unblock,
                "client-id [TIMEOUT | ERROR]",
                "5.0.0",
                "O(log N) where N is the number of client connections",
            ))
            .sub(cl(
                "unpause",
                2,
                ans,
                "Resume processing of clients that were paused",
                client_unpause,
                "",
                "6.2.0",
                "O(N) Where N is the number of paused clients",
            )),
    );
}

/// Checks a client name (CLIENT SETNAME, HELLO SETNAME): printable ASCII
/// without spaces.
pub fn validate_client_name(name: &[u8]) -> Result<(), Reply> {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(Reply::err_static(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    Ok(())
}

fn client_container(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    errors::wrong_args("client")
}

// ---------------------------------------------------------------- argument docs

/// One argument of a command, in Redis's COMMAND DOCS structure.
#[derive(Debug, Clone, PartialEq)]
pub struct ArgDoc {
    pub name: String,
    /// `key`, `string`, `integer`, `double`, `pattern`, `unix-time`,
    /// `pure-token`, `oneof` or `block`.
    pub typ: &'static str,
    pub token: Option<String>,
    pub optional: bool,
    pub multiple: bool,
    pub multiple_token: bool,
    pub args: Vec<ArgDoc>,
}

impl ArgDoc {
    fn leaf(name: &str, token: Option<String>) -> ArgDoc {
        ArgDoc {
            name: name.to_string(),
            typ: arg_type(name),
            token,
            optional: false,
            multiple: false,
            multiple_token: false,
            args: Vec::new(),
        }
    }

    fn pure(token: &str) -> ArgDoc {
        ArgDoc {
            name: token.to_ascii_lowercase(),
            typ: "pure-token",
            token: Some(token.to_string()),
            optional: false,
            multiple: false,
            multiple_token: false,
            args: Vec::new(),
        }
    }

    fn group(typ: &'static str, name: String, args: Vec<ArgDoc>) -> ArgDoc {
        ArgDoc {
            name,
            typ,
            token: None,
            optional: false,
            multiple: false,
            multiple_token: false,
            args,
        }
    }
}

/// The argument type Redis's docs would give a placeholder name.
fn arg_type(name: &str) -> &'static str {
    let n = name.to_ascii_lowercase();
    if n == "key"
        || n.ends_with("key")
        || n.starts_with("key") && n[3..].bytes().all(|c| c.is_ascii_digit())
    {
        return "key";
    }
    if n.starts_with("unix-time") {
        return "unix-time";
    }
    if n == "pattern" {
        return "pattern";
    }
    if matches!(
        n.as_str(),
        "score" | "min" | "max" | "longitude" | "latitude" | "radius" | "width" | "height"
    ) || n.ends_with("-float")
    {
        return "double";
    }
    if matches!(
        n.as_str(),
        "count"
            | "offset"
            | "seconds"
            | "milliseconds"
            | "start"
            | "end"
            | "index"
            | "index1"
            | "index2"
            | "numkeys"
            | "db"
            | "destination-db"
            | "increment"
            | "decrement"
            | "timeout"
            | "port"
            | "bit"
            | "cursor"
            | "protover"
            | "client-id"
            | "numreplicas"
            | "min-match-len"
            | "stop"
            | "numsubs"
            | "database"
    ) {
        return "integer";
    }
    "string"
}

#[derive(Debug, Clone)]
enum Raw {
    Word(String),
    Group(ArgDoc),
    /// A repeated run of words (`key value [key value ...]`).
    Rep(Vec<String>),
}

fn is_token(w: &str) -> bool {
    w.bytes().any(|c| c.is_ascii_uppercase())
        && w.bytes().all(|c| {
            c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'-' || c == b'_' || c == b':'
        })
}

fn tokenize(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for w in s.split_whitespace() {
        let mut w = w;
        while let Some(r) = w.strip_prefix('[').or_else(|| w.strip_prefix('<')) {
            out.push(w[..1].to_string());
            w = r;
        }
        let mut tail = Vec::new();
        while let Some(r) = w.strip_suffix(']').or_else(|| w.strip_suffix('>')) {
            tail.push(w[w.len() - 1..].to_string());
            w = r;
        }
        if !w.is_empty() {
            out.push(w.to_string());
        }
        out.extend(tail);
    }
    out
}

struct Parser {
    toks: Vec<String>,
    pos: usize,
}

impl Parser {
    /// Parses branches separated by `|` until `closer` (consumed) or the end.
    fn alt(&mut self, closer: Option<&str>, depth: usize) -> (Vec<Vec<Raw>>, Vec<String>) {
        let start = self.pos;
        let mut branches = vec![Vec::new()];
        while self.pos < self.toks.len() {
            let t = self.toks[self.pos].clone();
            if Some(t.as_str()) == closer {
                let src = self.toks[start..self.pos].to_vec();
                self.pos += 1;
                return (branches, src);
            }
            self.pos += 1;
            match t.as_str() {
                "|" => branches.push(Vec::new()),
                "[" | "<" if depth < 16 => {
                    let close = if t == "[" { "]" } else { ">" };
                    let (inner, src) = self.alt(Some(close), depth + 1);
                    let cur = match branches.last_mut() {
                        Some(c) => c,
                        None => continue,
                    };
                    add_group(cur, inner, src, t == "[");
                }
                "]" | ">" | "[" | "<" => {}
                "..." => {
                    if let Some(cur) = branches.last_mut() {
                        mark_last_multiple(cur);
                    }
                }
                _ => {
                    if let Some(cur) = branches.last_mut() {
                        cur.push(Raw::Word(t));
                    }
                }
            }
        }
        let src = self.toks[start..].to_vec();
        (branches, src)
    }
}

fn mark_last_multiple(cur: &mut [Raw]) {
    match cur.last_mut() {
        Some(Raw::Group(g)) => g.multiple = true,
        Some(Raw::Word(w)) => {
            let w = w.clone();
            if let Some(last) = cur.last_mut() {
                *last = Raw::Rep(vec![w]);
            }
        }
        _ => {}
    }
}

fn add_group(cur: &mut Vec<Raw>, inner: Vec<Vec<Raw>>, src: Vec<String>, optional: bool) {
    // `x y [x y ...]`: a repetition of the words just before.
    if src.last().map(|s| s.as_str()) == Some("...") && inner.len() == 1 {
        let rep = &src[..src.len() - 1];
        let k = rep.len();
        if k > 0
            && rep
                .iter()
                .all(|w| !matches!(w.as_str(), "[" | "]" | "<" | ">" | "|"))
            && cur.len() >= k
        {
            let tail: Vec<String> = cur[cur.len() - k..]
                .iter()
                .filter_map(|r| {
                    if let Raw::Word(w) = r {
                        Some(w.clone())
                    } else {
                        None
                    }
                })
                .collect();
            if tail.len() == k && tail.iter().zip(rep).all(|(a, b)| a.eq_ignore_ascii_case(b)) {
                cur.truncate(cur.len() - k);
                cur.push(Raw::Rep(tail));
                return;
            }
        }
    }
    let mut branches: Vec<ArgDoc> = inner
        .into_iter()
        .filter(|b| !b.is_empty())
        .map(|b| seq_to_one(build(b)))
        .collect();
    let mut g = match branches.len() {
        0 => return,
        1 => branches.remove(0),
        _ => {
            let name = branches
                .iter()
                .map(|b| b.name.clone())
                .collect::<Vec<_>>()
                .join("-");
            ArgDoc::group("oneof", name, branches)
        }
    };
    if optional {
        g.optional = true;
    }
    cur.push(Raw::Group(g));
}

/// One element from a sequence: itself if alone, else a block.
fn seq_to_one(mut v: Vec<ArgDoc>) -> ArgDoc {
    if v.len() == 1 {
        return v.remove(0);
    }
    let name = v.first().map(|a| a.name.clone()).unwrap_or_default();
    ArgDoc::group("block", name, v)
}

/// Turns raw items into arguments: a token followed by placeholders takes
/// them as its value(s).
fn build(raw: Vec<Raw>) -> Vec<ArgDoc> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        match &raw[i] {
            Raw::Group(g) => out.push(g.clone()),
            Raw::Rep(words) => {
                let items = build(words.iter().map(|w| Raw::Word(w.clone())).collect());
                let mut a = seq_to_one(items);
                if a.typ == "block" && a.name == "key" {
                    a.name = "data".into();
                }
                a.multiple = true;
                if a.token.is_some() {
                    a.multiple_token = true;
                }
                out.push(a);
            }
            Raw::Word(w) if is_token(w) => {
                let mut vals = Vec::new();
                while let Some(Raw::Word(n)) = raw.get(i + 1) {
                    if is_token(n) {
                        break;
                    }
                    vals.push(n.clone());
                    i += 1;
                }
                // A repetition right after `TOKEN arg` repeats the whole.
                let rep = matches!(raw.get(i + 1), Some(Raw::Rep(r)) if r.first().is_some_and(|f| f == w));
                let mut a = match vals.len() {
                    0 => ArgDoc::pure(w),
                    1 => ArgDoc::leaf(&vals[0], Some(w.clone())),
                    _ => {
                        let mut b = ArgDoc::group(
                            "block",
                            w.to_ascii_lowercase(),
                            vals.iter().map(|v| ArgDoc::leaf(v, None)).collect(),
                        );
                        b.token = Some(w.clone());
                        b
                    }
                };
                if rep {
                    a.multiple = true;
                    a.multiple_token = true;
                    i += 1;
                }
                out.push(a);
            }
            Raw::Word(w) => {
                let mut a = ArgDoc::leaf(w, None);
                if w.contains(':') || w.contains('|') {
                    a.typ = "string";
                }
                out.push(a);
            }
        }
        i += 1;
    }
    out
}

/// Parses a docs syntax line (`key value [NX | XX] [GET]`) into Redis's
/// argument structure. Unbalanced or odd input never fails: what cannot be
/// understood becomes plain string arguments.
pub fn parse_syntax(s: &str) -> Vec<ArgDoc> {
    let mut p = Parser {
        toks: tokenize(s),
        pos: 0,
    };
    let (branches, _) = p.alt(None, 0);
    let mut branches: Vec<Vec<ArgDoc>> = branches
        .into_iter()
        .filter(|b| !b.is_empty())
        .map(build)
        .collect();
    match branches.len() {
        0 => Vec::new(),
        1 => branches.remove(0),
        _ => {
            let args: Vec<ArgDoc> = branches.into_iter().map(seq_to_one).collect();
            let name = args
                .iter()
                .map(|a| a.name.clone())
                .collect::<Vec<_>>()
                .join("-");
            vec![ArgDoc::group("oneof", name, args)]
        }
    }
}

fn bulk(s: &str) -> Reply {
    Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

fn status(s: &str) -> Reply {
    Reply::Status(Bytes::copy_from_slice(s.as_bytes()))
}

fn arg_doc_reply(a: &ArgDoc, key_index: &mut i64) -> Reply {
    let mut m = vec![(bulk("name"), bulk(&a.name)), (bulk("type"), bulk(a.typ))];
    if a.typ == "key" {
        m.push((bulk("key_spec_index"), Reply::Int(*key_index)));
        *key_index += 1;
    }
    if let Some(t) = &a.token {
        m.push((bulk("token"), bulk(t)));
    }
    let mut fl = Vec::new();
    if a.optional {
        fl.push(status("optional"));
    }
    if a.multiple {
        fl.push(status("multiple"));
    }
    if a.multiple_token {
        fl.push(status("multiple_token"));
    }
    if !fl.is_empty() {
        m.push((bulk("flags"), Reply::Set(fl)));
    }
    if !a.args.is_empty() {
        let mut ki = *key_index;
        let args = a.args.iter().map(|x| arg_doc_reply(x, &mut ki)).collect();
        *key_index = ki;
        m.push((bulk("arguments"), Reply::Array(args)));
    }
    Reply::Map(m)
}

fn docs_reply(c: &Cmd) -> Reply {
    let mut m = vec![
        (bulk("summary"), bulk(c.summary)),
        (bulk("since"), bulk(c.since)),
        (bulk("group"), bulk(c.group)),
    ];
    if !c.complexity.is_empty() {
        m.push((bulk("complexity"), bulk(c.complexity)));
    }
    let args = parse_syntax(c.syntax);
    if !args.is_empty() {
        let mut ki = 0;
        m.push((
            bulk("arguments"),
            Reply::Array(args.iter().map(|a| arg_doc_reply(a, &mut ki)).collect()),
        ));
    }
    if c.has_subs() {
        let mut subs: Vec<&Cmd> = c.subs.iter().collect();
        subs.sort_by(|a, b| a.name.cmp(b.name));
        m.push((
            bulk("subcommands"),
            Reply::Map(
                subs.into_iter()
                    .map(|s| (bulk(&s.full_name), docs_reply(s)))
                    .collect(),
            ),
        ));
    }
    Reply::Map(m)
}

// ---------------------------------------------------------------- key specs

/// A Redis key specification.
struct S {
    flags: &'static str,
    bs: Bs,
    fk: Fk,
}

/// Where the search for keys begins.
enum Bs {
    Index(i32),
    Keyword(&'static str, i32),
    Unknown,
}

/// How keys are found from the beginning.
enum Fk {
    /// (lastkey, step, limit)
    Range(i32, i32, i32),
    /// (keynumidx, firstkey, step)
    Keynum(i32, i32, i32),
    Unknown,
}
/// Key specifications of Redis 7.0.15 commands (facts from its command
/// table), by full command name.
#[rustfmt::skip]
static KEY_SPECS: &[(&str, &[S])] = &[
    ("append", &[S { flags: "RW INSERT", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("bitcount", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("bitfield", &[S { flags: "RW UPDATE ACCESS VARIABLE_FLAGS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("bitfield_ro", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("bitop", &[S { flags: "OW UPDATE", bs: Bs::Index(2), fk: Fk::Range(0, 1, 0) }, S { flags: "RO ACCESS", bs: Bs::Index(3), fk: Fk::Range(-1, 1, 0) }]),
    ("bitpos", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("blmove", &[S { flags: "RW ACCESS DELETE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }, S { flags: "RW INSERT", bs: Bs::Index(2), fk: Fk::Range(0, 1, 0) }]),
    ("blmpop", &[S { flags: "RW ACCESS DELETE", bs: Bs::Index(2), fk: Fk::Keynum(0, 1, 1) }]),
    ("blpop", &[S { flags: "RW ACCESS DELETE", bs: Bs::Index(1), fk: Fk::Range(-2, 1, 0) }]),
    ("brpop", &[S { flags: "RW ACCESS DELETE", bs: Bs::Index(1), fk: Fk::Range(-2, 1, 0) }]),
    ("brpoplpush", &[S { flags: "RW ACCESS DELETE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }, S { flags: "RW INSERT", bs: Bs::Index(2), fk: Fk::Range(0, 1, 0) }]),
    ("bzmpop", &[S { flags: "RW ACCESS DELETE", bs: Bs::Index(2), fk: Fk::Keynum(0, 1, 1) }]),
    ("bzpopmax", &[S { flags: "RW ACCESS DELETE", bs: Bs::Index(1), fk: Fk::Range(-2, 1, 0) }]),
    ("bzpopmin", &[S { flags: "RW ACCESS DELETE", bs: Bs::Index(1), fk: Fk::Range(-2, 1, 0) }]),
    ("copy", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }, S { flags: "OW UPDATE", bs: Bs::Index(2), fk: Fk::Range(0, 1, 0) }]),
    ("decr", &[S { flags: "RW ACCESS UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("decrby", &[S { flags: "RW ACCESS UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("del", &[S { flags: "RM DELETE", bs: Bs::Index(1), fk: Fk::Range(-1, 1, 0) }]),
    ("dump", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("eval", &[S { flags: "RW ACCESS UPDATE", bs: Bs::Index(2), fk: Fk::Keynum(0, 1, 1) }]),
    ("eval_ro", &[S { flags: "RO ACCESS", bs: Bs::Index(2), fk: Fk::Keynum(0, 1, 1) }]),
    ("evalsha", &[S { flags: "RW ACCESS UPDATE", bs: Bs::Index(2), fk: Fk::Keynum(0, 1, 1) }]),
    ("evalsha_ro", &[S { flags: "RO ACCESS", bs: Bs::Index(2), fk: Fk::Keynum(0, 1, 1) }]),
    ("exists", &[S { flags: "RO", bs: Bs::Index(1), fk: Fk::Range(-1, 1, 0) }]),
    ("expire", &[S { flags: "RW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("expireat", &[S { flags: "RW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("expiretime", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("fcall", &[S { flags: "RW ACCESS UPDATE", bs: Bs::Index(2), fk: Fk::Keynum(0, 1, 1) }]),
    ("fcall_ro", &[S { flags: "RO ACCESS", bs: Bs::Index(2), fk: Fk::Keynum(0, 1, 1) }]),
    ("geoadd", &[S { flags: "RW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("geodist", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("geohash", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("geopos", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("georadius", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }, S { flags: "OW UPDATE", bs: Bs::Keyword("STORE", 6), fk: Fk::Range(0, 1, 0) }, S { flags: "OW UPDATE", bs: Bs::Keyword("STOREDIST", 6), fk: Fk::Range(0, 1, 0) }]),
    ("georadius_ro", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("georadiusbymember", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }, S { flags: "OW UPDATE", bs: Bs::Keyword("STORE", 5), fk: Fk::Range(0, 1, 0) }, S { flags: "OW UPDATE", bs: Bs::Keyword("STOREDIST", 5), fk: Fk::Range(0, 1, 0) }]),
    ("georadiusbymember_ro", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("geosearch", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("geosearchstore", &[S { flags: "OW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }, S { flags: "RO ACCESS", bs: Bs::Index(2), fk: Fk::Range(0, 1, 0) }]),
    ("get", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("getbit", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("getdel", &[S { flags: "RW ACCESS DELETE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("getex", &[S { flags: "RW ACCESS UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("getrange", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("getset", &[S { flags: "RW ACCESS UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("hdel", &[S { flags: "RW DELETE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("hexists", &[S { flags: "RO", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("hget", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("hgetall", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("hincrby", &[S { flags: "RW ACCESS UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("hincrbyfloat", &[S { flags: "RW ACCESS UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("hkeys", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("hlen", &[S { flags: "RO", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("hmget", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("hmset", &[S { flags: "RW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("hrandfield", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("hscan", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("hset", &[S { flags: "RW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("hsetnx", &[S { flags: "RW INSERT", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("hstrlen", &[S { flags: "RO", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("hvals", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("incr", &[S { flags: "RW ACCESS UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("incrby", &[S { flags: "RW ACCESS UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("incrbyfloat", &[S { flags: "RW ACCESS UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("lcs", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(1, 1, 0) }]),
    ("lindex", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("linsert", &[S { flags: "RW INSERT", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("llen", &[S { flags: "RO", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("lmove", &[S { flags: "RW ACCESS DELETE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }, S { flags: "RW INSERT", bs: Bs::Index(2), fk: Fk::Range(0, 1, 0) }]),
    ("lmpop", &[S { flags: "RW ACCESS DELETE", bs: Bs::Index(1), fk: Fk::Keynum(0, 1, 1) }]),
    ("lpop", &[S { flags: "RW ACCESS DELETE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("lpos", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("lpush", &[S { flags: "RW INSERT", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("lpushx", &[S { flags: "RW INSERT", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("lrange", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("lrem", &[S { flags: "RW DELETE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("lset", &[S { flags: "RW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("ltrim", &[S { flags: "RW DELETE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("memory|usage", &[S { flags: "RO", bs: Bs::Index(2), fk: Fk::Range(0, 1, 0) }]),
    ("mget", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(-1, 1, 0) }]),
    ("migrate", &[S { flags: "RW ACCESS DELETE", bs: Bs::Index(3), fk: Fk::Range(0, 1, 0) }, S { flags: "RW ACCESS DELETE INCOMPLETE", bs: Bs::Keyword("KEYS", -2), fk: Fk::Range(-1, 1, 0) }]),
    ("move", &[S { flags: "RW ACCESS UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("mset", &[S { flags: "OW UPDATE", bs: Bs::Index(1), fk: Fk::Range(-1, 2, 0) }]),
    ("msetnx", &[S { flags: "OW INSERT", bs: Bs::Index(1), fk: Fk::Range(-1, 2, 0) }]),
    ("object|encoding", &[S { flags: "RO", bs: Bs::Index(2), fk: Fk::Range(0, 1, 0) }]),
    ("object|freq", &[S { flags: "RO", bs: Bs::Index(2), fk: Fk::Range(0, 1, 0) }]),
    ("object|idletime", &[S { flags: "RO", bs: Bs::Index(2), fk: Fk::Range(0, 1, 0) }]),
    ("object|refcount", &[S { flags: "RO", bs: Bs::Index(2), fk: Fk::Range(0, 1, 0) }]),
    ("persist", &[S { flags: "RW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("pexpire", &[S { flags: "RW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("pexpireat", &[S { flags: "RW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("pexpiretime", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("pfadd", &[S { flags: "RW INSERT", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("pfcount", &[S { flags: "RW ACCESS", bs: Bs::Index(1), fk: Fk::Range(-1, 1, 0) }]),
    ("pfdebug", &[S { flags: "RW ACCESS", bs: Bs::Index(2), fk: Fk::Range(0, 1, 0) }]),
    ("pfmerge", &[S { flags: "RW ACCESS INSERT", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }, S { flags: "RO ACCESS", bs: Bs::Index(2), fk: Fk::Range(-1, 1, 0) }]),
    ("psetex", &[S { flags: "OW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("pttl", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("rename", &[S { flags: "RW ACCESS DELETE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }, S { flags: "OW UPDATE", bs: Bs::Index(2), fk: Fk::Range(0, 1, 0) }]),
    ("renamenx", &[S { flags: "RW ACCESS DELETE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }, S { flags: "OW INSERT", bs: Bs::Index(2), fk: Fk::Range(0, 1, 0) }]),
    ("restore-asking", &[S { flags: "OW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("restore", &[S { flags: "OW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("rpop", &[S { flags: "RW ACCESS DELETE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("rpoplpush", &[S { flags: "RW ACCESS DELETE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }, S { flags: "RW INSERT", bs: Bs::Index(2), fk: Fk::Range(0, 1, 0) }]),
    ("rpush", &[S { flags: "RW INSERT", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("rpushx", &[S { flags: "RW INSERT", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("sadd", &[S { flags: "RW INSERT", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("scard", &[S { flags: "RO", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("sdiff", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(-1, 1, 0) }]),
    ("sdiffstore", &[S { flags: "OW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }, S { flags: "RO ACCESS", bs: Bs::Index(2), fk: Fk::Range(-1, 1, 0) }]),
    ("set", &[S { flags: "RW ACCESS UPDATE VARIABLE_FLAGS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("setbit", &[S { flags: "RW ACCESS UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("setex", &[S { flags: "OW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("setnx", &[S { flags: "OW INSERT", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("setrange", &[S { flags: "RW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("sinter", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(-1, 1, 0) }]),
    ("sintercard", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Keynum(0, 1, 1) }]),
    ("sinterstore", &[S { flags: "RW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }, S { flags: "RO ACCESS", bs: Bs::Index(2), fk: Fk::Range(-1, 1, 0) }]),
    ("sismember", &[S { flags: "RO", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("smembers", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("smismember", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("smove", &[S { flags: "RW ACCESS DELETE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }, S { flags: "RW INSERT", bs: Bs::Index(2), fk: Fk::Range(0, 1, 0) }]),
    ("sort", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }, S { flags: "RO ACCESS", bs: Bs::Unknown, fk: Fk::Unknown }, S { flags: "OW UPDATE", bs: Bs::Unknown, fk: Fk::Unknown }]),
    ("sort_ro", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }, S { flags: "RO ACCESS", bs: Bs::Unknown, fk: Fk::Unknown }]),
    ("spop", &[S { flags: "RW ACCESS DELETE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("spublish", &[S { flags: "NOT_KEY", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("srandmember", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("srem", &[S { flags: "RW DELETE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("sscan", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("ssubscribe", &[S { flags: "NOT_KEY", bs: Bs::Index(1), fk: Fk::Range(-1, 1, 0) }]),
    ("strlen", &[S { flags: "RO", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("substr", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("sunion", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(-1, 1, 0) }]),
    ("sunionstore", &[S { flags: "OW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }, S { flags: "RO ACCESS", bs: Bs::Index(2), fk: Fk::Range(-1, 1, 0) }]),
    ("sunsubscribe", &[S { flags: "NOT_KEY", bs: Bs::Index(1), fk: Fk::Range(-1, 1, 0) }]),
    ("touch", &[S { flags: "RO", bs: Bs::Index(1), fk: Fk::Range(-1, 1, 0) }]),
    ("ttl", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("type", &[S { flags: "RO", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("unlink", &[S { flags: "RM DELETE", bs: Bs::Index(1), fk: Fk::Range(-1, 1, 0) }]),
    ("watch", &[S { flags: "RO", bs: Bs::Index(1), fk: Fk::Range(-1, 1, 0) }]),
    ("xack", &[S { flags: "RW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("xadd", &[S { flags: "RW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("xautoclaim", &[S { flags: "RW DELETE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("xclaim", &[S { flags: "RW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("xdel", &[S { flags: "RW DELETE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("xgroup|create", &[S { flags: "RW INSERT", bs: Bs::Index(2), fk: Fk::Range(0, 1, 0) }]),
    ("xgroup|createconsumer", &[S { flags: "RW INSERT", bs: Bs::Index(2), fk: Fk::Range(0, 1, 0) }]),
    ("xgroup|delconsumer", &[S { flags: "RW DELETE", bs: Bs::Index(2), fk: Fk::Range(0, 1, 0) }]),
    ("xgroup|destroy", &[S { flags: "RW DELETE", bs: Bs::Index(2), fk: Fk::Range(0, 1, 0) }]),
    ("xgroup|setid", &[S { flags: "RW UPDATE", bs: Bs::Index(2), fk: Fk::Range(0, 1, 0) }]),
    ("xinfo|consumers", &[S { flags: "RO ACCESS", bs: Bs::Index(2), fk: Fk::Range(0, 1, 0) }]),
    ("xinfo|groups", &[S { flags: "RO ACCESS", bs: Bs::Index(2), fk: Fk::Range(0, 1, 0) }]),
    ("xinfo|stream", &[S { flags: "RO ACCESS", bs: Bs::Index(2), fk: Fk::Range(0, 1, 0) }]),
    ("xlen", &[S { flags: "RO", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("xpending", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("xrange", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("xread", &[S { flags: "RO ACCESS", bs: Bs::Keyword("STREAMS", 1), fk: Fk::Range(-1, 1, 2) }]),
    ("xreadgroup", &[S { flags: "RO ACCESS", bs: Bs::Keyword("STREAMS", 4), fk: Fk::Range(-1, 1, 2) }]),
    ("xrevrange", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("xsetid", &[S { flags: "RW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("xtrim", &[S { flags: "RW DELETE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("zadd", &[S { flags: "RW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("zcard", &[S { flags: "RO", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("zcount", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("zdiff", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Keynum(0, 1, 1) }]),
    ("zdiffstore", &[S { flags: "OW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }, S { flags: "RO ACCESS", bs: Bs::Index(2), fk: Fk::Keynum(0, 1, 1) }]),
    ("zincrby", &[S { flags: "RW ACCESS UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("zinter", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Keynum(0, 1, 1) }]),
    ("zintercard", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Keynum(0, 1, 1) }]),
    ("zinterstore", &[S { flags: "OW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }, S { flags: "RO ACCESS", bs: Bs::Index(2), fk: Fk::Keynum(0, 1, 1) }]),
    ("zlexcount", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("zmpop", &[S { flags: "RW ACCESS DELETE", bs: Bs::Index(1), fk: Fk::Keynum(0, 1, 1) }]),
    ("zmscore", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("zpopmax", &[S { flags: "RW ACCESS DELETE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("zpopmin", &[S { flags: "RW ACCESS DELETE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("zrandmember", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("zrange", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("zrangebylex", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("zrangebyscore", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("zrangestore", &[S { flags: "OW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }, S { flags: "RO ACCESS", bs: Bs::Index(2), fk: Fk::Range(0, 1, 0) }]),
    ("zrank", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("zrem", &[S { flags: "RW DELETE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("zremrangebylex", &[S { flags: "RW DELETE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("zremrangebyrank", &[S { flags: "RW DELETE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("zremrangebyscore", &[S { flags: "RW DELETE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("zrevrange", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("zrevrangebylex", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("zrevrangebyscore", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("zrevrank", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("zscan", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("zscore", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }]),
    ("zunion", &[S { flags: "RO ACCESS", bs: Bs::Index(1), fk: Fk::Keynum(0, 1, 1) }]),
    ("zunionstore", &[S { flags: "OW UPDATE", bs: Bs::Index(1), fk: Fk::Range(0, 1, 0) }, S { flags: "RO ACCESS", bs: Bs::Index(2), fk: Fk::Keynum(0, 1, 1) }]),
];

/// Command tips of Redis 7.0.15 commands, by full command name.
#[rustfmt::skip]
static TIPS: &[(&str, &str)] = &[
    ("client|info", "nondeterministic_output"),
    ("client|list", "nondeterministic_output"),
    ("cluster|bumpepoch", "nondeterministic_output"),
    ("cluster|count-failure-reports", "nondeterministic_output"),
    ("cluster|getkeysinslot", "nondeterministic_output"),
    ("cluster|info", "nondeterministic_output"),
    ("cluster|links", "nondeterministic_output"),
    ("cluster|nodes", "nondeterministic_output"),
    ("cluster|replicas", "nondeterministic_output"),
    ("cluster|shards", "nondeterministic_output"),
    ("cluster|slaves", "nondeterministic_output"),
    ("cluster|slots", "nondeterministic_output"),
    ("command|docs", "nondeterministic_output_order"),
    ("command|info", "nondeterministic_output_order"),
    ("command|list", "nondeterministic_output_order"),
    ("command", "nondeterministic_output_order"),
    ("config|set", "request_policy:all_nodes response_policy:all_succeeded"),
    ("dbsize", "request_policy:all_shards response_policy:agg_sum"),
    ("del", "request_policy:multi_shard response_policy:agg_sum"),
    ("dump", "nondeterministic_output"),
    ("exists", "request_policy:multi_shard response_policy:agg_sum"),
    ("flushall", "request_policy:all_shards response_policy:all_succeeded"),
    ("flushdb", "request_policy:all_shards response_policy:all_succeeded"),
    ("function|delete", "request_policy:all_shards response_policy:all_succeeded"),
    ("function|flush", "request_policy:all_shards response_policy:all_succeeded"),
    ("function|kill", "request_policy:all_shards response_policy:one_succeeded"),
    ("function|list", "nondeterministic_output_order"),
    ("function|load", "request_policy:all_shards response_policy:all_succeeded"),
    ("function|restore", "request_policy:all_shards response_policy:all_succeeded"),
    ("function|stats", "nondeterministic_output request_policy:all_shards response_policy:special"),
    ("hgetall", "nondeterministic_output_order"),
    ("hkeys", "nondeterministic_output_order"),
    ("hrandfield", "nondeterministic_output"),
    ("hscan", "nondeterministic_output"),
    ("hvals", "nondeterministic_output_order"),
    ("info", "nondeterministic_output request_policy:all_shards response_policy:special"),
    ("keys", "request_policy:all_shards nondeterministic_output_order"),
    ("lastsave", "nondeterministic_output"),
    ("latency|doctor", "nondeterministic_output request_policy:all_nodes response_policy:special"),
    ("latency|graph", "nondeterministic_output request_policy:all_nodes response_policy:special"),
    ("latency|histogram", "nondeterministic_output request_policy:all_nodes response_policy:special"),
    ("latency|history", "nondeterministic_output request_policy:all_nodes response_policy:special"),
    ("latency|latest", "nondeterministic_output request_policy:all_nodes response_policy:special"),
    ("latency|reset", "request_policy:all_nodes response_policy:all_succeeded"),
    ("memory|doctor", "nondeterministic_output request_policy:all_shards response_policy:special"),
    ("memory|malloc-stats", "nondeterministic_output request_policy:all_shards response_policy:special"),
    ("memory|purge", "request_policy:all_shards response_policy:all_succeeded"),
    ("memory|stats", "nondeterministic_output request_policy:all_shards response_policy:special"),
    ("mget", "request_policy:multi_shard"),
    ("migrate", "nondeterministic_output"),
    ("module|list", "nondeterministic_output_order"),
    ("mset", "request_policy:multi_shard response_policy:all_succeeded"),
    ("msetnx", "request_policy:multi_shard response_policy:agg_min"),
    ("object|encoding", "nondeterministic_output"),
    ("object|freq", "nondeterministic_output"),
    ("object|idletime", "nondeterministic_output"),
    ("object|refcount", "nondeterministic_output"),
    ("ping", "request_policy:all_shards response_policy:all_succeeded"),
    ("pttl", "nondeterministic_output"),
    ("randomkey", "request_policy:all_shards nondeterministic_output"),
    ("scan", "nondeterministic_output request_policy:special"),
    ("script|exists", "request_policy:all_shards response_policy:agg_logical_and"),
    ("script|flush", "request_policy:all_nodes response_policy:all_succeeded"),
    ("script|kill", "request_policy:all_shards response_policy:one_succeeded"),
    ("script|load", "request_policy:all_nodes response_policy:all_succeeded"),
    ("sdiff", "nondeterministic_output_order"),
    ("sinter", "nondeterministic_output_order"),
    ("slowlog|get", "request_policy:all_nodes nondeterministic_output"),
    ("slowlog|len", "request_policy:all_nodes response_policy:agg_sum nondeterministic_output"),
    ("slowlog|reset", "request_policy:all_nodes response_policy:all_succeeded"),
    ("smembers", "nondeterministic_output_order"),
    ("spop", "nondeterministic_output"),
    ("srandmember", "nondeterministic_output"),
    ("sscan", "nondeterministic_output"),
    ("sunion", "nondeterministic_output_order"),
    ("time", "nondeterministic_output"),
    ("touch", "request_policy:multi_shard response_policy:agg_sum"),
    ("ttl", "nondeterministic_output"),
    ("unlink", "request_policy:multi_shard response_policy:agg_sum"),
    ("wait", "request_policy:all_shards response_policy:agg_min"),
    ("xadd", "nondeterministic_output"),
    ("xautoclaim", "nondeterministic_output"),
    ("xclaim", "nondeterministic_output"),
    ("xinfo|consumers", "nondeterministic_output"),
    ("xpending", "nondeterministic_output"),
    ("xtrim", "nondeterministic_output"),
    ("zrandmember", "nondeterministic_output"),
    ("zscan", "nondeterministic_output"),
];

fn specs_of(full_name: &str) -> Option<&'static [S]> {
    KEY_SPECS
        .iter()
        .find(|(n, _)| *n == full_name)
        .map(|(_, s)| *s)
}

fn tips_of(full_name: &str) -> &'static str {
    TIPS.iter()
        .find(|(n, _)| *n == full_name)
        .map(|(_, t)| *t)
        .unwrap_or("")
}

/// Key-spec flag words as Redis prints them: access types upper-case,
/// the rest lower-case.
fn flag_words(flags: &str) -> Vec<String> {
    flags
        .split_whitespace()
        .map(|w| {
            if matches!(w, "RW" | "RO" | "OW" | "RM") {
                w.to_string()
            } else {
                w.to_ascii_lowercase()
            }
        })
        .collect()
}

/// Evaluates key specs over `args` (the command and its arguments):
/// (position, flags) pairs, as Redis's `getKeysUsingKeySpecs`.
fn eval_specs(specs: &[S], args: &[Bytes]) -> Vec<(usize, &'static str)> {
    let argc = args.len() as i64;
    let mut out = Vec::new();
    for s in specs {
        let first = match s.bs {
            Bs::Index(i) => i as i64,
            Bs::Keyword(kw, from) => {
                let found = if from >= 0 {
                    (from as i64..argc).find(|&i| eq_ic(&args[i as usize], kw))
                } else {
                    let start = argc + from as i64;
                    (1..=start.max(0))
                        .rev()
                        .find(|&i| i < argc && eq_ic(&args[i as usize], kw))
                };
                match found {
                    Some(i) => i + 1,
                    None => continue,
                }
            }
            Bs::Unknown => continue,
        };
        if first >= argc {
            continue;
        }
        let (first, last, step) = match s.fk {
            Fk::Range(lastkey, step, limit) => {
                let last = if lastkey >= 0 {
                    first + lastkey as i64
                } else if limit <= 1 {
                    argc + lastkey as i64
                } else {
                    first + ((argc - first) / limit as i64 + lastkey as i64)
                };
                (first, last, step.max(1) as i64)
            }
            Fk::Keynum(idx, firstkey, step) => {
                let ki = first + idx as i64;
                let Some(n) = args
                    .get(ki as usize)
                    .and_then(|a| lunakv_protocol::parse_i64(a))
                else {
                    continue;
                };
                if n < 0 {
                    continue;
                }
                let f = first + firstkey as i64;
                (f, f + (n - 1) * step.max(1) as i64, step.max(1) as i64)
            }
            Fk::Unknown => continue,
        };
        let mut i = first;
        while i <= last && i < argc {
            out.push((i as usize, s.flags));
            i += step;
        }
    }
    out
}

/// Keys of a full command with their key-spec flags (COMMAND GETKEYS,
/// GETKEYSANDFLAGS).
fn keys_and_flags(cmd: &Cmd, args: &[Bytes]) -> Vec<(usize, Vec<String>)> {
    let specs = specs_of(&cmd.full_name);
    if cmd.full_name == "set" {
        let get = args.iter().skip(3).any(|a| eq_ic(a, "get"));
        let f = if get { "RW ACCESS UPDATE" } else { "OW UPDATE" };
        return cmd
            .key_positions(args)
            .into_iter()
            .map(|p| (p, flag_words(f)))
            .collect();
    }
    let by_spec = specs.map(|s| eval_specs(s, args)).unwrap_or_default();
    if cmd.keys_fn.is_some() || specs.is_none() {
        let fallback = specs
            .and_then(|s| {
                s.iter()
                    .rev()
                    .find(|x| matches!(x.bs, Bs::Unknown))
                    .map(|x| x.flags)
            })
            .unwrap_or(if cmd.is(flags::WRITE) { "RW" } else { "RO" });
        return cmd
            .key_positions(args)
            .into_iter()
            .map(|p| {
                let f = by_spec
                    .iter()
                    .find(|(q, _)| *q == p)
                    .map(|(_, f)| *f)
                    .unwrap_or(fallback);
                (
                    p,
                    flag_words(f)
                        .into_iter()
                        .filter(|w| w != "variable_flags")
                        .collect(),
                )
            })
            .collect();
    }
    by_spec
        .into_iter()
        .map(|(p, f)| {
            (
                p,
                flag_words(f)
                    .into_iter()
                    .filter(|w| w != "variable_flags")
                    .collect(),
            )
        })
        .collect()
}

fn has_keys(cmd: &Cmd) -> bool {
    cmd.keys_fn.is_some() || cmd.first_key > 0 || specs_of(&cmd.full_name).is_some()
}

fn key_spec_reply(s: &S) -> Reply {
    let fl = Reply::Set(flag_words(s.flags).iter().map(|w| status(w)).collect());
    let bs = match s.bs {
        Bs::Index(i) => Reply::Map(vec![
            (bulk("type"), bulk("index")),
            (
                bulk("spec"),
                Reply::Map(vec![(bulk("index"), Reply::Int(i as i64))]),
            ),
        ]),
        Bs::Keyword(k, f) => Reply::Map(vec![
            (bulk("type"), bulk("keyword")),
            (
                bulk("spec"),
                Reply::Map(vec![
                    (bulk("keyword"), bulk(k)),
                    (bulk("startfrom"), Reply::Int(f as i64)),
                ]),
            ),
        ]),
        Bs::Unknown => Reply::Map(vec![
            (bulk("type"), bulk("unknown")),
            (bulk("spec"), Reply::Map(Vec::new())),
        ]),
    };
    let fk = match s.fk {
        Fk::Range(l, st, li) => Reply::Map(vec![
            (bulk("type"), bulk("range")),
            (
                bulk("spec"),
                Reply::Map(vec![
                    (bulk("lastkey"), Reply::Int(l as i64)),
                    (bulk("keystep"), Reply::Int(st as i64)),
                    (bulk("limit"), Reply::Int(li as i64)),
                ]),
            ),
        ]),
        Fk::Keynum(k, f, st) => Reply::Map(vec![
            (bulk("type"), bulk("keynum")),
            (
                bulk("spec"),
                Reply::Map(vec![
                    (bulk("keynumidx"), Reply::Int(k as i64)),
                    (bulk("firstkey"), Reply::Int(f as i64)),
                    (bulk("keystep"), Reply::Int(st as i64)),
                ]),
            ),
        ]),
        Fk::Unknown => Reply::Map(vec![
            (bulk("type"), bulk("unknown")),
            (bulk("spec"), Reply::Map(Vec::new())),
        ]),
    };
    Reply::Map(vec![
        (bulk("flags"), fl),
        (bulk("begin_search"), bs),
        (bulk("find_keys"), fk),
    ])
}

/// COMMAND INFO's description of one command (Redis 7 shape).
fn info_reply(c: &Cmd) -> Reply {
    // Redis hides `may_replicate` on purpose (server.c addReplyFlagsForCommand).
    let fl: Vec<Reply> = flags::NAMES
        .iter()
        .filter(|(b, _)| c.flags & b != 0 && *b != flags::MAY_REPLICATE)
        .map(|(_, n)| status(n))
        .collect();
    let cats: Vec<Reply> = acl::NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| c.acl & (1u64 << i) != 0)
        .map(|(_, n)| status(&format!("@{n}")))
        .collect();
    let tips: Vec<Reply> = tips_of(&c.full_name)
        .split_whitespace()
        .map(status)
        .collect();
    let specs: Vec<Reply> = match specs_of(&c.full_name) {
        Some(s) => s.iter().map(key_spec_reply).collect(),
        None if c.first_key > 0 => {
            let f = if c.is(flags::WRITE) { "RW" } else { "RO" };
            vec![key_spec_reply(&S {
                flags: f,
                bs: Bs::Index(c.first_key),
                fk: Fk::Range(
                    if c.last_key < 0 {
                        c.last_key
                    } else {
                        c.last_key - c.first_key
                    },
                    c.key_step.max(1),
                    0,
                ),
            })]
        }
        None => Vec::new(),
    };
    let mut subs: Vec<&Cmd> = c.subs.iter().collect();
    subs.sort_by(|a, b| a.name.cmp(b.name));
    Reply::Array(vec![
        bulk(&c.full_name),
        Reply::Int(c.arity as i64),
        Reply::Set(fl),
        Reply::Int(c.first_key as i64),
        Reply::Int(c.last_key as i64),
        Reply::Int(c.key_step as i64),
        Reply::Set(cats),
        Reply::Set(tips),
        Reply::Array(specs),
        Reply::Array(subs.into_iter().map(info_reply).collect()),
    ])
}

/// Finds a command or subcommand by `name` or `name|sub`.
fn find_by_full_name<'a>(eng: &'a Engine, name: &[u8]) -> Option<&'a Cmd> {
    let s = String::from_utf8_lossy(name).to_ascii_lowercase();
    let mut parts = s.split('|');
    let top = eng.table.get(parts.next()?.as_bytes())?;
    match (parts.next(), parts.next()) {
        (None, _) => Some(top),
        (Some(sub), None) => top.find_sub(sub.as_bytes()),
        _ => None,
    }
}

fn sorted_commands(eng: &Engine) -> Vec<&'static Cmd> {
    let table = eng.table;
    let mut v: Vec<&'static Cmd> = table.iter().collect();
    v.sort_by(|a, b| a.name.cmp(b.name));
    v
}

const COMMAND_HELP: &str = "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
(no subcommand)
    Return details about all Redis commands.
COUNT
    Return the total number of commands in this Redis server.
LIST
    Return a list of all commands in this Redis server.
INFO [<command-name> ...]
    Return details about multiple Redis commands.
    If no command names are given, documentation details for all
    commands are returned.
DOCS [<command-name> ...]
    Return documentation details about multiple Redis commands.
    If no command names are given, documentation details for all
    commands are returned.
GETKEYS <full-command>
    Return the keys from a full Redis command.
GETKEYSANDFLAGS <full-command>
    Return the keys and the access flags from a full Redis command.
HELP
    Prints this help.";

fn command(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let eng = &*ctx.eng;
    if args.len() == 1 {
        return Reply::Array(sorted_commands(eng).into_iter().map(info_reply).collect());
    }
    let sub = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
    let argc = args.len();
    let wrong = || errors::wrong_args(&format!("command|{sub}"));
    match sub.as_str() {
        "help" if argc == 2 => help_reply(COMMAND_HELP),
        "count" if argc == 2 => Reply::Int(eng.table.len() as i64),
        "info" => {
            if argc == 2 {
                return Reply::Array(sorted_commands(eng).into_iter().map(info_reply).collect());
            }
            Reply::Array(
                args[2..]
                    .iter()
                    .map(|n| {
                        find_by_full_name(eng, n)
                            .map(info_reply)
                            .unwrap_or(Reply::NullArray)
                    })
                    .collect(),
            )
        }
        "docs" => {
            let cmds: Vec<&Cmd> = if argc == 2 {
                sorted_commands(eng)
            } else {
                args[2..]
                    .iter()
                    .filter_map(|n| find_by_full_name(eng, n))
                    .collect()
            };
            Reply::Map(
                cmds.into_iter()
                    .map(|c| (bulk(&c.full_name), docs_reply(c)))
                    .collect(),
            )
        }
        "list" => command_list(eng, &args[2..]),
        "getkeys" | "getkeysandflags" => {
            if argc < 4 {
                return wrong();
            }
            getkeys(eng, &args[2..], sub == "getkeysandflags")
        }
        "help" | "count" => wrong(),
        _ => errors::unknown_subcommand(&args[0], &args[1]),
    }
}

fn command_list(eng: &Engine, opts: &[Bytes]) -> Reply {
    enum F {
        None,
        Module,
        Cat(Option<u64>),
        Pattern(Bytes),
    }
    let filter = match opts {
        [] => F::None,
        [by, kind, arg] if eq_ic(by, "filterby") => {
            if eq_ic(kind, "module") {
                F::Module
            } else if eq_ic(kind, "aclcat") {
                F::Cat(acl::bit(&String::from_utf8_lossy(arg).to_ascii_lowercase()))
            } else if eq_ic(kind, "pattern") {
                F::Pattern(arg.clone())
            } else {
                return errors::syntax();
            }
        }
        _ => return errors::syntax(),
    };
    let mut out = Vec::new();
    for c in sorted_commands(eng) {
        for x in std::iter::once(c).chain(c.subs.iter()) {
            let keep = match &filter {
                F::None => true,
                F::Module => false,
                F::Cat(None) => false,
                F::Cat(Some(b)) => x.acl & b != 0,
                F::Pattern(p) => crate::glob::glob_match(p, x.full_name.as_bytes(), true),
            };
            if keep {
                out.push(bulk(&x.full_name));
            }
        }
    }
    Reply::Array(out)
}

fn getkeys(eng: &Engine, cargs: &[Bytes], with_flags: bool) -> Reply {
    let table = eng.table;
    let Some(top) = table.get(&cargs[0]) else {
        return Reply::err_static("ERR Invalid command specified");
    };
    let cmd = if top.has_subs() && cargs.len() >= 2 {
        match top.find_sub(&cargs[1]) {
            Some(s) => s,
            None => return Reply::err_static("ERR Invalid command specified"),
        }
    } else {
        top
    };
    if !has_keys(cmd) {
        return Reply::err_static("ERR The command has no key arguments");
    }
    if !cmd.arity_ok(cargs.len()) {
        return Reply::err_static("ERR Invalid number of arguments specified for command");
    }
    let keys = keys_and_flags(cmd, cargs);
    if keys.is_empty() {
        if cmd.is(flags::NO_MANDATORY_KEYS) {
            return Reply::Array(Vec::new());
        }
        return Reply::err_static("ERR Invalid arguments specified for command");
    }
    Reply::Array(
        keys.into_iter()
            .filter_map(|(p, f)| {
                let k = cargs.get(p)?.clone();
                Some(if with_flags {
                    Reply::Array(vec![
                        Reply::Bulk(k),
                        Reply::Set(f.iter().map(|w| status(w)).collect()),
                    ])
                } else {
                    Reply::Bulk(k)
                })
            })
            .collect(),
    )
}

// ---------------------------------------------------------------- CLIENT

const CLIENT_HELP: &str = "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
CACHING (YES|NO)
    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.
GETREDIR
    Return the client ID we are redirecting to when tracking is enabled.
GETNAME
    Return the name of the current connection.
ID
    Return the ID of the current connection.
INFO
    Return information about the current client connection.
KILL <ip:port>
    Kill connection made from <ip:port>.
KILL <option> <value> [<option> <value> [...]]
    Kill connections. Options are:
    * ADDR (<ip:port>|<unixsocket>:0)
      Kill connections made from the specified address
    * LADDR (<ip:port>|<unixsocket>:0)
      Kill connections made to specified local address
    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)
      Kill connections by type.
    * USER <username>
      Kill connections authenticated by <username>.
    * SKIPME (YES|NO)
      Skip killing current connection (default: yes).
LIST [options ...]
    Return information about client connections. Options:
    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)
      Return clients of specified type.
UNPAUSE
    Stop the current client pause, resuming traffic.
PAUSE <timeout> [WRITE|ALL]
    Suspend all, or just write, clients for <timeout> milliseconds.
REPLY (ON|OFF|SKIP)
    Control the replies sent to the current connection.
SETNAME <name>
    Assign the name <name> to the current connection.
UNBLOCK <clientid> [TIMEOUT|ERROR]
    Unblock the specified blocked client.
TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]
         [OPTIN] [OPTOUT] [NOLOOP]
    Control server assisted client side caching.
TRACKINGINFO
    Report tracking status for the current connection.
NO-EVICT (ON|OFF)
    Protect current client connection from eviction.
HELP
    Prints this help.";

fn client_help(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    help_reply(CLIENT_HELP)
}

fn client_id(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    Reply::Int(ctx.client.id as i64)
}

fn client_getname(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    match &ctx.client.name {
        Some(n) => Reply::Bulk(n.clone()),
        None => Reply::Null,
    }
}

fn client_setname(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let name = &args[2];
    if name.is_empty() {
        ctx.client.name = None;
        return Reply::ok();
    }
    if let Err(e) = validate_client_name(name) {
        return e;
    }
    ctx.client.name = Some(Bytes::copy_from_slice(name));
    Reply::ok()
}

fn client_setinfo(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let attr = String::from_utf8_lossy(&args[2]).into_owned();
    let is_name = attr.eq_ignore_ascii_case("lib-name");
    if !is_name && !attr.eq_ignore_ascii_case("lib-ver") {
        return Reply::err(format!("ERR Unrecognized option '{attr}'"));
    }
    let val = &args[3];
    if val.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Reply::err(format!(
            "ERR {attr} cannot contain spaces, newlines or special characters."
        ));
    }
    let v = if val.is_empty() {
        None
    } else {
        Some(val.clone())
    };
    if is_name {
        ctx.client.lib_name = v;
    } else {
        ctx.client.lib_ver = v;
    }
    Reply::ok()
}

/// Length of a command as its RESP request (CLIENT LIST `qbuf=` of the
/// running client).
fn request_len(args: &[Bytes]) -> usize {
    let digits = |n: usize| n.to_string().len();
    let mut n = 1 + digits(args.len()) + 2;
    for a in args {
        n += 1 + digits(a.len()) + 2 + a.len() + 2;
    }
    n
}

fn client_flags(eng: &Engine, c: &Client) -> String {
    let (s, p, sh) = eng.pubsub.counts(c.id);
    let mut f = String::new();
    if s + p + sh > 0 || c.subscriptions > 0 {
        f.push('P');
    }
    if c.multi.is_some() {
        f.push('x');
    }
    if c.blocked.is_some() || c.flags_str.contains('b') {
        f.push('b');
    }
    if let Some(st) = eng.tracking.clients.get(&c.id) {
        f.push('t');
        if st.broken_redir {
            f.push('R');
        }
        if st.bcast {
            f.push('B');
        }
    }
    if c.multi.is_some() && (c.watch_dirty || eng.watch_dirty.contains(&c.id)) {
        f.push('d');
    }
    if c.close_after_reply {
        f.push('c');
    }
    if c.no_evict {
        f.push('e');
    }
    if f.is_empty() {
        f.push('N');
    }
    f
}

/// One CLIENT LIST line (without the newline), in Redis 7.0's format.
/// `current` carries the running command for the client that runs it.
fn client_line(eng: &Engine, c: &Client, current: Option<(&str, &[Bytes])>) -> String {
    let now = crate::unix_ms();
    let (sub, psub, ssub) = eng.pubsub.counts(c.id);
    let (cmd, qbuf, argv_mem) = match current {
        Some((name, args)) => (
            name.to_string(),
            request_len(args),
            args.iter().map(|a| a.len()).sum::<usize>(),
        ),
        None => (c.last_cmd.to_string(), 0, 0),
    };
    let multi = c.multi.as_ref().map(|m| m.queue.len() as i64).unwrap_or(-1);
    let multi_mem: usize = c
        .multi
        .as_ref()
        .map(|m| m.queue.iter().flat_map(|q| q.iter()).map(|a| a.len()).sum())
        .unwrap_or(0);
    let qbuf_free = if qbuf > 0 {
        20474usize.saturating_sub(qbuf)
    } else {
        0
    };
    let tot = 22000 + 16384 + qbuf + qbuf_free + argv_mem + multi_mem + c.outbuf.capacity();
    format!(
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={sub} psub={psub} ssub={ssub} multi={multi} qbuf={qbuf} qbuf-free={qbuf_free} argv-mem={argv_mem} multi-mem={multi_mem} rbs=16384 rbp=16384 obl=0 oll=0 omem=0 tot-mem={tot} events=r cmd={cmd} user={} redir={} resp={}",
        c.id,
        c.addr,
        c.laddr,
        c.fd,
        c.name.as_ref().map(|n| String::from_utf8_lossy(n).into_owned()).unwrap_or_default(),
        now.saturating_sub(c.created_ms) / 1000,
        now.saturating_sub(c.last_interaction_ms) / 1000,
        client_flags(eng, c),
        c.db,
        c.user,
        eng.tracking
            .clients
            .get(&c.id)
            .map(|s| s.redirect as i64)
            .unwrap_or(-1),
        c.resp,
    )
}

fn verbatim(s: String) -> Reply {
    Reply::Verbatim(*b"txt", Bytes::from(s))
}

fn client_info(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let mut s = client_line(ctx.eng, ctx.client, Some(("client|info", args)));
    s.push('\n');
    verbatim(s)
}

#[derive(PartialEq, Clone, Copy)]
enum CType {
    Normal,
    Master,
    Replica,
    Pubsub,
}

fn parse_type(a: &[u8]) -> Result<CType, Reply> {
    let s = String::from_utf8_lossy(a).to_ascii_lowercase();
    match s.as_str() {
        "normal" => Ok(CType::Normal),
        "master" => Ok(CType::Master),
        "replica" | "slave" => Ok(CType::Replica),
        "pubsub" => Ok(CType::Pubsub),
        _ => Err(Reply::err(format!(
            "ERR Unknown client type '{}'",
            String::from_utf8_lossy(a)
        ))),
    }
}

fn client_type(eng: &Engine, c: &Client) -> CType {
    let (s, p, sh) = eng.pubsub.counts(c.id);
    if s + p + sh > 0 || c.subscriptions > 0 {
        CType::Pubsub
    } else {
        CType::Normal
    }
}

fn client_list(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let mut ty: Option<CType> = None;
    let mut ids: Option<Vec<ClientId>> = None;
    let mut i = 2;
    while i < args.len() {
        if eq_ic(&args[i], "type") && i + 1 < args.len() {
            match parse_type(&args[i + 1]) {
                Ok(t) => ty = Some(t),
                Err(e) => return e,
            }
            i += 2;
        } else if eq_ic(&args[i], "id") && i + 1 < args.len() {
            let mut v = Vec::new();
            for a in &args[i + 1..] {
                match lunakv_protocol::parse_i64(a) {
                    Some(n) if n > 0 => v.push(n as ClientId),
                    _ => return Reply::err_static("ERR Invalid client ID"),
                }
            }
            ids = Some(v);
            i = args.len();
        } else {
            return errors::syntax();
        }
    }
    let eng = &*ctx.eng;
    let me: &Client = ctx.client;
    let mut all: Vec<&Client> = eng
        .clients
        .values()
        .map(|b| &**b)
        .filter(|c| c.out.is_some())
        .collect();
    all.push(me);
    all.sort_by_key(|c| c.id);
    let mut out = String::new();
    for c in all {
        if let Some(t) = ty {
            if client_type(eng, c) != t {
                continue;
            }
        }
        if let Some(ids) = &ids {
            if !ids.contains(&c.id) {
                continue;
            }
        }
        let cur = if c.id == me.id {
            Some(("client|list", args))
        } else {
            None
        };
        out.push_str(&client_line(eng, c, cur));
        out.push('\n');
    }
    verbatim(out)
}

/// Closes another client's connection: its pending replies are sent, then
/// the connection is closed and the client forgotten.
pub fn kill_client(eng: &mut Engine, id: ClientId) -> bool {
    let Some(mut c) = eng.clients.remove(&id) else {
        return false;
    };
    c.flush();
    c.send(Out::Close);
    eng.free_client(&mut c);
    true
}

fn client_kill(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if args.len() == 3 {
        // Old form: CLIENT KILL addr:port.
        let addr = &args[2];
        if ctx.client.addr.as_bytes() == addr.as_ref() {
            ctx.client.close_after_reply = true;
            return Reply::ok();
        }
        let victim = ctx
            .eng
            .clients
            .values()
            .find(|c| c.out.is_some() && c.addr.as_bytes() == addr.as_ref())
            .map(|c| c.id);
        return match victim {
            Some(id) => {
                kill_client(ctx.eng, id);
                Reply::ok()
            }
            None => Reply::err_static("ERR No such client"),
        };
    }
    let mut id: Option<ClientId> = None;
    let mut ty: Option<CType> = None;
    let mut user: Option<String> = None;
    let mut addr: Option<Bytes> = None;
    let mut laddr: Option<Bytes> = None;
    let mut skipme = true;
    let mut i = 2;
    while i < args.len() {
        if i + 1 >= args.len() {
            return errors::syntax();
        }
        let (opt, val) = (&args[i], &args[i + 1]);
        if eq_ic(opt, "id") {
            match lunakv_protocol::parse_i64(val) {
                Some(n) if n > 0 => id = Some(n as ClientId),
                _ => return Reply::err_static("ERR client-id should be greater than 0"),
            }
        } else if eq_ic(opt, "type") {
            match parse_type(val) {
                Ok(t) => ty = Some(t),
                Err(e) => return e,
            }
        } else if eq_ic(opt, "addr") {
            addr = Some(val.clone());
        } else if eq_ic(opt, "laddr") {
            laddr = Some(val.clone());
        } else if eq_ic(opt, "user") {
            let u = String::from_utf8_lossy(val).into_owned();
            let known = u == "default"
                || ctx.client.user == u
                || ctx.eng.clients.values().any(|c| c.user == u);
            if !known {
                return Reply::err(format!("ERR No such user '{u}'"));
            }
            user = Some(u);
        } else if eq_ic(opt, "skipme") {
            if eq_ic(val, "yes") {
                skipme = true;
            } else if eq_ic(val, "no") {
                skipme = false;
            } else {
                return errors::syntax();
            }
        } else {
            return errors::syntax();
        }
        i += 2;
    }
    let matches = |eng: &Engine, c: &Client| -> bool {
        id.is_none_or(|x| x == c.id)
            && ty.is_none_or(|t| client_type(eng, c) == t)
            && user.as_ref().is_none_or(|u| &c.user == u)
            && addr
                .as_ref()
                .is_none_or(|a| c.addr.as_bytes() == a.as_ref())
            && laddr
                .as_ref()
                .is_none_or(|a| c.laddr.as_bytes() == a.as_ref())
    };
    let victims: Vec<ClientId> = ctx
        .eng
        .clients
        .values()
        .filter(|c| c.out.is_some() && matches(ctx.eng, c))
        .map(|c| c.id)
        .collect();
    let mut killed = 0;
    for v in victims {
        if kill_client(ctx.eng, v) {
            killed += 1;
        }
    }
    if !skipme && matches(ctx.eng, ctx.client) {
        ctx.client.close_after_reply = true;
        killed += 1;
    }
    Reply::Int(killed)
}

fn on_off(a: &[u8]) -> Option<bool> {
    if eq_ic(a, "on") {
        Some(true)
    } else if eq_ic(a, "off") {
        Some(false)
    } else {
        None
    }
}

fn client_no_evict(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match on_off(&args[2]) {
        Some(b) => {
            ctx.client.no_evict = b;
            Reply::ok()
        }
        None => errors::syntax(),
    }
}

fn client_no_touch(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match on_off(&args[2]) {
        Some(b) => {
            ctx.client.no_touch = b;
            Reply::ok()
        }
        None => errors::syntax(),
    }
}

fn client_reply(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let a = &args[2];
    if eq_ic(a, "on") {
        ctx.client.reply_mode = ReplyMode::On;
    } else if eq_ic(a, "off") {
        ctx.client.reply_mode = ReplyMode::Off;
    } else if eq_ic(a, "skip") {
        if ctx.client.reply_mode != ReplyMode::Off {
            ctx.client.reply_mode = ReplyMode::Skip;
        }
    } else {
        return errors::syntax();
    }
    Reply::ok()
}

fn client_pause(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    crate::pause::client_pause(ctx.eng, args)
}

fn client_unpause(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    crate::pause::client_unpause(ctx.eng)
}

fn client_unblock(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let Some(id) = lunakv_protocol::parse_i64(&args[2]) else {
        return errors::not_int();
    };
    let error = match args.get(3) {
        None => false,
        Some(m) if args.len() == 4 && eq_ic(m, "timeout") => false,
        Some(m) if args.len() == 4 && eq_ic(m, "error") => true,
        Some(_) => {
            return Reply::err_static("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
        }
    };
    if id <= 0 || id as ClientId == ctx.client.id {
        return Reply::Int(0);
    }
    Reply::Int(i64::from(ctx.eng.unblock_client(id as ClientId, error)))
}

fn client_tracking(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let opts = match crate::tracking::parse_options(ctx.eng, ctx.client, args) {
        Ok(o) => o,
        Err(e) => return e,
    };
    match on_off(&args[2]) {
        Some(true) => match crate::tracking::enable(ctx.eng, ctx.client, opts) {
            Ok(()) => Reply::ok(),
            Err(e) => e,
        },
        Some(false) => {
            crate::tracking::disable(ctx.eng, ctx.client.id);
            Reply::ok()
        }
        None => errors::syntax(),
    }
}

fn client_caching(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let Some(st) = ctx.eng.tracking.clients.get_mut(&ctx.client.id) else {
        return Reply::err_static(
            "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
        );
    };
    if eq_ic(&args[2], "yes") {
        if !st.optin {
            return Reply::err_static(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            );
        }
    } else if eq_ic(&args[2], "no") {
        if !st.optout {
            return Reply::err_static(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            );
        }
    } else {
        return errors::syntax();
    }
    st.caching = true;
    Reply::ok()
}

fn client_getredir(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    match ctx.eng.tracking.clients.get(&ctx.client.id) {
        Some(st) => Reply::Int(st.redirect as i64),
        None => Reply::Int(-1),
    }
}

fn client_trackinginfo(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    let st = ctx.eng.tracking.clients.get(&ctx.client.id);
    let mut fl = vec![bulk(if st.is_some() { "on" } else { "off" })];
    let mut redirect = -1;
    let mut prefixes = Vec::new();
    if let Some(st) = st {
        if st.bcast {
            fl.push(bulk("bcast"));
        }
        if st.optin {
            fl.push(bulk("optin"));
            if st.caching {
                fl.push(bulk("caching-yes"));
            }
        }
        if st.optout {
            fl.push(bulk("optout"));
            if st.caching {
                fl.push(bulk("caching-no"));
            }
        }
        if st.noloop {
            fl.push(bulk("noloop"));
        }
        if st.broken_redir {
            fl.push(bulk("broken_redirect"));
        }
        redirect = st.redirect as i64;
        prefixes = st.prefixes.iter().map(|p| Reply::Bulk(p.clone())).collect();
    }
    Reply::Map(vec![
        (bulk("flags"), Reply::Set(fl)),
        (bulk("redirect"), Reply::Int(redirect)),
        (bulk("prefixes"), Reply::Array(prefixes)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::TestEngine;

    fn cli_params(args: &[ArgDoc]) -> String {
        fn one(a: &ArgDoc) -> String {
            let tok = a.token.clone().unwrap_or_default();
            let rep = match a.typ {
                "oneof" => a.args.iter().map(one).collect::<Vec<_>>().join("|"),
                "block" => a.args.iter().map(one).collect::<Vec<_>>().join(" "),
                "pure-token" => String::new(),
                _ => a.name.clone(),
            };
            let tok = if !tok.is_empty() && a.typ != "pure-token" {
                format!("{tok} ")
            } else {
                tok
            };
            let mut s = String::new();
            if a.optional {
                s.push('[');
            }
            s.push_str(&tok);
            s.push_str(&rep);
            if a.multiple {
                s.push_str(" [");
                if a.multiple_token {
                    s.push_str(&tok);
                }
                s.push_str(&rep);
                s.push_str(" ...]");
            }
            if a.optional {
                s.push(']');
            }
            s
        }
        args.iter().map(one).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn syntax_round_trips_through_redis_cli_rendering() {
        for (src, want) in [
            (
                "key value [NX | XX] [GET] [EX seconds | PX milliseconds | KEEPTTL]",
                "key value [NX|XX] [GET] [EX seconds|PX milliseconds|KEEPTTL]",
            ),
            ("key [key ...]", "key [key ...]"),
            ("[section [section ...]]", "[section [section ...]]"),
            ("key value [key value ...]", "key value [key value ...]"),
            (
                "parameter value [parameter value ...]",
                "parameter value [parameter value ...]",
            ),
            (
                "cursor [MATCH pattern] [COUNT count] [TYPE type]",
                "cursor [MATCH pattern] [COUNT count] [TYPE type]",
            ),
            ("<ON | OFF | SKIP>", "ON|OFF|SKIP"),
            (
                "key [GET encoding offset [GET encoding offset ...]]",
                "key [GET encoding offset [GET encoding offset ...]]",
            ),
            (
                "[protover [AUTH username password] [SETNAME clientname]]",
                "[protover [AUTH username password] [SETNAME clientname]]",
            ),
            (
                "script numkeys [key [key ...]] [arg [arg ...]]",
                "script numkeys [key [key ...]] [arg [arg ...]]",
            ),
            ("", ""),
        ] {
            assert_eq!(cli_params(&parse_syntax(src)), want, "{src}");
        }
        let a = parse_syntax("key value");
        assert_eq!(a[0].typ, "key");
        assert_eq!(a[1].typ, "string");
        // Garbage never panics.
        for s in [
            "[",
            "]",
            "[[[",
            "a | | b",
            "...",
            "[x ...",
            "<a | [b]>",
            "A B | [C ...] D]]",
        ] {
            let _ = parse_syntax(s);
        }
    }

    #[test]
    fn command_info_count_list_docs() {
        let mut t = TestEngine::new();
        assert!(t.raw(&["COMMAND", "COUNT"]).starts_with(':'));
        let r = t.raw(&[
            "COMMAND",
            "INFO",
            "get",
            "get|key",
            "config|get|key",
            "nosuch",
        ]);
        assert!(r.starts_with("*4\r\n*10\r\n$3\r\nget\r\n:2\r\n"), "{r}");
        assert!(r.ends_with("*-1\r\n*-1\r\n*-1\r\n"), "{r}");
        let r = t.raw(&["COMMAND", "INFO", "config|get"]);
        assert!(r.contains("config|get"));
        let r = t.raw(&["COMMAND", "LIST"]);
        assert!(r.contains("$11\r\nclient|list\r\n") && r.contains("$3\r\nset\r\n"));
        assert_eq!(
            t.raw(&["COMMAND", "LIST", "bad_arg"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            t.raw(&["COMMAND", "LIST", "filterby", "bad_arg", "x"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            t.raw(&["COMMAND", "LIST", "filterby", "aclcat", "non_existing"]),
            "*0\r\n"
        );
        assert_eq!(
            t.raw(&["COMMAND", "LIST", "filterby", "pattern", "set"]),
            "*1\r\n$3\r\nset\r\n"
        );
        let r = t.raw(&["COMMAND", "LIST", "filterby", "pattern", "config|*re*"]);
        assert!(r.contains("config|resetstat") && r.contains("config|rewrite"));
        assert_eq!(
            t.raw(&["COMMAND", "LIST", "filterby", "module", "x"]),
            "*0\r\n"
        );
        let r = t.raw(&["COMMAND", "DOCS", "set"]);
        assert!(r.starts_with("*2\r\n$3\r\nset\r\n"));
        assert!(r.contains("$4\r\ntype\r\n$3\r\nkey\r\n"));
        assert!(t
            .raw(&["COMMAND", "HELP"])
            .starts_with("*21\r\n+COMMAND <subcommand>"));
        assert_eq!(
            t.raw(&["COMMAND", "FOO"]),
            "-ERR unknown subcommand 'FOO'. Try COMMAND HELP.\r\n"
        );
        assert!(t.raw(&["COMMAND"]).starts_with('*'));
        t.client.resp = 3;
        assert!(t.raw(&["COMMAND", "DOCS", "get"]).starts_with("%1\r\n"));
    }

    #[test]
    fn command_getkeys() {
        let mut t = TestEngine::new();
        assert_eq!(
            t.raw(&["COMMAND", "GETKEYS", "get", "key"]),
            "*1\r\n$3\r\nkey\r\n"
        );
        assert_eq!(
            t.raw(&["COMMAND", "GETKEYSANDFLAGS", "set", "k1", "v1"]),
            "*1\r\n*2\r\n$2\r\nk1\r\n*2\r\n+OW\r\n+update\r\n"
        );
        assert_eq!(
            t.raw(&["COMMAND", "GETKEYSANDFLAGS", "mset", "k1", "v1", "k2", "v2"]),
            "*2\r\n*2\r\n$2\r\nk1\r\n*2\r\n+OW\r\n+update\r\n*2\r\n$2\r\nk2\r\n*2\r\n+OW\r\n+update\r\n"
        );
        assert_eq!(
            t.raw(&["COMMAND", "GETKEYS", "memory", "usage", "key"]),
            "*1\r\n$3\r\nkey\r\n"
        );
        assert_eq!(
            t.raw(&["COMMAND", "GETKEYS", "nosuch", "x"]),
            "-ERR Invalid command specified\r\n"
        );
        assert_eq!(
            t.raw(&["COMMAND", "GETKEYS", "ping", "x"]),
            "-ERR The command has no key arguments\r\n"
        );
        assert_eq!(
            t.raw(&["COMMAND", "GETKEYS", "get", "a", "b"]),
            "-ERR Invalid number of arguments specified for command\r\n"
        );
        assert_eq!(
            t.raw(&["COMMAND", "GETKEYS", "get"]),
            "-ERR wrong number of arguments for 'command|getkeys' command\r\n"
        );
    }

    #[test]
    fn client_basics() {
        let mut t = TestEngine::new();
        assert_eq!(t.raw(&["CLIENT", "ID"]), ":1\r\n");
        assert_eq!(t.raw(&["CLIENT", "GETNAME"]), "$-1\r\n");
        assert_eq!(
            t.raw(&["CLIENT", "SETNAME", "a b"]),
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
        );
        assert_eq!(t.raw(&["CLIENT", "SETNAME", "foo"]), "+OK\r\n");
        assert_eq!(t.raw(&["CLIENT", "GETNAME"]), "$3\r\nfoo\r\n");
        let l = t.raw(&["CLIENT", "LIST"]);
        assert!(l.contains(" name=foo age=0 idle=0 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=26 qbuf-free="), "{l}");
        assert!(
            l.contains(" multi-mem=0 rbs=16384 rbp=16384 obl=0 oll=0 omem=0 tot-mem="),
            "{l}"
        );
        assert!(
            l.contains(" events=r cmd=client|list user=default redir=-1 resp=2\n"),
            "{l}"
        );
        let i = t.raw(&["CLIENT", "INFO"]);
        assert!(i.contains("qbuf=26") && i.contains("cmd=client|info"));
        assert_eq!(t.raw(&["CLIENT", "LIST", "ID", "2"]), "$0\r\n\r\n");
        assert_eq!(
            t.raw(&["CLIENT", "LIST", "ID", "x"]),
            "-ERR Invalid client ID\r\n"
        );
        assert_eq!(
            t.raw(&["CLIENT", "LIST", "TYPE", "foo"]),
            "-ERR Unknown client type 'foo'\r\n"
        );
        assert!(t
            .raw(&["CLIENT", "LIST", "TYPE", "normal"])
            .contains("id=1 "));
        assert_eq!(
            t.raw(&["CLIENT", "SETINFO", "lib-name", "redis-py"]),
            "+OK\r\n"
        );
        assert_eq!(
            t.raw(&["CLIENT", "SETINFO", "lib-ver", "1 2"]),
            "-ERR lib-ver cannot contain spaces, newlines or special characters.\r\n"
        );
        assert_eq!(
            t.raw(&["CLIENT", "SETINFO", "badopt", "x"]),
            "-ERR Unrecognized option 'badopt'\r\n"
        );
        assert_eq!(t.raw(&["CLIENT", "NO-EVICT", "on"]), "+OK\r\n");
        assert_eq!(
            t.raw(&["CLIENT", "NO-EVICT", "maybe"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            t.raw(&["CLIENT", "PAUSE", "x"]),
            "-ERR timeout is not an integer or out of range\r\n"
        );
        assert_eq!(t.raw(&["CLIENT", "PAUSE", "100", "WRITE"]), "+OK\r\n");
        assert_eq!(t.raw(&["CLIENT", "UNPAUSE"]), "+OK\r\n");
        assert!(t
            .raw(&["CLIENT", "HELP"])
            .starts_with("*48\r\n+CLIENT <subcommand>"));
        assert_eq!(
            t.raw(&["CLIENT", "REPLY", "maybe"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(t.raw(&["CLIENT", "REPLY", "OFF"]), "+OK\r\n");
        assert_eq!(t.client.reply_mode, ReplyMode::Off);
    }

    #[test]
    fn client_kill_errors_and_kills() {
        let mut t = TestEngine::new();
        assert_eq!(
            t.raw(&["CLIENT", "KILL"]),
            "-ERR wrong number of arguments for 'client|kill' command\r\n"
        );
        assert_eq!(
            t.raw(&["CLIENT", "KILL", "id", "10", "wrong_arg"]),
            "-ERR syntax error\r\n"
        );
        for bad in ["str", "-1", "0"] {
            assert_eq!(
                t.raw(&["CLIENT", "KILL", "id", bad]),
                "-ERR client-id should be greater than 0\r\n"
            );
        }
        assert_eq!(
            t.raw(&["CLIENT", "KILL", "type", "wrong_type"]),
            "-ERR Unknown client type 'wrong_type'\r\n"
        );
        assert_eq!(
            t.raw(&["CLIENT", "KILL", "user", "wrong_user"]),
            "-ERR No such user 'wrong_user'\r\n"
        );
        assert_eq!(
            t.raw(&["CLIENT", "KILL", "skipme", "yes_or_no"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            t.raw(&["CLIENT", "KILL", "1.2.3.4:5"]),
            "-ERR No such client\r\n"
        );
        // Another connected client gets closed.
        let rx = crate::client::OutQueue::detached(7);
        let mut other = Client::new(7, crate::unix_ms());
        other.out = Some(rx.clone());
        other.addr = "127.0.0.1:5555".into();
        t.eng.clients.insert(7, Box::new(other));
        assert_eq!(t.raw(&["CLIENT", "KILL", "ID", "7"]), ":1\r\n");
        assert!(t.eng.clients.is_empty());
        assert!(matches!(rx.try_recv(), Ok(Out::Close)));
        // Killing yourself closes after the reply.
        assert_eq!(t.raw(&["CLIENT", "KILL", "skipme", "no"]), ":1\r\n");
        assert!(t.client.close_after_reply);
    }
}
