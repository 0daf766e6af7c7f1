//! Pod endpoints beyond reads: DELETE (graceful; the ReplicaSet replaces the pod), `log` (container, tailLines,
//! sinceSeconds, sinceTime, timestamps, previous, limitBytes, follow as a chunked stream) and the `proxy`
//! subresource answered by that pod's own instance of the app.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use chrono::{DateTime, SecondsFormat, Utc};
use http::{HeaderValue, Response, StatusCode, header};
use k8s_openapi::api::core::v1::Pod;

use super::Req;
use super::read::object_response;
use super::status::{ApiError, ApiResult};
use crate::app;
use crate::cluster::Cluster;
use crate::controller::pods::pod_view;
use crate::controller::replicaset::delete_pod;
use crate::world::{ClusterView, PodState, PodView};

/// DELETE a pod: it turns Terminating and disappears after the termination delay.
pub fn delete(cluster: &Cluster, req: &Req) -> ApiResult {
    let name = req.path.name.clone().unwrap_or_default();
    let dry_run = req.query.dry_run()?;
    let key = (req.namespace().to_string(), name.clone());
    let mut store = cluster.store();
    let pod = store
        .pods
        .get(&key)
        .cloned()
        .ok_or_else(|| ApiError::not_found("pods", "", &name))?;
    if dry_run {
        return Ok(object_response(&pod));
    }
    let deleted = delete_pod(&mut store, &key, cluster.clock.now(), &cluster.delays).unwrap_or(pod);
    drop(store);
    cluster.kick();
    Ok(object_response(&deleted))
}

/// The pod and how the application side sees it.
fn find(cluster: &Cluster, ns: &str, name: &str) -> ApiResult<(Pod, PodView)> {
    let store = cluster.store();
    let key = (ns.to_string(), name.to_string());
    let pod = store
        .pods
        .get(&key)
        .cloned()
        .ok_or_else(|| ApiError::not_found("pods", "", name))?;
    let rt = store
        .pod_runtime
        .get(&key)
        .ok_or_else(|| ApiError::not_found("pods", "", name))?;
    let view = pod_view(&pod, rt);
    Ok((pod, view))
}

struct LogOptions {
    timestamps: bool,
    tail: Option<usize>,
    since: Option<DateTime<Utc>>,
    limit_bytes: Option<usize>,
    previous: bool,
    follow: bool,
}

fn log_options(req: &Req, now: DateTime<Utc>) -> ApiResult<LogOptions> {
    let q = &req.query;
    let since = match (q.number("sinceSeconds")?, q.get("sinceTime")) {
        (Some(_), Some(_)) => {
            return Err(ApiError::unprocessable(
                "at most one of sinceTime or sinceSeconds may be specified",
            ));
        }
        (Some(s), None) => Some(now - chrono::Duration::seconds(s.min(10 * 365 * 86400) as i64)),
        (None, Some(t)) => Some(
            DateTime::parse_from_rfc3339(t)
                .map_err(|_| {
                    ApiError::bad_request(format!(
                        "invalid sinceTime {t:?}: expected an RFC 3339 time"
                    ))
                })?
                .with_timezone(&Utc),
        ),
        (None, None) => None,
    };
    Ok(LogOptions {
        timestamps: q.flag("timestamps"),
        tail: q.number("tailLines")?.map(|n| n as usize),
        since,
        limit_bytes: q.number("limitBytes")?.map(|n| n as usize),
        previous: q.flag("previous"),
        follow: q.flag("follow"),
    })
}

fn render(lines: &[app::logs::LogLine], timestamps: bool) -> String {
    let mut out = String::new();
    for l in lines {
        if timestamps {
            out.push_str(&l.at.to_rfc3339_opts(SecondsFormat::Nanos, true));
            out.push(' ');
        }
        out.push_str(&l.text);
        out.push('\n');
    }
    out
}

