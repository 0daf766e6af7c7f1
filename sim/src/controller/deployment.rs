//! Deployment controller: one ReplicaSet per pod template (revision = highest + 1; an old matching ReplicaSet is
//! reused and renumbered; `revisionHistoryLimit` honoured), RollingUpdate within maxSurge / maxUnavailable (or
//! Recreate), and status with the Available / Progressing conditions, including ProgressDeadlineExceeded.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet, ReplicaSetSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::events::{self, Involved};
use super::replicaset::{controller_uid, owner_ref};
use super::template::{HASH_LABEL, template_hash, template_key};
use crate::clock::{from_ktime, ktime};
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

fn set_annotation(meta: &mut ObjectMeta, k: &str, v: &str) {
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

/// (maxSurge, maxUnavailable) resolved against `desired` (surge rounds up, unavailable down; never both 0).
pub fn rolling_params(d: &Deployment, desired: i32) -> (i32, i32) {
    let ru = d
        .spec
        .strategy
        .as_ref()
        .and_then(|s| s.rolling_update.as_ref());
    let pct = IntOrString::String("25%".into());
    let surge = resolve(
        ru.and_then(|r| r.max_surge.as_ref()).unwrap_or(&pct),
        desired,
        true,
    );
    let unavailable = resolve(
        ru.and_then(|r| r.max_unavailable.as_ref()).unwrap_or(&pct),
        desired,
        false,
    );
    if surge == 0 && unavailable == 0 {
        (0, 1)
    } else {
        (surge, unavailable.min(desired))
    }
}

fn resolve(v: &IntOrString, total: i32, round_up: bool) -> i32 {
    match v {
        IntOrString::Int(n) => (*n).max(0),
        IntOrString::String(s) => {
            let p: f64 = s.trim_end_matches('%').parse().unwrap_or(25.0);
            let raw = p * total as f64 / 100.0;
            (if round_up { raw.ceil() } else { raw.floor() }) as i32
        }
    }
}

fn replicas_of(rs: &ReplicaSet) -> i32 {
    rs.spec.replicas.unwrap_or(0)
}

fn available_of(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|s| s.available_replicas)
        .unwrap_or(0)
}

fn scale(store: &mut Store, rs: &ReplicaSet, replicas: i32, now: DateTime<Utc>) {
    let Some(mut current) = store.replicasets.get(&key_of(&rs.metadata)).cloned() else {
        return;
    };
    if replicas_of(&current) == replicas {
        return;
    }
    let old = replicas_of(&current);
    current.spec.replicas = Some(replicas);
    current.metadata.generation = Some(current.metadata.generation.unwrap_or(1) + 1);
    if replicas > 0 {
        set_annotation(
            &mut current.metadata,
            "deployment.kubernetes.io/desired-replicas",
            &replicas.to_string(),
        );
    }
    let current = store.put(current);
    scaled_event(store, &current, old, replicas, now);
}

/// The deployment's "Scaled up/down replica set" event.
fn scaled_event(store: &mut Store, rs: &ReplicaSet, from: i32, to: i32, now: DateTime<Utc>) {
    let Some(owner) = rs
        .metadata
        .owner_references
        .as_ref()
        .and_then(|o| o.first())
    else {
        return;
    };
    let ns = rs.metadata.namespace.clone().unwrap_or_default();
    let Some(d) = store.get::<Deployment>(&ns, &owner.name).cloned() else {
        return;
    };
    let direction = if to > from { "up" } else { "down" };
    let name = rs.metadata.name.clone().unwrap_or_default();
    let message = format!("Scaled {direction} replica set {name} from {from} to {to}");
    let about = Involved {
        kind: "Deployment",
        api_version: "apps/v1",
        meta: &d.metadata,
    };
    events::record(
        store,
        now,
        about,
        false,
        "ScalingReplicaSet",
        &message,
        "deployment-controller",
    );
}

fn rolling_update(
    now: DateTime<Utc>,
    store: &mut Store,
    new_rs: &ReplicaSet,
    olds: &[ReplicaSet],
    desired: i32,
    surge: i32,
    unavailable: i32,
) {
    let new_n = replicas_of(new_rs);
    let old_sum: i32 = olds.iter().map(replicas_of).sum();
    if old_sum == 0 {
        scale(store, new_rs, desired, now);
        return;
    }
    let total = new_n + old_sum;
    if new_n < desired {
        let room = (desired + surge - total).max(0);
        scale(store, new_rs, (new_n + room).min(desired), now);
    } else if new_n > desired {
        scale(store, new_rs, desired, now);
    }
    let min_available = desired - unavailable;
    let new_unavailable = (new_n - available_of(new_rs)).max(0);
    // Unhealthy old pods go first: they do not count towards availability.
    let mut cleanup = (total - min_available - new_unavailable).max(0);
    let mut remaining: Vec<(ReplicaSet, i32)> = olds
        .iter()
        .map(|rs| (rs.clone(), replicas_of(rs)))
        .collect();
    for (rs, n) in remaining.iter_mut() {
        let unhealthy = (*n - available_of(rs)).max(0).min(cleanup);
        *n -= unhealthy;
        cleanup -= unhealthy;
    }
    let available_all: i32 = available_of(new_rs) + olds.iter().map(available_of).sum::<i32>();
    let mut budget = (available_all - min_available).max(0);
    for (_, n) in remaining.iter_mut() {
        let take = (*n).min(budget);
        *n -= take;
        budget -= take;
    }
    for (rs, n) in remaining {
        scale(store, &rs, n, now);
    }
}

