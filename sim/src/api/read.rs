//! GET of one object, list (label / field selectors, limit / continue, Table output) and the switch to watch.
//! Reads use the store's cached JSON of each object, so a list of thousands of pods serializes nothing again.

use std::sync::Arc;

use axum::body::Body;
use http::{HeaderValue, Response, StatusCode, header};
use serde_json::{Value, json};

use super::discovery::ResourceInfo;
use super::query::{FieldSelector, LabelSelector};
use super::status::{ApiError, ApiResult, json_response};
use super::table::{Include, table, wants_table};
use super::{Req, watch};
use crate::cluster::Cluster;
use crate::store::{Kind, Store, WatchEvent};

/// The cached JSON of every object of a served resource in `ns` (all namespaces when None; cluster-scoped
/// resources ignore it).
pub fn snapshot(store: &Store, info: &ResourceInfo, ns: Option<&str>) -> Vec<Arc<WatchEvent>> {
    match Kind::from_plural(info.plural) {
        Some(kind) if info.namespaced => store.list_json(kind, ns),
        Some(kind) => store.list_json(kind, Some("")),
        None => Vec::new(),
    }
}

/// Handles GET on a collection or object (and `/status`).
pub fn get_or_list(cluster: &Cluster, info: &ResourceInfo, req: &Req) -> ApiResult {
    if req.path.name.is_none() && req.query.flag("watch") {
        return watch::watch(cluster, info, req);
    }
    let accept = req.header(header::ACCEPT).to_string();
    let now = cluster.clock.now();
    let include = Include::from_query(req.query.get("includeObject"));
    if let Some(name) = &req.path.name {
        let ns = if info.namespaced { req.namespace() } else { "" };
        let (found, rv) = {
            let store = cluster.store();
            let found = Kind::from_plural(info.plural).and_then(|k| store.json_of(k, ns, name));
            (found, store.resource_version().to_string())
        };
        let found = found.ok_or_else(|| ApiError::not_found(info.plural, info.group, name))?;
        if wants_table(&accept) {
            return Ok(json_response(
                StatusCode::OK,
                &table(info.kind, &[&found.object], &rv, include, now),
            ));
        }
        return Ok(raw_json(found.text.clone()));
    }
    let labels = LabelSelector::parse(req.query.get("labelSelector").unwrap_or(""))?;
    let fields = FieldSelector::parse(req.query.get("fieldSelector").unwrap_or(""), info.kind)?;
    let limit = req
        .query
        .number("limit")?
        .filter(|l| *l > 0)
        .map(|l| l as usize);
    let start = match req.query.get("continue").filter(|t| !t.is_empty()) {
        Some(token) => Some(parse_continue(token)?),
        None => None,
    };
    let (all, rv) = {
        let store = cluster.store();
        (
            snapshot(&store, info, req.path.namespace.as_deref()),
            store.resource_version().to_string(),
        )
    };
    let mut items: Vec<&Arc<WatchEvent>> = all
        .iter()
        .filter(|ev| start.as_ref().is_none_or(|s| object_key(ev) >= *s))
        .filter(|ev| labels.matches(&ev.object) && fields.matches(&ev.object))
        .collect();
    let mut next = None;
    if let Some(limit) = limit.filter(|l| items.len() > *l) {
        next = Some((
            encode_continue(&object_key(items[limit])),
            items.len() - limit,
        ));
        items.truncate(limit);
    }
    if wants_table(&accept) {
        let objects: Vec<&Value> = items.iter().map(|ev| &ev.object).collect();
        let mut t = table(info.kind, &objects, &rv, include, now);
        if let Some((token, _)) = &next {
            t["metadata"]["continue"] = json!(token);
        }
        return Ok(json_response(StatusCode::OK, &t));
    }
    let api_version = if info.group.is_empty() {
        info.version.to_string()
    } else {
        format!("{}/{}", info.group, info.version)
    };
    let mut metadata = json!({"resourceVersion": rv});
    if let Some((token, remaining)) = next {
        metadata["continue"] = json!(token);
        metadata["remainingItemCount"] = json!(remaining);
    }
    let mut out = format!(
        "{{\"kind\":\"{}List\",\"apiVersion\":\"{api_version}\",\"metadata\":{metadata},\"items\":[",
        info.kind
    );
    for (i, ev) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&ev.text);
    }
    out.push_str("]}");
    Ok(raw_json(out))
}

fn raw_json(text: String) -> Response<Body> {
    let mut resp = Response::new(Body::from(text));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn object_key(ev: &WatchEvent) -> String {
    format!("{}/{}", ev.namespace, ev.name)
}

fn encode_continue(key: &str) -> String {
    format!("sim1:{key}")
}

fn parse_continue(token: &str) -> ApiResult<String> {
    token
        .strip_prefix("sim1:")
        .map(str::to_string)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "invalid continue token {token:?}: use the token from the previous list response"
            ))
        })
}

/// A JSON response built from a typed object.
pub fn object_response<T: serde::Serialize>(obj: &T) -> Response<Body> {
    json_response(
        StatusCode::OK,
        &serde_json::to_value(obj).unwrap_or(Value::Null),
    )
}
