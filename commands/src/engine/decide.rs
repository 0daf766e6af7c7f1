//! Deciding on approval requests: `approve ID`, `deny ID [REASON]`, `cancel ID`. Votes count once per person,
//! only from the request's own conversation, never from the requester; the quorum moves the request to
//! `approved` exactly once and queues its execution.

use serde_json::json;

use crate::command::{Approve, Cancel, Deny};
use crate::invocation::Conversation;
use crate::reply::{Level, Reply, ReplyKind};
use crate::store::{ApprovalRecord, ApprovalState, Vote, VoteDecision, VoteResult};

use super::dispatch::{Outcome, Request};
use super::request_change::{frozen, refresh_request_message};
use super::request_moves::{By, step};

/// The two-person rule, checked before roles so the requester learns the real reason: their own request.
pub(super) async fn refuse_self_approval(request: &Request<'_>, cmd: &Approve) -> Option<Outcome> {
    let record = request.ctx.store.approval(cmd.id.as_str()).await.ok()??;
    if record.requester_person != request.principal.person_id {
        return None;
    }
    Some(request.refuse(self_approval_text(&record.id)).await)
}

fn self_approval_text(id: &str) -> String {
    format!("you requested {id} yourself; a different approver must approve it (two-person rule)")
}

pub(super) async fn approve(request: &Request<'_>, cmd: &Approve) -> Outcome {
    let record = match open_request(request, cmd.id.as_str()).await {
        Ok(record) => record,
        Err(outcome) => return outcome,
    };
    let ctx = request.ctx;
    if record.requester_person == request.principal.person_id {
        return request.refuse(self_approval_text(&record.id)).await;
    }
    if !ctx.policy.may_approve(&request.principal.roles) {
        return request
            .refuse(format!(
                "approving needs the {} role",
                ctx.policy.approver_role_names().join(" or ")
            ))
            .await;
    }
    if let Some(refusal) = frozen(ctx).await {
        return request.refuse(refusal).await;
    }
    let already = match record_vote(request, &record, VoteDecision::Approve, None).await {
        Ok(VoteResult::Recorded) => false,
        Ok(VoteResult::AlreadyVoted) => true,
        Err(outcome) => return outcome,
    };
    let approvals = match approving_persons(request, &record).await {
        Ok(n) => n,
        Err(outcome) => return outcome,
    };
    let quorum = record.quorum.max(1) as usize;
    // A second press counts nothing; but if the votes already make the quorum (the first press was cut off after
    // its vote was stored), it completes the approval instead of leaving the request stuck.
    if already && approvals < quorum {
        return request
            .refuse(format!(
                "your vote on {} already counts; it counts once",
                record.id
            ))
            .await;
    }
    if approvals < quorum {
        let text = format!(
            "{} approved {} ({approvals} of {} approvals).",
            request.principal.display, record.id, record.quorum
        );
        request
            .say(
                Reply::text(ReplyKind::ApprovalDecision, Level::Info, text)
                    .with_approval(&record.id, "pending"),
            )
            .await;
        return Outcome::allowed(format!("vote recorded on {}", record.id))
            .with_approval(&record.id);
    }
    let detail = format!("approved by {}", request.principal.display);
    let by = By::person(&request.principal.person_id, request.invocation);
    let job = request
        .runner
        .execution_job(&record.id, &request.principal.display);
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
                .refuse(format!(
                    "{} was decided meanwhile; `approvals` shows its state",
                    record.id
                ))
                .await;
        }
        Err(err) => return request.internal_error(&err).await,
    }
    if let Ok(Some(updated)) = ctx.store.approval(&record.id).await {
        refresh_request_message(ctx, &request.runner.sinks(), &updated).await;
    }
    let text = format!(
        "{} approved by {}; executing `{}`.",
        record.id, request.principal.display, record.command
    );
    request
        .say(
            Reply::text(ReplyKind::ApprovalDecision, Level::Ok, text)
                .with_approval(&record.id, "approved"),
        )
        .await;
    // The approval and its job were stored together; if this task ends before here, any process's poller
    // takes the job.
    request.runner.kick();
    Outcome::allowed(format!("{} approved; execution queued", record.id)).with_approval(&record.id)
}

pub(super) async fn deny(request: &Request<'_>, cmd: &Deny) -> Outcome {
    let record = match open_request(request, cmd.id.as_str()).await {
        Ok(record) => record,
        Err(outcome) => return outcome,
    };
    let ctx = request.ctx;
    if record.requester_person == request.principal.person_id {
        return request
            .refuse(format!(
                "you requested {} yourself; use `cancel {}` to withdraw it",
                record.id, record.id
            ))
            .await;
    }
    if !ctx.policy.may_approve(&request.principal.roles) {
        return request
            .refuse(format!(
                "denying needs the {} role",
                ctx.policy.approver_role_names().join(" or ")
            ))
            .await;
    }
    let reason = cmd.reason.clone();
    if let Err(outcome) = record_vote(request, &record, VoteDecision::Deny, reason.clone()).await {
        return outcome;
    }
    let detail = match &reason {
        Some(r) => format!("denied by {}: {r}", request.principal.display),
        None => format!("denied by {}", request.principal.display),
    };
    finish(request, &record, ApprovalState::Denied, detail).await
}

