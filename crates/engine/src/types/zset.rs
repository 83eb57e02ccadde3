//! The `zset` value type: members ordered by (score, member).
//!
//! Small sorted sets (Redis's `listpack` encoding) live in one byte buffer
//! sized exactly: a 4-byte member count, then `[score][len: varint][member
//! bytes]` entries kept in order, where an integral score (the common
//! case: timestamps, counters) is a zigzag varint of one to eight bytes and
//! any other score a tag byte and the f64, so ten members of ten bytes
//! cost about 150 bytes of heap. Past
//! `zset-max-listpack-entries` / `zset-max-listpack-value` they become a
//! [`Big`] (`skiplist` encoding): a member → score [`Dict`] (for lookups and
//! ZSCAN cursors) plus the ordered members in sorted chunks of at most
//! `2 * CHUNK` entries. A rank query walks the chunk lengths, then binary
//! searches one chunk: O(n / CHUNK + log n), cheap in practice though not
//! the O(log n) of a skiplist with spans.

use std::cmp::Ordering;
use std::fmt;

use crate::dict::Dict;

/// Redis's ordering of sorted-set entries: by score, then by member bytes.
pub fn cmp_entry(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    if s1 < s2 {
        Ordering::Less
    } else if s1 > s2 {
        Ordering::Greater
    } else {
        m1.cmp(m2)
    }
}

/// A sorted set value.
#[derive(Debug, Clone, PartialEq)]
pub enum ZSet {
    /// The compact form (`listpack`).
    Pack(Pack),
    /// The big form (`skiplist`).
    Big(Box<Big>),
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::Pack(Pack::default())
    }
}

/// The compact encoding: ordered entries in one buffer of exactly their
/// size, the member count in its first [`HDR`] bytes (no allocation at
/// all while empty).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pack {
    buf: Box<[u8]>,
}

/// Bytes of the member count at the front of a non-empty [`Pack`].
const HDR: usize = 4;

/// Largest magnitude below which an integral score is stored as an integer
/// (2^53: every such integer is exact as an f64).
const INT_SCORE_MAX: f64 = 9_007_199_254_740_992.0;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Reads a varint at `p`: (value, next position).
#[inline]
fn get_varint(buf: &[u8], mut p: usize) -> Option<(u64, usize)> {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = *buf.get(p)?;
        p += 1;
        v |= u64::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
        shift += 7;
        if b & 0x80 == 0 {
            return Some((v, p));
        }
    }
}

/// The encoded score's tag: an even varint is `zigzag(i) << 1` for an
/// integral score `i`; `FLOAT_TAG` is followed by the f64 (LE).
const FLOAT_TAG: u8 = 1;

/// The varint an integral score is stored as, if it is one.
#[inline]
fn int_score(s: f64) -> Option<u64> {
    if s.fract() == 0.0 && s.abs() < INT_SCORE_MAX {
        let i = s as i64;
        Some((((i << 1) ^ (i >> 63)) as u64) << 1)
    } else {
        None
    }
}

fn put_score(out: &mut Vec<u8>, s: f64) {
    match int_score(s) {
        Some(v) => put_varint(out, v),
        None => {
            out.push(FLOAT_TAG);
            out.extend_from_slice(&s.to_le_bytes());
        }
    }
}

fn score_len(s: f64) -> usize {
    int_score(s).map_or(9, varint_len)
}

/// Reads a score at `p`: (score, next position).
#[inline]
fn get_score(buf: &[u8], p: usize) -> Option<(f64, usize)> {
    let (v, p) = get_varint(buf, p)?;
    if v & 1 == 0 {
        let z = v >> 1;
        let i = ((z >> 1) as i64) ^ -((z & 1) as i64);
        Some((i as f64, p))
    } else {
        let sb = buf.get(p..p + 8)?;
        let mut arr = [0u8; 8];
        arr.copy_from_slice(sb);
        Some((f64::from_le_bytes(arr), p + 8))
    }
}

/// Iterator over a [`Pack`]: (offset of entry, offset past it, score,
/// member).
struct PackIter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for PackIter<'a> {
    type Item = (usize, usize, f64, &'a [u8]);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let start = self.pos;
        let (score, p) = get_score(self.buf, start)?;
        let (len, p) = get_varint(self.buf, p)?;
        let end = p.checked_add(usize::try_from(len).ok()?)?;
        let m = self.buf.get(p..end)?;
        self.pos = end;
        Some((start, end, score, m))
    }
}

