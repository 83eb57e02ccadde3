//! Commands of the `bitmap` family: SETBIT, GETBIT, BITCOUNT, BITPOS,
//! BITOP, BITFIELD and BITFIELD_RO, with Redis 7.0's `bitops.c` replies.

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::cmd::string::proto_max_bulk_len;
use crate::command::Cmd;
use crate::ctx::{eq_ic, notify, Ctx};
use crate::errors;
use crate::value::{Entry, Str, Value};

/// Declares this family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    let g = "bitmap";
    let k = (1, 1, 1);
    v.push(
        Cmd::new(
            "setbit",
            4,
            "write denyoom",
            k,
            g,
            "Sets or clears the bit at offset in the string value stored at key",
            setbit,
        )
        .syntax("key offset value")
        .since("2.2.0"),
    );
    v.push(
        Cmd::new(
            "getbit",
            3,
            "readonly fast",
            k,
            g,
            "Returns the bit value at offset in the string value stored at key",
            getbit,
        )
        .syntax("key offset")
        .since("2.2.0"),
    );
    v.push(
        Cmd::new(
            "bitcount",
            -2,
            "readonly",
            k,
            g,
            "Count set bits in a string",
            bitcount,
        )
        .syntax("key [start end [BYTE | BIT]]")
        .since("2.6.0"),
    );
    v.push(
        Cmd::new(
            "bitpos",
            -3,
            "readonly",
            k,
            g,
            "Find first bit set or clear in a string",
            bitpos,
        )
        .syntax("key bit [start [end [BYTE | BIT]]]")
        .since("2.8.7"),
    );
    v.push(
        Cmd::new(
            "bitop",
            -4,
            "write denyoom",
            (2, -1, 1),
            g,
            "Perform bitwise operations between strings",
            bitop,
        )
        .syntax("AND | OR | XOR | NOT destkey key [key ...]")
        .since("2.6.0"),
    );
    v.push(
        Cmd::new("bitfield", -2, "write denyoom", k, g, "Perform arbitrary bitfield integer operations on strings", bitfield)
            .syntax("key [GET encoding offset | [OVERFLOW WRAP | SAT | FAIL] SET encoding offset value | INCRBY encoding offset increment ...]")
            .since("3.2.0"),
    );
    v.push(
        Cmd::new(
            "bitfield_ro",
            -2,
            "readonly fast",
            k,
            g,
            "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
            bitfield_ro,
        )
        .syntax("key [GET encoding offset [GET encoding offset ...]]")
        .since("6.0.0"),
    );
}

fn bit_offset_err() -> Reply {
    Reply::err_static("ERR bit offset is not an integer or out of range")
}

/// Redis's `getBitOffsetFromArgument`: a bit offset, `#n` meaning `n * bits`
/// when `hash` is allowed; limited by `proto-max-bulk-len`.
fn bit_offset(ctx: &Ctx<'_>, arg: &[u8], hash: bool, bits: u32) -> Result<u64, Reply> {
    let usehash = hash && bits > 0 && arg.first() == Some(&b'#');
    let digits = if usehash { &arg[1..] } else { arg };
    let mut off = lunakv_protocol::parse_i64(digits).ok_or_else(bit_offset_err)?;
    if usehash {
        off = off.checked_mul(bits as i64).ok_or_else(bit_offset_err)?;
    }
    if off < 0 || (off >> 3) >= proto_max_bulk_len(ctx) {
        return Err(bit_offset_err());
    }
    Ok(off as u64)
}

/// Redis's `lookupStringForBitCommand`: the key's string made raw and
/// zero-extended to cover bit `maxbit`, created if missing. Returns whether
/// the string was created or grown.
fn string_for_bits(ctx: &mut Ctx<'_>, key: &[u8], maxbit: u64) -> Result<bool, Reply> {
    let need = (maxbit >> 3) as usize + 1;
    let lru = ctx.lru();
    match ctx.get_str_mut(key)? {
        Some(s) => {
            let v = s.make_raw();
            if v.len() < need {
                v.resize(need, 0);
                Ok(true)
            } else {
                Ok(false)
            }
        }
        None => {
            ctx.db().add(key, Value::Str(Str::Raw(vec![0; need])), lru);
            Ok(true)
        }
    }
}

