//! `maxmemory`: memory accounting, the per-key LRU clock and LFU counter,
//! and key eviction, following Redis 7.0's `evict.c`.
//!
//! * [`CountingAlloc`] is a `#[global_allocator]` wrapper around jemalloc
//!   (the allocator Redis ships with) that keeps a running total of the
//!   heap bytes its blocks take (as Redis's `zmalloc` counts the
//!   allocator's sizes), so that `used_memory` is one relaxed atomic load
//!   instead of a walk over the allocator's arenas.
//! * Each key's [`Entry::lru`](crate::value::Entry) holds 24 bits, as
//!   Redis's `robj.lru`: the LRU clock in seconds, or with an LFU policy the
//!   last decrement time in minutes (16 bits) and a logarithmic access
//!   counter (8 bits).
//! * [`perform_evictions`] is Redis's `performEvictions`: while used memory
//!   exceeds `maxmemory`, it deletes keys chosen by `maxmemory-policy` from
//!   samples of `maxmemory-samples` keys through a 16-entry eviction pool.
//!   The dispatcher calls it before every client command and refuses
//!   `denyoom` commands with `-OOM` when memory cannot be freed.
//!
//! `maxmemory-clients` (client eviction) is accepted by CONFIG but not
//! enforced.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use bytes::Bytes;
use lunakv_protocol::Reply;
use tikv_jemallocator::Jemalloc;

use crate::client::Client;
use crate::command::{flags, Cmd};
use crate::ctx::notify;
use crate::dict::Key;
use crate::value::{Entry, Value};
use crate::Engine;

// ---------------------------------------------------------------------------
// Memory accounting

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// A global allocator that counts the bytes in use: jemalloc underneath,
/// whose size classes keep small blocks tight and long-lived keys apart
/// from short-lived buffers (less RSS slack than glibc's malloc for the
/// same data). Install it in the server binary with `#[global_allocator]`;
/// without it (unit tests) [`used_memory`] falls back to the C
/// allocator's statistics.
pub struct CountingAlloc;

/// INFO's `mem_allocator` when [`CountingAlloc`] is installed.
pub const ALLOCATOR_NAME: &str = "jemalloc-5.3.0";

/// Heap bytes a block of `layout` takes: jemalloc's size class for the
/// request (Redis counts the allocator's usable size the same way). It is
/// computed from the size alone, without asking the allocator, so counting
/// costs a few ns per allocation; alloc and free use the same formula, so
/// the total cannot drift.
#[inline]
fn block_size(layout: Layout) -> usize {
    let mut n = layout.size();
    let align = layout.align();
    if align > 16 {
        // Over-aligned requests come from classes that are multiples of
        // the alignment (jemalloc's sa2u); close enough for accounting.
        n = n.saturating_add(align - 1) & !(align - 1);
    }
    size_class(n)
}

/// jemalloc's size class for `n` bytes (16-byte quantum, four classes per
/// doubling from 128 up: 8, 16, 32, 48, ..., 128, 160, 192, 224, 256,
/// 320, ...).
#[inline]
fn size_class(n: usize) -> usize {
    if n <= 8 {
        8
    } else if n <= 128 {
        (n + 15) & !15
    } else {
        // The class spacing is a quarter of the power of two below n.
        let lg = usize::BITS - 1 - (n - 1).leading_zeros();
        let delta = 1usize << (lg - 2);
        n.saturating_add(delta - 1) & !(delta - 1)
    }
}

