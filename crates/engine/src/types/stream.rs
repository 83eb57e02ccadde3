//! The `stream` value type: an append-only log of entries with IDs, plus
//! consumer groups.
//!
//! # Layout
//!
//! Entries live in *nodes* that mirror Redis's radix tree of listpacks: a
//! [`BTreeMap`] keyed by each node's master ID (the ID of the first entry
//! appended to it). A node stores its entries in one byte buffer, encoded
//! as listpack does it (milliseconds as a delta from the master ID, field
//! names omitted when they equal the master entry's fields, all integers
//! as varints), with a sorted offset table of its live entries: about 27
//! bytes per small entry, as in Redis. A node is closed, and a new one started, exactly
//! when Redis would start a new listpack: once it holds
//! `stream-node-max-entries` entries (live plus deleted) or its estimated
//! listpack size plus the new entry's payload reaches
//! `stream-node-max-bytes`. Deleted entries stay counted in their node (as
//! Redis's tombstones do) until the node has no live entry left, when the
//! node is dropped. Approximate trimming (`~`) removes only whole nodes, so
//! its results match Redis's.
//!
//! # Public API (for persistence and replication)
//!
//! Reading:
//! - [`Stream::len`], [`Stream::last_id`], [`Stream::first_id`] (the
//!   recorded first entry ID, 0-0 when empty), [`Stream::entries_added`],
//!   [`Stream::max_deleted_entry_id`].
//! - [`Stream::for_each_range`] / [`Stream::iter`]: entries in ID order,
//!   each an ID and its field/value pairs ([`EntryRef::pairs`]).
//! - [`Stream::groups`]: the consumer groups by name ([`Group`]:
//!   `last_id`, `entries_read` (-1 = unknown), `pel` (ID → [`Nack`] with
//!   `delivery_time`, `delivery_count`, `consumer` name) and `consumers`
//!   (name → [`Consumer`] with `seen_time` and its own `pel` set of IDs)).
//!
//! Rebuilding (RDB load): [`Stream::new`], then [`Stream::append`] for each
//! entry in order with the configured node limits (or
//! [`Stream::append_with_limits`]; to keep a saved listpack layout,
//! [`Stream::append_new_node`] for each listpack's first entry and
//! [`NodeLimits::UNLIMITED`] for the rest, appending tombstones and then
//! [`Stream::delete`]-ing them), then [`Stream::set_meta`] for last ID,
//! entries added, max deleted ID and first ID, then
//! [`Stream::create_group`] and, for each group,
//! [`Group::create_consumer`] and [`Group::add_pending`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use bytes::Bytes;

