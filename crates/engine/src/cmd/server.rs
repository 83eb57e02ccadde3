//! Server commands: INFO, CONFIG, TIME, LASTSAVE, SHUTDOWN, DEBUG, MEMORY,
//! LATENCY, SLOWLOG, ROLE and FUNCTION FLUSH (until Functions exist).
//!
//! A few engine-wide values that the engine struct does not carry yet (the
//! replication id, the script engine's memory figures, DEBUG switches) live
//! in process-wide atomics here; they are per process, as in Redis.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::command::Cmd;
use crate::ctx::{eq_ic, Ctx};
use crate::value::{Str, Value};
use crate::{errors, Engine};

/// Memory used by the Lua VM for EVAL, in bytes (fed by the scripting
/// engine; INFO `used_memory_lua` / `used_memory_vm_eval`).
pub static USED_MEMORY_LUA: AtomicU64 = AtomicU64::new(32768);
/// Memory used by the Lua VM for functions (INFO `used_memory_vm_functions`).
pub static USED_MEMORY_VM_FUNCTIONS: AtomicU64 = AtomicU64::new(32768);
/// Memory used by cached EVAL scripts (INFO `used_memory_scripts_eval`).
pub static USED_MEMORY_SCRIPTS_EVAL: AtomicU64 = AtomicU64::new(0);
/// Memory used by function libraries (INFO `used_memory_functions`).
pub static USED_MEMORY_FUNCTIONS: AtomicU64 = AtomicU64::new(0);
/// Number of scripts in the EVAL cache (INFO `number_of_cached_scripts`).
pub static NUMBER_OF_CACHED_SCRIPTS: AtomicU64 = AtomicU64::new(0);
/// Number of functions and libraries (INFO `number_of_functions`,
/// `number_of_libraries`).
pub static NUMBER_OF_FUNCTIONS: AtomicU64 = AtomicU64::new(0);
pub static NUMBER_OF_LIBRARIES: AtomicU64 = AtomicU64::new(0);
/// Set by DEBUG SET-DISABLE-DENY-SCRIPTS: scripts may run commands that are
/// normally denied to them.
pub static DISABLE_DENY_SCRIPTS: AtomicBool = AtomicBool::new(false);
/// DEBUG QUICKLIST-PACKED-THRESHOLD (bytes; lists are not stored as
/// quicklists in lunakv, the value is only kept).
pub static QUICKLIST_PACKED_THRESHOLD: AtomicU64 = AtomicU64::new(1 << 30);

static REPL_ID: Mutex<String> = Mutex::new(String::new());
static RUN_ID: OnceLock<String> = OnceLock::new();
static OPS_SAMPLE: Mutex<(u64, u64, u64)> = Mutex::new((0, 0, 0));

fn random_hex40() -> String {
    use rand::Rng;
    let mut r = rand::rng();
    (0..40)
        .map(|_| char::from(b"0123456789abcdef"[r.random_range(0..16)]))
        .collect()
}

/// The replication id shown by INFO replication (changed by DEBUG
/// CHANGE-REPL-ID).
pub fn master_replid() -> String {
    let mut g = match REPL_ID.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    if g.is_empty() {
        *g = random_hex40();
    }
    g.clone()
}

fn run_id() -> &'static str {
    RUN_ID.get_or_init(random_hex40)
}

/// Builds a help reply (one status line per line of `text`), as Redis's
/// `addReplyHelp` does.
pub fn help_reply(text: &str) -> Reply {
    Reply::Array(
        text.lines()
            .map(|l| Reply::Status(Bytes::copy_from_slice(l.as_bytes())))
            .collect(),
    )
}

/// True if the client connects from the local host (for the `local`
/// setting of enable-debug-command / enable-protected-configs).
pub fn is_local_client(addr: &str) -> bool {
    addr.is_empty()
        || addr.starts_with("127.")
        || addr.starts_with("[::1]")
        || addr.starts_with("::1")
        || addr.starts_with('/')
        || addr.ends_with(":0") && !addr.contains('.')
}

fn protected_allowed(ctx: &Ctx<'_>, setting: &str) -> bool {
    match ctx.eng.config.get(setting).unwrap_or("no") {
        "yes" => true,
        "local" => is_local_client(&ctx.client.addr),
        _ => false,
    }
}

/// Declares this family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    // CLUSTER: lunakv runs standalone, and Redis with cluster support
    // disabled answers every CLUSTER subcommand with this error.
    {
        let g = "cluster";
        let mut c = Cmd::new(
            "cluster",
            -2,
            "",
            (0, 0, 0),
            g,
            "A container for Redis Cluster commands.",
            cluster_disabled,
        )
        .since("3.0.0");
        for (name, arity, flags) in [
            ("info", 2, "stale"),
            ("nodes", 2, "stale"),
            ("slots", 2, "stale"),
            ("shards", 2, "stale"),
            ("myid", 2, "stale"),
            ("keyslot", 3, "stale"),
            ("countkeysinslot", 3, "stale"),
            ("getkeysinslot", 4, "stale"),
            ("reset", -2, "admin stale noscript"),
            ("help", 2, "loading stale"),
        ] {
            c = c.sub(Cmd::new(
                name,
                arity,
                flags,
                (0, 0, 0),
                g,
                "A Redis Cluster command (cluster support is disabled).",
                cluster_disabled,
            ));
        }
        v.push(c);
    }

    let g = "server";
    v.push(
        Cmd::new(
            "shutdown",
            -1,
            "admin noscript loading stale no_multi allow_busy",
            (0, 0, 0),
            g,
            "Synchronously saves the database(s) to disk and shuts down the Redis server.",
            shutdown,
        )
        .syntax("[NOSAVE | SAVE] [NOW] [FORCE] [ABORT]"),
    );
    v.push(
        Cmd::new(
            "info",
            -1,
            "loading stale",
            (0, 0, 0),
            g,
            "Get information and statistics about the server",
            info,
        )
        .syntax("[section [section ...]]")
        .complexity("O(1)")
        .acl("dangerous"),
    );
    let adm = "admin noscript loading stale";
    v.push(
        Cmd::new(
            "config",
            -2,
            "",
            (0, 0, 0),
            g,
            "A container for server configuration commands",
            container,
        )
        .since("2.0.0")
        .complexity("Depends on subcommand.")
        .sub(
            Cmd::new(
                "get",
                -3,
                adm,
                (0, 0, 0),
                g,
                "Get the values of configuration parameters",
                config_get,
            )
            .syntax("parameter [parameter ...]")
            .since("2.0.0")
            .complexity("O(N) when N is the number of configuration parameters provided"),
        )
        .sub(
            Cmd::new(
                "set",
                -4,
                adm,
                (0, 0, 0),
                g,
                "Set configuration parameters to the given values",
                config_set,
            )
            .syntax("parameter value [parameter value ...]")
            .since("2.0.0")
            .complexity("O(N) when N is the number of configuration parameters provided"),
        )
        .sub(
            Cmd::new(
                "resetstat",
                2,
                adm,
                (0, 0, 0),
                g,
                "Reset the stats returned by INFO",
                config_resetstat,
            )
            .since("2.0.0")
            .complexity("O(1)"),
        )
        .sub(
            Cmd::new(
                "rewrite",
                2,
                adm,
                (0, 0, 0),
                g,
                "Rewrite the configuration file with the in memory configuration",
                config_rewrite,
            )
            .since("2.8.0")
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
                config_help,
            )
            .since("5.0.0")
            .complexity("O(1)"),
        ),
    );
    v.push(
        Cmd::new(
            "time",
            1,
            "loading stale fast",
            (0, 0, 0),
            g,
            "Return the current server time",
            time,
        )
        .since("2.6.0")
        .complexity("O(1)"),
    );
    v.push(
        Cmd::new(
            "lastsave",
            1,
            "loading stale fast",
            (0, 0, 0),
            g,
            "Get the UNIX time stamp of the last successful save to disk",
            lastsave,
        )
        .complexity("O(1)")
        .acl("admin dangerous"),
    );
    v.push(
        Cmd::new(
            "debug",
            -2,
            "admin noscript loading stale",
            (0, 0, 0),
            g,
            "A container for debugging commands",
            debug,
        )
        .complexity("Depends on subcommand."),
    );
    let memsub = |name, arity, flags, summary, h, syntax: &'static str, cx: &'static str| {
        Cmd::new(name, arity, flags, (0, 0, 0), g, summary, h)
            .syntax(syntax)
            .since("4.0.0")
            .complexity(cx)
    };
    v.push(
        Cmd::new(
            "memory",
            -2,
            "",
            (0, 0, 0),
            g,
            "A container for memory diagnostics commands",
            container,
        )
        .since("4.0.0")
        .complexity("Depends on subcommand.")
        .sub(memsub(
            "doctor",
            2,
            "",
            "Outputs memory problems report",
            memory_doctor,
            "",
            "O(1)",
        ))
        .sub(memsub(
            "malloc-stats",
            2,
            "",
            "Show allocator internal stats",
            memory_malloc_stats,
            "",
            "Depends on how much memory is allocated, could be slow",
        ))
        .sub(memsub(
            "purge",
            2,
            "",
            "Ask the allocator to release memory",
            memory_purge,
            "",
            "Depends on how much memory is allocated, could be slow",
        ))
        .sub(memsub(
            "stats",
            2,
            "",
            "Show memory usage details",
            memory_stats,
            "",
            "O(1)",
        ))
        .sub(
            Cmd::new(
                "usage",
                -3,
                "readonly",
                (2, 2, 1),
                g,
                "Estimate the memory usage of a key",
                memory_usage,
            )
            .syntax("key [SAMPLES count]")
            .since("4.0.0")
            .complexity("O(N) where N is the number of samples."),
        )
        .sub(memsub(
            "help",
            2,
            "loading stale",
            "Show helpful text about the different subcommands",
            memory_help,
            "",
            "O(1)",
        )),
    );
    let lat = |name, arity, summary, h, syntax: &'static str| {
        Cmd::new(name, arity, adm, (0, 0, 0), g, summary, h)
            .syntax(syntax)
            .since("2.8.13")
            .complexity("O(1)")
    };
    v.push(
        Cmd::new(
            "latency",
            -2,
            "",
            (0, 0, 0),
            g,
            "A container for latency diagnostics commands",
            container,
        )
        .since("2.8.13")
        .complexity("Depends on subcommand.")
        .sub(lat(
            "doctor",
            2,
            "Return a human readable latency analysis report.",
            latency_doctor,
            "",
        ))
        .sub(lat(
            "graph",
            3,
            "Return a latency graph for the event.",
            latency_graph,
            "event",
        ))
        .sub(lat(
            "history",
            3,
            "Return timestamp-latency samples for the event.",
            latency_history,
            "event",
        ))
        .sub(lat(
            "latest",
            2,
            "Return the latest latency samples for all events.",
            latency_latest,
            "",
        ))
        .sub(lat(
            "reset",
            -2,
            "Reset latency data for one or more events.",
            latency_reset,
            "[event [event ...]]",
        ))
        .sub(
            lat(
                "histogram",
                -2,
                "Return the cumulative distribution of latencies of a subset of commands or all.",
                latency_histogram,
                "[command [command ...]]",
            )
            .since("7.0.0"),
        )
        .sub(
            Cmd::new(
                "help",
                2,
                "loading stale",
                (0, 0, 0),
                g,
                "Show helpful text about the different subcommands.",
                latency_help,
            )
            .since("2.8.13")
            .complexity("O(1)"),
        ),
    );
    let sl = |name, arity, flags, summary, h, syntax: &'static str, cx: &'static str| {
        Cmd::new(name, arity, flags, (0, 0, 0), g, summary, h)
            .syntax(syntax)
            .since("2.2.12")
            .complexity(cx)
    };
    v.push(
        Cmd::new(
            "slowlog",
            -2,
            "",
            (0, 0, 0),
            g,
            "A container for slow log commands",
            container,
        )
        .since("2.2.12")
        .complexity("Depends on subcommand.")
        .sub(sl(
            "get",
            -2,
            "admin loading stale",
            "Get the slow log's entries",
            slowlog_get,
            "[count]",
            "O(N) where N is the number of entries returned",
        ))
        .sub(sl(
            "len",
            2,
            "admin loading stale",
            "Get the slow log's length",
            slowlog_len,
            "",
            "O(1)",
        ))
        .sub(sl(
            "reset",
            2,
            "admin loading stale",
            "Clear all entries from the slow log",
            slowlog_reset,
            "",
            "O(N) where N is the number of entries in the slowlog",
        ))
        .sub(
            sl(
                "help",
                2,
                "loading stale",
                "Show helpful text about the different subcommands",
                slowlog_help,
                "",
                "O(1)",
            )
            .since("6.2.0"),
        ),
    );
    v.push(
        Cmd::new(
            "role",
            1,
            "noscript loading stale fast",
            (0, 0, 0),
            g,
            "Return the role of the instance in the context of replication",
            role,
        )
        .since("2.8.12")
        .complexity("O(1)")
        .acl("admin dangerous"),
    );
}

