//! Incremental request parser: RESP multibulk (`*N\r\n$len\r\n...`) and
//! inline commands (`SET a b\r\n`, as telnet and redis-cli's inline mode send).
//!
//! The parser keeps its position inside a partly received multibulk request,
//! so a request that arrives in many reads is never re-scanned from its
//! start, and large bulk arguments are split off the read buffer without a
//! copy. Every malformed input maps to the error text Redis replies with
//! before it closes the connection.

use bytes::{Buf, Bytes, BytesMut};

/// One parsed command: its arguments, binary-safe.
pub type Request = Vec<Bytes>;

/// Longest inline request, or header line, Redis accepts (64 KiB).
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;

/// Limits that come from the server's configuration.
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    /// `proto-max-bulk-len`.
    pub max_bulk_len: i64,
    /// True while the client must still authenticate (tighter limits).
    pub unauthenticated: bool,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_bulk_len: 512 * 1024 * 1024,
            unauthenticated: false,
        }
    }
}

/// A protocol error: the text (without the leading `-`) is sent to the
/// client, then the connection is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl ParseError {
    fn new(s: &str) -> ParseError {
        ParseError(format!("ERR Protocol error: {s}"))
    }
}

/// State of the parser for one connection.
#[derive(Debug, Default)]
pub struct Parser {
    /// Arguments still expected by the current multibulk request (0 = none
    /// in progress).
    remaining: usize,
    /// Length of the bulk whose header was read, if any.
    bulk_len: Option<usize>,
    args: Vec<Bytes>,
}

fn find_cr(buf: &[u8]) -> Option<usize> {
    memchr::memchr(b'\r', buf)
}

impl Parser {
    pub fn new() -> Parser {
        Parser::default()
    }

    /// How many more bytes the buffer must hold before the next step can
    /// complete, when a bulk of known length is awaited; lets the caller
    /// reserve room for a big argument in one allocation.
    pub fn wanted(&self, buffered: usize) -> Option<usize> {
        self.bulk_len.map(|n| (n + 2).saturating_sub(buffered))
    }

    /// True while a multibulk request is partly read.
    pub fn in_progress(&self) -> bool {
        self.remaining > 0
    }

    /// Parses the next complete request from `buf`, consuming it. Returns
    /// `Ok(None)` when more data is needed. Empty inline lines and `*0` /
    /// `*-1` requests are skipped.
    pub fn next(
        &mut self,
        buf: &mut BytesMut,
        limits: &ParseLimits,
    ) -> Result<Option<Request>, ParseError> {
        loop {
            if self.remaining == 0 {
                if buf.is_empty() {
                    return Ok(None);
                }
                if buf[0] != b'*' {
                    match parse_inline(buf)? {
                        None => return Ok(None),
                        Some(args) if args.is_empty() => continue,
                        Some(args) => return Ok(Some(args)),
                    }
                }
                let Some(cr) = find_cr(buf) else {
                    if buf.len() > PROTO_INLINE_MAX_SIZE {
                        return Err(ParseError::new("too big mbulk count string"));
                    }
                    return Ok(None);
                };
                if cr + 1 >= buf.len() {
                    return Ok(None);
                }
                let n = match crate::number::parse_i64(&buf[1..cr]) {
                    Some(n) if n <= i32::MAX as i64 => n,
                    _ => return Err(ParseError::new("invalid multibulk length")),
                };
                if n > 10 && limits.unauthenticated {
                    return Err(ParseError::new("unauthenticated multibulk length"));
                }
                if n > 0 && n <= FAST_ARGS as i64 && !limits.unauthenticated {
                    if let Some(r) = fast_request(buf, cr + 2, n as usize, limits) {
                        return Ok(Some(r));
                    }
                }
                buf.advance(cr + 2);
                if n <= 0 {
                    continue;
                }
                self.remaining = n as usize;
                self.args = Vec::with_capacity(self.remaining.min(1024));
            }
            // Inside a multibulk request.
            while self.remaining > 0 {
                let len = match self.bulk_len {
                    Some(l) => l,
                    None => {
                        let Some(cr) = find_cr(buf) else {
                            if buf.len() > PROTO_INLINE_MAX_SIZE {
                                return Err(ParseError::new("too big bulk count string"));
                            }
                            return Ok(None);
                        };
                        if cr + 1 >= buf.len() {
                            return Ok(None);
                        }
                        if buf[0] != b'$' {
                            let got = buf[0] as char;
                            return Err(ParseError(format!(
                                "ERR Protocol error: expected '$', got '{got}'"
                            )));
                        }
                        let l = match crate::number::parse_i64(&buf[1..cr]) {
                            Some(l) if l >= 0 && l <= limits.max_bulk_len => l,
                            _ => return Err(ParseError::new("invalid bulk length")),
                        };
                        if l > 16384 && limits.unauthenticated {
                            return Err(ParseError::new("unauthenticated bulk length"));
                        }
                        buf.advance(cr + 2);
                        let l = l as usize;
                        self.bulk_len = Some(l);
                        l
                    }
                };
                if buf.len() < len + 2 {
                    return Ok(None);
                }
                let arg = buf.split_to(len).freeze();
                // Redis does not check the two bytes after a bulk; it skips them.
                buf.advance(2);
                self.args.push(arg);
                self.bulk_len = None;
                self.remaining -= 1;
            }
            return Ok(Some(std::mem::take(&mut self.args)));
        }
    }
}

