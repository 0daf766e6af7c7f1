//! Metrics: a real exposition summarised, malformed ones refused with the line, latency percentiles.

use std::time::Duration;

use mystocks_commands::checks::metrics::{MetricsError, judge, quantile};
use mystocks_commands::checks::{CheckLevel, Thresholds, parse_metrics, scrape_metrics};

use crate::fakes::server;

const HEALTHY: &str = r#"# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{status="200"} 9500
http_requests_total{status="404"} 300
http_requests_total{status="500"} 200
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.005"} 1000
http_request_duration_seconds_bucket{le="0.01"} 5000
http_request_duration_seconds_bucket{le="0.025"} 9000
http_request_duration_seconds_bucket{le="0.05"} 9900
http_request_duration_seconds_bucket{le="+Inf"} 10000
http_request_duration_seconds_sum 120.5
http_request_duration_seconds_count 10000
# TYPE cache_hit_total counter
cache_hit_total 920
# TYPE cache_miss_total counter
cache_miss_total 80
# TYPE cache_hit_ratio gauge
cache_hit_ratio 0.92
# TYPE db_pool_connections_active gauge
db_pool_connections_active 20
db_pool_connections_idle 0
db_pool_connections_max 20
# TYPE db_pool_wait_seconds counter
db_pool_wait_seconds 1234.5
"#;

#[test]
fn a_real_exposition_is_summarised() {
    let s = parse_metrics(HEALTHY).expect("parses");
    assert_eq!(s.cache_hit_rate, Some(0.92));
    assert_eq!(
        (s.pool_active, s.pool_idle, s.pool_max),
        (Some(20.0), Some(0.0), Some(20.0))
    );
    assert_eq!(s.pool_wait_seconds, Some(1234.5));
    assert_eq!(s.requests(), 10_000.0);
    assert_eq!(s.server_errors(), 200.0);
    // Rank 5000 is the top of the 0.01 bucket.
    assert!((s.latency_p50.expect("p50") - 0.01).abs() < 1e-9, "{s:?}");
    let lines = judge(&s, &Thresholds::default(), "test", Duration::ZERO);
    let level = |name: &str| lines.iter().find(|l| l.name == name).map(|l| l.level);
    assert_eq!(level("cache hit rate"), Some(CheckLevel::Ok));
    assert_eq!(level("db pool"), Some(CheckLevel::Fail), "{lines:?}");
    assert_eq!(
        level("5xx"),
        Some(CheckLevel::Warn),
        "2% is above 1%: {lines:?}"
    );
    assert_eq!(level("latency"), Some(CheckLevel::Ok));
}

#[test]
fn malformed_expositions_are_refused_with_the_line() {
    for (text, line) in [
        ("http_requests_total{status=\"200\" 12\n", 1),
        ("# TYPE x counter\nx twelve\n", 2),
        ("<html>Not metrics</html>\n", 1),
        ("x 1 2 3\n", 1),
    ] {
        let err = parse_metrics(text).expect_err(text);
        assert!(err.starts_with(&format!("line {line}:")), "{text}: {err}");
    }
    assert_eq!(parse_metrics("# only comments\n"), Err("no samples".into()));
}

#[test]
fn quantiles_interpolate_inside_buckets() {
    let buckets = [(0.1, 50.0), (0.5, 100.0), (f64::INFINITY, 100.0)];
    assert_eq!(quantile(0.5, &buckets), Some(0.1));
    assert!((quantile(0.75, &buckets).expect("q") - 0.3).abs() < 1e-9);
    assert_eq!(quantile(0.5, &[]), None);
}

#[tokio::test]
async fn scraping_garbage_is_a_malformed_error_and_a_500_is_a_status_error() {
    let client = reqwest::Client::new();
    let addr = server(200, "text/plain", "{\"not\": \"metrics\"}".into(), 1).await;
    let err = scrape_metrics(&client, &format!("http://{addr}/metrics"))
        .await
        .expect_err("garbage");
    assert!(matches!(err, MetricsError::Malformed { .. }), "{err}");
    let addr = server(500, "text/plain", "boom".into(), 1).await;
    let err = scrape_metrics(&client, &format!("http://{addr}/metrics"))
        .await
        .expect_err("500");
    assert!(
        matches!(err, MetricsError::Status { status: 500, .. }),
        "{err}"
    );
    let addr = server(200, "text/plain", HEALTHY.into(), 1).await;
    let summary = scrape_metrics(&client, &format!("http://{addr}/metrics"))
        .await
        .expect("scrape");
    assert_eq!(summary.cache_hit_rate, Some(0.92));
}