/// Handler of a container called without a known subcommand (never
/// reached: dispatch resolves subcommands).
fn container(_ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    errors::wrong_args(&String::from_utf8_lossy(&args[0]).to_lowercase())
}

/// Stops the server: saves first when `save` points are configured unless
/// `nosave`, then ends the engine loop so the process exits. Returns false
/// (and keeps running) when the final save failed.
pub fn shutdown_now(eng: &mut Engine, nosave: bool) -> bool {
    shutdown_with(eng, nosave, false, false)
}

/// Redis's `prepareForShutdown`: kills a BGSAVE child, saves when save
/// points exist (unless `nosave`) or when `save` is given; a failed save
/// stops the shutdown unless `force`.
fn shutdown_with(eng: &mut Engine, nosave: bool, save: bool, force: bool) -> bool {
    crate::log::warning("User requested shutdown...");
    if eng.persist.child.is_some() {
        crate::log::warning("There is a child saving an .rdb. Killing it!");
        crate::rdb::kill_child(eng);
    }
    if (crate::rdb::save_points_configured(eng) && !nosave) || save {
        crate::log::notice("Saving the final RDB snapshot before exiting.");
        if crate::rdb::save(eng).is_err() && !force {
            crate::log::warning("Error trying to save the DB, can't exit.");
            return false;
        }
    }
    crate::log::warning("lunakv is now ready to exit, bye bye...");
    eng.shutdown_requested = true;
    true
}

fn shutdown(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (mut nosave, mut save, mut force) = (false, false, false);
    for a in &args[1..] {
        if a.eq_ignore_ascii_case(b"nosave") {
            nosave = true;
        } else if a.eq_ignore_ascii_case(b"save") {
            save = true;
        } else if a.eq_ignore_ascii_case(b"force") {
            force = true;
        } else if a.eq_ignore_ascii_case(b"now") {
        } else if a.eq_ignore_ascii_case(b"abort") {
            return Reply::err_static("ERR No shutdown in progress.");
        } else {
            return crate::errors::syntax();
        }
    }
    if nosave && save {
        return crate::errors::syntax();
    }
    if !shutdown_with(ctx.eng, nosave, save, force) {
        return Reply::err_static("ERR Errors trying to SHUTDOWN. Check logs.");
    }
    // The connection is closed without a reply when the process exits.
    ctx.client.close_after_reply = true;
    Reply::Raw(Bytes::new())
}

// ---------------------------------------------------------------- INFO

const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "module_list",
    "errorstats",
    "cluster",
    "keyspace",
];

/// All sections in output order.
const ALL_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "module_list",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
];

/// Formats a byte count the way Redis's `bytesToHuman` does.
pub fn bytes_to_human(n: u64) -> String {
    let d = n as f64;
    if n < 1024 {
        format!("{n}B")
    } else if n < 1024 * 1024 {
        format!("{:.2}K", d / 1024.0)
    } else if n < 1024 * 1024 * 1024 {
        format!("{:.2}M", d / (1024.0 * 1024.0))
    } else if n < 1024u64.pow(4) {
        format!("{:.2}G", d / (1024.0 * 1024.0 * 1024.0))
    } else if n < 1024u64.pow(5) {
        format!("{:.2}T", d / 1024f64.powi(4))
    } else {
        format!("{:.2}P", d / 1024f64.powi(5))
    }
}

/// Resident set size of the process, from /proc/self/statm.
pub fn rss_bytes() -> u64 {
    let page = {
        // SAFETY: sysconf has no memory-safety preconditions.
        let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if p > 0 {
            p as u64
        } else {
            4096
        }
    };
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map(|pages| pages * page)
        .unwrap_or(0)
}

/// Bytes allocated by the process's allocator (Redis's `used_memory`).
pub fn used_memory() -> u64 {
    crate::evict::used_memory()
}

fn rusage(who: libc::c_int) -> (f64, f64) {
    // SAFETY: getrusage writes into the zeroed struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::getrusage(who, &mut ru) };
    if r != 0 {
        return (0.0, 0.0);
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (tv(ru.ru_stime), tv(ru.ru_utime))
}

fn uname() -> String {
    // SAFETY: uname fills the zeroed struct we pass.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return "Linux".into();
    }
    let f = |a: &[libc::c_char]| -> String {
        let b: Vec<u8> = a
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&b).into_owned()
    };
    format!("{} {} {}", f(&u.sysname), f(&u.release), f(&u.machine))
}

fn ops_per_sec(total: u64, now_ms: u64) -> u64 {
    let mut g = match OPS_SAMPLE.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    let (t0, c0, last) = *g;
    if t0 == 0 || now_ms < t0 {
        *g = (now_ms, total, 0);
        return 0;
    }
    let dt = now_ms - t0;
    if dt < 100 {
        return last;
    }
    let rate = total.saturating_sub(c0) * 1000 / dt;
    *g = (now_ms, total, rate);
    rate
}

/// Builds the text of INFO for the given section arguments (none = the
/// default sections).
pub fn info_text(eng: &mut Engine, args: &[Bytes]) -> String {
    let mut wanted: Vec<String> = Vec::new();
    let add = |s: &str, w: &mut Vec<String>| {
        if !w.iter().any(|x| x == s) {
            w.push(s.to_string());
        }
    };
    if args.is_empty() {
        for s in DEFAULT_SECTIONS {
            add(s, &mut wanted);
        }
    }
    for a in args {
        let s = String::from_utf8_lossy(a).to_lowercase();
        match s.as_str() {
            "default" => DEFAULT_SECTIONS.iter().for_each(|s| add(s, &mut wanted)),
            "all" | "everything" => ALL_SECTIONS.iter().for_each(|s| add(s, &mut wanted)),
            "modules" => add("module_list", &mut wanted),
            other => add(other, &mut wanted),
        }
    }
    let mut out = String::new();
    for sec in ALL_SECTIONS {
        if !wanted.iter().any(|w| w == sec) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        info_section(eng, sec, &mut out);
    }
    out
}

