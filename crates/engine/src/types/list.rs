//! The `list` value type.
//!
//! Like Redis's quicklist, a list is a deque of chunks, each chunk a packed
//! buffer of length-prefixed entries (a simplified listpack). Small lists
//! are a single chunk: one allocation for all their elements, two bytes of
//! overhead per short element. Pushing and popping at either end touches
//! only the end chunk, whose size is bounded, so both ends are O(1).
//!
//! Entry layout: `header | bytes | trailer`. For elements shorter than 128
//! bytes the header and the trailer are one byte holding the length; longer
//! ones use `0xFF` followed (header) or preceded (trailer) by the length as
//! a little-endian u64. The trailer makes backward walks possible.

use std::collections::VecDeque;

/// A chunk does not grow past this many bytes by pushes (Redis's default
/// `list-max-listpack-size -2`, 8 KB per node).
const CHUNK_BYTES: usize = 8192;

/// Bytes taken by a header or trailer for an element of `len` bytes.
fn tag_size(len: usize) -> usize {
    if len < 0x80 {
        1
    } else {
        9
    }
}

/// Bytes taken by an encoded element of `len` bytes.
fn entry_size(len: usize) -> usize {
    len + 2 * tag_size(len)
}

/// Appends the encoding of `e` to `out`.
fn encode_into(out: &mut Vec<u8>, e: &[u8]) {
    let n = e.len();
    if n < 0x80 {
        out.push(n as u8);
        out.extend_from_slice(e);
        out.push(n as u8);
    } else {
        out.push(0xFF);
        out.extend_from_slice(&(n as u64).to_le_bytes());
        out.extend_from_slice(e);
        out.extend_from_slice(&(n as u64).to_le_bytes());
        out.push(0xFF);
    }
}

fn encode(e: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(entry_size(e.len()));
    encode_into(&mut v, e);
    v
}

fn read_u64(b: &[u8], at: usize) -> usize {
    let mut a = [0u8; 8];
    if let Some(s) = b.get(at..at + 8) {
        a.copy_from_slice(s);
    }
    u64::from_le_bytes(a) as usize
}

/// One packed chunk of entries.
#[derive(Debug, Clone, Default)]
struct Chunk {
    buf: Vec<u8>,
    count: usize,
}

impl Chunk {
    /// The entry starting at byte `pos`: (data start, data length, next
    /// entry position).
    fn at(&self, pos: usize) -> (usize, usize, usize) {
        let b = &self.buf;
        let h = b.get(pos).copied().unwrap_or(0);
        if h < 0x80 {
            let n = h as usize;
            (pos + 1, n, pos + 1 + n + 1)
        } else {
            let n = read_u64(b, pos + 1);
            (pos + 9, n, pos + 9 + n + 9)
        }
    }

    /// The entry ending at byte `end`: (entry start, data start, length).
    fn before(&self, end: usize) -> (usize, usize, usize) {
        let b = &self.buf;
        let t = b.get(end.wrapping_sub(1)).copied().unwrap_or(0);
        if t < 0x80 {
            let n = t as usize;
            let ds = end - 1 - n;
            (ds - 1, ds, n)
        } else {
            let n = read_u64(b, end - 9);
            let ds = end - 9 - n;
            (ds - 9, ds, n)
        }
    }

    fn data(&self, ds: usize, n: usize) -> &[u8] {
        self.buf.get(ds..ds + n).unwrap_or(&[])
    }

    /// Byte position of the `i`-th entry (`i <= count`), walking from the
    /// nearer end.
    fn offset_of(&self, i: usize) -> usize {
        if i >= self.count {
            return self.buf.len();
        }
        if i <= self.count / 2 {
            let mut pos = 0;
            for _ in 0..i {
                pos = self.at(pos).2;
            }
            pos
        } else {
            let mut end = self.buf.len();
            for _ in 0..(self.count - i - 1) {
                end = self.before(end).0;
            }
            self.before(end).0
        }
    }

    fn get(&self, i: usize) -> &[u8] {
        let (ds, n, _) = self.at(self.offset_of(i));
        self.data(ds, n)
    }

    fn grow(&mut self, extra: usize) {
        // Exact sizing while small (compact small lists), amortized growth
        // once bigger.
        if self.buf.len() + extra <= 256 {
            self.buf.reserve_exact(extra);
        } else {
            self.buf.reserve(extra);
        }
    }

    /// Gives memory back once the chunk has shrunk to under half of its
    /// allocation (amortized: a shrink needs another halving to repeat).
    fn trim_capacity(&mut self) {
        if self.buf.capacity() > 2 * self.buf.len() + 64 {
            self.buf.shrink_to_fit();
        }
    }

    fn push_back(&mut self, e: &[u8]) {
        self.grow(entry_size(e.len()));
        encode_into(&mut self.buf, e);
        self.count += 1;
    }

