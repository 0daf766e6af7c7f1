//! The Matrix test world: a real Synapse, the bot account and three people (alice operator, bob approver, carol
//! viewer) as real clients, the command core on the simulated cluster, and the Matrix adapter between them —
//! started, stopped and restarted exactly as the binary would (same data dir, same store).

use std::sync::Arc;
use std::time::Duration;

use matrix_sdk::ruma::{OwnedRoomId, RoomId};
use mystocks_adapters::matrix::{MatrixBot, MatrixConfig, MatrixError};
use mystocks_bot::settings::Settings;
use mystocks_commands::Handler;
use mystocks_commands::clock::ManualClock;
use mystocks_commands::directory::Directory;
use mystocks_commands::engine::Core;
use mystocks_commands::store::{self, Store};
use mystocks_sim::{Sim, SimConfig};
use mystocks_tests::TestDb;
use mystocks_tests::kit::{test_audit_key, test_context};
use mystocks_tests::synapse::{Account, Synapse, SynapseOptions};

use crate::user::{Seen, TestUser};

/// How to set a world up.
#[derive(Clone, Copy, Debug, Default)]
pub struct WorldOptions {
    /// The room is end-to-end encrypted.
    pub encrypted: bool,
    /// Synapse keeps its default rate limits (only the bot is held to them; people are exempted).
    pub default_rate_limits: bool,
    /// A second room, configured as the incidents room: war rooms open there as threads.
    pub incidents_room: bool,
}

/// A running bot: the adapter, the core it feeds, and how to stop it.
pub struct RunningBot {
    pub bot: Arc<MatrixBot>,
    pub core: Core,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), MatrixError>>,
}

/// Everything a Matrix test needs.
pub struct World {
    pub sim: Arc<Sim>,
    pub clock: Arc<ManualClock>,
    pub store: Arc<dyn Store>,
    pub admin: Account,
    pub bot_account: Account,
    pub alice: TestUser,
    pub bob: TestUser,
    pub carol: TestUser,
    /// The room the bot answers in (alice, bob and carol are members).
    pub room: OwnedRoomId,
    /// The incidents room (`[incidents] channel`), when the options asked for one; the same members.
    pub incidents_room: Option<OwnedRoomId>,
    pub bot: Option<RunningBot>,
    bot_dir: tempfile::TempDir,
    _db: TestDb,
    // Dropped last: stops the homeserver after every client is gone.
    pub synapse: Synapse,
}

/// The bot's user id.
pub fn bot_id() -> String {
    Synapse::user_id("mystocks")
}

impl World {
    /// Starts Synapse, registers everyone, creates the room (alice's, inviting the bot, bob and carol), and starts
    /// the bot.
    pub async fn start(options: WorldOptions) -> World {
        mystocks_tests::init();
        let synapse = Synapse::start(SynapseOptions {
            default_rate_limits: options.default_rate_limits,
        })
        .await
        .expect("Synapse starts (scripts/test installs it; see docs/matrix.md)");
        let admin = synapse
            .register("admin", "admin-pass", true)
            .await
            .expect("admin registered");
        let bot_account = synapse
            .register("mystocks", "bot-pass", false)
            .await
            .expect("bot registered");
        let mut people = Vec::new();
        for name in ["alice", "bob", "carol"] {
            let account = synapse
                .register(name, &format!("{name}-pass"), false)
                .await
                .expect("person registered");
            if options.default_rate_limits {
                synapse
                    .unlimit(&admin, &account.user_id)
                    .await
                    .expect("people are exempt from rate limits");
            }
            people.push(TestUser::login(&synapse, &account).await);
        }
        let carol = people.pop().expect("carol");
        let bob = people.pop().expect("bob");
        let alice = people.pop().expect("alice");
        let invite = [bot_id(), bob.user_id.to_string(), carol.user_id.to_string()];
        let invite: Vec<&str> = invite.iter().map(String::as_str).collect();
        let room = alice.create_room(options.encrypted, &invite).await;
        bob.join(&room).await;
        carol.join(&room).await;
        let incidents_room = if options.incidents_room {
            let incidents = alice.create_room(options.encrypted, &invite).await;
            bob.join(&incidents).await;
            carol.join(&incidents).await;
            Some(incidents)
        } else {
            None
        };
        // The bot's token is bound to the Role rendered from deploy/, as in every end-to-end test.
        let sim = Arc::new(
            Sim::start(SimConfig {
                speed: 50.0,
                tokens: vec![mystocks_tests::rbac::bot_token()],
                ..SimConfig::default()
            })
            .await
            .expect("sim starts"),
        );
        let db = TestDb::sqlite();
        let store = store::connect(&db.url, test_audit_key())
            .await
            .expect("store connects");
        let mut world = World {
            sim,
            clock: Arc::new(ManualClock::default()),
            store,
            admin,
            bot_account,
            alice,
            bob,
            carol,
            room,
            incidents_room,
            bot: None,
            bot_dir: tempfile::tempdir().expect("temp dir"),
            _db: db,
            synapse,
        };
        world.start_bot(&[]).await;
        world
    }

