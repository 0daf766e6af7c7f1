//! The scenario table: under each sim scenario the named lines are not ok, with the reason — and every
//! other line of `health`, `health --pods`, `metrics` and `checklist` stays ok. Each command's lines are listed
//! below, so a new line fails these tests until someone decides how each scenario turns it.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};
use mystocks_commands::reply::Level;
use mystocks_sim::world::Scenario;
use mystocks_tests::{Recorded, TestDb, texts};
use serde_json::json;

use super::harness::{ChecksApp, line, status_lines};

/// The lines of `health` and of `checklist`, in order (a scratch PostgreSQL database stands in for MyStocks'
/// own, so `postgres` runs too; TDengine and Prometheus are not simulated, so their optional lines are absent).
const HEALTH: [&str; 7] = ["api", "database", "cache", "postgres", "pods", "cpu", "5xx"];
/// The lines of `metrics`, in order.
const METRICS: [&str; 4] = ["cache hit rate", "db pool", "5xx", "latency"];

/// What one scenario may turn (the table): everything else must be ok.
#[derive(Default)]
struct Turns {
    /// Lines of `health`, `health --pods` and `checklist`.
    health: &'static [&'static str],
    /// Lines of `metrics`.
    metrics: &'static [&'static str],
    /// `health --pods`: how many `pod NAME` lines may be not ok (the bad release's pods).
    bad_pods: usize,
}

/// What the four commands answered.
struct Seen {
    health: Vec<Recorded>,
    pods: Vec<Recorded>,
    metrics: Vec<Recorded>,
    checklist: Vec<Recorded>,
}

fn not_ok(level: Level) -> bool {
    matches!(level, Level::Warn | Level::Fail)
}

/// Runs `health`, `health --pods`, `metrics` and `checklist`, and asserts each shows exactly its lines and that
/// every line `turns` does not name is ok.
async fn everything_else_is_ok(app: &ChecksApp, turns: &Turns) -> Seen {
    let seen = Seen {
        health: app.say("carol", "health").await,
        pods: app.say("carol", "health --pods").await,
        metrics: app.say("carol", "metrics").await,
        checklist: app.say("carol", "checklist").await,
    };
    only_listed_lines_turn("health", &seen.health, &HEALTH, turns.health);
    only_listed_lines_turn("checklist", &seen.checklist, &HEALTH, turns.health);
    only_listed_lines_turn("metrics", &seen.metrics, &METRICS, turns.metrics);

    let (pod_lines, others): (Vec<_>, Vec<_>) = status_lines(&seen.pods)
        .into_iter()
        .partition(|(label, _, _)| label.starts_with("pod "));
    let text = texts(&seen.pods);
    let labels: Vec<&str> = others.iter().map(|(l, _, _)| l.as_str()).collect();
    assert_eq!(labels, HEALTH, "health --pods: {text}");
    for (label, level, detail) in &others {
        if !turns.health.contains(&label.as_str()) {
            assert_eq!(
                *level,
                Level::Ok,
                "health --pods, {label}: {detail}\n{text}"
            );
        }
    }
    let pods = app.sim.pods().len();
    assert_eq!(pod_lines.len(), pods, "one line per pod: {text}");
    let bad = pod_lines
        .iter()
        .filter(|(_, level, _)| *level != Level::Ok)
        .count();
    assert!(
        bad <= turns.bad_pods,
        "health --pods: {bad} pods not ok: {text}"
    );

    let verdict = texts(&seen.checklist);
    if turns.health.is_empty() {
        assert!(verdict.contains("Verdict: ok"), "{verdict}");
        assert_eq!(seen.checklist[0].reply.level, Level::Ok, "{verdict}");
    } else {
        assert!(!verdict.contains("Verdict: ok"), "{verdict}");
        assert!(not_ok(seen.checklist[0].reply.level), "{verdict}");
    }
    seen
}

/// `replies` show exactly `labels`, in order, and each one `may_turn` does not name is ok.
fn only_listed_lines_turn(command: &str, replies: &[Recorded], labels: &[&str], may_turn: &[&str]) {
    let text = texts(replies);
    let lines = status_lines(replies);
    let shown: Vec<&str> = lines.iter().map(|(l, _, _)| l.as_str()).collect();
    assert_eq!(shown, labels, "{command}: {text}");
    for (label, level, detail) in &lines {
        if !may_turn.contains(&label.as_str()) {
            assert_eq!(*level, Level::Ok, "{command}, {label}: {detail}\n{text}");
        }
    }
}

