//! Replies of the read-only cluster commands: `pods`, `top`, `history`, `status`.

use chrono::{DateTime, Utc};

use crate::cluster::age::age;
use crate::cluster::quantity::mebibytes_text;
use crate::cluster::{PodRow, PodUsage, Revision, RolloutProgress, RolloutState};
use crate::reply::{Block, Level, Reply, ReplyKind, Table};

fn table(columns: &[&str], rows: Vec<Vec<String>>) -> Block {
    Block::Table {
        table: Table {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows,
        },
    }
}

/// `kubectl get pods` as a table, with a one-line summary; ages seen at `now`.
pub fn pods_reply(rows: &[PodRow], now: DateTime<Utc>) -> Reply {
    let times = rows
        .iter()
        .flat_map(|r| [r.created, r.last_restart])
        .flatten();
    let now = not_before(now, times);
    if rows.is_empty() {
        return Reply::text(ReplyKind::Result, Level::Warn, "No pods match.").with_header("Pods");
    }
    let healthy = rows
        .iter()
        .filter(|r| r.status == "Running" && r.ready == r.containers)
        .count();
    // Terminating pods are on their way out (kubectl shows them, `rollout status` does not count them).
    let terminating = rows.iter().filter(|r| r.is_terminating()).count();
    let level = if healthy + terminating == rows.len() {
        Level::Ok
    } else {
        Level::Warn
    };
    let summary = if terminating == 0 {
        format!("{} pods, {healthy} running and ready.", rows.len())
    } else {
        format!(
            "{} pods, {healthy} running and ready, {terminating} terminating.",
            rows.len()
        )
    };
    let cells = rows
        .iter()
        .map(|r| {
            let restarts = r.restarts_column(now);
            vec![
                r.name.clone(),
                r.ready_column(),
                r.status.clone(),
                restarts,
                age(r.created, now),
            ]
        })
        .collect();
    Reply::new(ReplyKind::Result, level)
        .with_header("Pods")
        .with_block(table(
            &["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
            cells,
        ))
        .with_block(Block::Text { text: summary })
}

/// `kubectl top pods` as a table with totals.
pub fn top_reply(usage: &[PodUsage]) -> Reply {
    let cells = usage
        .iter()
        .map(|u| {
            vec![
                u.pod.clone(),
                format!("{}m", u.cpu_millicores),
                mebibytes_text(u.memory_bytes),
            ]
        })
        .collect();
    let cpu: u64 = usage.iter().map(|u| u.cpu_millicores).sum();
    let memory: u64 = usage.iter().map(|u| u.memory_bytes).sum();
    let total = format!(
        "Total: {cpu}m CPU, {} memory over {} pods.",
        mebibytes_text(memory),
        usage.len()
    );
    Reply::new(ReplyKind::Result, Level::Info)
        .with_header("Resource usage")
        .with_block(table(&["NAME", "CPU(cores)", "MEMORY(bytes)"], cells))
        .with_block(Block::Text { text: total })
}

/// The rollout history: revision (the current one marked), image of `container`, change cause, age at `now`.
pub fn history_reply(revisions: &[Revision], container: &str, now: DateTime<Utc>) -> Reply {
    let now = not_before(now, revisions.iter().filter_map(|r| r.created));
    if revisions.is_empty() {
        return Reply::text(ReplyKind::Result, Level::Warn, "No rollout history found.")
            .with_header("History");
    }
    let cells = revisions
        .iter()
        .map(|r| {
            let number = if r.current {
                format!("{} (current)", r.number)
            } else {
                r.number.to_string()
            };
            let cause = r
                .change_cause
                .clone()
                .unwrap_or_else(|| "<none>".to_string());
            vec![number, r.image(container), cause, age(r.created, now)]
        })
        .collect();
    Reply::new(ReplyKind::Result, Level::Info)
        .with_header("Rollout history")
        .with_block(table(&["REVISION", "IMAGE", "CHANGE-CAUSE", "AGE"], cells))
}

/// `now`, or the newest of `times` if the cluster's clock runs ahead of ours (a simulated cluster at speed, or
/// clock skew): ages then show `0s` rather than kubectl's `<invalid>`.
fn not_before(now: DateTime<Utc>, times: impl Iterator<Item = DateTime<Utc>>) -> DateTime<Utc> {
    times.fold(now, DateTime::max)
}

/// The replica counts as fields.
pub(crate) fn progress_fields(p: &RolloutProgress) -> Block {
    Block::Fields {
        fields: vec![
            (
                "Updated".to_string(),
                format!("{}/{}", p.updated, p.desired),
            ),
            ("Ready".to_string(), format!("{}/{}", p.ready, p.desired)),
            (
                "Available".to_string(),
                format!("{}/{}", p.available, p.desired),
            ),
        ],
    }
}

/// `kubectl rollout status` as one answer.
pub fn status_reply(state: &RolloutState) -> Reply {
    let level = match state {
        RolloutState::Complete { .. } => Level::Ok,
        RolloutState::Progressing { .. } => Level::Info,
        RolloutState::Failed { .. } => Level::Fail,
    };
    Reply::new(ReplyKind::Result, level)
        .with_header("Rollout status")
        .with_block(Block::Text {
            text: state.message().to_string(),
        })
        .with_block(progress_fields(&state.progress()))
}

#[cfg(test)]
#[path = "reads_tests.rs"]
mod tests;
