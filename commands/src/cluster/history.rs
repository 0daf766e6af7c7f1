//! `history`: the rollout history built like `kubectl rollout history`, from the ReplicaSets the deployment controls.

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use serde::{Deserialize, Serialize};

use super::age::to_chrono;
use super::deployment::{self, CHANGE_CAUSE};
use super::error::ClusterError;
use super::target::Target;
use super::template;

/// One revision of the deployment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    pub number: i64,
    /// `(container, image)` pairs of the revision's template.
    pub images: Vec<(String, String)>,
    pub change_cause: Option<String>,
    pub created: Option<DateTime<Utc>>,
    /// The ReplicaSet holding this revision; a rollback is pinned to it.
    pub rs_name: String,
    pub rs_uid: String,
    /// Whether the deployment's template is this revision's.
    pub current: bool,
    /// Replicas the ReplicaSet currently wants.
    pub replicas: i32,
}

impl Revision {
    /// The image of `container`, or all images joined.
    pub fn image(&self, container: &str) -> String {
        self.images
            .iter()
            .find(|(c, _)| c == container)
            .map(|(_, i)| i.clone())
            .unwrap_or_else(|| {
                self.images
                    .iter()
                    .map(|(_, i)| i.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
    }
}

/// The deployment's revisions, oldest first.
pub async fn history(
    client: &kube::Client,
    target: &Target,
) -> Result<Vec<Revision>, ClusterError> {
    let dep = deployment::get(client, target).await?;
    let rss = deployment::owned_replicasets(client, target, &dep).await?;
    Ok(revisions(&dep, &rss))
}

/// The revisions of `dep` among `rss` (only those it controls and that carry a revision), oldest first.
pub fn revisions(dep: &Deployment, rss: &[ReplicaSet]) -> Vec<Revision> {
    let uid = dep.metadata.uid.as_deref().unwrap_or_default();
    let current_template = deployment::template(dep);
    let mut out: Vec<Revision> = rss
        .iter()
        .filter(|rs| deployment::controlled_by(&rs.metadata, uid))
        .filter_map(|rs| {
            let number = deployment::revision(&rs.metadata)?;
            let tpl = deployment::rs_template(rs);
            Some(Revision {
                number,
                images: template::images(&tpl),
                change_cause: deployment::annotation(&rs.metadata, CHANGE_CAUSE)
                    .map(str::to_string),
                created: rs.metadata.creation_timestamp.as_ref().map(to_chrono),
                rs_name: rs.metadata.name.clone().unwrap_or_default(),
                rs_uid: rs.metadata.uid.clone().unwrap_or_default(),
                current: template::equal_ignoring_hash(&tpl, &current_template),
                replicas: rs.spec.replicas.unwrap_or(0),
            })
        })
        .collect();
    out.sort_by_key(|r| r.number);
    // Two ReplicaSets cannot both hold the current template; if the comparison found none, trust the annotation.
    if !out.iter().any(|r| r.current)
        && let Some(rev) = deployment::revision(&dep.metadata)
    {
        out.iter_mut()
            .filter(|r| r.number == rev)
            .for_each(|r| r.current = true);
    }
    out
}

/// kubectl's choice for `rollout undo`: the given revision, or without one the second-highest revision.
/// `Err(None)` means no previous revision; `Err(Some(n))` means revision `n` does not exist.
pub fn select_rollback(
    revisions: &[Revision],
    to_revision: Option<i64>,
) -> Result<&Revision, Option<i64>> {
    match to_revision {
        Some(n) if n != 0 => revisions.iter().find(|r| r.number == n).ok_or(Some(n)),
        _ => {
            let mut sorted: Vec<&Revision> = revisions.iter().collect();
            sorted.sort_by_key(|r| std::cmp::Reverse(r.number));
            sorted.get(1).copied().ok_or(None)
        }
    }
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
