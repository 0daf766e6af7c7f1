//! Watch: a chunked `application/json` stream of `{"type":…,"object":…}` lines — the retained events newer
//! than the requested resourceVersion, then live ones, until timeoutSeconds or the client hangs up (the stream
//! is dropped with the connection). A resourceVersion older than the history gets an ERROR event with a 410.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use http::{HeaderValue, Response, StatusCode, header};
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio::time::Instant;

use super::Req;
use super::discovery::ResourceInfo;
use super::query::{FieldSelector, LabelSelector};
use super::read::snapshot;
use super::status::{ApiError, ApiResult};
use crate::cluster::Cluster;
use crate::store::{Kind, WatchEvent};

/// How long a watch runs when the client gives no timeoutSeconds.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

struct Filter {
    kind: Kind,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    fn wants(&self, ev: &WatchEvent) -> bool {
        ev.kind == self.kind
            && self.namespace.as_ref().is_none_or(|ns| *ns == ev.namespace)
            && self.labels.matches(&ev.object)
            && self.fields.matches(&ev.object)
    }
}

struct WatchState {
    backlog: VecDeque<Bytes>,
    rx: Option<broadcast::Receiver<Arc<WatchEvent>>>,
    filter: Filter,
    deadline: Instant,
}

fn line(event_type: &str, object: &Value) -> Bytes {
    line_text(event_type, &object.to_string())
}

fn line_text(event_type: &str, object: &str) -> Bytes {
    Bytes::from(format!(
        "{{\"type\":\"{event_type}\",\"object\":{object}}}\n"
    ))
}

/// Starts a watch on a collection.
pub fn watch(cluster: &Cluster, info: &ResourceInfo, req: &Req) -> ApiResult {
    let kind =
        Kind::from_plural(info.plural).ok_or_else(|| ApiError::method_not_allowed("watch"))?;
    let filter = Filter {
        kind,
        namespace: if info.namespaced {
            req.path.namespace.clone()
        } else {
            None
        },
        labels: LabelSelector::parse(req.query.get("labelSelector").unwrap_or(""))?,
        fields: FieldSelector::parse(req.query.get("fieldSelector").unwrap_or(""), info.kind)?,
    };
    let timeout = req
        .query
        .number("timeoutSeconds")?
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT);
    let rv = req.query.get("resourceVersion").unwrap_or("");
    let store = cluster.store();
    let mut backlog = VecDeque::new();
    let rx = match rv {
        "" | "0" => {
            // No version: the current state as ADDED events, then changes.
            for ev in snapshot(&store, info, filter.namespace.as_deref()) {
                if filter.labels.matches(&ev.object) && filter.fields.matches(&ev.object) {
                    backlog.push_back(line_text("ADDED", &ev.text));
                }
            }
            store
                .watch_from(store.resource_version())
                .ok()
                .map(|(_, rx)| rx)
        }
        rv => {
            let since: u64 = rv.parse().map_err(|_| {
                ApiError::bad_request(format!("invalid resourceVersion {rv:?}: expected the resourceVersion of a list or object"))
            })?;
            match store.watch_from(since) {
                Ok((events, rx)) => {
                    backlog.extend(
                        events
                            .iter()
                            .filter(|e| filter.wants(e))
                            .map(|e| line_text(e.event_type, &e.text)),
                    );
                    Some(rx)
                }
                Err(()) => {
                    backlog.push_back(line("ERROR", &ApiError::gone(since).to_status()));
                    None
                }
            }
        }
    };
    drop(store);
    if req.query.flag("allowWatchBookmarks") && rx.is_some() {
        let rv = cluster.store().resource_version();
        let bookmark = json!({"kind": info.kind, "apiVersion": api_version(info), "metadata": {"resourceVersion": rv.to_string()}});
        backlog.push_back(line("BOOKMARK", &bookmark));
    }
    let state = WatchState {
        backlog,
        rx,
        filter,
        deadline: Instant::now() + timeout,
    };
    let stream = futures::stream::unfold(state, next_chunk);
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    Ok(resp)
}

fn api_version(info: &ResourceInfo) -> String {
    if info.group.is_empty() {
        info.version.to_string()
    } else {
        format!("{}/{}", info.group, info.version)
    }
}

async fn next_chunk(mut st: WatchState) -> Option<(Result<Bytes, std::io::Error>, WatchState)> {
    if let Some(chunk) = st.backlog.pop_front() {
        return Some((Ok(chunk), st));
    }
    loop {
        let rx = st.rx.as_mut()?;
        match tokio::time::timeout_at(st.deadline, rx.recv()).await {
            Err(_) => return None,
            Ok(Ok(ev)) if st.filter.wants(&ev) => {
                return Some((Ok(line_text(ev.event_type, &ev.text)), st));
            }
            Ok(Ok(_)) => continue,
            // Fell too far behind, or the server is stopping: end the watch; the client re-lists.
            Ok(Err(_)) => return None,
        }
    }
}
