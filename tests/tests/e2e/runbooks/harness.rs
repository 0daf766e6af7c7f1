//! A core wired like the demo — checks pointed at the sim's app URL and Redis stand-in, the repository's
//! `runbooks/` loaded — that can talk in threads and be restarted on the same store.

use std::path::Path;
use std::sync::Arc;

use mystocks_commands::engine::Core;
use mystocks_commands::reply::ReplyKind;
use mystocks_commands::runbook::{RunbookSet, load_dir};
use mystocks_commands::store;
use mystocks_commands::{Actor, Addressing, Conversation, Handler, Identity, Invocation};
use mystocks_sim::world::{Scenario, ScenarioState};
use mystocks_sim::{PodDelays, Sim, SimConfig};
use mystocks_tests::kit::{test_audit_key, test_context};
use mystocks_tests::{Recorded, RecordingSink, StoreKind, TestDb};

/// The shipped runbooks, from the repository.
pub fn shipped() -> RunbookSet {
    load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../runbooks"))
}

/// One bot process over a sim and a store.
pub struct RunbookApp {
    pub sim: Arc<Sim>,
    pub core: Core,
    pub sink: Arc<RecordingSink>,
    pub db_url: String,
    pub _db: Option<TestDb>,
    events: std::sync::atomic::AtomicU64,
}

impl RunbookApp {
    /// A fresh sim under `scenario` and a fresh SQLite store.
    pub async fn spawn(scenario: Scenario, runbooks: RunbookSet) -> RunbookApp {
        Self::spawn_with(scenario, runbooks, StoreKind::Sqlite).await
    }

    /// A fresh sim under `scenario` and a fresh store of `kind`.
    pub async fn spawn_with(
        scenario: Scenario,
        runbooks: RunbookSet,
        kind: StoreKind,
    ) -> RunbookApp {
        Self::spawn_with_delays(scenario, runbooks, kind, SimConfig::default().pod_delays).await
    }

    /// As [`RunbookApp::spawn_with`], with the sim's pods taking `pod_delays` (simulated time) to start and stop.
    pub async fn spawn_with_delays(
        scenario: Scenario,
        runbooks: RunbookSet,
        kind: StoreKind,
        pod_delays: PodDelays,
    ) -> RunbookApp {
        mystocks_tests::init();
        let state = ScenarioState {
            scenario,
            ..ScenarioState::default()
        };
        // The bot's token is bound to the Role rendered from deploy/ (the sim's kubeconfig uses the first token).
        let defaults = SimConfig::default();
        let tokens = std::iter::once(mystocks_tests::rbac::bot_token())
            .chain(defaults.tokens.clone())
            .collect();
        let sim = Sim::start(SimConfig {
            scenario: state,
            speed: 50.0,
            tokens,
            pod_delays,
            ..defaults
        })
        .await
        .expect("sim");
        let db = match kind {
            StoreKind::Sqlite => TestDb::sqlite(),
            StoreKind::Postgres => TestDb::postgres().await,
        };
        let url = db.url.clone();
        Self::spawn_on(Arc::new(sim), url, Some(db), runbooks).await
    }

    /// Another process on the same sim and store (a restart).
    pub async fn spawn_on(
        sim: Arc<Sim>,
        db_url: String,
        db: Option<TestDb>,
        runbooks: RunbookSet,
    ) -> RunbookApp {
        mystocks_tests::init();
        let store = store::connect(&db_url, test_audit_key())
            .await
            .expect("store");
        let ctx = test_context(&sim, store).await.runbooks(runbooks).build();
        let core = Core::new(ctx);
        let sink = Arc::new(RecordingSink::default());
        core.register_sink("console", sink.clone());
        RunbookApp {
            sim,
            core,
            sink,
            db_url,
            _db: db,
            events: Default::default(),
        }
    }

    /// `who` says `text` in the main channel (`thread` `None`) or a thread; what the bot posted, jobs included.
    pub async fn say(&self, who: &str, thread: Option<&str>, text: &str) -> Vec<Recorded> {
        let cursor = self.sink.len();
        let n = self
            .events
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let invocation = Invocation {
            event_id: format!(
                "rb-{}-{n}-{}",
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            ),
            actor: Actor {
                identity: Identity::new("console", who),
                display_name: who.to_string(),
            },
            conversation: Conversation {
                channel: "console:main".into(),
                thread: thread.map(str::to_string),
            },
            addressing: Addressing::Direct,
            text: text.to_string(),
            received_at: chrono::Utc::now(),
        };
        self.core.handle(invocation, self.sink.clone()).await;
        self.core.settle().await;
        self.sink.since(cursor)
    }

    /// Runs the jobs that are due (a decision that is not an execution queues the run's next steps for the
    /// poller); what the bot posted meanwhile.
    pub async fn run_jobs(&self) -> Vec<Recorded> {
        let cursor = self.sink.len();
        self.core.run_due_jobs().await;
        self.sink.since(cursor)
    }
}

/// Starts `runbook run NAME` as alice; the run's thread and what was posted.
pub async fn start(app: &RunbookApp, name: &str) -> (String, Vec<Recorded>) {
    let posted = app.say("alice", None, &format!("runbook run {name}")).await;
    let opening = posted.first().expect("the run opens its thread");
    assert!(opening.text().contains("Runbook:"), "{}", all(&posted));
    let thread = opening.message_id.clone();
    for r in &posted[1..] {
        assert_eq!(
            r.conversation.thread.as_deref(),
            Some(thread.as_str()),
            "every step goes in the run's thread"
        );
    }
    (thread, posted)
}

/// The id of the approval request posted among `replies`.
pub fn requested(replies: &[Recorded]) -> Option<String> {
    replies.iter().find_map(|r| match &r.reply.approval {
        Some(tag) if !r.update && r.reply.kind == ReplyKind::ApprovalRequest => {
            Some(tag.id.clone())
        }
        _ => None,
    })
}

/// Every text, joined.
pub fn all(replies: &[Recorded]) -> String {
    replies
        .iter()
        .map(|r| r.text())
        .collect::<Vec<_>>()
        .join("\n---\n")
}

/// The last reply whose header starts with `prefix`.
pub fn headed<'a>(replies: &'a [Recorded], prefix: &str) -> Option<&'a Recorded> {
    replies.iter().rev().find(|r| {
        r.reply
            .header
            .as_deref()
            .is_some_and(|h| h.starts_with(prefix))
    })
}

/// Desired replicas of the app.
pub fn replicas(sim: &Sim) -> i32 {
    crate::support::replicas(sim).0
}
