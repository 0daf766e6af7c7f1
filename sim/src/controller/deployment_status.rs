//! Deployment status: replicas / updated / ready / available from the ReplicaSets, and the Available and
//! Progressing conditions — including ProgressDeadlineExceeded when the new ReplicaSet makes no progress.

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet};

use super::deployment::owned_replicasets;
use super::rollout::rolling_params;
use crate::clock::{from_ktime, ktime};
use crate::store::{Key, Store, key_of};

/// Writes the deployment's status (only when it changed).
pub fn update_status(
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
