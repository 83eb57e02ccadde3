//! Server configuration: one table of parameters serves the command line,
//! the config file (redis.conf syntax), `CONFIG GET` and `CONFIG SET`.
//!
//! Values are kept as their canonical text (what CONFIG GET prints); typed
//! accessors parse them. Values read on hot paths are copied into plain
//! fields by the engine whenever the configuration changes.

use std::collections::HashMap;

/// The kind of a parameter: how its values are checked and printed.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// `yes` / `no`.
    Bool,
    /// An integer within bounds.
    Int { min: i64, max: i64 },
    /// An octal integer (`unixsocketperm`).
    Octal { max: i64 },
    /// A memory size with optional unit (`1gb`, `100mb`, `512k`), printed in bytes.
    Mem { min: i64, max: i64 },
    /// A memory size or a percentage (`10%`, stored and printed as `10%`).
    MemPercent { min: i64, max: i64 },
    /// Any string.
    Str,
    /// A file name: no path separators (`dbfilename`, `appendfilename`).
    FileName,
    /// One of the listed words.
    Enum(&'static [&'static str]),
    /// One or more of the listed words, space separated.
    Flags(&'static [&'static str]),
    /// A space-separated list of words of any content.
    List,
    /// `save`: pairs of `<seconds> <changes>`, or empty.
    Save,
    /// `client-output-buffer-limit`: `<class> <hard> <soft> <seconds>`...
    ObufLimits,
    /// `oom-score-adj-values`: three integers.
    OomValues,
    /// `notify-keyspace-events`: event class letters.
    Notify,
    /// `replicaof`: `<host> <port>` or `no one`.
    ReplicaOf,
    /// `latency-tracking-info-percentiles`: numbers between 0 and 100.
    Percentiles,
}

/// Parameter flags.
pub const IMMUTABLE: u32 = 1;
pub const PROTECTED: u32 = 2;
pub const SENSITIVE: u32 = 4;
/// Accepted for compatibility; has no effect in lunakv yet.
pub const INERT: u32 = 8;
/// Only listed by CONFIG GET when asked for by its exact name.
pub const HIDDEN: u32 = 16;
/// Cannot be changed while a dataset is loading.
pub const DENY_LOADING: u32 = 32;

/// One configuration parameter.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub kind: Kind,
    pub default: &'static str,
    pub flags: u32,
}

impl Param {
    /// True if the parameter has the given flag.
    pub fn is(&self, f: u32) -> bool {
        self.flags & f != 0
    }

    /// True if the parameter takes several words (`save`, `bind`...).
    pub fn multi_arg(&self) -> bool {
        matches!(
            self.kind,
            Kind::Flags(_)
                | Kind::List
                | Kind::Save
                | Kind::ObufLimits
                | Kind::OomValues
                | Kind::ReplicaOf
                | Kind::Percentiles
        )
    }
}

const fn p(name: &'static str, kind: Kind, default: &'static str, flags: u32) -> Param {
    Param {
        name,
        alias: None,
        kind,
        default,
        flags,
    }
}

const fn pa(
    name: &'static str,
    alias: &'static str,
    kind: Kind,
    default: &'static str,
    flags: u32,
) -> Param {
    Param {
        name,
        alias: Some(alias),
        kind,
        default,
        flags,
    }
}

const BOOL: Kind = Kind::Bool;
const STR: Kind = Kind::Str;
const fn int(min: i64, max: i64) -> Kind {
    Kind::Int { min, max }
}
const fn mem(min: i64, max: i64) -> Kind {
    Kind::Mem { min, max }
}
const LL: i64 = i64::MAX;
const IMAX: i64 = i32::MAX as i64;
const IMIN: i64 = i32::MIN as i64;
const UIMAX: i64 = u32::MAX as i64;
const SHUTDOWN_FLAGS: &[&str] = &["default", "save", "nosave", "now", "force"];

