//! The stored job that advances a run: runs (or skips) its steps in order, posting each in the run's thread and
//! checkpointing the run after every step; a change step becomes an approval request in the requester's name and
//! the job ends there — the decision's hook queues the next advance. A run taken over after a crash continues from
//! its last checkpoint.

use std::sync::Arc;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::NewAuditEntry;
use crate::command::{Change, Command};
use crate::invocation::{Actor, Addressing, Identity, Invocation};
use crate::policy;
use crate::reply::{Level, Reply, ReplySink};
use crate::runbook::run::Next;
use crate::runbook::{RunState, Step, StepAction};
use crate::store::{Job, JobOutcome};

use super::super::Context;
use super::super::dispatch::Request;
use super::super::jobs::JobRunner;
use super::super::reads::{self, Observation, ReadError};
use super::super::trail::Decision;
use super::{replies, runs};

/// What an advance job is about.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct AdvancePayload {
    pub run_id: String,
}

/// Runs the run's due steps; ends when the run finishes or waits for an approval.
pub(crate) async fn run(runner: &JobRunner, ctx: &Context, job: &Job) -> JobOutcome {
    let payload: AdvancePayload = match serde_json::from_value(job.payload.clone()) {
        Ok(p) => p,
        Err(err) => return JobOutcome::Failed(format!("bad payload: {err}")),
    };
    let mut run = match runs::load(ctx.store.as_ref(), &payload.run_id).await {
        Ok(Some(run)) => run,
        Ok(None) => return JobOutcome::Failed(format!("no runbook run {}", payload.run_id)),
        Err(err) => return JobOutcome::Failed(format!("store: {err}")),
    };
    let Some(sink) = runner.sinks().for_channel(&run.conversation.channel) else {
        return JobOutcome::Failed(format!(
            "no chat connection for {}",
            run.conversation.channel
        ));
    };
    loop {
        match run.next() {
            Next::Done => return JobOutcome::Done(format!("run {} is finished", run.id)),
            Next::Wait => {
                let id = run.waiting_for().unwrap_or_default().to_string();
                return JobOutcome::Done(format!("run {} waits for {id}", run.id));
            }
            Next::Finish => {
                post(sink.as_ref(), &run, &replies::summary_reply(&run)).await;
                run.finish();
                checkpoint(ctx, &run).await;
                return JobOutcome::Done(format!(
                    "run {} finished: {}",
                    run.id,
                    run.verdict().as_str()
                ));
            }
            Next::Step(index) => {
                step(runner, ctx, &sink, &mut run, index).await;
                checkpoint(ctx, &run).await;
            }
        }
    }
}

async fn step(
    runner: &JobRunner,
    ctx: &Context,
    sink: &Arc<dyn ReplySink>,
    run: &mut RunState,
    index: usize,
) {
    let Some(step) = run.step(index).cloned() else {
        return;
    };
    if let Err(explanation) = run.should_run(index) {
        run.skip(index, &explanation);
        let text = format!("Skipped: not needed — {explanation} is false.");
        post(
            sink.as_ref(),
            run,
            &replies::step_note(run, index, &step, Level::Info, text),
        )
        .await;
        return;
    }
    match &step.action {
        StepAction::Say(text) => {
            run.complete(
                index,
                &crate::runbook::StepFacts::graded(crate::runbook::Grade::Ok),
                "guidance given".into(),
            );
            post(
                sink.as_ref(),
                run,
                &replies::step_note(run, index, &step, Level::Info, text.clone()),
            )
            .await;
        }
        StepAction::Run(Command::Change(command)) => {
            change(runner, ctx, sink, run, index, &step, command).await
        }
        StepAction::Run(Command::Read(read)) => match read.as_step() {
            Some(step_read) => {
                let found = reads::observe(ctx, &step_read).await;
                observed(ctx, sink, run, index, &step, found).await;
            }
            None => not_a_step(ctx, sink, run, index, &step).await,
        },
        StepAction::Run(Command::Decide(_) | Command::Admin(_) | Command::Incident(_)) => {
            not_a_step(ctx, sink, run, index, &step).await
        }
    }
}

/// Records and posts what a read step found, or why it could not run.
async fn observed(
    ctx: &Context,
    sink: &Arc<dyn ReplySink>,
    run: &mut RunState,
    index: usize,
    step: &Step,
    found: Result<Observation, ReadError>,
) {
    let StepAction::Run(command) = &step.action else {
        return;
    };
    match found {
        Ok(found) => {
            run.complete(index, &found.facts, found.summary.clone());
            audit(
                ctx,
                run,
                index,
                &command.canonical(),
                Decision::Allowed,
                &found.summary,
            )
            .await;
            post(
                sink.as_ref(),
                run,
                &replies::step_reply(run, index, step, found.reply),
            )
            .await;
        }
        Err(err) => {
            let reason = err.reason();
            run.fail(index, reason.clone());
            audit(
                ctx,
                run,
                index,
                &command.canonical(),
                Decision::Error,
                &reason,
            )
            .await;
            let text = format!("Could not run `{}`: {reason}", command.canonical());
            post(
                sink.as_ref(),
                run,
                &replies::step_note(run, index, step, Level::Fail, text),
            )
            .await;
        }
    }
}

