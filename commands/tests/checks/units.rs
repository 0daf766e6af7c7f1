//! Pure pieces: rates between two scrapes, pod proxy answers, the version cross-check, pod summaries, latency
//! against a local server (plain HTTP, and TLS refused by an unknown issuer).

use std::time::Duration;

use mystocks_commands::checks::health::cross_check_version;
use mystocks_commands::checks::pods::{PodsSnapshot, judge_pod_answer, summary};
use mystocks_commands::checks::window::rates;
use mystocks_commands::checks::{
    CheckLevel, CheckResult, ChecksConfig, measure_latency, parse_metrics,
};
use mystocks_commands::cluster::{PodRow, Target};

use crate::fakes::server;

fn scrape(ok: u64, errors: u64, hits: u64, misses: u64, wait: f64, fast: u64, slow: u64) -> String {
    format!(
        "http_requests_total{{status=\"200\"}} {ok}\nhttp_requests_total{{status=\"500\"}} {errors}\n\
         cache_hit_total {hits}\ncache_miss_total {misses}\ndb_pool_wait_seconds {wait}\n\
         http_request_duration_seconds_bucket{{le=\"0.1\"}} {fast}\n\
         http_request_duration_seconds_bucket{{le=\"1\"}} {}\n\
         http_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n",
        fast + slow,
        fast + slow
    )
}

#[test]
fn rates_come_from_the_difference_between_scrapes() {
    // Lifetime: 1000 fast requests. Between the scrapes: 100 more, all slow, 10 of them 5xx.
    let before = parse_metrics(&scrape(1000, 0, 900, 100, 10.0, 1000, 0)).expect("first");
    let after = parse_metrics(&scrape(1090, 10, 910, 190, 30.0, 1000, 100)).expect("second");
    let w = rates(&[(before, after)], 2.0);
    assert_eq!(w.requests_per_second, Some(50.0));
    assert_eq!(w.error_ratio, Some(0.1));
    assert_eq!(w.cache_hit_rate, Some(0.1));
    assert_eq!(w.pool_wait_per_second, Some(10.0));
    let p50 = w.latency_p50_seconds.expect("p50");
    assert!(p50 > 0.1, "recent requests are all slow: {p50}");
    assert_eq!(w.source, "1 pods over 2.0 s");
}

#[test]
fn a_restarted_process_counts_from_zero() {
    let before = parse_metrics(&scrape(5000, 0, 10, 0, 0.0, 5000, 0)).expect("first");
    let after = parse_metrics(&scrape(40, 0, 4, 0, 0.0, 40, 0)).expect("second");
    let w = rates(&[(before, after)], 1.0);
    assert_eq!(w.requests_per_second, Some(40.0));
}