/// A stream entry ID: milliseconds and sequence number.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    /// The smallest ID, 0-0.
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    /// The largest ID.
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    /// Builds an ID.
    pub fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// Is this 0-0?
    pub fn is_zero(&self) -> bool {
        self.ms == 0 && self.seq == 0
    }

    /// The next ID, or `None` past the largest.
    pub fn incr(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                None
            } else {
                Some(StreamId::new(self.ms + 1, 0))
            }
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }

    /// The previous ID, or `None` before 0-0.
    pub fn decr(self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                None
            } else {
                Some(StreamId::new(self.ms - 1, u64::MAX))
            }
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }

    /// The `<ms>-<seq>` text as bytes.
    pub fn to_bytes(&self) -> Bytes {
        Bytes::from(self.to_string())
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

impl fmt::Debug for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// Redis's STREAM_LISTPACK_MAX_SIZE.
pub const LISTPACK_MAX_SIZE: usize = 1 << 30;

/// Node limits (`stream-node-max-entries`, `stream-node-max-bytes`).
#[derive(Clone, Copy, Debug)]
pub struct NodeLimits {
    pub max_entries: i64,
    pub max_bytes: i64,
}

impl NodeLimits {
    /// No limit on a node's entries or (practically) bytes.
    pub const UNLIMITED: NodeLimits = NodeLimits {
        max_entries: 0,
        max_bytes: 0,
    };
}

impl Default for NodeLimits {
    fn default() -> Self {
        NodeLimits {
            max_entries: 100,
            max_bytes: 4096,
        }
    }
}

fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn get_varint(buf: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    while let Some(&b) = buf.get(*pos) {
        *pos += 1;
        if shift < 64 {
            v |= ((b & 0x7f) as u64) << shift;
        }
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    v
}

/// Size of a listpack backlen for an element of `l` bytes.
fn lp_backlen(l: usize) -> usize {
    match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// Estimated listpack bytes of an integer element.
fn lp_int_size(v: i64) -> usize {
    let enc = if (0..=127).contains(&v) {
        1
    } else if (-4096..=4095).contains(&v) {
        2
    } else if (i16::MIN as i64..=i16::MAX as i64).contains(&v) {
        3
    } else if (-(1 << 23)..(1 << 23)).contains(&v) {
        4
    } else if (i32::MIN as i64..=i32::MAX as i64).contains(&v) {
        5
    } else {
        9
    };
    enc + lp_backlen(enc)
}

/// Estimated listpack bytes of a string element (integers are stored as
/// integers, as listpack does).
fn lp_str_size(b: &[u8]) -> usize {
    if b.len() <= 20 {
        if let Some(v) = lunakv_protocol::parse_i64(b) {
            return lp_int_size(v);
        }
    }
    let l = b.len();
    let enc = if l <= 63 {
        1 + l
    } else if l <= 4095 {
        2 + l
    } else {
        5 + l
    };
    enc + lp_backlen(enc)
}

/// One entry as stored: a view of its field/value pairs.
#[derive(Clone, Copy)]
pub struct EntryRef<'a> {
    data: &'a [u8],
    nfields: usize,
    /// The node's master fields when the entry has the same fields (only
    /// its values are stored then).
    master: Option<&'a [u8]>,
}

/// Reads a length-prefixed string at `pos`.
fn get_str<'a>(buf: &'a [u8], pos: &mut usize) -> &'a [u8] {
    let l = get_varint(buf, pos) as usize;
    let s = buf.get(*pos..*pos + l).unwrap_or(&[]);
    *pos += l;
    s
}

impl<'a> EntryRef<'a> {
    /// Number of field/value pairs.
    pub fn len(&self) -> usize {
        self.nfields
    }

    /// True when the entry has no fields (never the case for XADD).
    pub fn is_empty(&self) -> bool {
        self.nfields == 0
    }

    /// The field/value pairs in order.
    pub fn pairs(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        let data = self.data;
        let master = self.master;
        let mut pos = 0usize;
        let mut mpos = 0usize;
        (0..self.nfields).map(move |_| {
            let f = match master {
                Some(m) => get_str(m, &mut mpos),
                None => get_str(data, &mut pos),
            };
            let v = get_str(data, &mut pos);
            (f, v)
        })
    }
}

/// A node of entries (Redis's listpack under one radix tree key).
#[derive(Clone, Default, PartialEq)]
struct Node {
    /// Encoded entries, as varints: ms minus the master ms, seq, then
    /// `field count << 1 | same-fields flag`, then length-prefixed fields
    /// and values (values only when the fields are the master's, as
    /// listpack's SAMEFIELDS compression does).
    buf: Vec<u8>,
    /// The master ID (the node's key).
    master_id: StreamId,
    /// Offsets of the live entries, in ID order.
    offs: Vec<u32>,
    /// Entries marked deleted (still counted for the node's size).
    deleted: u32,
    /// The last ID appended (live or not).
    last: StreamId,
    /// Estimated listpack bytes.
    bytes: u32,
    /// Master entry fields (length-prefixed), for the size estimate.
    master: Box<[u8]>,
    master_n: u32,
}

impl Node {
    fn id_at(&self, off: u32) -> StreamId {
        let mut pos = off as usize;
        let ms = self
            .master_id
            .ms
            .wrapping_add(get_varint(&self.buf, &mut pos));
        StreamId::new(ms, get_varint(&self.buf, &mut pos))
    }

