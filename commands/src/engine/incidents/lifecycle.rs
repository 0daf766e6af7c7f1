//! Declaring an incident and changing it: ack, note, role, status, severity, resolve. Each change is saved with a
//! version check, announced in the war room, and queued for the timeline.

use serde_json::json;

use crate::incident::model::kind;
use crate::incident::postmortem::span;
use crate::incident::sla::{self, SLA_JOB};
use crate::incident::{IncidentRecord, IncidentRole, IncidentStatus, PageEvent, Severity};
use crate::invocation::{Conversation, Identity};
use crate::reply::{Block, Level, Reply, ReplyKind};

use super::super::Context;
use super::super::dispatch::{Outcome, Request};
use super::room::{announce, change_for, notice, page, post, remember, room, target, trigger};

pub(super) async fn declare(request: &Request<'_>, severity: Severity, title: &str) -> Outcome {
    let ctx = request.ctx;
    let now = ctx.clock.now();
    let here = &request.invocation.conversation;
    let channel = war_room_channel(ctx, &here.channel);
    let me = &request.principal.person_id;
    let draft = IncidentRecord::declare(title, severity, &channel, me, now);
    let created = match ctx.store.create_incident(&draft).await {
        Ok(created) => created,
        Err(err) => return request.internal_error(&err).await,
    };
    let number = created.number;
    let console = channel.starts_with("console:");
    let opening = Conversation {
        channel: channel.clone(),
        thread: console.then(|| IncidentRecord::console_thread(number)),
    };
    let msg = match request
        .sink
        .post(&opening, &announcement(ctx, &created))
        .await
    {
        Ok(msg) => Some(msg),
        Err(err) => {
            tracing::warn!(error = %err, "could not open the war room");
            None
        }
    };
    let thread = opening
        .thread
        .clone()
        .or_else(|| msg.as_ref().map(|m| m.message_id.clone()));
    let message = msg.and_then(|m| serde_json::to_value(m).ok());
    let mut incident = match change_for(request, number, |i| {
        i.thread = thread.clone();
        i.announcement = message.clone();
        Ok(())
    })
    .await
    {
        Ok(incident) => incident,
        Err(outcome) => return outcome,
    };
    let response = humanize(ctx.incidents.config.response_time(severity));
    remember(
        request,
        number,
        kind::DECLARED,
        format!("declared {severity} \"{title}\"; acknowledge within {response}"),
    );
    if ctx.incidents.config.pages_on_declare(severity) {
        incident = page_now(request, incident, None).await;
    }
    schedule_sla(ctx, &incident, now).await;
    if let Some(room) = room(&incident).filter(|r| r != here) {
        let where_ = room.thread.clone().unwrap_or_default();
        let text = format!(
            "Incident {number} ({severity}) declared: \"{title}\" — war room thread {where_}."
        );
        request.say(notice(Level::Warn, text)).await;
    }
    Outcome::allowed(format!("incident {number} declared ({severity})"))
}

/// The configured incidents channel when it is on the same platform as the declaration, else where it was said.
fn war_room_channel(ctx: &Context, here: &str) -> String {
    let platform = |c: &str| {
        c.split_once(':')
            .map(|(p, _)| p.to_string())
            .unwrap_or_default()
    };
    match &ctx.incidents.config.channel {
        Some(configured) if platform(configured) == platform(here) => configured.clone(),
        _ => here.to_string(),
    }
}

fn announcement(ctx: &Context, incident: &IncidentRecord) -> Reply {
    let config = &ctx.incidents.config;
    let response = config.response_time(incident.severity);
    let due = incident.declared_at + chrono::Duration::from_std(response).unwrap_or_default();
    let paging = if config.pages_on_declare(incident.severity) {
        "the on-call is paged now"
    } else {
        "the on-call is paged if nobody acknowledges in time"
    };
    let fields = vec![
        (
            "Severity".to_string(),
            format!(
                "{} — {}",
                incident.severity,
                incident.severity.description()
            ),
        ),
        (
            "Response time".to_string(),
            format!(
                "{} (acknowledge by {})",
                humanize(response),
                due.format("%H:%M:%S UTC")
            ),
        ),
        (
            "Commander".to_string(),
            ctx.directory.display_name(&incident.commander),
        ),
        ("Status".to_string(), incident.status.to_string()),
        ("Paging".to_string(), paging.to_string()),
    ];
    Reply::new(ReplyKind::Notice, Level::Fail)
        .with_header(format!("Incident {} — {}", incident.number, incident.title))
        .with_block(Block::Fields { fields })
        .with_block(Block::Text {
            text: "This thread is the war room: commands typed here go on the incident timeline. \
                   `incident ack` to acknowledge, `incident note TEXT` to note, `incident status …`, `incident resolve`."
                .to_string(),
        })
}

