//! The soak behind docs/reliability.md, with real processes: three `mystocks-bot run` replicas (Slack over HTTP)
//! on one PostgreSQL store and a Redis of their own, against one simulated cluster and one fake Slack. alice asks
//! for `scale 4` and `scale 3` in turn by slash command; bob presses Approve on each request, or Deny on every
//! tenth; every delivery is sent to two replicas at once, signed, with one trigger id (Slack delivering twice).
//! Now and then a replica gets SIGKILL — the one holding the running job if there is one, at a random moment after
//! the press — and a fresh process takes its place; now and then Redis is killed and restarted. At the end it
//! counts, from the cluster's request log, the audit log and the store: executions per approved change (the
//! scale requests the cluster took while it was decided and run), whether the audit log records each as applied
//! once, executions of denied ones, requests and jobs left in flight, and what the bot's own `audit verify` says.
//! The changes are asked for by slash command, which Slack allows at a channel's top level only: no incident
//! thread, so no timeline — the in-process soak (`soak.rs`) counts timeline entries.
//! It is ignored in the normal run; run it with
//!
//! ```text
//! SOAK_CHANGES=1000 cargo nextest run -p mystocks-tests --run-ignored only -E 'test(soak_processes)' --no-capture
//! ```

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mystocks_commands::audit::{AuditKey, AuditRow};
use mystocks_commands::store::{self, ApprovalRecord, ApprovalState, Store};
use mystocks_sim::{Sim, SimConfig};
use mystocks_tests::fake_slack::FakeSlack;
use mystocks_tests::{TestDb, rbac};
use serde_json::Value;

use crate::fleet::{Fleet, World};
use crate::slack_deliveries::{CHANNEL, SECRET, Slack, press, slash};
use crate::soak::Dice;
use crate::support::OwnRedis;
use mystocks_tests::fake_slack::buttons;

const AUDIT_KEY: &str = "test-audit-key-soak-0123456789abcdef";
/// A request still pending this long after bob pressed is taken as a press lost with a killed replica (its
/// delivery claimed, then nothing done), and bob presses again, as a person would.
const PRESS_AGAIN_AFTER: Duration = Duration::from_secs(5);
/// How long one request may take to end before the soak gives up on it.
const REQUEST_GIVES_UP: Duration = Duration::from_secs(120);

/// Scale requests the cluster took (dry runs excluded).
fn scale_patches(sim: &Sim) -> usize {
    sim.changing_requests()
        .iter()
        .filter(|r| r.path.contains("/scale") && !r.path.contains("dryRun=All"))
        .count()
}

/// Two different replicas out of `count`.
fn two(dice: &mut Dice, count: usize) -> [usize; 2] {
    let a = dice.roll(count as u64) as usize;
    [a, (a + 1 + dice.roll(count as u64 - 1) as usize) % count]
}

/// What became of a `scale` asked for.
enum Asked {
    Request(Box<ApprovalRecord>),
    Refused,
}

