//! `rollback` preview: kubectl's `rollout undo` target (the previous revision, or `--to-revision N`), pinned to
//! the target ReplicaSet's uid, refused like kubectl (no such revision, nothing to undo, paused), dry-run checked.

use super::deployment;
use super::error::{ClusterError, Refusal};
use super::history::{revisions, select_rollback};
use super::patches::{SendOptions, send};
use super::plan::{Binding, Change, Plan};
use super::target::Target;
use super::template;

/// Previews rolling back to `to_revision` (None or 0: the previous revision).
pub async fn plan_rollback(
    client: &kube::Client,
    target: &Target,
    to_revision: Option<i64>,
) -> Result<Plan, ClusterError> {
    let dep = deployment::get(client, target).await?;
    let rss = deployment::owned_replicasets(client, target, &dep).await?;
    let revs = revisions(&dep, &rss);
    let name = target.deployment.clone();
    let chosen = select_rollback(&revs, to_revision).map_err(|missing| match missing {
        Some(revision) => Refusal::NoSuchRevision {
            deployment: name.clone(),
            revision,
        },
        None => Refusal::NoPreviousRevision {
            deployment: name.clone(),
        },
    })?;
    if dep.spec.paused == Some(true) {
        return Err(Refusal::Paused { deployment: name }.into());
    }
    let rs = rss
        .iter()
        .find(|rs| rs.metadata.uid.as_deref() == Some(chosen.rs_uid.as_str()))
        .ok_or_else(|| ClusterError::Internal {
            message: format!("replicaset {} vanished", chosen.rs_name),
        })?;
    let rs_template = deployment::rs_template(rs);
    let current_template = deployment::template(&dep);
    let to_image = template::image_of(&rs_template, &target.container);
    if template::equal_ignoring_hash(&rs_template, &current_template) {
        let refusal = Refusal::AlreadyAtRevision {
            deployment: name,
            revision: chosen.number,
            image: to_image,
        };
        return Err(refusal.into());
    }
    let current = revs.iter().find(|r| r.current);
    let change = Change::Rollback {
        from_revision: current
            .map(|r| r.number)
            .or_else(|| deployment::revision(&dep.metadata)),
        from_image: template::image_of(&current_template, &target.container),
        to_revision: chosen.number,
        to_image,
        rs_name: chosen.rs_name.clone(),
        rs_uid: chosen.rs_uid.clone(),
        template: Box::new(template::without_hash(&rs_template)),
        annotations: rs.metadata.annotations.clone().unwrap_or_default(),
    };
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
