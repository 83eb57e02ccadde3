//! Network tasks: accept connections, read and parse requests, hand whole
//! batches to the engine thread, write its replies back.
//!
//! A connection sends its next batch only once the engine has answered the
//! previous one, so replies stay in order and a client that pipelines
//! without reading cannot make the server buffer without bound. While a
//! batch is in flight the task keeps reading (up to the query buffer limit),
//! so it notices a disconnect even while the client is blocked. While a
//! script runs past `busy-reply-threshold`, the engine itself serves the
//! waiting batches from the script's hook (see the engine's `busy.rs`).

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::BytesMut;
use crossbeam_channel::Sender;
use lunakv_engine::client::{Batch, Msg, Out};
use lunakv_engine::{log, Shared};
use lunakv_protocol::parse::Parser;
use lunakv_protocol::{ParseLimits, Reply};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

/// Binds every address of `bind` on `port`; a failure names the address.
pub async fn bind_all(binds: &[String], port: u16) -> Result<Vec<TcpListener>, String> {
    let mut out = Vec::new();
    for b in binds {
        let addr = if b.contains(':') {
            format!("[{b}]:{port}")
        } else {
            format!("{b}:{port}")
        };
        match TcpListener::bind(&addr).await {
            Ok(l) => out.push(l),
            Err(e) => {
                return Err(format!("Warning: Could not create server TCP listening socket {addr}: {e}\nFailed listening on port {port} (tcp), aborting."));
            }
        }
    }
    Ok(out)
}

