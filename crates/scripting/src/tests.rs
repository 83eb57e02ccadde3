//! Engine tests with an in-memory fake host. Expected texts were taken
//! from a real Redis 7.0.15 (`redis-cli eval ...`).

use std::collections::HashMap;

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::{CallOptions, Host, LogLevel, ScriptEngine, ScriptFlags};

/// A tiny server: GET/SET/INCR/DEL/PING/HSET/HGETALL plus commands that
/// return every reply type.
#[derive(Default)]
struct FakeHost {
    db: HashMap<Bytes, Bytes>,
    hashes: HashMap<Bytes, Vec<(Bytes, Bytes)>>,
    logs: Vec<(LogLevel, Vec<u8>)>,
    repl: Option<i32>,
    calls: usize,
    interrupts: usize,
    kill_after: Option<usize>,
    last_opts: Option<(u8, bool, bool, bool, Vec<Bytes>)>,
    runs: usize,
}

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

impl Host for FakeHost {
    fn call(&mut self, args: &[Bytes], opts: &CallOptions<'_>) -> Reply {
        self.calls += 1;
        self.last_opts = Some((
            opts.resp,
            opts.read_only,
            opts.allow_oom,
            opts.has_shebang,
            opts.keys.to_vec(),
        ));
        let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
        let write = matches!(name.as_str(), "set" | "incr" | "del" | "hset");
        if write && opts.read_only {
            return Reply::err_static("ERR Write commands are not allowed from read-only scripts.");
        }
        let arity = |n: usize| args.len() == n;
        match name.as_str() {
            "ping" if arity(1) => Reply::status("PONG"),
            "ping" if arity(2) => Reply::Bulk(args[1].clone()),
            "ping" => Reply::err_static("ERR wrong number of arguments for 'ping' command"),
            "get" if arity(2) => self
                .db
                .get(&args[1])
                .map_or(Reply::Null, |v| Reply::Bulk(v.clone())),
            "set" if arity(3) => {
                self.db.insert(args[1].clone(), args[2].clone());
                Reply::ok()
            }
            "del" => Reply::Int(
                args[1..]
                    .iter()
                    .filter(|k| self.db.remove(*k).is_some())
                    .count() as i64,
            ),
            "incr" if arity(2) => {
                let cur = self
                    .db
                    .get(&args[1])
                    .map_or(Some(0), |v| lunakv_protocol::parse_i64(v));
                match cur {
                    Some(n) => {
                        self.db.insert(args[1].clone(), b(&(n + 1).to_string()));
                        Reply::Int(n + 1)
                    }
                    None => Reply::err_static("ERR value is not an integer or out of range"),
                }
            }
            "hset" => {
                let h = self.hashes.entry(args[1].clone()).or_default();
                h.push((args[2].clone(), args[3].clone()));
                Reply::Int(1)
            }
            "hgetall" => {
                let h = self.hashes.get(&args[1]).cloned().unwrap_or_default();
                Reply::Map(
                    h.into_iter()
                        .map(|(k, v)| (Reply::Bulk(k), Reply::Bulk(v)))
                        .collect(),
                )
            }
            "wrongtype" => Reply::err_static(
                "WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            "types" => Reply::Array(vec![
                Reply::Double(1.5),
                Reply::Bool(true),
                Reply::Bool(false),
                Reply::Null,
                Reply::BigNumber(b("1234567890123456789012")),
                Reply::Verbatim(*b"txt", b("hello")),
                Reply::Set(vec![Reply::bulk(b"a")]),
                Reply::Map(vec![(Reply::bulk(b"k"), Reply::Int(7))]),
                Reply::NullArray,
            ]),
            "raw" => Reply::Raw(b("*2\r\n:1\r\n$3\r\nabc\r\n")),
            "get" | "set" | "incr" => Reply::err(format!(
                "ERR wrong number of arguments for '{name}' command"
            )),
            "echo" if arity(2) => Reply::Bulk(args[1].clone()),
            "echo" => {
                Reply::err_static("ERR Wrong number of args calling Redis command from script")
            }
            _ => Reply::err_static("ERR Unknown Redis command called from script"),
        }
    }

    fn acl_check_cmd(&mut self, args: &[Bytes]) -> Result<bool, Reply> {
        match &args[0][..] {
            b"get" => Ok(true),
            b"set" => Ok(false),
            _ => Err(Reply::err_static(
                "ERR Invalid command passed to redis.acl_check_cmd()",
            )),
        }
    }

    fn log(&mut self, level: LogLevel, msg: &[u8]) {
        self.logs.push((level, msg.to_vec()));
    }

    fn interrupt(&mut self) -> Option<Reply> {
        self.interrupts += 1;
        match self.kill_after {
            Some(n) if self.interrupts > n => Some(Reply::err_static(
                "ERR Script killed by user with SCRIPT KILL...",
            )),
            _ => None,
        }
    }

    fn set_repl(&mut self, flags: i32) {
        self.repl = Some(flags);
    }

    fn before_run(&mut self, flags: ScriptFlags, read_only: bool) -> Result<(), Reply> {
        self.runs += 1;
        flags.check_ro_command(read_only)
    }
}

struct T {
    e: ScriptEngine,
    h: FakeHost,
}

impl T {
    fn new() -> T {
        T {
            e: ScriptEngine::new().expect("engine"),
            h: FakeHost::default(),
        }
    }

    fn eval_args(&mut self, body: &str, keys: &[&str], argv: &[&str]) -> Reply {
        let keys: Vec<Bytes> = keys.iter().map(|s| b(s)).collect();
        let argv: Vec<Bytes> = argv.iter().map(|s| b(s)).collect();
        self.e
            .eval(&mut self.h, body.as_bytes(), &keys, &argv, false)
    }

    fn eval(&mut self, body: &str) -> Reply {
        self.eval_args(body, &[], &[])
    }

    fn eval_ro(&mut self, body: &str) -> Reply {
        self.e.eval(&mut self.h, body.as_bytes(), &[], &[], true)
    }

    /// Evaluates and returns the error text (panics on success).
    fn err(&mut self, body: &str) -> String {
        match self.eval(body) {
            Reply::Error(e) => String::from_utf8_lossy(&e).into_owned(),
            other => panic!("expected an error from {body:?}, got {other:?}"),
        }
    }
}

fn sha(body: &str) -> String {
    crate::sha1_hex(body.as_bytes())
}

fn bulk(s: &str) -> Reply {
    Reply::bulk(s.as_bytes())
}

