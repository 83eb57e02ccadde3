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
//!
//! Each entry is one allocation (see [`Head`]): chain link, value, a 24-bit
//! access clock (keyspace only), a meta byte (key length, "has expiry"
//! flag), the key bytes, and an 8-byte expiry only for keys that were
//! given one. For the keyspace (`V` = the 24-byte `Value`) a 12-byte key
//! makes a 48-byte node,
//! jemalloc's 48 class, where a fixed `{next, value, expire, lru}` header
//! plus the key needed 61 bytes (the 64 class). Callers see entries as
//! [`Entry`] views (the value as a field, the rest through accessors).

use std::alloc::{alloc, dealloc, handle_alloc_error, realloc, Layout};
use std::hash::BuildHasher;
use std::ptr::NonNull;

/// A key: an owned, immutable byte string.
pub type Key = Box<[u8]>;

/// What a [`Dict`] keeps per entry besides its key, value and expiry.
pub trait DictValue {
    /// True for the keyspace: every node keeps a 24-bit access clock (LRU
    /// seconds or the LFU word, Redis's `robj.lru`) in 3 bytes before its
    /// meta byte. Other dicts (big hashes, sets and sorted sets) spend no
    /// bytes on it, and an entry's `lru()` reads 0 from them.
    const ACCESS_CLOCK: bool = false;
}

impl DictValue for () {}
impl DictValue for f64 {}
impl DictValue for Box<[u8]> {}

/// The fixed part of a node. A node is ONE allocation:
///
/// ```text
/// [next: 8][val: V][clock: 3, keyspace only][meta: 1][key length (long keys only): 8][key bytes][expire: 8, optional]
/// ```
///
/// `clock` is the key's 24-bit access clock (LRU seconds or LFU word, as
/// Redis's `robj.lru`), little-endian, present only when
/// [`DictValue::ACCESS_CLOCK`] (the keyspace). The `meta` byte describes
/// the key: its low 7 bits are the key's length when below [`LONG_KEY`]
/// (else [`LONG_KEY`], and the length follows as 8 little-endian bytes),
/// and its top bit [`HAS_EXPIRE`] says that an 8-byte little-endian expiry
/// (Unix ms; 0 = none) follows the key bytes. Only keys that were ever
/// given a TTL pay for that field, and a lookup tests one bit before it
/// looks at it.
///
/// With `V` = the keyspace's 24-byte `Value`, the key starts at offset 36:
/// a 12-byte key makes a 48-byte node (jemalloc's 48 class; with a separate
/// 8-byte expiry and a one-byte length after a padded header it was 61 →
/// the 64 class). Keeping the key inline also saves the separate key
/// allocation (Redis's dictEntry + sds key cost two small chunks). A set
/// member (`V` = `()`) starts at offset 9, so members of up to 7 bytes
/// fit jemalloc's 16-byte class.
///
/// The header is never read or written as a whole `Head` through a
/// reference or a typed copy after creation (its size is below the node's,
/// but only fields are touched, through raw pointers): the clock, `meta`
/// and the key live right after it.
#[repr(C)]
struct Head<V> {
    next: Link<V>,
    val: V,
}

/// A chain link: null-pointer-optimised, so an all-zero bucket array is a
/// table of empty buckets.
type Link<V> = Option<NonNull<Head<V>>>;

/// The length value (low 7 bits of the meta byte) that announces an 8-byte
/// length.
const LONG_KEY: u8 = 0x7f;
/// Meta byte flag: an 8-byte expiry follows the key bytes.
const HAS_EXPIRE: u8 = 0x80;
/// The access clock's 24 bits.
pub const LRU_MASK: u32 = 0xff_ffff;

/// Where the key bytes of the node whose meta byte is at `m` start, and
/// their length. Raw pointers only (no reference is formed), so the result
/// may be used to reach the expiry field after the key.
///
/// # Safety
/// `m` must point at the meta byte of a live node.
unsafe fn m_key_raw(m: *const u8) -> (*mut u8, usize) {
    let b = m.read() & !HAS_EXPIRE;
    let kp = (m as *mut u8).add(1);
    if b != LONG_KEY {
        (kp, b as usize)
    } else {
        let mut len = [0u8; 8];
        std::ptr::copy_nonoverlapping(kp, len.as_mut_ptr(), 8);
        (kp.add(8), u64::from_le_bytes(len) as usize)
    }
}

/// The key bytes of the node whose meta byte is at `m`.
///
/// # Safety
/// `m` must point at the meta byte of a live node; the slice must not
/// outlive it.
unsafe fn m_key<'a>(m: *const u8) -> &'a [u8] {
    let (p, n) = m_key_raw(m);
    std::slice::from_raw_parts(p, n)
}

/// Where the expiry field would be (right after the key bytes).
///
/// # Safety
/// As [`m_key_raw`]; the field exists only when the meta byte has
/// [`HAS_EXPIRE`].
unsafe fn m_expire_ptr(m: *const u8) -> *mut u8 {
    let (p, n) = m_key_raw(m);
    p.add(n)
}

