//! `status`: rollout status by `kubectl rollout status`'s rules.

use k8s_openapi::api::apps::v1::Deployment;
use serde::{Deserialize, Serialize};

use super::deployment;
use super::error::ClusterError;
use super::target::Target;

/// The replica counts a rollout is measured by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutProgress {
    pub desired: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
    /// All replicas of the deployment (old and new).
    pub total: i32,
}

/// Where a rollout stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RolloutState {
    /// Done: kubectl would print "successfully rolled out".
    Complete {
        progress: RolloutProgress,
        message: String,
    },
    /// Still moving; `message` is kubectl's waiting line.
    Progressing {
        progress: RolloutProgress,
        message: String,
    },
    /// The Progressing condition says the deadline passed.
    Failed {
        progress: RolloutProgress,
        reason: String,
        message: String,
    },
}

impl RolloutState {
    /// Whether the rollout is done.
    pub fn is_complete(&self) -> bool {
        matches!(self, RolloutState::Complete { .. })
    }
    /// Whether the rollout failed (deadline exceeded).
    pub fn is_failed(&self) -> bool {
        matches!(self, RolloutState::Failed { .. })
    }
    pub fn progress(&self) -> RolloutProgress {
        match self {
            RolloutState::Complete { progress, .. }
            | RolloutState::Progressing { progress, .. }
            | RolloutState::Failed { progress, .. } => *progress,
        }
    }
    pub fn message(&self) -> &str {
        match self {
            RolloutState::Complete { message, .. }
            | RolloutState::Progressing { message, .. }
            | RolloutState::Failed { message, .. } => message,
        }
    }
}

/// GETs the deployment and judges its rollout by kubectl's rules — except that a rollout whose new pods are
/// crash-looping or cannot pull their image counts as failed at once (as `follow_rollout` reports it), instead of
/// waiting out the progress deadline: a fix (a rollback) must not be held up by a release that cannot succeed.
pub async fn rollout_status(
    client: &kube::Client,
    target: &Target,
) -> Result<RolloutState, ClusterError> {
    let dep = deployment::get(client, target).await?;
    let state = rollout_state(&dep);
    if let RolloutState::Progressing { progress, .. } = &state {
        let pods = super::follow::problems(client, target, &dep).await?;
        if let Some(reason) = super::follow::fail_fast_reason(&pods) {
            let message = super::follow::failing_message(&target.deployment, &reason);
            return Ok(RolloutState::Failed {
                progress: *progress,
                reason,
                message,
            });
        }
    }
    Ok(state)
}

/// The counts of a deployment's status.
pub fn progress(dep: &Deployment) -> RolloutProgress {
    let st = dep.status.clone().unwrap_or_default();
    RolloutProgress {
        desired: deployment::desired_replicas(dep),
        updated: st.updated_replicas.unwrap_or(0),
        ready: st.ready_replicas.unwrap_or(0),
        available: st.available_replicas.unwrap_or(0),
        total: st.replicas.unwrap_or(0),
    }
}

/// kubectl's `DeploymentStatusViewer` rules, in its order.
pub fn rollout_state(dep: &Deployment) -> RolloutState {
    let name = dep.metadata.name.clone().unwrap_or_default();
    let p = progress(dep);
    let st = dep.status.clone().unwrap_or_default();
    let generation = dep.metadata.generation.unwrap_or(0);
    if st.observed_generation.unwrap_or(0) < generation {
        let message = "Waiting for deployment spec update to be observed...".to_string();
        return RolloutState::Progressing {
            progress: p,
            message,
        };
    }
    let deadline = st
        .conditions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|c| {
            c.type_.as_deref() == Some("Progressing")
                && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
        });
    if let Some(c) = deadline {
        let detail = c.message.clone().unwrap_or_default();
        let message = format!(
            "deployment \"{name}\" exceeded its progress deadline{}",
            suffix(&detail)
        );
        return RolloutState::Failed {
            progress: p,
            reason: "ProgressDeadlineExceeded".into(),
            message,
        };
    }
    let waiting = |m: String| RolloutState::Progressing {
        progress: p,
        message: format!("Waiting for deployment \"{name}\" rollout to finish: {m}..."),
    };
    if p.updated < p.desired {
        return waiting(format!(
            "{} out of {} new replicas have been updated",
            p.updated, p.desired
        ));
    }
    if p.total > p.updated {
        return waiting(format!(
            "{} old replicas are pending termination",
            p.total - p.updated
        ));
    }
    if p.available < p.updated {
        return waiting(format!(
            "{} of {} updated replicas are available",
            p.available, p.updated
        ));
    }
    RolloutState::Complete {
        progress: p,
        message: format!("deployment \"{name}\" successfully rolled out"),
    }
}

fn suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dep(generation: i64, status: serde_json::Value) -> Deployment {
        serde_json::from_value(json!({
            "metadata": {"name": "mystocks-api", "generation": generation},
            "spec": {"replicas": 3, "selector": {}, "template": {}},
            "status": status
        }))
        .expect("deployment")
    }

    #[test]
    fn kubectl_rules_in_order() {
        let s = rollout_state(&dep(3, json!({"observedGeneration": 2})));
        assert_eq!(
            s.message(),
            "Waiting for deployment spec update to be observed..."
        );
        let s = rollout_state(&dep(
            3,
            json!({"observedGeneration": 3, "replicas": 4, "updatedReplicas": 1}),
        ));
        assert_eq!(
            s.message(),
            "Waiting for deployment \"mystocks-api\" rollout to finish: 1 out of 3 new replicas have been updated..."
        );
        let s = rollout_state(&dep(
            3,
            json!({"observedGeneration": 3, "replicas": 4, "updatedReplicas": 3}),
        ));
        assert!(
            s.message()
                .ends_with("1 old replicas are pending termination...")
        );
        let s = rollout_state(&dep(
            3,
            json!({"observedGeneration": 3, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 2}),
        ));
        assert!(
            s.message()
                .ends_with("2 of 3 updated replicas are available...")
        );
        let s = rollout_state(&dep(
            3,
            json!({"observedGeneration": 3, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3}),
        ));
        assert!(matches!(s, RolloutState::Complete { .. }));
        assert_eq!(
            s.message(),
            "deployment \"mystocks-api\" successfully rolled out"
        );
    }

    #[test]
    fn deadline_exceeded_is_a_failure() {
        let s = rollout_state(&dep(
            4,
            json!({"observedGeneration": 4, "replicas": 4, "updatedReplicas": 1,
                   "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                                   "message": "ReplicaSet \"x\" has timed out progressing."}]}),
        ));
        match s {
            RolloutState::Failed {
                reason,
                message,
                progress,
            } => {
                assert_eq!(reason, "ProgressDeadlineExceeded");
                assert!(message.contains("exceeded its progress deadline"));
                assert_eq!(progress.updated, 1);
            }
            other => panic!("expected failure, got {other:?}"),
        }
    }
}