/// Pages now (on declaration, or when a severity change reaches a paging severity) and records it.
async fn page_now(
    request: &Request<'_>,
    incident: IncidentRecord,
    escalation: Option<&str>,
) -> IncidentRecord {
    let result = page(request.ctx, &incident, trigger(&incident, escalation)).await;
    let text = match &result {
        Ok(text) | Err(text) => text.clone(),
    };
    remember(request, incident.number, kind::PAGE, text.clone());
    let level = if result.is_ok() {
        Level::Info
    } else {
        Level::Warn
    };
    // Only in the war room: where the command was typed already has its own answer.
    match room(&incident) {
        Some(room) => {
            post(
                &request.runner.sinks(),
                &room,
                &notice(level, format!("Paging: {text}")),
            )
            .await
        }
        None => {
            request.say(notice(level, format!("Paging: {text}"))).await;
        }
    }
    if result.is_err() {
        return incident;
    }
    change_for(request, incident.number, |i| {
        i.paged = true;
        Ok(())
    })
    .await
    .unwrap_or(incident)
}

/// Stores the reminder and escalation timers for the incident's current severity, counted from `since`.
async fn schedule_sla(
    ctx: &Context,
    incident: &IncidentRecord,
    since: chrono::DateTime<chrono::Utc>,
) {
    for (timer, due) in sla::timers(
        &ctx.incidents.config,
        incident.number,
        incident.severity,
        since,
    ) {
        if let Err(err) = ctx.store.enqueue_job(SLA_JOB, json!(timer), due).await {
            tracing::error!(error = %err, incident = incident.number, "could not store an SLA timer");
        }
    }
}

pub(super) async fn ack(request: &Request<'_>, id: Option<i64>) -> Outcome {
    let ctx = request.ctx;
    let incident = match target(request, id).await {
        Ok(i) => i,
        Err(outcome) => return outcome,
    };
    if !ctx.incidents.config.may_ack(request.principal, &ctx.policy) {
        return request
            .refuse(
                "acknowledging is for the on-call and approvers (`oncall` shows who is on call)",
            )
            .await;
    }
    let me = request.principal.person_id.clone();
    let now = ctx.clock.now();
    let incident = match change_for(request, incident.number, |i| {
        if !i.is_open() {
            return Err(format!("incident {} is resolved", i.number));
        }
        if let (Some(by), Some(at)) = (&i.acked_by, i.acked_at) {
            return Err(format!(
                "incident {} was acknowledged by {by} at {}",
                i.number,
                at.format("%H:%M:%S UTC")
            ));
        }
        i.acked_by = Some(me.clone());
        i.acked_at = Some(now);
        Ok(())
    })
    .await
    {
        Ok(i) => i,
        Err(outcome) => return outcome,
    };
    let took = span(incident.declared_at, now);
    let mut text = format!("acknowledged after {took}");
    if incident.paged {
        let paged = page(ctx, &incident, PageEvent::Acknowledge).await;
        text.push_str(&format!("; {}", paged.unwrap_or_else(|e| e)));
    }
    remember(request, incident.number, kind::ACK, text.clone());
    let who = &request.principal.display;
    announce(
        request,
        &incident,
        notice(
            Level::Ok,
            format!("Incident {} {text} by {who}.", incident.number),
        ),
    )
    .await;
    Outcome::allowed(format!("incident {} acknowledged", incident.number))
}

pub(super) async fn note(request: &Request<'_>, text: &str) -> Outcome {
    let incident = match target(request, None).await {
        Ok(i) => i,
        Err(outcome) => return outcome,
    };
    remember(request, incident.number, kind::NOTE, text);
    request
        .say(notice(
            Level::Info,
            format!("📌 Noted on incident {}.", incident.number),
        ))
        .await;
    Outcome::allowed(format!("note on incident {}", incident.number))
}

pub(super) async fn role(request: &Request<'_>, role: IncidentRole, person: &str) -> Outcome {
    let Some(person_id) = resolve_person(request, person) else {
        return request
            .refuse(format!(
                "I do not know `{person}`; name a person from the directory (`whoami` shows yours)"
            ))
            .await;
    };
    let incident = match target(request, None).await {
        Ok(i) => i,
        Err(outcome) => return outcome,
    };
    let incident = match change_for(request, incident.number, |i| {
        match role {
            IncidentRole::Commander => i.commander = person_id.clone(),
            IncidentRole::Comms => i.comms = Some(person_id.clone()),
            IncidentRole::Scribe => i.scribe = Some(person_id.clone()),
        }
        Ok(())
    })
    .await
    {
        Ok(i) => i,
        Err(outcome) => return outcome,
    };
    let name = request.ctx.directory.display_name(&person_id);
    remember(
        request,
        incident.number,
        kind::ROLE,
        format!("{role} is now {name}"),
    );
    announce(
        request,
        &incident,
        notice(
            Level::Info,
            format!("Incident {}: {role} is now {name}.", incident.number),
        ),
    )
    .await;
    Outcome::allowed(format!("incident {} {role} → {person_id}", incident.number))
}

