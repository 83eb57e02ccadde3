//! The `hyperloglog` command family: PFADD, PFCOUNT, PFMERGE, PFDEBUG and
//! PFSELFTEST.
//!
//! A HyperLogLog is an ordinary string value whose bytes are exactly what
//! Redis 7.0 stores: a 16-byte header (`HYLL`, the encoding, three unused
//! bytes and the cached cardinality, little endian, whose top bit marks it
//! stale) followed by 16384 six-bit registers, either densely packed
//! (12288 bytes) or run-length encoded with the sparse ZERO / XZERO / VAL
//! opcodes. Elements are hashed with MurmurHash64A and the seed Redis uses,
//! so `GET` of a key returns the same bytes on both servers for the same
//! commands, and DUMP/RESTORE or replication between them stays
//! compatible. The cardinality is Otmar Ertl's improved estimator, as in
//! Redis 7.0.

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::command::Cmd;
use crate::ctx::{eq_ic, notify, Ctx};
use crate::errors;
use crate::value::{Entry, Str, Value};

/// Header size: magic, encoding, 3 unused bytes, 8 bytes of cardinality.
const HDR: usize = 16;
/// Bits of the hash used to pick a register.
const P: u32 = 14;
/// Bits of the hash left for the run of zeroes.
const Q: u32 = 64 - P;
/// Number of registers.
const REGS: usize = 1 << P;
/// Mask extracting the register index from a hash.
const P_MASK: u64 = REGS as u64 - 1;
/// Width of a register in bits.
const BITS: usize = 6;
/// Largest value a register holds.
const REG_MAX: u8 = (1 << BITS) - 1;
/// Size of a dense HyperLogLog string.
const DENSE_SIZE: usize = HDR + (REGS * BITS).div_ceil(8);
/// Encoding byte of the dense representation.
const DENSE: u8 = 0;
/// Encoding byte of the sparse representation.
const SPARSE: u8 = 1;
/// Largest valid encoding byte.
const MAX_ENCODING: u8 = 1;

/// Largest value a sparse VAL opcode holds.
const SPARSE_VAL_MAX_VALUE: u8 = 32;
/// Largest run a sparse VAL opcode covers.
const SPARSE_VAL_MAX_LEN: usize = 4;
/// Largest run a sparse ZERO opcode covers.
const SPARSE_ZERO_MAX_LEN: usize = 64;
/// Largest run a sparse XZERO opcode covers.
const SPARSE_XZERO_MAX_LEN: usize = 16384;

/// 0.5 / ln(2), the estimator's constant for an infinite number of
/// registers.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// MurmurHash2's seed as Redis passes it.
const SEED: u64 = 0xadc8_3b19;

/// Redis's error for a string that is not a HyperLogLog.
fn not_hll() -> Reply {
    Reply::err_static("WRONGTYPE Key is not a valid HyperLogLog string value.")
}

/// Redis's error for a HyperLogLog whose sparse opcodes are inconsistent.
fn corrupted() -> Reply {
    Reply::err_static("INVALIDOBJ Corrupted HLL object detected")
}

/// Declares the family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    let g = "hyperloglog";
    v.push(
        Cmd::new(
            "pfadd",
            -2,
            "write denyoom fast",
            (1, 1, 1),
            g,
            "Adds the specified elements to the specified HyperLogLog.",
            pfadd,
        )
        .syntax("key [element [element ...]]")
        .since("2.8.9")
        .complexity("O(1) to add every element."),
    );
    v.push(
        Cmd::new(
            "pfcount",
            -2,
            "readonly may_replicate",
            (1, -1, 1),
            g,
            "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
            pfcount,
        )
        .syntax("key [key ...]")
        .since("2.8.9")
        .complexity("O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys."),
    );
    v.push(
        Cmd::new(
            "pfmerge",
            -2,
            "write denyoom",
            (1, -1, 1),
            g,
            "Merge N different HyperLogLogs into a single one.",
            pfmerge,
        )
        .syntax("destkey sourcekey [sourcekey ...]")
        .since("2.8.9")
        .complexity("O(N) to merge N HyperLogLogs, but with high constant times."),
    );
    v.push(
        Cmd::new(
            "pfdebug",
            3,
            "write denyoom admin",
            (2, 2, 1),
            g,
            "Internal commands for debugging HyperLogLog values",
            pfdebug,
        )
        .syntax("subcommand key")
        .since("2.8.9")
        .complexity("N/A"),
    );
    v.push(
        Cmd::new(
            "pfselftest",
            1,
            "admin",
            (0, 0, 0),
            g,
            "An internal command for testing HyperLogLog values",
            pfselftest,
        )
        .since("2.8.9")
        .complexity("N/A"),
    );
}

