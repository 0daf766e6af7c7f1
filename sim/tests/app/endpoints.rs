//! The app's HTTP endpoints under each scenario: the load-balanced URL, each pod's own instance, metrics.

use std::collections::BTreeSet;

use chrono::Duration;
use http::Method;
use mystocks_sim::app;
use mystocks_sim::world::{ClusterView, PodState, Scenario};

use super::fake::{FakeCluster, get, json, parse_metrics, pod, pod_body, ready, serve, t0};

#[tokio::test]
async fn healthy_app_balances_over_every_serving_pod() {
    let view = FakeCluster::three("rr", Scenario::Healthy);
    let addr = serve(app::http_router(view.clone())).await;
    let mut seen = BTreeSet::new();
    for _ in 0..6 {
        let (status, body, served_by) = get(addr, "/health").await;
        assert_eq!(status, 200, "{body}");
        let body = json(&body);
        assert_eq!(body["status"], "healthy");
        assert_eq!(body["version"], "v1.0.1");
        assert_eq!(
            Some(body["pod"].as_str().unwrap_or("").to_string()),
            served_by
        );
        seen.insert(served_by.unwrap_or_default());
    }
    assert_eq!(seen.len(), 3, "round robin reaches every pod: {seen:?}");
    let (status, body, _) = get(addr, "/api/health/database").await;
    assert_eq!(status, 200);
    let body = json(&body);
    assert!(body["pool"]["active"].as_u64() < body["pool"]["max"].as_u64());
    let (status, body, _) = get(addr, "/api/v1/nothing-here").await;
    assert_eq!(
        (status, json(&body)["detail"].as_str()),
        (404, Some("Not Found"))
    );
}

#[tokio::test]
async fn no_serving_pod_means_no_healthy_upstream() {
    let pods = vec![
        pod(
            "nh-1",
            "mystocks/api:v1.0.2",
            PodState::CrashLoopBackOff,
            Some(30),
        ),
        pod(
            "nh-2",
            "mystocks/api:v1.0.1",
            PodState::Running { ready: false },
            Some(1),
        ),
    ];
    let addr = serve(app::http_router(FakeCluster::new(
        pods,
        Scenario::BadRelease,
    )))
    .await;
    let (status, body, _) = get(addr, "/health").await;
    assert_eq!((status, body.as_str()), (503, "no healthy upstream"));
}

#[tokio::test]
async fn a_pod_that_is_not_up_refuses_like_the_pod_proxy() {
    let view = FakeCluster::new(vec![], Scenario::Healthy);
    let states = [
        (PodState::Pending, None),
        (PodState::ContainerCreating, None),
        (PodState::CrashLoopBackOff, Some(40)),
        (PodState::ImagePullBackOff, None),
        (PodState::Terminating, Some(600)),
    ];
    for (i, (state, age)) in states.into_iter().enumerate() {
        let p = pod(&format!("down-{i}"), "mystocks/api:v1.0.1", state, age);
        let (status, body) = pod_body(&view, &p, "/health").await;
        assert_eq!(status, 503, "{state:?}");
        let ip = app::pod_ip(&p.uid);
        let status = json(&body);
        assert_eq!(
            (status["kind"].as_str(), status["code"].as_u64()),
            (Some("Status"), Some(503))
        );
        assert_eq!(
            status["message"].as_str(),
            Some(
                format!(
                    "error trying to reach service: dial tcp {ip}:8000: connect: connection refused"
                )
                .as_str()
            )
        );
    }
    let starting = pod(
        "down-starting",
        "mystocks/api:v1.0.1",
        PodState::Running { ready: false },
        Some(1),
    );
    let (status, body) = pod_body(&view, &starting, "/health").await;
    assert_eq!(
        (status, json(&body)["status"].as_str()),
        (503, Some("unhealthy"))
    );
    let up = ready("down-ok", "mystocks/api:v1.0.1");
    let wrong = app::respond_as_pod(view.as_ref(), &up, &Method::POST, "/health").await;
    assert_eq!(wrong.status().as_u16(), 405);
    let (status, body) = pod_body(&view, &starting, "/health/live/").await;
    assert_eq!(
        (status, json(&body)["status"].as_str()),
        (200, Some("alive")),
        "the process is up"
    );
}

