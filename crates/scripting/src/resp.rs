//! A small RESP2/RESP3 reply parser, used only for [`Reply::Raw`] replies
//! (bytes a handler already encoded) that a script must see as Lua values.

use bytes::Bytes;
use lunakv_protocol::Reply;

/// Nesting limit of parsed replies.
const MAX_DEPTH: usize = 512;

/// Parses one complete reply; `None` if the bytes are not exactly one
/// well-formed reply.
pub(crate) fn parse_reply(b: &[u8]) -> Option<Reply> {
    let mut pos = 0;
    let r = parse(b, &mut pos, 0)?;
    (pos == b.len()).then_some(r)
}

fn line<'a>(b: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    let start = *pos;
    let rel = b.get(start..)?.windows(2).position(|w| w == b"\r\n")?;
    *pos = start + rel + 2;
    Some(&b[start..start + rel])
}

fn int(s: &[u8]) -> Option<i64> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

fn blob<'a>(b: &'a [u8], pos: &mut usize, len: i64) -> Option<&'a [u8]> {
    let len = usize::try_from(len).ok()?;
    let end = pos.checked_add(len)?;
    let data = b.get(*pos..end)?;
    if b.get(end..end.checked_add(2)?)? != b"\r\n" {
        return None;
    }
    *pos = end + 2;
    Some(data)
}

fn items(b: &[u8], pos: &mut usize, n: i64, depth: usize) -> Option<Vec<Reply>> {
    let n = usize::try_from(n).ok()?;
    let mut v = Vec::with_capacity(n.min(1024));
    for _ in 0..n {
        v.push(parse(b, pos, depth + 1)?);
    }
    Some(v)
}

fn parse(b: &[u8], pos: &mut usize, depth: usize) -> Option<Reply> {
    if depth > MAX_DEPTH {
        return None;
    }
    let t = *b.get(*pos)?;
    *pos += 1;
    let l = line(b, pos)?;
    Some(match t {
        b'+' => Reply::Status(Bytes::copy_from_slice(l)),
        b'-' => Reply::Error(Bytes::copy_from_slice(l)),
        b':' => Reply::Int(int(l)?),
        b'$' => {
            let n = int(l)?;
            if n < 0 {
                Reply::Null
            } else {
                Reply::Bulk(Bytes::copy_from_slice(blob(b, pos, n)?))
            }
        }
        b'*' => {
            let n = int(l)?;
            if n < 0 {
                Reply::NullArray
            } else {
                Reply::Array(items(b, pos, n, depth)?)
            }
        }
        b'~' => Reply::Set(items(b, pos, int(l)?, depth)?),
        b'>' => Reply::Push(items(b, pos, int(l)?, depth)?),
        b'%' => {
            let flat = items(b, pos, int(l)?.checked_mul(2)?, depth)?;
            let mut it = flat.into_iter();
            let mut pairs = Vec::new();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                pairs.push((k, v));
            }
            Reply::Map(pairs)
        }
        b'|' => {
            // Attributes are skipped, as Redis does for scripts.
            items(b, pos, int(l)?.checked_mul(2)?, depth)?;
            parse(b, pos, depth + 1)?
        }
        b'_' => Reply::Null,
        b'#' => match l {
            b"t" => Reply::Bool(true),
            b"f" => Reply::Bool(false),
            _ => return None,
        },
        b',' => {
            let s = std::str::from_utf8(l).ok()?;
            Reply::Double(match s {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                _ => s.parse().ok()?,
            })
        }
        b'(' => Reply::BigNumber(Bytes::copy_from_slice(l)),
        b'=' => {
            let data = blob(b, pos, int(l)?)?;
            if data.len() < 4 || data[3] != b':' {
                return None;
            }
            Reply::Verbatim(
                [data[0], data[1], data[2]],
                Bytes::copy_from_slice(&data[4..]),
            )
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_replies() {
        let r = parse_reply(b"*3\r\n:1\r\n$2\r\nab\r\n%1\r\n+k\r\n#t\r\n").expect("valid");
        assert_eq!(
            r,
            Reply::Array(vec![
                Reply::Int(1),
                Reply::bulk(b"ab"),
                Reply::Map(vec![(Reply::status("k"), Reply::Bool(true))]),
            ])
        );
        assert_eq!(parse_reply(b"$-1\r\n"), Some(Reply::Null));
        assert_eq!(parse_reply(b"*1\r\n"), None);
        assert_eq!(
            parse_reply(b"=7\r\ntxt:abc\r\n"),
            Some(Reply::Verbatim(*b"txt", Bytes::from_static(b"abc")))
        );
    }
}
