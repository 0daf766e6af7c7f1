//! The Kubernetes API server: one handler that authenticates, records, routes and answers every request.
//! Routing by path lives in `path.rs`; reads in `read.rs`; watches in `watch.rs`; deployment writes in
//! `write.rs`; ConfigMap create / update in `config_maps.rs`; pod delete / logs / proxy in `pods.rs`; PodMetrics in
//! `metrics.rs`; errors in `status.rs`.

mod config_maps;
pub mod discovery;
mod metrics;
pub mod patch;
pub mod path;
mod pods;
pub mod query;
mod read;
pub mod status;
pub mod table;
mod watch;
mod write;

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};

use crate::auth::{RequestAttributes, SimToken, find_token};
use crate::cluster::Cluster;
use crate::request_log::RecordedRequest;
use crate::world::ClusterView;
use path::{ResourcePath, Route};
use query::Query;
use status::{ApiError, ApiResult, json_response};

/// Largest request body accepted.
const MAX_BODY: usize = 8 * 1024 * 1024;

/// What the handlers share.
pub struct ApiState {
    pub cluster: Arc<Cluster>,
    /// `host:port` the server listens on, for legacy discovery.
    pub server_address: String,
}

/// One parsed API request.
pub struct Req {
    pub method: Method,
    pub path: ResourcePath,
    pub query: Query,
    /// Path and query as sent.
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub token: SimToken,
}

impl Req {
    /// A header as text (empty when absent).
    pub fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The namespace, or a 404 for a namespaced path without one.
    pub fn namespace(&self) -> &str {
        self.path.namespace.as_deref().unwrap_or("")
    }
}

/// The API router.
pub fn router(state: Arc<ApiState>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

async fn handle(State(st): State<Arc<ApiState>>, req: Request) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let uri = parts
        .uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_else(|| parts.uri.path().to_string());
    let header = |n: &str| {
        parts
            .headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let token = find_token(&st.cluster.tokens, header("authorization").as_deref()).cloned();
    let mut record = RecordedRequest {
        method: parts.method.to_string(),
        path: uri.clone(),
        patch_type: (parts.method == Method::PATCH)
            .then(|| header("content-type").unwrap_or_default()),
        token_name: token.as_ref().map(|t| t.name.clone()),
        kubectl_command: header("kubectl-command"),
        status: 0,
    };
    let route = path::parse(parts.uri.path());
    let response = match route {
        Route::Version => json_response(StatusCode::OK, &discovery::version()),
        Route::Health => text(StatusCode::OK, "ok"),
        _ => match token {
            None => ApiError::unauthorized().into_response(),
            Some(token) => match axum::body::to_bytes(body, MAX_BODY).await {
                Err(_) => ApiError::bad_request(format!(
                    "request body too large (limit {MAX_BODY} bytes)"
                ))
                .into_response(),
                Ok(body) => {
                    let accept = header("accept").unwrap_or_default();
                    match route {
                        Route::Resource(path) => {
                            let query = Query::parse(parts.uri.query());
                            let req = Req {
                                method: parts.method.clone(),
                                path,
                                query,
                                uri,
                                headers: parts.headers,
                                body,
                                token,
                            };
                            resource(&st, req)
                                .await
                                .unwrap_or_else(ApiError::into_response)
                        }
                        other => discovery_response(&st, &other, &accept)
                            .unwrap_or_else(ApiError::into_response),
                    }
                }
            },
        },
    };
    record.status = response.status().as_u16();
    st.cluster.requests.record(record);
    response
}

fn text(code: StatusCode, body: &str) -> Response<Body> {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = code;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn discovery_response(st: &ApiState, route: &Route, accept: &str) -> ApiResult {
    let aggregated = discovery::aggregated_version(accept);
    let (body, content_type) = match (route, aggregated) {
        (Route::CoreDiscovery, Some(v)) => (
            discovery::aggregated(true, v),
            discovery::aggregated_content_type(v),
        ),
        (Route::GroupsDiscovery, Some(v)) => (
            discovery::aggregated(false, v),
            discovery::aggregated_content_type(v),
        ),
        (Route::CoreDiscovery, None) => (
            discovery::api_versions(&st.server_address),
            "application/json".into(),
        ),
        (Route::GroupsDiscovery, None) => (discovery::api_group_list(), "application/json".into()),
        (Route::Group(g), _) => (
            discovery::group(g).ok_or_else(ApiError::no_route)?,
            "application/json".into(),
        ),
        (Route::GroupVersion(g, v), _) => (
            discovery::resource_list(g, v).ok_or_else(ApiError::no_route)?,
            "application/json".into(),
        ),
        _ => return Err(ApiError::no_route()),
    };
    let mut resp = json_response(StatusCode::OK, &body);
    if let Ok(ct) = HeaderValue::from_str(&content_type) {
        resp.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    Ok(resp)
}

/// Checks the request against the token's role (every RBAC attribute: verb, group, namespace, resource,
/// subresource, name — see `auth`).
fn authorize(req: &Req) -> ApiResult<()> {
    let Some(roles) = &req.token.roles else {
        return Ok(());
    };
    let attributes = RequestAttributes::of(&req.method, &req.path, &req.query);
    if roles.iter().any(|role| role.allows(&attributes)) {
        return Ok(());
    }
    Err(ApiError::forbidden(
        attributes.forbidden_message(&req.token.name),
    ))
}

async fn resource(st: &ApiState, req: Req) -> ApiResult {
    let p = &req.path;
    let info = discovery::find(&p.group, &p.version, &p.plural).ok_or_else(ApiError::no_route)?;
    if info.namespaced && p.namespace.is_none() && p.name.is_some() {
        return Err(ApiError::no_route());
    }
    authorize(&req)?;
    let cluster = &st.cluster;
    let sub = p.sub.as_deref();
    let is_get = req.method == Method::GET || req.method == Method::HEAD;
    match (info.group, info.plural, sub) {
        ("metrics.k8s.io", "pods", None) if is_get => metrics::pod_metrics(cluster, &req),
        ("", "pods", Some("log")) if is_get => pods::logs(cluster, &req),
        ("", "pods", Some("proxy")) => pods::proxy(cluster, &req).await,
        ("", "pods", None) if req.method == Method::DELETE => pods::delete(cluster, &req),
        ("apps", "deployments", None | Some("scale") | Some("status"))
            if matches!(req.method, Method::PATCH | Method::PUT) =>
        {
            let out = write::deployment(cluster, &req);
            if out.is_ok() {
                cluster.kick();
            }
            out
        }
        ("apps", "deployments", Some("scale")) if is_get => write::get_scale(cluster, &req),
        ("", "configmaps", None) if req.method == Method::PUT => config_maps::update(cluster, &req),
        ("", "configmaps", None) if req.method == Method::POST => {
            config_maps::create(cluster, &req)
        }
        (_, _, None | Some("status")) if is_get => read::get_or_list(cluster, info, &req),
        _ => Err(ApiError::method_not_allowed(req.method.as_str())),
    }
}

/// The view the application side uses, for the pod proxy and logs.
pub fn view(cluster: &Arc<Cluster>) -> Arc<dyn ClusterView> {
    cluster.clone()
}
