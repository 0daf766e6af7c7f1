//! The typed change path: what each [`Change`] binds its request to ([`ChangePlan`], stored as the approval's
//! binding), and the authority an execution needs ([`Gate`]) before anything is written. Every match here is
//! exhaustive: a new change does not compile until its plan is written.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::approval::{Approved, Ballot, BreakGlassGrant, NotApproved, Tally};
use crate::checks::db::MaintenancePlan;
use crate::cluster::{self, ClusterError, Plan};
use crate::command::Change;
use crate::present;
use crate::store::{ApprovalRecord, StoreError, VoteDecision};

use super::Context;

/// What an approved request will do, computed when it was requested and bound to the target's state then.
///
/// Untagged, so bindings stored before the kinds existed (a bare cluster plan, or a bare maintenance plan) read
/// back as they were written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ChangePlan {
    /// A change to the deployment (rollback, deploy, scale, restart).
    Cluster(Box<Plan>),
    /// Maintenance of the service's database (`db vacuum`).
    Maintenance(MaintenancePlan),
}

/// Why a change could not be planned.
pub(super) enum PlanError {
    /// A sentence for the requester.
    Refused(String),
    /// An internal error, logged with its chain.
    Internal(ClusterError),
}

impl From<ClusterError> for PlanError {
    fn from(err: ClusterError) -> Self {
        if err.is_user_facing() {
            PlanError::Refused(err.to_string())
        } else {
            PlanError::Internal(err)
        }
    }
}

/// Computes the plan of `change` against the live target, and its preview (the fields the request shows).
pub(super) async fn plan(ctx: &Context, change: &Change) -> Result<(ChangePlan, Value), PlanError> {
    let client = &ctx.kube;
    let target = &ctx.target;
    let plan = match change {
        Change::Rollback(c) => cluster::plan_rollback(client, target, c.to_revision).await?,
        Change::Deploy(c) => {
            let image = c.image.to_string();
            cluster::plan_deploy(client, target, &image, ctx.policy.deploy_repository()).await?
        }
        Change::Scale(c) => {
            cluster::plan_scale(client, target, c.replicas, ctx.policy.scale_bounds()).await?
        }
        Change::Restart(_) => cluster::plan_restart(client, target).await?,
        Change::DbVacuum(c) => {
            let (plan, preview) = super::checks::maintenance::prepare(ctx, c)
                .await
                .map_err(PlanError::Refused)?;
            return Ok((ChangePlan::Maintenance(plan), preview));
        }
    };
    let preview = json!(present::plan_fields(&plan));
    Ok((ChangePlan::Cluster(Box::new(plan)), preview))
}

/// The authority a stored request carries when it is executed: the votes on it, or a recorded break-glass use.
pub(super) enum Gate {
    Quorum(Tally),
    BreakGlass(BreakGlassGrant),
}

impl Gate {
    /// Approves `change` on this authority, or says why not.
    pub(super) fn approve<T>(&self, change: T) -> Result<Approved<T>, NotApproved> {
        match self {
            Gate::Quorum(tally) => Approved::by_quorum(change, tally),
            Gate::BreakGlass(grant) => Ok(Approved::break_glass(change, grant)),
        }
    }
}

/// The votes on `record`, each with whether the voter holds an approving role now.
pub(super) async fn tally(ctx: &Context, record: &ApprovalRecord) -> Result<Tally, StoreError> {
    let votes = ctx.store.votes(&record.id).await?;
    let ballots = votes
        .iter()
        .map(|v| {
            let now = ctx
                .directory
                .resolve(&crate::invocation::Identity(v.identity.clone()));
            Ballot {
                person: v.person_id.clone(),
                approves: v.decision == VoteDecision::Approve,
                may_approve: now.person_id == v.person_id && ctx.policy.may_approve(&now.roles),
            }
        })
        .collect();
    Ok(Tally::new(
        record.requester_person.clone(),
        record.quorum,
        ballots,
    ))
}

/// The authority `record` runs under: a recorded break-glass use, or else its votes counted now.
pub(super) async fn gate(ctx: &Context, record: &ApprovalRecord) -> Result<Gate, StoreError> {
    for incident in ctx.store.incidents(false, 50).await? {
        if let Some(grant) =
            BreakGlassGrant::recorded(&incident, &record.id, &record.requester_person)
        {
            return Ok(Gate::BreakGlass(grant));
        }
    }
    Ok(Gate::Quorum(tally(ctx, record).await?))
}
