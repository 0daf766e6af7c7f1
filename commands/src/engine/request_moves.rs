//! Every move of an approval request through its life — created, approved, denied, cancelled, expired, claimed
//! for execution, done, failed, recovered — is one store transaction together with its audit row and the job it
//! starts. There is no other way to move a request (the store's `transition` takes the audit row), so no step
//! goes unrecorded and no request is left approved without a job to run it.

use serde_json::{Value, json};

use crate::audit::NewAuditEntry;
use crate::invocation::Invocation;
use crate::store::{ApprovalState, NewJob, StoreError, Transition, Transitioned};

use super::Context;

/// Who moves a request.
#[derive(Clone, Copy)]
pub(super) enum By<'a> {
    /// A person, through what they typed or pressed.
    Person {
        person: &'a str,
        invocation: &'a Invocation,
    },
    /// The bot itself (a job, an expiry, the reconciler), as this process.
    Bot,
}

impl<'a> By<'a> {
    pub(super) fn person(person: &'a str, invocation: &'a Invocation) -> Self {
        By::Person { person, invocation }
    }
}

/// The audit row of a step in a request's life: `decision` is what happened (`requested`, `approved`,
/// `expired`, …), `outcome` says why.
pub(super) fn entry(
    ctx: &Context,
    by: By<'_>,
    decision: &str,
    outcome: &str,
    detail: Value,
) -> NewAuditEntry {
    let mut detail = detail;
    let (person, identity, conversation, text) = match by {
        By::Person { person, invocation } => {
            // The event says how the step came (a chat event, or `verify:A3:rollback` for a proposed rollback).
            if let Value::Object(map) = &mut detail {
                map.insert("event_id".into(), json!(invocation.event_id));
            }
            (
                Some(person.to_string()),
                invocation.actor.identity.to_string(),
                json!(invocation.conversation),
                invocation.text.clone(),
            )
        }
        By::Bot => (
            None,
            ctx.settings.process_id.clone(),
            Value::Null,
            String::new(),
        ),
    };
    NewAuditEntry {
        at: ctx.clock.now(),
        actor_person: person,
        actor_identity: identity,
        conversation,
        text,
        command: None,
        decision: decision.to_string(),
        outcome: Some(outcome.to_string()),
        duration_ms: None,
        approval_id: None,
        detail,
    }
}

/// Moves request `id` from one of `from` to `to`, with its audit row and `job`, in one transaction. `None` when
/// it was not in `from` (someone else moved it first; nothing was written).
pub(super) async fn step(
    ctx: &Context,
    id: &str,
    from: &[ApprovalState],
    to: ApprovalState,
    detail: &str,
    by: By<'_>,
    job: Option<NewJob>,
) -> Result<Option<Transitioned>, StoreError> {
    super::trail::record_gap(ctx).await;
    let names: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    let audit = entry(
        ctx,
        by,
        to.as_str(),
        detail,
        json!({ "from": names, "job": job.as_ref().map(|j| j.kind.clone()) }),
    );
    let moved = ctx
        .store
        .transition(Transition {
            id: id.to_string(),
            from: from.to_vec(),
            to,
            detail: Some(detail.to_string()),
            at: ctx.clock.now(),
            job,
            audit,
        })
        .await;
    if let Err(err) = &moved {
        super::metrics_hook::dependency_error(ctx, super::metrics_hook::Dependency::Store);
        tracing::error!(error = %err, approval = id, to = %to, "a request could not move; nothing of the step was stored");
    }
    moved
}