/// True if the node has an expiry field (it may hold 0).
///
/// # Safety
/// As [`m_key`].
unsafe fn m_has_slot(m: *const u8) -> bool {
    m.read() & HAS_EXPIRE != 0
}

/// The node's expiry (0: none). Keys without the field cost one byte test.
///
/// # Safety
/// As [`m_key`].
unsafe fn m_expire(m: *const u8) -> u64 {
    if !m_has_slot(m) {
        return 0;
    }
    let mut b = [0u8; 8];
    std::ptr::copy_nonoverlapping(m_expire_ptr(m), b.as_mut_ptr(), 8);
    u64::from_le_bytes(b)
}

/// The access clock stored in the 3 bytes before the meta byte at `m`.
///
/// # Safety
/// As [`m_key`], and the node must be of a dict whose values keep a clock
/// ([`DictValue::ACCESS_CLOCK`]).
unsafe fn m_lru(m: *const u8) -> u32 {
    let mut b = [0u8; 4];
    std::ptr::copy_nonoverlapping(m.sub(3), b.as_mut_ptr(), 3);
    u32::from_le_bytes(b)
}

/// Writes the access clock (24 bits kept) into the 3 bytes before `m`.
///
/// # Safety
/// As [`m_lru`], and nothing else may reference the node.
unsafe fn m_write_lru(m: *mut u8, lru: u32) {
    let b = (lru & LRU_MASK).to_le_bytes();
    std::ptr::copy_nonoverlapping(b.as_ptr(), m.sub(3), 3);
}

/// Writes the expiry field.
///
/// # Safety
/// As [`m_key`], the node must have the field, and nothing else may
/// reference it.
unsafe fn m_write_expire(m: *mut u8, at: u64) {
    std::ptr::copy_nonoverlapping(at.to_le_bytes().as_ptr(), m_expire_ptr(m), 8);
}

impl<V: DictValue> Head<V> {
    /// Bytes of access clock per node (see [`DictValue::ACCESS_CLOCK`]).
    const CLOCK_BYTES: usize = if V::ACCESS_CLOCK { 3 } else { 0 };

    /// Offset of the meta byte: after the header (a multiple of 8, since
    /// the header holds a pointer) and the clock bytes, if any.
    const META_OFF: usize = std::mem::size_of::<Head<V>>() + Self::CLOCK_BYTES;

    /// The allocation of a node holding a key of `klen` bytes, with or
    /// without the expiry field. Always more than `size_of::<Head<V>>()`.
    fn layout(klen: usize, expire: bool) -> Layout {
        let prefix = Self::CLOCK_BYTES + if klen < LONG_KEY as usize { 1 } else { 9 };
        let size = std::mem::size_of::<Head<V>>()
            .checked_add(prefix)
            .and_then(|s| s.checked_add(klen))
            .and_then(|s| s.checked_add(if expire { 8 } else { 0 }));
        match size.and_then(|s| Layout::from_size_align(s, std::mem::align_of::<Head<V>>()).ok()) {
            Some(l) => l,
            // A key this large cannot exist (it is an existing slice).
            None => std::process::abort(),
        }
    }

    /// The meta byte of node `p`.
    fn meta(p: NonNull<Head<V>>) -> NonNull<u8> {
        // SAFETY: every node is at least `META_OFF + 1` bytes, so the
        // offset stays inside the allocation (and `p` is non-null).
        unsafe { NonNull::new_unchecked((p.as_ptr() as *mut u8).add(Self::META_OFF)) }
    }

    /// Allocates a node for `key` and `val` linked before `next`, with
    /// access clock `lru` and expiry `expire` (0: none, and no field).
    fn new(key: &[u8], val: V, next: Link<V>, lru: u32, expire: u64) -> NonNull<Head<V>> {
        let layout = Self::layout(key.len(), expire != 0);
        // SAFETY: `layout` is non-zero-sized and aligned for `Head<V>`;
        // the fields are written one by one through raw pointers (no
        // whole-struct write that could touch padding), the clock bytes
        // before `META_OFF`, the meta byte at it, and the length prefix,
        // key bytes and expiry after it stay within `layout.size()` by
        // construction of `layout`.
        unsafe {
            let p = alloc(layout) as *mut Head<V>;
            if p.is_null() {
                handle_alloc_error(layout);
            }
            std::ptr::addr_of_mut!((*p).next).write(next);
            std::ptr::addr_of_mut!((*p).val).write(val);
            let m = (p as *mut u8).add(Self::META_OFF);
            let n = key.len();
            let mut kb = if n < LONG_KEY as usize {
                n as u8
            } else {
                LONG_KEY
            };
            if expire != 0 {
                kb |= HAS_EXPIRE;
            }
            m.write(kb);
            if V::ACCESS_CLOCK {
                m_write_lru(m, lru);
            }
            let mut data = m.add(1);
            if n >= LONG_KEY as usize {
                std::ptr::copy_nonoverlapping((n as u64).to_le_bytes().as_ptr(), data, 8);
                data = data.add(8);
            }
            std::ptr::copy_nonoverlapping(key.as_ptr(), data, n);
            if expire != 0 {
                m_write_expire(m, expire);
            }
            NonNull::new_unchecked(p)
        }
    }