/// A stored run whose step runs a command no step may run (the loader refuses such files): it fails, saying so.
async fn not_a_step(
    ctx: &Context,
    sink: &Arc<dyn ReplySink>,
    run: &mut RunState,
    index: usize,
    step: &Step,
) {
    let name = step.kind();
    observed(
        ctx,
        sink,
        run,
        index,
        step,
        Err(ReadError::Failed(format!(
            "`{name}` cannot run as a runbook step"
        ))),
    )
    .await;
}

/// A change step: requested in the name of the person who started the run, through the normal approval flow.
async fn change(
    runner: &JobRunner,
    ctx: &Context,
    sink: &Arc<dyn ReplySink>,
    run: &mut RunState,
    index: usize,
    step: &Step,
    command: &Change,
) {
    let identity = Identity(run.requester_identity.clone());
    let principal = ctx.directory.resolve(&identity);
    let invocation = Invocation {
        event_id: format!("runbook:{}:{index}", run.id),
        actor: Actor {
            identity,
            display_name: run.requester_display.clone(),
        },
        conversation: run.conversation.clone(),
        addressing: Addressing::Direct,
        text: command.canonical(),
        received_at: Utc::now(),
    };
    if let Err(refusal) = ctx.directory.authorize(&principal, &policy::Rule::CHANGE) {
        let reason = format!(
            "{} cannot request `{}`: {refusal}",
            run.requester_display,
            command.canonical()
        );
        run.fail(index, reason.clone());
        post(
            sink.as_ref(),
            run,
            &replies::step_note(run, index, step, Level::Fail, reason),
        )
        .await;
        return;
    }
    let header = format!(
        "This step changes something: `{}` needs approval; the run waits for the decision.",
        command.canonical()
    );
    post(
        sink.as_ref(),
        run,
        &replies::step_note(run, index, step, Level::Info, header),
    )
    .await;
    let request = Request {
        ctx,
        runner,
        invocation: &invocation,
        principal: &principal,
        sink,
    };
    let outcome = super::super::request_change::request_change(&request, command.clone()).await;
    audit(
        ctx,
        run,
        index,
        &command.canonical(),
        outcome.decision,
        &outcome.summary,
    )
    .await;
    match outcome.approval_id {
        Some(approval_id) if outcome.decision == Decision::Requested => {
            if let Err(err) = runs::link_approval(ctx.store.as_ref(), &approval_id, &run.id).await {
                tracing::error!(error = %err, run = %run.id, "could not link the approval to its run");
            }
            run.wait_for(&approval_id);
        }
        _ => {
            let reason = format!("not requested: {}", outcome.summary);
            run.fail(index, reason.clone());
            post(
                sink.as_ref(),
                run,
                &replies::step_note(run, index, step, Level::Fail, reason),
            )
            .await;
        }
    }
}

async fn post(sink: &dyn ReplySink, run: &RunState, reply: &Reply) {
    if let Err(err) = sink.post(&run.conversation, reply).await {
        tracing::warn!(error = %err, run = %run.id, "could not post a runbook step");
    }
}

/// Saves the run; a failed save is logged (the step's result is in the thread either way).
pub(super) async fn checkpoint(ctx: &Context, run: &RunState) {
    if let Err(err) = runs::save(ctx.store.as_ref(), run).await {
        tracing::error!(error = %err, run = %run.id, "could not checkpoint a runbook run");
    }
}

/// One audit entry per step that ran a command, in the name of the person who started the run.
async fn audit(
    ctx: &Context,
    run: &RunState,
    index: usize,
    command: &str,
    decision: Decision,
    outcome: &str,
) {
    let entry = NewAuditEntry {
        at: ctx.clock.now(),
        actor_person: Some(
            ctx.directory
                .resolve(&Identity(run.requester_identity.clone()))
                .person_id,
        ),
        actor_identity: run.requester_identity.clone(),
        conversation: json!(run.conversation),
        text: command.to_string(),
        command: Some(command.to_string()),
        decision: decision.as_str().to_string(),
        outcome: Some(outcome.to_string()),
        duration_ms: None,
        approval_id: run.waiting_for().map(str::to_string),
        detail: json!({ "runbook": run.runbook.name, "run": run.id, "step": index + 1 }),
    };
    if let Err(err) = ctx.store.append_audit(entry).await {
        tracing::error!(error = %err, "could not write an audit entry");
    }
}