    fn entry_at(&self, off: u32) -> EntryRef<'_> {
        let mut pos = off as usize;
        get_varint(&self.buf, &mut pos);
        get_varint(&self.buf, &mut pos);
        let tag = get_varint(&self.buf, &mut pos);
        EntryRef {
            data: self.buf.get(pos..).unwrap_or(&[]),
            nfields: (tag >> 1) as usize,
            master: (tag & 1 == 1).then_some(&self.master[..]),
        }
    }

    /// Index of the first live entry with ID >= `id`.
    fn lower_bound(&self, id: StreamId) -> usize {
        self.offs.partition_point(|&o| self.id_at(o) < id)
    }

    /// Index past the last live entry with ID <= `id`.
    fn upper_bound(&self, id: StreamId) -> usize {
        self.offs.partition_point(|&o| self.id_at(o) <= id)
    }

    fn total(&self) -> u64 {
        self.offs.len() as u64 + self.deleted as u64
    }
}

/// A pending (delivered, not acknowledged) entry of a group.
#[derive(Clone, Debug, PartialEq)]
pub struct Nack {
    /// Unix ms of the last delivery.
    pub delivery_time: u64,
    /// Number of deliveries.
    pub delivery_count: u64,
    /// The owning consumer's name.
    pub consumer: Bytes,
}

/// A consumer of a group.
#[derive(Clone, Debug, PartialEq)]
pub struct Consumer {
    /// Unix ms of the consumer's last activity.
    pub seen_time: u64,
    /// IDs of the entries pending for this consumer.
    pub pel: BTreeSet<StreamId>,
}

/// A consumer group.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The last delivered ID.
    pub last_id: StreamId,
    /// Logical read counter; -1 when unknown.
    pub entries_read: i64,
    /// The group's pending entries.
    pub pel: BTreeMap<StreamId, Nack>,
    /// Consumers by name.
    pub consumers: BTreeMap<Bytes, Consumer>,
}

impl Group {
    /// A group delivering after `last_id`.
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// Creates a consumer; false if it already exists.
    pub fn create_consumer(&mut self, name: &[u8], seen_time: u64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        self.consumers.insert(
            Bytes::copy_from_slice(name),
            Consumer {
                seen_time,
                pel: BTreeSet::new(),
            },
        );
        true
    }

    /// Adds a pending entry owned by `consumer` (created if missing),
    /// replacing any previous owner.
    pub fn add_pending(&mut self, id: StreamId, consumer: &[u8], time: u64, count: u64) {
        self.remove_pending(id);
        let name = match self.consumers.get_key_value(consumer) {
            Some((k, _)) => k.clone(),
            None => {
                self.create_consumer(consumer, time);
                Bytes::copy_from_slice(consumer)
            }
        };
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
        self.pel.insert(
            id,
            Nack {
                delivery_time: time,
                delivery_count: count,
                consumer: name,
            },
        );
    }

    /// Removes a pending entry from the group and its consumer.
    pub fn remove_pending(&mut self, id: StreamId) -> Option<Nack> {
        let n = self.pel.remove(&id)?;
        if let Some(c) = self.consumers.get_mut(&n.consumer) {
            c.pel.remove(&id);
        }
        Some(n)
    }

    /// Deletes a consumer and its pending entries; returns how many it had.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        Some(c.pel.len())
    }
}

/// A stream value.
#[derive(Clone, Default, PartialEq)]
pub struct Stream {
    nodes: BTreeMap<StreamId, Node>,
    length: u64,
    last_id: StreamId,
    first_id: StreamId,
    max_deleted: StreamId,
    entries_added: u64,
    groups: BTreeMap<Bytes, Group>,
}

/// How to trim a stream.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Trim {
    None,
    MaxLen(u64),
    MinId(StreamId),
}

