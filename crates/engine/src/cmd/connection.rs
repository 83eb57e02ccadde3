//! Connection commands: PING, ECHO, QUIT, RESET, SELECT, AUTH, HELLO.

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::client::ReplyMode;
use crate::command::Cmd;
use crate::ctx::{eq_ic, Ctx};
use crate::errors;

/// Declares this family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    let g = "connection";
    v.push(
        Cmd::new(
            "ping",
            -1,
            "fast",
            (0, 0, 0),
            g,
            "Returns the server's liveliness response.",
            ping,
        )
        .syntax("[message]"),
    );
    v.push(
        Cmd::new(
            "echo",
            2,
            "fast loading stale",
            (0, 0, 0),
            g,
            "Returns the given string.",
            echo,
        )
        .syntax("message"),
    );
    v.push(Cmd::new(
        "quit",
        -1,
        "noscript loading stale fast no_auth allow_busy",
        (0, 0, 0),
        g,
        "Closes the connection.",
        quit,
    ));
    v.push(
        Cmd::new(
            "reset",
            1,
            "noscript loading stale fast no_auth allow_busy",
            (0, 0, 0),
            g,
            "Resets the connection.",
            reset,
        )
        .since("6.2.0"),
    );
    v.push(
        Cmd::new(
            "select",
            2,
            "loading stale fast",
            (0, 0, 0),
            g,
            "Changes the selected database.",
            select,
        )
        .syntax("index"),
    );
    v.push(
        Cmd::new(
            "auth",
            -2,
            "noscript loading stale fast no_auth allow_busy",
            (0, 0, 0),
            g,
            "Authenticates the connection.",
            auth,
        )
        .syntax("[username] password"),
    );
    v.push(
        Cmd::new(
            "hello",
            -1,
            "noscript loading stale fast no_auth allow_busy",
            (0, 0, 0),
            g,
            "Handshakes with the Redis server.",
            hello,
        )
        .since("6.0.0")
        .syntax("[protover [AUTH username password] [SETNAME clientname]]"),
    );
}

fn ping(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if args.len() > 2 {
        return errors::wrong_args("ping");
    }
    if ctx.client.subscriptions > 0 && ctx.client.resp == 2 {
        let msg = args.get(1).cloned().unwrap_or_default();
        return Reply::Array(vec![Reply::bulk(b"pong"), Reply::Bulk(msg)]);
    }
    match args.get(1) {
        Some(m) => Reply::Bulk(m.clone()),
        None => Reply::status("PONG"),
    }
}

fn echo(_ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    Reply::Bulk(args[1].clone())
}

fn quit(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    ctx.client.close_after_reply = true;
    Reply::ok()
}

fn reset(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    let id = ctx.client.id;
    // Redis's clearClientConnectionState: MONITOR, tracking, db, protocol,
    // authentication, MULTI, Pub/Sub, name, reply mode.
    ctx.eng.repl.monitors.retain(|(m, _)| *m != id);
    crate::tracking::disable(ctx.eng, id);
    ctx.client.user = "default".into();
    ctx.client.multi = None;
    ctx.eng.unwatch_all(ctx.client);
    crate::cmd::pubsub::on_client_freed(ctx.eng, ctx.client);
    ctx.client.db = 0;
    ctx.client.resp = 2;
    ctx.client.name = None;
    ctx.client.reply_mode = ReplyMode::On;
    ctx.client.no_evict = false;
    ctx.client.no_touch = false;
    ctx.client.authenticated = !ctx
        .eng
        .shared
        .auth_required
        .load(std::sync::atomic::Ordering::Relaxed);
    let _ = id;
    Reply::status("RESET")
}

fn select(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let Some(i) = lunakv_protocol::parse_i64(&args[1]) else {
        return Reply::err_static("ERR value is not an integer or out of range");
    };
    if i < 0 || i as usize >= ctx.eng.dbs.len() {
        return errors::db_index();
    }
    ctx.client.db = i as usize;
    Reply::ok()
}

/// Checks a user/password pair against `requirepass` (the only user until
/// ACLs exist is `default`).
fn check_password(ctx: &Ctx<'_>, user: &[u8], pass: &[u8]) -> bool {
    let required = ctx.eng.config.get("requirepass").unwrap_or("");
    if !user.eq_ignore_ascii_case(b"default") {
        return false;
    }
    required.is_empty() || required.as_bytes() == pass
}

fn auth(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if args.len() > 3 {
        return errors::syntax();
    }
    let (user, pass) = if args.len() == 3 {
        (&args[1][..], &args[2][..])
    } else {
        if ctx.eng.config.get("requirepass").unwrap_or("").is_empty() {
            return Reply::err_static(
                "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
            );
        }
        (&b"default"[..], &args[1][..])
    };
    if check_password(ctx, user, pass) {
        ctx.client.authenticated = true;
        ctx.client.user = String::from_utf8_lossy(user).into_owned();
        Reply::ok()
    } else {
        Reply::err_static("WRONGPASS invalid username-password pair or user is disabled.")
    }
}

fn hello(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let mut ver = 0;
    let mut i = 1;
    if args.len() >= 2 {
        let Some(v) = lunakv_protocol::parse_i64(&args[1]) else {
            return Reply::err_static("ERR Protocol version is not an integer or out of range");
        };
        if !(2..=3).contains(&v) {
            return Reply::err_static("NOPROTO unsupported protocol version");
        }
        ver = v as u8;
        i = 2;
    }
    let mut setname = None;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if eq_ic(&args[i], "auth") && more >= 2 {
            if !check_password(ctx, &args[i + 1], &args[i + 2]) {
                return Reply::err_static(
                    "WRONGPASS invalid username-password pair or user is disabled.",
                );
            }
            ctx.client.authenticated = true;
            i += 3;
        } else if eq_ic(&args[i], "setname") && more >= 1 {
            if let Err(e) = crate::cmd::introspection::validate_client_name(&args[i + 1]) {
                return e;
            }
            setname = Some(args[i + 1].clone());
            i += 2;
        } else {
            return Reply::err(format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(&args[i])
            ));
        }
    }
    if !ctx.client.authenticated {
        return Reply::err_static("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
    }
    if let Some(n) = setname {
        ctx.client.name = if n.is_empty() {
            None
        } else {
            Some(Bytes::copy_from_slice(&n))
        };
    }
    if ver != 0 {
        ctx.client.resp = ver;
    }
    let b = |s: &str| Reply::bulk_str(s.to_string());
    Reply::Map(vec![
        (b("server"), b("redis")),
        (b("version"), b(crate::REDIS_VERSION)),
        (b("proto"), Reply::Int(ctx.client.resp as i64)),
        (b("id"), Reply::Int(ctx.client.id as i64)),
        (b("mode"), b("standalone")),
        (b("role"), b("master")),
        (b("modules"), Reply::Array(vec![])),
    ])
}
