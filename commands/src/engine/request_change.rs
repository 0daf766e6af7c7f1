//! Destructive commands become approval requests: preview from the live cluster (also a server-side dry run),
//! bound to the target's state, posted with approve / deny actions, approvers notified.

use chrono::Duration as ChronoDuration;
use serde_json::json;

use crate::cluster;
use crate::command::{Change, Command};
use crate::reply::{Action, ActionStyle, Block, Level, Reply, ReplyKind};
use crate::store::{ApprovalRecord, ApprovalState, NewApproval, StoreError, Vote, VoteDecision};

use super::Context;
use super::change::{self, PlanError};
use super::dispatch::{Outcome, Request};
use super::request_moves::{By, entry};
use super::trail::Decision;

pub(super) async fn request_change(request: &Request<'_>, change: Change) -> Outcome {
    if let Some(refusal) = frozen(request.ctx).await {
        return request.refuse(refusal).await;
    }
    request_open(request, &change).await
}

/// Plans the change and stores it as a request; the store keeps one open request per target, so two people (or
/// replicas) asking at once get one request and one refusal naming it.
async fn request_open(request: &Request<'_>, change: &Change) -> Outcome {
    let ctx = request.ctx;
    if let Some(blocker) = in_the_way(ctx, change).await {
        return request.refuse(blocker).await;
    }
    let (plan, preview) = match change::plan(ctx, change).await {
        Ok(planned) => planned,
        Err(PlanError::Refused(text)) => return request.refuse(text).await,
        Err(PlanError::Internal(err)) => return request.internal_error(&err).await,
    };
    let command = Command::from(change.clone());
    let now = ctx.clock.now();
    let rules = ctx.policy.approval_for(&command);
    let new = NewApproval {
        requester_person: request.principal.person_id.clone(),
        requester_identity: request.invocation.actor.identity.to_string(),
        conversation: json!(request.invocation.conversation),
        command: command.canonical(),
        kind: command.name().to_string(),
        target_key: ctx.target_key(),
        binding: json!(plan),
        preview,
        quorum: rules.quorum,
        created_at: now,
        expires_at: now
            + ChronoDuration::from_std(rules.expiry).unwrap_or(ChronoDuration::minutes(15)),
    };
    let by = By::person(&request.principal.person_id, request.invocation);
    let audit = entry(
        ctx,
        by,
        "requested",
        "pending",
        json!({ "command": new.command }),
    );
    let record = match ctx.store.create_approval(new, audit).await {
        Ok(record) => record,
        Err(StoreError::Conflict(_)) => {
            let blocker = in_the_way(ctx, change).await.unwrap_or_else(|| {
                "another change to this deployment was requested at the same moment; `approvals` shows it".into()
            });
            return request.refuse(blocker).await;
        }
        Err(err) => return request.internal_error(&err).await,
    };
    let reply = request_reply(ctx, &record, &request.principal.display, &[]);
    if let Some(msg) = request.say(reply).await {
        match serde_json::to_value(&msg) {
            Ok(value) => {
                if let Err(err) = ctx.store.set_request_message(&record.id, value).await {
                    tracing::warn!(error = %err, approval = %record.id, "could not store the request message");
                }
            }
            Err(err) => tracing::warn!(error = %err, "could not serialise a message reference"),
        }
    }
    notify_approvers(request, &record).await;
    Outcome {
        decision: Decision::Requested,
        summary: format!("approval {} requested: {}", record.id, record.command),
        approval_id: Some(record.id),
    }
}

/// The refusal text when destructive work is frozen.
pub(super) async fn frozen(ctx: &Context) -> Option<String> {
    match ctx.store.freeze().await {
        Ok(Some(f)) => Some(format!(
            "changes are frozen by {} since {} ({}); an admin can `unfreeze`",
            f.by,
            f.at.format("%H:%M UTC"),
            f.reason
        )),
        Ok(None) => None,
        Err(err) => Some(format!(
            "cannot read the freeze switch ({err}); destructive commands are refused until the store answers"
        )),
    }
}

