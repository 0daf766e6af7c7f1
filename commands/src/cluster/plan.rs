//! A preview of a destructive change: what will change, and the state of the deployment it was computed on.
//! Serialisable, because it is stored in the approval request as the binding the approval must still match.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde::{Deserialize, Serialize};

use super::deployment;
use super::target::Target;
use super::template;

/// The annotation kubectl's `rollout restart` sets on the pod template.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// The deployment's state when the preview was computed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    pub uid: String,
    pub generation: i64,
    pub resource_version: String,
    /// The deployment's revision annotation.
    pub revision: Option<i64>,
    /// `(container, image)` pairs of the template.
    pub images: Vec<(String, String)>,
    pub replicas: i32,
    /// The template's `restartedAt` annotation.
    pub restarted_at: Option<String>,
}

impl Binding {
    /// The state of `dep` now.
    pub fn of(dep: &Deployment) -> Binding {
        let tpl = deployment::template(dep);
        Binding {
            uid: dep.metadata.uid.clone().unwrap_or_default(),
            generation: dep.metadata.generation.unwrap_or(0),
            resource_version: dep.metadata.resource_version.clone().unwrap_or_default(),
            revision: deployment::revision(&dep.metadata),
            images: template::images(&tpl),
            replicas: deployment::desired_replicas(dep),
            restarted_at: restarted_at(&tpl),
        }
    }
}

/// The template's `kubectl.kubernetes.io/restartedAt` annotation.
pub fn restarted_at(tpl: &PodTemplateSpec) -> Option<String> {
    tpl.metadata
        .as_ref()?
        .annotations
        .as_ref()?
        .get(RESTARTED_AT)
        .cloned()
}

/// What the change does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// Put the template of an older ReplicaSet back (kubectl's `rollout undo`), pinned to that ReplicaSet's uid.
    Rollback {
        from_revision: Option<i64>,
        from_image: String,
        to_revision: i64,
        to_image: String,
        rs_name: String,
        rs_uid: String,
        /// The ReplicaSet's template without its `pod-template-hash` label: what will be patched in.
        template: Box<PodTemplateSpec>,
        /// The ReplicaSet's annotations to carry over, as kubectl does (its change-cause among them).
        annotations: std::collections::BTreeMap<String, String>,
    },
    /// Change one container's image.
    Deploy {
        container: String,
        from_image: String,
        to_image: String,
    },
    /// Change the replica count through the scale subresource.
    Scale { from: i32, to: i32 },
    /// Replace every pod by setting kubectl's `restartedAt` annotation to `restarted_at`.
    Restart {
        pods: Vec<String>,
        restarted_at: String,
    },
}

/// A previewed change and the state it was computed on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub target: Target,
    pub binding: Binding,
    pub change: Change,
}

impl Plan {
    /// `rollback`, `deploy`, `scale` or `restart`.
    pub fn kind(&self) -> &'static str {
        match self.change {
            Change::Rollback { .. } => "rollback",
            Change::Deploy { .. } => "deploy",
            Change::Scale { .. } => "scale",
            Change::Restart { .. } => "restart",
        }
    }

    /// Whether executing it starts a rollout (everything but scale changes the pod template).
    pub fn changes_template(&self) -> bool {
        !matches!(self.change, Change::Scale { .. })
    }

    /// One line: `rollback mystocks-api: revision 2 (mystocks/api:v1.0.1) → revision 1 (mystocks/api:v1.0.0)`.
    pub fn summary(&self) -> String {
        let d = &self.target.deployment;
        match &self.change {
            Change::Rollback {
                from_revision,
                from_image,
                to_revision,
                to_image,
                ..
            } => {
                let from = from_revision
                    .map(|r| format!("revision {r} ({from_image})"))
                    .unwrap_or(from_image.clone());
                format!("rollback {d}: {from} → revision {to_revision} ({to_image})")
            }
            Change::Deploy {
                from_image,
                to_image,
                ..
            } => format!("deploy {d}: {from_image} → {to_image}"),
            Change::Scale { from, to } => format!("scale {d}: {from} → {to} replicas"),
            Change::Restart { pods, .. } => format!("restart {d}: {} pods replaced", pods.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json_and_summarises() {
        let plan = Plan {
            target: Target::default(),
            binding: Binding {
                uid: "u".into(),
                generation: 2,
                resource_version: "17".into(),
                revision: Some(2),
                images: vec![("mystocks-api".into(), "mystocks/api:v1.0.1".into())],
                replicas: 3,
                restarted_at: None,
            },
            change: Change::Scale { from: 3, to: 5 },
        };
        let json = serde_json::to_value(&plan).expect("serialise");
        assert_eq!(json["change"]["kind"], "scale");
        let back: Plan = serde_json::from_value(json).expect("deserialise");
        assert_eq!(back, plan);
        assert_eq!(plan.summary(), "scale mystocks-api: 3 → 5 replicas");
        assert!(!plan.changes_template());
        assert_eq!(plan.kind(), "scale");
    }
}