fn info_section(eng: &mut Engine, sec: &str, o: &mut String) {
    let now = crate::unix_ms();
    let uptime = eng.start_time.elapsed().as_secs();
    macro_rules! f {
        ($($arg:tt)*) => {{ let _ = write!(o, $($arg)*); o.push_str("\r\n"); }};
    }
    match sec {
        "server" => {
            o.push_str("# Server\r\n");
            f!("redis_version:{}", crate::REDIS_VERSION);
            f!("lunakv_version:{}", crate::LUNAKV_VERSION);
            f!("redis_git_sha1:00000000");
            f!("redis_git_dirty:0");
            f!("redis_build_id:0");
            f!("redis_mode:standalone");
            f!("os:{}", uname());
            f!("arch_bits:{}", usize::BITS);
            f!("monotonic_clock:POSIX clock_gettime");
            f!("multiplexing_api:epoll");
            f!("atomicvar_api:c11-builtin");
            f!("gcc_version:0.0.0");
            f!("process_id:{}", std::process::id());
            f!("process_supervised:no");
            f!("run_id:{}", run_id());
            f!("tcp_port:{}", eng.config.get_i64("port"));
            f!("server_time_usec:{}", crate::unix_us());
            f!("uptime_in_seconds:{uptime}");
            f!("uptime_in_days:{}", uptime / 86400);
            f!("hz:{}", eng.config.get_i64("hz"));
            f!("configured_hz:{}", eng.config.get_i64("hz"));
            f!("lru_clock:{}", (now / 1000) & ((1 << 24) - 1));
            let exe = std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            f!("executable:{exe}");
            let cf = eng
                .config
                .config_file
                .as_deref()
                .map(|p| {
                    std::fs::canonicalize(p)
                        .map(|c| c.display().to_string())
                        .unwrap_or_else(|_| p.to_string())
                })
                .unwrap_or_default();
            f!("config_file:{cf}");
            f!("io_threads_active:0");
        }
        "clients" => {
            o.push_str("# Clients\r\n");
            let connected = connected_clients(eng);
            let blocked = eng.blocking.count;
            f!("connected_clients:{connected}");
            f!("cluster_connections:0");
            f!("maxclients:{}", eng.config.get_i64("maxclients"));
            f!("client_recent_max_input_buffer:0");
            f!("client_recent_max_output_buffer:0");
            f!("blocked_clients:{blocked}");
            f!("tracking_clients:{}", eng.tracking.clients.len());
            f!("clients_in_timeout_table:0");
        }
        "memory" => {
            o.push_str("# Memory\r\n");
            let used = used_memory();
            let rss = rss_bytes();
            // The EVAL engine's own figures, read at INFO time.
            if let Some(st) = eng.scripts.as_deref().map(|e| e.stats()) {
                USED_MEMORY_LUA.store(st.used_memory_lua as u64, Ordering::Relaxed);
                USED_MEMORY_SCRIPTS_EVAL.store(st.scripts_memory as u64, Ordering::Relaxed);
                NUMBER_OF_CACHED_SCRIPTS
                    .store(st.number_of_cached_scripts as u64, Ordering::Relaxed);
            }
            let lua = USED_MEMORY_LUA.load(Ordering::Relaxed);
            let vmf = USED_MEMORY_VM_FUNCTIONS.load(Ordering::Relaxed);
            let se = USED_MEMORY_SCRIPTS_EVAL.load(Ordering::Relaxed);
            let fm = USED_MEMORY_FUNCTIONS.load(Ordering::Relaxed);
            let maxmem = eng.config.get_i64("maxmemory").max(0) as u64;
            let peak = crate::evict::used_memory_peak().max(used);
            let mem = crate::evict::memory_breakdown(eng, used);
            let allocated = crate::evict::allocator_allocated();
            f!("used_memory:{used}");
            f!("used_memory_human:{}", bytes_to_human(used));
            f!("used_memory_rss:{rss}");
            f!("used_memory_rss_human:{}", bytes_to_human(rss));
            f!("used_memory_peak:{peak}");
            f!("used_memory_peak_human:{}", bytes_to_human(peak));
            f!(
                "used_memory_peak_perc:{:.2}%",
                used as f64 * 100.0 / peak.max(1) as f64
            );
            f!("used_memory_overhead:{}", mem.overhead);
            f!("used_memory_startup:{}", mem.startup);
            f!("used_memory_dataset:{}", mem.dataset);
            f!("used_memory_dataset_perc:{:.2}%", mem.dataset_perc);
            f!("allocator_allocated:{allocated}");
            f!("allocator_active:{allocated}");
            f!("allocator_resident:{rss}");
            f!("total_system_memory:{}", total_system_memory());
            f!(
                "total_system_memory_human:{}",
                bytes_to_human(total_system_memory())
            );
            f!("used_memory_lua:{lua}");
            f!("used_memory_vm_eval:{lua}");
            f!("used_memory_lua_human:{}", bytes_to_human(lua));
            f!("used_memory_scripts_eval:{se}");
            f!(
                "number_of_cached_scripts:{}",
                NUMBER_OF_CACHED_SCRIPTS.load(Ordering::Relaxed)
            );
            f!(
                "number_of_functions:{}",
                NUMBER_OF_FUNCTIONS.load(Ordering::Relaxed)
            );
            f!(
                "number_of_libraries:{}",
                NUMBER_OF_LIBRARIES.load(Ordering::Relaxed)
            );
            f!("used_memory_vm_functions:{vmf}");
            f!("used_memory_vm_total:{}", lua + vmf);
            f!("used_memory_vm_total_human:{}", bytes_to_human(lua + vmf));
            f!("used_memory_functions:{fm}");
            f!("used_memory_scripts:{}", se + fm);
            f!("used_memory_scripts_human:{}", bytes_to_human(se + fm));
            f!("maxmemory:{maxmem}");
            f!("maxmemory_human:{}", bytes_to_human(maxmem));
            f!(
                "maxmemory_policy:{}",
                eng.config.get("maxmemory-policy").unwrap_or("noeviction")
            );
            let ratio = if used > 0 {
                rss as f64 / used as f64
            } else {
                0.0
            };
            f!("allocator_frag_ratio:1.00");
            f!("allocator_frag_bytes:0");
            f!("allocator_rss_ratio:1.00");
            f!("allocator_rss_bytes:0");
            f!("rss_overhead_ratio:1.00");
            f!("rss_overhead_bytes:0");
            f!("mem_fragmentation_ratio:{ratio:.2}");
            f!("mem_fragmentation_bytes:{}", rss as i64 - used as i64);
            f!("mem_not_counted_for_evict:0");
            f!("mem_replication_backlog:0");
            f!("mem_total_replication_buffers:0");
            f!("mem_clients_slaves:0");
            f!("mem_clients_normal:0");
            f!("mem_cluster_links:0");
            f!("mem_aof_buffer:0");
            let allocator = if crate::evict::counting() {
                crate::evict::ALLOCATOR_NAME
            } else {
                "libc"
            };
            f!("mem_allocator:{allocator}");
            f!("active_defrag_running:0");
            f!("lazyfree_pending_objects:0");
            f!("lazyfreed_objects:{}", eng.stats.lazyfreed_objects);
        }
        "persistence" => {
            o.push_str("# Persistence\r\n");
            f!("loading:0");
            f!("async_loading:0");
            f!("current_cow_peak:0");
            f!("current_cow_size:0");
            f!("current_cow_size_age:0");
            f!("current_fork_perc:0.00");
            f!("current_save_keys_processed:0");
            f!("current_save_keys_total:0");
            let ps = &eng.persist;
            f!("rdb_changes_since_last_save:{}", eng.dirty);
            f!("rdb_bgsave_in_progress:{}", u8::from(ps.child.is_some()));
            f!("rdb_last_save_time:{}", eng.lastsave_unix);
            f!(
                "rdb_last_bgsave_status:{}",
                if ps.last_bgsave_ok { "ok" } else { "err" }
            );
            f!("rdb_last_bgsave_time_sec:{}", ps.last_bgsave_secs);
            f!(
                "rdb_current_bgsave_time_sec:{}",
                ps.child
                    .as_ref()
                    .map_or(-1, |c| c.start.elapsed().as_secs() as i64)
            );
            f!("rdb_saves:{}", ps.saves);
            f!("rdb_last_cow_size:0");
            f!("rdb_last_load_keys_expired:{}", ps.last_load.expired);
            f!("rdb_last_load_keys_loaded:{}", ps.last_load.loaded);
            f!(
                "aof_enabled:{}",
                u8::from(eng.config.get_bool("appendonly"))
            );
            f!("aof_rewrite_in_progress:0");
            f!("aof_rewrite_scheduled:0");
            f!("aof_last_rewrite_time_sec:-1");
            f!("aof_current_rewrite_time_sec:-1");
            f!("aof_last_bgrewrite_status:ok");
            f!("aof_rewrites:0");
            f!("aof_rewrites_consecutive_failures:0");
            f!("aof_last_write_status:ok");
            f!("aof_last_cow_size:0");
            f!("module_fork_in_progress:0");
            f!("module_fork_last_cow_size:0");
        }
        "stats" => {
            o.push_str("# Stats\r\n");
            let r = Ordering::Relaxed;
            let st = eng.stats.clone();
            f!("total_connections_received:{}", st.total_connections);
            f!("total_commands_processed:{}", st.total_commands);
            f!(
                "instantaneous_ops_per_sec:{}",
                ops_per_sec(st.total_commands, now)
            );
            f!(
                "total_net_input_bytes:{}",
                eng.shared.net_input_bytes.load(r)
            );
            f!(
                "total_net_output_bytes:{}",
                eng.shared.net_output_bytes.load(r)
            );
            f!("total_net_repl_input_bytes:0");
            f!("total_net_repl_output_bytes:0");
            f!("instantaneous_input_kbps:0.00");
            f!("instantaneous_output_kbps:0.00");
            f!("instantaneous_input_repl_kbps:0.00");
            f!("instantaneous_output_repl_kbps:0.00");
            f!(
                "rejected_connections:{}",
                eng.shared.rejected_connections.load(r)
            );
            f!("sync_full:0");
            f!("sync_partial_ok:0");
            f!("sync_partial_err:0");
            f!("expired_keys:{}", eng.expired_keys());
            f!("expired_stale_perc:{:.2}", st.expired_stale_perc);
            f!("expired_time_cap_reached_count:0");
            f!("expire_cycle_cpu_milliseconds:0");
            f!("evicted_keys:{}", st.evicted_keys);
            f!("evicted_clients:0");
            let (total_ex, current_ex) = crate::evict::exceeded_time_ms(eng);
            f!("total_eviction_exceeded_time:{total_ex}");
            f!("current_eviction_exceeded_time:{current_ex}");
            f!("keyspace_hits:{}", st.keyspace_hits);
            f!("keyspace_misses:{}", st.keyspace_misses);
            f!("pubsub_channels:0");
            f!("pubsub_patterns:{}", eng.pubsub.numpat());
            f!("pubsubshard_channels:0");
            f!("latest_fork_usec:0");
            f!("total_forks:0");
            f!("migrate_cached_sockets:0");
            f!("slave_expires_tracked_keys:0");
            f!("active_defrag_hits:0");
            f!("active_defrag_misses:0");
            f!("active_defrag_key_hits:0");
            f!("active_defrag_key_misses:0");
            f!("total_active_defrag_time:0");
            f!("current_active_defrag_time:0");
            f!("tracking_total_keys:{}", eng.tracking.table.len());
            f!("tracking_total_items:{}", eng.tracking.total_items);
            f!("tracking_total_prefixes:{}", eng.tracking.prefixes.len());
            f!("unexpected_error_replies:{}", st.unexpected_error_replies);
            f!("total_error_replies:{}", st.total_error_replies);
            f!("dump_payload_sanitizations:0");
            f!("total_reads_processed:{}", st.total_commands);
            f!("total_writes_processed:{}", st.total_commands);
            f!("io_threaded_reads_processed:0");
            f!("io_threaded_writes_processed:0");
            f!("reply_buffer_shrinks:0");
            f!("reply_buffer_expands:0");
        }
        "replication" => crate::repl::info_section(eng, o),
        "cpu" => {
            o.push_str("# CPU\r\n");
            let (s, u) = rusage(libc::RUSAGE_SELF);
            let (cs, cu) = rusage(libc::RUSAGE_CHILDREN);
            let (ts, tu) = rusage(libc::RUSAGE_THREAD);
            f!("used_cpu_sys:{s:.6}");
            f!("used_cpu_user:{u:.6}");
            f!("used_cpu_sys_children:{cs:.6}");
            f!("used_cpu_user_children:{cu:.6}");
            f!("used_cpu_sys_main_thread:{ts:.6}");
            f!("used_cpu_user_main_thread:{tu:.6}");
        }
        "module_list" => o.push_str("# Modules\r\n"),
        "commandstats" => {
            o.push_str("# Commandstats\r\n");
            let table = eng.table;
            for (id, st) in eng.cmdstats.iter().enumerate() {
                if st.calls == 0 && st.failed == 0 && st.rejected == 0 {
                    continue;
                }
                let name = table.names.get(id).map(|s| s.as_str()).unwrap_or("?");
                let per = if st.calls > 0 {
                    st.usec as f64 / st.calls as f64
                } else {
                    0.0
                };
                f!(
                    "cmdstat_{name}:calls={},usec={},usec_per_call={per:.2},rejected_calls={},failed_calls={}",
                    st.calls,
                    st.usec,
                    st.rejected,
                    st.failed
                );
            }
        }
        "errorstats" => {
            o.push_str("# Errorstats\r\n");
            let mut v: Vec<(&String, &u64)> = eng.errorstats.iter().collect();
            v.sort();
            for (code, n) in v {
                f!("errorstat_{code}:count={n}");
            }
        }
        "latencystats" => o.push_str("# Latencystats\r\n"),
        "cluster" => {
            o.push_str("# Cluster\r\n");
            f!("cluster_enabled:0");
        }
        "keyspace" => {
            o.push_str("# Keyspace\r\n");
            for (i, db) in eng.dbs.iter().enumerate() {
                if db.is_empty() && db.expires == 0 {
                    continue;
                }
                f!("db{i}:keys={},expires={},avg_ttl=0", db.len(), db.expires);
            }
        }
        _ => {}
    }
}