impl Pack {
    fn iter(&self) -> PackIter<'_> {
        PackIter {
            buf: &self.buf,
            pos: HDR,
        }
    }

    /// Number of members (the header).
    fn len(&self) -> usize {
        self.buf
            .first_chunk::<HDR>()
            .map_or(0, |h| u32::from_le_bytes(*h) as usize)
    }

    /// Replaces the buffer with `v`, whose first [`HDR`] bytes become the
    /// count `n` (or nothing at all when `n` is 0).
    fn store(&mut self, mut v: Vec<u8>, n: usize) {
        if n == 0 {
            self.buf = Box::default();
            return;
        }
        if let Some(h) = v.first_chunk_mut::<HDR>() {
            *h = (n as u32).to_le_bytes();
        }
        self.buf = v.into_boxed_slice();
    }

    /// The buffer as a vector, with a header if it had none.
    fn take_vec(&mut self) -> Vec<u8> {
        let mut v = std::mem::take(&mut self.buf).into_vec();
        if v.is_empty() {
            v.extend_from_slice(&[0; HDR]);
        }
        v
    }

    /// Builds a pack from entries already in order.
    fn from_sorted<'a>(entries: impl Iterator<Item = (f64, &'a [u8])> + Clone) -> Pack {
        let total: usize = entries
            .clone()
            .map(|(s, m)| score_len(s) + varint_len(m.len() as u64) + m.len())
            .sum();
        let mut v = Vec::with_capacity(HDR + total);
        v.extend_from_slice(&[0; HDR]);
        let mut n = 0;
        for (s, m) in entries {
            put_score(&mut v, s);
            put_varint(&mut v, m.len() as u64);
            v.extend_from_slice(m);
            n += 1;
        }
        let mut p = Pack::default();
        p.store(v, n);
        p
    }

    fn find(&self, m: &[u8]) -> Option<(usize, usize, f64)> {
        self.iter()
            .find(|(_, _, _, x)| *x == m)
            .map(|(o, e, s, _)| (o, e, s))
    }

    fn insert_new(&mut self, m: &[u8], score: f64) {
        // The listpack stores scores as text, where -0 reads back as 0.
        let score = if score == 0.0 { 0.0 } else { score };
        let n = self.len();
        let pos = self
            .iter()
            .find(|(_, _, s, x)| cmp_entry(*s, x, score, m) == Ordering::Greater)
            .map(|(o, _, _, _)| o);
        let mut e = Vec::with_capacity(score_len(score) + varint_len(m.len() as u64) + m.len());
        put_score(&mut e, score);
        put_varint(&mut e, m.len() as u64);
        e.extend_from_slice(m);
        let mut v = self.take_vec();
        v.reserve_exact(e.len());
        let pos = pos.unwrap_or(v.len());
        v.splice(pos..pos, e);
        self.store(v, n + 1);
    }

    fn remove(&mut self, m: &[u8]) -> Option<f64> {
        let (off, end, s) = self.find(m)?;
        let n = self.len();
        let mut v = self.take_vec();
        v.drain(off..end);
        self.store(v, n - 1);
        Some(s)
    }
}

/// Entries per chunk of a [`Big`] before it is split at `2 * CHUNK`.
const CHUNK: usize = 128;

/// The big encoding: a dictionary plus ordered chunks.
pub struct Big {
    chunks: Vec<Vec<(f64, Box<[u8]>)>>,
    dict: Dict<f64>,
    len: usize,
}

impl fmt::Debug for Big {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Big({} members)", self.len)
    }
}

impl Clone for Big {
    fn clone(&self) -> Self {
        let mut dict = Dict::new();
        for ch in &self.chunks {
            for (s, m) in ch {
                dict.insert(m.clone(), *s);
            }
        }
        Big {
            chunks: self.chunks.clone(),
            dict,
            len: self.len,
        }
    }
}

impl PartialEq for Big {
    fn eq(&self, other: &Self) -> bool {
        self.chunks
            .iter()
            .flatten()
            .eq(other.chunks.iter().flatten())
    }
}

impl Big {
    fn new() -> Big {
        Big {
            chunks: Vec::new(),
            dict: Dict::new(),
            len: 0,
        }
    }

    /// Index of the chunk holding (or to hold) the entry (score, m).
    fn chunk_for(&self, score: f64, m: &[u8]) -> usize {
        let c = self.chunks.partition_point(|ch| {
            ch.last()
                .is_some_and(|(s, x)| cmp_entry(*s, x, score, m) == Ordering::Less)
        });
        c.min(self.chunks.len().saturating_sub(1))
    }

