//! The protocol-neutral reply and its RESP2/RESP3 encoder.
//!
//! Handlers build a [`Reply`] using RESP3's types; [`encode`] writes it for
//! the client's protocol, downgrading RESP3-only types for RESP2 clients the
//! way Redis does (maps become flat arrays, doubles bulk strings, booleans
//! integers, null the nil bulk string). The script engine converts the same
//! value to Lua without any serialisation in between.

use bytes::Bytes;

/// One reply, in RESP3's type system.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+OK`-style status line. Must not contain CR or LF.
    Status(Bytes),
    /// An error, with its code first: `ERR syntax error`, `WRONGTYPE ...`.
    Error(Bytes),
    Int(i64),
    Bulk(Bytes),
    /// The null reply: `$-1` in RESP2, `_` in RESP3.
    Null,
    /// The null array: `*-1` in RESP2, `_` in RESP3.
    NullArray,
    Array(Vec<Reply>),
    /// A map; RESP2 clients get a flat array of key, value, key, value...
    Map(Vec<(Reply, Reply)>),
    /// A set; RESP2 clients get an array.
    Set(Vec<Reply>),
    /// A double; RESP2 clients get a bulk string formatted with `%.17g`.
    Double(f64),
    /// A boolean; RESP2 clients get the integer 1 or 0.
    Bool(bool),
    /// A big number given as its decimal text; RESP2: a bulk string.
    BigNumber(Bytes),
    /// Verbatim text with a three-letter format (`txt`, `mkd`); RESP2: bulk.
    Verbatim([u8; 3], Bytes),
    /// An out-of-band push message (pub/sub, invalidation). RESP2: an array.
    Push(Vec<Reply>),
    /// Bytes already encoded in the right protocol, written as they are.
    Raw(Bytes),
}

impl Reply {
    /// `+OK`.
    pub fn ok() -> Reply {
        Reply::Status(Bytes::from_static(b"OK"))
    }

    /// A status line from static text.
    pub fn status(s: &'static str) -> Reply {
        Reply::Status(Bytes::from_static(s.as_bytes()))
    }

    /// An error from its full text (code included).
    pub fn err(s: impl Into<String>) -> Reply {
        Reply::Error(Bytes::from(s.into()))
    }

    /// An error from static text.
    pub fn err_static(s: &'static str) -> Reply {
        Reply::Error(Bytes::from_static(s.as_bytes()))
    }

    /// A bulk string copied from a byte slice.
    pub fn bulk(b: &[u8]) -> Reply {
        Reply::Bulk(Bytes::copy_from_slice(b))
    }

    /// A bulk string from text.
    pub fn bulk_str(s: impl Into<String>) -> Reply {
        Reply::Bulk(Bytes::from(s.into()))
    }

    /// True if this is an error reply.
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// The error's code (`ERR`, `WRONGTYPE`, ...) if this is an error reply.
    pub fn error_code(&self) -> Option<&[u8]> {
        match self {
            Reply::Error(e) => {
                let end = memchr::memchr(b' ', e).unwrap_or(e.len());
                Some(&e[..end])
            }
            _ => None,
        }
    }
}

