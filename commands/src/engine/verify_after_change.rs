//! Verify after change — the manual's "verify health" after a deploy. When an executed change has rolled out,
//! a stored job runs the health checks (with the 5xx share) and posts the verdict in the request's thread; when a
//! deploy fails its verification (or its rollout fails), the rollback is proposed at once as an approval request
//! in the name of the person who asked for the deploy, pre-filled with the revision to go back to.

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::checks::{self, CheckLevel, HealthReport};
use crate::cluster::RolloutOutcome;
use crate::command::{Change, Rollback};
use crate::invocation::{Actor, Addressing, Conversation, Identity, Invocation};
use crate::present::checks as checks_present;
use crate::reply::{Block, Reply, ReplyKind, ReplySink};
use crate::store::{ApprovalRecord, Job, JobOutcome};

use super::Context;
use super::dispatch::Request;
use super::jobs::JobRunner;
use super::trail::Decision;

/// The job kind that verifies a change after its rollout.
pub const VERIFY_CHANGE: &str = "verify-change";

/// What a verification job is about.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct VerifyPayload {
    approval_id: String,
    /// Whether the rollout completed (a deploy whose rollout failed is verified too, to propose its rollback).
    rolled_out: bool,
}

/// Hook (execute.rs, when a rollout is followed to its end): queues the verification of a change that rolled out,
/// and of a deploy whose rollout failed.
pub(super) async fn after_rollout(
    ctx: &Context,
    record: &ApprovalRecord,
    outcome: &RolloutOutcome,
) {
    let rolled_out = outcome.is_complete();
    if !rolled_out && record.kind != "deploy" {
        return;
    }
    let payload = json!(VerifyPayload {
        approval_id: record.id.clone(),
        rolled_out
    });
    if let Err(err) = ctx
        .store
        .enqueue_job(VERIFY_CHANGE, payload, ctx.clock.now())
        .await
    {
        tracing::error!(error = %err, approval = %record.id, "could not queue the verification of a change");
    }
}

/// Runs a verification job (called by the job runner for [`VERIFY_CHANGE`]).
pub(super) async fn run_job(runner: &JobRunner, ctx: &Context, job: &Job) -> JobOutcome {
    let payload: VerifyPayload = match serde_json::from_value(job.payload.clone()) {
        Ok(p) => p,
        Err(err) => return JobOutcome::Failed(format!("bad payload: {err}")),
    };
    let record = match ctx.store.approval(&payload.approval_id).await {
        Ok(Some(r)) => r,
        Ok(None) => return JobOutcome::Failed(format!("no approval {}", payload.approval_id)),
        Err(err) => return JobOutcome::Failed(format!("store: {err}")),
    };
    let Ok(conversation) = serde_json::from_value::<Conversation>(record.conversation.clone())
    else {
        return JobOutcome::Failed(format!(
            "{}: the request's conversation is unreadable",
            record.id
        ));
    };
    let Some(sink) = runner.sinks().for_channel(&conversation.channel) else {
        return JobOutcome::Failed(format!("no chat connection for {}", conversation.channel));
    };
    let report = checks::run_health(&ctx.checks, &ctx.kube, &ctx.target, None).await;
    let verdict = verdict(&report, payload.rolled_out);
    let reply = verdict_reply(&record, &report, verdict, payload.rolled_out);
    if let Err(err) = sink.post(&conversation, &reply).await {
        tracing::warn!(error = %err, approval = %record.id, "could not post a verification");
    }
    let mut summary = format!("{} verified: {}", record.id, verdict.as_str());
    if verdict == CheckLevel::Fail && record.kind == "deploy" {
        summary.push_str(&format!(
            "; {}",
            propose_rollback(runner, ctx, &record, &conversation, &sink).await
        ));
    }
    JobOutcome::Done(summary)
}

/// The verdict: the health report's, and `fail` when the rollout itself did not complete.
pub fn verdict(report: &HealthReport, rolled_out: bool) -> CheckLevel {
    if rolled_out {
        report.verdict
    } else {
        CheckLevel::Fail
    }
}

/// The verification message, tagged with its request (in its final state) like the request's other replies.
pub fn verdict_reply(
    record: &ApprovalRecord,
    report: &HealthReport,
    verdict: CheckLevel,
    rolled_out: bool,
) -> Reply {
    let lead = match (verdict, rolled_out) {
        (_, false) => "the rollout did not complete".to_string(),
        (CheckLevel::Fail, true) => format!(
            "rolled out, but failing: {}",
            checks_present::verdict_line(&report.lines)
        ),
        (CheckLevel::Warn, true) => format!(
            "rolled out, with warnings: {}",
            checks_present::verdict_line(&report.lines)
        ),
        _ => "rolled out; every check passes".to_string(),
    };
    Reply::new(ReplyKind::Result, verdict.level())
        .with_header(format!(
            "Verification after `{}` ({}): {}",
            record.command,
            record.id,
            verdict.as_str()
        ))
        .with_block(Block::Text { text: lead })
        .with_block(checks_present::status_block(&report.lines))
        .with_approval(record.id.clone(), record.state.as_str())
}

/// Requests the rollback in the deploy requester's name; says what happened.
async fn propose_rollback(
    runner: &JobRunner,
    ctx: &Context,
    record: &ApprovalRecord,
    conversation: &Conversation,
    sink: &std::sync::Arc<dyn ReplySink>,
) -> String {
    let identity = Identity(record.requester_identity.clone());
    let principal = ctx.directory.resolve(&identity);
    let command = Change::Rollback(Rollback { to_revision: None });
    let invocation = Invocation {
        event_id: format!("verify:{}:rollback", record.id),
        actor: Actor {
            identity,
            display_name: principal.display.clone(),
        },
        conversation: conversation.clone(),
        addressing: Addressing::Direct,
        text: command.canonical(),
        received_at: Utc::now(),
    };
    let request = Request {
        ctx,
        runner,
        invocation: &invocation,
        principal: &principal,
        sink,
    };
    let outcome = super::request_change::request_change(&request, command).await;
    match (&outcome.approval_id, outcome.decision) {
        (Some(id), Decision::Requested) => format!("rollback proposed as {id}"),
        _ => format!("rollback not proposed: {}", outcome.summary),
    }
}
