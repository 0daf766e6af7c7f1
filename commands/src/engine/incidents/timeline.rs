//! The timeline: which thread is a war room, and what gets appended — every invocation in the thread (command and
//! result summary), the typed entries of `incident` sub-commands, and approvals closing — each citing the audit
//! row it comes from (seq and MAC), so the postmortem can show them.

use serde_json::{Value, json};

use crate::audit::{AuditRow, NewAuditEntry};
use crate::directory::Principal;
use crate::incident::model::kind;
use crate::incident::{IncidentRecord, NewTimelineEntry};
use crate::invocation::{Conversation, Invocation};
use crate::store::{ApprovalRecord, ApprovalState};

use super::super::Context;
use super::super::dispatch::Outcome;

/// The incident whose war room `conversation` is, if it is one (open or resolved).
pub(crate) async fn thread_incident(
    ctx: &Context,
    conversation: &Conversation,
) -> Option<IncidentRecord> {
    let thread = conversation.thread.as_deref()?;
    match ctx
        .store
        .incident_in_thread(&conversation.channel, thread)
        .await
    {
        Ok(found) => found,
        Err(err) => {
            tracing::warn!(error = %err, "cannot tell whether this thread is an incident war room");
            None
        }
    }
}

/// An invocation that has been handled, as the timeline needs it.
pub(crate) struct Done<'a> {
    pub invocation: &'a Invocation,
    pub principal: &'a Principal,
    /// The canonical command, when the text parsed.
    pub command: Option<&'a str>,
}

/// After an invocation's audit row is written: appends the entries its `incident` sub-command produced, or —
/// for any other command typed in a war room — the command with its result summary.
pub(crate) async fn after_invocation(
    ctx: &Context,
    thread_incident: Option<&IncidentRecord>,
    done: &Done<'_>,
    outcome: &Outcome,
    row: Option<AuditRow>,
) {
    let pending = ctx
        .incidents
        .pending
        .lock()
        .ok()
        .and_then(|mut p| p.remove(&done.invocation.event_id));
    let actor = done.principal.person_id.clone();
    let at = row.as_ref().map_or_else(|| ctx.clock.now(), |r| r.at);
    let (seq, mac) = (
        row.as_ref().map(|r| r.seq),
        row.as_ref().map(|r| r.mac.clone()),
    );
    let entries: Vec<(i64, &str, String)> = match (pending, thread_incident) {
        (Some(pending), _) if !pending.is_empty() => pending
            .into_iter()
            .map(|p| (p.incident, p.kind, p.text))
            .collect(),
        (_, Some(incident)) => {
            let command = done.command.unwrap_or(done.invocation.text.as_str());
            let is_approval = outcome.approval_id.is_some()
                || command.starts_with("approve")
                || command.starts_with("deny");
            let kind = if is_approval {
                kind::APPROVAL
            } else {
                kind::COMMAND
            };
            vec![(
                incident.number,
                kind,
                format!(
                    "`{command}` → {}: {}",
                    outcome.decision.as_str(),
                    outcome.summary
                ),
            )]
        }
        _ => return,
    };
    for (incident, kind, text) in entries {
        let detail =
            json!({ "event_id": done.invocation.event_id, "approval_id": outcome.approval_id });
        let entry = NewTimelineEntry {
            incident,
            at,
            actor: actor.clone(),
            kind: kind.to_string(),
            text,
            audit_seq: seq,
            audit_mac: mac.clone(),
            detail,
        };
        if let Err(err) = ctx.store.append_timeline(entry).await {
            tracing::error!(error = %err, incident, "could not append to the incident timeline");
        }
    }
}

/// When an approval requested in a war room ends (executed, failed): appends it to that incident's timeline.
pub(crate) async fn approval_closed(
    ctx: &Context,
    record: &ApprovalRecord,
    to: ApprovalState,
    detail: &str,
    row: Option<AuditRow>,
) {
    let Ok(conversation) = serde_json::from_value::<Conversation>(record.conversation.clone())
    else {
        return;
    };
    let Some(incident) = thread_incident(ctx, &conversation).await else {
        return;
    };
    let text = format!("{} `{}` {to}: {detail}", record.id, record.command);
    let entry = NewTimelineEntry {
        incident: incident.number,
        at: row.as_ref().map_or_else(|| ctx.clock.now(), |r| r.at),
        actor: "bot".to_string(),
        kind: kind::APPROVAL.to_string(),
        text,
        audit_seq: row.as_ref().map(|r| r.seq),
        audit_mac: row.map(|r| r.mac),
        detail: json!({ "approval_id": record.id }),
    };
    if let Err(err) = ctx.store.append_timeline(entry).await {
        tracing::error!(error = %err, "could not append an approval to the incident timeline");
    }
}

/// Appends an entry the bot itself makes (a reminder, an escalation), auditing it first so it can be cited.
pub(crate) async fn bot_entry(
    ctx: &Context,
    incident: &IncidentRecord,
    kind: &str,
    text: &str,
    detail: Value,
) {
    let audit = NewAuditEntry {
        at: ctx.clock.now(),
        actor_person: None,
        actor_identity: ctx.settings.process_id.clone(),
        conversation: json!(super::room::room(incident)),
        text: String::new(),
        command: Some(format!("incident {kind}")),
        decision: "executed".to_string(),
        outcome: Some(text.to_string()),
        duration_ms: None,
        approval_id: None,
        detail: json!({ "incident": incident.number, "detail": detail }),
    };
    let row = match ctx.store.append_audit(audit).await {
        Ok(row) => Some(row),
        Err(err) => {
            tracing::error!(error = %err, "could not write an audit entry");
            None
        }
    };
    let entry = NewTimelineEntry {
        incident: incident.number,
        at: row.as_ref().map_or_else(|| ctx.clock.now(), |r| r.at),
        actor: "bot".to_string(),
        kind: kind.to_string(),
        text: text.to_string(),
        audit_seq: row.as_ref().map(|r| r.seq),
        audit_mac: row.map(|r| r.mac),
        detail,
    };
    if let Err(err) = ctx.store.append_timeline(entry).await {
        tracing::error!(error = %err, "could not append to the incident timeline");
    }
}