// ---------------------------------------------------------------------------
// Hashing
// ---------------------------------------------------------------------------

/// MurmurHash2, 64-bit version (MurmurHash64A), reading 8-byte blocks as
/// little endian like Redis's endian-neutral variant.
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        let mut k = u64::from_le_bytes(b);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element maps to and the length of its `000..1` pattern
/// (1 to Q+1).
fn pat_len(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, SEED);
    let index = (hash & P_MASK) as usize;
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

// ---------------------------------------------------------------------------
// Dense representation
// ---------------------------------------------------------------------------

/// Reads register `i` of densely packed registers (the byte after the last
/// one reads as zero, like the NUL that ends an sds string).
fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = regs.get(byte).copied().unwrap_or(0) as u32;
    let b1 = regs.get(byte + 1).copied().unwrap_or(0) as u32;
    (((b0 >> fb) | (b1 << (8 - fb))) & REG_MAX as u32) as u8
}

/// Writes register `i` of densely packed registers.
fn dense_set(regs: &mut [u8], i: usize, val: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let v = val as u32;
    let m = REG_MAX as u32;
    if let Some(b) = regs.get_mut(byte) {
        *b = ((*b as u32 & !(m << fb)) | (v << fb)) as u8;
    }
    if let Some(b) = regs.get_mut(byte + 1) {
        *b = ((*b as u32 & !(m >> (8 - fb))) | (v >> (8 - fb))) as u8;
    }
}

/// Raises register `i` to `count` if it is lower; true if it changed.
fn dense_raise(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(regs, i) {
        dense_set(regs, i, count);
        true
    } else {
        false
    }
}

// ---------------------------------------------------------------------------
// Sparse representation
// ---------------------------------------------------------------------------

fn is_zero(op: u8) -> bool {
    op & 0xc0 == 0
}

fn is_xzero(op: u8) -> bool {
    op & 0xc0 == 0x40
}

fn is_val(op: u8) -> bool {
    op & 0x80 != 0
}

fn zero_len(op: u8) -> usize {
    (op & 0x3f) as usize + 1
}

fn xzero_len(op: u8, next: u8) -> usize {
    ((((op & 0x3f) as usize) << 8) | next as usize) + 1
}

fn val_value(op: u8) -> u8 {
    ((op >> 2) & 0x1f) + 1
}

fn val_len(op: u8) -> usize {
    (op & 0x3) as usize + 1
}

fn val_op(val: u8, len: usize) -> u8 {
    ((val.wrapping_sub(1) << 2) | (len.wrapping_sub(1) as u8 & 3)) | 0x80
}

fn zero_op(len: usize) -> u8 {
    (len - 1) as u8
}

fn xzero_op(len: usize) -> [u8; 2] {
    let l = len - 1;
    [((l >> 8) as u8) | 0x40, (l & 0xff) as u8]
}

/// One decoded sparse opcode.
enum Op {
    /// A run of zero registers (ZERO or XZERO).
    Zero(usize),
    /// A run of registers holding a value.
    Val(u8, usize),
}

impl Op {
    /// Number of registers the opcode covers.
    fn len(&self) -> usize {
        match *self {
            Op::Zero(n) | Op::Val(_, n) => n,
        }
    }
}

/// Decodes the opcodes of a sparse body; yields (opcode, its size in
/// bytes). A truncated XZERO reads its second byte as zero, like the NUL
/// after an sds string.
fn sparse_ops(body: &[u8]) -> impl Iterator<Item = (Op, usize)> + '_ {
    let mut p = 0;
    std::iter::from_fn(move || {
        let op = *body.get(p)?;
        if is_zero(op) {
            p += 1;
            Some((Op::Zero(zero_len(op)), 1))
        } else if is_xzero(op) {
            let next = body.get(p + 1).copied().unwrap_or(0);
            p += 2;
            Some((Op::Zero(xzero_len(op, next)), 2))
        } else {
            p += 1;
            Some((Op::Val(val_value(op), val_len(op)), 1))
        }
    })
}

/// A new, empty HyperLogLog in the sparse encoding (all registers zero,
/// cached cardinality 0 and valid).
fn new_hll() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR + 2 * REGS.div_ceil(SPARSE_XZERO_MAX_LEN) + 3);
    v.extend_from_slice(b"HYLL");
    v.push(SPARSE);
    v.extend_from_slice(&[0; 11]);
    let mut aux = REGS;
    while aux > 0 {
        let n = aux.min(SPARSE_XZERO_MAX_LEN);
        v.extend_from_slice(&xzero_op(n));
        aux -= n;
    }
    v
}

