//! The war room: finding the incident a command is about, changing it without losing concurrent changes, posting
//! into its thread, and paging.

use serde_json::json;

use crate::incident::{IncidentRecord, PageEvent, PendingEntry};
use crate::invocation::Conversation;
use crate::reply::{Level, Reply, ReplyKind};
use crate::store::StoreError;

use super::super::Context;
use super::super::dispatch::{Outcome, Request};
use super::super::jobs::Sinks;

/// How often a change is retried when another process saved the incident in between.
const SAVE_ATTEMPTS: usize = 8;

/// The war room's conversation, once its thread exists.
pub(super) fn room(incident: &IncidentRecord) -> Option<Conversation> {
    incident.thread.as_ref().map(|t| Conversation {
        channel: incident.channel.clone(),
        thread: Some(t.clone()),
    })
}

/// The incident a command is about: the one named, else the one whose thread this is, else the only open one.
pub(super) async fn target(
    request: &Request<'_>,
    id: Option<i64>,
) -> Result<IncidentRecord, Outcome> {
    let ctx = request.ctx;
    let found = match id {
        Some(n) => ctx.store.incident(n).await,
        None => match super::timeline::thread_incident(ctx, &request.invocation.conversation).await
        {
            Some(incident) => Ok(Some(incident)),
            None => match ctx.store.incidents(true, 2).await {
                Ok(open) if open.len() > 1 => {
                    let text = "several incidents are open: type this in the incident's thread, or name it (`incident ack 3`)";
                    return Err(request.refuse(text).await);
                }
                Ok(mut open) => Ok(open.pop()),
                Err(err) => Err(err),
            },
        },
    };
    match found {
        Ok(Some(incident)) => Ok(incident),
        Ok(None) => Err(request
            .refuse(match id {
                Some(n) => format!("there is no incident {n}; `incident list` shows them"),
                None => {
                    "there is no open incident; `incident declare P1 TITLE` opens one".to_string()
                }
            })
            .await),
        Err(err) => Err(request.internal_error(&err).await),
    }
}

/// Applies `change` to the stored incident and saves it, re-reading and retrying when another process saved in
/// between. `Ok(Err(text))` when `change` refuses (the text says why).
pub(super) async fn change<F>(
    ctx: &Context,
    number: i64,
    mut change: F,
) -> Result<Result<IncidentRecord, String>, StoreError>
where
    F: FnMut(&mut IncidentRecord) -> Result<(), String>,
{
    for _ in 0..SAVE_ATTEMPTS {
        let Some(mut incident) = ctx.store.incident(number).await? else {
            return Ok(Err(format!("there is no incident {number}")));
        };
        if let Err(why) = change(&mut incident) {
            return Ok(Err(why));
        }
        if ctx.store.save_incident(&incident).await? {
            incident.version += 1;
            return Ok(Ok(incident));
        }
    }
    Err(StoreError::Unavailable(format!(
        "incident {number} kept changing under us; try again"
    )))
}

/// [`change`] for a command: refusals and errors become the command's outcome.
pub(super) async fn change_for<F>(
    request: &Request<'_>,
    number: i64,
    f: F,
) -> Result<IncidentRecord, Outcome>
where
    F: FnMut(&mut IncidentRecord) -> Result<(), String>,
{
    match change(request.ctx, number, f).await {
        Ok(Ok(incident)) => Ok(incident),
        Ok(Err(why)) => Err(request.refuse(why).await),
        Err(err) => Err(request.internal_error(&err).await),
    }
}

/// Queues a timeline entry for this invocation; it is written with the invocation's audit row.
pub(super) fn remember(
    request: &Request<'_>,
    incident: i64,
    kind: &'static str,
    text: impl Into<String>,
) {
    let entry = PendingEntry {
        incident,
        kind,
        text: text.into(),
    };
    if let Ok(mut pending) = request.ctx.incidents.pending.lock() {
        pending
            .entry(request.invocation.event_id.clone())
            .or_default()
            .push(entry);
    }
}

/// Posts `reply` in the war room thread, and also where the command was typed when that is elsewhere.
pub(super) async fn announce(request: &Request<'_>, incident: &IncidentRecord, reply: Reply) {
    let here = &request.invocation.conversation;
    match room(incident) {
        Some(room) if &room != here => {
            post(&request.runner.sinks(), &room, &reply).await;
            request.say(reply).await;
        }
        _ => {
            request.say(reply).await;
        }
    }
}

/// Posts into a conversation through the sink of its platform; failures are logged.
pub(super) async fn post(sinks: &Sinks, conversation: &Conversation, reply: &Reply) {
    let Some(sink) = sinks.for_channel(&conversation.channel) else {
        tracing::warn!(channel = %conversation.channel, "no sink for the war room's platform");
        return;
    };
    if let Err(err) = sink.post(conversation, reply).await {
        tracing::warn!(error = %err, "could not post into the war room");
    }
}

/// A notice reply.
pub(super) fn notice(level: Level, text: impl Into<String>) -> Reply {
    Reply::text(ReplyKind::Notice, level, text)
}

/// Sends a page event for `incident`; returns the sentence the timeline keeps.
pub(super) async fn page(
    ctx: &Context,
    incident: &IncidentRecord,
    event: PageEvent,
) -> Result<String, String> {
    let Some(pager) = &ctx.incidents.pager else {
        return Err(
            "paging is not configured ([pagerduty] routing_key); call the on-call: see `oncall`"
                .to_string(),
        );
    };
    let action = event.action();
    let what = match &event {
        PageEvent::Trigger { severity, .. } => {
            format!("PagerDuty {action} ({})", severity.pagerduty())
        }
        _ => format!("PagerDuty {action}"),
    };
    match pager.send(&incident.dedup_key(), &event).await {
        Ok(()) => Ok(format!("{what} sent (dedup key {})", incident.dedup_key())),
        Err(err) => {
            tracing::warn!(error = %err, incident = incident.number, "page not delivered");
            Err(format!("{what} failed: {err}"))
        }
    }
}

/// The trigger event for `incident`, optionally marked as an escalation.
pub(super) fn trigger(incident: &IncidentRecord, escalation: Option<&str>) -> PageEvent {
    let summary = match escalation {
        Some(why) => format!(
            "ESCALATED ({why}): {} incident {}: {}",
            incident.severity, incident.number, incident.title
        ),
        None => format!(
            "{} incident {}: {}",
            incident.severity, incident.number, incident.title
        ),
    };
    PageEvent::Trigger {
        summary,
        severity: incident.severity,
        details: json!({
            "incident": incident.number,
            "status": incident.status.as_str(),
            "commander": incident.commander,
            "declared_at": incident.declared_at.to_rfc3339(),
            "escalation": escalation.is_some(),
        }),
    }
}