fn put_len(out: &mut Vec<u8>, prefix: u8, n: usize) {
    out.push(prefix);
    let mut b = itoa::Buffer::new();
    out.extend_from_slice(b.format(n).as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn put_line(out: &mut Vec<u8>, prefix: u8, s: &[u8]) {
    out.push(prefix);
    // A status or error line can never carry CR/LF: replace them as Redis
    // does for error strings coming from scripts.
    if memchr::memchr2(b'\r', b'\n', s).is_some() {
        out.extend(
            s.iter()
                .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
        );
    } else {
        out.extend_from_slice(s);
    }
    out.extend_from_slice(b"\r\n");
}

fn put_bulk(out: &mut Vec<u8>, s: &[u8]) {
    put_len(out, b'$', s.len());
    out.extend_from_slice(s);
    out.extend_from_slice(b"\r\n");
}

/// Writes `r` in protocol version `proto` (2 or 3) to `out`.
pub fn encode(r: &Reply, proto: u8, out: &mut Vec<u8>) {
    let resp3 = proto >= 3;
    match r {
        Reply::Status(s) => put_line(out, b'+', s),
        Reply::Error(s) => {
            put_line(out, b'-', s);
        }
        Reply::Int(i) => {
            out.push(b':');
            let mut b = itoa::Buffer::new();
            out.extend_from_slice(b.format(*i).as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        Reply::Bulk(s) => put_bulk(out, s),
        Reply::Null => out.extend_from_slice(if resp3 { b"_\r\n" } else { b"$-1\r\n" }),
        Reply::NullArray => out.extend_from_slice(if resp3 { b"_\r\n" } else { b"*-1\r\n" }),
        Reply::Array(items) => {
            put_len(out, b'*', items.len());
            for i in items {
                encode(i, proto, out);
            }
        }
        Reply::Map(pairs) => {
            if resp3 {
                put_len(out, b'%', pairs.len());
            } else {
                put_len(out, b'*', pairs.len() * 2);
            }
            for (k, v) in pairs {
                encode(k, proto, out);
                encode(v, proto, out);
            }
        }
        Reply::Set(items) => {
            put_len(out, if resp3 { b'~' } else { b'*' }, items.len());
            for i in items {
                encode(i, proto, out);
            }
        }
        Reply::Push(items) => {
            put_len(out, if resp3 { b'>' } else { b'*' }, items.len());
            for i in items {
                encode(i, proto, out);
            }
        }
        Reply::Double(d) => {
            let s = crate::number::fmt_g17(*d);
            if resp3 {
                out.push(b',');
                out.extend_from_slice(s.as_bytes());
                out.extend_from_slice(b"\r\n");
            } else {
                put_bulk(out, s.as_bytes());
            }
        }
        Reply::Bool(b) => {
            if resp3 {
                out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" });
            } else {
                out.extend_from_slice(if *b { b":1\r\n" } else { b":0\r\n" });
            }
        }
        Reply::BigNumber(n) => {
            if resp3 {
                put_line(out, b'(', n);
            } else {
                put_bulk(out, n);
            }
        }
        Reply::Verbatim(fmt, s) => {
            if resp3 {
                put_len(out, b'=', s.len() + 4);
                out.extend_from_slice(fmt);
                out.push(b':');
                out.extend_from_slice(s);
                out.extend_from_slice(b"\r\n");
            } else {
                put_bulk(out, s);
            }
        }
        Reply::Raw(b) => out.extend_from_slice(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(r: &Reply, p: u8) -> String {
        let mut v = Vec::new();
        encode(r, p, &mut v);
        String::from_utf8_lossy(&v).into_owned()
    }

    #[test]
    fn resp2_downgrades() {
        let m = Reply::Map(vec![(Reply::bulk(b"a"), Reply::Int(1))]);
        assert_eq!(enc(&m, 2), "*2\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(&m, 3), "%1\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(&Reply::Double(1.5), 2), "$3\r\n1.5\r\n");
        assert_eq!(enc(&Reply::Double(1.5), 3), ",1.5\r\n");
        assert_eq!(enc(&Reply::Double(f64::INFINITY), 3), ",inf\r\n");
        assert_eq!(enc(&Reply::Null, 2), "$-1\r\n");
        assert_eq!(enc(&Reply::NullArray, 2), "*-1\r\n");
        assert_eq!(enc(&Reply::Null, 3), "_\r\n");
        assert_eq!(enc(&Reply::Bool(true), 2), ":1\r\n");
        assert_eq!(enc(&Reply::Bool(false), 3), "#f\r\n");
        let v = Reply::Verbatim(*b"txt", Bytes::from_static(b"hi"));
        assert_eq!(enc(&v, 3), "=6\r\ntxt:hi\r\n");
        assert_eq!(enc(&v, 2), "$2\r\nhi\r\n");
    }

    #[test]
    fn error_lines_never_break_the_stream() {
        assert_eq!(enc(&Reply::err("ERR a\r\nb"), 2), "-ERR a  b\r\n");
        assert_eq!(
            Reply::err("WRONGTYPE x").error_code(),
            Some(&b"WRONGTYPE"[..])
        );
    }
}
