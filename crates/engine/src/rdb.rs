//! RDB snapshots in Redis's file format: save, load, DEBUG RELOAD, and the
//! DUMP / RESTORE payloads.
//!
//! The writer produces what Redis 7.0 writes (RDB version 10): the
//! `REDIS0010` header, AUX fields, one `FUNCTION2` record per function
//! library, then per database `SELECTDB`, `RESIZEDB` and the keys (with
//! `EXPIRETIME_MS` before those that expire), `EOF` and the CRC64 of
//! everything before it. Values use Redis's current encodings: strings
//! (integer-encoded or LZF-compressed when they qualify), `HASH_LISTPACK` /
//! `HASH`, `LIST_QUICKLIST_2` (listpack nodes), `SET_INTSET` / `SET`,
//! `ZSET_LISTPACK` / `ZSET_2`.
//!
//! The loader also reads the older encodings a real Redis dump may hold
//! (zipmap, ziplist, quicklist of ziplists, string scores) and treats its
//! input as untrusted: anything malformed or truncated is an [`RdbError`],
//! never a panic, and nothing is allocated beyond what the input can hold.

use lunakv_scripting::rdbfmt::{crc64, lzf_compress, rdb_read_len, rdb_read_string, rdb_write_len};

use crate::config::Config;
use crate::types::hash::{Hash, Limits as HashLimits};
use crate::types::list::List;
use crate::types::set::Set;
use crate::types::stream::{Stream, StreamId};
use crate::types::zset::ZSet;
use crate::value::{OwnedEntry, Str, Value};
use crate::Engine;

/// The RDB format version written (Redis 7.0's `RDB_VERSION`).
pub const RDB_VERSION: u16 = 10;

/// Value types (Redis's `RDB_TYPE_*`).
pub mod ty {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const MODULE: u8 = 6;
    pub const MODULE_2: u8 = 7;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
}

/// Opcodes (Redis's `RDB_OPCODE_*`).
pub mod op {
    pub const FUNCTION2: u8 = 245;
    pub const FUNCTION: u8 = 246;
    pub const MODULE_AUX: u8 = 247;
    pub const IDLE: u8 = 248;
    pub const FREQ: u8 = 249;
    pub const AUX: u8 = 250;
    pub const RESIZEDB: u8 = 251;
    pub const EXPIRETIME_MS: u8 = 252;
    pub const EXPIRETIME: u8 = 253;
    pub const SELECTDB: u8 = 254;
    pub const EOF: u8 = 255;
}

/// A failure to save or to load, with a message for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdbError(pub String);

impl std::fmt::Display for RdbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: &str) -> Result<T, RdbError> {
    Err(RdbError(msg.to_string()))
}

// ------------------------------------------------------------------ writer

/// Appends RDB records to a buffer.
pub struct Writer {
    /// The bytes written so far.
    pub buf: Vec<u8>,
    /// `rdbcompression`: LZF for strings longer than 20 bytes.
    pub compress: bool,
}

/// Redis's `rdbTryIntegerEncoding` target: the value if `s` is the
/// canonical text of an integer that fits 32 bits.
fn small_int(s: &[u8]) -> Option<i64> {
    if s.len() > 11 {
        return None;
    }
    let i = lunakv_protocol::parse_i64(s)?;
    let mut b = itoa::Buffer::new();
    (b.format(i).as_bytes() == s && i32::try_from(i).is_ok()).then_some(i)
}

impl Writer {
    /// An empty writer.
    pub fn new(compress: bool) -> Writer {
        Writer {
            buf: Vec::new(),
            compress,
        }
    }

    fn byte(&mut self, b: u8) {
        self.buf.push(b);
    }

    fn len(&mut self, n: usize) {
        rdb_write_len(&mut self.buf, n);
    }

    /// An integer in the 8/16/32-bit encoded form (`v` must fit 32 bits).
    fn encoded_int(&mut self, v: i64) {
        if let Ok(x) = i8::try_from(v) {
            self.buf.extend_from_slice(&[0xC0, x as u8]);
        } else if let Ok(x) = i16::try_from(v) {
            self.buf.push(0xC1);
            self.buf.extend_from_slice(&x.to_le_bytes());
        } else {
            self.buf.push(0xC2);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes());
        }
    }

    /// A string as Redis's `rdbSaveRawString` writes it.
    pub fn string(&mut self, s: &[u8]) {
        if let Some(i) = small_int(s) {
            self.encoded_int(i);
            return;
        }
        if self.compress && s.len() > 20 {
            if let Some(c) = lzf_compress(s, s.len() - 4) {
                self.buf.push(0xC3);
                self.len(c.len());
                self.len(s.len());
                self.buf.extend_from_slice(&c);
                return;
            }
        }
        self.len(s.len());
        self.buf.extend_from_slice(s);
    }

    /// An integer string value (`rdbSaveLongLongAsStringObject`).
    fn int(&mut self, v: i64) {
        if i32::try_from(v).is_ok() {
            self.encoded_int(v);
        } else {
            let mut b = itoa::Buffer::new();
            let s = b.format(v).as_bytes();
            self.len(s.len());
            self.buf.extend_from_slice(s);
        }
    }

    fn double_bin(&mut self, d: f64) {
        self.buf.extend_from_slice(&d.to_le_bytes());
    }

    /// The `RDB_TYPE_*` byte and the body of a value.
    pub fn value(&mut self, v: &Value) -> Result<(), RdbError> {
        match v {
            Value::Str(s) => {
                self.byte(ty::STRING);
                match s {
                    Str::Int(i) => self.int(*i),
                    _ => s.with_bytes(|b| self.string(b)),
                }
            }
            Value::Hash(h) => match &**h {
                Hash::Listpack(_) => {
                    self.byte(ty::HASH_LISTPACK);
                    let mut lp = LpBuilder::new();
                    for (k, v) in h.iter() {
                        lp.push(k);
                        lp.push(v);
                    }
                    self.string(&lp.finish());
                }
                Hash::Table(_) => {
                    self.byte(ty::HASH);
                    self.len(h.len());
                    for (k, v) in h.iter() {
                        self.string(k);
                        self.string(v);
                    }
                }
            },
            Value::List(l) => {
                self.byte(ty::LIST_QUICKLIST_2);
                let mut nodes: Vec<Vec<u8>> = Vec::new();
                let mut lp = LpBuilder::new();
                for e in l.iter() {
                    if lp.count > 0 && lp.buf.len() + e.len() + 11 > 8192 {
                        nodes.push(std::mem::replace(&mut lp, LpBuilder::new()).finish());
                    }
                    lp.push(e);
                }
                if lp.count > 0 {
                    nodes.push(lp.finish());
                }
                self.len(nodes.len());
                for n in &nodes {
                    // QUICKLIST_NODE_CONTAINER_PACKED
                    self.len(2);
                    self.string(n);
                }
            }
            Value::Set(s) => match &**s {
                Set::Intset(v) => {
                    self.byte(ty::SET_INTSET);
                    self.string(&intset_blob(v));
                }
                Set::Table(_) => {
                    self.byte(ty::SET);
                    self.len(s.len());
                    s.for_each(|m| self.string(m));
                }
            },
            Value::ZSet(z) => match &**z {
                ZSet::Pack(_) => {
                    self.byte(ty::ZSET_LISTPACK);
                    let mut lp = LpBuilder::new();
                    for (m, s) in z.iter() {
                        lp.push(m);
                        lp.push(score_text(s).as_bytes());
                    }
                    self.string(&lp.finish());
                }
                ZSet::Big(_) => {
                    self.byte(ty::ZSET_2);
                    self.len(z.len());
                    // Highest first, as Redis writes (its loader inserts
                    // at the head).
                    let n = z.len();
                    z.for_range_rev(0, n, |m, s| {
                        self.string(m);
                        self.double_bin(s);
                        true
                    });
                }
            },
            Value::Stream(st) => {
                self.byte(ty::STREAM_LISTPACKS_2);
                self.stream(st);
            }
        }
        Ok(())
    }

    /// The body of a `STREAM_LISTPACKS_2` value: Redis's listpack nodes
    /// (master entry, then entries with SAMEFIELDS compression), the
    /// metadata and the consumer groups.
    fn stream(&mut self, st: &Stream) {
        let entries = st.iter();
        let mut nodes: Vec<(StreamId, Vec<u8>)> = Vec::new();
        let mut i = 0;
        let num = |lp: &mut LpBuilder, v: i64| {
            let mut b = itoa::Buffer::new();
            lp.push(b.format(v).as_bytes());
        };
        while i < entries.len() {
            let (master, mfields) = &entries[i];
            let mut j = i;
            let mut bytes = 0usize;
            while j < entries.len() && j - i < 100 && (bytes < 4096 || j == i) {
                bytes += entries[j]
                    .1
                    .iter()
                    .map(|(f, v)| f.len() + v.len() + 4)
                    .sum::<usize>()
                    + 8;
                j += 1;
            }
            let mut lp = LpBuilder::new();
            num(&mut lp, (j - i) as i64);
            num(&mut lp, 0);
            num(&mut lp, mfields.len() as i64);
            for (f, _) in mfields {
                lp.push(f);
            }
            num(&mut lp, 0);
            for (id, fields) in &entries[i..j] {
                let same = fields.len() == mfields.len()
                    && fields.iter().zip(mfields.iter()).all(|(a, b)| a.0 == b.0);
                num(&mut lp, if same { 2 } else { 0 });
                num(&mut lp, id.ms.wrapping_sub(master.ms) as i64);
                num(&mut lp, id.seq.wrapping_sub(master.seq) as i64);
                if same {
                    for (_, v) in fields {
                        lp.push(v);
                    }
                    num(&mut lp, fields.len() as i64 + 3);
                } else {
                    num(&mut lp, fields.len() as i64);
                    for (f, v) in fields {
                        lp.push(f);
                        lp.push(v);
                    }
                    num(&mut lp, 2 * fields.len() as i64 + 4);
                }
            }
            nodes.push((*master, lp.finish()));
            i = j;
        }
        self.len(nodes.len());
        for (id, lp) in &nodes {
            self.string(&id_raw(*id));
            self.string(lp);
        }
        self.len(st.len() as usize);
        let last = st.last_id();
        self.len(last.ms as usize);
        self.len(last.seq as usize);
        let first = st.first_id();
        self.len(first.ms as usize);
        self.len(first.seq as usize);
        let md = st.max_deleted_entry_id();
        self.len(md.ms as usize);
        self.len(md.seq as usize);
        self.len(st.entries_added() as usize);
        self.len(st.group_count());
        for (name, g) in st.groups() {
            self.string(name);
            self.len(g.last_id.ms as usize);
            self.len(g.last_id.seq as usize);
            self.len(g.entries_read as u64 as usize);
            self.len(g.pel.len());
            for (id, n) in &g.pel {
                self.buf.extend_from_slice(&id_raw(*id));
                self.buf.extend_from_slice(&n.delivery_time.to_le_bytes());
                self.len(n.delivery_count as usize);
            }
            self.len(g.consumers.len());
            for (cname, c) in &g.consumers {
                self.string(cname);
                self.buf.extend_from_slice(&c.seen_time.to_le_bytes());
                self.len(c.pel.len());
                for id in &c.pel {
                    self.buf.extend_from_slice(&id_raw(*id));
                }
            }
        }
    }

    /// An AUX field.
    fn aux(&mut self, k: &str, v: &[u8]) {
        self.byte(op::AUX);
        self.string(k.as_bytes());
        self.string(v);
    }
}

