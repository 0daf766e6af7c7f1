//! Executing an approved plan — only an [`Approved`] one, which only the quorum decision or break-glass makes — (checked, then sent with the checked resourceVersion as precondition), and
//! reconciling with the cluster after a crash between claiming the execution and acting.

use k8s_openapi::api::apps::v1::Deployment;
use serde::{Deserialize, Serialize};

use super::binding::{check_binding_at, differences};
use super::deployment;
use super::error::ClusterError;
use super::patches::{SendOptions, send};
use super::plan::{Binding, Change, Plan, restarted_at};
use super::template;
use crate::approval::Approved;

/// What an execution did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Executed {
    /// [`Plan::summary`] of what was done.
    pub summary: String,
    /// Whether a rollout follows (the template changed) — follow it with `follow_rollout`.
    pub rollout: bool,
}

/// Checks the binding, then sends the change with the checked resourceVersion, `change_cause` as
/// `kubernetes.io/change-cause` (template changes) and `field_manager` (the bot, e.g. `mystocks-bot`).
pub async fn execute(
    client: &kube::Client,
    approved: &Approved<Plan>,
    change_cause: &str,
    field_manager: &str,
) -> Result<Executed, ClusterError> {
    let plan = approved.change();
    let checked = check_binding_at(client, plan).await?;
    act(client, approved, &checked, change_cause, field_manager).await
}

/// Sends the change against `checked` (from [`check_binding_at`]); the server refuses with a conflict if the
/// deployment changed since it was read.
pub async fn act(
    client: &kube::Client,
    approved: &Approved<Plan>,
    checked: &Deployment,
    change_cause: &str,
    field_manager: &str,
) -> Result<Executed, ClusterError> {
    let plan = approved.change();
    let options = SendOptions {
        dry_run: false,
        field_manager: field_manager.to_string(),
    };
    send(
        client,
        &plan.target,
        &plan.change,
        checked,
        change_cause,
        &options,
    )
    .await?;
    Ok(Executed {
        summary: plan.summary(),
        rollout: plan.changes_template(),
    })
}

/// What the cluster shows after a crash between claiming an execution and finishing it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", content = "detail", rename_all = "snake_case")]
pub enum Reconciled {
    /// The deployment shows the planned result: the change went through.
    AlreadyApplied,
    /// The deployment is still in the bound state: the change was not sent (it may be executed again).
    NotApplied,
    /// Something else happened; do not re-run, tell people what differs.
    Diverged(String),
}

/// Compares the plan with the live deployment instead of re-running it blindly.
pub async fn reconcile_after_crash(
    client: &kube::Client,
    plan: &Plan,
) -> Result<Reconciled, ClusterError> {
    let dep = deployment::get(client, &plan.target).await?;
    let rss = match plan.change {
        Change::Rollback { .. } => {
            deployment::owned_replicasets(client, &plan.target, &dep).await?
        }
        _ => Vec::new(),
    };
    if dep.metadata.uid.as_deref().unwrap_or_default() != plan.binding.uid {
        return Ok(Reconciled::Diverged(
            "the deployment was re-created".to_string(),
        ));
    }
    if shows_result(plan, &dep) {
        return Ok(Reconciled::AlreadyApplied);
    }
    let changes = differences(plan, &dep, &rss);
    if changes.is_empty() {
        Ok(Reconciled::NotApplied)
    } else {
        Ok(Reconciled::Diverged(changes.join("; ")))
    }
}

/// Whether the deployment shows what the plan would have made of it.
pub fn shows_result(plan: &Plan, dep: &Deployment) -> bool {
    let now = Binding::of(dep);
    match &plan.change {
        Change::Rollback {
            template: wanted, ..
        } => template::equal_ignoring_hash(&deployment::template(dep), wanted),
        Change::Deploy {
            container,
            to_image,
            ..
        } => now
            .images
            .iter()
            .any(|(c, i)| c == container && i == to_image),
        Change::Scale { to, .. } => now.replicas == *to,
        Change::Restart {
            restarted_at: wanted,
            ..
        } => restarted_at(&deployment::template(dep)).as_deref() == Some(wanted.as_str()),
    }
}
