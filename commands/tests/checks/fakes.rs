//! Small servers for the checks to talk to: one that accepts and never answers (counting who waits on it at
//! once), one that answers only when a given number of requests are waiting at once, and one that records each
//! request and answers what the test says (the strict fakes of TDengine and Prometheus are made with it).

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

/// Accepts connections and never answers, counting the connections open at the same time; returns its address.
/// Checks that all wait on it at once push the count to their number; checks run one after another never
/// get past one.
pub async fn silent_counting_server(open: Arc<OpenConnections>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let open = open.clone();
            tokio::spawn(async move {
                open.opened();
                let mut buf = [0u8; 1024];
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
                open.closed();
            });
        }
    });
    addr.to_string()
}

/// Connections open now, and the most that were open at once.
#[derive(Default)]
pub struct OpenConnections {
    now: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
}

impl OpenConnections {
    fn opened(&self) {
        use std::sync::atomic::Ordering::SeqCst;
        let now = self.now.fetch_add(1, SeqCst) + 1;
        self.most.fetch_max(now, SeqCst);
    }

    fn closed(&self) {
        self.now.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// The most connections that were open at the same time.
    pub fn most(&self) -> usize {
        self.most.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// One HTTP request as a fake server received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    /// The first header called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A fake's answer: status, content type, body.
pub type Answer = (u16, &'static str, String);

/// An HTTP/1.1 server on loopback that records every request and answers what `answer` says. Returns its
/// address and the requests received.
pub async fn recording_server(
    answer: impl Fn(&Received) -> Answer + Send + Sync + 'static,
) -> (String, Arc<std::sync::Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let answer = Arc::new(answer);
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let answer = answer.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let _ = answer_one(socket, |r| {
                    log.lock().expect("log").push(r.clone());
                    answer(r)
                })
                .await;
            });
        }
    });
    (addr.to_string(), seen)
}

/// Reads one request from `stream` and writes `answer`'s response, closing the connection.
pub async fn answer_one<S>(
    mut stream: S,
    answer: impl FnOnce(&Received) -> Answer,
) -> std::io::Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut got = Vec::new();
    let mut buf = vec![0u8; 4096];
    let head_end = loop {
        if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        got.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&got[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_string();
    let path = first.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = got[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    let received = Received {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let (status, content_type, text) = answer(&received);
    let response = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}
