//! One pod's own instance of the app answering HTTP: `/health`, `/api/health/database`, `/metrics`. A pod
//! whose process is not up fails the way the API server's pod proxy reports an unreachable pod.

use std::net::Ipv4Addr;
use std::time::Duration;

use axum::body::Body;
use http::{HeaderValue, Method, Response, StatusCode, header};
use serde_json::{Value, json};

use super::noise::{Noise, hash};
use super::profile::{Mode, Profile, can_answer, container_window, version};
use super::{counters, health, metrics};
use crate::world::{ClusterView, PodView};

/// The port the app listens on.
pub const APP_PORT: u16 = 8000;

/// The pod IP the app uses for `pod` in its messages: 10.0.x.y, stable per pod uid. The cluster may use it as
/// `status.podIP` so the two agree.
pub fn pod_ip(uid: &str) -> Ipv4Addr {
    let h = hash(&[uid.as_bytes(), b"ip"]);
    Ipv4Addr::new(10, 0, 1 + (h % 8) as u8, 2 + ((h >> 8) % 250) as u8)
}

/// `pod`'s own instance of the app answering `method path_and_query`, as the pod proxy would reach it.
///
/// - A pod whose process is not listening (Pending, ContainerCreating, CrashLoopBackOff, ImagePullBackOff,
///   Terminating, or the bad release after it crashed) → 503 with the `Status` the API server's proxy sends:
///   message `error trying to reach service: dial tcp 10.0.x.y:8000: connect: connection refused`.
/// - Running → `/health`, `/api/health/database`, `/metrics`, `/health/live` (the kubelet's probe: 200
///   while the process is up) (GET or HEAD), anything else 404
///   `{"detail":"Not Found"}`, other methods 405. Not ready → `/health` answers 503 `unhealthy`.
/// - Under `high-latency` `/health` really takes 600–1200 ms (it pings the slow time-series store); under
///   `high-cpu` both health endpoints take a few tens of ms; under `db-pool-exhausted` `/api/health/database`
///   waits its checkout timeout (500 ms) before it answers 503.
pub async fn respond_as_pod(
    view: &dyn ClusterView,
    pod: &PodView,
    method: &Method,
    path_and_query: &str,
) -> Response<Body> {
    let scenario = view.scenario();
    let now = view.now();
    let mode = Mode::of(pod, &scenario);
    if !can_answer(pod, mode, now) {
        return unreachable(pod);
    }
    let profile = Profile::of(mode);
    // `health`, `/health` and `/health/` all name the same endpoint.
    let path = path_and_query.split(['?', '#']).next().unwrap_or("");
    let path = format!("/{}", path.trim_matches('/'));
    let path = path.as_str();
    let known = matches!(
        path,
        "/health" | "/health/live" | "/api/health/database" | "/metrics"
    );
    if known && method != Method::GET && method != Method::HEAD {
        return json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({ "detail": "Method Not Allowed" }),
        );
    }
    let delay = match path {
        "/health" => delay(profile.health_delay_ms, &pod.uid, now),
        "/api/health/database" => delay(profile.database_health_delay_ms, &pod.uid, now),
        _ => Duration::ZERO,
    };
    let response = match path {
        "/health" => {
            let uptime = pod.started_at.map_or(0, |s| (now - s).num_seconds().max(0));
            let ready = pod.serving();
            let (status, body) = health::health(mode, ready, version(pod), &pod.name, uptime);
            json_response(status_code(status), body)
        }
        "/health/live" => json_response(StatusCode::OK, json!({ "status": "alive" })),
        "/api/health/database" => {
            let (status, body) =
                health::database(mode, health::pool(&profile, &pod.uid, now.timestamp()));
            json_response(status_code(status), body)
        }
        "/metrics" => metrics_response(pod, &profile, now),
        _ => json_response(StatusCode::NOT_FOUND, json!({ "detail": "Not Found" })),
    };
    let receives_traffic = pod.serving() || mode == Mode::Crashing;
    let status = response.status().as_u16();
    counters::with(pod, &profile, receives_traffic, now, |c| {
        c.add_request(status, delay.as_secs_f64() + 0.002)
    });
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    response
}

/// What the API server's pod proxy answers when nothing listens on the pod's port: a `Status`, which kubectl
/// prints as `Error from server (ServiceUnavailable): error trying to reach service: …`.
fn unreachable(pod: &PodView) -> Response<Body> {
    let ip = pod_ip(&pod.uid);
    let message = format!(
        "error trying to reach service: dial tcp {ip}:{APP_PORT}: connect: connection refused"
    );
    let status = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": "ServiceUnavailable",
        "code": 503,
    });
    let mut response = json_response(StatusCode::SERVICE_UNAVAILABLE, status);
    response.headers_mut().remove(header::SERVER);
    response
}

/// How long a health endpoint really takes, in its `(lo, hi)` range of ms, varying per second.
fn delay((lo, hi): (u64, u64), uid: &str, now: chrono::DateTime<chrono::Utc>) -> Duration {
    if hi == 0 {
        return Duration::ZERO;
    }
    Duration::from_millis(Noise::at(uid, now.timestamp(), "health-delay").range(lo, hi))
}

fn metrics_response(
    pod: &PodView,
    profile: &Profile,
    now: chrono::DateTime<chrono::Utc>,
) -> Response<Body> {
    let receives_traffic = pod.serving() || profile.mode == Mode::Crashing;
    let pool = health::pool(profile, &pod.uid, now.timestamp());
    let started = container_window(pod, profile.mode).map_or(now, |(s, _)| s);
    let minute = now.timestamp().div_euclid(60);
    let jitter = Noise::at(&pod.uid, minute, "hit-ratio").jitter(0.02);
    let recent_hit_ratio = (profile.cache_hit_ratio * jitter).clamp(0.0, 1.0);
    let text = counters::with(pod, profile, receives_traffic, now, |c| {
        metrics::render(&metrics::Snapshot {
            counters: c,
            pool,
            recent_hit_ratio,
            started,
            version: version(pod),
        })
    })
    .unwrap_or_default();
    text_response(StatusCode::OK, metrics::CONTENT_TYPE, text)
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A JSON response, as FastAPI renders it.
pub(crate) fn json_response(status: StatusCode, body: Value) -> Response<Body> {
    text_response(status, "application/json", body.to_string())
}

/// A response with a body and its content type.
pub(crate) fn text_response(
    status: StatusCode,
    content_type: &'static str,
    body: String,
) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
        .headers_mut()
        .insert(header::SERVER, HeaderValue::from_static("uvicorn"));
    response
}