#[inline]
fn count_alloc(n: usize) {
    let now = ALLOCATED.fetch_add(n, Ordering::Relaxed) + n;
    if now > PEAK.load(Ordering::Relaxed) {
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
}

/// Returns jemalloc's dirty pages (freed but still resident) of every arena
/// to the system (`arena.<MALLCTL_ARENAS_ALL>.purge`, as Redis's MEMORY
/// PURGE): without a background purging thread, freed pages otherwise stay
/// in the process's RSS until later allocator activity decays them.
pub fn purge_allocator() {
    // MALLCTL_ARENAS_ALL is 4096 in jemalloc 5.
    const NAME: &[u8] = b"arena.4096.purge\0";
    // SAFETY: a jemalloc control that reads and writes no argument (all
    // pointers null, length 0) and only returns unused pages to the OS;
    // the name is NUL-terminated.
    unsafe {
        tikv_jemalloc_sys::mallctl(
            NAME.as_ptr() as *const libc::c_char,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        );
    }
}

#[inline]
fn count_free(n: usize) {
    ALLOCATED.fetch_sub(n, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to jemalloc unchanged; only counters are
// updated around it.
unsafe impl GlobalAlloc for CountingAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = Jemalloc.alloc(layout);
        if !p.is_null() {
            count_alloc(block_size(layout));
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = Jemalloc.alloc_zeroed(layout);
        if !p.is_null() {
            count_alloc(block_size(layout));
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        count_free(block_size(layout));
        Jemalloc.dealloc(p, layout)
    }

    #[inline]
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let np = Jemalloc.realloc(p, layout, new_size);
        if !np.is_null() {
            count_free(block_size(layout));
            count_alloc(block_size(Layout::from_size_align_unchecked(
                new_size,
                layout.align(),
            )));
        }
        np
    }
}

/// True when [`CountingAlloc`] is the process's allocator.
pub fn counting() -> bool {
    ALLOCATED.load(Ordering::Relaxed) != 0
}

/// Bytes handed out by the allocator: the running count with
/// [`CountingAlloc`], else the C allocator's own statistics (glibc's
/// `mallinfo2`, which walks the arenas: slower, for INFO only).
pub fn allocator_allocated() -> u64 {
    if counting() {
        return ALLOCATED.load(Ordering::Relaxed) as u64;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 only reads the allocator's statistics.
        let mi = unsafe { libc::mallinfo2() };
        let n = (mi.uordblks + mi.hblkhd) as u64;
        if n > 0 {
            return n;
        }
    }
    crate::cmd::server::rss_bytes()
}

/// Redis's `used_memory`: bytes allocated by the process.
pub fn used_memory() -> u64 {
    let n = ALLOCATED.load(Ordering::Relaxed);
    if n != 0 {
        return n as u64;
    }
    allocator_allocated()
}

/// The highest `used_memory` seen (INFO `used_memory_peak`).
pub fn used_memory_peak() -> u64 {
    if counting() {
        PEAK.load(Ordering::Relaxed) as u64
    } else {
        let n = used_memory();
        PEAK.fetch_max(n as usize, Ordering::Relaxed)
            .max(n as usize) as u64
    }
}

/// Resets the peak to the current usage (MEMORY / CONFIG RESETSTAT).
pub fn reset_peak() {
    PEAK.store(used_memory() as usize, Ordering::Relaxed);
}

// ---------------------------------------------------------------------------
// LRU clock and LFU counter

/// Bits of the LRU clock kept per key (Redis's `LRU_BITS`).
pub const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;
/// Initial LFU counter of a new key (Redis's `LFU_INIT_VAL`), so that new
/// keys are not evicted before they had a chance to be accessed.
pub const LFU_INIT_VAL: u32 = 5;

/// The LRU clock: Unix seconds modulo 2^24.
pub fn lru_clock(now_ms: u64) -> u32 {
    ((now_ms / 1000) & LRU_CLOCK_MAX as u64) as u32
}

/// Milliseconds since the key was last accessed, from its LRU clock
/// (Redis's `estimateObjectIdleTime`, which handles the clock wrapping).
pub fn estimate_idle_ms(lru: u32, now_ms: u64) -> u64 {
    let clock = u64::from(lru_clock(now_ms));
    let lru = u64::from(lru & LRU_CLOCK_MAX);
    if clock >= lru {
        (clock - lru) * 1000
    } else {
        (clock + (u64::from(LRU_CLOCK_MAX) - lru)) * 1000
    }
}

/// Minutes of Unix time modulo 2^16 (Redis's `LFUGetTimeInMinutes`).
pub fn lfu_minutes(now_ms: u64) -> u32 {
    ((now_ms / 60_000) & 65535) as u32
}

fn lfu_time_elapsed(ldt: u32, now_ms: u64) -> u32 {
    let now = lfu_minutes(now_ms);
    if now >= ldt {
        now - ldt
    } else {
        65535 - ldt + now
    }
}

/// The key's LFU counter after the decay for the minutes elapsed since it
/// was last decremented (Redis's `LFUDecrAndReturn`); does not store it.
pub fn lfu_decr_and_return(lru: u32, now_ms: u64, decay_time: u64) -> u32 {
    let ldt = (lru >> 8) & 65535;
    let counter = lru & 255;
    let periods = u64::from(lfu_time_elapsed(ldt, now_ms))
        .checked_div(decay_time)
        .unwrap_or(0);
    if periods > 0 {
        if periods > u64::from(counter) {
            0
        } else {
            counter - periods as u32
        }
    } else {
        counter
    }
}

/// Increments a logarithmic counter: the higher it is, the less likely
/// (Redis's `LFULogIncr`). `r` is uniform in [0, 1].
pub fn lfu_log_incr(counter: u32, log_factor: u64, r: f64) -> u32 {
    if counter >= 255 {
        return 255;
    }
    let base = (f64::from(counter) - f64::from(LFU_INIT_VAL)).max(0.0);
    let p = 1.0 / (base * log_factor as f64 + 1.0);
    if r < p {
        counter + 1
    } else {
        counter
    }
}

/// `maxmemory-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    NoEviction,
    AllkeysLru,
    VolatileLru,
    AllkeysLfu,
    VolatileLfu,
    AllkeysRandom,
    VolatileRandom,
    VolatileTtl,
}

impl Policy {
    /// Parses the configuration value.
    pub fn parse(s: &str) -> Policy {
        match s {
            "allkeys-lru" => Policy::AllkeysLru,
            "volatile-lru" => Policy::VolatileLru,
            "allkeys-lfu" => Policy::AllkeysLfu,
            "volatile-lfu" => Policy::VolatileLfu,
            "allkeys-random" => Policy::AllkeysRandom,
            "volatile-random" => Policy::VolatileRandom,
            "volatile-ttl" => Policy::VolatileTtl,
            _ => Policy::NoEviction,
        }
    }

    /// The policy tracks access frequency (MAXMEMORY_FLAG_LFU).
    pub fn is_lfu(self) -> bool {
        matches!(self, Policy::AllkeysLfu | Policy::VolatileLfu)
    }

    /// The policy tracks access time (MAXMEMORY_FLAG_LRU).
    pub fn is_lru(self) -> bool {
        matches!(self, Policy::AllkeysLru | Policy::VolatileLru)
    }

    /// Any key may be evicted, not only keys with a TTL.
    pub fn all_keys(self) -> bool {
        matches!(
            self,
            Policy::AllkeysLru | Policy::AllkeysLfu | Policy::AllkeysRandom
        )
    }
}

/// Size of the eviction pool (Redis's `EVPOOL_SIZE`).
const EVPOOL_SIZE: usize = 16;

/// A candidate for eviction: the higher `idle`, the better.
#[derive(Debug, Clone)]
struct PoolEntry {
    idle: u64,
    key: Key,
    db: usize,
}

/// What eviction reported (Redis's `EVICT_OK` / `EVICT_RUNNING` /
/// `EVICT_FAIL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Memory is within the limit.
    Ok,
    /// Over the limit, eviction continues in the background (time limit).
    Running,
    /// Over the limit and nothing (more) can be evicted.
    Fail,
}