    /// The key stored in node `p`.
    ///
    /// # Safety
    /// `p` must be a live node made by [`Head::new`]; the slice must not
    /// outlive it.
    unsafe fn key<'a>(p: NonNull<Head<V>>) -> &'a [u8] {
        m_key(Self::meta(p).as_ptr())
    }

    /// The allocation layout of live node `p`.
    ///
    /// # Safety
    /// `p` must be a live node.
    unsafe fn layout_of(p: NonNull<Head<V>>) -> Layout {
        let m = Self::meta(p).as_ptr();
        Self::layout(m_key_raw(m).1, m_has_slot(m))
    }

    /// Frees node `p` and returns its value, access clock and expiry.
    ///
    /// # Safety
    /// `p` must be a live node made by [`Head::new`], unlinked from every
    /// table; it is dangling afterwards.
    unsafe fn take(p: NonNull<Head<V>>) -> (V, u32, u64) {
        let m = Self::meta(p).as_ptr();
        let lru = if V::ACCESS_CLOCK { m_lru(m) } else { 0 };
        let exp = m_expire(m);
        let layout = Self::layout_of(p);
        let val = std::ptr::addr_of!((*p.as_ptr()).val).read();
        dealloc(p.as_ptr() as *mut u8, layout);
        (val, lru, exp)
    }

    /// Frees node `p` and returns its value.
    ///
    /// # Safety
    /// As [`Head::take`].
    unsafe fn free(p: NonNull<Head<V>>) -> V {
        Self::take(p).0
    }

    /// Returns node `p` grown by the expiry field (set to 0), moving it if
    /// the allocator must; the caller relinks the result.
    ///
    /// # Safety
    /// `p` must be a live node without the field; the old pointer is
    /// dangling afterwards and every link to it must be replaced.
    unsafe fn add_expire_slot(p: NonNull<Head<V>>) -> NonNull<Head<V>> {
        let old = Self::layout_of(p);
        let new_size = old.size() + 8;
        // A move by realloc is a byte copy, which is how Rust moves values.
        let q = realloc(p.as_ptr() as *mut u8, old, new_size) as *mut Head<V>;
        if q.is_null() {
            handle_alloc_error(Layout::from_size_align_unchecked(new_size, old.align()));
        }
        let q = NonNull::new_unchecked(q);
        let m = Self::meta(q).as_ptr();
        m.write(m.read() | HAS_EXPIRE);
        m_write_expire(m, 0);
        q
    }
}

/// A view of a stored entry: its value (`&V`, `&mut V` or a raw pointer to
/// it) and, through accessors, its key, access clock and expiry, which live
/// in the node around the value.
///
/// Match on it as on a struct: `Some(Entry { val: Value::Str(s), .. })`.
pub struct Entry<R> {
    pub val: R,
    meta: NonNull<u8>,
}

impl<R: Clone> Clone for Entry<R> {
    fn clone(&self) -> Self {
        Entry {
            val: self.val.clone(),
            meta: self.meta,
        }
    }
}

impl<R: Copy> Copy for Entry<R> {}

impl<R> Entry<R> {
    /// Absolute expiry in Unix milliseconds; 0 means none.
    pub fn expire(&self) -> u64 {
        // SAFETY: an Entry exists only while its node is live (it borrows
        // the dict, or the raw form is turned back under the same rule).
        unsafe { m_expire(self.meta.as_ptr()) }
    }

    /// The key.
    pub fn key(&self) -> &[u8] {
        // SAFETY: as in `expire`; the slice borrows `self`.
        unsafe { m_key(self.meta.as_ptr()) }
    }

    /// Applies `f` to the value part (e.g. to a raw pointer, to step around
    /// a borrow, or to a reborrow).
    pub fn map<S>(self, f: impl FnOnce(R) -> S) -> Entry<S> {
        Entry {
            val: f(self.val),
            meta: self.meta,
        }
    }
}

/// The access clock of the node whose meta byte is `meta`; 0 for values
/// that keep none.
///
/// # Safety
/// `meta` must be the meta byte of a live node of a `Dict<V>`.
unsafe fn entry_lru<V: DictValue>(meta: NonNull<u8>) -> u32 {
    if V::ACCESS_CLOCK {
        m_lru(meta.as_ptr())
    } else {
        0
    }
}

impl<V: DictValue> Entry<&V> {
    /// The access clock (24 bits: LRU seconds or the LFU word); 0 for
    /// values that keep none.
    pub fn lru(&self) -> u32 {
        // SAFETY: as in `expire`.
        unsafe { entry_lru::<V>(self.meta) }
    }
}

impl<V: DictValue> Entry<&mut V> {
    /// The access clock (24 bits); 0 for values that keep none.
    pub fn lru(&self) -> u32 {
        // SAFETY: as in `expire`.
        unsafe { entry_lru::<V>(self.meta) }
    }