/// Accepts connections until shutdown.
pub async fn accept_loop(l: TcpListener, shared: Arc<Shared>, tx: Sender<Msg>) {
    loop {
        let (stream, peer) = match l.accept().await {
            Ok(x) => x,
            Err(e) => {
                log::log(log::VERBOSE, &format!("Accepting client connection: {e}"));
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        if shared.shutdown.load(Ordering::Relaxed) {
            return;
        }
        let _ = stream.set_nodelay(true);
        let max = shared.maxclients.load(Ordering::Relaxed);
        if shared.connected.load(Ordering::Relaxed) >= max {
            shared.rejected_connections.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                let mut s = stream;
                let _ = s.write_all(b"-ERR max number of clients reached\r\n").await;
            });
            continue;
        }
        shared.connected.fetch_add(1, Ordering::Relaxed);
        let id = shared.next_client_id.fetch_add(1, Ordering::Relaxed);
        let local = stream.local_addr().ok();
        let fd = fd_of(&stream);
        let (otx, orx) = unbounded_channel();
        let connect = Msg::Connect {
            id,
            addr: fmt_addr(Some(peer)),
            laddr: fmt_addr(local),
            fd,
            out: otx,
        };
        if tx.send(connect).is_err() {
            return;
        }
        let shared2 = shared.clone();
        let tx2 = tx.clone();
        tokio::spawn(async move {
            connection(stream, id, shared2.clone(), tx2.clone(), orx).await;
            let _ = tx2.send(Msg::Disconnect { id });
            shared2.connected.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

#[cfg(unix)]
fn fd_of(s: &TcpStream) -> i64 {
    use std::os::fd::AsRawFd;
    s.as_raw_fd() as i64
}

#[cfg(not(unix))]
fn fd_of(_s: &TcpStream) -> i64 {
    -1
}

fn fmt_addr(a: Option<SocketAddr>) -> String {
    match a {
        Some(SocketAddr::V4(v)) => format!("{}:{}", v.ip(), v.port()),
        Some(SocketAddr::V6(v)) => format!("{}:{}", v.ip(), v.port()),
        None => "?:0".into(),
    }
}

/// Waits for SIGTERM / SIGINT and asks the engine to shut down.
pub async fn signals(tx: Sender<Msg>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return;
        };
        let which = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        log::warning(&format!("Received {which} scheduling shutdown..."));
        let _ = tx.send(Msg::Call(Box::new(|e| {
            lunakv_engine::cmd::server::shutdown_now(e, false);
        })));
        // The engine handles the request between commands. If it is stuck
        // in a script that never ends, a second signal, or ten seconds,
        // end the process anyway (there is nothing to save yet).
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
            _ = tokio::time::sleep(std::time::Duration::from_secs(10)) => {}
        }
        log::warning("The engine did not stop (busy script?): exiting now.");
        std::process::exit(1);
    }
}

async fn connection(
    mut stream: TcpStream,
    id: u64,
    shared: Arc<Shared>,
    tx: Sender<Msg>,
    mut out: UnboundedReceiver<Out>,
) {
    let mut rbuf = BytesMut::with_capacity(16 * 1024);
    let mut parser = Parser::new();
    let mut in_flight: Option<Arc<Batch>> = None;
    let mut proto_err: Option<String> = None;
    let mut wbuf: Vec<u8> = Vec::new();
    let idle = shared.idle_timeout_s.load(Ordering::Relaxed);
    loop {
        if in_flight.is_none() {
            let limits = ParseLimits {
                max_bulk_len: shared.proto_max_bulk_len.load(Ordering::Relaxed),
                unauthenticated: false,
            };
            let mut cmds = Vec::new();
            while proto_err.is_none() {
                match parser.next(&mut rbuf, &limits) {
                    Ok(Some(c)) => {
                        cmds.push(c);
                        if cmds.len() >= 4096 {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        proto_err = Some(e.0);
                        break;
                    }
                }
            }
            if !cmds.is_empty() {
                let b = Arc::new(Batch::new(cmds));
                if tx
                    .send(Msg::Batch {
                        id,
                        batch: b.clone(),
                    })
                    .is_err()
                {
                    return;
                }
                in_flight = Some(b);
            } else if let Some(e) = &proto_err {
                let mut b = Vec::new();
                lunakv_protocol::encode(&Reply::err(e.clone()), 2, &mut b);
                let _ = stream.write_all(&b).await;
                log::log(
                    log::VERBOSE,
                    &format!("Protocol error ({e}) from client id={id}"),
                );
                return;
            }
            // Grow the buffer ahead of a large bulk so it is read in place.
            if let Some(w) = parser.wanted(rbuf.len()) {
                let cap = rbuf.capacity() - rbuf.len();
                if w > cap {
                    rbuf.reserve(w.min(64 * 1024 * 1024));
                }
            }
        }
        let limit = shared.query_buf_limit.load(Ordering::Relaxed) as usize;
        if rbuf.len() > limit {
            log::warning(&format!(
                "Closing client id={id} that reached max query buffer length"
            ));
            return;
        }
        if rbuf.capacity() - rbuf.len() < 4096 {
            rbuf.reserve(16 * 1024);
        }
        let can_read = proto_err.is_none();
        tokio::select! {
            r = stream.read_buf(&mut rbuf), if can_read => {
                match r {
                    // Like Redis, a client that closed is freed at once, even
                    // while its command waits (a blocked BLPOP is forgotten).
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        shared.net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
                    }
                }
            }
            m = out.recv() => {
                let Some(m) = m else { return };
                let mut close = false;
                let mut done = false;
                match m {
                    Out::Data(d) => wbuf.extend_from_slice(&d),
                    Out::Batch(d) => { wbuf.extend_from_slice(&d); done = true; }
                    Out::Done => done = true,
                    Out::Close => close = true,
                }
                // Coalesce whatever else is already queued into one write.
                while !close {
                    match out.try_recv() {
                        Ok(Out::Data(d)) => wbuf.extend_from_slice(&d),
                        Ok(Out::Batch(d)) => { wbuf.extend_from_slice(&d); done = true; }
                        Ok(Out::Done) => done = true,
                        Ok(Out::Close) => close = true,
                        Err(_) => break,
                    }
                }
                if !wbuf.is_empty() {
                    shared.net_output_bytes.fetch_add(wbuf.len() as u64, Ordering::Relaxed);
                    if stream.write_all(&wbuf).await.is_err() {
                        return;
                    }
                    wbuf.clear();
                    if wbuf.capacity() > 1024 * 1024 {
                        wbuf = Vec::new();
                    }
                }
                if close {
                    let _ = stream.shutdown().await;
                    return;
                }
                if done {
                    in_flight = None;
                }
            }
            _ = tokio::time::sleep(std::time::Duration::from_secs(idle.max(1))), if idle > 0 && in_flight.is_none() => {
                return;
            }
        }
    }
}
