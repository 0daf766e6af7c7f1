//! The client side: `connections` HTTP/1.1 keep-alive connections, each sending distinct slash commands signed
//! with a fresh timestamp, from users `U0`…`U{n-1}`, for a fixed time; one result per load level.

use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mystocks_adapters::slack::SlackSigner;
use mystocks_adapters::slack::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::stats::LevelResult;

/// What `drive` needs.
#[derive(Clone, Debug)]
pub struct DriveOptions {
    /// `host:port` of the bot.
    pub addr: String,
    pub path: String,
    pub secret: String,
    pub team: String,
    pub users: usize,
    /// The command text (without `/mystocks`).
    pub text: String,
    pub duration: Duration,
}

/// Runs one load level with `connections` connections.
pub async fn level(options: Arc<DriveOptions>, connections: usize) -> anyhow::Result<LevelResult> {
    let deadline = Instant::now() + options.duration;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for conn in 0..connections {
        let options = options.clone();
        tasks.push(tokio::spawn(async move {
            one_connection(options, conn, deadline).await
        }));
    }
    let mut result = LevelResult {
        connections,
        ..LevelResult::default()
    };
    for task in tasks {
        let (acks, errors, latencies) = task.await??;
        result.acks += acks;
        result.errors += errors;
        result.latencies_us.extend(latencies);
    }
    result.elapsed = started.elapsed();
    Ok(result)
}

fn body(options: &DriveOptions, user: usize, trigger: &str) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    s.append_pair("token", "unused")
        .append_pair("team_id", &options.team)
        .append_pair("api_app_id", "A1")
        .append_pair("channel_id", "CLOAD")
        .append_pair("user_id", &format!("U{user}"))
        .append_pair("user_name", &format!("u{user}"))
        .append_pair("command", "/mystocks")
        .append_pair("text", &options.text)
        .append_pair("response_url", "https://hooks.slack.invalid/commands/load")
        .append_pair("trigger_id", trigger);
    s.finish()
}

/// One keep-alive connection sending requests one after another. HTTP/1.1 is written and read here directly
/// (httparse for the response head), as lean load tools such as wrk do: a general client's per-request tasks
/// and channels would take CPU from the server on this 2-core machine.
async fn one_connection(
    options: Arc<DriveOptions>,
    conn: usize,
    deadline: Instant,
) -> anyhow::Result<(u64, u64, Vec<u32>)> {
    let signer = SlackSigner::new(options.secret.clone().into());
    let mut stream = tokio::net::TcpStream::connect(&options.addr).await?;
    stream.set_nodelay(true)?;
    let run = uuid::Uuid::new_v4().simple().to_string();
    let (mut acks, mut errors, mut latencies) = (0u64, 0u64, Vec::with_capacity(100_000));
    let (mut request, mut response) = (Vec::with_capacity(2048), Vec::with_capacity(4096));
    let mut seq = 0usize;
    while Instant::now() < deadline {
        seq += 1;
        let user = (conn * 7919 + seq) % options.users.max(1);
        let body = body(&options, user, &format!("{run}.{conn}.{seq}"));
        let ts = chrono::Utc::now().timestamp();
        request.clear();
        write!(
            request,
            "POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/x-www-form-urlencoded\r\n\
             {TIMESTAMP_HEADER}: {ts}\r\n{SIGNATURE_HEADER}: {signature}\r\ncontent-length: {length}\r\n\r\n",
            path = options.path,
            host = options.addr,
            signature = signer.sign(ts, body.as_bytes()),
            length = body.len(),
        )?;
        request.extend_from_slice(body.as_bytes());
        let sent = Instant::now();
        stream.write_all(&request).await?;
        let status = read_response(&mut stream, &mut response).await?;
        if (200..300).contains(&status) {
            acks += 1;
            latencies.push(sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
        } else {
            errors += 1;
        }
    }
    Ok((acks, errors, latencies))
}

/// Reads one response (head and a `content-length` body) and returns its status.
async fn read_response(
    stream: &mut tokio::net::TcpStream,
    buf: &mut Vec<u8>,
) -> anyhow::Result<u16> {
    buf.clear();
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let mut head = httparse::Response::new(&mut headers);
        if let httparse::Status::Complete(head_len) = head.parse(buf)? {
            let status = head.code.unwrap_or(0);
            let length = head
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| {
                    std::str::from_utf8(h.value)
                        .ok()?
                        .trim()
                        .parse::<usize>()
                        .ok()
                })
                .ok_or_else(|| anyhow::anyhow!("a response without content-length"))?;
            while buf.len() < head_len + length {
                if stream.read_buf(buf).await? == 0 {
                    anyhow::bail!("the server closed the connection mid-response");
                }
            }
            return Ok(status);
        }
        if stream.read_buf(buf).await? == 0 {
            anyhow::bail!("the server closed the connection");
        }
    }
}