    /// The settings file a new user writes for this world: the homeserver, the bot account, the world's rooms (ids
    /// as the homeserver made them, with its default room version) plus `extra_rooms`, the people, and the
    /// incidents room as `[incidents] channel`.
    pub fn settings_toml(&self, extra_rooms: &[&RoomId]) -> String {
        let rooms: Vec<String> = std::iter::once(self.room.to_string())
            .chain(self.incidents_room.iter().map(|r| r.to_string()))
            .chain(extra_rooms.iter().map(|r| r.to_string()))
            .map(|r| format!("\"{r}\""))
            .collect();
        let incidents = self
            .incidents_room
            .as_ref()
            .map(|r| format!("[incidents]\nchannel = \"matrix:{r}\"\n\n"))
            .unwrap_or_default();
        let people: String = [("alice", "operator"), ("bob", "approver"), ("carol", "viewer")]
            .iter()
            .map(|(id, role)| {
                format!(
                    "[[people.persons]]\nid = \"{id}\"\nidentities = [\"matrix:{}\"]\nroles = [\"{role}\"]\n\n",
                    Synapse::user_id(id)
                )
            })
            .collect();
        format!(
            "[kubernetes]\nkubeconfig = \"{kube}\"\n\n[store]\nurl = \"sqlite://{dir}/unused.db?mode=rwc\"\n\n\
             [audit]\nhmac_key = \"test-audit-key-0123456789abcdef-0123456789abcdef\"\n\n{incidents}\
             [matrix]\nhomeserver_url = \"{hs}\"\nuser_id = \"{user}\"\npassword = \"{password}\"\n\
             rooms = [{rooms}]\nstore_dir = \"{data}\"\n\n{people}",
            kube = self.bot_dir.path().join("kubeconfig").display(),
            dir = self.bot_dir.path().display(),
            hs = self.synapse.url,
            user = bot_id(),
            password = self.bot_account.password,
            rooms = rooms.join(", "),
            data = self.bot_dir.path().join("data").display(),
        )
    }