/// A stream ID as Redis stores it raw: both halves big-endian.
fn id_raw(id: StreamId) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&id.ms.to_be_bytes());
    b[8..].copy_from_slice(&id.seq.to_be_bytes());
    b
}

fn id_from_raw(b: &[u8]) -> Result<StreamId, RdbError> {
    if b.len() != 16 {
        return err("bad stream ID");
    }
    let mut ms = [0u8; 8];
    let mut seq = [0u8; 8];
    ms.copy_from_slice(&b[..8]);
    seq.copy_from_slice(&b[8..]);
    Ok(StreamId {
        ms: u64::from_be_bytes(ms),
        seq: u64::from_be_bytes(seq),
    })
}

/// Redis's `d2string` for scores stored in a listpack.
fn score_text(d: f64) -> String {
    if d.is_nan() {
        "nan".into()
    } else if d.is_infinite() {
        if d < 0.0 { "-inf" } else { "inf" }.into()
    } else if d == 0.0 {
        if d.is_sign_negative() { "-0" } else { "0" }.into()
    } else if d.fract() == 0.0 && d.abs() <= (i64::MAX / 2) as f64 {
        (d as i64).to_string()
    } else {
        lunakv_protocol::fmt_g17(d)
    }
}

/// Builds an intset blob with the smallest encoding that holds `v`.
fn intset_blob(v: &[i64]) -> Vec<u8> {
    let w: usize = if v.iter().all(|&x| i16::try_from(x).is_ok()) {
        2
    } else if v.iter().all(|&x| i32::try_from(x).is_ok()) {
        4
    } else {
        8
    };
    let mut b = Vec::with_capacity(8 + w * v.len());
    b.extend_from_slice(&(w as u32).to_le_bytes());
    b.extend_from_slice(&(v.len() as u32).to_le_bytes());
    for &x in v {
        b.extend_from_slice(&x.to_le_bytes()[..w]);
    }
    b
}

/// Writes a Redis listpack.
struct LpBuilder {
    buf: Vec<u8>,
    count: usize,
}

/// Bytes of a listpack back-length for an entry of `l` bytes.
fn backlen_size(l: usize) -> usize {
    if l <= 127 {
        1
    } else if l < 16383 {
        2
    } else if l < 2097151 {
        3
    } else if l < 268435455 {
        4
    } else {
        5
    }
}

impl LpBuilder {
    fn new() -> LpBuilder {
        LpBuilder {
            buf: vec![0; 6],
            count: 0,
        }
    }

    fn push(&mut self, e: &[u8]) {
        let start = self.buf.len();
        let as_int = if e.len() <= 20 {
            lunakv_protocol::parse_i64(e)
        } else {
            None
        };
        if let Some(v) = as_int {
            if (0..=127).contains(&v) {
                self.buf.push(v as u8);
            } else if (-4096..=4095).contains(&v) {
                let u = (v as u16) & 0x1fff;
                self.buf.push(0xC0 | (u >> 8) as u8);
                self.buf.push(u as u8);
            } else if let Ok(x) = i16::try_from(v) {
                self.buf.push(0xF1);
                self.buf.extend_from_slice(&x.to_le_bytes());
            } else if (-(1 << 23)..(1 << 23)).contains(&v) {
                self.buf.push(0xF2);
                self.buf.extend_from_slice(&v.to_le_bytes()[..3]);
            } else if let Ok(x) = i32::try_from(v) {
                self.buf.push(0xF3);
                self.buf.extend_from_slice(&x.to_le_bytes());
            } else {
                self.buf.push(0xF4);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
        } else {
            let n = e.len();
            if n < 64 {
                self.buf.push(0x80 | n as u8);
            } else if n < 4096 {
                self.buf.push(0xE0 | (n >> 8) as u8);
                self.buf.push(n as u8);
            } else {
                self.buf.push(0xF0);
                self.buf.extend_from_slice(&(n as u32).to_le_bytes());
            }
            self.buf.extend_from_slice(e);
        }
        let l = self.buf.len() - start;
        match backlen_size(l) {
            1 => self.buf.push(l as u8),
            k => {
                self.buf.push((l >> (7 * (k - 1))) as u8 & 127);
                for i in (0..k - 1).rev() {
                    self.buf.push(((l >> (7 * i)) as u8 & 127) | 128);
                }
            }
        }
        self.count += 1;
    }

    fn finish(mut self) -> Vec<u8> {
        self.buf.push(0xFF);
        let total = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&total.to_le_bytes());
        let n = self.count.min(65535) as u16;
        self.buf[4..6].copy_from_slice(&n.to_le_bytes());
        self.buf
    }
}

/// What a save writes besides the keys.
#[derive(Debug, Clone, Copy)]
pub struct SaveOptions {
    /// `rdbcompression`.
    pub compress: bool,
    /// `rdbchecksum` (a zero checksum otherwise).
    pub checksum: bool,
    /// Skip values that cannot be saved (with a warning) instead of
    /// failing.
    pub skip_unsupported: bool,
}

impl SaveOptions {
    /// The options the configuration asks for.
    pub fn from_config(c: &Config) -> SaveOptions {
        SaveOptions {
            compress: c.get_bool("rdbcompression"),
            checksum: c.get_bool("rdbchecksum"),
            skip_unsupported: false,
        }
    }
}

/// Serializes the whole dataset (keys of every database and the function
/// libraries) into an RDB file image.
pub fn serialize(eng: &Engine, opts: SaveOptions) -> Result<Vec<u8>, RdbError> {
    let mut w = Writer::new(opts.compress);
    w.buf.extend_from_slice(b"REDIS0010");
    w.aux("redis-ver", crate::REDIS_VERSION.as_bytes());
    w.aux("redis-bits", b"64");
    w.aux("ctime", (crate::unix_ms() / 1000).to_string().as_bytes());
    w.aux(
        "used-mem",
        crate::evict::used_memory().to_string().as_bytes(),
    );
    w.aux("aof-base", b"0");
    if let Some(f) = eng.functions.as_deref() {
        for lib in f.libraries().libraries() {
            w.byte(op::FUNCTION2);
            w.string(&lib.code);
        }
    }
    let now = crate::unix_ms();
    for (i, db) in eng.dbs.iter().enumerate() {
        if db.dict.is_empty() {
            continue;
        }
        w.byte(op::SELECTDB);
        w.len(i);
        w.byte(op::RESIZEDB);
        w.len(db.dict.len());
        w.len(db.expires);
        for (k, e) in db.dict.iter_entries() {
            let mark = w.buf.len();
            if e.expire() != 0 {
                w.byte(op::EXPIRETIME_MS);
                w.buf.extend_from_slice(&e.expire().to_le_bytes());
            }
            // Access information for the eviction policy, as Redis saves it.
            if eng.evict.policy.is_lru() {
                w.byte(op::IDLE);
                w.len((crate::evict::estimate_idle_ms(e.lru(), now) / 1000) as usize);
            } else if eng.evict.policy.is_lfu() {
                w.byte(op::FREQ);
                w.byte(eng.evict.freq(e.lru(), now).min(255) as u8);
            }
            // Type byte first, then the key, then the body: write the
            // value to a side buffer to keep that order.
            let mut vw = Writer::new(opts.compress);
            match vw.value(e.val) {
                Ok(()) => {
                    w.byte(vw.buf[0]);
                    w.string(k);
                    w.buf.extend_from_slice(&vw.buf[1..]);
                }
                Err(er) if opts.skip_unsupported => {
                    w.buf.truncate(mark);
                    crate::log::warning(&format!(
                        "RDB: key '{}' skipped: {er}",
                        String::from_utf8_lossy(k)
                    ));
                }
                Err(er) => return Err(er),
            }
        }
    }
    w.byte(op::EOF);
    let crc = if opts.checksum { crc64(0, &w.buf) } else { 0 };
    w.buf.extend_from_slice(&crc.to_le_bytes());
    Ok(w.buf)
}

/// The whole dataset as an RDB image, for replication (full SYNC): the
/// configured compression and checksum; values that cannot be saved yet
/// are left out with a warning in the log.
pub fn dump_to_vec(eng: &Engine) -> Vec<u8> {
    let mut o = SaveOptions::from_config(&eng.config);
    o.skip_unsupported = true;
    serialize(eng, o).unwrap_or_default()
}

/// A DUMP payload: the value, the RDB version, the CRC64.
pub fn dump_payload(v: &Value, compress: bool) -> Result<Vec<u8>, RdbError> {
    let mut w = Writer::new(compress);
    w.value(v)?;
    w.buf.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &w.buf);
    w.buf.extend_from_slice(&crc.to_le_bytes());
    Ok(w.buf)
}

/// Bytes the value takes in an RDB file (DEBUG OBJECT `serializedlength`).
pub fn serialized_len(v: &Value, compress: bool) -> usize {
    let mut w = Writer::new(compress);
    match w.value(v) {
        Ok(()) => w.buf.len().saturating_sub(1),
        Err(_) => 0,
    }
}

// ------------------------------------------------------------------ reader

/// The encoding thresholds applied to loaded values (from the
/// configuration), so that they end up encoded as Redis would encode them.
#[derive(Debug, Clone, Copy)]
pub struct LoadLimits {
    pub hash_entries: usize,
    pub hash_value: usize,
    pub intset_entries: usize,
    pub zset_entries: usize,
    pub zset_value: usize,
}

impl LoadLimits {
    /// The limits of the configuration.
    pub fn from_config(c: &Config) -> LoadLimits {
        let g = |n: &str| c.get_i64(n).max(0) as usize;
        LoadLimits {
            hash_entries: g("hash-max-listpack-entries"),
            hash_value: g("hash-max-listpack-value"),
            intset_entries: g("set-max-intset-entries"),
            zset_entries: g("zset-max-listpack-entries"),
            zset_value: g("zset-max-listpack-value"),
        }
    }
}

impl Default for LoadLimits {
    fn default() -> Self {
        LoadLimits {
            hash_entries: 128,
            hash_value: 64,
            intset_entries: 512,
            zset_entries: 128,
            zset_value: 64,
        }
    }
}

