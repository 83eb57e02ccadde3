//! The command table: every command declared once.
//!
//! A [`Cmd`] carries a command's name, arity, flags, key positions, docs and
//! handler. The one table built from these declarations serves every path
//! that runs or describes a command: the network, `redis.call`, MULTI/EXEC,
//! `COMMAND` (COUNT, INFO, DOCS, GETKEYS, LIST), ACL categories and, later,
//! cluster slot routing. Each command family registers its commands in its
//! own module (`cmd::string::register`, ...).

use std::collections::HashMap;

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::ctx::Ctx;

/// A command handler. `args[0]` is the command name as the client sent it;
/// for subcommands `args[1]` is the subcommand.
pub type Handler = fn(&mut Ctx<'_>, &[Bytes]) -> Reply;

/// Finds the positions of the key arguments for commands whose keys are not
/// at fixed positions (EVAL's numkeys, ...).
pub type KeysFn = fn(&[Bytes]) -> Vec<usize>;

/// Command flags, with the names `COMMAND INFO` prints.
pub mod flags {
    pub const WRITE: u64 = 1 << 0;
    pub const READONLY: u64 = 1 << 1;
    pub const DENYOOM: u64 = 1 << 2;
    pub const ADMIN: u64 = 1 << 3;
    pub const PUBSUB: u64 = 1 << 4;
    pub const NOSCRIPT: u64 = 1 << 5;
    pub const BLOCKING: u64 = 1 << 6;
    pub const LOADING: u64 = 1 << 7;
    pub const STALE: u64 = 1 << 8;
    pub const SKIP_MONITOR: u64 = 1 << 9;
    pub const SKIP_SLOWLOG: u64 = 1 << 10;
    pub const ASKING: u64 = 1 << 11;
    pub const FAST: u64 = 1 << 12;
    pub const NO_AUTH: u64 = 1 << 13;
    pub const MAY_REPLICATE: u64 = 1 << 14;
    pub const NO_MANDATORY_KEYS: u64 = 1 << 15;
    pub const NO_ASYNC_LOADING: u64 = 1 << 16;
    pub const NO_MULTI: u64 = 1 << 17;
    pub const MOVABLE_KEYS: u64 = 1 << 18;
    pub const ALLOW_BUSY: u64 = 1 << 19;

    /// Flag names in Redis's order, as COMMAND INFO lists them.
    pub const NAMES: &[(u64, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (MOVABLE_KEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];

    /// Parses a space-separated list of flag names; panics on an unknown
    /// name, which is a programming error caught by the table's unit test.
    pub fn parse(s: &str) -> u64 {
        let mut f = 0;
        for w in s.split_whitespace() {
            match NAMES.iter().find(|(_, n)| *n == w) {
                Some((bit, _)) => f |= bit,
                None => panic!("unknown command flag {w}"),
            }
        }
        f
    }
}

/// ACL categories, with Redis's names and bit order.
pub mod acl {
    pub const NAMES: &[&str] = &[
        "keyspace",
        "read",
        "write",
        "set",
        "sortedset",
        "list",
        "hash",
        "string",
        "bitmap",
        "hyperloglog",
        "geo",
        "stream",
        "pubsub",
        "admin",
        "fast",
        "slow",
        "blocking",
        "dangerous",
        "connection",
        "transaction",
        "scripting",
    ];

    /// The bit of a category name.
    pub fn bit(name: &str) -> Option<u64> {
        NAMES.iter().position(|n| *n == name).map(|i| 1u64 << i)
    }
}

/// One command or subcommand declaration.
pub struct Cmd {
    /// Lower-case name (`get`; a subcommand's own name, e.g. `getname`).
    pub name: &'static str,
    /// Full name: `get`, or `client|getname` for a subcommand.
    pub full_name: String,
    /// Redis's arity: N exactly N arguments (name included), -N at least N.
    pub arity: i32,
    pub flags: u64,
    /// First key position (0: no keys), last key (-1: last argument), step.
    pub first_key: i32,
    pub last_key: i32,
    pub key_step: i32,
    /// Key positions for commands with movable keys.
    pub keys_fn: Option<KeysFn>,
    /// Docs group: `string`, `generic`, `server`, `connection`, ...
    pub group: &'static str,
    pub summary: &'static str,
    pub since: &'static str,
    pub complexity: &'static str,
    /// Argument syntax as in Redis's docs (`key value [NX | XX]`): the source
    /// of COMMAND DOCS arguments and redis-cli's hints.
    pub syntax: &'static str,
    /// ACL categories (bits of [`acl::NAMES`]).
    pub acl: u64,
    pub handler: Handler,
    pub subs: Vec<Cmd>,
    /// Index into the engine's per-command statistics.
    pub id: usize,
}

impl Cmd {
    /// Declares a command. `flag_names` are Redis's flag names separated by
    /// spaces; `keys` is (first, last, step).
    pub fn new(
        name: &'static str,
        arity: i32,
        flag_names: &str,
        keys: (i32, i32, i32),
        group: &'static str,
        summary: &'static str,
        handler: Handler,
    ) -> Cmd {
        Cmd {
            name,
            full_name: name.to_string(),
            arity,
            flags: flags::parse(flag_names),
            first_key: keys.0,
            last_key: keys.1,
            key_step: keys.2,
            keys_fn: None,
            group,
            summary,
            since: "1.0.0",
            complexity: "",
            syntax: "",
            acl: 0,
            handler,
            subs: Vec::new(),
            id: 0,
        }
    }

    /// Sets the argument syntax (docs and hints).
    pub fn syntax(mut self, s: &'static str) -> Cmd {
        self.syntax = s;
        self
    }

    /// Sets the version the command appeared in.
    pub fn since(mut self, s: &'static str) -> Cmd {
        self.since = s;
        self
    }

    /// Sets the complexity text of COMMAND DOCS.
    pub fn complexity(mut self, s: &'static str) -> Cmd {
        self.complexity = s;
        self
    }

    /// Adds ACL categories beyond those derived from flags and group.
    pub fn acl(mut self, cats: &str) -> Cmd {
        for c in cats.split_whitespace() {
            match acl::bit(c.trim_start_matches('@')) {
                Some(b) => self.acl |= b,
                None => panic!("unknown ACL category {c}"),
            }
        }
        self
    }

    /// Gives a function that finds key positions (movable keys).
    pub fn keys_fn(mut self, f: KeysFn) -> Cmd {
        self.keys_fn = Some(f);
        self.flags |= flags::MOVABLE_KEYS;
        self
    }

    /// Adds a subcommand (`CONFIG GET`, `CLIENT ID`...).
    // A builder method named after what it adds, not arithmetic.
    #[allow(clippy::should_implement_trait)]
    pub fn sub(mut self, c: Cmd) -> Cmd {
        self.subs.push(c);
        self
    }

    /// Is this a container of subcommands?
    pub fn has_subs(&self) -> bool {
        !self.subs.is_empty()
    }

    pub fn is(&self, f: u64) -> bool {
        self.flags & f != 0
    }

    /// Checks the argument count against the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        (a > 0 && argc == a as usize) || (a < 0 && argc >= (-a) as usize)
    }

    /// Finds a subcommand by name, case-insensitively.
    pub fn find_sub(&self, name: &[u8]) -> Option<&Cmd> {
        self.subs
            .iter()
            .find(|c| c.name.as_bytes().eq_ignore_ascii_case(name))
    }

    /// Positions of the key arguments in `args`.
    pub fn key_positions(&self, args: &[Bytes]) -> Vec<usize> {
        if let Some(f) = self.keys_fn {
            return f(args);
        }
        let mut out = Vec::new();
        if self.first_key <= 0 {
            return out;
        }
        let argc = args.len() as i32;
        let last = if self.last_key < 0 {
            argc + self.last_key
        } else {
            self.last_key
        };
        let mut i = self.first_key;
        let step = self.key_step.max(1);
        while i <= last && i < argc {
            out.push(i as usize);
            i += step;
        }
        out
    }

    fn derive_acl(&mut self) {
        let f = self.flags;
        let mut add = |n: &str| {
            if let Some(b) = acl::bit(n) {
                self.acl |= b;
            }
        };
        if f & flags::WRITE != 0 {
            add("write");
        }
        if f & flags::READONLY != 0 && self.group != "scripting" {
            add("read");
        }
        if f & flags::ADMIN != 0 {
            add("admin");
            add("dangerous");
        }
        if f & flags::PUBSUB != 0 {
            add("pubsub");
        }
        if f & flags::FAST != 0 {
            add("fast");
        }
        if f & flags::BLOCKING != 0 {
            add("blocking");
        }
        if f & flags::FAST == 0 {
            add("slow");
        }
        let g = match self.group {
            "generic" => "keyspace",
            "string" => "string",
            "list" => "list",
            "hash" => "hash",
            "set" => "set",
            "sorted-set" => "sortedset",
            "bitmap" => "bitmap",
            "hyperloglog" => "hyperloglog",
            "geo" => "geo",
            "stream" => "stream",
            "pubsub" => "pubsub",
            "connection" => "connection",
            "transactions" => "transaction",
            "scripting" => "scripting",
            _ => "",
        };
        // Redis gives containers (CLIENT, SCRIPT, XINFO...) and a few
        // commands no category of their group (their JSON lists none).
        let no_group = !self.subs.is_empty()
            || matches!(
                self.full_name.as_str(),
                "sort" | "sort_ro" | "wait" | "pubsub|help"
            );
        if !g.is_empty() && !no_group {
            add(g);
        }
    }
}

/// The table of all commands.
pub struct CommandTable {
    map: HashMap<&'static str, Cmd, foldhash::fast::RandomState>,
    /// Number of commands and subcommands (size of the stats array).
    pub count: usize,
    /// Full names by id.
    pub names: Vec<String>,
}

impl CommandTable {
    /// Builds the table from the families' declarations.
    pub fn build(cmds: Vec<Cmd>) -> CommandTable {
        let mut map = HashMap::with_hasher(foldhash::fast::RandomState::default());
        let mut names = Vec::new();
        for mut c in cmds {
            c.derive_acl();
            c.id = names.len();
            names.push(c.name.to_string());
            let parent = c.name;
            let parent_acl = c.acl;
            for s in &mut c.subs {
                s.full_name = format!("{parent}|{}", s.name);
                s.derive_acl();
                s.acl |= parent_acl & acl_bit_of_group(c.group);
                s.id = names.len();
                names.push(s.full_name.clone());
            }
            assert!(map.insert(c.name, c).is_none(), "command declared twice");
        }
        CommandTable {
            count: names.len(),
            names,
            map,
        }
    }

    /// Finds a command by its name, case-insensitively, without allocating
    /// for names up to 32 bytes.
    pub fn get(&self, name: &[u8]) -> Option<&Cmd> {
        let mut buf = [0u8; 32];
        if name.len() <= buf.len() {
            let b = &mut buf[..name.len()];
            b.copy_from_slice(name);
            b.make_ascii_lowercase();
            let s = std::str::from_utf8(b).ok()?;
            self.map.get(s)
        } else {
            None
        }
    }

    /// All top-level commands.
    pub fn iter(&self) -> impl Iterator<Item = &Cmd> {
        self.map.values()
    }

    /// Number of top-level commands (COMMAND COUNT).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

fn acl_bit_of_group(_g: &str) -> u64 {
    0
}
