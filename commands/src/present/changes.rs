//! Replies about destructive changes: the preview fields, the preview, what was executed, crash reconciliation,
//! and cluster errors (refusals kept apart from internal errors).

use crate::cluster::{Change, ClusterError, Executed, Plan, Reconciled};
use crate::reply::{Block, Level, Reply, ReplyKind};

fn field(key: &str, value: impl Into<String>) -> (String, String) {
    (key.to_string(), value.into())
}

/// The preview as key/value pairs (`Image: a → b`, `Revision: 2 → 1`, `Replicas: 3 → 5` …).
pub fn plan_fields(plan: &Plan) -> Vec<(String, String)> {
    let mut fields = vec![field(
        "Deployment",
        format!("{}/{}", plan.target.namespace, plan.target.deployment),
    )];
    match &plan.change {
        Change::Rollback {
            from_revision,
            from_image,
            to_revision,
            to_image,
            rs_name,
            ..
        } => {
            let from = from_revision.map_or("?".to_string(), |r| r.to_string());
            fields.push(field("Revision", format!("{from} → {to_revision}")));
            fields.push(field("Image", format!("{from_image} → {to_image}")));
            fields.push(field("ReplicaSet", rs_name.clone()));
        }
        Change::Deploy {
            container,
            from_image,
            to_image,
        } => {
            fields.push(field("Container", container.clone()));
            fields.push(field("Image", format!("{from_image} → {to_image}")));
        }
        Change::Scale { from, to } => fields.push(field("Replicas", format!("{from} → {to}"))),
        Change::Restart { pods, .. } => {
            let list = if pods.is_empty() {
                "none running".to_string()
            } else {
                pods.join(", ")
            };
            fields.push(field("Pods replaced", format!("{}: {list}", pods.len())));
        }
    }
    fields.push(field("Dry run", "accepted by the cluster"));
    fields
}

/// The preview on its own (the approval request adds its actions).
pub fn preview_reply(plan: &Plan) -> Reply {
    Reply::new(ReplyKind::Result, Level::Info)
        .with_header(format!("Preview: {}", plan.kind()))
        .with_block(Block::Fields {
            fields: plan_fields(plan),
        })
}

/// What was just changed.
pub fn executed_reply(executed: &Executed) -> Reply {
    let follow = if executed.rollout {
        " Following the rollout…"
    } else {
        ""
    };
    Reply::text(
        ReplyKind::Result,
        Level::Ok,
        format!("Applied: {}.{follow}", executed.summary),
    )
}

/// What the cluster showed after the bot restarted in the middle of an execution.
pub fn reconciled_reply(plan: &Plan, reconciled: &Reconciled) -> Reply {
    let (level, text) = match reconciled {
        Reconciled::AlreadyApplied => (
            Level::Info,
            format!(
                "The bot restarted during `{}`; the cluster shows it applied.",
                plan.summary()
            ),
        ),
        Reconciled::NotApplied => (
            Level::Info,
            format!(
                "The bot restarted before `{}` was sent; the cluster is unchanged.",
                plan.summary()
            ),
        ),
        Reconciled::Diverged(what) => (
            Level::Fail,
            format!(
                "The bot restarted during `{}` and the deployment now differs ({what}); not re-running it.",
                plan.summary()
            ),
        ),
    };
    Reply::text(ReplyKind::Notice, level, text)
}

/// A cluster error for chat: refusals as refusals, user-facing errors as they are, internal errors only with
/// `reference` (log the full error under it).
pub fn cluster_error_reply(err: &ClusterError, reference: &str) -> Reply {
    if err.is_refusal() {
        return Reply::text(ReplyKind::Refusal, Level::Warn, err.to_string());
    }
    if err.is_user_facing() {
        return Reply::text(ReplyKind::Error, Level::Fail, err.to_string());
    }
    Reply::text(
        ReplyKind::Error,
        Level::Fail,
        format!("internal error talking to the cluster, ref {reference}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{Binding, Refusal, Target};

    fn plan(change: Change) -> Plan {
        let binding = Binding {
            uid: "u".into(),
            generation: 1,
            resource_version: "1".into(),
            revision: Some(2),
            images: vec![],
            replicas: 3,
            restarted_at: None,
        };
        Plan {
            target: Target::default(),
            binding,
            change,
        }
    }

    #[test]
    fn fields_per_change() {
        let f = plan_fields(&plan(Change::Scale { from: 3, to: 5 }));
        assert_eq!(f[0], field("Deployment", "mystocks/mystocks-api"));
        assert_eq!(f[1], field("Replicas", "3 → 5"));
        let deploy = Change::Deploy {
            container: "c".into(),
            from_image: "a:1".into(),
            to_image: "a:2".into(),
        };
        assert!(plan_fields(&plan(deploy)).contains(&field("Image", "a:1 → a:2")));
        let restart = Change::Restart {
            pods: vec!["p1".into(), "p2".into()],
            restarted_at: "t".into(),
        };
        assert!(plan_fields(&plan(restart)).contains(&field("Pods replaced", "2: p1, p2")));
        let text = preview_reply(&plan(Change::Scale { from: 3, to: 5 })).plain_text();
        assert!(
            text.contains("Preview: scale\nDeployment: mystocks/mystocks-api\nReplicas: 3 → 5"),
            "{text}"
        );
    }

    #[test]
    fn errors_are_shown_by_kind() {
        let refusal = ClusterError::Refused(Refusal::SameReplicas {
            deployment: "d".into(),
            replicas: 3,
        });
        assert_eq!(cluster_error_reply(&refusal, "r1").kind, ReplyKind::Refusal);
        let internal = ClusterError::Internal {
            message: "secret detail".into(),
        };
        let text = cluster_error_reply(&internal, "r1").plain_text();
        assert_eq!(text, "internal error talking to the cluster, ref r1");
        assert!(
            cluster_error_reply(&ClusterError::Timeout, "r")
                .plain_text()
                .contains("within 10 s")
        );
        let r = reconciled_reply(
            &plan(Change::Scale { from: 3, to: 5 }),
            &Reconciled::Diverged("replicas 3 → 4".into()),
        );
        assert_eq!(r.level, Level::Fail);
    }
}
