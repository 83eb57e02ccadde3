//! The `hash` value type.
//!
//! Small hashes are kept as Redis keeps them, in a "listpack": one flat
//! buffer of length-prefixed field and value strings in insertion order, so
//! that a hash of ten short fields costs a couple of hundred bytes. The
//! buffer is a boxed slice sized exactly (each write reallocates to the new
//! length, as Redis's `lpInsert` does), so no capacity is left unused. Past
//! `hash-max-listpack-entries` fields, or when a field or value is longer
//! than `hash-max-listpack-value`, it becomes a hash table (one way only).

use crate::dict::Dict;

/// A hash value.
pub enum Hash {
    /// Compact encoding: `varint(len) bytes` for field, then for value,
    /// repeated, in insertion order, in a buffer of exactly that length.
    Listpack(Box<[u8]>),
    /// Hash table encoding.
    Table(Box<Dict<Box<[u8]>>>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Listpack(Box::default())
    }
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Sorted for a table, so that equal hashes print (and DEBUG
        // DIGEST-VALUE) the same whatever their bucket order.
        let mut pairs: Vec<(&[u8], &[u8])> = self.iter().collect();
        if matches!(self, Hash::Table(_)) {
            pairs.sort_unstable();
        }
        let mut m = f.debug_map();
        for (k, v) in pairs {
            m.entry(&String::from_utf8_lossy(k), &String::from_utf8_lossy(v));
        }
        m.finish()
    }
}

impl Clone for Hash {
    fn clone(&self) -> Self {
        match self {
            Hash::Listpack(b) => Hash::Listpack(b.clone()),
            Hash::Table(d) => {
                let mut n = Dict::new();
                for (k, v) in d.iter() {
                    n.insert_new(k.into(), v.clone());
                }
                Hash::Table(Box::new(n))
            }
        }
    }
}

impl PartialEq for Hash {
    fn eq(&self, o: &Hash) -> bool {
        self.len() == o.len() && self.iter().all(|(k, v)| o.get(k) == Some(v))
    }
}

/// Appends a LEB128 varint.
fn put_varint(buf: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        buf.push((n as u8) | 0x80);
        n >>= 7;
    }
    buf.push(n as u8);
}

/// Reads a LEB128 varint at `pos`; returns (value, next position).
fn get_varint(buf: &[u8], mut pos: usize) -> (usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    while let Some(&b) = buf.get(pos) {
        pos += 1;
        n |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    (n, pos)
}

/// Reads one string at `pos`: (start, end) of its bytes.
fn get_str(buf: &[u8], pos: usize) -> (usize, usize) {
    let (n, p) = get_varint(buf, pos);
    (p, (p + n).min(buf.len()))
}

/// Iterator over a listpack's (field, value) pairs.
struct LpIter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for LpIter<'a> {
    type Item = (&'a [u8], &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let (fs, fe) = get_str(self.buf, self.pos);
        let (vs, ve) = get_str(self.buf, fe);
        self.pos = ve;
        Some((&self.buf[fs..fe], &self.buf[vs..ve]))
    }
}

/// Locates `field` in a listpack: (pair start, value start, value end, pair end).
fn lp_find(buf: &[u8], field: &[u8]) -> Option<(usize, usize, usize)> {
    let mut pos = 0;
    while pos < buf.len() {
        let start = pos;
        let (fs, fe) = get_str(buf, pos);
        let (vs, ve) = get_str(buf, fe);
        if &buf[fs..fe] == field {
            let vstart = fe;
            let _ = vs;
            return Some((start, vstart, ve));
        }
        pos = ve;
    }
    None
}

/// The encoding limits a write must respect (from the configuration).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `hash-max-listpack-entries`.
    pub max_entries: usize,
    /// `hash-max-listpack-value`.
    pub max_value: usize,
}

impl Hash {
    /// `OBJECT ENCODING`'s answer.
    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Listpack(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        match self {
            Hash::Listpack(b) => LpIter { buf: b, pos: 0 }.count(),
            Hash::Table(d) => d.len(),
        }
    }

