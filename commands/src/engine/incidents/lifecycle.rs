//! Changing an incident: ack, note, role, status, severity, resolve. Each change is saved with a version check,
//! announced in the war room, and queued for the timeline.

use crate::incident::model::kind;
use crate::incident::postmortem::span;
use crate::incident::{IncidentRole, IncidentStatus, PageEvent, Severity};
use crate::invocation::Identity;

use super::super::dispatch::{Outcome, Request};
use super::declare::{page_now, schedule_sla};
use super::room::{announce, change_for, notice, page, remember, target};
use crate::reply::Level;

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