/// A cursor over untrusted RDB bytes.
pub struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Reader<'a> {
    /// Reads `b[..end]`.
    pub fn new(b: &'a [u8], end: usize) -> Reader<'a> {
        Reader {
            b,
            pos: 0,
            end: end.min(b.len()),
        }
    }

    fn remaining(&self) -> usize {
        self.end - self.pos
    }

    fn u8(&mut self) -> Result<u8, RdbError> {
        if self.pos >= self.end {
            return err("unexpected end of file");
        }
        let v = self.b[self.pos];
        self.pos += 1;
        Ok(v)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], RdbError> {
        if n > self.remaining() {
            return err("unexpected end of file");
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u64le(&mut self) -> Result<u64, RdbError> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(u64::from_le_bytes(a))
    }

    /// A plain (not encoded) length.
    fn len(&mut self) -> Result<u64, RdbError> {
        match rdb_read_len(self.b, &mut self.pos, self.end) {
            Some((n, false)) => Ok(n),
            Some((_, true)) => err("unexpected encoded length"),
            None => err("bad length"),
        }
    }

    /// A count of items each taking at least `min_bytes` bytes: bounded by
    /// what is left of the input.
    fn count(&mut self, min_bytes: usize) -> Result<usize, RdbError> {
        let n = self.len()?;
        match usize::try_from(n) {
            Ok(n) if n <= self.remaining() / min_bytes.max(1) => Ok(n),
            _ => err("length larger than the input"),
        }
    }

    /// A string (plain, integer-encoded or LZF-compressed).
    fn string(&mut self) -> Result<Vec<u8>, RdbError> {
        rdb_read_string(self.b, &mut self.pos, self.end)
            .ok_or_else(|| RdbError("bad string".into()))
    }

    /// A score written as text (`RDB_TYPE_ZSET`).
    fn text_double(&mut self) -> Result<f64, RdbError> {
        match self.u8()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => {
                let s = self.take(n as usize)?;
                std::str::from_utf8(s)
                    .ok()
                    .and_then(|t| t.trim().parse::<f64>().ok())
                    .ok_or_else(|| RdbError("bad double value".into()))
            }
        }
    }

    fn bin_double(&mut self) -> Result<f64, RdbError> {
        Ok(f64::from_bits(self.u64le()?))
    }
}

fn int_text(v: i64) -> Vec<u8> {
    let mut b = itoa::Buffer::new();
    b.format(v).as_bytes().to_vec()
}

/// Decodes a listpack blob into its elements.
fn listpack_entries(lp: &[u8]) -> Result<Vec<Vec<u8>>, RdbError> {
    let bad = || RdbError("corrupt listpack".into());
    if lp.len() < 7 || *lp.last().unwrap_or(&0) != 0xFF {
        return Err(bad());
    }
    let total = u32::from_le_bytes([lp[0], lp[1], lp[2], lp[3]]) as usize;
    let hdr_count = u16::from_le_bytes([lp[4], lp[5]]) as usize;
    if total != lp.len() {
        return Err(bad());
    }
    let mut out = Vec::new();
    let mut p = 6usize;
    let end = lp.len() - 1;
    let get = |a: usize, n: usize| lp.get(a..a + n).filter(|_| a + n <= end);
    while p < end {
        let b = lp[p];
        let (val, elen): (Vec<u8>, usize) = if b & 0x80 == 0 {
            (int_text((b & 0x7f) as i64), 1)
        } else if b & 0xC0 == 0x80 {
            let n = (b & 0x3f) as usize;
            (get(p + 1, n).ok_or_else(bad)?.to_vec(), 1 + n)
        } else if b & 0xE0 == 0xC0 {
            let lo = *get(p + 1, 1).ok_or_else(bad)?.first().ok_or_else(bad)?;
            let u = (((b & 0x1f) as i64) << 8) | lo as i64;
            let v = if u >= 4096 { u - 8192 } else { u };
            (int_text(v), 2)
        } else if b & 0xF0 == 0xE0 {
            let lo = *get(p + 1, 1).ok_or_else(bad)?.first().ok_or_else(bad)?;
            let n = (((b & 0x0f) as usize) << 8) | lo as usize;
            (get(p + 2, n).ok_or_else(bad)?.to_vec(), 2 + n)
        } else {
            match b {
                0xF0 => {
                    let s = get(p + 1, 4).ok_or_else(bad)?;
                    let n = u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize;
                    (get(p + 5, n).ok_or_else(bad)?.to_vec(), 5 + n)
                }
                0xF1 => {
                    let s = get(p + 1, 2).ok_or_else(bad)?;
                    (int_text(i16::from_le_bytes([s[0], s[1]]) as i64), 3)
                }
                0xF2 => {
                    let s = get(p + 1, 3).ok_or_else(bad)?;
                    let v = i32::from_le_bytes([0, s[0], s[1], s[2]]) >> 8;
                    (int_text(v as i64), 4)
                }
                0xF3 => {
                    let s = get(p + 1, 4).ok_or_else(bad)?;
                    (
                        int_text(i32::from_le_bytes([s[0], s[1], s[2], s[3]]) as i64),
                        5,
                    )
                }
                0xF4 => {
                    let s = get(p + 1, 8).ok_or_else(bad)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(s);
                    (int_text(i64::from_le_bytes(a)), 9)
                }
                _ => return Err(bad()),
            }
        };
        p = p
            .checked_add(elen + backlen_size(elen))
            .filter(|&q| q <= end)
            .ok_or_else(bad)?;
        out.push(val);
    }
    if hdr_count != 65535 && hdr_count != out.len() {
        return Err(bad());
    }
    Ok(out)
}

/// Decodes a ziplist blob into its elements.
fn ziplist_entries(zl: &[u8]) -> Result<Vec<Vec<u8>>, RdbError> {
    let bad = || RdbError("corrupt ziplist".into());
    if zl.len() < 11 || *zl.last().unwrap_or(&0) != 0xFF {
        return Err(bad());
    }
    let total = u32::from_le_bytes([zl[0], zl[1], zl[2], zl[3]]) as usize;
    let hdr_count = u16::from_le_bytes([zl[8], zl[9]]) as usize;
    if total != zl.len() {
        return Err(bad());
    }
    let end = zl.len() - 1;
    let get = |a: usize, n: usize| zl.get(a..a + n).filter(|_| a + n <= end);
    let mut out = Vec::new();
    let mut p = 10usize;
    while p < end {
        // prevlen
        p += match zl[p] {
            254 => 5,
            255 => return Err(bad()),
            _ => 1,
        };
        let e = *get(p, 1).ok_or_else(bad)?.first().ok_or_else(bad)?;
        let (val, elen): (Vec<u8>, usize) = match e >> 6 {
            0 => {
                let n = (e & 0x3f) as usize;
                (get(p + 1, n).ok_or_else(bad)?.to_vec(), 1 + n)
            }
            1 => {
                let lo = get(p + 1, 1).ok_or_else(bad)?[0];
                let n = (((e & 0x3f) as usize) << 8) | lo as usize;
                (get(p + 2, n).ok_or_else(bad)?.to_vec(), 2 + n)
            }
            2 if e == 0x80 => {
                let s = get(p + 1, 4).ok_or_else(bad)?;
                let n = u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize;
                (get(p + 5, n).ok_or_else(bad)?.to_vec(), 5 + n)
            }
            2 => return Err(bad()),
            _ => match e {
                0xC0 => {
                    let s = get(p + 1, 2).ok_or_else(bad)?;
                    (int_text(i16::from_le_bytes([s[0], s[1]]) as i64), 3)
                }
                0xD0 => {
                    let s = get(p + 1, 4).ok_or_else(bad)?;
                    (
                        int_text(i32::from_le_bytes([s[0], s[1], s[2], s[3]]) as i64),
                        5,
                    )
                }
                0xE0 => {
                    let s = get(p + 1, 8).ok_or_else(bad)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(s);
                    (int_text(i64::from_le_bytes(a)), 9)
                }
                0xF0 => {
                    let s = get(p + 1, 3).ok_or_else(bad)?;
                    let v = i32::from_le_bytes([0, s[0], s[1], s[2]]) >> 8;
                    (int_text(v as i64), 4)
                }
                0xFE => {
                    let s = get(p + 1, 1).ok_or_else(bad)?;
                    (int_text(s[0] as i8 as i64), 2)
                }
                0xF1..=0xFD => (int_text(((e & 0x0f) as i64) - 1), 1),
                _ => return Err(bad()),
            },
        };
        p += elen;
        if p > end {
            return Err(bad());
        }
        out.push(val);
    }
    if hdr_count != 65535 && hdr_count != out.len() {
        return Err(bad());
    }
    Ok(out)
}

/// Decodes a zipmap blob into (field, value) pairs.
/// Field/value pairs.
type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

fn zipmap_entries(zm: &[u8]) -> Result<Pairs, RdbError> {
    let bad = || RdbError("corrupt zipmap".into());
    let mut p = 1usize;
    let mut out = Vec::new();
    let rdlen = |p: &mut usize| -> Result<Option<usize>, RdbError> {
        let b = *zm.get(*p).ok_or_else(bad)?;
        match b {
            255 => Ok(None),
            254 => {
                let s = zm.get(*p + 1..*p + 5).ok_or_else(bad)?;
                *p += 5;
                Ok(Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize))
            }
            n => {
                *p += 1;
                Ok(Some(n as usize))
            }
        }
    };
    loop {
        let Some(klen) = rdlen(&mut p)? else {
            if p + 1 != zm.len() {
                return Err(bad());
            }
            break;
        };
        let k = zm.get(p..p + klen).ok_or_else(bad)?.to_vec();
        p += klen;
        let vlen = rdlen(&mut p)?.ok_or_else(bad)?;
        let free = *zm.get(p).ok_or_else(bad)? as usize;
        p += 1;
        let v = zm.get(p..p + vlen).ok_or_else(bad)?.to_vec();
        p += vlen + free;
        out.push((k, v));
    }
    Ok(out)
}

/// Decodes an intset blob.
fn intset_entries(is: &[u8]) -> Result<Vec<i64>, RdbError> {
    let bad = || RdbError("corrupt intset".into());
    if is.len() < 8 {
        return Err(bad());
    }
    let w = u32::from_le_bytes([is[0], is[1], is[2], is[3]]) as usize;
    let n = u32::from_le_bytes([is[4], is[5], is[6], is[7]]) as usize;
    if !matches!(w, 2 | 4 | 8) || n.checked_mul(w).and_then(|x| x.checked_add(8)) != Some(is.len())
    {
        return Err(bad());
    }
    let mut out: Vec<i64> = Vec::with_capacity(n);
    for c in is[8..].chunks_exact(w) {
        let v = match w {
            2 => i16::from_le_bytes([c[0], c[1]]) as i64,
            4 => i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64,
            _ => {
                let mut a = [0u8; 8];
                a.copy_from_slice(c);
                i64::from_le_bytes(a)
            }
        };
        if out.last().is_some_and(|&l| l >= v) {
            return Err(bad());
        }
        out.push(v);
    }
    Ok(out)
}