    /// True when the hash has no field.
    pub fn is_empty(&self) -> bool {
        match self {
            Hash::Listpack(b) => b.is_empty(),
            Hash::Table(d) => d.is_empty(),
        }
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            Hash::Listpack(b) => lp_find(b, field).map(|(_, vs, _)| {
                let (s, e) = get_str(b, vs);
                &b[s..e]
            }),
            Hash::Table(d) => d.get(field).map(|v| &v[..]),
        }
    }

    /// True if `field` exists.
    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Iterates over (field, value) pairs: insertion order for a listpack.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], &[u8])> + '_> {
        match self {
            Hash::Listpack(b) => Box::new(LpIter { buf: b, pos: 0 }),
            Hash::Table(d) => Box::new(d.iter().map(|(k, v)| (k, &v[..]))),
        }
    }

    /// Converts to the hash table encoding.
    pub fn convert(&mut self) {
        if let Hash::Listpack(b) = self {
            let mut d = Dict::new();
            for (k, v) in (LpIter { buf: b, pos: 0 }) {
                d.insert(k.into(), v.into());
            }
            *self = Hash::Table(Box::new(d));
        }
    }

    /// Converts to a hash table if any of `args` is longer than the
    /// listpack value limit (Redis's `hashTypeTryConversion`).
    pub fn try_conversion<'a>(&mut self, args: impl Iterator<Item = &'a [u8]>, lim: Limits) {
        if matches!(self, Hash::Listpack(_)) {
            for a in args {
                if a.len() > lim.max_value {
                    self.convert();
                    return;
                }
            }
        }
    }

    /// Sets `field` to `value`; returns true if the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8], lim: Limits) -> bool {
        if matches!(self, Hash::Listpack(_))
            && (field.len() > lim.max_value || value.len() > lim.max_value)
        {
            self.convert();
        }
        match self {
            Hash::Listpack(b) => {
                if let Some((_, vs, ve)) = lp_find(b, field) {
                    let old = ve - vs;
                    let new = varint_len(value.len()) + value.len();
                    if new == old {
                        // Same length (HINCRBY, a rewrite): in place.
                        let mut v = Vec::with_capacity(new);
                        put_varint(&mut v, value.len());
                        v.extend_from_slice(value);
                        if let Some(dst) = b.get_mut(vs..ve) {
                            dst.copy_from_slice(&v);
                        }
                        return false;
                    }
                    let mut buf = std::mem::take(b).into_vec();
                    if new > old {
                        buf.reserve_exact(new - old);
                    }
                    let mut enc = Vec::with_capacity(new);
                    put_varint(&mut enc, value.len());
                    enc.extend_from_slice(value);
                    buf.splice(vs..ve, enc);
                    *b = buf.into_boxed_slice();
                    return false;
                }
                let need =
                    varint_len(field.len()) + field.len() + varint_len(value.len()) + value.len();
                let mut buf = std::mem::take(b).into_vec();
                buf.reserve_exact(need);
                put_varint(&mut buf, field.len());
                buf.extend_from_slice(field);
                put_varint(&mut buf, value.len());
                buf.extend_from_slice(value);
                *b = buf.into_boxed_slice();
                if self.len() > lim.max_entries {
                    self.convert();
                }
                true
            }
            Hash::Table(d) => d.insert(field.into(), value.into()).is_none(),
        }
    }

    /// Removes `field`; returns true if it existed.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Listpack(b) => match lp_find(b, field) {
                Some((s, _, e)) => {
                    let mut buf = std::mem::take(b).into_vec();
                    buf.drain(s..e);
                    *b = buf.into_boxed_slice();
                    true
                }
                None => false,
            },
            Hash::Table(d) => d.remove(field).is_some(),
        }
    }

    /// The pair at position `i` of the listpack, or a fair random pair of
    /// the table; `rnd` supplies randomness.
    pub fn random_pair(&self, mut rnd: impl FnMut() -> usize) -> Option<(&[u8], &[u8])> {
        match self {
            Hash::Listpack(b) => {
                let n = self.len();
                if n == 0 {
                    return None;
                }
                let i = rnd() % n;
                LpIter { buf: b, pos: 0 }.nth(i)
            }
            Hash::Table(d) => match fair_random_key(d, &mut rnd) {
                Some(k) => d.get_key_value(&k).map(|(k, v)| (k, &v[..])),
                None => d.random_entry(rnd).map(|(k, v)| (k, &v[..])),
            },
        }
    }

    /// One HSCAN step over a hash table (listpacks are returned whole by the
    /// caller); see [`Dict::scan`].
    pub fn scan<F: FnMut(&[u8], &[u8])>(&self, cursor: u64, mut f: F) -> u64 {
        match self {
            Hash::Listpack(_) => {
                for (k, v) in self.iter() {
                    f(k, v);
                }
                0
            }
            Hash::Table(d) => d.scan(cursor, |k, v| f(k, v)),
        }
    }

    /// Approximate heap bytes used.
    pub fn heap_size(&self) -> usize {
        match self {
            Hash::Listpack(b) => b.len(),
            Hash::Table(d) => {
                d.buckets() * 8 + d.iter().map(|(k, v)| 40 + k.len() + v.len()).sum::<usize>()
            }
        }
    }
}

