//! The `set` value type.
//!
//! As in Redis 7.0, a set of integers is an "intset" (a sorted array of
//! 64-bit integers) up to `set-max-intset-entries` members; any other set,
//! or a bigger one, is a hash table. Conversion is one way. The intset's
//! vector is kept at exactly its length, as Redis's `intsetResize` does.

use bytes::Bytes;

use crate::dict::Dict;

/// A set value.
pub enum Set {
    /// Sorted, distinct integers (members that are canonical integers).
    Intset(Vec<i64>),
    /// Hash table of members.
    Table(Box<Dict<()>>),
}

impl Default for Set {
    fn default() -> Self {
        Set::Intset(Vec::new())
    }
}

impl std::fmt::Debug for Set {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Sorted, so that equal sets print (and DEBUG DIGEST-VALUE) the
        // same whatever their bucket order.
        let mut v = self.members();
        v.sort_unstable();
        let mut l = f.debug_set();
        for m in &v {
            l.entry(&String::from_utf8_lossy(m));
        }
        l.finish()
    }
}

impl Clone for Set {
    fn clone(&self) -> Self {
        match self {
            Set::Intset(v) => Set::Intset(v.clone()),
            Set::Table(d) => {
                let mut n = Dict::new();
                for (k, _) in d.iter() {
                    n.insert_new(k.into(), ());
                }
                Set::Table(Box::new(n))
            }
        }
    }
}

impl PartialEq for Set {
    fn eq(&self, o: &Set) -> bool {
        if self.len() != o.len() {
            return false;
        }
        let mut all = true;
        self.for_each(|m| all &= o.contains(m));
        all
    }
}

/// A member as an integer if it is the canonical text of one (Redis's
/// `isSdsRepresentableAsLongLong`).
fn as_int(m: &[u8]) -> Option<i64> {
    lunakv_protocol::parse_i64(m)
}

fn int_bytes(i: i64) -> Bytes {
    let mut b = itoa::Buffer::new();
    Bytes::copy_from_slice(b.format(i).as_bytes())
}

impl Set {
    /// An empty set of the encoding Redis's `setTypeCreate` picks for a set
    /// whose first member is `first`.
    pub fn for_member(first: &[u8]) -> Set {
        if as_int(first).is_some() {
            Set::Intset(Vec::new())
        } else {
            Set::Table(Box::default())
        }
    }

