//! Slack's side of the process soak: slash commands and button presses as Slack sends them, signed with the
//! app's signing secret, each delivered to several replicas at once with one trigger id (Slack delivering twice).

use std::time::Duration;

use mystocks_adapters::slack::SlackSigner;
use mystocks_tests::fake_slack::FakeSlack;

pub const SECRET: &str = "test-signing-secret-soak-0123456789";
pub const CHANNEL: &str = "C1";
const FORM: &str = "application/x-www-form-urlencoded";

/// Slack's side: signs each delivery and sends the same one to two replicas at once.
#[derive(Clone)]
pub struct Slack {
    http: reqwest::Client,
    signer: SlackSigner,
}

impl Slack {
    pub fn new() -> Slack {
        // No pooled connections: a killed replica's port is served by a fresh process a moment later.
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("HTTP client");
        Slack {
            http,
            signer: SlackSigner::new(SECRET.to_string().into()),
        }
    }

    /// Posts `body` to `path` on each of `ports` at once; each answer, or none where the connection failed.
    pub async fn to_each(
        &self,
        ports: &[u16],
        path: &str,
        body: &str,
    ) -> Vec<Option<(u16, String)>> {
        let at = chrono::Utc::now().timestamp();
        let signature = self.signer.sign(at, body.as_bytes());
        let sends: Vec<_> = ports
            .iter()
            .map(|port| {
                let request = self
                    .http
                    .post(format!("http://127.0.0.1:{port}{path}"))
                    .header("content-type", FORM)
                    .header("x-slack-request-timestamp", at.to_string())
                    .header("x-slack-signature", signature.clone())
                    .body(body.to_string());
                tokio::spawn(async move {
                    let answer = request.send().await.ok()?;
                    let status = answer.status().as_u16();
                    Some((status, answer.text().await.unwrap_or_default()))
                })
            })
            .collect();
        let mut answers = Vec::new();
        for send in sends {
            answers.push(send.await.ok().flatten());
        }
        answers
    }
}

/// `/mystocks text` from `user` in the channel, with a fresh trigger id.
pub fn slash(user: &str, text: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("token", "deprecated")
        .append_pair("team_id", "T1")
        .append_pair("api_app_id", "A1")
        .append_pair("channel_id", CHANNEL)
        .append_pair("user_id", user)
        .append_pair("user_name", &user.to_lowercase())
        .append_pair("command", "/mystocks")
        .append_pair("text", text)
        .append_pair("response_url", "https://hooks.slack.invalid/commands/1")
        .append_pair(
            "trigger_id",
            &format!("trig-{}", uuid::Uuid::new_v4().simple()),
        )
        .finish()
}

/// `user` presses the button carrying `value` on the message `ts`: the payload Slack sends for the message as the
/// fake keeps it, with a fresh trigger id.
pub fn press(fake: &FakeSlack, user: &str, value: &str, ts: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair(
            "payload",
            &fake.block_actions("T1", user, value, ts).to_string(),
        )
        .finish()
}
