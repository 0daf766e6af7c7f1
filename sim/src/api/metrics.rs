//! `metrics.k8s.io/v1beta1` PodMetrics (what `kubectl top pods` reads), from the application side's usage model.
//! Pods whose container is not running have no metrics and are left out, as metrics-server does.

use http::StatusCode;
use serde_json::{Value, json};

use super::Req;
use super::query::LabelSelector;
use super::status::{ApiError, ApiResult, json_response};
use crate::app;
use crate::clock::ktime;
use crate::cluster::Cluster;
use crate::controller::pods::pod_view;
use crate::world::ClusterView;

/// GET one PodMetrics or the list.
pub fn pod_metrics(cluster: &Cluster, req: &Req) -> ApiResult {
    let labels = LabelSelector::parse(req.query.get("labelSelector").unwrap_or(""))?;
    let now = cluster.now();
    let scenario = cluster.scenario();
    let store = cluster.store();
    let pods: Vec<_> = store
        .pods
        .iter()
        .filter(|((ns, _), _)| req.path.namespace.as_ref().is_none_or(|want| want == ns))
        .filter_map(|(k, p)| {
            store
                .pod_runtime
                .get(k)
                .map(|rt| (p.clone(), pod_view(p, rt)))
        })
        .collect();
    drop(store);
    let serving = pods.iter().filter(|(_, v)| v.serving()).count();
    let stamp = serde_json::to_value(ktime(now)).unwrap_or(Value::Null);
    let mut items = Vec::new();
    for (pod, view) in &pods {
        if req
            .path
            .name
            .as_ref()
            .is_some_and(|n| Some(n) != pod.metadata.name.as_ref())
        {
            continue;
        }
        let pod_json = serde_json::to_value(pod).unwrap_or(Value::Null);
        if !labels.matches(&pod_json) {
            continue;
        }
        let usage = app::usage::pod_usage(view, &scenario, serving, now);
        if usage.cpu_millicores == 0 && usage.memory_bytes == 0 {
            continue;
        }
        items.push(json!({
            "metadata": {"name": pod.metadata.name, "namespace": pod.metadata.namespace,
                "creationTimestamp": stamp, "labels": pod.metadata.labels},
            "timestamp": stamp,
            "window": "15.038s",
            "containers": [{"name": view.container, "usage": {
                "cpu": format!("{}n", usage.cpu_millicores * 1_000_000),
                "memory": format!("{}Ki", usage.memory_bytes / 1024),
            }}]
        }));
    }
    if let Some(name) = &req.path.name {
        let mut item = items
            .pop()
            .ok_or_else(|| ApiError::not_found("pods", "metrics.k8s.io", name))?;
        item["kind"] = json!("PodMetrics");
        item["apiVersion"] = json!("metrics.k8s.io/v1beta1");
        return Ok(json_response(StatusCode::OK, &item));
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({"kind": "PodMetricsList", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {}, "items": items}),
    ))
}