#[test]
fn return_values_resp2() {
    let mut t = T::new();
    assert_eq!(t.eval("return 1"), Reply::Int(1));
    assert_eq!(t.eval("return 3.99"), Reply::Int(3));
    assert_eq!(t.eval("return -3.99"), Reply::Int(-3));
    assert_eq!(t.eval("return 0/0"), Reply::Int(i64::MIN));
    assert_eq!(t.eval("return 1/0"), Reply::Int(i64::MIN));
    assert_eq!(t.eval("return 1e300"), Reply::Int(i64::MIN));
    assert_eq!(t.eval("return 'x'"), bulk("x"));
    assert_eq!(t.eval("return"), Reply::Null);
    assert_eq!(t.eval("return nil"), Reply::Null);
    assert_eq!(t.eval("return true"), Reply::Int(1));
    assert_eq!(t.eval("return false"), Reply::Null);
    assert_eq!(
        t.eval("return {1,2,nil,4}"),
        Reply::Array(vec![Reply::Int(1), Reply::Int(2)])
    );
    assert_eq!(
        t.eval("return {1,'a',{2,{3}},true,false}"),
        Reply::Array(vec![
            Reply::Int(1),
            bulk("a"),
            Reply::Array(vec![Reply::Int(2), Reply::Array(vec![Reply::Int(3)])]),
            Reply::Int(1),
            Reply::Null,
        ])
    );
    assert_eq!(t.eval("return {ok='fine'}"), Reply::status("fine"));
    assert_eq!(t.eval("return {ok='a\\r\\nb'}"), Reply::status("a  b"));
    assert_eq!(t.eval("return {ok='a\\0b'}"), Reply::status("a"));
    assert_eq!(t.eval("return {err='My Error'}"), Reply::err("My Error"));
    assert_eq!(t.eval("return {err=5}"), Reply::Array(vec![]));
    assert_eq!(
        t.eval("return redis.error_reply('My Error')"),
        Reply::err("My Error")
    );
    assert_eq!(
        t.eval("return redis.error_reply('-X y')"),
        Reply::err("X y")
    );
    assert_eq!(
        t.eval("return redis.status_reply('a\\r\\nb')"),
        Reply::status("a  b")
    );
    assert_eq!(t.eval("return {double=1.5}"), Reply::Double(1.5));
    assert_eq!(t.eval("return {double='1.5'}"), Reply::Array(vec![]));
    assert_eq!(
        t.eval("return {big_number='123'}"),
        Reply::BigNumber(b("123"))
    );
    assert_eq!(
        t.eval("return {map={a=1}}"),
        Reply::Map(vec![(bulk("a"), Reply::Int(1))])
    );
    assert_eq!(t.eval("return {set={a=true}}"), Reply::Set(vec![bulk("a")]));
    assert_eq!(
        t.eval("return {verbatim_string={format='txt', string='x'}}"),
        Reply::Verbatim(*b"txt", b("x"))
    );
    assert_eq!(
        t.eval("return {verbatim_string={format='a', string='x'}}"),
        Reply::Verbatim(*b"a  ", b("x"))
    );
    assert_eq!(t.eval("return function() end"), Reply::Null);
}

#[test]
fn return_values_resp3() {
    let mut t = T::new();
    assert_eq!(t.eval("redis.setresp(3) return true"), Reply::Bool(true));
    assert_eq!(t.eval("redis.setresp(3) return false"), Reply::Bool(false));
    assert_eq!(
        t.eval("redis.setresp(3) return {true, false}"),
        Reply::Array(vec![Reply::Bool(true), Reply::Bool(false)])
    );
    // The protocol resets to RESP2 for the next script.
    assert_eq!(t.eval("return true"), Reply::Int(1));
}

#[test]
fn keys_and_argv() {
    let mut t = T::new();
    let r = t.eval_args(
        "return {KEYS[1], KEYS[2], ARGV[1], #ARGV}",
        &["k1", "k2"],
        &["a1", "a2", "a3"],
    );
    assert_eq!(
        r,
        Reply::Array(vec![bulk("k1"), bulk("k2"), bulk("a1"), Reply::Int(3)])
    );
    // KEYS tables are fresh and writable per run.
    assert_eq!(
        t.eval_args("KEYS[1] = 'x' return KEYS[1]", &["k"], &[]),
        bulk("x")
    );
    assert_eq!(t.eval_args("return KEYS[1]", &["k"], &[]), bulk("k"));
    // The tables are reused between runs, but never as a script left them.
    let shape = "local n = 0 for _ in pairs(KEYS) do n = n + 1 end \
                 return {n, #KEYS, #ARGV, tostring(getmetatable(KEYS)), KEYS.extra or 'none'}";
    let fresh = |n: i64, argc: i64| {
        Reply::Array(vec![
            Reply::Int(n),
            Reply::Int(n),
            Reply::Int(argc),
            bulk("nil"),
            bulk("none"),
        ])
    };
    assert_eq!(
        t.eval_args(shape, &["a", "b", "c"], &["x", "y"]),
        fresh(3, 2)
    );
    assert_eq!(t.eval_args(shape, &["a"], &[]), fresh(1, 0));
    t.eval_args("KEYS.extra = 1 KEYS[5] = 'z' return 1", &["a"], &[]);
    assert_eq!(t.eval_args(shape, &["a", "b"], &["x"]), fresh(2, 1));
    t.eval_args(
        "setmetatable(KEYS, {}) setmetatable(ARGV, {}) return 1",
        &["a"],
        &["x"],
    );
    assert_eq!(t.eval_args(shape, &["a", "b"], &["x"]), fresh(2, 1));
    t.eval_args("KEYS[2] = nil return 1", &["a", "b"], &[]);
    assert_eq!(t.eval_args(shape, &["a", "b", "c"], &[]), fresh(3, 0));
    t.eval_args("return redis.call('get', KEYS[1])", &["k9"], &[]);
    assert_eq!(
        t.h.last_opts.as_ref().map(|o| o.4.clone()),
        Some(vec![b("k9")])
    );
}

#[test]
fn redis_call_and_conversions() {
    let mut t = T::new();
    assert_eq!(
        t.eval("return redis.call('set', 'k', 'v')"),
        Reply::status("OK")
    );
    assert_eq!(t.eval("return redis.call('get', 'k')"), bulk("v"));
    assert_eq!(t.eval("return redis.call('incr', 'n')"), Reply::Int(1));
    assert_eq!(t.eval("return redis.call('get', 'nokey')"), Reply::Null);
    assert_eq!(
        t.eval("return type(redis.call('get', 'nokey'))"),
        bulk("boolean")
    );
    assert_eq!(t.eval("return redis.call('ping')"), Reply::status("PONG"));
    assert_eq!(t.eval("return redis.call('ping').ok"), bulk("PONG"));
    // Numbers are sent with %.17g.
    t.eval("redis.call('set', 'f', 0.1)");
    assert_eq!(t.h.db.get(&b("f")), Some(&b("0.10000000000000001")));
    t.eval("redis.call('set', 'f', 1e15)");
    assert_eq!(t.h.db.get(&b("f")), Some(&b("1000000000000000")));
    t.eval("redis.call('set', 'f', -0.0)");
    assert_eq!(t.h.db.get(&b("f")), Some(&b("-0")));
    t.eval("redis.call('set', 'f', 5)");
    assert_eq!(t.h.db.get(&b("f")), Some(&b("5")));
    // Raw replies are parsed.
    assert_eq!(
        t.eval("return redis.call('raw')"),
        Reply::Array(vec![Reply::Int(1), bulk("abc")])
    );
}

