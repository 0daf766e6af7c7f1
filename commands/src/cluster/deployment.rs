//! Reading the target deployment and the ReplicaSets it controls, as kubectl's rollout commands do.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, ListParams};

use super::error::{ClusterError, call};
use super::target::Target;

/// The annotation holding a deployment's or ReplicaSet's revision number.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
/// The annotation holding the reason of a rollout.
pub const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";

/// GETs the target deployment.
pub async fn get(client: &kube::Client, target: &Target) -> Result<Deployment, ClusterError> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), &target.namespace);
    call(
        api.get(&target.deployment),
        ("deployment", &target.deployment, &target.namespace),
    )
    .await
}

/// The ReplicaSets controlled by `deployment` (owner reference with its uid and `controller: true`), listed by the
/// deployment's selector like kubectl.
pub async fn owned_replicasets(
    client: &kube::Client,
    target: &Target,
    deployment: &Deployment,
) -> Result<Vec<ReplicaSet>, ClusterError> {
    let api: Api<ReplicaSet> = Api::namespaced(client.clone(), &target.namespace);
    let selector = match_labels_selector(deployment);
    let params = ListParams::default().labels(&selector);
    let list = call(
        api.list(&params),
        (
            "replicasets of deployment",
            &target.deployment,
            &target.namespace,
        ),
    )
    .await?;
    let uid = deployment.metadata.uid.as_deref().unwrap_or_default();
    Ok(list
        .items
        .into_iter()
        .filter(|rs| controlled_by(&rs.metadata, uid))
        .collect())
}

/// Whether `meta` has a controller owner reference to the object with `uid`.
pub fn controlled_by(meta: &ObjectMeta, uid: &str) -> bool {
    !uid.is_empty()
        && meta.owner_references.as_ref().is_some_and(|refs| {
            refs.iter()
                .any(|r| r.uid == uid && r.controller == Some(true))
        })
}

/// The deployment's `spec.selector.matchLabels` as a label selector string (`app=mystocks-api`).
pub fn match_labels_selector(deployment: &Deployment) -> String {
    let labels: BTreeMap<String, String> = deployment
        .spec
        .selector
        .match_labels
        .clone()
        .unwrap_or_default();
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The revision annotation of an object, if it is a valid integer.
pub fn revision(meta: &ObjectMeta) -> Option<i64> {
    annotation(meta, REVISION)?.trim().parse().ok()
}

/// One annotation of an object.
pub fn annotation<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.annotations.as_ref()?.get(key).map(String::as_str)
}

/// The deployment's pod template (empty if the object has no spec).
pub fn template(deployment: &Deployment) -> PodTemplateSpec {
    deployment.spec.template.clone()
}

/// The deployment's desired replicas (Kubernetes defaults a missing value to 1).
pub fn desired_replicas(deployment: &Deployment) -> i32 {
    deployment.spec.replicas.unwrap_or(1)
}

/// The ReplicaSet's template (empty if it has none).
pub fn rs_template(rs: &ReplicaSet) -> PodTemplateSpec {
    rs.spec.template.clone().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ownership_and_revisions() {
        let rs: ReplicaSet = serde_json::from_value(json!({"metadata": {
            "name": "rs1", "annotations": {REVISION: "2"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "d", "uid": "u1",
                                 "controller": true}]}}))
        .expect("rs");
        assert!(controlled_by(&rs.metadata, "u1"));
        assert!(!controlled_by(&rs.metadata, "u2"));
        assert!(!controlled_by(&rs.metadata, ""));
        assert_eq!(revision(&rs.metadata), Some(2));
        let not_controller: ReplicaSet = serde_json::from_value(json!({"metadata": {
            "annotations": {REVISION: "x"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "d", "uid": "u1"}]}}))
        .expect("rs");
        assert!(!controlled_by(&not_controller.metadata, "u1"));
        assert_eq!(revision(&not_controller.metadata), None);
    }

    #[test]
    fn selector_from_match_labels() {
        let d: Deployment = serde_json::from_value(json!({"spec": {
            "selector": {"matchLabels": {"app": "mystocks-api", "tier": "api"}},
            "template": {}}}))
        .expect("deployment");
        assert_eq!(match_labels_selector(&d), "app=mystocks-api,tier=api");
        assert_eq!(desired_replicas(&d), 1);
    }
}
