//! Break-glass: during an open P1 that someone else declared or acknowledged, a configured on-call person may run
//! a rollback or a scale without a second approver, with a reason. The change runs as an approval record that is
//! approved at once (so it executes exactly like any other change), approvers are told at once, it goes on the
//! timeline, and another approver must `incident review` it within the configured time and before resolving.

use chrono::Duration as ChronoDuration;
use serde_json::json;

use crate::cluster::{self, ClusterError, Plan};
use crate::command::{ApprovalId, BreakGlassChange};
use crate::incident::model::kind;
use crate::incident::sla::{REVIEW_JOB, ReviewDue};
use crate::incident::{BreakGlassUse, IncidentRecord, Severity};
use crate::present;
use crate::reply::Level;
use crate::store::{ApprovalState, NewApproval, StoreError};

use super::super::dispatch::{Outcome, Request};
use super::super::request_change::{frozen, request_reply};
use super::super::request_moves::{By, entry, step};
use super::super::trail::Decision;
use super::room::{announce, change_for, notice, remember, target};

pub(super) async fn run(request: &Request<'_>, change: &BreakGlassChange, reason: &str) -> Outcome {
    let ctx = request.ctx;
    let incident = match target(request, None).await {
        Ok(i) => i,
        Err(outcome) => return outcome,
    };
    if let Some(why) = refusal(request, &incident) {
        return request.refuse(why).await;
    }
    if let Some(why) = frozen(ctx).await {
        return request.refuse(why).await;
    }
    match ctx.store.pending_for_target(&ctx.target_key()).await {
        Ok(open) if !open.is_empty() => {
            let first = &open[0];
            let text = format!(
                "{} (`{}`) is {} for this deployment; one change at a time — decide or cancel it first",
                first.id, first.command, first.state
            );
            return request.refuse(text).await;
        }
        Ok(_) => {}
        Err(err) => return request.internal_error(&err).await,
    }
    let (command, plan) = match plan(request, change).await {
        Ok(p) => p,
        Err(err) if err.is_user_facing() => return request.refuse(err.to_string()).await,
        Err(err) => return request.internal_error(&err).await,
    };
    let now = ctx.clock.now();
    let me = &request.principal;
    let new = NewApproval {
        requester_person: me.person_id.clone(),
        requester_identity: request.invocation.actor.identity.to_string(),
        conversation: json!(request.invocation.conversation),
        command: command.clone(),
        kind: command.split(' ').next().unwrap_or("change").to_string(),
        target_key: ctx.target_key(),
        binding: json!(plan),
        preview: json!(present::plan_fields(&plan)),
        quorum: 1,
        created_at: now,
        expires_at: now
            + ChronoDuration::from_std(ctx.policy.expiry).unwrap_or(ChronoDuration::minutes(15)),
    };
    let by = By::person(&me.person_id, request.invocation);
    let audit = entry(
        ctx,
        by,
        "requested",
        "break-glass",
        json!({ "command": command, "reason": reason }),
    );
    let record = match ctx.store.create_approval(new, audit).await {
        Ok(r) => r,
        Err(StoreError::Conflict(why)) => {
            return request
                .refuse(format!(
                    "{why}; one change at a time — `approvals` shows it"
                ))
                .await;
        }
        Err(err) => return request.internal_error(&err).await,
    };
    // The use is on the incident's record before the request is approved: the execution job finds its authority
    // there. Should the approval below not happen, the request expires unexecuted and the record says so.
    let use_ = BreakGlassUse {
        approval_id: record.id.clone(),
        command: command.clone(),
        by: me.person_id.clone(),
        reason: reason.to_string(),
        at: now,
        reviewed_by: None,
        reviewed_at: None,
    };
    let incident = match change_for(request, incident.number, |i| {
        i.break_glass.push(use_.clone());
        Ok(())
    })
    .await
    {
        Ok(i) => i,
        Err(outcome) => return outcome,
    };
    let detail = format!(
        "break-glass by {} during incident {}: {reason}",
        me.display, incident.number
    );
    let job = request
        .runner
        .execution_job(&record.id, &format!("break-glass ({})", me.display));
    let from = [ApprovalState::Pending];
    match step(
        ctx,
        &record.id,
        &from,
        ApprovalState::Approved,
        &detail,
        by,
        Some(job),
    )
    .await
    {
        Ok(Some(_)) => {}
        Ok(None) => {
            return request
                .refuse(format!("{} changed meanwhile; try again", record.id))
                .await;
        }
        Err(err) => return request.internal_error(&err).await,
    }
    if let Ok(Some(approved)) = ctx.store.approval(&record.id).await
        && let Some(msg) = request
            .say(request_reply(ctx, &approved, &me.display, &[]))
            .await
        && let Ok(value) = serde_json::to_value(&msg)
    {
        let _ = ctx.store.set_request_message(&record.id, value).await;
    }
    notify(request, &incident, &record.id, &command, reason).await;
    let due = now
        + ChronoDuration::from_std(ctx.incidents.config.review_within)
            .unwrap_or(ChronoDuration::hours(1));
    let payload = json!(ReviewDue {
        incident: incident.number,
        approval_id: record.id.clone()
    });
    if let Err(err) = ctx.store.enqueue_job(REVIEW_JOB, payload, due).await {
        tracing::error!(error = %err, "could not store the break-glass review deadline");
    }
    remember(
        request,
        incident.number,
        kind::BREAK_GLASS,
        format!(
            "{} `{command}` without a second approver: {reason}",
            record.id
        ),
    );
    request.runner.kick();
    Outcome {
        decision: Decision::Allowed,
        summary: format!("break-glass {}: {command}", record.id),
        approval_id: Some(record.id),
    }
}

