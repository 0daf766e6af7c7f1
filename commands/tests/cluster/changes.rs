//! Executions with kubectl's semantics, the binding re-check, the resourceVersion precondition and reconciliation.

use mystocks_commands::cluster::{self, Change, ClusterError, Reconciled};
use serde_json::json;

use crate::support::{World, annotation, approved, ok};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_picks_the_previous_revision_and_patches_like_kubectl() {
    let w = World::start().await;
    let plan = ok(
        cluster::plan_rollback(&w.client, &w.target, None).await,
        "plan",
    );
    match &plan.change {
        Change::Rollback {
            from_revision,
            from_image,
            to_revision,
            to_image,
            ..
        } => {
            assert_eq!(
                (*from_revision, from_image.as_str()),
                (Some(2), "mystocks/api:v1.0.1")
            );
            assert_eq!(
                (*to_revision, to_image.as_str()),
                (1, "mystocks/api:v1.0.0")
            );
        }
        other => panic!("not a rollback: {other:?}"),
    }
    // The plan is stored in the approval request as JSON and read back before it executes.
    let stored = serde_json::to_string(&plan).expect("plan serialises");
    let plan: cluster::Plan = serde_json::from_str(&stored).expect("plan deserialises");
    w.execute(&plan, "rollback by alice, approved by bob (A1)")
        .await;
    let patches = w.real_changes();
    assert_eq!(patches.len(), 1, "{patches:?}");
    assert_eq!(
        patches[0].patch_type.as_deref(),
        Some("application/json-patch+json")
    );
    assert!(patches[0].path.contains("fieldManager=mystocks-bot"));
    let d = w.sim.deployment();
    assert_eq!(w.image(), "mystocks/api:v1.0.0");
    let labels = d
        .spec
        .template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    assert!(!labels.contains_key("pod-template-hash"), "{labels:?}");
    assert_eq!(
        annotation(&d, "kubernetes.io/change-cause").as_deref(),
        Some("rollback by alice, approved by bob (A1)")
    );
    w.settle().await;
    // The old ReplicaSet was reused and renumbered, exactly as on a real cluster.
    let revs = ok(cluster::history(&w.client, &w.target).await, "history");
    let numbers: Vec<(i64, bool)> = revs.iter().map(|r| (r.number, r.current)).collect();
    assert_eq!(numbers, vec![(2, false), (3, true)]);
    assert_eq!(revs[1].image("mystocks-api"), "mystocks/api:v1.0.0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn to_revision_is_pinned_by_uid_and_refused_after_renumbering() {
    let w = World::start().await;
    let pinned = ok(
        cluster::plan_rollback(&w.client, &w.target, Some(1)).await,
        "plan to 1",
    );
    // Someone else rolls back to revision 1 first: its ReplicaSet becomes revision 3.
    let first = ok(
        cluster::plan_rollback(&w.client, &w.target, Some(1)).await,
        "other plan",
    );
    w.execute(&first, "rollback by carol").await;
    let patches_before = w.real_changes().len();
    let stale = match cluster::check_binding(&w.client, &pinned).await {
        Err(ClusterError::Stale(s)) => s,
        Err(other) => panic!("expected stale, got {other}"),
        Ok(()) => panic!("the binding still held after the deployment changed"),
    };
    assert!(
        stale
            .to_string()
            .starts_with("deployment changed since this was requested: request again"),
        "{stale}"
    );
    assert!(
        stale
            .changes
            .iter()
            .any(|c| c.contains("image mystocks/api:v1.0.1 → mystocks/api:v1.0.0")),
        "{stale:?}"
    );
    assert!(matches!(
        cluster::execute(&w.client, &approved(&pinned), "x", "mystocks-bot").await,
        Err(ClusterError::Stale(_))
    ));
    assert_eq!(
        w.real_changes().len(),
        patches_before,
        "a stale plan sent a change"
    );
    match cluster::plan_rollback(&w.client, &w.target, Some(1)).await {
        Err(ClusterError::Refused(r)) => {
            assert!(r.to_string().contains("has no revision 1"), "{r}")
        }
        _ => panic!("revision 1 should be gone after renumbering"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_scale_and_restart_execute() {
    let w = World::start().await;
    let deploy = ok(
        cluster::plan_deploy(&w.client, &w.target, "v1.0.3", "mystocks/api").await,
        "deploy",
    );
    w.execute(&deploy, "deploy by alice, approved by bob (A2)")
        .await;
    assert_eq!(w.image(), "mystocks/api:v1.0.3");
    let last = w.real_changes().pop().expect("a patch");
    assert_eq!(
        last.patch_type.as_deref(),
        Some("application/strategic-merge-patch+json")
    );
    w.settle().await;

    let scale = ok(
        cluster::plan_scale(&w.client, &w.target, 5, 1..=20).await,
        "scale",
    );
    w.execute(&scale, "scale by alice").await;
    assert_eq!(w.sim.deployment().spec.replicas, Some(5));
    let last = w.real_changes().pop().expect("a patch");
    assert!(
        last.path
            .starts_with("/apis/apps/v1/namespaces/mystocks/deployments/mystocks-api/scale"),
        "{}",
        last.path
    );
    w.settle().await;

    let restart = ok(cluster::plan_restart(&w.client, &w.target).await, "restart");
    let (old_pods, stamp) = match &restart.change {
        Change::Restart { pods, restarted_at } => (pods.clone(), restarted_at.clone()),
        other => panic!("not a restart: {other:?}"),
    };
    assert_eq!(old_pods.len(), 5);
    w.execute(&restart, "restart by alice").await;
    let d = w.sim.deployment();
    let annotations = d
        .spec
        .template
        .metadata
        .as_ref()
        .and_then(|m| m.annotations.clone())
        .unwrap_or_default();
    assert_eq!(
        annotations.get("kubectl.kubernetes.io/restartedAt"),
        Some(&stamp)
    );
    w.settle().await;
    let replaced = w
        .sim
        .wait_until(
            |s| {
                s.pods()
                    .iter()
                    .all(|p| !old_pods.contains(p.metadata.name.as_ref().unwrap_or(&String::new())))
            },
            crate::support::FOLLOW,
        )
        .await;
    assert!(replaced, "old pods are still there");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_between_check_and_act_gets_409() {
    let w = World::start().await;
    let plans = [
        ok(
            cluster::plan_rollback(&w.client, &w.target, None).await,
            "rollback",
        ),
        ok(
            cluster::plan_deploy(&w.client, &w.target, "v1.0.3", "mystocks/api").await,
            "deploy",
        ),
        ok(
            cluster::plan_scale(&w.client, &w.target, 5, 1..=20).await,
            "scale",
        ),
        ok(cluster::plan_restart(&w.client, &w.target).await, "restart"),
    ];
    for (i, plan) in plans.iter().enumerate() {
        let checked = ok(cluster::check_binding_at(&w.client, plan).await, "check");
        // Slips in between the check and the act (only a label: the binding itself would still hold).
        w.merge_patch(json!({"metadata": {"labels": {"touched": i.to_string()}}}))
            .await;
        match cluster::act(
            &w.client,
            &approved(plan),
            &checked,
            "by alice",
            "mystocks-bot",
        )
        .await
        {
            Err(ClusterError::Conflict { .. }) => {}
            Err(other) => panic!("{}: expected a conflict, got {other}", plan.kind()),
            Ok(e) => panic!("the stale change went through: {}", e.summary),
        }
        let refused = w.real_changes().pop().expect("the refused patch is logged");
        assert_eq!(refused.status, 409, "{}", plan.kind());
    }
    let d = w.sim.deployment();
    assert_eq!(
        (d.spec.replicas, w.image()),
        (Some(3), "mystocks/api:v1.0.1".to_string())
    );
    assert_eq!(d.metadata.generation, Some(plans[0].binding.generation));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_binding_is_refused_before_sending() {
    let w = World::start().await;
    let plan = ok(
        cluster::plan_scale(&w.client, &w.target, 5, 1..=20).await,
        "plan",
    );
    w.merge_patch(json!({"spec": {"replicas": 4}})).await;
    let sent = w.real_changes().len();
    let err = match cluster::execute(
        &w.client,
        &approved(&plan),
        "scale by alice",
        "mystocks-bot",
    )
    .await
    {
        Err(e) => e,
        Ok(_) => panic!("a stale plan executed"),
    };
    assert_eq!(
        err.to_string(),
        "deployment changed since this was requested: request again (replicas 3 → 4)"
    );
    assert_eq!(w.real_changes().len(), sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_compares_with_the_cluster() {
    let w = World::start().await;
    let plan = ok(
        cluster::plan_scale(&w.client, &w.target, 5, 1..=20).await,
        "plan",
    );
    assert_eq!(
        ok(
            cluster::reconcile_after_crash(&w.client, &plan).await,
            "before"
        ),
        Reconciled::NotApplied
    );
    w.execute(&plan, "scale by alice").await;
    assert_eq!(
        ok(
            cluster::reconcile_after_crash(&w.client, &plan).await,
            "after"
        ),
        Reconciled::AlreadyApplied
    );
    let restart = ok(cluster::plan_restart(&w.client, &w.target).await, "restart");
    assert_eq!(
        ok(
            cluster::reconcile_after_crash(&w.client, &restart).await,
            "r"
        ),
        Reconciled::NotApplied
    );
    w.merge_patch(json!({"spec": {"replicas": 2}})).await;
    match ok(
        cluster::reconcile_after_crash(&w.client, &restart).await,
        "diverged",
    ) {
        Reconciled::Diverged(what) => assert!(what.contains("replicas 5 → 2"), "{what}"),
        other => panic!("expected diverged, got {other:?}"),
    }
}
