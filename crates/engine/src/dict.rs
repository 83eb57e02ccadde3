//! The keyspace hash table: chained buckets, power-of-two sizes and
//! incremental rehashing, in the manner of Redis's `dict.c`.
//!
//! Why not `std::collections::HashMap`: growing it rehashes every entry in
//! one step (a pause of tens of milliseconds at ten million keys), and it has
//! no stable bucket order, so a `SCAN` cursor could not promise to return
//! every key present for the whole iteration. Here a resize allocates the
//! bigger table and then moves one bucket per operation (and a few
//! milliseconds per cron tick), and `scan` walks buckets in reverse-binary
//! order so that a cursor stays valid across growth and shrinking.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::hash::BuildHasher;
use std::ptr::NonNull;

/// A key: an owned, immutable byte string.
pub type Key = Box<[u8]>;

/// The fixed part of a node. A node is ONE allocation: this header (the
/// chain link and the value), then the key's length (one byte below 255;
/// else the byte 255 and the length as 8 little-endian bytes), then the
/// key's bytes. Keeping the key inline saves the separate key allocation
/// (a 12-byte key cost a 32-byte malloc chunk plus a 16-byte fat pointer),
/// as Redis's dictEntry + sds key cost two small chunks.
#[repr(C)]
struct Head<V> {
    next: Link<V>,
    val: V,
}

/// A chain link: null-pointer-optimised, so an all-zero bucket array is a
/// table of empty buckets.
type Link<V> = Option<NonNull<Head<V>>>;

/// The length byte that announces an 8-byte length.
const LONG_KEY: u8 = u8::MAX;

impl<V> Head<V> {
    /// Offset of the length byte: right after the header.
    const KEY_OFF: usize = std::mem::size_of::<Head<V>>();

    /// The allocation of a node holding a key of `klen` bytes. Always at
    /// least `size_of::<Head<V>>()`, so a `&Head<V>` is always valid.
    fn layout(klen: usize) -> Layout {
        let prefix = if klen < LONG_KEY as usize { 1 } else { 9 };
        let size = Self::KEY_OFF
            .checked_add(prefix)
            .and_then(|s| s.checked_add(klen));
        match size.and_then(|s| Layout::from_size_align(s, std::mem::align_of::<Head<V>>()).ok()) {
            Some(l) => l,
            // A key this large cannot exist (it is an existing slice).
            None => std::process::abort(),
        }
    }

    /// Allocates a node for `key` and `val` linked before `next`.
    fn new(key: &[u8], val: V, next: Link<V>) -> NonNull<Head<V>> {
        let layout = Self::layout(key.len());
        // SAFETY: `layout` is non-zero-sized (it includes the length
        // byte) and aligned for `Head<V>`; the header is written at the
        // start, and the length prefix and key bytes after `KEY_OFF` stay
        // within `layout.size()` by construction of `layout`.
        unsafe {
            let p = alloc(layout) as *mut Head<V>;
            if p.is_null() {
                handle_alloc_error(layout);
            }
            p.write(Head { next, val });
            let kp = (p as *mut u8).add(Self::KEY_OFF);
            let n = key.len();
            let data = if n < LONG_KEY as usize {
                kp.write(n as u8);
                kp.add(1)
            } else {
                kp.write(LONG_KEY);
                std::ptr::copy_nonoverlapping((n as u64).to_le_bytes().as_ptr(), kp.add(1), 8);
                kp.add(9)
            };
            std::ptr::copy_nonoverlapping(key.as_ptr(), data, n);
            NonNull::new_unchecked(p)
        }
    }

    /// The key stored in node `p`.
    ///
    /// # Safety
    /// `p` must be a live node made by [`Head::new`]; the slice must not
    /// outlive it.
    unsafe fn key<'a>(p: NonNull<Head<V>>) -> &'a [u8] {
        let kp = (p.as_ptr() as *const u8).add(Self::KEY_OFF);
        let b = *kp;
        if b != LONG_KEY {
            std::slice::from_raw_parts(kp.add(1), b as usize)
        } else {
            let mut len = [0u8; 8];
            std::ptr::copy_nonoverlapping(kp.add(1), len.as_mut_ptr(), 8);
            std::slice::from_raw_parts(kp.add(9), u64::from_le_bytes(len) as usize)
        }
    }

