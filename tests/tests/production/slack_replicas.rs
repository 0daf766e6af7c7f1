//! Three Slack-serving bots — each built exactly as `run` builds it — on one PostgreSQL, one Redis, one fake
//! Slack and one cluster (the bot's token bound to the rendered Role). Every Events API callback and every button
//! press is delivered to each of the three; each request is posted once and each approval executes once.

use std::sync::Arc;
use std::time::Duration;

use mystocks_adapters::slack::SlackSigner;
use mystocks_bot::settings::Settings;
use mystocks_commands::store::{self, ApprovalState};
use mystocks_sim::{Sim, SimConfig};
use mystocks_tests::fake_slack::{BOT_TOKEN, FakeSlack, buttons};
use mystocks_tests::{TestDb, rbac};
use serde_json::{Value, json};

use crate::replicas::redis_url;

const SECRET: &str = "test-signing-secret-0123456789";
const CHANNEL: &str = "C1";

fn config(dir: &std::path::Path, slack: &FakeSlack, db: &str, n: usize) -> String {
    let person = |id: &str, role: &str, user: &str| {
        format!(
            "[[people.persons]]\nid = \"{id}\"\nidentities = [\"slack:T1/{user}\"]\nroles = [\"{role}\"]\n"
        )
    };
    format!(
        "[kubernetes]\nkubeconfig = \"{kube}\"\n[store]\nurl = \"{db}\"\n[coordinator]\nredis_url = \"{redis}\"\n\
         [audit]\nhmac_key = \"test-audit-key-0123456789abcdef-0123456789abcdef\"\n\
         [rate_limit]\nread_per_minute = 100000\ndestructive_per_minute = 100000\n\
         [server]\nlisten = \"127.0.0.1:0\"\nops_listen = \"127.0.0.1:0\"\n\
         [slack]\nbot_token = \"{BOT_TOKEN}\"\nsigning_secret = \"{SECRET}\"\napi_url = \"{api}\"\n\
         team_id = \"T1\"\napi_app_id = \"A1\"\nbot_user_id = \"UBOT\"\npost_interval_ms = 0\n{a}{b}",
        kube = dir.join("kubeconfig").display(),
        redis = redis_url(),
        api = slack.api_url(),
        a = person("alice", "operator", "UALICE"),
        b = person("bob", "approver", "UBOB"),
    )
    .replace("[store]", &format!("# replica {n}\n[store]"))
}

/// Starts one replica; returns its Slack port. It stops when the test's runtime ends.
async fn start(dir: &std::path::Path, slack: &FakeSlack, db: &str, n: usize) -> u16 {
    let path = dir.join(format!("replica-{n}.toml"));
    std::fs::write(&path, config(dir, slack, db, n)).expect("config written");
    let settings = Settings::load(&path).unwrap_or_else(|e| panic!("config loads: {e}"));
    let (app, _) = mystocks_bot::slack::build(&settings)
        .await
        .unwrap_or_else(|e| panic!("builds: {e:#}"));
    let port = app.port();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    port
}

/// Posts `body` to `path` on every replica at once, signed as Slack signs it.
async fn to_all(ports: &[u16], path: &str, content_type: &str, body: &str) {
    let signer = SlackSigner::new(SECRET.to_string().into());
    let ts = chrono::Utc::now().timestamp();
    let signature = signer.sign(ts, body.as_bytes());
    let sends = ports.iter().map(|port| {
        let request = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}{path}"))
            .header("content-type", content_type)
            .header("x-slack-request-timestamp", ts.to_string())
            .header("x-slack-signature", signature.clone())
            .body(body.to_string());
        tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) })
    });
    for send in sends.collect::<Vec<_>>() {
        let status = send.await.expect("task").expect("a replica answers");
        assert_eq!(status, 200, "{path}");
    }
}

fn press(user: &str, value: &str, message_ts: &str, thread_ts: &str) -> String {
    let payload = json!({
        "type": "block_actions", "team": {"id": "T1"}, "api_app_id": "A1",
        "user": {"id": user, "username": user.to_lowercase(), "team_id": "T1"},
        "container": {"type": "message", "message_ts": message_ts, "channel_id": CHANNEL, "is_ephemeral": false},
        "channel": {"id": CHANNEL, "name": "ops"},
        "message": {"ts": message_ts, "thread_ts": thread_ts, "type": "message", "text": "approval"},
        "trigger_id": format!("trig-{}", uuid::Uuid::new_v4().simple()),
        "response_url": "https://hooks.slack.invalid/actions/1",
        "actions": [{"type": "button", "action_id": "mystocks-0", "block_id": "mystocks-actions", "value": value,
                     "text": {"type": "plain_text", "text": "Approve"}, "action_ts": "1700000000.1"}]
    });
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
}