fn hash_from_pairs(
    pairs: impl IntoIterator<Item = (Vec<u8>, Vec<u8>)>,
    n_hint: usize,
    lim: &LoadLimits,
) -> Result<Option<Value>, RdbError> {
    let hl = HashLimits {
        max_entries: lim.hash_entries,
        max_value: lim.hash_value,
    };
    let mut h = Hash::default();
    if n_hint > lim.hash_entries {
        h.convert();
    }
    for (k, v) in pairs {
        if h.contains(&k) {
            return err("duplicate hash fields detected");
        }
        h.set(&k, &v, hl);
    }
    Ok((!h.is_empty()).then(|| Value::Hash(Box::new(h))))
}

fn zset_from_pairs(
    pairs: impl IntoIterator<Item = (Vec<u8>, f64)>,
    n_hint: usize,
    lim: &LoadLimits,
    check_value: bool,
) -> Result<Option<Value>, RdbError> {
    let mut z = if n_hint > lim.zset_entries {
        ZSet::new_big()
    } else {
        ZSet::default()
    };
    let maxv = if check_value {
        lim.zset_value
    } else {
        usize::MAX
    };
    for (m, s) in pairs {
        if s.is_nan() {
            return err("zset with NAN score detected");
        }
        if z.score(&m).is_some() {
            return err("duplicate zset members detected");
        }
        z.insert_new(&m, s, lim.zset_entries, maxv);
    }
    Ok((!z.is_empty()).then(|| Value::ZSet(Box::new(z))))
}

fn set_from_members(
    members: impl IntoIterator<Item = Vec<u8>>,
    n_hint: usize,
    lim: &LoadLimits,
) -> Result<Option<Value>, RdbError> {
    let mut s: Option<Set> = None;
    for m in members {
        let set = s.get_or_insert_with(|| {
            if n_hint > lim.intset_entries {
                let mut t = Set::default();
                t.convert();
                t
            } else {
                Set::for_member(&m)
            }
        });
        if !set.add(&m, lim.intset_entries) {
            return err("duplicate set members detected");
        }
    }
    Ok(s.filter(|s| !s.is_empty()).map(|s| Value::Set(Box::new(s))))
}

fn pairs<T>(
    v: Vec<Vec<u8>>,
    f: impl Fn(Vec<u8>) -> Result<T, RdbError>,
) -> Result<Vec<(Vec<u8>, T)>, RdbError> {
    if !v.len().is_multiple_of(2) {
        return err("odd number of elements in a key-value blob");
    }
    let mut out = Vec::with_capacity(v.len() / 2);
    let mut it = v.into_iter();
    while let (Some(a), Some(b)) = (it.next(), it.next()) {
        out.push((a, f(b)?));
    }
    Ok(out)
}

fn parse_score(b: Vec<u8>) -> Result<f64, RdbError> {
    std::str::from_utf8(&b)
        .ok()
        .and_then(|t| match t {
            "inf" | "+inf" => Some(f64::INFINITY),
            "-inf" => Some(f64::NEG_INFINITY),
            _ => t.parse::<f64>().ok(),
        })
        .ok_or_else(|| RdbError("bad score in a sorted set blob".into()))
}

fn lp_int(e: &[u8]) -> Result<i64, RdbError> {
    lunakv_protocol::parse_i64(e).ok_or_else(|| RdbError("bad integer in a stream listpack".into()))
}

/// Reads a stream value (`STREAM_LISTPACKS`, or `_2` with the 7.0
/// metadata).
fn read_stream(r: &mut Reader<'_>, v2: bool) -> Result<Stream, RdbError> {
    let bad = |m: &str| RdbError(format!("corrupt stream: {m}"));
    let mut st = Stream::new();
    let nodes = r.count(2)?;
    for _ in 0..nodes {
        let master = id_from_raw(&r.string()?)?;
        let els = listpack_entries(&r.string()?)?;
        if els.is_empty() {
            return Err(bad("empty listpack inside stream"));
        }
        let mut it = els.iter();
        let mut next = || it.next().ok_or_else(|| bad("truncated node"));
        let _count = lp_int(next()?)?;
        let _deleted = lp_int(next()?)?;
        let nf = usize::try_from(lp_int(next()?)?).map_err(|_| bad("field count"))?;
        let mut mfields: Vec<&[u8]> = Vec::new();
        for _ in 0..nf {
            mfields.push(next()?);
        }
        if lp_int(next()?)? != 0 {
            return Err(bad("master entry terminator"));
        }
        while let Ok(f) = next() {
            let flags = lp_int(f)?;
            let msd = lp_int(next()?)?;
            let seqd = lp_int(next()?)?;
            let id = StreamId {
                ms: master.ms.wrapping_add(msd as u64),
                seq: master.seq.wrapping_add(seqd as u64),
            };
            let mut pairs: Vec<(&[u8], &[u8])> = Vec::new();
            if flags & 2 != 0 {
                for f in &mfields {
                    pairs.push((f, next()?));
                }
            } else {
                let n = usize::try_from(lp_int(next()?)?).map_err(|_| bad("field count"))?;
                for _ in 0..n {
                    let f = next()?;
                    pairs.push((f, next()?));
                }
            }
            lp_int(next()?)?;
            if flags & 1 == 0 && st.append(id, &pairs).is_err() {
                return Err(bad("entry IDs out of order"));
            }
        }
    }
    let length = r.len()?;
    let last = StreamId {
        ms: r.len()?,
        seq: r.len()?,
    };
    let (first, max_deleted, added) = if v2 {
        let first = StreamId {
            ms: r.len()?,
            seq: r.len()?,
        };
        let md = StreamId {
            ms: r.len()?,
            seq: r.len()?,
        };
        (first, md, r.len()?)
    } else {
        // Redis <= 6.2: no tombstone record, every entry counted as
        // added, the first ID is the first entry's.
        (
            st.edge_id(true).unwrap_or_default(),
            StreamId::default(),
            length,
        )
    };
    if st.len() != length {
        return Err(bad("length does not match the entries"));
    }
    if st.last_id() > last {
        return Err(bad("last ID smaller than an entry's"));
    }
    st.set_meta(last, added, max_deleted, first);
    let ngroups = r.count(3)?;
    for _ in 0..ngroups {
        let name = r.string()?;
        let glast = StreamId {
            ms: r.len()?,
            seq: r.len()?,
        };
        let entries_read = if v2 {
            r.len()? as i64
        } else {
            st.estimate_distance(glast)
        };
        let Some(g) = st.create_group(&name, glast, entries_read) else {
            return Err(bad("duplicated consumer group name"));
        };
        let npel = r.count(17)?;
        let mut pel = std::collections::BTreeMap::new();
        for _ in 0..npel {
            let id = id_from_raw(r.take(16)?)?;
            let time = r.u64le()?;
            let count = r.len()?;
            pel.insert(id, (time, count));
        }
        let ncons = r.count(9)?;
        for _ in 0..ncons {
            let cname = r.string()?;
            let seen = r.u64le()?;
            if !g.create_consumer(&cname, seen) {
                return Err(bad("duplicated consumer name"));
            }
            let n = r.count(16)?;
            for _ in 0..n {
                let id = id_from_raw(r.take(16)?)?;
                let Some((time, count)) = pel.remove(&id) else {
                    return Err(bad("consumer PEL entry not in the group PEL"));
                };
                g.add_pending(id, &cname, time, count);
            }
        }
    }
    Ok(st)
}

/// True for a byte that starts a value (a `RDB_TYPE_*` this reader knows).
pub fn is_object_type(t: u8) -> bool {
    matches!(t, 0..=7 | 9..=19)
}

/// Reads the body of a value of type `t`. `Ok(None)` is an empty
/// aggregate, which Redis skips on load.
pub fn read_value(r: &mut Reader<'_>, t: u8, lim: &LoadLimits) -> Result<Option<Value>, RdbError> {
    Ok(match t {
        ty::STRING => Some(Value::Str(Str::from_bytes(&r.string()?))),
        ty::LIST => {
            let n = r.count(1)?;
            let mut l = List::new();
            for _ in 0..n {
                l.push_back(&r.string()?);
            }
            (!l.is_empty()).then(|| Value::List(Box::new(l)))
        }
        ty::SET => {
            let n = r.count(1)?;
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                v.push(r.string()?);
            }
            set_from_members(v, n, lim)?
        }
        ty::ZSET | ty::ZSET_2 => {
            let n = r.count(2)?;
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                let m = r.string()?;
                let s = if t == ty::ZSET {
                    r.text_double()?
                } else {
                    r.bin_double()?
                };
                v.push((m, s));
            }
            zset_from_pairs(v, n, lim, true)?
        }
        ty::HASH => {
            let n = r.count(2)?;
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                let k = r.string()?;
                let x = r.string()?;
                v.push((k, x));
            }
            hash_from_pairs(v, n, lim)?
        }
        ty::MODULE | ty::MODULE_2 => {
            return err("module data types are not supported (no module can load this value)")
        }
        ty::HASH_ZIPMAP => {
            let v = zipmap_entries(&r.string()?)?;
            let n = v.len();
            hash_from_pairs(v, n, lim)?
        }
        ty::LIST_ZIPLIST => {
            let v = ziplist_entries(&r.string()?)?;
            let l: List = v.iter().map(|e| e.as_slice()).collect();
            (!l.is_empty()).then(|| Value::List(Box::new(l)))
        }
        ty::SET_INTSET => {
            let v = intset_entries(&r.string()?)?;
            if v.is_empty() {
                None
            } else {
                let n = v.len();
                let mut s = Set::Intset(v);
                if n > lim.intset_entries {
                    s.convert();
                }
                Some(Value::Set(Box::new(s)))
            }
        }
        ty::ZSET_ZIPLIST | ty::ZSET_LISTPACK => {
            let blob = r.string()?;
            let v = if t == ty::ZSET_ZIPLIST {
                ziplist_entries(&blob)?
            } else {
                listpack_entries(&blob)?
            };
            let p = pairs(v, parse_score)?;
            let n = p.len();
            zset_from_pairs(p, n, lim, false)?
        }
        ty::HASH_ZIPLIST | ty::HASH_LISTPACK => {
            let blob = r.string()?;
            let v = if t == ty::HASH_ZIPLIST {
                ziplist_entries(&blob)?
            } else {
                listpack_entries(&blob)?
            };
            let p = pairs(v, Ok)?;
            let n = p.len();
            hash_from_pairs(p, n, lim)?
        }
        ty::LIST_QUICKLIST | ty::LIST_QUICKLIST_2 => {
            let nodes = r.count(1)?;
            let mut l = List::new();
            for _ in 0..nodes {
                let container = if t == ty::LIST_QUICKLIST_2 {
                    r.len()?
                } else {
                    2
                };
                let blob = r.string()?;
                match container {
                    1 => l.push_back(&blob),
                    2 => {
                        let v = if t == ty::LIST_QUICKLIST {
                            ziplist_entries(&blob)?
                        } else {
                            listpack_entries(&blob)?
                        };
                        for e in &v {
                            l.push_back(e);
                        }
                    }
                    _ => return err("unknown quicklist node container"),
                }
            }
            (!l.is_empty()).then(|| Value::List(Box::new(l)))
        }
        ty::STREAM_LISTPACKS | ty::STREAM_LISTPACKS_2 => Some(Value::Stream(Box::new(
            read_stream(r, t == ty::STREAM_LISTPACKS_2)?,
        ))),
        _ => return err(&format!("unknown RDB value type {t}")),
    })
}