#[test]
fn resp2_view_of_resp3_replies() {
    let mut t = T::new();
    let r = t.eval(
        "local r = redis.call('types') \
         return {r[1], r[2], r[3], type(r[4]), r[5], r[6], r[7][1], r[8][1], r[8][2], type(r[9])}",
    );
    assert_eq!(
        r,
        Reply::Array(vec![
            bulk("1.5"),
            Reply::Int(1),
            Reply::Int(0),
            bulk("boolean"),
            bulk("1234567890123456789012"),
            bulk("hello"),
            bulk("a"),
            bulk("k"),
            Reply::Int(7),
            bulk("boolean"),
        ])
    );
}

#[test]
fn resp3_view_of_replies() {
    let mut t = T::new();
    let r = t.eval(
        "redis.setresp(3) local r = redis.call('types') \
         return {r[1].double, tostring(r[2]), tostring(r[3]), type(r[4]), r[5].big_number, \
                 r[6].verbatim_string.format, r[6].verbatim_string.string, tostring(r[7].set.a), \
                 r[8].map.k, type(r[9])}",
    );
    assert_eq!(
        r,
        Reply::Array(vec![
            Reply::Int(1),
            bulk("true"),
            bulk("false"),
            bulk("nil"),
            bulk("1234567890123456789012"),
            bulk("txt"),
            bulk("hello"),
            bulk("true"),
            Reply::Int(7),
            bulk("nil"),
        ])
    );
    // Returned as they came: RESP3 types go back to the caller.
    t.h.hashes.insert(b("h"), vec![(b("f"), b("v"))]);
    assert_eq!(
        t.eval("redis.setresp(3) return redis.call('hgetall', 'h')"),
        Reply::Map(vec![(bulk("f"), bulk("v"))])
    );
    assert_eq!(
        t.eval("return redis.call('hgetall', 'h')"),
        Reply::Array(vec![bulk("f"), bulk("v")])
    );
    assert_eq!(
        t.eval("redis.setresp(3) return redis.call('types')[1]"),
        Reply::Double(1.5)
    );
    assert_eq!(t.h.last_opts.as_ref().map(|o| o.0), Some(3));
}

#[test]
fn error_texts() {
    let mut t = T::new();
    let s = sha("a = 1");
    assert_eq!(
        t.err("a = 1"),
        format!(
            "ERR user_script:1: Attempt to modify a readonly table script: {s}, on @user_script:1."
        )
    );
    let s = sha("return a");
    assert_eq!(
        t.err("return a"),
        format!(
            "ERR user_script:1: Script attempted to access nonexistent global variable 'a' script: {s}, on @user_script:1."
        )
    );
    let body = "local x = 1\nreturn b.c";
    assert_eq!(
        t.err(body),
        format!(
            "ERR user_script:2: Script attempted to access nonexistent global variable 'b' script: {}, on @user_script:2.",
            sha(body)
        )
    );
    assert_eq!(
        t.err("return 'a' .."),
        "ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'"
    );
    let body = "error({err='X y'})";
    assert_eq!(
        t.err(body),
        format!("X y script: {}, on @user_script:1.", sha(body))
    );
    let body = "error(nil)";
    assert_eq!(
        t.err(body),
        format!("ERR nil script: {}, on @user_script:1.", sha(body))
    );
    let body = "error(12)";
    assert_eq!(
        t.err(body),
        format!(
            "ERR user_script:1: 12 script: {}, on @user_script:1.",
            sha(body)
        )
    );
    let body = "error({err=5})";
    assert_eq!(
        t.err(body),
        format!("5 script: {}, on @user_script:1.", sha(body))
    );
    let body = "return redis.call('nosuch')";
    assert_eq!(
        t.err(body),
        format!(
            "ERR Unknown Redis command called from script script: {}, on @user_script:1.",
            sha(body)
        )
    );
    let body = "return redis.call('wrongtype')";
    assert_eq!(
        t.err(body),
        format!(
            "WRONGTYPE Operation against a key holding the wrong kind of value script: {}, on @user_script:1.",
            sha(body)
        )
    );
    let body = "return redis.call()";
    assert_eq!(
        t.err(body),
        format!(
            "ERR Please specify at least one argument for this redis lib call script: {}, on @user_script:1.",
            sha(body)
        )
    );
    let body = "return redis.call({})";
    assert_eq!(
        t.err(body),
        format!(
            "ERR Lua redis lib command arguments must be strings or integers script: {}, on @user_script:1.",
            sha(body)
        )
    );
    let body = "return coroutine.wrap(function() error('x') end)()";
    assert_eq!(
        t.err(body),
        format!(
            "ERR user_script:1: user_script:1: x script: {}, on @user_script:1.",
            sha(body)
        )
    );
    let body = "return math.random('x')";
    assert_eq!(
        t.err(body),
        format!(
            "ERR user_script:1: bad argument #1 to 'random' (number expected, got string) script: {}, on @user_script:1.",
            sha(body)
        )
    );
    let body = "local function f() return f() + 1 end return f()";
    assert_eq!(
        t.err(body),
        format!(
            "ERR user_script:1: stack overflow script: {}, on @user_script:1.",
            sha(body)
        )
    );
    let body = "\n\nredis.call('wrongtype')";
    assert!(t.err(body).ends_with("on @user_script:3."));
}

#[test]
fn odd_error_objects_do_not_crash() {
    let mut t = T::new();
    let body = "error({})";
    assert_eq!(
        t.err(body),
        format!(
            "ERR unknown error script: {}, on @user_script:1.",
            sha(body)
        )
    );
    for body in [
        "error(string)",
        "error(_G)",
        "error(function() end)",
        "error(coroutine.create(function() end))",
        "error(setmetatable({}, {__index = function() error('boom') end}))",
        "error(setmetatable({}, {__tostring = function() error('boom') end}))",
        "error(KEYS)",
    ] {
        let e = t.err(body);
        assert!(e.starts_with("ERR"), "{body}: {e}");
    }
    assert_eq!(
        t.err("error(true)"),
        format!(
            "ERR true script: {}, on @user_script:1.",
            sha("error(true)")
        )
    );
}

