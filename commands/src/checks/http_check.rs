//! HTTP checks: the app's `/health` and `/api/health/database`, Prometheus `/-/healthy` (TDengine's REST check is
//! in [`super::tdengine`]).
//! Each reads the status and (for the app) the JSON body, and names the reason when it is not ok.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::config::{ChecksConfig, Thresholds};
use super::result::{CheckLevel, CheckResult};

/// A plain HTTP client for checks (no proxy, no redirects followed: a health endpoint answers itself).
pub fn client(timeout: Duration) -> reqwest::Client {
    builder(timeout).build().unwrap_or_default()
}

/// The HTTP client for `cfg`'s checks: its timeout, and the CAs of `ca_file` trusted besides the system's.
/// An unusable `ca_file` is an error saying why (the checks that need the client fail with it).
pub fn client_for(cfg: &ChecksConfig) -> Result<reqwest::Client, String> {
    let certs = cfg
        .trusted_cas()?
        .iter()
        .map(|der| reqwest::Certificate::from_der(der))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("checks.ca_file: {e}"))?;
    let builder = builder(cfg.timeout);
    let builder = if certs.is_empty() {
        builder
    } else {
        builder.tls_certs_merge(certs)
    };
    builder
        .build()
        .map_err(|e| format!("cannot set up the HTTP checks: {}", error_reason(&e)))
}

fn builder(timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
}

/// `base` + `path`, with exactly one slash between them.
pub fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// The answer of one GET: status, body, and how long it took.
struct Answer {
    status: u16,
    body: String,
    elapsed: Duration,
}

async fn get(client: &reqwest::Client, url: &str) -> Result<Answer, (String, Duration)> {
    let started = Instant::now();
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| (error_reason(&e), started.elapsed()))?;
    let status = response.status().as_u16();
    let body = response
        .text()
        .await
        .map_err(|e| (error_reason(&e), started.elapsed()))?;
    Ok(Answer {
        status,
        body,
        elapsed: started.elapsed(),
    })
}

/// The app's `/health`: 200 `healthy` is ok (warn when slower than the threshold), `degraded` warns, anything
/// else fails with the app's own reason.
pub async fn api_health(
    client: &reqwest::Client,
    url: &str,
    thresholds: &Thresholds,
) -> CheckResult {
    let answer = match get(client, url).await {
        Ok(a) => a,
        Err((reason, elapsed)) => {
            return CheckResult::new("api", url, CheckLevel::Fail, reason, elapsed);
        }
    };
    let json: Option<Value> = serde_json::from_str(&answer.body).ok();
    let status_word = json
        .as_ref()
        .and_then(|j| j["status"].as_str())
        .unwrap_or_default()
        .to_string();
    let app_reason = json.as_ref().and_then(app_reason);
    let version = json
        .as_ref()
        .and_then(|j| j["version"].as_str())
        .map(|v| format!(", {v}"))
        .unwrap_or_default();
    let (level, reason) = match (answer.status, status_word.as_str()) {
        (200..=299, "degraded") => (
            CheckLevel::Warn,
            format!(
                "{} degraded: {}",
                answer.status,
                app_reason.unwrap_or_else(|| "no reason given".into())
            ),
        ),
        (200..=299, _) => (
            CheckLevel::Ok,
            format!("{} {}{version}", answer.status, or_ok(&status_word)),
        ),
        (code, _) => (
            CheckLevel::Fail,
            format!(
                "{code} {}",
                app_reason.unwrap_or_else(|| excerpt(&answer.body))
            ),
        ),
    };
    let result = CheckResult::new("api", url, level, reason, answer.elapsed);
    slow_is_a_warning(result, thresholds.latency_warn_ms)
}