/// Converts a sparse HyperLogLog to the dense encoding in place (a dense
/// one is left alone). Fails, leaving the value unchanged, if the opcodes
/// do not cover exactly 16384 registers (any run going past the last
/// register is corrupt, as in Redis with the CVE-2025-32023 fix that the
/// reference 7.0.15 build carries).
fn sparse_to_dense(v: &mut Vec<u8>) -> Result<(), ()> {
    if v.get(4) == Some(&DENSE) {
        return Ok(());
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR].copy_from_slice(&v[..HDR]);
    dense[4] = DENSE;
    let mut idx = 0usize;
    for (op, _) in sparse_ops(&v[HDR..]) {
        let n = op.len();
        if idx + n > REGS {
            return Err(());
        }
        if let Op::Val(val, _) = op {
            for i in idx..idx + n {
                dense_set(&mut dense[HDR..], i, val);
            }
        }
        idx += n;
    }
    if idx != REGS {
        return Err(());
    }
    *v = dense;
    Ok(())
}

/// Raises register `index` of a sparse HyperLogLog to `count` if it is
/// lower, splitting and merging opcodes as Redis does, and promoting the
/// value to the dense encoding when `count` exceeds what VAL holds or the
/// string would grow past `max_bytes`. Returns 1 if a register changed, 0
/// if not, -1 if the sparse representation is corrupted.
fn sparse_set(v: &mut Vec<u8>, index: usize, count: u8, max_bytes: i64) -> i32 {
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(v, index, count);
    }
    let end = v.len();
    // Step 1: find the opcode covering the register.
    let mut p = HDR;
    let mut first = 0usize;
    let mut prev: Option<usize> = None;
    let mut span = 0usize;
    while p < end {
        let op = v[p];
        let mut oplen = 1;
        if is_zero(op) {
            span = zero_len(op);
        } else if is_val(op) {
            span = val_len(op);
        } else {
            span = xzero_len(op, v.get(p + 1).copied().unwrap_or(0));
            oplen = 2;
        }
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += oplen;
        first += span;
    }
    if span == 0 || p >= end {
        return -1;
    }
    let op = v[p];
    let next = if is_xzero(op) { p + 2 } else { p + 1 };
    let next = (next < end).then_some(next);
    let (zero, xzero) = (is_zero(op), is_xzero(op));
    let runlen = if zero {
        zero_len(op)
    } else if xzero {
        xzero_len(op, v.get(p + 1).copied().unwrap_or(0))
    } else {
        val_len(op)
    };

    // Step 2: the trivial in-place updates.
    let mut done = false;
    if !zero && !xzero {
        if val_value(op) >= count {
            return 0;
        }
        if runlen == 1 {
            v[p] = val_op(count, 1);
            done = true;
        }
    }
    if !done && zero && runlen == 1 {
        v[p] = val_op(count, 1);
        done = true;
    }

    if !done {
        // General case: split the opcode into up to three.
        let mut seq: Vec<u8> = Vec::with_capacity(5);
        let last = first + span - 1;
        if zero || xzero {
            if index != first {
                let len = index - first;
                if len > SPARSE_ZERO_MAX_LEN {
                    seq.extend_from_slice(&xzero_op(len));
                } else {
                    seq.push(zero_op(len));
                }
            }
            seq.push(val_op(count, 1));
            if index != last {
                let len = last - index;
                if len > SPARSE_ZERO_MAX_LEN {
                    seq.extend_from_slice(&xzero_op(len));
                } else {
                    seq.push(zero_op(len));
                }
            }
        } else {
            let cur = val_value(op);
            if index != first {
                seq.push(val_op(cur, index - first));
            }
            seq.push(val_op(count, 1));
            if index != last {
                seq.push(val_op(cur, last - index));
            }
        }
        // Step 3: put the new sequence in place of the old opcode.
        let oldlen: usize = if xzero { 2 } else { 1 };
        let delta = seq.len() as i64 - oldlen as i64;
        if delta > 0 && end as i64 + delta > max_bytes {
            return promote(v, index, count);
        }
        let new_len = (end as i64 + delta) as usize;
        match next {
            Some(n) => {
                v.splice(p..n, seq);
            }
            None => {
                v.truncate(p);
                v.extend_from_slice(&seq);
                v.resize(new_len, 0);
            }
        }
    }

    // Step 4: merge adjacent VAL opcodes with the same value.
    let mut p = prev.unwrap_or(HDR);
    let mut scan = 5;
    while p < v.len() && scan > 0 {
        scan -= 1;
        let op = v[p];
        if is_xzero(op) {
            p += 2;
            continue;
        } else if is_zero(op) {
            p += 1;
            continue;
        }
        if let Some(&nx) = v.get(p + 1) {
            if is_val(nx) && val_value(op) == val_value(nx) {
                let len = val_len(op) + val_len(nx);
                if len <= SPARSE_VAL_MAX_LEN {
                    v[p + 1] = val_op(val_value(op), len);
                    v.remove(p);
                    continue;
                }
            }
        }
        p += 1;
    }
    invalidate(v);
    1
}