/// The engine's eviction state and cached settings.
#[derive(Debug)]
pub struct Evict {
    /// `maxmemory` in bytes (0 = no limit).
    pub maxmemory: u64,
    pub policy: Policy,
    pub samples: usize,
    pub tenacity: i64,
    pub lfu_log_factor: u64,
    pub lfu_decay_time: u64,
    /// Redis's `pre_command_oom_state`: the OOM verdict of the running
    /// client command, which scripts it runs consult.
    pub pre_command_oom: bool,
    /// Eviction stopped on its time limit and continues from the cron.
    pub timer_running: bool,
    /// Total time eviction was running (INFO `total_eviction_exceeded_time`).
    pub exceeded_since: Option<Instant>,
    pub exceeded_total_ms: u64,
    /// `used_memory` when the engine was created (INFO
    /// `used_memory_startup`).
    pub startup: u64,
    pool: Vec<Option<PoolEntry>>,
    next_db: usize,
    rng: Cell<u64>,
}

impl Default for Evict {
    fn default() -> Self {
        Evict {
            maxmemory: 0,
            policy: Policy::NoEviction,
            samples: 5,
            tenacity: 10,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            pre_command_oom: false,
            timer_running: false,
            exceeded_since: None,
            exceeded_total_ms: 0,
            startup: used_memory(),
            pool: vec![None; EVPOOL_SIZE],
            next_db: 0,
            rng: Cell::new(0x9E37_79B9_7F4A_7C15),
        }
    }
}

impl Evict {
    /// Reads the settings from the configuration.
    pub fn configure(&mut self, cfg: &crate::config::Config) {
        self.maxmemory = cfg.get_i64("maxmemory").max(0) as u64;
        self.policy = Policy::parse(cfg.get("maxmemory-policy").unwrap_or("noeviction"));
        self.samples = cfg.get_i64("maxmemory-samples").clamp(1, 64) as usize;
        self.tenacity = cfg.get_i64("maxmemory-eviction-tenacity").clamp(0, 100);
        self.lfu_log_factor = cfg.get_i64("lfu-log-factor").max(0) as u64;
        self.lfu_decay_time = cfg.get_i64("lfu-decay-time").max(0) as u64;
    }