/// One key read from a file.
#[derive(Debug)]
pub struct LoadedKey {
    /// The database index.
    pub db: usize,
    /// The key name.
    pub key: Vec<u8>,
    /// The value.
    pub val: Value,
    /// Absolute expiry in Unix ms, 0 for none.
    pub expire: u64,
    /// `OBJECT IDLETIME` from an IDLE opcode, in seconds.
    pub idle: Option<u64>,
    /// The LFU counter from a FREQ opcode.
    pub freq: Option<u8>,
}

/// The content of an RDB file.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The keys, in file order.
    pub keys: Vec<LoadedKey>,
    /// Function library payloads (code with its `#!lua` line).
    pub functions: Vec<Vec<u8>>,
    /// AUX fields.
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
    /// Empty aggregates skipped.
    pub empty_skipped: usize,
}

/// Parses a whole RDB file image. `databases` bounds SELECTDB;
/// `verify_checksum` checks the CRC64 trailer unless it is zero.
pub fn parse(
    buf: &[u8],
    lim: &LoadLimits,
    databases: usize,
    verify_checksum: bool,
) -> Result<Parsed, RdbError> {
    if buf.len() < 9 || &buf[..5] != b"REDIS" {
        return err("wrong signature trying to load DB from file");
    }
    let ver: u16 = std::str::from_utf8(&buf[5..9])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if !(1..=RDB_VERSION).contains(&ver) {
        return err(&format!("can't handle RDB format version {ver}"));
    }
    let mut r = Reader::new(buf, buf.len());
    r.pos = 9;
    parse_body(&mut r, buf, ver, lim, databases, verify_checksum)
        .map_err(|e| RdbError(format!("{e} (near byte {} of {})", r.pos, buf.len())))
}

fn parse_body(
    r: &mut Reader<'_>,
    buf: &[u8],
    ver: u16,
    lim: &LoadLimits,
    databases: usize,
    verify_checksum: bool,
) -> Result<Parsed, RdbError> {
    let mut out = Parsed::default();
    let mut db = 0usize;
    let mut expire = 0u64;
    let mut idle = None;
    let mut freq = None;
    loop {
        let t = r.u8()?;
        match t {
            op::EXPIRETIME => {
                let s = r.take(4)?;
                expire = u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as u64 * 1000;
                continue;
            }
            op::EXPIRETIME_MS => {
                expire = r.u64le()?;
                continue;
            }
            op::FREQ => {
                freq = Some(r.u8()?);
                continue;
            }
            op::IDLE => {
                idle = Some(r.len()?);
                continue;
            }
            op::EOF => break,
            op::SELECTDB => {
                let n = r.len()?;
                if n >= databases as u64 {
                    return err(&format!(
                        "FATAL: Data file was created with a Redis server configured to handle more than {databases} databases. Exiting"
                    ));
                }
                db = n as usize;
                continue;
            }
            op::RESIZEDB => {
                r.len()?;
                r.len()?;
                continue;
            }
            op::AUX => {
                let k = r.string()?;
                let v = r.string()?;
                out.aux.push((k, v));
                continue;
            }
            op::MODULE_AUX => return err("module auxiliary data is not supported"),
            op::FUNCTION2 => {
                out.functions.push(r.string()?);
                continue;
            }
            op::FUNCTION => {
                let name = r.string()?;
                let engine = r.string()?;
                if r.len()? != 0 {
                    r.string()?;
                }
                let code = r.string()?;
                let mut p = b"#!".to_vec();
                p.extend_from_slice(&engine);
                p.extend_from_slice(b" name=");
                p.extend_from_slice(&name);
                p.push(b'\n');
                p.extend_from_slice(&code);
                out.functions.push(p);
                continue;
            }
            _ => {}
        }
        if !is_object_type(t) {
            return err(&format!("unknown RDB opcode or type {t}"));
        }
        let key = r.string()?;
        match read_value(r, t, lim)? {
            Some(val) => out.keys.push(LoadedKey {
                db,
                key,
                val,
                expire,
                idle,
                freq,
            }),
            None => out.empty_skipped += 1,
        }
        expire = 0;
        idle = None;
        freq = None;
    }
    if ver >= 5 {
        let expected = crc64(0, &buf[..r.pos]);
        let got = r.u64le()?;
        if verify_checksum && got != 0 && got != expected {
            return err("RDB CRC error");
        }
    }
    Ok(out)
}

/// Redis's `verifyDumpPayload`.
pub fn verify_payload(p: &[u8], skip_checksum: bool) -> bool {
    lunakv_scripting::functions::verify_dump_payload(p, skip_checksum)
}

/// Decodes a RESTORE payload (already verified) into a value.
pub fn restore_value(p: &[u8], lim: &LoadLimits) -> Result<Value, RdbError> {
    let mut r = Reader::new(p, p.len().saturating_sub(10));
    let t = r.u8()?;
    if !is_object_type(t) {
        return err("bad type");
    }
    read_value(&mut r, t, lim)?.ok_or_else(|| RdbError("empty value".into()))
}

/// Counts from a load, for the log and INFO.
#[derive(Debug, Default, Clone, Copy)]
pub struct LoadStats {
    pub loaded: u64,
    pub expired: u64,
    pub empty_skipped: u64,
}

/// The `lru` field of a loaded or restored key (Redis's
/// `objectSetLRUOrLFU`): under an LFU policy the FREQ counter, otherwise
/// the LRU clock set back by the IDLE time; else a fresh access clock.
pub fn lru_or_lfu(eng: &Engine, now_ms: u64, freq: Option<u8>, idle_secs: Option<u64>) -> u32 {
    use crate::evict::{lfu_minutes, lru_clock, LRU_CLOCK_MAX};
    if eng.evict.policy.is_lfu() {
        if let Some(f) = freq {
            return (lfu_minutes(now_ms) << 8) | u32::from(f);
        }
    } else if let Some(i) = idle_secs {
        let clock = i64::from(lru_clock(now_ms));
        let mut abs = clock - (i.min(u64::from(LRU_CLOCK_MAX)) as i64);
        if abs < 0 {
            abs += i64::from(LRU_CLOCK_MAX);
        }
        return abs as u32;
    }
    eng.evict.new_lru(now_ms)
}

/// Loads a parsed file into the engine. `merge` (DEBUG RELOAD MERGE)
/// replaces keys that exist; without it a duplicate key is an error.
/// Keys already expired are dropped, as a master does.
pub fn apply(eng: &mut Engine, p: Parsed, merge: bool) -> Result<LoadStats, RdbError> {
    let mut st = LoadStats {
        empty_skipped: p.empty_skipped as u64,
        ..Default::default()
    };
    if !p.functions.is_empty() {
        let mut payload = Vec::new();
        for f in &p.functions {
            payload.push(op::FUNCTION2);
            lunakv_scripting::rdbfmt::rdb_write_string(&mut payload, f);
        }
        payload.extend_from_slice(&RDB_VERSION.to_le_bytes());
        let crc = crc64(0, &payload);
        payload.extend_from_slice(&crc.to_le_bytes());
        if eng.functions.is_none() {
            eng.functions = lunakv_scripting::functions::FunctionsEngine::new()
                .ok()
                .map(Box::new);
        }
        let Some(fe) = eng.functions.as_deref_mut() else {
            return err("Lua functions are not available");
        };
        let policy = if merge {
            lunakv_scripting::functions::RestorePolicy::Replace
        } else {
            lunakv_scripting::functions::RestorePolicy::Append
        };
        if let Err(e) = fe.restore(&payload, policy, true) {
            let msg = match &e {
                lunakv_protocol::Reply::Error(b) => String::from_utf8_lossy(b).into_owned(),
                other => format!("{other:?}"),
            };
            return Err(RdbError(format!("Failed loading library, {msg}")));
        }
        crate::cmd::functions::update_stats(eng);
    }
    let now = crate::unix_ms();
    for k in p.keys {
        if k.expire != 0 && k.expire < now {
            st.expired += 1;
            continue;
        }
        let lru = lru_or_lfu(eng, now, k.freq, k.idle);
        let Some(db) = eng.dbs.get_mut(k.db) else {
            return err("database index out of range");
        };
        if db.dict.entry(&k.key).is_some() && !merge {
            return Err(RdbError(format!(
                "RDB has duplicated key '{}' in DB {}",
                String::from_utf8_lossy(&k.key),
                k.db
            )));
        }
        db.insert_entry(
            k.key.into_boxed_slice(),
            OwnedEntry {
                val: k.val,
                expire: k.expire,
                lru,
            },
        );
        st.loaded += 1;
    }
    Ok(st)
}

// ------------------------------------------------------------ persistence

/// A background save in progress: the forked child.
#[derive(Debug, Clone)]
pub struct Child {
    /// The child's process id.
    pub pid: i32,
    /// When it started.
    pub start: std::time::Instant,
    /// `dirty` when it started (what a success makes saved).
    pub dirty_at_start: u64,
}

/// Save state and figures for INFO persistence.
#[derive(Debug, Clone)]
pub struct Persist {
    /// The running BGSAVE child, if any.
    pub child: Option<Child>,
    /// `rdb_last_bgsave_status`.
    pub last_bgsave_ok: bool,
    /// `rdb_last_bgsave_time_sec` (-1 before the first one).
    pub last_bgsave_secs: i64,
    /// Unix seconds of the last BGSAVE attempt (retry delay after errors).
    pub last_bgsave_try: u64,
    /// `rdb_saves`.
    pub saves: u64,
    /// A BGSAVE SCHEDULE waits for the running one.
    pub scheduled: bool,
    /// Figures of the last load.
    pub last_load: LoadStats,
}

impl Default for Persist {
    fn default() -> Self {
        Persist {
            child: None,
            last_bgsave_ok: true,
            last_bgsave_secs: -1,
            last_bgsave_try: 0,
            saves: 0,
            scheduled: false,
            last_load: LoadStats::default(),
        }
    }
}