    fn insert_new(&mut self, m: &[u8], score: f64) {
        self.dict.insert(m.into(), score);
        self.len += 1;
        if self.chunks.is_empty() {
            self.chunks.push(vec![(score, m.into())]);
            return;
        }
        let c = self.chunk_for(score, m);
        let Some(ch) = self.chunks.get_mut(c) else {
            return;
        };
        let p = ch.partition_point(|(s, x)| cmp_entry(*s, x, score, m) == Ordering::Less);
        ch.insert(p, (score, m.into()));
        if ch.len() >= 2 * CHUNK {
            let tail = ch.split_off(CHUNK);
            self.chunks.insert(c + 1, tail);
        }
    }

    fn remove(&mut self, m: &[u8]) -> Option<f64> {
        let (_, score) = self.dict.remove(m)?;
        self.len -= 1;
        let c = self.chunk_for(score, m);
        if let Some(ch) = self.chunks.get_mut(c) {
            let p = ch.partition_point(|(s, x)| cmp_entry(*s, x, score, m) == Ordering::Less);
            if p < ch.len() {
                ch.remove(p);
            }
            if ch.is_empty() {
                self.chunks.remove(c);
            } else if ch.len() < CHUNK / 4 && c + 1 < self.chunks.len() {
                // Merge small neighbours to keep the chunk count low.
                let next_len = self.chunks.get(c + 1).map_or(0, |n| n.len());
                if next_len + self.chunks[c].len() < 2 * CHUNK {
                    let next = self.chunks.remove(c + 1);
                    self.chunks[c].extend(next);
                }
            }
        }
        self.dict.shrink_if_needed();
        Some(score)
    }
}

