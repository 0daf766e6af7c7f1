//! A new user's first hour, step by step, with nothing built by hand: accounts registered on a current Synapse,
//! rooms created with the homeserver's defaults (room version 12: ids with no `:server`), a settings file written
//! as the operator guide says, `check-config`, the real `run` as a process of its own, the bot invited, then a
//! command, a change approved by ✅ and a war room opened in the incidents room.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use matrix_sdk::ruma::{RoomId, UserId};
use mystocks_bot::settings::Settings;
use mystocks_sim::{Sim, SimConfig};
use mystocks_tests::synapse::{Synapse, SynapseOptions};

use crate::support::{approval_id_in, bot_id, bot_says};
use crate::user::TestUser;

const BOT_CONFIG_ENV: &str = "MYSTOCKS_TEST_MATRIX_BOT_CONFIG";

/// Not a test of its own: the body of the bot process `a_new_user_sets_the_bot_up_on_a_current_homeserver` starts —
/// this test binary run again with only this entry selected. It runs exactly what `mystocks-bot run --config FILE`
/// runs for a Matrix configuration. Without the variable it does nothing.
#[test]
#[ignore = "the body of the bot process of a_new_user_sets_the_bot_up_on_a_current_homeserver"]
fn bot_process() {
    let Ok(config) = std::env::var(BOT_CONFIG_ENV) else {
        return;
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    mystocks_bot::telemetry::init(mystocks_bot::telemetry::LogFormat::Text, "info");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let result = runtime.block_on(mystocks_bot::matrix::run(Path::new(&config)));
    runtime.shutdown_timeout(Duration::from_millis(200));
    if let Err(err) = result {
        eprintln!("the bot failed: {err:#}");
        std::process::exit(1);
    }
}

/// The bot process; killed when dropped.
struct BotProcess {
    child: std::process::Child,
    log: std::path::PathBuf,
}

impl BotProcess {
    fn start(config: &Path, log: std::path::PathBuf) -> BotProcess {
        let out = std::fs::File::create(&log).expect("log file");
        let child = std::process::Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "new_user::bot_process",
                "--exact",
                "--ignored",
                "--nocapture",
            ])
            .env(BOT_CONFIG_ENV, config)
            .stdout(out.try_clone().expect("log file"))
            .stderr(out)
            .spawn()
            .expect("the bot process starts");
        BotProcess { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The settings file, as docs/matrix.md tells a new user to write it.
fn settings_file(dir: &Path, synapse: &Synapse, ops: &RoomId, incidents: &RoomId) -> String {
    let person = |id: &str, role: &str| {
        format!(
            "[[people.persons]]\nid = \"{id}\"\nidentities = [\"matrix:{}\"]\nroles = [\"{role}\"]\n\n",
            Synapse::user_id(id)
        )
    };
    format!(
        "[kubernetes]\nkubeconfig = \"{kube}\"\n\n\
         [store]\nurl = \"sqlite://{db}?mode=rwc\"\n\n\
         [audit]\nhmac_key = \"new-user-audit-key-0123456789abcdef-0123456789\"\n\n\
         [server]\nlisten = \"127.0.0.1:0\"\n\n\
         [incidents]\nchannel = \"matrix:{incidents}\"\n\n\
         [matrix]\nhomeserver_url = \"{hs}\"\nuser_id = \"{bot}\"\npassword = \"bot-pass\"\n\
         rooms = [\"{ops}\", \"{incidents}\"]\nstore_dir = \"{data}\"\n\n{alice}{bob}",
        kube = dir.join("kubeconfig").display(),
        db = dir.join("bot.db").display(),
        hs = synapse.url,
        bot = bot_id(),
        data = dir.join("matrix").display(),
        alice = person("alice", "operator"),
        bob = person("bob", "approver"),
    )
}

async fn wait_until_member(user: &TestUser, room: &RoomId, member: &str, bot: &BotProcess) {
    let member = UserId::parse(member).expect("user id");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(room) = user.client.get_room(room)
            && let Ok(Some(m)) = room.get_member_no_sync(&member).await
            && *m.membership() == matrix_sdk::ruma::events::room::member::MembershipState::Join
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the bot never joined {room}; its log:\n{}",
            bot.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_user_sets_the_bot_up_on_a_current_homeserver() {
    mystocks_tests::init();
    let synapse = Synapse::start(SynapseOptions::default())
        .await
        .expect("Synapse starts (scripts/test installs it; see docs/matrix.md)");
    synapse
        .register("mystocks", "bot-pass", false)
        .await
        .expect("the bot's account");
    let alice = synapse
        .register("alice", "alice-pass", false)
        .await
        .expect("alice");
    let bob = synapse
        .register("bob", "bob-pass", false)
        .await
        .expect("bob");
    let alice = TestUser::login(&synapse, &alice).await;
    let bob = TestUser::login(&synapse, &bob).await;

    // Rooms as Element makes them: the homeserver's defaults, so today room version 12.
    let bob_id = bob.user_id.to_string();
    let ops = alice.create_room(false, &[&bob_id]).await;
    let incidents = alice.create_room(false, &[&bob_id]).await;
    bob.join(&ops).await;
    bob.join(&incidents).await;
    assert!(
        !ops.as_str().contains(':'),
        "the homeserver's default room version gives ids with no server part: {ops}"
    );

    let sim = Sim::start(SimConfig {
        speed: 50.0,
        tokens: vec![mystocks_tests::rbac::bot_token()],
        ..SimConfig::default()
    })
    .await
    .expect("sim starts");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("kubeconfig"), sim.kubeconfig_yaml()).expect("kubeconfig");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        settings_file(dir.path(), &synapse, &ops, &incidents),
    )
    .expect("config");

    // `check-config` takes it; an alias where a room id belongs is refused, naming it.
    assert_eq!(
        format!("{:?}", mystocks_bot::check_config::check(&config)),
        format!("{:?}", ExitCode::SUCCESS),
        "check-config accepts room version 12 ids"
    );
    let alias = dir.path().join("alias.toml");
    std::fs::write(
        &alias,
        std::fs::read_to_string(&config)
            .expect("config")
            .replace(&format!("\"{ops}\", "), "\"#ops:localhost\", "),
    )
    .expect("config");
    let refused = Settings::load(&alias).expect_err("an alias is not a room id");
    assert!(
        refused.to_string().contains("#ops:localhost") && refused.to_string().contains("alias"),
        "{refused}"
    );

    // `run`, then the bot is invited to both rooms.
    let bot = BotProcess::start(&config, dir.path().join("bot.log"));
    for room in [&ops, &incidents] {
        alice
            .client
            .get_room(room)
            .expect("alice's room")
            .invite_user_by_id(&UserId::parse(bot_id()).expect("bot id"))
            .await
            .expect("the bot is invited");
    }
    wait_until_member(&alice, &ops, &bot_id(), &bot).await;
    wait_until_member(&alice, &incidents, &bot_id(), &bot).await;

    alice.say(&ops, "!mystocks status").await;
    alice
        .wait_for("the bot's answer to `status`", |s| {
            s.room == ops.as_str() && bot_says(s, &["mystocks-api"])
        })
        .await;

    // A change, approved by bob's ✅; the request message keeps who asked, who approved and when.
    alice.say(&ops, "!mystocks scale 4").await;
    let request = alice
        .wait_for("the approval request", |s| {
            s.room == ops.as_str()
                && bot_says(s, &["Approval A", "scale 4"])
                && s.replaces.is_none()
        })
        .await;
    let id = approval_id_in(&request.body).expect("an approval id");
    bob.react(&ops, &request.event_id, "✅").await;
    let done = alice
        .wait_for("the request edited to its outcome", |s| {
            s.replaces.as_deref() == Some(request.event_id.as_str()) && s.body.contains("Done")
        })
        .await;
    assert!(
        done.body.contains("Requested by alice") && done.body.contains("Approved by bob at"),
        "the decided request keeps its history: {}",
        done.body
    );
    assert_eq!(sim.deployment().spec.replicas, Some(4), "{id} ran");

    // A war room opens as a thread of the incidents room, named by its room version 12 id in the settings.
    alice
        .say(&ops, "!mystocks incident declare P2 checkout slow")
        .await;
    alice
        .wait_for("the war room in the incidents room", |s| {
            s.room == incidents.as_str() && bot_says(s, &["Incident 1", "checkout slow"])
        })
        .await;
}
