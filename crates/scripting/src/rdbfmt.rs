//! Pieces of Redis's RDB encoding shared by FUNCTION DUMP/RESTORE and the
//! engine's RDB files and DUMP payloads: lengths, strings (integer-encoded
//! and LZF-compressed), LZF itself and the CRC64 of `crc64.c`.
//!
//! Readers treat their input as untrusted: they return `None` on anything
//! malformed or truncated and never allocate more than the input can
//! justify.

/// Writes an RDB length.
pub fn rdb_write_len(out: &mut Vec<u8>, len: usize) {
    if len < 64 {
        out.push(len as u8);
    } else if len < 16384 {
        out.push(0x40 | (len >> 8) as u8);
        out.push(len as u8);
    } else if len <= u32::MAX as usize {
        out.push(0x80);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

/// Writes an RDB string, uncompressed.
pub fn rdb_write_string(out: &mut Vec<u8>, s: &[u8]) {
    rdb_write_len(out, s.len());
    out.extend_from_slice(s);
}

/// Reads an RDB length: `(value, is_encoded)`.
pub fn rdb_read_len(p: &[u8], pos: &mut usize, end: usize) -> Option<(u64, bool)> {
    let b = *p.get(*pos).filter(|_| *pos < end)?;
    *pos += 1;
    let take = |pos: &mut usize, n: usize| -> Option<&[u8]> {
        if *pos + n > end {
            return None;
        }
        let s = &p[*pos..*pos + n];
        *pos += n;
        Some(s)
    };
    match b >> 6 {
        0 => Some(((b & 0x3f) as u64, false)),
        1 => {
            let b2 = take(pos, 1)?[0];
            Some(((((b & 0x3f) as u64) << 8) | b2 as u64, false))
        }
        2 => match b {
            0x80 => {
                let s = take(pos, 4)?;
                Some((u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as u64, false))
            }
            0x81 => {
                let s = take(pos, 8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(s);
                Some((u64::from_be_bytes(a), false))
            }
            _ => None,
        },
        _ => Some(((b & 0x3f) as u64, true)),
    }
}

/// Reads an RDB string (plain, integer-encoded or LZF-compressed).
pub fn rdb_read_string(p: &[u8], pos: &mut usize, end: usize) -> Option<Vec<u8>> {
    let (len, encoded) = rdb_read_len(p, pos, end)?;
    let take = |pos: &mut usize, n: u64| -> Option<&[u8]> {
        let n = usize::try_from(n).ok()?;
        if n > end.saturating_sub(*pos) {
            return None;
        }
        let s = &p[*pos..*pos + n];
        *pos += n;
        Some(s)
    };
    if !encoded {
        return take(pos, len).map(|s| s.to_vec());
    }
    match len {
        0 => Some((take(pos, 1)?[0] as i8).to_string().into_bytes()),
        1 => {
            let s = take(pos, 2)?;
            Some(i16::from_le_bytes([s[0], s[1]]).to_string().into_bytes())
        }
        2 => {
            let s = take(pos, 4)?;
            Some(
                i32::from_le_bytes([s[0], s[1], s[2], s[3]])
                    .to_string()
                    .into_bytes(),
            )
        }
        3 => {
            let (clen, _) = rdb_read_len(p, pos, end)?;
            let (ulen, _) = rdb_read_len(p, pos, end)?;
            let c = take(pos, clen)?;
            let ulen = usize::try_from(ulen).ok()?;
            // A compressed string cannot expand more than ~256 times.
            if ulen > c.len().saturating_mul(256) + 64 {
                return None;
            }
            let out = lzf_decompress(c, ulen)?;
            (out.len() == ulen && ulen > 0).then_some(out)
        }
        _ => None,
    }
}

/// LZF decompression (liblzf's `lzf_decompress`) into at most `max` bytes.
pub fn lzf_decompress(input: &[u8], max: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(max);
    let mut ip = 0usize;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            let n = ctrl + 1;
            if out.len() + n > max || ip + n > input.len() {
                return None;
            }
            out.extend_from_slice(&input[ip..ip + n]);
            ip += n;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(ip)? as usize;
                ip += 1;
            }
            let back = ((ctrl & 0x1f) << 8) + *input.get(ip)? as usize + 1;
            ip += 1;
            len += 2;
            if back > out.len() || out.len() + len > max {
                return None;
            }
            let start = out.len() - back;
            for i in 0..len {
                let b = out[start + i];
                out.push(b);
            }
        }
    }
    Some(out)
}

