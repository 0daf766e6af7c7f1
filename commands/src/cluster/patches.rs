//! The requests that change the deployment, shaped like kubectl's, each carrying the resourceVersion it was
//! computed on so the API server refuses it (409) if anything changed in between; also sent as dry runs.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v1::Scale;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use kube::api::{Api, Patch, PatchParams};
use kube::core::Request;
use serde_json::{Value, json};

use super::deployment::{CHANGE_CAUSE, REVISION};
use super::error::{ClusterError, call};
use super::plan::{Change, RESTARTED_AT};
use super::target::Target;

/// Annotations kubectl keeps from the deployment instead of copying them from the ReplicaSet on undo.
const KEEP_FROM_DEPLOYMENT: [&str; 6] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];

/// The field manager the bot's changes are recorded under.
pub const FIELD_MANAGER: &str = "mystocks-bot";

/// How to send: for real or as a server-side dry run, and under which field manager.
#[derive(Clone, Debug)]
pub struct SendOptions {
    pub dry_run: bool,
    pub field_manager: String,
}

impl SendOptions {
    /// A server-side dry run (`dryRun=All`) under the bot's field manager.
    pub fn dry_run() -> Self {
        SendOptions {
            dry_run: true,
            field_manager: FIELD_MANAGER.to_string(),
        }
    }

    fn params(&self) -> PatchParams {
        PatchParams {
            dry_run: self.dry_run,
            field_manager: Some(self.field_manager.clone()),
            ..Default::default()
        }
    }
}

/// The annotations a rollback sets, like kubectl: the deployment's own bookkeeping annotations, the target
/// ReplicaSet's others, and `change_cause` (when given) as the change-cause.
pub fn rollback_annotations(
    deployment: &BTreeMap<String, String>,
    replicaset: &BTreeMap<String, String>,
    change_cause: Option<&str>,
) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = deployment
        .iter()
        .filter(|(k, _)| KEEP_FROM_DEPLOYMENT.contains(&k.as_str()))
        .map(clone_pair)
        .collect();
    out.extend(
        replicaset
            .iter()
            .filter(|(k, _)| !KEEP_FROM_DEPLOYMENT.contains(&k.as_str()))
            .map(clone_pair),
    );
    if let Some(cause) = change_cause {
        out.insert(CHANGE_CAUSE.to_string(), cause.to_string());
    }
    out
}

fn clone_pair((k, v): (&String, &String)) -> (String, String) {
    (k.clone(), v.clone())
}

/// kubectl's undo patch (JSON patch replacing the template and the annotations) plus the resourceVersion.
pub fn rollback_patch(
    resource_version: &str,
    template: &PodTemplateSpec,
    annotations: &BTreeMap<String, String>,
) -> Value {
    json!([
        {"op": "replace", "path": "/metadata/resourceVersion", "value": resource_version},
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ])
}

/// kubectl's `set image` strategic merge patch, plus change-cause and the resourceVersion.
pub fn deploy_patch(
    resource_version: &str,
    containers: &[String],
    container: &str,
    image: &str,
    cause: &str,
) -> Value {
    let order: Vec<Value> = containers.iter().map(|c| json!({"name": c})).collect();
    json!({
        "metadata": {"resourceVersion": resource_version, "annotations": {CHANGE_CAUSE: cause}},
        "spec": {"template": {"spec": {
            "$setElementOrder/containers": order,
            "containers": [{"name": container, "image": image}],
        }}},
    })
}

/// The scale subresource's merge patch with the resourceVersion.
pub fn scale_patch(resource_version: &str, replicas: i32) -> Value {
    json!({"metadata": {"resourceVersion": resource_version}, "spec": {"replicas": replicas}})
}

/// kubectl's `rollout restart` strategic merge patch, plus change-cause and the resourceVersion.
pub fn restart_patch(resource_version: &str, restarted_at: &str, cause: &str) -> Value {
    json!({
        "metadata": {"resourceVersion": resource_version, "annotations": {CHANGE_CAUSE: cause}},
        "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: restarted_at}}}},
    })
}

