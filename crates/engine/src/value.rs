//! The values stored under keys, and their Redis-visible type and encoding.

use bytes::Bytes;

/// Strings no longer than this are reported as `embstr` (Redis's
/// OBJ_ENCODING_EMBSTR_SIZE_LIMIT).
pub const EMBSTR_MAX: usize = 44;

/// The length of an inline [`SmallBytes`]: an enum of 0..=15 so that the
/// values 16..=255 of its byte are a niche, which lets `SmallBytes` be 16
/// bytes and `Value` 24 (a keyspace node then fits jemalloc's 64-byte
/// class with a 12-byte key).
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum InlineLen {
    L0,
    L1,
    L2,
    L3,
    L4,
    L5,
    L6,
    L7,
    L8,
    L9,
    L10,
    L11,
    L12,
    L13,
    L14,
    L15,
}

const INLINE_LENS: [InlineLen; 16] = [
    InlineLen::L0,
    InlineLen::L1,
    InlineLen::L2,
    InlineLen::L3,
    InlineLen::L4,
    InlineLen::L5,
    InlineLen::L6,
    InlineLen::L7,
    InlineLen::L8,
    InlineLen::L9,
    InlineLen::L10,
    InlineLen::L11,
    InlineLen::L12,
    InlineLen::L13,
    InlineLen::L14,
    InlineLen::L15,
];

/// An owned byte string behind one thin pointer: a single allocation
/// holding the length (a `usize`) and then the bytes.
pub struct ThinBytes(std::ptr::NonNull<usize>);

// SAFETY: ThinBytes owns its allocation exclusively (like Box<[u8]>).
unsafe impl Send for ThinBytes {}
// SAFETY: shared access only reads the bytes.
unsafe impl Sync for ThinBytes {}

impl ThinBytes {
    fn layout(n: usize) -> std::alloc::Layout {
        match n.checked_add(std::mem::size_of::<usize>()).and_then(|s| {
            std::alloc::Layout::from_size_align(s, std::mem::align_of::<usize>()).ok()
        }) {
            Some(l) => l,
            // A slice this large cannot exist.
            None => std::process::abort(),
        }
    }

    /// Copies `b` into a new allocation.
    pub fn new(b: &[u8]) -> ThinBytes {
        let layout = Self::layout(b.len());
        // SAFETY: `layout` is non-zero-sized and usize-aligned; the length
        // is written at the start and the bytes right after it, inside
        // `layout.size()`.
        unsafe {
            let p = std::alloc::alloc(layout) as *mut usize;
            if p.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            p.write(b.len());
            std::ptr::copy_nonoverlapping(b.as_ptr(), p.add(1) as *mut u8, b.len());
            ThinBytes(std::ptr::NonNull::new_unchecked(p))
        }
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: the allocation is live while `self` is, and holds the
        // length followed by that many initialised bytes.
        unsafe {
            let p = self.0.as_ptr();
            std::slice::from_raw_parts(p.add(1) as *const u8, *p)
        }
    }
}

impl Drop for ThinBytes {
    fn drop(&mut self) {
        let layout = Self::layout(self.as_slice().len());
        // SAFETY: allocated in `new` with the same layout; never freed
        // elsewhere.
        unsafe { std::alloc::dealloc(self.0.as_ptr() as *mut u8, layout) }
    }
}

impl Clone for ThinBytes {
    fn clone(&self) -> ThinBytes {
        ThinBytes::new(self.as_slice())
    }
}

impl PartialEq for ThinBytes {
    fn eq(&self, other: &ThinBytes) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for ThinBytes {}

/// Bytes stored inline when they fit in 15 bytes, else behind one thin
/// pointer to an exactly sized allocation; 16 bytes either way. Most keys'
/// values in caches, counters and rate limiters are this small, and an
/// allocation per value would cost more than the value.
#[derive(Clone, PartialEq, Eq)]
pub enum SmallBytes {
    Inline { len: InlineLen, data: [u8; 15] },
    Heap(ThinBytes),
}

impl SmallBytes {
    /// Capacity of the inline form.
    pub const INLINE: usize = 15;

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            SmallBytes::Inline { len, data } => &data[..*len as usize],
            SmallBytes::Heap(b) => b.as_slice(),
        }
    }

    /// Heap bytes used (0 when inline).
    pub fn heap_size(&self) -> usize {
        match self {
            SmallBytes::Inline { .. } => 0,
            SmallBytes::Heap(b) => b.as_slice().len() + std::mem::size_of::<usize>(),
        }
    }
}

