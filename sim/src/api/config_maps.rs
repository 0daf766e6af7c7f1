//! ConfigMaps: create (POST) and update (PUT) with the API server's optimistic concurrency — an update whose
//! `metadata.resourceVersion` is not the stored one is refused with 409 Conflict; one without a resourceVersion
//! replaces unconditionally, as the real API server does. Reads go through `read.rs` like every kind.

use http::StatusCode;
use k8s_openapi::api::core::v1::ConfigMap;

use super::Req;
use super::status::{ApiError, ApiResult, json_response};
use crate::cluster::Cluster;

const PLURAL: &str = "configmaps";

fn decode(req: &Req) -> ApiResult<ConfigMap> {
    serde_json::from_slice(&req.body).map_err(|e| {
        ApiError::bad_request(format!(
            "error decoding the request body: {e}; send a ConfigMap as JSON"
        ))
    })
}

fn respond(stored: &ConfigMap, code: StatusCode) -> ApiResult {
    let body = serde_json::to_value(stored).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(json_response(code, &body))
}

/// POST `configmaps`: 409 AlreadyExists when the name is taken.
pub fn create(cluster: &Cluster, req: &Req) -> ApiResult {
    let mut cm = decode(req)?;
    let name = cm.metadata.name.clone().unwrap_or_default();
    if name.is_empty() {
        return Err(ApiError::invalid(
            "ConfigMap",
            "",
            "metadata.name: Required value",
        ));
    }
    let ns = req.namespace().to_string();
    let mut store = cluster.store();
    if store.get::<ConfigMap>(&ns, &name).is_some() {
        return Err(ApiError::already_exists(PLURAL, "", &name));
    }
    cm.metadata.namespace = Some(ns);
    cm.metadata.uid = Some(uuid::Uuid::new_v4().to_string());
    cm.metadata.creation_timestamp = Some(crate::clock::ktime(cluster.clock.now()));
    let stored = store.put(cm);
    respond(&stored, StatusCode::CREATED)
}

/// PUT `configmaps/{name}`: replaces data and labels; a stale resourceVersion is a 409 Conflict.
pub fn update(cluster: &Cluster, req: &Req) -> ApiResult {
    let name = req.path.name.clone().unwrap_or_default();
    let proposed = decode(req)?;
    if let Some(n) = proposed.metadata.name.as_deref().filter(|n| *n != name) {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({n}) does not match the name on the URL ({name})"
        )));
    }
    let mut store = cluster.store();
    let old = store
        .get::<ConfigMap>(req.namespace(), &name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(PLURAL, "", &name))?;
    let current = old.metadata.resource_version.clone().unwrap_or_default();
    match proposed.metadata.resource_version.as_deref() {
        Some(rv) if !rv.is_empty() && rv != current => {
            return Err(ApiError::conflict(PLURAL, "", &name));
        }
        _ => {}
    }
    let mut new = old;
    new.data = proposed.data;
    new.binary_data = proposed.binary_data;
    new.metadata.labels = proposed.metadata.labels;
    new.metadata.annotations = proposed.metadata.annotations;
    let stored = store.put(new);
    respond(&stored, StatusCode::OK)
}