/// The app's `/api/health/database`: the pool's use, full pool or error → fail, nearly full → warn.
pub async fn database_health(
    client: &reqwest::Client,
    url: &str,
    thresholds: &Thresholds,
) -> CheckResult {
    let answer = match get(client, url).await {
        Ok(a) => a,
        Err((reason, elapsed)) => {
            return CheckResult::new("database", url, CheckLevel::Fail, reason, elapsed);
        }
    };
    let json: Option<Value> = serde_json::from_str(&answer.body).ok();
    let pool = json.as_ref().and_then(|j| {
        let p = &j["pool"];
        Some((
            p["active"].as_u64()?,
            p["idle"].as_u64().unwrap_or(0),
            p["max"].as_u64()?,
        ))
    });
    let pool_text = pool
        .map(|(a, i, m)| format!("pool {a}/{m} active, {i} idle"))
        .unwrap_or_default();
    let (level, reason) = if !(200..300).contains(&answer.status) {
        let why = json
            .as_ref()
            .and_then(app_reason)
            .unwrap_or_else(|| excerpt(&answer.body));
        let sep = if pool_text.is_empty() { "" } else { "; " };
        (
            CheckLevel::Fail,
            format!("{} {why}{sep}{pool_text}", answer.status),
        )
    } else {
        match pool {
            Some((a, _, m)) if m > 0 && a >= m => {
                (CheckLevel::Fail, format!("pool exhausted: {pool_text}"))
            }
            Some((a, _, m)) if m > 0 && a as f64 / m as f64 >= thresholds.pool_warn_ratio => {
                (CheckLevel::Warn, format!("pool nearly full: {pool_text}"))
            }
            _ => (
                CheckLevel::Ok,
                format!(
                    "{} {}",
                    answer.status,
                    if pool_text.is_empty() {
                        "ok".into()
                    } else {
                        pool_text
                    }
                ),
            ),
        }
    };
    let result = CheckResult::new("database", url, level, reason, answer.elapsed);
    slow_is_a_warning(result, thresholds.latency_warn_ms)
}

/// A liveness endpoint that answers 2xx when up (Prometheus `/-/healthy`).
pub async fn liveness(client: &reqwest::Client, name: &str, url: &str) -> CheckResult {
    match get(client, url).await {
        Ok(a) if (200..300).contains(&a.status) => CheckResult::new(
            name,
            url,
            CheckLevel::Ok,
            format!("{} {}", a.status, excerpt(&a.body)),
            a.elapsed,
        ),
        Ok(a) => CheckResult::new(
            name,
            url,
            CheckLevel::Fail,
            format!("{} {}", a.status, excerpt(&a.body)),
            a.elapsed,
        ),
        Err((reason, elapsed)) => CheckResult::new(name, url, CheckLevel::Fail, reason, elapsed),
    }
}

/// An ok answer slower than `warn_ms` becomes a warning that says so.
pub fn slow_is_a_warning(mut result: CheckResult, warn_ms: u64) -> CheckResult {
    if let Some(ms) = result.millis
        && result.level == CheckLevel::Ok
        && ms > warn_ms
    {
        result.level = CheckLevel::Warn;
        result.reason = format!("slow: {ms} ms (above {warn_ms} ms); {}", result.reason);
    }
    result
}

/// The app's own explanation in a health body: `reason`, `error` or `detail`.
fn app_reason(json: &Value) -> Option<String> {
    ["reason", "error", "detail"]
        .iter()
        .find_map(|k| json[*k].as_str().map(str::to_string))
}

fn or_ok(word: &str) -> &str {
    if word.is_empty() { "ok" } else { word }
}

/// The first line of a body, at most 120 characters.
pub fn excerpt(body: &str) -> String {
    let line = body.trim().lines().next().unwrap_or_default();
    let mut cut: String = line.chars().take(120).collect();
    if line.chars().count() > 120 {
        cut.push('…');
    }
    if cut.is_empty() {
        "(empty body)".into()
    } else {
        cut
    }
}

/// What went wrong with a request, in a few words: `connection refused`, `timed out`, `dns error: …`.
pub fn error_reason(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "no answer in time (timeout)".into();
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return io_reason(io);
        }
        source = e.source();
    }
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

/// An I/O error in a few words.
pub fn io_reason(err: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match err.kind() {
        ConnectionRefused => "connection refused".into(),
        ConnectionReset => "connection reset by peer".into(),
        ConnectionAborted => "connection aborted".into(),
        TimedOut => "timed out".into(),
        UnexpectedEof => "connection closed without an answer".into(),
        _ => err.to_string(),
    }
}