/// alice asks for `scale wanted`; waits for the request (posted, its message stored) or the refusal.
async fn ask(slack: &Slack, ports: &[u16], store: &dyn Store, wanted: i32) -> Asked {
    let body = slash("UALICE", &format!("scale {wanted}"));
    let answers = slack.to_each(ports, "/slack/commands", &body).await;
    for _ in 0..400 {
        let pending = store
            .approvals_in_state(&[ApprovalState::Pending], 10)
            .await
            .expect("store");
        if let Some(request) = pending.into_iter().find(|r| r.request_message.is_some()) {
            return Asked::Request(Box::new(request));
        }
        let refused = answers.iter().flatten().any(|(_, text)| {
            text.contains("one change at a time") || text.contains("still in progress")
        });
        if refused {
            return Asked::Refused;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("`scale {wanted}` led to neither a request nor a refusal: {answers:?}");
}

/// The running job's holder, as a replica of `fleet` (its lease owner is `host-pid-random`).
async fn replica_holding_a_job(pool: &sqlx::PgPool, fleet: &Fleet) -> Option<usize> {
    let owner: Option<String> = sqlx::query_scalar(
        "SELECT owner FROM jobs WHERE status = 'running' AND owner IS NOT NULL ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await
    .expect("jobs read")?;
    let pid = owner?.rsplit('-').nth(1)?.parse().ok()?;
    fleet.replica_of_pid(pid)
}

/// What the soak did and saw along the way.
#[derive(Default)]
struct Tally {
    approved: Vec<String>,
    denied: Vec<String>,
    /// Scale requests the cluster took while each request was being decided and executed.
    cluster_executions: BTreeMap<String, usize>,
    refused_while_busy: usize,
    kills_of_job_holder: usize,
    kills_of_another: usize,
    redis_restarts: usize,
    presses_again: usize,
    deliveries_cut_off: usize,
}

/// Bob's decision on `request`, pressed on its message and sent to two replicas; a kill and a Redis restart now
/// and then while it runs; returns once the request has ended.
#[allow(clippy::too_many_arguments)]
async fn decide(
    world: (&Sim, &FakeSlack, &dyn Store, &sqlx::PgPool),
    slack: &Slack,
    fleet: &mut Fleet,
    redis: &mut OwnRedis,
    dice: &mut Dice,
    tally: &mut Tally,
    request: &ApprovalRecord,
    deny: bool,
) {
    let (sim, fake, store, pool) = world;
    let ts = request.request_message.as_ref().expect("stored")["message_id"]
        .as_str()
        .expect("the request's message ts")
        .to_string();
    let message = fake
        .message(CHANNEL, &ts)
        .unwrap_or_else(|| panic!("{}: its message {ts} is in Slack", request.id));
    let action = if deny { "deny " } else { "approve " };
    let value = buttons(&message)
        .into_iter()
        .find(|v| v.starts_with(action))
        .unwrap_or_else(|| panic!("a {action}button on {message}"));
    let before = scale_patches(sim);
    let pick = two(dice, fleet.count());
    let ports = [fleet.port(pick[0]), fleet.port(pick[1])];
    let pressing = {
        let (slack, body) = (slack.clone(), press(fake, "UBOB", &value, &ts));
        tokio::spawn(async move { slack.to_each(&ports, "/slack/interactions", &body).await })
    };
    if !deny && dice.roll(25) == 0 {
        tokio::time::sleep(Duration::from_millis(dice.roll(150))).await;
        let victim = match replica_holding_a_job(pool, fleet).await {
            Some(holder) => {
                tally.kills_of_job_holder += 1;
                holder
            }
            None => {
                tally.kills_of_another += 1;
                dice.roll(fleet.count() as u64) as usize
            }
        };
        fleet.kill_and_replace(victim).await;
    }
    if dice.roll(40) == 0 {
        redis.stop();
        tokio::time::sleep(Duration::from_millis(dice.roll(300))).await;
        redis.restart();
        tally.redis_restarts += 1;
    }
    let answers = pressing.await.expect("the presses were sent");
    tally.deliveries_cut_off += answers.iter().filter(|a| a.is_none()).count();

    let (since, mut pressed) = (Instant::now(), Instant::now());
    loop {
        let record = store
            .approval(&request.id)
            .await
            .expect("store")
            .expect("the request");
        if record.state.is_final() {
            break;
        }
        if record.state == ApprovalState::Pending && pressed.elapsed() > PRESS_AGAIN_AFTER {
            let pick = two(dice, fleet.count());
            let ports = [fleet.port(pick[0]), fleet.port(pick[1])];
            let body = press(fake, "UBOB", &value, &ts);
            slack.to_each(&ports, "/slack/interactions", &body).await;
            tally.presses_again += 1;
            pressed = Instant::now();
        }
        assert!(
            since.elapsed() < REQUEST_GIVES_UP,
            "{} is still {} ({:?}); the replicas' logs are in {}",
            request.id,
            record.state,
            record.state_detail,
            fleet.path().display()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    tally
        .cluster_executions
        .insert(request.id.clone(), scale_patches(sim) - before);
    if deny {
        tally.denied.push(request.id.clone());
    } else {
        tally.approved.push(request.id.clone());
    }
}

/// dave's `/mystocks audit verify`, answered in the slash command's response or posted in the channel.
async fn audit_verify_in_chat(slack: &Slack, fake: &FakeSlack, port: u16) -> String {
    let answers = slack
        .to_each(&[port], "/slack/commands", &slash("UDAVE", "audit verify"))
        .await;
    if let Some((_, text)) = answers.into_iter().flatten().next()
        && text.contains("Audit log")
    {
        let answer: Value = serde_json::from_str(&text).unwrap_or_default();
        return answer["text"].as_str().unwrap_or(&text).to_string();
    }
    for _ in 0..600 {
        let said = fake
            .accepted("chat.postMessage")
            .into_iter()
            .filter_map(|b| b["text"].as_str().map(str::to_string))
            .find(|t| t.contains("Audit log"));
        if let Some(said) = said {
            return said;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("`audit verify` was not answered");
}

/// What the audit log says of the executions: per request, its `executed … applied` rows (written by the process
/// that sent the change) and its `executed … found applied after a restart` rows (written by a process that took
/// the job over and found the change in the cluster).
struct AuditedExecutions {
    rows: Vec<AuditRow>,
    applied: BTreeMap<String, usize>,
    found_applied: BTreeMap<String, usize>,
}

impl AuditedExecutions {
    async fn read(store: &dyn Store) -> AuditedExecutions {
        let rows = store.audit_tail(i64::MAX / 2).await.expect("audit");
        let (mut applied, mut found_applied) = (BTreeMap::new(), BTreeMap::new());
        for row in &rows {
            let (Some(id), Some(outcome)) = (&row.approval_id, &row.outcome) else {
                continue;
            };
            if row.decision != "executed" {
                continue;
            }
            if outcome.starts_with("applied") {
                *applied.entry(id.clone()).or_default() += 1;
            } else if outcome.starts_with("found applied") {
                *found_applied.entry(id.clone()).or_default() += 1;
            }
        }
        AuditedExecutions {
            rows,
            applied,
            found_applied,
        }
    }

    /// Whether the record shows request `id` applied exactly once: one row of the process that sent it, or none
    /// (it died first) and one of the process that found it applied.
    fn once(&self, id: &str) -> bool {
        let count = |m: &BTreeMap<String, usize>| m.get(id).copied().unwrap_or(0);
        count(&self.applied) == 1 || (count(&self.applied) == 0 && count(&self.found_applied) == 1)
    }
}

/// The audit trail and execution job of request `id`, for a report.
async fn trail_of(id: &str, rows: &[AuditRow], pool: &sqlx::PgPool) -> String {
    let mut out = format!("{id}:\n");
    for row in rows.iter().filter(|r| r.approval_id.as_deref() == Some(id)) {
        out.push_str(&format!(
            "  audit #{} {} {} by {}: {}\n",
            row.seq,
            row.at.format("%H:%M:%S%.3f"),
            row.decision,
            row.actor_identity,
            row.outcome.as_deref().unwrap_or("")
        ));
    }
    let jobs: Vec<(String, Option<String>, i32, Option<String>)> = sqlx::query_as(
        "SELECT status, owner, attempts, state::text FROM jobs \
         WHERE kind = 'execute-approval' AND payload->>'approval_id' = $1",
    )
    .bind(id)
    .fetch_all(pool)
    .await
    .expect("jobs read");
    for (status, owner, attempts, state) in jobs {
        out.push_str(&format!(
            "  job {status}, {attempts} claims, last by {}, checkpoint {}\n",
            owner.unwrap_or_default(),
            state.unwrap_or_default()
        ));
    }
    out
}

/// Jobs still queued or running once the last one has had time to close (a request is marked done just before
/// the job row that ran it).
async fn jobs_left_open(pool: &sqlx::PgPool) -> i64 {
    let mut open = 0;
    for _ in 0..100 {
        open =
            sqlx::query_scalar("SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')")
                .fetch_one(pool)
                .await
                .expect("jobs counted");
        if open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    open
}

/// How many requests ran 0, 1, 2… times.
fn histogram(ids: &[String], executions: &BTreeMap<String, usize>) -> BTreeMap<usize, usize> {
    ids.iter().fold(BTreeMap::new(), |mut m, id| {
        *m.entry(executions.get(id).copied().unwrap_or(0))
            .or_default() += 1;
        m
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a soak of minutes with real processes; run it on purpose (docs/reliability.md)"]
async fn soak_processes_with_kill_9_redis_restarts_and_duplicates() {
    let changes: usize = std::env::var("SOAK_CHANGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    mystocks_tests::init();
    let started = Instant::now();
    // A fast cluster: a pod is ready in about 25 ms, so a rollout takes a fraction of a second.
    let token = rbac::bot_token();
    let sim = Sim::start(SimConfig {
        tokens: vec![token.clone()],
        speed: 200.0,
        ..SimConfig::default()
    })
    .await
    .expect("sim");
    let fake = FakeSlack::start(&[CHANNEL]).await;
    let db = TestDb::postgres().await;
    let audit_key = AuditKey::new(AUDIT_KEY.to_string().into()).expect("audit key");
    // Connected (and migrated) before the replicas start, which then find the schema in place.
    let store = store::connect(&db.url, audit_key.clone())
        .await
        .expect("store");
    let pool = sqlx::PgPool::connect(&db.url).await.expect("database");
    let mut redis = OwnRedis::start();
    let kube_dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = kube_dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        sim.kubeconfig_for(rbac::BOT_USER, &token.token),
    )
    .expect("kubeconfig");
    let world = World {
        kubeconfig,
        store_url: db.url.clone(),
        redis_url: redis.url(),
        slack_api: fake.api_url(),
        signing_secret: SECRET.to_string(),
        audit_key: AUDIT_KEY.to_string(),
    };
    let mut fleet = Fleet::start(&world, 3).await;
    let slack = Slack::new();
    let seed = std::env::var("SOAK_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0x0050_a60f_9e55);
    let mut dice = Dice(seed);
    let mut tally = Tally::default();

    let mut asked = 0usize;
    while tally.approved.len() < changes {
        let spec = sim.deployment().spec.replicas;
        let wanted = if spec == Some(3) { 4 } else { 3 };
        let pick = two(&mut dice, fleet.count());
        let ports = [fleet.port(pick[0]), fleet.port(pick[1])];
        let request = match ask(&slack, &ports, store.as_ref(), wanted).await {
            Asked::Request(request) => request,
            Asked::Refused => {
                tally.refused_while_busy += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        asked += 1;
        let world = (&sim, &fake, store.as_ref(), &pool);
        let deny = asked.is_multiple_of(10);
        decide(
            world, &slack, &mut fleet, &mut redis, &mut dice, &mut tally, &request, deny,
        )
        .await;
    }

    // Figures.
    let audit = AuditedExecutions::read(store.as_ref()).await;
    let mut odd_trails = String::new();
    for id in &tally.approved {
        if !audit.once(id) || tally.cluster_executions.get(id) != Some(&1) {
            odd_trails.push_str(&trail_of(id, &audit.rows, &pool).await);
        }
    }
    let per_approved_cluster = histogram(&tally.approved, &tally.cluster_executions);
    let per_approved_audit = histogram(&tally.approved, &audit.applied);
    let recorded_once = tally.approved.iter().filter(|id| audit.once(id)).count();
    let found_after_takeover = audit.found_applied.values().sum::<usize>();
    let denied_executions: usize = tally
        .denied
        .iter()
        .map(|id| {
            tally.cluster_executions[id]
                + audit.applied.get(id).copied().unwrap_or(0)
                + audit.found_applied.get(id).copied().unwrap_or(0)
        })
        .sum();
    let mut ended: BTreeMap<String, usize> = BTreeMap::new();
    for id in tally.approved.iter().chain(&tally.denied) {
        let state = store
            .approval(id)
            .await
            .expect("store")
            .expect("record")
            .state;
        *ended.entry(state.to_string()).or_default() += 1;
    }
    let in_flight = store
        .approvals_in_state(&ApprovalState::IN_FLIGHT, 1000)
        .await
        .expect("store");
    let taken_over: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM jobs WHERE kind = 'execute-approval' AND attempts > 1",
    )
    .fetch_one(&pool)
    .await
    .expect("jobs counted");
    let jobs_open = jobs_left_open(&pool).await;
    let in_chat = audit_verify_in_chat(&slack, &fake, fleet.port(0)).await;
    let verify = store.verify_audit(&audit_key, None).await.expect("verify");
    let patches = scale_patches(&sim);
    let logged = sim.requests().len();
    eprintln!(
        "soak (processes, seed {seed}): {} approved changes, {} denied; {} refused while another was in flight\n\
         kill -9: {} of the replica holding the running job, {} of another; {} processes started in all; \
         {} Redis kills and restarts; {taken_over} executions taken over by another replica\n\
         every delivery sent to two replicas; {} of them cut off by a kill; {} presses repeated after a lost one\n\
         executions per approved change, from the cluster (executions: changes): {per_approved_cluster:?}\n\
         `executed … applied` rows per approved change: {per_approved_audit:?}; \
         {found_after_takeover} `found applied after a restart` rows; \
         approved changes on the record as applied exactly once: {recorded_once}\n\
         executions of denied requests: {denied_executions}\n\
         requests by end state: {ended:?}; left in flight: {}; jobs left queued or running: {jobs_open}\n\
         scale requests the cluster took: {patches} (of {logged} API requests logged)\n\
         audit verify in chat: {in_chat}\n\
         audit verify through the store: {} rows, problems {:?}\n\
         wall time: {:.0} s\n\
         {odd_trails}",
        tally.approved.len(),
        tally.denied.len(),
        tally.refused_while_busy,
        tally.kills_of_job_holder,
        tally.kills_of_another,
        fleet.started(),
        tally.redis_restarts,
        tally.deliveries_cut_off,
        tally.presses_again,
        in_flight.len(),
        verify.rows_checked,
        verify.problems,
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        per_approved_cluster.keys().copied().collect::<Vec<_>>(),
        [1],
        "each approved change reached the cluster exactly once"
    );
    assert_eq!(
        recorded_once,
        tally.approved.len(),
        "each approved change is on the record as applied exactly once:\n{odd_trails}"
    );
    assert_eq!(denied_executions, 0);
    assert!(in_flight.is_empty(), "{in_flight:?}");
    assert_eq!(jobs_open, 0, "no job left behind");
    assert!(
        logged < 100_000,
        "the cluster's request log stayed whole, so its counts are exact"
    );
    assert_eq!(
        patches,
        tally.approved.len(),
        "no scale besides the approved ones"
    );
    assert!(in_chat.contains("Audit log intact"), "{in_chat}");
    assert!(verify.is_ok(), "{verify:?}");
}
