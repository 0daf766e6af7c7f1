//! A fake Slack Web API (axum on port 0) that records every call and rejects what Slack rejects: a bad or
//! missing token, an unknown channel, a message with no text, blocks over Slack's limits, malformed JSON, an
//! update of a message that does not exist, an unknown user group or message. Tests can make the next calls of a
//! method answer 429 (with `Retry-After`) or 500, set user groups' members, add people's messages (for 📌), and
//! drive Socket Mode through its WebSocket endpoint.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::{Value, json};
use tokio::sync::mpsc;

mod reads;
mod rules;

pub use rules::check_message;

/// The bot token the fake accepts.
pub const BOT_TOKEN: &str = "xoxb-fake-bot-token";
/// The app-level token (Socket Mode) the fake accepts.
pub const APP_TOKEN: &str = "xapp-fake-app-token";

/// One Web API call as the fake saw it.
#[derive(Clone, Debug)]
pub struct ApiCall {
    pub method: String,
    pub body: Value,
    /// `None` when the fake answered `ok: true`.
    pub error: Option<String>,
    /// What the fake answered (`ts` of a posted message, …); null for errors.
    pub answer: Value,
}

/// A canned failure for the next call(s) of a method.
#[derive(Clone, Copy, Debug)]
pub enum Failure {
    /// 429 with `Retry-After: seconds`.
    RateLimited { retry_after: u64 },
    /// 500.
    ServerError,
}

#[derive(Default)]
struct Inner {
    calls: Vec<ApiCall>,
    channels: HashSet<String>,
    /// channel → ts → current message body (text, blocks).
    messages: HashMap<String, HashMap<String, Value>>,
    next_ts: u64,
    failures: HashMap<String, VecDeque<Failure>>,
    uploads: HashMap<String, Vec<u8>>,
    socket_out: Option<mpsc::UnboundedSender<String>>,
    socket_in: Vec<Value>,
    delay: HashMap<String, Duration>,
    /// User group id → member user ids.
    usergroups: HashMap<String, Vec<String>>,
}

/// The fake, running on 127.0.0.1.
#[derive(Clone)]
pub struct FakeSlack {
    inner: Arc<Mutex<Inner>>,
    port: u16,
}

