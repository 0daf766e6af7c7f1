//! Events as a real cluster reports them (ScalingReplicaSet, SuccessfulCreate, Scheduled, Pulled, Started,
//! Killing, BackOff, Failed). A repeated event (same object, reason and message) counts up instead of piling up.

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::pods::fnv;
use crate::clock::ktime;
use crate::store::Store;

/// What an event is about: kind, apiVersion and the object's metadata.
pub struct Involved<'a> {
    pub kind: &'a str,
    pub api_version: &'a str,
    pub meta: &'a ObjectMeta,
}

/// Records an event (`warning` → type Warning) from `component` at `now`.
pub fn record(
    store: &mut Store,
    now: DateTime<Utc>,
    about: Involved<'_>,
    warning: bool,
    reason: &str,
    message: &str,
    component: &str,
) {
    let name = about.meta.name.clone().unwrap_or_default();
    let uid = about.meta.uid.clone().unwrap_or_default();
    let ns = about.meta.namespace.clone().unwrap_or_default();
    let id = fnv(format!("{uid}/{reason}/{message}").as_bytes());
    let event_name = format!("{name}.{id:016x}");
    if let Some(mut existing) = store.get::<Event>(&ns, &event_name).cloned() {
        existing.count = Some(existing.count.unwrap_or(1) + 1);
        existing.last_timestamp = Some(ktime(now));
        store.put(existing);
        return;
    }
    store.put(Event {
        metadata: ObjectMeta {
            name: Some(event_name),
            namespace: Some(ns.clone()),
            uid: Some(uuid::Uuid::new_v4().to_string()),
            creation_timestamp: Some(ktime(now)),
            ..Default::default()
        },
        involved_object: ObjectReference {
            kind: Some(about.kind.into()),
            api_version: Some(about.api_version.into()),
            name: Some(name),
            namespace: Some(ns),
            uid: Some(uid),
            resource_version: about.meta.resource_version.clone(),
            ..Default::default()
        },
        reason: Some(reason.into()),
        message: Some(message.into()),
        type_: Some(if warning { "Warning" } else { "Normal" }.into()),
        source: Some(EventSource {
            component: Some(component.into()),
            host: None,
        }),
        reporting_component: Some(component.into()),
        reporting_instance: Some(component.into()),
        first_timestamp: Some(ktime(now)),
        last_timestamp: Some(ktime(now)),
        count: Some(1),
        ..Default::default()
    });
}
