//! The words of mystocks-api's log lines: paths, client addresses, startup, request errors and fatal exits.

use super::super::health::{REDIS_REFUSED, SCHEMA_ERROR};
use super::super::noise::Noise;
use super::super::profile::{Mode, Note, RequestClass};

const QUOTE_PATHS: &[&str] = &[
    "/api/v1/quotes/AAPL",
    "/api/v1/quotes/MSFT",
    "/api/v1/quotes/GOOGL",
    "/api/v1/quotes/AMZN",
    "/api/v1/quotes/NVDA",
    "/api/v1/quotes/TSLA/history?range=1d",
    "/api/v1/quotes/META/history?range=5d",
    "/api/v1/market/summary",
    "/api/v1/watchlist",
];
const DB_PATHS: &[&str] = &[
    "/api/v1/portfolio/1042",
    "/api/v1/portfolio/2217/positions",
    "/api/v1/portfolio/3981/performance?period=ytd",
    "/api/v1/quotes/AAPL/history?range=1y",
];
const POST_PATHS: &[&str] = &[
    "/api/v1/orders",
    "/api/v1/alerts",
    "/api/v1/watchlist/items",
];
const MISSING_PATHS: &[&str] = &[
    "/api/v1/quotes/ZZZZ",
    "/favicon.ico",
    "/api/v1/portfolio/9999",
    "/wp-login.php",
];
/// The ingress controller pods that forward client traffic.
const CLIENTS: &[&str] = &["10.0.3.7", "10.0.1.12", "10.0.2.31", "10.0.4.18"];
/// The kubelet (probes) and Prometheus (scrapes).
pub(crate) const KUBELET: &str = "10.0.0.1";
pub(crate) const PROMETHEUS: &str = "10.0.5.20";

/// A path for a request of `class`.
pub(crate) fn path(class: &RequestClass, noise: &mut Noise) -> &'static str {
    match (class.method, class.status) {
        ("POST", _) => noise.pick(POST_PATHS),
        (_, 404) => noise.pick(MISSING_PATHS),
        _ if class.note == Note::PoolWait => noise.pick(DB_PATHS),
        _ if noise.unit() < 0.25 => noise.pick(DB_PATHS),
        _ => noise.pick(QUOTE_PATHS),
    }
}

/// A client address.
pub(crate) fn client(noise: &mut Noise) -> &'static str {
    noise.pick(CLIENTS)
}

/// A latency in milliseconds as logged. Lines that are not 5xx never contain `500`, `502` or `503`, so the
/// manual's `grep "500\|502\|503"` finds only real server errors.
pub(crate) fn millis(ms: f64, status: u16) -> String {
    let mut ms = (ms * 10.0).round() / 10.0;
    loop {
        let text = format!("{ms:.1}ms");
        if status >= 500 || !["500", "502", "503"].iter().any(|c| text.contains(c)) {
            return text;
        }
        ms += 0.1;
    }
}

/// An access line, as uvicorn's access logger writes it.
pub(crate) fn access(client: &str, method: &str, path: &str, status: u16, ms: f64) -> String {
    format!(
        "INFO {client} \"{method} {path} HTTP/1.1\" {status} {}",
        millis(ms, status)
    )
}

/// The application line that goes with a request that took `ms`, if its class has one.
pub(crate) fn request_note(
    class: &RequestClass,
    method: &str,
    path: &str,
    ms: f64,
    noise: &mut Noise,
) -> Option<String> {
    match class.note {
        Note::None => None,
        Note::PoolWait => Some(format!(
            "WARN db: {method} {path} waited {} for a pool connection (pool 20/20 in use)",
            millis((ms - 5.0).max(0.0), 200)
        )),
        Note::CacheDown if noise.unit() < 0.35 => Some(format!(
            "ERROR cache: redis.exceptions.ConnectionError: {REDIS_REFUSED}"
        )),
        Note::CacheDown => Some(format!(
            "WARN cache: redis unavailable, serving {path} from the database"
        )),
        Note::Unhandled => Some(format!(
            "ERROR request failed: sqlalchemy.exc.ProgrammingError: {SCHEMA_ERROR} [{method} {path}]"
        )),
    }
}

/// The lines a container logs while starting, with their offsets in ms from the start.
pub(crate) fn startup(version: &str, mode: Mode) -> Vec<(i64, String)> {
    let mut lines = vec![
        (0, format!("INFO Starting mystocks-api {version} (pid 1, python 3.12.7)")),
        (140, "INFO db: connection pool ready (size=20, overflow=0) postgresql://mystocks@postgres:5432/mystocks".to_string()),
    ];
    if mode == Mode::CacheDown {
        lines.push((
            360,
            format!("ERROR cache: cannot connect to redis://redis:6379/0: {REDIS_REFUSED}"),
        ));
    } else {
        lines.push((
            360,
            "INFO cache: connected to redis://redis:6379/0".to_string(),
        ));
    }
    lines.push((
        620,
        "INFO Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)".to_string(),
    ));
    lines.push((910, "INFO Application startup complete.".to_string()));
    if mode == Mode::Crashing {
        // The bad release starts in a fifth of the time and warns before it fails.
        for line in &mut lines {
            line.0 /= 5;
        }
        lines.push((
            200,
            "WARN schema check: migration 0042_add_exchange_code has not been applied".to_string(),
        ));
    }
    lines
}

/// The fatal end of a crashing container: a traceback and the exit.
pub(crate) fn crash(version: &str) -> Vec<String> {
    vec![
        "ERROR Exception in worker process".to_string(),
        "Traceback (most recent call last):".to_string(),
        "  File \"/app/mystocks/startup.py\", line 57, in verify_schema".to_string(),
        "    await conn.execute(text(\"SELECT exchange_code FROM quotes LIMIT 1\"))".to_string(),
        "  File \"/usr/local/lib/python3.12/site-packages/sqlalchemy/engine/base.py\", line 1418, in execute".to_string(),
        "    return meth(self, distilled_parameters, execution_options)".to_string(),
        format!("sqlalchemy.exc.ProgrammingError: {SCHEMA_ERROR}"),
        format!("CRITICAL mystocks-api {version} exiting: schema check failed (exit code 3)"),
    ]
}

/// The fatal end of a container of a good image that was restarted (killed for memory).
pub(crate) fn killed() -> Vec<String> {
    vec![
        "ERROR Worker (pid:7) was sent SIGKILL! Perhaps out of memory?".to_string(),
        "CRITICAL mystocks-api exiting: worker lost (exit code 137)".to_string(),
    ]
}

/// Periodic warnings of a mode, for the second `s` of a container's life (None most seconds).
pub(crate) fn periodic(mode: Mode, since_start: i64, noise: &mut Noise) -> Option<String> {
    match mode {
        Mode::Slow if since_start % 10 == 3 => Some(format!(
            "WARN tdengine: slow query took {}ms: SELECT last_row(price) FROM quotes WHERE symbol = '{}'",
            noise.range(900, 2400),
            noise.pick(&["AAPL", "MSFT", "NVDA", "TSLA"])
        )),
        Mode::CpuBound if noise.unit() < 0.15 => Some(format!(
            "WARN event loop blocked for {}ms (worker {})",
            noise.range(180, 460),
            noise.range(1, 4)
        )),
        Mode::PoolExhausted if since_start % 15 == 7 => Some(format!(
            "WARN db: {} requests waiting for a connection (pool 20/20 in use)",
            noise.range(30, 80)
        )),
        _ => None,
    }
}