/// GET `pods/{name}/log`.
pub fn logs(cluster: &Arc<Cluster>, req: &Req) -> ApiResult {
    let name = req.path.name.clone().unwrap_or_default();
    let (pod, view) = find(cluster, req.namespace(), &name)?;
    let containers: Vec<String> = pod
        .spec
        .as_ref()
        .map(|s| s.containers.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default();
    match req.query.get("container") {
        Some(c) if !containers.iter().any(|n| n == c) => {
            return Err(ApiError::bad_request(format!(
                "container {c} is not valid for pod {name}; valid containers: {}",
                containers.join(", ")
            )));
        }
        None if containers.len() > 1 => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                containers.join(" ")
            )));
        }
        _ => {}
    }
    let now = cluster.now();
    let opts = log_options(req, now)?;
    let scenario = cluster.scenario();
    let mut lines = if opts.previous {
        let prev = app::logs::previous_lines(&view, &scenario, now);
        if view.restarts == 0 || prev.is_empty() {
            return Err(ApiError::bad_request(format!(
                "previous terminated container \"{}\" in pod \"{name}\" not found",
                view.container
            )));
        }
        prev
    } else {
        if view.started_at.is_none() && view.restarts == 0 {
            let why = match view.state {
                PodState::ImagePullBackOff => "trying and failing to pull image",
                _ => "ContainerCreating",
            };
            return Err(ApiError::bad_request(format!(
                "container \"{}\" in pod \"{name}\" is waiting to start: {why}",
                view.container
            )));
        }
        match (opts.since, opts.tail) {
            (None, Some(n)) => app::logs::tail(&view, &scenario, now, n),
            (since, _) => {
                let from = since.unwrap_or(view.started_at.unwrap_or(view.created_at));
                app::logs::lines(&view, &scenario, from, now)
            }
        }
    };
    if let Some(n) = opts.tail {
        let skip = lines.len().saturating_sub(n);
        lines.drain(..skip);
    }
    let mut text = render(&lines, opts.timestamps);
    if let Some(limit) = opts.limit_bytes {
        let mut cut = limit.min(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    if !opts.follow || opts.previous {
        return Ok(text_response(Body::from(text)));
    }
    let state = FollowState {
        cluster: cluster.clone(),
        first: Some(text),
        ns: req.namespace().to_string(),
        name,
        from: now,
        started: view.started_at,
        timestamps: opts.timestamps,
    };
    Ok(text_response(Body::from_stream(futures::stream::unfold(
        state,
        follow_next,
    ))))
}

fn text_response(body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    resp
}

struct FollowState {
    cluster: Arc<Cluster>,
    first: Option<String>,
    ns: String,
    name: String,
    from: DateTime<Utc>,
    started: Option<DateTime<Utc>>,
    timestamps: bool,
}

/// The next piece of a followed log: new lines every poll, until the container stops or the pod goes away.
/// The stream is dropped when the client hangs up.
async fn follow_next(mut st: FollowState) -> Option<(Result<Bytes, std::io::Error>, FollowState)> {
    if let Some(first) = st.first.take().filter(|t| !t.is_empty()) {
        return Some((Ok(Bytes::from(first)), st));
    }
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (_, view) = find(&st.cluster, &st.ns, &st.name).ok()?;
        if view.started_at != st.started || matches!(view.state, PodState::Terminating) {
            return None;
        }
        let now = st.cluster.now();
        let lines = app::logs::lines(&view, &st.cluster.scenario(), st.from, now);
        st.from = now;
        if !lines.is_empty() {
            let text = render(&lines, st.timestamps);
            return Some((Ok(Bytes::from(text)), st));
        }
    }
}

/// `pods/{name}[:port]/proxy/{path}`: the pod's own app instance answers.
pub async fn proxy(cluster: &Arc<Cluster>, req: &Req) -> ApiResult {
    let raw = req.path.name.clone().unwrap_or_default();
    let parts: Vec<&str> = raw.split(':').collect();
    let (name, port) = match parts.as_slice() {
        [name] => (*name, None),
        [name, port] => (*name, Some(*port)),
        [_scheme, name, port] => (*name, Some(*port)),
        _ => {
            return Err(ApiError::bad_request(format!(
                "invalid pod proxy target {raw:?}: expected NAME[:PORT]"
            )));
        }
    };
    let (_, view) = find(cluster, req.namespace(), name)?;
    if let Some(p) =
        port.filter(|p| !p.is_empty() && *p != "http" && *p != app::APP_PORT.to_string())
    {
        let ip = app::pod_ip(&view.uid);
        let mut resp = Response::new(Body::from(format!(
            "error trying to reach service: dial tcp {ip}:{p}: connect: connection refused"
        )));
        *resp.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        return Ok(resp);
    }
    let rest = if req.path.rest.is_empty() {
        "/".to_string()
    } else {
        req.path.rest.clone()
    };
    let path_and_query = match req.uri.split_once('?') {
        Some((_, q)) if !q.is_empty() => format!("{rest}?{q}"),
        _ => rest,
    };
    let view_dyn: Arc<dyn ClusterView> = cluster.clone();
    Ok(app::respond_as_pod(view_dyn.as_ref(), &view, &req.method, &path_and_query).await)
}