/// Every parameter of Redis 7.0.15, with its name, alias, type, default and
/// flags. Parameters lunakv does not act on are marked [`INERT`]: they are
/// accepted, stored and reported, so that tools and tests that set them work.
pub static PARAMS: &[Param] = &[
    // Booleans.
    p("rdbchecksum", BOOL, "yes", IMMUTABLE | INERT),
    p("daemonize", BOOL, "no", IMMUTABLE | INERT),
    p("io-threads-do-reads", BOOL, "no", IMMUTABLE | INERT),
    p("always-show-logo", BOOL, "no", IMMUTABLE | INERT),
    p("protected-mode", BOOL, "yes", INERT),
    p("rdbcompression", BOOL, "yes", INERT),
    p("rdb-del-sync-files", BOOL, "no", INERT),
    p("activerehashing", BOOL, "yes", INERT),
    p("stop-writes-on-bgsave-error", BOOL, "yes", INERT),
    p("set-proc-title", BOOL, "yes", IMMUTABLE | INERT),
    p("dynamic-hz", BOOL, "yes", INERT),
    p("lazyfree-lazy-eviction", BOOL, "no", INERT),
    p("lazyfree-lazy-expire", BOOL, "no", INERT),
    p("lazyfree-lazy-server-del", BOOL, "no", INERT),
    p("lazyfree-lazy-user-del", BOOL, "no", INERT),
    p("lazyfree-lazy-user-flush", BOOL, "no", INERT),
    p("repl-disable-tcp-nodelay", BOOL, "no", INERT),
    p("repl-diskless-sync", BOOL, "yes", INERT),
    p("aof-rewrite-incremental-fsync", BOOL, "yes", INERT),
    p("no-appendfsync-on-rewrite", BOOL, "no", INERT),
    p("cluster-require-full-coverage", BOOL, "yes", INERT),
    p("rdb-save-incremental-fsync", BOOL, "yes", INERT),
    p("aof-load-truncated", BOOL, "yes", INERT),
    p("aof-use-rdb-preamble", BOOL, "yes", INERT),
    p("aof-timestamp-enabled", BOOL, "no", INERT),
    pa(
        "cluster-replica-no-failover",
        "cluster-slave-no-failover",
        BOOL,
        "no",
        INERT,
    ),
    pa("replica-lazy-flush", "slave-lazy-flush", BOOL, "no", INERT),
    pa(
        "replica-serve-stale-data",
        "slave-serve-stale-data",
        BOOL,
        "yes",
        INERT,
    ),
    pa("replica-read-only", "slave-read-only", BOOL, "yes", INERT),
    pa(
        "replica-ignore-maxmemory",
        "slave-ignore-maxmemory",
        BOOL,
        "yes",
        INERT,
    ),
    p("jemalloc-bg-thread", BOOL, "yes", INERT),
    p("activedefrag", BOOL, "no", INERT),
    p("syslog-enabled", BOOL, "no", IMMUTABLE | INERT),
    p("cluster-enabled", BOOL, "no", IMMUTABLE | INERT),
    p("appendonly", BOOL, "no", DENY_LOADING),
    p("cluster-allow-reads-when-down", BOOL, "no", INERT),
    p("cluster-allow-pubsubshard-when-down", BOOL, "yes", INERT),
    p("crash-log-enabled", BOOL, "yes", INERT),
    p("crash-memcheck-enabled", BOOL, "yes", INERT),
    p("use-exit-on-panic", BOOL, "no", HIDDEN | INERT),
    p("disable-thp", BOOL, "yes", IMMUTABLE | INERT),
    p("cluster-allow-replica-migration", BOOL, "yes", INERT),
    p("replica-announced", BOOL, "yes", INERT),
    p("latency-tracking", BOOL, "yes", INERT),
    p("aof-disable-auto-gc", BOOL, "no", INERT),
    p("replica-ignore-disk-write-errors", BOOL, "no", INERT),
    // Strings.
    p("aclfile", STR, "", IMMUTABLE | INERT),
    p("unixsocket", STR, "", IMMUTABLE | INERT),
    p("pidfile", STR, "", IMMUTABLE | INERT),
    pa("replica-announce-ip", "slave-announce-ip", STR, "", INERT),
    p("masteruser", STR, "", SENSITIVE | INERT),
    p("cluster-announce-ip", STR, "", INERT),
    p("cluster-config-file", STR, "nodes.conf", IMMUTABLE | INERT),
    p("cluster-announce-hostname", STR, "", INERT),
    p("syslog-ident", STR, "redis", IMMUTABLE | INERT),
    p("dbfilename", Kind::FileName, "dump.rdb", PROTECTED),
    p(
        "appendfilename",
        Kind::FileName,
        "appendonly.aof",
        IMMUTABLE,
    ),
    p("appenddirname", Kind::FileName, "appendonlydir", IMMUTABLE),
    p("server_cpulist", STR, "", IMMUTABLE | INERT),
    p("bio_cpulist", STR, "", IMMUTABLE | INERT),
    p("aof_rewrite_cpulist", STR, "", IMMUTABLE | INERT),
    p("bgsave_cpulist", STR, "", IMMUTABLE | INERT),
    p("ignore-warnings", STR, "", INERT),
    p(
        "proc-title-template",
        STR,
        "{title} {listen-addr} {server-mode}",
        INERT,
    ),
    p("bind-source-addr", STR, "", INERT),
    p("logfile", STR, "", IMMUTABLE),
    p("masterauth", STR, "", SENSITIVE | INERT),
    p("requirepass", STR, "", SENSITIVE),
    // Enums.
    p(
        "supervised",
        Kind::Enum(&["upstart", "systemd", "auto", "no"]),
        "no",
        IMMUTABLE | INERT,
    ),
    p(
        "syslog-facility",
        Kind::Enum(&[
            "user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
        ]),
        "local0",
        IMMUTABLE | INERT,
    ),
    p(
        "repl-diskless-load",
        Kind::Enum(&["disabled", "on-empty-db", "swapdb"]),
        "disabled",
        DENY_LOADING | INERT,
    ),
    p(
        "loglevel",
        Kind::Enum(&["debug", "verbose", "notice", "warning"]),
        "notice",
        0,
    ),
    p(
        "maxmemory-policy",
        Kind::Enum(&[
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "noeviction",
        ]),
        "noeviction",
        0,
    ),
    p(
        "appendfsync",
        Kind::Enum(&["everysec", "always", "no"]),
        "everysec",
        0,
    ),
    p(
        "oom-score-adj",
        Kind::Enum(&["no", "yes", "relative", "absolute"]),
        "no",
        INERT,
    ),
    p(
        "acl-pubsub-default",
        Kind::Enum(&["allchannels", "resetchannels"]),
        "resetchannels",
        INERT,
    ),
    p(
        "sanitize-dump-payload",
        Kind::Enum(&["no", "yes", "clients"]),
        "no",
        INERT,
    ),
    p(
        "enable-protected-configs",
        Kind::Enum(&["no", "yes", "local"]),
        "no",
        IMMUTABLE,
    ),
    p(
        "enable-debug-command",
        Kind::Enum(&["no", "yes", "local"]),
        "no",
        IMMUTABLE,
    ),
    p(
        "enable-module-command",
        Kind::Enum(&["no", "yes", "local"]),
        "no",
        IMMUTABLE,
    ),
    p(
        "cluster-preferred-endpoint-type",
        Kind::Enum(&["ip", "hostname", "unknown-endpoint"]),
        "ip",
        INERT,
    ),
    p(
        "propagation-error-behavior",
        Kind::Enum(&["ignore", "panic", "panic-on-replicas"]),
        "ignore",
        INERT,
    ),
    p(
        "shutdown-on-sigint",
        Kind::Flags(SHUTDOWN_FLAGS),
        "default",
        0,
    ),
    p(
        "shutdown-on-sigterm",
        Kind::Flags(SHUTDOWN_FLAGS),
        "default",
        0,
    ),
    // Integers.
    p("databases", int(1, IMAX), "16", IMMUTABLE),
    p("port", int(0, 65535), "6379", 0),
    p("io-threads", int(1, 128), "1", IMMUTABLE),
    p("auto-aof-rewrite-percentage", int(0, IMAX), "100", INERT),
    pa(
        "cluster-replica-validity-factor",
        "cluster-slave-validity-factor",
        int(0, IMAX),
        "10",
        INERT,
    ),
    pa(
        "list-max-listpack-size",
        "list-max-ziplist-size",
        int(IMIN, IMAX),
        "-2",
        0,
    ),
    p("tcp-keepalive", int(0, IMAX), "300", 0),
    p("cluster-migration-barrier", int(0, IMAX), "1", INERT),
    p("active-defrag-cycle-min", int(1, 99), "1", INERT),
    p("active-defrag-cycle-max", int(1, 99), "25", INERT),
    p("active-defrag-threshold-lower", int(0, 1000), "10", INERT),
    p("active-defrag-threshold-upper", int(0, 1000), "100", INERT),
    p("lfu-log-factor", int(0, IMAX), "10", 0),
    p("lfu-decay-time", int(0, IMAX), "1", 0),
    pa(
        "replica-priority",
        "slave-priority",
        int(0, IMAX),
        "100",
        INERT,
    ),
    p("repl-diskless-sync-delay", int(0, IMAX), "5", INERT),
    p("maxmemory-samples", int(1, IMAX), "5", 0),
    p("maxmemory-eviction-tenacity", int(0, 100), "10", 0),
    p("timeout", int(0, IMAX), "0", 0),
    pa(
        "replica-announce-port",
        "slave-announce-port",
        int(0, 65535),
        "0",
        INERT,
    ),
    p("tcp-backlog", int(0, IMAX), "511", IMMUTABLE),
    p("cluster-port", int(0, 65535), "0", IMMUTABLE | INERT),
    p("cluster-announce-bus-port", int(0, 65535), "0", INERT),
    p("cluster-announce-port", int(0, 65535), "0", INERT),
    p("cluster-announce-tls-port", int(0, 65535), "0", INERT),
    p("repl-timeout", int(1, IMAX), "60", INERT),
    pa(
        "repl-ping-replica-period",
        "repl-ping-slave-period",
        int(1, IMAX),
        "10",
        INERT,
    ),
    p("list-compress-depth", int(0, IMAX), "0", 0),
    p("rdb-key-save-delay", int(IMIN, IMAX), "0", HIDDEN | INERT),
    p("key-load-delay", int(IMIN, IMAX), "0", HIDDEN | INERT),
    p("active-expire-effort", int(1, 10), "1", 0),
    p("hz", int(0, IMAX), "10", 0),
    pa(
        "min-replicas-to-write",
        "min-slaves-to-write",
        int(0, IMAX),
        "0",
        INERT,
    ),
    pa(
        "min-replicas-max-lag",
        "min-slaves-max-lag",
        int(0, IMAX),
        "10",
        INERT,
    ),
    p("watchdog-period", int(0, IMAX), "0", HIDDEN | INERT),
    p("shutdown-timeout", int(0, IMAX), "10", 0),
    p("repl-diskless-sync-max-replicas", int(0, IMAX), "0", INERT),
    p("maxclients", int(1, UIMAX), "10000", 0),
    p(
        "unixsocketperm",
        Kind::Octal { max: 0o777 },
        "0",
        IMMUTABLE | INERT,
    ),
    p("socket-mark-id", int(0, UIMAX), "0", IMMUTABLE | INERT),
    p("active-defrag-max-scan-fields", int(1, LL), "1000", INERT),
    p("slowlog-max-len", int(0, LL), "128", 0),
    p("acllog-max-len", int(0, LL), "128", 0),
    pa(
        "busy-reply-threshold",
        "lua-time-limit",
        int(0, LL),
        "5000",
        0,
    ),
    p("cluster-node-timeout", int(0, LL), "15000", INERT),
    p("slowlog-log-slower-than", int(-1, LL), "10000", 0),
    p("latency-monitor-threshold", int(0, LL), "0", 0),
    p("proto-max-bulk-len", mem(1024 * 1024, LL), "536870912", 0),
    p("stream-node-max-entries", int(0, LL), "100", 0),
    p("repl-backlog-size", mem(1, LL), "1048576", INERT),
    p("maxmemory", mem(0, LL), "0", 0),
    p("cluster-link-sendbuf-limit", mem(0, LL), "0", INERT),
    pa(
        "hash-max-listpack-entries",
        "hash-max-ziplist-entries",
        int(0, LL),
        "512",
        0,
    ),
    p("set-max-intset-entries", int(0, LL), "512", 0),
    pa(
        "zset-max-listpack-entries",
        "zset-max-ziplist-entries",
        int(0, LL),
        "128",
        0,
    ),
    p("active-defrag-ignore-bytes", mem(1, LL), "104857600", INERT),
    pa(
        "hash-max-listpack-value",
        "hash-max-ziplist-value",
        mem(0, LL),
        "64",
        0,
    ),
    p("stream-node-max-bytes", mem(0, LL), "4096", 0),
    pa(
        "zset-max-listpack-value",
        "zset-max-ziplist-value",
        mem(0, LL),
        "64",
        0,
    ),
    p("hll-sparse-max-bytes", mem(0, LL), "3000", 0),
    p("tracking-table-max-keys", int(0, LL), "1000000", INERT),
    p(
        "client-query-buffer-limit",
        mem(1024 * 1024, LL),
        "1073741824",
        0,
    ),
    p(
        "maxmemory-clients",
        Kind::MemPercent { min: -100, max: LL },
        "0",
        INERT,
    ),
    p("repl-backlog-ttl", int(0, LL), "3600", INERT),
    p("auto-aof-rewrite-min-size", mem(0, LL), "67108864", INERT),
    p(
        "loading-process-events-interval-bytes",
        int(1024, IMAX),
        "2097152",
        HIDDEN | INERT,
    ),
    // TLS (lunakv has no TLS).
    p("tls-port", int(0, 65535), "0", INERT),
    p("tls-session-cache-size", int(0, IMAX), "20480", INERT),
    p("tls-session-cache-timeout", int(0, IMAX), "300", INERT),
    p("tls-cluster", BOOL, "no", INERT),
    p("tls-replication", BOOL, "no", INERT),
    p(
        "tls-auth-clients",
        Kind::Enum(&["no", "yes", "optional"]),
        "yes",
        INERT,
    ),
    p("tls-prefer-server-ciphers", BOOL, "no", INERT),
    p("tls-session-caching", BOOL, "yes", INERT),
    p("tls-cert-file", STR, "", INERT),
    p("tls-key-file", STR, "", INERT),
    p("tls-key-file-pass", STR, "", INERT),
    p("tls-client-cert-file", STR, "", INERT),
    p("tls-client-key-file", STR, "", INERT),
    p("tls-client-key-file-pass", STR, "", INERT),
    p("tls-dh-params-file", STR, "", INERT),
    p("tls-ca-cert-file", STR, "", INERT),
    p("tls-ca-cert-dir", STR, "", INERT),
    p("tls-protocols", STR, "", INERT),
    p("tls-ciphers", STR, "", INERT),
    p("tls-ciphersuites", STR, "", INERT),
    // Special parameters.
    p("dir", STR, "./data", PROTECTED | DENY_LOADING),
    p("save", Kind::Save, "3600 1 300 100 60 10000", 0),
    p(
        "client-output-buffer-limit",
        Kind::ObufLimits,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        INERT,
    ),
    p("oom-score-adj-values", Kind::OomValues, "0 200 800", INERT),
    p("notify-keyspace-events", Kind::Notify, "", 0),
    p("bind", Kind::List, "127.0.0.1", 0),
    pa(
        "replicaof",
        "slaveof",
        Kind::ReplicaOf,
        "",
        IMMUTABLE | INERT,
    ),
    p(
        "latency-tracking-info-percentiles",
        Kind::Percentiles,
        "50 99 99.9",
        INERT,
    ),
];

