//! `lunakv-server`: reads the configuration the way redis-server does,
//! starts the engine thread and the network tasks, and runs until SHUTDOWN
//! or a signal.

#![deny(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use lunakv_engine::config::Config;
use lunakv_engine::{log, Engine, Shared, LUNAKV_VERSION, REDIS_VERSION};

/// jemalloc (as Redis) with a running count of the bytes in use, which
/// is INFO's `used_memory` and what `maxmemory` is compared with.
#[global_allocator]
static ALLOC: lunakv_engine::evict::CountingAlloc = lunakv_engine::evict::CountingAlloc;

fn usage() {
    eprintln!(
        "Usage: lunakv-server [/path/to/redis.conf] [--option value ...]\n\
         \x20      lunakv-server -v | --version\n\
         \x20      lunakv-server -h | --help\n\n\
         Examples:\n\
         \x20      lunakv-server                      (127.0.0.1:6379, data in ./data)\n\
         \x20      lunakv-server --port 7777 --dir /tmp/lunakv\n\
         \x20      lunakv-server /etc/redis/6379.conf --loglevel verbose"
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(a) = args.first() {
        match a.as_str() {
            "-v" | "--version" => {
                println!("lunakv v={LUNAKV_VERSION} redis_compat={REDIS_VERSION}");
                return;
            }
            "-h" | "--help" => {
                usage();
                return;
            }
            _ => {}
        }
    }
    let config = match Config::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("\n*** FATAL CONFIG ERROR (lunakv {LUNAKV_VERSION}) ***\n{e}");
            std::process::exit(1);
        }
    };
    std::process::exit(run(config));
}

fn run(config: Config) -> i32 {
    let logfile = config.get("logfile").unwrap_or("").to_string();
    if !logfile.is_empty() {
        if let Err(e) = log::set_file(&logfile) {
            eprintln!("Can't open the log file {logfile}: {e}");
            return 1;
        }
    }
    log::set_level(config.get("loglevel").unwrap_or("notice"));
    let dir = config.get("dir").unwrap_or("./data").to_string();
    if let Err(e) = std::fs::create_dir_all(&dir).and_then(|_| std::env::set_current_dir(&dir)) {
        log::warning(&format!("Can't chdir to '{dir}': {e}"));
        return 1;
    }
    let port = config.get_i64("port") as u16;
    let binds: Vec<String> = config
        .get("bind")
        .unwrap_or("127.0.0.1")
        .split_whitespace()
        .map(|s| s.trim_start_matches('-').to_string())
        .collect();
    log::notice(&format!(
        "lunakv version={LUNAKV_VERSION} (Redis {REDIS_VERSION} compatible), port={port}, pid={}, config file={}",
        std::process::id(),
        config.config_file.as_deref().unwrap_or("none")
    ));

    let shared = Arc::new(Shared::new(&config));
    if config.get_i64("io-threads") > 1 {
        log::notice(
            "io-threads is ignored: the engine thread serves the sockets itself (no hop between threads)",
        );
    }
    let net = match lunakv_engine::net::Net::bind(&binds, port) {
        Ok(n) => n,
        Err(e) => {
            log::warning(&e);
            return 1;
        }
    };
    let waker = net.waker();
    let (tx, rx) = crossbeam_channel::unbounded();
    // The engine (and its Lua VM, which must never cross threads) is built
    // on the thread that runs it; that thread also serves the sockets.
    let shared_for_engine = shared.clone();
    // The engine thread reports whether the dataset loaded; connections are
    // accepted (and "Ready" logged) only after that.
    let (loaded_tx, loaded_rx) = std::sync::mpsc::channel::<bool>();
    let engine_thread = match std::thread::Builder::new()
        .name("lunakv-engine".into())
        .stack_size(64 * 1024 * 1024)
        .spawn(move || {
            let mut engine = Engine::new(config, shared_for_engine);
            if lunakv_engine::rdb::load_at_startup(&mut engine).is_err() {
                let _ = loaded_tx.send(false);
                return 1;
            }
            let _ = loaded_tx.send(true);
            engine.run(rx, net)
        }) {
        Ok(t) => t,
        Err(e) => {
            log::warning(&format!("Can't start the engine thread: {e}"));
            return 1;
        }
    };
    if loaded_rx.recv() != Ok(true) {
        return engine_thread.join().unwrap_or(1).max(1);
    }
    signals(tx, waker);
    log::notice("Ready to accept connections tcp");
    let code = engine_thread.join().unwrap_or(1);
    shared
        .shutdown
        .store(true, std::sync::atomic::Ordering::SeqCst);
    code
}

/// Waits for SIGTERM / SIGINT on a thread of its own and asks the engine
/// to shut down. If the engine does not stop (a script that never ends), a
/// second signal or ten seconds end the process anyway.
fn signals(tx: crossbeam_channel::Sender<lunakv_engine::client::Msg>, waker: Arc<mio::Waker>) {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut sigs = match signal_hook::iterator::Signals::new([SIGTERM, SIGINT]) {
        Ok(s) => s,
        Err(e) => {
            log::warning(&format!("Can't install signal handlers: {e}"));
            return;
        }
    };
    let spawned = std::thread::Builder::new()
        .name("lunakv-signals".into())
        .spawn(move || {
            let Some(sig) = sigs.forever().next() else {
                return;
            };
            let which = if sig == SIGTERM { "SIGTERM" } else { "SIGINT" };
            log::warning(&format!("Received {which} scheduling shutdown..."));
            let _ = tx.send(lunakv_engine::client::Msg::Call(Box::new(|e| {
                lunakv_engine::cmd::server::shutdown_now(e, false);
            })));
            let _ = waker.wake();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while std::time::Instant::now() < deadline {
                if sigs.pending().next().is_some() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            log::warning("The engine did not stop (busy script?): exiting now.");
            std::process::exit(1);
        });
    if let Err(e) = spawned {
        log::warning(&format!("Can't start the signal thread: {e}"));
    }
}