/// Promotes a sparse HyperLogLog to dense and raises register `index`.
fn promote(v: &mut Vec<u8>, index: usize, count: u8) -> i32 {
    if sparse_to_dense(v).is_err() {
        return -1;
    }
    dense_raise(&mut v[HDR..], index, count);
    1
}

/// Marks the cached cardinality stale.
fn invalidate(v: &mut [u8]) {
    if let Some(b) = v.get_mut(15) {
        *b |= 0x80;
    }
}

/// Adds an element to a valid HyperLogLog; 1 if a register changed, 0 if
/// not, -1 if the value is corrupted.
fn hll_add(v: &mut Vec<u8>, ele: &[u8], max_bytes: i64) -> i32 {
    let (index, count) = pat_len(ele);
    match v.get(4) {
        Some(&DENSE) => dense_raise(&mut v[HDR..], index, count) as i32,
        Some(&SPARSE) => sparse_set(v, index, count, max_bytes),
        _ => -1,
    }
}

/// Merges a valid HyperLogLog's registers into `max` (register-wise
/// maximum). Fails if sparse opcodes do not cover exactly 16384 registers.
fn hll_merge(max: &mut [u8; REGS], v: &[u8]) -> Result<(), ()> {
    if v.get(4) == Some(&DENSE) {
        let regs = &v[HDR..];
        for (i, m) in max.iter_mut().enumerate() {
            let val = dense_get(regs, i);
            if val > *m {
                *m = val;
            }
        }
        return Ok(());
    }
    let mut i = 0usize;
    for (op, _) in sparse_ops(&v[HDR..]) {
        let n = op.len();
        if i + n > REGS {
            return Err(());
        }
        if let Op::Val(val, _) = op {
            for m in &mut max[i..i + n] {
                if val > *m {
                    *m = val;
                }
            }
        }
        i += n;
    }
    if i != REGS {
        return Err(());
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Cardinality estimation
// ---------------------------------------------------------------------------

/// Ertl's sigma function.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let zp = z;
        z += x * y;
        y += y;
        if zp == z {
            return z;
        }
    }
}

/// Ertl's tau function.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let zp = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if zp == z {
            return z / 3.0;
        }
    }
}

/// The estimate from a register histogram (Ertl's improved estimator, as
/// Redis 7.0 computes it).
fn estimate(h: &[i64; 64]) -> u64 {
    let m = REGS as f64;
    let q = Q as usize;
    let mut z = m * tau((m - h[q + 1] as f64) / m);
    for j in (1..=q).rev() {
        z += h[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(h[0] as f64 / m);
    let e = (ALPHA_INF * m * m / z).round();
    // llroundl() of a value out of range gives LLONG_MIN, which the cast
    // to uint64_t turns into 2^63.
    let lim = (1u64 << 63) as f64;
    if !(e > -lim && e < lim) {
        return 1 << 63;
    }
    e as i64 as u64
}

/// Histogram of a valid HyperLogLog's registers; `None` if sparse opcodes
/// do not cover exactly 16384 registers.
fn histogram(v: &[u8]) -> Option<[i64; 64]> {
    let mut h = [0i64; 64];
    if v.get(4) == Some(&DENSE) {
        let regs = &v[HDR..];
        for i in 0..REGS {
            h[dense_get(regs, i) as usize] += 1;
        }
        return Some(h);
    }
    let mut idx = 0usize;
    for (op, _) in sparse_ops(&v[HDR..]) {
        let n = op.len();
        if idx + n > REGS {
            return None;
        }
        match op {
            Op::Zero(_) => h[0] += n as i64,
            Op::Val(val, _) => h[val as usize] += n as i64,
        }
        idx += n;
    }
    (idx == REGS).then_some(h)
}

/// The estimated cardinality of a valid HyperLogLog.
fn count(v: &[u8]) -> Option<u64> {
    histogram(v).map(|h| estimate(&h))
}

/// The estimated cardinality of registers held one per byte.
fn count_raw(regs: &[u8; REGS]) -> u64 {
    let mut h = [0i64; 64];
    for &r in regs.iter() {
        h[(r & 63) as usize] += 1;
    }
    estimate(&h)
}

// ---------------------------------------------------------------------------
// Keyspace access
// ---------------------------------------------------------------------------

/// Redis's `isHLLObjectOrReply` checks on a string's bytes.
fn valid_hll(b: &[u8]) -> bool {
    b.len() >= HDR
        && &b[..4] == b"HYLL"
        && b[4] <= MAX_ENCODING
        && (b[4] != DENSE || b.len() == DENSE_SIZE)
}

/// Checks that an entry holds a HyperLogLog (integer-encoded strings never
/// do, as in Redis).
fn check(e: &Entry<&mut Value>) -> Result<(), Reply> {
    match &*e.val {
        Value::Str(Str::Int(_)) => Err(not_hll()),
        Value::Str(s) => {
            if s.with_bytes(valid_hll) {
                Ok(())
            } else {
                Err(not_hll())
            }
        }
        _ => Err(errors::wrongtype()),
    }
}

/// Looks a key up for a modification (`read` selects the read lookup with
/// hit/miss accounting), checks it holds a HyperLogLog and returns its
/// bytes as a growable string (Redis's `dbUnshareStringValue`).
fn hll_mut<'c>(
    ctx: &'c mut Ctx<'_>,
    key: &[u8],
    read: bool,
) -> Result<Option<&'c mut Vec<u8>>, Reply> {
    let e = if read {
        ctx.lookup(key)
    } else {
        ctx.lookup_write(key)
    };
    let Some(e) = e else {
        return Ok(None);
    };
    check(&e)?;
    match e.val {
        Value::Str(s) => Ok(Some(s.make_raw())),
        _ => Err(errors::wrongtype()),
    }
}

