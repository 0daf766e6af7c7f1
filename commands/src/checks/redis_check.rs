//! The cache check: `PING` over the Redis protocol (the redis crate), expecting `PONG`.

use std::time::Instant;

use super::result::{CheckLevel, CheckResult};

/// Connects to `url` and sends PING. Refused or reset connections fail with the reason.
pub async fn ping(url: &str) -> CheckResult {
    let shown = crate::store::redact_url(url);
    let started = Instant::now();
    let outcome = async {
        let client = redis::Client::open(url)?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await
    }
    .await;
    let elapsed = started.elapsed();
    match outcome {
        Ok(reply) if reply == "PONG" => {
            CheckResult::new("cache", shown, CheckLevel::Ok, "PONG", elapsed)
        }
        Ok(other) => CheckResult::new(
            "cache",
            shown,
            CheckLevel::Fail,
            format!("unexpected answer `{other}`"),
            elapsed,
        ),
        Err(err) => CheckResult::new(
            "cache",
            shown,
            CheckLevel::Fail,
            redis_reason(&err),
            elapsed,
        ),
    }
}

fn redis_reason(err: &redis::RedisError) -> String {
    if err.is_connection_refusal() {
        return "connection refused".into();
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return super::http_check::io_reason(io);
        }
        source = e.source();
    }
    if err.is_connection_dropped() {
        return "connection reset by peer".into();
    }
    err.to_string()
}
