//! Controller behaviour a real cluster shows: RollingUpdate stays within maxSurge / maxUnavailable, Recreate stops
//! the old pods first, revisionHistoryLimit prunes old ReplicaSets, an unpullable image backs off.

mod common;

use std::time::Duration;

use common::{Harness, pod_images};
use k8s_openapi::api::core::v1::Pod;

const NS: &[&str] = &["-n", "mystocks"];

fn args<'a>(cmd: &[&'a str]) -> Vec<&'a str> {
    cmd.iter().chain(NS).copied().collect()
}

fn image(p: &Pod) -> &str {
    p.spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .and_then(|c| c.image.as_deref())
        .unwrap_or("")
}

fn ready(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_none()
        && p.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

async fn patch(h: &Harness, json: &str) {
    h.ok(&args(&[
        "patch",
        "deployment/mystocks-api",
        "--type=merge",
        "-p",
        json,
    ]))
    .await;
}

/// Polls the pods until `done`, returning every snapshot seen.
async fn observe(h: &Harness, done: impl Fn(&[Pod]) -> bool) -> Vec<Vec<Pod>> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let pods = h.sim.pods();
        let finished = done(&pods);
        seen.push(pods);
        if finished {
            return seen;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the rollout did not finish"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn all_on(image_name: &str, n: usize) -> impl Fn(&[Pod]) -> bool + '_ {
    move |pods: &[Pod]| pods.len() == n && pods.iter().all(|p| ready(p) && image(p) == image_name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_update_stays_within_surge_and_unavailability() {
    let h = Harness::start(20.0).await;
    h.ok(&args(&["scale", "deployment/mystocks-api", "--replicas=4"]))
        .await;
    h.wait_rolled_out(4).await;
    // 25% of 4: one extra pod at most, one unavailable at most.
    h.ok(&args(&[
        "set",
        "image",
        "deployment/mystocks-api",
        "mystocks-api=mystocks/api:v1.0.2",
    ]))
    .await;
    let seen = observe(&h, all_on("mystocks/api:v1.0.2", 4)).await;
    assert!(seen.len() > 5, "the rollout was observed in steps");
    for pods in &seen {
        let live = pods
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .count();
        let available = pods.iter().filter(|p| ready(p)).count();
        assert!(live <= 5, "maxSurge exceeded: {live} live pods");
        assert!(
            available >= 3,
            "maxUnavailable exceeded: {available} ready pods"
        );
    }
    assert!(
        seen.iter().any(
            |pods| pods.iter().any(|p| image(p) == "mystocks/api:v1.0.1")
                && pods
                    .iter()
                    .any(|p| ready(p) && image(p) == "mystocks/api:v1.0.2")
        ),
        "old and new pods served side by side"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recreate_stops_old_pods_before_starting_new_ones() {
    let h = Harness::start(20.0).await;
    patch(
        &h,
        r#"{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}}"#,
    )
    .await;
    h.ok(&args(&[
        "set",
        "image",
        "deployment/mystocks-api",
        "mystocks-api=mystocks/api:v1.0.2",
    ]))
    .await;
    let seen = observe(&h, all_on("mystocks/api:v1.0.2", 3)).await;
    for pods in &seen {
        let old = pods.iter().any(|p| image(p) == "mystocks/api:v1.0.1");
        let new = pods.iter().any(|p| image(p) == "mystocks/api:v1.0.2");
        assert!(
            !(old && new),
            "old and new pods at the same time under Recreate"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revision_history_limit_prunes_old_replicasets() {
    let h = Harness::start(50.0).await;
    patch(&h, r#"{"spec":{"revisionHistoryLimit":1}}"#).await;
    for tag in ["v1.0.2", "v1.0.3"] {
        let image = format!("mystocks-api=mystocks/api:{tag}");
        h.ok(&args(&["set", "image", "deployment/mystocks-api", &image]))
            .await;
        h.ok(&args(&["rollout", "status", "deployment/mystocks-api"]))
            .await;
        h.wait_rolled_out(3).await;
    }
    let pruned = h
        .sim
        .wait_until(|sim| sim.replicasets().len() == 2, Duration::from_secs(10))
        .await;
    assert!(pruned, "{} ReplicaSets left", h.sim.replicasets().len());
    let history = h
        .ok(&args(&["rollout", "history", "deployment/mystocks-api"]))
        .await;
    let revs: Vec<&str> = history
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(revs, ["3", "4"], "{history}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpullable_image_backs_off_and_keeps_the_old_pods() {
    let h = Harness::start(50.0).await;
    h.ok(&args(&[
        "set",
        "image",
        "deployment/mystocks-api",
        "mystocks-api=mystocks/api:does-not-exist",
    ]))
    .await;
    let stuck = h
        .sim
        .wait_until(
            |sim| {
                sim.pods().iter().any(|p| {
                    let waiting = p
                        .status
                        .as_ref()
                        .and_then(|s| s.container_statuses.as_ref())
                        .and_then(|c| c.first()?.state.as_ref()?.waiting.as_ref()?.reason.clone());
                    waiting.as_deref() == Some("ImagePullBackOff")
                })
            },
            Duration::from_secs(30),
        )
        .await;
    assert!(stuck);
    let table = h.ok(&args(&["get", "pods"])).await;
    assert!(
        table.contains("ImagePullBackOff") || table.contains("ErrImagePull"),
        "{table}"
    );
    assert_eq!(
        pod_images(&h.sim)
            .iter()
            .filter(|i| *i == "mystocks/api:v1.0.1")
            .count(),
        3,
        "old pods keep serving"
    );
    let events = h.ok(&args(&["get", "events"])).await;
    assert!(
        events.contains("Failed to pull image \"mystocks/api:does-not-exist\""),
        "{events}"
    );
}
