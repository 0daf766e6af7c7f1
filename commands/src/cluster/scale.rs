//! `scale` preview: replicas before → after within the configured bounds; dry-run checked on the scale subresource.

use std::ops::RangeInclusive;

use super::deployment;
use super::error::{ClusterError, Refusal};
use super::patches::{SendOptions, send};
use super::plan::{Binding, Change, Plan};
use super::target::Target;

/// Previews scaling to `replicas`, refused outside `bounds` or when it already has that many.
pub async fn plan_scale(
    client: &kube::Client,
    target: &Target,
    replicas: i32,
    bounds: RangeInclusive<i32>,
) -> Result<Plan, ClusterError> {
    check_bounds(replicas, &bounds)?;
    let dep = deployment::get(client, target).await?;
    let from = deployment::desired_replicas(&dep);
    if from == replicas {
        return Err(Refusal::SameReplicas {
            deployment: target.deployment.clone(),
            replicas,
        }
        .into());
    }
    let change = Change::Scale { from, to: replicas };
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

/// Refuses a count outside `bounds`.
pub fn check_bounds(replicas: i32, bounds: &RangeInclusive<i32>) -> Result<(), Refusal> {
    if bounds.contains(&replicas) {
        Ok(())
    } else {
        Err(Refusal::ReplicasOutOfRange {
            replicas,
            min: *bounds.start(),
            max: *bounds.end(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert!(check_bounds(1, &(1..=20)).is_ok());
        assert!(check_bounds(20, &(1..=20)).is_ok());
        let e = check_bounds(21, &(1..=20)).expect_err("out of range");
        assert_eq!(
            e.to_string(),
            "21 replicas is out of range: allowed 1 to 20"
        );
        assert!(check_bounds(0, &(1..=20)).is_err());
        assert!(check_bounds(-3, &(1..=20)).is_err());
    }
}
