//! The controllers that make the store behave like a cluster, run on the sim clock: pod lifecycle, ReplicaSets,
//! Deployments. One `tick` reconciles everything once; `run` ticks until shut down.

pub mod deployment;
pub mod deployment_status;
pub mod events;
pub mod pod_status;
pub mod pods;
pub mod replicaset;
pub mod rollout;
pub mod template;

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;

use crate::cluster::Cluster;
use crate::store::Store;
use crate::world::{Scenario, ScenarioState};
use pods::Stage;

/// How often the controllers run in real time when nothing wakes them.
const TICK: Duration = Duration::from_millis(20);

/// Runs the controllers until the task is aborted.
pub async fn run(cluster: Arc<Cluster>) {
    loop {
        tick(&cluster);
        let _ = tokio::time::timeout(TICK, cluster.changed.notified()).await;
    }
}

/// Reconciles everything once.
pub fn tick(cluster: &Cluster) {
    let now = cluster.clock.now();
    let scenario = cluster.scenario_state();
    let mut store = cluster.store();
    advance_pods(&mut store, now, cluster, &scenario);
    // Deployments every tick (cheap, and the progress deadline is a matter of time alone) …
    deployment::sync_all(&mut store, now);
    // … ReplicaSets (a pass over every pod) only when something changed since the last tick.
    if store.resource_version() != store.controller_seen_rv {
        replicaset::sync_all(&mut store, now, &cluster.delays);
        // What the second pass changes (it may scale a ReplicaSet) is seen by the next tick.
        store.controller_seen_rv = store.resource_version();
        // A second deployment pass picks up the ReplicaSet status just written, so status follows in one tick.
        deployment::sync_all(&mut store, now);
    }
}

fn advance_pods(
    store: &mut Store,
    now: chrono::DateTime<chrono::Utc>,
    cluster: &Cluster,
    scenario: &ScenarioState,
) {
    // Only the pods with something due are looked at closely: a few thousand idle pods cost one cheap scan.
    let crash_possible = scenario.scenario == Scenario::BadRelease;
    let keys: Vec<_> = store
        .pod_runtime
        .iter()
        .filter(|(_, rt)| rt.may_be_due(now, &cluster.delays, crash_possible))
        .map(|(k, _)| k.clone())
        .collect();
    for key in keys {
        let Some(pod) = store.pods.get(&key) else {
            store.pod_runtime.remove(&key);
            continue;
        };
        let image = pod
            .spec
            .as_ref()
            .and_then(|s| s.containers.first())
            .and_then(|c| c.image.clone())
            .unwrap_or_default();
        let fate = scenario.image_fate(&image);
        let Some(rt) = store.pod_runtime.get_mut(&key) else {
            continue;
        };
        if let pods::Stage::Terminating { until } = rt.stage {
            if until <= now {
                store.remove::<Pod>(&key.0, &key.1);
            }
            continue;
        }
        let before = rt.stage;
        if rt.advance(now, &cluster.delays, fate) {
            let rt = rt.clone();
            if let Some(mut pod) = store.pods.get(&key).cloned() {
                pods::render_status(&mut pod, &rt);
                let pod = store.put(pod);
                lifecycle_events(store, &pod, before, rt.stage, now);
            }
        }
    }
}

/// The kubelet's and scheduler's events for a pod moving from `before` to `after`.
fn lifecycle_events(
    store: &mut Store,
    pod: &Pod,
    before: Stage,
    after: Stage,
    now: chrono::DateTime<chrono::Utc>,
) {
    let container = pod.spec.as_ref().and_then(|s| s.containers.first());
    let name = container.map(|c| c.name.clone()).unwrap_or_default();
    let image = container.and_then(|c| c.image.clone()).unwrap_or_default();
    let pod_name = pod.metadata.name.clone().unwrap_or_default();
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let mut emit = |warning: bool, reason: &str, message: String, component: &str| {
        let about = events::Involved {
            kind: "Pod",
            api_version: "v1",
            meta: &pod.metadata,
        };
        events::record(store, now, about, warning, reason, &message, component);
    };
    if before == Stage::Pending {
        emit(
            false,
            "Scheduled",
            format!("Successfully assigned {ns}/{pod_name} to sim-node-1"),
            "default-scheduler",
        );
    }
    match after {
        Stage::Starting | Stage::Ready if !matches!(before, Stage::Starting | Stage::Ready) => {
            emit(
                false,
                "Pulled",
                format!("Container image \"{image}\" already present on machine"),
                "kubelet",
            );
            emit(
                false,
                "Created",
                format!("Created container: {name}"),
                "kubelet",
            );
            emit(
                false,
                "Started",
                format!("Started container {name}"),
                "kubelet",
            );
        }
        Stage::CrashBackOff { .. } => emit(
            true,
            "BackOff",
            format!("Back-off restarting failed container {name} in pod {pod_name}"),
            "kubelet",
        ),
        Stage::ErrImagePull => {
            emit(
                false,
                "Pulling",
                format!("Pulling image \"{image}\""),
                "kubelet",
            );
            emit(
                true,
                "Failed",
                format!("Failed to pull image \"{image}\": not found"),
                "kubelet",
            );
            emit(true, "Failed", "Error: ErrImagePull".to_string(), "kubelet");
        }
        Stage::ImagePullBackOff { .. } => emit(
            false,
            "BackOff",
            format!("Back-off pulling image \"{image}\""),
            "kubelet",
        ),
        _ => {}
    }
}
