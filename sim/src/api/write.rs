//! Writes to a deployment: PATCH (json / merge / strategic) and PUT on the object, its `scale` and `status`
//! subresources — with optimistic concurrency (a stale `metadata.resourceVersion` → 409), validation (422),
//! generation bumps on spec changes, and `dryRun=All`.

use http::{Method, StatusCode, header};
use k8s_openapi::api::apps::v1::Deployment;
use serde_json::{Value, json};

use super::Req;
use super::patch::{self, PatchType};
use super::status::{ApiError, ApiResult, json_response};
use crate::cluster::Cluster;

const PLURAL: &str = "deployments";
const GROUP: &str = "apps";

/// The autoscaling/v1 Scale of a deployment.
pub fn scale_of(d: &Value) -> Value {
    let selector = d["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let m = &d["metadata"];
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {"name": m["name"], "namespace": m["namespace"], "uid": m["uid"],
            "resourceVersion": m["resourceVersion"], "creationTimestamp": m["creationTimestamp"]},
        "spec": {"replicas": d["spec"]["replicas"].as_i64().unwrap_or(1)},
        "status": {"replicas": d["status"]["replicas"].as_i64().unwrap_or(0), "selector": selector}
    })
}

fn current(cluster: &Cluster, req: &Req) -> ApiResult<(Deployment, Value)> {
    let name = req.path.name.as_deref().unwrap_or("");
    let d: Deployment = cluster
        .store()
        .get::<Deployment>(req.namespace(), name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(PLURAL, GROUP, name))?;
    let v = serde_json::to_value(&d).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok((d, v))
}

/// GET `deployments/{name}/scale`.
pub fn get_scale(cluster: &Cluster, req: &Req) -> ApiResult {
    let (_, v) = current(cluster, req)?;
    Ok(json_response(StatusCode::OK, &scale_of(&v)))
}

/// PATCH or PUT on a deployment, its scale or its status.
pub fn deployment(cluster: &Cluster, req: &Req) -> ApiResult {
    let name = req.path.name.clone().unwrap_or_default();
    let sub = req.path.sub.as_deref();
    let dry_run = req.query.dry_run()?;
    // Parse and check everything that needs no lock first.
    let patch_type = if req.method == Method::PATCH {
        Some(PatchType::from_content_type(
            req.header(header::CONTENT_TYPE),
        )?)
    } else {
        None
    };
    let mut store = cluster.store();
    let old: Deployment = store
        .get::<Deployment>(req.namespace(), &name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(PLURAL, GROUP, &name))?;
    let old_v = serde_json::to_value(&old).map_err(|e| ApiError::internal(e.to_string()))?;
    let target = if sub == Some("scale") {
        scale_of(&old_v)
    } else {
        old_v.clone()
    };
    let proposed = match patch_type {
        Some(pt) => patch::apply(&target, pt, &req.body)?,
        None => serde_json::from_slice(&req.body).map_err(|e| {
            ApiError::bad_request(format!(
                "error decoding the request body: {e}; send the object as JSON"
            ))
        })?,
    };
    if !proposed.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    let current_rv = old.metadata.resource_version.clone().unwrap_or_default();
    match proposed["metadata"]["resourceVersion"].as_str() {
        Some(rv) if !rv.is_empty() && rv != current_rv => {
            return Err(ApiError::conflict(PLURAL, GROUP, &name));
        }
        _ => {}
    }
    if let Some(n) = proposed["metadata"]["name"].as_str().filter(|n| *n != name) {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({n}) does not match the name on the URL ({name})"
        )));
    }
    let new = match sub {
        Some("scale") => with_replicas(&old, &proposed, &name)?,
        Some("status") => with_status(&old, &proposed, &name)?,
        _ => with_spec_and_meta(&old, &proposed, &name)?,
    };
    validate(&new, &old, &name)?;
    let stored = if dry_run { new } else { store.put(new) };
    drop(store);
    let out = serde_json::to_value(&stored).map_err(|e| ApiError::internal(e.to_string()))?;
    let body = if sub == Some("scale") {
        scale_of(&out)
    } else {
        out
    };
    Ok(json_response(StatusCode::OK, &body))
}