pub(super) async fn cancel(request: &Request<'_>, cmd: &Cancel) -> Outcome {
    let record = match open_request(request, cmd.id.as_str()).await {
        Ok(record) => record,
        Err(outcome) => return outcome,
    };
    if record.requester_person != request.principal.person_id {
        return request
            .refuse(format!(
                "only the requester can cancel {}; approvers can `deny` it",
                record.id
            ))
            .await;
    }
    let detail = format!("cancelled by {}", request.principal.display);
    finish(request, &record, ApprovalState::Cancelled, detail).await
}

/// Moves a pending request to a final state, updates its message and says so.
async fn finish(
    request: &Request<'_>,
    record: &ApprovalRecord,
    to: ApprovalState,
    detail: String,
) -> Outcome {
    let ctx = request.ctx;
    let by = By::person(&request.principal.person_id, request.invocation);
    match step(
        ctx,
        &record.id,
        &[ApprovalState::Pending],
        to,
        &detail,
        by,
        None,
    )
    .await
    {
        Ok(Some(_)) => {}
        Ok(None) => {
            return request
                .refuse(format!(
                    "{} was decided meanwhile; `approvals` shows its state",
                    record.id
                ))
                .await;
        }
        Err(err) => return request.internal_error(&err).await,
    }
    if let Ok(Some(updated)) = ctx.store.approval(&record.id).await {
        refresh_request_message(ctx, &request.runner.sinks(), &updated).await;
    }
    let text = format!("{} {}.", record.id, detail);
    request
        .say(
            Reply::text(ReplyKind::ApprovalDecision, Level::Warn, text)
                .with_approval(&record.id, to.as_str()),
        )
        .await;
    Outcome::allowed(format!("{} {}", record.id, to)).with_approval(&record.id)
}

/// Loads a request that can still be decided from this conversation; otherwise refuses (and marks an expired one).
async fn open_request(request: &Request<'_>, id: &str) -> Result<ApprovalRecord, Outcome> {
    let ctx = request.ctx;
    let record = match ctx.store.approval(id).await {
        Ok(Some(record)) => record,
        Ok(None) => {
            return Err(request
                .refuse(format!(
                    "there is no approval request {id}; `approvals` lists the open ones"
                ))
                .await);
        }
        Err(err) => return Err(request.internal_error(&err).await),
    };
    if !same_conversation(&record, &request.invocation.conversation) {
        return Err(request
            .refuse(format!(
                "{id} can only be decided in the conversation where it was requested: {}",
                where_requested(&record)
            ))
            .await);
    }
    if record.state != ApprovalState::Pending {
        let detail = record
            .state_detail
            .as_deref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        return Err(request
            .refuse(format!(
                "{id} is {}{detail}; nothing to decide",
                record.state
            ))
            .await);
    }
    let now = ctx.clock.now();
    if now >= record.expires_at {
        expire(request, &record).await;
        return Err(request
            .refuse(format!(
                "{id} expired at {}; request the change again",
                record.expires_at.format("%H:%M:%S UTC")
            ))
            .await);
    }
    Ok(record)
}

async fn expire(request: &Request<'_>, record: &ApprovalRecord) {
    let ctx = request.ctx;
    let moved = step(
        ctx,
        &record.id,
        &[ApprovalState::Pending],
        ApprovalState::Expired,
        "no decision in time",
        By::Bot,
        None,
    )
    .await;
    if let (Ok(Some(_)), Ok(Some(updated))) = (moved, ctx.store.approval(&record.id).await) {
        refresh_request_message(ctx, &request.runner.sinks(), &updated).await;
    }
}

/// Where a request lives, for a refusal that says where to go: the channel or room, its thread, and a link to it
/// (to the request message itself where the platform links to messages).
fn where_requested(record: &ApprovalRecord) -> String {
    let Ok(conversation) = serde_json::from_value::<Conversation>(record.conversation.clone())
    else {
        return "decide it where it was posted".to_string();
    };
    let posted = record
        .request_message
        .clone()
        .and_then(|m| serde_json::from_value::<crate::reply::MessageRef>(m).ok())
        .map(|m| m.message_id);
    let link = conversation
        .link(posted.as_deref())
        .map(|l| format!(": {l}"))
        .unwrap_or_default();
    match &conversation.thread {
        Some(thread) => format!(
            "decide it in its thread ({thread}) of {}{link}",
            conversation.channel
        ),
        None => format!("decide it in {}{link}", conversation.channel),
    }
}

fn same_conversation(record: &ApprovalRecord, here: &Conversation) -> bool {
    serde_json::from_value::<Conversation>(record.conversation.clone()).is_ok_and(|c| &c == here)
}

async fn record_vote(
    request: &Request<'_>,
    record: &ApprovalRecord,
    decision: VoteDecision,
    reason: Option<String>,
) -> Result<VoteResult, Outcome> {
    let vote = Vote {
        person_id: request.principal.person_id.clone(),
        identity: request.invocation.actor.identity.to_string(),
        decision,
        reason,
        conversation: json!(request.invocation.conversation),
        at: request.ctx.clock.now(),
    };
    match request.ctx.store.add_vote(&record.id, vote).await {
        Ok(result) => Ok(result),
        Err(err) => Err(request.internal_error(&err).await),
    }
}

/// Distinct persons other than the requester who approved and still hold an approving role (counted again
/// when the change executes).
async fn approving_persons(
    request: &Request<'_>,
    record: &ApprovalRecord,
) -> Result<usize, Outcome> {
    match super::change::tally(request.ctx, record).await {
        Ok(tally) => Ok(tally.approvers().len()),
        Err(err) => Err(request.internal_error(&err).await),
    }
}