impl FakeSlack {
    /// Starts the fake; `channels` are the channel ids that exist.
    pub async fn start(channels: &[&str]) -> FakeSlack {
        let inner = Arc::new(Mutex::new(Inner {
            channels: channels.iter().map(|c| c.to_string()).collect(),
            next_ts: 1_700_000_000,
            ..Inner::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake Slack binds");
        let port = listener.local_addr().expect("fake Slack address").port();
        let fake = FakeSlack { inner, port };
        let app = Router::new()
            .route(
                "/api/files.getUploadURLExternal",
                get(get_upload_url).post(get_upload_url),
            )
            .route("/api/{method}", post(api_method).get(api_get))
            .route("/upload/{file}", post(upload))
            .route("/hooks/{id}", post(hook))
            .route("/socket", any(socket))
            .with_state(fake.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        fake
    }

    /// The Web API base URL to configure (`http://127.0.0.1:PORT/api`).
    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}/api", self.port)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A response_url for slash commands, served by the fake (`http://127.0.0.1:PORT/hooks/ID`).
    pub fn hook_url(&self, id: &str) -> String {
        format!("http://127.0.0.1:{}/hooks/{id}", self.port)
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<ApiCall> {
        self.lock().calls.clone()
    }

    /// Calls of one method that Slack accepted.
    pub fn accepted(&self, method: &str) -> Vec<Value> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == method && c.error.is_none())
            .map(|c| c.body)
            .collect()
    }

    /// Calls that Slack refused, as (method, error).
    pub fn refused(&self) -> Vec<(String, String)> {
        self.calls()
            .into_iter()
            .filter_map(|c| c.error.map(|e| (c.method, e)))
            .collect()
    }

    /// The current content of a message (after updates).
    pub fn message(&self, channel: &str, ts: &str) -> Option<Value> {
        self.lock().messages.get(channel)?.get(ts).cloned()
    }

    /// Bytes uploaded for each file id.
    pub fn uploads(&self) -> HashMap<String, Vec<u8>> {
        self.lock().uploads.clone()
    }

    /// Makes the next `count` calls of `method` fail with `failure`.
    pub fn fail_next(&self, method: &str, failure: Failure, count: usize) {
        let mut inner = self.lock();
        let queue = inner.failures.entry(method.to_string()).or_default();
        queue.extend(std::iter::repeat_n(failure, count));
    }

    /// Makes every call of `method` take `delay` before answering (a slow Slack).
    pub fn delay(&self, method: &str, delay: Duration) {
        self.lock().delay.insert(method.to_string(), delay);
    }

    /// Sets the members of user group `id` (`S…`); a group never set does not exist (`no_such_subteam`).
    pub fn set_usergroup(&self, id: &str, users: &[&str]) {
        self.lock().usergroups.insert(
            id.to_string(),
            users.iter().map(|u| u.to_string()).collect(),
        );
    }

    /// A person's message in `channel` (in the thread `thread_ts`, if given), as if they had typed it; its `ts`.
    pub fn add_message(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        user: &str,
        text: &str,
    ) -> String {
        let mut inner = self.lock();
        inner.next_ts += 1;
        let ts = format!("{}.000100", inner.next_ts);
        let mut body = json!({"user": user, "text": text});
        if let Some(thread) = thread_ts {
            body["thread_ts"] = json!(thread);
        }
        store_message(&mut inner, channel, &ts, body);
        ts
    }

    /// The `block_actions` payload Slack sends when `user` (of workspace `team`) presses the button carrying
    /// `value` on the message `message_ts`: the message as Slack keeps it (a thread parent with its `thread_ts`,
    /// `reply_count` and `latest_reply`), its container and a fresh trigger id. Panics if no channel has that message:
    /// Slack only sends presses of buttons it shows.
    pub fn block_actions(&self, team: &str, user: &str, value: &str, message_ts: &str) -> Value {
        let inner = self.lock();
        let (channel, body) = inner
            .messages
            .iter()
            .find_map(|(channel, messages)| Some((channel.clone(), messages.get(message_ts)?)))
            .unwrap_or_else(|| panic!("no message {message_ts} to press a button on"));
        let mut message = reads::message_json(message_ts, body);
        message["team"] = json!(team);
        if !body["blocks"].is_null() {
            message["blocks"] = body["blocks"].clone();
        }
        let mut container = json!({"type": "message", "message_ts": message_ts, "channel_id": channel,
                                   "is_ephemeral": false});
        if let Some(thread) = body["thread_ts"].as_str().filter(|t| *t != message_ts) {
            container["thread_ts"] = json!(thread);
        }
        json!({
            "type": "block_actions", "team": {"id": team, "domain": "acme"}, "api_app_id": "A1",
            "user": {"id": user, "username": user.to_lowercase(), "name": user.to_lowercase(), "team_id": team},
            "container": container,
            "channel": {"id": channel, "name": "ops"},
            "message": message,
            "trigger_id": format!("trig-{}", uuid::Uuid::new_v4().simple()),
            "response_url": format!("https://hooks.slack.invalid/actions/{channel}/{message_ts}"),
            "actions": [{"type": "button", "action_id": "mystocks-0", "block_id": "mystocks-actions",
                         "value": value, "text": {"type": "plain_text", "text": "button"},
                         "action_ts": "1700000000.100000"}]
        })
    }

    /// Sends a Socket Mode envelope to the connected client; false when no client is connected.
    pub fn socket_send(&self, envelope: Value) -> bool {
        match &self.lock().socket_out {
            Some(tx) => tx.send(envelope.to_string()).is_ok(),
            None => false,
        }
    }

    /// Whether a Socket Mode client is connected.
    pub fn socket_connected(&self) -> bool {
        self.lock()
            .socket_out
            .as_ref()
            .is_some_and(|tx| !tx.is_closed())
    }

    /// What the Socket Mode client sent (acknowledgements with their payloads).
    pub fn socket_acks(&self) -> Vec<Value> {
        self.lock().socket_in.clone()
    }

    fn record(&self, method: &str, body: Value, error: Option<&str>) {
        self.record_answer(method, body, error, Value::Null);
    }

    fn record_answer(&self, method: &str, body: Value, error: Option<&str>, answer: Value) {
        let call = ApiCall {
            method: method.to_string(),
            body,
            error: error.map(str::to_string),
            answer,
        };
        self.lock().calls.push(call);
    }

    /// Accepted posts with the `ts` the fake gave them: (ts, body).
    pub fn posted(&self) -> Vec<(String, Value)> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == "chat.postMessage" && c.error.is_none())
            .map(|c| {
                (
                    c.answer["ts"].as_str().unwrap_or_default().to_string(),
                    c.body,
                )
            })
            .collect()
    }
}

