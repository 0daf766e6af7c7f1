//! The sim's control endpoint: read and switch the fault scenario at run time.
//!
//! `GET /` help, `GET /scenario`, `PUT /scenario` with `{"scenario":"bad-release","bad_tag":"v1.0.2"}`
//! (`bad_tag` optional: kept when absent), `POST /scenario/{name}[?bad_tag=TAG]`.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::{Response, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::pod_http::{json_response, text_response};
use crate::world::{ClusterControl, Scenario, ScenarioState};

const HELP: &str = "\
mystocks-sim control endpoint

  GET  /scenario                     the current scenario, as JSON
  PUT  /scenario                     switch: {\"scenario\":\"bad-release\",\"bad_tag\":\"v1.0.2\"} (bad_tag optional)
  POST /scenario/{name}[?bad_tag=T]  switch by name

scenarios: healthy, bad-release, high-cpu, db-pool-exhausted, high-latency, redis-down
";

type Control = Arc<dyn ClusterControl>;

/// The control endpoint's routes. Unknown scenario or malformed body → 400 with what is accepted.
pub fn control_router(control: Arc<dyn ClusterControl>) -> Router {
    Router::new()
        .route("/", get(|| async { HELP }))
        .route("/scenario", get(current).put(put_scenario))
        .route("/scenario/{name}", post(post_scenario))
        .with_state(control)
}

async fn current(State(control): State<Control>) -> Json<ScenarioState> {
    Json(control.scenario())
}

#[derive(Deserialize)]
struct Switch {
    scenario: String,
    bad_tag: Option<String>,
}

#[derive(Deserialize)]
struct TagQuery {
    bad_tag: Option<String>,
}

async fn put_scenario(State(control): State<Control>, body: Bytes) -> Response<Body> {
    match serde_json::from_slice::<Switch>(&body) {
        Ok(switch) => apply(control.as_ref(), &switch.scenario, switch.bad_tag),
        Err(e) => bad_request(format!(
            "malformed body: {e}; send JSON like {{\"scenario\":\"bad-release\",\"bad_tag\":\"v1.0.2\"}}"
        )),
    }
}

async fn post_scenario(
    State(control): State<Control>,
    Path(name): Path<String>,
    Query(query): Query<TagQuery>,
) -> Response<Body> {
    apply(control.as_ref(), &name, query.bad_tag)
}

fn apply(control: &dyn ClusterControl, name: &str, bad_tag: Option<String>) -> Response<Body> {
    let scenario = match name.parse::<Scenario>() {
        Ok(s) => s,
        Err(e) => return bad_request(e),
    };
    let mut state = control.scenario();
    state.scenario = scenario;
    if let Some(tag) = bad_tag {
        if tag.is_empty()
            || tag.len() > 128
            || tag.contains(|c: char| c.is_whitespace() || c == '"')
        {
            return bad_request(format!(
                "invalid bad_tag `{tag}`: give an image tag like v1.0.2"
            ));
        }
        state.bad_tag = tag;
    }
    control.set_scenario(state.clone());
    // Serialised from the struct, so the fields keep GET's order: scenario, then bad_tag.
    let body = serde_json::to_string(&state).unwrap_or_default();
    text_response(StatusCode::OK, "application/json", body)
}

fn bad_request(message: String) -> Response<Body> {
    let known: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
    let body = json!({ "error": message, "known": known });
    let mut response = json_response(StatusCode::BAD_REQUEST, body);
    response.headers_mut().remove(http::header::SERVER);
    response
}