    fn insert(&mut self, i: usize, e: &[u8]) {
        let off = self.offset_of(i);
        let enc = encode(e);
        self.grow(enc.len());
        self.buf.splice(off..off, enc);
        self.count += 1;
    }

    fn remove(&mut self, i: usize) -> Vec<u8> {
        let off = self.offset_of(i);
        let (ds, n, next) = self.at(off);
        let v = self.data(ds, n).to_vec();
        self.buf.drain(off..next);
        self.count -= 1;
        self.trim_capacity();
        v
    }

    fn pop_back(&mut self) -> Vec<u8> {
        let (start, ds, n) = self.before(self.buf.len());
        let v = self.data(ds, n).to_vec();
        self.buf.truncate(start);
        self.count -= 1;
        self.trim_capacity();
        v
    }

    fn replace(&mut self, i: usize, e: &[u8]) {
        let off = self.offset_of(i);
        let next = self.at(off).2;
        self.buf.splice(off..next, encode(e));
    }

    /// Removes the first `n` entries.
    fn drop_front(&mut self, n: usize) {
        let off = self.offset_of(n);
        self.buf.drain(..off);
        self.count -= n.min(self.count);
        self.trim_capacity();
    }

    /// Removes the last `n` entries.
    fn drop_back(&mut self, n: usize) {
        let keep = self.count - n.min(self.count);
        let off = self.offset_of(keep);
        self.buf.truncate(off);
        self.count = keep;
        self.trim_capacity();
    }

    /// Splits off the second half into a new chunk.
    fn split(&mut self) -> Chunk {
        let half = self.count / 2;
        let off = self.offset_of(half);
        let rest = self.buf.split_off(off);
        self.buf.shrink_to_fit();
        let c = Chunk {
            buf: rest,
            count: self.count - half,
        };
        self.count = half;
        c
    }
}

/// A list value.
#[derive(Debug, Clone, Default)]
pub struct List {
    chunks: VecDeque<Chunk>,
    len: usize,
}

impl PartialEq for List {
    fn eq(&self, other: &List) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl List {
    /// An empty list.
    pub fn new() -> List {
        List {
            chunks: VecDeque::new(),
            len: 0,
        }
    }

    /// `OBJECT ENCODING`'s answer: Redis 7.0 keeps every list in a
    /// quicklist.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the list has no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of chunks (quicklist nodes).
    pub fn chunk_count(&self) -> usize {
        self.chunks.len()
    }

    /// Approximate heap bytes used, for memory accounting.
    pub fn heap_size(&self) -> usize {
        self.chunks.capacity() * std::mem::size_of::<Chunk>()
            + self.chunks.iter().map(|c| c.buf.capacity()).sum::<usize>()
    }

    /// Adds an element at the head (`front`) or the tail.
    pub fn push(&mut self, e: &[u8], front: bool) {
        if front {
            self.push_front(e)
        } else {
            self.push_back(e)
        }
    }

    /// Adds an element at the tail.
    pub fn push_back(&mut self, e: &[u8]) {
        let sz = entry_size(e.len());
        match self.chunks.back_mut() {
            Some(c) if c.buf.len() + sz <= CHUNK_BYTES || c.count == 0 => c.push_back(e),
            _ => {
                if self.chunks.is_empty() {
                    self.chunks.reserve_exact(1);
                }
                let mut c = Chunk::default();
                c.push_back(e);
                self.chunks.push_back(c);
            }
        }
        self.len += 1;
    }

    /// Adds an element at the head.
    pub fn push_front(&mut self, e: &[u8]) {
        let sz = entry_size(e.len());
        match self.chunks.front_mut() {
            Some(c) if c.buf.len() + sz <= CHUNK_BYTES || c.count == 0 => c.insert(0, e),
            _ => {
                if self.chunks.is_empty() {
                    self.chunks.reserve_exact(1);
                }
                let mut c = Chunk::default();
                c.push_back(e);
                self.chunks.push_front(c);
            }
        }
        self.len += 1;
    }

    /// Removes and returns the head (`front`) or tail element.
    pub fn pop(&mut self, front: bool) -> Option<Vec<u8>> {
        if front {
            self.pop_front()
        } else {
            self.pop_back()
        }
    }

    /// Removes and returns the head element.
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let c = self.chunks.front_mut()?;
        let v = c.remove(0);
        if c.count == 0 {
            self.chunks.pop_front();
        }
        self.len -= 1;
        Some(v)
    }

