//! The Slack HTTP endpoints (an axum `Router` the bot merges into its server): `/slack/commands`,
//! `/slack/events`, `/slack/interactions`. Each request is verified over its raw body first; unsigned, badly
//! signed or stale requests get 401 and change nothing.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use super::ack::AckAnswer;
use super::escape::mrkdwn;
use super::front::{Ack, SlackFront};
use super::inbound::{self, Inbound};
use crate::in_flight::BUSY;

use super::signature::{SIGNATURE_HEADER, SlackSigner, TIMESTAMP_HEADER, unix_now};

/// The current Unix time in seconds (tests inject their own).
pub type UnixClock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Paths of the endpoints, for the app manifest.
pub const COMMANDS_PATH: &str = "/slack/commands";
pub const EVENTS_PATH: &str = "/slack/events";
pub const INTERACTIONS_PATH: &str = "/slack/interactions";

struct Endpoint {
    front: SlackFront,
    signer: SlackSigner,
    now: UnixClock,
}

/// The Slack routes over `front`, verifying with `signer` against the system clock.
pub fn router(front: SlackFront, signer: SlackSigner) -> Router {
    router_with_clock(front, signer, Arc::new(unix_now))
}

/// As [`router`], with an injected clock.
pub fn router_with_clock(front: SlackFront, signer: SlackSigner, now: UnixClock) -> Router {
    Router::new()
        .route(COMMANDS_PATH, post(command))
        .route(EVENTS_PATH, post(event))
        .route(INTERACTIONS_PATH, post(interaction))
        // Shared, not cloned per request: the front holds the bot's identity strings and a dozen handles.
        .with_state(Arc::new(Endpoint { front, signer, now }))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Verifies the request; a failure is returned as the 401 to answer.
fn verify(ep: &Endpoint, headers: &HeaderMap, body: &[u8]) -> Result<(), Box<Response>> {
    let signature = header(headers, SIGNATURE_HEADER);
    match ep.signer.verify(
        signature,
        header(headers, TIMESTAMP_HEADER),
        body,
        (ep.now)(),
    ) {
        Ok(()) => Ok(()),
        Err(e) => {
            tracing::warn!(error = %e, "rejected an unverified Slack request");
            Err(Box::new(
                (StatusCode::UNAUTHORIZED, format!("{e}\n")).into_response(),
            ))
        }
    }
}

fn bad_request(e: inbound::InboundError) -> Response {
    tracing::warn!(error = %e, "malformed Slack request");
    (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response()
}

fn plain_ack(ack: Ack) -> Response {
    match ack {
        Ack::ForeignApp => (
            StatusCode::FORBIDDEN,
            "this endpoint serves another Slack app\n",
        )
            .into_response(),
        // Not taken: Slack retries an event later, and shows a press as failed so the person presses again.
        Ack::Busy => (StatusCode::SERVICE_UNAVAILABLE, format!("{BUSY}\n")).into_response(),
        _ => StatusCode::OK.into_response(),
    }
}

async fn command(State(ep): State<Arc<Endpoint>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = verify(&ep, &headers, &body) {
        return *r;
    }
    let parsed = match inbound::parse_command_form(&body) {
        Ok(c) => c,
        Err(e) => return bad_request(e),
    };
    match ep.front.command(parsed).await {
        // Echo the command in the channel; the answer follows as the bot's own message.
        Ack::Accepted => axum::Json(json!({"response_type": "in_channel"})).into_response(),
        Ack::Working => axum::Json(AckAnswer::working_body()).into_response(),
        Ack::Answered(answer) => axum::Json(answer.body()).into_response(),
        Ack::Refused(text) => {
            axum::Json(json!({"response_type": "ephemeral", "text": mrkdwn(&text)})).into_response()
        }
        Ack::Busy => {
            axum::Json(json!({"response_type": "ephemeral", "text": mrkdwn(BUSY)})).into_response()
        }
        other => plain_ack(other),
    }
}

async fn event(State(ep): State<Arc<Endpoint>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = verify(&ep, &headers, &body) {
        return *r;
    }
    if let Some(retry) = header(&headers, "x-slack-retry-num") {
        tracing::debug!(
            retry,
            reason = header(&headers, "x-slack-retry-reason"),
            "Slack retried an event"
        );
    }
    let bot = ep.front.identity().bot_user_id.clone();
    match inbound::parse_event(&body, bot.as_deref()) {
        Ok(Inbound::UrlVerification { challenge }) => {
            axum::Json(json!({"challenge": challenge})).into_response()
        }
        Ok(Inbound::Message(m)) => plain_ack(ep.front.message(m).await),
        Ok(Inbound::Reaction(r)) => plain_ack(ep.front.reaction(r).await),
        Ok(_) => StatusCode::OK.into_response(),
        Err(e) => bad_request(e),
    }
}

async fn interaction(State(ep): State<Arc<Endpoint>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = verify(&ep, &headers, &body) {
        return *r;
    }
    match inbound::parse_interaction_form(&body) {
        Ok(Inbound::Button(b)) => plain_ack(ep.front.button(b).await),
        Ok(_) => StatusCode::OK.into_response(),
        Err(e) => bad_request(e),
    }
}
