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
    Reply::err(format!("ERR wrong number of arguments for '{full_name}' command"))
}

/// `ERR unknown subcommand 'x'. Try CMD HELP.`
pub fn unknown_subcommand(cmd: &[u8], sub: &[u8]) -> Reply {
    let sub = String::from_utf8_lossy(sub);
    let sub: String = sub.chars().take(128).collect();
    let cmd = String::from_utf8_lossy(cmd).to_uppercase();
    Reply::err(format!("ERR unknown subcommand '{sub}'. Try {cmd} HELP."))
}

/// `ERR unknown command 'x', with args beginning with: 'a' 'b' `.
pub fn unknown_command(args: &[bytes::Bytes]) -> Reply {
    let name = String::from_utf8_lossy(args.first().map(|b| &b[..]).unwrap_or(b""));
    let name: String = name.chars().take(128).collect();
    let mut rest = String::new();
    for a in args.iter().skip(1) {
        if rest.len() >= 128 {
            break;
        }
        let room = 128 - rest.len();
        let s = String::from_utf8_lossy(a);
        let mut piece = String::new();
        for ch in s.chars() {
            if piece.len() + ch.len_utf8() > room {
                break;
            }
            piece.push(ch);
        }
        rest.push('\'');
        rest.push_str(&piece);
        rest.push_str("' ");
    }
    Reply::err(format!("ERR unknown command '{name}', with args beginning with: {rest}"))
}