impl ZSet {
    /// `OBJECT ENCODING`'s answer.
    pub fn encoding(&self) -> &'static str {
        match self {
            ZSet::Pack(_) => "listpack",
            ZSet::Big(_) => "skiplist",
        }
    }

    /// An empty set in the big encoding.
    pub fn new_big() -> ZSet {
        ZSet::Big(Box::new(Big::new()))
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            ZSet::Pack(p) => p.len(),
            ZSet::Big(b) => b.len,
        }
    }

    /// True when there are no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The score of `m`.
    pub fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            ZSet::Pack(p) => p.find(m).map(|(_, _, s)| s),
            ZSet::Big(b) => b.dict.get(m).copied(),
        }
    }

    /// Converts to the big encoding.
    pub fn convert_to_big(&mut self) {
        if let ZSet::Pack(p) = self {
            let mut b = Big::new();
            for (_, _, s, m) in p.iter() {
                b.insert_new(m, s);
            }
            *self = ZSet::Big(Box::new(b));
        }
    }

    /// Converts back to the compact encoding (used for new destination
    /// values that fit, as Redis's `zsetConvertToListpackIfNeeded`).
    pub fn convert_to_pack(&mut self) {
        if let ZSet::Big(b) = self {
            let p = Pack::from_sorted(b.chunks.iter().flatten().map(|(s, m)| (*s, &m[..])));
            *self = ZSet::Pack(p);
        }
    }

    /// Inserts a member known to be absent, converting to the big encoding
    /// first when the compact one would exceed the limits.
    pub fn insert_new(&mut self, m: &[u8], score: f64, max_entries: usize, max_value: usize) {
        if let ZSet::Pack(p) = self {
            if p.len() + 1 > max_entries || m.len() > max_value {
                self.convert_to_big();
            }
        }
        match self {
            ZSet::Pack(p) => p.insert_new(m, score),
            ZSet::Big(b) => b.insert_new(m, score),
        }
    }

    /// Sets the score of a member (adding it if absent). Returns the
    /// previous score.
    pub fn set(
        &mut self,
        m: &[u8],
        score: f64,
        max_entries: usize,
        max_value: usize,
    ) -> Option<f64> {
        let old = self.remove(m);
        self.insert_new(m, score, max_entries, max_value);
        old
    }

    /// Removes a member; returns its score.
    pub fn remove(&mut self, m: &[u8]) -> Option<f64> {
        match self {
            ZSet::Pack(p) => p.remove(m),
            ZSet::Big(b) => b.remove(m),
        }
    }

    /// The number of leading entries (in order) for which `pred` holds;
    /// `pred` must be true for a prefix and false afterwards.
    pub fn partition_point(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        match self {
            ZSet::Pack(p) => p.iter().take_while(|(_, _, s, m)| pred(*s, m)).count(),
            ZSet::Big(b) => {
                let c = b
                    .chunks
                    .partition_point(|ch| ch.last().is_some_and(|(s, m)| pred(*s, m)));
                let before: usize = b.chunks.iter().take(c).map(|ch| ch.len()).sum();
                before
                    + b.chunks
                        .get(c)
                        .map_or(0, |ch| ch.partition_point(|(s, m)| pred(*s, m)))
            }
        }
    }

    /// The 0-based ascending rank of `m`.
    pub fn rank(&self, m: &[u8]) -> Option<usize> {
        let score = self.score(m)?;
        Some(self.partition_point(|s, x| cmp_entry(s, x, score, m) == Ordering::Less))
    }

    /// Calls `f` for the entries of ranks `start..end` in ascending order
    /// (stopping early if `f` returns false).
    pub fn for_range(&self, start: usize, end: usize, mut f: impl FnMut(&[u8], f64) -> bool) {
        if start >= end {
            return;
        }
        match self {
            ZSet::Pack(p) => {
                for (_, _, s, m) in p.iter().skip(start).take(end - start) {
                    if !f(m, s) {
                        return;
                    }
                }
            }
            ZSet::Big(b) => {
                let mut skip = start;
                let mut left = end - start;
                for ch in &b.chunks {
                    if skip >= ch.len() {
                        skip -= ch.len();
                        continue;
                    }
                    for (s, m) in ch.iter().skip(skip) {
                        if left == 0 || !f(m, *s) {
                            return;
                        }
                        left -= 1;
                    }
                    skip = 0;
                }
            }
        }
    }

    /// Calls `f` for the entries of ranks `start..end` in descending order
    /// (stopping early if `f` returns false).
    pub fn for_range_rev(&self, start: usize, end: usize, mut f: impl FnMut(&[u8], f64) -> bool) {
        if start >= end {
            return;
        }
        match self {
            ZSet::Pack(_) => {
                let mut v: Vec<(Vec<u8>, f64)> = Vec::with_capacity(end - start);
                self.for_range(start, end, |m, s| {
                    v.push((m.to_vec(), s));
                    true
                });
                for (m, s) in v.iter().rev() {
                    if !f(m, *s) {
                        return;
                    }
                }
            }
            ZSet::Big(b) => {
                // Walk chunks backwards from the last wanted rank.
                let total = b.len;
                let mut skip = total.saturating_sub(end);
                let mut left = end - start;
                for ch in b.chunks.iter().rev() {
                    if skip >= ch.len() {
                        skip -= ch.len();
                        continue;
                    }
                    for (s, m) in ch.iter().rev().skip(skip) {
                        if left == 0 || !f(m, *s) {
                            return;
                        }
                        left -= 1;
                    }
                    skip = 0;
                }
            }
        }
    }

    /// The entries of ranks `start..end` (ascending), copied.
    pub fn range_vec(&self, start: usize, end: usize) -> Vec<(Vec<u8>, f64)> {
        let mut v = Vec::with_capacity(end.saturating_sub(start).min(1024));
        self.for_range(start, end, |m, s| {
            v.push((m.to_vec(), s));
            true
        });
        v
    }

    /// The entry at rank `i`.
    pub fn at(&self, i: usize) -> Option<(Vec<u8>, f64)> {
        self.range_vec(i, i + 1).pop()
    }

    /// Removes the entries of ranks `start..end`; returns how many.
    pub fn remove_range(&mut self, start: usize, end: usize) -> usize {
        let end = end.min(self.len());
        if start >= end {
            return 0;
        }
        match self {
            ZSet::Pack(p) => {
                let mut from = None;
                let mut to = p.buf.len();
                for (i, (o, _, _, _)) in p.iter().enumerate() {
                    if i == start {
                        from = Some(o);
                    }
                    if i == end {
                        to = o;
                        break;
                    }
                }
                if let Some(f) = from {
                    let n = p.len();
                    let mut v = p.take_vec();
                    v.drain(f..to);
                    p.store(v, n - (end - start));
                }
                end - start
            }
            ZSet::Big(_) => {
                let doomed = self.range_vec(start, end);
                for (m, _) in &doomed {
                    self.remove(m);
                }
                doomed.len()
            }
        }
    }

    /// Iterates over all entries in order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], f64)> + '_> {
        match self {
            ZSet::Pack(p) => Box::new(p.iter().map(|(_, _, s, m)| (m, s))),
            ZSet::Big(b) => Box::new(b.chunks.iter().flatten().map(|(s, m)| (&m[..], *s))),
        }
    }

    /// The length of the longest member.
    pub fn max_member_len(&self) -> usize {
        self.iter().map(|(m, _)| m.len()).max().unwrap_or(0)
    }

    /// One ZSCAN step over the big encoding's dictionary (the compact one
    /// returns everything with cursor 0).
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match self {
            ZSet::Pack(p) => {
                for (_, _, s, m) in p.iter() {
                    f(m, s);
                }
                0
            }
            ZSet::Big(b) => b.dict.scan(cursor, |m, s| f(m, *s)),
        }
    }

    /// A random entry from the dictionary (big) or by index (compact).
    pub fn random(&self, mut rnd: impl FnMut() -> usize) -> Option<(Vec<u8>, f64)> {
        match self {
            ZSet::Pack(p) => {
                let n = p.len();
                if n == 0 {
                    return None;
                }
                self.at(rnd() % n)
            }
            ZSet::Big(b) => b.dict.random_entry(rnd).map(|(m, s)| (m.to_vec(), *s)),
        }
    }

    /// Approximate heap bytes used.
    pub fn heap_size(&self) -> usize {
        match self {
            ZSet::Pack(p) => p.buf.len(),
            ZSet::Big(b) => {
                b.chunks
                    .iter()
                    .map(|c| c.capacity() * 24 + c.iter().map(|(_, m)| m.len()).sum::<usize>())
                    .sum::<usize>()
                    + b.len * 48
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(z: &ZSet) {
        let v: Vec<(Vec<u8>, f64)> = z.iter().map(|(m, s)| (m.to_vec(), s)).collect();
        for w in v.windows(2) {
            assert_eq!(cmp_entry(w[0].1, &w[0].0, w[1].1, &w[1].0), Ordering::Less);
        }
        assert_eq!(v.len(), z.len());
        for (i, (m, s)) in v.iter().enumerate() {
            assert_eq!(z.score(m), Some(*s));
            assert_eq!(z.rank(m), Some(i));
        }
    }

    #[test]
    fn pack_and_big_agree() {
        let mut a = ZSet::default();
        let mut b = ZSet::new_big();
        for i in 0..2000u32 {
            let m = format!("m{}", (i * 7919) % 1000);
            let s = ((i * 31) % 97) as f64;
            a.set(m.as_bytes(), s, usize::MAX, usize::MAX);
            b.set(m.as_bytes(), s, usize::MAX, usize::MAX);
            if i % 3 == 0 {
                let r = format!("m{}", (i * 13) % 1000);
                assert_eq!(a.remove(r.as_bytes()), b.remove(r.as_bytes()));
            }
        }
        check(&a);
        check(&b);
        assert_eq!(a.range_vec(0, a.len()), b.range_vec(0, b.len()));
        let mut ra = Vec::new();
        a.for_range_rev(10, 300, |m, s| {
            ra.push((m.to_vec(), s));
            true
        });
        let mut rb = Vec::new();
        b.for_range_rev(10, 300, |m, s| {
            rb.push((m.to_vec(), s));
            true
        });
        assert_eq!(ra, rb);
        assert_eq!(a.remove_range(5, 50), b.remove_range(5, 50));
        check(&a);
        check(&b);
        let mut c = a.clone();
        c.convert_to_big();
        assert_eq!(c.range_vec(0, c.len()), a.range_vec(0, a.len()));
        c.convert_to_pack();
        assert_eq!(c, a);
    }

    #[test]
    fn small_set_is_compact() {
        let mut z = ZSet::default();
        for i in 0..10 {
            z.insert_new(format!("member:{i:03}").as_bytes(), i as f64, 128, 64);
        }
        assert_eq!(z.encoding(), "listpack");
        // Header, then 10 x (1 score byte + 1 + 10).
        assert_eq!(z.heap_size(), 4 + 120);
        assert_eq!(std::mem::size_of::<ZSet>(), 16);
    }

    #[test]
    fn pack_scores_round_trip() {
        let scores = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            63.0,
            64.0,
            -64.0,
            -65.0,
            1.5,
            -2.25,
            1e300,
            -1e-300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            9_007_199_254_740_991.0,
            -9_007_199_254_740_991.0,
            9_007_199_254_740_992.0,
            -9_007_199_254_740_992.0,
            1_700_000_000_123.0,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
        ];
        let mut z = ZSet::default();
        for (i, &s) in scores.iter().enumerate() {
            z.insert_new(format!("m{i}").as_bytes(), s, 128, 64);
        }
        assert_eq!(z.len(), scores.len());
        for (i, &s) in scores.iter().enumerate() {
            let got = z.score(format!("m{i}").as_bytes());
            // -0 is stored as 0, as in Redis's listpack.
            let want = if s == 0.0 { 0.0 } else { s };
            assert_eq!(got.map(f64::to_bits), Some(want.to_bits()), "{s}");
        }
        check(&z);
        for i in 0..scores.len() {
            assert!(z.remove(format!("m{i}").as_bytes()).is_some());
        }
        assert!(z.is_empty());
        assert_eq!(z.heap_size(), 0);
    }
}
