//! The job that executes an approved request: claim it exactly once, re-check freeze and the bound target state,
//! make the change with a resourceVersion precondition, then follow the rollout, updating one progress message.
//! After a crash between claim and act it compares with the cluster instead of re-running blindly.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::cluster::{self, Plan, Reconciled, RolloutOutcome};
use crate::invocation::Conversation;
use crate::present;
use crate::reply::{Level, MessageRef, Reply, ReplyKind, ReplySink};
use crate::store::{ApprovalRecord, ApprovalState, Job, JobOutcome};

use super::Context;
use super::change::{self, ChangePlan, Gate};
use super::jobs::{AbortOnDrop, Sinks};
use super::request_change::{frozen, refresh_request_message};
use super::request_moves::{By, step};
use super::trail::{Decision, record_step};

/// What an execution job is about.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExecutePayload {
    pub approval_id: String,
    /// Display names of the approvers, for the change-cause.
    pub approved_by: String,
}

/// The checkpoint an execution job keeps in the store, so another process can finish it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FollowState {
    /// The change has been sent to the cluster; only following remains.
    pub applied: bool,
    /// The progress message being updated.
    pub progress_message: Option<MessageRef>,
}

/// Runs (or resumes) one execution job.
pub(super) async fn run(ctx: &Context, sinks: &Sinks, job: &Job) -> JobOutcome {
    let payload: ExecutePayload = match serde_json::from_value(job.payload.clone()) {
        Ok(p) => p,
        Err(err) => return JobOutcome::Failed(format!("bad payload: {err}")),
    };
    let record = match ctx.store.approval(&payload.approval_id).await {
        Ok(Some(r)) => r,
        Ok(None) => return JobOutcome::Failed(format!("no approval {}", payload.approval_id)),
        Err(err) => return JobOutcome::Failed(format!("store: {err}")),
    };
    let plan: ChangePlan = match serde_json::from_value(record.binding.clone()) {
        Ok(plan) => plan,
        Err(err) => {
            return JobOutcome::Failed(format!(
                "the stored plan of {} is unreadable: {err}",
                record.id
            ));
        }
    };
    let gate = match change::gate(ctx, &record).await {
        Ok(gate) => gate,
        Err(err) => return JobOutcome::Failed(format!("store: {err}")),
    };
    match plan {
        ChangePlan::Cluster(plan) => {
            run_cluster(ctx, sinks, job, &record, &plan, &gate, &payload).await
        }
        ChangePlan::Maintenance(plan) => match gate.approve(plan) {
            Ok(approved) => {
                super::checks::maintenance::execute(ctx, sinks, &record, &approved).await
            }
            Err(why) => super::checks::maintenance::refuse(ctx, sinks, &record, why).await,
        },
    }
}

