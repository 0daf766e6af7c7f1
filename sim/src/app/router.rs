//! The load-balanced app URL, standing in for `http://mystocks-api:8000`: each request goes to the next serving
//! pod, round robin, which answers as itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use http::{HeaderValue, Request, Response, StatusCode};

use super::pod_http::{respond_as_pod, text_response};
use crate::world::ClusterView;

struct Balancer {
    view: Arc<dyn ClusterView>,
    next: AtomicUsize,
}

/// The app behind its load balancer. Every path is forwarded to one serving pod (ready and running), picked
/// round robin; the answer carries `x-served-by: <pod>`. No serving pod → 503 `no healthy upstream`.
pub fn http_router(view: Arc<dyn ClusterView>) -> Router {
    let balancer = Arc::new(Balancer {
        view,
        next: AtomicUsize::new(0),
    });
    Router::new().fallback(forward).with_state(balancer)
}

async fn forward(State(balancer): State<Arc<Balancer>>, request: Request<Body>) -> Response<Body> {
    let mut pods: Vec<_> = balancer
        .view
        .app_pods()
        .into_iter()
        .filter(|p| p.serving())
        .collect();
    if pods.is_empty() {
        return text_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain; charset=utf-8",
            "no healthy upstream".into(),
        );
    }
    pods.sort_by(|a, b| a.name.cmp(&b.name));
    let pod = &pods[balancer.next.fetch_add(1, Ordering::Relaxed) % pods.len()];
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let mut response = respond_as_pod(balancer.view.as_ref(), pod, request.method(), path).await;
    if let Ok(name) = HeaderValue::from_str(&pod.name) {
        response.headers_mut().insert("x-served-by", name);
    }
    response
}