/// Why an append failed.
#[derive(Debug, PartialEq)]
pub enum AppendError {
    /// The ID is not greater than the last one (or the sequence overflowed).
    IdTooSmall,
    /// The fields are too large for a node.
    TooLarge,
}

impl Stream {
    /// An empty stream.
    pub fn new() -> Stream {
        Stream::default()
    }

    /// `OBJECT ENCODING`'s answer.
    pub fn encoding(&self) -> &'static str {
        "stream"
    }

    /// Number of entries.
    pub fn len(&self) -> u64 {
        self.length
    }

    /// True when there is no entry.
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// The last generated ID.
    pub fn last_id(&self) -> StreamId {
        self.last_id
    }

    /// The recorded first entry ID (0-0 when empty).
    pub fn first_id(&self) -> StreamId {
        self.first_id
    }

    /// Entries ever added.
    pub fn entries_added(&self) -> u64 {
        self.entries_added
    }

    /// The largest deleted ID.
    pub fn max_deleted_entry_id(&self) -> StreamId {
        self.max_deleted
    }

    /// Number of nodes (Redis's radix tree keys).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Sets the metadata after a rebuild, or for XSETID.
    pub fn set_meta(
        &mut self,
        last_id: StreamId,
        entries_added: u64,
        max_deleted: StreamId,
        first_id: StreamId,
    ) {
        self.last_id = last_id;
        self.entries_added = entries_added;
        self.max_deleted = max_deleted;
        self.first_id = first_id;
    }

    /// Sets the last generated ID.
    pub fn set_last_id(&mut self, id: StreamId) {
        self.last_id = id;
    }

    /// Sets the entries-added counter.
    pub fn set_entries_added(&mut self, n: u64) {
        self.entries_added = n;
    }

    /// Sets the largest deleted ID.
    pub fn set_max_deleted_entry_id(&mut self, id: StreamId) {
        self.max_deleted = id;
    }

    /// Consumer groups by name (empty map if none).
    pub fn groups(&self) -> impl Iterator<Item = (&Bytes, &Group)> {
        self.groups.iter()
    }

    /// Number of consumer groups.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// A group by name.
    pub fn group(&self, name: &[u8]) -> Option<&Group> {
        self.groups.get(name)
    }

    /// A group by name, for changes.
    pub fn group_mut(&mut self, name: &[u8]) -> Option<&mut Group> {
        self.groups.get_mut(name)
    }

    /// Creates a group; `None` if it already exists.
    pub fn create_group(
        &mut self,
        name: &[u8],
        last_id: StreamId,
        entries_read: i64,
    ) -> Option<&mut Group> {
        let g = &mut self.groups;
        if g.contains_key(name) {
            return None;
        }
        let k = Bytes::copy_from_slice(name);
        g.insert(k.clone(), Group::new(last_id, entries_read));
        g.get_mut(&k)
    }

    /// Destroys a group; false if missing.
    pub fn destroy_group(&mut self, name: &[u8]) -> bool {
        self.groups.remove(name).is_some()
    }

    /// The next automatic ID after the last one at time `now_ms`.
    pub fn next_auto_id(&self, now_ms: u64) -> Option<StreamId> {
        if now_ms > self.last_id.ms {
            Some(StreamId::new(now_ms, 0))
        } else {
            self.last_id.incr()
        }
    }

    /// Appends an entry with the default node limits.
    pub fn append(&mut self, id: StreamId, fields: &[(&[u8], &[u8])]) -> Result<(), AppendError> {
        self.append_with_limits(id, fields, NodeLimits::default())
    }

    /// Appends an entry with ID `id` (which must be greater than the last
    /// ID), starting a new node where Redis would.
    pub fn append_with_limits(
        &mut self,
        id: StreamId,
        fields: &[(&[u8], &[u8])],
        limits: NodeLimits,
    ) -> Result<(), AppendError> {
        self.append_inner(id, fields, limits, false)
    }

    /// Appends an entry that starts a new node (an RDB loader reproducing
    /// the listpack boundaries of a saved stream calls this for the first
    /// entry of each listpack, then [`Stream::append_with_limits`] with
    /// unlimited [`NodeLimits`] for the rest; tombstones are appended and
    /// then [`Stream::delete`]d, and [`Stream::set_meta`] restores the
    /// metadata at the end).
    pub fn append_new_node(
        &mut self,
        id: StreamId,
        fields: &[(&[u8], &[u8])],
    ) -> Result<(), AppendError> {
        self.append_inner(id, fields, NodeLimits::default(), true)
    }

    fn append_inner(
        &mut self,
        id: StreamId,
        fields: &[(&[u8], &[u8])],
        limits: NodeLimits,
        force_new: bool,
    ) -> Result<(), AppendError> {
        if id <= self.last_id {
            return Err(AppendError::IdTooSmall);
        }
        let totelelen: usize = fields.iter().map(|(f, v)| f.len() + v.len()).sum();
        if totelelen > LISTPACK_MAX_SIZE {
            return Err(AppendError::TooLarge);
        }
        let max_bytes = if limits.max_bytes <= 0 || limits.max_bytes as usize > LISTPACK_MAX_SIZE {
            LISTPACK_MAX_SIZE
        } else {
            limits.max_bytes as usize
        };
        let new_node = match self.nodes.iter().next_back() {
            None => true,
            Some(_) if force_new => true,
            Some((_, n)) => {
                n.bytes as usize + totelelen >= max_bytes
                    || (limits.max_entries > 0 && n.total() >= limits.max_entries as u64)
            }
        };
        if new_node {
            // A closed node keeps no spare capacity (lpShrinkToFit).
            if let Some((_, prev)) = self.nodes.iter_mut().next_back() {
                prev.buf.shrink_to_fit();
                prev.offs.shrink_to_fit();
            }
            let mut master = Vec::new();
            let mut bytes = 6 + 1; // header + end
            bytes += lp_int_size(1) + lp_int_size(0) + lp_int_size(fields.len() as i64);
            for (f, _) in fields {
                put_varint(&mut master, f.len() as u64);
                master.extend_from_slice(f);
                bytes += lp_str_size(f);
            }
            bytes += lp_int_size(0);
            let node = Node {
                master: master.into_boxed_slice(),
                master_n: fields.len() as u32,
                bytes: bytes as u32,
                last: id,
                master_id: id,
                ..Default::default()
            };
            self.nodes.insert(id, node);
        }
        let Some((&master_id, node)) = self.nodes.iter_mut().next_back() else {
            return Err(AppendError::TooLarge);
        };
        // Size estimate of the entry as listpack would store it.
        let same = node.master_n as usize == fields.len() && {
            let mut pos = 0usize;
            fields.iter().all(|(f, _)| {
                let l = get_varint(&node.master, &mut pos) as usize;
                let m = node.master.get(pos..pos + l);
                pos += l;
                m == Some(*f)
            })
        };
        let mut esize = lp_int_size(if same { 2 } else { 0 });
        esize += lp_int_size(id.ms.wrapping_sub(master_id.ms) as i64);
        esize += lp_int_size(id.seq.wrapping_sub(master_id.seq) as i64);
        let mut pieces = 3 + fields.len();
        if !same {
            esize += lp_int_size(fields.len() as i64);
            pieces += 1 + fields.len();
        }
        for (f, v) in fields {
            if !same {
                esize += lp_str_size(f);
            }
            esize += lp_str_size(v);
        }
        esize += lp_int_size(pieces as i64);
        node.bytes = node.bytes.saturating_add(esize as u32);
        let off = node.buf.len() as u32;
        put_varint(&mut node.buf, id.ms.wrapping_sub(master_id.ms));
        put_varint(&mut node.buf, id.seq);
        put_varint(&mut node.buf, ((fields.len() as u64) << 1) | same as u64);
        for (f, v) in fields {
            if !same {
                put_varint(&mut node.buf, f.len() as u64);
                node.buf.extend_from_slice(f);
            }
            put_varint(&mut node.buf, v.len() as u64);
            node.buf.extend_from_slice(v);
        }
        node.offs.push(off);
        node.last = id;
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
        Ok(())
    }

    /// Calls `f` for each entry with `start <= id <= end`, in order (or in
    /// reverse), until it returns false.
    pub fn for_each_range<'a>(
        &'a self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        mut f: impl FnMut(StreamId, EntryRef<'a>) -> bool,
    ) {
        if start > end {
            return;
        }
        if !rev {
            let first_key = self
                .nodes
                .range(..=start)
                .next_back()
                .map(|(k, _)| *k)
                .unwrap_or(start);
            for (_, node) in self.nodes.range(first_key..=end) {
                if node.last < start {
                    continue;
                }
                let i0 = node.lower_bound(start);
                for &o in node.offs.get(i0..).unwrap_or(&[]) {
                    let id = node.id_at(o);
                    if id > end {
                        return;
                    }
                    if !f(id, node.entry_at(o)) {
                        return;
                    }
                }
            }
        } else {
            for (_, node) in self.nodes.range(..=end).rev() {
                if node.last < start {
                    return;
                }
                let i1 = node.upper_bound(end);
                for &o in node.offs.get(..i1).unwrap_or(&[]).iter().rev() {
                    let id = node.id_at(o);
                    if id < start {
                        return;
                    }
                    if !f(id, node.entry_at(o)) {
                        return;
                    }
                }
            }
        }
    }

    /// All entries in order, as owned pairs (for persistence and tests).
    pub fn iter(&self) -> Vec<(StreamId, Vec<(Bytes, Bytes)>)> {
        let mut v = Vec::new();
        self.for_each_range(StreamId::MIN, StreamId::MAX, false, |id, e| {
            v.push((
                id,
                e.pairs()
                    .map(|(a, b)| (Bytes::copy_from_slice(a), Bytes::copy_from_slice(b)))
                    .collect(),
            ));
            true
        });
        v
    }

    /// The entry with this ID, if live.
    pub fn get(&self, id: StreamId) -> Option<EntryRef<'_>> {
        let mut r = None;
        self.for_each_range(id, id, false, |_, e| {
            r = Some(e);
            false
        });
        r
    }

    /// Does an entry with this ID exist?
    pub fn contains(&self, id: StreamId) -> bool {
        self.get(id).is_some()
    }

    /// The first (or last) live entry ID.
    pub fn edge_id(&self, first: bool) -> Option<StreamId> {
        let mut r = None;
        self.for_each_range(StreamId::MIN, StreamId::MAX, !first, |id, _| {
            r = Some(id);
            false
        });
        r
    }

    fn refresh_first_id(&mut self) {
        self.first_id = if self.length == 0 {
            StreamId::MIN
        } else {
            self.edge_id(true).unwrap_or(StreamId::MIN)
        };
    }

    /// Deletes entries by ID (XDEL): returns how many existed. Updates the
    /// max deleted ID and the first ID as Redis does.
    pub fn delete(&mut self, ids: &[StreamId]) -> u64 {
        let mut deleted = 0;
        let mut first_entry = false;
        for &id in ids {
            let Some((&key, node)) = self.nodes.range_mut(..=id).next_back() else {
                continue;
            };
            let i = node.lower_bound(id);
            let Some(&o) = node.offs.get(i) else { continue };
            if node.id_at(o) != id {
                continue;
            }
            node.offs.remove(i);
            node.deleted += 1;
            if node.offs.is_empty() {
                self.nodes.remove(&key);
            }
            self.length -= 1;
            if id == self.first_id {
                first_entry = true;
            }
            if id > self.max_deleted {
                self.max_deleted = id;
            }
            deleted += 1;
        }
        if deleted > 0 {
            if self.length == 0 {
                self.first_id = StreamId::MIN;
            } else if first_entry {
                self.refresh_first_id();
            }
        }
        deleted
    }

    /// Trims (Redis's `streamTrim`): `approx` removes whole nodes only;
    /// `limit` (0 = none) caps the entries removed. Returns how many were
    /// removed.
    pub fn trim(&mut self, how: Trim, approx: bool, limit: u64) -> u64 {
        if how == Trim::None {
            return 0;
        }
        let mut deleted: u64 = 0;
        loop {
            if let Trim::MaxLen(m) = how {
                if self.length <= m {
                    break;
                }
            }
            let Some((&key, node)) = self.nodes.iter_mut().next() else {
                break;
            };
            let entries = node.offs.len() as u64;
            if limit != 0 && deleted + entries > limit {
                break;
            }
            let remove_node = match how {
                Trim::MaxLen(m) => self.length - entries >= m,
                Trim::MinId(min) => node.last < min,
                Trim::None => false,
            };
            if remove_node {
                self.nodes.remove(&key);
                self.length -= entries;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            let mut n = 0usize;
            for &o in &node.offs {
                let stop = match how {
                    Trim::MaxLen(m) => self.length <= m,
                    Trim::MinId(min) => node.id_at(o) >= min,
                    Trim::None => true,
                };
                if stop {
                    break;
                }
                n += 1;
                self.length -= 1;
            }
            node.offs.drain(..n);
            node.deleted += n as u32;
            deleted += n as u64;
            if node.offs.is_empty() {
                self.nodes.remove(&key);
            }
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.refresh_first_id();
        }
        deleted
    }

    /// The ID of the first entry in the first node, tombstones included
    /// when Redis would see them (used to rewrite `MINID ~`).
    pub fn first_node_id(&self) -> StreamId {
        self.edge_id(true).unwrap_or(StreamId::MAX)
    }

    /// Does `[start, end]` hold a tombstone (Redis's
    /// `streamRangeHasTombstones`)?
    pub fn range_has_tombstones(&self, start: Option<StreamId>, end: Option<StreamId>) -> bool {
        if self.length == 0 || self.max_deleted.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted {
            return false;
        }
        let s = start.unwrap_or(StreamId::MIN);
        let e = end.unwrap_or(StreamId::MAX);
        s <= self.max_deleted && self.max_deleted <= e
    }

    /// Redis's `streamEstimateDistanceFromFirstEverEntry`: the logical read
    /// counter of `id`, or -1 if unknown.
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        if self.entries_added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last_id {
            return self.entries_added as i64;
        }
        if id == self.last_id {
            return self.entries_added as i64;
        } else if id > self.last_id {
            return -1;
        }
        if self.max_deleted.is_zero() || self.max_deleted < self.first_id {
            if id < self.first_id {
                return self.entries_added.saturating_sub(self.length) as i64;
            } else if id == self.first_id {
                return (self.entries_added.saturating_sub(self.length) + 1) as i64;
            }
        }
        -1
    }

    /// A group's lag (`None` when unknown).
    pub fn group_lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != -1 && !self.range_has_tombstones(Some(g.last_id), None) {
            return Some(self.entries_added as i64 - g.entries_read);
        }
        let er = self.estimate_distance(g.last_id);
        if er != -1 {
            Some(self.entries_added as i64 - er)
        } else {
            None
        }
    }

    /// Marks `id` as read by group `gname` (Redis's bookkeeping in
    /// `streamReplyWithRange` when a group reads past its last ID).
    pub fn group_advance(&mut self, gname: &[u8], id: StreamId) {
        let tomb = self.range_has_tombstones(Some(id), None);
        let est = self.estimate_distance(id);
        let added = self.entries_added;
        if let Some(g) = self.group_mut(gname) {
            if id > g.last_id {
                if g.entries_read != -1 && !tomb {
                    g.entries_read += 1;
                } else if added != 0 {
                    g.entries_read = est;
                }
                g.last_id = id;
            }
        }
    }

    /// Approximate heap bytes used.
    pub fn heap_size(&self) -> usize {
        let mut n = 0;
        for node in self.nodes.values() {
            n += node.buf.capacity() + node.offs.capacity() * 4 + node.master.len() + 64;
        }
        for (k, g) in self.groups() {
            n += k.len() + 64 + g.pel.len() * 64;
            for (c, cs) in &g.consumers {
                n += c.len() + 48 + cs.pel.len() * 24;
            }
        }
        n
    }
}

