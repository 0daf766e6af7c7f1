//! Read-only operations against the sim: pods, top, logs, errors, 5xx, history, status — none sends a change.

use std::time::Duration;

use mystocks_commands::cluster::{self, ClusterError, RolloutState};
use regex::Regex;

use crate::support::{World, ok};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_show_kubectl_columns() {
    let w = World::start().await;
    let rows = ok(cluster::pods(&w.client, &w.target, None).await, "pods");
    assert_eq!(rows.len(), 3, "{rows:?}");
    for r in &rows {
        assert!(r.name.starts_with("mystocks-api-"), "{}", r.name);
        assert_eq!(
            (r.status.as_str(), r.ready_column().as_str()),
            ("Running", "1/1")
        );
        assert_eq!(r.image, "mystocks/api:v1.0.1");
    }
    let none = ok(
        cluster::pods(&w.client, &w.target, Some("app=nothing")).await,
        "pods -l",
    );
    assert!(none.is_empty());
    assert!(w.sim.changing_requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_reads_pod_metrics() {
    let w = World::start().await;
    let usage = ok(cluster::top(&w.client, &w.target).await, "top");
    assert_eq!(usage.len(), 3);
    assert!(
        usage
            .iter()
            .all(|u| u.cpu_millicores > 0 && u.memory_bytes > 0),
        "{usage:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_of_all_pods_one_pod_and_grep() {
    let w = World::start().await;
    tokio::time::sleep(Duration::from_millis(300)).await; // a few simulated seconds of traffic
    let all = ok(
        cluster::logs(&w.client, &w.target, None, Some(20), None).await,
        "logs",
    );
    assert_eq!(all.pods.len(), 3);
    let pods_seen: std::collections::BTreeSet<&str> =
        all.lines.iter().map(|l| l.pod.as_str()).collect();
    assert_eq!(pods_seen.len(), 3, "every pod contributes lines");
    assert!(all.lines.len() <= 60);

    let one = all.pods[0].clone();
    let grep = Regex::new("(?i)info").expect("regex");
    let some = ok(
        cluster::logs(&w.client, &w.target, Some(&one), Some(50), Some(&grep)).await,
        "logs pod",
    );
    assert!(!some.lines.is_empty());
    assert!(
        some.lines
            .iter()
            .all(|l| l.pod == one && l.text.contains("INFO"))
    );

    let same = ok(
        cluster::logs(
            &w.client,
            &w.target,
            Some("deployment/mystocks-api"),
            Some(5),
            None,
        )
        .await,
        "d/",
    );
    assert_eq!(same.pods.len(), 3);
    match cluster::logs(&w.client, &w.target, Some("mystocks-api-nope"), None, None).await {
        Err(ClusterError::NotFound { kind, name, .. }) => {
            assert_eq!((kind.as_str(), name.as_str()), ("pod", "mystocks-api-nope"))
        }
        other => panic!("expected not found, got {:?}", other.map(|l| l.lines.len())),
    }
    assert!(w.sim.changing_requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_and_status_of_the_seeded_deployment() {
    let w = World::start().await;
    let revs = ok(cluster::history(&w.client, &w.target).await, "history");
    let summary: Vec<(i64, String, bool)> = revs
        .iter()
        .map(|r| (r.number, r.image("mystocks-api"), r.current))
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, "mystocks/api:v1.0.0".to_string(), false),
            (2, "mystocks/api:v1.0.1".to_string(), true)
        ]
    );
    assert!(
        revs.iter()
            .all(|r| !r.rs_uid.is_empty() && r.change_cause.is_some())
    );
    let state = ok(
        cluster::rollout_status(&w.client, &w.target).await,
        "status",
    );
    assert!(matches!(state, RolloutState::Complete { .. }), "{state:?}");
    assert_eq!(state.progress().available, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_pods_have_no_errors_or_5xx() {
    let w = World::start().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let errors = ok(
        cluster::errors(&w.client, &w.target, Duration::from_secs(600)).await,
        "errors",
    );
    assert!(errors.is_empty(), "{errors:?}");
    let fivexx = ok(
        cluster::fivexx(&w.client, &w.target, Duration::from_secs(600)).await,
        "5xx",
    );
    assert!(fivexx.is_empty(), "{fivexx:?}");
}
