//! The app's `/metrics` (Prometheus text format, parsed with `prometheus-parse`) summarised: cache hit rate,
//! DB pool, requests and 5xx share since the process started, and latency percentiles from the histogram.

use std::collections::BTreeMap;
use std::time::Duration;

use prometheus_parse::{Sample, Scrape, Value};
use serde::{Deserialize, Serialize};

use super::config::Thresholds;
use super::http_check::{error_reason, excerpt};
use super::prometheus::WindowedRates;
use super::result::{CheckLevel, CheckResult};

/// What one scrape says.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricsSummary {
    /// The pod that answered (`x-served-by`), when behind the sim's or a similar load balancer.
    pub served_by: Option<String>,
    /// `cache_hit_ratio`, or hits / (hits + misses).
    pub cache_hit_rate: Option<f64>,
    pub cache_hits: Option<f64>,
    pub cache_misses: Option<f64>,
    pub pool_active: Option<f64>,
    pub pool_idle: Option<f64>,
    pub pool_max: Option<f64>,
    /// Total seconds requests have waited for a pool connection (a counter).
    pub pool_wait_seconds: Option<f64>,
    /// Requests by status code.
    pub requests_by_status: BTreeMap<String, f64>,
    /// Latency percentiles in seconds (p50, p90, p99) from `http_request_duration_seconds`.
    pub latency_p50: Option<f64>,
    pub latency_p90: Option<f64>,
    pub latency_p99: Option<f64>,
    /// The latency histogram's cumulative buckets `(le, count)`, summed over label sets.
    pub buckets: Vec<(f64, f64)>,
}

impl MetricsSummary {
    /// All requests counted.
    pub fn requests(&self) -> f64 {
        self.requests_by_status.values().fold(0.0, |a, b| a + b)
    }

    /// 5xx requests counted.
    pub fn server_errors(&self) -> f64 {
        self.requests_by_status
            .iter()
            .filter(|(s, _)| s.starts_with('5'))
            .fold(0.0, |a, (_, n)| a + n)
    }
}

/// Why metrics could not be had.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("no API URL configured (set `checks.api_url`)")]
    NotConfigured,
    #[error("cannot scrape {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} answered {status}: {excerpt}")]
    Status {
        url: String,
        status: u16,
        excerpt: String,
    },
    #[error("the metrics at {url} are not Prometheus text format: {reason}")]
    Malformed { url: String, reason: String },
}

/// Scrapes `url` and summarises it.
pub async fn scrape_metrics(
    client: &reqwest::Client,
    url: &str,
) -> Result<MetricsSummary, MetricsError> {
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| MetricsError::Unreachable {
            url: url.into(),
            reason: error_reason(&e),
        })?;
    let status = response.status().as_u16();
    let served_by = response
        .headers()
        .get("x-served-by")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = response
        .text()
        .await
        .map_err(|e| MetricsError::Unreachable {
            url: url.into(),
            reason: error_reason(&e),
        })?;
    if !(200..300).contains(&status) {
        return Err(MetricsError::Status {
            url: url.into(),
            status,
            excerpt: excerpt(&body),
        });
    }
    let mut summary = parse_metrics(&body).map_err(|reason| MetricsError::Malformed {
        url: url.into(),
        reason,
    })?;
    summary.served_by = served_by;
    Ok(summary)
}

/// Parses a Prometheus text exposition. Text with no samples at all, or with lines that are neither comments
/// nor samples, is refused with the first bad line.
pub fn parse_metrics(text: &str) -> Result<MetricsSummary, String> {
    if let Some((n, line)) = text.lines().enumerate().find(|(_, l)| !plausible_line(l)) {
        return Err(format!("line {}: `{}`", n + 1, excerpt(line)));
    }
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = Scrape::parse(lines).map_err(|e| e.to_string())?;
    if scrape.samples.is_empty() {
        return Err("no samples".into());
    }
    Ok(summarise(&scrape.samples))
}

/// A comment, a blank line, or `name[{labels}] value [timestamp]` with a number for a value.
fn plausible_line(line: &str) -> bool {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return true;
    }
    let name_end = line
        .find(|c: char| c == '{' || c.is_whitespace())
        .unwrap_or(line.len());
    let name = &line[..name_end];
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    let rest = match line[name_end..].trim_start().strip_prefix('{') {
        Some(labels) => match labels.rfind('}') {
            Some(end) => &labels[end + 1..],
            None => return false,
        },
        None => &line[name_end..],
    };
    let mut words = rest.split_whitespace();
    let value_ok = words
        .next()
        .is_some_and(|v| v.parse::<f64>().is_ok() || matches!(v, "NaN" | "+Inf" | "-Inf" | "Inf"));
    name_ok && value_ok && words.count() <= 1
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Counter(x) | Value::Gauge(x) | Value::Untyped(x) => Some(*x),
        _ => None,
    }
}