/// Why break-glass is not allowed here, if it is not.
fn refusal(request: &Request<'_>, incident: &IncidentRecord) -> Option<String> {
    let me = &request.principal.person_id;
    let config = &request.ctx.incidents.config;
    if !incident.is_open() || incident.severity != Severity::P1 {
        return Some(format!(
            "break-glass is only for an open P1; incident {} is {} {}",
            incident.number, incident.severity, incident.status
        ));
    }
    let other_declared = &incident.declared_by != me;
    let other_acked = incident.acked_by.as_ref().is_some_and(|a| a != me);
    if !other_declared && !other_acked {
        return Some("break-glass needs a P1 declared or acknowledged by someone else; ask another person to `incident ack`".into());
    }
    if !config.may_break_glass(request.principal, &request.ctx.policy) {
        return Some("break-glass is for the on-call (`oncall` shows who); request the change normally and get it approved".into());
    }
    None
}

async fn plan(
    request: &Request<'_>,
    change: &BreakGlassChange,
) -> Result<(String, Plan), ClusterError> {
    let ctx = request.ctx;
    match change {
        BreakGlassChange::Rollback => Ok((
            "rollback".to_string(),
            cluster::plan_rollback(&ctx.kube, &ctx.target, None).await?,
        )),
        BreakGlassChange::Scale { replicas } => {
            let n = i32::try_from(*replicas).unwrap_or(i32::MAX);
            let plan =
                cluster::plan_scale(&ctx.kube, &ctx.target, n, ctx.policy.scale_bounds()).await?;
            Ok((format!("scale {replicas}"), plan))
        }
    }
}

async fn notify(
    request: &Request<'_>,
    incident: &IncidentRecord,
    id: &str,
    command: &str,
    reason: &str,
) {
    let ctx = request.ctx;
    let approvers = ctx
        .directory
        .approvers_except(&request.principal.person_id, &ctx.policy);
    let who = if approvers.names.is_empty() {
        "approvers".to_string()
    } else {
        approvers.names.join(", ")
    };
    let text = format!(
        "{who}: BREAK-GLASS — {} runs `{command}` ({id}) in incident {} without a second approver: \"{reason}\". \
         Review it within {} with `incident review {id}`; the incident cannot be resolved before.",
        request.principal.display,
        incident.number,
        super::declare::humanize(ctx.incidents.config.review_within)
    );
    announce(
        request,
        incident,
        notice(Level::Warn, text)
            .with_approval(id, "approved")
            .with_mentions(approvers.identities),
    )
    .await;
}

pub(super) async fn review(request: &Request<'_>, approval: Option<&ApprovalId>) -> Outcome {
    let ctx = request.ctx;
    let incident = match target(request, None).await {
        Ok(i) => i,
        Err(outcome) => return outcome,
    };
    if !ctx.policy.may_approve(&request.principal.roles) {
        return request
            .refuse("reviewing break-glass needs an approving role")
            .await;
    }
    let me = request.principal.person_id.clone();
    let now = ctx.clock.now();
    let mut reviewed = String::new();
    let incident = match change_for(request, incident.number, |i| {
        let pick = i
            .break_glass
            .iter_mut()
            .filter(|b| b.reviewed_by.is_none())
            .find(|b| approval.is_none_or(|a| a.as_str() == b.approval_id));
        let Some(use_) = pick else {
            return Err(match approval {
                Some(a) => format!(
                    "{a} is not an unreviewed break-glass change of incident {}",
                    i.number
                ),
                None => format!("incident {} has no break-glass change to review", i.number),
            });
        };
        if use_.by == me {
            return Err(format!(
                "you used break-glass for {} yourself; another approver must review it",
                use_.approval_id
            ));
        }
        use_.reviewed_by = Some(me.clone());
        use_.reviewed_at = Some(now);
        reviewed = format!("{} `{}`", use_.approval_id, use_.command);
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
        kind::REVIEW,
        format!("break-glass {reviewed} reviewed"),
    );
    let text = format!(
        "Break-glass {reviewed} reviewed by {}.",
        request.principal.display
    );
    announce(request, &incident, notice(Level::Ok, text)).await;
    Outcome::allowed(format!("break-glass {reviewed} reviewed"))
}