    /// Frees node `p` and returns its value.
    ///
    /// # Safety
    /// `p` must be a live node made by [`Head::new`], unlinked from every
    /// table; it is dangling afterwards.
    unsafe fn free(p: NonNull<Head<V>>) -> V {
        let layout = Self::layout(Self::key(p).len());
        let val = std::ptr::addr_of!((*p.as_ptr()).val).read();
        dealloc(p.as_ptr() as *mut u8, layout);
        val
    }
}

/// Bucket arrays at least this large (bytes) are freed on a thread of
/// their own when a rehash ends.
const BACKGROUND_FREE_BYTES: usize = 8 << 20;

/// Frees the emptied bucket array of a finished rehash. A large one (64 MB
/// at 8M buckets) is handed to a short-lived thread: giving its pages back
/// to the kernel takes milliseconds, which on the engine thread would be a
/// pause for every client at the end of each doubling.
fn free_buckets<V>(buckets: Vec<Link<V>>) {
    let bytes = buckets.capacity() * std::mem::size_of::<Link<V>>();
    if bytes < BACKGROUND_FREE_BYTES
        || std::mem::size_of::<Link<V>>() != std::mem::size_of::<usize>()
        || std::mem::align_of::<Link<V>>() != std::mem::align_of::<usize>()
    {
        return;
    }
    let mut buckets = std::mem::ManuallyDrop::new(buckets);
    let (ptr, len, cap) = (buckets.as_mut_ptr(), buckets.len(), buckets.capacity());
    // SAFETY: `Link<V>` is a nullable pointer (`Option<NonNull<_>>`, null
    // for `None`), so it has the size and alignment of `usize`: the same
    // allocation is a valid `Vec<usize>` of the same length and capacity,
    // freed with the same layout. The table is empty (no link points at a
    // node), and the original vector is never used or dropped again.
    let words = unsafe { Vec::from_raw_parts(ptr as *mut usize, len, cap) };
    let spawned = std::thread::Builder::new()
        .name("lazyfree".into())
        .spawn(move || drop(words));
    // Without a thread, the closure (and the array) is dropped right here.
    let _ = spawned;
}

struct Table<V> {
    buckets: Vec<Link<V>>,
    used: usize,
}

impl<V> Table<V> {
    fn empty() -> Self {
        Table {
            buckets: Vec::new(),
            used: 0,
        }
    }

    /// A table of `n` empty buckets. The bucket array comes from the
    /// allocator already zeroed (calloc), like Redis's `zcalloc` in
    /// `dictExpand`: for a large table the kernel hands out zero pages
    /// lazily, so growing to millions of buckets does not stop the server
    /// to touch every page up front (measured: the worst PING while loading
    /// 10M keys was 375 ms with an element-by-element fill).
    fn with_size(n: usize) -> Self {
        let Ok(layout) = std::alloc::Layout::array::<Link<V>>(n) else {
            let mut buckets = Vec::with_capacity(n);
            buckets.resize_with(n, || None);
            return Table { buckets, used: 0 };
        };
        if layout.size() == 0 {
            return Table {
                buckets: Vec::new(),
                used: 0,
            };
        }
        // SAFETY: `layout` is non-zero-sized; an all-zero
        // `Option<NonNull<_>>` is `None` (the null-pointer optimisation is
        // guaranteed for it), so the `n` elements are initialised; the Vec
        // owns the allocation made with the same layout.
        let buckets = unsafe {
            let p = std::alloc::alloc_zeroed(layout) as *mut Link<V>;
            if p.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            Vec::from_raw_parts(p, n, n)
        };
        Table { buckets, used: 0 }
    }

    fn mask(&self) -> usize {
        self.buckets.len().wrapping_sub(1)
    }

    /// Frees every node (the table owns its chains).
    fn free_nodes(&mut self) {
        for b in self.buckets.iter_mut() {
            let mut cur = b.take();
            while let Some(n) = cur {
                // SAFETY: `n` is a live node of this table, unlinked here
                // (its bucket was taken, and its successor read before it
                // is freed); nothing else points to it.
                unsafe {
                    cur = (*n.as_ptr()).next;
                    drop(Head::free(n));
                }
            }
        }
        self.used = 0;
    }
}

/// A hash table from byte-string keys to `V`.
pub struct Dict<V> {
    t: [Table<V>; 2],
    /// Next bucket of `t[0]` to move into `t[1]`; `None` when not rehashing.
    rehash_idx: Option<usize>,
    hasher: foldhash::fast::RandomState,
}