/// The raw bytes of a string key that `string_for_bits` prepared.
fn raw_bytes<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Option<&'c mut Vec<u8>> {
    match ctx.get_str_mut(key) {
        Ok(Some(s)) => Some(s.make_raw()),
        _ => None,
    }
}

fn setbit(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let key = &args[1];
    let off = match bit_offset(ctx, &args[2], false, 0) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let err = || Reply::err_static("ERR bit is not an integer or out of range");
    let on = match lunakv_protocol::parse_i64(&args[3]) {
        Some(v @ (0 | 1)) => v as u8,
        _ => return err(),
    };
    let dirty = match string_for_bits(ctx, key, off) {
        Ok(d) => d,
        Err(e) => return e,
    };
    let Some(v) = raw_bytes(ctx, key) else {
        return Reply::Int(0);
    };
    let byte = (off >> 3) as usize;
    let bit = 7 - (off & 7) as u8;
    let old = (v[byte] >> bit) & 1;
    if dirty || old != on {
        v[byte] = (v[byte] & !(1 << bit)) | (on << bit);
        ctx.modified(key, notify::STRING, "setbit");
    }
    Reply::Int(old as i64)
}

fn getbit(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let off = match bit_offset(ctx, &args[2], false, 0) {
        Ok(o) => o,
        Err(e) => return e,
    };
    match ctx.get_str(&args[1]) {
        Ok(Some(s)) => s.with_bytes(|b| {
            let byte = (off >> 3) as usize;
            let bit = 7 - (off & 7);
            Reply::Int(b.get(byte).map_or(0, |v| (v >> bit) & 1) as i64)
        }),
        Ok(None) => Reply::Int(0),
        Err(e) => e,
    }
}

/// Converts a BITCOUNT/BITPOS range into byte bounds plus edge masks, as
/// Redis does. Returns `None` for an empty range.
struct Range {
    start: i64,
    end: i64,
    first_mask: u8,
    last_mask: u8,
}

fn resolve_range(mut start: i64, mut end: i64, len: i64, isbit: bool) -> Range {
    let totlen = if isbit { len << 3 } else { len };
    if start < 0 {
        start += totlen;
    }
    if end < 0 {
        end += totlen;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= totlen {
        end = totlen - 1;
    }
    let (mut first_mask, mut last_mask) = (0u8, 0u8);
    if isbit && start <= end {
        first_mask = !((1u16 << (8 - (start & 7))) - 1) as u8;
        last_mask = ((1u16 << (7 - (end & 7))) - 1) as u8;
        start >>= 3;
        end >>= 3;
    }
    Range {
        start,
        end,
        first_mask,
        last_mask,
    }
}

fn parse_unit(arg: &[u8]) -> Result<bool, Reply> {
    if eq_ic(arg, "bit") {
        Ok(true)
    } else if eq_ic(arg, "byte") {
        Ok(false)
    } else {
        Err(errors::syntax())
    }
}

fn int(b: &[u8]) -> Result<i64, Reply> {
    lunakv_protocol::parse_i64(b).ok_or_else(errors::not_int)
}

fn bitcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match ctx.get_str(&args[1]) {
        Ok(Some(s)) => s.with_bytes(|p| bitcount_in(p, args)),
        Ok(None) => Reply::Int(0),
        Err(e) => e,
    }
}

