//! The bot's own endpoints, on a port apart from the public Slack endpoint: `/healthz` (the process is alive),
//! `/readyz` (store, coordinator and cluster each answer; `?degraded=ok` also answers 200 while one is down, for
//! the readiness probe — a degraded bot still answers read-only commands; the audit checkpoint refusing to publish
//! over a cut-short log is reported the same way; a stopping bot answers 503 `draining`
//! whatever is asked, so no new traffic is sent its way while it finishes what is in flight) and `/metrics`
//! (Prometheus).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mystocks_commands::audit_anchor::AnchorHealth;
use mystocks_commands::engine::{Core, Dependency};
use mystocks_commands::store::ApprovalState;
use serde::Deserialize;
use tokio::net::TcpListener;

use crate::metrics::Metrics;

/// How long one dependency may take to answer a readiness check.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// What the ops endpoints read: the core (its store, coordinator and cluster client) and the metrics.
#[derive(Clone)]
pub struct OpsState {
    pub core: Core,
    pub metrics: Arc<Metrics>,
}

/// The routes `/healthz`, `/readyz` and `/metrics`.
pub fn routes(state: OpsState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Serves the ops routes on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: OpsState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, routes(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// The answer of one dependency's check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub dependency: Dependency,
    /// None when it answered; the reason otherwise.
    pub problem: Option<String>,
}

/// Checks the store, the coordinator and the cluster concurrently, each within [`CHECK_TIMEOUT`].
pub async fn check_dependencies(core: &Core) -> Vec<Check> {
    let ctx = core.context();
    let store = async {
        ctx.store
            .freeze()
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    };
    let coordinator = async {
        let key = format!(
            "ready:{}:{}",
            ctx.settings.process_id,
            rand::random::<u32>()
        );
        ctx.coordinator
            .claim(&key, Duration::from_secs(1))
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    };
    let cluster = async {
        ctx.kube
            .apiserver_version()
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    };
    let (s, c, k) = tokio::join!(timed(store), timed(coordinator), timed(cluster));
    [
        (Dependency::Store, s),
        (Dependency::Coordinator, c),
        (Dependency::Kubernetes, k),
    ]
    .into_iter()
    .map(|(dependency, result)| Check {
        dependency,
        problem: result.err(),
    })
    .collect()
}

async fn timed(check: impl Future<Output = Result<(), String>>) -> Result<(), String> {
    match tokio::time::timeout(CHECK_TIMEOUT, check).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
    }
}

#[derive(Debug, Default, Deserialize)]
struct ReadyQuery {
    /// `ok`: answer 200 while degraded (the readiness probe); anything else or absent: strict.
    degraded: Option<String>,
}

async fn ready(State(state): State<OpsState>, Query(q): Query<ReadyQuery>) -> (StatusCode, String) {
    if state.core.is_stopping() {
        let in_flight = state.core.invocations_in_flight();
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("draining\nstopping: no new work is taken; {in_flight} command(s) in flight\n"),
        );
    }
    let checks = check_dependencies(&state.core).await;
    let mut body = String::new();
    for c in &checks {
        state
            .metrics
            .set_dependency_up(c.dependency, c.problem.is_none());
        match &c.problem {
            None => body.push_str(&format!("{}: ok\n", c.dependency.as_str())),
            Some(p) => {
                tracing::warn!(dependency = c.dependency.as_str(), problem = %p, "not ready");
                body.push_str(&format!("{}: unavailable — {p}\n", c.dependency.as_str()));
            }
        }
    }
    let anchored = audit_checkpoint(&state.core, &mut body);
    let all_up = checks.iter().all(|c| c.problem.is_none()) && anchored;
    let status = if all_up || q.degraded.as_deref() == Some("ok") {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let verdict = if all_up { "ready" } else { "degraded" };
    (status, format!("{verdict}\n{body}"))
}

/// The audit checkpoint's line of `/readyz` (none when it is not configured); false while the publisher refuses
/// to write (the log lost the checkpointed row) or cannot reach the ConfigMap. Such a bot stays up for the
/// probe's `?degraded=ok`, so an admin can still run `audit verify` and `audit reanchor` in chat.
fn audit_checkpoint(core: &Core, body: &mut String) -> bool {
    let Some(anchor) = &core.context().audit_anchor else {
        return true;
    };
    match anchor.health() {
        AnchorHealth::Starting => {
            body.push_str("audit-checkpoint: ok (nothing checkpointed yet)\n")
        }
        AnchorHealth::Anchored { seq } => {
            body.push_str(&format!("audit-checkpoint: ok (entry {seq})\n"))
        }
        AnchorHealth::Refused(why) => {
            body.push_str(&format!("audit-checkpoint: REFUSED — {why}\n"));
            return false;
        }
        AnchorHealth::Unavailable(why) => {
            body.push_str(&format!("audit-checkpoint: unavailable — {why}\n"));
            return false;
        }
    }
    true
}

async fn metrics(State(state): State<OpsState>) -> Response {
    let store = &state.core.context().store;
    match store
        .approvals_in_state(&[ApprovalState::Pending], 10_000)
        .await
    {
        Ok(pending) => state.metrics.set_approvals_pending(pending.len()),
        Err(e) => {
            tracing::warn!(error = %e, "cannot count pending approvals");
            use mystocks_commands::engine::CoreMetrics as _;
            state.metrics.dependency_error(Dependency::Store);
        }
    }
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    (
        [(header::CONTENT_TYPE, content_type)],
        state.metrics.render(),
    )
        .into_response()
}