/// Number of connected clients (the running one is outside the map).
fn connected_clients(eng: &Engine) -> usize {
    eng.clients.values().filter(|c| c.out.is_some()).count() + 1
}

fn total_system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .and_then(|v| v.parse::<u64>().ok())
                })
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

fn info(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let text = info_text(ctx.eng, &args[1..]);
    Reply::Verbatim(*b"txt", Bytes::from(text))
}

// ---------------------------------------------------------------- CONFIG

const CONFIG_HELP: &str = "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
GET <pattern>
    Return parameters matching the glob-like <pattern> and their values.
SET <directive> <value>
    Set the configuration <directive> to <value>.
RESETSTAT
    Reset statistics reported by the INFO command.
REWRITE
    Rewrite the configuration file.
HELP
    Prints this help.";

fn config_help(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    help_reply(CONFIG_HELP)
}

/// The value CONFIG GET prints for a parameter.
fn config_value(name: &str, v: &str) -> String {
    if name == "dir" {
        if let Ok(d) = std::env::current_dir() {
            return d.display().to_string();
        }
    }
    v.to_string()
}

fn config_get(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let mut out: Vec<(String, String)> = Vec::new();
    let eng = &*ctx.eng;
    for a in &args[2..] {
        let pat = String::from_utf8_lossy(a).into_owned();
        if !pat.contains(['[', '*', '?']) {
            let Some((i, prm)) = eng.config.find(&pat) else {
                continue;
            };
            let _ = i;
            let key = pat.to_string();
            if out.iter().any(|(k, _)| k.eq_ignore_ascii_case(&key)) {
                continue;
            }
            let v = eng.config.get(prm.name).unwrap_or("");
            out.push((key, config_value(prm.name, v)));
            continue;
        }
        for (prm, v) in eng.config.all() {
            if prm.is(crate::config::HIDDEN) {
                continue;
            }
            for name in std::iter::once(prm.name).chain(prm.alias) {
                if out.iter().any(|(k, _)| k == name) {
                    continue;
                }
                if crate::glob::glob_match(pat.as_bytes(), name.as_bytes(), true) {
                    out.push((name.to_string(), config_value(prm.name, v)));
                }
            }
        }
    }
    Reply::Map(
        out.into_iter()
            .map(|(k, v)| (Reply::Bulk(Bytes::from(k)), Reply::Bulk(Bytes::from(v))))
            .collect(),
    )
}

