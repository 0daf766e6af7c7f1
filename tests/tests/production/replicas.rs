//! Three replicas of the core on one PostgreSQL store and one Redis coordinator, against one cluster: every event
//! is delivered to each of them (as Slack retries and fan-out can), approvals are raced, and exactly one execution
//! happens each time; a replica killed while following a rollout has its job finished and reported by another.

use std::sync::Arc;
use std::time::Duration;

use mystocks_commands::clock::SystemClock;
use mystocks_commands::cluster::Target;
use mystocks_commands::coordinator::RedisCoordinator;
use mystocks_commands::directory::Directory;
use mystocks_commands::engine::ratelimit::RateLimitConfig;
use mystocks_commands::engine::{Context, Core, CoreSettings};
use mystocks_commands::policy::PolicyConfig;
use mystocks_commands::reply::ReplyKind;
use mystocks_commands::store::{self, ApprovalState};
use mystocks_commands::{Handler, Invocation};
use mystocks_sim::Sim;
use mystocks_tests::app::{kube_client, test_audit_key};
use mystocks_tests::{AppOptions, RecordingSink, TestApp, TestDb, approval_id, texts};

use crate::support::invocation;

/// The Redis the tests use (`REDIS_TEST_URL`, default the local server); a missing Redis fails the test.
pub fn redis_url() -> String {
    std::env::var("REDIS_TEST_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".to_string())
}

/// One replica: its own store pool, its own Redis connection, its own job runner and sink.
pub struct Replica {
    pub core: Core,
    pub sink: Arc<RecordingSink>,
}

pub async fn replica(sim: &Sim, db_url: &str, redis: &str, prefix: &str, n: usize) -> Replica {
    let store = store::connect(db_url, test_audit_key())
        .await
        .expect("store connects");
    let coordinator = RedisCoordinator::connect(redis, prefix)
        .await
        .unwrap_or_else(|e| panic!("Redis is required at {redis} (set REDIS_TEST_URL): {}", e.0));
    let settings = CoreSettings {
        job_lease: Duration::from_secs(3),
        job_poll: Duration::from_millis(100),
        follow_timeout: Duration::from_secs(60),
        process_id: format!("replica-{n}-{prefix}"),
        rate_limit: RateLimitConfig {
            read_per_minute: 10_000,
            destructive_per_minute: 10_000,
        },
        ..CoreSettings::default()
    };
    let ctx = Context::new(
        kube_client(sim).await,
        Target::default(),
        store,
        Arc::new(coordinator),
        Directory::demo(),
        PolicyConfig::default(),
        Arc::new(SystemClock),
        test_audit_key(),
        settings,
    );
    let core = Core::new(ctx);
    let sink = Arc::new(RecordingSink::default());
    core.register_sink("console", sink.clone());
    Replica { core, sink }
}

/// Three replicas on a fresh PostgreSQL database and a key prefix of their own in Redis.
async fn three(sim: &Sim) -> (Vec<Replica>, TestDb) {
    let db = TestDb::postgres().await;
    let prefix = format!("mystocks-bot-test-{}:", uuid::Uuid::new_v4().simple());
    let mut replicas = Vec::new();
    for n in 0..3 {
        replicas.push(replica(sim, &db.url, &redis_url(), &prefix, n).await);
    }
    (replicas, db)
}

/// Delivers each invocation to every replica at once and waits until all of them settled.
async fn deliver_to_all(replicas: &[Replica], invocations: &[Invocation]) {
    let mut sends = Vec::new();
    for r in replicas {
        for inv in invocations {
            let (core, sink, inv) = (r.core.clone(), r.sink.clone(), inv.clone());
            sends.push(tokio::spawn(async move { core.handle(inv, sink).await }));
        }
    }
    for send in sends {
        send.await
            .expect("a replica handled the event without panicking");
    }
    for r in replicas {
        r.core.settle().await;
    }
}

