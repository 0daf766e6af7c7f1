//! Three replicas of the core on one PostgreSQL store and one Redis coordinator, against one cluster: every event
//! is delivered to each of them (as Slack retries and fan-out can), approvals are raced, and exactly one execution
//! happens each time; a replica killed while following a rollout has its job finished and reported by another,
//! and a replica process stopped with SIGTERM gives its job's lease back at once for another to go on with.

use std::sync::Arc;
use std::time::Duration;

use mystocks_commands::clock::SystemClock;
use mystocks_commands::coordinator::RedisCoordinator;
use mystocks_commands::directory::Directory;
use mystocks_commands::engine::ratelimit::RateLimitConfig;
use mystocks_commands::engine::{Context, Core, CoreSettings};
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

/// The settings of a test replica named `process_id`: a 3 s job lease polled every 100 ms (a dead replica's jobs
/// move on within seconds), and rate limits no test reaches.
pub fn replica_settings(process_id: &str) -> CoreSettings {
    CoreSettings {
        job_lease: Duration::from_secs(3),
        job_poll: Duration::from_millis(100),
        follow_timeout: Duration::from_secs(60),
        process_id: process_id.to_string(),
        rate_limit: RateLimitConfig {
            read_per_minute: 10_000,
            destructive_per_minute: 10_000,
        },
        ..CoreSettings::default()
    }
}