/// Sends `change` against the deployment as it was read in `on` (its resourceVersion is the precondition; its
/// annotations and container names shape the patch like kubectl's).
pub async fn send(
    client: &kube::Client,
    target: &Target,
    change: &Change,
    on: &Deployment,
    cause: &str,
    options: &SendOptions,
) -> Result<(), ClusterError> {
    let resource_version = on.metadata.resource_version.as_deref().unwrap_or_default();
    let deployment_annotations = on.metadata.annotations.clone().unwrap_or_default();
    let containers: Vec<String> = on
        .spec
        .template
        .spec
        .as_ref()
        .map(|s| s.containers.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default();
    let what = (
        "deployment",
        target.deployment.as_str(),
        target.namespace.as_str(),
    );
    let api: Api<Deployment> = Api::namespaced(client.clone(), &target.namespace);
    let pp = options.params();
    match change {
        Change::Rollback {
            template,
            annotations,
            ..
        } => {
            let annotations =
                rollback_annotations(&deployment_annotations, annotations, Some(cause));
            let body = rollback_patch(resource_version, template, &annotations);
            json_patch(client, target, &pp, &body).await
        }
        Change::Deploy {
            container,
            to_image,
            ..
        } => {
            let body = deploy_patch(resource_version, &containers, container, to_image, cause);
            call(
                api.patch(&target.deployment, &pp, &Patch::Strategic(body)),
                what,
            )
            .await
            .map(drop)
        }
        Change::Scale { to, .. } => {
            let body = scale_patch(resource_version, *to);
            let scaled: Result<Scale, _> = call(
                api.patch_scale(&target.deployment, &pp, &Patch::Merge(body)),
                what,
            )
            .await;
            scaled.map(drop)
        }
        Change::Restart { restarted_at, .. } => {
            let body = restart_patch(resource_version, restarted_at, cause);
            call(
                api.patch(&target.deployment, &pp, &Patch::Strategic(body)),
                what,
            )
            .await
            .map(drop)
        }
    }
}

/// Sends a JSON patch (`application/json-patch+json`) to the deployment; kube's typed `Patch::Json` needs an extra
/// crate feature, so the request is built from kube's merge-patch request with its content type replaced.
async fn json_patch(
    client: &kube::Client,
    target: &Target,
    pp: &PatchParams,
    ops: &Value,
) -> Result<(), ClusterError> {
    let url = <Deployment as kube::Resource>::url_path(&(), Some(&target.namespace));
    let mut request = Request::new(url)
        .patch(&target.deployment, pp, &Patch::Merge(ops))
        .map_err(|e| ClusterError::Internal {
            message: format!("building the rollback patch: {e}"),
        })?;
    let content_type =
        "application/json-patch+json"
            .parse()
            .map_err(|e| ClusterError::Internal {
                message: format!("content type: {e}"),
            })?;
    request.headers_mut().insert("content-type", content_type);
    let what = (
        "deployment",
        target.deployment.as_str(),
        target.namespace.as_str(),
    );
    call(client.request::<Deployment>(request), what)
        .await
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn rollback_annotations_like_kubectl() {
        let dep = map(&[
            (REVISION, "2"),
            (CHANGE_CAUSE, "deploy v1.0.1"),
            ("team", "x"),
        ]);
        let rs = map(&[
            (REVISION, "1"),
            (CHANGE_CAUSE, "initial release"),
            ("deployment.kubernetes.io/max-replicas", "4"),
        ]);
        let out = rollback_annotations(&dep, &rs, None);
        assert_eq!(
            out,
            map(&[(REVISION, "2"), (CHANGE_CAUSE, "initial release")])
        );
        let out = rollback_annotations(&dep, &rs, Some("rollback by alice, approved by bob (A1)"));
        assert_eq!(
            out.get(CHANGE_CAUSE).map(String::as_str),
            Some("rollback by alice, approved by bob (A1)")
        );
    }

    #[test]
    fn patch_bodies_carry_the_resource_version() {
        let ops = rollback_patch("42", &PodTemplateSpec::default(), &BTreeMap::new());
        assert_eq!(
            ops[0],
            json!({"op": "replace", "path": "/metadata/resourceVersion", "value": "42"})
        );
        assert_eq!(ops[1]["path"], "/spec/template");
        let p = deploy_patch(
            "42",
            &["mystocks-api".into()],
            "mystocks-api",
            "mystocks/api:v2",
            "why",
        );
        assert_eq!(p["metadata"]["resourceVersion"], "42");
        assert_eq!(
            p["spec"]["template"]["spec"]["containers"][0]["image"],
            "mystocks/api:v2"
        );
        assert_eq!(
            p["spec"]["template"]["spec"]["$setElementOrder/containers"][0]["name"],
            "mystocks-api"
        );
        assert_eq!(
            scale_patch("42", 5),
            json!({"metadata": {"resourceVersion": "42"}, "spec": {"replicas": 5}})
        );
        let r = restart_patch("42", "2026-11-28T14:00:00Z", "why");
        assert_eq!(
            r["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT],
            "2026-11-28T14:00:00Z"
        );
    }
}
