//! A tiny in-memory cluster for the app tests: a list of pods, a scenario and a settable clock.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};
use http::Method;
use mystocks_sim::app;
use mystocks_sim::world::{
    ClusterControl, ClusterView, PodState, PodView, Scenario, ScenarioState,
};
use serde_json::Value;

/// The fake's state.
pub struct FakeCluster {
    inner: Mutex<(Vec<PodView>, ScenarioState, DateTime<Utc>)>,
}

/// A fixed "now" so tests are reproducible.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0)
        .single()
        .expect("valid date")
}

/// A pod of the app deployment in `state`, started `age` seconds before [`t0`] (None: never started).
pub fn pod(name: &str, image: &str, state: PodState, age: Option<i64>) -> PodView {
    PodView {
        name: name.to_string(),
        uid: format!("uid-{name}"),
        image: image.to_string(),
        container: "mystocks-api".to_string(),
        state,
        started_at: age.map(|a| t0() - Duration::seconds(a)),
        created_at: t0() - Duration::seconds(age.unwrap_or(0) + 30),
        restarts: 0,
    }
}

/// A ready pod running `image` for ten minutes.
pub fn ready(name: &str, image: &str) -> PodView {
    pod(name, image, PodState::Running { ready: true }, Some(600))
}

impl FakeCluster {
    /// A cluster with these pods, under `scenario`, at [`t0`].
    pub fn new(pods: Vec<PodView>, scenario: Scenario) -> Arc<FakeCluster> {
        let state = ScenarioState {
            scenario,
            ..ScenarioState::default()
        };
        Arc::new(FakeCluster {
            inner: Mutex::new((pods, state, t0())),
        })
    }

    /// Three ready pods running v1.0.1 under `scenario`, with names unique to `tag`.
    pub fn three(tag: &str, scenario: Scenario) -> Arc<FakeCluster> {
        let pods = (1..=3)
            .map(|i| ready(&format!("{tag}-{i}"), "mystocks/api:v1.0.1"))
            .collect();
        FakeCluster::new(pods, scenario)
    }

    /// Switches the scenario, keeping the bad tag.
    pub fn set_scenario_name(&self, scenario: Scenario) {
        self.inner.lock().expect("lock").1.scenario = scenario;
    }

    /// Moves the clock forward.
    pub fn advance(&self, seconds: i64) {
        self.inner.lock().expect("lock").2 += Duration::seconds(seconds);
    }
}

impl ClusterView for FakeCluster {
    fn app_pods(&self) -> Vec<PodView> {
        self.inner.lock().expect("lock").0.clone()
    }
    fn scenario(&self) -> ScenarioState {
        self.inner.lock().expect("lock").1.clone()
    }
    fn now(&self) -> DateTime<Utc> {
        self.inner.lock().expect("lock").2
    }
}

impl ClusterControl for FakeCluster {
    fn set_scenario(&self, state: ScenarioState) {
        self.inner.lock().expect("lock").1 = state;
    }
}

/// Serves `router` on a loopback port; the server lives as long as the test's runtime.
pub async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

/// The samples of a Prometheus text exposition: `name{labels}` → value. Panics on a malformed line, which is
/// what the tests want to catch.
pub fn parse_metrics(text: &str) -> std::collections::BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (series, value) = l
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("no value in `{l}`"));
            let value: f64 = value
                .parse()
                .unwrap_or_else(|_| panic!("bad value in `{l}`"));
            (series.to_string(), value)
        })
        .collect()
}

/// GET `path` on `addr`: status, body and the `x-served-by` header.
pub async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String, Option<String>) {
    let response = reqwest::get(format!("http://{addr}{path}"))
        .await
        .expect("request");
    let status = response.status().as_u16();
    let served_by = response
        .headers()
        .get("x-served-by")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (status, response.text().await.expect("body"), served_by)
}

/// The body as JSON; panics with the body when it is not.
pub fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// `pod`'s own instance answering GET `path`: status and body.
pub async fn pod_body(
    view: &FakeCluster,
    pod: &mystocks_sim::world::PodView,
    path: &str,
) -> (u16, String) {
    let response = app::respond_as_pod(view, pod, &Method::GET, path).await;
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&bytes).into_owned())
}
