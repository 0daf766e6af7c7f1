//! The Slack harness: the real bot (`Application::build` + `slack::build`, exactly as `run` does) on port 0,
//! over the simulated cluster and a fake Slack Web API, with requests signed by the test.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mystocks_adapters::slack::SlackSigner;
use mystocks_bot::settings::Settings;
use mystocks_sim::{Sim, SimConfig};
pub use mystocks_tests::fake_slack::buttons;
use mystocks_tests::fake_slack::{APP_TOKEN, BOT_TOKEN, FakeSlack};
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub const SECRET: &str = "test-signing-secret-0123456789";
pub const TEAM: &str = "T1";
pub const CHANNEL: &str = "C1";

/// How the bot under test is configured.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Use Redis at 127.0.0.1:6379 as the coordinator (in-process otherwise).
    pub redis: bool,
    /// Socket Mode instead of HTTP.
    pub socket_mode: bool,
    /// `post_interval_ms` (0: no pacing).
    pub post_interval_ms: u64,
    /// Sim clock speed (0: the default 50, rollouts in about a second).
    pub speed: f64,
    /// `slack.ack_wait_ms` (none: the default, 2 s).
    pub ack_wait_ms: Option<u64>,
    /// `[slack.usergroup_roles]`: (group id, role).
    pub usergroup_roles: Vec<(&'static str, &'static str)>,
    /// `slack.usergroup_ttl` (none: the default).
    pub usergroup_ttl: Option<&'static str>,
    /// `people.unknown_role`: the role of anyone not in the directory (none: no role).
    pub unknown_role: Option<&'static str>,
    /// `[limits] max_in_flight` (none: the default).
    pub max_in_flight: Option<usize>,
    /// `[policy] quorum` (none: the default, 1).
    pub quorum: Option<u32>,
    /// `slack.enterprise_id` (Enterprise Grid; people are then known as `slack:E…/U…`).
    pub enterprise_id: Option<&'static str>,
    /// `slack.workspaces`: the organisation's other workspaces.
    pub workspaces: Vec<&'static str>,
}

/// The channel war rooms open in (`[incidents] channel`).
pub const INCIDENTS: &str = "C2";

