//! Conformance: the real /usr/bin/kubectl runs every cluster line of the operations manual against the sim,
//! each test with its own HOME (so discovery is exercised), asserting on kubectl's output and the state after.

mod common;

use std::time::Duration;

use common::{Harness, annotation, pod_images, pod_names};
use tokio::io::{AsyncBufReadExt, BufReader};

const SPEED: f64 = 50.0;
const NS: &[&str] = &["-n", "mystocks"];

fn args<'a>(cmd: &[&'a str]) -> Vec<&'a str> {
    cmd.iter().chain(NS).copied().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_pods_renders_the_server_table_with_and_without_a_selector() {
    let h = Harness::start(SPEED).await;
    let out = h.ok(&args(&["get", "pods"])).await;
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().expect("header").split_whitespace().collect();
    assert_eq!(header, ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows.len(), 3, "{out}");
    let mut names = pod_names(&h.sim);
    names.sort();
    for (row, name) in rows.iter().zip(&names) {
        assert_eq!(row[..4], [name.as_str(), "1/1", "Running", "0"], "{out}");
        assert_eq!(row[4], "24h", "seeded pods are a day old: {out}");
    }
    let by_label = h
        .ok(&args(&["get", "pods", "-l", "app=mystocks-api"]))
        .await;
    assert_eq!(by_label.lines().count(), 4, "{by_label}");
    let none = h.kubectl(&args(&["get", "pods", "-l", "app=other"])).await;
    assert_eq!(none.code, 0);
    assert!(
        none.stderr
            .contains("No resources found in mystocks namespace."),
        "{none:?}"
    );
    let list = h
        .sim
        .requests()
        .into_iter()
        .find(|r| r.path.contains("labelSelector=app%3Dmystocks-api"));
    assert!(
        list.is_some_and(|r| r.kubectl_command.as_deref() == Some("kubectl get")),
        "request log has the list"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_pods_shows_cpu_and_memory_per_pod() {
    let h = Harness::start(SPEED).await;
    let out = h.ok(&args(&["top", "pods"])).await;
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 3, "{out}");
    for row in rows {
        assert!(
            row[1].ends_with('m')
                && row[1]
                    .trim_end_matches('m')
                    .parse::<u32>()
                    .is_ok_and(|m| m > 0),
            "{out}"
        );
        assert!(row[2].ends_with("Mi"), "{out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_by_label_respect_tail_per_pod() {
    let h = Harness::start(SPEED).await;
    let out = h
        .ok(&args(&["logs", "-l", "app=mystocks-api", "--tail=500"]))
        .await;
    let n = out.lines().count();
    assert!(n > 100 && n <= 1500, "3 pods × at most 500 lines, got {n}");
    assert!(out.lines().all(|l| !l.is_empty()));
    let log_requests: Vec<_> = h
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/log?"))
        .collect();
    assert_eq!(log_requests.len(), 3, "{log_requests:?}");
    assert!(
        log_requests
            .iter()
            .all(|r| r.path.contains("container=mystocks-api") && r.path.contains("tailLines=500"))
    );
    let few = h
        .ok(&args(&["logs", "-l", "app=mystocks-api", "--tail=2"]))
        .await;
    assert_eq!(few.lines().count(), 6, "{few}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_follow_streams_until_killed() {
    let h = Harness::start(SPEED).await;
    let mut child = h.spawn(&args(&[
        "logs",
        "-f",
        "deployment/mystocks-api",
        "--tail=1",
    ]));
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut got = Vec::new();
    let read = async {
        while got.len() < 5 {
            match lines.next_line().await {
                Ok(Some(l)) => got.push(l),
                _ => break,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .expect("follow delivers lines");
    assert_eq!(
        got.len(),
        5,
        "a followed log keeps delivering new lines: {got:?}"
    );
    child.kill().await.expect("kill kubectl");
    let follow = h
        .sim
        .requests()
        .into_iter()
        .find(|r| r.path.contains("follow=true"));
    assert!(follow.is_some_and(|r| r.status == 200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_history_undo_and_undo_to_revision() {
    let h = Harness::start(SPEED).await;
    let history = h
        .ok(&args(&["rollout", "history", "deployment/mystocks-api"]))
        .await;
    let rows: Vec<Vec<&str>> = history
        .lines()
        .skip(2)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows,
        vec![
            vec!["1", "initial", "release"],
            vec!["2", "deploy", "v1.0.1"]
        ],
        "{history}"
    );

    let undo = h
        .ok(&args(&["rollout", "undo", "deployment/mystocks-api"]))
        .await;
    assert!(
        undo.contains("deployment.apps/mystocks-api rolled back"),
        "{undo}"
    );
    let status = h
        .ok(&args(&["rollout", "status", "deployment/mystocks-api"]))
        .await;
    assert!(status.contains("successfully rolled out"), "{status}");
    assert_eq!(h.image(), "mystocks/api:v1.0.0");
    assert_eq!(h.revision(), "3", "the reused ReplicaSet is renumbered");
    h.wait_rolled_out(3).await;
    assert!(
        pod_images(&h.sim)
            .iter()
            .all(|i| i == "mystocks/api:v1.0.0")
    );
    let patch = h.sim.changing_requests().pop().expect("undo sent a PATCH");
    assert_eq!(
        patch.patch_type.as_deref(),
        Some("application/json-patch+json")
    );

    let history = h
        .ok(&args(&["rollout", "history", "deployment/mystocks-api"]))
        .await;
    let revs: Vec<&str> = history
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(revs, ["2", "3"], "revision 1 became 3: {history}");

    // Revision 1 no longer exists: kubectl refuses without sending anything.
    let before = h.sim.changing_requests().len();
    let gone = h
        .kubectl(&args(&[
            "rollout",
            "undo",
            "deployment/mystocks-api",
            "--to-revision=1",
        ]))
        .await;
    assert_ne!(gone.code, 0);
    assert!(
        gone.stderr
            .contains("unable to find specified revision 1 in history"),
        "{gone:?}"
    );
    assert_eq!(h.sim.changing_requests().len(), before);

    let back = h
        .ok(&args(&[
            "rollout",
            "undo",
            "deployment/mystocks-api",
            "--to-revision=2",
        ]))
        .await;
    assert!(back.contains("rolled back"), "{back}");
    h.ok(&args(&["rollout", "status", "deployment/mystocks-api"]))
        .await;
    assert_eq!(h.image(), "mystocks/api:v1.0.1");
    assert_eq!(h.revision(), "4");
    h.wait_rolled_out(3).await;
    let rs = h.sim.replicasets();
    let active: Vec<_> = rs
        .iter()
        .filter(|r| r.spec.replicas.unwrap_or(0) > 0)
        .collect();
    assert_eq!(active.len(), 1);
    assert_eq!(
        annotation(&active[0].metadata, "deployment.kubernetes.io/revision"),
        "4"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_image_then_rollout_status_waits_for_completion() {
    let h = Harness::start(SPEED).await;
    let before = pod_names(&h.sim);
    // The image already running: kubectl sends nothing.
    let same = h
        .ok(&args(&[
            "set",
            "image",
            "deployment/mystocks-api",
            "mystocks-api=mystocks/api:v1.0.1",
        ]))
        .await;
    let _ = same;
    assert!(
        h.sim.changing_requests().is_empty(),
        "{:?}",
        h.sim.changing_requests()
    );

    let out = h
        .ok(&args(&[
            "set",
            "image",
            "deployment/mystocks-api",
            "mystocks-api=mystocks/api:v1.0.2",
        ]))
        .await;
    assert!(
        out.contains("deployment.apps/mystocks-api image updated"),
        "{out}"
    );
    let patch = h.sim.changing_requests().pop().expect("a PATCH");
    assert_eq!(
        patch.patch_type.as_deref(),
        Some("application/strategic-merge-patch+json")
    );
    assert!(patch.path.contains("fieldManager=kubectl-set"));

    let status = h
        .ok(&args(&["rollout", "status", "deployment/mystocks-api"]))
        .await;
    assert!(
        status
            .trim_end()
            .ends_with("deployment \"mystocks-api\" successfully rolled out"),
        "{status}"
    );
    // rollout status returned only once the rollout was complete.
    let st = h.sim.deployment().status.unwrap_or_default();
    assert_eq!(
        (st.updated_replicas, st.available_replicas),
        (Some(3), Some(3)),
        "{st:?}"
    );
    assert_eq!(h.revision(), "3");
    h.wait_rolled_out(3).await;
    assert!(
        pod_images(&h.sim)
            .iter()
            .all(|i| i == "mystocks/api:v1.0.2")
    );
    assert!(
        pod_names(&h.sim).iter().all(|n| !before.contains(n)),
        "every pod was replaced"
    );
    let watch = h
        .sim
        .requests()
        .into_iter()
        .find(|r| r.path.contains("watch=true"));
    assert!(watch.is_some_and(|r| {
        r.path
            .contains("fieldSelector=metadata.name%3Dmystocks-api")
    }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_restart_replaces_every_pod() {
    let h = Harness::start(SPEED).await;
    let before = pod_names(&h.sim);
    let out = h
        .ok(&args(&["rollout", "restart", "deployment/mystocks-api"]))
        .await;
    assert!(
        out.contains("deployment.apps/mystocks-api restarted"),
        "{out}"
    );
    let d = h.sim.deployment();
    let restarted = d
        .spec
        .template
        .metadata
        .as_ref()
        .map(|m| annotation(m, "kubectl.kubernetes.io/restartedAt"));
    assert!(restarted.is_some_and(|t| !t.is_empty()));
    h.ok(&args(&["rollout", "status", "deployment/mystocks-api"]))
        .await;
    h.wait_rolled_out(3).await;
    assert_eq!(h.revision(), "3");
    assert_eq!(h.image(), "mystocks/api:v1.0.1", "same image, new pods");
    assert!(
        pod_names(&h.sim).iter().all(|n| !before.contains(n)),
        "every pod was replaced"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_uses_the_scale_subresource() {
    let h = Harness::start(SPEED).await;
    let out = h
        .ok(&args(&["scale", "deployment/mystocks-api", "--replicas=5"]))
        .await;
    assert!(out.contains("deployment.apps/mystocks-api scaled"), "{out}");
    let patch = h.sim.changing_requests().pop().expect("a PATCH");
    assert!(
        patch.path.ends_with("/deployments/mystocks-api/scale"),
        "{patch:?}"
    );
    assert_eq!(
        patch.patch_type.as_deref(),
        Some("application/merge-patch+json")
    );
    h.wait_rolled_out(5).await;
    assert_eq!(h.revision(), "2", "scaling makes no new revision");
    let table = h.ok(&args(&["get", "pods"])).await;
    assert_eq!(
        table
            .lines()
            .filter(|l| l.contains("1/1") && l.contains("Running"))
            .count(),
        5,
        "{table}"
    );

    let events = h.ok(&args(&["get", "events"])).await;
    assert!(
        events.contains("Scaled up replica set mystocks-api-"),
        "{events}"
    );
    assert!(events.contains("SuccessfulCreate"), "{events}");
    let described = h
        .ok(&args(&["describe", "deployment", "mystocks-api"]))
        .await;
    assert!(
        described.contains("ScalingReplicaSet") && described.contains("from 3 to 5"),
        "{described}"
    );
    h.ok(&args(&[
        "scale",
        "deployment/mystocks-api",
        "--replicas=10",
    ]))
    .await;
    h.wait_rolled_out(10).await;
    h.ok(&args(&["scale", "deployment/mystocks-api", "--replicas=2"]))
        .await;
    h.wait_rolled_out(2).await;
}