fn config_set(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if args.len() & 1 != 0 {
        return errors::syntax();
    }
    let mut err_arg: Option<(String, &'static str)> = None;
    let mut unknown: Option<String> = None;
    let mut seen: Vec<usize> = Vec::new();
    let mut pairs: Vec<(usize, &'static crate::config::Param, String, String)> = Vec::new();
    for pair in args[2..].chunks(2) {
        let name = String::from_utf8_lossy(&pair[0]).into_owned();
        let value = String::from_utf8_lossy(&pair[1]).into_owned();
        let Some((i, prm)) = ctx.eng.config.find(&name) else {
            if unknown.is_none() && err_arg.is_none() {
                unknown = Some(name);
            }
            continue;
        };
        if unknown.is_some() || err_arg.is_some() {
            continue;
        }
        if prm.is(crate::config::IMMUTABLE) {
            err_arg = Some((name, "can't set immutable config"));
            continue;
        }
        if prm.is(crate::config::PROTECTED) && !protected_allowed(ctx, "enable-protected-configs") {
            err_arg = Some((name, "can't set protected config"));
            continue;
        }
        if seen.contains(&i) {
            err_arg = Some((name, "duplicate parameter"));
            continue;
        }
        seen.push(i);
        pairs.push((i, prm, name, value));
    }
    if let Some(n) = unknown {
        return Reply::err(format!(
            "ERR Unknown option or number of arguments for CONFIG SET - '{n}'"
        ));
    }
    if let Some((n, e)) = err_arg {
        return Reply::err(format!(
            "ERR CONFIG SET failed (possibly related to argument '{n}') - {e}"
        ));
    }
    // Apply all on a copy: either every value is taken or none is.
    let mut next = ctx.eng.config.clone();
    for (_, prm, _, value) in &pairs {
        if let Err(e) = next.set(prm.name, value) {
            return Reply::err(format!(
                "ERR CONFIG SET failed (possibly related to argument '{}') - {e}",
                prm.name
            ));
        }
        if prm.name == "dir" {
            // As Redis: the working directory is `dir` (RDB files go there).
            if let Err(e) = std::env::set_current_dir(value) {
                let msg = match e.kind() {
                    std::io::ErrorKind::NotFound => "No such file or directory".to_string(),
                    std::io::ErrorKind::PermissionDenied => "Permission denied".to_string(),
                    _ => e.to_string(),
                };
                return Reply::err(format!(
                    "ERR CONFIG SET failed (possibly related to argument 'dir') - {msg}"
                ));
            }
        }
        if prm.name == "maxmemory" {
            let mm = next.get_i64("maxmemory") as u64;
            if mm > 0 && mm < used_memory() {
                crate::log::warning(&format!(
                    "WARNING: the new maxmemory value set via CONFIG SET ({mm}) is smaller than the current memory usage ({}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.",
                    used_memory()
                ));
            }
        }
    }
    // "Apply" step: a new port must be one we can listen on.
    let new_port = next.get_i64("port");
    if new_port != ctx.eng.config.get_i64("port") && new_port != 0 {
        if let Err(e) = check_listen(next.get("bind").unwrap_or(""), new_port as u16) {
            crate::log::warning(&format!(
                "Failed applying new configuration. Possibly related to new port setting. Restoring previous settings. ({e})"
            ));
            return Reply::err_static(
                "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs.",
            );
        }
    }
    ctx.eng.config = next;
    ctx.eng.config_changed();
    Reply::ok()
}

/// Checks that every bind address can listen on `port` (CONFIG SET port).
/// The listener itself is owned by the network layer, which keeps its
/// socket; this only refuses ports that are taken.
fn check_listen(bind: &str, port: u16) -> std::io::Result<()> {
    for a in bind.split_whitespace() {
        let optional = a.starts_with('-');
        let a = a.trim_start_matches('-');
        let host = match a {
            "*" => "0.0.0.0",
            "::*" => "::",
            h => h,
        };
        match std::net::TcpListener::bind((host, port)) {
            Ok(l) => drop(l),
            Err(_) if optional => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Resets the statistics INFO reports (CONFIG RESETSTAT).
pub fn reset_stats(eng: &mut Engine) {
    eng.stats = crate::Stats::default();
    for s in eng.cmdstats.iter_mut() {
        *s = crate::CmdStat::default();
    }
    eng.errorstats.clear();
    eng.evict.exceeded_total_ms = 0;
    for db in eng.dbs.iter_mut() {
        db.stat_expired = 0;
    }
    let r = Ordering::Relaxed;
    eng.shared.net_input_bytes.store(0, r);
    eng.shared.net_output_bytes.store(0, r);
    eng.shared.rejected_connections.store(0, r);
    if let Ok(mut g) = OPS_SAMPLE.lock() {
        *g = (0, 0, 0);
    }
}

fn config_resetstat(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    reset_stats(ctx.eng);
    Reply::ok()
}

fn config_rewrite(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    let Some(path) = ctx.eng.config.config_file.clone() else {
        return Reply::err_static("ERR The server is running without a config file");
    };
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let text = ctx.eng.config.rewrite_text(&old);
    let tmp = format!("{path}.tmp-{}", std::process::id());
    let res = std::fs::write(&tmp, text.as_bytes()).and_then(|_| std::fs::rename(&tmp, &path));
    match res {
        Ok(()) => {
            crate::log::notice("CONFIG REWRITE executed with success.");
            Reply::ok()
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            crate::log::warning(&format!("CONFIG REWRITE failed: {e}"));
            Reply::err(format!("ERR Rewriting config file: {e}"))
        }
    }
}

// ---------------------------------------------------------------- TIME, LASTSAVE, ROLE, FUNCTION FLUSH

fn time(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    let us = crate::unix_us();
    Reply::Array(vec![
        Reply::bulk_str((us / 1_000_000).to_string()),
        Reply::bulk_str((us % 1_000_000).to_string()),
    ])
}

fn lastsave(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    Reply::Int(ctx.eng.lastsave_unix as i64)
}

fn role(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    crate::repl::role_reply(ctx.eng)
}

// ---------------------------------------------------------------- DEBUG

const DEBUG_HELP: &str = "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
CHANGE-REPL-ID
    Change the replication IDs of the instance.
    Dangerous: should be used only for testing the replication subsystem.
DIGEST
    Output a hex signature representing the current DB content.
DIGEST-VALUE <key> [<key> ...]
    Output a hex signature of the values of all the specified keys.
ERROR <string>
    Return a Redis protocol error with <string> as message. Useful for clients
    unit tests to simulate Redis errors.
LOG <message>
    Write <message> to the server log.
OBJECT <key>
    Show low level info about `key` and associated value.
PROTOCOL <type>
    Reply with a test value of the specified type. <type> can be: string,
    integer, double, bignum, null, array, set, map, attrib, push, verbatim,
    true, false.
RELOAD [option ...]
    Save the RDB on disk and reload it back to memory. Valid <option> values:
    * MERGE: conflicting keys will be loaded from RDB.
    * NOFLUSH: the existing database will not be removed before load, but
      conflicting keys will generate an exception and kill the server.
    * NOSAVE: the database will be loaded from an existing RDB file.
    Examples:
    * DEBUG RELOAD: verify that the server is able to persist, flush and reload
      the database.
    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an
      existing RDB file.
    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB
      file to the database.
SET-ACTIVE-EXPIRE <0|1>
    Setting it to 0 disables expiring keys in background when they are not
    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the
    default.
QUICKLIST-PACKED-THRESHOLD <size>
    Sets the threshold for elements to be inserted as plain vs packed nodes
    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.
SLEEP <seconds>
    Stop the server for <seconds>. Decimals allowed.
STRINGMATCH-LEN
    Run a fuzz tester against the stringmatchlen() function.
LISTPACK <key>
    Show low level info about the listpack encoding of <key>.
SET-DISABLE-DENY-SCRIPTS <0|1>
    Allow scripts to run commands that are normally denied to them.
HELP
    Prints this help.";

fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h = sha1_smol::Sha1::new();
    h.update(data);
    h.digest().bytes()
}

fn xor_digest(digest: &mut [u8; 20], data: &[u8]) {
    let h = sha1(data);
    for (d, x) in digest.iter_mut().zip(h.iter()) {
        *d ^= x;
    }
}

fn mix_digest(digest: &mut [u8; 20], data: &[u8]) {
    xor_digest(digest, data);
    *digest = sha1(&digest[..]);
}

/// Mixes a value into `digest` the way Redis's `xorObjectDigest` does, so
/// that DEBUG DIGEST / DIGEST-VALUE agree with Redis for the same data.
fn object_digest(digest: &mut [u8; 20], val: &Value, has_expire: bool) {
    let ty: u32 = match val {
        Value::Str(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    };
    mix_digest(digest, &ty.to_be_bytes());
    let score_text = |s: f64| {
        if s.is_infinite() {
            if s > 0.0 { "inf" } else { "-inf" }.to_string()
        } else {
            lunakv_protocol::fmt_g17(s)
        }
    };
    match val {
        Value::Str(s) => s.with_bytes(|b| mix_digest(digest, b)),
        Value::List(l) => {
            for e in l.iter() {
                mix_digest(digest, e);
            }
        }
        Value::Set(s) => s.for_each(|m| xor_digest(digest, m)),
        Value::ZSet(z) => {
            for (m, sc) in z.iter() {
                let mut ed = [0u8; 20];
                mix_digest(&mut ed, m);
                mix_digest(&mut ed, score_text(sc).as_bytes());
                xor_digest(digest, &ed);
            }
        }
        Value::Hash(h) => {
            for (f, v) in h.iter() {
                let mut ed = [0u8; 20];
                mix_digest(&mut ed, f);
                mix_digest(&mut ed, v);
                xor_digest(digest, &ed);
            }
        }
        Value::Stream(st) => {
            for (id, fields) in st.iter() {
                mix_digest(digest, format!("{}.{}", id.ms, id.seq).as_bytes());
                for (f, v) in &fields {
                    mix_digest(digest, f);
                    mix_digest(digest, v);
                }
            }
        }
    }
    if has_expire {
        xor_digest(digest, b"!!expire!!");
    }
}

/// DEBUG DIGEST: a hex SHA1 signature of the whole dataset (Redis's
/// `computeDatasetDigest`); all zeros when the dataset is empty.
pub fn dataset_digest(eng: &Engine) -> String {
    let mut fin = [0u8; 20];
    for (j, db) in eng.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        mix_digest(&mut fin, &(j as u32).to_be_bytes());
        for (k, e) in db.dict.iter_entries() {
            let mut d = [0u8; 20];
            mix_digest(&mut d, k);
            object_digest(&mut d, e.val, e.expire() != 0);
            xor_digest(&mut fin, &d);
        }
    }
    hex(&fin)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Size of a string as Redis's RDB would store it (DEBUG OBJECT
/// `serializedlength`), without compression.
fn serialized_len(s: &Str) -> usize {
    let lenlen = |n: usize| {
        if n < 64 {
            1
        } else if n < 16384 {
            2
        } else if n <= u32::MAX as usize {
            5
        } else {
            9
        }
    };
    match s {
        Str::Int(i) => {
            if (-128..=127).contains(i) {
                2
            } else if (-32768..=32767).contains(i) {
                3
            } else if (i32::MIN as i64..=i32::MAX as i64).contains(i) {
                5
            } else {
                let n = s.len();
                lenlen(n) + n
            }
        }
        _ => {
            let n = s.len();
            if n <= 11 {
                if let Some(i) = s.as_int() {
                    if (i32::MIN as i64..=i32::MAX as i64).contains(&i) {
                        return serialized_len(&Str::Int(i));
                    }
                }
            }
            lenlen(n) + n
        }
    }
}

fn debug(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if !protected_allowed(ctx, "enable-debug-command") {
        return Reply::err_static("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.");
    }
    let sub = String::from_utf8_lossy(&args[1]).to_lowercase();
    let argc = args.len();
    match (sub.as_str(), argc) {
        ("help", 2) => help_reply(DEBUG_HELP),
        ("sleep", 3) => {
            let secs = String::from_utf8_lossy(&args[2])
                .trim()
                .parse::<f64>()
                .unwrap_or(0.0);
            if secs.is_finite() && secs > 0.0 {
                let d = std::time::Duration::from_secs_f64(secs.min(3600.0));
                std::thread::sleep(d);
                latency_add_sample_if_needed(ctx.eng, "command", d.as_millis() as u64);
            }
            Reply::ok()
        }
        ("set-active-expire", 3) => {
            ctx.eng.active_expire = args[2].as_ref() != b"0";
            Reply::ok()
        }
        ("set-disable-deny-scripts", 3) => {
            DISABLE_DENY_SCRIPTS.store(args[2].as_ref() != b"0", Ordering::Relaxed);
            Reply::ok()
        }
        ("quicklist-packed-threshold", 3) => {
            match crate::config::parse_mem(&String::from_utf8_lossy(&args[2])) {
                Some(v) if (0..=(1i64 << 32)).contains(&v) => {
                    let v = if v == 0 { 1 << 30 } else { v as u64 };
                    QUICKLIST_PACKED_THRESHOLD.store(v, Ordering::Relaxed);
                    Reply::ok()
                }
                _ => Reply::err_static(
                    "ERR argument must be a memory value bigger than 1 and smaller than 4gb",
                ),
            }
        }
        ("object", 3) => {
            let db = ctx.client.db;
            let now = ctx.now();
            let Some(e) = ctx.eng.dbs[db].dict.entry(&args[2]) else {
                return errors::no_such_key();
            };
            let (enc, ser, addr) = match e.val {
                Value::Str(s) => (s.encoding(), serialized_len(s), s as *const Str as usize),
                #[allow(unreachable_patterns)]
                other => (
                    other.encoding(),
                    crate::rdb::serialized_len(other, false),
                    other as *const Value as usize,
                ),
            };
            let idle = crate::evict::estimate_idle_ms(e.lru(), now) / 1000;
            Reply::Status(Bytes::from(format!(
                "Value at:0x{addr:x} refcount:1 encoding:{enc} serializedlength:{ser} lru:{} lru_seconds_idle:{idle}",
                e.lru() & 0xff_ffff
            )))
        }
        ("listpack", 3) | ("quicklist", 3) | ("quicklist", 4) => {
            let db = ctx.client.db;
            if ctx.eng.dbs[db].dict.entry(&args[2]).is_none() {
                return errors::no_such_key();
            }
            if sub == "listpack" {
                Reply::err_static("ERR Not a listpack encoded object.")
            } else {
                Reply::err_static("ERR Not a quicklist encoded object.")
            }
        }
        ("digest", 2) => Reply::Status(Bytes::from(dataset_digest(ctx.eng))),
        ("digest-value", _) => {
            let db = ctx.client.db;
            let mut out = Vec::new();
            for k in &args[2..] {
                let mut d = [0u8; 20];
                if let Some(e) = ctx.eng.dbs[db].dict.entry(k) {
                    object_digest(&mut d, e.val, e.expire() != 0);
                }
                out.push(Reply::Status(Bytes::from(hex(&d))));
            }
            Reply::Array(out)
        }
        ("protocol", 3) => debug_protocol(ctx, &args[2]),
        ("change-repl-id", 2) => {
            if let Ok(mut g) = REPL_ID.lock() {
                *g = random_hex40();
            }
            Reply::ok()
        }
        ("log", 3) => {
            crate::log::warning(&format!("DEBUG LOG: {}", String::from_utf8_lossy(&args[2])));
            Reply::ok()
        }
        ("error", 3) => Reply::Error(args[2].clone()),
        ("jmap", _) => Reply::ok(),
        ("stringmatch-len", 2) | ("stringmatch-test", 2) => {
            Reply::status("Apparently Redis did not crash: test passed")
        }
        ("reload", _) => crate::rdb::debug_reload(ctx.eng, &args[2..]),
        ("loadaof", _) => {
            Reply::err_static("ERR DEBUG LOADAOF is not supported: AOF is not implemented")
        }
        ("pause-cron", 3)
        | ("set-skip-checksum-validation", 3)
        | ("aof-flush-sleep", 3)
        | ("replybuffer", 4) => Reply::ok(),
        _ => Reply::err(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
            String::from_utf8_lossy(&args[1])
        )),
    }
}

fn debug_protocol(ctx: &mut Ctx<'_>, name: &[u8]) -> Reply {
    let n = String::from_utf8_lossy(name).to_lowercase();
    let resp3 = ctx.resp() >= 3;
    match n.as_str() {
        "string" => Reply::bulk(b"Hello World"),
        "integer" => Reply::Int(12345),
        #[allow(clippy::approx_constant)]
        "double" => Reply::Double(3.141),
        "bignum" => Reply::BigNumber(Bytes::from_static(b"1234567999999999999999999999999999999")),
        "null" => Reply::Null,
        "array" => Reply::Array((0..3).map(Reply::Int).collect()),
        "set" => Reply::Set((0..3).map(Reply::Int).collect()),
        "map" => Reply::Map((0..3).map(|j| (Reply::Int(j), Reply::Bool(j == 1))).collect()),
        "attrib" => {
            let tail = Reply::bulk(b"Some real reply following the attribute");
            if resp3 {
                let mut out = b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n".to_vec();
                lunakv_protocol::encode(&tail, 3, &mut out);
                Reply::Raw(Bytes::from(out))
            } else {
                tail
            }
        }
        "push" => {
            if !resp3 {
                return Reply::err_static("ERR RESP2 is not supported by this command");
            }
            let mut out = Vec::new();
            lunakv_protocol::encode(
                &Reply::Push(vec![Reply::bulk(b"server-cpu-usage"), Reply::Int(42)]),
                3,
                &mut out,
            );
            lunakv_protocol::encode(&Reply::bulk(b"Some real reply following the push reply"), 3, &mut out);
            Reply::Raw(Bytes::from(out))
        }
        "true" => Reply::Bool(true),
        "false" => Reply::Bool(false),
        "verbatim" => Reply::Verbatim(*b"txt", Bytes::from_static(b"This is a verbatim\nstring")),
        _ => Reply::err_static("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"),
    }
}

// ---------------------------------------------------------------- MEMORY

const MEMORY_HELP: &str = "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
DOCTOR
    Return memory problems reports.
MALLOC-STATS
    Return internal statistics report from the memory allocator.
PURGE
    Attempt to purge dirty pages for reclamation by the allocator.
STATS
    Return information about the memory usage of the server.
USAGE <key> [SAMPLES <count>]
    Return memory in bytes used by <key> and its value. Nested values are
    sampled up to <count> times (default: 5, 0 means sample all).
HELP
    Prints this help.";

fn memory_help(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    help_reply(MEMORY_HELP)
}

/// Rounds an allocation size up to jemalloc's size class, as Redis's
/// `zmalloc_size` reports it.
fn alloc_size(n: usize) -> usize {
    if n <= 8 {
        return 8;
    }
    if n <= 128 {
        return n.div_ceil(16) * 16;
    }
    let mut group = 128usize;
    while group * 2 < n {
        group *= 2;
    }
    let step = group / 4;
    n.div_ceil(step) * step
}

fn sds_size(len: usize) -> usize {
    let hdr = if len < 256 {
        3
    } else if len < 65536 {
        5
    } else {
        9
    };
    alloc_size(hdr + len + 1)
}

/// Estimated bytes used by a key and its value (MEMORY USAGE).
pub fn key_memory_usage(key: &[u8], val: &Value) -> usize {
    let robj = 16;
    let obj = match val {
        Value::Str(Str::Int(_)) => robj,
        Value::Str(Str::Emb(b)) => alloc_size(robj + 3 + b.len() + 1).max(32),
        Value::Str(Str::Raw(v)) => robj + alloc_size(3 + v.capacity().max(v.len()) + 1),
        #[allow(unreachable_patterns)]
        _ => robj + 64,
    };
    obj + sds_size(key.len()) + 24
}

fn memory_usage(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let mut i = 3;
    while i < args.len() {
        if eq_ic(&args[i], "samples") && i + 1 < args.len() {
            match lunakv_protocol::parse_i64(&args[i + 1]) {
                Some(n) if n >= 0 => {}
                Some(_) => return errors::out_of_range(),
                None => return errors::not_int(),
            }
            i += 2;
        } else {
            return errors::syntax();
        }
    }
    let db = ctx.client.db;
    let now = ctx.now();
    match ctx.eng.dbs[db].get(&args[2], now) {
        Some(e) => Reply::Int(key_memory_usage(&args[2], e.val) as i64),
        None => Reply::Null,
    }
}

fn memory_stats(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    let used = used_memory() as i64;
    let rss = rss_bytes() as i64;
    let keys: usize = ctx.eng.dbs.iter().map(|d| d.len()).sum();
    let b = |s: &'static str| Reply::Bulk(Bytes::from_static(s.as_bytes()));
    let mut m = vec![
        (
            b("peak.allocated"),
            Reply::Int((crate::evict::used_memory_peak() as i64).max(used)),
        ),
        (b("total.allocated"), Reply::Int(used)),
        (b("startup.allocated"), Reply::Int(0)),
        (b("replication.backlog"), Reply::Int(0)),
        (b("clients.slaves"), Reply::Int(0)),
        (b("clients.normal"), Reply::Int(0)),
        (b("cluster.links"), Reply::Int(0)),
        (b("aof.buffer"), Reply::Int(0)),
        (
            b("lua.caches"),
            Reply::Int(USED_MEMORY_SCRIPTS_EVAL.load(Ordering::Relaxed) as i64),
        ),
        (
            b("functions.caches"),
            Reply::Int(USED_MEMORY_FUNCTIONS.load(Ordering::Relaxed) as i64),
        ),
    ];
    for (i, db) in ctx.eng.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        m.push((
            Reply::bulk_str(format!("db.{i}")),
            Reply::Map(vec![
                (
                    b("overhead.hashtable.main"),
                    // Bucket pointers and the fixed part of every node
                    // (next, value, clock, meta byte; the key bytes are data).
                    Reply::Int(
                        (db.dict.buckets() * 8
                            + db.len() * crate::dict::Dict::<Value>::node_size(0))
                            as i64,
                    ),
                ),
                (
                    // The 8-byte expiry field of each key with a TTL.
                    b("overhead.hashtable.expires"),
                    Reply::Int((db.expires * 8) as i64),
                ),
                (b("overhead.hashtable.slot-to-keys"), Reply::Int(0)),
            ]),
        ));
    }
    let per_key = if keys > 0 { used / keys as i64 } else { 0 };
    let frag = if used > 0 {
        rss as f64 / used as f64
    } else {
        0.0
    };
    m.extend([
        (b("overhead.total"), Reply::Int(0)),
        (b("keys.count"), Reply::Int(keys as i64)),
        (b("keys.bytes-per-key"), Reply::Int(per_key)),
        (b("dataset.bytes"), Reply::Int(used)),
        (b("dataset.percentage"), Reply::Double(100.0)),
        (b("peak.percentage"), Reply::Double(100.0)),
        (b("allocator.allocated"), Reply::Int(used)),
        (b("allocator.active"), Reply::Int(used)),
        (b("allocator.resident"), Reply::Int(rss)),
        (b("allocator-fragmentation.ratio"), Reply::Double(1.0)),
        (b("allocator-fragmentation.bytes"), Reply::Int(0)),
        (b("allocator-rss.ratio"), Reply::Double(1.0)),
        (b("allocator-rss.bytes"), Reply::Int(0)),
        (b("rss-overhead.ratio"), Reply::Double(1.0)),
        (b("rss-overhead.bytes"), Reply::Int(0)),
        (b("fragmentation"), Reply::Double(frag)),
        (b("fragmentation.bytes"), Reply::Int(rss - used)),
    ]);
    Reply::Map(m)
}

fn memory_doctor(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    let text = "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.";
    Reply::Verbatim(*b"txt", Bytes::from_static(text.as_bytes()))
}

fn memory_malloc_stats(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    Reply::Verbatim(
        *b"txt",
        Bytes::from_static(b"Stats not supported for the current allocator"),
    )
}

fn memory_purge(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    // The server allocates with jemalloc (glibc's malloc_trim would not
    // reach its pages).
    crate::evict::purge_allocator();
    Reply::ok()
}

// ---------------------------------------------------------------- LATENCY

const LATENCY_HELP: &str = "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
DOCTOR
    Return a human readable latency analysis report.
GRAPH <event>
    Return an ASCII latency graph for the <event> class.
HISTORY <event>
    Return time-latency samples for the <event> class.
LATEST
    Return the latest latency samples for all events.
RESET [<event> ...]
    Reset latency data of one or more <event> classes.
    (default: reset all data for all event classes)
HISTOGRAM [COMMAND ...]
    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.
    If no commands are specified then all histograms are replied.
HELP
    Prints this help.";

fn latency_help(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    help_reply(LATENCY_HELP)
}

fn latency_doctor(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    let text = "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n";
    Reply::Verbatim(*b"txt", Bytes::from_static(text.as_bytes()))
}

fn latency_graph(_ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let ev = String::from_utf8_lossy(&args[2]).into_owned();
    let has = lock_latency().iter().any(|(n, _)| *n == ev);
    if !has {
        return Reply::err(format!("ERR No samples available for event '{ev}'"));
    }
    Reply::Verbatim(
        *b"txt",
        Bytes::from(format!("{ev} - latency graph is not available in lunakv\n")),
    )
}

/// One latency event's samples (Redis's `latencyTimeSeries`).
#[derive(Debug, Default, Clone)]
pub struct LatencySeries {
    /// (Unix seconds, latency ms), oldest first, at most 160.
    pub samples: std::collections::VecDeque<(u64, u64)>,
    pub max: u64,
}

static LATENCY: Mutex<Vec<(String, LatencySeries)>> = Mutex::new(Vec::new());

fn lock_latency() -> std::sync::MutexGuard<'static, Vec<(String, LatencySeries)>> {
    match LATENCY.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// Records a latency sample of `ms` milliseconds for `event` if it reaches
/// `latency-monitor-threshold` (Redis's `latencyAddSampleIfNeeded`). The
/// dispatcher calls this with `command` / `fast-command`, the expiry cycle
/// with `expire-cycle`.
pub fn latency_add_sample_if_needed(eng: &Engine, event: &str, ms: u64) {
    let th = eng.config.get_i64("latency-monitor-threshold");
    if th <= 0 || (ms as i64) < th {
        return;
    }
    let now = crate::unix_ms() / 1000;
    let mut g = lock_latency();
    let idx = match g.iter().position(|(n, _)| n == event) {
        Some(i) => i,
        None => {
            g.push((event.to_string(), LatencySeries::default()));
            g.len() - 1
        }
    };
    let ts = &mut g[idx].1;
    ts.max = ts.max.max(ms);
    match ts.samples.back_mut() {
        Some(last) if last.0 == now => last.1 = last.1.max(ms),
        _ => {
            ts.samples.push_back((now, ms));
            if ts.samples.len() > 160 {
                ts.samples.pop_front();
            }
        }
    }
}

fn latency_history(_ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let ev = String::from_utf8_lossy(&args[2]).into_owned();
    let g = lock_latency();
    let Some((_, ts)) = g.iter().find(|(n, _)| *n == ev) else {
        return Reply::Array(Vec::new());
    };
    Reply::Array(
        ts.samples
            .iter()
            .map(|(t, l)| Reply::Array(vec![Reply::Int(*t as i64), Reply::Int(*l as i64)]))
            .collect(),
    )
}

fn latency_latest(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    let g = lock_latency();
    Reply::Array(
        g.iter()
            .filter_map(|(n, ts)| {
                let (t, l) = *ts.samples.back()?;
                Some(Reply::Array(vec![
                    Reply::bulk_str(n.clone()),
                    Reply::Int(t as i64),
                    Reply::Int(l as i64),
                    Reply::Int(ts.max as i64),
                ]))
            })
            .collect(),
    )
}

fn latency_reset(_ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let mut g = lock_latency();
    if args.len() == 2 {
        let n = g.len();
        g.clear();
        return Reply::Int(n as i64);
    }
    let mut n = 0;
    for a in &args[2..] {
        let ev = String::from_utf8_lossy(a);
        if let Some(i) = g.iter().position(|(name, _)| *name == ev) {
            g.remove(i);
            n += 1;
        }
    }
    Reply::Int(n)
}

/// LATENCY HISTOGRAM from the per-command statistics: one bucket at the
/// power of two above the mean call time (lunakv keeps no per-call
/// distribution yet).
fn latency_histogram(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let eng = &*ctx.eng;
    let table = eng.table;
    let mut ids: Vec<usize> = Vec::new();
    let add = |c: &Cmd, ids: &mut Vec<usize>| {
        if c.has_subs() {
            ids.extend(c.subs.iter().map(|s| s.id));
        } else {
            ids.push(c.id);
        }
    };
    if args.len() == 2 {
        for c in table.iter() {
            add(c, &mut ids);
        }
    } else {
        for a in &args[2..] {
            let s = String::from_utf8_lossy(a).to_ascii_lowercase();
            let mut parts = s.splitn(2, '|');
            let Some(top) = parts.next().and_then(|t| table.get(t.as_bytes())) else {
                continue;
            };
            match parts.next() {
                Some(sub) => {
                    if let Some(sc) = top.find_sub(sub.as_bytes()) {
                        ids.push(sc.id);
                    }
                }
                None => add(top, &mut ids),
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for id in ids {
        let Some(st) = eng.cmdstats.get(id) else {
            continue;
        };
        if st.calls == 0 || !seen.insert(id) {
            continue;
        }
        let name = table.names.get(id).cloned().unwrap_or_default();
        let avg = (st.usec / st.calls).max(1);
        let bucket = avg.next_power_of_two();
        out.push((
            Reply::bulk_str(name),
            Reply::Map(vec![
                (Reply::bulk(b"calls"), Reply::Int(st.calls as i64)),
                (
                    Reply::bulk(b"histogram_usec"),
                    Reply::Map(vec![(
                        Reply::Int(bucket as i64),
                        Reply::Int(st.calls as i64),
                    )]),
                ),
            ]),
        ));
    }
    Reply::Map(out)
}

// ---------------------------------------------------------------- SLOWLOG

const SLOWLOG_HELP: &str = "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
GET [<count>]
    Return top <count> entries from the slowlog (default: 10, -1 mean all).
    Entries are made of:
    id, timestamp, time in microseconds, arguments array, client IP and port,
    client name
LEN
    Return the length of the slowlog.
RESET
    Reset the slowlog.
HELP
    Prints this help.";

fn slowlog_help(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    help_reply(SLOWLOG_HELP)
}

/// One slow log entry.
#[derive(Debug, Clone)]
pub struct SlowLogEntry {
    pub id: u64,
    pub time: u64,
    pub duration_us: u64,
    pub args: Vec<Bytes>,
    pub addr: String,
    pub name: Bytes,
}

/// The slow log: newest entry first.
#[derive(Debug, Default)]
pub struct SlowLog {
    pub entries: std::collections::VecDeque<SlowLogEntry>,
    pub next_id: u64,
}

static SLOWLOG: Mutex<SlowLog> = Mutex::new(SlowLog {
    entries: std::collections::VecDeque::new(),
    next_id: 0,
});

fn lock_slowlog() -> std::sync::MutexGuard<'static, SlowLog> {
    match SLOWLOG.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// Adds a command to the slow log if it ran at least
/// `slowlog-log-slower-than` microseconds (Redis's
/// `slowlogPushEntryIfNeeded`): at most 32 arguments, each cut to 128
/// bytes, as Redis stores them. The dispatcher calls this after each
/// command that is not flagged `skip_slowlog`.
/// True if argument `i` of a command holds a secret that SLOWLOG shows as
/// `(redacted)`, as Redis's `redactClientCommandArgument` callers: AUTH,
/// HELLO AUTH, MIGRATE AUTH/AUTH2, ACL SETUSER rules, CONFIG SET of
/// `masterauth` / `masteruser` / `requirepass`.
fn slowlog_redacted(args: &[Bytes], i: usize) -> bool {
    let Some(name) = args.first() else {
        return false;
    };
    let is = |w: &str| name.eq_ignore_ascii_case(w.as_bytes());
    let sub = |w: &str| {
        args.get(1)
            .is_some_and(|a| a.eq_ignore_ascii_case(w.as_bytes()))
    };
    if is("auth") {
        return i >= 1;
    }
    if is("hello") {
        return args
            .iter()
            .enumerate()
            .skip(2)
            .any(|(j, a)| a.eq_ignore_ascii_case(b"auth") && (i == j + 1 || i == j + 2));
    }
    if is("migrate") {
        return args.iter().enumerate().skip(6).any(|(j, a)| {
            (a.eq_ignore_ascii_case(b"auth") && i == j + 1)
                || (a.eq_ignore_ascii_case(b"auth2") && (i == j + 1 || i == j + 2))
        });
    }
    if is("acl") && sub("setuser") {
        return i >= 2;
    }
    if is("config") && sub("set") && i >= 3 && (i - 2) % 2 == 1 {
        return args.get(i - 1).is_some_and(|n| {
            ["masterauth", "masteruser", "requirepass"]
                .iter()
                .any(|s| n.eq_ignore_ascii_case(s.as_bytes()))
        });
    }
    false
}

pub fn slowlog_push_if_needed(
    eng: &Engine,
    c: &crate::client::Client,
    args: &[Bytes],
    duration_us: u64,
) {
    let th = eng.config.get_i64("slowlog-log-slower-than");
    if th < 0 || (duration_us as i64) < th {
        return;
    }
    let max_len = eng.config.get_i64("slowlog-max-len").max(0) as usize;
    let mut kept = Vec::new();
    let n = args.len().min(32);
    for (j, a) in args.iter().take(n).enumerate() {
        if slowlog_redacted(args, j) {
            kept.push(Bytes::from_static(b"(redacted)"));
        } else if j == n - 1 && n != args.len() {
            kept.push(Bytes::from(format!(
                "... ({} more arguments)",
                args.len() - n + 1
            )));
        } else if a.len() > 128 {
            let mut v = a[..128].to_vec();
            v.extend_from_slice(format!("... ({} more bytes)", a.len() - 128).as_bytes());
            kept.push(Bytes::from(v));
        } else {
            // A copy: a clone would keep the whole network read buffer
            // the argument was parsed from alive (megabytes per entry
            // after a pipelined load).
            kept.push(Bytes::copy_from_slice(a));
        }
    }
    let mut g = lock_slowlog();
    let id = g.next_id;
    g.next_id += 1;
    g.entries.push_front(SlowLogEntry {
        id,
        time: crate::unix_ms() / 1000,
        duration_us,
        args: kept,
        addr: c.addr.clone(),
        name: c.name.clone().unwrap_or_default(),
    });
    g.entries.truncate(max_len);
}

fn slowlog_get(_ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if args.len() > 3 {
        return errors::wrong_args("slowlog|get");
    }
    let mut count = 10usize;
    if let Some(a) = args.get(2) {
        match lunakv_protocol::parse_i64(a) {
            Some(-1) => count = usize::MAX,
            Some(n) if n >= 0 => count = n as usize,
            _ => return Reply::err_static("ERR count should be greater than or equal to -1"),
        }
    }
    let g = lock_slowlog();
    Reply::Array(
        g.entries
            .iter()
            .take(count)
            .map(|e| {
                Reply::Array(vec![
                    Reply::Int(e.id as i64),
                    Reply::Int(e.time as i64),
                    Reply::Int(e.duration_us as i64),
                    Reply::Array(e.args.iter().map(|a| Reply::Bulk(a.clone())).collect()),
                    Reply::bulk_str(e.addr.clone()),
                    Reply::Bulk(e.name.clone()),
                ])
            })
            .collect(),
    )
}

fn slowlog_len(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    Reply::Int(lock_slowlog().entries.len() as i64)
}

fn slowlog_reset(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    lock_slowlog().entries.clear();
    Reply::ok()
}

fn cluster_disabled(_ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    Reply::err_static("ERR This instance has cluster support disabled")
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use crate::testkit::TestEngine;

    #[test]
    fn info_sections() {
        let mut t = TestEngine::new();
        t.raw(&["SET", "k", "v"]);
        let s = t.raw(&["INFO"]);
        assert!(s.starts_with('$'));
        assert!(s.contains("redis_version:7.0.15\r\n"));
        assert!(s.contains("lunakv_version:"));
        assert!(s.contains("# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n"));
        assert!(s.contains("used_cpu_user:"));
        assert!(!s.contains("cmdstat_"));
        let s = t.raw(&["INFO", "commandSTATS"]);
        assert!(s.contains("cmdstat_set:calls=1,usec="));
        assert!(s.contains(",rejected_calls=0,failed_calls=0"));
        assert!(!s.contains("used_memory"));
        let s = t.raw(&["INFO", "cpu", "all"]);
        assert_eq!(s.matches("used_cpu_user_children").count(), 1);
        assert!(s.contains("master_repl_offset"));
        t.raw(&["GET"]);
        let s = t.raw(&["INFO", "errorstats"]);
        assert!(s.contains("errorstat_ERR:count=1"));
        t.client.resp = 3;
        assert!(t.raw(&["INFO", "server"]).starts_with('='));
    }

    #[test]
    fn config_get_set() {
        let mut t = TestEngine::new();
        assert_eq!(
            t.raw(&["CONFIG", "GET", "maxmemory"]),
            "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"
        );
        assert_eq!(
            t.raw(&["CONFIG", "SET", "maxmemory", "1mb", "hz", "20"]),
            "+OK\r\n"
        );
        assert_eq!(
            t.raw(&["CONFIG", "GET", "maxmemory"]),
            "*2\r\n$9\r\nmaxmemory\r\n$7\r\n1048576\r\n"
        );
        assert_eq!(
            t.raw(&["CONFIG", "SET", "hz", "abc"]),
            "-ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer\r\n"
        );
        assert_eq!(
            t.raw(&["CONFIG", "SET", "nope", "1"]),
            "-ERR Unknown option or number of arguments for CONFIG SET - 'nope'\r\n"
        );
        assert_eq!(
            t.raw(&["CONFIG", "SET", "daemonize", "yes"]),
            "-ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config\r\n"
        );
        assert_eq!(
            t.raw(&["CONFIG", "SET", "dir", "x"]),
            "-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config\r\n"
        );
        assert!(t
            .raw(&["CONFIG", "SET", "maxmemory", "1", "maxmemory", "2"])
            .contains("duplicate parameter"));
        // Rollback: hz stays 20 when a later pair fails.
        assert!(t.raw(&["CONFIG", "SET", "hz", "30", "maxmemory-clients", "200%"]).contains(
            "(possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100"
        ));
        assert_eq!(
            t.raw(&["CONFIG", "GET", "hz"]),
            "*2\r\n$2\r\nhz\r\n$2\r\n20\r\n"
        );
        assert_eq!(
            t.raw(&["CONFIG", "SET", "hz"]),
            "-ERR wrong number of arguments for 'config|set' command\r\n"
        );
        assert_eq!(
            t.raw(&["CONFIG", "SET", "hz", "1", "x"]),
            "-ERR syntax error\r\n"
        );
        // Patterns, aliases, hidden parameters.
        let r = t.raw(&["CONFIG", "GET", "*of", "maxmemory*"]);
        assert!(
            r.contains("replicaof") && r.contains("slaveof") && r.contains("maxmemory-samples")
        );
        assert!(!t.raw(&["CONFIG", "GET", "*"]).contains("key-load-delay"));
        assert!(t
            .raw(&["CONFIG", "GET", "key-load-delay"])
            .contains("key-load-delay"));
        t.client.resp = 3;
        assert!(t.raw(&["CONFIG", "GET", "hz"]).starts_with("%1\r\n"));
        assert_eq!(
            t.raw(&["CONFIG", "REWRITE"]),
            "-ERR The server is running without a config file\r\n"
        );
    }

    #[test]
    fn config_sanity_roundtrip() {
        // Every value CONFIG GET prints can be set back (Redis's "CONFIG sanity").
        let mut t = TestEngine::new();
        let all: Vec<(String, String)> = crate::config::PARAMS
            .iter()
            .filter(|p| !p.is(crate::config::IMMUTABLE | crate::config::PROTECTED))
            .map(|p| {
                (
                    p.name.to_string(),
                    t.eng.config.get(p.name).unwrap_or("").to_string(),
                )
            })
            .collect();
        for (k, v) in all {
            assert_eq!(t.raw(&["CONFIG", "SET", &k, &v]), "+OK\r\n", "{k}={v}");
            assert_eq!(t.eng.config.get(&k), Some(v.as_str()), "{k}");
        }
    }

    #[test]
    fn resetstat_time_lastsave_role() {
        let mut t = TestEngine::new();
        t.raw(&["SET", "a", "1"]);
        t.raw(&["GET"]);
        assert_eq!(t.raw(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
        let s = t.raw(&["INFO", "commandstats", "errorstats"]);
        assert!(!s.contains("cmdstat_set"));
        assert!(!s.contains("errorstat_ERR"));
        assert!(t.raw(&["TIME"]).starts_with("*2\r\n$10\r\n"));
        assert!(t.raw(&["LASTSAVE"]).starts_with(':'));
        assert_eq!(t.raw(&["ROLE"]), "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");
        assert_eq!(t.raw(&["FUNCTION", "FLUSH"]), "+OK\r\n");
        assert_eq!(t.raw(&["FUNCTION", "FLUSH", "async"]), "+OK\r\n");
        assert_eq!(
            t.raw(&["FUNCTION", "FLUSH", "x"]),
            "-ERR FUNCTION FLUSH only supports SYNC|ASYNC option\r\n"
        );
        assert!(t
            .raw(&["CONFIG", "HELP"])
            .starts_with("*11\r\n+CONFIG <subcommand>"));
    }

    #[test]
    fn debug_commands() {
        let mut t = TestEngine::new();
        assert!(t
            .raw(&["DEBUG", "DIGEST"])
            .starts_with("-ERR DEBUG command not allowed."));
        t.eng.config.set("enable-debug-command", "yes").unwrap();
        assert_eq!(
            t.raw(&["DEBUG", "DIGEST"]),
            "+0000000000000000000000000000000000000000\r\n"
        );
        t.raw(&["SET", "a", "b"]);
        // Redis 7.0.15 gives these exact digests for {a: "b"}.
        assert_eq!(
            t.raw(&["DEBUG", "DIGEST"]),
            "+479783d7290f02957dfbe3408a858ba13eea1709\r\n"
        );
        assert_eq!(
            t.raw(&["DEBUG", "DIGEST-VALUE", "a", "zz"]),
            "*2\r\n+b78559cd22bce6e6df712eb99ce7f3b08e8f8f1f\r\n+0000000000000000000000000000000000000000\r\n"
        );
        let o = t.raw(&["DEBUG", "OBJECT", "a"]);
        assert!(
            o.starts_with("+Value at:0x")
                && o.contains(" refcount:1 encoding:embstr serializedlength:2 lru:")
        );
        assert_eq!(t.raw(&["DEBUG", "OBJECT", "nokey"]), "-ERR no such key\r\n");
        assert_eq!(t.raw(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), "+OK\r\n");
        assert!(!t.eng.active_expire);
        assert_eq!(
            t.raw(&["DEBUG", "PROTOCOL", "map"]),
            "*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n"
        );
        assert_eq!(
            t.raw(&["DEBUG", "PROTOCOL", "attrib"]),
            "$39\r\nSome real reply following the attribute\r\n"
        );
        t.client.resp = 3;
        assert_eq!(
            t.raw(&["DEBUG", "PROTOCOL", "bignum"]),
            "(1234567999999999999999999999999999999\r\n"
        );
        assert!(t
            .raw(&["DEBUG", "PROTOCOL", "attrib"])
            .starts_with("|1\r\n$14\r\nkey-popularity\r\n"));
        assert!(t
            .raw(&["DEBUG", "PROTOCOL", "nope"])
            .starts_with("-ERR Wrong protocol type name."));
        assert_eq!(t.raw(&["DEBUG", "SLEEP", "0"]), "+OK\r\n");
        assert_eq!(
            t.raw(&["DEBUG", "RELOAD", "BOGUS"]),
            "-ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.\r\n"
        );
        assert_eq!(
            t.raw(&["DEBUG", "LISTPACK", "a"]),
            "-ERR Not a listpack encoded object.\r\n"
        );
        assert!(t
            .raw(&["DEBUG", "nosuch"])
            .starts_with("-ERR unknown subcommand or wrong number of arguments for 'nosuch'"));
    }

    #[test]
    fn memory_latency_slowlog() {
        let mut t = TestEngine::new();
        t.raw(&["SET", "n", "123"]);
        t.raw(&["SET", "a", "b"]);
        assert_eq!(t.raw(&["MEMORY", "USAGE", "n"]), ":48\r\n");
        assert!(t.raw(&["MEMORY", "USAGE", "a"]).starts_with(':'));
        assert_eq!(t.raw(&["MEMORY", "USAGE", "zz"]), "$-1\r\n");
        assert_eq!(
            t.raw(&["MEMORY", "USAGE", "a", "SAMPLES", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            t.raw(&["MEMORY", "USAGE", "a", "FOO"]),
            "-ERR syntax error\r\n"
        );
        assert!(t.raw(&["MEMORY", "STATS"]).contains("keys.count"));
        // Latency events (the only test that records any).
        t.raw(&["LATENCY", "RESET"]);
        assert_eq!(t.raw(&["LATENCY", "LATEST"]), "*0\r\n");
        t.eng.config.set("enable-debug-command", "yes").unwrap();
        t.raw(&["CONFIG", "SET", "latency-monitor-threshold", "5"]);
        t.raw(&["DEBUG", "SLEEP", "0.01"]);
        let l = t.raw(&["LATENCY", "LATEST"]);
        assert!(l.starts_with("*1\r\n*4\r\n$7\r\ncommand\r\n"), "{l}");
        assert!(t
            .raw(&["LATENCY", "HISTORY", "command"])
            .starts_with("*1\r\n*2\r\n"));
        assert_eq!(t.raw(&["LATENCY", "HISTORY", "blabla"]), "*0\r\n");
        assert_eq!(t.raw(&["LATENCY", "RESET", "blabla"]), ":0\r\n");
        assert_eq!(t.raw(&["LATENCY", "RESET"]), ":1\r\n");
        // Histogram from the command statistics.
        t.raw(&["CONFIG", "RESETSTAT"]);
        t.raw(&["SET", "a", "b"]);
        t.raw(&["SET", "a", "c"]);
        let h = t.raw(&["LATENCY", "HISTOGRAM", "set", "blabla"]);
        assert!(
            h.starts_with(
                "*2\r\n$3\r\nset\r\n*4\r\n$5\r\ncalls\r\n:2\r\n$14\r\nhistogram_usec\r\n"
            ),
            "{h}"
        );
        assert!(t
            .raw(&["LATENCY", "HISTOGRAM", "config"])
            .contains("config|resetstat"));
        // Slow log (the only test that records any).
        assert_eq!(t.raw(&["SLOWLOG", "RESET"]), "+OK\r\n");
        assert_eq!(t.raw(&["SLOWLOG", "GET"]), "*0\r\n");
        t.raw(&[
            "CONFIG",
            "SET",
            "slowlog-log-slower-than",
            "0",
            "slowlog-max-len",
            "2",
        ]);
        let args: Vec<Bytes> = (0..40).map(|i| Bytes::from(format!("a{i}"))).collect();
        for _ in 0..3 {
            super::slowlog_push_if_needed(&t.eng, &t.client, &args, 7);
        }
        assert_eq!(t.raw(&["SLOWLOG", "LEN"]), ":2\r\n");
        // Commands are logged too now (threshold 0): the newest entry is
        // SLOWLOG LEN's; the pushed entries carry the long argument list.
        let g = t.raw(&["SLOWLOG", "GET", "2"]);
        assert!(g.starts_with("*2\r\n*6\r\n:"), "{g}");
        assert!(g.contains("SLOWLOG") && g.contains("LEN"), "{g}");
        assert_eq!(
            t.raw(&["SLOWLOG", "GET", "-2"]),
            "-ERR count should be greater than or equal to -1\r\n"
        );
    }
}
