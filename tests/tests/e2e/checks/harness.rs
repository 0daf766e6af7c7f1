//! A core wired like the demo: checks pointed at the sim's app URL and Redis stand-in, and (optionally) at a
//! scratch PostgreSQL database standing in for the MyStocks database.

use std::sync::Arc;
use std::time::Duration;

use mystocks_commands::checks::{ChecksConfig, Thresholds};
use mystocks_commands::cluster::client::pod_proxy_client_from_kubeconfig_yaml;
use mystocks_commands::engine::{Core, CoreSettings};
use mystocks_commands::reply::{Block, Level};
use mystocks_commands::store;
use mystocks_commands::{Actor, Addressing, Conversation, Handler, Identity, Invocation};
use mystocks_sim::world::{Scenario, ScenarioState};
use mystocks_sim::{Sim, SimConfig};
use mystocks_tests::kit::{sim_checks, test_audit_key, test_context, test_settings};
use mystocks_tests::{Recorded, RecordingSink, TestDb};

/// The core with checks, its sim, and what it said.
pub struct ChecksApp {
    pub sim: Arc<Sim>,
    pub core: Core,
    pub sink: Arc<RecordingSink>,
    pub _store_db: TestDb,
    events: std::sync::atomic::AtomicU64,
}

/// The checks settings the demo uses, plus an optional database URL — except that an answer is slow only
/// above 500 ms (not 250): the sim, the bot and other test processes share a loaded machine and a debug build,
/// which alone can add a couple of hundred ms. The sim's slow `/health` (high-latency) takes 600–1200 ms.
pub fn demo_checks(sim: &Sim, database_url: Option<String>) -> ChecksConfig {
    ChecksConfig {
        database_url,
        thresholds: Thresholds {
            latency_warn_ms: 500,
            ..Thresholds::default()
        },
        ..sim_checks(sim)
    }
}

impl ChecksApp {
    pub async fn spawn(scenario: Scenario, database_url: Option<String>) -> ChecksApp {
        let state = ScenarioState {
            scenario,
            ..ScenarioState::default()
        };
        let sim = SimConfig {
            scenario: state,
            speed: 50.0,
            ..SimConfig::default()
        };
        ChecksApp::spawn_sim(sim, database_url).await
    }

    /// The core on a sim started with `config`.
    pub async fn spawn_sim(mut config: SimConfig, database_url: Option<String>) -> ChecksApp {
        mystocks_tests::init();
        // The bot's token is bound to the Role rendered from deploy/ (the sim's kubeconfig uses the first token).
        config.tokens.insert(0, mystocks_tests::rbac::bot_token());
        let sim = Sim::start(config).await.expect("sim");
        let sim = Arc::new(sim);
        let pod_proxy = pod_proxy_client_from_kubeconfig_yaml(&sim.kubeconfig_yaml())
            .await
            .expect("pod proxy client");
        let store_db = TestDb::sqlite();
        let store = store::connect(&store_db.url, test_audit_key())
            .await
            .expect("store");
        let ctx = test_context(&sim, store)
            .await
            .settings(CoreSettings {
                follow_timeout: Duration::from_secs(30),
                ..test_settings()
            })
            .pod_proxy(pod_proxy)
            .checks(demo_checks(&sim, database_url))
            .build();
        let core = Core::new(ctx);
        let sink = Arc::new(RecordingSink::default());
        core.register_sink("console", sink.clone());
        ChecksApp {
            sim,
            core,
            sink,
            _store_db: store_db,
            events: Default::default(),
        }
    }

    /// `who` says `text` in the main channel; what the bot posted (jobs included).
    pub async fn say(&self, who: &str, text: &str) -> Vec<Recorded> {
        let cursor = self.sink.len();
        let n = self
            .events
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let invocation = Invocation {
            event_id: format!("checks-{}-{n}", std::process::id()),
            actor: Actor {
                identity: Identity::new("console", who),
                display_name: who.to_string(),
            },
            conversation: Conversation {
                channel: "console:main".into(),
                thread: None,
            },
            addressing: Addressing::Direct,
            text: text.to_string(),
            received_at: chrono::Utc::now(),
        };
        self.core.handle(invocation, self.sink.clone()).await;
        self.core.settle().await;
        self.sink.since(cursor)
    }

    pub fn set_scenario(&self, scenario: Scenario) {
        self.sim.set_scenario(ScenarioState {
            scenario,
            ..ScenarioState::default()
        });
    }
}

/// The status lines of the first reply, as (label, level, detail).
pub fn status_lines(replies: &[Recorded]) -> Vec<(String, Level, String)> {
    replies
        .iter()
        .flat_map(|r| r.reply.blocks.iter())
        .filter_map(|b| match b {
            Block::Status { lines } => Some(
                lines
                    .iter()
                    .map(|l| (l.label.clone(), l.level, l.detail.clone())),
            ),
            _ => None,
        })
        .flatten()
        .collect()
}

/// The line called `label`; panics with everything said when there is none.
pub fn line(replies: &[Recorded], label: &str) -> (Level, String) {
    status_lines(replies)
        .into_iter()
        .find(|(l, _, _)| l == label)
        .map(|(_, level, detail)| (level, detail))
        .unwrap_or_else(|| panic!("no `{label}` line in: {}", mystocks_tests::texts(replies)))
}