/// Runs (or resumes) a change to the deployment: claim, apply once, follow the rollout.
async fn run_cluster(
    ctx: &Context,
    sinks: &Sinks,
    job: &Job,
    record: &ApprovalRecord,
    plan: &Plan,
    gate: &Gate,
    payload: &ExecutePayload,
) -> JobOutcome {
    let mut state: FollowState = job
        .state
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let conversation: Option<Conversation> =
        serde_json::from_value(record.conversation.clone()).ok();
    let out = Out {
        ctx,
        sinks,
        job,
        conversation,
    };
    match record.state {
        ApprovalState::Approved => {
            let claimed = step(
                ctx,
                &record.id,
                &[ApprovalState::Approved],
                ApprovalState::Executing,
                "executing",
                By::Bot,
                None,
            )
            .await;
            match claimed {
                Ok(Some(_)) => {}
                Ok(None) => {
                    return JobOutcome::Done(format!(
                        "{} was claimed by another process",
                        record.id
                    ));
                }
                Err(err) => return JobOutcome::Failed(format!("store: {err}")),
            }
            if let Err(outcome) = apply(&out, record, plan, gate, payload).await {
                return outcome;
            }
            state.applied = true;
            out.checkpoint(&state).await;
        }
        ApprovalState::Executing if !state.applied => {
            match cluster::reconcile_after_crash(&ctx.kube, plan).await {
                Ok(Reconciled::AlreadyApplied) => {
                    // The process that sent the change stopped before its `executed` row was written (or just
                    // after): the record says what this one found, so no applied change goes unrecorded.
                    record_step(
                        ctx,
                        &ctx.settings.process_id,
                        &record.id,
                        Decision::Executed,
                        &format!(
                            "found applied after a restart: {}",
                            cause(ctx, record, payload)
                        ),
                        json!({}),
                    )
                    .await;
                    state.applied = true;
                    out.checkpoint(&state).await;
                }
                Ok(Reconciled::NotApplied) => {
                    if let Err(outcome) = apply(&out, record, plan, gate, payload).await {
                        return outcome;
                    }
                    state.applied = true;
                    out.checkpoint(&state).await;
                }
                Ok(Reconciled::Diverged(what)) => {
                    let text = format!(
                        "the bot stopped while executing; the cluster now differs from the plan ({what}): not re-running it"
                    );
                    return out.fail(record, text).await;
                }
                Err(err) => {
                    return out
                        .fail(
                            record,
                            format!("cannot compare with the cluster after a restart: {err}"),
                        )
                        .await;
                }
            }
        }
        ApprovalState::Executing => {}
        other => return JobOutcome::Done(format!("{} is {other}; nothing to execute", record.id)),
    }
    follow(&out, record, state).await
}

/// Re-checks freeze and binding, then sends the change.
async fn apply(
    out: &Out<'_>,
    record: &ApprovalRecord,
    plan: &Plan,
    gate: &Gate,
    payload: &ExecutePayload,
) -> Result<(), JobOutcome> {
    let ctx = out.ctx;
    if let Some(refusal) = frozen(ctx).await {
        return Err(out.fail(record, refusal).await);
    }
    let approved = match gate.approve(plan.clone()) {
        Ok(approved) => approved,
        Err(why) => return Err(out.fail(record, format!("no longer approved: {why}")).await),
    };
    if let Err(err) = cluster::check_binding(&ctx.kube, plan).await {
        return Err(out.fail(record, err.to_string()).await);
    }
    let cause = cause(ctx, record, payload);
    match cluster::execute(&ctx.kube, &approved, &cause, &ctx.settings.field_manager).await {
        Ok(_) => {
            record_step(
                ctx,
                &ctx.settings.process_id,
                &record.id,
                Decision::Executed,
                &format!("applied: {cause}"),
                json!({}),
            )
            .await;
            Ok(())
        }
        Err(err) => Err(out.fail(record, err.to_string()).await),
    }
}

/// The change-cause: what, requested by whom, approved by whom.
fn cause(ctx: &Context, record: &ApprovalRecord, payload: &ExecutePayload) -> String {
    let requester = ctx.directory.display_name(&record.requester_person);
    format!(
        "{} by {requester}, approved by {} ({})",
        record.command, payload.approved_by, record.id
    )
}