fn bitcount_in(p: &[u8], args: &[Bytes]) -> Reply {
    let len = p.len() as i64;
    let r = match args.len() {
        4 | 5 => {
            let start = match int(&args[2]) {
                Ok(v) => v,
                Err(e) => return e,
            };
            let end = match int(&args[3]) {
                Ok(v) => v,
                Err(e) => return e,
            };
            if start < 0 && end < 0 && start > end {
                return Reply::Int(0);
            }
            let isbit = if args.len() == 5 {
                match parse_unit(&args[4]) {
                    Ok(b) => b,
                    Err(e) => return e,
                }
            } else {
                false
            };
            resolve_range(start, end, len, isbit)
        }
        2 => Range {
            start: 0,
            end: len - 1,
            first_mask: 0,
            last_mask: 0,
        },
        _ => return errors::syntax(),
    };
    if r.start > r.end {
        return Reply::Int(0);
    }
    let slice = &p[r.start as usize..=r.end as usize];
    let mut count: i64 = slice.iter().map(|b| b.count_ones() as i64).sum();
    count -= (p[r.start as usize] & r.first_mask).count_ones() as i64;
    count -= (p[r.end as usize] & r.last_mask).count_ones() as i64;
    Reply::Int(count)
}

/// Redis's `redisBitpos`: the first bit equal to `bit`; for 0 and none
/// found, the bit just past the end; for 1 and none found, -1.
fn first_bit(p: &[u8], bit: bool) -> i64 {
    for (i, &b) in p.iter().enumerate() {
        if bit && b != 0 {
            return i as i64 * 8 + b.leading_zeros() as i64;
        }
        if !bit && b != 0xff {
            return i as i64 * 8 + b.leading_ones() as i64;
        }
    }
    if bit {
        -1
    } else {
        p.len() as i64 * 8
    }
}

fn bitpos(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let bit = match int(&args[2]) {
        Ok(0) => false,
        Ok(1) => true,
        Ok(_) => return Reply::err_static("ERR The bit argument must be 1 or 0."),
        Err(e) => return e,
    };
    match ctx.get_str(&args[1]) {
        Ok(Some(s)) => s.with_bytes(|p| bitpos_in(p, args, bit)),
        Ok(None) => Reply::Int(if bit { -1 } else { 0 }),
        Err(e) => e,
    }
}

fn bitpos_in(p: &[u8], args: &[Bytes], bit: bool) -> Reply {
    let len = p.len() as i64;
    let mut end_given = false;
    let r = match args.len() {
        4..=6 => {
            let start = match int(&args[3]) {
                Ok(v) => v,
                Err(e) => return e,
            };
            let isbit = if args.len() == 6 {
                match parse_unit(&args[5]) {
                    Ok(b) => b,
                    Err(e) => return e,
                }
            } else {
                false
            };
            let end = if args.len() >= 5 {
                end_given = true;
                match int(&args[4]) {
                    Ok(v) => v,
                    Err(e) => return e,
                }
            } else if isbit {
                (len << 3) + 7
            } else {
                len - 1
            };
            resolve_range(start, end, len, isbit)
        }
        3 => Range {
            start: 0,
            end: len - 1,
            first_mask: 0,
            last_mask: 0,
        },
        _ => return errors::syntax(),
    };
    if r.start > r.end {
        return Reply::Int(-1);
    }
    let mut start = r.start;
    let mut bytes = r.end - r.start + 1;
    let pos;
    'result: {
        if r.first_mask != 0 {
            let mut tmp = if bit {
                p[start as usize] & !r.first_mask
            } else {
                p[start as usize] | r.first_mask
            };
            if r.last_mask != 0 && bytes == 1 {
                tmp = if bit {
                    tmp & !r.last_mask
                } else {
                    tmp | r.last_mask
                };
            }
            let q = first_bit(&[tmp], bit);
            if bytes == 1 || (q != -1 && q != 8) {
                pos = q;
                break 'result;
            }
            start += 1;
            bytes -= 1;
        }
        let cur = bytes - if r.last_mask != 0 { 1 } else { 0 };
        if cur > 0 {
            let q = first_bit(&p[start as usize..(start + cur) as usize], bit);
            if bytes == cur || (q != -1 && q != cur << 3) {
                pos = q;
                break 'result;
            }
            start += cur;
            bytes -= cur;
        }
        let e = p[r.end as usize];
        let tmp = if bit {
            e & !r.last_mask
        } else {
            e | r.last_mask
        };
        pos = first_bit(&[tmp], bit);
    }
    if end_given && !bit && pos == bytes << 3 {
        return Reply::Int(-1);
    }
    Reply::Int(if pos != -1 { pos + (start << 3) } else { pos })
}