fn recreate(
    now: DateTime<Utc>,
    store: &mut Store,
    new_rs: &ReplicaSet,
    olds: &[ReplicaSet],
    desired: i32,
) {
    let old_live: i32 = olds
        .iter()
        .map(|rs| rs.status.as_ref().map(|s| s.replicas).unwrap_or(0))
        .sum();
    for rs in olds {
        scale(store, rs, 0, now);
    }
    if old_live == 0 {
        scale(store, new_rs, desired, now);
    }
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

fn update_status(
    store: &mut Store,
    mut d: Deployment,
    new_key: &Key,
    new_event: Option<(&str, &str)>,
    now: DateTime<Utc>,
) {
    let desired = d.spec.replicas.unwrap_or(1).max(0);
    let sets = owned_replicasets(store, &d);
    let st = |rs: &ReplicaSet| rs.status.clone().unwrap_or_default();
    let replicas: i32 = sets.iter().map(|rs| st(rs).replicas).sum();
    let ready: i32 = sets
        .iter()
        .map(|rs| st(rs).ready_replicas.unwrap_or(0))
        .sum();
    let available: i32 = sets
        .iter()
        .map(|rs| st(rs).available_replicas.unwrap_or(0))
        .sum();
    let new_rs = sets.iter().find(|rs| &key_of(&rs.metadata) == new_key);
    let updated = new_rs.map(|rs| st(rs).replicas).unwrap_or(0);
    let new_name = new_key.1.clone();
    let old = d.status.clone().unwrap_or_default();
    let generation = d.metadata.generation.unwrap_or(1);
    let spec_changed = old.observed_generation.unwrap_or(0) < generation;
    let counts_changed = (
        old.replicas,
        old.updated_replicas,
        old.ready_replicas,
        old.available_replicas,
    ) != (Some(replicas), Some(updated), Some(ready), Some(available));
    let complete =
        updated == desired && replicas == updated && available >= updated && new_rs.is_some();
    let (_, max_unavailable) = rolling_params(&d, desired);
    let mut conditions = old.conditions.clone().unwrap_or_default();

    let avail_ok = available >= desired - max_unavailable;
    let (reason, msg) = if avail_ok {
        (
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
        )
    } else {
        (
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        )
    };
    set_condition(
        &mut conditions,
        "Available",
        avail_ok,
        reason,
        msg,
        now,
        false,
    );

    let deadline = d.spec.progress_deadline_seconds.unwrap_or(600) as i64;
    let progressing = conditions
        .iter()
        .find(|c| c.type_.as_deref() == Some("Progressing"))
        .cloned();
    let paused = d.spec.paused == Some(true);
    if paused {
        set_condition(
            &mut conditions,
            "Progressing",
            true,
            "DeploymentPaused",
            "Deployment is paused",
            now,
            true,
        );
    } else if complete {
        let msg = format!("ReplicaSet \"{new_name}\" has successfully progressed.");
        let refresh = progressing.as_ref().map(|c| c.reason.as_deref())
            != Some(Some("NewReplicaSetAvailable"));
        set_condition(
            &mut conditions,
            "Progressing",
            true,
            "NewReplicaSetAvailable",
            &msg,
            now,
            refresh,
        );
    } else if let Some((reason, what)) = new_event {
        let msg = format!("{what} \"{new_name}\"");
        set_condition(
            &mut conditions,
            "Progressing",
            true,
            reason,
            &msg,
            now,
            true,
        );
    } else if spec_changed || counts_changed || progressing.is_none() {
        let msg = format!("ReplicaSet \"{new_name}\" is progressing.");
        set_condition(
            &mut conditions,
            "Progressing",
            true,
            "ReplicaSetUpdated",
            &msg,
            now,
            true,
        );
    } else if let Some(p) = progressing {
        let last = p.last_update_time.as_ref().map(from_ktime).unwrap_or(now);
        let done = matches!(
            p.reason.as_deref(),
            Some("NewReplicaSetAvailable" | "ProgressDeadlineExceeded")
        );
        if !done && now - last > chrono::Duration::seconds(deadline) {
            let msg = format!("ReplicaSet \"{new_name}\" has timed out progressing.");
            set_condition(
                &mut conditions,
                "Progressing",
                false,
                "ProgressDeadlineExceeded",
                &msg,
                now,
                true,
            );
        }
    }
    d.status = Some(DeploymentStatus {
        observed_generation: Some(generation),
        replicas: Some(replicas),
        updated_replicas: Some(updated),
        ready_replicas: Some(ready),
        available_replicas: Some(available),
        unavailable_replicas: (desired - available > 0).then_some(desired - available),
        conditions: Some(conditions),
        ..Default::default()
    });
    store.put_if_changed(d);
}

/// Sets a condition; `refresh` moves its lastUpdateTime to now (lastTransitionTime moves only when status flips).
fn set_condition(
    conds: &mut Vec<DeploymentCondition>,
    type_: &str,
    ok: bool,
    reason: &str,
    msg: &str,
    now: DateTime<Utc>,
    refresh: bool,
) {
    let status = if ok { "True" } else { "False" };
    match conds.iter_mut().find(|c| c.type_.as_deref() == Some(type_)) {
        Some(c) => {
            let flipped = c.status.as_deref() != Some(status);
            if flipped || refresh || c.reason.as_deref() != Some(reason) {
                c.last_update_time = Some(ktime(now));
            }
            if flipped {
                c.last_transition_time = Some(ktime(now));
            }
            c.status = Some(status.into());
            c.reason = Some(reason.into());
            c.message = Some(msg.into());
        }
        None => conds.push(DeploymentCondition {
            type_: Some(type_.into()),
            status: Some(status.into()),
            reason: Some(reason.into()),
            message: Some(msg.into()),
            last_update_time: Some(ktime(now)),
            last_transition_time: Some(ktime(now)),
        }),
    }
}
