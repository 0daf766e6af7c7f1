//! Each shipped runbook end to end under its scenario; a change step waits for its approval (or denial), also
//! across a restart; malformed files are listed, not fatal.

use std::path::PathBuf;

use mystocks_commands::reply::ReplyKind;
use mystocks_commands::runbook::RunbookSet;
use mystocks_sim::world::Scenario;
use mystocks_tests::StoreKind;

use super::harness::{RunbookApp, all, headed, replicas, requested, shipped, start};

crate::on_both_stores!(
    high_cpu_proposes_a_scale_up_and_reports_the_cpu_falling_after_approval,
    |kind| async move { high_cpu_end_to_end(kind).await }
);

async fn high_cpu_end_to_end(kind: StoreKind) {
    let app = RunbookApp::spawn_with(Scenario::HighCpu, shipped(), kind).await;
    let before = replicas(&app.sim);
    let (thread, posted) = start(&app, "high-cpu").await;
    let text = all(&posted);
    let usage = headed(&posted, "High CPU usage · step 1/3").expect("step 1 posted");
    assert!(usage.text().contains("CPU"), "{text}");
    let approval = requested(&posted).expect("the scale-up is an approval request");
    assert!(text.contains("scale 10"), "{text}");
    assert_eq!(
        replicas(&app.sim),
        before,
        "nothing changes before the approval"
    );
    assert!(
        headed(&posted, "Runbook: High CPU usage (R").is_some(),
        "{text}"
    );
    assert!(
        !text.contains("finished"),
        "the run waits for the decision: {text}"
    );

    let own = app
        .say("alice", Some(&thread), &format!("approve {approval}"))
        .await;
    assert_eq!(
        own[0].kind(),
        ReplyKind::Refusal,
        "two-person rule holds inside runs: {}",
        all(&own)
    );

    let after = app
        .say("bob", Some(&thread), &format!("approve {approval}"))
        .await;
    let text = all(&after);
    assert_eq!(replicas(&app.sim), 10, "{text}");
    assert!(
        headed(&after, "Verification after `scale 10`").is_some(),
        "verified after rollout: {text}"
    );
    let step3 =
        headed(&after, "High CPU usage · step 3/3").expect("the run went on after the approval");
    assert!(
        step3.text().contains("after.cpu_max_millicores (")
            && step3.text().contains("< usage.cpu_max_millicores ("),
        "{}",
        step3.text()
    );
    assert!(
        step3.text().contains(": yes"),
        "CPU per pod fell: {}",
        step3.text()
    );
    let summary = headed(&after, "Runbook: High CPU usage").expect("summary");
    assert!(
        summary.text().contains("finished — ok"),
        "fixed: {}",
        summary.text()
    );
    assert!(summary.text().contains("changed"), "{}", summary.text());
    assert!(
        after
            .iter()
            .filter(|r| !r.update)
            .all(|r| r.conversation.thread.as_deref() == Some(thread.as_str()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn high_cpu_on_a_healthy_cluster_skips_the_scale_up() {
    let app = RunbookApp::spawn(Scenario::Healthy, shipped()).await;
    let (_, posted) = start(&app, "high-cpu").await;
    let text = all(&posted);
    assert!(requested(&posted).is_none(), "{text}");
    assert!(
        text.contains("Skipped: not needed — usage.cpu_max_millicores ("),
        "{text}"
    );
    let summary = headed(&posted, "Runbook: High CPU usage")
        .map(|r| r.text())
        .unwrap_or_default();
    assert!(summary.contains("finished — ok"), "{text}");
    assert_eq!(replicas(&app.sim), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_scale_up_resumes_the_run_without_its_follow_up() {
    let app = RunbookApp::spawn(Scenario::HighCpu, shipped()).await;
    let (thread, posted) = start(&app, "high-cpu").await;
    let approval = requested(&posted).expect("request");
    let denied = app
        .say("bob", Some(&thread), &format!("deny {approval} not now"))
        .await;
    let mut text = all(&denied);
    text.push_str(&all(&app.run_jobs().await));
    assert!(
        text.contains("step 3/3") && text.contains("Skipped"),
        "{text}"
    );
    assert!(text.contains("finished"), "{text}");
    assert!(text.contains("not changed"), "{text}");
    assert_eq!(replicas(&app.sim), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_waiting_for_approval_survives_a_restart() {
    let first = RunbookApp::spawn(Scenario::HighCpu, shipped()).await;
    let (thread, posted) = start(&first, "high-cpu").await;
    let approval = requested(&posted).expect("request");
    let sim = first.sim.clone();
    let url = first.db_url.clone();
    let db = {
        let RunbookApp { _db, .. } = first;
        _db
    };
    let second = RunbookApp::spawn_on(sim, url, db, shipped()).await;
    let after = second
        .say("bob", Some(&thread), &format!("approve {approval}"))
        .await;
    let text = all(&after);
    assert!(
        headed(&after, "High CPU usage · step 3/3").is_some(),
        "the new process finished the run: {text}"
    );
    assert!(text.contains("finished"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn db_pool_exhausted_shows_the_pool_and_the_fixes() {
    let app = RunbookApp::spawn(Scenario::DbPoolExhausted, shipped()).await;
    let (_, posted) = start(&app, "db-pool-exhausted").await;
    let text = all(&posted);
    let pool = headed(&posted, "Database connection pool exhausted · step 1/3").expect("pool step");
    assert!(
        pool.text().contains("20 / 0 / 20")
            || pool.text().contains("DB pool")
            || pool.text().contains("db pool  exhausted: 20/20 active"),
        "{}",
        pool.text()
    );
    let fixes = headed(&posted, "Database connection pool exhausted · step 2/3").expect("fixes");
    assert!(
        fixes.text().contains("Increase pool size"),
        "the fixes are given when the pool is full: {text}"
    );
    let health = headed(&posted, "Database connection pool exhausted · step 3/3").expect("health");
    assert!(
        health.text().to_lowercase().contains("database"),
        "{}",
        health.text()
    );
    let summary = headed(&posted, "Runbook: Database connection pool exhausted")
        .expect("summary")
        .text();
    assert!(summary.contains("finished — fail"), "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn high_latency_measures_and_rules_out_the_cache_and_cpu() {
    // The sim's high latency comes from a slow time-series store: cache and CPU are fine, so neither advice
    // step applies.
    let app = RunbookApp::spawn(Scenario::HighLatency, shipped()).await;
    let (_, posted) = start(&app, "high-latency").await;
    let text = all(&posted);
    assert!(
        headed(&posted, "High latency · step 1/5").is_some(),
        "{text}"
    );
    let advice = headed(&posted, "High latency · step 4/5")
        .expect("cache step")
        .text();
    assert!(
        advice.contains("Skipped"),
        "the cache hit rate is fine: {advice}"
    );
    let cpu = headed(&posted, "High latency · step 5/5")
        .expect("cpu step")
        .text();
    assert!(cpu.contains("Skipped"), "{cpu}");
    assert!(text.contains("finished"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn high_latency_points_at_the_cache_when_redis_is_down() {
    let app = RunbookApp::spawn(Scenario::RedisDown, shipped()).await;
    let (_, posted) = start(&app, "high-latency").await;
    let text = all(&posted);
    let advice = headed(&posted, "High latency · step 4/5")
        .expect("cache step")
        .text();
    assert!(
        advice.contains("cache hit rate is low"),
        "no hits while Redis is down: {text}"
    );
    assert!(text.contains("finished"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn high_error_rate_after_a_bad_release_finds_the_5xx() {
    let app = RunbookApp::spawn(Scenario::BadRelease, shipped()).await;
    let asked = app.say("alice", None, "deploy v1.0.2").await;
    let deploy = requested(&asked).expect("deploy request");
    app.say("bob", None, &format!("approve {deploy}")).await;
    let (_, posted) = start(&app, "high-error-rate").await;
    let text = all(&posted);
    let fivexx = headed(&posted, "High error rate · step 2/4")
        .expect("5xx step")
        .text();
    assert!(fivexx.contains("500"), "{fivexx}");
    let advice = headed(&posted, "High error rate · step 4/4")
        .expect("advice")
        .text();
    assert!(advice.contains("rollback"), "{text}");
    assert!(text.contains("finished"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_and_show_and_unknown_names() {
    let bad = "title = \"Broken\"\nwhen = \"never\"\n[[steps]]\ntitle = \"x\"\nrun = \"scael 3\"\n";
    let mut set = shipped();
    let broken = RunbookSet::from_texts([(PathBuf::from("runbooks/broken.toml"), bad)]);
    set.problems.extend(broken.problems);
    let app = RunbookApp::spawn(Scenario::Healthy, set).await;
    let list = all(&app.say("carol", None, "runbook list").await);
    for name in [
        "high-cpu",
        "db-pool-exhausted",
        "high-latency",
        "high-error-rate",
    ] {
        assert!(list.contains(name), "{list}");
    }
    assert!(
        list.contains("runbooks/broken.toml:5:"),
        "malformed files are listed with their line: {list}"
    );
    let show = all(&app.say("carol", None, "runbook show high-cpu").await);
    assert!(
        show.contains("usage.cpu_max_millicores > 500") && show.contains("needs approval"),
        "{show}"
    );
    let unknown = app.say("carol", None, "runbook run high-cpus").await;
    assert_eq!(unknown[0].kind(), ReplyKind::Refusal);
    assert!(
        all(&unknown).contains("did you mean `high-cpu`"),
        "{}",
        all(&unknown)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_can_run_a_runbook_but_its_change_is_refused_in_their_name() {
    let app = RunbookApp::spawn(Scenario::HighCpu, shipped()).await;
    let posted = app.say("carol", None, "runbook run high-cpu").await;
    let text = all(&posted);
    assert!(requested(&posted).is_none(), "{text}");
    assert!(text.contains("cannot request `scale 10`"), "{text}");
    assert!(text.contains("finished"), "{text}");
    assert_eq!(replicas(&app.sim), 3);
}