/// Reads a key for a merge: `Ok(None)` if missing, else whether it is dense
/// after merging it into `max`.
fn merge_key(ctx: &mut Ctx<'_>, key: &[u8], max: &mut [u8; REGS]) -> Result<Option<bool>, Reply> {
    let Some(e) = ctx.lookup(key) else {
        return Ok(None);
    };
    check(&e)?;
    let Value::Str(s) = &e.val else {
        return Err(errors::wrongtype());
    };
    s.with_bytes(|b| {
        let dense = b.get(4) == Some(&DENSE);
        hll_merge(max, b).map_err(|_| corrupted())?;
        Ok(Some(dense))
    })
}

fn max_bytes(ctx: &Ctx<'_>) -> i64 {
    ctx.eng.config.get_i64("hll-sparse-max-bytes")
}

// ---------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------

/// PFADD key [element ...]: 1 if the HyperLogLog was created or a register
/// changed.
fn pfadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let maxb = max_bytes(ctx);
    // Adds the elements; the number of changes (creation counts as one),
    // or `None` when the value turns out to be corrupted.
    let run = |v: &mut Vec<u8>, mut updated: u64| {
        for ele in &args[2..] {
            match hll_add(v, ele, maxb) {
                1 => updated += 1,
                -1 => return None,
                _ => {}
            }
        }
        if updated > 0 {
            invalidate(v);
        }
        Some(updated)
    };
    let updated = match hll_mut(ctx, key, false) {
        Err(e) => return e,
        Ok(Some(v)) => run(v, 0),
        Ok(None) => {
            let mut v = new_hll();
            let u = run(&mut v, 1);
            let lru = ctx.lru();
            ctx.db().add(key, Value::Str(Str::Raw(v)), lru);
            u
        }
    };
    let Some(updated) = updated else {
        return corrupted();
    };
    if updated > 0 {
        ctx.modified(key, notify::STRING, "pfadd");
        ctx.eng.dirty += updated - 1;
    }
    Reply::Int((updated > 0) as i64)
}

/// PFCOUNT key [key ...]: the estimate for one key (cached in its header)
/// or for the union of several.
fn pfcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if args.len() > 2 {
        let mut max = Box::new([0u8; REGS]);
        for k in &args[1..] {
            if let Err(e) = merge_key(ctx, k, &mut max) {
                return e;
            }
        }
        return Reply::Int(count_raw(&max) as i64);
    }
    let key = &args[1];
    let v = match hll_mut(ctx, key, true) {
        Err(e) => return e,
        Ok(None) => return Reply::Int(0),
        Ok(Some(v)) => v,
    };
    let mut card = [0u8; 8];
    card.copy_from_slice(&v[8..16]);
    if card[7] & 0x80 == 0 {
        return Reply::Int(u64::from_le_bytes(card) as i64);
    }
    let Some(c) = count(v) else {
        return corrupted();
    };
    v[8..16].copy_from_slice(&c.to_le_bytes());
    let db = ctx.client.db;
    ctx.eng.signal_modified(db, key);
    ctx.eng.dirty += 1;
    Reply::Int(c as i64)
}

