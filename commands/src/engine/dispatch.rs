//! One invocation's way through the engine: claim (see [`super::claim`]), address, parse, authorize, rate-limit,
//! then run.

use std::sync::Arc;
use std::time::Instant;

use crate::command::{Admin, ChatRead, Command, Decide, Read, ReadKind};
use crate::directory::Principal;
use crate::grammar;
use crate::invocation::Invocation;
use crate::policy::{self, Risk};
use crate::reply::{Level, Reply, ReplyKind, ReplySink};

use super::claim::{self, Claim};
use super::jobs::JobRunner;
use super::ratelimit::{LimitClass, slow_down};
use super::trail::{Decision, Trail};
use super::{Context, admin, audit_checks, checks, decide, metrics_hook, reads, request_change};

/// What a command handler hands back: the decision to audit, and a one-line outcome.
pub(super) struct Outcome {
    pub decision: Decision,
    pub summary: String,
    pub approval_id: Option<String>,
}

impl Outcome {
    pub fn allowed(summary: impl Into<String>) -> Self {
        Outcome {
            decision: Decision::Allowed,
            summary: summary.into(),
            approval_id: None,
        }
    }
    pub fn refused(summary: impl Into<String>) -> Self {
        Outcome {
            decision: Decision::Refused,
            summary: summary.into(),
            approval_id: None,
        }
    }
    pub fn error(summary: impl Into<String>) -> Self {
        Outcome {
            decision: Decision::Error,
            summary: summary.into(),
            approval_id: None,
        }
    }
    pub fn with_approval(mut self, id: impl Into<String>) -> Self {
        self.approval_id = Some(id.into());
        self
    }
}

/// Everything a command handler needs about the invocation it runs for.
pub(super) struct Request<'a> {
    pub ctx: &'a Context,
    pub runner: &'a JobRunner,
    pub invocation: &'a Invocation,
    pub principal: &'a Principal,
    pub sink: &'a Arc<dyn ReplySink>,
}

impl Request<'_> {
    /// Posts a public reply in the invocation's conversation; delivery failures are logged.
    pub async fn say(&self, reply: Reply) -> Option<crate::reply::MessageRef> {
        match self.sink.post(&self.invocation.conversation, &reply).await {
            Ok(msg) => Some(msg),
            Err(err) => {
                tracing::warn!(error = %err, "could not post a reply");
                None
            }
        }
    }

    /// Posts a reply only the invoking person sees (refusals, errors).
    pub async fn tell(&self, reply: Reply) {
        let reply = reply.private_to(self.invocation.actor.identity.clone());
        self.say(reply).await;
    }

    /// Refuses with a user-facing sentence, privately.
    pub async fn refuse(&self, text: impl Into<String>) -> Outcome {
        let text = text.into();
        self.tell(Reply::text(ReplyKind::Refusal, Level::Warn, text.clone()))
            .await;
        Outcome::refused(text)
    }

    /// Reports an internal error: the chain is logged under a short reference that chat sees.
    pub async fn internal_error(&self, err: &(dyn std::error::Error + Send + Sync)) -> Outcome {
        let reference = short_reference();
        let mut chain = err.to_string();
        let mut source = err.source();
        while let Some(s) = source {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        tracing::error!(reference = %reference, error = %chain, "internal error");
        let text = format!(
            "internal error, ref {reference} — the operators can find it in the bot's logs"
        );
        self.tell(Reply::text(ReplyKind::Error, Level::Fail, text))
            .await;
        Outcome::error(format!("internal error ref {reference}: {chain}"))
    }
}

/// A short reference for an internal error (`7f3a9c`).
pub(super) fn short_reference() -> String {
    format!("{:06x}", rand::random::<u32>() & 0xff_ffff)
}