/// The configured `dbfilename` (relative to the working directory, which
/// is `dir`).
pub fn db_path(eng: &Engine) -> String {
    eng.config
        .get("dbfilename")
        .unwrap_or("dump.rdb")
        .to_string()
}

/// Writes `data` to `tmp`, syncs it and renames it to `path`.
fn write_atomically(tmp: &str, path: &str, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let res = (|| {
        let mut f = std::fs::File::create(tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(tmp, path)
    })();
    if res.is_err() {
        let _ = std::fs::remove_file(tmp);
    }
    res
}

/// SAVE: writes the dataset to `dbfilename` in the foreground. On success
/// the dirty counter is reset and `lastsave` updated.
pub fn save(eng: &mut Engine) -> Result<(), RdbError> {
    let path = db_path(eng);
    let data = serialize(eng, SaveOptions::from_config(&eng.config)).map_err(|e| {
        crate::log::warning(&format!("Failed saving the DB: {e}"));
        e
    })?;
    let tmp = format!("temp-{}.rdb", std::process::id());
    if let Err(e) = write_atomically(&tmp, &path, &data) {
        let cwd = std::env::current_dir()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        crate::log::warning(&format!(
            "Failed opening the temp RDB file {tmp} (in server root dir {cwd}) for saving: {e}"
        ));
        return Err(RdbError(e.to_string()));
    }
    crate::log::notice("DB saved on disk");
    eng.dirty = 0;
    eng.lastsave_unix = crate::unix_ms() / 1000;
    eng.persist.saves += 1;
    eng.persist.last_bgsave_ok = true;
    Ok(())
}

/// BGSAVE: forks; the child writes a consistent snapshot to
/// `temp-<pid>.rdb` and renames it, while the parent keeps serving. The
/// cron reaps the child ([`cron`]).
pub fn bgsave(eng: &mut Engine) -> Result<i32, RdbError> {
    if eng.persist.child.is_some() {
        return err("Background save already in progress");
    }
    eng.persist.last_bgsave_try = crate::unix_ms() / 1000;
    let opts = SaveOptions::from_config(&eng.config);
    let path = db_path(eng);
    let dirty = eng.dirty;
    // SAFETY: fork() duplicates only this thread. The child touches only
    // the engine's memory (a copy-on-write snapshot), allocates through
    // malloc (fork-safe in glibc), writes one file and leaves with
    // _exit(), running no destructors and taking no lock another thread
    // may have held.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        let e = std::io::Error::last_os_error();
        eng.persist.last_bgsave_ok = false;
        crate::log::warning(&format!("Can't save in background: fork: {e}"));
        return Err(RdbError(format!("fork: {e}")));
    }
    if pid == 0 {
        let code = match serialize(eng, opts) {
            Ok(data) => {
                let tmp = format!("temp-{}.rdb", std::process::id());
                i32::from(write_atomically(&tmp, &path, &data).is_err())
            }
            Err(_) => 2,
        };
        // SAFETY: ends the child without unwinding or running atexit
        // handlers of the parent's runtime.
        unsafe { libc::_exit(code) };
    }
    crate::log::notice(&format!("Background saving started by pid {pid}"));
    eng.persist.child = Some(Child {
        pid,
        start: std::time::Instant::now(),
        dirty_at_start: dirty,
    });
    Ok(pid)
}

/// Kills a running BGSAVE child (SHUTDOWN, FLUSHALL) and removes its
/// temporary file.
pub fn kill_child(eng: &mut Engine) {
    if let Some(c) = eng.persist.child.take() {
        // SAFETY: plain syscalls on our own child's pid.
        unsafe {
            libc::kill(c.pid, libc::SIGUSR1);
            let mut st = 0;
            libc::waitpid(c.pid, &mut st, 0);
        }
        let _ = std::fs::remove_file(format!("temp-{}.rdb", c.pid));
    }
}

/// After FLUSHALL (Redis's `flushAllDataAndResetRDB`): a running BGSAVE
/// is killed (it would write the old dataset) and, when save points are
/// configured, the now empty dataset is saved at once.
pub fn after_flushall(eng: &mut Engine) {
    kill_child(eng);
    if save_points_configured(eng) {
        let _ = save(eng);
    }
}

/// True when `save` points are configured.
pub fn save_points_configured(eng: &Engine) -> bool {
    !save_points(eng).is_empty()
}

fn save_points(eng: &Engine) -> Vec<(u64, u64)> {
    let s = eng.config.get("save").unwrap_or("");
    let w: Vec<u64> = s
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    w.chunks_exact(2).map(|c| (c[0], c[1])).collect()
}

/// Periodic work: reaps a finished BGSAVE child, starts a scheduled one,
/// and checks the `save` points.
pub fn cron(eng: &mut Engine) {
    if let Some(c) = eng.persist.child.clone() {
        let mut st: libc::c_int = 0;
        // SAFETY: non-blocking wait on our own child.
        let r = unsafe { libc::waitpid(c.pid, &mut st, libc::WNOHANG) };
        if r == 0 {
            return;
        }
        eng.persist.child = None;
        eng.persist.last_bgsave_secs = c.start.elapsed().as_secs() as i64;
        let ok = r == c.pid && libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0;
        if ok {
            crate::log::notice("Background saving terminated with success");
            eng.dirty = eng.dirty.saturating_sub(c.dirty_at_start);
            eng.lastsave_unix = crate::unix_ms() / 1000;
            eng.persist.saves += 1;
            eng.persist.last_bgsave_ok = true;
        } else {
            if r == c.pid && libc::WIFSIGNALED(st) {
                crate::log::warning(&format!(
                    "Background saving terminated by signal {}",
                    libc::WTERMSIG(st)
                ));
            } else {
                crate::log::warning("Background saving error");
            }
            eng.persist.last_bgsave_ok = false;
            let _ = std::fs::remove_file(format!("temp-{}.rdb", c.pid));
        }
    }
    let now = crate::unix_ms() / 1000;
    if eng.persist.scheduled {
        eng.persist.scheduled = false;
        let _ = bgsave(eng);
        return;
    }
    for (secs, changes) in save_points(eng) {
        if eng.dirty >= changes
            && now.saturating_sub(eng.lastsave_unix) > secs
            && (eng.persist.last_bgsave_ok || now.saturating_sub(eng.persist.last_bgsave_try) > 5)
        {
            crate::log::notice(&format!("{changes} changes in {secs} seconds. Saving..."));
            let _ = bgsave(eng);
            break;
        }
    }
}

/// Reads and loads `path` into the engine (see [`apply`]).
pub fn load_file(eng: &mut Engine, path: &str, merge: bool) -> Result<LoadStats, RdbError> {
    let buf = std::fs::read(path).map_err(|e| RdbError(e.to_string()))?;
    let lim = LoadLimits::from_config(&eng.config);
    let parsed = parse(
        &buf,
        &lim,
        eng.dbs.len(),
        eng.config.get_bool("rdbchecksum"),
    )?;
    let st = apply(eng, parsed, merge)?;
    eng.persist.last_load = st;
    if st.empty_skipped > 0 {
        crate::log::warning(&format!(
            "Done loading RDB, keys loaded: {}, keys expired: {}, empty keys skipped: {}.",
            st.loaded, st.expired, st.empty_skipped
        ));
    } else {
        crate::log::notice(&format!(
            "Done loading RDB, keys loaded: {}, keys expired: {}.",
            st.loaded, st.expired
        ));
    }
    Ok(st)
}

/// Loads `dbfilename` at start-up if it exists. An unreadable or corrupt
/// file is fatal, as in Redis: the error is returned for the caller to
/// exit with.
pub fn load_at_startup(eng: &mut Engine) -> Result<(), String> {
    let path = db_path(eng);
    if !std::path::Path::new(&path).exists() {
        return Ok(());
    }
    let start = std::time::Instant::now();
    match load_file(eng, &path, false) {
        Ok(_) => {
            let keys: usize = eng.dbs.iter().map(|d| d.len()).sum();
            crate::log::notice(&format!(
                "DB loaded from disk: {:.3} seconds ({keys} keys)",
                start.elapsed().as_secs_f64()
            ));
            eng.dirty = 0;
            Ok(())
        }
        Err(e) => {
            let msg = format!("Fatal error loading the DB: {e}. Exiting.");
            crate::log::warning(&msg);
            Err(msg)
        }
    }
}