fn bitop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    #[derive(PartialEq, Clone, Copy)]
    enum Op {
        And,
        Or,
        Xor,
        Not,
    }
    let op = if eq_ic(&args[1], "and") {
        Op::And
    } else if eq_ic(&args[1], "or") {
        Op::Or
    } else if eq_ic(&args[1], "xor") {
        Op::Xor
    } else if eq_ic(&args[1], "not") {
        Op::Not
    } else {
        return errors::syntax();
    };
    if op == Op::Not && args.len() != 4 {
        return Reply::err_static("ERR BITOP NOT must be called with a single source key.");
    }
    let mut srcs: Vec<Vec<u8>> = Vec::with_capacity(args.len() - 3);
    for k in &args[3..] {
        match ctx.get_str(k) {
            Ok(Some(s)) => srcs.push(s.with_bytes(|b| b.to_vec())),
            Ok(None) => srcs.push(Vec::new()),
            Err(e) => return e,
        }
    }
    let maxlen = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
    let target = &args[2];
    if maxlen == 0 {
        if ctx.delete(target) {
            ctx.modified(target, notify::GENERIC, "del");
        }
        return Reply::Int(0);
    }
    let mut res = vec![0u8; maxlen];
    for (j, out) in res.iter_mut().enumerate() {
        let at = |s: &Vec<u8>| s.get(j).copied().unwrap_or(0);
        let mut o = at(&srcs[0]);
        match op {
            Op::Not => o = !o,
            Op::And => srcs[1..].iter().for_each(|s| o &= at(s)),
            Op::Or => srcs[1..].iter().for_each(|s| o |= at(s)),
            Op::Xor => srcs[1..].iter().for_each(|s| o ^= at(s)),
        }
        *out = o;
    }
    ctx.set_value(target, Value::Str(Str::Raw(res)), false);
    ctx.modified(target, notify::STRING, "set");
    Reply::Int(maxlen as i64)
}

#[derive(Clone, Copy, PartialEq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, PartialEq)]
enum FieldOp {
    Get,
    Set,
    Incrby,
}

struct BfOp {
    offset: u64,
    val: i64,
    op: FieldOp,
    ow: Overflow,
    bits: u32,
    signed: bool,
}

fn bitfield_type(arg: &[u8]) -> Result<(bool, u32), Reply> {
    let err = || {
        Reply::err_static(
            "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
        )
    };
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(err()),
    };
    let bits = lunakv_protocol::parse_i64(&arg[1..]).ok_or_else(err)?;
    if bits < 1 || (signed && bits > 64) || (!signed && bits > 63) {
        return Err(err());
    }
    Ok((signed, bits as u32))
}

fn get_unsigned(p: &[u8], mut offset: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for _ in 0..bits {
        let byte = (offset >> 3) as usize;
        let bit = 7 - (offset & 7);
        let b = p.get(byte).map_or(0, |x| (x >> bit) & 1);
        v = (v << 1) | b as u64;
        offset += 1;
    }
    v
}

fn get_signed(p: &[u8], offset: u64, bits: u32) -> i64 {
    let u = get_unsigned(p, offset, bits);
    if bits == 64 {
        return u as i64;
    }
    if u >> (bits - 1) & 1 == 1 {
        (u | (u64::MAX << bits)) as i64
    } else {
        u as i64
    }
}

fn set_unsigned(p: &mut [u8], mut offset: u64, bits: u32, value: u64) {
    for j in 0..bits {
        let bitval = ((value >> (bits - 1 - j)) & 1) as u8;
        let byte = (offset >> 3) as usize;
        let bit = 7 - (offset & 7) as u8;
        if let Some(b) = p.get_mut(byte) {
            *b = (*b & !(1 << bit)) | (bitval << bit);
        }
        offset += 1;
    }
}