#[tokio::test]
async fn bad_release_pod_answers_500_and_counts_them_until_it_crashes() {
    let view = FakeCluster::new(vec![], Scenario::BadRelease);
    let running = PodState::Running { ready: false };
    let mut crashing = pod("bad-1", "mystocks/api:v1.0.2", running, None);
    crashing.started_at = Some(t0() - Duration::milliseconds(800));
    let (status, body) = pod_body(&view, &crashing, "/health").await;
    assert_eq!(status, 500);
    assert!(
        json(&body)["reason"]
            .as_str()
            .unwrap_or("")
            .contains("exchange_code"),
        "{body}"
    );
    let (status, metrics) = pod_body(&view, &crashing, "/metrics").await;
    assert_eq!(status, 200);
    let m = parse_metrics(&metrics);
    assert!(m["http_requests_total{status=\"500\"}"] > 0.0, "{metrics}");
    view.advance(app::CRASH_AFTER_SECS);
    let (status, body) = pod_body(&view, &crashing, "/health").await;
    assert_eq!(status, 503, "crashed process no longer listens: {body}");
    let good = ready("bad-good", "mystocks/api:v1.0.1");
    assert_eq!(
        pod_body(&view, &good, "/health").await.0,
        200,
        "other tags are unaffected"
    );
}