#[test]
fn pcall_and_error_tables() {
    let mut t = T::new();
    assert_eq!(
        t.eval("local r = redis.pcall('nosuch') return r.err"),
        bulk("ERR Unknown Redis command called from script")
    );
    assert_eq!(
        t.eval("local r = redis.pcall('wrongtype') return r"),
        Reply::err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(
        t.eval("return {pcall(redis.call, 'nosuch')}"),
        Reply::Array(vec![
            Reply::Null,
            bulk("ERR Unknown Redis command called from script")
        ])
    );
    assert_eq!(
        t.eval("return {pcall(error, {err=5})}"),
        Reply::Array(vec![Reply::Null, Reply::Int(5)])
    );
    assert_eq!(
        t.eval("return select('#', pcall(error, {}))"),
        Reply::Int(3)
    );
    assert_eq!(
        t.eval("return redis.pcall().err"),
        bulk("ERR Please specify at least one argument for this redis lib call")
    );
    assert_eq!(
        t.eval("return {pcall(function() return 1, 2 end)}"),
        Reply::Array(vec![Reply::Int(1), Reply::Int(1), Reply::Int(2)])
    );
    assert_eq!(
        t.eval("local ok, e = pcall(function() x = 1 end) return e"),
        bulk("user_script:1: Attempt to modify a readonly table")
    );
    assert_eq!(
        t.eval("return {pcall()}"),
        Reply::Array(vec![Reply::Null, bulk("attempt to call a boolean value")])
    );
    assert_eq!(
        t.eval(
            "return {xpcall(function() error('e') end, function(m) return 'handled: ' .. m end)}"
        ),
        Reply::Array(vec![Reply::Null, bulk("handled: user_script:1: e")])
    );
    assert_eq!(
        t.eval("return redis.error_reply()"),
        Reply::err("ERR wrong number or type of arguments")
    );
    assert_eq!(
        t.eval("return redis.status_reply(1)"),
        Reply::err("ERR wrong number or type of arguments")
    );
}

#[test]
fn redis_api_misc() {
    let mut t = T::new();
    assert_eq!(
        t.eval("return redis.sha1hex('')"),
        bulk("da39a3ee5e6b4b0d3255bfef95601890afd80709")
    );
    let body = "return redis.sha1hex()";
    assert_eq!(
        t.err(body),
        format!(
            "ERR wrong number of arguments script: {}, on @user_script:1.",
            sha(body)
        )
    );
    assert_eq!(t.eval("return redis.REDIS_VERSION"), bulk("7.0.15"));
    assert_eq!(t.eval("return redis.REDIS_VERSION_NUM"), Reply::Int(458767));
    assert_eq!(t.eval("return redis.breakpoint()"), Reply::Null);
    assert_eq!(t.eval("return redis.debug('x')"), Reply::Null);
    assert_eq!(t.eval("return redis.replicate_commands()"), Reply::Int(1));
    assert_eq!(
        t.eval(
            "return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING, redis.REPL_NONE, \
             redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}"
        ),
        Reply::Array([0, 1, 2, 3, 0, 1, 2, 2, 3].into_iter().map(Reply::Int).collect())
    );
    t.eval("redis.log(redis.LOG_WARNING, 'hello', 1.5, {}, 'x')");
    assert_eq!(
        t.h.logs.last(),
        Some(&(LogLevel::Warning, b"hello 1.5 x".to_vec()))
    );
    for (body, msg) in [
        (
            "redis.log(redis.LOG_WARNING)",
            "ERR redis.log() requires two arguments or more.",
        ),
        (
            "redis.log('x', 'y')",
            "ERR First argument must be a number (log level).",
        ),
        ("redis.log(9, 'y')", "ERR Invalid debug level."),
        (
            "redis.set_repl()",
            "ERR redis.set_repl() requires two arguments.",
        ),
        (
            "redis.set_repl(9)",
            "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
        ),
        ("redis.setresp(4)", "ERR RESP version must be 2 or 3."),
        (
            "redis.setresp()",
            "ERR redis.setresp() requires one argument.",
        ),
        (
            "return redis.acl_check_cmd('nosuch')",
            "ERR Invalid command passed to redis.acl_check_cmd()",
        ),
        (
            "return redis.acl_check_cmd()",
            "ERR Please specify at least one argument for this redis lib call",
        ),
        (
            "return math.random(1,2,3)",
            "ERR user_script:1: wrong number of arguments",
        ),
        (
            "math.randomseed()",
            "ERR user_script:1: bad argument #1 to 'randomseed' (number expected, got no value)",
        ),
    ] {
        assert_eq!(
            t.err(body),
            format!("{msg} script: {}, on @user_script:1.", sha(body)),
            "{body}"
        );
    }
    t.eval("redis.set_repl(redis.REPL_AOF)");
    assert_eq!(t.h.repl, Some(1));
    assert_eq!(
        t.eval("return redis.acl_check_cmd('get', 'x')"),
        Reply::Int(1)
    );
    assert_eq!(
        t.eval("return redis.acl_check_cmd('set', 'x', 'y')"),
        Reply::Null
    );
}

#[test]
fn math_random_is_redis_sequence() {
    // The generator outlives VMs like Redis's, so a fresh VM on this test's
    // thread starts from lrand48's initial state: 0, 9, 7 as on Redis.
    let mut t = T::new();
    assert_eq!(
        t.eval("return {math.random() * 0, math.random(10), math.random(5,10)}"),
        Reply::Array(vec![Reply::Int(0), Reply::Int(9), Reply::Int(7)])
    );
    let a = t.eval("math.randomseed(42) return {math.random(1000), math.random(1000)}");
    let b2 = t.eval("math.randomseed(42) return {math.random(1000), math.random(1000)}");
    assert_eq!(a, b2);
}

fn names(r: Reply) -> Vec<String> {
    let Reply::Array(items) = r else {
        panic!("array expected, got {r:?}")
    };
    items
        .iter()
        .map(|r| match r {
            Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
            _ => String::new(),
        })
        .collect()
}

#[test]
fn globals_are_redis_globals() {
    let mut t = T::new();
    let got =
        names(t.eval("local t={} for k,v in pairs(_G) do t[#t+1]=k end table.sort(t) return t"));
    let mut expected = vec![
        "ARGV",
        "KEYS",
        "_G",
        "_VERSION",
        "__redis__err__handler",
        "assert",
        "collectgarbage",
        "coroutine",
        "error",
        "gcinfo",
        "getmetatable",
        "ipairs",
        "load",
        "loadstring",
        "math",
        "next",
        "pairs",
        "pcall",
        "rawequal",
        "rawget",
        "rawset",
        "redis",
        "select",
        "setmetatable",
        "string",
        "table",
        "tonumber",
        "tostring",
        "type",
        "unpack",
        "xpcall",
    ];
    // The Rust versions of Redis's libraries, as far as they exist yet.
    for lib in ["bit", "cjson", "cmsgpack", "struct"] {
        if got.iter().any(|n| n == lib) {
            expected.push(lib);
        }
    }
    expected.sort();
    assert_eq!(got, expected);
    let r = t.eval("local t={} for k,v in pairs(redis) do t[#t+1]=k end table.sort(t) return table.concat(t, ' ')");
    assert_eq!(
        r,
        bulk(
            "LOG_DEBUG LOG_NOTICE LOG_VERBOSE LOG_WARNING REDIS_VERSION REDIS_VERSION_NUM REPL_ALL REPL_AOF \
             REPL_NONE REPL_REPLICA REPL_SLAVE acl_check_cmd breakpoint call debug error_reply log pcall \
             replicate_commands set_repl setresp sha1hex status_reply"
        )
    );
    for name in [
        "print", "loadfile", "dofile", "setfenv", "getfenv", "newproxy", "debug", "os", "io",
        "require", "package", "module",
    ] {
        let body = format!("return {name}");
        assert!(
            t.err(&body)
                .contains(&format!("nonexistent global variable '{name}'")),
            "{name}"
        );
    }
    assert_eq!(t.eval("return _VERSION"), bulk("Lua 5.1"));
    assert_eq!(t.eval("return type(getmetatable(_G))"), bulk("table"));
    assert_eq!(t.eval("return type(getmetatable(string))"), bulk("nil"));
    assert_eq!(t.eval("return rawget(_G, 'redis') == redis"), Reply::Int(1));
    assert_eq!(
        t.eval("return rawget(string, 'upper') == string.upper"),
        Reply::Int(1)
    );
    assert_eq!(t.eval("return next(redis) ~= nil"), Reply::Int(1));
    assert_eq!(t.eval("return _G._G == _G"), Reply::Int(1));
    assert_eq!(t.eval("return ('abc'):upper()"), bulk("ABC"));
    assert_eq!(
        t.eval("return getmetatable('').__index == string"),
        Reply::Int(1)
    );
}

#[test]
fn sandbox_write_paths_are_closed() {
    let mut t = T::new();
    let cases = [
        (
            "string.x = 1",
            "user_script:1: Attempt to modify a readonly table",
        ),
        (
            "string.upper = nil",
            "user_script:1: Attempt to modify a readonly table",
        ),
        (
            "getmetatable('').__index.x = 1",
            "user_script:1: Attempt to modify a readonly table",
        ),
        (
            "getmetatable('').__index = 1",
            "user_script:1: Attempt to modify a readonly table",
        ),
        (
            "getmetatable(_G).__index = nil",
            "user_script:1: Attempt to modify a readonly table",
        ),
        (
            "redis.call = nil",
            "user_script:1: Attempt to modify a readonly table",
        ),
        (
            "_G.x = 1",
            "user_script:1: Attempt to modify a readonly table",
        ),
        (
            "_G._G.redis = 1",
            "user_script:1: Attempt to modify a readonly table",
        ),
        (
            "math.random = function() return 4 end",
            "user_script:1: Attempt to modify a readonly table",
        ),
        ("rawset(_G, 'x', 1)", "Attempt to modify a readonly table"),
        (
            "rawset(string, 'upper', 1)",
            "Attempt to modify a readonly table",
        ),
        (
            "rawset(getmetatable(''), '__index', {})",
            "Attempt to modify a readonly table",
        ),
        (
            "setmetatable(_G, nil)",
            "Attempt to modify a readonly table",
        ),
        (
            "setmetatable(string, {})",
            "Attempt to modify a readonly table",
        ),
        (
            "setmetatable(getmetatable(''), {})",
            "Attempt to modify a readonly table",
        ),
        ("table.insert(_G, 1)", "Attempt to modify a readonly table"),
        (
            "table.insert(string, 1, 'x')",
            "Attempt to modify a readonly table",
        ),
        (
            "table.insert(redis, 'x')",
            "Attempt to modify a readonly table",
        ),
    ];
    for (body, msg) in cases {
        assert_eq!(
            t.err(body),
            format!("ERR {msg} script: {}, on @user_script:1.", sha(body)),
            "{body}"
        );
    }
    // Sorting or removing on the (array-less) libraries changes nothing.
    assert_eq!(
        t.eval("table.sort(string) table.remove(string) return 1"),
        Reply::Int(1)
    );
    // Nothing leaked into later scripts.
    assert_eq!(
        t.eval("return {#string, #_G, rawget(string, 1)}"),
        Reply::Array(vec![Reply::Int(0), Reply::Int(0)])
    );
    assert_eq!(t.eval("return type(string.upper)"), bulk("function"));
    assert_eq!(t.eval("return type(redis.call)"), bulk("function"));
    assert_eq!(t.eval("return math.random(1, 1)"), Reply::Int(1));
    // Scripts cannot keep state in globals across runs.
    assert!(t
        .err("counter = (counter or 0) + 1 return counter")
        .contains("nonexistent global variable 'counter'"));
    // Ordinary tables keep working.
    assert_eq!(
        t.eval(
            "local x = {} rawset(x, 'a', 1) setmetatable(x, {__index = function() return 2 end}) \
             table.insert(x, 5) table.insert(x, 1, 4) return {x.a, x.b, x[1], x[2]}"
        ),
        Reply::Array(vec![
            Reply::Int(1),
            Reply::Int(2),
            Reply::Int(4),
            Reply::Int(5)
        ])
    );
}

#[test]
fn bytecode_is_refused() {
    let mut t = T::new();
    assert_eq!(
        t.eval("return select(2, loadstring(string.dump(function() return 1 end)))"),
        bulk("[string \"\x1bLuaQ\"]:1: unexpected symbol near 'char(27)'")
    );
    assert_eq!(
        t.eval(
            "local s = string.dump(function() return 1 end) local done = false \
             return select(2, load(function() if done then return nil end done = true return s end))"
        ),
        bulk("(load):1: unexpected symbol near 'char(27)'")
    );
    assert_eq!(
        t.eval("return select(2, loadstring('return +', 'foo'))"),
        bulk("[string \"foo\"]:1: unexpected symbol near '+'")
    );
    assert_eq!(t.eval("return loadstring('return 1')()"), Reply::Int(1));
    assert_eq!(
        t.eval("local n = 0 return load(function() n = n + 1 if n == 1 then return 'return 7' end end)()"),
        Reply::Int(7)
    );
    let body = "return loadstring('x = 1')()";
    assert_eq!(
        t.err(body),
        format!(
            "ERR [string \"x = 1\"]:1: Attempt to modify a readonly table script: {}, on x = 1:1.",
            sha(body)
        )
    );
    let r = t.e.eval(&mut t.h, b"\x1bLuaQ\x00\x01", &[], &[], false);
    assert_eq!(
        r,
        Reply::err("ERR Error compiling script (new function): user_script:1: unexpected symbol near 'char(27)'")
    );
}

#[test]
fn script_cache_and_lru() {
    let mut t = T::new();
    let s = t.e.load(b"return 'loaded'").expect("load");
    assert_eq!(s, sha("return 'loaded'"));
    assert!(t.e.exists(s.as_bytes()));
    assert!(t.e.exists(s.to_uppercase().as_bytes()));
    let r =
        t.e.evalsha(&mut t.h, s.to_uppercase().as_bytes(), &[], &[], false);
    assert_eq!(r, bulk("loaded"));
    let noscript = Reply::err("NOSCRIPT No matching script. Please use EVAL.");
    assert_eq!(
        t.e.evalsha(
            &mut t.h,
            b"ffffffffffffffffffffffffffffffffffffffff",
            &[],
            &[],
            false
        ),
        noscript
    );
    assert_eq!(t.e.evalsha(&mut t.h, b"abc", &[], &[], false), noscript);
    assert_eq!(
        t.e.load(b"return +"),
        Err(Reply::err(
            "ERR Error compiling script (new function): user_script:1: unexpected symbol near '+'"
        ))
    );

    t.e.set_lru_capacity(3);
    t.eval("return 1");
    t.eval("return 2");
    t.eval("return 3");
    t.eval("return 1"); // touched: "return 2" is now the oldest
    t.e.load(b"return 3").expect("load"); // permanent from now on
    t.eval("return 4");
    t.eval("return 5");
    assert!(!t.e.exists(sha("return 2").as_bytes()));
    assert!(t.e.exists(sha("return 1").as_bytes()));
    assert!(t.e.exists(sha("return 3").as_bytes()));
    assert!(t.e.exists(sha("return 4").as_bytes()));
    assert!(t.e.exists(sha("return 5").as_bytes()));
    assert!(t.e.exists(sha("return 'loaded'").as_bytes()));
    let st = t.e.stats();
    assert_eq!(st.evicted_scripts, 1);
    assert!(st.used_memory_lua > 0 && st.scripts_memory > 0);
    let n = st.number_of_cached_scripts;
    t.eval("return 6");
    assert_eq!(t.e.stats().number_of_cached_scripts, n);
    assert_eq!(t.e.body(&sha("return 3")), Some(b("return 3")));

    t.e.flush();
    assert_eq!(t.e.stats().number_of_cached_scripts, 0);
    assert!(!t.e.exists(sha("return 3").as_bytes()));
    assert_eq!(t.eval("return 'after flush'"), bulk("after flush"));
}

#[test]
fn eval_command_and_numkeys() {
    let mut t = T::new();
    let args = |v: &[&str]| v.iter().map(|s| b(s)).collect::<Vec<_>>();
    let r = t.e.eval_command(
        &mut t.h,
        &args(&["return {KEYS[1], ARGV[1]}", "1", "k", "a"]),
        false,
        false,
    );
    assert_eq!(r, Reply::Array(vec![bulk("k"), bulk("a")]));
    let r =
        t.e.eval_command(&mut t.h, &args(&["return 1", "2", "k"]), false, false);
    assert_eq!(
        r,
        Reply::err("ERR Number of keys can't be greater than number of args")
    );
    let r =
        t.e.eval_command(&mut t.h, &args(&["return 1", "-1"]), false, false);
    assert_eq!(r, Reply::err("ERR Number of keys can't be negative"));
    let r =
        t.e.eval_command(&mut t.h, &args(&["return 1", "x"]), false, false);
    assert_eq!(r, Reply::err("ERR value is not an integer or out of range"));
    let r =
        t.e.eval_command(&mut t.h, &args(&["abc", "x"]), true, false);
    assert_eq!(
        r,
        Reply::err("NOSCRIPT No matching script. Please use EVAL.")
    );
    let s = sha("return {KEYS[1], ARGV[1]}");
    let r =
        t.e.eval_command(&mut t.h, &args(&[&s, "0", "a"]), true, false);
    assert_eq!(r, Reply::Array(vec![]));
}

#[test]
fn shebang_flags_and_read_only() {
    let mut t = T::new();
    assert_eq!(
        t.eval("#!lua\nreturn redis.call('set', 'a', '1')"),
        Reply::ok()
    );
    assert_eq!(
        t.h.last_opts.as_ref().map(|o| (o.1, o.3)),
        Some((false, true))
    );
    let body = "#!lua flags=no-writes\nreturn redis.call('set', 'a', '1')";
    assert_eq!(
        t.err(body),
        format!("ERR Write commands are not allowed from read-only scripts. script: {}, on @user_script:2.", sha(body))
    );
    assert_eq!(
        t.eval("#!lua flags=no-writes\nreturn redis.call('get', 'a')"),
        bulk("1")
    );
    match t.eval_ro("return redis.call('set', 'a', '2')") {
        Reply::Error(e) => {
            assert!(e.starts_with(b"ERR Write commands are not allowed from read-only scripts."))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        t.eval_ro("#!lua\nreturn 1"),
        Reply::err("ERR Can not execute a script with write flag using *_ro command.")
    );
    assert_eq!(t.eval_ro("#!lua flags=no-writes\nreturn 1"), Reply::Int(1));
    t.eval("#!lua flags=allow-oom\nreturn redis.call('ping')");
    assert_eq!(t.h.last_opts.as_ref().map(|o| o.2), Some(true));
    t.eval("return redis.call('ping')");
    assert_eq!(
        t.h.last_opts.as_ref().map(|o| (o.2, o.3)),
        Some((false, false))
    );
    assert_eq!(
        t.eval("#!lua flags=bad\nreturn 1"),
        Reply::err("ERR Unexpected flag in script shebang: bad")
    );
    assert_eq!(
        t.eval("#!python\nreturn 1"),
        Reply::err("ERR Unexpected engine in script shebang: #!python")
    );
    assert_eq!(t.eval("#!lua"), Reply::err("ERR Invalid script shebang"));
    assert_eq!(t.e.command_flags(b"return 1", false), None);
    assert_eq!(
        t.e.command_flags(b"#!lua flags=no-writes\nreturn 1", false),
        Some(ScriptFlags::NO_WRITES)
    );
    let s =
        t.e.load(b"#!lua flags=allow-stale\nreturn 1")
            .expect("load");
    assert_eq!(
        t.e.command_flags(s.as_bytes(), true),
        Some(ScriptFlags::ALLOW_STALE)
    );
    assert_eq!(t.e.command_flags(b"#!lua flags=bad\n", false), None);
}

#[test]
fn interrupt_kills_runaway_scripts() {
    let mut t = T::new();
    t.h.kill_after = Some(2);
    let body = "while true do end";
    assert_eq!(
        t.err(body),
        format!(
            "ERR Script killed by user with SCRIPT KILL... script: {}, on @user_script:1.",
            sha(body)
        )
    );
    t.h.interrupts = 0;
    let body = "while true do pcall(function() while true do end end) end";
    assert!(t
        .err(body)
        .starts_with("ERR Script killed by user with SCRIPT KILL..."));
    t.h.interrupts = 0;
    let body = "local co = coroutine.wrap(function() while true do end end) co()";
    assert!(t
        .err(body)
        .starts_with("ERR Script killed by user with SCRIPT KILL..."));
    t.h.kill_after = None;
    t.h.interrupts = 0;
    assert_eq!(
        t.eval("local n = 0 for i = 1, 300000 do n = n + 1 end return n"),
        Reply::Int(300000)
    );
    assert!(t.h.interrupts >= 2);
}

#[test]
fn hostile_scripts_are_contained() {
    let mut t = T::new();
    // A table that contains itself: Redis nests 7995 arrays, then errors;
    // we stop at 3995 (see convert::LUA_MAX_CSTACK).
    let r = t.eval("local t = {} t[1] = t return t");
    let mut depth = 0;
    let mut cur = &r;
    while let Reply::Array(v) = cur {
        depth += 1;
        cur = &v[0];
    }
    assert_eq!(depth, 3995);
    assert_eq!(cur, &Reply::err("ERR reached lua stack limit"));
    assert!(matches!(
        t.eval("local t = {} t.map = {a = t} return t"),
        Reply::Map(_)
    ));
    assert!(t
        .err("local function f(n) return 1 + f(n) end return f(1)")
        .contains("stack overflow"));
    let _ = t.eval("local function f() return pcall(f) end return f()");
    // Thousands of arguments or results never exhaust mlua's references.
    assert_eq!(
        t.eval("local t = {} for i = 1, 7000 do t[i] = 'x' .. i end return redis.call('del', unpack(t))"),
        Reply::Int(0)
    );
    assert_eq!(
        t.eval("local t = {} for i = 1, 7000 do t[i] = 'x' .. i end return unpack(t)"),
        bulk("x1")
    );
    let r = t.eval("local t = {} for i = 1, 20000 do t['k' .. i] = i end return {map = t}");
    assert!(matches!(r, Reply::Map(m) if m.len() == 20000));
    let r = t.eval("local t = {} for i = 1, 20000 do t['k' .. i] = true end return {set = t}");
    assert!(matches!(r, Reply::Set(m) if m.len() == 20000));

    assert_eq!(
        t.eval("return #string.rep('x', 10000000)"),
        Reply::Int(10_000_000)
    );
    assert_eq!(
        t.eval("local t = {} for i = 1, 100000 do t[i] = i end return #t"),
        Reply::Int(100000)
    );
    // luaL_checkint truncates 2^40 to 0, as in Redis.
    assert_eq!(t.eval("return #string.rep('x', 2^40)"), Reply::Int(0));
    assert!(matches!(
        t.eval("return {map = {[{}] = 1, [true] = false}}"),
        Reply::Map(_)
    ));
    assert!(matches!(
        t.eval("local t = setmetatable({}, {__index = function() error('x') end}) return t"),
        Reply::Array(_)
    ));
    assert_eq!(
        t.eval("return redis.call('echo', string.rep('a', 100000)):len()"),
        Reply::Int(100000)
    );
}

#[test]
fn memory_limit_is_an_error_not_a_crash() {
    let mut t = T::new();
    t.e.vm().set_memory_limit(64 << 20).expect("limit");
    let r = t.eval("local t = {} for i = 1, 1e8 do t[i] = string.rep('x', 100) .. i end return #t");
    match r {
        Reply::Error(e) => assert!(
            String::from_utf8_lossy(&e).contains("not enough memory"),
            "{e:?}"
        ),
        other => panic!("{other:?}"),
    }
    t.e.vm().set_memory_limit(0).expect("limit");
    assert_eq!(t.eval("return 1"), Reply::Int(1));
}

#[test]
fn before_run_can_refuse() {
    struct Refuse;
    impl Host for Refuse {
        fn call(&mut self, _: &[Bytes], _: &CallOptions<'_>) -> Reply {
            Reply::ok()
        }
        fn acl_check_cmd(&mut self, _: &[Bytes]) -> Result<bool, Reply> {
            Ok(true)
        }
        fn log(&mut self, _: LogLevel, _: &[u8]) {}
        fn interrupt(&mut self) -> Option<Reply> {
            None
        }
        fn set_repl(&mut self, _: i32) {}
        fn before_run(&mut self, flags: ScriptFlags, _: bool) -> Result<(), Reply> {
            if flags.contains(ScriptFlags::ALLOW_OOM) || flags.is_compat() {
                Ok(())
            } else {
                Err(Reply::err_static(
                    "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'",
                ))
            }
        }
    }
    let mut e = ScriptEngine::new().expect("engine");
    let mut h = Refuse;
    assert_eq!(e.eval(&mut h, b"return 1", &[], &[], false), Reply::Int(1));
    assert!(e
        .eval(&mut h, b"#!lua\nreturn 1", &[], &[], false)
        .is_error());
    assert_eq!(
        e.eval(&mut h, b"#!lua flags=allow-oom\nreturn 1", &[], &[], false),
        Reply::Int(1)
    );
    let mut t = T::new();
    t.eval("return 1");
    assert_eq!(t.h.runs, 1);
}

#[test]
fn ported_from_redis_scripting_tcl() {
    let mut t = T::new();
    assert_eq!(t.eval("return _G"), Reply::Array(vec![]));
    assert_eq!(
        t.eval("local a = {}; setmetatable(a,{__index=function() foo() end}) return a"),
        Reply::Array(vec![])
    );
    assert_eq!(
        t.eval("local a = {}; setmetatable(a,{__index=function() redis.call('set', 'x', '1') end}) return a"),
        Reply::Array(vec![])
    );
    assert!(!t.h.db.contains_key(&b("x")));
    assert_eq!(t.eval("return 100.5"), Reply::Int(100));
    assert_eq!(
        t.eval("return {1,2,3,'ciao',{1,2}}"),
        Reply::Array(vec![
            Reply::Int(1),
            Reply::Int(2),
            Reply::Int(3),
            bulk("ciao"),
            Reply::Array(vec![Reply::Int(1), Reply::Int(2)])
        ])
    );
    // DECR_IF_GT, with a fake DECR done through SET.
    t.h.db.insert(b("foo"), b("5"));
    let script = "local current = redis.call('get',KEYS[1]) if not current then return nil end \
                  if current > ARGV[1] then local n = tonumber(current) - 1 redis.call('set', KEYS[1], n) return n \
                  else return redis.call('get',KEYS[1]) end";
    let res: Vec<Reply> = (0..5)
        .map(|_| t.eval_args(script, &["foo"], &["2"]))
        .collect();
    assert_eq!(
        res,
        vec![
            Reply::Int(4),
            Reply::Int(3),
            Reply::Int(2),
            bulk("2"),
            bulk("2")
        ]
    );
    // Number conversion precision (issue #1118).
    assert_eq!(
        t.eval("local value = 9007199254740991 redis.call('set','foo',value) return redis.call('get','foo')"),
        bulk("9007199254740991")
    );
    assert_eq!(
        t.eval("redis.call('set', 'key', '12039611435714932082') return redis.call('get', 'key')"),
        bulk("12039611435714932082")
    );
    // Trailing comments.
    assert_eq!(t.eval("return 'hello' --trailing comment"), bulk("hello"));
    // Massive unpack into redis.call.
    assert_eq!(
        t.eval("local a = {} for i=1,7999 do a[i] = 1 end return redis.call('del', unpack(a))"),
        Reply::Int(0)
    );
    // Binary code loading fails.
    assert!(t
        .err("return loadstring(string.dump(function() return 1 end))()")
        .contains("attempt to call a nil value"));
    for body in [
        "setmetatable(_G, {})",
        "local g = getmetatable(_G) g.__index = {}",
        "redis = function() return 1 end",
        "_G = {}",
        "redis.call = function() return 1 end",
    ] {
        assert!(
            t.err(body).contains("Attempt to modify a readonly table"),
            "{body}"
        );
    }
    for lib in ["cjson.encode", "cmsgpack.pack", "bit.lshift", "struct.pack"] {
        let name = lib.split('.').next().unwrap_or_default();
        if matches!(t.eval(&format!("return type({name})")), Reply::Bulk(b) if &b[..] == b"table") {
            let body = format!("{lib} = function() return 1 end");
            assert!(
                t.err(&body).contains("Attempt to modify a readonly table"),
                "{body}"
            );
        }
    }
    assert!(t
        .err("loadfile('some file')")
        .contains("Script attempted to access nonexistent global variable 'loadfile'"));
    assert!(t
        .err("dofile('some file')")
        .contains("Script attempted to access nonexistent global variable 'dofile'"));
    assert!(t
        .err("print('x')")
        .contains("Script attempted to access nonexistent global variable 'print'"));
    // error_reply / status_reply.
    assert_eq!(
        t.eval("return redis.error_reply('MY_ERR_CODE custom msg')"),
        Reply::err("MY_ERR_CODE custom msg")
    );
    assert_eq!(t.eval("return redis.error_reply('')"), Reply::err("ERR "));
    assert_eq!(t.eval("return {err=''}"), Reply::err(""));
    assert_eq!(
        t.eval("return redis.status_reply('MY_OK_CODE custom msg')"),
        Reply::status("MY_OK_CODE custom msg")
    );
    assert_eq!(
        t.eval("local status, res = pcall(function() return 1 end); return 'status: ' .. tostring(status) .. ' result: ' .. res"),
        bulk("status: true result: 1")
    );
    assert_eq!(
        t.eval("local status, res = pcall(function() return foo end); return 'status: ' .. tostring(status) .. ' result: ' .. res"),
        bulk("status: false result: user_script:1: Script attempted to access nonexistent global variable 'foo'")
    );
    assert!(t
        .err("local x={} return redis.call('ping', x)")
        .starts_with("ERR Lua redis lib command arguments must be strings or integers"));
    assert_eq!(t.eval("return redis.call('echo', 'asdf')"), bulk("asdf"));
    // PRNG seeding.
    let r1 = t.eval_args(
        "math.randomseed(ARGV[1]); return tostring(math.random())",
        &[],
        &["10"],
    );
    let r2 = t.eval_args(
        "math.randomseed(ARGV[1]); return tostring(math.random())",
        &[],
        &["10"],
    );
    let r3 = t.eval_args(
        "math.randomseed(ARGV[1]); return tostring(math.random())",
        &[],
        &["20"],
    );
    assert_eq!(r1, r2);
    assert_ne!(r2, r3);
    let a = t.eval("return tostring(math.random())");
    let b2 = t.eval("return tostring(math.random())");
    assert_ne!(a, b2);
}

#[test]
fn error_stats_flag() {
    let mut t = T::new();
    t.eval("return redis.call('wrongtype')");
    assert!(t.e.last_error_counted());
    t.eval("return redis.pcall('wrongtype')");
    assert!(t.e.last_error_counted());
    t.eval("return redis.error_reply('X y')");
    assert!(!t.e.last_error_counted());
    t.eval("error('x')");
    assert!(!t.e.last_error_counted());
    t.eval("return 1");
    assert!(!t.e.last_error_counted());
}

#[test]
fn no_leak_across_many_runs() {
    let mut t = T::new();
    t.eval("return redis.call('incr', KEYS[1])");
    let before = t.e.stats().used_memory_lua;
    for _ in 0..10_000 {
        t.eval_args("return redis.call('incr',KEYS[1])", &["x"], &[]);
    }
    assert_eq!(t.h.db.get(&b("x")), Some(&b("10000")));
    let after = t.e.stats().used_memory_lua;
    assert!(
        after < before + 200 * 1024,
        "Lua memory grew from {before} to {after}"
    );
}

/// Rough per-EVAL cost: `cargo test -p lunakv-scripting bench_eval -- --ignored --nocapture`.
#[test]
#[ignore]
fn bench_eval() {
    let mut t = T::new();
    let n = 200_000;
    let start = std::time::Instant::now();
    for _ in 0..n {
        t.eval_args("return redis.call('incr',KEYS[1])", &["x"], &[]);
    }
    let el = start.elapsed();
    eprintln!("eval+incr: {:.2} us/op", el.as_secs_f64() * 1e6 / n as f64);
    let start = std::time::Instant::now();
    for _ in 0..n {
        t.eval_args("return 1", &[], &[]);
    }
    let el = start.elapsed();
    eprintln!(
        "eval return 1: {:.2} us/op",
        el.as_secs_f64() * 1e6 / n as f64
    );
    let start = std::time::Instant::now();
    t.eval("for i = 1, 1000000 do redis.call('incr', 'y') end");
    let el = start.elapsed();
    eprintln!(
        "redis.call in a loop: {:.3} us/call",
        el.as_secs_f64() * 1e6 / 1e6
    );
}

#[test]
fn functions_get_keys_and_args_as_parameters() {
    let mut vm = crate::LuaVm::new().expect("vm");
    let mut h = FakeHost::default();
    let f = vm
        .compile(b"return function(keys, args) return {keys[1], args[1], #args} end")
        .expect("compile");
    let func: mlua::Function = f.call(()).expect("function");
    let r = vm.run_function(
        &mut h,
        &func,
        "myfunc",
        &[b("k")],
        &[b("a"), b("b")],
        ScriptFlags::empty(),
        false,
    );
    assert_eq!(r, Reply::Array(vec![bulk("k"), bulk("a"), Reply::Int(2)]));
    let f = vm
        .compile(b"return function(keys, args)\n error('boom') end")
        .expect("compile");
    let func: mlua::Function = f.call(()).expect("function");
    let r = vm.run_function(
        &mut h,
        &func,
        "myfunc",
        &[],
        &[],
        ScriptFlags::empty(),
        false,
    );
    assert_eq!(
        r,
        Reply::err("ERR user_script:2: boom script: myfunc, on @user_script:2.")
    );
}

/// Writes the RESP2 replies to the scripts of `$LUNAKV_CMP_IN` (one per
/// line) to `$LUNAKV_CMP_OUT`, for comparison with a real Redis.
#[test]
#[ignore]
fn compare_with_redis() {
    let (Ok(inp), Ok(outp)) = (
        std::env::var("LUNAKV_CMP_IN"),
        std::env::var("LUNAKV_CMP_OUT"),
    ) else {
        return;
    };
    let mut t = T::new();
    let mut out = Vec::new();
    for line in std::fs::read(inp).expect("input").split(|&c| c == b'\n') {
        if line.is_empty() {
            continue;
        }
        let r = t.e.eval(&mut t.h, line, &[], &[], false);
        let mut enc = Vec::new();
        lunakv_protocol::encode(&r, 2, &mut enc);
        out.extend_from_slice(format!("{}\n", enc.len()).as_bytes());
        out.extend_from_slice(&enc);
    }
    std::fs::write(outp, out).expect("output");
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap_or(0))
        .collect()
}

/// Replays the cases recorded from a real Redis 7.0.15
/// (`testdata/redis-7.0.15-eval.txt`) and compares the RESP2 bytes.
#[test]
fn replies_match_recorded_redis() {
    let data = include_str!("../testdata/redis-7.0.15-eval.txt");
    let mut t = T::new();
    let mut failures = Vec::new();
    let mut n = 0;
    for line in data
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let Some((script, hex)) = line.split_once('\t') else {
            continue;
        };
        n += 1;
        let r = t.e.eval(&mut t.h, script.as_bytes(), &[], &[], false);
        let mut enc = Vec::new();
        lunakv_protocol::encode(&r, 2, &mut enc);
        let want = unhex(hex);
        if enc != want {
            failures.push(format!(
                "{script}\n  redis: {:?}\n  ours:  {:?}",
                String::from_utf8_lossy(&want),
                String::from_utf8_lossy(&enc)
            ));
        }
    }
    assert!(n > 100);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
