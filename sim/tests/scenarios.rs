//! Scenario tests: a bad release leads to a stuck rollout (ProgressDeadlineExceeded, on the sim clock) or an
//! outage, and `kubectl rollout undo` brings everything back to healthy; high CPU falls per pod when scaled.

mod common;

use std::time::Duration;

use common::{Harness, pod_images};
use mystocks_sim::SimConfig;
use mystocks_sim::world::{Scenario, ScenarioState};

const NS: &[&str] = &["-n", "mystocks"];

fn args<'a>(cmd: &[&'a str]) -> Vec<&'a str> {
    cmd.iter().chain(NS).copied().collect()
}

fn scenario(s: Scenario) -> ScenarioState {
    ScenarioState {
        scenario: s,
        ..Default::default()
    }
}

async fn get(url: &str) -> (u16, String) {
    let resp = reqwest::get(url).await.expect("app answers");
    let code = resp.status().as_u16();
    (code, resp.text().await.unwrap_or_default())
}

fn progressing_reason(h: &Harness) -> Option<String> {
    let st = h.sim.deployment().status?;
    st.conditions?
        .into_iter()
        .find(|c| c.type_.as_deref() == Some("Progressing"))?
        .reason
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_release_gets_stuck_past_its_deadline_and_undo_recovers() {
    // 600 simulated seconds of deadline pass in about 3 real seconds.
    let h = Harness::with(SimConfig {
        speed: 200.0,
        scenario: scenario(Scenario::BadRelease),
        ..Default::default()
    })
    .await;
    h.ok(&args(&[
        "set",
        "image",
        "deployment/mystocks-api",
        "mystocks-api=mystocks/api:v1.0.2",
    ]))
    .await;
    let status = h
        .kubectl(&args(&["rollout", "status", "deployment/mystocks-api"]))
        .await;
    assert_ne!(status.code, 0, "{status:?}");
    assert!(
        status.stderr.contains("exceeded its progress deadline"),
        "{status:?}"
    );
    assert_eq!(
        progressing_reason(&h).as_deref(),
        Some("ProgressDeadlineExceeded")
    );

    // The new pod crash-loops; the old ones still serve (maxUnavailable rounds down to 0).
    let pods = h.ok(&args(&["get", "pods"])).await;
    let crashing: Vec<&str> = pods
        .lines()
        .filter(|l| l.contains("CrashLoopBackOff") || l.contains("Error"))
        .collect();
    assert_eq!(crashing.len(), 1, "{pods}");
    let restarts: u32 = crashing[0]
        .split_whitespace()
        .nth(3)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    assert!(restarts >= 1, "restarts count up: {pods}");
    assert_eq!(
        pods.lines()
            .filter(|l| l.contains("1/1") && l.contains("Running"))
            .count(),
        3,
        "{pods}"
    );
    let bad_pod = crashing[0]
        .split_whitespace()
        .next()
        .expect("name")
        .to_string();
    let proxied = h
        .kubectl(&args(&[
            "get",
            "--raw",
            &format!("/api/v1/namespaces/mystocks/pods/{bad_pod}:8000/proxy/health"),
        ]))
        .await;
    assert_ne!(
        proxied.code, 0,
        "the crashing pod's own /health fails: {proxied:?}"
    );
    let logs = h.ok(&args(&["logs", &bad_pod, "--tail=50"])).await;
    assert!(
        logs.contains("ERROR") || logs.contains("CRITICAL"),
        "{logs}"
    );

    let undo = h
        .ok(&args(&["rollout", "undo", "deployment/mystocks-api"]))
        .await;
    assert!(undo.contains("rolled back"), "{undo}");
    let status = h
        .ok(&args(&["rollout", "status", "deployment/mystocks-api"]))
        .await;
    assert!(status.contains("successfully rolled out"), "{status}");
    h.wait_rolled_out(3).await;
    assert_eq!(
        progressing_reason(&h).as_deref(),
        Some("NewReplicaSetAvailable")
    );
    assert!(
        pod_images(&h.sim)
            .iter()
            .all(|i| i == "mystocks/api:v1.0.1")
    );
    let (code, body) = get(&format!("{}/health", h.sim.app_url())).await;
    assert_eq!(code, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_that_turns_bad_takes_the_app_down_until_undo() {
    let h = Harness::start(100.0).await;
    h.ok(&args(&[
        "set",
        "image",
        "deployment/mystocks-api",
        "mystocks-api=mystocks/api:v1.0.2",
    ]))
    .await;
    h.ok(&args(&["rollout", "status", "deployment/mystocks-api"]))
        .await;
    h.wait_rolled_out(3).await;
    assert_eq!(get(&format!("{}/health", h.sim.app_url())).await.0, 200);

    // The release's fault shows up: every pod of v1.0.2 crashes.
    h.sim.set_scenario(scenario(Scenario::BadRelease));
    let down = h
        .sim
        .wait_until(
            |sim| sim.deployment().status.and_then(|s| s.available_replicas) == Some(0),
            Duration::from_secs(30),
        )
        .await;
    assert!(down, "{:?}", h.sim.deployment().status);
    let (code, body) = get(&format!("{}/health", h.sim.app_url())).await;
    assert!(code >= 500, "the app is down: {code} {body}");

    h.ok(&args(&["rollout", "undo", "deployment/mystocks-api"]))
        .await;
    h.ok(&args(&["rollout", "status", "deployment/mystocks-api"]))
        .await;
    h.wait_rolled_out(3).await;
    assert!(
        pod_images(&h.sim)
            .iter()
            .all(|i| i == "mystocks/api:v1.0.1")
    );
    let (code, body) = get(&format!("{}/health", h.sim.app_url())).await;
    assert_eq!(code, 200, "{body}");
}

fn average_cpu_millis(top: &str) -> u32 {
    let cpus: Vec<u32> = top
        .lines()
        .skip(1)
        .filter_map(|l| {
            l.split_whitespace()
                .nth(1)?
                .trim_end_matches('m')
                .parse()
                .ok()
        })
        .collect();
    assert!(!cpus.is_empty(), "{top}");
    cpus.iter().sum::<u32>() / cpus.len() as u32
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn high_cpu_runbook_scaling_lowers_cpu_per_pod() {
    let h = Harness::with(SimConfig {
        speed: 50.0,
        scenario: scenario(Scenario::HighCpu),
        ..Default::default()
    })
    .await;
    let before = average_cpu_millis(&h.ok(&args(&["top", "pods"])).await);
    h.ok(&args(&[
        "scale",
        "deployment/mystocks-api",
        "--replicas=10",
    ]))
    .await;
    h.wait_rolled_out(10).await;
    let top = h.ok(&args(&["top", "pods"])).await;
    assert_eq!(top.lines().count(), 11, "{top}");
    let after = average_cpu_millis(&top);
    assert!(
        after * 2 < before,
        "per-pod CPU falls when replicas are added: {before}m → {after}m"
    );
}
