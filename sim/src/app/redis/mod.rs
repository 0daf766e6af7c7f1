//! A minimal Redis (RESP2) server standing in for the app's cache, so `redis-cli ping` and the bot's cache
//! check have something real to speak to.
//!
//! Under `redis-down` the cache behaves like a crashed Redis behind a still-open port: every connection is
//! reset (RST) at once — at accept, or at its next command if the outage starts while it is open — so clients
//! see "connection reset by peer" rather than an answer.

mod commands;
mod resp;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::world::{ClusterView, Scenario};
use resp::{Parsed, Reply};

/// Connection counters for INFO.
#[derive(Default)]
pub(crate) struct Stats {
    connected: AtomicUsize,
    received: AtomicU64,
}

/// Serves RESP on `listener` until this future is dropped (which also closes every open connection).
pub async fn serve(listener: TcpListener, view: Arc<dyn ClusterView>) {
    let stats = Arc::new(Stats::default());
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                };
                if cache_down(view.as_ref()) {
                    reset(stream);
                    continue;
                }
                stats.received.fetch_add(1, Ordering::Relaxed);
                connections.spawn(connection(stream, view.clone(), stats.clone()));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

fn cache_down(view: &dyn ClusterView) -> bool {
    view.scenario().scenario == Scenario::RedisDown
}

/// Closes with a TCP reset, as a dead server's host would answer.
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

async fn connection(mut stream: TcpStream, view: Arc<dyn ClusterView>, stats: Arc<Stats>) {
    stats.connected.fetch_add(1, Ordering::Relaxed);
    serve_connection(&mut stream, view.as_ref(), &stats).await;
    stats.connected.fetch_sub(1, Ordering::Relaxed);
    if cache_down(view.as_ref()) {
        reset(stream);
    }
}

/// Reads commands and answers them until the client leaves, QUITs, sends garbage, or the cache goes down.
async fn serve_connection(stream: &mut TcpStream, view: &dyn ClusterView, stats: &Stats) {
    let mut buf = BytesMut::with_capacity(4096);
    loop {
        loop {
            match resp::parse(&buf) {
                Parsed::Incomplete => break,
                Parsed::Invalid(why) => {
                    let _ = stream
                        .write_all(&Reply::Error(format!("ERR Protocol error: {why}")).encode())
                        .await;
                    return;
                }
                Parsed::Command(args, used) => {
                    buf.advance(used);
                    if args.is_empty() {
                        continue;
                    }
                    if cache_down(view) {
                        return;
                    }
                    let outcome = commands::execute(&args, view, stats);
                    if stream.write_all(&outcome.reply.encode()).await.is_err() || outcome.close {
                        return;
                    }
                }
            }
        }
        match stream.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}