impl<V> Default for Dict<V> {
    fn default() -> Self {
        Self::new()
    }
}

const INITIAL_SIZE: usize = 4;
/// Shrink when fewer than 1 in 10 buckets hold an entry (Redis's HT_MIN_FILL).
const MIN_FILL: usize = 10;

fn rev(v: usize) -> usize {
    v.reverse_bits()
}

// SAFETY: a Dict owns its nodes exclusively (they are reachable only
// through it), exactly like the `Box` chains it replaces, so it may move to
// or be shared with another thread whenever `V` may.
unsafe impl<V: Send> Send for Dict<V> {}
// SAFETY: as above; `&Dict` only gives out `&V` and `&[u8]`.
unsafe impl<V: Sync> Sync for Dict<V> {}

impl<V> Drop for Dict<V> {
    fn drop(&mut self) {
        self.t[0].free_nodes();
        self.t[1].free_nodes();
    }
}

/// Walks the chain starting at `head`, calling `f` with each node.
///
/// The nodes must be live for the duration (the caller holds the dict).
fn walk<V>(head: Link<V>, mut f: impl FnMut(NonNull<Head<V>>) -> bool) {
    let mut cur = head;
    while let Some(n) = cur {
        if !f(n) {
            return;
        }
        // SAFETY: `n` is a live node of a table the caller borrows.
        cur = unsafe { (*n.as_ptr()).next };
    }
}

impl<V> Dict<V> {
    pub fn new() -> Self {
        Dict {
            t: [Table::empty(), Table::empty()],
            rehash_idx: None,
            hasher: foldhash::fast::RandomState::default(),
        }
    }

    fn hash(&self, key: &[u8]) -> usize {
        self.hasher.hash_one(key) as usize
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.t[0].used + self.t[1].used
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total number of buckets (both tables), for memory accounting.
    pub fn buckets(&self) -> usize {
        self.t[0].buckets.len() + self.t[1].buckets.len()
    }

    /// Bytes a node holding a key of `klen` bytes asks the allocator for
    /// (header, length prefix and key), for memory accounting.
    pub fn node_size(klen: usize) -> usize {
        Head::<V>::layout(klen).size()
    }

    /// True while a resize is in progress.
    pub fn is_rehashing(&self) -> bool {
        self.rehash_idx.is_some()
    }

    /// Moves up to `n` non-empty buckets (visiting at most `10 * n` empty
    /// ones) from the old table to the new one. Returns true if more work
    /// remains.
    pub fn rehash(&mut self, n: usize) -> bool {
        let Some(mut idx) = self.rehash_idx else {
            return false;
        };
        let mut empty_visits = n * 10;
        let mut n = n;
        while n > 0 && self.t[0].used != 0 {
            while idx < self.t[0].buckets.len() && self.t[0].buckets[idx].is_none() {
                idx += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    self.rehash_idx = Some(idx);
                    return true;
                }
            }
            if idx >= self.t[0].buckets.len() {
                break;
            }
            let mut chain = self.t[0].buckets[idx].take();
            let m1 = self.t[1].mask();
            while let Some(node) = chain {
                // SAFETY: `node` is a live node just unlinked from t0's
                // chain (its successor is read first); it is relinked at
                // the head of a t1 bucket, so it stays owned by the dict.
                unsafe {
                    chain = (*node.as_ptr()).next;
                    let h = self.hasher.hash_one(Head::key(node)) as usize & m1;
                    (*node.as_ptr()).next = self.t[1].buckets[h];
                    self.t[1].buckets[h] = Some(node);
                }
                self.t[0].used -= 1;
                self.t[1].used += 1;
            }
            idx += 1;
            n -= 1;
        }
        if self.t[0].used == 0 {
            let new = std::mem::replace(&mut self.t[1], Table::empty());
            let old = std::mem::replace(&mut self.t[0], new);
            self.rehash_idx = None;
            free_buckets(old.buckets);
            return false;
        }
        self.rehash_idx = Some(idx);
        true
    }

    /// Rehashes for about `ms` milliseconds; used by the server cron so an
    /// idle table still finishes its resize.
    pub fn rehash_for(&mut self, ms: u64) -> bool {
        let start = std::time::Instant::now();
        let limit = std::time::Duration::from_millis(ms);
        while self.rehash(100) {
            if start.elapsed() >= limit {
                return true;
            }
        }
        false
    }