/// A running bot with its world.
pub struct Bot {
    pub sim: Arc<Sim>,
    pub slack: FakeSlack,
    pub port: u16,
    pub http: reqwest::Client,
    signer: SlackSigner,
    _stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

/// The `[slack]` keys the options add, and the user-group table (which must come last in `[slack]`).
fn slack_extras(options: &Options) -> String {
    let mut out = String::new();
    if let Some(org) = options.enterprise_id {
        out.push_str(&format!("enterprise_id = \"{org}\"\n"));
    }
    if !options.workspaces.is_empty() {
        let list: Vec<String> = options
            .workspaces
            .iter()
            .map(|w| format!("\"{w}\""))
            .collect();
        out.push_str(&format!("workspaces = [{}]\n", list.join(", ")));
    }
    if let Some(ms) = options.ack_wait_ms {
        out.push_str(&format!("ack_wait_ms = {ms}\n"));
    }
    if let Some(ttl) = options.usergroup_ttl {
        out.push_str(&format!("usergroup_ttl = \"{ttl}\"\n"));
    }
    if !options.usergroup_roles.is_empty() {
        out.push_str("[slack.usergroup_roles]\n");
        for (group, role) in &options.usergroup_roles {
            out.push_str(&format!("{group} = \"{role}\"\n"));
        }
    }
    out
}

fn config(dir: &std::path::Path, sim: &Sim, slack: &FakeSlack, options: &Options) -> String {
    let redis = if options.redis {
        "[coordinator]\nredis_url = \"redis://127.0.0.1:6379\"\n"
    } else {
        ""
    };
    let app_token = if options.socket_mode {
        format!("app_token = \"{APP_TOKEN}\"\n")
    } else {
        String::new()
    };
    let home = options.enterprise_id.unwrap_or(TEAM);
    let person = |id: &str, role: &str, user: &str| {
        format!(
            "[[people.persons]]\nid = \"{id}\"\nidentities = [\"slack:{home}/{user}\"]\nroles = [\"{role}\"]\n"
        )
    };
    let people = options
        .unknown_role
        .map(|role| format!("[people]\nunknown_role = \"{role}\"\n"))
        .unwrap_or_default();
    format!(
        "[service]\napi_url = \"{app}\"\n\n[incidents]\nchannel = \"slack:{home}/{INCIDENTS}\"\n\n\
         [kubernetes]\nkubeconfig = \"{kube}\"\n\n[store]\nurl = \"sqlite://{db}?mode=rwc\"\n\n{redis}\
         [audit]\nhmac_key = \"test-audit-key-0123456789abcdef-0123456789abcdef\"\n\n\
         [rate_limit]\nread_per_minute = 100000\ndestructive_per_minute = 100000\n\n\
         [server]\nlisten = \"127.0.0.1:0\"\n\n{limits}{policy}\
         [slack]\nbot_token = \"{BOT_TOKEN}\"\nsigning_secret = \"{SECRET}\"\n{app_token}api_url = \"{api}\"\n\
         team_id = \"{TEAM}\"\napi_app_id = \"A1\"\nbot_user_id = \"UBOT\"\npost_interval_ms = {pace}\n{extras}\n{people}{a}\n{b}\n{c}\n{d}",
        app = sim.app_url(),
        limits = options.max_in_flight.map_or(String::new(), |n| format!(
            "[limits]\nmax_in_flight = {n}\n\n"
        )),
        policy = options
            .quorum
            .map_or(String::new(), |n| format!("[policy]\nquorum = {n}\n\n")),
        extras = slack_extras(options),
        kube = dir.join("kubeconfig").display(),
        db = dir.join("bot.db").display(),
        api = slack.api_url(),
        pace = options.post_interval_ms,
        a = person("alice", "operator", "UALICE"),
        b = person("bob", "approver", "UBOB"),
        c = person("carol", "viewer", "UCAROL"),
        d = person("dave", "admin", "UDAVE"),
    )
}

impl Bot {
    /// Starts the sim, the fake Slack and the bot.
    pub async fn start(options: Options) -> Bot {
        mystocks_tests::init();
        let sim = Arc::new(
            Sim::start(SimConfig {
                speed: if options.speed > 0.0 {
                    options.speed
                } else {
                    50.0
                },
                // The bot's token is bound to the Role rendered from deploy/ (the kubeconfig uses the first).
                tokens: std::iter::once(mystocks_tests::rbac::bot_token())
                    .chain(SimConfig::default().tokens)
                    .collect(),
                ..SimConfig::default()
            })
            .await
            .expect("sim starts"),
        );
        let slack = FakeSlack::start(&[CHANNEL, INCIDENTS]).await;
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("kubeconfig"), sim.kubeconfig_yaml())
            .expect("kubeconfig written");
        let path: PathBuf = dir.path().join("config.toml");
        std::fs::write(&path, config(dir.path(), &sim, &slack, &options)).expect("config written");
        let settings = Settings::load(&path).unwrap_or_else(|e| panic!("test config loads: {e}"));
        let (app, socket) = mystocks_bot::slack::build(&settings)
            .await
            .unwrap_or_else(|e| panic!("bot builds: {e:#}"));
        assert_eq!(socket.is_some(), options.socket_mode);
        let port = app.port();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = app
                .run_until_stopped(async {
                    let _ = stopped.await;
                })
                .await;
            if let Some(s) = socket {
                s.shutdown().await;
            }
        });
        Bot {
            sim,
            slack,
            port,
            http: reqwest::Client::new(),
            signer: SlackSigner::new(SECRET.to_string().into()),
            _stop: stop,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Signs `body` at `timestamp` as Slack would.
    pub fn sign(&self, timestamp: i64, body: &str) -> String {
        self.signer.sign(timestamp, body.as_bytes())
    }

    /// Posts `body` to `path` with the given signature headers (raw, for forged/stale tests).
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: &str,
        headers: &[(&str, String)],
    ) -> (u16, String) {
        let mut req = self
            .http
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body.to_string());
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let resp = req.send().await.expect("bot answers");
        let status = resp.status().as_u16();
        (status, resp.text().await.unwrap_or_default())
    }

    /// Sends `body` to `path`, signed now, and hangs up `after` it was sent, without reading the answer (as a
    /// client that gives up does).
    pub async fn post_and_hang_up(
        &self,
        path: &str,
        content_type: &str,
        body: &str,
        after: Duration,
    ) {
        use tokio::io::AsyncWriteExt;
        let ts = chrono::Utc::now().timestamp();
        let request = format!(
            "POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: {content_type}\r\n\
             content-length: {len}\r\nx-slack-request-timestamp: {ts}\r\nx-slack-signature: {sig}\r\n\r\n{body}",
            port = self.port,
            len = body.len(),
            sig = self.sign(ts, body),
        );
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("the bot listens");
        stream
            .write_all(request.as_bytes())
            .await
            .expect("the request is sent");
        tokio::time::sleep(after).await;
        drop(stream);
    }

    /// Posts `body` signed now.
    pub async fn post_signed(&self, path: &str, content_type: &str, body: &str) -> (u16, String) {
        let ts = chrono::Utc::now().timestamp();
        let headers = [
            ("x-slack-request-timestamp", ts.to_string()),
            ("x-slack-signature", self.sign(ts, body)),
        ];
        self.post_raw(path, content_type, body, &headers).await
    }

    /// `/mystocks text` from `user` in `channel`; returns the HTTP answer.
    pub async fn slash_in(
        &self,
        team: &str,
        channel: &str,
        user: &str,
        text: &str,
    ) -> (u16, String) {
        self.post_signed(
            "/slack/commands",
            FORM,
            &command_body(team, channel, user, text),
        )
        .await
    }

    pub async fn slash(&self, user: &str, text: &str) -> (u16, String) {
        self.slash_in(TEAM, CHANNEL, user, text).await
    }

    /// `/mystocks text` from `user`; the HTTP answer's JSON (Slack's slash command response).
    pub async fn slash_json(&self, user: &str, text: &str) -> Value {
        let (status, body) = self.slash(user, text).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("the ack is JSON ({e}): {body}"))
    }

    /// A person's message in a thread of `channel`, delivered as Slack delivers it (a `message` event); its ts.
    pub async fn say_in_thread(
        &self,
        channel: &str,
        thread: &str,
        user: &str,
        text: &str,
    ) -> String {
        let ts = self.slack.add_message(channel, Some(thread), user, text);
        let event = json!({"type": "message", "user": user, "text": text, "ts": ts, "thread_ts": thread,
                           "channel": channel, "channel_type": "channel"});
        assert_eq!(self.event(&callback(event, None)).await.0, 200);
        ts
    }

    /// `user` adds `reaction` to the message `ts` in `channel` (a `reaction_added` event).
    pub async fn react(
        &self,
        channel: &str,
        ts: &str,
        user: &str,
        reaction: &str,
    ) -> (u16, String) {
        let event = json!({"type": "reaction_added", "user": user, "reaction": reaction, "item_user": "UALICE",
                           "item": {"type": "message", "channel": channel, "ts": ts}, "event_ts": ts});
        self.event(&callback(event, None)).await
    }

    /// The war room whose opening message (in the incidents channel) mentions `title`: waits for it, returns its ts.
    pub async fn war_room(&self, title: &str) -> String {
        let opening = |b: &Value| {
            b["channel"] == INCIDENTS && b["thread_ts"].is_null() && text_of(b).contains(title)
        };
        self.wait_for("the war room's opening message", |s| {
            s.posted().iter().any(|(_, b)| opening(b))
        })
        .await;
        let (room, _) = self
            .slack
            .posted()
            .into_iter()
            .find(|(_, b)| opening(b))
            .expect("the opening message");
        room
    }

    /// A bot in Socket Mode, its WebSocket connected.
    pub async fn start_socket_mode() -> Bot {
        Bot::start_socket_mode_with(Options::default()).await
    }

    /// A bot in Socket Mode with `options`, its WebSocket connected.
    pub async fn start_socket_mode_with(options: Options) -> Bot {
        let bot = Bot::start(Options {
            socket_mode: true,
            ..options
        })
        .await;
        bot.wait_for("the WebSocket connection", |s| s.socket_connected())
            .await;
        bot
    }

    /// `/metrics` once `check` holds on it (waits up to 30 s; panics with `what` otherwise).
    pub async fn metrics_when(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        let mut text = String::new();
        for _ in 0..600 {
            text = self
                .http
                .get(self.url("/metrics"))
                .send()
                .await
                .expect("the bot answers /metrics")
                .text()
                .await
                .unwrap_or_default();
            if check(&text) {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for {what} in /metrics:\n{text}");
    }

    /// A button press by `user` on the message `message_ts` carrying `value`.
    pub async fn press(&self, user: &str, value: &str, message_ts: &str) -> (u16, String) {
        let body = form(&[(
            "payload",
            &self
                .slack
                .block_actions(TEAM, user, value, message_ts)
                .to_string(),
        )]);
        self.post_signed("/slack/interactions", FORM, &body).await
    }

    /// An Events API callback.
    pub async fn event(&self, callback: &Value) -> (u16, String) {
        self.post_signed("/slack/events", "application/json", &callback.to_string())
            .await
    }

    /// Waits (up to 30 s) until `check` holds on the fake Slack; panics with `what` otherwise.
    pub async fn wait_for(&self, what: &str, check: impl Fn(&FakeSlack) -> bool) {
        for _ in 0..600 {
            if check(&self.slack) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "timed out waiting for {what}; Slack calls: {:#?}",
            self.slack.calls()
        );
    }
}

pub const FORM: &str = "application/x-www-form-urlencoded";

/// A form body.
pub fn form(fields: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish()
}

/// A slash command body with a fresh trigger id.
pub fn command_body(team: &str, channel: &str, user: &str, text: &str) -> String {
    let trigger = format!("trig-{}", uuid::Uuid::new_v4().simple());
    form(&[
        ("token", "deprecated"),
        ("team_id", team),
        ("api_app_id", "A1"),
        ("channel_id", channel),
        ("user_id", user),
        ("user_name", &user.to_lowercase()),
        ("command", "/mystocks"),
        ("text", text),
        ("response_url", "https://hooks.slack.invalid/commands/1"),
        ("trigger_id", &trigger),
    ])
}

/// A `block_actions` payload for a message the fake does not keep (one posted through a `response_url`); for
/// messages posted with the Web API, `FakeSlack::block_actions` gives the payload as Slack sends it.
pub fn button_payload(team: &str, user: &str, value: &str, message_ts: &str) -> Value {
    json!({
        "type": "block_actions", "team": {"id": team}, "api_app_id": "A1",
        "user": {"id": user, "username": user.to_lowercase(), "team_id": team},
        "container": {"type": "message", "message_ts": message_ts, "channel_id": CHANNEL, "is_ephemeral": false},
        "channel": {"id": CHANNEL, "name": "ops"},
        "message": {"ts": message_ts, "type": "message", "text": "approval"},
        "trigger_id": format!("trig-{}", uuid::Uuid::new_v4().simple()),
        "response_url": "https://hooks.slack.invalid/actions/1",
        "actions": [{"type": "button", "action_id": "mystocks-0", "block_id": "mystocks-actions", "value": value,
                     "text": {"type": "plain_text", "text": "Approve"}, "action_ts": "1700000000.1"}]
    })
}

/// An `event_callback` wrapping `event`, with a fresh event id unless given.
pub fn callback(event: Value, event_id: Option<&str>) -> Value {
    let id = event_id.map_or_else(
        || format!("Ev{}", uuid::Uuid::new_v4().simple()),
        str::to_string,
    );
    json!({"token": "x", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback", "event_id": id,
           "event_time": 1_700_000_000, "event": event})
}

/// All text (fallback and blocks) of a message body, for searching.
pub fn text_of(body: &Value) -> String {
    let mut out = body["text"].as_str().unwrap_or("").to_string();
    out.push('\n');
    out.push_str(&body["blocks"].to_string());
    out
}

/// Public posts whose text contains `needle`.
pub fn posts_with(slack: &FakeSlack, needle: &str) -> Vec<Value> {
    slack
        .accepted("chat.postMessage")
        .into_iter()
        .filter(|b| text_of(b).contains(needle))
        .collect()
}

/// Ephemeral posts to `user`.
pub fn whispers_to(slack: &FakeSlack, user: &str) -> Vec<Value> {
    slack
        .accepted("chat.postEphemeral")
        .into_iter()
        .filter(|b| b["user"] == user)
        .collect()
}

/// The first posted message with buttons (an approval request): its `ts`, its body, and the value of its button
/// for `action` (`"approve"`, `"deny"`).
pub fn posted_request(slack: &FakeSlack, action: &str) -> (String, Value, String) {
    let (ts, request) = slack
        .posted()
        .into_iter()
        .find(|(_, b)| !buttons(b).is_empty())
        .expect("an approval request was posted");
    let value = buttons(&request)
        .into_iter()
        .find(|v| v.starts_with(&format!("{action} ")))
        .unwrap_or_else(|| panic!("a {action} button: {request}"));
    (ts, request, value)
}

/// The text (fallback and blocks) of a slash command's HTTP answer.
pub fn ack_text(ack: &Value) -> String {
    text_of(ack)
}

/// The approval request message (ts, body) and its Approve button's command.
pub fn approval_request(slack: &FakeSlack, nth: usize) -> (String, Value, String) {
    let (ts, request) = slack
        .posted()
        .into_iter()
        .filter(|(_, b)| !buttons(b).is_empty())
        .nth(nth)
        .expect("the request was posted");
    let approve = buttons(&request)
        .into_iter()
        .find(|v| v.starts_with("approve "))
        .expect("an Approve button");
    (ts, request, approve)
}

/// Desired and ready replicas of the app deployment.
pub fn replicas(sim: &Sim) -> (i32, i32) {
    let d = sim.deployment();
    let spec = d.spec.replicas.unwrap_or_default();
    let ready = d.status.and_then(|s| s.ready_replicas).unwrap_or_default();
    (spec, ready)
}

/// Requests that changed the cluster (dry runs excluded).
pub fn real_changes(sim: &Sim) -> Vec<String> {
    sim.changing_requests()
        .into_iter()
        .filter(|r| !r.path.contains("dryRun=All"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}
