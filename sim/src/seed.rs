//! The world at start: namespace `mystocks`, deployment `mystocks-api` with a meaningful history — revision 1
//! (`mystocks/api:v1.0.0`, scaled to 0, "initial release") and revision 2 (`mystocks/api:v1.0.1`, 3 ready pods).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, ReplicaSet, RollingUpdateDeployment,
};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, HTTPGetAction, Namespace, PodSpec, PodTemplateSpec, Probe,
    ResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::clock::ktime;
use crate::controller::deployment::{CHANGE_CAUSE, create_replicaset};
use crate::controller::pods::{PodRuntime, render_status};
use crate::controller::replicaset::create_pod;
use crate::store::Store;
use crate::{DEFAULT_DEPLOYMENT, DEFAULT_NAMESPACE};

/// The image of revision 1.
pub const IMAGE_V1: &str = "mystocks/api:v1.0.0";
/// The image of revision 2 (running at start).
pub const IMAGE_V2: &str = "mystocks/api:v1.0.1";

/// Fills an empty store with the starting world, as of `now`.
pub fn seed(store: &mut Store, now: DateTime<Utc>) {
    for (name, age) in [("default", 30), ("kube-system", 30), (DEFAULT_NAMESPACE, 3)] {
        store.put(Namespace {
            metadata: ObjectMeta {
                name: Some(name.into()),
                uid: Some(uuid::Uuid::new_v4().to_string()),
                creation_timestamp: Some(ktime(now - Duration::days(age))),
                labels: Some(BTreeMap::from([(
                    "kubernetes.io/metadata.name".to_string(),
                    name.to_string(),
                )])),
                ..Default::default()
            },
            spec: None,
            status: Some(k8s_openapi::api::core::v1::NamespaceStatus {
                phase: Some("Active".into()),
                ..Default::default()
            }),
        });
    }
    let created = now - Duration::days(3);
    let mut d = deployment(created, IMAGE_V1, "initial release");
    let rs1 = create_replicaset(store, &d, 1, 3, created);
    d.spec = spec(IMAGE_V2);
    set_cause(&mut d, "deploy v1.0.1");
    d.metadata.generation = Some(2);
    let rolled = now - Duration::days(1);
    let mut rs2 = create_replicaset(store, &d, 2, 3, rolled);
    rs2.spec.replicas = Some(3);
    let rs2 = store.put(rs2);
    let _ = rs1;
    for i in 0..3 {
        let key = create_pod(store, &rs2, rolled + Duration::seconds(i));
        let started = rolled + Duration::seconds(i + 4);
        if let Some(mut pod) = store.pods.get(&key).cloned() {
            let ip = crate::app::pod_ip(pod.metadata.uid.as_deref().unwrap_or("")).to_string();
            let rt = PodRuntime::ready_since(started, ip);
            render_status(&mut pod, &rt);
            store.pod_runtime.insert(key, rt);
            store.put(pod);
        }
    }
    store.put(d);
}

fn set_cause(d: &mut Deployment, cause: &str) {
    d.metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(CHANGE_CAUSE.into(), cause.into());
}

fn labels() -> BTreeMap<String, String> {
    BTreeMap::from([("app".to_string(), DEFAULT_DEPLOYMENT.to_string())])
}

fn deployment(created: DateTime<Utc>, image: &str, cause: &str) -> Deployment {
    let mut d = Deployment {
        metadata: ObjectMeta {
            name: Some(DEFAULT_DEPLOYMENT.into()),
            namespace: Some(DEFAULT_NAMESPACE.into()),
            uid: Some(uuid::Uuid::new_v4().to_string()),
            generation: Some(1),
            creation_timestamp: Some(ktime(created)),
            labels: Some(labels()),
            ..Default::default()
        },
        spec: spec(image),
        status: None,
    };
    set_cause(&mut d, cause);
    d
}

fn spec(image: &str) -> DeploymentSpec {
    let q = |s: &str| Quantity(s.to_string());
    DeploymentSpec {
        replicas: Some(3),
        selector: LabelSelector {
            match_labels: Some(labels()),
            ..Default::default()
        },
        strategy: Some(DeploymentStrategy {
            type_: Some("RollingUpdate".into()),
            rolling_update: Some(RollingUpdateDeployment {
                max_surge: Some(IntOrString::String("25%".into())),
                max_unavailable: Some(IntOrString::String("25%".into())),
            }),
        }),
        revision_history_limit: Some(10),
        progress_deadline_seconds: Some(600),
        template: PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some(labels()),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: DEFAULT_DEPLOYMENT.into(),
                    image: Some(image.into()),
                    image_pull_policy: Some("IfNotPresent".into()),
                    ports: Some(vec![ContainerPort {
                        container_port: 8000,
                        name: Some("http".into()),
                        protocol: Some("TCP".into()),
                        ..Default::default()
                    }]),
                    resources: Some(ResourceRequirements {
                        requests: Some(BTreeMap::from([
                            ("cpu".into(), q("250m")),
                            ("memory".into(), q("256Mi")),
                        ])),
                        limits: Some(BTreeMap::from([
                            ("cpu".into(), q("1")),
                            ("memory".into(), q("512Mi")),
                        ])),
                        ..Default::default()
                    }),
                    readiness_probe: Some(Probe {
                        http_get: Some(HTTPGetAction {
                            path: Some("/health".into()),
                            port: IntOrString::Int(8000),
                            scheme: Some("HTTP".into()),
                            ..Default::default()
                        }),
                        period_seconds: Some(5),
                        timeout_seconds: Some(1),
                        success_threshold: Some(1),
                        failure_threshold: Some(3),
                        ..Default::default()
                    }),
                    ..Default::default()
                }],
                restart_policy: Some("Always".into()),
                termination_grace_period_seconds: Some(30),
                ..Default::default()
            }),
        },
        ..Default::default()
    }
}

/// The ReplicaSet of revision `rev` in a seeded store (for tests).
pub fn replicaset_of_revision(store: &Store, rev: i64) -> Option<ReplicaSet> {
    store
        .replicasets
        .values()
        .find(|rs| crate::controller::deployment::revision(&rs.metadata) == rev)
        .cloned()
}