/// LZF compression (the format of liblzf's `lzf_compress`, not byte for
/// byte the same output): `None` when the result would exceed `max_out`
/// bytes, as `lzf_compress` returns 0 then.
pub fn lzf_compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    const HLOG: usize = 14;
    const MAX_OFF: usize = 1 << 13;
    const MAX_REF: usize = (1 << 8) + (1 << 3);
    let n = input.len();
    let mut out: Vec<u8> = Vec::with_capacity(max_out.min(n + n / 32 + 2));
    let mut table = vec![usize::MAX; 1 << HLOG];
    let hash = |i: usize| -> usize {
        let v = (input[i] as u32) << 16 | (input[i + 1] as u32) << 8 | input[i + 2] as u32;
        (v.wrapping_mul(2_654_435_761) >> (32 - HLOG)) as usize
    };
    let mut lit_start = 0usize;
    let flush_lits = |out: &mut Vec<u8>, from: usize, to: usize| {
        let mut f = from;
        while f < to {
            let k = (to - f).min(32);
            out.push((k - 1) as u8);
            out.extend_from_slice(&input[f..f + k]);
            f += k;
        }
    };
    let mut i = 0usize;
    while i + 2 < n {
        let h = hash(i);
        let cand = table[h];
        table[h] = i;
        if cand != usize::MAX && i - cand <= MAX_OFF && input[cand..cand + 3] == input[i..i + 3] {
            let maxlen = (n - i).min(MAX_REF);
            let mut len = 3;
            while len < maxlen && input[cand + len] == input[i + len] {
                len += 1;
            }
            flush_lits(&mut out, lit_start, i);
            let off = i - cand - 1;
            let l = len - 2;
            if l < 7 {
                out.push(((l << 5) | (off >> 8)) as u8);
            } else {
                out.push(((7 << 5) | (off >> 8)) as u8);
                out.push((l - 7) as u8);
            }
            out.push((off & 0xff) as u8);
            for j in i + 1..(i + len).min(n.saturating_sub(2)) {
                table[hash(j)] = j;
            }
            i += len;
            lit_start = i;
            if out.len() > max_out {
                return None;
            }
        } else {
            i += 1;
        }
    }
    flush_lits(&mut out, lit_start, n);
    (out.len() <= max_out).then_some(out)
}

/// Redis's CRC64 (Jones polynomial, reflected, as `crc64.c`).
pub fn crc64(mut crc: u64, data: &[u8]) -> u64 {
    static TABLE: [u64; 256] = crc64_table();
    for &b in data {
        crc = TABLE[((crc ^ b as u64) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

const fn crc64_table() -> [u64; 256] {
    // 0xad93d23594c935a9 bit-reflected.
    const POLY: u64 = 0x95ac_9329_ac4b_c9b5;
    let mut t = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u64;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 { (c >> 1) ^ POLY } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lzf_compress_roundtrip() {
        let mut seed = 7u64;
        for n in [0usize, 1, 2, 3, 31, 32, 33, 100, 1000, 70000] {
            for kind in 0..3 {
                let v: Vec<u8> = (0..n)
                    .map(|i| {
                        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                        match kind {
                            0 => b'a',
                            1 => (i % 7) as u8 + b'0',
                            _ => (seed >> 56) as u8,
                        }
                    })
                    .collect();
                if let Some(c) = lzf_compress(&v, n + n / 16 + 64) {
                    assert_eq!(lzf_decompress(&c, n).unwrap(), v, "n={n} kind={kind}");
                }
            }
        }
        assert!(lzf_compress(&[b'x'; 100], 10).unwrap().len() <= 10);
        assert!(lzf_compress(b"abcdefghijklmnopqrstuvwxyz", 22).is_none());
    }
}