async fn eventually(what: &str, check: impl Fn() -> bool) {
    for _ in 0..400 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

fn real_scale_patches(sim: &Sim) -> usize {
    sim.changing_requests()
        .iter()
        .filter(|r| r.path.contains("/scale") && !r.path.contains("dryRun=All"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_slack_replicas_run_each_event_once_and_each_approval_once() {
    const TRIALS: usize = 5;
    mystocks_tests::init();
    let token = rbac::bot_token();
    let sim = Arc::new(
        Sim::start(SimConfig {
            tokens: vec![token.clone()],
            speed: 50.0,
            ..SimConfig::default()
        })
        .await
        .expect("sim"),
    );
    let slack = FakeSlack::start(&[CHANNEL]).await;
    let db = TestDb::postgres().await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("kubeconfig"),
        sim.kubeconfig_for(rbac::BOT_USER, &token.token),
    )
    .expect("kubeconfig");
    let mut ports = Vec::new();
    for n in 0..3 {
        ports.push(start(dir.path(), &slack, &db.url, n).await);
    }
    let store = store::connect(&db.url, mystocks_tests::app::test_audit_key())
        .await
        .expect("store");

    for trial in 0..TRIALS {
        let wanted = if trial % 2 == 0 { 4 } else { 3 };
        let requests_before = slack
            .posted()
            .iter()
            .filter(|(_, b)| !buttons(b).is_empty())
            .count();
        let mention = json!({"token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
            "event_id": format!("Ev{}", uuid::Uuid::new_v4().simple()), "event_time": 1_700_000_000,
            "event": {"type": "app_mention", "user": "UALICE", "text": format!("<@UBOT> scale {wanted}"),
                      "ts": format!("1700001{trial:03}.000100"), "channel": CHANNEL}});
        to_all(
            &ports,
            "/slack/events",
            "application/json",
            &mention.to_string(),
        )
        .await;
        eventually("the approval request", || {
            slack
                .posted()
                .iter()
                .filter(|(_, b)| !buttons(b).is_empty())
                .count()
                > requests_before
        })
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await; // room for a (wrong) second request to show up
        let with_buttons: Vec<(String, Value)> = slack
            .posted()
            .into_iter()
            .filter(|(_, b)| !buttons(b).is_empty())
            .collect();
        assert_eq!(
            with_buttons.len(),
            requests_before + 1,
            "trial {trial}: one event, one request"
        );
        let (ts, request) = with_buttons.last().cloned().expect("the request");
        let thread = request["thread_ts"].as_str().unwrap_or(&ts).to_string();
        let approve = buttons(&request)
            .into_iter()
            .find(|v| v.starts_with("approve "))
            .expect("an approve button");
        let id = approve.replace("approve ", "");

        let patches = real_scale_patches(&sim);
        let first_click = press("UBOB", &approve, &ts, &thread);
        let second_click = press("UBOB", &approve, &ts, &thread);
        let (a, b) = tokio::join!(
            to_all(
                &ports,
                "/slack/interactions",
                "application/x-www-form-urlencoded",
                &first_click
            ),
            to_all(
                &ports,
                "/slack/interactions",
                "application/x-www-form-urlencoded",
                &second_click
            ),
        );
        let ((), ()) = (a, b);
        let mut state = ApprovalState::Pending;
        for _ in 0..400 {
            state = store
                .approval(&id)
                .await
                .expect("store")
                .expect("record")
                .state;
            if state == ApprovalState::Done {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let tail: Vec<String> = slack
            .calls()
            .iter()
            .rev()
            .take(4)
            .map(|c| format!("{} {}", c.method, c.body))
            .collect();
        assert_eq!(state, ApprovalState::Done, "trial {trial}: {tail:#?}");
        assert_eq!(
            real_scale_patches(&sim) - patches,
            1,
            "trial {trial}: exactly one execution"
        );
        let ready =
            |s: &Sim| s.deployment().status.and_then(|st| st.ready_replicas) == Some(wanted);
        assert!(
            sim.wait_until(ready, Duration::from_secs(20)).await,
            "trial {trial}: rolled out"
        );
    }
    assert_eq!(real_scale_patches(&sim), TRIALS);
    let forbidden: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.status == 403)
        .collect();
    assert!(
        forbidden.is_empty(),
        "the Role covers what the Slack replicas did: {forbidden:?}"
    );
}
