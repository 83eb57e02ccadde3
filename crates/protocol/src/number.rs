//! Number parsing and formatting with Redis's exact rules.
//!
//! Redis accepts integers only in their canonical form (no `+`, no leading
//! zeros, no spaces) and formats doubles with C's `%.17g`; clients compare
//! these strings byte for byte, so they live in one place.

/// Parses a signed 64-bit integer the way Redis's `string2ll` does: optional
/// `-`, digits, no leading zeros (except "0" itself), no `+`, no spaces,
/// nothing else, and no overflow.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > (i64::MAX as u64) + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

/// Parses a double the way Redis's `string2d`/`strtod` based helpers do:
/// the whole string must be consumed, no leading or trailing space, `inf`,
/// `+inf`, `-inf` (any case) accepted, NaN rejected.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s.len() > 5000 {
        return None;
    }
    if let Some(v) = small_integer_f64(s) {
        return Some(v);
    }
    if s[0].is_ascii_whitespace() || s[s.len() - 1].is_ascii_whitespace() {
        return None;
    }
    let st = std::str::from_utf8(s).ok()?;
    for (word, v) in [
        ("inf", f64::INFINITY),
        ("+inf", f64::INFINITY),
        ("infinity", f64::INFINITY),
        ("+infinity", f64::INFINITY),
        ("-inf", f64::NEG_INFINITY),
        ("-infinity", f64::NEG_INFINITY),
    ] {
        if st.eq_ignore_ascii_case(word) {
            return Some(v);
        }
    }
    if contains_ic(s, b"nan") || contains_ic(s, b"inf") {
        return None;
    }
    // strtod also takes hex floats; Rust's parser does not. They are rare
    // enough in practice to accept only the decimal forms.
    let v: f64 = if s.len() > 2 && s[0] == b'0' && (s[1] | 0x20) == b'x' {
        u64::from_str_radix(&st[2..], 16).ok()? as f64
    } else {
        st.parse().ok()?
    };
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

/// The value of an optionally signed decimal integer of at most 15 digits
/// (exactly representable, so the same double strtod gives), without the
/// general float parser: scores and ranges in sorted-set commands are
/// usually such integers (timestamps, counters). `None` for anything else.
fn small_integer_f64(s: &[u8]) -> Option<f64> {
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 15 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(c - b'0');
    }
    let f = v as f64;
    Some(if neg { -f } else { f })
}

