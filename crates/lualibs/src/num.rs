//! Number conversions with the exact results Redis's C code gets on x86-64
//! with glibc: C casts from `double` (including the values C leaves
//! undefined, which the hardware answers in a fixed way), `printf("%.Ng")`
//! and `strtod`.

const TWO63: f64 = 9_223_372_036_854_775_808.0;

/// `(int64_t)d` as x86-64 computes it (`cvttsd2si`): NaN and out-of-range
/// values give `i64::MIN`.
pub(crate) fn f64_to_i64(d: f64) -> i64 {
    if d.is_nan() || !(-TWO63..TWO63).contains(&d) {
        i64::MIN
    } else {
        d as i64
    }
}

/// `(int)d` as x86-64 computes it: NaN and out-of-range values give `i32::MIN`.
pub(crate) fn f64_to_i32(d: f64) -> i32 {
    if d.is_nan() || d >= 2_147_483_648.0 || d <= -2_147_483_649.0 {
        i32::MIN
    } else {
        d as i32
    }
}

/// `(unsigned long)d` as GCC compiles it for x86-64.
pub(crate) fn f64_to_u64(d: f64) -> u64 {
    if d >= TWO63 {
        (f64_to_i64(d - TWO63) as u64) ^ (1u64 << 63)
    } else {
        f64_to_i64(d) as u64
    }
}

/// C's `printf("%.<prec>g", x)` (glibc output, including `inf`, `-nan`).
pub(crate) fn fmt_g(x: f64, prec: usize) -> String {
    let neg = x.is_sign_negative();
    if x.is_nan() {
        return if neg { "-nan".into() } else { "nan".into() };
    }
    if x.is_infinite() {
        return if neg { "-inf".into() } else { "inf".into() };
    }
    if x == 0.0 {
        return if neg { "-0".into() } else { "0".into() };
    }
    let p = prec.max(1);
    let e_repr = format!("{:.*e}", p - 1, x);
    let (mant, exp) = match e_repr.split_once('e') {
        Some((m, e)) => (m.to_string(), e.parse::<i32>().unwrap_or(0)),
        None => (e_repr.clone(), 0),
    };
    if exp < -4 || exp >= p as i32 {
        let mut m = mant;
        strip_zeros(&mut m);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.unsigned_abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        let mut s = format!("{:.*}", decimals, x);
        strip_zeros(&mut s);
        s
    }
}

fn strip_zeros(s: &mut String) {
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
}

/// Byte `i` of a C string: past the end reads as the terminating NUL.
#[inline]
pub(crate) fn at(s: &[u8], i: usize) -> u8 {
    s.get(i).copied().unwrap_or(0)
}

fn starts_ci(s: &[u8], i: usize, word: &[u8]) -> bool {
    word.iter()
        .enumerate()
        .all(|(k, w)| at(s, i + k).eq_ignore_ascii_case(w))
}