    fn next_rand(&self) -> u64 {
        // xorshift64*
        let mut x = self.rng.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// The `lru` field of a newly created key: the LRU clock, or with an
    /// LFU policy the current minute and the initial counter.
    pub fn new_lru(&self, now_ms: u64) -> u32 {
        if self.policy.is_lfu() {
            (lfu_minutes(now_ms) << 8) | LFU_INIT_VAL
        } else {
            lru_clock(now_ms)
        }
    }

    /// Records an access to a key (Redis's `lookupKey` without
    /// LOOKUP_NOTOUCH): the LRU clock, or the decayed and incremented LFU
    /// counter.
    pub fn touch(&self, e: &mut Entry<&mut Value>, now_ms: u64) {
        if self.policy.is_lfu() {
            let c = lfu_decr_and_return(e.lru(), now_ms, self.lfu_decay_time);
            let r = (self.next_rand() >> 11) as f64 / (1u64 << 53) as f64;
            let c = lfu_log_incr(c, self.lfu_log_factor, r);
            e.set_lru((lfu_minutes(now_ms) << 8) | c);
        } else {
            e.set_lru(lru_clock(now_ms));
        }
    }

    /// OBJECT FREQ's value of a key.
    pub fn freq(&self, lru: u32, now_ms: u64) -> u32 {
        lfu_decr_and_return(lru, now_ms, self.lfu_decay_time)
    }

    /// The time limit of one eviction run in µs (`evictionTimeLimitUs`).
    fn time_limit_us(&self) -> u64 {
        let t = self.tenacity;
        if t <= 10 {
            50 * t as u64
        } else if t < 100 {
            (500.0 * 1.15f64.powf(t as f64 - 10.0)) as u64
        } else {
            u64::MAX
        }
    }

    fn score(&self, e: &Entry<&Value>, now_ms: u64) -> u64 {
        match self.policy {
            Policy::AllkeysLfu | Policy::VolatileLfu => {
                255 - u64::from(lfu_decr_and_return(e.lru(), now_ms, self.lfu_decay_time))
            }
            Policy::VolatileTtl => u64::MAX - e.expire(),
            _ => estimate_idle_ms(e.lru(), now_ms),
        }
    }

    /// Inserts a sample into the pool, kept sorted by ascending `idle`
    /// (Redis's `evictionPoolPopulate`).
    fn pool_insert(&mut self, idle: u64, key: &[u8], db: usize) {
        let pool = &mut self.pool;
        let mut k = 0;
        while k < EVPOOL_SIZE && pool[k].as_ref().is_some_and(|p| p.idle < idle) {
            k += 1;
        }
        let full = pool[EVPOOL_SIZE - 1].is_some();
        let entry = Some(PoolEntry {
            idle,
            key: key.into(),
            db,
        });
        if k == 0 && full {
            // Worse than every candidate in a full pool.
            return;
        }
        if k < EVPOOL_SIZE && pool[k].is_none() {
            pool[k] = entry;
        } else if !full {
            // Shift right from k; the last slot is free.
            pool.pop();
            pool.insert(k, entry);
        } else {
            // Drop the worst (first) element and insert at k - 1.
            pool.remove(0);
            pool.insert(k - 1, entry);
        }
    }
}

/// Samples up to `count` keys of a database (all keys, or only those with
/// a TTL) from a random position, as Redis's `dictGetSomeKeys`, and calls
/// `f` for each.
fn sample_keys(
    db: &crate::db::Db,
    volatile: bool,
    count: usize,
    rnd: u64,
    mut f: impl FnMut(&[u8], &Entry<&Value>),
) {
    if db.dict.is_empty() || (volatile && db.expires == 0) {
        return;
    }
    // With keys that have a TTL among many that have none, walk further
    // to find as many samples.
    let mut max_steps = count * 10;
    if volatile {
        let ratio = db.dict.len() / db.expires.max(1);
        max_steps = max_steps.saturating_mul(ratio.max(1)).min(100_000);
    }
    let mut cursor = rnd;
    let mut found = 0;
    let mut steps = 0;
    while found < count && steps < max_steps {
        cursor = db.dict.scan_entries(cursor, |k, e| {
            if found < count && (!volatile || e.expire() != 0) {
                found += 1;
                f(k, &e);
            }
        });
        steps += 1;
        // Past the end the walk goes on from the first bucket; after as
        // many steps as there are buckets every one has been visited.
        if steps >= db.dict.buckets() {
            break;
        }
    }
}

/// Picks the next key to evict, or `None` when no key qualifies.
fn pick_victim(eng: &mut Engine) -> Option<(usize, Key)> {
    let policy = eng.evict.policy;
    let now = eng.now_ms;
    let volatile = !policy.all_keys();
    let mut rounds = 0;
    match policy {
        Policy::NoEviction => None,
        Policy::AllkeysRandom | Policy::VolatileRandom => {
            let n = eng.dbs.len();
            for _ in 0..n {
                eng.evict.next_db = eng.evict.next_db.wrapping_add(1);
                let j = eng.evict.next_db % n;
                let db = &eng.dbs[j];
                let size = if volatile { db.expires } else { db.dict.len() };
                if size == 0 {
                    continue;
                }
                let ev = &eng.evict;
                if !volatile {
                    if let Some((k, _)) = db.dict.random_node(|| ev.next_rand() as usize) {
                        return Some((j, k.into()));
                    }
                    continue;
                }
                for _ in 0..32 {
                    if let Some((k, e)) = db.dict.random_node(|| ev.next_rand() as usize) {
                        if e.expire() != 0 {
                            return Some((j, k.into()));
                        }
                    }
                }
                let mut pick: Option<Key> = None;
                sample_keys(db, true, 1, ev.next_rand(), |k, _| pick = Some(k.into()));
                if let Some(k) = pick {
                    return Some((j, k));
                }
            }
            None
        }
        _ => loop {
            rounds += 1;
            if rounds > 64 {
                // Sampling keeps missing (keys with a TTL are very sparse):
                // take the first qualifying key rather than spin.
                return eng.dbs.iter().enumerate().find_map(|(i, db)| {
                    db.dict
                        .iter_entries()
                        .find(|(_, e)| !volatile || e.expire() != 0)
                        .map(|(k, _)| (i, k.into()))
                });
            }
            let mut total = 0usize;
            for i in 0..eng.dbs.len() {
                let db = &eng.dbs[i];
                let size = if volatile { db.expires } else { db.dict.len() };
                if size == 0 {
                    continue;
                }
                total += size;
                let mut samples: Vec<(u64, Key)> = Vec::with_capacity(eng.evict.samples);
                let ev = &eng.evict;
                sample_keys(db, volatile, ev.samples, ev.next_rand(), |k, e| {
                    samples.push((ev.score(e, now), k.into()));
                });
                for (idle, k) in samples {
                    eng.evict.pool_insert(idle, &k, i);
                }
            }
            if total == 0 {
                return None;
            }
            for k in (0..EVPOOL_SIZE).rev() {
                let Some(p) = eng.evict.pool[k].take() else {
                    continue;
                };
                let live = eng
                    .dbs
                    .get(p.db)
                    .and_then(|d| d.dict.entry(&p.key))
                    .is_some_and(|e| !volatile || e.expire() != 0);
                if live {
                    return Some((p.db, p.key));
                }
                // A ghost: the key went away since it was sampled.
            }
        },
    }
}

/// Deletes an evicted key the way every deletion goes: WATCH
/// invalidation, the `evicted` keyspace event, INFO `evicted_keys`, and a
/// DEL (UNLINK with `lazyfree-lazy-eviction`) for replicas and the AOF.
fn evict_key(eng: &mut Engine, db: usize, key: &[u8]) {
    if eng.dbs[db].remove(key).is_none() {
        return;
    }
    eng.stats.evicted_keys += 1;
    eng.signal_modified(db, key);
    eng.notify_keyspace_event(notify::EVICTED, "evicted", key, db);
    if eng.repl.active {
        let name = if eng.config.get_bool("lazyfree-lazy-eviction") {
            "UNLINK"
        } else {
            "DEL"
        };
        eng.repl.pending.push(crate::repl::Op {
            db,
            argv: vec![crate::repl::word(name), Bytes::copy_from_slice(key)],
            target: crate::repl::TARGET_ALL,
        });
    }
}

/// Memory over the limit, in bytes (0 when within it).
pub fn memory_to_free(eng: &Engine) -> u64 {
    if eng.evict.maxmemory == 0 {
        return 0;
    }
    used_memory().saturating_sub(eng.evict.maxmemory)
}

/// Redis's `performEvictions`: evicts keys until used memory is within
/// `maxmemory`, nothing more can be evicted, or the time limit is reached.
pub fn perform_evictions(eng: &mut Engine) -> Outcome {
    let to_free = memory_to_free(eng);
    if to_free == 0 {
        stop_timer(eng);
        return Outcome::Ok;
    }
    if eng.evict.exceeded_since.is_none() {
        eng.evict.exceeded_since = Some(Instant::now());
    }
    if eng.evict.policy == Policy::NoEviction {
        return Outcome::Fail;
    }
    let limit_us = eng.evict.time_limit_us();
    let start = Instant::now();
    let mut freed: u64 = 0;
    let mut keys_freed = 0u64;
    let mut result = Outcome::Ok;
    while freed < to_free {
        let Some((db, key)) = pick_victim(eng) else {
            result = Outcome::Fail;
            break;
        };
        let before = used_memory();
        evict_key(eng, db, &key);
        drop(key);
        freed += before.saturating_sub(used_memory());
        keys_freed += 1;
        if keys_freed.is_multiple_of(16) && start.elapsed().as_micros() as u64 > limit_us {
            eng.evict.timer_running = true;
            result = Outcome::Running;
            break;
        }
    }
    if keys_freed > 0 && eng.depth == 0 && eng.repl.active {
        // The DELs go out at once, never wrapped in MULTI/EXEC (Redis's
        // propagate_no_multi); inside a command (CONFIG SET) they go out
        // with it.
        crate::repl::flush_pending(eng, true);
    }
    let ms = start.elapsed().as_millis() as u64;
    if eng.latency_threshold_ms > 0 && ms as i64 >= eng.latency_threshold_ms {
        crate::cmd::server::latency_add_sample_if_needed(eng, "eviction-cycle", ms);
    }
    if result == Outcome::Ok && eng.evict.timer_running {
        result = Outcome::Running;
    }
    if result == Outcome::Fail {
        stop_timer(eng);
    }
    result
}

fn stop_timer(eng: &mut Engine) {
    eng.evict.timer_running = false;
    if let Some(t) = eng.evict.exceeded_since.take() {
        eng.evict.exceeded_total_ms += t.elapsed().as_millis() as u64;
    }
}

/// INFO `total_eviction_exceeded_time` and `current_eviction_exceeded_time`
/// in ms: how long used memory has been over `maxmemory`.
pub fn exceeded_time_ms(eng: &Engine) -> (u64, u64) {
    let cur = eng
        .evict
        .exceeded_since
        .map(|t| t.elapsed().as_millis() as u64)
        .unwrap_or(0);
    (eng.evict.exceeded_total_ms + cur, cur)
}

/// INFO memory's split of `used_memory`.
#[derive(Debug, Clone, Copy)]
pub struct Breakdown {
    pub startup: u64,
    pub overhead: u64,
    pub dataset: u64,
    pub dataset_perc: f64,
}

/// Splits `used` into server overhead (memory at startup plus the key
/// tables: buckets, entries, key names) and the dataset, as Redis's
/// `getMemoryOverheadData` does with its own structures.
pub fn memory_breakdown(eng: &Engine, used: u64) -> Breakdown {
    let startup = eng.evict.startup.min(used);
    let mut tables = 0u64;
    for db in &eng.dbs {
        // A bucket pointer per slot; per key the fixed part of its node
        // (next pointer, value, meta word), and 8 bytes more for the
        // expiry field of a key with a TTL. The key bytes in the node count
        // as data, as Redis counts the key's sds.
        let node = crate::dict::Dict::<Value>::node_size(0) as u64;
        tables +=
            db.dict.buckets() as u64 * 8 + db.dict.len() as u64 * node + db.expires as u64 * 8;
    }
    let overhead = (startup + tables).min(used);
    let dataset = used - overhead;
    let net = used.saturating_sub(startup);
    let dataset_perc = if net > 0 {
        dataset as f64 * 100.0 / net as f64
    } else {
        0.0
    };
    Breakdown {
        startup,
        overhead,
        dataset,
        dataset_perc,
    }
}

/// Periodic eviction while a run stopped on its time limit (Redis's
/// eviction timer proc).
pub fn cron(eng: &mut Engine) {
    if eng.evict.timer_running {
        eng.now_ms = crate::unix_ms();
        if perform_evictions(eng) != Outcome::Running {
            eng.evict.timer_running = false;
        }
    }
}

/// Called after a configuration change: the new limit applies at once
/// (Redis's `updateMaxmemory` evicts from CONFIG SET).
pub fn config_changed(eng: &mut Engine) {
    eng.evict.configure(&eng.config);
    if eng.evict.maxmemory > 0 {
        perform_evictions(eng);
    } else {
        stop_timer(eng);
    }
}

fn oom_error() -> Reply {
    Reply::err_static("OOM command not allowed when used memory > 'maxmemory'.")
}

/// True if running `cmd` with `args` may grow memory (the command's
/// `denyoom` flag; for EVAL and FCALL the flags the script declares,
/// as Redis's `getCommandFlags`).
fn is_denyoom(eng: &Engine, cmd: &Cmd, args: &[Bytes]) -> bool {
    let (script, is_sha, is_fn) = match cmd.full_name.as_str() {
        "eval" | "eval_ro" => (true, false, false),
        "evalsha" | "evalsha_ro" => (true, true, false),
        "fcall" | "fcall_ro" => (true, false, true),
        _ => (false, false, false),
    };
    if script {
        let Some(body) = args.get(1) else {
            return cmd.is(flags::DENYOOM);
        };
        let f = if is_fn {
            eng.functions
                .as_deref()
                .and_then(|f| f.command_flags(body))
                .filter(|f| !f.is_compat())
        } else {
            eng.scripts
                .as_deref()
                .and_then(|s| s.command_flags(body, is_sha))
        };
        if let Some((_, deny_oom, _)) = f.and_then(|f| f.command_gates()) {
            return deny_oom;
        }
    }
    cmd.is(flags::DENYOOM)
}

/// The OOM gate of a client command (Redis's `processCommand`): evicts
/// if needed and returns the error to reply with when the command must be
/// refused. EXEC refused this way discards the transaction.
pub fn gate(eng: &mut Engine, c: &mut Client, cmd: &Cmd, args: &[Bytes]) -> Option<Reply> {
    if eng.evict.maxmemory == 0 {
        eng.evict.pre_command_oom = false;
        return None;
    }
    let oom = perform_evictions(eng) == Outcome::Fail;
    eng.evict.pre_command_oom = oom;
    if !oom {
        return None;
    }
    let name = cmd.full_name.as_str();
    let is_exec = name == "exec";
    let mut reject = is_denyoom(eng, cmd, args);
    if let Some(m) = c.multi.as_ref() {
        if !matches!(name, "exec" | "discard" | "quit" | "reset") {
            reject = true;
        } else if is_exec && !reject {
            reject = m.queue.iter().any(|q| {
                eng.lookup(q)
                    .is_ok_and(|qc| qc.is(flags::DENYOOM) || is_denyoom(eng, qc, q))
            });
        }
    }
    if !reject {
        return None;
    }
    if is_exec && c.multi.is_some() {
        c.multi = None;
        eng.unwatch_all(c);
        return Some(Reply::err_static(
            "EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'.",
        ));
    }
    if let Some(m) = c.multi.as_mut() {
        m.dirty = true;
    }
    Some(oom_error())
}

/// Redis's start-of-script OOM check (`scriptPrepareForRun`): a shebang
/// script that may write and lacks `allow-oom` does not start when the
/// command started out of memory.
pub fn script_start_check(
    eng: &Engine,
    f: lunakv_scripting::flags::ScriptFlags,
) -> Result<(), Reply> {
    use lunakv_scripting::flags::ScriptFlags;
    if !f.is_compat()
        && eng.evict.pre_command_oom
        && eng.evict.maxmemory > 0
        && !f.contains(ScriptFlags::ALLOW_OOM)
        && !f.contains(ScriptFlags::NO_WRITES)
    {
        return Err(Reply::err_static(
            "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'",
        ));
    }
    Ok(())
}

/// Redis's `scriptVerifyOOM`: a script's first write may not be a
/// `denyoom` command when the script started out of memory, unless it
/// declared `allow-oom`. Returns the error (already counted in the stats).
pub fn script_call_check(
    eng: &mut Engine,
    cmd: &Cmd,
    allow_oom: bool,
    wrote: bool,
) -> Option<Reply> {
    if allow_oom
        || wrote
        || eng.evict.maxmemory == 0
        || !eng.evict.pre_command_oom
        || !cmd.is(flags::DENYOOM)
    {
        return None;
    }
    let e = oom_error();
    eng.cmdstats[cmd.id].rejected += 1;
    eng.count_error(&e);
    Some(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::TestEngine;

    #[test]
    fn jemalloc_size_classes() {
        let classes: Vec<usize> = [
            1, 8, 9, 16, 17, 24, 33, 128, 129, 160, 161, 256, 257, 320, 513,
        ]
        .iter()
        .map(|&n| size_class(n))
        .collect();
        assert_eq!(
            classes,
            [8, 8, 16, 16, 32, 32, 48, 128, 160, 160, 192, 256, 320, 320, 640]
        );
        assert_eq!(size_class(4096), 4096);
        assert_eq!(size_class(4097), 5120);
        assert_eq!(size_class(usize::MAX), usize::MAX & !((1usize << 61) - 1));
        // The count follows the allocator's blocks, and the true usable
        // size matches the class when jemalloc serves the request.
        for n in [1usize, 24, 100, 140, 170, 1000, 40_000] {
            let l = Layout::from_size_align(n, 8).unwrap_or(Layout::new::<u8>());
            // SAFETY: a plain allocation, freed right away with its layout.
            unsafe {
                let p = Jemalloc.alloc(l);
                assert!(!p.is_null());
                let usable = tikv_jemallocator::usable_size(p);
                assert_eq!(usable, block_size(l), "size {n}");
                Jemalloc.dealloc(p, l);
            }
        }
    }

    #[test]
    fn lru_clock_and_idle_time_wrap() {
        assert_eq!(lru_clock(5_000), 5);
        assert_eq!(estimate_idle_ms(3, 10_000), 7_000);
        // The key was stamped just before the clock wrapped.
        let now = (u64::from(LRU_CLOCK_MAX) + 1 + 2) * 1000;
        assert_eq!(lru_clock(now), 2);
        assert_eq!(estimate_idle_ms(LRU_CLOCK_MAX - 1, now), 3_000);
    }

    #[test]
    fn lfu_counter_is_logarithmic_and_decays() {
        // Below LFU_INIT_VAL every access counts.
        assert_eq!(lfu_log_incr(3, 10, 0.99), 4);
        assert_eq!(lfu_log_incr(255, 10, 0.0), 255);
        // At 5 + 10 with factor 10 the chance is 1/101.
        assert_eq!(lfu_log_incr(15, 10, 0.5), 15);
        assert_eq!(lfu_log_incr(15, 10, 0.001), 16);
        let now = 100 * 60_000;
        let lru = (lfu_minutes(now - 3 * 60_000) << 8) | 10;
        assert_eq!(lfu_decr_and_return(lru, now, 1), 7);
        assert_eq!(lfu_decr_and_return(lru, now, 2), 9);
        assert_eq!(lfu_decr_and_return(lru, now, 0), 10);
        assert_eq!(lfu_decr_and_return(lru, now + 60 * 60_000, 1), 0);
    }

    #[test]
    fn pool_keeps_the_best_candidates_sorted() {
        let mut ev = Evict::default();
        for i in 0..40u64 {
            let idle = (i * 7919) % 101;
            ev.pool_insert(idle, format!("k{idle}").as_bytes(), 0);
        }
        let idles: Vec<u64> = ev.pool.iter().flatten().map(|p| p.idle).collect();
        assert_eq!(idles.len(), EVPOOL_SIZE);
        assert!(idles.windows(2).all(|w| w[0] <= w[1]), "{idles:?}");
        // The best one of all the samples is last.
        let best = (0..40u64).map(|i| (i * 7919) % 101).max().unwrap();
        assert_eq!(*idles.last().unwrap(), best);
    }

    fn fill(t: &mut TestEngine, n: usize) {
        for i in 0..n {
            t.raw(&["SET", &format!("k{i}"), "v"]);
        }
    }

    #[test]
    fn noeviction_refuses_denyoom_commands_only() {
        let mut t = TestEngine::new();
        fill(&mut t, 3);
        assert_eq!(t.raw(&["CONFIG", "SET", "maxmemory", "1"]), "+OK\r\n");
        assert_eq!(
            t.raw(&["SET", "x", "1"]),
            "-OOM command not allowed when used memory > 'maxmemory'.\r\n"
        );
        assert_eq!(t.raw(&["GET", "k1"]), "$1\r\nv\r\n");
        assert_eq!(t.raw(&["DEL", "k1"]), ":1\r\n");
        assert_eq!(t.raw(&["DBSIZE"]), ":2\r\n");
        assert_eq!(t.eng.stats.evicted_keys, 0);
        assert_eq!(t.raw(&["CONFIG", "SET", "maxmemory", "0"]), "+OK\r\n");
        assert_eq!(t.raw(&["SET", "x", "1"]), "+OK\r\n");
    }

    #[test]
    fn multi_is_refused_at_queue_time_and_exec_aborts() {
        let mut t = TestEngine::new();
        assert_eq!(t.raw(&["MULTI"]), "+OK\r\n");
        assert_eq!(t.raw(&["SET", "a", "1"]), "+QUEUED\r\n");
        t.eng.config.set("maxmemory", "1").unwrap();
        t.eng.config_changed();
        // Even a read is refused while queueing.
        assert!(t.raw(&["GET", "a"]).starts_with("-OOM "));
        assert_eq!(
            t.raw(&["EXEC"]),
            "-EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'.\r\n"
        );
        // EXEC of read-only commands runs.
        t.eng.config.set("maxmemory", "0").unwrap();
        t.eng.config_changed();
        assert_eq!(t.raw(&["MULTI"]), "+OK\r\n");
        assert_eq!(t.raw(&["GET", "a"]), "+QUEUED\r\n");
        t.eng.config.set("maxmemory", "1").unwrap();
        t.eng.config_changed();
        assert_eq!(t.raw(&["EXEC"]), "*1\r\n$-1\r\n");
        assert_eq!(t.raw(&["MULTI"]), "+OK\r\n");
        assert_eq!(t.raw(&["DISCARD"]), "+OK\r\n");
    }

    #[test]
    fn allkeys_policies_evict_everything_at_maxmemory_1() {
        for policy in ["allkeys-lru", "allkeys-lfu", "allkeys-random"] {
            let mut t = TestEngine::new();
            fill(&mut t, 50);
            t.raw(&["SELECT", "3"]);
            fill(&mut t, 20);
            t.raw(&["CONFIG", "SET", "maxmemory-policy", policy]);
            // No time limit: all of it in one go.
            t.raw(&["CONFIG", "SET", "maxmemory-eviction-tenacity", "100"]);
            assert_eq!(t.raw(&["CONFIG", "SET", "maxmemory", "1"]), "+OK\r\n");
            assert_eq!(t.raw(&["DBSIZE"]), ":0\r\n", "{policy}");
            t.raw(&["SELECT", "0"]);
            assert_eq!(t.raw(&["DBSIZE"]), ":0\r\n", "{policy}");
            assert_eq!(t.eng.stats.evicted_keys, 70);
            assert!(t.raw(&["SET", "x", "1"]).starts_with("-OOM "));
        }
    }

    #[test]
    fn volatile_policies_keep_persistent_keys() {
        for policy in [
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
        ] {
            let mut t = TestEngine::new();
            for i in 0..60 {
                if i % 2 == 0 {
                    t.raw(&["SET", &format!("p{i}"), "v"]);
                } else {
                    t.raw(&["SETEX", &format!("v{i}"), "1000", "v"]);
                }
            }
            t.raw(&["CONFIG", "SET", "maxmemory-policy", policy]);
            t.raw(&["CONFIG", "SET", "maxmemory-eviction-tenacity", "100"]);
            t.raw(&["CONFIG", "SET", "maxmemory", "1"]);
            assert_eq!(t.raw(&["DBSIZE"]), ":30\r\n", "{policy}");
            assert_eq!(t.eng.dbs[0].expires, 0);
            assert!(t.raw(&["SET", "x", "1"]).starts_with("-OOM "));
        }
    }

    #[test]
    fn victims_follow_the_policy_order() {
        let mut t = TestEngine::new();
        t.raw(&["SETEX", "late", "5000", "v"]);
        t.raw(&["SETEX", "soon", "10", "v"]);
        t.raw(&["SETEX", "mid", "100", "v"]);
        t.eng
            .config
            .set("maxmemory-policy", "volatile-ttl")
            .unwrap();
        t.eng.evict.configure(&t.eng.config);
        let order: Vec<Key> = (0..3)
            .map(|_| {
                let (db, k) = pick_victim(&mut t.eng).unwrap();
                t.eng.dbs[db].remove(&k);
                k
            })
            .collect();
        assert_eq!(
            order,
            vec![b"soon"[..].into(), b"mid"[..].into(), b"late"[..].into()]
        );

        // LRU: the key idle the longest goes first.
        t.raw(&["SET", "old", "v"]);
        t.raw(&["SET", "new", "v"]);
        let mut e = t.eng.dbs[0].dict.entry_mut(b"old").unwrap();
        let l = e.lru();
        e.set_lru(l - 100);
        t.eng.config.set("maxmemory-policy", "allkeys-lru").unwrap();
        t.eng.evict.configure(&t.eng.config);
        let (_, k) = pick_victim(&mut t.eng).unwrap();
        assert_eq!(&*k, b"old");
    }

    #[test]
    fn evicted_keys_invalidate_watch_and_notify() {
        let mut t = TestEngine::new();
        t.raw(&["SET", "w", "v"]);
        t.raw(&["WATCH", "w"]);
        t.raw(&["CONFIG", "SET", "maxmemory-policy", "allkeys-random"]);
        t.raw(&["CONFIG", "SET", "notify-keyspace-events", "Ee"]);
        t.raw(&["CONFIG", "SET", "maxmemory", "1"]);
        assert_eq!(t.raw(&["EXISTS", "w"]), ":0\r\n");
        t.raw(&["CONFIG", "SET", "maxmemory", "0"]);
        assert_eq!(t.raw(&["MULTI"]), "+OK\r\n");
        assert_eq!(t.raw(&["PING"]), "+QUEUED\r\n");
        assert_eq!(t.raw(&["EXEC"]), "*-1\r\n");
        assert!(t.raw(&["INFO", "stats"]).contains("evicted_keys:1\r\n"));
    }

    #[test]
    fn evictions_are_propagated_as_del() {
        use std::sync::{Arc, Mutex};
        let mut t = TestEngine::new();
        let out = Arc::new(Mutex::new(Vec::<u8>::new()));
        let o = out.clone();
        t.eng.repl.set_sink(Some(Box::new(move |b: &[u8]| {
            o.lock().unwrap().extend_from_slice(b)
        })));
        t.raw(&["SET", "a", "1"]);
        t.raw(&["CONFIG", "SET", "maxmemory-policy", "allkeys-random"]);
        t.eng.config.set("maxmemory", "1").unwrap();
        t.eng.evict.configure(&t.eng.config);
        // The next command evicts first, then is refused.
        assert!(t.raw(&["SET", "b", "2"]).starts_with("-OOM "));
        let s = String::from_utf8_lossy(&out.lock().unwrap()).into_owned();
        assert!(s.ends_with("*2\r\n$3\r\nDEL\r\n$1\r\na\r\n"), "{s:?}");
        assert!(!s.contains("MULTI"), "{s:?}");
    }

    #[test]
    fn lfu_counts_accesses_and_object_freq_reports_it() {
        let mut t = TestEngine::new();
        t.raw(&["SET", "k", "v"]);
        assert!(t
            .raw(&["OBJECT", "FREQ", "k"])
            .starts_with("-ERR An LFU maxmemory policy is not selected"));
        t.raw(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
        assert!(t
            .raw(&["OBJECT", "IDLETIME", "k"])
            .starts_with("-ERR An LFU maxmemory policy is selected"));
        t.raw(&["CONFIG", "SET", "lfu-log-factor", "0"]);
        t.raw(&["SET", "f", "v"]);
        assert_eq!(t.raw(&["OBJECT", "FREQ", "f"]), ":5\r\n");
        for _ in 0..10 {
            t.raw(&["GET", "f"]);
        }
        // Factor 0: every access counts; the overwrite keeps the counter.
        assert_eq!(t.raw(&["OBJECT", "FREQ", "f"]), ":15\r\n");
        t.raw(&["SET", "f", "w"]);
        assert_eq!(t.raw(&["OBJECT", "FREQ", "f"]), ":16\r\n");
        // OBJECT and TYPE do not count as accesses.
        t.raw(&["TYPE", "f"]);
        assert_eq!(t.raw(&["OBJECT", "FREQ", "f"]), ":16\r\n");
    }
}
