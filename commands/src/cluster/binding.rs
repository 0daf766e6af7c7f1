//! Re-checking an approved plan against the live deployment: still the same object, generation and the state the
//! preview showed (for a rollback, the target ReplicaSet still exists with that uid and template).

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

use super::deployment;
use super::error::{ClusterError, Stale};
use super::plan::{Binding, Change, Plan};
use super::template;

/// Checks that the deployment is still in the state `plan` was computed on.
pub async fn check_binding(client: &kube::Client, plan: &Plan) -> Result<(), ClusterError> {
    check_binding_at(client, plan).await.map(drop)
}

/// Like [`check_binding`], returning the deployment as checked: its resourceVersion is the precondition the change
/// is then sent with ([`super::execute::act`]), so nothing can slip in between the check and the act.
pub async fn check_binding_at(
    client: &kube::Client,
    plan: &Plan,
) -> Result<Deployment, ClusterError> {
    let dep = deployment::get(client, &plan.target).await?;
    let rss = match plan.change {
        Change::Rollback { .. } => {
            deployment::owned_replicasets(client, &plan.target, &dep).await?
        }
        _ => Vec::new(),
    };
    let changes = differences(plan, &dep, &rss);
    if changes.is_empty() {
        Ok(dep)
    } else {
        Err(Stale { changes }.into())
    }
}

/// What differs between the plan's binding and the live objects, one phrase each; empty when still bound.
pub fn differences(plan: &Plan, dep: &Deployment, rss: &[ReplicaSet]) -> Vec<String> {
    let was = &plan.binding;
    let now = Binding::of(dep);
    let mut out = Vec::new();
    if was.uid != now.uid {
        out.push(format!(
            "the deployment was re-created (uid {} → {})",
            was.uid, now.uid
        ));
        return out;
    }
    if was.revision != now.revision {
        out.push(format!(
            "revision {} → {}",
            show(was.revision),
            show(now.revision)
        ));
    }
    if was.images != now.images {
        out.push(format!(
            "image {} → {}",
            images(&was.images),
            images(&now.images)
        ));
    }
    if was.replicas != now.replicas {
        out.push(format!("replicas {} → {}", was.replicas, now.replicas));
    }
    if was.restarted_at != now.restarted_at {
        out.push("the pods were restarted since".to_string());
    }
    if out.is_empty() && was.generation != now.generation {
        out.push(format!(
            "the spec changed (generation {} → {})",
            was.generation, now.generation
        ));
    }
    if let Change::Rollback {
        to_revision,
        rs_name,
        rs_uid,
        template: wanted,
        ..
    } = &plan.change
    {
        match rss
            .iter()
            .find(|rs| rs.metadata.uid.as_deref() == Some(rs_uid.as_str()))
        {
            None => out.push(format!(
                "revision {to_revision}'s ReplicaSet `{rs_name}` no longer exists"
            )),
            Some(rs) if !template::equal_ignoring_hash(&deployment::rs_template(rs), wanted) => {
                out.push(format!(
                    "revision {to_revision}'s ReplicaSet `{rs_name}` has a different template"
                ));
            }
            Some(_) => {}
        }
    }
    out
}

fn show(revision: Option<i64>) -> String {
    revision.map_or("none".to_string(), |r| r.to_string())
}

fn images(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(_, i)| i.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
#[path = "binding_tests.rs"]
mod tests;
