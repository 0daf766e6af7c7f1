//! A fake PagerDuty Events API v2 receiver on port 0: validates every event (routing key, event_action,
//! dedup_key, and for a trigger payload.summary / source / severity), answers 202 like PagerDuty or 400 with the
//! errors, and keeps what it accepted and rejected for assertions.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::{Value, json};

/// The routing key the fake accepts.
pub const ROUTING_KEY: &str = "R0UTINGKEYFORTESTS00000000000000";

/// One accepted event.
#[derive(Clone, Debug, PartialEq)]
pub struct PageRecord {
    pub action: String,
    pub dedup_key: String,
    /// `payload.summary` (triggers only).
    pub summary: Option<String>,
    /// `payload.severity` (triggers only).
    pub severity: Option<String>,
    pub body: Value,
}

#[derive(Default)]
struct Received {
    accepted: Vec<PageRecord>,
    rejected: Vec<(Value, Vec<String>)>,
}

/// The running fake.
pub struct FakePagerDuty {
    /// Base URL to configure as the Events API (`http://127.0.0.1:PORT`).
    pub url: String,
    received: Arc<Mutex<Received>>,
    server: tokio::task::JoinHandle<()>,
}

impl FakePagerDuty {
    /// Starts the receiver on a free loopback port.
    pub async fn start() -> FakePagerDuty {
        let received = Arc::new(Mutex::new(Received::default()));
        let app = axum::Router::new()
            .route("/v2/enqueue", post(enqueue))
            .with_state(received.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake PagerDuty");
        let url = format!(
            "http://{}",
            listener.local_addr().expect("fake PagerDuty address")
        );
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakePagerDuty {
            url,
            received,
            server,
        }
    }

    /// Every accepted event, in arrival order.
    pub fn accepted(&self) -> Vec<PageRecord> {
        self.received
            .lock()
            .expect("fake PagerDuty lock")
            .accepted
            .clone()
    }

    /// Accepted events with this `event_action`.
    pub fn count(&self, action: &str) -> usize {
        self.accepted()
            .iter()
            .filter(|r| r.action == action)
            .count()
    }

    /// Events refused as invalid, with the reasons.
    pub fn rejected(&self) -> Vec<(Value, Vec<String>)> {
        self.received
            .lock()
            .expect("fake PagerDuty lock")
            .rejected
            .clone()
    }
}

impl Drop for FakePagerDuty {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn enqueue(
    State(received): State<Arc<Mutex<Received>>>,
    body: Option<Json<Value>>,
) -> (StatusCode, Json<Value>) {
    let body = body.map(|Json(v)| v).unwrap_or(Value::Null);
    let errors = validate(&body);
    let mut received = received.lock().expect("fake PagerDuty lock");
    if !errors.is_empty() {
        received.rejected.push((body, errors.clone()));
        return (
            StatusCode::BAD_REQUEST,
            Json(
                json!({ "status": "invalid event", "message": "Event object is invalid", "errors": errors }),
            ),
        );
    }
    let text = |v: &Value| v.as_str().map(str::to_string);
    let record = PageRecord {
        action: text(&body["event_action"]).unwrap_or_default(),
        dedup_key: text(&body["dedup_key"]).unwrap_or_default(),
        summary: text(&body["payload"]["summary"]),
        severity: text(&body["payload"]["severity"]),
        body: body.clone(),
    };
    let dedup_key = record.dedup_key.clone();
    received.accepted.push(record);
    (
        StatusCode::ACCEPTED,
        Json(json!({ "status": "success", "message": "Event processed", "dedup_key": dedup_key })),
    )
}

/// What PagerDuty would refuse in an Events API v2 body.
pub fn validate(body: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let non_empty = |v: &Value| v.as_str().is_some_and(|s| !s.trim().is_empty());
    if body["routing_key"].as_str() != Some(ROUTING_KEY) {
        errors.push("routing_key is missing or unknown".to_string());
    }
    let action = body["event_action"].as_str().unwrap_or_default();
    if !["trigger", "acknowledge", "resolve"].contains(&action) {
        errors.push(format!(
            "event_action `{action}` is not trigger, acknowledge or resolve"
        ));
    }
    if !non_empty(&body["dedup_key"]) {
        errors.push("dedup_key is required (the bot keys alerts by incident)".to_string());
    }
    if action == "trigger" {
        let payload = &body["payload"];
        if !non_empty(&payload["summary"])
            || payload["summary"]
                .as_str()
                .is_some_and(|s| s.chars().count() > 1024)
        {
            errors.push("payload.summary is required (at most 1024 characters)".to_string());
        }
        if !non_empty(&payload["source"]) {
            errors.push("payload.source is required".to_string());
        }
        let severity = payload["severity"].as_str().unwrap_or_default();
        if !["critical", "error", "warning", "info"].contains(&severity) {
            errors.push(format!(
                "payload.severity `{severity}` is not critical, error, warning or info"
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_each_problem() {
        let ok = json!({ "routing_key": ROUTING_KEY, "event_action": "trigger", "dedup_key": "k",
                         "payload": { "summary": "s", "source": "src", "severity": "critical" } });
        assert!(validate(&ok).is_empty());
        let bad = json!({ "routing_key": "nope", "event_action": "trigger", "payload": { "severity": "P1" } });
        let errors = validate(&bad);
        assert_eq!(errors.len(), 5, "{errors:?}");
        let ack =
            json!({ "routing_key": ROUTING_KEY, "event_action": "acknowledge", "dedup_key": "k" });
        assert!(validate(&ack).is_empty());
    }
}