/// Parses a memory size the way Redis's `memtoull` does: digits and an
/// optional unit among b, k, kb, m, mb, g, gb (case-insensitive).
pub fn parse_mem(s: &str) -> Option<i64> {
    let l = s.to_ascii_lowercase();
    let (num, mul): (&str, i64) = if let Some(n) = l.strip_suffix("gb") {
        (n, 1024 * 1024 * 1024)
    } else if let Some(n) = l.strip_suffix("mb") {
        (n, 1024 * 1024)
    } else if let Some(n) = l.strip_suffix("kb") {
        (n, 1024)
    } else if let Some(n) = l.strip_suffix('g') {
        (n, 1_000_000_000)
    } else if let Some(n) = l.strip_suffix('m') {
        (n, 1_000_000)
    } else if let Some(n) = l.strip_suffix('k') {
        (n, 1000)
    } else if let Some(n) = l.strip_suffix('b') {
        (n, 1)
    } else {
        (l.as_str(), 1)
    };
    if num.is_empty() || !num.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n: i64 = num.parse().ok()?;
    n.checked_mul(mul)
}

/// Parses a canonical integer the way Redis's `string2ll` does (no spaces,
/// no `+`, no leading zeros).
fn parse_int(s: &str) -> Option<i64> {
    lunakv_protocol::parse_i64(s.as_bytes())
}