    fn step(&mut self) {
        if self.rehash_idx.is_some() {
            self.rehash(1);
        }
    }

    fn start_resize(&mut self, size: usize) {
        let size = size.max(INITIAL_SIZE).next_power_of_two();
        if self.t[0].buckets.is_empty() {
            // Empty table: no nodes to lose.
            self.t[0] = Table::with_size(size);
            return;
        }
        if size == self.t[0].buckets.len() {
            return;
        }
        self.t[1] = Table::with_size(size);
        self.rehash_idx = Some(0);
    }

    fn grow_if_needed(&mut self) {
        if self.rehash_idx.is_some() {
            return;
        }
        if self.t[0].buckets.is_empty() {
            self.start_resize(INITIAL_SIZE);
        } else if self.t[0].used >= self.t[0].buckets.len() {
            self.start_resize(self.t[0].used + 1);
        }
    }

    /// Starts shrinking the table if it is mostly empty; called from cron.
    pub fn shrink_if_needed(&mut self) {
        if self.rehash_idx.is_some() {
            return;
        }
        let size = self.t[0].buckets.len();
        if size > INITIAL_SIZE && self.t[0].used * 100 / size < MIN_FILL {
            self.start_resize(self.t[0].used.max(INITIAL_SIZE));
        }
    }

    /// The node holding `key` in table `ti`, given the key's hash.
    fn find_in(&self, ti: usize, h: usize, key: &[u8]) -> Link<V> {
        let t = &self.t[ti];
        if t.buckets.is_empty() {
            return None;
        }
        let mut found = None;
        walk(t.buckets[h & t.mask()], |n| {
            // SAFETY: `n` is live while `self` is borrowed.
            if unsafe { Head::key(n) } == key {
                found = Some(n);
                return false;
            }
            true
        });
        found
    }

    /// The node holding `key` in either table.
    fn find(&self, key: &[u8]) -> Link<V> {
        if self.is_empty() {
            return None;
        }
        let h = self.hash(key);
        if let Some(n) = self.find_in(0, h, key) {
            return Some(n);
        }
        if self.rehash_idx.is_some() {
            return self.find_in(1, h, key);
        }
        None
    }

    /// Looks a key up without moving any rehash step (read paths that hold
    /// only `&self`).
    pub fn get(&self, key: &[u8]) -> Option<&V> {
        // SAFETY: the node lives as long as `self` is borrowed; only a
        // shared reference is given out for a shared borrow.
        self.find(key).map(|n| unsafe { &(*n.as_ptr()).val })
    }

