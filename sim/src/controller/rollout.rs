//! Rollout steps: RollingUpdate within maxSurge / maxUnavailable (old ReplicaSets scaled down as new pods become
//! available, unhealthy old pods first) or Recreate, each scale recorded as a ScalingReplicaSet event.

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::deployment::set_annotation;
use super::events::{self, Involved};
use crate::store::{Store, key_of};

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

/// A ReplicaSet's desired replicas.
pub fn replicas_of(rs: &ReplicaSet) -> i32 {
    rs.spec.replicas.unwrap_or(0)
}

/// A ReplicaSet's available replicas, counting no more than it is scaled to: a ReplicaSet just scaled down
/// still reports the pods it is about to delete, and counting them would scale old ReplicaSets down twice.
pub fn available_of(rs: &ReplicaSet) -> i32 {
    let available = rs
        .status
        .as_ref()
        .and_then(|s| s.available_replicas)
        .unwrap_or(0);
    available.min(replicas_of(rs))
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

/// One RollingUpdate step: scale the new ReplicaSet up within the surge, old ones down within availability.
pub fn rolling_update(
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

/// One Recreate step: old ReplicaSets to 0, then the new one to `desired` once their pods are gone.
pub fn recreate(
    now: DateTime<Utc>,
    store: &mut Store,
    new_rs: &ReplicaSet,
    olds: &[ReplicaSet],
    desired: i32,
) {
    // Terminating old pods still count: Recreate starts nothing until every old pod is gone.
    let old_live: i32 = olds
        .iter()
        .filter_map(|rs| rs.status.as_ref())
        .map(|s| s.replicas + s.terminating_replicas.unwrap_or(0))
        .sum();
    for rs in olds {
        scale(store, rs, 0, now);
    }
    if old_live == 0 {
        scale(store, new_rs, desired, now);
    }
}