impl std::ops::Deref for SmallBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl From<&[u8]> for SmallBytes {
    fn from(b: &[u8]) -> SmallBytes {
        match INLINE_LENS.get(b.len()) {
            Some(&len) => {
                let mut data = [0u8; 15];
                data[..b.len()].copy_from_slice(b);
                SmallBytes::Inline { len, data }
            }
            None => SmallBytes::Heap(ThinBytes::new(b)),
        }
    }
}

impl std::fmt::Debug for SmallBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

/// A string value. Redis keeps integers in their binary form ("int"
/// encoding) and short strings in one allocation ("embstr"); the variants
/// mirror that so `OBJECT ENCODING` answers as Redis does and `INCR` needs
/// no parsing.
#[derive(Debug, Clone, PartialEq)]
pub enum Str {
    /// A string that is the canonical text of a 64-bit integer.
    Int(i64),
    /// A short string (up to 44 bytes, Redis's embstr limit); up to 15
    /// bytes it lives inside the value itself, with no allocation.
    Emb(SmallBytes),
    /// A string that was modified in place (APPEND, SETRANGE, SETBIT...) or
    /// is long; has spare capacity to grow.
    Raw(Vec<u8>),
}

impl Str {
    /// Builds a string value the way `SET` stores it (Redis's
    /// `tryObjectEncoding`): integers become `Int`, short strings `Emb`.
    pub fn from_bytes(b: &[u8]) -> Str {
        if b.len() <= 20 {
            if let Some(i) = lunakv_protocol::parse_i64(b) {
                return Str::Int(i);
            }
        }
        if b.len() <= EMBSTR_MAX {
            Str::Emb(b.into())
        } else {
            Str::Raw(b.to_vec())
        }
    }

    /// The string's bytes (integers are formatted).
    pub fn to_bytes(&self) -> Bytes {
        match self {
            Str::Int(i) => {
                let mut b = itoa::Buffer::new();
                Bytes::copy_from_slice(b.format(*i).as_bytes())
            }
            Str::Emb(b) => Bytes::copy_from_slice(b.as_slice()),
            Str::Raw(v) => Bytes::copy_from_slice(v),
        }
    }

    /// Calls `f` with the string's bytes without allocating for the stored
    /// forms.
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Str::Int(i) => {
                let mut b = itoa::Buffer::new();
                f(b.format(*i).as_bytes())
            }
            Str::Emb(b) => f(b.as_slice()),
            Str::Raw(v) => f(v),
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        match self {
            Str::Int(i) => {
                let mut b = itoa::Buffer::new();
                b.format(*i).len()
            }
            Str::Emb(b) => b.len(),
            Str::Raw(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Turns the value into a growable raw string and returns it, as Redis
    /// does before modifying a string in place.
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        if !matches!(self, Str::Raw(_)) {
            let v = self.with_bytes(|b| b.to_vec());
            *self = Str::Raw(v);
        }
        match self {
            Str::Raw(v) => v,
            // Just converted above.
            _ => unreachable!("string was made raw"),
        }
    }

    /// The value as an integer, if it is the canonical text of one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Str::Int(i) => Some(*i),
            Str::Emb(b) => lunakv_protocol::parse_i64(b.as_slice()),
            Str::Raw(v) => lunakv_protocol::parse_i64(v),
        }
    }

    /// `OBJECT ENCODING`'s answer.
    pub fn encoding(&self) -> &'static str {
        match self {
            Str::Int(_) => "int",
            Str::Emb(_) => "embstr",
            Str::Raw(_) => "raw",
        }
    }

    /// Approximate heap bytes used, for memory accounting.
    pub fn heap_size(&self) -> usize {
        match self {
            Str::Int(_) => 0,
            Str::Emb(b) => b.heap_size(),
            Str::Raw(v) => v.capacity(),
        }
    }
}