fn real_scale_patches(sim: &Sim) -> usize {
    sim.changing_requests()
        .iter()
        .filter(|r| r.path.contains("/scale") && !r.path.contains("dryRun=All"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raced_events_and_approvals_execute_exactly_once_each() {
    const TRIALS: usize = 12;
    let app = TestApp::spawn(AppOptions::default()).await; // the sim, with the Role-bound bot token
    let sim = app.sim.clone();
    let (replicas, _db) = three(&sim).await;
    for trial in 0..TRIALS {
        let replicas_wanted = if trial % 2 == 0 { 4 } else { 3 };
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let before: Vec<usize> = replicas.iter().map(|r| r.sink.len()).collect();
        deliver_to_all(
            &replicas,
            &[invocation(
                &format!("req-{tag}"),
                "alice",
                &format!("scale {replicas_wanted}"),
            )],
        )
        .await;
        let posted: Vec<_> = replicas
            .iter()
            .zip(&before)
            .flat_map(|(r, &b)| r.sink.since(b))
            .collect();
        let id = approval_id(&posted)
            .unwrap_or_else(|| panic!("trial {trial}: no request: {}", texts(&posted)));
        let requests = posted
            .iter()
            .filter(|r| r.kind() == ReplyKind::ApprovalRequest && !r.update)
            .count();
        assert_eq!(
            requests,
            1,
            "trial {trial}: one event, one request: {}",
            texts(&posted)
        );

        // The same approve delivered to all three, and a second click (another event) on each of them too.
        let patches = real_scale_patches(&sim);
        let approve = format!("approve {id}");
        let clicks = [
            invocation(&format!("ok-{tag}"), "bob", &approve),
            invocation(&format!("ok2-{tag}"), "bob", &approve),
        ];
        deliver_to_all(&replicas, &clicks).await;
        let record = replicas[0]
            .core
            .context()
            .store
            .approval(&id)
            .await
            .expect("store")
            .expect("record");
        assert_eq!(
            record.state,
            ApprovalState::Done,
            "trial {trial}: {:?}",
            record.state_detail
        );
        assert_eq!(
            real_scale_patches(&sim) - patches,
            1,
            "trial {trial}: exactly one execution"
        );
        let ready = sim
            .wait_until(
                |s| s.deployment().status.and_then(|st| st.ready_replicas) == Some(replicas_wanted),
                Duration::from_secs(20),
            )
            .await;
        assert!(
            ready,
            "trial {trial}: rollout to {replicas_wanted} finished"
        );
    }
    assert_eq!(
        real_scale_patches(&sim),
        TRIALS,
        "one scale per approved request, no more"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_while_following_a_rollout_is_finished_by_another() {
    let app = TestApp::spawn(AppOptions {
        speed: 5.0,
        ..AppOptions::default()
    })
    .await;
    let sim = app.sim.clone();
    let (replicas, _db) = three(&sim).await;
    let pollers: Vec<_> = replicas[1..]
        .iter()
        .map(|r| r.core.start_job_runner())
        .collect();
    let (first, others) = replicas.split_first().expect("three replicas");
    first
        .core
        .handle(
            invocation("kill-req", "alice", "scale 6"),
            first.sink.clone(),
        )
        .await;
    let id = approval_id(&first.sink.all()).expect("request");
    let approving = {
        let (core, sink) = (first.core.clone(), first.sink.clone());
        let id = id.clone();
        tokio::spawn(async move {
            core.handle(invocation("kill-ok", "bob", &format!("approve {id}")), sink)
                .await
        })
    };
    let applied = sim
        .wait_until(
            |s| s.deployment().spec.replicas == Some(6),
            Duration::from_secs(10),
        )
        .await;
    assert!(applied, "the change reached the cluster");
    first.core.abort_jobs(); // the replica dies mid-follow: its lease is not released
    approving.abort();
    let store = &first.core.context().store;
    let mut state = ApprovalState::Executing;
    for _ in 0..300 {
        state = store
            .approval(&id)
            .await
            .expect("store")
            .expect("record")
            .state;
        if state == ApprovalState::Done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        state,
        ApprovalState::Done,
        "another replica finished the job"
    );
    let reported = texts(&others.iter().flat_map(|r| r.sink.all()).collect::<Vec<_>>());
    assert!(
        reported.contains("6/6") || reported.contains("rolled out"),
        "another replica reported the end: {reported}"
    );
    assert_eq!(real_scale_patches(&sim), 1, "the change was made once");
    for p in pollers {
        p.abort();
    }
}