#[tracing::instrument(skip_all, fields(event = %invocation.event_id, actor = %invocation.actor.identity, channel = %invocation.conversation.channel))]
pub(super) async fn handle(
    ctx: &Context,
    runner: &JobRunner,
    invocation: Invocation,
    sink: Arc<dyn ReplySink>,
) {
    let started = Instant::now();
    let sink = match &ctx.metrics {
        Some(metrics) => {
            metrics_hook::FirstReplyTimer::wrap(sink, metrics.clone(), invocation.received_at)
        }
        None => sink,
    };
    let claim = claim::claim(ctx, &invocation.event_id).await;
    if claim == Claim::Duplicate {
        tracing::debug!("duplicate delivery ignored");
        return;
    }
    let incident = super::incidents::thread_incident(ctx, &invocation.conversation).await;
    // Ordinary talk is never a command: in a war room, a message that starts with a command name but does not
    // parse ("status is bad") is talk, not a malformed command.
    let Some(parsed) =
        grammar::parse_addressed(invocation.addressing, &invocation.text, incident.is_some())
    else {
        return;
    };
    let principal = ctx.directory.resolve(&invocation.actor.identity);
    let mut trail = Trail {
        invocation: &invocation,
        person: Some(principal.person_id.clone()),
        command: None,
        started,
    };
    let request = Request {
        ctx,
        runner,
        invocation: &invocation,
        principal: &principal,
        sink: &sink,
    };
    let outcome = match parsed {
        Err(err) => request.refuse(err.to_string()).await,
        Ok(command) => {
            trail.command = Some(command.canonical());
            if claim == Claim::Unrecorded && !harmless_to_repeat(&command) {
                request.refuse(UNRECORDED).await
            } else {
                run(&request, command).await
            }
        }
    };
    let row = trail
        .record(
            ctx,
            outcome.decision,
            &outcome.summary,
            outcome.approval_id.as_deref(),
        )
        .await;
    if let Some(metrics) = &ctx.metrics {
        metrics_hook::report(
            ctx,
            metrics.as_ref(),
            trail.command.as_deref(),
            &outcome,
            started.elapsed(),
        )
        .await;
    }
    let done = super::incidents::Done {
        invocation: &invocation,
        principal: &principal,
        command: trail.command.as_deref(),
    };
    super::incidents::after_invocation(ctx, incident.as_ref(), &done, &outcome, row).await;
}

/// Told when the store cannot hold the delivery's claim: without it a retry could run the command again.
const UNRECORDED: &str = "the bot cannot record this request right now (its store does not answer), so it did not \
                          run it: only reads are answered, other commands are refused until the store answers — \
                          try again in a minute";

/// Whether running `command` twice does no harm (a read), so it may run while its claim cannot be stored.
fn harmless_to_repeat(command: &Command) -> bool {
    policy::rule(command).risk == Risk::ReadOnly
        && !matches!(
            command,
            Command::Read(Read::Runbook(crate::command::Runbook::Run { .. }))
        )
}

async fn run(request: &Request<'_>, command: Command) -> Outcome {
    if let Command::Decide(Decide::Approve(approve)) = &command
        && let Some(outcome) = decide::refuse_self_approval(request, approve).await
    {
        return outcome;
    }
    let rule = policy::rule(&command);
    if let Err(refusal) = request.ctx.directory.authorize(request.principal, &rule) {
        return request.refuse(refusal.to_string()).await;
    }
    let class = match rule.risk {
        Risk::Destructive => LimitClass::Destructive,
        Risk::ReadOnly | Risk::Deciding | Risk::Admin => LimitClass::Read,
    };
    if let Err(wait) = request
        .ctx
        .limits
        .check(&request.principal.person_id, class)
    {
        return request.refuse(slow_down(wait)).await;
    }
    match command {
        // Boxed: each kind's handling is a large future, and a debug build builds it on the stack of whichever
        // task polls it (a Matrix sync task overflowed its 2 MiB).
        Command::Read(read) => Box::pin(run_read(request, read)).await,
        // Every change is requested and approved before it runs: the kind decides, not a list of commands.
        Command::Change(change) => Box::pin(request_change::request_change(request, change)).await,
        Command::Decide(Decide::Approve(c)) => decide::approve(request, &c).await,
        Command::Decide(Decide::Deny(c)) => decide::deny(request, &c).await,
        Command::Decide(Decide::Cancel(c)) => decide::cancel(request, &c).await,
        Command::Admin(Admin::Freeze(c)) => admin::freeze(request, &c).await,
        Command::Admin(Admin::Unfreeze(_)) => admin::unfreeze(request).await,
        Command::Admin(Admin::AuditReanchor(_)) => audit_checks::reanchor(request).await,
        Command::Incident(c) => Box::pin(super::incidents::run(request, &c)).await,
    }
}

/// Answers a read at once: a read that looks at the service through its one handler (which runbook steps call
/// too), any other by its own.
async fn run_read(request: &Request<'_>, read: Read) -> Outcome {
    let chat = match read.kind() {
        ReadKind::Step(step) => return reads::answer(request, &step).await,
        ReadKind::Chat(chat) => chat,
    };
    match chat {
        ChatRead::Help(c) => admin::help(request, &c).await,
        ChatRead::Whoami(_) => admin::whoami(request).await,
        ChatRead::Approvals(_) => admin::approvals(request).await,
        ChatRead::Audit(c) => admin::audit(request, &c).await,
        ChatRead::AuditVerify(_) => audit_checks::verify(request).await,
        ChatRead::DbTables(_) => checks::db_tables(request).await,
        ChatRead::Checklist(_) => checks::checklist(request).await,
        ChatRead::Oncall(_) => super::incidents::oncall(request).await,
        ChatRead::Runbook(c) => super::runbooks::command(request, &c).await,
    }
}