/// A value of any type. Non-string types are boxed so that a `Value`
/// stays as small as a string.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(Str),
    Hash(Box<crate::types::hash::Hash>),
    List(Box<crate::types::list::List>),
    Set(Box<crate::types::set::Set>),
    ZSet(Box<crate::types::zset::ZSet>),
    Stream(Box<crate::types::stream::Stream>),
}

/// The keyspace keeps each key's access clock (LRU/LFU) in its node.
impl crate::dict::DictValue for Value {
    const ACCESS_CLOCK: bool = true;
}

impl Value {
    /// The name `TYPE` replies with.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Hash(_) => "hash",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    /// `OBJECT ENCODING`'s answer.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            Value::Hash(v) => v.encoding(),
            Value::List(v) => v.encoding(),
            Value::Set(v) => v.encoding(),
            Value::ZSet(v) => v.encoding(),
            Value::Stream(v) => v.encoding(),
        }
    }
}

/// A keyspace entry as stored: a view of a node of the keyspace dict (the
/// value, and through accessors its expiry and access clock, which live in
/// the node; see [`crate::dict`]).
pub use crate::dict::Entry;

/// A key's entry taken out of the keyspace (RENAME, MOVE, RESTORE, loading):
/// the value, its expiry and its access clock.
#[derive(Debug, Clone)]
pub struct OwnedEntry {
    pub val: Value,
    /// Absolute expiry time in Unix milliseconds; 0 means no expiry.
    pub expire: u64,
    /// Last access, in seconds of the server's LRU clock (OBJECT IDLETIME),
    /// or the LFU word; 24 bits.
    pub lru: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_stay_small() {
        assert_eq!(std::mem::size_of::<SmallBytes>(), 16);
        assert_eq!(std::mem::size_of::<Str>(), 24);
        assert_eq!(std::mem::size_of::<Value>(), 24);
        // A keyspace node: next (8) + Value (24) + clock (3) + meta (1) + key,
        // so a 12-byte key fills jemalloc's 48-byte class exactly.
        assert_eq!(crate::dict::Dict::<Value>::node_size(12), 48);
        assert_eq!(crate::dict::Dict::<Value>::node_size_with(12, true), 56);
    }

    #[test]
    fn small_bytes_of_every_length_round_trip() {
        for n in 0..=300usize {
            let v: Vec<u8> = (0..n).map(|i| (i * 31 + n) as u8).collect();
            let b = SmallBytes::from(&v[..]);
            assert_eq!(b.as_slice(), &v[..]);
            assert_eq!(
                matches!(b, SmallBytes::Inline { .. }),
                n <= SmallBytes::INLINE
            );
            assert_eq!(b.heap_size() == 0, n <= SmallBytes::INLINE);
            let c = b.clone();
            drop(b);
            assert_eq!(c.as_slice(), &v[..]);
            assert_eq!(c, SmallBytes::from(&v[..]));
            let s = Str::from_bytes(&v);
            assert_eq!(&s.to_bytes()[..], &v[..]);
            assert_eq!(s.len(), n);
        }
        assert_ne!(SmallBytes::from(&b"abc"[..]), SmallBytes::from(&b"abd"[..]));
        let long = [7u8; 40];
        assert_ne!(SmallBytes::from(&long[..]), SmallBytes::from(&long[..39]));
    }

    #[test]
    fn short_strings_are_inline_and_keep_encodings() {
        let s = Str::from_bytes(b"abc");
        assert!(matches!(s, Str::Emb(SmallBytes::Inline { .. })));
        assert_eq!(s.encoding(), "embstr");
        assert_eq!(&s.to_bytes()[..], b"abc");
        let long = vec![b'x'; 40];
        let s = Str::from_bytes(&long);
        assert!(matches!(s, Str::Emb(SmallBytes::Heap(_))));
        assert_eq!(s.len(), 40);
        assert_eq!(Str::from_bytes(b"123").encoding(), "int");
        assert_eq!(Str::from_bytes(&[b'y'; 45]).encoding(), "raw");
    }
}
