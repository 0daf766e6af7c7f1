//! The engine's side of runbooks: `runbook list | show NAME | run NAME`, the stored job that advances a run
//! (`advance`), and the hook that resumes a run once the approval it waits for is decided.

mod advance;
mod replies;
mod runs;

use serde_json::json;

use crate::command::Runbook as RunbookCommand;
use crate::invocation::Conversation;
use crate::runbook::RunState;
use crate::store::{ApprovalRecord, ApprovalState, Job, JobOutcome};

use super::Context;
use super::dispatch::{Outcome, Request};
use super::jobs::JobRunner;

/// The job kind that advances a runbook run.
pub const ADVANCE_RUN: &str = "runbook-run";

/// How long the claim that resumes a run once per decision is kept.
const RESUME_CLAIM_TTL: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// Answers `runbook …`.
pub(super) async fn command(request: &Request<'_>, cmd: &RunbookCommand) -> Outcome {
    let set = &request.ctx.runbooks;
    match cmd {
        RunbookCommand::List => {
            request.say(replies::list_reply(set)).await;
            Outcome::allowed(format!("{} runbooks listed", set.runbooks.len()))
        }
        RunbookCommand::Show { name } => match set.get(name) {
            Some(runbook) => {
                request.say(replies::show_reply(runbook)).await;
                Outcome::allowed(format!("runbook {name} shown"))
            }
            None => request.refuse(unknown(request, name)).await,
        },
        RunbookCommand::Run { name } => match set.get(name) {
            Some(runbook) => start(request, runbook.clone()).await,
            None => request.refuse(unknown(request, name)).await,
        },
    }
}

fn unknown(request: &Request<'_>, name: &str) -> String {
    let names: Vec<&str> = request
        .ctx
        .runbooks
        .runbooks
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    let close = names.iter().find(|n| strsim::levenshtein(n, name) <= 2);
    match (close, names.is_empty()) {
        (_, true) => format!(
            "there is no runbook `{name}`: no runbooks are loaded (`runbook list` says why)"
        ),
        (Some(n), _) => format!(
            "there is no runbook `{name}`; did you mean `{n}`? (`runbook list` shows them all)"
        ),
        (None, _) => format!(
            "there is no runbook `{name}`; `runbook list` shows them ({})",
            names.join(", ")
        ),
    }
}

/// Starts a run: opens its thread (or uses the one it was asked in), stores it, and queues its first advance.
async fn start(request: &Request<'_>, runbook: crate::runbook::Runbook) -> Outcome {
    let ctx = request.ctx;
    let here = &request.invocation.conversation;
    let mut run = RunState::new(
        runs::new_run_id(),
        runbook,
        here.clone(),
        request.invocation.actor.identity.to_string(),
        request.principal.display.clone(),
        ctx.clock.now(),
    );
    let opened = request.say(replies::started_reply(&run)).await;
    if here.thread.is_none()
        && let Some(msg) = opened
    {
        run.conversation = Conversation {
            channel: here.channel.clone(),
            thread: Some(msg.message_id),
        };
    }
    if let Err(err) = runs::save(ctx.store.as_ref(), &run).await {
        return request.internal_error(&err).await;
    }
    if let Err(err) = queue_advance(ctx, request.runner, &run.id).await {
        return request.internal_error(&err).await;
    }
    Outcome::allowed(format!(
        "runbook {} started as run {}",
        run.runbook.name, run.id
    ))
}

async fn queue_advance(
    ctx: &Context,
    runner: &JobRunner,
    run_id: &str,
) -> Result<i64, crate::store::StoreError> {
    let payload = json!(advance::AdvancePayload {
        run_id: run_id.to_string()
    });
    let id = ctx
        .store
        .enqueue_job(ADVANCE_RUN, payload, ctx.clock.now())
        .await?;
    runner.kick();
    Ok(id)
}

/// Runs an advance job (called by the job runner for [`ADVANCE_RUN`]).
pub(super) async fn run_job(runner: &JobRunner, ctx: &Context, job: &Job) -> JobOutcome {
    advance::run(runner, ctx, job).await
}

/// Hook: an approval request changed state. When it is final and a run waits for it, the run records the decision
/// (approved? changed?) and is queued to go on — once, however many processes see the change.
pub(super) async fn on_request_update(ctx: &Context, record: &ApprovalRecord) {
    if !record.state.is_final() {
        return;
    }
    let run_id = match runs::run_of_approval(ctx.store.as_ref(), &record.id).await {
        Ok(Some(id)) => id,
        Ok(None) => return,
        Err(err) => {
            tracing::error!(error = %err, approval = %record.id, "cannot look up the run of an approval");
            return;
        }
    };
    match ctx
        .coordinator
        .claim(&format!("runbook-resume:{}", record.id), RESUME_CLAIM_TTL)
        .await
    {
        Ok(true) => {}
        Ok(false) => return,
        Err(err) => {
            tracing::warn!(error = %err, "coordinator unavailable; resuming the run without a claim")
        }
    }
    let mut run = match runs::load(ctx.store.as_ref(), &run_id).await {
        Ok(Some(run)) => run,
        Ok(None) => return,
        Err(err) => {
            tracing::error!(error = %err, run = %run_id, "cannot load a runbook run to resume it");
            return;
        }
    };
    // Done and Failed were approved (Failed: the change itself did not go through).
    let approved = matches!(record.state, ApprovalState::Done | ApprovalState::Failed);
    let done = record.state == ApprovalState::Done;
    let detail = format!(
        "{} {}{}",
        record.id,
        record.state,
        record
            .state_detail
            .as_deref()
            .map(|d| format!(" — {d}"))
            .unwrap_or_default()
    );
    if !run.decided(&record.id, approved, done, detail) {
        return;
    }
    if let Err(err) = runs::save(ctx.store.as_ref(), &run).await {
        tracing::error!(error = %err, run = %run.id, "cannot save a resumed runbook run");
        return;
    }
    let payload = json!(advance::AdvancePayload {
        run_id: run.id.clone()
    });
    if let Err(err) = ctx
        .store
        .enqueue_job(ADVANCE_RUN, payload, ctx.clock.now())
        .await
    {
        tracing::error!(error = %err, run = %run.id, "cannot queue the rest of a runbook run");
    }
}
