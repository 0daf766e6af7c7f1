//! The object store: typed objects per kind, a cluster-wide resourceVersion counter, and the recent watch
//! history (events newer than a resourceVersion can be replayed; older ones answer 410 Gone).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{ConfigMap, Event, Namespace, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::broadcast;

use crate::controller::pods::PodRuntime;

/// Which collection an object or event belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Namespace,
    Pod,
    Deployment,
    ReplicaSet,
    Event,
    ConfigMap,
}

impl Kind {
    /// The collection served under a plural resource name.
    pub fn from_plural(plural: &str) -> Option<Kind> {
        Some(match plural {
            "pods" => Kind::Pod,
            "deployments" => Kind::Deployment,
            "replicasets" => Kind::ReplicaSet,
            "namespaces" => Kind::Namespace,
            "events" => Kind::Event,
            "configmaps" => Kind::ConfigMap,
            _ => return None,
        })
    }
}

/// `(namespace, name)`; cluster-scoped objects use an empty namespace.
pub type Key = (String, String);

/// One change, as a watch delivers it.
#[derive(Debug)]
pub struct WatchEvent {
    pub rv: u64,
    pub kind: Kind,
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub event_type: &'static str,
    pub namespace: String,
    pub name: String,
    /// The object after the change (before it, for DELETED), as JSON.
    pub object: serde_json::Value,
    /// The same, serialized.
    pub text: String,
}

/// The retained events newer than a resourceVersion, and a receiver for the ones to come.
pub type WatchStart = (Vec<Arc<WatchEvent>>, broadcast::Receiver<Arc<WatchEvent>>);

/// A stored object type.
pub trait Object:
    k8s_openapi::Resource
    + k8s_openapi::Metadata<Ty = ObjectMeta>
    + Clone
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
{
    /// The collection it lives in.
    const STORE_KIND: Kind;
    /// Its map in the store.
    fn map(store: &Store) -> &BTreeMap<Key, Self>;
    /// Its map in the store, mutable.
    fn map_mut(store: &mut Store) -> &mut BTreeMap<Key, Self>;
}

macro_rules! stored {
    ($ty:ty, $kind:expr, $field:ident) => {
        impl Object for $ty {
            const STORE_KIND: Kind = $kind;
            fn map(store: &Store) -> &BTreeMap<Key, Self> {
                &store.$field
            }
            fn map_mut(store: &mut Store) -> &mut BTreeMap<Key, Self> {
                &mut store.$field
            }
        }
    };
}
stored!(Namespace, Kind::Namespace, namespaces);
stored!(Pod, Kind::Pod, pods);
stored!(Deployment, Kind::Deployment, deployments);
stored!(ReplicaSet, Kind::ReplicaSet, replicasets);
stored!(Event, Kind::Event, events);
stored!(ConfigMap, Kind::ConfigMap, configmaps);

/// How many changes the watch history keeps.
const HISTORY: usize = 5000;
/// How many events (the Event kind) are kept.
const MAX_EVENTS: usize = 1000;

/// All cluster state. Guarded by one mutex in [`crate::cluster::Cluster`].
pub struct Store {
    rv: u64,
    pub namespaces: BTreeMap<Key, Namespace>,
    pub pods: BTreeMap<Key, Pod>,
    pub deployments: BTreeMap<Key, Deployment>,
    pub replicasets: BTreeMap<Key, ReplicaSet>,
    pub events: BTreeMap<Key, Event>,
    pub configmaps: BTreeMap<Key, ConfigMap>,
    /// Simulation-only state of each pod (lifecycle stage, fate, timers).
    pub pod_runtime: HashMap<Key, PodRuntime>,
    /// Each object's latest JSON (from its last event), so reads do not serialize again.
    latest: BTreeMap<(Kind, String, String), Arc<WatchEvent>>,
    history: VecDeque<Arc<WatchEvent>>,
    /// Events with rv ≤ this are no longer in the history.
    compacted_rv: u64,
    tx: broadcast::Sender<Arc<WatchEvent>>,
    /// The resourceVersion the controllers last reconciled at (they skip work when nothing changed).
    pub controller_seen_rv: u64,
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

impl Store {
    /// An empty store.
    pub fn new() -> Store {
        let (tx, _) = broadcast::channel(4096);
        Store {
            rv: 1,
            namespaces: BTreeMap::new(),
            pods: BTreeMap::new(),
            deployments: BTreeMap::new(),
            replicasets: BTreeMap::new(),
            events: BTreeMap::new(),
            configmaps: BTreeMap::new(),
            pod_runtime: HashMap::new(),
            latest: BTreeMap::new(),
            history: VecDeque::new(),
            compacted_rv: 1,
            tx,
            controller_seen_rv: 0,
        }
    }

    /// The current (latest) resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    /// One object by namespace and name.
    pub fn get<K: Object>(&self, ns: &str, name: &str) -> Option<&K> {
        K::map(self).get(&(ns.to_string(), name.to_string()))
    }

    /// All objects of a kind in `ns` (all namespaces when None), in name order.
    pub fn list<K: Object>(&self, ns: Option<&str>) -> Vec<&K> {
        K::map(self)
            .iter()
            .filter(|((n, _), _)| ns.is_none_or(|want| want == n))
            .map(|(_, v)| v)
            .collect()
    }