/// PFMERGE destkey [sourcekey ...]: stores the union in `destkey`.
fn pfmerge(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let mut max = Box::new([0u8; REGS]);
    let mut use_dense = false;
    for k in &args[1..] {
        match merge_key(ctx, k, &mut max) {
            Err(e) => return e,
            Ok(d) => use_dense |= d == Some(true),
        }
    }
    let key = &args[1];
    let maxb = max_bytes(ctx);
    let v = match hll_mut(ctx, key, false) {
        Err(e) => return e,
        Ok(Some(v)) => v,
        Ok(None) => {
            let lru = ctx.lru();
            ctx.db().add(key, Value::Str(Str::Raw(new_hll())), lru);
            match hll_mut(ctx, key, false) {
                Ok(Some(v)) => v,
                Ok(None) => return Reply::ok(),
                Err(e) => return e,
            }
        }
    };
    if use_dense && sparse_to_dense(v).is_err() {
        return corrupted();
    }
    for (j, &m) in max.iter().enumerate() {
        if m == 0 {
            continue;
        }
        match v.get(4) {
            Some(&DENSE) => {
                dense_raise(&mut v[HDR..], j, m);
            }
            Some(&SPARSE) => {
                sparse_set(v, j, m, maxb);
            }
            _ => {}
        }
    }
    invalidate(v);
    ctx.modified(key, notify::STRING, "pfadd");
    Reply::ok()
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key.
fn pfdebug(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let sub = &args[1];
    let v = match hll_mut(ctx, &args[2], false) {
        Err(e) => return e,
        Ok(None) => return Reply::err_static("ERR The specified key does not exist"),
        Ok(Some(v)) => v,
    };
    if eq_ic(sub, "getreg") {
        let mut converted = false;
        if v[4] == SPARSE {
            if sparse_to_dense(v).is_err() {
                return corrupted();
            }
            converted = true;
        }
        let regs = &v[HDR..];
        let out = (0..REGS)
            .map(|i| Reply::Int(dense_get(regs, i) as i64))
            .collect();
        if converted {
            ctx.eng.dirty += 1;
        }
        Reply::Array(out)
    } else if eq_ic(sub, "decode") {
        if v[4] != SPARSE {
            return Reply::err_static("ERR HLL encoding is not sparse");
        }
        let mut s = String::new();
        let body = &v[HDR..];
        let mut p = 0;
        for (op, size) in sparse_ops(body) {
            let first = body.get(p).copied().unwrap_or(0);
            p += size;
            match op {
                Op::Zero(n) if is_zero(first) => s.push_str(&format!("z:{n} ")),
                Op::Zero(n) => s.push_str(&format!("Z:{n} ")),
                Op::Val(val, n) => s.push_str(&format!("v:{val},{n} ")),
            }
        }
        Reply::bulk(s.trim_matches(' ').as_bytes())
    } else if eq_ic(sub, "encoding") {
        Reply::status(if v[4] == DENSE { "dense" } else { "sparse" })
    } else if eq_ic(sub, "todense") {
        if v[4] == SPARSE {
            if sparse_to_dense(v).is_err() {
                return corrupted();
            }
            ctx.eng.dirty += 1;
            Reply::Int(1)
        } else {
            Reply::Int(0)
        }
    } else {
        Reply::err(format!(
            "ERR Unknown PFDEBUG subcommand '{}'",
            String::from_utf8_lossy(sub)
        ))
    }
}

/// A small xorshift generator for the self test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// PFSELFTEST: checks register access and the estimator's error, with the
/// dense and sparse encodings agreeing, as Redis's self test does.
fn pfselftest(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    let maxb = max_bytes(ctx);
    match selftest(maxb, ctx.now() | 1) {
        Ok(()) => Reply::ok(),
        Err(e) => Reply::err(e),
    }
}

fn selftest(maxb: i64, seed: u64) -> Result<(), String> {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut dense = vec![0u8; DENSE_SIZE];
    let mut bytes = vec![0u8; REGS];
    // Test 1: registers keep their values and don't disturb neighbours.
    for _ in 0..1000 {
        for (i, b) in bytes.iter_mut().enumerate() {
            let r = (rng.next() >> 32) as u8 & REG_MAX;
            *b = r;
            dense_set(&mut dense[HDR..], i, r);
        }
        for (i, &b) in bytes.iter().enumerate() {
            let val = dense_get(&dense[HDR..], i);
            if val != b {
                return Err(format!(
                    "TESTFAILED Register {i} should be {b} but is {val}"
                ));
            }
        }
    }
    // Test 2: approximation error, dense and sparse agreeing.
    dense.iter_mut().for_each(|b| *b = 0);
    dense[..4].copy_from_slice(b"HYLL");
    dense[4] = DENSE;
    let mut o = new_hll();
    let relerr = 1.04 / (REGS as f64).sqrt();
    let mut checkpoint: u64 = 1;
    let seed = rng.next();
    for j in 1..=10_000_000u64 {
        let ele = (j ^ seed).to_le_bytes();
        let (index, cnt) = pat_len(&ele);
        dense_raise(&mut dense[HDR..], index, cnt);
        hll_add(&mut o, &ele, maxb);
        if j != checkpoint {
            continue;
        }
        if (j as i64) < maxb / 2 && o.get(4) != Some(&SPARSE) {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let cd = count(&dense).unwrap_or(0);
        if Some(cd) != count(&o) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let abserr = (checkpoint as i64 - cd as i64).unsigned_abs();
        let mut maxerr = (relerr * 6.0 * checkpoint as f64).ceil() as u64;
        if j == 10 {
            maxerr = 1;
        }
        if abserr > maxerr {
            return Err(format!(
                "TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"
            ));
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::TestEngine;

    fn get(t: &mut TestEngine, k: &str) -> Vec<u8> {
        match t.cmd(&["GET", k]) {
            Reply::Bulk(b) => b.to_vec(),
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn murmur_matches_reference_values() {
        // MurmurHash64A reference values (seed 0): empty input and a
        // tail-only input.
        assert_eq!(murmur64a(b"", 0), 0);
        let h = murmur64a(b"hello world!", SEED);
        assert_eq!(h, murmur64a(b"hello world!", SEED));
        assert_ne!(h, murmur64a(b"hello world?", SEED));
    }

    #[test]
    fn empty_hll_bytes() {
        let mut t = TestEngine::new();
        assert_eq!(t.raw(&["PFADD", "h"]), ":1\r\n");
        let v = get(&mut t, "h");
        let mut want = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80".to_vec();
        want.extend_from_slice(&[0x7f, 0xff]);
        assert_eq!(v, want);
        assert_eq!(t.raw(&["PFCOUNT", "h"]), ":0\r\n");
        assert_eq!(get(&mut t, "h")[15], 0);
        assert_eq!(t.raw(&["PFDEBUG", "DECODE", "h"]), "$7\r\nZ:16384\r\n");
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "h"]), "$3\r\nraw\r\n");
    }

    #[test]
    fn add_and_count() {
        let mut t = TestEngine::new();
        assert_eq!(t.raw(&["PFADD", "h", "a", "b", "c"]), ":1\r\n");
        assert_eq!(t.raw(&["PFADD", "h", "a", "b", "c"]), ":0\r\n");
        assert_eq!(t.raw(&["PFCOUNT", "h"]), ":3\r\n");
        assert_eq!(t.raw(&["PFCOUNT", "nokey"]), ":0\r\n");
        t.cmd(&["DEL", "h"]);
        t.cmd(&["PFADD", "h", "1", "2", "3", "4", "5"]);
        assert_eq!(t.raw(&["PFCOUNT", "h"]), ":5\r\n");
        t.cmd(&["PFADD", "h", "6", "7", "8", "8", "9", "10"]);
        assert_eq!(t.raw(&["PFCOUNT", "h"]), ":10\r\n");
        assert_eq!(t.raw(&["PFDEBUG", "ENCODING", "h"]), "+sparse\r\n");
    }

    #[test]
    fn sparse_and_dense_agree_and_promote() {
        let mut t = TestEngine::new();
        t.cmd(&["PFADD", "d"]);
        assert_eq!(t.raw(&["PFDEBUG", "TODENSE", "d"]), ":1\r\n");
        assert_eq!(t.raw(&["PFDEBUG", "TODENSE", "d"]), ":0\r\n");
        assert_eq!(t.raw(&["PFDEBUG", "ENCODING", "d"]), "+dense\r\n");
        assert_eq!(get(&mut t, "d").len(), DENSE_SIZE);
        let mut n = 0;
        for round in 0..30 {
            let els: Vec<String> = (0..100).map(|i| format!("e{round}-{i}")).collect();
            let mut a = vec!["PFADD", "s"];
            a.extend(els.iter().map(|s| s.as_str()));
            t.cmd(&a);
            a[1] = "d";
            t.cmd(&a);
            n += 100;
            let cs = t.raw(&["PFCOUNT", "s"]);
            assert_eq!(cs, t.raw(&["PFCOUNT", "d"]));
            let c: i64 = cs[1..cs.len() - 2].parse().unwrap();
            assert!((c - n).abs() < n / 20 + 2, "{c} vs {n}");
        }
        // 3000 elements exceed the 3000-byte sparse limit.
        assert_eq!(t.raw(&["PFDEBUG", "ENCODING", "s"]), "+dense\r\n");
        let regs = t.cmd(&["PFDEBUG", "GETREG", "s"]);
        match regs {
            Reply::Array(a) => assert_eq!(a.len(), REGS),
            r => panic!("{r:?}"),
        }
        // Same registers give the same dense bytes but for the header.
        let (s, d) = (get(&mut t, "s"), get(&mut t, "d"));
        assert_eq!(s[HDR..], d[HDR..]);
    }

    #[test]
    fn merge_and_multi_count() {
        let mut t = TestEngine::new();
        t.cmd(&["PFADD", "h1", "a", "b", "c"]);
        t.cmd(&["PFADD", "h2", "b", "c", "d"]);
        t.cmd(&["PFADD", "h3", "c", "d", "e"]);
        assert_eq!(t.raw(&["PFMERGE", "h", "h1", "h2", "h3"]), "+OK\r\n");
        assert_eq!(t.raw(&["PFCOUNT", "h"]), ":5\r\n");
        assert_eq!(t.raw(&["PFCOUNT", "h1", "h2", "h3", "none"]), ":5\r\n");
        assert_eq!(t.raw(&["PFMERGE", "empty"]), "+OK\r\n");
        assert_eq!(t.raw(&["PFCOUNT", "empty"]), ":0\r\n");
    }

    #[test]
    fn cache_invalidation() {
        let mut t = TestEngine::new();
        t.cmd(&["PFADD", "h", "a", "b", "c"]);
        t.cmd(&["PFCOUNT", "h"]);
        assert_eq!(get(&mut t, "h")[15], 0);
        t.cmd(&["PFADD", "h", "a", "b", "c"]);
        assert_eq!(get(&mut t, "h")[15], 0);
        t.cmd(&["PFADD", "h", "1", "2", "3"]);
        assert_eq!(get(&mut t, "h")[15], 0x80);
        assert_eq!(get(&mut t, "h")[8], 3);
    }

    #[test]
    fn type_and_corruption_errors() {
        let mut t = TestEngine::new();
        t.cmd(&["SET", "foo", "bar"]);
        let bad = "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n";
        assert_eq!(t.raw(&["PFADD", "foo", "1"]), bad);
        assert_eq!(t.raw(&["PFCOUNT", "foo"]), bad);
        assert_eq!(t.raw(&["PFMERGE", "bar", "foo"]), bad);
        assert_eq!(t.raw(&["PFMERGE", "foo", "bar"]), bad);
        t.cmd(&["SET", "i", "12345"]);
        assert_eq!(t.raw(&["PFCOUNT", "i"]), bad);
        t.cmd(&["LPUSH", "l", "x"]);
        assert!(t
            .raw(&["PFADD", "l", "x"])
            .starts_with("-WRONGTYPE Operation"));
        t.cmd(&["PFADD", "h", "a", "b", "c"]);
        t.cmd(&["APPEND", "h", "hello"]);
        assert_eq!(
            t.raw(&["PFCOUNT", "h"]),
            "-INVALIDOBJ Corrupted HLL object detected\r\n"
        );
        t.cmd(&["DEL", "h"]);
        t.cmd(&["PFADD", "h", "a", "b", "c"]);
        t.cmd(&["SETRANGE", "h", "4", "\x00"]);
        assert_eq!(t.raw(&["PFCOUNT", "h"]), bad);
        assert_eq!(
            t.raw(&["PFDEBUG", "ENCODING", "nokey"]),
            "-ERR The specified key does not exist\r\n"
        );
        t.cmd(&["DEL", "h"]);
        t.cmd(&["PFADD", "h", "a"]);
        assert_eq!(
            t.raw(&["PFDEBUG", "what", "h"]),
            "-ERR Unknown PFDEBUG subcommand 'what'\r\n"
        );
        t.cmd(&["PFDEBUG", "TODENSE", "h"]);
        assert_eq!(
            t.raw(&["PFDEBUG", "DECODE", "h"]),
            "-ERR HLL encoding is not sparse\r\n"
        );
    }

    #[test]
    fn fuzzed_values_never_panic() {
        let mut rng = Rng(0x1234_5678);
        for round in 0..300 {
            let mut v = new_hll();
            let n = rng.next() % 400;
            for i in 0..n {
                hll_add(&mut v, format!("{round}:{i}").as_bytes(), 3000);
            }
            for _ in 0..5 {
                let pos = (rng.next() as usize) % v.len();
                v[pos] = rng.next() as u8;
                if rng.next() & 1 == 0 {
                    break;
                }
            }
            if !valid_hll(&v) {
                continue;
            }
            let _ = count(&v);
            let mut max = [0u8; REGS];
            let _ = hll_merge(&mut max, &v);
            for i in 0..50 {
                hll_add(&mut v, format!("x{i}").as_bytes(), 3000);
            }
        }
    }

    #[test]
    fn estimator_edge_cases() {
        let mut h = [0i64; 64];
        h[0] = REGS as i64;
        assert_eq!(estimate(&h), 0);
        let max = [0u8; REGS];
        assert_eq!(count_raw(&max), 0);
    }
}