/// Empties every database and the function libraries (Redis's
/// `emptyData` before a reload).
pub fn empty_data(eng: &mut Engine) {
    eng.signal_flushed(None);
    for db in &mut eng.dbs {
        db.clear();
    }
    if let Some(f) = eng.functions.as_deref_mut() {
        f.flush();
    }
    crate::cmd::functions::update_stats(eng);
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty, load back.
pub fn debug_reload(eng: &mut Engine, args: &[bytes::Bytes]) -> lunakv_protocol::Reply {
    use lunakv_protocol::Reply;
    let (mut merge, mut flush, mut do_save) = (false, true, true);
    for a in args {
        if a.eq_ignore_ascii_case(b"merge") {
            merge = true;
        } else if a.eq_ignore_ascii_case(b"noflush") {
            flush = false;
        } else if a.eq_ignore_ascii_case(b"nosave") {
            do_save = false;
        } else {
            return Reply::err_static(
                "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
            );
        }
    }
    if do_save && save(eng).is_err() {
        return Reply::err_static("ERR");
    }
    if flush {
        empty_data(eng);
    }
    let path = db_path(eng);
    match load_file(eng, &path, merge) {
        Ok(_) => {
            crate::log::warning("DB reloaded by DEBUG RELOAD");
            Reply::ok()
        }
        Err(e) => {
            crate::log::warning(&format!("Error loading the RDB dump: {e}"));
            Reply::err_static("ERR Error trying to load the RDB dump")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testkit::TestEngine;

    /// An engine holding every type in every encoding, with expiries.
    fn populated() -> TestEngine {
        let mut t = TestEngine::new();
        let big = "x".repeat(100);
        let cmds: Vec<Vec<String>> = vec![
            vec!["SET".into(), "int".into(), "12345".into()],
            vec!["SET".into(), "neg".into(), "-7".into()],
            vec!["SET".into(), "i64".into(), "9223372036854775807".into()],
            vec!["SET".into(), "emb".into(), "hello".into()],
            vec!["SET".into(), "raw".into(), big.clone()],
            vec!["SET".into(), "empty".into(), "".into()],
            vec![
                "SET".into(),
                "rand".into(),
                "q8w7e6r5t4y3u2i1o0pazsxdcfvgbhnjmk,l.".into(),
            ],
            vec!["APPEND".into(), "app".into(), "12".into()],
            vec![
                "RPUSH".into(),
                "list".into(),
                "a".into(),
                "1".into(),
                "-5000".into(),
                big.clone(),
            ],
            vec![
                "HSET".into(),
                "hsmall".into(),
                "f".into(),
                "v".into(),
                "n".into(),
                "100000".into(),
            ],
            vec!["HSET".into(), "hbig".into(), "f".into(), big.clone()],
            vec![
                "SADD".into(),
                "sint".into(),
                "1".into(),
                "-2".into(),
                "70000".into(),
                "5000000000".into(),
            ],
            vec![
                "SADD".into(),
                "sstr".into(),
                "a".into(),
                "b".into(),
                "3".into(),
            ],
            vec![
                "ZADD".into(),
                "zsmall".into(),
                "1".into(),
                "a".into(),
                "2.5".into(),
                "b".into(),
                "-inf".into(),
                "c".into(),
                "inf".into(),
                "d".into(),
                "1e300".into(),
                "e".into(),
            ],
            vec![
                "ZADD".into(),
                "zbig".into(),
                "1".into(),
                big.clone(),
                "0.1".into(),
                "x".into(),
            ],
            vec![
                "SET".into(),
                "ttl".into(),
                "v".into(),
                "PX".into(),
                "100000000".into(),
            ],
            vec![
                "XADD".into(),
                "st".into(),
                "1-1".into(),
                "a".into(),
                "1".into(),
                "b".into(),
                "2".into(),
            ],
            vec![
                "XADD".into(),
                "st".into(),
                "2-1".into(),
                "a".into(),
                "3".into(),
                "b".into(),
                "4".into(),
            ],
            vec![
                "XADD".into(),
                "st".into(),
                "3-0".into(),
                "c".into(),
                "5".into(),
            ],
            vec![
                "XADD".into(),
                "st".into(),
                "4-0".into(),
                "a".into(),
                "6".into(),
                "b".into(),
                "7".into(),
            ],
            vec!["XDEL".into(), "st".into(), "2-1".into()],
            vec![
                "XGROUP".into(),
                "CREATE".into(),
                "st".into(),
                "g1".into(),
                "0".into(),
            ],
            vec![
                "XREADGROUP".into(),
                "GROUP".into(),
                "g1".into(),
                "alice".into(),
                "COUNT".into(),
                "2".into(),
                "STREAMS".into(),
                "st".into(),
                ">".into(),
            ],
            vec![
                "XGROUP".into(),
                "CREATECONSUMER".into(),
                "st".into(),
                "g1".into(),
                "bob".into(),
            ],
            vec![
                "XGROUP".into(),
                "CREATE".into(),
                "st".into(),
                "g2".into(),
                "$".into(),
            ],
            vec![
                "XADD".into(),
                "emptystream".into(),
                "MAXLEN".into(),
                "0".into(),
                "5-5".into(),
                "f".into(),
                "v".into(),
            ],
            vec!["SELECT".into(), "3".into()],
            vec!["SET".into(), "db3".into(), "v".into()],
            vec!["SELECT".into(), "0".into()],
        ];
        for c in &cmds {
            let a: Vec<&str> = c.iter().map(|s| s.as_str()).collect();
            let r = t.cmd(&a);
            assert!(!r.is_error(), "{c:?}: {r:?}");
        }
        for i in 0..3000 {
            let v = format!("{i}");
            let m = format!("m{i}");
            t.cmd(&["RPUSH", "biglist", &v]);
            t.cmd(&["RPUSH", "biglist", &m]);
            if i < 1000 {
                t.cmd(&["HSET", "hmany", &m, &v]);
                t.cmd(&["SADD", "smany", &v]);
                t.cmd(&["SADD", "smanystr", &m]);
                t.cmd(&["ZADD", "zmany", &v, &m]);
                t.cmd(&["XADD", "bigstream", "*", "field", &v, &m, &v]);
            }
        }
        t
    }

    fn encodings(t: &mut TestEngine) -> Vec<(String, String)> {
        let mut v = Vec::new();
        for db in [0usize, 3] {
            let mut keys: Vec<Vec<u8>> = t.eng.dbs[db]
                .dict
                .iter_entries()
                .map(|(k, _)| k.to_vec())
                .collect();
            keys.sort();
            for k in keys {
                let e = t.eng.dbs[db].dict.entry(&k).unwrap();
                v.push((
                    String::from_utf8_lossy(&k).into_owned(),
                    format!("{} {}", e.val.encoding(), e.expire()),
                ));
            }
        }
        v
    }

    fn reload(src: &TestEngine, compress: bool) -> TestEngine {
        let opts = SaveOptions {
            compress,
            checksum: true,
            skip_unsupported: false,
        };
        let img = serialize(&src.eng, opts).unwrap();
        let p = parse(&img, &LoadLimits::default(), 16, true).unwrap();
        let mut t = TestEngine::new();
        apply(&mut t.eng, p, false).unwrap();
        t
    }

    #[test]
    fn roundtrip_every_type_and_encoding() {
        let mut a = populated();
        let d = a.raw(&["DEBUG", "DIGEST"]);
        for compress in [true, false] {
            let mut b = reload(&a, compress);
            assert_eq!(b.raw(&["DEBUG", "DIGEST"]), d);
            assert_eq!(encodings(&mut a), encodings(&mut b));
            assert_eq!(
                b.raw(&["LRANGE", "list", "0", "-1"]),
                a.raw(&["LRANGE", "list", "0", "-1"])
            );
            assert_eq!(
                b.raw(&["ZRANGE", "zsmall", "0", "-1", "WITHSCORES"]),
                a.raw(&["ZRANGE", "zsmall", "0", "-1", "WITHSCORES"])
            );
            assert_eq!(b.raw(&["HGETALL", "hsmall"]), a.raw(&["HGETALL", "hsmall"]));
            for k in ["st", "bigstream", "emptystream"] {
                assert_eq!(
                    b.raw(&["XRANGE", k, "-", "+"]),
                    a.raw(&["XRANGE", k, "-", "+"]),
                    "{k}"
                );
                assert_eq!(
                    b.raw(&["XINFO", "STREAM", k]),
                    a.raw(&["XINFO", "STREAM", k]),
                    "{k}"
                );
            }
            assert_eq!(
                b.raw(&["XINFO", "GROUPS", "st"]),
                a.raw(&["XINFO", "GROUPS", "st"])
            );
            assert_eq!(
                b.raw(&["XPENDING", "st", "g1", "-", "+", "10"]),
                a.raw(&["XPENDING", "st", "g1", "-", "+", "10"])
            );
        }
    }

    #[test]
    fn functions_are_saved_and_loaded() {
        let mut a = TestEngine::new();
        let code = "#!lua name=mylib\nredis.register_function('f1', function() return 1 end)";
        assert!(!a.cmd(&["FUNCTION", "LOAD", code]).is_error());
        a.cmd(&["SET", "k", "v"]);
        let mut b = reload(&a, true);
        assert_eq!(b.raw(&["FCALL", "f1", "0"]), ":1\r\n");
        assert_eq!(b.raw(&["GET", "k"]), "$1\r\nv\r\n");
    }

    #[test]
    fn debug_reload_keeps_data_and_functions() {
        let dir = std::env::temp_dir().join(format!("lunakv-rdb-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut t = populated();
        let file = dir.join("dump.rdb");
        t.eng.config.set("dbfilename", "dump.rdb").unwrap();
        // Paths are relative to the working directory (`dir`); use an
        // absolute one here instead of changing the test's directory.
        let d = t.raw(&["DEBUG", "DIGEST"]);
        let img = dump_to_vec(&t.eng);
        std::fs::write(&file, &img).unwrap();
        empty_data(&mut t.eng);
        assert_eq!(t.raw(&["DBSIZE"]), ":0\r\n");
        load_file(&mut t.eng, file.to_str().unwrap(), false).unwrap();
        assert_eq!(t.raw(&["DEBUG", "DIGEST"]), d);
        // Loading again without MERGE finds duplicates; with it, replaces.
        assert!(load_file(&mut t.eng, file.to_str().unwrap(), false).is_err());
        load_file(&mut t.eng, file.to_str().unwrap(), true).unwrap();
        assert_eq!(t.raw(&["DEBUG", "DIGEST"]), d);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn expired_keys_are_not_loaded() {
        let mut a = TestEngine::new();
        a.cmd(&["SET", "k", "v"]);
        a.cmd(&["SET", "gone", "v"]);
        a.eng.dbs[0].set_expire(b"gone", 1000);
        let img = dump_to_vec(&a.eng);
        let p = parse(&img, &LoadLimits::default(), 16, true).unwrap();
        let mut b = TestEngine::new();
        let st = apply(&mut b.eng, p, false).unwrap();
        assert_eq!((st.loaded, st.expired), (1, 1));
    }

    /// A ziplist, for tests of the old encodings.
    fn ziplist(items: &[&[u8]]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut prev = 0usize;
        for it in items {
            let start = body.len();
            if prev < 254 {
                body.push(prev as u8);
            } else {
                body.push(254);
                body.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            match std::str::from_utf8(it)
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
            {
                Some(v) if (0..=12).contains(&v) => body.push(0xF1 + v as u8),
                Some(v) if i8::try_from(v).is_ok() => {
                    body.push(0xFE);
                    body.push(v as i8 as u8);
                }
                Some(v) if i16::try_from(v).is_ok() => {
                    body.push(0xC0);
                    body.extend_from_slice(&(v as i16).to_le_bytes());
                }
                Some(v) if (-(1 << 23)..(1 << 23)).contains(&v) => {
                    body.push(0xF0);
                    body.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
                }
                Some(v) if i32::try_from(v).is_ok() => {
                    body.push(0xD0);
                    body.extend_from_slice(&(v as i32).to_le_bytes());
                }
                Some(v) => {
                    body.push(0xE0);
                    body.extend_from_slice(&v.to_le_bytes());
                }
                None if it.len() < 64 => {
                    body.push(it.len() as u8);
                    body.extend_from_slice(it);
                }
                None if it.len() < 16384 => {
                    body.push(0x40 | (it.len() >> 8) as u8);
                    body.push(it.len() as u8);
                    body.extend_from_slice(it);
                }
                None => {
                    body.push(0x80);
                    body.extend_from_slice(&(it.len() as u32).to_be_bytes());
                    body.extend_from_slice(it);
                }
            }
            prev = body.len() - start;
        }
        let mut z = Vec::new();
        z.extend_from_slice(&((body.len() + 11) as u32).to_le_bytes());
        z.extend_from_slice(&0u32.to_le_bytes());
        z.extend_from_slice(&(items.len() as u16).to_le_bytes());
        z.extend_from_slice(&body);
        z.push(0xFF);
        z
    }

    fn file_with(records: &[(u8, &[u8], Vec<u8>)]) -> Vec<u8> {
        let mut w = Writer::new(false);
        w.buf.extend_from_slice(b"REDIS0009");
        w.byte(op::SELECTDB);
        w.len(0);
        for (t, k, body) in records {
            w.byte(*t);
            w.string(k);
            w.buf.extend_from_slice(body);
        }
        w.byte(op::EOF);
        let crc = crc64(0, &w.buf);
        w.buf.extend_from_slice(&crc.to_le_bytes());
        w.buf
    }

    fn blob(b: &[u8]) -> Vec<u8> {
        let mut w = Writer::new(false);
        w.len(b.len());
        w.buf.extend_from_slice(b);
        w.buf
    }

    #[test]
    fn loads_old_encodings() {
        let long = vec![b'z'; 300];
        let items: Vec<&[u8]> = vec![
            b"a",
            b"7",
            b"-100",
            b"1000",
            b"100000",
            b"3000000000",
            b"hello",
            &long,
        ];
        let zl = ziplist(&items);
        // Zipmap: two pairs.
        let mut zm = vec![2u8];
        for (k, v) in [(&b"f1"[..], &b"v1"[..]), (b"f2", b"22")] {
            zm.push(k.len() as u8);
            zm.extend_from_slice(k);
            zm.push(v.len() as u8);
            zm.push(0);
            zm.extend_from_slice(v);
        }
        zm.push(255);
        // Quicklist of two ziplists.
        let mut ql = Writer::new(false);
        ql.len(2);
        ql.buf.extend(blob(&ziplist(&[b"x", b"1"])));
        ql.buf.extend(blob(&ziplist(&[b"y"])));
        // Old ZSET with string scores.
        let mut oz = Writer::new(false);
        oz.len(3);
        oz.string(b"a");
        oz.buf.extend_from_slice(&[3, b'1', b'.', b'5']);
        oz.string(b"b");
        oz.buf.push(254);
        oz.string(b"c");
        oz.buf.push(255);
        // Old LIST of strings.
        let mut ol = Writer::new(false);
        ol.len(2);
        ol.string(b"p");
        ol.string(b"q");
        let img = file_with(&[
            (ty::LIST_ZIPLIST, b"lz", blob(&zl)),
            (ty::HASH_ZIPMAP, b"hzm", blob(&zm)),
            (
                ty::HASH_ZIPLIST,
                b"hzl",
                blob(&ziplist(&[b"f", b"1", b"g", b"x"])),
            ),
            (
                ty::ZSET_ZIPLIST,
                b"zzl",
                blob(&ziplist(&[b"m", b"1.5", b"n", b"2"])),
            ),
            (ty::LIST_QUICKLIST, b"lq", ql.buf.clone()),
            (ty::ZSET, b"oz", oz.buf.clone()),
            (ty::LIST, b"ol", ol.buf.clone()),
        ]);
        let p = parse(&img, &LoadLimits::default(), 16, true).unwrap();
        let mut t = TestEngine::new();
        apply(&mut t.eng, p, false).unwrap();
        assert_eq!(
            t.raw(&["LRANGE", "lz", "0", "5"]),
            "*6\r\n$1\r\na\r\n$1\r\n7\r\n$4\r\n-100\r\n$4\r\n1000\r\n$6\r\n100000\r\n$10\r\n3000000000\r\n"
        );
        assert_eq!(t.raw(&["LLEN", "lz"]), ":8\r\n");
        assert_eq!(t.raw(&["HGET", "hzm", "f2"]), "$2\r\n22\r\n");
        assert_eq!(t.raw(&["HGET", "hzl", "g"]), "$1\r\nx\r\n");
        assert_eq!(t.raw(&["ZSCORE", "zzl", "m"]), "$3\r\n1.5\r\n");
        assert_eq!(
            t.raw(&["LRANGE", "lq", "0", "-1"]),
            "*3\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n"
        );
        assert_eq!(t.raw(&["ZSCORE", "oz", "b"]), "$3\r\ninf\r\n");
        assert_eq!(t.raw(&["ZRANGE", "oz", "0", "0"]), "*1\r\n$1\r\nc\r\n");
        assert_eq!(
            t.raw(&["LRANGE", "ol", "0", "-1"]),
            "*2\r\n$1\r\np\r\n$1\r\nq\r\n"
        );
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "hzm"]), "$8\r\nlistpack\r\n");
    }

    #[test]
    fn rejects_bad_files() {
        let lim = LoadLimits::default();
        assert!(parse(b"", &lim, 16, true).is_err());
        assert!(parse(b"REDIS0011\xff", &lim, 16, true).is_err());
        assert!(parse(b"RADIS0010\xff", &lim, 16, true).is_err());
        let t = populated();
        let mut img = dump_to_vec(&t.eng);
        let n = img.len();
        img[n - 20] ^= 0x55;
        assert!(parse(&img, &lim, 16, true).is_err());
        // Module values and module aux data are clear errors.
        let m = file_with(&[(ty::MODULE_2, b"k", vec![0, 0, 0])]);
        assert!(parse(&m, &lim, 16, true).unwrap_err().0.contains("module"));
        // SELECTDB out of range.
        let mut w = Writer::new(false);
        w.buf.extend_from_slice(b"REDIS0010");
        w.byte(op::SELECTDB);
        w.len(99);
        w.byte(op::EOF);
        w.buf.extend_from_slice(&[0; 8]);
        assert!(parse(&w.buf, &lim, 16, true).is_err());
    }

    /// Thousands of randomly mutated and truncated valid dumps: every one
    /// loads or fails cleanly.
    #[test]
    fn fuzz_mutated_dumps_never_panic() {
        let t = populated();
        let mut small = TestEngine::new();
        for c in [
            vec!["SET", "s", "hello world hello world hello world"],
            vec!["RPUSH", "l", "a", "1", "bb", "-3"],
            vec!["HSET", "h", "f", "v", "g", "12"],
            vec!["SADD", "si", "1", "2"],
            vec!["SADD", "ss", "a", "b"],
            vec!["ZADD", "z", "1", "a", "2", "b"],
            vec!["SET", "e", "v", "EX", "1000"],
            vec!["XADD", "x", "1-1", "a", "1"],
            vec!["XADD", "x", "1-2", "a", "2", "b", "3"],
            vec!["XGROUP", "CREATE", "x", "g", "0"],
            vec!["XREADGROUP", "GROUP", "g", "c", "STREAMS", "x", ">"],
        ] {
            small.cmd(&c);
        }
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let lim = LoadLimits::default();
        for (img, rounds) in [(dump_to_vec(&small.eng), 6000), (dump_to_vec(&t.eng), 300)] {
            for round in 0..rounds {
                let mut m = img.clone();
                match round % 4 {
                    0 => m.truncate((rnd() as usize) % m.len()),
                    _ => {
                        for _ in 0..1 + rnd() % 4 {
                            let i = (rnd() as usize) % m.len();
                            m[i] = match rnd() % 3 {
                                0 => rnd() as u8,
                                1 => m[i] ^ (1 << (rnd() % 8)),
                                _ => [0, 0xff, 0x80, 0xC3, 0x40][(rnd() % 5) as usize],
                            };
                        }
                    }
                }
                if let Ok(p) = parse(&m, &lim, 16, false) {
                    let mut e = TestEngine::new();
                    let _ = apply(&mut e.eng, p, true);
                }
                // Single values as RESTORE sees them.
                let mut w = Writer::new(true);
                if let Some(en) = small.eng.dbs[0]
                    .dict
                    .iter_entries()
                    .nth(round % 8)
                    .map(|(_, e)| e)
                {
                    w.value(en.val).unwrap();
                    let mut v = w.buf;
                    let i = (rnd() as usize) % v.len();
                    v[i] = rnd() as u8;
                    v.truncate(v.len() - (rnd() as usize % 3));
                    v.extend_from_slice(&[0; 10]);
                    let _ = restore_value(&v, &lim);
                }
            }
        }
    }

    /// The legacy (RDB 9, `STREAM_LISTPACKS`) payload of Redis's
    /// stream-cgroups test: group read counters are estimated.
    #[test]
    fn legacy_stream_payload() {
        let p: &[u8] = b"\x0F\x01\x10\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\xC3\x40\x4A\x40\x57\x16\x57\x00\x00\x00\x23\x00\x02\x01\x04\x01\x01\x01\x84\x64\x61\x74\x61\x05\x00\x01\x03\x01\x00\x20\x01\x03\x81\x61\x02\x04\x20\x0A\x00\x01\x40\x0A\x00\x62\x60\x0A\x00\x02\x40\x0A\x00\x63\x60\x0A\x40\x22\x01\x81\x64\x20\x0A\x40\x39\x20\x0A\x00\x65\x60\x0A\x00\x05\x40\x0A\x00\x66\x20\x0A\x00\xFF\x02\x06\x00\x02\x02\x67\x31\x05\x00\x04\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x3E\xF7\x83\x43\x7A\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x3E\xF7\x83\x43\x7A\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x3E\xF7\x83\x43\x7A\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x3E\xF7\x83\x43\x7A\x01\x00\x00\x01\x01\x03\x63\x31\x31\x3E\xF7\x83\x43\x7A\x01\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x02\x67\x32\x00\x00\x00\x00\x09\x00\x3D\x52\xEF\x68\x67\x52\x1D\xFA";
        assert!(verify_payload(p, false));
        let Value::Stream(st) = restore_value(p, &LoadLimits::default()).unwrap() else {
            panic!("not a stream");
        };
        assert_eq!(st.len(), 2);
        assert_eq!(st.entries_added(), 2);
        let g: Vec<i64> = st.groups().map(|(_, g)| g.entries_read).collect();
        assert_eq!(g, vec![1, 0]);
        assert_eq!(st.group(b"g1").unwrap().pel.len(), 4);
    }

    #[test]
    fn listpack_roundtrip_all_encodings() {
        let vals: Vec<Vec<u8>> = vec![
            b"0".to_vec(),
            b"127".to_vec(),
            b"128".to_vec(),
            b"-1".to_vec(),
            b"-4096".to_vec(),
            b"4095".to_vec(),
            b"32767".to_vec(),
            b"-32768".to_vec(),
            b"8388607".to_vec(),
            b"-8388608".to_vec(),
            b"2147483647".to_vec(),
            b"-2147483648".to_vec(),
            b"9223372036854775807".to_vec(),
            b"-9223372036854775808".to_vec(),
            b"".to_vec(),
            b"abc".to_vec(),
            b"007".to_vec(),
            vec![b'x'; 63],
            vec![b'x'; 64],
            vec![b'x'; 4095],
            vec![b'x'; 4096],
            vec![b'y'; 20000],
        ];
        let mut lp = LpBuilder::new();
        for v in &vals {
            lp.push(v);
        }
        let blob = lp.finish();
        assert_eq!(listpack_entries(&blob).unwrap(), vals);
    }
}
