//! `TestApp`: the command core wired exactly as the binary wires it, against an in-process simulated cluster.

use std::sync::Arc;
use std::time::Duration;

use mystocks_commands::audit_anchor::{AuditAnchor, CheckpointLocation};
use mystocks_commands::clock::ManualClock;
use mystocks_commands::directory::{Directory, DirectoryConfig};
use mystocks_commands::engine::ratelimit::RateLimitConfig;
use mystocks_commands::engine::{Core, CoreSettings};
use mystocks_commands::incident::IncidentSettings;
use mystocks_commands::policy::PolicyConfig;
use mystocks_commands::store::{self, Store};
use mystocks_commands::{Actor, Addressing, Conversation, Handler, Identity, Invocation};
use mystocks_sim::world::ScenarioState;
use mystocks_sim::{Sim, SimConfig};

use crate::db::TestDb;
use crate::kit::{test_context, test_rate_limit, test_settings};
use crate::sink::{Recorded, RecordingSink};

// Where suites have always found them; they live in the kit now.
pub use crate::kit::{kube_client, test_audit_key};

/// Which store a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    Sqlite,
    Postgres,
}

/// How to start a test app.
#[derive(Clone, Debug)]
pub struct AppOptions {
    pub store: StoreKind,
    pub scenario: ScenarioState,
    /// Sim clock speed; high so rollouts finish in about a second.
    pub speed: f64,
    pub policy: PolicyConfig,
    /// A database URL to reuse (a restart test reopens the same store).
    pub reuse_db: Option<String>,
    /// Rate limits; generous by default so tests that send many commands are not slowed down.
    pub rate_limit: RateLimitConfig,
    /// Incident settings and pager (the incident tests point it at a fake PagerDuty).
    pub incidents: IncidentSettings,
    /// Faults the core's store suffers (the test's own handle, `TestApp::store`, goes around them).
    pub faults: Option<Arc<crate::faulty_store::Faults>>,
    /// The people (default: the demo people).
    pub people: Option<DirectoryConfig>,
    /// Keep the audit checkpoint in the sim's ConfigMap, as deploy/ configures the bot (default true). The app
    /// does not run the publisher: tests call `audit_anchor::publish_once` when they want a checkpoint.
    pub audit_checkpoint: bool,
}

impl Default for AppOptions {
    fn default() -> Self {
        AppOptions {
            store: StoreKind::Sqlite,
            scenario: ScenarioState::default(),
            speed: 50.0,
            policy: PolicyConfig::default(),
            reuse_db: None,
            rate_limit: test_rate_limit(),
            incidents: IncidentSettings::default(),
            faults: None,
            people: None,
            audit_checkpoint: true,
        }
    }
}

/// The core, its world and what it said.
pub struct TestApp {
    pub sim: Arc<Sim>,
    pub core: Core,
    pub sink: Arc<RecordingSink>,
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    pub db: Option<TestDb>,
    pub db_url: String,
    events: std::sync::atomic::AtomicU64,
}

/// The audit checkpoint deploy/ creates, made (empty) in `sim` unless it exists, and the anchor for it.
pub fn checkpoint_in(sim: &Sim) -> AuditAnchor {
    use crate::rbac::{CHECKPOINT_NAME, CHECKPOINT_NAMESPACE};
    if sim
        .config_map(CHECKPOINT_NAMESPACE, CHECKPOINT_NAME)
        .is_none()
    {
        sim.put_config_map(CHECKPOINT_NAMESPACE, CHECKPOINT_NAME, None);
    }
    let location = CheckpointLocation {
        cluster: "bot".into(),
        namespace: CHECKPOINT_NAMESPACE.into(),
        name: CHECKPOINT_NAME.into(),
    };
    AuditAnchor::new(location, Duration::from_secs(10))
}

impl TestApp {
    /// Starts a sim and a core on a fresh store. The core's token is limited to the Role rendered from deploy/
    /// (a call the Role does not grant fails with 403); the sim's admin token comes second.
    pub async fn spawn(options: AppOptions) -> TestApp {
        crate::init();
        let defaults = SimConfig::default();
        let tokens = std::iter::once(crate::rbac::bot_token())
            .chain(defaults.tokens.clone())
            .collect();
        let sim = Sim::start(SimConfig {
            scenario: options.scenario.clone(),
            speed: options.speed,
            tokens,
            ..defaults
        })
        .await
        .expect("sim starts");
        let sim = Arc::new(sim);
        Self::spawn_on(sim, options).await
    }

