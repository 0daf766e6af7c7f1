//! `top`: CPU and memory per pod from metrics.k8s.io `PodMetrics`, like `kubectl top pods`.

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde::{Deserialize, Serialize};

use super::error::{ClusterError, call};
use super::quantity;
use super::target::Target;

/// One pod's usage, summed over its containers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodUsage {
    pub pod: String,
    pub cpu_millicores: u64,
    pub memory_bytes: u64,
}

/// Reads the PodMetrics of the target's pods, sorted by pod name.
pub async fn top(client: &kube::Client, target: &Target) -> Result<Vec<PodUsage>, ClusterError> {
    let gvk = GroupVersionKind::gvk("metrics.k8s.io", "v1beta1", "PodMetrics");
    let resource = ApiResource::from_gvk_with_plural(&gvk, "pods");
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &target.namespace, &resource);
    let params = ListParams::default().labels(&target.selector);
    let list = match call(
        api.list(&params),
        ("metrics of pods", &target.selector, &target.namespace),
    )
    .await
    {
        Err(ClusterError::NotFound { .. }) => {
            let message =
                "the cluster has no metrics API (metrics.k8s.io); is metrics-server installed?";
            return Err(ClusterError::MetricsUnavailable {
                message: message.into(),
            });
        }
        other => other?,
    };
    let mut usage: Vec<PodUsage> = list.items.iter().map(pod_usage).collect();
    if usage.is_empty() {
        let message = format!(
            "no pod metrics yet for `{}` (metrics appear a minute after pods start)",
            target.selector
        );
        return Err(ClusterError::MetricsUnavailable { message });
    }
    usage.sort_by(|a, b| a.pod.cmp(&b.pod));
    Ok(usage)
}

/// Sums a PodMetrics object's container usage; unparsable quantities count as zero.
pub fn pod_usage(metrics: &DynamicObject) -> PodUsage {
    let containers = metrics
        .data
        .get("containers")
        .and_then(|c| c.as_array())
        .cloned()
        .unwrap_or_default();
    let field = |c: &serde_json::Value, name: &str| -> String {
        c.pointer(&format!("/usage/{name}"))
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    PodUsage {
        pod: metrics.metadata.name.clone().unwrap_or_default(),
        cpu_millicores: containers
            .iter()
            .filter_map(|c| quantity::millicores(&field(c, "cpu")))
            .sum(),
        memory_bytes: containers
            .iter()
            .filter_map(|c| quantity::bytes(&field(c, "memory")))
            .sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sums_containers() {
        let m: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "metrics.k8s.io/v1beta1", "kind": "PodMetrics",
            "metadata": {"name": "mystocks-api-1", "namespace": "mystocks"},
            "timestamp": "2026-11-28T14:00:00Z", "window": "30s",
            "containers": [{"name": "a", "usage": {"cpu": "250m", "memory": "100Mi"}},
                           {"name": "b", "usage": {"cpu": "5000000n", "memory": "nonsense"}}]
        }))
        .expect("metrics");
        let u = pod_usage(&m);
        assert_eq!(u.pod, "mystocks-api-1");
        assert_eq!(u.cpu_millicores, 255);
        assert_eq!(u.memory_bytes, 100 * 1024 * 1024);
    }
}