fn summarise(samples: &[Sample]) -> MetricsSummary {
    let sum_of = |name: &str| -> Option<f64> {
        let values: Vec<f64> = samples
            .iter()
            .filter(|s| s.metric == name)
            .filter_map(|s| number(&s.value))
            .collect();
        (!values.is_empty()).then(|| values.iter().sum())
    };
    let mut requests_by_status = BTreeMap::new();
    for s in samples.iter().filter(|s| s.metric == "http_requests_total") {
        if let (Some(status), Some(n)) = (s.labels.get("status"), number(&s.value)) {
            *requests_by_status.entry(status.to_string()).or_insert(0.0) += n;
        }
    }
    let hits = sum_of("cache_hit_total");
    let misses = sum_of("cache_miss_total");
    let cache_hit_rate = sum_of("cache_hit_ratio").or(match (hits, misses) {
        (Some(h), Some(m)) if h + m > 0.0 => Some(h / (h + m)),
        _ => None,
    });
    let buckets = histogram(samples, "http_request_duration_seconds");
    MetricsSummary {
        served_by: None,
        cache_hit_rate,
        cache_hits: hits,
        cache_misses: misses,
        pool_active: sum_of("db_pool_connections_active"),
        pool_idle: sum_of("db_pool_connections_idle"),
        pool_max: sum_of("db_pool_connections_max"),
        pool_wait_seconds: sum_of("db_pool_wait_seconds"),
        requests_by_status,
        latency_p50: quantile(0.5, &buckets),
        latency_p90: quantile(0.9, &buckets),
        latency_p99: quantile(0.99, &buckets),
        buckets,
    }
}

/// Cumulative buckets `(le, count)` of a histogram, summed over label sets, sorted by bound.
fn histogram(samples: &[Sample], name: &str) -> Vec<(f64, f64)> {
    let mut by_bound: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
    let mut add = |le: f64, count: f64| {
        let key = if le.is_infinite() {
            u64::MAX
        } else {
            (le * 1e9) as u64
        };
        by_bound.entry(key).or_insert((le, 0.0)).1 += count;
    };
    for s in samples {
        match &s.value {
            Value::Histogram(counts) if s.metric == name => {
                for c in counts {
                    add(c.less_than, c.count);
                }
            }
            v if s.metric == format!("{name}_bucket") => {
                if let (Some(le), Some(n)) = (
                    s.labels.get("le").and_then(|l| l.parse::<f64>().ok()),
                    number(v),
                ) {
                    add(le, n);
                }
            }
            _ => {}
        }
    }
    by_bound.into_values().collect()
}

/// Prometheus' `histogram_quantile`: linear interpolation inside the bucket that holds the rank.
pub fn quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    let total = buckets.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let mut lower = (0.0, 0.0);
    for &(le, count) in buckets {
        if count >= rank {
            if le.is_infinite() {
                return Some(lower.0);
            }
            let in_bucket = count - lower.1;
            let share = if in_bucket > 0.0 {
                (rank - lower.1) / in_bucket
            } else {
                1.0
            };
            return Some(lower.0 + (le - lower.0) * share);
        }
        lower = (le, count);
    }
    Some(lower.0)
}

/// The metrics as check lines from one scrape alone (totals since each process started).
pub fn judge(
    summary: &MetricsSummary,
    thresholds: &Thresholds,
    source: &str,
    elapsed: Duration,
) -> Vec<CheckResult> {
    judge_recent(summary, None, thresholds, source, elapsed)
}

/// The figures the metrics judge grades, and runbook steps read as facts: recent ones (`windowed`) when they can be
/// had, else what the scrape says since each process started.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct JudgedFigures {
    pub cache_hit_rate: Option<f64>,
    /// The share of 5xx responses.
    pub error_ratio: Option<f64>,
    /// Latency p50 and p99, in seconds.
    pub latency: Option<(f64, f64)>,
}