    /// Sets the access clock (24 bits kept); nothing for values that keep
    /// none.
    pub fn set_lru(&mut self, lru: u32) {
        if !V::ACCESS_CLOCK {
            return;
        }
        // SAFETY: the exclusive borrow of the value stands for one of the
        // whole node; the clock bytes are disjoint from the value.
        unsafe { m_write_lru(self.meta.as_ptr(), lru) }
    }
}

impl<V> Entry<&mut V> {
    /// Sets the expiry in place when the node has the field, or clears it
    /// (`at == 0` always succeeds). Returns false when a new expiry needs
    /// the field the node does not have: use [`Dict::set_expire`].
    pub fn set_expire_in_place(&mut self, at: u64) -> bool {
        // SAFETY: as in `set_lru`; the field exists when the flag is set.
        unsafe {
            let m = self.meta.as_ptr();
            if m_has_slot(m) {
                m_write_expire(m, at);
                true
            } else {
                at == 0
            }
        }
    }

    /// A shorter-lived entry for the same node.
    pub fn reborrow(&mut self) -> Entry<&mut V> {
        Entry {
            val: &mut *self.val,
            meta: self.meta,
        }
    }
}

impl<V> Entry<*mut V> {
    /// Turns a raw entry back into a borrowed one.
    ///
    /// # Safety
    /// The node must be live for `'a` and nothing else may access it
    /// meanwhile (it came from [`Dict::entry_mut`] of a dict that stays
    /// exclusively borrowed for `'a`).
    pub unsafe fn assume_mut<'a>(self) -> Entry<&'a mut V> {
        Entry {
            val: &mut *self.val,
            meta: self.meta,
        }
    }
}

impl<V> Entry<*const V> {
    /// Turns a raw entry back into a shared one.
    ///
    /// # Safety
    /// The node must be live and unmodified for `'a`.
    pub unsafe fn assume_ref<'a>(self) -> Entry<&'a V> {
        Entry {
            val: &*self.val,
            meta: self.meta,
        }
    }
}

impl<'a, V> Entry<&'a V> {
    /// The key, for as long as the dict is borrowed.
    pub fn key_ref(&self) -> &'a [u8] {
        // SAFETY: the node lives as long as the `&'a V` borrow of the dict.
        unsafe { m_key(self.meta.as_ptr()) }
    }
}

/// The entry view of live node `n` with a shared value.
///
/// # Safety
/// `n` must be live for `'a` (its dict borrowed).
unsafe fn view<'a, V: DictValue>(n: NonNull<Head<V>>) -> Entry<&'a V> {
    Entry {
        val: &*std::ptr::addr_of!((*n.as_ptr()).val),
        meta: Head::meta(n),
    }
}

/// The entry view of live node `n` with an exclusive value.
///
/// # Safety
/// `n` must be live for `'a` and its dict exclusively borrowed for `'a`.
unsafe fn view_mut<'a, V: DictValue>(n: NonNull<Head<V>>) -> Entry<&'a mut V> {
    Entry {
        val: &mut *std::ptr::addr_of_mut!((*n.as_ptr()).val),
        meta: Head::meta(n),
    }
}

struct Table<V> {
    buckets: Vec<Link<V>>,
    used: usize,
}

