//! The values stored under keys, and their Redis-visible type and encoding.

use bytes::Bytes;

/// Strings no longer than this are reported as `embstr` (Redis's
/// OBJ_ENCODING_EMBSTR_SIZE_LIMIT).
pub const EMBSTR_MAX: usize = 44;

/// Bytes stored inline when they fit in 22 bytes, else in one exactly
/// sized allocation; 24 bytes either way. Most keys' values in caches,
/// counters and rate limiters are this small, and an allocation per value
/// would cost more than the value.
#[derive(Clone, PartialEq, Eq)]
pub enum SmallBytes {
    Inline { len: u8, data: [u8; 22] },
    Heap(Box<[u8]>),
}

impl SmallBytes {
    /// Capacity of the inline form.
    pub const INLINE: usize = 22;

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            SmallBytes::Inline { len, data } => &data[..*len as usize],
            SmallBytes::Heap(b) => b,
        }
    }

    /// Heap bytes used (0 when inline).
    pub fn heap_size(&self) -> usize {
        match self {
            SmallBytes::Inline { .. } => 0,
            SmallBytes::Heap(b) => b.len(),
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
        if b.len() <= Self::INLINE {
            let mut data = [0u8; 22];
            data[..b.len()].copy_from_slice(b);
            SmallBytes::Inline {
                len: b.len() as u8,
                data,
            }
        } else {
            SmallBytes::Heap(b.into())
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
    /// A short string (up to 44 bytes, Redis's embstr limit); up to 22
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

/// What the keyspace stores for a key: the value, its expiry and its
/// access clock.
#[derive(Debug, Clone)]
pub struct Entry {
    pub val: Value,
    /// Absolute expiry time in Unix milliseconds; 0 means no expiry.
    pub expire: u64,
    /// Last access, in seconds of the server's LRU clock (OBJECT IDLETIME).
    pub lru: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_stay_small() {
        assert_eq!(std::mem::size_of::<SmallBytes>(), 24);
        assert!(
            std::mem::size_of::<Value>() <= 32,
            "{}",
            std::mem::size_of::<Value>()
        );
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