/// Picks the figures [`judge_recent`] grades.
pub fn judged_figures(summary: &MetricsSummary, windowed: Option<&WindowedRates>) -> JudgedFigures {
    let lifetime_ratio =
        (summary.requests() > 0.0).then(|| summary.server_errors() / summary.requests());
    JudgedFigures {
        cache_hit_rate: summary
            .cache_hit_rate
            .or(windowed.and_then(|w| w.cache_hit_rate)),
        error_ratio: windowed.and_then(|w| w.error_ratio).or(lifetime_ratio),
        latency: windowed
            .and_then(recent_latency)
            .or(summary.latency_p50.zip(summary.latency_p99)),
    }
}

fn recent_latency(w: &WindowedRates) -> Option<(f64, f64)> {
    w.latency_p50_seconds.zip(w.latency_p99_seconds)
}

/// The metrics as check lines: cache hit rate, DB pool, 5xx share, latency p50 / p99. Recent rates
/// (`windowed`: Prometheus, or two scrapes of each pod) are used when given; otherwise totals since each
/// process started.
pub fn judge_recent(
    summary: &MetricsSummary,
    windowed: Option<&WindowedRates>,
    thresholds: &Thresholds,
    source: &str,
    elapsed: Duration,
) -> Vec<CheckResult> {
    let mut out = Vec::new();
    let line =
        |name: &str, level, reason: String| CheckResult::new(name, source, level, reason, elapsed);
    let figures = judged_figures(summary, windowed);
    match figures.cache_hit_rate {
        Some(rate) => {
            let level = if rate < thresholds.cache_hit_fail {
                CheckLevel::Fail
            } else if rate < thresholds.cache_hit_warn {
                CheckLevel::Warn
            } else {
                CheckLevel::Ok
            };
            let text = format!(
                "{:.0}% (warn below {:.0}%)",
                rate * 100.0,
                thresholds.cache_hit_warn * 100.0
            );
            out.push(line("cache hit rate", level, text));
        }
        None => out.push(line(
            "cache hit rate",
            CheckLevel::Warn,
            "no cache_hit series".into(),
        )),
    }
    if let Some(pool) = pool_line(summary, windowed, thresholds) {
        out.push(line("db pool", pool.0, pool.1));
    }
    match windowed.and_then(|w| w.error_ratio.map(|r| (r, w))) {
        Some((ratio, w)) => {
            let mut r =
                super::usage::error_ratio_check(source, ratio * 1e6, 1e6, thresholds, elapsed);
            r.reason = format!("{:.1}% 5xx ({})", ratio * 100.0, w.source);
            out.push(r);
        }
        None if summary.requests() > 0.0 => {
            let mut r = super::usage::error_ratio_check(
                source,
                summary.server_errors(),
                summary.requests(),
                thresholds,
                elapsed,
            );
            r.reason.push_str(" since the process started");
            out.push(r);
        }
        None => {}
    }
    let from = match windowed {
        Some(w) if recent_latency(w).is_some() => w.source.clone(),
        _ => "since the process started".to_string(),
    };
    if let Some((p50, p99)) = figures.latency {
        let warn = thresholds.latency_warn_ms as f64 / 1000.0;
        let level = if p50 > warn {
            CheckLevel::Warn
        } else {
            CheckLevel::Ok
        };
        let text = format!(
            "p50 {}, p99 {} ({from}; warn when p50 above {} ms)",
            ms(p50),
            ms(p99),
            thresholds.latency_warn_ms
        );
        out.push(line("latency", level, text));
    }
    out
}

/// The pool: full → fail, nearly full → warn; the wait and how fast it grows when known.
fn pool_line(
    summary: &MetricsSummary,
    windowed: Option<&WindowedRates>,
    thresholds: &Thresholds,
) -> Option<(CheckLevel, String)> {
    let (active, max) = (summary.pool_active?, summary.pool_max?);
    let idle = summary
        .pool_idle
        .map(|i| format!(", {i:.0} idle"))
        .unwrap_or_default();
    let wait = summary
        .pool_wait_seconds
        .map(|w| format!(", {w:.0} s waited in total"))
        .unwrap_or_default();
    let growth = windowed
        .and_then(|w| w.pool_wait_per_second)
        .filter(|g| *g > 0.0)
        .map(|g| format!(", wait growing {g:.2} s/s"))
        .unwrap_or_default();
    let text = format!("{active:.0}/{max:.0} active{idle}{wait}{growth}");
    Some(if max > 0.0 && active >= max {
        (CheckLevel::Fail, format!("exhausted: {text}"))
    } else if max > 0.0 && active / max >= thresholds.pool_warn_ratio {
        (CheckLevel::Warn, text)
    } else {
        (CheckLevel::Ok, text)
    })
}

fn ms(seconds: f64) -> String {
    format!("{:.0} ms", seconds * 1000.0)
}
