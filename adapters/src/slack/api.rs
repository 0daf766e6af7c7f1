//! The Slack Web API as the bot uses it (slack-morphism's client): post, post ephemeral, update, upload files.
//! Every call honours 429 `Retry-After`, retries 5xx and transport failures with backoff, and posts are paced
//! per channel (about one a second, as Slack asks). A call that still fails is an error the caller logs —
//! nothing is dropped silently. Each failed attempt is reported to the [`ApiObserver`] the client was given (the
//! bot's metrics), by kind: `rate_limited` (429), `http_5xx`, `transport`, or Slack's error code.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;
use tokio::time::Instant;

mod reads;

pub use reads::FetchedMessage;

/// Told about every failed Web API attempt (retried or not); the bot counts them in its metrics.
pub trait ApiObserver: Send + Sync {
    /// A call of `method` failed: `kind` is `rate_limited` (429), `http_5xx`, `http_4xx`, `transport`, or the
    /// error code Slack answered (`channel_not_found`, `no_such_subteam`, …).
    fn failed(&self, method: &str, kind: &str);
}

/// The connector type: HTTPS or plain HTTP (a local fake, a proxy), trusting the system store and `SSL_CERT_FILE`.
pub type Connector = SlackClientHyperConnector<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
>;

/// How the bot talks to the Web API.
#[derive(Clone, Debug)]
pub struct ApiSettings {
    /// Base URL, `https://slack.com/api` by default (http or https).
    pub api_url: String,
    /// Least time between two posts in one channel.
    pub post_interval: Duration,
    /// Attempts per call (429 and 5xx are retried; other errors are not).
    pub max_attempts: u32,
    /// First backoff after a 5xx or transport error (doubles each time).
    pub backoff: Duration,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            api_url: "https://slack.com/api".into(),
            post_interval: Duration::from_secs(1),
            max_attempts: 5,
            backoff: Duration::from_millis(500),
        }
    }
}

/// Why a Web API call failed for good.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("Slack refused {method}: {code}")]
    Refused { method: &'static str, code: String },
    #[error("Slack {method} still failing after {attempts} attempts: {last}")]
    GaveUp {
        method: &'static str,
        attempts: u32,
        last: String,
    },
    #[error("cannot build the Slack client: {0}")]
    Setup(String),
}

/// A Slack Web API client with a bot token.
pub struct SlackApi {
    client: Arc<SlackClient<Connector>>,
    token: SlackApiToken,
    settings: ApiSettings,
    next_post: Mutex<HashMap<String, Instant>>,
    observer: Option<Arc<dyn ApiObserver>>,
}

impl std::fmt::Debug for SlackApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackApi")
            .field("api_url", &self.settings.api_url)
            .finish_non_exhaustive()
    }
}

/// A client for `api_url` (http or https). Needs a rustls crypto provider installed in the process.
pub fn client(api_url: &str) -> Result<Arc<SlackClient<Connector>>, ApiError> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| ApiError::Setup(format!("no usable TLS trust store: {e}")))?
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .build();
    let base = api_url.trim_end_matches('/').to_string();
    Ok(Arc::new(SlackClient::new(
        SlackClientHyperConnector::with_connector(https).with_slack_api_url(&base),
    )))
}

/// A token value for slack-morphism.
pub fn token(secret: &SecretString) -> SlackApiToken {
    SlackApiToken::new(SlackApiTokenValue(secret.expose_secret().to_string()))
}

impl SlackApi {
    /// A client for `settings.api_url` with the bot token.
    pub fn new(bot_token: &SecretString, settings: ApiSettings) -> Result<Self, ApiError> {
        Ok(SlackApi {
            client: client(&settings.api_url)?,
            token: token(bot_token),
            settings,
            next_post: Mutex::default(),
            observer: None,
        })
    }

