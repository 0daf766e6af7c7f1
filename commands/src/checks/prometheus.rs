//! The Prometheus query API (`/api/v1/query`), so rates cover a window (5 minutes) rather than a process's
//! lifetime: request rate, 5xx share, cache hit rate, pool wait and latency percentiles.

use serde_json::Value;

use super::http_check::{error_reason, join};

/// The window rates are computed over.
pub const WINDOW: &str = "5m";

/// The windowed figures, each `None` when Prometheus had no data for it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WindowedRates {
    pub requests_per_second: Option<f64>,
    pub error_ratio: Option<f64>,
    pub cache_hit_rate: Option<f64>,
    /// Seconds waited for a pool connection per second.
    pub pool_wait_per_second: Option<f64>,
    pub latency_p50_seconds: Option<f64>,
    pub latency_p99_seconds: Option<f64>,
    /// Where the figures come from (`Prometheus, last 5m`, `3 pods over 2 s`).
    pub source: String,
}

/// The PromQL of each figure.
pub fn queries() -> [(&'static str, String); 6] {
    let w = WINDOW;
    [
        ("requests", format!("sum(rate(http_requests_total[{w}]))")),
        (
            "errors",
            format!(
                "sum(rate(http_requests_total{{status=~\"5..\"}}[{w}])) / sum(rate(http_requests_total[{w}]))"
            ),
        ),
        (
            "cache",
            format!(
                "sum(rate(cache_hit_total[{w}])) / (sum(rate(cache_hit_total[{w}])) + sum(rate(cache_miss_total[{w}])))"
            ),
        ),
        ("pool_wait", format!("sum(rate(db_pool_wait_seconds[{w}]))")),
        (
            "p50",
            format!(
                "histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket[{w}])))"
            ),
        ),
        (
            "p99",
            format!(
                "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[{w}])))"
            ),
        ),
    ]
}

/// Runs one instant query; the first series' value, `None` when the result is empty.
pub async fn query(
    client: &reqwest::Client,
    base: &str,
    promql: &str,
) -> Result<Option<f64>, String> {
    let mut url = url::Url::parse(&join(base, "/api/v1/query"))
        .map_err(|e| format!("bad Prometheus URL: {e}"))?;
    url.query_pairs_mut().append_pair("query", promql);
    let response = client.get(url).send().await.map_err(|e| error_reason(&e))?;
    let status = response.status().as_u16();
    let json: Value = response
        .json()
        .await
        .map_err(|e| format!("{status}: not JSON ({})", error_reason(&e)))?;
    if json["status"] != "success" {
        return Err(format!(
            "{status}: {}",
            json["error"].as_str().unwrap_or("query failed")
        ));
    }
    Ok(parse_vector(&json))
}

/// The value of the first sample of an instant-vector (or scalar) result.
pub fn parse_vector(json: &Value) -> Option<f64> {
    let data = &json["data"];
    let value = match data["resultType"].as_str() {
        Some("scalar") => &data["result"][1],
        _ => &data["result"][0]["value"][1],
    };
    value
        .as_str()?
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

/// All windowed figures, queried concurrently.
pub async fn windowed(client: &reqwest::Client, base: &str) -> Result<WindowedRates, String> {
    let qs = queries();
    let results = futures::future::join_all(qs.iter().map(|(_, q)| query(client, base, q))).await;
    let mut values = Vec::with_capacity(results.len());
    for r in results {
        values.push(r?);
    }
    Ok(WindowedRates {
        requests_per_second: values[0],
        error_ratio: values[1],
        cache_hit_rate: values[2],
        pool_wait_per_second: values[3],
        latency_p50_seconds: values[4],
        latency_p99_seconds: values[5],
        source: format!("Prometheus, last {WINDOW}"),
    })
}