/// A replica with `settings` on the store at `db_url` and the Redis at `redis`, its keys under `prefix`.
pub async fn replica(
    sim: &Sim,
    db_url: &str,
    redis: &str,
    prefix: &str,
    settings: CoreSettings,
) -> Replica {
    let store = store::connect(db_url, test_audit_key())
        .await
        .expect("store connects");
    let coordinator = RedisCoordinator::connect(redis, prefix)
        .await
        .unwrap_or_else(|e| panic!("Redis is required at {redis} (set REDIS_TEST_URL): {}", e.0));
    // A real clock: the replicas are separate processes in spirit, each with its own store pool and Redis.
    let ctx = Context::builder(kube_client(sim).await, store, test_audit_key())
        .coordinator(Arc::new(coordinator))
        .directory(Directory::demo())
        .clock(Arc::new(SystemClock))
        .settings(settings)
        .build();
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
        let settings = replica_settings(&format!("replica-{n}-{prefix}"));
        replicas.push(replica(sim, &db.url, &redis_url(), &prefix, settings).await);
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

/// The Slack signing secret of the replica process.
const SLACK_SECRET: &str = "test-signing-secret-sigterm-0123456789";

/// In the environment of a child test process: the config of the `mystocks-bot run` replica it is to be.
pub const REPLICA_CONFIG_ENV: &str = "MYSTOCKS_TEST_REPLICA_CONFIG";

/// Not a test of its own: the body of the replica processes that
/// `a_replica_stopped_with_sigterm_hands_its_rollout_over_at_once` and the process soak (`fleet.rs`) start — this
/// test binary run again with only this entry selected. It runs exactly what `mystocks-bot run --config FILE` runs
/// for a Slack configuration, SIGTERM handling included. Without the variable it does nothing.
#[test]
#[ignore = "the body of the replica processes of the SIGTERM test and the process soak"]
fn replica_process() {
    let Ok(config) = std::env::var(REPLICA_CONFIG_ENV) else {
        return;
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    mystocks_bot::telemetry::init(mystocks_bot::telemetry::LogFormat::Text, "info");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let result = runtime.block_on(mystocks_bot::slack::run(std::path::Path::new(&config)));
    runtime.shutdown_timeout(Duration::from_millis(200));
    if let Err(err) = result {
        eprintln!("replica failed: {err:#}");
        std::process::exit(1);
    }
}

/// A port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Redis database 9 of the test Redis: the replica process uses the bot's own key prefix, which other tests'
/// Slack bots share, so it gets a keyspace of its own.
fn redis_url_of_own_keyspace() -> String {
    let mut url = url::Url::parse(&redis_url()).expect("REDIS_TEST_URL is a URL");
    url.set_path("/9");
    url.to_string()
}

/// The execution job's row, read straight from the store's database: (status, owner, lease_until, attempts).
async fn execution_job(db_url: &str) -> (String, Option<String>, Option<String>, i32) {
    let pool = sqlx::PgPool::connect(db_url).await.expect("database");
    let row: (String, Option<String>, Option<String>, i32) = sqlx::query_as(
        "SELECT status, owner, lease_until::text, attempts::int FROM jobs WHERE kind = 'execute-approval'",
    )
    .fetch_one(&pool)
    .await
    .expect("exactly one execution job");
    pool.close().await;
    row
}

async fn approval_state(store: &dyn mystocks_commands::store::Store, id: &str) -> ApprovalState {
    store
        .approval(id)
        .await
        .expect("store")
        .expect("record")
        .state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_stopped_with_sigterm_hands_its_rollout_over_at_once() {
    use mystocks_adapters::slack::SlackSigner;
    use mystocks_sim::{PodDelays, SimConfig};
    use mystocks_tests::fake_slack::{BOT_TOKEN, FakeSlack};
    use mystocks_tests::rbac;

    mystocks_tests::init();
    // Real-time pods that take a quarter of a minute to become ready: the rollout outlasts the 1 s grace period
    // by far, so the replica must hand it over rather than finish it.
    let token = rbac::bot_token();
    let defaults = SimConfig::default();
    let sim = Arc::new(
        Sim::start(SimConfig {
            tokens: vec![token.clone()],
            speed: 1.0,
            pod_delays: PodDelays {
                readiness: Duration::from_secs(15),
                ..defaults.pod_delays.clone()
            },
            ..defaults
        })
        .await
        .expect("sim"),
    );
    let slack = FakeSlack::start(&["C1"]).await;
    let db = TestDb::postgres().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        sim.kubeconfig_for(rbac::BOT_USER, &token.token),
    )
    .expect("kubeconfig");
    let (port, ops_port) = (free_port(), free_port());
    let config = dir.path().join("replica.toml");
    let person = |id: &str, role: &str, user: &str| {
        format!(
            "[[people.persons]]\nid = \"{id}\"\nidentities = [\"slack:T1/{user}\"]\nroles = [\"{role}\"]\n"
        )
    };
    std::fs::write(
        &config,
        format!(
            "[kubernetes]\nkubeconfig = \"{kube}\"\n[store]\nurl = \"{db}\"\n[coordinator]\nredis_url = \"{redis}\"\n\
             [audit]\nhmac_key = \"test-audit-key-0123456789abcdef-0123456789abcdef\"\n\
             [server]\nlisten = \"127.0.0.1:{port}\"\nops_listen = \"127.0.0.1:{ops_port}\"\nshutdown_grace = \"1s\"\n\
             [slack]\nbot_token = \"{BOT_TOKEN}\"\nsigning_secret = \"{SLACK_SECRET}\"\napi_url = \"{api}\"\n\
             team_id = \"T1\"\napi_app_id = \"A1\"\nbot_user_id = \"UBOT\"\n{a}{b}",
            kube = kubeconfig.display(),
            db = db.url,
            redis = redis_url_of_own_keyspace(),
            api = slack.api_url(),
            a = person("alice", "operator", "UALICE"),
            b = person("bob", "approver", "UBOB"),
        ),
    )
    .expect("config written");
    let log_path = dir.path().join("replica.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut child = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "replicas::replica_process",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env(REPLICA_CONFIG_ENV, &config)
        .env("RUST_LOG", "info,mystocks_commands=debug")
        .stdout(log.try_clone().expect("log file"))
        .stderr(log)
        .spawn()
        .expect("the replica process starts");
    let replica_log = || std::fs::read_to_string(&log_path).unwrap_or_default();

    let mut serving = false;
    for _ in 0..600 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            serving = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(serving, "the replica never served: {}", replica_log());

    // alice asks for a scale by mention, bob approves by mention: the replica executes and follows the rollout.
    let signer = SlackSigner::new(SLACK_SECRET.to_string().into());
    let mention = |user: &str, text: &str, ts: &str| {
        let body = serde_json::json!({"token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
            "event_id": format!("Ev{}", uuid::Uuid::new_v4().simple()), "event_time": 1_700_000_000,
            "event": {"type": "app_mention", "user": user, "text": format!("<@UBOT> {text}"), "ts": ts,
                      "channel": "C1"}})
        .to_string();
        let at = chrono::Utc::now().timestamp();
        reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}/slack/events"))
            .header("content-type", "application/json")
            .header("x-slack-request-timestamp", at.to_string())
            .header("x-slack-signature", signer.sign(at, body.as_bytes()))
            .body(body)
            .send()
    };
    let now = chrono::Utc::now();
    // Unique per run: the replica's claims live in Redis database 9 for a day.
    let ts = format!("{}.{:06}", now.timestamp(), now.timestamp_subsec_micros());
    let sent = mention("UALICE", "scale 6", &ts).await;
    assert_eq!(sent.map(|r| r.status().as_u16()).ok(), Some(200));
    let store = store::connect(&db.url, mystocks_tests::app::test_audit_key())
        .await
        .expect("store");
    let mut id = None;
    for _ in 0..300 {
        id = store
            .approvals_in_state(&[ApprovalState::Pending], 10)
            .await
            .expect("store")
            .first()
            .map(|r| r.id.clone());
        if id.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let id = id.unwrap_or_else(|| panic!("no approval request: {}", replica_log()));
    // bob presses the request's Approve button.
    let (ts, request) = slack
        .posted()
        .into_iter()
        .find(|(_, b)| b["text"].as_str().is_some_and(|t| t.contains(&id)))
        .expect("the request message");
    let thread = request["thread_ts"].as_str().unwrap_or(&ts).to_string();
    let payload = serde_json::json!({
        "type": "block_actions", "team": {"id": "T1"}, "api_app_id": "A1",
        "user": {"id": "UBOB", "username": "bob", "team_id": "T1"},
        "container": {"type": "message", "message_ts": ts, "channel_id": "C1", "is_ephemeral": false},
        "channel": {"id": "C1", "name": "ops"},
        "message": {"ts": ts, "thread_ts": thread, "type": "message", "text": "approval"},
        "trigger_id": format!("trig-{}", uuid::Uuid::new_v4().simple()),
        "response_url": "https://hooks.slack.invalid/actions/1",
        "actions": [{"type": "button", "action_id": "mystocks-0", "block_id": "mystocks-actions",
                     "value": format!("approve {id}"), "text": {"type": "plain_text", "text": "Approve"},
                     "action_ts": "1700000002.1"}]
    });
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish();
    let at = chrono::Utc::now().timestamp();
    let pressed = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/slack/interactions"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", at.to_string())
        .header("x-slack-signature", signer.sign(at, body.as_bytes()))
        .body(body)
        .send()
        .await;
    assert_eq!(pressed.map(|r| r.status().as_u16()).ok(), Some(200));
    let applied = sim
        .wait_until(
            |s| s.deployment().spec.replicas == Some(6),
            Duration::from_secs(30),
        )
        .await;
    let said: Vec<String> = slack
        .posted()
        .iter()
        .map(|(_, body)| body["text"].to_string())
        .collect();
    assert!(
        applied,
        "the change reached the cluster: {said:#?}\n{}",
        replica_log()
    );
    let (status, owner, ..) = execution_job(&db.url).await;
    assert_eq!(status, "running", "the replica is following the rollout");
    let owner = owner.expect("the replica holds the job");

    // SIGTERM, as Kubernetes stops a pod.
    let pid = child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let exit = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("waited")
        .expect("the replica exits");
    assert!(
        exit.success(),
        "the replica stops cleanly on SIGTERM: {exit:?}\n{}",
        replica_log()
    );

    // The lease was given back at exit — not left to expire 30 s later.
    let (status, holder, lease_until, attempts) = execution_job(&db.url).await;
    assert_eq!(
        (status.as_str(), holder.as_deref(), lease_until.as_deref()),
        ("queued", None, None),
        "the stopped replica ({owner}) released the job's lease: {}",
        replica_log()
    );
    assert_eq!(attempts, 1);
    assert_eq!(
        approval_state(store.as_ref(), &id).await,
        ApprovalState::Executing,
        "the rollout was still being followed when the replica stopped"
    );

    // Another replica claims it on its first poll and reports the rollout's end in the same Slack thread.
    let prefix = format!("mystocks-bot-test-{}:", uuid::Uuid::new_v4().simple());
    let settings = replica_settings(&format!("replica-1-{prefix}"));
    let other = replica(&sim, &db.url, &redis_url(), &prefix, settings).await;
    other.core.register_sink("slack", other.sink.clone());
    let poller = other.core.start_job_runner();
    let mut state = ApprovalState::Executing;
    for _ in 0..600 {
        state = approval_state(store.as_ref(), &id).await;
        if state == ApprovalState::Done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state, ApprovalState::Done, "{}", texts(&other.sink.all()));
    let reported = texts(&other.sink.all());
    assert!(
        reported.contains("6/6") || reported.contains("rolled out"),
        "the other replica reported the end: {reported}"
    );
    // The approval is marked done before the job row that ran it is closed: wait for the row too.
    let mut job = execution_job(&db.url).await;
    for _ in 0..100 {
        if job.0 == "done" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        job = execution_job(&db.url).await;
    }
    let (status, holder, _, attempts) = job;
    assert_eq!(status, "done");
    assert_eq!(
        holder.as_deref(),
        Some(format!("replica-1-{prefix}").as_str())
    );
    assert_eq!(attempts, 2, "claimed once by each replica");
    assert_eq!(real_scale_patches(&sim), 1, "the change was made once");
    poller.abort();
}
