//! The soak behind docs/reliability.md: three replicas on one PostgreSQL store and a Redis of their own, against one
//! cluster, working an incident's war room through many approved and denied changes (scale up and down), with every
//! delivery sent to two replicas at once, a replica killed now and then while it follows a rollout (its jobs stop
//! without giving their leases back, as after `kill -9`, and a fresh replica takes its place), and Redis killed and
//! restarted now and then. At the end it counts, from the audit log, the store and the cluster: executions per
//! approved change, executions of denied ones, requests left in flight, timeline entries lost, and whether the audit
//! chain verifies. It is ignored in the normal run; run it with
//!
//! ```text
//! SOAK_CHANGES=1000 cargo nextest run -p mystocks-tests --run-ignored only -E 'test(soak)' --no-capture
//! ```

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mystocks_commands::incident::model::kind;
use mystocks_commands::store::ApprovalState;
use mystocks_commands::{Actor, Addressing, Conversation, Handler, Identity, Invocation};
use mystocks_tests::app::test_audit_key;
use mystocks_tests::{AppOptions, TestApp, TestDb, approval_id, texts};

use crate::replicas::{Replica, replica, replica_settings};
use crate::support::OwnRedis;

/// A small deterministic generator (the soak is reproducible from its seed).
pub struct Dice(pub u64);

impl Dice {
    /// A number below `sides`.
    pub fn roll(&mut self, sides: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % sides
    }
}

fn said(event: &str, who: &str, thread: &str, text: &str) -> Invocation {
    Invocation {
        event_id: event.to_string(),
        actor: Actor {
            identity: Identity::new("console", who),
            display_name: who.to_string(),
        },
        conversation: Conversation {
            channel: "console:main".into(),
            thread: Some(thread.to_string()),
        },
        addressing: Addressing::Direct,
        text: text.to_string(),
        received_at: chrono::Utc::now(),
    }
}

struct Running {
    replica: Replica,
    poller: tokio::task::JoinHandle<()>,
}

async fn start(app: &TestApp, db: &TestDb, redis: &str, n: usize) -> Running {
    let prefix = "mystocks-bot-soak:";
    let settings = replica_settings(&format!("replica-{n}-{prefix}"));
    let replica = replica(&app.sim, &db.url, redis, prefix, settings).await;
    let poller = replica.core.start_job_runner();
    Running { replica, poller }
}

/// Delivers one event to two replicas at once (a duplicate delivery) and returns what they posted.
async fn deliver(
    fleet: &[Running],
    pick: (usize, usize),
    inv: &Invocation,
) -> Vec<mystocks_tests::Recorded> {
    let chosen = [&fleet[pick.0].replica, &fleet[pick.1].replica];
    let before: Vec<usize> = chosen.iter().map(|r| r.sink.len()).collect();
    let sends: Vec<_> = chosen
        .iter()
        .map(|r| {
            let (core, sink, inv) = (r.core.clone(), r.sink.clone(), inv.clone());
            tokio::spawn(async move { core.handle(inv, sink).await })
        })
        .collect();
    for send in sends {
        send.await.expect("handled without panicking");
    }
    chosen
        .iter()
        .zip(before)
        .flat_map(|(r, b)| r.sink.since(b))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "a soak of several minutes; run it on purpose (docs/reliability.md)"]