    /// Looks a key up for modification.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        if self.is_empty() {
            return None;
        }
        self.step();
        // SAFETY: the node lives as long as `self` is borrowed mutably, and
        // that exclusive borrow makes this the only reference into it.
        self.find(key).map(|n| unsafe { &mut (*n.as_ptr()).val })
    }

    /// The stored key and value for `key`.
    pub fn get_key_value(&self, key: &[u8]) -> Option<(&[u8], &V)> {
        // SAFETY: as in `get`.
        self.find(key)
            .map(|n| unsafe { (Head::key(n), &(*n.as_ptr()).val) })
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, key: Key, val: V) -> Option<V> {
        self.insert_slice(&key, val)
    }

    /// Inserts or replaces, copying the key; returns the previous value.
    pub fn insert_slice(&mut self, key: &[u8], val: V) -> Option<V> {
        if let Some(v) = self.get_mut(key) {
            return Some(std::mem::replace(v, val));
        }
        self.insert_new_slice(key, val);
        None
    }

    /// Inserts a key known to be absent.
    pub fn insert_new(&mut self, key: Key, val: V) {
        self.insert_new_slice(&key, val)
    }

    /// Inserts a key known to be absent, copying its bytes into the node
    /// (one allocation per entry).
    pub fn insert_new_slice(&mut self, key: &[u8], val: V) {
        self.grow_if_needed();
        self.step();
        let h = self.hash(key);
        let ti = if self.rehash_idx.is_some() { 1 } else { 0 };
        let t = &mut self.t[ti];
        let b = h & t.mask();
        t.buckets[b] = Some(Head::new(key, val, t.buckets[b]));
        t.used += 1;
    }

    /// Unlinks the node holding `key` and returns it (still allocated).
    fn unlink(&mut self, key: &[u8]) -> Link<V> {
        if self.is_empty() {
            return None;
        }
        self.step();
        let h = self.hash(key);
        let tables = if self.rehash_idx.is_some() { 2 } else { 1 };
        for ti in 0..tables {
            let t = &mut self.t[ti];
            if t.buckets.is_empty() {
                continue;
            }
            let b = h & t.mask();
            let mut link: *mut Link<V> = &mut t.buckets[b];
            // SAFETY: `link` points at a bucket of `t` or at the `next`
            // field of a live node of its chain; `t` is borrowed mutably,
            // so nothing else reads or writes them meanwhile.
            unsafe {
                while let Some(n) = *link {
                    if Head::key(n) == key {
                        *link = (*n.as_ptr()).next;
                        t.used -= 1;
                        return Some(n);
                    }
                    link = std::ptr::addr_of_mut!((*n.as_ptr()).next);
                }
            }
        }
        None
    }

    /// Removes a key; returns its stored key and value.
    pub fn remove(&mut self, key: &[u8]) -> Option<(Key, V)> {
        let n = self.unlink(key)?;
        // SAFETY: `n` was just unlinked: the dict no longer reaches it.
        unsafe {
            let k: Key = Head::key(n).into();
            Some((k, Head::free(n)))
        }
    }

    /// Removes a key; returns its value (no copy of the key is made).
    pub fn remove_value(&mut self, key: &[u8]) -> Option<V> {
        let n = self.unlink(key)?;
        // SAFETY: `n` was just unlinked: the dict no longer reaches it.
        Some(unsafe { Head::free(n) })
    }

    /// Removes everything.
    pub fn clear(&mut self) {
        self.t[0].free_nodes();
        self.t[1].free_nodes();
        self.t = [Table::empty(), Table::empty()];
        self.rehash_idx = None;
    }

    fn emit_bucket<F: FnMut(&[u8], &V)>(t: &Table<V>, idx: usize, f: &mut F) {
        walk(t.buckets[idx], |n| {
            // SAFETY: `n` is live while the table is borrowed.
            unsafe { f(Head::key(n), &(*n.as_ptr()).val) };
            true
        });
    }

    /// One step of a `SCAN`: calls `f` for every entry of the bucket(s) the
    /// cursor points at and returns the next cursor (0 when done). Every
    /// entry present for the whole iteration is returned at least once, even
    /// if the table grows or shrinks in between (Redis's reverse-binary
    /// cursor).
    pub fn scan<F: FnMut(&[u8], &V)>(&self, cursor: u64, mut f: F) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let mut v = cursor as usize;
        if self.rehash_idx.is_none() {
            let t0 = &self.t[0];
            let m0 = t0.mask();
            Self::emit_bucket(t0, v & m0, &mut f);
            v |= !m0;
            v = rev(v);
            v = v.wrapping_add(1);
            v = rev(v);
        } else {
            let (small, big) = if self.t[0].buckets.len() <= self.t[1].buckets.len() {
                (&self.t[0], &self.t[1])
            } else {
                (&self.t[1], &self.t[0])
            };
            let m0 = small.mask();
            let m1 = big.mask();
            Self::emit_bucket(small, v & m0, &mut f);
            loop {
                Self::emit_bucket(big, v & m1, &mut f);
                v |= !m1;
                v = rev(v);
                v = v.wrapping_add(1);
                v = rev(v);
                if v & (m0 ^ m1) == 0 {
                    break;
                }
            }
        }
        v as u64
    }

    /// A uniformly chosen bucket's random entry (as Redis's
    /// `dictGetRandomKey`), or `None` when empty. `rnd` supplies randomness.
    pub fn random_entry(&self, mut rnd: impl FnMut() -> usize) -> Option<(&[u8], &V)> {
        if self.is_empty() {
            return None;
        }
        loop {
            let (t, idx) = if let Some(ri) = self.rehash_idx {
                let s0 = self.t[0].buckets.len();
                let s1 = self.t[1].buckets.len();
                // Buckets of t0 below rehash_idx are empty.
                let span = s0 + s1 - ri;
                let i = ri + rnd() % span.max(1);
                if i >= s0 {
                    (&self.t[1], i - s0)
                } else {
                    (&self.t[0], i)
                }
            } else {
                let s0 = self.t[0].buckets.len();
                (&self.t[0], rnd() % s0.max(1))
            };
            if let Some(head) = t.buckets.get(idx).copied().flatten() {
                let mut len = 0;
                walk(Some(head), |_| {
                    len += 1;
                    true
                });
                let mut k = rnd() % len;
                let mut pick = head;
                walk(Some(head), |n| {
                    pick = n;
                    if k == 0 {
                        return false;
                    }
                    k -= 1;
                    true
                });
                // SAFETY: `pick` is live while `self` is borrowed.
                return Some(unsafe { (Head::key(pick), &(*pick.as_ptr()).val) });
            }
        }
    }

    /// Iterates over all entries (no particular order).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &V)> {
        self.t.iter().flat_map(|t| {
            t.buckets.iter().flat_map(|b| {
                let mut cur = *b;
                std::iter::from_fn(move || {
                    let n = cur?;
                    // SAFETY: `n` is live while `self` is borrowed (the
                    // iterator borrows it).
                    unsafe {
                        cur = (*n.as_ptr()).next;
                        Some((Head::key(n), &(*n.as_ptr()).val))
                    }
                })
            })
        })
    }

    /// Keeps only the entries for which `keep` returns true, visiting the
    /// buckets the cursor points at (same cursor rules as [`Dict::scan`]).
    /// Returns the removed entries and the next cursor. Used by the active
    /// expiry cycle.
    pub fn scan_remove<F: FnMut(&[u8], &V) -> bool>(
        &mut self,
        cursor: u64,
        mut remove: F,
        removed: &mut Vec<(Key, V)>,
    ) -> u64 {
        let mut doomed: Vec<Key> = Vec::new();
        let next = self.scan(cursor, |k, v| {
            if remove(k, v) {
                doomed.push(k.into());
            }
        });
        for k in doomed {
            if let Some(v) = self.remove_value(&k) {
                removed.push((k, v));
            }
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn k(i: usize) -> Key {
        format!("key:{i}").into_bytes().into_boxed_slice()
    }

    #[test]
    fn insert_get_remove_through_resizes() {
        let mut d = Dict::new();
        for i in 0..10_000 {
            assert!(d.insert(k(i), i).is_none());
        }
        assert_eq!(d.len(), 10_000);
        for i in 0..10_000 {
            assert_eq!(d.get(&k(i)), Some(&i));
        }
        for i in 0..9_990 {
            assert_eq!(d.remove(&k(i)).map(|e| e.1), Some(i));
        }
        d.shrink_if_needed();
        while d.rehash(100) {}
        assert_eq!(d.len(), 10);
        assert!(d.buckets() <= 64);
        assert_eq!(d.insert(k(9_995), 1), Some(9_995));
    }

    #[test]
    fn scan_sees_every_stable_key_while_growing() {
        let mut d = Dict::new();
        for i in 0..1000 {
            d.insert(k(i), ());
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut extra = 1000;
        loop {
            cursor = d.scan(cursor, |key, _| {
                seen.insert(key.to_vec());
            });
            // Grow the table between steps (to 8x its size, then stop:
            // a table that grows for ever is a scan that never ends).
            if extra < 8000 {
                for _ in 0..50 {
                    d.insert(k(extra), ());
                    extra += 1;
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..1000 {
            assert!(seen.contains(&*k(i)), "missed key {i}");
        }
    }

    #[test]
    fn scan_sees_every_stable_key_while_shrinking() {
        let mut d = Dict::new();
        for i in 0..5000 {
            d.insert(k(i), ());
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut del = 100;
        loop {
            cursor = d.scan(cursor, |key, _| {
                seen.insert(key.to_vec());
            });
            for _ in 0..200 {
                if del < 5000 {
                    d.remove(&k(del));
                    del += 1;
                }
            }
            d.shrink_if_needed();
            if cursor == 0 {
                break;
            }
        }
        for i in 0..100 {
            assert!(seen.contains(&*k(i)), "missed key {i}");
        }
    }

    #[test]
    fn keys_of_every_length_round_trip() {
        // Empty, short, at and around the 255-byte long-length switch, big.
        let lens = [0usize, 1, 7, 8, 12, 254, 255, 256, 1000, 70_000];
        let mut d = Dict::new();
        for &n in &lens {
            let key: Vec<u8> = (0..n).map(|i| (i * 7 + n) as u8).collect();
            assert!(d.insert_slice(&key, n).is_none());
        }
        for &n in &lens {
            let key: Vec<u8> = (0..n).map(|i| (i * 7 + n) as u8).collect();
            assert_eq!(d.get(&key), Some(&n));
            assert_eq!(
                d.get_key_value(&key).map(|(k, _)| k.to_vec()),
                Some(key.clone())
            );
            assert!(Dict::<usize>::node_size(n) >= n);
        }
        let mut seen: Vec<usize> = d
            .iter()
            .map(|(k, v)| {
                assert_eq!(k.len(), *v);
                *v
            })
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, lens);
        for &n in &lens {
            let key: Vec<u8> = (0..n).map(|i| (i * 7 + n) as u8).collect();
            assert_eq!(d.remove(&key), Some((key.clone().into_boxed_slice(), n)));
            assert!(d.get(&key).is_none());
        }
        assert!(d.is_empty());
    }

    #[test]
    fn values_are_dropped_exactly_once() {
        use std::rc::Rc;
        let token = Rc::new(());
        {
            let mut d = Dict::new();
            for i in 0..3000 {
                d.insert(k(i), Rc::clone(&token));
            }
            // Replace, remove (both ways), then drop the rest mid-rehash.
            for i in 0..100 {
                assert!(d.insert(k(i), Rc::clone(&token)).is_some());
            }
            for i in 100..200 {
                assert!(d.remove(&k(i)).is_some());
            }
            for i in 200..300 {
                assert!(d.remove_value(&k(i)).is_some());
            }
            assert_eq!(Rc::strong_count(&token), 1 + 2800);
            for i in 3000..5000 {
                d.insert(k(i), Rc::clone(&token));
            }
            assert_eq!(d.len(), 4800);
            let sevens = d.iter().filter(|(key, _)| key.ends_with(b"7")).count();
            assert_eq!(sevens, 480);
            let mut removed = Vec::new();
            let mut cursor = 0;
            loop {
                cursor = d.scan_remove(cursor, |key, _| key.ends_with(b"7"), &mut removed);
                if cursor == 0 {
                    break;
                }
            }
            assert_eq!(removed.len(), 480);
            drop(removed);
            assert_eq!(Rc::strong_count(&token), 1 + 4800 - 480);
            d.clear();
            assert_eq!(Rc::strong_count(&token), 1);
            for i in 0..2000 {
                d.insert(k(i), Rc::clone(&token));
            }
        }
        assert_eq!(Rc::strong_count(&token), 1);
    }

    #[test]
    fn rehash_keeps_every_entry_reachable() {
        let mut d = Dict::new();
        for i in 0..50_000 {
            d.insert_new_slice(&k(i), i);
            if i % 997 == 0 {
                for j in 0..=i {
                    if j % 1013 == 0 {
                        assert_eq!(d.get(&k(j)), Some(&j));
                    }
                }
            }
        }
        while d.rehash(100) {}
        assert_eq!(d.iter().count(), 50_000);
        for i in 0..50_000 {
            assert_eq!(d.get_mut(&k(i)).map(|v| *v), Some(i));
        }
    }

    #[test]
    fn random_entry_returns_members() {
        let mut d = Dict::new();
        assert!(d.random_entry(|| 7).is_none());
        for i in 0..100 {
            d.insert(k(i), i);
        }
        let mut x = 12345usize;
        for _ in 0..100 {
            let (key, v) = d
                .random_entry(|| {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                    x >> 33
                })
                .unwrap();
            assert_eq!(&*k(*v), key);
        }
    }

    #[test]
    fn growth_past_the_background_free_size_keeps_every_entry() {
        // 2^21 buckets (16 MB) are reached at 1M+ entries: the emptied
        // 8 MB array of the last doubling is freed on its own thread.
        let n = (BACKGROUND_FREE_BYTES / std::mem::size_of::<usize>()) + 1;
        let mut d = Dict::new();
        for i in 0..n {
            d.insert_new_slice(&k(i), i);
            d.rehash(1);
        }
        while d.rehash(1000) {}
        assert!(d.buckets() * std::mem::size_of::<usize>() > BACKGROUND_FREE_BYTES);
        assert_eq!(d.len(), n);
        for i in (0..n).step_by(4099) {
            assert_eq!(d.get(&k(i)), Some(&i));
        }
        // The array handed over is freed without touching the dict.
        free_buckets::<usize>(vec![None; 1 << 21]);
    }
}