    /// The same client, reporting failed attempts to `observer`.
    pub fn with_observer(mut self, observer: Arc<dyn ApiObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    fn report(&self, method: &str, err: &SlackClientError) {
        if let Some(observer) = &self.observer {
            observer.failed(method, &failure_kind(err));
        }
    }

    /// Waits for this channel's next posting slot (slots are reserved in call order).
    async fn pace(&self, channel: &str) {
        if self.settings.post_interval.is_zero() {
            return;
        }
        let now = Instant::now();
        let slot = match self.next_post.lock() {
            Ok(mut map) => {
                let slot = map
                    .get(channel)
                    .copied()
                    .filter(|s| *s > now)
                    .unwrap_or(now);
                map.insert(channel.to_string(), slot + self.settings.post_interval);
                slot
            }
            Err(_) => now,
        };
        tokio::time::sleep_until(slot).await;
    }

    /// Decides whether to retry after `err` (sleeping first) or give up.
    async fn after_failure(
        &self,
        method: &'static str,
        err: SlackClientError,
        attempt: &mut u32,
    ) -> Result<(), ApiError> {
        *attempt += 1;
        self.report(method, &err);
        let wait = match &err {
            SlackClientError::RateLimitError(e) => e.retry_after.unwrap_or(Duration::from_secs(1)),
            SlackClientError::HttpError(e) if e.status_code.is_server_error() => {
                self.backoff(*attempt)
            }
            SlackClientError::HttpProtocolError(_) | SlackClientError::EndOfStream(_) => {
                self.backoff(*attempt)
            }
            SlackClientError::ApiError(e) => {
                return Err(ApiError::Refused {
                    method,
                    code: e.code.clone(),
                });
            }
            other => {
                return Err(ApiError::Refused {
                    method,
                    code: other.to_string(),
                });
            }
        };
        if *attempt >= self.settings.max_attempts {
            return Err(ApiError::GaveUp {
                method,
                attempts: *attempt,
                last: err.to_string(),
            });
        }
        tracing::warn!(method, attempt = *attempt, wait_ms = wait.as_millis() as u64, error = %err, "Slack call failed; retrying");
        tokio::time::sleep(wait).await;
        Ok(())
    }

    fn backoff(&self, attempt: u32) -> Duration {
        self.settings
            .backoff
            .saturating_mul(1 << attempt.saturating_sub(1).min(6))
    }

    /// `chat.postMessage`; returns the message's `ts`.
    pub async fn post_message(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        text: &str,
        blocks: &[Value],
    ) -> Result<String, ApiError> {
        self.pace(channel).await;
        let mut req = SlackApiChatPostMessageRequest::new(channel.into(), content(text, blocks));
        req.thread_ts = thread_ts.map(|t| SlackTs(t.to_string()));
        let mut attempt = 0;
        loop {
            match self
                .client
                .open_session(&self.token)
                .chat_post_message(&req)
                .await
            {
                Ok(answer) => return Ok(answer.ts.0),
                Err(e) => {
                    self.after_failure("chat.postMessage", e, &mut attempt)
                        .await?
                }
            }
        }
    }

    /// `chat.postEphemeral` to `user` in `channel`.
    pub async fn post_ephemeral(
        &self,
        channel: &str,
        user: &str,
        thread_ts: Option<&str>,
        text: &str,
        blocks: &[Value],
    ) -> Result<(), ApiError> {
        self.pace(channel).await;
        let mut req = SlackApiChatPostEphemeralRequest::new(
            channel.into(),
            user.into(),
            content(text, blocks),
        );
        req.thread_ts = thread_ts.map(|t| SlackTs(t.to_string()));
        let mut attempt = 0;
        loop {
            match self
                .client
                .open_session(&self.token)
                .chat_post_ephemeral(&req)
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) => {
                    self.after_failure("chat.postEphemeral", e, &mut attempt)
                        .await?
                }
            }
        }
    }

    /// `chat.update` of the message `ts` in `channel`.
    pub async fn update(
        &self,
        channel: &str,
        ts: &str,
        text: &str,
        blocks: &[Value],
    ) -> Result<(), ApiError> {
        self.pace(channel).await;
        let req = SlackApiChatUpdateRequest::new(
            channel.into(),
            content(text, blocks),
            SlackTs(ts.to_string()),
        );
        let mut attempt = 0;
        loop {
            match self
                .client
                .open_session(&self.token)
                .chat_update(&req)
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) => self.after_failure("chat.update", e, &mut attempt).await?,
            }
        }
    }

    /// Uploads a file into `channel` (and thread): `files.getUploadURLExternal`, the upload itself, then
    /// `files.completeUploadExternal` (Slack retired `files.upload`).
    pub async fn upload_file(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        filename: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<(), ApiError> {
        let mut attempt = 0;
        let url_req =
            SlackApiFilesGetUploadUrlExternalRequest::new(filename.to_string(), bytes.len());
        let target = loop {
            match self
                .client
                .open_session(&self.token)
                .get_upload_url_external(&url_req)
                .await
            {
                Ok(t) => break t,
                Err(e) => {
                    self.after_failure("files.getUploadURLExternal", e, &mut attempt)
                        .await?
                }
            }
        };
        let upload = SlackApiFilesUploadViaUrlRequest::new(
            target.upload_url.clone(),
            bytes.to_vec(),
            content_type.to_string(),
        );
        attempt = 0;
        loop {
            match self
                .client
                .open_session(&self.token)
                .files_upload_via_url(&upload)
                .await
            {
                Ok(_) => break,
                Err(e) => self.after_failure("file upload", e, &mut attempt).await?,
            }
        }
        self.pace(channel).await;
        let mut complete = SlackApiFilesCompleteUploadExternalRequest::new(vec![
            SlackApiFilesComplete::new(target.file_id.clone()).with_title(filename.to_string()),
        ]);
        complete.channel_id = Some(channel.into());
        complete.thread_ts = thread_ts.map(|t| SlackTs(t.to_string()));
        attempt = 0;
        loop {
            match self
                .client
                .open_session(&self.token)
                .files_complete_upload_external(&complete)
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) => {
                    self.after_failure("files.completeUploadExternal", e, &mut attempt)
                        .await?
                }
            }
        }
    }
}