/// glibc's `strtod` on the C string starting at `start`: returns the value
/// and the index just past what was consumed, or `None` when no number
/// could be read (C's `endptr == nptr`).
pub(crate) fn strtod(s: &[u8], start: usize) -> Option<(f64, usize)> {
    let mut i = start;
    while matches!(at(s, i), b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let mut neg = false;
    if matches!(at(s, i), b'+' | b'-') {
        neg = at(s, i) == b'-';
        i += 1;
    }
    let sign = |v: f64| if neg { -v } else { v };
    if starts_ci(s, i, b"inf") {
        i += 3;
        if starts_ci(s, i, b"inity") {
            i += 5;
        }
        return Some((sign(f64::INFINITY), i));
    }
    if starts_ci(s, i, b"nan") {
        i += 3;
        let mut bits = 0x7ff8_0000_0000_0000u64;
        if at(s, i) == b'(' {
            let mut j = i + 1;
            while at(s, j).is_ascii_alphanumeric() || at(s, j) == b'_' {
                j += 1;
            }
            if at(s, j) == b')' {
                if let Some(payload) = strtoull_whole(&s[i + 1..j]) {
                    bits |= payload & ((1u64 << 51) - 1);
                }
                i = j + 1;
            }
        }
        return Some((sign(f64::from_bits(bits)), i));
    }
    if at(s, i) == b'0' && (at(s, i + 1) | 0x20) == b'x' {
        if let Some((v, end)) = hex_float(s, i + 2) {
            return Some((sign(v), end));
        }
        return Some((sign(0.0), i + 1));
    }
    // Decimal.
    let mut digits = String::new();
    let mut ndigits = 0usize;
    while at(s, i).is_ascii_digit() {
        digits.push(at(s, i) as char);
        ndigits += 1;
        i += 1;
    }
    if at(s, i) == b'.' {
        i += 1;
        let mut frac = String::new();
        while at(s, i).is_ascii_digit() {
            frac.push(at(s, i) as char);
            ndigits += 1;
            i += 1;
        }
        if ndigits == 0 {
            return None;
        }
        digits.push('.');
        digits.push_str(&frac);
    }
    if ndigits == 0 {
        return None;
    }
    if (at(s, i) | 0x20) == b'e' {
        let mut j = i + 1;
        let mut eneg = false;
        if matches!(at(s, j), b'+' | b'-') {
            eneg = at(s, j) == b'-';
            j += 1;
        }
        if at(s, j).is_ascii_digit() {
            let mut e: i64 = 0;
            while at(s, j).is_ascii_digit() {
                e = (e * 10 + i64::from(at(s, j) - b'0')).min(1_000_000_000);
                j += 1;
            }
            digits.push('e');
            if eneg {
                digits.push('-');
            }
            digits.push_str(&e.to_string());
            i = j;
        }
    }
    let v = digits.parse::<f64>().unwrap_or(0.0);
    Some((sign(v), i))
}

/// `strtoull(s, &end, 0)` succeeding only when it consumes all of `s`
/// (used for the payload of `nan(...)`).
fn strtoull_whole(s: &[u8]) -> Option<u64> {
    let (radix, body) = if s.len() > 2 && s[0] == b'0' && (s[1] | 0x20) == b'x' {
        (16, &s[2..])
    } else if s.len() > 1 && s[0] == b'0' {
        (8, &s[1..])
    } else {
        (10, s)
    };
    if body.is_empty() {
        return if s == b"0" { Some(0) } else { None };
    }
    let mut v: u64 = 0;
    let mut overflow = false;
    for &c in body {
        let d = (c as char).to_digit(radix)?;
        match v
            .checked_mul(u64::from(radix))
            .and_then(|x| x.checked_add(u64::from(d)))
        {
            Some(x) => v = x,
            None => overflow = true,
        }
    }
    Some(if overflow { u64::MAX } else { v })
}

/// The part of a hexadecimal float after `0x`; `None` if there is no digit.
fn hex_float(s: &[u8], mut i: usize) -> Option<(f64, usize)> {
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut sticky = false;
    let mut any = false;
    let mut seen_point = false;
    loop {
        let c = at(s, i);
        if c == b'.' && !seen_point {
            seen_point = true;
            i += 1;
            continue;
        }
        let Some(d) = (c as char).to_digit(16) else {
            break;
        };
        any = true;
        if mant >> 60 == 0 {
            mant = (mant << 4) | u64::from(d);
            if seen_point {
                exp -= 4;
            }
        } else {
            sticky |= d != 0;
            if !seen_point {
                exp += 4;
            }
        }
        i += 1;
    }
    if !any {
        return None;
    }
    if (at(s, i) | 0x20) == b'p' {
        let mut j = i + 1;
        let mut eneg = false;
        if matches!(at(s, j), b'+' | b'-') {
            eneg = at(s, j) == b'-';
            j += 1;
        }
        if at(s, j).is_ascii_digit() {
            let mut e: i64 = 0;
            while at(s, j).is_ascii_digit() {
                e = (e * 10 + i64::from(at(s, j) - b'0')).min(1_000_000_000);
                j += 1;
            }
            exp += if eneg { -e } else { e };
            i = j;
        }
    }
    Some((scale_binary(mant, exp, sticky), i))
}

/// `mant * 2^exp` (plus a sticky "more nonzero bits below" flag), rounded
/// to nearest-even as a double.
fn scale_binary(mant: u64, exp: i64, sticky: bool) -> f64 {
    if mant == 0 {
        return 0.0;
    }
    let bits = 64 - i64::from(mant.leading_zeros());
    let msb = exp + bits - 1;
    if msb > 1023 {
        return f64::INFINITY;
    }
    if msb < -1080 {
        return 0.0;
    }
    let prec = if msb >= -1022 { 53 } else { 53 - (-1022 - msb) };
    let shift = bits - prec;
    let (m, e) = if shift > 0 {
        let m = u128::from(mant);
        let kept = m >> shift;
        let rem = m & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        let up = rem > half || (rem == half && (sticky || kept & 1 == 1));
        let kept = if up { kept + 1 } else { kept };
        (kept as u64, exp + shift)
    } else {
        (mant, exp)
    };
    ldexp(m as f64, e)
}

fn ldexp(mut x: f64, mut e: i64) -> f64 {
    while e > 0 {
        let step = e.min(1000);
        x *= f64::from_bits(((1023 + step) as u64) << 52);
        e -= step;
        if x.is_infinite() {
            return x;
        }
    }
    while e < 0 {
        let step = (-e).min(1000);
        x *= f64::from_bits(((1023 - step) as u64) << 52);
        e += step;
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fmt_g_matches_c_printf_via_lua() {
        let lua = mlua::Lua::new();
        let fmt: mlua::Function = lua.load("return string.format").eval().unwrap();
        let mut vals = vec![
            0.1,
            1.0,
            -1.0,
            100.0,
            1e14,
            1e15,
            1e16,
            123456789012345678.0,
            0.0001,
            0.00001,
            1.5,
            2.5,
            100000000000000.5,
            1e-300,
            5e-324,
            1.7976931348623157e308,
            std::f64::consts::PI,
            0.3e-3,
            1023.2,
            -5e3,
            2f64.powi(53),
            1.0 / 3.0,
            2.0 / 3.0,
            123.456,
            99999999999999.5,
            999999999999999.0,
            9.999999999999995,
            0.000123456789012345,
        ];
        let mut seed: u64 = 0x1234_5678_9abc_def0;
        for _ in 0..3000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let v = f64::from_bits(seed);
            if v.is_finite() {
                vals.push(v);
            }
            vals.push((seed % 1_000_000) as f64 / 1000.0);
        }
        for v in vals {
            for p in [1usize, 2, 5, 14] {
                let want: String = fmt.call((format!("%.{p}g"), v)).unwrap();
                assert_eq!(fmt_g(v, p), want, "value {v:e} precision {p}");
            }
        }
    }

    #[test]
    fn strtod_forms() {
        let p = |s: &str| strtod(s.as_bytes(), 0);
        assert_eq!(p("12abc"), Some((12.0, 2)));
        assert_eq!(p("-0.5e3x"), Some((-500.0, 6)));
        assert_eq!(p("1e"), Some((1.0, 1)));
        assert_eq!(p("1e+"), Some((1.0, 1)));
        assert_eq!(p("0x10"), Some((16.0, 4)));
        assert_eq!(p("0x1p4"), Some((16.0, 5)));
        assert_eq!(p("0x.8"), Some((0.5, 4)));
        assert_eq!(p("0xg"), Some((0.0, 1)));
        assert_eq!(p("Infinity!"), Some((f64::INFINITY, 8)));
        assert_eq!(p("-inf"), Some((f64::NEG_INFINITY, 4)));
        assert_eq!(p("."), None);
        assert_eq!(p("-"), None);
        assert_eq!(p("abc"), None);
        let (n, end) = p("nan(12)").unwrap();
        assert!(n.is_nan());
        assert_eq!(end, 7);
        assert_eq!(n.to_bits(), 0x7ff8_0000_0000_000c);
        assert_eq!(p("0x1.fffffffffffff8p0").map(|x| x.0), Some(2.0));
        assert_eq!(p("0x1p-1074").map(|x| x.0), Some(5e-324));
        assert_eq!(p("0x1p-1075").map(|x| x.0), Some(0.0));
        assert_eq!(p("0x1.8p-1075").map(|x| x.0), Some(5e-324));
        assert_eq!(p("1e400").map(|x| x.0), Some(f64::INFINITY));
    }

    #[test]
    fn strtod_matches_c_strtod_via_lua() {
        // Lua's `tonumber` is C's strtod on the whole string.
        let lua = mlua::Lua::new();
        let tonumber: mlua::Function = lua.load("return tonumber").eval().unwrap();
        let mut seed: u64 = 0xdead_beef_1234_5678;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20000 {
            let mut s = String::new();
            if next() % 3 == 0 {
                s.push('-');
            }
            for _ in 0..(next() % 25) {
                s.push((b'0' + (next() % 10) as u8) as char);
            }
            if next() % 2 == 0 {
                s.push('.');
                for _ in 0..(next() % 25) {
                    s.push((b'0' + (next() % 10) as u8) as char);
                }
            }
            if next() % 2 == 0 {
                s.push('e');
                s.push_str(&format!("{}", (next() % 700) as i64 - 350));
            }
            let want: Option<f64> = tonumber.call(s.as_str()).unwrap();
            let got = strtod(s.as_bytes(), 0)
                .filter(|&(_, end)| end == s.len())
                .map(|x| x.0);
            assert_eq!(got.map(f64::to_bits), want.map(f64::to_bits), "{s}");
        }
    }

    #[test]
    fn casts() {
        assert_eq!(f64_to_u64(f64::NAN), 1 << 63);
        assert_eq!(f64_to_u64(2f64.powi(64)), 0);
        assert_eq!(f64_to_u64(2f64.powi(63) + 2048.0), (1 << 63) + 2048);
        assert_eq!(f64_to_i64(1e30), i64::MIN);
        assert_eq!(f64_to_i32(2f64.powi(31)), i32::MIN);
        assert_eq!(f64_to_i32(-2.5), -2);
    }
}