impl<V: DictValue> Table<V> {
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

/// Bucket arrays of at least this many bytes are handed back to the system
/// as soon as they are freed.
const RELEASE_TABLE_BYTES: usize = 1 << 20;

/// Frees an emptied table's bucket array. A big one's pages are returned to
/// the system (a finished resize otherwise leaves the old array, half the
/// new one's size, resident as allocator dirty pages: ~8 bytes per key
/// after growing to a million keys, as jemalloc only purges them on later
/// activity). That `madvise` of up to hundreds of MB and the free run on a
/// short-lived thread, so the command that finished the resize does not
/// wait for it (measured: the worst PING while loading 10M keys went from
/// ~20 ms to 80 ms with a purge of every arena on the engine thread).
fn release_table<V>(t: Table<V>) {
    let cap = t.buckets.capacity();
    let bytes = cap * std::mem::size_of::<Link<V>>();
    if bytes < RELEASE_TABLE_BYTES || t.used != 0 {
        drop(t);
        return;
    }
    let Ok(layout) = Layout::array::<Link<V>>(cap) else {
        drop(t);
        return;
    };
    // The table is empty (used == 0): every bucket is None and owns
    // nothing, so the array is plain memory from here on.
    let mut buckets = std::mem::ManuallyDrop::new(t.buckets);
    let addr = buckets.as_mut_ptr() as usize;
    let free = move || {
        // SAFETY: `addr` is the start of a live allocation of `layout`
        // that nothing else references any more (the Vec was forgotten
        // above and its elements need no drop); the madvise only touches
        // whole pages inside it, and the block is freed once, with the
        // layout it was allocated with, after the madvise.
        unsafe {
            let page = 4096usize;
            let start = addr.div_ceil(page) * page;
            let end = (addr + layout.size()) / page * page;
            if end > start {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
            }
            dealloc(addr as *mut u8, layout);
        }
    };
    let spawned = std::thread::Builder::new()
        .name("table-free".into())
        .spawn(free);
    if spawned.is_err() {
        // No thread was started, so the closure never ran: free here.
        free_inline(addr, layout);
    }
}

/// The fallback of [`release_table`]: frees the array on this thread.
fn free_inline(addr: usize, layout: Layout) {
    // SAFETY: as in `release_table`: the allocation is unreferenced and
    // freed once with its own layout (the thread that would have freed it
    // was never started).
    unsafe { dealloc(addr as *mut u8, layout) }
}

/// A hash table from byte-string keys to `V`.
pub struct Dict<V: DictValue> {
    t: [Table<V>; 2],
    /// Next bucket of `t[0]` to move into `t[1]`; `None` when not rehashing.
    rehash_idx: Option<usize>,
    hasher: foldhash::fast::RandomState,
}

impl<V: DictValue> Default for Dict<V> {
    fn default() -> Self {
        Self::new()
    }
}

const INITIAL_SIZE: usize = 4;
/// The table doubles when it holds this many entries per bucket, so the
/// load factor stays between 1 and 2 (Redis doubles at 1: between 0.5 and
/// 1). A bucket is an 8-byte pointer: this halves the array's share of a
/// key (4-8 bytes instead of 8-16; 4.2 instead of 8.4 at a million keys)
/// for about 0.4 more chain nodes visited per successful lookup.
const MAX_LOAD: usize = 2;
/// Shrink when fewer than 1 in 10 buckets hold an entry (Redis's HT_MIN_FILL).
const MIN_FILL: usize = 10;

fn rev(v: usize) -> usize {
    v.reverse_bits()
}

// SAFETY: a Dict owns its nodes exclusively (they are reachable only
// through it), exactly like the `Box` chains it replaces, so it may move to
// or be shared with another thread whenever `V` may.
unsafe impl<V: DictValue + Send> Send for Dict<V> {}
// SAFETY: as above; `&Dict` only gives out `&V` and `&[u8]`.
unsafe impl<V: DictValue + Sync> Sync for Dict<V> {}

impl<V: DictValue> Drop for Dict<V> {
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

impl<V: DictValue> Dict<V> {
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

    /// Bytes a node holding a key of `klen` bytes (without an expiry)
    /// asks the allocator for (header, clock, meta byte, length and key), for
    /// memory accounting.
    pub fn node_size(klen: usize) -> usize {
        Head::<V>::layout(klen, false).size()
    }

    /// Bytes a node holding a key of `klen` bytes asks the allocator for,
    /// with the 8-byte expiry field when `expire`.
    pub fn node_size_with(klen: usize, expire: bool) -> usize {
        Head::<V>::layout(klen, expire).size()
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
            release_table(old);
            return false;
        }
        self.rehash_idx = Some(idx);
        true
    }