impl fmt::Debug for Stream {
    /// The logical content (entries, metadata, groups), independent of
    /// the node layout: DEBUG DIGEST-VALUE hashes this.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stream[")?;
        self.for_each_range(StreamId::MIN, StreamId::MAX, false, |id, e| {
            let _ = write!(f, "{id}:");
            for (a, b) in e.pairs() {
                let _ = write!(
                    f,
                    "{:?}={:?},",
                    Bytes::copy_from_slice(a),
                    Bytes::copy_from_slice(b)
                );
            }
            let _ = write!(f, ";");
            true
        });
        write!(
            f,
            "] last={} added={} maxdel={} first={} groups={:?}",
            self.last_id, self.entries_added, self.max_deleted, self.first_id, self.groups
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(s: &mut Stream, id: StreamId, l: NodeLimits) {
        s.append_with_limits(id, &[(b"item", b"1")], l).unwrap();
    }

    #[test]
    fn append_range_delete() {
        let mut s = Stream::new();
        let l = NodeLimits {
            max_entries: 3,
            max_bytes: 4096,
        };
        for i in 1..=10 {
            add(&mut s, StreamId::new(i, 0), l);
        }
        assert_eq!(s.len(), 10);
        assert_eq!(s.node_count(), 4);
        let mut ids = vec![];
        s.for_each_range(StreamId::new(2, 0), StreamId::new(7, 0), true, |id, _| {
            ids.push(id.ms);
            true
        });
        assert_eq!(ids, vec![7, 6, 5, 4, 3, 2]);
        assert_eq!(s.delete(&[StreamId::new(1, 0), StreamId::new(1, 0)]), 1);
        assert_eq!(s.first_id(), StreamId::new(2, 0));
        assert_eq!(s.max_deleted_entry_id(), StreamId::new(1, 0));
        assert!(s.append(StreamId::new(10, 0), &[]).is_err());
    }

    #[test]
    fn approx_trim_removes_whole_nodes() {
        let mut s = Stream::new();
        let l = NodeLimits::default();
        for i in 1..=1000 {
            add(&mut s, StreamId::new(i, 0), l);
            s.trim(Trim::MaxLen(555), true, 10000);
        }
        assert_eq!(s.len(), 600);
        s.trim(Trim::MaxLen(555), false, 0);
        assert_eq!(s.len(), 555);
        assert_eq!(s.first_id(), StreamId::new(446, 0));
    }

    #[test]
    fn loader_reproduces_node_boundaries() {
        let mut s = Stream::new();
        let f: &[(&[u8], &[u8])] = &[(b"f", b"v")];
        s.append_new_node(StreamId::new(1, 0), f).unwrap();
        s.append_with_limits(StreamId::new(2, 0), f, NodeLimits::UNLIMITED)
            .unwrap();
        s.append_new_node(StreamId::new(3, 0), f).unwrap();
        assert_eq!(s.node_count(), 2);
        assert_eq!(s.delete(&[StreamId::new(2, 0)]), 1);
        s.set_meta(
            StreamId::new(9, 0),
            7,
            StreamId::new(5, 0),
            StreamId::new(1, 0),
        );
        assert_eq!(s.len(), 2);
        assert_eq!(s.last_id(), StreamId::new(9, 0));
        assert_eq!(s.entries_added(), 7);
        assert_eq!(s.max_deleted_entry_id(), StreamId::new(5, 0));
    }

    #[test]
    fn ids() {
        assert_eq!(StreamId::MAX.incr(), None);
        assert_eq!(StreamId::MIN.decr(), None);
        assert_eq!(StreamId::new(1, u64::MAX).incr(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::new(3, 4).to_string(), "3-4");
    }
}