fn range_err(min: i64, max: i64) -> String {
    format!("argument must be between {min} and {max} inclusive")
}

/// Canonical text of `notify-keyspace-events` classes, as Redis prints it.
fn canonical_notify(v: &str) -> Result<String, String> {
    const ALL: &str = "g$lshzxetd";
    let mut set = std::collections::HashSet::new();
    for c in v.chars() {
        match c {
            'A' => set.extend(ALL.chars()),
            'g' | '$' | 'l' | 's' | 'h' | 'z' | 'x' | 'e' | 't' | 'd' | 'n' | 'K' | 'E' | 'm' => {
                set.insert(c);
            }
            _ => return Err("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into()),
        }
    }
    let mut out = String::new();
    if ALL.chars().all(|c| set.contains(&c)) {
        out.push('A');
    } else {
        for c in "g$lshzxetdn".chars() {
            if set.contains(&c) {
                out.push(c);
            }
        }
    }
    for c in "KEm".chars() {
        if set.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

/// Formats a percentile the way Redis does (`%f` with trailing zeros cut).
fn fmt_percentile(f: f64) -> String {
    let s = format!("{f:.6}");
    let s = s.trim_end_matches('0');
    s.trim_end_matches('.').to_string()
}

/// The configuration: canonical text of every parameter.
#[derive(Debug, Clone)]
pub struct Config {
    values: Vec<String>,
    /// Each value parsed as an integer (0 when it is not one), kept beside
    /// the text so that hot paths (ZADD reads zset-max-listpack-entries,
    /// HSET hash-max-listpack-value) do not parse a string per command.
    ints: Vec<i64>,
    index: HashMap<&'static str, usize, foldhash::fast::FixedState>,
    /// Path of the config file given at start-up, if any.
    pub config_file: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        let mut index = HashMap::with_hasher(foldhash::fast::FixedState::default());
        let mut values = Vec::new();
        for (i, prm) in PARAMS.iter().enumerate() {
            index.entry(prm.name).or_insert(i);
            if let Some(a) = prm.alias {
                index.entry(a).or_insert(i);
            }
            values.push(prm.default.to_string());
        }
        let ints = values.iter().map(|v| int_of(v)).collect();
        Config {
            values,
            ints,
            index,
            config_file: None,
        }
    }
}

/// A canonical value as an integer, as `get_i64` reads it (0 if not one).
fn int_of(v: &str) -> i64 {
    v.parse().unwrap_or(0)
}

impl Config {
    /// Finds a parameter by name or alias (case-insensitive).
    pub fn find(&self, name: &str) -> Option<(usize, &'static Param)> {
        // Handlers read parameters by their lower-case names on hot paths
        // (HSET reads hash-max-listpack-entries): no allocation for those.
        if let Some(&i) = self.index.get(name) {
            return Some((i, &PARAMS[i]));
        }
        let l = name.to_ascii_lowercase();
        self.index.get(l.as_str()).map(|&i| (i, &PARAMS[i]))
    }

    /// Checks and converts `value` to the canonical text for `prm`, with
    /// Redis's error texts. `current` is the parameter's present value
    /// (client-output-buffer-limit only changes the classes it names).
    pub fn canonical_with(prm: &Param, value: &str, current: &str) -> Result<String, String> {
        match prm.kind {
            Kind::Bool => match value.to_ascii_lowercase().as_str() {
                "yes" => Ok("yes".into()),
                "no" => Ok("no".into()),
                _ => Err("argument must be 'yes' or 'no'".into()),
            },
            Kind::Int { min, max } => {
                let v = parse_int(value)
                    .ok_or_else(|| "argument couldn't be parsed into an integer".to_string())?;
                if v < min || v > max {
                    return Err(range_err(min, max));
                }
                Ok(v.to_string())
            }
            Kind::Octal { max } => {
                let v = i64::from_str_radix(value, 8)
                    .map_err(|_| "argument couldn't be parsed as an octal number".to_string())?;
                if v < 0 || v > max {
                    return Err(format!("argument must be between 0 and {max:o} inclusive"));
                }
                Ok(format!("{v:o}"))
            }
            Kind::Mem { min, max } => {
                let v = parse_mem(value)
                    .ok_or_else(|| "argument must be a memory value".to_string())?;
                if v < min || v > max {
                    return Err(range_err(min, max));
                }
                Ok(v.to_string())
            }
            Kind::MemPercent { min, max } => {
                if let Some(v) = parse_mem(value) {
                    if v > max {
                        return Err(range_err(min, max));
                    }
                    return Ok(v.to_string());
                }
                if let Some(n) = value
                    .strip_suffix('%')
                    .filter(|n| !n.is_empty())
                    .and_then(parse_int)
                {
                    if n >= 0 {
                        if -n < min {
                            return Err(format!(
                                "percentage argument must be less or equal to {}",
                                -min
                            ));
                        }
                        return Ok(format!("{n}%"));
                    }
                }
                Err("argument must be a memory or percent value".into())
            }
            Kind::Enum(words) => {
                let l = value.to_ascii_lowercase();
                if words.contains(&l.as_str()) {
                    Ok(l)
                } else {
                    Err(format!(
                        "argument(s) must be one of the following: {}",
                        words.join(", ")
                    ))
                }
            }
            Kind::Flags(words) => {
                let l = value.to_ascii_lowercase();
                let ws: Vec<&str> = l.split_whitespace().collect();
                if ws.is_empty() || ws.iter().any(|w| !words.contains(w)) {
                    return Err(format!(
                        "argument(s) must be one of the following: {}",
                        words.join(", ")
                    ));
                }
                Ok(ws.join(" "))
            }
            Kind::Str => Ok(value.to_string()),
            Kind::FileName => {
                if value.contains('/') || value.contains('\\') {
                    return Err(format!("{} can't be a path, just a filename", prm.name));
                }
                Ok(value.to_string())
            }
            Kind::List => Ok(value.split_whitespace().collect::<Vec<_>>().join(" ")),
            Kind::Save => {
                let ws: Vec<&str> = value.split_whitespace().collect();
                if ws.len() & 1 != 0 {
                    return Err("Invalid save parameters".into());
                }
                for (j, w) in ws.iter().enumerate() {
                    let ok = match w.parse::<i64>() {
                        Ok(v) => (j % 2 == 0 && v >= 1) || (j % 2 == 1 && v >= 0),
                        Err(_) => false,
                    };
                    if !ok {
                        return Err("Invalid save parameters".into());
                    }
                }
                Ok(ws
                    .iter()
                    .map(|w| w.parse::<i64>().unwrap_or(0).to_string())
                    .collect::<Vec<_>>()
                    .join(" "))
            }
            Kind::ObufLimits => {
                let ws: Vec<&str> = value.split_whitespace().collect();
                if ws.len() & 3 != 0 {
                    return Err("Wrong number of arguments in buffer limit configuration.".into());
                }
                let mut classes: Vec<(String, i64, i64, i64)> = Vec::new();
                let cur: Vec<&str> = current.split_whitespace().collect();
                for c in cur.chunks(4) {
                    if let [n, h, s, t] = c {
                        classes.push((
                            n.to_string(),
                            h.parse().unwrap_or(0),
                            s.parse().unwrap_or(0),
                            t.parse().unwrap_or(0),
                        ));
                    }
                }
                for c in ws.chunks(4) {
                    if let [n, h, s, t] = c {
                        let class =
                            match n.to_ascii_lowercase().as_str() {
                                "normal" => "normal",
                                "slave" | "replica" => "slave",
                                "pubsub" => "pubsub",
                                _ => return Err(
                                    "Invalid client class specified in buffer limit configuration."
                                        .into(),
                                ),
                            };
                        let hard = parse_mem(h);
                        let soft = parse_mem(s);
                        let secs = parse_int(t).filter(|v| *v >= 0);
                        let (Some(hard), Some(soft), Some(secs)) = (hard, soft, secs) else {
                            return Err("Error in hard, soft or soft_seconds setting in buffer limit configuration.".into());
                        };
                        if let Some(e) = classes.iter_mut().find(|e| e.0 == class) {
                            *e = (class.to_string(), hard, soft, secs);
                        }
                    }
                }
                Ok(classes
                    .iter()
                    .map(|(n, h, s, t)| format!("{n} {h} {s} {t}"))
                    .collect::<Vec<_>>()
                    .join(" "))
            }
            Kind::OomValues => {
                let ws: Vec<&str> = value.split_whitespace().collect();
                if ws.len() != 3 {
                    return Err("wrong number of arguments".into());
                }
                let mut out = Vec::new();
                for w in ws {
                    match parse_int(w) {
                        Some(v) if (-2000..=2000).contains(&v) => out.push(v.to_string()),
                        _ => return Err("Invalid oom-score-adj-values, elements must be between -2000 and 2000.".into()),
                    }
                }
                Ok(out.join(" "))
            }
            Kind::Notify => canonical_notify(value),
            Kind::ReplicaOf => {
                let ws: Vec<&str> = value.split_whitespace().collect();
                match ws.as_slice() {
                    [] => Ok(String::new()),
                    [a, b] if a.eq_ignore_ascii_case("no") && b.eq_ignore_ascii_case("one") => {
                        Ok(String::new())
                    }
                    [host, port] => match parse_int(port) {
                        Some(p) if (0..=65535).contains(&p) => Ok(format!("{host} {p}")),
                        _ => Err("Invalid master port".into()),
                    },
                    _ => Err("wrong number of arguments".into()),
                }
            }
            Kind::Percentiles => {
                let mut out = Vec::new();
                for w in value.split_whitespace() {
                    let f: f64 = w.parse().map_err(|_| {
                        "Invalid latency-tracking-info-percentiles parameters".to_string()
                    })?;
                    if !(0.0..=100.0).contains(&f) {
                        return Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into());
                    }
                    out.push(fmt_percentile(f));
                }
                Ok(out.join(" "))
            }
        }
    }

    /// Checks and converts `value` to the canonical text for `prm` (from
    /// its default value where that matters).
    pub fn canonical(prm: &Param, value: &str) -> Result<String, String> {
        Self::canonical_with(prm, value, prm.default)
    }

    /// Sets a parameter (start-up or CONFIG SET); errors name the problem
    /// the way Redis's messages do.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let (i, prm) = self.find(name).ok_or_else(|| {
            format!("Unknown option or number of arguments for CONFIG SET - '{name}'")
        })?;
        let v = Self::canonical_with(prm, value, &self.values[i])?;
        self.ints[i] = int_of(&v);
        self.values[i] = v;
        Ok(())
    }

    /// The canonical text of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.find(name).map(|(i, _)| self.values[i].as_str())
    }

    /// A parameter as an integer (0 if missing or not a number).
    pub fn get_i64(&self, name: &str) -> i64 {
        self.find(name).map_or(0, |(i, _)| self.ints[i])
    }

    /// A yes/no parameter.
    pub fn get_bool(&self, name: &str) -> bool {
        self.get(name) == Some("yes")
    }

    /// All parameters with their values, in table order (primary names).
    pub fn all(&self) -> impl Iterator<Item = (&'static Param, &str)> {
        PARAMS.iter().zip(self.values.iter().map(|s| s.as_str()))
    }

    /// Builds the configuration from command-line arguments the way
    /// redis-server takes them: an optional config file first, then
    /// `--name value...` directives (several words allowed, e.g.
    /// `--save 60 1000`, or an empty `--save ''`).
    pub fn from_args(args: &[String]) -> Result<Config, String> {
        let mut cfg = Config::default();
        let mut i = 0;
        if let Some(first) = args.first() {
            if !first.starts_with("--") {
                let text = std::fs::read_to_string(first)
                    .map_err(|e| format!("Fatal error, can't open config file '{first}': {e}"))?;
                cfg.load_text(&text)?;
                cfg.config_file = Some(first.clone());
                i = 1;
            }
        }
        let mut directives: Vec<(String, Vec<String>)> = Vec::new();
        while i < args.len() {
            let a = &args[i];
            if let Some(name) = a.strip_prefix("--") {
                directives.push((name.to_string(), Vec::new()));
            } else if let Some(d) = directives.last_mut() {
                d.1.push(a.clone());
            } else {
                return Err(format!("Invalid argument '{a}'"));
            }
            i += 1;
        }
        for (name, vals) in directives {
            cfg.apply_directive(&name, &vals)?;
        }
        Ok(cfg)
    }

    /// Applies the lines of a redis.conf-style file.
    pub fn load_text(&mut self, text: &str) -> Result<(), String> {
        let mut save_seen = false;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words = lunakv_protocol::split_args(line.as_bytes()).ok_or_else(|| {
                format!(
                    "Bad directive or wrong number of arguments at line {}: {line}",
                    n + 1
                )
            })?;
            let words: Vec<String> = words
                .into_iter()
                .map(|w| String::from_utf8_lossy(&w).into_owned())
                .collect();
            let Some((name, vals)) = words.split_first() else {
                continue;
            };
            if name.eq_ignore_ascii_case("include")
                || name.eq_ignore_ascii_case("rename-command")
                || name.eq_ignore_ascii_case("user")
                || name.eq_ignore_ascii_case("loadmodule")
                || name.eq_ignore_ascii_case("lua-replicate-commands")
            {
                continue;
            }
            // Several `save` lines in a file add up, as in redis.conf.
            if name.eq_ignore_ascii_case("save") && save_seen {
                let joined = vals.join(" ");
                if !joined.trim().is_empty() {
                    let cur = self.get("save").unwrap_or("").to_string();
                    let v = if cur.is_empty() {
                        joined
                    } else {
                        format!("{cur} {joined}")
                    };
                    self.set("save", &v)
                        .map_err(|e| format!("line {}: invalid value for 'save': {e}", n + 1))?;
                    continue;
                }
            }
            if name.eq_ignore_ascii_case("save") {
                save_seen = true;
            }
            self.apply_directive(name, vals)
                .map_err(|e| format!("line {}: {e}", n + 1))?;
        }
        Ok(())
    }

    fn apply_directive(&mut self, name: &str, vals: &[String]) -> Result<(), String> {
        let (_, prm) = self.find(name).ok_or_else(|| {
            format!("Bad directive or wrong number of arguments: unknown option '{name}'")
        })?;
        let value = if prm.multi_arg() {
            vals.join(" ")
        } else {
            if vals.len() != 1 {
                return Err(format!("wrong number of arguments for '{name}'"));
            }
            vals[0].clone()
        };
        self.set(name, &value)
            .map_err(|e| format!("invalid value for '{name}': {e}"))
    }

    /// The text CONFIG REWRITE writes: the lines of `old` (the present file)
    /// with every known directive replaced by its current value, duplicates
    /// dropped, and the parameters that differ from their defaults and were
    /// not in the file appended.
    pub fn rewrite_text(&self, old: &str) -> String {
        let mut out = String::new();
        let mut done = std::collections::HashSet::new();
        for line in old.lines() {
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                if t != "# Generated by CONFIG REWRITE" {
                    out.push_str(line);
                    out.push('\n');
                }
                continue;
            }
            let name = t.split_whitespace().next().unwrap_or("");
            match self.find(name) {
                Some((i, prm)) => {
                    if done.insert(i) {
                        out.push_str(&self.directive_line(prm, &self.values[i]));
                    }
                }
                None => {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        let mut extra = String::new();
        for (i, (prm, v)) in self.all().enumerate() {
            if done.contains(&i) || v == prm.default || prm.is(HIDDEN) {
                continue;
            }
            extra.push_str(&self.directive_line(prm, v));
        }
        if !extra.is_empty() {
            out.push_str("# Generated by CONFIG REWRITE\n");
            out.push_str(&extra);
        }
        out
    }

    fn directive_line(&self, prm: &Param, v: &str) -> String {
        let quote = |s: &str| -> String {
            if !s.is_empty()
                && s.bytes()
                    .all(|c| c.is_ascii_graphic() && c != b'"' && c != b'\'' && c != b'\\')
            {
                s.to_string()
            } else {
                let mut q = String::from("\"");
                for c in s.chars() {
                    match c {
                        '"' => q.push_str("\\\""),
                        '\\' => q.push_str("\\\\"),
                        '\n' => q.push_str("\\n"),
                        '\r' => q.push_str("\\r"),
                        c => q.push(c),
                    }
                }
                q.push('"');
                q
            }
        };
        match prm.kind {
            Kind::Save if v.is_empty() => "save \"\"\n".to_string(),
            Kind::Save => {
                let ws: Vec<&str> = v.split_whitespace().collect();
                ws.chunks(2)
                    .map(|c| format!("save {}\n", c.join(" ")))
                    .collect()
            }
            Kind::ObufLimits => {
                let ws: Vec<&str> = v.split_whitespace().collect();
                ws.chunks(4)
                    .map(|c| format!("client-output-buffer-limit {}\n", c.join(" ")))
                    .collect()
            }
            Kind::ReplicaOf if v.is_empty() => String::new(),
            _ if prm.multi_arg() => format!("{} {}\n", prm.name, v),
            _ => format!("{} {}\n", prm.name, quote(v)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_reads_follow_every_set_and_alias() {
        let mut c = Config::default();
        assert_eq!(c.get_i64("zset-max-listpack-entries"), 128);
        assert_eq!(c.get_i64("zset-max-ziplist-entries"), 128);
        c.set("zset-max-ziplist-entries", "7").unwrap();
        assert_eq!(c.get_i64("zset-max-listpack-entries"), 7);
        assert_eq!(c.get_i64("ZSET-MAX-LISTPACK-ENTRIES"), 7);
        assert!(c.set("zset-max-listpack-entries", "x").is_err());
        assert_eq!(c.get_i64("zset-max-listpack-entries"), 7);
        // Every parameter: the cached integer is the text's value.
        for (prm, v) in c.all() {
            assert_eq!(
                c.get_i64(prm.name),
                v.parse::<i64>().unwrap_or(0),
                "{}",
                prm.name
            );
        }
        assert_eq!(c.get_i64("no-such-parameter"), 0);
    }

    #[test]
    fn defaults_and_parsing() {
        let c = Config::from_args(&["--port".into(), "7000".into(), "--save".into(), "".into()])
            .unwrap();
        assert_eq!(c.get("port"), Some("7000"));
        assert_eq!(c.get("save"), Some(""));
        assert_eq!(c.get("lua-time-limit"), Some("5000"));
        assert!(Config::from_args(&["--nope".into(), "1".into()]).is_err());
        assert!(Config::from_args(&["--port".into(), "x".into()]).is_err());
        let mut c = Config::default();
        c.set("maxmemory", "1mb").unwrap();
        assert_eq!(c.get_i64("maxmemory"), 1024 * 1024);
        c.set("appendonly", "YES").unwrap();
        assert!(c.get_bool("appendonly"));
    }
}