fn decode(v: &Value, name: &str) -> ApiResult<Deployment> {
    serde_json::from_value(v.clone()).map_err(|e| {
        ApiError::invalid(
            "Deployment",
            name,
            format!("the object does not decode as a Deployment: {e}"),
        )
    })
}

fn bump_generation(new: &mut Deployment, old: &Deployment) {
    let spec_changed = serde_json::to_value(&new.spec).ok() != serde_json::to_value(&old.spec).ok();
    new.metadata.generation = Some(old.metadata.generation.unwrap_or(1) + i64::from(spec_changed));
}

fn with_replicas(old: &Deployment, scale: &Value, name: &str) -> ApiResult<Deployment> {
    let replicas = scale["spec"]["replicas"].as_i64().filter(|r| *r >= 0 && *r <= i32::MAX as i64).ok_or_else(|| {
        ApiError::unprocessable(format!(
            "Scale.autoscaling \"{name}\" is invalid: spec.replicas: Invalid value: {}: must be a non-negative integer",
            scale["spec"]["replicas"]
        ))
    })?;
    let mut new = old.clone();
    new.spec.replicas = Some(replicas as i32);
    bump_generation(&mut new, old);
    Ok(new)
}

fn with_status(old: &Deployment, proposed: &Value, name: &str) -> ApiResult<Deployment> {
    let decoded = decode(proposed, name)?;
    let mut new = old.clone();
    new.status = decoded.status;
    Ok(new)
}

fn with_spec_and_meta(old: &Deployment, proposed: &Value, name: &str) -> ApiResult<Deployment> {
    let decoded = decode(proposed, name)?;
    let mut new = old.clone();
    new.spec = decoded.spec;
    new.metadata.labels = decoded.metadata.labels;
    new.metadata.annotations = decoded.metadata.annotations;
    bump_generation(&mut new, old);
    Ok(new)
}

fn validate(d: &Deployment, old: &Deployment, name: &str) -> ApiResult<()> {
    let invalid = |msg: String| Err(ApiError::invalid("Deployment", name, msg));
    let spec = &d.spec;
    if spec.replicas.is_some_and(|r| r < 0) {
        return invalid(format!(
            "spec.replicas: Invalid value: {}: must be greater than or equal to 0",
            spec.replicas.unwrap_or(0)
        ));
    }
    if serde_json::to_value(&spec.selector).ok() != serde_json::to_value(&old.spec.selector).ok() {
        return invalid(format!(
            "spec.selector: Invalid value: {}: field is immutable",
            serde_json::to_string(&spec.selector).unwrap_or_default()
        ));
    }
    let containers = spec
        .template
        .spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or(&[]);
    if containers.is_empty() {
        return invalid("spec.template.spec.containers: Required value".into());
    }
    for (i, c) in containers.iter().enumerate() {
        if c.name.is_empty() {
            return invalid(format!(
                "spec.template.spec.containers[{i}].name: Required value"
            ));
        }
        if c.image.as_deref().is_none_or(|img| img.trim().is_empty()) {
            return invalid(format!(
                "spec.template.spec.containers[{i}].image: Required value"
            ));
        }
    }
    let labels = spec
        .template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let selector = spec.selector.match_labels.clone().unwrap_or_default();
    if selector.iter().any(|(k, v)| labels.get(k) != Some(v)) {
        return invalid(format!(
            "spec.template.metadata.labels: Invalid value: {}: `selector` does not match template `labels`",
            serde_json::to_string(&labels).unwrap_or_default()
        ));
    }
    if let Some(t) = spec.strategy.as_ref().and_then(|s| s.type_.as_deref())
        && t != "RollingUpdate"
        && t != "Recreate"
    {
        return invalid(format!(
            "spec.strategy.type: Unsupported value: {t:?}: supported values: \"Recreate\", \"RollingUpdate\""
        ));
    }
    if spec.progress_deadline_seconds.is_some_and(|p| p <= 0) {
        return invalid(
            "spec.progressDeadlineSeconds: Invalid value: must be greater than 0".into(),
        );
    }
    Ok(())
}
