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

use std::hash::BuildHasher;

/// A key: an owned, immutable byte string.
pub type Key = Box<[u8]>;

struct Node<V> {
    key: Key,
    val: V,
    next: Option<Box<Node<V>>>,
}

struct Table<V> {
    buckets: Vec<Option<Box<Node<V>>>>,
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
        let Ok(layout) = std::alloc::Layout::array::<Option<Box<Node<V>>>>(n) else {
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
        // SAFETY: `layout` is non-zero-sized; an all-zero `Option<Box<_>>`
        // is `None` (the null-pointer optimisation is guaranteed for
        // `Option<Box<T>>`), so the `n` elements are initialised; the Vec
        // owns the allocation made with the same layout.
        let buckets = unsafe {
            let p = std::alloc::alloc_zeroed(layout) as *mut Option<Box<Node<V>>>;
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
            while let Some(mut node) = chain {
                chain = node.next.take();
                let h = self.hasher.hash_one(&*node.key) as usize & self.t[1].mask();
                node.next = self.t[1].buckets[h].take();
                self.t[1].buckets[h] = Some(node);
                self.t[0].used -= 1;
                self.t[1].used += 1;
            }
            idx += 1;
            n -= 1;
        }
        if self.t[0].used == 0 {
            self.t[0] = std::mem::replace(&mut self.t[1], Table::empty());
            self.rehash_idx = None;
            return false;
        }
        self.rehash_idx = Some(idx);
        true
    }

    /// Rehashes for about `ms` milliseconds; used by the server cron so an
    /// idle table still finishes its resize.
    pub fn rehash_for(&mut self, ms: u64) -> bool {
        let start = std::time::Instant::now();
        while self.rehash(100) {
            if start.elapsed().as_millis() as u64 >= ms {
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

    fn find_in(&self, ti: usize, h: usize, key: &[u8]) -> Option<&Node<V>> {
        let t = &self.t[ti];
        if t.buckets.is_empty() {
            return None;
        }
        let mut cur = t.buckets[h & t.mask()].as_deref();
        while let Some(n) = cur {
            if &*n.key == key {
                return Some(n);
            }
            cur = n.next.as_deref();
        }
        None
    }

    /// Looks a key up without moving any rehash step (read paths that hold
    /// only `&self`).
    pub fn get(&self, key: &[u8]) -> Option<&V> {
        if self.is_empty() {
            return None;
        }
        let h = self.hash(key);
        if let Some(n) = self.find_in(0, h, key) {
            return Some(&n.val);
        }
        if self.rehash_idx.is_some() {
            return self.find_in(1, h, key).map(|n| &n.val);
        }
        None
    }

    /// Looks a key up for modification.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        if self.is_empty() {
            return None;
        }
        self.step();
        let h = self.hash(key);
        let rehashing = self.rehash_idx.is_some();
        let [t0, t1] = &mut self.t;
        if let Some(v) = Self::find_mut_in(t0, h, key) {
            return Some(v);
        }
        if rehashing {
            return Self::find_mut_in(t1, h, key);
        }
        None
    }

    fn find_mut_in<'t>(t: &'t mut Table<V>, h: usize, key: &[u8]) -> Option<&'t mut V> {
        if t.buckets.is_empty() {
            return None;
        }
        let m = t.mask();
        let mut cur = t.buckets[h & m].as_deref_mut();
        while let Some(n) = cur {
            if &*n.key == key {
                return Some(&mut n.val);
            }
            cur = n.next.as_deref_mut();
        }
        None
    }

    /// The stored key and value for `key`.
    pub fn get_key_value(&self, key: &[u8]) -> Option<(&[u8], &V)> {
        if self.is_empty() {
            return None;
        }
        let h = self.hash(key);
        let tables = if self.rehash_idx.is_some() { 2 } else { 1 };
        for ti in 0..tables {
            if let Some(n) = self.find_in(ti, h, key) {
                return Some((&n.key, &n.val));
            }
        }
        None
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, key: Key, val: V) -> Option<V> {
        if let Some(v) = self.get_mut(&key) {
            return Some(std::mem::replace(v, val));
        }
        self.insert_new(key, val);
        None
    }

    /// Inserts a key known to be absent.
    pub fn insert_new(&mut self, key: Key, val: V) {
        self.grow_if_needed();
        self.step();
        let h = self.hash(&key);
        let ti = if self.rehash_idx.is_some() { 1 } else { 0 };
        let t = &mut self.t[ti];
        let b = h & t.mask();
        let next = t.buckets[b].take();
        t.buckets[b] = Some(Box::new(Node { key, val, next }));
        t.used += 1;
    }

    /// Removes a key; returns its stored key and value.
    pub fn remove(&mut self, key: &[u8]) -> Option<(Key, V)> {
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
            let mut link = &mut t.buckets[b];
            loop {
                match link {
                    None => break,
                    Some(n) if &*n.key == key => {
                        let mut node = link.take()?;
                        *link = node.next.take();
                        t.used -= 1;
                        return Some((node.key, node.val));
                    }
                    Some(n) => link = &mut n.next,
                }
            }
        }
        None
    }

    /// Removes everything.
    pub fn clear(&mut self) {
        self.t = [Table::empty(), Table::empty()];
        self.rehash_idx = None;
    }

    fn emit_bucket<F: FnMut(&[u8], &V)>(t: &Table<V>, idx: usize, f: &mut F) {
        let mut cur = t.buckets[idx].as_deref();
        while let Some(n) = cur {
            f(&n.key, &n.val);
            cur = n.next.as_deref();
        }
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
            if let Some(head) = t.buckets.get(idx).and_then(|b| b.as_deref()) {
                let mut len = 0;
                let mut cur = Some(head);
                while let Some(n) = cur {
                    len += 1;
                    cur = n.next.as_deref();
                }
                let mut k = rnd() % len;
                let mut cur = head;
                while k > 0 {
                    match cur.next.as_deref() {
                        Some(n) => cur = n,
                        None => break,
                    }
                    k -= 1;
                }
                return Some((&cur.key, &cur.val));
            }
        }
    }

    /// Iterates over all entries (no particular order).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &V)> {
        self.t.iter().flat_map(|t| {
            t.buckets.iter().flat_map(|b| {
                let mut cur = b.as_deref();
                std::iter::from_fn(move || {
                    let n = cur?;
                    cur = n.next.as_deref();
                    Some((&*n.key, &n.val))
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
            if let Some(e) = self.remove(&k) {
                removed.push(e);
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
}
