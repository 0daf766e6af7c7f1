//! `/metrics` of one app process in the Prometheus text format (version 0.0.4).
//!
//! Series: `http_requests_total{status}` (counter), `http_request_duration_seconds` (histogram),
//! `cache_hit_total` / `cache_miss_total` (counters), `cache_hit_ratio` (gauge, last minute), `db_pool_connections_active|idle|max` (gauges),
//! `db_pool_wait_seconds` (a counter: total seconds requests have waited for a pool connection since the
//! process started — it grows fast while the pool is exhausted), `process_start_time_seconds` and
//! `mystocks_api_info{version}` (gauges).

use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::counters::{BUCKETS, Counters};
use super::health::Pool;

/// The content type of the exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What the exposition is made from.
pub(crate) struct Snapshot<'a> {
    pub counters: &'a Counters,
    pub pool: Pool,
    /// The share of cache lookups that hit over the last minute.
    pub recent_hit_ratio: f64,
    pub started: DateTime<Utc>,
    pub version: &'a str,
}

/// Renders the exposition.
pub(crate) fn render(s: &Snapshot<'_>) -> String {
    let mut out = String::with_capacity(4096);
    let c = s.counters;
    header(
        &mut out,
        "http_requests_total",
        "counter",
        "HTTP requests served, by status code.",
    );
    let mut count: u64 = 0;
    for (status, n) in &c.requests {
        let n = n.floor() as u64;
        count += n;
        let _ = writeln!(out, "http_requests_total{{status=\"{status}\"}} {n}");
    }
    header(
        &mut out,
        "http_request_duration_seconds",
        "histogram",
        "HTTP request latency.",
    );
    for (le, n) in BUCKETS.iter().zip(c.buckets) {
        let n = (n.floor() as u64).min(count);
        let _ = writeln!(
            out,
            "http_request_duration_seconds_bucket{{le=\"{le}\"}} {n}"
        );
    }
    let _ = writeln!(
        out,
        "http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
    );
    let _ = writeln!(
        out,
        "http_request_duration_seconds_sum {:.3}",
        c.duration_sum
    );
    let _ = writeln!(out, "http_request_duration_seconds_count {count}");
    header(
        &mut out,
        "cache_hit_total",
        "counter",
        "Cache lookups answered from Redis.",
    );
    let _ = writeln!(out, "cache_hit_total {}", c.cache_hits.floor() as u64);
    header(
        &mut out,
        "cache_miss_total",
        "counter",
        "Cache lookups that missed or failed (Redis unreachable).",
    );
    let _ = writeln!(out, "cache_miss_total {}", c.cache_misses.floor() as u64);
    header(
        &mut out,
        "cache_hit_ratio",
        "gauge",
        "Share of cache lookups that hit over the last minute.",
    );
    let _ = writeln!(out, "cache_hit_ratio {:.3}", s.recent_hit_ratio);
    gauge(
        &mut out,
        "db_pool_connections_active",
        "Database connections checked out.",
        s.pool.active,
    );
    gauge(
        &mut out,
        "db_pool_connections_idle",
        "Database connections open and idle.",
        s.pool.idle,
    );
    gauge(
        &mut out,
        "db_pool_connections_max",
        "Database pool size.",
        s.pool.max,
    );
    header(
        &mut out,
        "db_pool_wait_seconds",
        "counter",
        "Total seconds requests waited for a pool connection.",
    );
    let _ = writeln!(out, "db_pool_wait_seconds {:.3}", c.pool_wait_seconds);
    header(
        &mut out,
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since unix epoch.",
    );
    let _ = writeln!(out, "process_start_time_seconds {}", s.started.timestamp());
    header(
        &mut out,
        "mystocks_api_info",
        "gauge",
        "The running version.",
    );
    let version = s
        .version
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    let _ = writeln!(out, "mystocks_api_info{{version=\"{version}\"}} 1");
    out
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn gauge(out: &mut String, name: &str, help: &str, value: u32) {
    header(out, name, "gauge", help);
    let _ = writeln!(out, "{name} {value}");
}
