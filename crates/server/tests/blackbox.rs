//! Black-box tests: start the real `lunakv-server` binary on a free port and
//! talk to it with the `redis` crate (RESP2 and RESP3) and raw sockets.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redis::{Commands, Value};

/// A server process on a free port, killed on drop.
struct Server {
    child: Child,
    port: u16,
    _dir: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    fn start() -> Server {
        let dir =
            std::env::temp_dir().join(format!("lunakv-bb-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&dir).unwrap();
        for _ in 0..5 {
            let port = free_port();
            let child = Command::new(env!("CARGO_BIN_EXE_lunakv-server"))
                .args([
                    "--port",
                    &port.to_string(),
                    "--dir",
                    dir.to_str().unwrap(),
                    "--save",
                    "",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let mut s = Server {
                child,
                port,
                _dir: TempDir(dir.clone()),
            };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return s;
                }
                if let Ok(Some(_)) = s.child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = s.child.kill();
        }
        panic!("server did not start");
    }

    fn conn(&self, resp3: bool) -> redis::Connection {
        let proto = if resp3 { "?protocol=resp3" } else { "" };
        let client =
            redis::Client::open(format!("redis://127.0.0.1:{}/{proto}", self.port)).unwrap();
        client.get_connection().unwrap()
    }

    fn raw(&self, req: &[u8]) -> Vec<u8> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        s.write_all(req).unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(_) => break,
            }
        }
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn strings_and_keys_over_resp2_and_resp3() {
    let srv = Server::start();
    for resp3 in [false, true] {
        let mut c = srv.conn(resp3);
        let _: () = c.set("k", "v").unwrap();
        let v: String = c.get("k").unwrap();
        assert_eq!(v, "v");
        let n: i64 = c.incr("n", 5).unwrap();
        assert_eq!(n, if resp3 { 10 } else { 5 });
        let missing: Option<String> = c.get("nope").unwrap();
        assert_eq!(missing, None);
        let ttl: i64 = c.ttl("k").unwrap();
        assert_eq!(ttl, -1);
        let _: () = c.expire("k", 100).unwrap();
        let ttl: i64 = c.ttl("k").unwrap();
        assert!((99..=100).contains(&ttl));
    }
}

#[test]
fn hello_3_returns_a_map() {
    let srv = Server::start();
    let mut c = srv.conn(true);
    let v: Value = redis::cmd("HELLO").arg(3).query(&mut c).unwrap();
    let Value::Map(pairs) = v else {
        panic!("HELLO 3 is not a map: {v:?}")
    };
    let keys: Vec<String> = pairs
        .iter()
        .map(|(k, _)| redis::from_redis_value::<String>(k.clone()).unwrap())
        .collect();
    assert_eq!(
        keys,
        ["server", "version", "proto", "id", "mode", "role", "modules"]
    );
}

#[test]
fn pipelines_keep_order() {
    let srv = Server::start();
    let mut c = srv.conn(false);
    let mut p = redis::pipe();
    for i in 0..1000 {
        p.cmd("SET").arg(format!("key:{i}")).arg(i).ignore();
    }
    for i in 0..1000 {
        p.cmd("GET").arg(format!("key:{i}"));
    }
    let got: Vec<i64> = p.query(&mut c).unwrap();
    assert_eq!(got, (0..1000).collect::<Vec<_>>());
}

#[test]
fn eval_and_evalsha_rate_limiter() {
    let srv = Server::start();
    let mut c = srv.conn(false);
    let script = redis::Script::new(
        "local n = redis.call('INCR', KEYS[1]) \
         if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end \
         if n > tonumber(ARGV[2]) then return 0 end return 1",
    );
    let mut got = Vec::new();
    for _ in 0..6 {
        let r: i64 = script.key("rl:user").arg(60).arg(5).invoke(&mut c).unwrap();
        got.push(r);
    }
    assert_eq!(got, [1, 1, 1, 1, 1, 0]);
    let ttl: i64 = c.ttl("rl:user").unwrap();
    assert!((59..=60).contains(&ttl));
}

#[test]
fn transactions() {
    let srv = Server::start();
    let mut c = srv.conn(false);
    let (a, b): (i64, i64) = redis::pipe()
        .atomic()
        .incr("x", 1)
        .incr("x", 2)
        .query(&mut c)
        .unwrap();
    assert_eq!((a, b), (1, 3));
}

#[test]
fn protocol_errors_close_the_connection_and_server_survives() {
    let srv = Server::start();
    assert_eq!(
        srv.raw(b"*1\r\n$-5\r\n"),
        b"-ERR Protocol error: invalid bulk length\r\n"
    );
    assert_eq!(
        srv.raw(b"*3000000000\r\n"),
        b"-ERR Protocol error: invalid multibulk length\r\n"
    );
    assert_eq!(
        srv.raw(b"SET \"unterminated\r\n"),
        b"-ERR Protocol error: unbalanced quotes in request\r\n"
    );
    assert_eq!(
        srv.raw(b"*1\r\n$600000000\r\n"),
        b"-ERR Protocol error: invalid bulk length\r\n"
    );
    assert_eq!(srv.raw(b"PING\r\n"), b"+PONG\r\n");
}
