//! The PagerDuty Events API v2 client: trigger, acknowledge and resolve an alert keyed by the incident (dedup
//! key), with the manual's severities mapped to PagerDuty's. The routing key is a secret; the base URL a setting
//! (tests point it at a fake receiver).

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::model::Severity;

/// PagerDuty's Events API base URL.
pub const DEFAULT_BASE_URL: &str = "https://events.pagerduty.com";

/// Where and how to page. `Debug` never shows the routing key.
#[derive(Clone)]
pub struct PagerDutyConfig {
    /// The integration's routing key (a secret).
    pub routing_key: SecretString,
    /// The Events API base URL; events go to `{base_url}/v2/enqueue`.
    pub base_url: String,
    /// The `payload.source` of triggered alerts (which system is affected).
    pub source: String,
    /// How long one delivery may take.
    pub timeout: Duration,
}

impl std::fmt::Debug for PagerDutyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PagerDutyConfig")
            .field("routing_key", &"***")
            .field("base_url", &self.base_url)
            .field("source", &self.source)
            .finish()
    }
}

/// What to tell PagerDuty about the alert of one incident.
#[derive(Clone, Debug, PartialEq)]
pub enum PageEvent {
    /// Open (or re-notify) the alert.
    Trigger {
        summary: String,
        severity: Severity,
        details: Value,
    },
    /// Someone took it.
    Acknowledge,
    /// It is over.
    Resolve,
}

impl PageEvent {
    /// The Events API `event_action`.
    pub fn action(&self) -> &'static str {
        match self {
            PageEvent::Trigger { .. } => "trigger",
            PageEvent::Acknowledge => "acknowledge",
            PageEvent::Resolve => "resolve",
        }
    }
}

/// Why a page was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error(
        "PagerDuty at {url} is unreachable ({reason}); the incident goes on, page the on-call by phone"
    )]
    Unreachable { url: String, reason: String },
    #[error(
        "PagerDuty refused the event (HTTP {status}: {body}); check the routing key in [pagerduty]"
    )]
    Refused { status: u16, body: String },
}

/// Sends events to the PagerDuty Events API v2.
#[derive(Clone, Debug)]
pub struct PagerDuty {
    http: reqwest::Client,
    config: PagerDutyConfig,
}

impl PagerDuty {
    /// A client for `config`.
    pub fn new(config: PagerDutyConfig) -> Self {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .unwrap_or_default();
        PagerDuty { http, config }
    }

    /// The JSON body of `event` for the alert `dedup_key` (public for tests).
    pub fn body(&self, dedup_key: &str, event: &PageEvent) -> Value {
        let mut body = json!({
            "routing_key": self.config.routing_key.expose_secret(),
            "event_action": event.action(),
            "dedup_key": dedup_key,
        });
        if let PageEvent::Trigger {
            summary,
            severity,
            details,
        } = event
        {
            body["payload"] = json!({
                "summary": truncate(summary, 1024),
                "source": self.config.source,
                "severity": severity.pagerduty(),
                "custom_details": details,
            });
        }
        body
    }

    /// Delivers `event`; `Ok` once PagerDuty accepted it (HTTP 2xx).
    pub async fn send(&self, dedup_key: &str, event: &PageEvent) -> Result<(), PageError> {
        let url = format!("{}/v2/enqueue", self.config.base_url.trim_end_matches('/'));
        let response = self
            .http
            .post(&url)
            .json(&self.body(dedup_key, event))
            .send()
            .await
            .map_err(|e| PageError::Unreachable {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        Err(PageError::Refused {
            status: status.as_u16(),
            body: truncate(&body, 300),
        })
    }
}

/// Cuts `text` to at most `max` characters (PagerDuty limits the summary to 1024).
fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> PagerDuty {
        PagerDuty::new(PagerDutyConfig {
            routing_key: SecretString::from("R0UTING"),
            base_url: "http://127.0.0.1:9".into(),
            source: "mystocks-api".into(),
            timeout: Duration::from_secs(1),
        })
    }

    #[test]
    fn trigger_carries_the_payload() {
        let event = PageEvent::Trigger {
            summary: "P1 api down".into(),
            severity: Severity::P1,
            details: json!({}),
        };
        let body = client().body("mystocks-incident-1", &event);
        assert_eq!(body["event_action"], "trigger");
        assert_eq!(body["routing_key"], "R0UTING");
        assert_eq!(body["dedup_key"], "mystocks-incident-1");
        assert_eq!(body["payload"]["severity"], "critical");
        assert_eq!(body["payload"]["source"], "mystocks-api");
    }

    #[test]
    fn ack_and_resolve_have_no_payload() {
        let body = client().body("k", &PageEvent::Resolve);
        assert_eq!(body["event_action"], "resolve");
        assert!(body.get("payload").is_none());
    }

    #[test]
    fn debug_hides_the_routing_key() {
        assert!(!format!("{client:?}", client = client()).contains("R0UTING"));
    }

    #[tokio::test]
    async fn unreachable_says_so() {
        let err = client()
            .send("k", &PageEvent::Acknowledge)
            .await
            .expect_err("nothing listens on port 9");
        assert!(err.to_string().contains("unreachable"));
    }
}
