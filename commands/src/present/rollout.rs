//! Replies while following a rollout: progress (one message, updated) and the outcome.

use crate::cluster::{PodProblem, RolloutOutcome, RolloutProgress};
use crate::reply::{Action, ActionStyle, Block, Level, Reply, ReplyKind, Table};

use super::reads::progress_fields;

/// `Rolling out: 2/5 updated, 1/5 available, 1/5 ready` (+ old pods still terminating).
pub fn progress_reply(p: &RolloutProgress) -> Reply {
    Reply::text(ReplyKind::Progress, Level::Info, progress_line(p))
        .with_header("Rollout in progress")
}

fn progress_line(p: &RolloutProgress) -> String {
    let mut line = format!(
        "Rolling out: {}/{} updated, {}/{} available, {}/{} ready",
        p.updated, p.desired, p.available, p.desired, p.ready, p.desired
    );
    let old = p.total - p.updated;
    if old > 0 {
        line.push_str(&format!(", {old} old pods still running"));
    }
    line
}

/// The final state of a followed rollout; a failure lists the failing pods and offers a rollback.
pub fn outcome_reply(outcome: &RolloutOutcome) -> Reply {
    match outcome {
        RolloutOutcome::Complete { progress, message } => {
            Reply::new(ReplyKind::Progress, Level::Ok)
                .with_header("Rollout complete")
                .with_block(Block::Text {
                    text: message.clone(),
                })
                .with_block(progress_fields(progress))
        }
        RolloutOutcome::Failed {
            progress,
            reason,
            message,
            pods,
            suggestion,
        } => {
            let mut reply = Reply::new(ReplyKind::Progress, Level::Fail)
                .with_header(format!("Rollout failed: {reason}"))
                .with_block(Block::Text {
                    text: message.clone(),
                })
                .with_block(progress_fields(progress));
            if !pods.is_empty() {
                reply = reply.with_block(pods_table(pods));
            }
            reply
                .with_block(Block::Text {
                    text: format!("Suggestion: {suggestion}."),
                })
                .with_action(Action {
                    label: "Roll back".into(),
                    command: "rollback".into(),
                    style: ActionStyle::Danger,
                })
        }
        RolloutOutcome::TimedOut { progress, message } => {
            let mut reply = Reply::new(ReplyKind::Progress, Level::Warn)
                .with_header("Rollout still not finished")
                .with_block(Block::Text {
                    text: format!("Stopped following: {message} Check with `status`."),
                });
            if let Some(p) = progress {
                reply = reply.with_block(progress_fields(p));
            }
            reply
        }
        RolloutOutcome::Interrupted { progress, message } => {
            let mut reply = Reply::new(ReplyKind::Progress, Level::Warn)
                .with_header("Lost track of the rollout")
                .with_block(Block::Text {
                    text: format!("{message}. It may still be going on: check with `status`."),
                });
            if let Some(p) = progress {
                reply = reply.with_block(progress_fields(p));
            }
            reply
        }
    }
}

fn pods_table(pods: &[PodProblem]) -> Block {
    let rows = pods
        .iter()
        .map(|p| {
            vec![
                p.pod.clone(),
                p.status.clone(),
                p.restarts.to_string(),
                p.message.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let columns = ["POD", "STATUS", "RESTARTS", "MESSAGE"]
        .iter()
        .map(|c| c.to_string())
        .collect();
    Block::Table {
        table: Table { columns, rows },
    }
}

/// One line for the audit log and the request's state.
pub fn outcome_summary(outcome: &RolloutOutcome) -> String {
    match outcome {
        RolloutOutcome::Complete { message, .. } => message.clone(),
        RolloutOutcome::Failed { reason, pods, .. } => {
            let statuses: Vec<String> = pods
                .iter()
                .map(|p| format!("{} {}", p.pod, p.status))
                .collect();
            if statuses.is_empty() {
                format!("rollout failed: {reason}")
            } else {
                format!("rollout failed: {reason} ({})", statuses.join(", "))
            }
        }
        RolloutOutcome::TimedOut { message, .. } => {
            format!("rollout not finished in time: {message}")
        }
        RolloutOutcome::Interrupted { message, .. } => {
            format!("lost track of the rollout: {message}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: RolloutProgress = RolloutProgress {
        desired: 5,
        updated: 2,
        ready: 1,
        available: 1,
        total: 6,
    };

    #[test]
    fn progress_line_counts() {
        let text = progress_reply(&P).plain_text();
        assert!(
            text.contains(
                "Rolling out: 2/5 updated, 1/5 available, 1/5 ready, 4 old pods still running"
            ),
            "{text}"
        );
        assert_eq!(progress_reply(&P).kind, ReplyKind::Progress);
    }

    #[test]
    fn failure_lists_pods_and_offers_rollback() {
        let outcome = RolloutOutcome::Failed {
            progress: P,
            reason: "CrashLoopBackOff".into(),
            message: "new pods are failing".into(),
            pods: vec![PodProblem {
                pod: "mystocks-api-x".into(),
                status: "CrashLoopBackOff".into(),
                restarts: 3,
                message: Some("back-off 40s".into()),
            }],
            suggestion: "roll back with `rollback`".into(),
        };
        let reply = outcome_reply(&outcome);
        assert_eq!(reply.level, Level::Fail);
        let text = reply.plain_text();
        assert!(text.contains("Rollout failed: CrashLoopBackOff"));
        assert!(
            text.contains("mystocks-api-x   CrashLoopBackOff   3          back-off 40s"),
            "{text}"
        );
        assert!(text.contains("Suggestion: roll back with `rollback`."));
        assert_eq!(reply.actions[0].command, "rollback");
        assert_eq!(
            outcome_summary(&outcome),
            "rollout failed: CrashLoopBackOff (mystocks-api-x CrashLoopBackOff)"
        );
    }

    #[test]
    fn complete_and_timeout() {
        let done = RolloutOutcome::Complete {
            progress: P,
            message: "deployment \"d\" successfully rolled out".into(),
        };
        assert_eq!(outcome_reply(&done).level, Level::Ok);
        assert!(done.is_complete());
        let late = RolloutOutcome::TimedOut {
            progress: None,
            message: "Waiting …".into(),
        };
        assert_eq!(outcome_reply(&late).level, Level::Warn);
        assert!(outcome_summary(&late).starts_with("rollout not finished in time"));
    }
}
