//! Slash-command `response_url`s, the fallback when the bot cannot post in a channel itself (it was not invited:
//! `not_in_channel`, or a DM it has no access to). slack-morphism's response_url request has no `response_type`,
//! so Slack's documented JSON (`{"response_type":"in_channel",…}`) is sent here directly.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Slack accepts posts to a response_url for 30 minutes.
pub const RESPONSE_URL_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// The latest response_url of each channel, shared by the front door (which learns them) and the sink.
#[derive(Debug, Default)]
pub struct ResponseUrls {
    by_channel: Mutex<HashMap<String, (String, Instant)>>,
}

impl ResponseUrls {
    /// Remembers the response_url a slash command in `channel` (`C…`) came with.
    pub fn remember(&self, channel: &str, url: &str) {
        if let Ok(mut map) = self.by_channel.lock() {
            map.retain(|_, (_, at)| at.elapsed() < RESPONSE_URL_LIFETIME);
            map.insert(channel.to_string(), (url.to_string(), Instant::now()));
        }
    }

    /// A still-valid response_url for `channel`.
    pub fn for_channel(&self, channel: &str) -> Option<String> {
        let map = self.by_channel.lock().ok()?;
        map.get(channel)
            .filter(|(_, at)| at.elapsed() < RESPONSE_URL_LIFETIME)
            .map(|(url, _)| url.clone())
    }
}

/// The body Slack documents for a response_url post.
pub fn body(in_channel: bool, text: &str, blocks: &[Value]) -> Value {
    json!({
        "response_type": if in_channel { "in_channel" } else { "ephemeral" },
        "replace_original": false,
        "text": text,
        "blocks": blocks,
    })
}

/// Posts `body` to `url`.
pub async fn post(http: &reqwest::Client, url: &str, body: &Value) -> Result<(), String> {
    let response = http
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(|e| format!("response_url post failed: {e}"))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("response_url answered {}", response.status()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_latest_url_per_channel() {
        let urls = ResponseUrls::default();
        assert_eq!(urls.for_channel("C1"), None);
        urls.remember("C1", "https://hooks.slack.com/a");
        urls.remember("C1", "https://hooks.slack.com/b");
        assert_eq!(
            urls.for_channel("C1").as_deref(),
            Some("https://hooks.slack.com/b")
        );
        assert_eq!(urls.for_channel("C2"), None);
        assert_eq!(body(true, "t", &[])["response_type"], "in_channel");
        assert_eq!(body(false, "t", &[])["response_type"], "ephemeral");
    }
}