    /// Removes and returns the tail element.
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let c = self.chunks.back_mut()?;
        let v = c.pop_back();
        if c.count == 0 {
            self.chunks.pop_back();
        }
        self.len -= 1;
        Some(v)
    }

    /// Resolves a Redis index (negative counts from the tail) to a
    /// position, if in range.
    pub fn resolve(&self, idx: i64) -> Option<usize> {
        let len = self.len as i64;
        let i = if idx < 0 { len.checked_add(idx)? } else { idx };
        if i < 0 || i >= len {
            None
        } else {
            Some(i as usize)
        }
    }

    /// Finds the chunk holding position `i` and the index inside it.
    fn locate(&self, mut i: usize) -> Option<(usize, usize)> {
        if i >= self.len {
            return None;
        }
        if i < self.len / 2 {
            for (ci, c) in self.chunks.iter().enumerate() {
                if i < c.count {
                    return Some((ci, i));
                }
                i -= c.count;
            }
            None
        } else {
            let mut from_end = self.len - 1 - i;
            for (ci, c) in self.chunks.iter().enumerate().rev() {
                if from_end < c.count {
                    return Some((ci, c.count - 1 - from_end));
                }
                from_end -= c.count;
            }
            None
        }
    }

    /// The element at position `i` (0-based from the head).
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let (ci, li) = self.locate(i)?;
        self.chunks.get(ci).map(|c| c.get(li))
    }

    /// Replaces the element at position `i`; false if out of range.
    pub fn set(&mut self, i: usize, e: &[u8]) -> bool {
        let Some((ci, li)) = self.locate(i) else {
            return false;
        };
        let Some(c) = self.chunks.get_mut(ci) else {
            return false;
        };
        c.replace(li, e);
        self.maybe_split(ci);
        true
    }

    /// Inserts `e` so that it lands at position `i` (`i == len` appends).
    pub fn insert(&mut self, i: usize, e: &[u8]) {
        if i == 0 {
            return self.push_front(e);
        }
        if i >= self.len {
            return self.push_back(e);
        }
        let Some((ci, li)) = self.locate(i) else {
            return;
        };
        if let Some(c) = self.chunks.get_mut(ci) {
            c.insert(li, e);
            self.len += 1;
            self.maybe_split(ci);
        }
    }

    /// Removes and returns the element at position `i`.
    pub fn remove(&mut self, i: usize) -> Option<Vec<u8>> {
        let (ci, li) = self.locate(i)?;
        let c = self.chunks.get_mut(ci)?;
        let v = c.remove(li);
        if c.count == 0 {
            self.chunks.remove(ci);
        }
        self.len -= 1;
        Some(v)
    }

    fn maybe_split(&mut self, ci: usize) {
        if let Some(c) = self.chunks.get_mut(ci) {
            if c.buf.len() > 2 * CHUNK_BYTES && c.count > 1 {
                let rest = c.split();
                self.chunks.insert(ci + 1, rest);
            }
        }
    }

    /// Removes the first `n` elements.
    pub fn drop_front(&mut self, mut n: usize) {
        n = n.min(self.len);
        self.len -= n;
        while n > 0 {
            let Some(c) = self.chunks.front_mut() else {
                break;
            };
            if c.count <= n {
                n -= c.count;
                self.chunks.pop_front();
            } else {
                c.drop_front(n);
                n = 0;
            }
        }
    }

    /// Removes the last `n` elements.
    pub fn drop_back(&mut self, mut n: usize) {
        n = n.min(self.len);
        self.len -= n;
        while n > 0 {
            let Some(c) = self.chunks.back_mut() else {
                break;
            };
            if c.count <= n {
                n -= c.count;
                self.chunks.pop_back();
            } else {
                c.drop_back(n);
                n = 0;
            }
        }
    }

    /// Keeps only the elements for which `keep(position, element)` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(usize, &[u8]) -> bool) {
        let mut out = List::new();
        for (i, e) in self.iter().enumerate() {
            if keep(i, e) {
                out.push_back(e);
            }
        }
        *self = out;
    }

    /// Iterates from the head.
    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0)
    }

    /// Iterates from position `i` towards the tail.
    pub fn iter_from(&self, i: usize) -> Iter<'_> {
        match self.locate(i) {
            Some((ci, li)) => {
                let pos = self.chunks.get(ci).map(|c| c.offset_of(li)).unwrap_or(0);
                Iter {
                    list: self,
                    chunk: ci,
                    pos,
                    left: self.len - i,
                }
            }
            None => Iter {
                list: self,
                chunk: 0,
                pos: 0,
                left: 0,
            },
        }
    }

    /// Iterates from the tail towards the head.
    pub fn iter_rev(&self) -> RevIter<'_> {
        self.iter_rev_from(self.len.saturating_sub(1))
    }

    /// Iterates from position `i` towards the head.
    pub fn iter_rev_from(&self, i: usize) -> RevIter<'_> {
        match self.locate(i) {
            Some((ci, li)) => {
                let end = self
                    .chunks
                    .get(ci)
                    .map(|c| c.offset_of(li + 1))
                    .unwrap_or(0);
                RevIter {
                    list: self,
                    chunk: ci,
                    end,
                    left: i + 1,
                }
            }
            None => RevIter {
                list: self,
                chunk: 0,
                end: 0,
                left: 0,
            },
        }
    }
}

