//! The audit trail of invocations: one entry per invocation (who, where, text, decision, outcome, duration) and
//! one per step of an approval's life. An entry that cannot be written is logged loudly, never dropped silently.

use std::time::Instant;

use serde_json::{Value, json};

use crate::audit::{AuditRow, NewAuditEntry};
use crate::invocation::Invocation;

use super::Context;

/// What the engine decided about an invocation, as recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Ran at once (read-only, or a decision on an approval).
    Allowed,
    /// Refused (role, policy, parse, rate limit, freeze, stale, …).
    Refused,
    /// Became an approval request.
    Requested,
    /// A step of an approval's execution (executed, failed, followed).
    Executed,
    /// Something went wrong inside the bot.
    Error,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::Refused => "refused",
            Decision::Requested => "requested",
            Decision::Executed => "executed",
            Decision::Error => "error",
        }
    }
}

/// Everything about an invocation's audit entry except the decision and outcome.
pub struct Trail<'a> {
    pub invocation: &'a Invocation,
    pub person: Option<String>,
    pub command: Option<String>,
    pub started: Instant,
}

impl Trail<'_> {
    /// Writes the entry for this invocation.
    pub async fn record(
        &self,
        ctx: &Context,
        decision: Decision,
        outcome: &str,
        approval_id: Option<&str>,
    ) -> Option<AuditRow> {
        let inv = self.invocation;
        let entry = NewAuditEntry {
            at: ctx.clock.now(),
            actor_person: self.person.clone(),
            actor_identity: inv.actor.identity.to_string(),
            conversation: json!(inv.conversation),
            text: inv.text.clone(),
            command: self.command.clone(),
            decision: decision.as_str().to_string(),
            outcome: Some(outcome.to_string()),
            duration_ms: Some(self.started.elapsed().as_millis() as i64),
            approval_id: approval_id.map(str::to_string),
            detail: json!({ "event_id": inv.event_id }),
        };
        write(ctx, entry).await
    }
}

/// Records a step that no invocation carries (a job executing an approval, an expiry).
pub async fn record_step(
    ctx: &Context,
    actor: &str,
    approval_id: &str,
    decision: Decision,
    outcome: &str,
    detail: Value,
) -> Option<AuditRow> {
    let entry = NewAuditEntry {
        at: ctx.clock.now(),
        actor_person: None,
        actor_identity: actor.to_string(),
        conversation: Value::Null,
        text: String::new(),
        command: None,
        decision: decision.as_str().to_string(),
        outcome: Some(outcome.to_string()),
        duration_ms: None,
        approval_id: Some(approval_id.to_string()),
        detail,
    };
    write(ctx, entry).await
}

/// Records an entry no invocation or approval carries (a window of busy refusals).
pub(super) async fn record_entry(ctx: &Context, entry: NewAuditEntry) -> Option<AuditRow> {
    write(ctx, entry).await
}

/// Records the gap a store outage left, if there is one, so it precedes the next entry.
pub(super) async fn record_gap(ctx: &Context) {
    if let Some((gap, token)) = ctx.audit_gap.take_entry(ctx.clock.now()) {
        match ctx.store.append_audit(gap).await {
            Ok(row) => tracing::warn!(
                seq = row.seq,
                "the audit gap left by a store outage is recorded"
            ),
            Err(_) => ctx.audit_gap.restore(token),
        }
    }
}

/// Appends an entry through the group-committing writer (it returns once the row has committed); a store that
/// cannot take it leaves a gap that the next successful write records first.
async fn write(ctx: &Context, entry: NewAuditEntry) -> Option<AuditRow> {
    record_gap(ctx).await;
    let noted = entry.clone();
    match ctx.audit_writer.append(&ctx.store, entry).await {
        Ok(row) => Some(row),
        Err(err) => {
            ctx.audit_gap.note(&noted, &err);
            super::metrics_hook::dependency_error(ctx, super::metrics_hook::Dependency::Store);
            None
        }
    }
}