    /// `OBJECT ENCODING`'s answer.
    pub fn encoding(&self) -> &'static str {
        match self {
            Set::Intset(_) => "intset",
            Set::Table(_) => "hashtable",
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            Set::Intset(v) => v.len(),
            Set::Table(d) => d.len(),
        }
    }

    /// True when the set has no member.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True if `m` is a member.
    pub fn contains(&self, m: &[u8]) -> bool {
        match self {
            Set::Intset(v) => as_int(m).is_some_and(|i| v.binary_search(&i).is_ok()),
            Set::Table(d) => d.get(m).is_some(),
        }
    }

    /// Converts to the hash table encoding.
    pub fn convert(&mut self) {
        if let Set::Intset(v) = self {
            let mut d = Dict::new();
            let mut b = itoa::Buffer::new();
            for &i in v.iter() {
                d.insert_new(b.format(i).as_bytes().into(), ());
            }
            *self = Set::Table(Box::new(d));
        }
    }

    /// Adds `m`; returns true if it was not a member. `max_intset` is
    /// `set-max-intset-entries`.
    pub fn add(&mut self, m: &[u8], max_intset: usize) -> bool {
        if let Set::Intset(v) = self {
            match as_int(m) {
                Some(i) => {
                    return match v.binary_search(&i) {
                        Ok(_) => false,
                        Err(pos) => {
                            // Exact sizing, as Redis's intsetResize: the
                            // allocator's size classes amortize the growth.
                            v.reserve_exact(1);
                            v.insert(pos, i);
                            if v.len() > max_intset.min(1 << 30) {
                                self.convert();
                            }
                            true
                        }
                    };
                }
                None => self.convert(),
            }
        }
        match self {
            Set::Table(d) => {
                if d.get(m).is_some() {
                    false
                } else {
                    d.insert_new(m.into(), ());
                    true
                }
            }
            // Converted above.
            Set::Intset(_) => false,
        }
    }

    /// Removes `m`; returns true if it was a member.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self {
            Set::Intset(v) => match as_int(m).map(|i| v.binary_search(&i)) {
                Some(Ok(pos)) => {
                    v.remove(pos);
                    v.shrink_to_fit();
                    true
                }
                _ => false,
            },
            Set::Table(d) => d.remove(m).is_some(),
        }
    }

    /// Calls `f` with every member (ascending for an intset).
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        match self {
            Set::Intset(v) => {
                let mut b = itoa::Buffer::new();
                for &i in v {
                    f(b.format(i).as_bytes());
                }
            }
            Set::Table(d) => {
                for (k, _) in d.iter() {
                    f(k);
                }
            }
        }
    }

    /// All members as owned byte strings (ascending for an intset).
    pub fn members(&self) -> Vec<Bytes> {
        let mut out = Vec::with_capacity(self.len());
        match self {
            Set::Intset(v) => out.extend(v.iter().map(|&i| int_bytes(i))),
            Set::Table(d) => out.extend(d.iter().map(|(k, _)| Bytes::copy_from_slice(k))),
        }
        out
    }

    /// A random member (a fair bucket-then-chain pick for a table).
    pub fn random_member(&self, mut rnd: impl FnMut() -> usize) -> Option<Bytes> {
        match self {
            Set::Intset(v) => {
                if v.is_empty() {
                    None
                } else {
                    v.get(rnd() % v.len()).map(|&i| int_bytes(i))
                }
            }
            Set::Table(d) => match crate::types::hash::fair_random_key(d, &mut rnd) {
                Some(k) => Some(Bytes::from(k)),
                None => d.random_entry(rnd).map(|(k, _)| Bytes::copy_from_slice(k)),
            },
        }
    }

    /// Approximate heap bytes used.
    pub fn heap_size(&self) -> usize {
        match self {
            Set::Intset(v) => v.capacity() * 8,
            Set::Table(d) => d.buckets() * 8 + d.iter().map(|(k, _)| 40 + k.len()).sum::<usize>(),
        }
    }

    /// One SSCAN step over a table (an intset is returned whole with cursor
    /// 0); see [`Dict::scan`].
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8])) -> u64 {
        match self {
            Set::Intset(_) => {
                self.for_each(f);
                0
            }
            Set::Table(d) => d.scan(cursor, |k, _| f(k)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intset_then_table() {
        let mut s = Set::for_member(b"3");
        assert!(s.add(b"3", 4));
        assert!(s.add(b"-1", 4));
        assert!(!s.add(b"3", 4));
        assert!(s.add(b"10", 4));
        assert_eq!(s.encoding(), "intset");
        assert_eq!(
            s.members(),
            vec![Bytes::from("-1"), Bytes::from("3"), Bytes::from("10")]
        );
        assert!(s.contains(b"10"));
        assert!(!s.contains(b"010"));
        assert!(s.add(b"010", 4));
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"10") && s.contains(b"010"));
        assert_eq!(s.len(), 4);
        assert!(s.remove(b"-1"));
        assert!(!s.remove(b"-1"));
        let mut t = Set::for_member(b"1");
        for i in 0..5 {
            t.add(i.to_string().as_bytes(), 4);
        }
        assert_eq!(t.encoding(), "hashtable");
        assert_eq!(Set::for_member(b"a").encoding(), "hashtable");
    }

    #[test]
    fn clone_equal_and_debug_is_order_independent() {
        let mut s = Set::for_member(b"a");
        for i in 0..100 {
            s.add(format!("m{i}").as_bytes(), 512);
        }
        let c = s.clone();
        assert_eq!(s, c);
        assert_eq!(format!("{s:?}"), format!("{c:?}"));
    }
}