    /// The bot's settings, written to a file and loaded and validated by the loader `run` uses.
    pub fn settings(&self, extra_rooms: &[&RoomId]) -> Settings {
        let kubeconfig = self.bot_dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, self.sim.kubeconfig_yaml()).expect("kubeconfig written");
        let path = self.bot_dir.path().join("config.toml");
        std::fs::write(&path, self.settings_toml(extra_rooms)).expect("settings written");
        Settings::load(&path).unwrap_or_else(|e| panic!("the settings load: {e}"))
    }

    /// The adapter's settings, made from the loaded settings as `run` makes them; only the sync wait and the edit
    /// interval are shortened, to keep the suite fast.
    pub fn bot_config(&self, extra_rooms: &[&RoomId]) -> MatrixConfig {
        let settings = self.settings(extra_rooms);
        let mut config = mystocks_bot::matrix::adapter_config(
            settings.matrix.as_ref().expect("a [matrix] section"),
        )
        .expect("the adapter's settings");
        config.sync_timeout = Duration::from_secs(5);
        config.edit_interval = Duration::from_millis(500);
        config
    }

    /// Builds a core (as a fresh process would) and starts the bot; waits until it is in the room.
    pub async fn start_bot(&mut self, extra_rooms: &[&RoomId]) {
        assert!(self.bot.is_none(), "the bot is already running");
        let settings = self.settings(extra_rooms);
        let bot = MatrixBot::connect(
            self.bot_config(extra_rooms),
            self.store.clone(),
            self.clock.clone(),
        )
        .await
        .expect("the bot logs in");
        let bot = Arc::new(bot);
        let core = self.core(&settings).await;
        core.register_sink("matrix", bot.sink());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = {
            let bot = bot.clone();
            let handler: Arc<dyn Handler> = Arc::new(core.clone());
            tokio::spawn(async move {
                bot.run(handler, async move {
                    let _ = stopped.await;
                })
                .await
            })
        };
        self.bot = Some(RunningBot {
            bot,
            core,
            stop,
            task,
        });
        self.wait_until_joined(&self.room.clone()).await;
        if let Some(incidents) = self.incidents_room.clone() {
            self.wait_until_joined(&incidents).await;
        }
    }

    async fn core(&self, loaded: &Settings) -> Core {
        let ctx = test_context(&self.sim, self.store.clone())
            .await
            .directory(
                Directory::from_config_with(&loaded.people, &loaded.policy).expect("the people"),
            )
            .policy(loaded.policy.clone())
            .clock(self.clock.clone())
            .incidents(loaded.incident_settings())
            .build();
        Core::new(ctx)
    }

    /// Waits until the running bot has joined `room`.
    pub async fn wait_until_joined(&self, room: &RoomId) {
        let bot = &self.running().bot;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if bot
                .client()
                .get_room(room)
                .is_some_and(|r| r.state() == matrix_sdk::RoomState::Joined)
            {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the bot never joined {room}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The running bot.
    pub fn running(&self) -> &RunningBot {
        self.bot.as_ref().expect("the bot is running")
    }

    /// Stops the bot as a process stop would (sync loop ended, queued edits sent, client dropped).
    pub async fn stop_bot(&mut self) {
        let running = self.bot.take().expect("the bot is running");
        let _ = running.stop.send(());
        let result = tokio::time::timeout(Duration::from_secs(30), running.task).await;
        let result = result
            .expect("the bot stops within 30 s")
            .expect("the bot task did not panic");
        result.expect("the bot stopped cleanly");
        running.core.settle().await;
        running.core.abort_jobs();
    }

    /// The bot's messages (posts and edits) alice has seen in the world's room.
    pub fn bot_messages(&self) -> Vec<Seen> {
        self.alice
            .seen()
            .into_iter()
            .filter(|s| s.sender == bot_id() && s.room == self.room.as_str())
            .collect()
    }

    /// Replicas of the app deployment (desired).
    pub fn replicas(&self) -> i32 {
        self.sim.deployment().spec.replicas.unwrap_or_default()
    }
}

/// Whether `seen` is from the bot and its body contains every one of `parts`.
pub fn bot_says(seen: &Seen, parts: &[&str]) -> bool {
    seen.sender == bot_id() && parts.iter().all(|p| seen.body.contains(p))
}

/// The approval id in a request message body (`Approval A1 — …`).
pub fn approval_id_in(body: &str) -> Option<String> {
    let rest = &body[body.find("Approval A")? + "Approval ".len()..];
    let id: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    (!id.is_empty()).then_some(id)
}