/// Most arguments [`fast_request`] handles.
const FAST_ARGS: usize = 16;

/// A short decimal length ending in CR LF at `buf[i..]`: (value, index
/// after the LF). Only plain digits without a leading zero (or "0").
#[inline]
fn short_len(buf: &[u8], mut i: usize) -> Option<(usize, usize)> {
    let start = i;
    let mut v: usize = 0;
    while i < buf.len() && i - start < 18 {
        let c = buf[i];
        if c.is_ascii_digit() {
            v = v * 10 + (c - b'0') as usize;
            i += 1;
        } else {
            break;
        }
    }
    let digits = i - start;
    if digits == 0 || (digits > 1 && buf[start] == b'0') {
        return None;
    }
    if i + 1 < buf.len() && buf[i] == b'\r' && buf[i + 1] == b'\n' {
        Some((v, i + 2))
    } else {
        None
    }
}

/// The common case in one pass: a whole multibulk request of `n` (at most
/// [`FAST_ARGS`]) well-formed bulks already in the buffer, whose header
/// ends at `start`. The arguments share one frozen slice of the buffer.
/// `None` (nothing consumed) when the request is incomplete or anything is
/// unusual; the incremental path then handles it, errors included.
#[inline]
fn fast_request(
    buf: &mut BytesMut,
    start: usize,
    n: usize,
    limits: &ParseLimits,
) -> Option<Request> {
    let mut ranges = [(0usize, 0usize); FAST_ARGS];
    let mut i = start;
    {
        let b: &[u8] = buf;
        for r in ranges.iter_mut().take(n) {
            if i >= b.len() || b[i] != b'$' {
                return None;
            }
            let (len, after) = short_len(b, i + 1)?;
            if len as i64 > limits.max_bulk_len {
                return None;
            }
            let end = after.checked_add(len)?;
            if end.checked_add(2)? > b.len() {
                return None;
            }
            *r = (after, end);
            i = end + 2;
        }
    }
    let whole = buf.split_to(i).freeze();
    let mut args = Vec::with_capacity(n);
    for &(a, e) in ranges.iter().take(n) {
        args.push(whole.slice(a..e));
    }
    Some(args)
}

/// Parses every complete request in `buf` with a fresh parser (tests and
/// fuzzing). Returns the requests and whether the whole buffer was used.
pub fn parse_request(buf: &[u8], limits: &ParseLimits) -> Result<Vec<Request>, ParseError> {
    let mut b = BytesMut::from(buf);
    let mut p = Parser::new();
    let mut out = Vec::new();
    while let Some(r) = p.next(&mut b, limits)? {
        out.push(r);
    }
    Ok(out)
}

