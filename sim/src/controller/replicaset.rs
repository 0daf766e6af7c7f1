//! ReplicaSet controller: keeps each ReplicaSet's number of live pods at `spec.replicas` (creating pods from its
//! template, deleting the least useful first) and reports its status.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetStatus};
use k8s_openapi::api::core::v1::{Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use super::events::{self, Involved};
use super::pods::{PodDelays, PodRuntime, Stage, render_status};
use super::template::random_suffix;
use crate::clock::{from_ktime, ktime};
use crate::store::{Key, Store, key_of};

/// A pod as its owner sees it: key, creation time, whether it is terminating.
type OwnedPod = (Key, DateTime<Utc>, bool);

/// Brings every ReplicaSet's pods to its desired count and updates its status.
pub fn sync_all(store: &mut Store, now: DateTime<Utc>, delays: &PodDelays) {
    // One pass over the pods per tick, not one per ReplicaSet.
    let mut by_owner: HashMap<String, Vec<OwnedPod>> = HashMap::new();
    for (k, p) in &store.pods {
        if let Some(uid) = controller_uid(&p.metadata) {
            by_owner
                .entry(uid.to_string())
                .or_default()
                .push(owned(k, p));
        }
    }
    let sets: Vec<ReplicaSet> = store.replicasets.values().cloned().collect();
    for rs in sets {
        let uid = rs.metadata.uid.clone().unwrap_or_default();
        let pods = by_owner.remove(&uid).unwrap_or_default();
        sync_one(store, &rs, &uid, pods, now, delays);
    }
}

fn owned(k: &Key, p: &Pod) -> OwnedPod {
    let created = p
        .metadata
        .creation_timestamp
        .as_ref()
        .map(from_ktime)
        .unwrap_or_default();
    (k.clone(), created, p.metadata.deletion_timestamp.is_some())
}

fn sync_one(
    store: &mut Store,
    rs: &ReplicaSet,
    uid: &str,
    mut pods: Vec<OwnedPod>,
    now: DateTime<Utc>,
    delays: &PodDelays,
) {
    let desired = rs.spec.replicas.unwrap_or(1).max(0) as usize;
    let mut live: Vec<(Key, DateTime<Utc>)> = pods
        .iter()
        .filter(|p| !p.2)
        .map(|p| (p.0.clone(), p.1))
        .collect();
    if live.len() < desired {
        for _ in live.len()..desired {
            let (_, pod) = create_pod(store, rs, now);
            rs_event(
                store,
                rs,
                now,
                "SuccessfulCreate",
                &format!("Created pod: {pod}"),
            );
        }
    } else if live.len() > desired {
        // Least useful first: not ready before ready, then newest first.
        live.sort_by_key(|(key, created)| {
            let ready = store
                .pod_runtime
                .get(key)
                .is_some_and(|rt| rt.stage == Stage::Ready);
            (ready, std::cmp::Reverse(*created))
        });
        for (key, _) in live.iter().take(live.len() - desired) {
            delete_pod(store, key, now, delays);
            rs_event(
                store,
                rs,
                now,
                "SuccessfulDelete",
                &format!("Deleted pod: {}", key.1),
            );
        }
    }
    if live.len() != desired {
        pods = store
            .pods
            .iter()
            .filter(|(_, p)| controller_uid(&p.metadata) == Some(uid))
            .map(|(k, p)| owned(k, p))
            .collect();
    }
    update_status(store, rs, &pods);
}

/// The uid of an object's controlling owner.
pub fn controller_uid(meta: &ObjectMeta) -> Option<&str> {
    meta.owner_references
        .as_ref()?
        .iter()
        .find(|o| o.controller == Some(true))
        .map(|o| o.uid.as_str())
}

fn update_status(store: &mut Store, rs: &ReplicaSet, pods: &[OwnedPod]) {
    let live: Vec<&OwnedPod> = pods.iter().filter(|p| !p.2).collect();
    let ready = live
        .iter()
        .filter(|p| {
            store
                .pod_runtime
                .get(&p.0)
                .is_some_and(|rt| rt.stage == Stage::Ready)
        })
        .count();
    let terminating = pods.len() - live.len();
    let Some(mut current) = store.replicasets.get(&key_of(&rs.metadata)).cloned() else {
        return;
    };
    current.status = Some(ReplicaSetStatus {
        replicas: live.len() as i32,
        fully_labeled_replicas: Some(live.len() as i32),
        ready_replicas: Some(ready as i32),
        available_replicas: Some(ready as i32),
        terminating_replicas: Some(terminating as i32),
        observed_generation: current.metadata.generation,
        ..Default::default()
    });
    store.put_if_changed(current);
}

/// Creates one pod of a ReplicaSet (Pending) and returns its key.
pub fn create_pod(store: &mut Store, rs: &ReplicaSet, now: DateTime<Utc>) -> Key {
    let rs_name = rs.metadata.name.clone().unwrap_or_default();
    let template = rs.spec.template.clone().unwrap_or_default();
    let tmeta = template.metadata.unwrap_or_default();
    let mut name = format!("{rs_name}-{}", random_suffix());
    while store.pods.contains_key(&(ns_of(rs), name.clone())) {
        name = format!("{rs_name}-{}", random_suffix());
    }
    let mut pod = Pod {
        metadata: ObjectMeta {
            name: Some(name),
            generate_name: Some(format!("{rs_name}-")),
            namespace: rs.metadata.namespace.clone(),
            uid: Some(uuid::Uuid::new_v4().to_string()),
            creation_timestamp: Some(ktime(now)),
            labels: tmeta.labels,
            annotations: tmeta.annotations,
            owner_references: Some(vec![owner_ref("apps/v1", "ReplicaSet", &rs.metadata)]),
            ..Default::default()
        },
        spec: Some(pod_spec(template.spec.unwrap_or_default())),
        status: None,
    };
    // The same address the application side reports for this pod.
    let ip = crate::app::pod_ip(pod.metadata.uid.as_deref().unwrap_or("")).to_string();
    let rt = PodRuntime::new(now, ip);
    render_status(&mut pod, &rt);
    let key = key_of(&pod.metadata);
    store.pod_runtime.insert(key.clone(), rt);
    store.put(pod);
    key
}

/// A pod's spec from a template, with what the scheduler and defaulting add.
pub fn pod_spec(mut spec: PodSpec) -> PodSpec {
    spec.node_name = Some("sim-node-1".into());
    spec.restart_policy.get_or_insert_with(|| "Always".into());
    spec.dns_policy.get_or_insert_with(|| "ClusterFirst".into());
    spec.scheduler_name
        .get_or_insert_with(|| "default-scheduler".into());
    spec.service_account_name
        .get_or_insert_with(|| "default".into());
    spec.termination_grace_period_seconds.get_or_insert(30);
    spec
}

/// An ownerReference to `owner` with `controller: true`.
pub fn owner_ref(api_version: &str, kind: &str, owner: &ObjectMeta) -> OwnerReference {
    OwnerReference {
        api_version: api_version.into(),
        kind: kind.into(),
        name: owner.name.clone().unwrap_or_default(),
        uid: owner.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

fn rs_event(store: &mut Store, rs: &ReplicaSet, now: DateTime<Utc>, reason: &str, message: &str) {
    let about = Involved {
        kind: "ReplicaSet",
        api_version: "apps/v1",
        meta: &rs.metadata,
    };
    events::record(
        store,
        now,
        about,
        false,
        reason,
        message,
        "replicaset-controller",
    );
}

fn ns_of(rs: &ReplicaSet) -> String {
    rs.metadata.namespace.clone().unwrap_or_default()
}

/// Starts the graceful deletion of a pod (it shows Terminating, then disappears). Returns the updated pod.
pub fn delete_pod(
    store: &mut Store,
    key: &Key,
    now: DateTime<Utc>,
    delays: &PodDelays,
) -> Option<Pod> {
    let mut pod = store.pods.get(key).cloned()?;
    if pod.metadata.deletion_timestamp.is_some() {
        return Some(pod);
    }
    let grace = pod
        .spec
        .as_ref()
        .and_then(|s| s.termination_grace_period_seconds)
        .unwrap_or(30);
    pod.metadata.deletion_timestamp = Some(ktime(now + chrono::Duration::seconds(grace)));
    pod.metadata.deletion_grace_period_seconds = Some(grace);
    let rt = store
        .pod_runtime
        .entry(key.clone())
        .or_insert_with(|| PodRuntime::new(now, String::new()));
    rt.terminate(now, delays);
    let rt = rt.clone();
    render_status(&mut pod, &rt);
    let pod = store.put(pod);
    let container = pod
        .spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let about = Involved {
        kind: "Pod",
        api_version: "v1",
        meta: &pod.metadata,
    };
    events::record(
        store,
        now,
        about,
        false,
        "Killing",
        &format!("Stopping container {container}"),
        "kubelet",
    );
    Some(pod)
}