/// What stands in the way of a new change to the target: a request awaiting decision or execution, or a rollout
/// still in progress. A failed rollout does not block, and a rollback is never blocked by a rollout: undoing a
/// stuck release is what it is for.
async fn in_the_way(ctx: &Context, change: &Change) -> Option<String> {
    match ctx.store.pending_for_target(&ctx.target_key()).await {
        Ok(open) => {
            if let Some(first) = open.first() {
                let what_next = match first.state {
                    ApprovalState::Pending => "decide or cancel it first".to_string(),
                    _ => still_running(ctx, first).await,
                };
                return Some(format!(
                    "{} (`{}` by {}) is {} for this deployment; {what_next} — one change at a time",
                    first.id, first.command, first.requester_person, first.state
                ));
            }
        }
        Err(err) => {
            return Some(format!(
                "cannot read open requests ({err}); try again when the store answers"
            ));
        }
    }
    if !change.waits_for_rollout() {
        return None;
    }
    match cluster::rollout_status(&ctx.kube, &ctx.target).await {
        Ok(state) if !state.is_complete() && !state.is_failed() => Some(format!(
            "a rollout of `{}` is still in progress ({}); wait for it (`status`) before the next change",
            ctx.target.deployment,
            state.message()
        )),
        Ok(_) => None,
        Err(err) => Some(format!("cannot read the rollout state: {err}")),
    }
}

/// What a request that is approved or executing is doing, and about when it should be done: it runs (following the
/// rollout for at most `follow_timeout`) from when it started executing, then it is verified.
async fn still_running(ctx: &Context, record: &ApprovalRecord) -> String {
    let since = record.updated_at;
    let latest = since
        + ChronoDuration::from_std(ctx.settings.follow_timeout)
            .unwrap_or(ChronoDuration::minutes(10));
    let progress = match cluster::rollout_status(&ctx.kube, &ctx.target).await {
        Ok(state) => format!("; the rollout: {}", state.message()),
        Err(_) => String::new(),
    };
    let doing = match record.state {
        ApprovalState::Approved => format!(
            "it was approved at {} and is about to run",
            since.format("%H:%M:%S UTC")
        ),
        _ => format!("it has been running since {}", since.format("%H:%M:%S UTC")),
    };
    format!(
        "{doing}{progress}; it should be done, its verification included, by about {} at the latest — wait until it \
         has finished (`approvals` shows it)",
        latest.format("%H:%M UTC")
    )
}

/// The approval request message, in its current state, with its history: who asked and when, each vote with its
/// time, and the outcome. The message left in the conversation is what people read later, so a decided request
/// keeps all of it; only the buttons go.
pub(super) fn request_reply(
    ctx: &Context,
    record: &ApprovalRecord,
    requester: &str,
    votes: &[Vote],
) -> Reply {
    let fields: Vec<(String, String)> =
        serde_json::from_value(record.preview.clone()).unwrap_or_default();
    let mut reply = Reply::new(ReplyKind::ApprovalRequest, level_of(record.state))
        .with_header(format!("Approval {} — `{}`", record.id, record.command))
        .with_block(Block::Fields { fields })
        .with_approval(record.id.clone(), record.state.as_str());
    let mut history = vec![format!(
        "Requested by {requester} at {}.",
        record.created_at.format("%Y-%m-%d %H:%M:%S UTC")
    )];
    let voted = |decision: VoteDecision| -> Vec<String> {
        votes
            .iter()
            .filter(|v| v.decision == decision)
            .map(|v| {
                let reason = v
                    .reason
                    .as_deref()
                    .filter(|r| !r.trim().is_empty())
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default();
                format!(
                    "{} at {}{reason}",
                    ctx.directory.display_name(&v.person_id),
                    v.at.format("%H:%M:%S UTC")
                )
            })
            .collect()
    };
    let approved = voted(VoteDecision::Approve);
    let denied = voted(VoteDecision::Deny);
    if !approved.is_empty() {
        history.push(format!("Approved by {}.", approved.join(", ")));
    }
    if !denied.is_empty() {
        history.push(format!("Denied by {}.", denied.join(", ")));
    }
    match record.state {
        ApprovalState::Pending => {
            let approvers = ctx.policy.approver_role_names().join(" or ");
            reply = reply
                .with_action(Action {
                    label: "Approve".into(),
                    command: format!("approve {}", record.id),
                    style: ActionStyle::Primary,
                })
                .with_action(Action {
                    label: "Deny".into(),
                    command: format!("deny {}", record.id),
                    style: ActionStyle::Danger,
                });
            history.push(format!(
                "Needs {} approval(s) from an {approvers} other than the requester; expires {}.",
                record.quorum,
                record.expires_at.format("%H:%M:%S UTC")
            ));
        }
        // The votes above already say who approved or denied, and why.
        ApprovalState::Denied if !denied.is_empty() => {}
        state => {
            let detail = match state {
                ApprovalState::Approved | ApprovalState::Executing | ApprovalState::Cancelled => {
                    None
                }
                _ => record.state_detail.as_deref(),
            };
            history.push(format!(
                "{}{} ({}).",
                state_sentence(state).trim_end_matches('.'),
                detail
                    .map(|d| format!(" — {}", d.trim_end_matches('.')))
                    .unwrap_or_default(),
                record.updated_at.format("%H:%M:%S UTC")
            ));
        }
    }
    reply.with_block(Block::Text {
        text: history.join("\n"),
    })
}

