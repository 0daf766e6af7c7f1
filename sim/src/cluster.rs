//! The cluster: the object store behind one lock, the sim clock, the scenario, the API's tokens and request log.
//! It implements the [`ClusterView`] / [`ClusterControl`] seam the application side reads.

use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::Pod;
use tokio::sync::Notify;

use crate::auth::SimToken;
use crate::clock::SimClock;
use crate::controller::pods::{PodDelays, pod_view};
use crate::request_log::RequestLog;
use crate::store::Store;
use crate::world::{ClusterControl, ClusterView, PodView, ScenarioState};
use crate::{DEFAULT_DEPLOYMENT, DEFAULT_NAMESPACE};

/// Everything the API server and the controllers share.
pub struct Cluster {
    store: Mutex<Store>,
    pub clock: SimClock,
    scenario: RwLock<ScenarioState>,
    pub delays: PodDelays,
    pub tokens: Vec<SimToken>,
    pub requests: RequestLog,
    /// Wakes the controllers after an API change.
    pub changed: Notify,
}

impl Cluster {
    /// A cluster with an empty store.
    pub fn new(
        clock: SimClock,
        scenario: ScenarioState,
        delays: PodDelays,
        tokens: Vec<SimToken>,
    ) -> Cluster {
        Cluster {
            store: Mutex::new(Store::new()),
            clock,
            scenario: RwLock::new(scenario),
            delays,
            tokens,
            requests: RequestLog::default(),
            changed: Notify::new(),
        }
    }

    /// Locks the store. A panic elsewhere never poisons the cluster for good.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current scenario.
    pub fn scenario_state(&self) -> ScenarioState {
        self.scenario
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Tells the controllers something changed.
    pub fn kick(&self) {
        self.changed.notify_one();
    }

    fn is_app_pod(pod: &Pod) -> bool {
        pod.metadata.namespace.as_deref() == Some(DEFAULT_NAMESPACE)
            && pod
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("app"))
                .map(String::as_str)
                == Some(DEFAULT_DEPLOYMENT)
    }
}

impl ClusterView for Cluster {
    fn app_pods(&self) -> Vec<PodView> {
        let store = self.store();
        store
            .pods
            .iter()
            .filter(|(_, p)| Cluster::is_app_pod(p))
            .filter_map(|(k, p)| store.pod_runtime.get(k).map(|rt| pod_view(p, rt)))
            .collect()
    }

    fn scenario(&self) -> ScenarioState {
        self.scenario_state()
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

impl ClusterControl for Cluster {
    fn set_scenario(&self, state: ScenarioState) {
        *self.scenario.write().unwrap_or_else(|e| e.into_inner()) = state;
        self.kick();
    }
}

/// A shared handle, as the servers hold it.
pub type SharedCluster = Arc<Cluster>;
