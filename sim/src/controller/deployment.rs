//! Deployment controller: one ReplicaSet per pod template (revision = highest + 1; an old matching ReplicaSet is
//! reused and renumbered; `revisionHistoryLimit` honoured); the rollout steps are in `rollout.rs`, the status and
//! conditions (ProgressDeadlineExceeded included) in `deployment_status.rs`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::deployment_status::update_status;
use super::replicaset::{controller_uid, owner_ref};
use super::rollout::{recreate, replicas_of, rolling_params, rolling_update};
use super::template::{HASH_LABEL, template_hash, template_key};
use crate::clock::ktime;
use crate::store::{Key, Store, key_of};

/// The revision annotation on deployments and ReplicaSets.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
/// The change-cause annotation kubectl shows in `rollout history`.
pub const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";

/// Reconciles every deployment.
pub fn sync_all(store: &mut Store, now: DateTime<Utc>) {
    let deployments: Vec<Deployment> = store.deployments.values().cloned().collect();
    for d in deployments {
        sync_one(store, d, now);
    }
}

/// A ReplicaSet's revision number (0 when missing or malformed).
pub fn revision(meta: &ObjectMeta) -> i64 {
    meta.annotations
        .as_ref()
        .and_then(|a| a.get(REVISION))
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// The ReplicaSets a deployment controls, oldest revision first.
pub fn owned_replicasets(store: &Store, d: &Deployment) -> Vec<ReplicaSet> {
    let uid = d.metadata.uid.as_deref().unwrap_or("");
    let mut sets: Vec<ReplicaSet> = store
        .replicasets
        .values()
        .filter(|rs| controller_uid(&rs.metadata) == Some(uid))
        .cloned()
        .collect();
    sets.sort_by_key(|rs| revision(&rs.metadata));
    sets
}

fn sync_one(store: &mut Store, mut d: Deployment, now: DateTime<Utc>) {
    let spec = d.spec.clone();
    let desired = spec.replicas.unwrap_or(1).max(0);
    let sets = owned_replicasets(store, &d);
    let key = template_key(&spec.template);
    let max_rev = sets
        .iter()
        .map(|rs| revision(&rs.metadata))
        .max()
        .unwrap_or(0);
    let found = sets
        .iter()
        .find(|rs| rs.spec.template.as_ref().map(template_key) == Some(key.clone()));
    let mut new_event = None;
    let new_rs = match found {
        None => {
            new_event = Some(("NewReplicaSetCreated", "Created new replica set"));
            create_replicaset(store, &d, max_rev + 1, desired, now)
        }
        Some(rs) => {
            let mut rs = rs.clone();
            let rev = revision(&rs.metadata);
            let mut changed = false;
            if rev < max_rev {
                set_annotation(&mut rs.metadata, REVISION, &(max_rev + 1).to_string());
                let history = rs
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get("deployment.kubernetes.io/revision-history"))
                    .cloned();
                let history = match history {
                    Some(h) if !h.is_empty() => format!("{h},{rev}"),
                    _ => rev.to_string(),
                };
                set_annotation(
                    &mut rs.metadata,
                    "deployment.kubernetes.io/revision-history",
                    &history,
                );
                new_event = Some(("FoundNewReplicaSet", "Found new replica set"));
                changed = true;
            }
            let cause = d
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(CHANGE_CAUSE))
                .cloned();
            let rs_cause = rs
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(CHANGE_CAUSE))
                .cloned();
            if cause.is_some() && cause != rs_cause {
                set_annotation(
                    &mut rs.metadata,
                    CHANGE_CAUSE,
                    cause.as_deref().unwrap_or(""),
                );
                changed = true;
            }
            if changed { store.put(rs) } else { rs }
        }
    };
    let new_key = key_of(&new_rs.metadata);
    set_annotation(
        &mut d.metadata,
        REVISION,
        &revision(&new_rs.metadata).to_string(),
    );

    let olds: Vec<ReplicaSet> = owned_replicasets(store, &d)
        .into_iter()
        .filter(|rs| key_of(&rs.metadata) != new_key)
        .collect();
    if spec.paused != Some(true) {
        let (surge, unavailable) = rolling_params(&d, desired);
        if spec.strategy.as_ref().and_then(|s| s.type_.as_deref()) == Some("Recreate") {
            recreate(now, store, &new_rs, &olds, desired);
        } else {
            rolling_update(now, store, &new_rs, &olds, desired, surge, unavailable);
        }
        set_annotation(
            &mut d.metadata,
            "deployment.kubernetes.io/desired-replicas",
            &desired.to_string(),
        );
    }
    clean_history(store, &d, &new_key);
    update_status(store, d, &new_key, new_event, now);
}

/// Sets one annotation.
pub fn set_annotation(meta: &mut ObjectMeta, k: &str, v: &str) {
    meta.annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(k.to_string(), v.to_string());
}

/// Creates the ReplicaSet for a deployment's current template (0 replicas) and returns it.
pub fn create_replicaset(
    store: &mut Store,
    d: &Deployment,
    rev: i64,
    desired: i32,
    now: DateTime<Utc>,
) -> ReplicaSet {
    let spec = d.spec.clone();
    let hash = template_hash(&spec.template);
    let mut template = spec.template.clone();
    let tmeta = template.metadata.get_or_insert_with(Default::default);
    tmeta
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(HASH_LABEL.into(), hash.clone());
    tmeta.creation_timestamp = None;
    let mut selector: LabelSelector = spec.selector.clone();
    selector
        .match_labels
        .get_or_insert_with(BTreeMap::new)
        .insert(HASH_LABEL.into(), hash.clone());
    let mut annotations = BTreeMap::new();
    annotations.insert(REVISION.to_string(), rev.to_string());
    annotations.insert(
        "deployment.kubernetes.io/desired-replicas".to_string(),
        desired.to_string(),
    );
    annotations.insert(
        "deployment.kubernetes.io/max-replicas".to_string(),
        (desired + rolling_params(d, desired).0).to_string(),
    );
    if let Some(cause) = d
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(CHANGE_CAUSE))
    {
        annotations.insert(CHANGE_CAUSE.to_string(), cause.clone());
    }
    let name = format!(
        "{}-{hash}",
        d.metadata.name.as_deref().unwrap_or("deployment")
    );
    let rs = ReplicaSet {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: d.metadata.namespace.clone(),
            uid: Some(uuid::Uuid::new_v4().to_string()),
            generation: Some(1),
            creation_timestamp: Some(ktime(now)),
            labels: template.metadata.as_ref().and_then(|m| m.labels.clone()),
            annotations: Some(annotations),
            owner_references: Some(vec![owner_ref("apps/v1", "Deployment", &d.metadata)]),
            ..Default::default()
        },
        spec: ReplicaSetSpec {
            replicas: Some(0),
            min_ready_seconds: spec.min_ready_seconds,
            selector,
            template: Some(template),
        },
        status: None,
    };
    store.put(rs)
}

fn clean_history(store: &mut Store, d: &Deployment, new_key: &Key) {
    let limit = d.spec.revision_history_limit.unwrap_or(10).max(0) as usize;
    let idle: Vec<ReplicaSet> = owned_replicasets(store, d)
        .into_iter()
        .filter(|rs| &key_of(&rs.metadata) != new_key)
        .filter(|rs| {
            replicas_of(rs) == 0 && rs.status.as_ref().map(|s| s.replicas).unwrap_or(0) == 0
        })
        .collect();
    if idle.len() > limit {
        for rs in &idle[..idle.len() - limit] {
            let (ns, name) = key_of(&rs.metadata);
            store.remove::<ReplicaSet>(&ns, &name);
        }
    }
}
