//! Slash-command and button `response_url`s, the fallback when the bot cannot post in a channel itself (it was not invited:
//! `not_in_channel`, or a DM it has no access to). slack-morphism's response_url request has no `response_type`,
//! so Slack's documented JSON (`{"response_type":"in_channel",…}`) is sent here directly.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Slack accepts posts to a response_url for 30 minutes.
pub const RESPONSE_URL_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// The latest response_url of each channel and of each person in it, shared by the front door (which learns
/// them from slash commands and button presses) and the sink. A response_url shows an ephemeral answer to the
/// person whose command or press it came with, so a private answer only ever goes through that person's own.
#[derive(Debug, Default)]
pub struct ResponseUrls {
    by_channel: Mutex<HashMap<String, (String, Instant)>>,
    by_person: Mutex<HashMap<(String, String), (String, Instant)>>,
}

impl ResponseUrls {
    /// Remembers the response_url that `user` (`U…`)'s command or press in `channel` (`C…`) came with.
    pub fn remember(&self, channel: &str, user: &str, url: &str) {
        let now = Instant::now();
        if let Ok(mut map) = self.by_channel.lock() {
            map.retain(|_, (_, at)| at.elapsed() < RESPONSE_URL_LIFETIME);
            map.insert(channel.to_string(), (url.to_string(), now));
        }
        if let Ok(mut map) = self.by_person.lock() {
            map.retain(|_, (_, at)| at.elapsed() < RESPONSE_URL_LIFETIME);
            map.insert(
                (channel.to_string(), user.to_string()),
                (url.to_string(), now),
            );
        }
    }

    /// A still-valid response_url for a public answer in `channel` (anyone's: everyone there sees it).
    pub fn for_channel(&self, channel: &str) -> Option<String> {
        let map = self.by_channel.lock().ok()?;
        fresh(map.get(channel))
    }

    /// A still-valid response_url of `user`'s own in `channel`, for an answer only they may see.
    pub fn for_person(&self, channel: &str, user: &str) -> Option<String> {
        let map = self.by_person.lock().ok()?;
        fresh(map.get(&(channel.to_string(), user.to_string())))
    }
}

fn fresh(entry: Option<&(String, Instant)>) -> Option<String> {
    entry
        .filter(|(_, at)| at.elapsed() < RESPONSE_URL_LIFETIME)
        .map(|(url, _)| url.clone())
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
    fn remembers_the_latest_url_per_channel_and_person() {
        let urls = ResponseUrls::default();
        assert_eq!(urls.for_channel("C1"), None);
        urls.remember("C1", "U1", "https://hooks.slack.com/a");
        urls.remember("C1", "U2", "https://hooks.slack.com/b");
        assert_eq!(
            urls.for_channel("C1").as_deref(),
            Some("https://hooks.slack.com/b")
        );
        assert_eq!(
            urls.for_person("C1", "U1").as_deref(),
            Some("https://hooks.slack.com/a"),
            "a person's private answer never takes someone else's url"
        );
        assert_eq!(urls.for_person("C1", "U3"), None);
        assert_eq!(urls.for_channel("C2"), None);
        assert_eq!(body(true, "t", &[])["response_type"], "in_channel");
        assert_eq!(body(false, "t", &[])["response_type"], "ephemeral");
    }
}