    /// Rehashes for about `us` microseconds; used by the server cron so
    /// an idle table still finishes its resize.
    pub fn rehash_for(&mut self, us: u64) -> bool {
        let start = std::time::Instant::now();
        let limit = std::time::Duration::from_micros(us);
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
        } else if self.t[0].used >= self.t[0].buckets.len() * MAX_LOAD {
            self.start_resize(self.t[0].buckets.len() * 2);
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

    /// The entry for `key` (value, key, access clock, expiry), without
    /// moving any rehash step.
    pub fn entry(&self, key: &[u8]) -> Option<Entry<&V>> {
        // SAFETY: the node lives as long as `self` is borrowed.
        self.find(key).map(|n| unsafe { view(n) })
    }

    /// The entry for `key`, for modification.
    pub fn entry_mut(&mut self, key: &[u8]) -> Option<Entry<&mut V>> {
        if self.is_empty() {
            return None;
        }
        self.step();
        // SAFETY: the node lives as long as `self` is borrowed mutably, and
        // that exclusive borrow makes this the only view of it.
        self.find(key).map(|n| unsafe { view_mut(n) })
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
        self.insert_new_full(key, val, 0, 0)
    }

    /// Inserts a key known to be absent with its access clock and expiry
    /// (0: none; the node then has no expiry field).
    pub fn insert_new_full(&mut self, key: &[u8], val: V, lru: u32, expire: u64) {
        self.grow_if_needed();
        self.step();
        let h = self.hash(key);
        let ti = if self.rehash_idx.is_some() { 1 } else { 0 };
        let t = &mut self.t[ti];
        let b = h & t.mask();
        t.buckets[b] = Some(Head::new(key, val, t.buckets[b], lru, expire));
        t.used += 1;
    }

    /// The link (a bucket or a node's `next`) that points at the node
    /// holding `key`, and that node's table.
    fn find_link(&mut self, key: &[u8]) -> Option<(*mut Link<V>, usize)> {
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
                        return Some((link, ti));
                    }
                    link = std::ptr::addr_of_mut!((*n.as_ptr()).next);
                }
            }
        }
        None
    }

    /// Unlinks the node holding `key` and returns it (still allocated).
    fn unlink(&mut self, key: &[u8]) -> Link<V> {
        let (link, ti) = self.find_link(key)?;
        // SAFETY: `link` points at a live link to a live node of table
        // `ti` (just found, nothing changed since), and `self` is borrowed
        // mutably.
        unsafe {
            let n = (*link)?;
            *link = (*n.as_ptr()).next;
            self.t[ti].used -= 1;
            Some(n)
        }
    }

    /// Sets (or with `at == 0` clears) the expiry of `key`; returns its
    /// previous expiry, or `None` if the key is absent. A node without the
    /// expiry field is reallocated 8 bytes longer and relinked in its
    /// chain; clearing leaves the field (holding 0).
    pub fn set_expire(&mut self, key: &[u8], at: u64) -> Option<u64> {
        let (link, _) = self.find_link(key)?;
        // SAFETY: as in `unlink`; the grown node replaces the old one in
        // the only link that pointed at it.
        unsafe {
            let n = (*link)?;
            let m = Head::meta(n).as_ptr();
            let before = m_expire(m);
            if m_has_slot(m) {
                m_write_expire(m, at);
            } else if at != 0 {
                let q = Head::add_expire_slot(n);
                m_write_expire(Head::meta(q).as_ptr(), at);
                *link = Some(q);
            }
            Some(before)
        }
    }

    /// Removes a key; returns its stored key, value, access clock and
    /// expiry.
    pub fn remove_full(&mut self, key: &[u8]) -> Option<(Key, V, u32, u64)> {
        let n = self.unlink(key)?;
        // SAFETY: `n` was just unlinked: the dict no longer reaches it.
        unsafe {
            let k: Key = Head::key(n).into();
            let (v, lru, exp) = Head::take(n);
            Some((k, v, lru, exp))
        }
    }

    /// Removes a key; returns its value and expiry (no copy of the key).
    pub fn remove_value_expire(&mut self, key: &[u8]) -> Option<(V, u64)> {
        let n = self.unlink(key)?;
        // SAFETY: `n` was just unlinked: the dict no longer reaches it.
        let (v, _, exp) = unsafe { Head::take(n) };
        Some((v, exp))
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
        let [a, b] = std::mem::replace(&mut self.t, [Table::empty(), Table::empty()]);
        self.rehash_idx = None;
        release_table(a);
        release_table(b);
    }

    fn emit_bucket<'a, F: FnMut(&'a [u8], Entry<&'a V>)>(t: &'a Table<V>, idx: usize, f: &mut F) {
        walk(t.buckets[idx], |n| {
            // SAFETY: `n` is live while the table is borrowed.
            unsafe { f(Head::key(n), view(n)) };
            true
        });
    }

    /// One step of a `SCAN`: calls `f` for every entry of the bucket(s) the
    /// cursor points at and returns the next cursor (0 when done). Every
    /// entry present for the whole iteration is returned at least once, even
    /// if the table grows or shrinks in between (Redis's reverse-binary
    /// cursor).
    pub fn scan<F: FnMut(&[u8], &V)>(&self, cursor: u64, mut f: F) -> u64 {
        self.scan_entries(cursor, |k, e| f(k, e.val))
    }

    /// [`Dict::scan`] giving whole entries (access clock, expiry).
    pub fn scan_entries<'a, F: FnMut(&'a [u8], Entry<&'a V>)>(
        &'a self,
        cursor: u64,
        mut f: F,
    ) -> u64 {
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
    pub fn random_entry(&self, rnd: impl FnMut() -> usize) -> Option<(&[u8], &V)> {
        self.random_node(rnd).map(|(k, e)| (k, e.val))
    }

    /// [`Dict::random_entry`] giving the whole entry.
    pub fn random_node(&self, mut rnd: impl FnMut() -> usize) -> Option<(&[u8], Entry<&V>)> {
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
                return Some(unsafe { (Head::key(pick), view(pick)) });
            }
        }
    }

    /// Iterates over all entries (no particular order).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &V)> {
        self.iter_entries().map(|(k, e)| (k, e.val))
    }

    /// Iterates over all entries with their access clock and expiry.
    pub fn iter_entries(&self) -> impl Iterator<Item = (&[u8], Entry<&V>)> {
        self.t.iter().flat_map(|t| {
            t.buckets.iter().flat_map(|b| {
                let mut cur = *b;
                std::iter::from_fn(move || {
                    let n = cur?;
                    // SAFETY: `n` is live while `self` is borrowed (the
                    // iterator borrows it).
                    unsafe {
                        cur = (*n.as_ptr()).next;
                        Some((Head::key(n), view(n)))
                    }
                })
            })
        })
    }

    /// Keeps only the entries for which `keep` returns true, visiting the
    /// buckets the cursor points at (same cursor rules as [`Dict::scan`]).
    /// Returns the removed entries and the next cursor. Used by the active
    /// expiry cycle.
    pub fn scan_remove<F: FnMut(&[u8], Entry<&V>) -> bool>(
        &mut self,
        cursor: u64,
        mut remove: F,
        removed: &mut Vec<(Key, V)>,
    ) -> u64 {
        let mut doomed: Vec<Key> = Vec::new();
        let next = self.scan_entries(cursor, |k, e| {
            if remove(k, e) {
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
    use std::rc::Rc;

    // The test values: those of the keyspace-like tests keep a clock.
    impl DictValue for usize {}
    impl DictValue for Vec<u8> {}
    impl DictValue for [u64; 3] {
        const ACCESS_CLOCK: bool = true;
    }
    impl DictValue for (usize, Rc<()>) {
        const ACCESS_CLOCK: bool = true;
    }
    impl DictValue for Rc<()> {
        const ACCESS_CLOCK: bool = true;
    }

    /// A small deterministic generator for the random picks.
    fn lcg(mut x: usize) -> impl FnMut() -> usize {
        move || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            x >> 33
        }
    }

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
        let mut rnd = lcg(12345);
        for _ in 0..100 {
            let (key, v) = d.random_entry(&mut rnd).unwrap();
            assert_eq!(&*k(*v), key);
        }
    }

    fn key_of(n: usize, salt: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + n + salt) as u8).collect()
    }

    #[test]
    fn node_layout_sizes() {
        // next (8) + Value-sized V (24) + clock (3) + meta (1) + key
        // [+ 8 expiry].
        type V = [u64; 3];
        assert_eq!(Dict::<V>::node_size(12), 48);
        assert_eq!(Dict::<V>::node_size(10), 46);
        assert_eq!(Dict::<V>::node_size(0), 36);
        assert_eq!(Dict::<V>::node_size(126), 36 + 126);
        assert_eq!(Dict::<V>::node_size(127), 36 + 8 + 127);
        assert_eq!(Dict::<V>::node_size_with(12, true), 56);
        // Without a clock: next (8) + meta (1) + key.
        assert_eq!(Dict::<()>::node_size(3), 8 + 1 + 3);
        assert_eq!(Dict::<()>::node_size(7), 16);
        assert_eq!(Dict::<f64>::node_size(15), 32);
        assert_eq!(Dict::<Box<[u8]>>::node_size(7), 32);
    }

    #[test]
    fn every_key_length_with_and_without_expiry() {
        let token = Rc::new(());
        let mut lens: Vec<usize> = (0..300).collect();
        // (Miri: a 70 KB key hashed and compared on every check is hours.)
        lens.extend(if cfg!(miri) {
            &[1000][..]
        } else {
            &[1000, 70_000][..]
        });
        let mut d: Dict<(usize, Rc<()>)> = Dict::new();
        for &n in &lens {
            let exp = if n % 2 == 0 { 0 } else { 1_000_000 + n as u64 };
            d.insert_new_full(&key_of(n, 0), (n, Rc::clone(&token)), n as u32 * 3, exp);
        }
        let check = |d: &Dict<(usize, Rc<()>)>, expire_of: &dyn Fn(usize) -> u64| {
            for &n in &lens {
                let key = key_of(n, 0);
                let e = d.entry(&key).expect("present");
                assert_eq!(e.val.0, n);
                assert_eq!(e.key(), &key[..]);
                assert_eq!(e.key_ref(), &key[..]);
                assert_eq!(e.lru(), (n as u32 * 3) & LRU_MASK);
                assert_eq!(e.expire(), expire_of(n), "key length {n}");
            }
            assert_eq!(d.len(), lens.len());
            let mut seen = 0;
            for (k, e) in d.iter_entries() {
                assert_eq!(k.len(), e.val.0);
                assert_eq!(e.expire(), expire_of(k.len()));
                seen += 1;
            }
            assert_eq!(seen, lens.len());
        };
        check(&d, &|n| if n % 2 == 0 { 0 } else { 1_000_000 + n as u64 });
        // Give every key an expiry (the even ones grow), change it, clear
        // it, set it again: several rounds.
        for round in 1..=4u64 {
            for &n in &lens {
                let at = round * 10_000_000 + n as u64;
                assert!(d.set_expire(&key_of(n, 0), at).is_some());
            }
            check(&d, &|n| round * 10_000_000 + n as u64);
            for &n in &lens {
                if n % 3 == 0 {
                    let before = d.set_expire(&key_of(n, 0), 0);
                    assert_eq!(before, Some(round * 10_000_000 + n as u64));
                }
            }
            check(&d, &|n| {
                if n % 3 == 0 {
                    0
                } else {
                    round * 10_000_000 + n as u64
                }
            });
        }
        assert_eq!(d.set_expire(b"absent", 5), None);
        // The access clock keeps 24 bits and leaves key and expiry alone.
        for &n in &lens {
            let mut e = d.entry_mut(&key_of(n, 0)).expect("present");
            e.set_lru(0xffff_ffff);
            assert_eq!(e.lru(), LRU_MASK);
            e.set_lru(n as u32 * 3);
            assert_eq!(e.key(), &key_of(n, 0)[..]);
            // In place: works for keys with the field, or to clear.
            let had = e.expire() != 0 || n % 3 != 0;
            if had {
                assert!(e.set_expire_in_place(4 * 10_000_000 + n as u64));
            }
        }
        check(&d, &|n| {
            if n % 3 == 0 {
                0
            } else {
                4 * 10_000_000 + n as u64
            }
        });
        // Remove, with the full entry returned.
        for &n in &lens {
            let (k, v, lru, exp) = d.remove_full(&key_of(n, 0)).expect("present");
            assert_eq!(&k[..], &key_of(n, 0)[..]);
            assert_eq!(v.0, n);
            assert_eq!(lru, (n as u32 * 3) & LRU_MASK);
            assert_eq!(
                exp,
                if n % 3 == 0 {
                    0
                } else {
                    4 * 10_000_000 + n as u64
                }
            );
        }
        assert!(d.is_empty());
        assert_eq!(Rc::strong_count(&token), 1);
    }

    #[test]
    fn expiry_growth_relinks_nodes_in_chains_during_rehash() {
        // Smaller under Miri, which checks every access.
        let total: usize = if cfg!(miri) { 800 } else { 20_000 };
        let kept = total / 20;
        let token = Rc::new(());
        let mut d: Dict<Rc<()>> = Dict::new();
        // Grow through several resizes, giving TTLs to keys in the middle
        // of chains while a rehash is in progress.
        for i in 0..total {
            d.insert_new_full(&k(i), Rc::clone(&token), i as u32, 0);
            if i % 3 == 0 && i > 0 {
                let j = i / 2;
                let before = d.set_expire(&k(j), 5_000 + j as u64).expect("present");
                assert!(before == 0 || before == 5_000 + j as u64);
            }
        }
        // Key j got a TTL if 2j or 2j+1 is a positive multiple of 3 below
        // `total`.
        let expected = |j: usize| {
            let hit = [2 * j, 2 * j + 1]
                .iter()
                .any(|&i| i > 0 && i < total && i % 3 == 0);
            if hit {
                5_000 + j as u64
            } else {
                0
            }
        };
        for j in 0..total {
            let e = d.entry(&k(j)).expect("present");
            assert_eq!(e.expire(), expected(j), "key {j}");
            assert_eq!(e.lru(), j as u32);
        }
        // Shrink while expiring: remove most keys, set TTLs on the rest
        // mid-rehash, and check scan / random picks see consistent nodes.
        for j in 0..total - kept {
            assert!(d.remove_value_expire(&k(j)).is_some());
        }
        d.shrink_if_needed();
        assert!(d.is_rehashing());
        for j in total - kept..total {
            d.set_expire(&k(j), 1);
            d.set_expire(&k(j), 0);
            d.set_expire(&k(j), 9);
        }
        let mut cursor = 0;
        let mut n = 0;
        loop {
            cursor = d.scan_entries(cursor, |key, e| {
                assert_eq!(e.key(), key);
                assert_eq!(e.expire(), 9);
                n += 1;
            });
            if cursor == 0 {
                break;
            }
        }
        assert!(n >= kept);
        let mut rnd = lcg(99);
        for _ in 0..200 {
            let (key, e) = d.random_node(&mut rnd).expect("non-empty");
            assert_eq!(e.key(), key);
            assert_eq!(e.expire(), 9);
        }
        while d.rehash(100) {}
        assert_eq!(d.len(), kept);
        assert_eq!(Rc::strong_count(&token), kept + 1);
        // Replacing a value keeps the key's expiry and clock.
        let last = total - 1;
        assert!(d.insert_slice(&k(last), Rc::clone(&token)).is_some());
        assert_eq!(
            d.entry(&k(last)).map(|e| (e.expire(), e.lru())),
            Some((9, last as u32))
        );
        drop(d);
        assert_eq!(Rc::strong_count(&token), 1);
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn big_tables_are_released_after_resizes_and_clear() {
        // 300k keys: resizes free bucket arrays of 1 MiB and more, which
        // go back to the system on a helper thread.
        let mut d = Dict::new();
        for i in 0..300_000usize {
            d.insert_new_slice(&k(i), i);
        }
        while d.rehash(1000) {}
        for i in (0..300_000usize).step_by(7) {
            assert_eq!(d.get(&k(i)), Some(&i));
        }
        for i in 0..299_000usize {
            assert_eq!(d.remove_value(&k(i)), Some(i));
        }
        d.shrink_if_needed();
        while d.rehash(1000) {}
        assert_eq!(d.len(), 1000);
        assert!(d.buckets() <= 2048);
        for i in 0..300_000usize {
            d.insert_slice(&k(i), i);
        }
        d.clear();
        assert!(d.is_empty());
        d.insert_new_slice(b"again", 1);
        assert_eq!(d.get(b"again"), Some(&1));
    }
}
