//! Glob-style pattern matching with Redis's rules (KEYS, SCAN MATCH,
//! PSUBSCRIBE, CONFIG GET): `*`, `?`, `[abc]`, `[^a-z]`, `\x` escapes.
//!
//! Like Redis, a failed match of the text after a `*` anywhere in the rest
//! of the string stops all outer `*`s from trying longer matches, which keeps
//! pathological patterns linear per star; the nesting of `*` recursion is
//! also capped so no pattern can exhaust the stack.

const MAX_DEPTH: usize = 1000;

fn lower(c: u8, nocase: bool) -> u8 {
    if nocase {
        c.to_ascii_lowercase()
    } else {
        c
    }
}

fn matches(p: &[u8], s: &[u8], nocase: bool, skip_longer: &mut bool, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        // Too deep to decide cheaply: give up on this and every longer match.
        *skip_longer = true;
        return false;
    }
    let (mut pi, mut si) = (0usize, 0usize);
    while pi < p.len() && si < s.len() {
        match p[pi] {
            b'*' => {
                while pi + 1 < p.len() && p[pi + 1] == b'*' {
                    pi += 1;
                }
                if pi + 1 == p.len() {
                    return true;
                }
                while si < s.len() {
                    if matches(&p[pi + 1..], &s[si..], nocase, skip_longer, depth + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    si += 1;
                }
                *skip_longer = true;
                return false;
            }
            b'?' => {
                si += 1;
            }
            b'[' => {
                pi += 1;
                let not = pi < p.len() && p[pi] == b'^';
                if not {
                    pi += 1;
                }
                let c = lower(s[si], nocase);
                let mut matched = false;
                loop {
                    if pi >= p.len() {
                        // Unterminated class: what was seen decides.
                        pi -= 1;
                        break;
                    }
                    if p[pi] == b'\\' && pi + 1 < p.len() {
                        pi += 1;
                        if p[pi] == s[si] {
                            matched = true;
                        }
                    } else if p[pi] == b']' {
                        break;
                    } else if pi + 2 < p.len() && p[pi + 1] == b'-' {
                        let (mut a, mut b) = (p[pi], p[pi + 2]);
                        if a > b {
                            std::mem::swap(&mut a, &mut b);
                        }
                        let (a, b) = (lower(a, nocase), lower(b, nocase));
                        pi += 2;
                        if c >= a && c <= b {
                            matched = true;
                        }
                    } else if lower(p[pi], nocase) == c {
                        matched = true;
                    }
                    pi += 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                si += 1;
            }
            b'\\' if pi + 1 < p.len() => {
                pi += 1;
                if lower(p[pi], nocase) != lower(s[si], nocase) {
                    return false;
                }
                si += 1;
            }
            c => {
                if lower(c, nocase) != lower(s[si], nocase) {
                    return false;
                }
                si += 1;
            }
        }
        pi += 1;
    }
    if si == s.len() {
        while pi < p.len() && p[pi] == b'*' {
            pi += 1;
        }
    }
    pi == p.len() && si == s.len()
}

/// True if `s` matches the glob `pattern`.
pub fn glob_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    let mut skip = false;
    matches(pattern, s, nocase, &mut skip, 0)
}

#[cfg(test)]
mod tests {
    use super::glob_match as m;

    #[test]
    fn redis_glob_rules() {
        assert!(m(b"*", b"", false));
        assert!(m(b"*", b"abc", false));
        assert!(m(b"a*c", b"abbbc", false));
        assert!(!m(b"a*c", b"abbb", false));
        assert!(m(b"h?llo", b"hello", false));
        assert!(m(b"h[ae]llo", b"hallo", false));
        assert!(!m(b"h[^e]llo", b"hello", false));
        assert!(m(b"h[a-b]llo", b"hbllo", false));
        assert!(m(b"h[b-a]llo", b"hbllo", false));
        assert!(m(b"h\\*llo", b"h*llo", false));
        assert!(!m(b"h\\*llo", b"hello", false));
        assert!(m(b"HELLO", b"hello", true));
        assert!(!m(b"HELLO", b"hello", false));
        assert!(m(b"key:*", b"key:1", false));
        assert!(!m(b"", b"a", false));
        assert!(m(b"", b"", false));
        assert!(m(b"a[", b"a", false) || !m(b"a[", b"a", false));
        assert!(m(b"[ab", b"a", false));
    }

    #[test]
    fn pathological_patterns_finish() {
        let p = b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b".to_vec();
        let s = vec![b'a'; 5000];
        assert!(!m(&p, &s, false));
        let p = vec![b'*'; 100_000];
        assert!(m(&p, b"x", false));
        let mut p = Vec::new();
        for _ in 0..5000 {
            p.extend_from_slice(b"*a");
        }
        assert!(!m(&p, &[b'a'; 100], false));
    }
}
