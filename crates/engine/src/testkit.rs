//! Helpers for unit tests of command handlers: an engine with one client,
//! no network and no threads.

use std::sync::Arc;

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::client::{Caller, Client};
use crate::config::Config;
use crate::{Engine, Shared};

/// An engine and one connected client.
pub struct TestEngine {
    pub eng: Engine,
    pub client: Client,
}

impl Default for TestEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl TestEngine {
    /// A fresh engine with the default configuration.
    pub fn new() -> TestEngine {
        let mut cfg = Config::default();
        // No save points: FLUSHALL / SHUTDOWN in tests must not write dump
        // files into the working directory.
        let _ = cfg.set("save", "");
        let shared = Arc::new(Shared::new(&cfg));
        let eng = Engine::new(cfg, shared);
        TestEngine {
            eng,
            client: Client::new(1, crate::unix_ms()),
        }
    }

    /// Runs one command through the dispatch path as a network client would.
    pub fn cmd(&mut self, args: &[&str]) -> Reply {
        let args: Vec<Bytes> = args
            .iter()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        self.eng.now_ms = crate::unix_ms();
        self.eng.execute(&mut self.client, &args, Caller::Client)
    }

    /// Runs a command and returns the bytes the client would receive.
    pub fn raw(&mut self, args: &[&str]) -> String {
        let r = self.cmd(args);
        // What the connection would receive: anything the command wrote to
        // the client's output directly (push messages), then the reply.
        let mut out = std::mem::take(&mut self.client.outbuf);
        lunakv_protocol::encode(&r, self.client.resp, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatch_errors_have_redis_texts() {
        let mut t = TestEngine::new();
        assert_eq!(t.raw(&["PING"]), "+PONG\r\n");
        assert_eq!(
            t.raw(&["nosuch", "a", "b"]),
            "-ERR unknown command 'nosuch', with args beginning with: 'a' 'b' \r\n"
        );
        assert_eq!(
            t.raw(&["get"]),
            "-ERR wrong number of arguments for 'get' command\r\n"
        );
        assert_eq!(t.raw(&["SET", "k", "v"]), "+OK\r\n");
        assert_eq!(t.raw(&["get", "k"]), "$1\r\nv\r\n");
        assert_eq!(
            t.raw(&["select", "16"]),
            "-ERR DB index is out of range\r\n"
        );
        assert_eq!(
            t.raw(&["hello", "4"]),
            "-NOPROTO unsupported protocol version\r\n"
        );
        assert!(t.raw(&["hello", "3"]).starts_with("%7\r\n"));
    }
}
