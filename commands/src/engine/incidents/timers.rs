//! The incident jobs: SLA timers (reminder at half the response time, escalation at its end) and the break-glass
//! review deadline. They are stored jobs, so they fire after a restart and, being claimed atomically, once
//! however many processes run; an escalation is marked on the incident before the page is sent, so a takeover
//! after a crash does not page twice.

use serde_json::json;

use crate::incident::IncidentRecord;
use crate::incident::model::kind;
use crate::incident::postmortem::span;
use crate::incident::sla::{self, REVIEW_JOB, ReviewDue, SLA_JOB, SlaStep, SlaTimer};
use crate::reply::Level;
use crate::store::{Job, JobOutcome};

use super::super::Context;
use super::super::jobs::Sinks;
use super::declare::humanize;
use super::room::{change, notice, page, post, room, trigger};
use super::timeline::bot_entry;

/// Whether a job kind is an incident job.
pub(crate) fn is_job(kind: &str) -> bool {
    kind == SLA_JOB || kind == REVIEW_JOB
}

/// Runs one incident job.
pub(crate) async fn run_job(ctx: &Context, sinks: &Sinks, job: &Job) -> JobOutcome {
    match job.kind.as_str() {
        SLA_JOB => match serde_json::from_value::<SlaTimer>(job.payload.clone()) {
            Ok(timer) => sla_timer(ctx, sinks, &timer).await,
            Err(err) => JobOutcome::Failed(format!("bad SLA timer payload: {err}")),
        },
        REVIEW_JOB => match serde_json::from_value::<ReviewDue>(job.payload.clone()) {
            Ok(due) => review_due(ctx, sinks, &due).await,
            Err(err) => JobOutcome::Failed(format!("bad review payload: {err}")),
        },
        other => JobOutcome::Failed(format!("`{other}` is not an incident job")),
    }
}

async fn load(ctx: &Context, number: i64) -> Result<IncidentRecord, JobOutcome> {
    match ctx.store.incident(number).await {
        Ok(Some(i)) => Ok(i),
        Ok(None) => Err(JobOutcome::Failed(format!("no incident {number}"))),
        Err(err) => Err(JobOutcome::Failed(format!("store: {err}"))),
    }
}

async fn sla_timer(ctx: &Context, sinks: &Sinks, timer: &SlaTimer) -> JobOutcome {
    let incident = match load(ctx, timer.incident).await {
        Ok(i) => i,
        Err(outcome) => return outcome,
    };
    if let Some(why) = sla::stands_down(timer, &incident) {
        return JobOutcome::Done(format!(
            "incident {} timer stands down: {why}",
            incident.number
        ));
    }
    match timer.step {
        SlaStep::Remind => remind(ctx, sinks, &incident, timer).await,
        SlaStep::Escalate => escalate(ctx, sinks, timer).await,
    }
}

async fn remind(
    ctx: &Context,
    sinks: &Sinks,
    incident: &IncidentRecord,
    timer: &SlaTimer,
) -> JobOutcome {
    let response = ctx.incidents.config.response_time(incident.severity);
    let now = ctx.clock.now();
    let due = timer.since + chrono::Duration::from_std(response).unwrap_or_default();
    let oncall: Vec<String> = ctx
        .incidents
        .config
        .oncall
        .iter()
        .map(|p| ctx.directory.display_name(p))
        .collect();
    let who = if oncall.is_empty() {
        "on-call".to_string()
    } else {
        oncall.join(", ")
    };
    let text = format!(
        "⏰ {who}: incident {} ({}) is not acknowledged after {}; {} left of {} — `incident ack`.",
        incident.number,
        incident.severity,
        span(timer.since, now),
        span(now, due),
        humanize(response)
    );
    if let Some(room) = room(incident) {
        post(sinks, &room, &notice(Level::Warn, text.clone())).await;
    }
    bot_entry(
        ctx,
        incident,
        kind::REMINDER,
        &text,
        json!({ "step": "remind" }),
    )
    .await;
    JobOutcome::Done(format!("incident {} reminded", incident.number))
}

async fn escalate(ctx: &Context, sinks: &Sinks, timer: &SlaTimer) -> JobOutcome {
    let now = ctx.clock.now();
    // Claim the escalation on the incident first: whoever saves `escalated_at` pages; nobody pages twice.
    let claimed = change(ctx, timer.incident, |i| match sla::stands_down(timer, i) {
        Some(why) => Err(why.to_string()),
        None => {
            i.escalated_at = Some(now);
            Ok(())
        }
    })
    .await;
    let incident = match claimed {
        Ok(Ok(i)) => i,
        Ok(Err(why)) => {
            return JobOutcome::Done(format!(
                "incident {} escalation stands down: {why}",
                timer.incident
            ));
        }
        Err(err) => return JobOutcome::Failed(format!("store: {err}")),
    };
    let response = humanize(ctx.incidents.config.response_time(incident.severity));
    let why = format!("not acknowledged within {response}");
    let paged = page(ctx, &incident, trigger(&incident, Some(&why))).await;
    let (level, said) = match &paged {
        Ok(text) => (
            Level::Fail,
            format!("🚨 Incident {} {why}: escalated — {text}.", incident.number),
        ),
        Err(text) => (
            Level::Fail,
            format!(
                "🚨 Incident {} {why}: escalation page failed — {text}.",
                incident.number
            ),
        ),
    };
    if paged.is_ok()
        && let Err(err) = change(ctx, incident.number, |i| {
            i.paged = true;
            Ok(())
        })
        .await
    {
        tracing::warn!(error = %err, "could not mark the incident paged");
    }
    if let Some(room) = room(&incident) {
        post(sinks, &room, &notice(level, said.clone())).await;
    }
    bot_entry(
        ctx,
        &incident,
        kind::ESCALATION,
        &said,
        json!({ "step": "escalate", "paged": paged.is_ok() }),
    )
    .await;
    match paged {
        Ok(_) => JobOutcome::Done(format!("incident {} escalated", incident.number)),
        Err(text) => JobOutcome::Failed(text),
    }
}

async fn review_due(ctx: &Context, sinks: &Sinks, due: &ReviewDue) -> JobOutcome {
    let incident = match load(ctx, due.incident).await {
        Ok(i) => i,
        Err(outcome) => return outcome,
    };
    let open = incident
        .unreviewed()
        .find(|b| b.approval_id == due.approval_id)
        .cloned();
    let Some(use_) = open else {
        return JobOutcome::Done(format!("break-glass {} was reviewed", due.approval_id));
    };
    let approvers = ctx.directory.approvers_except(&use_.by, &ctx.policy);
    let text = format!(
        "⚠️ {}: break-glass {} (`{}` by {}) is past its review deadline — `incident review {}`.",
        approvers.names.join(", "),
        use_.approval_id,
        use_.command,
        ctx.directory.display_name(&use_.by),
        use_.approval_id
    );
    if let Some(room) = room(&incident) {
        let reminder = notice(Level::Fail, text.clone()).with_mentions(approvers.identities);
        post(sinks, &room, &reminder).await;
    }
    bot_entry(
        ctx,
        &incident,
        kind::REVIEW,
        &text,
        json!({ "overdue": use_.approval_id }),
    )
    .await;
    JobOutcome::Done(format!(
        "break-glass {} review overdue: reminded",
        use_.approval_id
    ))
}
