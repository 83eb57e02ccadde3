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
    /// A memory size with optional unit (`1gb`, `100mb`, `512k`), printed in bytes.
    Mem { min: i64, max: i64 },
    /// Any string.
    Str,
    /// One of the listed words.
    Enum(&'static [&'static str]),
    /// A space-separated list of words of any content.
    List,
}

/// Parameter flags.
pub const IMMUTABLE: u32 = 1;
pub const PROTECTED: u32 = 2;
pub const SENSITIVE: u32 = 4;
/// Accepted for compatibility; has no effect in lunakv yet.
pub const INERT: u32 = 8;

/// One configuration parameter.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub kind: Kind,
    pub default: &'static str,
    pub flags: u32,
}

const fn p(name: &'static str, kind: Kind, default: &'static str, flags: u32) -> Param {
    Param { name, alias: None, kind, default, flags }
}

const fn pa(
    name: &'static str,
    alias: &'static str,
    kind: Kind,
    default: &'static str,
    flags: u32,
) -> Param {
    Param { name, alias: Some(alias), kind, default, flags }
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

/// Every parameter lunakv knows, with Redis 7.0's names and defaults.
pub static PARAMS: &[Param] = &[
    p("port", int(0, 65535), "6379", 0),
    p("bind", Kind::List, "127.0.0.1", 0),
    p("dir", STR, "./data", 0),
    p("requirepass", STR, "", SENSITIVE),
    p("databases", int(1, IMAX), "16", IMMUTABLE),
    p("save", Kind::List, "3600 1 300 100 60 10000", 0),
    p("appendonly", BOOL, "no", 0),
    p("appendfilename", STR, "appendonly.aof", IMMUTABLE),
    p("appenddirname", STR, "appendonlydir", IMMUTABLE),
    p("appendfsync", Kind::Enum(&["always", "everysec", "no"]), "everysec", 0),
    p("dbfilename", STR, "dump.rdb", PROTECTED),
    p("loglevel", Kind::Enum(&["debug", "verbose", "notice", "warning", "nothing"]), "notice", 0),
    p("logfile", STR, "", IMMUTABLE),
    p("maxclients", int(1, IMAX), "10000", 0),
    p("timeout", int(0, IMAX), "0", 0),
    p("tcp-keepalive", int(0, IMAX), "300", 0),
    p("tcp-backlog", int(0, IMAX), "511", IMMUTABLE),
    p("proto-max-bulk-len", mem(1024 * 1024, LL), "536870912", 0),
    p("client-query-buffer-limit", mem(1024 * 1024, LL), "1073741824", 0),
    pa("busy-reply-threshold", "lua-time-limit", int(0, LL), "5000", 0),
    p("maxmemory", mem(0, LL), "0", 0),
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
    p("maxmemory-samples", int(1, IMAX), "5", 0),
    p("hz", int(0, IMAX), "10", 0),
    p("dynamic-hz", BOOL, "yes", 0),
    p("enable-debug-command", Kind::Enum(&["no", "yes", "local"]), "no", IMMUTABLE),
    p("enable-protected-configs", Kind::Enum(&["no", "yes", "local"]), "no", IMMUTABLE),
    p("enable-module-command", Kind::Enum(&["no", "yes", "local"]), "no", IMMUTABLE),
    p("protected-mode", BOOL, "yes", 0),
    p("daemonize", BOOL, "no", IMMUTABLE),
    p("pidfile", STR, "", IMMUTABLE),
    p("notify-keyspace-events", STR, "", 0),
    p("slowlog-log-slower-than", int(-1, LL), "10000", 0),
    p("slowlog-max-len", int(0, LL), "128", 0),
    p("latency-monitor-threshold", int(0, LL), "0", 0),
    p("lazyfree-lazy-eviction", BOOL, "no", 0),
    p("lazyfree-lazy-expire", BOOL, "no", 0),
    p("lazyfree-lazy-server-del", BOOL, "no", 0),
    p("lazyfree-lazy-user-del", BOOL, "no", 0),
    p("lazyfree-lazy-user-flush", BOOL, "no", 0),
    p("active-expire-effort", int(1, 10), "1", 0),
    p("hash-max-listpack-entries", int(0, LL), "128", 0),
    p("hash-max-listpack-value", int(0, LL), "64", 0),
    pa("hash-max-ziplist-entries", "hash-max-ziplist-entries", int(0, LL), "128", 0),
    p("list-max-listpack-size", int(i32::MIN as i64, IMAX), "-2", 0),
    p("list-compress-depth", int(0, IMAX), "0", 0),
    p("set-max-intset-entries", int(0, LL), "512", 0),
    p("zset-max-listpack-entries", int(0, LL), "128", 0),
    p("zset-max-listpack-value", int(0, LL), "64", 0),
    p("stream-node-max-bytes", mem(0, LL), "4096", 0),
    p("stream-node-max-entries", int(0, LL), "100", 0),
    p("activerehashing", BOOL, "yes", 0),
    p("lfu-log-factor", int(0, IMAX), "10", 0),
    p("lfu-decay-time", int(0, IMAX), "1", 0),
    p("replica-read-only", BOOL, "yes", 0),
    p("replica-serve-stale-data", BOOL, "yes", 0),
    p("min-replicas-to-write", int(0, IMAX), "0", 0),
    p("min-replicas-max-lag", int(0, IMAX), "10", 0),
    p("repl-diskless-sync", BOOL, "yes", 0),
    p("latency-tracking", BOOL, "yes", 0),
    p("latency-tracking-info-percentiles", Kind::List, "50 99 99.9", 0),
    p("io-threads", int(1, 128), "1", IMMUTABLE),
    p("cluster-enabled", BOOL, "no", IMMUTABLE),
    p("lua-replicate-commands", BOOL, "yes", 0),
    p("unixsocket", STR, "", IMMUTABLE),
    p("tls-port", int(0, 65535), "0", 0),
    p("supervised", Kind::Enum(&["upstart", "systemd", "auto", "no"]), "no", IMMUTABLE),
    p("always-show-logo", BOOL, "no", IMMUTABLE),
    p("set-proc-title", BOOL, "yes", IMMUTABLE),
    p("stop-writes-on-bgsave-error", BOOL, "yes", 0),
    p("rdbcompression", BOOL, "yes", 0),
    p("rdbchecksum", BOOL, "yes", 0),
    p("aof-use-rdb-preamble", BOOL, "yes", 0),
    p("auto-aof-rewrite-percentage", int(0, IMAX), "100", 0),
    p("auto-aof-rewrite-min-size", mem(0, LL), "67108864", 0),
    p("client-output-buffer-limit", Kind::List, "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", 0),
    p("close-on-replica-write", BOOL, "yes", 0),
    p("acllog-max-len", int(0, LL), "128", 0),
    p("maxmemory-clients", mem(0, LL), "0", 0),
    p("tracking-table-max-keys", int(0, LL), "1000000", 0),
    p("active-defrag-cycle-min", int(1, 99), "1", 0),
    p("activedefrag", BOOL, "no", 0),
    p("jemalloc-bg-thread", BOOL, "yes", 0),
    p("crash-log-enabled", BOOL, "yes", 0),
    p("sanitize-dump-payload", Kind::Enum(&["no", "yes", "clients"]), "no", 0),
    p("shutdown-timeout", int(0, IMAX), "10", 0),
    p("shutdown-on-sigint", Kind::List, "default", 0),
    p("shutdown-on-sigterm", Kind::List, "default", 0),
    p("save-incremental-fsync", BOOL, "yes", 0),
    p("oom-score-adj", Kind::Enum(&["no", "yes", "relative", "absolute"]), "no", 0),
    p("replica-lazy-flush", BOOL, "no", 0),
    p("lazyfree-lazy-user-flush", BOOL, "no", 0),
];

fn parse_mem(s: &str) -> Option<i64> {
    let l = s.to_ascii_lowercase();
    let (num, mul) = if let Some(n) = l.strip_suffix("gb") {
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
    let n: i64 = num.parse().ok()?;
    n.checked_mul(mul)
}

/// The configuration: canonical text of every parameter.
#[derive(Debug, Clone)]
pub struct Config {
    values: Vec<String>,
    index: HashMap<&'static str, usize>,
    /// Path of the config file given at start-up, if any.
    pub config_file: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        let mut index = HashMap::new();
        let mut values = Vec::new();
        for (i, prm) in PARAMS.iter().enumerate() {
            index.entry(prm.name).or_insert(i);
            if let Some(a) = prm.alias {
                index.entry(a).or_insert(i);
            }
            values.push(prm.default.to_string());
        }
        Config { values, index, config_file: None }
    }
}

impl Config {
    /// Finds a parameter by name or alias (case-insensitive).
    pub fn find(&self, name: &str) -> Option<(usize, &'static Param)> {
        let l = name.to_ascii_lowercase();
        self.index.get(l.as_str()).map(|&i| (i, &PARAMS[i]))
    }

    /// Checks and converts `value` to the canonical text for `prm`.
    pub fn canonical(prm: &Param, value: &str) -> Result<String, String> {
        match prm.kind {
            Kind::Bool => match value.to_ascii_lowercase().as_str() {
                "yes" => Ok("yes".into()),
                "no" => Ok("no".into()),
                _ => Err("argument must be 'yes' or 'no'".into()),
            },
            Kind::Int { min, max } => {
                let v: i64 = value.parse().map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
                if v < min || v > max {
                    return Err(format!("argument must be between {min} and {max} inclusive"));
                }
                Ok(v.to_string())
            }
            Kind::Mem { min, max } => {
                let v = parse_mem(value).ok_or_else(|| "argument must be a memory value".to_string())?;
                if v < min || v > max {
                    return Err(format!("argument must be between {min} and {max} inclusive"));
                }
                Ok(v.to_string())
            }
            Kind::Enum(words) => {
                let l = value.to_ascii_lowercase();
                if words.contains(&l.as_str()) {
                    Ok(l)
                } else {
                    Err(format!("argument(s) must be one of the following: {}", words.join(", ")))
                }
            }
            Kind::Str | Kind::List => Ok(value.to_string()),
        }
    }

    /// Sets a parameter (start-up or CONFIG SET); errors name the problem
    /// the way Redis's messages do.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let (i, prm) = self.find(name).ok_or_else(|| format!("Unknown option or number of arguments for CONFIG SET - '{name}'"))?;
        let v = Self::canonical(prm, value)?;
        self.values[i] = v;
        Ok(())
    }

    /// The canonical text of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.find(name).map(|(i, _)| self.values[i].as_str())
    }

    /// A parameter as an integer (0 if missing or not a number).
    pub fn get_i64(&self, name: &str) -> i64 {
        self.get(name).and_then(|v| v.parse().ok()).unwrap_or(0)
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
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words = lunakv_protocol::split_args(line.as_bytes())
                .ok_or_else(|| format!("Bad directive or wrong number of arguments at line {}: {line}", n + 1))?;
            let words: Vec<String> =
                words.into_iter().map(|w| String::from_utf8_lossy(&w).into_owned()).collect();
            let Some((name, vals)) = words.split_first() else { continue };
            if name.eq_ignore_ascii_case("include") || name.eq_ignore_ascii_case("rename-command") {
                continue;
            }
            self.apply_directive(name, vals).map_err(|e| format!("line {}: {e}", n + 1))?;
        }
        Ok(())
    }

    fn apply_directive(&mut self, name: &str, vals: &[String]) -> Result<(), String> {
        let (_, prm) = self
            .find(name)
            .ok_or_else(|| format!("Bad directive or wrong number of arguments: unknown option '{name}'"))?;
        let value = match prm.kind {
            Kind::List => vals.join(" "),
            _ => {
                if vals.len() != 1 {
                    return Err(format!("wrong number of arguments for '{name}'"));
                }
                vals[0].clone()
            }
        };
        self.set(name, &value).map_err(|e| format!("invalid value for '{name}': {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_parsing() {
        let c = Config::from_args(&["--port".into(), "7000".into(), "--save".into(), "".into()]).unwrap();
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
