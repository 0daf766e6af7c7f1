//! Declaring an incident: the war room thread opens with the announcement, the on-call is paged (P1/P2 by
//! default), and the SLA timers are stored.

use serde_json::json;

use crate::incident::model::kind;
use crate::incident::sla::{self, SLA_JOB};
use crate::incident::{IncidentRecord, Severity};
use crate::invocation::Conversation;
use crate::reply::{Block, Level, Reply, ReplyKind};

use super::super::Context;
use super::super::dispatch::{Outcome, Request};
use super::room::{change_for, notice, page, post, remember, room, trigger};

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
    let paging = if ctx.incidents.pager.is_none() {
        "not configured — call the on-call (`oncall`)"
    } else if config.pages_on_declare(incident.severity) {
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
pub(super) async fn page_now(
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
pub(super) async fn schedule_sla(
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