impl<'a> FromIterator<&'a [u8]> for List {
    fn from_iter<T: IntoIterator<Item = &'a [u8]>>(iter: T) -> List {
        let mut l = List::new();
        for e in iter {
            l.push_back(e);
        }
        l
    }
}

/// Head-to-tail iterator over a list's elements.
pub struct Iter<'a> {
    list: &'a List,
    chunk: usize,
    pos: usize,
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        let mut c = self.list.chunks.get(self.chunk)?;
        while self.pos >= c.buf.len() {
            self.chunk += 1;
            self.pos = 0;
            c = self.list.chunks.get(self.chunk)?;
        }
        let (ds, n, next) = c.at(self.pos);
        self.pos = next;
        self.left -= 1;
        Some(c.data(ds, n))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// Tail-to-head iterator over a list's elements.
pub struct RevIter<'a> {
    list: &'a List,
    chunk: usize,
    end: usize,
    left: usize,
}

impl<'a> Iterator for RevIter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        while self.end == 0 {
            self.chunk = self.chunk.checked_sub(1)?;
            self.end = self.list.chunks.get(self.chunk)?.buf.len();
        }
        let c = self.list.chunks.get(self.chunk)?;
        let (start, ds, n) = c.before(self.end);
        self.end = start;
        self.left -= 1;
        Some(c.data(ds, n))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model_check(l: &List, m: &VecDeque<Vec<u8>>) {
        assert_eq!(l.len(), m.len());
        let a: Vec<&[u8]> = l.iter().collect();
        let b: Vec<&[u8]> = m.iter().map(|v| &v[..]).collect();
        assert_eq!(a, b);
        let a: Vec<&[u8]> = l.iter_rev().collect();
        let b: Vec<&[u8]> = m.iter().rev().map(|v| &v[..]).collect();
        assert_eq!(a, b);
        for (i, e) in m.iter().enumerate() {
            assert_eq!(l.get(i), Some(&e[..]));
        }
        assert_eq!(l.chunks.iter().map(|c| c.count).sum::<usize>(), l.len());
    }

    #[test]
    fn random_ops_match_a_model() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let mut l = List::new();
        let mut m: VecDeque<Vec<u8>> = VecDeque::new();
        for step in 0..20000 {
            let size = if rng.random_range(0..10) == 0 {
                rng.random_range(100..3000)
            } else {
                rng.random_range(0..20)
            };
            let e: Vec<u8> = (0..size).map(|i| (i + step) as u8).collect();
            match rng.random_range(0..10) {
                0 | 1 => {
                    l.push_back(&e);
                    m.push_back(e);
                }
                2 | 3 => {
                    l.push_front(&e);
                    m.push_front(e);
                }
                4 => assert_eq!(l.pop_front(), m.pop_front()),
                5 => assert_eq!(l.pop_back(), m.pop_back()),
                6 if !m.is_empty() => {
                    let i = rng.random_range(0..=m.len());
                    l.insert(i, &e);
                    m.insert(i, e);
                }
                7 if !m.is_empty() => {
                    let i = rng.random_range(0..m.len());
                    assert!(l.set(i, &e));
                    m[i] = e;
                }
                8 if !m.is_empty() => {
                    let i = rng.random_range(0..m.len());
                    assert_eq!(l.remove(i), m.remove(i));
                }
                9 => {
                    let n = rng.random_range(0..3);
                    l.drop_front(n);
                    l.drop_back(n);
                    for _ in 0..n {
                        m.pop_front();
                        m.pop_back();
                    }
                }
                _ => {}
            }
            if step % 97 == 0 {
                model_check(&l, &m);
                if m.len() > 2 {
                    let i = m.len() / 2;
                    let a: Vec<&[u8]> = l.iter_from(i).collect();
                    assert_eq!(a.len(), m.len() - i);
                    let a: Vec<&[u8]> = l.iter_rev_from(i).collect();
                    assert_eq!(a.len(), i + 1);
                    assert_eq!(a[0], &m[i][..]);
                }
            }
        }
        model_check(&l, &m);
    }

    #[test]
    fn small_list_is_compact() {
        let mut l = List::new();
        for i in 0..10 {
            l.push_back(format!("elem{i}").as_bytes());
        }
        assert_eq!(l.chunk_count(), 1);
        // 10 entries of 5 bytes + 2 bytes of tags each; one chunk slot.
        assert!(l.heap_size() <= 70 + 32, "{}", l.heap_size());
    }
}