fn slack_error(error: &str) -> Response {
    axum::Json(json!({"ok": false, "error": error})).into_response()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

async fn api_method(
    State(fake): State<FakeSlack>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let args = match serde_json::from_slice::<Value>(&body) {
        Ok(v) => Ok(v),
        Err(_) if body.is_empty() => Ok(Value::Null),
        Err(_) => Err(()),
    };
    api_call(fake, method, headers, args).await
}

/// A read method called with GET: its arguments are the query parameters.
async fn api_get(
    State(fake): State<FakeSlack>,
    Path(method): Path<String>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    api_call(fake, method, headers, Ok(json!(query))).await
}

/// One Web API call: delay, canned failure, token, then the method. `args` is `Err` for malformed JSON.
async fn api_call(
    fake: FakeSlack,
    method: String,
    headers: HeaderMap,
    args: Result<Value, ()>,
) -> Response {
    let delay = fake.lock().delay.get(&method).copied();
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    let failure = fake
        .lock()
        .failures
        .get_mut(&method)
        .and_then(VecDeque::pop_front);
    match failure {
        Some(Failure::RateLimited { retry_after }) => {
            fake.record(&method, Value::Null, Some("ratelimited"));
            let mut r = axum::Json(json!({"ok": false, "error": "ratelimited"})).into_response();
            *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            r.headers_mut().insert("retry-after", retry_after.into());
            return r;
        }
        Some(Failure::ServerError) => {
            fake.record(&method, Value::Null, Some("http 500"));
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
        None => {}
    }
    let expected = if method == "apps.connections.open" {
        APP_TOKEN
    } else {
        BOT_TOKEN
    };
    let token = bearer(&headers);
    let (answer, error) = match (token, args) {
        (None, _) => (slack_error("not_authed"), Some("not_authed".to_string())),
        (Some(t), _) if t != expected => (
            slack_error("invalid_auth"),
            Some("invalid_auth".to_string()),
        ),
        (_, Err(())) => (
            slack_error("invalid_json"),
            Some("invalid_json".to_string()),
        ),
        (_, Ok(parsed)) => {
            let result = dispatch(&fake, &method, &parsed);
            let error = result.as_ref().err().cloned();
            let answer = result.as_ref().ok().cloned().unwrap_or(Value::Null);
            fake.record_answer(&method, parsed, error.as_deref(), answer);
            return match result {
                Ok(v) => axum::Json(v).into_response(),
                Err(e) => slack_error(&e),
            };
        }
    };
    fake.record(&method, Value::Null, error.as_deref());
    answer
}

fn dispatch(fake: &FakeSlack, method: &str, body: &Value) -> Result<Value, String> {
    match method {
        "chat.postMessage" => {
            let channel = known_channel(fake, body)?;
            rules::check_message(body)?;
            let mut inner = fake.lock();
            inner.next_ts += 1;
            let ts = format!("{}.000100", inner.next_ts);
            // Stored as Slack keeps it: written by the bot user.
            let mut stored = body.clone();
            stored["user"] = json!("UBOT");
            stored["bot_id"] = json!("BBOT");
            store_message(&mut inner, &channel, &ts, stored);
            Ok(
                json!({"ok": true, "channel": channel, "ts": ts, "message": {"ts": ts, "text": body["text"], "type": "message"}}),
            )
        }
        "chat.postEphemeral" => {
            known_channel(fake, body)?;
            body["user"]
                .as_str()
                .filter(|u| !u.is_empty())
                .ok_or("user_not_found")?;
            rules::check_message(body)?;
            Ok(json!({"ok": true, "message_ts": "1700000000.000001"}))
        }
        "chat.update" => {
            let channel = known_channel(fake, body)?;
            rules::check_message(body)?;
            let ts = body["ts"].as_str().ok_or("message_not_found")?.to_string();
            let mut inner = fake.lock();
            let slot = inner
                .messages
                .get_mut(&channel)
                .and_then(|m| m.get_mut(&ts))
                .ok_or("message_not_found")?;
            // An edit changes the text and blocks; who wrote it and its thread stay.
            let kept: Vec<(&str, Value)> = [
                "user",
                "bot_id",
                "thread_ts",
                "reply_count",
                "reply_users",
                "reply_users_count",
                "latest_reply",
            ]
            .into_iter()
            .map(|key| (key, slot[key].clone()))
            .collect();
            *slot = body.clone();
            for (key, value) in kept {
                if !value.is_null() {
                    slot[key] = value;
                }
            }
            Ok(
                json!({"ok": true, "channel": channel, "ts": ts, "text": body["text"], "message": {"text": body["text"]}}),
            )
        }
        "files.completeUploadExternal" => {
            if let Some(channel) = body["channel_id"].as_str()
                && !fake.lock().channels.contains(channel)
            {
                return Err("channel_not_found".into());
            }
            let files = body["files"].as_array().ok_or("invalid_arguments")?;
            let uploads = fake.lock().uploads.clone();
            let mut out = Vec::new();
            for f in files {
                let id = f["id"].as_str().ok_or("invalid_arguments")?;
                if !uploads.contains_key(id) {
                    return Err("file_not_found".into());
                }
                out.push(json!({"id": id, "title": f["title"]}));
            }
            Ok(json!({"ok": true, "files": out}))
        }
        "apps.connections.open" => {
            Ok(json!({"ok": true, "url": format!("ws://127.0.0.1:{}/socket", fake.port)}))
        }
        "auth.test" => Ok(json!({"ok": true, "team_id": "T1", "user_id": "UBOT"})),
        "usergroups.users.list" => reads::usergroup_users(fake, body),
        "conversations.replies" => reads::replies(fake, body),
        _ => Err("unknown_method".into()),
    }
}

/// The button values (the commands they stand for) of a message body.
pub fn buttons(body: &Value) -> Vec<String> {
    body["blocks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["value"].as_str().map(str::to_string))
        .collect()
}

/// Keeps a message as Slack does: a reply also marks its thread's parent (`thread_ts` set to the parent's own `ts`,
/// `reply_count`, `reply_users`, `latest_reply`), which is how Slack shows a parent once it has replies.
fn store_message(inner: &mut Inner, channel: &str, ts: &str, body: Value) {
    let messages = inner.messages.entry(channel.to_string()).or_default();
    if let Some(thread) = body["thread_ts"].as_str().filter(|t| *t != ts)
        && let Some(parent) = messages.get_mut(thread)
    {
        parent["thread_ts"] = json!(thread);
        parent["reply_count"] = json!(parent["reply_count"].as_u64().unwrap_or(0) + 1);
        parent["latest_reply"] = json!(ts);
        let user = body["user"].clone();
        let mut users = parent["reply_users"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !user.is_null() && !users.contains(&user) {
            users.push(user);
        }
        parent["reply_users_count"] = json!(users.len());
        parent["reply_users"] = Value::Array(users);
    }
    messages.insert(ts.to_string(), body);
}

fn known_channel(fake: &FakeSlack, body: &Value) -> Result<String, String> {
    let channel = body["channel"].as_str().ok_or("channel_not_found")?;
    if fake.lock().channels.contains(channel) {
        Ok(channel.to_string())
    } else {
        Err("channel_not_found".into())
    }
}

async fn get_upload_url(
    State(fake): State<FakeSlack>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if bearer(&headers) != Some(BOT_TOKEN) {
        fake.record(
            "files.getUploadURLExternal",
            Value::Null,
            Some("invalid_auth"),
        );
        return slack_error("invalid_auth");
    }
    let (Some(name), Some(length)) = (
        q.get("filename"),
        q.get("length").and_then(|l| l.parse::<usize>().ok()),
    ) else {
        fake.record(
            "files.getUploadURLExternal",
            json!(q),
            Some("invalid_arguments"),
        );
        return slack_error("invalid_arguments");
    };
    let id = {
        let mut inner = fake.lock();
        inner.next_ts += 1;
        format!("F{}", inner.next_ts)
    };
    fake.record(
        "files.getUploadURLExternal",
        json!({"filename": name, "length": length, "file_id": id}),
        None,
    );
    axum::Json(json!({"ok": true, "upload_url": format!("http://127.0.0.1:{}/upload/{id}", fake.port), "file_id": id}))
        .into_response()
}

async fn upload(State(fake): State<FakeSlack>, Path(file): Path<String>, body: Bytes) -> Response {
    fake.lock().uploads.insert(file.clone(), body.to_vec());
    fake.record("upload", json!({"file": file, "bytes": body.len()}), None);
    (StatusCode::OK, format!("OK - {}", body.len())).into_response()
}

/// A slash command's response_url: records the JSON body (method `response_url`).
async fn hook(State(fake): State<FakeSlack>, Path(id): Path<String>, body: Bytes) -> Response {
    match serde_json::from_slice::<Value>(&body) {
        Ok(v) => {
            fake.record_answer("response_url", v, None, json!({"hook": id}));
            (StatusCode::OK, "ok").into_response()
        }
        Err(_) => {
            fake.record("response_url", Value::Null, Some("invalid_payload"));
            (StatusCode::BAD_REQUEST, "invalid_payload").into_response()
        }
    }
}

async fn socket(State(fake): State<FakeSlack>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| serve_socket(fake, socket))
}

async fn serve_socket(fake: FakeSlack, mut socket: WebSocket) {
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    fake.lock().socket_out = Some(tx);
    let hello = json!({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}, "connection_info": {"app_id": "A1"}});
    if socket
        .send(Message::Text(hello.to_string().into()))
        .await
        .is_err()
    {
        return;
    }
    loop {
        tokio::select! {
            out = rx.recv() => match out {
                Some(text) => if socket.send(Message::Text(text.into())).await.is_err() { break },
                None => break,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    if let Ok(v) = serde_json::from_str::<Value>(&text) {
                        fake.lock().socket_in.push(v);
                    }
                }
                Some(Ok(Message::Ping(p))) => { let _ = socket.send(Message::Pong(p)).await; }
                Some(Ok(_)) => {}
                _ => break,
            },
        }
    }
}