#[test]
fn pod_proxy_answers_are_judged_with_their_reason() {
    let status = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"error trying to reach service: dial tcp 10.0.1.7:8000: connect: connection refused","code":503}"#;
    let (level, reason) = judge_pod_answer(503, status);
    assert_eq!(level, CheckLevel::Fail);
    assert!(reason.contains("connection refused"), "{reason}");
    let (level, reason) = judge_pod_answer(
        500,
        r#"{"status":"unhealthy","reason":"schema check failed"}"#,
    );
    assert_eq!(
        (level, reason.as_str()),
        (CheckLevel::Fail, "500 schema check failed")
    );
    assert_eq!(
        judge_pod_answer(200, r#"{"status":"healthy"}"#).0,
        CheckLevel::Ok
    );
    assert_eq!(
        judge_pod_answer(200, r#"{"status":"degraded","reason":"pool"}"#).0,
        CheckLevel::Warn
    );
}

fn row(name: &str, image: &str, status: &str, ready: u32, restarts: i32) -> PodRow {
    PodRow {
        name: name.into(),
        ready,
        containers: 1,
        status: status.into(),
        restarts,
        last_restart: None,
        created: None,
        age: "1m".into(),
        image: image.into(),
        message: None,
    }
}

#[test]
fn a_release_that_never_serves_fails_the_api_line_and_the_pods_line() {
    let snapshot = PodsSnapshot {
        rows: vec![
            row("old-1", "mystocks/api:v1.0.1", "Running", 1, 0),
            row("new-1", "mystocks/api:v1.0.2", "CrashLoopBackOff", 0, 3),
        ],
        desired_image: Some("mystocks/api:v1.0.2".into()),
    };
    let api = CheckResult::new(
        "api",
        "u",
        CheckLevel::Ok,
        "200 healthy, v1.0.1",
        Duration::ZERO,
    );
    let checked = cross_check_version(api.clone(), Some(&snapshot));
    assert_eq!(checked.level, CheckLevel::Fail);
    assert!(
        checked.reason.contains("v1.0.2 is not serving") && checked.reason.contains("new-1"),
        "{checked:?}"
    );
    let pods = summary(&snapshot, &Target::default(), Duration::ZERO);
    assert_eq!(pods.level, CheckLevel::Fail);
    assert!(
        pods.reason
            .contains("new-1 CrashLoopBackOff (3 restarts, v1.0.2)"),
        "{pods:?}"
    );

    // A rollout in progress (new pod starting, no restarts) is not a failure of the API.
    let rolling = PodsSnapshot {
        rows: vec![
            row("old-1", "mystocks/api:v1.0.1", "Running", 1, 0),
            row("new-1", "mystocks/api:v1.0.2", "ContainerCreating", 0, 0),
        ],
        desired_image: Some("mystocks/api:v1.0.2".into()),
    };
    assert_eq!(
        cross_check_version(api.clone(), Some(&rolling)).level,
        CheckLevel::Ok
    );
    assert_eq!(
        summary(&rolling, &Target::default(), Duration::ZERO).level,
        CheckLevel::Warn
    );
}

#[test]
fn terminating_pods_are_named_but_neither_counted_nor_unready() {
    let image = "mystocks/api:v1.0.1";
    let snapshot = PodsSnapshot {
        rows: vec![
            row("a", image, "Running", 1, 0),
            row("b", image, "Terminating", 0, 0),
            row("c", image, "Terminating", 1, 0),
        ],
        desired_image: Some(image.into()),
    };
    let pods = summary(&snapshot, &Target::default(), Duration::ZERO);
    assert_eq!(pods.level, CheckLevel::Ok, "{pods:?}");
    assert_eq!(pods.reason, "1/1 running and ready; 2 terminating: b, c");
    let gone = PodsSnapshot {
        rows: vec![row("b", image, "Terminating", 0, 0)],
        desired_image: Some(image.into()),
    };
    let pods = summary(&gone, &Target::default(), Duration::ZERO);
    assert_eq!(pods.level, CheckLevel::Fail);
    assert_eq!(pods.reason, "no pods match; 1 terminating: b");
}

#[tokio::test]
async fn latency_times_each_phase_and_reports_failed_samples() {
    let addr = server(
        200,
        "application/json",
        "{\"status\":\"healthy\"}".into(),
        1,
    )
    .await;
    let cfg = ChecksConfig::default();
    let report = measure_latency(&format!("http://{addr}/health"), 3, &cfg)
        .await
        .expect("url");
    assert_eq!(report.samples.len(), 3, "{report:?}");
    for p in &report.samples {
        assert_eq!(p.status, 200);
        assert!(p.tls.is_none());
        assert!(
            p.dns <= p.connect && p.connect <= p.ttfb && p.ttfb <= p.total,
            "{p:?}"
        );
    }
    let spread = report.spread(|p| Some(p.total)).expect("spread");
    assert!(spread.min <= spread.median && spread.median <= spread.max);

    // A plain-HTTP server behind an https URL (it answers at once, as nginx does on a TLS port it does not
    // speak): the TLS phase fails and says so.
    let plain = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = plain.local_addr().expect("addr");
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        while let Ok((mut socket, _)) = plain.accept().await {
            let _ = socket
                .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    });
    let report = measure_latency(&format!("https://{addr}/health"), 1, &cfg)
        .await
        .expect("url");
    assert!(report.samples.is_empty());
    assert!(
        report.failures[0].starts_with("TLS handshake"),
        "{report:?}"
    );

    assert!(measure_latency("ftp://x/health", 1, &cfg).await.is_err());
}