/// True if `needle` (lower-case ASCII) occurs in `hay`, ignoring case.
fn contains_ic(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Formats `d` like C's `printf("%.<prec>g", d)`.
pub fn fmt_g(d: f64, prec: usize) -> String {
    if d.is_nan() {
        return if d.is_sign_negative() {
            "-nan".into()
        } else {
            "nan".into()
        };
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let p = if prec == 0 { 1 } else { prec };
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Integral values of at most `p` digits print as the integer itself
    // (no rounding, no exponent): skip the exact float formatting, which
    // costs thousands of instructions (Lua numbers passed to redis.call,
    // such as `now - window`, take this path).
    if d.fract() == 0.0 && d.abs() < 1e15 {
        let i = d as i64;
        let mut buf = itoa::Buffer::new();
        let txt = buf.format(i);
        let digits = txt.len() - usize::from(i < 0);
        if digits <= p {
            return txt.to_string();
        }
    }
    fmt_g_exact(d, p)
}

/// The general case of [`fmt_g`] (finite, non-zero `d`; `p >= 1`).
fn fmt_g_exact(d: f64, p: usize) -> String {
    let e = format!("{:.*e}", p - 1, d);
    let (mant, exp) = match e.split_once('e') {
        Some(x) => x,
        None => return e,
    };
    let x: i32 = exp.parse().unwrap_or(0);
    if x < -4 || x >= p as i32 {
        let mant = strip_zeros(mant);
        let sign = if x < 0 { '-' } else { '+' };
        let ax = x.unsigned_abs();
        if ax < 10 {
            format!("{mant}e{sign}0{ax}")
        } else {
            format!("{mant}e{sign}{ax}")
        }
    } else {
        let decimals = (p as i32 - 1 - x).max(0) as usize;
        let f = format!("{:.*}", decimals, d);
        strip_zeros(&f).to_string()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Formats a double as Redis 7.0's `addReplyDouble` does (`%.17g`).
pub fn fmt_g17(d: f64) -> String {
    fmt_g(d, 17)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The integer shortcut of `fmt_g` answers exactly as the general path.
    #[test]
    fn fmt_g_integer_shortcut_matches_exact_formatting() {
        let mut vals: Vec<f64> = Vec::new();
        for k in 0..16 {
            let base = 10f64.powi(k);
            for d in [-1.0, 0.0, 1.0, 5.0] {
                vals.push(base + d);
                vals.push(-(base + d));
            }
        }
        vals.extend([
            1.0,
            -1.0,
            47655.0,
            -47655.0,
            99999999999999.0,
            123456789012345.0,
        ]);
        for v in vals {
            if v == 0.0 {
                continue;
            }
            for p in [1, 2, 6, 14, 17] {
                assert_eq!(fmt_g(v, p), fmt_g_exact(v, p), "{v} %.{p}g");
            }
        }
        assert_eq!(fmt_g(-47655.0, 14), "-47655");
        assert_eq!(fmt_g(1e15, 14), "1e+15");
        assert_eq!(fmt_g(123.0, 2), "1.2e+02");
    }

    #[test]
    fn integers_in_canonical_form_only() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"01"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b" 1"), None);
        assert_eq!(parse_i64(b"-0"), None);
        assert_eq!(parse_i64(b""), None);
        assert_eq!(parse_i64(b"-"), None);
    }

    #[test]
    fn doubles_like_strtod() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"+INF"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64(b"abc"), None);
        assert_eq!(parse_f64(b"0x1F"), Some(31.0));
        assert_eq!(parse_f64(b"-InFiNiTy"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"1nan"), None);
        assert_eq!(parse_f64(b"-"), None);
        assert_eq!(parse_f64(b"+"), None);
    }

    #[test]
    fn integer_shortcut_agrees_with_the_float_parser() {
        let mut cases: Vec<String> = vec!["0".into(), "-0".into(), "+0".into(), "007".into()];
        let mut x: u64 = 1;
        for _ in 0..16 {
            for d in [x - 1, x, x + 1, x * 7 / 3] {
                cases.push(format!("{d}"));
                cases.push(format!("-{d}"));
                cases.push(format!("+{d}"));
                cases.push(format!("00{d}"));
            }
            x *= 10;
        }
        for c in &cases {
            let want: f64 = c.parse().unwrap();
            let got = parse_f64(c.as_bytes()).unwrap();
            assert_eq!(got.to_bits(), want.to_bits(), "{c}");
        }
    }

    #[test]
    fn g_formatting_matches_printf() {
        assert_eq!(fmt_g17(1.1), "1.1000000000000001");
        assert_eq!(fmt_g17(1.5), "1.5");
        assert_eq!(fmt_g17(10.0), "10");
        assert_eq!(fmt_g17(1e20), "1e+20");
        assert_eq!(fmt_g17(123456789012345678.0), "1.2345678901234568e+17");
        assert_eq!(fmt_g17(0.0001), "0.0001");
        assert_eq!(fmt_g17(0.00001), "1.0000000000000001e-05");
        assert_eq!(fmt_g(0.1, 14), "0.1");
        assert_eq!(fmt_g(100.0, 14), "100");
        assert_eq!(fmt_g(1e15, 14), "1e+15");
        assert_eq!(fmt_g(1.234567890123456, 14), "1.2345678901235");
        assert_eq!(fmt_g(-2.5, 17), "-2.5");
        assert_eq!(fmt_g(f64::INFINITY, 17), "inf");
    }
}