/// Follows the rollout to its end, updating one progress message, then reports and closes the request.
async fn follow(out: &Out<'_>, record: &ApprovalRecord, state: FollowState) -> JobOutcome {
    let ctx = out.ctx;
    let state = Arc::new(tokio::sync::Mutex::new(state));
    let latest = Arc::new(Mutex::new(None));
    let on_progress = {
        let latest = latest.clone();
        move |p: &cluster::RolloutProgress| {
            if let Ok(mut l) = latest.lock() {
                *l = Some(*p);
            }
        }
    };
    // Progress is published by a side task so the watch never waits on chat.
    let publisher = {
        let latest = latest.clone();
        let state = state.clone();
        let sink = out.sink();
        let conversation = out.conversation.clone();
        let id = record.id.clone();
        async move {
            let mut shown = None;
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                let now = latest.lock().ok().and_then(|l| *l);
                if now.is_none() || now == shown {
                    continue;
                }
                if let (Some(p), Some(sink), Some(conv)) = (&now, &sink, &conversation) {
                    let reply = present::progress_reply(p).with_approval(&id, "executing");
                    publish(&state, sink.as_ref(), conv, &reply).await;
                }
                shown = now;
            }
        }
    };
    let publisher = AbortOnDrop(tokio::spawn(publisher));
    let outcome = cluster::follow_rollout(
        &ctx.kube,
        &ctx.target,
        ctx.settings.follow_timeout,
        on_progress,
    )
    .await;
    drop(publisher);
    let final_state = state.lock().await.clone();
    let (to, summary) = match &outcome {
        RolloutOutcome::Complete { .. } => (ApprovalState::Done, "rolled out".to_string()),
        other => (ApprovalState::Failed, present::outcome_summary(other)),
    };
    let reply = present::outcome_reply(&outcome).with_approval(&record.id, to.as_str());
    if let (Some(sink), Some(conv)) = (out.sink(), &out.conversation) {
        match &final_state.progress_message {
            Some(msg) => {
                let _ = sink.update(msg, &reply).await;
            }
            None => {
                let _ = sink.post(conv, &reply).await;
            }
        }
    }
    super::verify_after_change::after_rollout(ctx, record, &outcome).await;
    out.close(record, to, &summary).await;
    match to {
        ApprovalState::Done => JobOutcome::Done(summary),
        _ => JobOutcome::Failed(summary),
    }
}

/// Posts the first progress message or updates it, remembering its reference in the job's checkpoint.
async fn publish(
    state: &tokio::sync::Mutex<FollowState>,
    sink: &dyn ReplySink,
    conversation: &Conversation,
    reply: &Reply,
) {
    let mut st = state.lock().await;
    match &st.progress_message {
        Some(msg) => {
            let _ = sink.update(msg, reply).await;
        }
        None => {
            if let Ok(msg) = sink.post(conversation, reply).await {
                st.progress_message = Some(msg);
            }
        }
    }
}

/// Where a job reports.
struct Out<'a> {
    ctx: &'a Context,
    sinks: &'a Sinks,
    job: &'a Job,
    conversation: Option<Conversation>,
}

impl Out<'_> {
    fn sink(&self) -> Option<Arc<dyn ReplySink>> {
        self.conversation
            .as_ref()
            .and_then(|c| self.sinks.for_channel(&c.channel))
    }

    async fn say(&self, reply: Reply) {
        if let (Some(sink), Some(conv)) = (self.sink(), &self.conversation)
            && let Err(err) = sink.post(conv, &reply).await
        {
            tracing::warn!(error = %err, "could not post a job reply");
        }
    }

    async fn checkpoint(&self, state: &FollowState) {
        let owner = &self.ctx.settings.process_id;
        if let Err(err) = self
            .ctx
            .store
            .update_job(self.job.id, owner, json!(state))
            .await
        {
            tracing::warn!(error = %err, job = self.job.id, "could not checkpoint a job");
        }
    }

    /// Marks the request failed, says why, and ends the job.
    async fn fail(&self, record: &ApprovalRecord, why: String) -> JobOutcome {
        let text = format!("{} not executed: {why}", record.id);
        self.say(
            Reply::text(ReplyKind::Error, Level::Fail, text).with_approval(&record.id, "failed"),
        )
        .await;
        self.close(record, ApprovalState::Failed, &why).await;
        JobOutcome::Failed(why)
    }

    async fn close(&self, record: &ApprovalRecord, to: ApprovalState, detail: &str) {
        let ctx = self.ctx;
        let from = [ApprovalState::Approved, ApprovalState::Executing];
        let row = match step(ctx, &record.id, &from, to, detail, By::Bot, None).await {
            Ok(moved) => moved.map(|m| m.audit),
            Err(err) => {
                tracing::warn!(error = %err, approval = %record.id, "could not close an approval; the reconciler finds it");
                None
            }
        };
        super::incidents::approval_closed(ctx, record, to, detail, row).await;
        if let Ok(Some(updated)) = ctx.store.approval(&record.id).await {
            refresh_request_message(ctx, self.sinks, &updated).await;
        }
    }
}