/// Redis's `checkUnsignedBitfieldOverflow`: `Some(limit)` on overflow (the
/// wrapped or saturated value; unused for FAIL).
fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<u64> {
    let max = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = (value as i64).wrapping_neg();
    let wrap = || value.wrapping_add(incr as u64) & !(u64::MAX.checked_shl(bits).unwrap_or(0));
    if value > max || (incr > 0 && incr > maxincr) {
        Some(if ow == Overflow::Wrap { wrap() } else { max })
    } else if incr < 0 && incr < minincr {
        Some(if ow == Overflow::Wrap { wrap() } else { 0 })
    } else {
        None
    }
}

/// Redis's `checkSignedBitfieldOverflow`.
fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<i64> {
    let max = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1u64 << (bits - 1)) != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        Some(if ow == Overflow::Wrap { wrap() } else { max })
    } else if value < min
        || (bits != 64 && incr < minincr)
        || (value < 0 && incr < 0 && incr < minincr)
    {
        Some(if ow == Overflow::Wrap { wrap() } else { min })
    } else {
        None
    }
}

fn bitfield(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    bitfield_generic(ctx, args, false)
}

fn bitfield_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    bitfield_generic(ctx, args, true)
}

fn bitfield_generic(ctx: &mut Ctx<'_>, args: &[Bytes], ro: bool) -> Reply {
    let mut ops = Vec::new();
    let mut ow = Overflow::Wrap;
    let mut readonly = true;
    let mut highest: u64 = 0;
    let mut j = 2;
    while j < args.len() {
        let rem = args.len() - j - 1;
        let sub = &args[j];
        let op = if eq_ic(sub, "get") && rem >= 2 {
            FieldOp::Get
        } else if eq_ic(sub, "set") && rem >= 3 {
            FieldOp::Set
        } else if eq_ic(sub, "incrby") && rem >= 3 {
            FieldOp::Incrby
        } else if eq_ic(sub, "overflow") && rem >= 1 {
            let t = &args[j + 1];
            ow = if eq_ic(t, "wrap") {
                Overflow::Wrap
            } else if eq_ic(t, "sat") {
                Overflow::Sat
            } else if eq_ic(t, "fail") {
                Overflow::Fail
            } else {
                return Reply::err_static("ERR Invalid OVERFLOW type specified");
            };
            j += 2;
            continue;
        } else {
            return errors::syntax();
        };
        let (signed, bits) = match bitfield_type(&args[j + 1]) {
            Ok(x) => x,
            Err(e) => return e,
        };
        let offset = match bit_offset(ctx, &args[j + 2], true, bits) {
            Ok(o) => o,
            Err(e) => return e,
        };
        let mut val = 0;
        if op != FieldOp::Get {
            readonly = false;
            highest = highest.max(offset + bits as u64 - 1);
            val = match ctx.int_arg(&args[j + 3]) {
                Ok(v) => v,
                Err(e) => return e,
            };
        }
        ops.push(BfOp {
            offset,
            val,
            op,
            ow,
            bits,
            signed,
        });
        j += if op == FieldOp::Get { 3 } else { 4 };
    }
    let key = &args[1];
    if readonly {
        let read = |data: &[u8]| {
            let out = ops
                .iter()
                .map(|o| {
                    if o.signed {
                        Reply::Int(get_signed(data, o.offset, o.bits))
                    } else {
                        Reply::Int(get_unsigned(data, o.offset, o.bits) as i64)
                    }
                })
                .collect();
            Reply::Array(out)
        };
        return match ctx.lookup(key) {
            None => read(&[]),
            Some(Entry {
                val: Value::Str(s), ..
            }) => s.with_bytes(read),
            #[allow(unreachable_patterns)]
            Some(_) => errors::wrongtype(),
        };
    }
    if ro {
        return Reply::err_static("ERR BITFIELD_RO only supports the GET subcommand");
    }
    let dirty = match string_for_bits(ctx, key, highest) {
        Ok(d) => d,
        Err(e) => return e,
    };
    let Some(p) = raw_bytes(ctx, key) else {
        return Reply::Array(Vec::new());
    };
    let mut out = Vec::with_capacity(ops.len());
    let mut changes = 0u64;
    for o in &ops {
        match o.op {
            FieldOp::Get => {
                out.push(if o.signed {
                    Reply::Int(get_signed(p, o.offset, o.bits))
                } else {
                    Reply::Int(get_unsigned(p, o.offset, o.bits) as i64)
                });
            }
            _ if o.signed => {
                let old = get_signed(p, o.offset, o.bits);
                let (of, newval, ret) = if o.op == FieldOp::Incrby {
                    let of = signed_overflow(old, o.val, o.bits, o.ow);
                    let nv = of.unwrap_or(old.wrapping_add(o.val));
                    (of.is_some(), nv, nv)
                } else {
                    let of = signed_overflow(o.val, 0, o.bits, o.ow);
                    (of.is_some(), of.unwrap_or(o.val), old)
                };
                if of && o.ow == Overflow::Fail {
                    out.push(Reply::Null);
                } else {
                    out.push(Reply::Int(ret));
                    set_unsigned(p, o.offset, o.bits, newval as u64);
                    if dirty || old != newval {
                        changes += 1;
                    }
                }
            }
            _ => {
                let old = get_unsigned(p, o.offset, o.bits);
                let (of, newval, ret) = if o.op == FieldOp::Incrby {
                    let of = unsigned_overflow(old, o.val, o.bits, o.ow);
                    let nv = of.unwrap_or(old.wrapping_add(o.val as u64));
                    (of.is_some(), nv, nv)
                } else {
                    let v = o.val as u64;
                    let of = unsigned_overflow(v, 0, o.bits, o.ow);
                    (of.is_some(), of.unwrap_or(v), old)
                };
                if of && o.ow == Overflow::Fail {
                    out.push(Reply::Null);
                } else {
                    out.push(Reply::Int(ret as i64));
                    set_unsigned(p, o.offset, o.bits, newval);
                    if dirty || old != newval {
                        changes += 1;
                    }
                }
            }
        }
    }
    if changes > 0 {
        ctx.modified(key, notify::STRING, "setbit");
        ctx.eng.dirty += changes - 1;
    }
    Reply::Array(out)
}

