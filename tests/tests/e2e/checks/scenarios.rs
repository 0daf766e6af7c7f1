//! The scenario table: under each sim scenario the named lines are not ok, with the reason; on the
//! healthy sim everything is ok.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};
use mystocks_commands::reply::Level;
use mystocks_sim::world::Scenario;
use mystocks_tests::{TestDb, texts};
use serde_json::json;

use super::harness::{ChecksApp, line, status_lines};

fn not_ok(level: Level) -> bool {
    matches!(level, Level::Warn | Level::Fail)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_sim_is_all_ok() {
    let db = TestDb::postgres().await;
    let app = ChecksApp::spawn(Scenario::Healthy, Some(db.url.clone())).await;
    let replies = app.say("carol", "health").await;
    let lines = status_lines(&replies);
    let labels: Vec<&str> = lines.iter().map(|(l, _, _)| l.as_str()).collect();
    assert_eq!(
        labels,
        ["api", "database", "cache", "postgres", "pods", "cpu", "5xx"],
        "{}",
        texts(&replies)
    );
    for (label, level, detail) in &lines {
        assert_eq!(*level, Level::Ok, "{label}: {detail}");
    }
    assert_eq!(replies[0].reply.level, Level::Ok);

    let replies = app.say("carol", "metrics").await;
    for label in ["cache hit rate", "db pool", "5xx", "latency"] {
        assert_eq!(
            line(&replies, label).0,
            Level::Ok,
            "{label}: {}",
            texts(&replies)
        );
    }
    let replies = app.say("carol", "checklist").await;
    assert!(
        texts(&replies).contains("Verdict: ok"),
        "{}",
        texts(&replies)
    );
    assert_eq!(replies[0].reply.level, Level::Ok);

    let replies = app.say("carol", "health --pods").await;
    let pod_lines: Vec<_> = status_lines(&replies)
        .into_iter()
        .filter(|(l, _, _)| l.starts_with("pod "))
        .collect();
    assert_eq!(pod_lines.len(), 3, "{}", texts(&replies));
    assert!(
        pod_lines.iter().all(|(_, level, _)| *level == Level::Ok),
        "{pod_lines:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_release_fails_api_5xx_pods_and_names_the_pod() {
    let app = ChecksApp::spawn(Scenario::BadRelease, None).await;
    let client = mystocks_tests::app::kube_client(&app.sim).await;
    let deployments: Api<Deployment> = Api::namespaced(client, "mystocks");
    let patch = json!({"spec":{"template":{"spec":{"containers":[{"name":"mystocks-api","image":"mystocks/api:v1.0.2"}]}}}});
    deployments
        .patch(
            "mystocks-api",
            &PatchParams::default(),
            &Patch::Strategic(&patch),
        )
        .await
        .expect("deploy the bad tag");
    let crashing = app
        .sim
        .wait_until(
            |sim| {
                sim.pods().iter().any(|p| {
                    p.status
                        .as_ref()
                        .and_then(|s| s.container_statuses.as_ref())
                        .is_some_and(|cs| cs.iter().any(|c| c.restart_count >= 2))
                })
            },
            Duration::from_secs(30),
        )
        .await;
    assert!(crashing, "the bad release never crashed");
    let replies = app.say("carol", "health --pods").await;
    let text = texts(&replies);
    let (api, why) = line(&replies, "api");
    assert_eq!(api, Level::Fail, "{text}");
    assert!(
        why.contains("v1.0.2") && why.contains("not serving"),
        "{why}"
    );
    let (pods, why) = line(&replies, "pods");
    assert_eq!(pods, Level::Fail, "{text}");
    assert!(
        why.contains("CrashLoopBackOff") || why.contains("Error"),
        "{why}"
    );
    assert!(not_ok(line(&replies, "5xx").0), "{text}");
    let bad_pods: Vec<_> = status_lines(&replies)
        .into_iter()
        .filter(|(l, level, _)| l.starts_with("pod ") && *level == Level::Fail)
        .collect();
    assert_eq!(bad_pods.len(), 1, "the one bad pod is named: {text}");
    assert_eq!(replies[0].reply.level, Level::Fail);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn high_cpu_warns_on_usage_and_the_checklist_verdict() {
    let app = ChecksApp::spawn(Scenario::HighCpu, None).await;
    let replies = app.say("carol", "checklist").await;
    let text = texts(&replies);
    let (cpu, why) = line(&replies, "cpu");
    assert!(not_ok(cpu), "{text}");
    assert!(
        why.contains("above") && why.contains("mystocks-api-"),
        "{why}"
    );
    assert!(
        text.contains("Verdict: warn") || text.contains("Verdict: FAIL"),
        "{text}"
    );
    assert!(not_ok(replies[0].reply.level));
    for label in ["api", "database", "cache", "pods", "5xx"] {
        assert_eq!(line(&replies, label).0, Level::Ok, "{label}: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn db_pool_exhausted_fails_database_health_and_pool() {
    let app = ChecksApp::spawn(Scenario::DbPoolExhausted, None).await;
    let replies = app.say("carol", "health").await;
    let (db, why) = line(&replies, "database");
    assert_eq!(db, Level::Fail, "{}", texts(&replies));
    assert!(
        why.contains("QueuePool limit") && why.contains("20/20"),
        "{why}"
    );
    for label in ["cache", "pods", "cpu"] {
        assert_eq!(
            line(&replies, label).0,
            Level::Ok,
            "{label}: {}",
            texts(&replies)
        );
    }
    let replies = app.say("carol", "metrics").await;
    let (pool, why) = line(&replies, "db pool");
    assert_eq!(pool, Level::Fail, "{}", texts(&replies));
    assert!(
        why.contains("exhausted: 20/20 active") && why.contains("waited"),
        "{why}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn high_latency_warns_on_api_latency_and_percentiles() {
    let app = ChecksApp::spawn(Scenario::HighLatency, None).await;
    let replies = app.say("carol", "health").await;
    let (api, why) = line(&replies, "api");
    assert_eq!(api, Level::Warn, "{}", texts(&replies));
    assert!(why.starts_with("slow:"), "{why}");
    for label in ["cache", "pods", "cpu", "5xx"] {
        assert_eq!(
            line(&replies, label).0,
            Level::Ok,
            "{label}: {}",
            texts(&replies)
        );
    }
    let replies = app.say("carol", "metrics").await;
    assert_eq!(
        line(&replies, "latency").0,
        Level::Warn,
        "{}",
        texts(&replies)
    );
    let replies = app.say("carol", "latency --samples 3").await;
    assert_eq!(replies[0].reply.level, Level::Warn, "{}", texts(&replies));
    assert!(
        texts(&replies).contains("first byte"),
        "{}",
        texts(&replies)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_fails_the_cache_and_its_hit_rate() {
    let app = ChecksApp::spawn(Scenario::Healthy, None).await;
    app.set_scenario(Scenario::RedisDown);
    let replies = app.say("carol", "health").await;
    let (cache, why) = line(&replies, "cache");
    assert_eq!(cache, Level::Fail, "{}", texts(&replies));
    assert!(
        why.contains("reset") || why.contains("refused") || why.contains("closed"),
        "{why}"
    );
    for label in ["database", "pods", "cpu"] {
        assert_eq!(
            line(&replies, label).0,
            Level::Ok,
            "{label}: {}",
            texts(&replies)
        );
    }
    let replies = app.say("carol", "metrics").await;
    let (hit, why) = line(&replies, "cache hit rate");
    assert_eq!(hit, Level::Fail, "{}", texts(&replies));
    assert!(why.starts_with("0%"), "{why}");
}