/// A random key of `d` picked the way Redis's `dictGetFairRandomKey`
/// does: gather a handful of keys from consecutive buckets starting at a
/// random one, then choose uniformly among them, which evens out the bias
/// of long chains. `None` if the sample came back empty.
pub(crate) fn fair_random_key<V: crate::dict::DictValue>(
    d: &Dict<V>,
    rnd: &mut impl FnMut() -> usize,
) -> Option<Vec<u8>> {
    const SAMPLE: usize = 20;
    if d.is_empty() {
        return None;
    }
    let mut sample: Vec<Vec<u8>> = Vec::with_capacity(SAMPLE);
    let mut cursor = rnd() as u64;
    let mut steps = 0;
    while sample.len() < SAMPLE && steps < SAMPLE * 10 && steps <= d.buckets() {
        cursor = d.scan(cursor, |k, _| sample.push(k.to_vec()));
        steps += 1;
    }
    if sample.is_empty() {
        return None;
    }
    let i = rnd() % sample.len();
    Some(sample.swap_remove(i))
}

fn varint_len(n: usize) -> usize {
    let mut l = 1;
    let mut n = n >> 7;
    while n > 0 {
        l += 1;
        n >>= 7;
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIM: Limits = Limits {
        max_entries: 128,
        max_value: 64,
    };

    #[test]
    fn listpack_set_get_remove() {
        let mut h = Hash::default();
        assert!(h.set(b"a", b"1", LIM));
        assert!(h.set(b"b", b"2", LIM));
        assert!(!h.set(b"a", b"longer value", LIM));
        assert_eq!(h.get(b"a"), Some(&b"longer value"[..]));
        assert!(!h.set(b"b", b"3", LIM));
        assert!(!h.set(b"a", b"short", LIM));
        assert_eq!(h.get(b"a"), Some(&b"short"[..]));
        assert_eq!(h.get(b"b"), Some(&b"3"[..]));
        assert_eq!(h.heap_size(), 2 + 1 + 5 + 2 + 1 + 1);
        assert!(!h.set(b"a", b"longer value", LIM));
        assert!(!h.set(b"b", b"2", LIM));
        assert_eq!(h.len(), 2);
        let order: Vec<_> = h.iter().map(|(k, _)| k.to_vec()).collect();
        assert_eq!(order, vec![b"a".to_vec(), b"b".to_vec()]);
        assert!(h.remove(b"a"));
        assert!(!h.remove(b"a"));
        assert_eq!(h.len(), 1);
        assert_eq!(h.encoding(), "listpack");
        let big = vec![b'x'; 300];
        h.set(b"c", &big, LIM);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"c"), Some(&big[..]));
        assert_eq!(h.get(b"b"), Some(&b"2"[..]));
    }

    #[test]
    fn clone_equal_and_debug_is_order_independent() {
        let mut h = Hash::default();
        for i in 0..200 {
            h.set(format!("f{i}").as_bytes(), b"v", LIM);
        }
        assert_eq!(h.encoding(), "hashtable");
        let c = h.clone();
        assert_eq!(h, c);
        assert_eq!(format!("{h:?}"), format!("{c:?}"));
    }

    #[test]
    fn small_hash_is_compact() {
        let mut h = Hash::default();
        for i in 0..10 {
            h.set(
                format!("field:{i:04}").as_bytes(),
                format!("value:{i:04}").as_bytes(),
                LIM,
            );
        }
        // 10 x (1 + 10 + 1 + 10) bytes, nothing more.
        assert_eq!(h.heap_size(), 220);
        assert_eq!(std::mem::size_of::<Hash>(), 16);
    }
}
