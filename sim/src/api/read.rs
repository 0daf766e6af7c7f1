//! GET of one object, list (label / field selectors, limit / continue, Table output) and the switch to watch.

use axum::body::Body;
use http::{Response, StatusCode, header};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, Namespace, Pod};
use serde_json::{Value, json};

use super::discovery::ResourceInfo;
use super::query::{FieldSelector, LabelSelector};
use super::status::{ApiError, ApiResult, json_response};
use super::table::{Include, table, wants_table};
use super::{Req, watch};
use crate::cluster::Cluster;
use crate::store::{Object, Store};

/// Objects of `plural` in `ns` (all namespaces when None), as JSON, with the store's resourceVersion.
pub fn snapshot(store: &Store, plural: &str, ns: Option<&str>) -> Vec<Value> {
    fn all<K: Object>(store: &Store, ns: Option<&str>) -> Vec<Value> {
        store
            .list::<K>(ns)
            .into_iter()
            .filter_map(|o| serde_json::to_value(o).ok())
            .collect()
    }
    match plural {
        "pods" => all::<Pod>(store, ns),
        "deployments" => all::<Deployment>(store, ns),
        "replicasets" => all::<ReplicaSet>(store, ns),
        "namespaces" => all::<Namespace>(store, None),
        "events" => all::<Event>(store, ns),
        _ => Vec::new(),
    }
}

/// Handles GET on a collection or object (and `/status`).
pub fn get_or_list(cluster: &Cluster, info: &ResourceInfo, req: &Req) -> ApiResult {
    if req.path.name.is_none() && req.query.flag("watch") {
        return watch::watch(cluster, info, req);
    }
    let ns = if info.namespaced {
        req.path.namespace.as_deref()
    } else {
        None
    };
    let store = cluster.store();
    let rv = store.resource_version().to_string();
    let accept = req.header(header::ACCEPT).to_string();
    let now = cluster.clock.now();
    let include = Include::from_query(req.query.get("includeObject"));
    if let Some(name) = &req.path.name {
        let lookup_ns = if info.namespaced { ns } else { Some("") };
        let objects = snapshot(&store, info.plural, lookup_ns.filter(|n| !n.is_empty()));
        let found = objects
            .into_iter()
            .find(|o| o["metadata"]["name"].as_str() == Some(name.as_str()))
            .ok_or_else(|| ApiError::not_found(info.plural, info.group, name))?;
        drop(store);
        if wants_table(&accept) {
            return Ok(json_response(
                StatusCode::OK,
                &table(info.kind, &[found], &rv, include, now),
            ));
        }
        return Ok(json_response(StatusCode::OK, &found));
    }
    let labels = LabelSelector::parse(req.query.get("labelSelector").unwrap_or(""))?;
    let fields = FieldSelector::parse(req.query.get("fieldSelector").unwrap_or(""), info.kind)?;
    let limit = req
        .query
        .number("limit")?
        .filter(|l| *l > 0)
        .map(|l| l as usize);
    let mut items: Vec<Value> = snapshot(&store, info.plural, ns)
        .into_iter()
        .filter(|o| labels.matches(o) && fields.matches(o))
        .collect();
    drop(store);
    if let Some(token) = req.query.get("continue").filter(|t| !t.is_empty()) {
        let start = parse_continue(token)?;
        items.retain(|o| object_key(o) >= start);
    }
    let mut next = None;
    if let Some(limit) = limit.filter(|l| items.len() > *l) {
        next = Some((
            encode_continue(&object_key(&items[limit])),
            items.len() - limit,
        ));
        items.truncate(limit);
    }
    if wants_table(&accept) {
        let mut t = table(info.kind, &items, &rv, include, now);
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
    Ok(json_response(
        StatusCode::OK,
        &json!({"kind": format!("{}List", info.kind), "apiVersion": api_version, "metadata": metadata, "items": items}),
    ))
}

fn object_key(o: &Value) -> String {
    format!(
        "{}/{}",
        o["metadata"]["namespace"].as_str().unwrap_or(""),
        o["metadata"]["name"].as_str().unwrap_or("")
    )
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
