//! The client side: `connections` HTTP/1.1 keep-alive connections, each sending distinct slash commands signed
//! with a fresh timestamp, from users `U0`…`U{n-1}`, for a fixed time; one result per load level.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use mystocks_adapters::slack::SlackSigner;
use mystocks_adapters::slack::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER};

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

async fn one_connection(
    options: Arc<DriveOptions>,
    conn: usize,
    deadline: Instant,
) -> anyhow::Result<(u64, u64, Vec<u32>)> {
    let signer = SlackSigner::new(options.secret.clone().into());
    let stream = tokio::net::TcpStream::connect(&options.addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let run = uuid::Uuid::new_v4().simple().to_string();
    let (mut acks, mut errors, mut latencies) = (0u64, 0u64, Vec::with_capacity(100_000));
    let mut seq = 0usize;
    while Instant::now() < deadline {
        seq += 1;
        let user = (conn * 7919 + seq) % options.users.max(1);
        let body = body(&options, user, &format!("{run}.{conn}.{seq}"));
        let ts = chrono::Utc::now().timestamp();
        let request = Request::post(options.path.as_str())
            .header("host", options.addr.as_str())
            .header("content-type", "application/x-www-form-urlencoded")
            .header(TIMESTAMP_HEADER, ts.to_string())
            .header(SIGNATURE_HEADER, signer.sign(ts, body.as_bytes()))
            .body(Full::new(Bytes::from(body)))?;
        sender.ready().await?;
        let sent = Instant::now();
        let response = sender.send_request(request).await?;
        let status = response.status();
        response.into_body().collect().await?;
        if status.is_success() {
            acks += 1;
            latencies.push(sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
        } else {
            errors += 1;
        }
    }
    Ok((acks, errors, latencies))
}