async fn soak_three_replicas_with_kills_redis_restarts_and_duplicates() {
    let changes: usize = std::env::var("SOAK_CHANGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let started = Instant::now();
    // A fast cluster: a pod is ready in about 25 ms, so a rollout takes a fraction of a second.
    let app = TestApp::spawn(AppOptions {
        speed: 200.0,
        ..AppOptions::default()
    })
    .await;
    let db = TestDb::postgres().await;
    let mut redis = OwnRedis::start();
    let mut fleet = Vec::new();
    for n in 0..3 {
        fleet.push(start(&app, &db, &redis.url(), n).await);
    }
    let mut next_replica = 3;
    let mut dice = Dice(0x005e_ed0f_50a6);
    let store = fleet[0].replica.core.context().store.clone();

    // The war room every change is made in.
    let declared = deliver(
        &fleet,
        (0, 1),
        &said("soak-declare", "dave", "soak", "incident declare P3 soak"),
    )
    .await;
    let incident = store
        .incidents(true, 1)
        .await
        .expect("store")
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("an incident: {}", texts(&declared)));
    let thread = incident.thread.clone().expect("a war-room thread");
    let mut events_in_room = 0usize;

    let (mut approved, mut denied) = (Vec::new(), Vec::new());
    let (mut kills, mut redis_restarts, mut refused_while_busy) = (0, 0, 0);
    let mut n = 0usize;
    while approved.len() < changes {
        n += 1;
        let wanted = if n.is_multiple_of(2) { 4 } else { 3 };
        let a = dice.roll(3) as usize;
        let pick = (a, (a + 1 + dice.roll(2) as usize) % 3);
        let asked = deliver(
            &fleet,
            pick,
            &said(
                &format!("soak-req-{n}"),
                "alice",
                &thread,
                &format!("scale {wanted}"),
            ),
        )
        .await;
        events_in_room += 1;
        let Some(id) = approval_id(&asked) else {
            // The previous change (or its rollout) is still in the way: one change at a time.
            refused_while_busy += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let deny = n.is_multiple_of(10);
        let decision = if deny {
            format!("deny {id} not now")
        } else {
            format!("approve {id}")
        };
        let pick = (pick.1, pick.0);
        let deciding = {
            let inv = said(&format!("soak-dec-{n}"), "bob", &thread, &decision);
            let chosen = [
                (
                    fleet[pick.0].replica.core.clone(),
                    fleet[pick.0].replica.sink.clone(),
                ),
                (
                    fleet[pick.1].replica.core.clone(),
                    fleet[pick.1].replica.sink.clone(),
                ),
            ];
            tokio::spawn(async move {
                let sends: Vec<_> = chosen
                    .into_iter()
                    .map(|(core, sink)| {
                        let inv = inv.clone();
                        tokio::spawn(async move { core.handle(inv, sink).await })
                    })
                    .collect();
                for send in sends {
                    let _ = send.await;
                }
            })
        };
        events_in_room += 1;
        if deny {
            denied.push(id.clone());
        } else {
            approved.push(id.clone());
        }
        // Now and then the replica that took the decision dies while its job runs (`kill -9`: no lease is given
        // back); a fresh one takes its place.
        if !deny && dice.roll(25) == 0 {
            tokio::time::sleep(Duration::from_millis(dice.roll(60))).await;
            let dead = fleet.remove(pick.0);
            dead.replica.core.abort_jobs();
            dead.poller.abort();
            drop(dead);
            kills += 1;
            fleet.insert(pick.0, start(&app, &db, &redis.url(), next_replica).await);
            next_replica += 1;
        }
        if dice.roll(40) == 0 {
            redis.stop();
            tokio::time::sleep(Duration::from_millis(dice.roll(300))).await;
            redis.restart();
            redis_restarts += 1;
        }
        let _ = deciding.await;
        // Wait for the request to end before the next (the fleet's pollers take over from a dead replica).
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let record = store.approval(&id).await.expect("store").expect("record");
            if record.state.is_final() || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    for r in &fleet {
        r.replica.core.settle().await;
    }

    // Figures.
    let rows = store.audit_tail(i64::MAX / 2).await.expect("audit");
    let mut applied: BTreeMap<String, usize> = BTreeMap::new();
    for row in &rows {
        if row.decision == "executed"
            && row
                .outcome
                .as_deref()
                .is_some_and(|o| o.starts_with("applied"))
            && let Some(id) = &row.approval_id
        {
            *applied.entry(id.clone()).or_default() += 1;
        }
    }
    let per_approved: BTreeMap<usize, usize> =
        approved.iter().fold(BTreeMap::new(), |mut m, id| {
            *m.entry(applied.get(id).copied().unwrap_or(0)).or_default() += 1;
            m
        });
    let denied_executions: usize = denied
        .iter()
        .map(|id| applied.get(id).copied().unwrap_or(0))
        .sum();
    let in_flight = store
        .approvals_in_state(&ApprovalState::IN_FLIGHT, 1000)
        .await
        .expect("store");
    let mut done = 0;
    for id in &approved {
        if store
            .approval(id)
            .await
            .expect("store")
            .expect("record")
            .state
            == ApprovalState::Done
        {
            done += 1;
        }
    }
    let timeline = store.timeline(incident.number).await.expect("timeline");
    // One entry per event typed in the room (its event id in the detail), and one per approval that closed.
    let typed: Vec<&str> = timeline
        .iter()
        .filter_map(|e| e.detail["event_id"].as_str())
        .filter(|event| event.starts_with("soak-req-") || event.starts_with("soak-dec-"))
        .collect();
    let distinct: std::collections::BTreeSet<&str> = typed.iter().copied().collect();
    let commands = distinct.len();
    let closed = timeline
        .iter()
        .filter(|e| e.kind == kind::APPROVAL && e.detail["event_id"].is_null())
        .count();
    let executed: usize = applied.values().sum();
    let verify = store
        .verify_audit(&test_audit_key(), None)
        .await
        .expect("verify");
    eprintln!(
        "soak: {} approved changes ({done} done), {} denied, {} requests refused while another was in flight; \
         {kills} replicas killed, {redis_restarts} Redis restarts; every delivery sent twice\n\
         executions per approved change (executions: requests): {per_approved:?}\n\
         executions of denied requests: {denied_executions}\n\
         requests left in flight: {}\n\
         timeline: {commands} entries for the {events_in_room} events typed in the room, {closed} closing entries for {executed} executions\n\
         audit verify: {} rows, problems {:?}\n\
         wall time: {:.0} s",
        approved.len(),
        denied.len(),
        refused_while_busy,
        in_flight.len(),
        verify.rows_checked,
        verify.problems,
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        per_approved.keys().copied().collect::<Vec<_>>(),
        [1],
        "each approved change ran exactly once"
    );
    assert_eq!(denied_executions, 0);
    assert!(in_flight.is_empty(), "{in_flight:?}");
    assert_eq!(commands, events_in_room, "no command entry lost");
    assert_eq!(typed.len(), commands, "no command entry doubled");
    assert_eq!(closed, executed, "no closing entry lost");
    assert!(verify.is_ok(), "{verify:?}");
}
