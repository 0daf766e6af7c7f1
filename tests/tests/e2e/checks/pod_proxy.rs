//! `health --pods` through the API server's pod proxy: a pod whose `/health` answers 503 is reported with its
//! own answer, named, after exactly one request (kube-rs would retry a 503 until the check's timeout).

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};
use mystocks_commands::reply::Level;
use mystocks_sim::world::{Scenario, ScenarioState};
use mystocks_sim::{PodDelays, SimConfig, app};
use mystocks_tests::texts;
use serde_json::json;

use super::harness::{ChecksApp, status_lines};

/// A pod that is running but never passes its readiness probe: its `/health` answers 503 `starting`.
async fn a_pod_that_answers_503(app: &ChecksApp) -> String {
    let client = mystocks_tests::app::kube_client(&app.sim).await;
    let deployments: Api<Deployment> = Api::namespaced(client, "mystocks");
    deployments
        .patch(
            "mystocks-api",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 4}})),
        )
        .await
        .expect("scale to 4");
    let running_unready = |sim: &mystocks_sim::Sim| {
        sim.pods().into_iter().find_map(|p| {
            let status = p.status?;
            let ready = status.container_statuses?.iter().all(|c| c.ready);
            (status.phase.as_deref() == Some("Running") && !ready).then_some(p.metadata.name?)
        })
    };
    let started = app
        .sim
        .wait_until(
            |sim| running_unready(sim).is_some(),
            Duration::from_secs(30),
        )
        .await;
    assert!(started, "the fourth pod never started running");
    running_unready(&app.sim).expect("a running pod that is not ready")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_answering_503_is_reported_once_with_its_answer() {
    let config = SimConfig {
        scenario: ScenarioState {
            scenario: Scenario::Healthy,
            ..ScenarioState::default()
        },
        speed: 50.0,
        pod_delays: PodDelays {
            // New pods run but never become ready while the test lasts.
            readiness: Duration::from_secs(30 * 24 * 3600),
            crash_after: Duration::from_secs(app::CRASH_AFTER_SECS as u64),
            ..PodDelays::default()
        },
        ..SimConfig::default()
    };
    let app = ChecksApp::spawn_sim(config, None).await;
    let pod = a_pod_that_answers_503(&app).await;
    let proxied = format!("/pods/{pod}:8000/proxy/health");
    let before = app
        .sim
        .requests()
        .iter()
        .filter(|r| r.path.contains(&proxied))
        .count();
    assert_eq!(before, 0);

    let replies = app.say("carol", "health --pods").await;
    let text = texts(&replies);
    let lines: Vec<_> = status_lines(&replies)
        .into_iter()
        .filter(|(label, _, _)| *label == format!("pod {pod}"))
        .collect();
    assert_eq!(lines.len(), 1, "the pod is named once: {text}");
    let (_, level, reason) = &lines[0];
    assert_eq!(*level, Level::Warn, "a pod that is starting warns: {text}");
    assert!(
        reason.contains("not ready (0/1)") && reason.contains("503 starting: warming up caches"),
        "its own answer, not a timeout: {reason}"
    );
    let asked: Vec<_> = app
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.path.contains(&proxied))
        .collect();
    assert_eq!(asked.len(), 1, "one request, no retries: {asked:?}");
    assert_eq!(asked[0].status, 503);
    let others = status_lines(&replies)
        .into_iter()
        .filter(|(label, level, _)| label.starts_with("pod ") && *level == Level::Ok)
        .count();
    assert_eq!(others, 3, "the serving pods answer healthy: {text}");
}
