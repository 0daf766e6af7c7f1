//! Small servers for the checks to talk to: one that accepts and never answers, one that answers only when a
//! given number of requests are waiting at once, and one that answers a fixed body.

use std::sync::Arc;
use std::time::Duration;

use mystocks_commands::checks::ChecksConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Barrier;

/// A kube client that is never used (the checks that need a cluster are switched off).
pub fn unused_kube() -> kube::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = kube::Config::new("http://127.0.0.1:9".parse().expect("uri"));
    kube::Client::try_from(config).expect("kube client")
}

/// Checks with only `enabled` switched on and no URLs.
pub fn only(enabled: &[&str], timeout: Duration) -> ChecksConfig {
    ChecksConfig {
        enabled: enabled.iter().map(|s| s.to_string()).collect(),
        timeout,
        ..ChecksConfig::default()
    }
}

/// Accepts connections and reads forever without answering. Returns its address.
pub async fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
            });
        }
    });
    addr.to_string()
}

/// An address where nothing listens (bound, then closed).
pub async fn refused_addr() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    addr.to_string()
}

/// Answers `body` with `status` to every request; but only once `together` requests are waiting at the same
/// time (so checks that run one after another never get an answer).
pub async fn server(
    status: u16,
    content_type: &'static str,
    body: String,
    together: usize,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let barrier = Arc::new(Barrier::new(together));
    let body = Arc::new(body);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let barrier = barrier.clone();
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                barrier.wait().await;
                let head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(body.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    addr.to_string()
}
