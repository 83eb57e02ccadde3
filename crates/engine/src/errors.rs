//! Redis's error replies, with its exact texts, in one place.

use lunakv_protocol::Reply;

pub fn wrongtype() -> Reply {
    Reply::err_static("WRONGTYPE Operation against a key holding the wrong kind of value")
}

pub fn syntax() -> Reply {
    Reply::err_static("ERR syntax error")
}

pub fn not_int() -> Reply {
    Reply::err_static("ERR value is not an integer or out of range")
}

pub fn not_float() -> Reply {
    Reply::err_static("ERR value is not a valid float")
}

pub fn no_such_key() -> Reply {
    Reply::err_static("ERR no such key")
}

pub fn overflow() -> Reply {
    Reply::err_static("ERR increment or decrement would overflow")
}

pub fn out_of_range() -> Reply {
    Reply::err_static("ERR index out of range")
}

pub fn db_index() -> Reply {
    Reply::err_static("ERR DB index is out of range")
}

pub fn invalid_expire(cmd: &str) -> Reply {
    Reply::err(format!("ERR invalid expire time in '{cmd}' command"))
}

pub fn wrong_args(full_name: &str) -> Reply {
    Reply::err(format!(
        "ERR wrong number of arguments for '{full_name}' command"
    ))
}

/// `ERR unknown subcommand 'x'. Try CMD HELP.`
pub fn unknown_subcommand(cmd: &[u8], sub: &[u8]) -> Reply {
    let sub = String::from_utf8_lossy(sub);
    let sub: String = sub.chars().take(128).collect();
    let cmd = String::from_utf8_lossy(cmd).to_uppercase();
    Reply::err(format!("ERR unknown subcommand '{sub}'. Try {cmd} HELP."))
}

/// `ERR unknown command 'x', with args beginning with: 'a' 'b' `, with the
/// client's bytes as they are (Redis's `%.128s` and `'%.*s' ` up to 128
/// bytes of arguments); CR and LF become spaces.
pub fn unknown_command(args: &[bytes::Bytes]) -> Reply {
    let name = args.first().map(|b| &b[..]).unwrap_or(b"");
    let mut out = b"ERR unknown command '".to_vec();
    out.extend_from_slice(&name[..name.len().min(128)]);
    out.extend_from_slice(b"', with args beginning with: ");
    let mut rest: Vec<u8> = Vec::new();
    for a in args.iter().skip(1) {
        if rest.len() >= 128 {
            break;
        }
        let room = 128 - rest.len();
        rest.push(b'\'');
        rest.extend_from_slice(&a[..a.len().min(room)]);
        rest.extend_from_slice(b"' ");
    }
    out.extend_from_slice(&rest);
    for c in out.iter_mut() {
        if *c == b'\r' || *c == b'\n' {
            *c = b' ';
        }
    }
    Reply::Error(bytes::Bytes::from(out))
}