fn state_sentence(state: ApprovalState) -> &'static str {
    match state {
        ApprovalState::Pending => "Waiting for approval.",
        ApprovalState::Approved => "Approved; executing shortly.",
        ApprovalState::Executing => "Approved; executing.",
        ApprovalState::Done => "Done.",
        ApprovalState::Failed => "Failed.",
        ApprovalState::Denied => "Denied.",
        ApprovalState::Cancelled => "Cancelled by the requester.",
        ApprovalState::Expired => "Expired without a decision.",
        ApprovalState::Superseded => "Superseded by another change.",
    }
}

fn level_of(state: ApprovalState) -> Level {
    match state {
        ApprovalState::Pending | ApprovalState::Approved | ApprovalState::Executing => Level::Info,
        ApprovalState::Done => Level::Ok,
        ApprovalState::Failed => Level::Fail,
        ApprovalState::Denied
        | ApprovalState::Cancelled
        | ApprovalState::Expired
        | ApprovalState::Superseded => Level::Warn,
    }
}

async fn notify_approvers(request: &Request<'_>, record: &ApprovalRecord) {
    let approvers = request
        .ctx
        .directory
        .approvers_except(&record.requester_person, &request.ctx.policy);
    if approvers.names.is_empty() {
        return;
    }
    let text = format!(
        "{}: {} waits for your approval (`approve {}` or `deny {} REASON`).",
        approvers.names.join(", "),
        record.id,
        record.id,
        record.id
    );
    request
        .say(
            Reply::text(ReplyKind::Notice, Level::Info, text)
                .with_approval(record.id.clone(), "pending")
                .with_mentions(approvers.identities),
        )
        .await;
}

/// Re-renders a request message after its state changed (decided, executed, expired).
pub(super) async fn refresh_request_message(
    ctx: &Context,
    sinks: &super::jobs::Sinks,
    record: &ApprovalRecord,
) {
    super::runbooks::on_request_update(ctx, record).await;
    let Some(value) = &record.request_message else {
        return;
    };
    let Ok(msg) = serde_json::from_value::<crate::reply::MessageRef>(value.clone()) else {
        return;
    };
    let Some(sink) = sinks.for_channel(&msg.conversation.channel) else {
        return;
    };
    let requester = ctx.directory.display_name(&record.requester_person);
    let votes = ctx.store.votes(&record.id).await.unwrap_or_else(|err| {
        tracing::warn!(error = %err, approval = %record.id, "could not read the votes; the message shows none");
        Vec::new()
    });
    if let Err(err) = sink
        .update(&msg, &request_reply(ctx, record, &requester, &votes))
        .await
    {
        tracing::warn!(error = %err, approval = %record.id, "could not update the request message");
    }
}