#[cfg(test)]
mod tests {
    use crate::testkit::TestEngine;

    #[test]
    fn setbit_getbit() {
        let mut t = TestEngine::new();
        assert_eq!(t.raw(&["SETBIT", "k", "7", "1"]), ":0\r\n");
        assert_eq!(t.raw(&["SETBIT", "k", "7", "1"]), ":1\r\n");
        assert_eq!(t.raw(&["GET", "k"]), "$1\r\n\x01\r\n");
        assert_eq!(t.raw(&["GETBIT", "k", "7"]), ":1\r\n");
        assert_eq!(t.raw(&["GETBIT", "k", "100"]), ":0\r\n");
        assert_eq!(t.raw(&["GETBIT", "nokey", "0"]), ":0\r\n");
        assert_eq!(
            t.raw(&["SETBIT", "k", "0", "2"]),
            "-ERR bit is not an integer or out of range\r\n"
        );
        assert_eq!(
            t.raw(&["SETBIT", "k", "0", "-1"]),
            "-ERR bit is not an integer or out of range\r\n"
        );
        assert_eq!(
            t.raw(&["SETBIT", "k", "-1", "1"]),
            "-ERR bit offset is not an integer or out of range\r\n"
        );
        assert_eq!(
            t.raw(&["SETBIT", "k", "4294967296", "1"]),
            "-ERR bit offset is not an integer or out of range\r\n"
        );
        assert_eq!(
            t.raw(&["GETBIT", "k", "x"]),
            "-ERR bit offset is not an integer or out of range\r\n"
        );
        t.cmd(&["SET", "i", "1"]);
        assert_eq!(t.raw(&["GETBIT", "i", "2"]), ":1\r\n");
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "i"]), "$3\r\nint\r\n");
        assert_eq!(t.raw(&["SETBIT", "i", "6", "1"]), ":0\r\n");
        assert_eq!(t.raw(&["GET", "i"]), "$1\r\n3\r\n");
        assert_eq!(t.raw(&["OBJECT", "ENCODING", "i"]), "$3\r\nraw\r\n");
    }

    #[test]
    fn bitcount_ranges() {
        let mut t = TestEngine::new();
        t.cmd(&["SET", "k", "foobar"]);
        assert_eq!(t.raw(&["BITCOUNT", "k"]), ":26\r\n");
        assert_eq!(t.raw(&["BITCOUNT", "k", "0", "0"]), ":4\r\n");
        assert_eq!(t.raw(&["BITCOUNT", "k", "1", "1"]), ":6\r\n");
        assert_eq!(t.raw(&["BITCOUNT", "k", "1", "1", "BYTE"]), ":6\r\n");
        assert_eq!(t.raw(&["BITCOUNT", "k", "5", "30", "BIT"]), ":17\r\n");
        assert_eq!(t.raw(&["BITCOUNT", "k", "-1", "-2"]), ":0\r\n");
        assert_eq!(t.raw(&["BITCOUNT", "k", "0"]), "-ERR syntax error\r\n");
        assert_eq!(
            t.raw(&["BITCOUNT", "k", "0", "1", "FOO"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            t.raw(&["BITCOUNT", "k", "a", "1"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(t.raw(&["BITCOUNT", "nokey", "0"]), ":0\r\n");
    }

    #[test]
    fn bitpos_cases() {
        let mut t = TestEngine::new();
        t.cmd(&["SET", "k", "\u{7f}"]);
        assert_eq!(t.raw(&["BITPOS", "k", "0"]), ":0\r\n");
        assert_eq!(t.raw(&["BITPOS", "k", "1"]), ":1\r\n");
        assert_eq!(t.raw(&["BITPOS", "nokey", "1"]), ":-1\r\n");
        assert_eq!(t.raw(&["BITPOS", "nokey", "0"]), ":0\r\n");
        assert_eq!(
            t.raw(&["BITPOS", "k", "2"]),
            "-ERR The bit argument must be 1 or 0.\r\n"
        );
        t.cmd(&["SET", "f", "\u{7f}"]);
        t.cmd(&["SETRANGE", "f", "0", "\u{0}\u{0}"]);
        assert_eq!(t.raw(&["SET", "ff", "x"]), "+OK\r\n");
        t.cmd(&["SETBIT", "ones", "23", "1"]);
        t.cmd(&["BITOP", "NOT", "ones", "ones"]);
        // ones = ff ff fe
        assert_eq!(t.raw(&["BITPOS", "ones", "0"]), ":23\r\n");
        assert_eq!(t.raw(&["BITPOS", "ones", "0", "0", "1"]), ":-1\r\n");
        assert_eq!(t.raw(&["BITPOS", "ones", "0", "0"]), ":23\r\n");
        assert_eq!(
            t.raw(&["BITPOS", "ones", "0", "20", "23", "BIT"]),
            ":23\r\n"
        );
        assert_eq!(t.raw(&["BITPOS", "ones", "0", "2", "20", "BIT"]), ":-1\r\n");
        assert_eq!(t.raw(&["BITPOS", "ones", "1", "3", "22", "BIT"]), ":3\r\n");
        assert_eq!(
            t.raw(&["BITPOS", "ones", "1", "0", "1", "FOO"]),
            "-ERR syntax error\r\n"
        );
    }

    #[test]
    fn bitop_cases() {
        let mut t = TestEngine::new();
        t.cmd(&["SET", "a", "abc"]);
        t.cmd(&["SET", "b", "A"]);
        assert_eq!(t.raw(&["BITOP", "AND", "d", "a", "b"]), ":3\r\n");
        assert_eq!(t.raw(&["GET", "d"]), "$3\r\nA\0\0\r\n");
        assert_eq!(t.raw(&["BITOP", "OR", "d", "a", "b"]), ":3\r\n");
        assert_eq!(t.raw(&["GET", "d"]), "$3\r\nabc\r\n");
        assert_eq!(t.raw(&["BITOP", "XOR", "d", "a", "b"]), ":3\r\n");
        assert_eq!(t.raw(&["GET", "d"]), "$3\r\n bc\r\n");
        assert_eq!(
            t.raw(&["BITOP", "NOT", "d", "a", "b"]),
            "-ERR BITOP NOT must be called with a single source key.\r\n"
        );
        assert_eq!(t.raw(&["BITOP", "FOO", "d", "a"]), "-ERR syntax error\r\n");
        assert_eq!(t.raw(&["BITOP", "AND", "d", "x", "y"]), ":0\r\n");
        assert_eq!(t.raw(&["EXISTS", "d"]), ":0\r\n");
    }

    #[test]
    fn bitfield_cases() {
        let mut t = TestEngine::new();
        assert_eq!(
            t.raw(&["BITFIELD", "k", "SET", "i8", "0", "-100", "GET", "i8", "0"]),
            "*2\r\n:0\r\n:-100\r\n"
        );
        assert_eq!(
            t.raw(&["BITFIELD", "k", "GET", "u8", "0"]),
            "*1\r\n:156\r\n"
        );
        assert_eq!(
            t.raw(&["BITFIELD", "k", "INCRBY", "i8", "0", "-100"]),
            "*1\r\n:56\r\n"
        );
        assert_eq!(
            t.raw(&["BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "-200"]),
            "*1\r\n:-128\r\n"
        );
        assert_eq!(
            t.raw(&["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "-1"]),
            "*1\r\n$-1\r\n"
        );
        assert_eq!(
            t.raw(&["BITFIELD", "k", "OVERFLOW", "SAT", "SET", "u2", "#1", "9"]),
            "*1\r\n:0\r\n"
        );
        assert_eq!(t.raw(&["BITFIELD", "k", "GET", "u2", "#1"]), "*1\r\n:3\r\n");
        assert_eq!(
            t.raw(&["BITFIELD", "k", "INCRBY", "u2", "#1", "1"]),
            "*1\r\n:0\r\n"
        );
        assert_eq!(
            t.raw(&["BITFIELD", "k", "SET", "i64", "0", "-1", "GET", "u63", "0"]),
            "*2\r\n:-9223372036854775808\r\n:9223372036854775807\r\n"
        );
        assert_eq!(t.raw(&["BITFIELD", "k", "GET", "u64", "0"]), "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n");
        assert_eq!(t.raw(&["BITFIELD", "k", "GET", "i0", "0"]), "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n");
        assert_eq!(
            t.raw(&["BITFIELD", "k", "GET", "i8", "-1"]),
            "-ERR bit offset is not an integer or out of range\r\n"
        );
        assert_eq!(
            t.raw(&["BITFIELD", "k", "OVERFLOW", "FOO"]),
            "-ERR Invalid OVERFLOW type specified\r\n"
        );
        assert_eq!(t.raw(&["BITFIELD", "k", "FOO"]), "-ERR syntax error\r\n");
        assert_eq!(
            t.raw(&["BITFIELD", "k", "GET", "i8"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(t.raw(&["BITFIELD", "k"]), "*0\r\n");
        assert_eq!(
            t.raw(&["BITFIELD_RO", "k", "GET", "i8", "0"]),
            "*1\r\n:-1\r\n"
        );
        assert_eq!(
            t.raw(&["BITFIELD_RO", "k", "SET", "i8", "0", "1"]),
            "-ERR BITFIELD_RO only supports the GET subcommand\r\n"
        );
        assert_eq!(
            t.raw(&["BITFIELD", "n", "GET", "i8", "100"]),
            "*1\r\n:0\r\n"
        );
        assert_eq!(t.raw(&["EXISTS", "n"]), ":0\r\n");
    }
}
