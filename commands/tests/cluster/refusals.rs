//! Every preview refusal, with the user's text, and proof from the sim's request log that nothing was changed
//! (previews that pass send only dry runs).

use mystocks_commands::cluster::{self, ClusterError, Refusal};
use serde_json::json;

use crate::support::{World, ok};

fn refusal<T>(r: Result<T, ClusterError>) -> Refusal {
    match r {
        Err(ClusterError::Refused(refusal)) => refusal,
        Err(other) => panic!("expected a refusal, got error {other}"),
        Ok(_) => panic!("expected a refusal, got a plan"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_refusals_send_nothing() {
    let w = World::start().await;
    let r = refusal(cluster::plan_rollback(&w.client, &w.target, Some(9)).await);
    assert_eq!(
        r.to_string(),
        "deployment `mystocks-api` has no revision 9; `history` lists them"
    );
    let r = refusal(cluster::plan_rollback(&w.client, &w.target, Some(2)).await);
    assert_eq!(
        r,
        Refusal::AlreadyAtRevision {
            deployment: "mystocks-api".into(),
            revision: 2,
            image: "mystocks/api:v1.0.1".into()
        }
    );
    assert!(
        w.sim.changing_requests().is_empty(),
        "{:?}",
        w.sim.changing_requests()
    );

    w.merge_patch(json!({"spec": {"paused": true}})).await;
    let before = w.sim.changing_requests().len();
    let r = refusal(cluster::plan_rollback(&w.client, &w.target, None).await);
    assert_eq!(
        r.to_string(),
        "deployment `mystocks-api` is paused; resume it before rolling back"
    );
    assert_eq!(w.sim.changing_requests().len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_refusals_send_nothing() {
    let w = World::start().await;
    let cases = [
        ("v1.0.1", "already runs `mystocks/api:v1.0.1`"),
        ("mystocks/api:v1.0.1", "already runs"),
        (
            "evil/api:v1",
            "not in the allowed repository `mystocks/api`",
        ),
        (
            "registry.evil.com/mystocks/api:v1",
            "not in the allowed repository",
        ),
        ("Mystocks/API:v1", "not a valid image reference"),
        ("mystocks/api", "name a tag or a digest"),
        ("v1 2", "not a valid image reference"),
        ("mystocks/api@sha256:123", "digest"),
    ];
    for (input, expected) in cases {
        let r = refusal(cluster::plan_deploy(&w.client, &w.target, input, "mystocks/api").await);
        assert!(r.to_string().contains(expected), "{input}: {r}");
    }
    let other = w.target.clone().with_container("sidecar");
    let r = refusal(cluster::plan_deploy(&w.client, &other, "v2", "mystocks/api").await);
    assert!(
        r.to_string()
            .contains("no container `sidecar`; it has: `mystocks-api`"),
        "{r}"
    );
    assert!(
        w.sim.changing_requests().is_empty(),
        "{:?}",
        w.sim.changing_requests()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_refusals_send_nothing() {
    let w = World::start().await;
    let r = refusal(cluster::plan_scale(&w.client, &w.target, 3, 1..=20).await);
    assert_eq!(
        r.to_string(),
        "deployment `mystocks-api` already has 3 replicas; nothing to scale"
    );
    let r = refusal(cluster::plan_scale(&w.client, &w.target, 21, 1..=20).await);
    assert_eq!(
        r.to_string(),
        "21 replicas is out of range: allowed 1 to 20"
    );
    let r = refusal(cluster::plan_scale(&w.client, &w.target, 0, 1..=20).await);
    assert!(matches!(
        r,
        Refusal::ReplicasOutOfRange {
            replicas: 0,
            min: 1,
            max: 20
        }
    ));
    assert!(w.sim.changing_requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_deployment_is_not_found() {
    let w = World::start().await;
    let ghost = cluster::Target::new("mystocks", "ghost");
    match cluster::plan_scale(&w.client, &ghost, 5, 1..=20).await {
        Err(ClusterError::NotFound {
            kind,
            name,
            namespace,
        }) => {
            assert_eq!(
                (kind.as_str(), name.as_str(), namespace.as_str()),
                ("deployment", "ghost", "mystocks")
            );
        }
        Err(other) => panic!("expected not found, got {other}"),
        Ok(p) => panic!("expected not found, got {}", p.summary()),
    }
    let e = match cluster::history(&w.client, &ghost).await {
        Err(e) => e,
        Ok(_) => panic!("history of a missing deployment"),
    };
    assert_eq!(
        e.to_string(),
        "deployment `ghost` not found in namespace `mystocks`"
    );
    assert!(w.sim.changing_requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previews_are_dry_runs_that_change_nothing() {
    let w = World::start().await;
    let before = w.sim.deployment();
    let plans = vec![
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
    let dry = w.dry_runs();
    assert_eq!(dry.len(), 4, "{dry:?}");
    assert!(dry.iter().all(|r| r.method == "PATCH"
        && r.status == 200
        && r.path.contains("fieldManager=mystocks-bot")));
    assert_eq!(
        dry[0].patch_type.as_deref(),
        Some("application/json-patch+json")
    );
    assert!(
        dry[2].path.contains("/deployments/mystocks-api/scale?"),
        "{}",
        dry[2].path
    );
    assert!(w.real_changes().is_empty());
    let after = w.sim.deployment();
    assert_eq!(
        after.metadata.resource_version,
        before.metadata.resource_version
    );
    assert_eq!(after.metadata.generation, before.metadata.generation);
    for p in &plans {
        assert_eq!(
            p.binding.uid,
            before.metadata.uid.clone().unwrap_or_default()
        );
        assert_eq!(Some(p.binding.generation), before.metadata.generation);
    }
}