#[tokio::test]
async fn metrics_are_consistent_and_only_grow() {
    let view = FakeCluster::three("met", Scenario::Healthy);
    let p = view.app_pods().remove(0);
    let response = app::respond_as_pod(view.as_ref(), &p, &Method::GET, "/metrics").await;
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let first = parse_metrics(&pod_body(&view, &p, "/metrics").await.1);
    for series in [
        "cache_hit_total",
        "cache_miss_total",
        "db_pool_connections_active",
        "db_pool_connections_idle",
        "db_pool_connections_max",
        "db_pool_wait_seconds",
        "http_request_duration_seconds_sum",
    ] {
        assert!(first.contains_key(series), "missing {series}");
    }
    assert!(first["cache_hit_ratio"] > 0.85, "healthy hit ratio");
    let count = first["http_request_duration_seconds_count"];
    assert!(
        count > 1000.0,
        "ten minutes at a few requests a second: {count}"
    );
    assert_eq!(
        first["http_request_duration_seconds_bucket{le=\"+Inf\"}"],
        count
    );
    let by_status: f64 = first
        .iter()
        .filter(|(k, _)| k.starts_with("http_requests_total"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(by_status, count);
    let buckets: Vec<f64> = first
        .iter()
        .filter(|(k, _)| k.contains("_bucket"))
        .map(|(_, v)| *v)
        .collect();
    assert!(buckets.len() >= 10);
    assert!(
        !first.keys().any(|k| k.contains("status=\"5")),
        "healthy serves no 5xx"
    );
    view.set_scenario_name(Scenario::HighLatency);
    view.advance(60);
    let second = parse_metrics(&pod_body(&view, &p, "/metrics").await.1);
    for (series, value) in &first {
        if series.ends_with("_total") || series.contains("_bucket") || series.ends_with("_count") {
            assert!(
                second[series] >= *value,
                "{series} went from {value} to {}",
                second[series]
            );
        }
    }
    let hits = second["cache_hit_total"] - first["cache_hit_total"];
    let misses = second["cache_miss_total"] - first["cache_miss_total"];
    assert!(
        hits > 5.0 * misses,
        "the cache is fine under high-latency: {hits} hits, {misses} misses"
    );
    let delta = |k: &str| second[k] - first[k];
    let recent = delta("http_request_duration_seconds_count");
    let fast = delta("http_request_duration_seconds_bucket{le=\"0.25\"}");
    assert!(
        fast < recent / 4.0,
        "most requests of the last minute took over 250 ms: {fast} of {recent}"
    );
}

#[tokio::test]
async fn exhausted_pool_shows_active_equal_max_and_growing_waits() {
    let view = FakeCluster::three("pool", Scenario::DbPoolExhausted);
    let addr = serve(app::http_router(view.clone())).await;
    let (status, body, _) = get(addr, "/api/health/database").await;
    assert_eq!(status, 503);
    let body = json(&body);
    assert_eq!(body["pool"]["active"], body["pool"]["max"]);
    assert!(
        body["error"]
            .as_str()
            .unwrap_or("")
            .contains("QueuePool limit")
    );
    let (status, body, _) = get(addr, "/health").await;
    assert_eq!(
        (status, json(&body)["status"].as_str()),
        (200, Some("healthy")),
        "`/health` takes no pool connection: {body}"
    );
    let first = parse_metrics(&get(addr, "/metrics").await.1);
    assert_eq!(
        first["db_pool_connections_active"],
        first["db_pool_connections_max"]
    );
    assert_eq!(first["db_pool_connections_idle"], 0.0);
    let server_errors: f64 = first
        .iter()
        .filter(|(k, _)| k.starts_with("http_requests_total{status=\"5"))
        .map(|(_, v)| v)
        .sum();
    assert!(
        server_errors <= 1.0,
        "requests wait for a connection and are served, no 5xx storm (at most the database check's own 503): {server_errors}"
    );
    let p = view.app_pods().remove(0);
    let before = parse_metrics(&pod_body(&view, &p, "/metrics").await.1);
    view.advance(30);
    for _ in 0..3 {
        let next = parse_metrics(&get(addr, "/metrics").await.1);
        if next["process_start_time_seconds"] == first["process_start_time_seconds"] {
            assert!(next["db_pool_wait_seconds"] > first["db_pool_wait_seconds"]);
        }
    }
    let after = parse_metrics(&pod_body(&view, &p, "/metrics").await.1);
    let value =
        |m: &std::collections::BTreeMap<String, f64>, k: &str| m.get(k).copied().unwrap_or(0.0);
    let delta = |k: &str| value(&after, k) - value(&before, k);
    let served = delta("http_request_duration_seconds_count");
    let slow = served - delta("http_request_duration_seconds_bucket{le=\"1\"}");
    let fast = delta("http_request_duration_seconds_bucket{le=\"0.05\"}");
    assert!(
        slow > served / 10.0 && fast > served / 2.0,
        "requests that need the database wait over a second, cache hits do not: {slow} slow, {fast} fast of {served}"
    );
    assert_eq!(
        delta("http_requests_total{status=\"503\"}"),
        0.0,
        "no request timed out"
    );
}

#[tokio::test]
async fn redis_down_reports_the_cache_down_and_no_hits() {
    let view = FakeCluster::three("rd", Scenario::RedisDown);
    let addr = serve(app::http_router(view.clone())).await;
    let (status, body, _) = get(addr, "/health").await;
    assert_eq!(
        (status, json(&body)["status"].as_str()),
        (200, Some("healthy")),
        "answers come from the database while the cache is down: {body}"
    );
    assert_eq!(json(&body)["checks"]["cache"], "down");
    let p = view.app_pods().remove(0);
    let before = parse_metrics(&pod_body(&view, &p, "/metrics").await.1);
    assert_eq!(before["cache_hit_ratio"], 0.0);
    view.advance(60);
    let after = parse_metrics(&pod_body(&view, &p, "/metrics").await.1);
    assert_eq!(
        after["cache_hit_total"], before["cache_hit_total"],
        "no hit while Redis is down"
    );
    assert!(after["cache_miss_total"] > before["cache_miss_total"]);
    let mut fresh = ready("rd-fresh", "mystocks/api:v1.0.1");
    fresh.started_at = Some(view.now() - Duration::seconds(30));
    let m = parse_metrics(&pod_body(&view, &fresh, "/metrics").await.1);
    assert_eq!(
        m["cache_hit_total"], 0.0,
        "a pod started during the outage never hit"
    );
    assert!(m["cache_miss_total"] > 0.0);
}

#[tokio::test]
async fn high_latency_really_slows_health_and_high_cpu_stays_healthy() {
    let view = FakeCluster::three("lat", Scenario::HighLatency);
    let addr = serve(app::http_router(view.clone())).await;
    let started = std::time::Instant::now();
    let (status, _, _) = get(addr, "/health").await;
    assert_eq!(status, 200);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(300),
        "the sleep is real"
    );
    let cpu = FakeCluster::three("cpu", Scenario::HighCpu);
    let addr = serve(app::http_router(cpu)).await;
    assert_eq!(get(addr, "/health").await.0, 200);
}