async fn spawn(scenario: Scenario) -> (ChecksApp, TestDb) {
    let db = TestDb::postgres().await;
    let app = ChecksApp::spawn(scenario, Some(db.url.clone())).await;
    (app, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_sim_is_all_ok() {
    let (app, _db) = spawn(Scenario::Healthy).await;
    let seen = everything_else_is_ok(&app, &Turns::default()).await;
    assert_eq!(seen.health[0].reply.level, Level::Ok);
    assert_eq!(seen.pods[0].reply.level, Level::Ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_release_fails_api_5xx_pods_and_names_the_pod() {
    let (app, _db) = spawn(Scenario::BadRelease).await;
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
    let turns = Turns {
        health: &["api", "pods", "5xx"],
        metrics: &["5xx"],
        bad_pods: 1,
    };
    let seen = everything_else_is_ok(&app, &turns).await;
    let replies = &seen.pods;
    let text = texts(replies);
    let (api, why) = line(replies, "api");
    assert_eq!(api, Level::Fail, "{text}");
    assert!(
        why.contains("v1.0.2") && why.contains("not serving"),
        "{why}"
    );
    let (pods, why) = line(replies, "pods");
    assert_eq!(pods, Level::Fail, "{text}");
    assert!(
        why.contains("CrashLoopBackOff") || why.contains("Error"),
        "{why}"
    );
    let (errors, why) = line(replies, "5xx");
    assert_eq!(errors, Level::Fail, "{text}");
    assert!(why.contains("5xx from: mystocks-api-"), "{why}");
    let bad_pods: Vec<_> = status_lines(replies)
        .into_iter()
        .filter(|(l, level, _)| l.starts_with("pod ") && *level == Level::Fail)
        .collect();
    assert_eq!(bad_pods.len(), 1, "the one bad pod is named: {text}");
    assert!(bad_pods[0].2.contains("v1.0.2"), "{bad_pods:?}");
    assert_eq!(replies[0].reply.level, Level::Fail);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn high_cpu_warns_on_usage_and_the_checklist_verdict() {
    let (app, _db) = spawn(Scenario::HighCpu).await;
    let turns = Turns {
        health: &["cpu"],
        ..Turns::default()
    };
    let seen = everything_else_is_ok(&app, &turns).await;
    let replies = &seen.checklist;
    let text = texts(replies);
    let (cpu, why) = line(replies, "cpu");
    assert!(not_ok(cpu), "{text}");
    assert!(
        why.contains("above") && why.contains("mystocks-api-"),
        "{why}"
    );
    assert!(
        text.contains("Verdict: warn") || text.contains("Verdict: FAIL"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn db_pool_exhausted_fails_database_health_and_pool() {
    let (app, _db) = spawn(Scenario::DbPoolExhausted).await;
    let turns = Turns {
        health: &["database"],
        metrics: &["db pool"],
        ..Turns::default()
    };
    let seen = everything_else_is_ok(&app, &turns).await;
    let (db, why) = line(&seen.health, "database");
    assert_eq!(db, Level::Fail, "{}", texts(&seen.health));
    assert!(
        why.contains("QueuePool limit") && why.contains("20/20"),
        "{why}"
    );
    let (pool, why) = line(&seen.metrics, "db pool");
    assert_eq!(pool, Level::Fail, "{}", texts(&seen.metrics));
    assert!(
        why.contains("exhausted: 20/20 active") && why.contains("wait growing"),
        "{why}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn high_latency_warns_on_api_latency_and_percentiles() {
    let (app, _db) = spawn(Scenario::HighLatency).await;
    let turns = Turns {
        health: &["api"],
        metrics: &["latency"],
        ..Turns::default()
    };
    let seen = everything_else_is_ok(&app, &turns).await;
    let (api, why) = line(&seen.health, "api");
    assert_eq!(api, Level::Warn, "{}", texts(&seen.health));
    assert!(why.starts_with("slow:"), "{why}");
    assert_eq!(
        line(&seen.metrics, "latency").0,
        Level::Warn,
        "{}",
        texts(&seen.metrics)
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
    let (app, _db) = spawn(Scenario::Healthy).await;
    app.set_scenario(Scenario::RedisDown);
    let turns = Turns {
        health: &["cache"],
        metrics: &["cache hit rate"],
        ..Turns::default()
    };
    let seen = everything_else_is_ok(&app, &turns).await;
    let (cache, why) = line(&seen.health, "cache");
    assert_eq!(cache, Level::Fail, "{}", texts(&seen.health));
    assert!(
        why.contains("reset") || why.contains("refused") || why.contains("closed"),
        "{why}"
    );
    let (hit, why) = line(&seen.metrics, "cache hit rate");
    assert_eq!(hit, Level::Fail, "{}", texts(&seen.metrics));
    assert!(why.starts_with("0%"), "{why}");
}
