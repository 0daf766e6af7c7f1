//! Following rollouts with a watch: completion with progress, and a bad release's failure with pod reasons,
//! then the rollback that recovers — the demo's story.

use std::time::Duration;

use mystocks_commands::cluster::{self, RolloutOutcome, RolloutProgress};
use mystocks_sim::world::Scenario;

use crate::support::{FOLLOW, World, ok};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scale_is_followed_to_completion() {
    let w = World::start().await;
    let plan = ok(
        cluster::plan_scale(&w.client, &w.target, 5, 1..=20).await,
        "plan",
    );
    w.execute(&plan, "scale by alice").await;
    let mut seen: Vec<RolloutProgress> = Vec::new();
    let outcome = cluster::follow_rollout(&w.client, &w.target, FOLLOW, |p| seen.push(*p)).await;
    match outcome {
        RolloutOutcome::Complete { progress, message } => {
            assert_eq!(
                (progress.desired, progress.available, progress.updated),
                (5, 5, 5)
            );
            assert_eq!(
                message,
                "deployment \"mystocks-api\" successfully rolled out"
            );
        }
        other => panic!("expected completion, got {other:?}"),
    }
    assert!(seen.len() >= 2, "progress was reported: {seen:?}");
    assert!(
        seen.windows(2).all(|pair| pair[0] != pair[1]),
        "progress repeated: {seen:?}"
    );
    assert_eq!(seen.last().map(|p| p.available), Some(5));
    assert_eq!(
        w.sim
            .pods()
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .count(),
        5
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_release_fails_with_pod_reasons_and_a_rollback_recovers() {
    let w = World::with_scenario(Scenario::BadRelease).await;
    let deploy = ok(
        cluster::plan_deploy(&w.client, &w.target, "v1.0.2", "mystocks/api").await,
        "deploy",
    );
    w.execute(&deploy, "deploy by alice, approved by bob (A1)")
        .await;
    let outcome = cluster::follow_rollout(&w.client, &w.target, FOLLOW, |_| {}).await;
    match &outcome {
        RolloutOutcome::Failed {
            reason,
            pods,
            suggestion,
            ..
        } => {
            assert!(
                ["CrashLoopBackOff", "ProgressDeadlineExceeded"].contains(&reason.as_str()),
                "{reason}"
            );
            assert!(!pods.is_empty());
            assert!(pods.iter().all(|p| p.pod.starts_with("mystocks-api-")));
            assert!(
                pods.iter().any(|p| p.status == "CrashLoopBackOff"),
                "{pods:?}"
            );
            assert_eq!(suggestion, "roll back with `rollback`");
        }
        other => panic!("expected a failed rollout, got {other:?}"),
    }
    // `status` agrees, so a rollback is not held up as "a rollout still in progress".
    let state = ok(
        cluster::rollout_status(&w.client, &w.target).await,
        "status",
    );
    assert!(state.is_failed(), "{state:?}");
    // The crashing release shows in errors and 5xx.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let errors = ok(
        cluster::errors(&w.client, &w.target, Duration::from_secs(900)).await,
        "errors",
    );
    assert!(
        errors
            .iter()
            .any(|g| g.example.contains("ProgrammingError") || g.example.contains("CRITICAL")),
        "{errors:?}"
    );

    let rollback = ok(
        cluster::plan_rollback(&w.client, &w.target, None).await,
        "rollback",
    );
    match &rollback.change {
        cluster::Change::Rollback {
            to_image,
            from_image,
            ..
        } => {
            assert_eq!(
                (from_image.as_str(), to_image.as_str()),
                ("mystocks/api:v1.0.2", "mystocks/api:v1.0.1")
            );
        }
        other => panic!("not a rollback: {other:?}"),
    }
    w.execute(&rollback, "rollback by alice, approved by bob (A2)")
        .await;
    let outcome = cluster::follow_rollout(&w.client, &w.target, FOLLOW, |_| {}).await;
    assert!(outcome.is_complete(), "{outcome:?}");
    assert_eq!(w.image(), "mystocks/api:v1.0.1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpullable_image_fails_fast() {
    let w = World::start().await;
    let deploy = ok(
        cluster::plan_deploy(&w.client, &w.target, "v9-does-not-exist", "mystocks/api").await,
        "deploy",
    );
    w.execute(&deploy, "deploy by alice").await;
    match cluster::follow_rollout(&w.client, &w.target, FOLLOW, |_| {}).await {
        RolloutOutcome::Failed { reason, pods, .. } => {
            assert!(
                reason == "ImagePullBackOff" || reason == "ErrImagePull",
                "{reason}"
            );
            assert!(
                pods.iter()
                    .all(|p| p.status.contains("Image") || p.status.contains("Err")),
                "{pods:?}"
            );
        }
        other => panic!("expected a failed rollout, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_times_out_when_asked_to() {
    let w = World::start().await;
    let deploy = ok(
        cluster::plan_deploy(&w.client, &w.target, "v1.0.3", "mystocks/api").await,
        "deploy",
    );
    w.execute(&deploy, "deploy by alice").await;
    match cluster::follow_rollout(&w.client, &w.target, Duration::from_millis(1), |_| {}).await {
        // A rollout takes simulated seconds (tens of real milliseconds at this speed), never 1 ms. How far it got
        // by the one observation depends on how loaded the machine is, so only the outcome is asserted.
        RolloutOutcome::TimedOut { .. } => {}
        other => panic!("unexpected outcome {other:?}"),
    }
}