/// A person id from what was typed: a person id, or one of a person's identities.
fn resolve_person(request: &Request<'_>, typed: &str) -> Option<String> {
    let directory = &request.ctx.directory;
    let typed = typed.trim_start_matches('@');
    if !directory.identities_of(typed).is_empty() {
        return Some(typed.to_string());
    }
    let platform = request.invocation.actor.identity.platform().to_string();
    [Identity(typed.to_string()), Identity::new(&platform, typed)]
        .into_iter()
        .map(|identity| directory.resolve(&identity))
        .find(|p| p.known)
        .map(|p| p.person_id)
}

pub(super) async fn status(request: &Request<'_>, status: IncidentStatus) -> Outcome {
    if status == IncidentStatus::Resolved {
        return resolve(request, None).await;
    }
    let incident = match target(request, None).await {
        Ok(i) => i,
        Err(outcome) => return outcome,
    };
    let incident = match change_for(request, incident.number, |i| {
        if !i.is_open() {
            return Err(format!("incident {} is resolved", i.number));
        }
        i.status = status;
        Ok(())
    })
    .await
    {
        Ok(i) => i,
        Err(outcome) => return outcome,
    };
    remember(
        request,
        incident.number,
        kind::STATUS,
        format!("status {status}"),
    );
    announce(
        request,
        &incident,
        notice(
            Level::Info,
            format!("Incident {} is now {status}.", incident.number),
        ),
    )
    .await;
    Outcome::allowed(format!("incident {} status {status}", incident.number))
}

pub(super) async fn severity(request: &Request<'_>, severity: Severity, reason: &str) -> Outcome {
    let ctx = request.ctx;
    let incident = match target(request, None).await {
        Ok(i) => i,
        Err(outcome) => return outcome,
    };
    let before = incident.severity;
    let incident = match change_for(request, incident.number, |i| {
        if !i.is_open() {
            return Err(format!("incident {} is resolved", i.number));
        }
        if i.severity == severity {
            return Err(format!("incident {} is already {severity}", i.number));
        }
        i.severity = severity;
        Ok(())
    })
    .await
    {
        Ok(i) => i,
        Err(outcome) => return outcome,
    };
    remember(
        request,
        incident.number,
        kind::SEVERITY,
        format!("severity {before} → {severity}: {reason}"),
    );
    let text = format!(
        "Incident {} severity {before} → {severity} ({reason}).",
        incident.number
    );
    announce(request, &incident, notice(Level::Warn, text)).await;
    let incident = if ctx.incidents.config.pages_on_declare(severity)
        && !incident.paged
        && incident.acked_at.is_none()
    {
        page_now(request, incident, None).await
    } else {
        incident
    };
    if incident.acked_at.is_none() {
        schedule_sla(ctx, &incident, ctx.clock.now()).await;
    }
    Outcome::allowed(format!(
        "incident {} severity {before} → {severity}",
        incident.number
    ))
}

pub(super) async fn resolve(request: &Request<'_>, id: Option<i64>) -> Outcome {
    let ctx = request.ctx;
    let incident = match target(request, id).await {
        Ok(i) => i,
        Err(outcome) => return outcome,
    };
    let me = request.principal.person_id.clone();
    let now = ctx.clock.now();
    let incident = match change_for(request, incident.number, |i| {
        if !i.is_open() {
            return Err(format!("incident {} is already resolved", i.number));
        }
        if let Some(open) = i.unreviewed().next() {
            return Err(format!(
                "break-glass change {} (`{}`) is not reviewed yet; an approver other than {} must `incident review {}` first",
                open.approval_id, open.command, open.by, open.approval_id
            ));
        }
        i.status = IncidentStatus::Resolved;
        i.resolved_by = Some(me.clone());
        i.resolved_at = Some(now);
        Ok(())
    })
    .await
    {
        Ok(i) => i,
        Err(outcome) => return outcome,
    };
    let mut text = format!("resolved after {}", span(incident.declared_at, now));
    if incident.paged {
        let paged = page(ctx, &incident, PageEvent::Resolve).await;
        text.push_str(&format!("; {}", paged.unwrap_or_else(|e| e)));
    }
    remember(request, incident.number, kind::RESOLVED, text.clone());
    let reply = notice(
        Level::Ok,
        format!(
            "Incident {} {text}. `incident postmortem {}` writes it up.",
            incident.number, incident.number
        ),
    );
    announce(request, &incident, reply).await;
    Outcome::allowed(format!("incident {} resolved", incident.number))
}

/// `15m`, `1h`, `1h30m`, `24h`.
pub(super) fn humanize(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}