    /// Stores `obj` (creating or replacing it), assigns a new resourceVersion and records a watch event.
    /// Returns the stored copy.
    pub fn put<K: Object>(&mut self, mut obj: K) -> K {
        self.rv += 1;
        let meta = obj.metadata_mut();
        meta.resource_version = Some(self.rv.to_string());
        let key = (
            meta.namespace.clone().unwrap_or_default(),
            meta.name.clone().unwrap_or_default(),
        );
        let existed = K::map(self).contains_key(&key);
        K::map_mut(self).insert(key.clone(), obj.clone());
        self.emit(
            K::STORE_KIND,
            if existed { "MODIFIED" } else { "ADDED" },
            &key,
            &obj,
        );
        if K::STORE_KIND == Kind::Event
            && self.events.len() > MAX_EVENTS
            && let Some(oldest) = self.events.keys().next().cloned()
        {
            self.events.remove(&oldest);
        }
        obj
    }

    /// Stores `obj` only if it differs from what is stored (ignoring resourceVersion). Returns whether it wrote.
    pub fn put_if_changed<K: Object>(&mut self, obj: K) -> bool {
        let key = key_of(obj.metadata());
        if let Some(old) = K::map(self).get(&key) {
            let mut probe = obj.clone();
            probe.metadata_mut().resource_version = old.metadata().resource_version.clone();
            if serde_json::to_value(&probe).ok() == serde_json::to_value(old).ok() {
                return false;
            }
        }
        self.put(obj);
        true
    }

    /// Removes an object, recording a DELETED event. Returns it.
    pub fn remove<K: Object>(&mut self, ns: &str, name: &str) -> Option<K> {
        let key = (ns.to_string(), name.to_string());
        let mut obj = K::map_mut(self).remove(&key)?;
        self.rv += 1;
        obj.metadata_mut().resource_version = Some(self.rv.to_string());
        self.emit(K::STORE_KIND, "DELETED", &key, &obj);
        if K::STORE_KIND == Kind::Pod {
            self.pod_runtime.remove(&key);
        }
        Some(obj)
    }

    fn emit<K: Object>(&mut self, kind: Kind, event_type: &'static str, key: &Key, obj: &K) {
        let object = serde_json::to_value(obj).unwrap_or(serde_json::Value::Null);
        let text = object.to_string();
        let ev = Arc::new(WatchEvent {
            rv: self.rv,
            kind,
            event_type,
            namespace: key.0.clone(),
            name: key.1.clone(),
            object,
            text,
        });
        let latest_key = (kind, key.0.clone(), key.1.clone());
        if event_type == "DELETED" {
            self.latest.remove(&latest_key);
        } else {
            self.latest.insert(latest_key, ev.clone());
        }
        self.history.push_back(ev.clone());
        while self.history.len() > HISTORY {
            if let Some(old) = self.history.pop_front() {
                self.compacted_rv = old.rv;
            }
        }
        let _ = self.tx.send(ev);
    }

    /// The latest JSON of one object.
    pub fn json_of(&self, kind: Kind, ns: &str, name: &str) -> Option<Arc<WatchEvent>> {
        self.latest
            .get(&(kind, ns.to_string(), name.to_string()))
            .cloned()
    }

    /// The latest JSON of every object of `kind` in `ns` (all namespaces when None), in (namespace, name) order.
    pub fn list_json(&self, kind: Kind, ns: Option<&str>) -> Vec<Arc<WatchEvent>> {
        let lower = (kind, ns.unwrap_or("").to_string(), String::new());
        self.latest
            .range((Bound::Included(lower), Bound::Unbounded))
            .take_while(|((k, n, _), _)| *k == kind && ns.is_none_or(|want| want == n))
            .map(|(_, ev)| ev.clone())
            .collect()
    }

    /// How many watches are open (each holds a receiver until its client hangs up or it times out).
    pub fn watchers(&self) -> usize {
        self.tx.receiver_count()
    }

    /// Forgets the watch history so far (as a freshly started API server would): watches from an older
    /// resourceVersion get 410 Gone.
    pub fn compact(&mut self) {
        self.history.clear();
        self.compacted_rv = self.rv;
    }

    /// Starts a watch from `since` (exclusive): the retained events newer than it, and a receiver for the rest.
    /// `Err(())` when `since` is older than the retained history (the caller answers 410 Gone).
    #[allow(clippy::result_unit_err)]
    pub fn watch_from(&self, since: u64) -> Result<WatchStart, ()> {
        if since < self.compacted_rv {
            return Err(());
        }
        let backlog = self
            .history
            .iter()
            .filter(|e| e.rv > since)
            .cloned()
            .collect();
        Ok((backlog, self.tx.subscribe()))
    }
}

/// The store key of an object's metadata.
pub fn key_of(meta: &ObjectMeta) -> Key {
    (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn versions_and_history() {
        let mut s = Store::new();
        let start = s.resource_version();
        s.put(pod("a"));
        assert!(!s.put_if_changed(pod("a")));
        s.put(pod("b"));
        s.remove::<Pod>("ns", "a");
        let (backlog, _rx) = s.watch_from(start).expect("history kept");
        let types: Vec<_> = backlog
            .iter()
            .map(|e| (e.event_type, e.name.as_str()))
            .collect();
        assert_eq!(
            types,
            vec![("ADDED", "a"), ("ADDED", "b"), ("DELETED", "a")]
        );
        assert_eq!(s.list::<Pod>(Some("ns")).len(), 1);
    }
}