/// The metrics label of a failure: a fixed word, or Slack's error code (a short snake_case word; anything else
/// is `other`, so a label never carries free text).
fn failure_kind(err: &SlackClientError) -> String {
    match err {
        SlackClientError::RateLimitError(_) => "rate_limited".into(),
        SlackClientError::HttpError(e) if e.status_code.is_server_error() => "http_5xx".into(),
        SlackClientError::HttpError(_) => "http_4xx".into(),
        SlackClientError::HttpProtocolError(_) | SlackClientError::EndOfStream(_) => {
            "transport".into()
        }
        SlackClientError::ApiError(e) if is_error_code(&e.code) => e.code.clone(),
        _ => "other".into(),
    }
}

fn is_error_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 48
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Message content from rendered text and blocks (blocks as Slack's JSON).
pub(crate) fn content(text: &str, blocks: &[Value]) -> SlackMessageContent {
    let typed: Vec<SlackBlock> = blocks
        .iter()
        .map(|b| serde_json::from_value(b.clone()).unwrap_or(SlackBlock::Unknown(b.clone())))
        .collect();
    SlackMessageContent::new()
        .with_text(text.to_string())
        .with_blocks(typed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn posts_in_one_channel_are_spaced_and_other_channels_are_not_held_up() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let settings = ApiSettings {
            post_interval: Duration::from_secs(1),
            ..ApiSettings::default()
        };
        let api = SlackApi::new(&SecretString::from("xoxb-x"), settings).expect("client");
        let start = Instant::now();
        for _ in 0..3 {
            api.pace("C1").await;
        }
        assert_eq!(
            start.elapsed().as_secs(),
            2,
            "three posts in C1 take two intervals"
        );
        let other = Instant::now();
        api.pace("C2").await;
        assert_eq!(other.elapsed().as_secs(), 0);
    }
}