    /// Starts a core against an existing sim (a second process, or a restart).
    pub async fn spawn_on(sim: Arc<Sim>, options: AppOptions) -> TestApp {
        crate::init();
        let (db, db_url) = match (&options.reuse_db, options.store) {
            (Some(url), _) => (None, url.clone()),
            (None, StoreKind::Sqlite) => {
                let db = TestDb::sqlite();
                let url = db.url.clone();
                (Some(db), url)
            }
            (None, StoreKind::Postgres) => {
                let db = TestDb::postgres().await;
                let url = db.url.clone();
                (Some(db), url)
            }
        };
        let store = store::connect(&db_url, test_audit_key())
            .await
            .expect("store connects");
        let clock = Arc::new(ManualClock::default());
        let core_store = match &options.faults {
            Some(faults) => crate::faulty_store::FaultyStore::wrap(store.clone(), faults.clone()),
            None => store.clone(),
        };
        let mut ctx = test_context(&sim, core_store)
            .await
            .policy(options.policy.clone())
            .clock(clock.clone())
            .settings(CoreSettings {
                rate_limit: options.rate_limit.clone(),
                ..test_settings()
            })
            .incidents(options.incidents.clone());
        if let Some(people) = &options.people {
            ctx = ctx.directory(
                Directory::from_config_with(people, &options.policy)
                    .expect("test people are valid"),
            );
        }
        if options.audit_checkpoint {
            ctx = ctx.audit_anchor(checkpoint_in(&sim));
        }
        let ctx = ctx.build();
        let core = Core::new(ctx);
        let sink = Arc::new(RecordingSink::default());
        core.register_sink("console", sink.clone());
        TestApp {
            sim,
            core,
            sink,
            store,
            clock,
            db,
            db_url,
            events: Default::default(),
        }
    }

    /// `who` says `text` in the main channel; returns what the bot posted while handling it (and its jobs).
    pub async fn say(&self, who: &str, text: &str) -> Vec<Recorded> {
        self.say_as(Identity::new("console", who), who, None, text)
            .await
    }

    /// Says `text` from any identity, in a thread or the main channel.
    pub async fn say_as(
        &self,
        identity: Identity,
        display: &str,
        thread: Option<&str>,
        text: &str,
    ) -> Vec<Recorded> {
        let cursor = self.sink.len();
        let n = self
            .events
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let invocation = Invocation {
            // Unique across processes too: a restarted bot on the same store sees new deliveries, never ones its
            // store has claimed.
            event_id: format!("test-{}-{n}", uuid::Uuid::new_v4().simple()),
            actor: Actor {
                identity,
                display_name: display.to_string(),
            },
            conversation: Conversation {
                channel: "console:main".to_string(),
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

    /// Sends a prepared invocation (duplicate event ids, other conversations).
    pub async fn send(&self, invocation: Invocation) -> Vec<Recorded> {
        let cursor = self.sink.len();
        self.core.handle(invocation, self.sink.clone()).await;
        self.core.settle().await;
        self.sink.since(cursor)
    }
}

/// The id of an approval request newly posted in a set of replies (`A1`); updates of older requests do not count.
pub fn approval_id(replies: &[Recorded]) -> Option<String> {
    replies.iter().find_map(|r| match &r.reply.approval {
        Some(tag)
            if !r.update
                && r.reply.kind == mystocks_commands::reply::ReplyKind::ApprovalRequest =>
        {
            Some(tag.id.clone())
        }
        _ => None,
    })
}

/// All text of a set of replies, joined.
pub fn texts(replies: &[Recorded]) -> String {
    replies
        .iter()
        .map(|r| r.text())
        .collect::<Vec<_>>()
        .join("\n---\n")
}

/// The last state a set of replies showed for approval `id` (`done`, `failed`, …).
pub fn approval_state(replies: &[Recorded], id: &str) -> Option<String> {
    replies.iter().rev().find_map(|r| {
        r.reply
            .approval
            .as_ref()
            .filter(|a| a.id == id)
            .map(|a| a.state.clone())
    })
}
