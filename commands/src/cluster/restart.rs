//! `restart` preview: the pods that will be replaced when kubectl's `restartedAt` annotation is set; dry-run checked.

use chrono::{SecondsFormat, Utc};

use super::deployment;
use super::error::ClusterError;
use super::patches::{SendOptions, send};
use super::plan::{Binding, Change, Plan};
use super::pods::list_pods;
use super::target::Target;

/// Previews a rolling restart: lists the deployment's pods now and fixes the `restartedAt` value to set.
pub async fn plan_restart(client: &kube::Client, target: &Target) -> Result<Plan, ClusterError> {
    let dep = deployment::get(client, target).await?;
    let selector = deployment::match_labels_selector(&dep);
    let selector = if selector.is_empty() {
        target.selector.clone()
    } else {
        selector
    };
    let mut pods: Vec<String> = list_pods(client, target, Some(&selector))
        .await?
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter_map(|p| p.metadata.name)
        .collect();
    pods.sort();
    // Fixed when previewed, so the change is exactly what was approved and a crash can be reconciled.
    let restarted_at = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let change = Change::Restart { pods, restarted_at };
    send(
        client,
        target,
        &change,
        &dep,
        "preview (dry run)",
        &SendOptions::dry_run(),
    )
    .await?;
    Ok(Plan {
        target: target.clone(),
        binding: Binding::of(&dep),
        change,
    })
}