fn parse_inline(buf: &mut BytesMut) -> Result<Option<Request>, ParseError> {
    let Some(nl) = memchr::memchr(b'\n', buf) else {
        if buf.len() > PROTO_INLINE_MAX_SIZE {
            return Err(ParseError::new("too big inline request"));
        }
        return Ok(None);
    };
    let mut end = nl;
    if end > 0 && buf[end - 1] == b'\r' {
        end -= 1;
    }
    let args =
        split_args(&buf[..end]).ok_or_else(|| ParseError::new("unbalanced quotes in request"))?;
    buf.advance(nl + 1);
    Ok(Some(args.into_iter().map(Bytes::from).collect()))
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t' | 0x0b | 0x0c)
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Splits a line into arguments with the rules of Redis's `sdssplitargs`:
/// spaces separate, `"..."` takes `\n \r \t \b \a \\ \" \xHH` escapes,
/// `'...'` takes only `\'`, and a closing quote must be followed by a space
/// or the end. Returns `None` for unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    // Redis splits a C string: a NUL byte ends the line.
    let line = match memchr::memchr(0, line) {
        Some(z) => &line[..z],
        None => line,
    };
    let mut out = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Some(out);
        }
        let mut cur = Vec::new();
        let mut inq = false;
        let mut insq = false;
        loop {
            if inq {
                if i >= n {
                    return None;
                }
                if line[i] == b'\\'
                    && i + 3 < n
                    && line[i + 1] == b'x'
                    && hex_val(line[i + 2]).is_some()
                    && hex_val(line[i + 3]).is_some()
                {
                    let h =
                        hex_val(line[i + 2]).unwrap_or(0) * 16 + hex_val(line[i + 3]).unwrap_or(0);
                    cur.push(h);
                    i += 3;
                } else if line[i] == b'\\' && i + 1 < n {
                    i += 1;
                    let c = match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        c => c,
                    };
                    cur.push(c);
                } else if line[i] == b'"' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(line[i]);
                }
            } else if insq {
                if i >= n {
                    return None;
                }
                if line[i] == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if line[i] == b'\'' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(line[i]);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' => break,
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        out.push(cur);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &[u8]) -> Result<Vec<Request>, ParseError> {
        parse_request(s, &ParseLimits::default())
    }

    /// Feeds `data` in pieces of the given sizes (cycled) and collects what
    /// comes out, or the first error.
    fn chunked(data: &[u8], sizes: &[usize]) -> Result<Vec<Request>, String> {
        let limits = ParseLimits::default();
        let mut p = Parser::new();
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        let mut pos = 0;
        let mut k = 0;
        while pos < data.len() {
            let n = sizes[k % sizes.len()].max(1).min(data.len() - pos);
            k += 1;
            buf.extend_from_slice(&data[pos..pos + n]);
            pos += n;
            loop {
                match p.next(&mut buf, &limits) {
                    Ok(Some(r)) => out.push(r),
                    Ok(None) => break,
                    Err(e) => return Err(e.0),
                }
            }
        }
        Ok(out)
    }

    /// The one-pass path (whole requests in the buffer) and the
    /// incremental path (a byte at a time) agree on random streams, valid
    /// or damaged: same requests, same errors.
    #[test]
    fn fast_and_incremental_paths_agree() {
        let mut seed: u64 = 0x9e3779b97f4a7c15;
        let mut rnd = move |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m.max(1)
        };
        for _ in 0..3000 {
            let mut data = Vec::new();
            for _ in 0..1 + rnd(6) {
                let n = rnd(20);
                data.extend_from_slice(format!("*{n}\r\n").as_bytes());
                for _ in 0..n {
                    let len = if rnd(10) == 0 { rnd(300) } else { rnd(12) };
                    data.extend_from_slice(format!("${len}\r\n").as_bytes());
                    for _ in 0..len {
                        data.push(b"ab\r\n$*0"[rnd(7) as usize]);
                    }
                    data.extend_from_slice(b"\r\n");
                }
            }
            // Damage some streams: flip, insert or drop a byte.
            if rnd(3) == 0 && !data.is_empty() {
                let at = rnd(data.len() as u64) as usize;
                match rnd(3) {
                    0 => data[at] = b"-0$*x\r9"[rnd(7) as usize],
                    1 => data.insert(at, b"0$*\r"[rnd(4) as usize]),
                    _ => {
                        data.remove(at);
                    }
                }
            }
            let whole = chunked(&data, &[data.len().max(1)]);
            let bytewise = chunked(&data, &[1]);
            let odd = chunked(&data, &[3, 7, 1, 50]);
            assert_eq!(whole, bytewise, "{:?}", String::from_utf8_lossy(&data));
            assert_eq!(whole, odd, "{:?}", String::from_utf8_lossy(&data));
        }
    }

    #[test]
    fn multibulk_and_pipelining() {
        let r = p(b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n*1\r\n$4\r\nPING\r\n").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0], vec![Bytes::from("GET"), Bytes::from("a")]);
        assert_eq!(r[1], vec![Bytes::from("PING")]);
    }

    #[test]
    fn incremental_reads_resume() {
        let full = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
        let mut parser = Parser::new();
        let mut buf = BytesMut::new();
        let lim = ParseLimits::default();
        let mut got = None;
        for &b in full.iter() {
            buf.extend_from_slice(&[b]);
            if let Some(r) = parser.next(&mut buf, &lim).unwrap() {
                got = Some(r);
            }
        }
        assert_eq!(got.unwrap()[2], Bytes::from("value"));
        assert!(buf.is_empty());
    }

    #[test]
    fn inline_commands_and_quotes() {
        let r = p(b"SET k \"a b\\x41\\n\" 'c\\'d'\r\nPING\n\r\n").unwrap();
        assert_eq!(
            r[0],
            vec![
                Bytes::from("SET"),
                Bytes::from("k"),
                Bytes::from("a bA\n"),
                Bytes::from("c'd")
            ]
        );
        assert_eq!(r[1], vec![Bytes::from("PING")]);
        assert_eq!(r.len(), 2);
        assert_eq!(
            p(b"SET \"abc\r\n").unwrap_err().0,
            "ERR Protocol error: unbalanced quotes in request"
        );
        assert_eq!(
            p(b"SET \"a\"b\r\n").unwrap_err().0,
            "ERR Protocol error: unbalanced quotes in request"
        );
    }

    #[test]
    fn malformed_input_gets_redis_texts() {
        assert_eq!(
            p(b"*3000000000\r\n").unwrap_err().0,
            "ERR Protocol error: invalid multibulk length"
        );
        assert_eq!(
            p(b"*x\r\n").unwrap_err().0,
            "ERR Protocol error: invalid multibulk length"
        );
        assert_eq!(
            p(b"*1\r\nfoo\r\n").unwrap_err().0,
            "ERR Protocol error: expected '$', got 'f'"
        );
        assert_eq!(
            p(b"*1\r\n$-1\r\n").unwrap_err().0,
            "ERR Protocol error: invalid bulk length"
        );
        assert_eq!(
            p(b"*1\r\n$600000000\r\n").unwrap_err().0,
            "ERR Protocol error: invalid bulk length"
        );
        // A huge but legal count is accepted and waits for data without allocating it.
        assert_eq!(p(b"*2147483647\r\n").unwrap().len(), 0);
        let big = vec![b'a'; PROTO_INLINE_MAX_SIZE + 1];
        assert_eq!(
            p(&big).unwrap_err().0,
            "ERR Protocol error: too big inline request"
        );
        assert!(p(b"*-1\r\n*0\r\n").unwrap().is_empty());
    }

    #[test]
    fn nul_byte_ends_an_inline_line() {
        assert!(p(b"\0\n").unwrap().is_empty());
        assert_eq!(
            p(b"PING\0junk\r\n").unwrap(),
            vec![vec![Bytes::from("PING")]]
        );
        // Every byte value alone on a line terminates (no endless split).
        for b in 0..=255u8 {
            let _ = p(&[b, b'\n']);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A cheap deterministic fuzz: every prefix of a mixed buffer.
        let seed =
            b"*2\r\n$3\r\nGET\r\n$-5\r\n*\r\n$\r\n\"'\\x\r\n*1\r\n$99999999999999999999\r\n\0\xff";
        for i in 0..seed.len() {
            for j in i..seed.len() {
                let _ = p(&seed[i..j]);
            }
        }
    }
}
