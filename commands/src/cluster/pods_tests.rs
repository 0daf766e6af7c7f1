//! Unit tests of kubectl's pod columns, on hand-built pods.

use chrono::TimeZone;
use serde_json::json;

use super::*;

fn pod(value: serde_json::Value) -> Pod {
    serde_json::from_value(value).expect("pod json")
}

fn base(statuses: serde_json::Value) -> serde_json::Value {
    json!({
        "metadata": {"name": "mystocks-api-abc", "creationTimestamp": "2026-11-28T14:00:00Z"},
        "spec": {"containers": [{"name": "mystocks-api", "image": "mystocks/api:v1.0.1"}]},
        "status": {"phase": "Running", "containerStatuses": statuses,
                   "conditions": [{"type": "Ready", "status": "True"}]}
    })
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 14, 5, 12)
        .single()
        .expect("time")
}

#[test]
fn running_and_ready() {
    let p = pod(base(
        json!([{"name": "mystocks-api", "ready": true, "restartCount": 0, "image": "x", "imageID": "",
        "state": {"running": {"startedAt": "2026-11-28T14:00:02Z"}}}]),
    ));
    let row = pod_row(&p, "mystocks-api", now());
    assert_eq!(row.status, "Running");
    assert_eq!(row.ready_column(), "1/1");
    assert_eq!(row.restarts_column(now()), "0");
    assert_eq!(row.age, "5m12s");
    assert_eq!(row.image, "mystocks/api:v1.0.1");
}

#[test]
fn crash_loop_counts_restarts_and_shows_the_waiting_reason() {
    let p = pod(base(
        json!([{"name": "mystocks-api", "ready": false, "restartCount": 4, "image": "x", "imageID": "",
        "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container"}},
        "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2026-11-28T14:03:12Z"}}}]),
    ));
    let row = pod_row(&p, "mystocks-api", now());
    assert_eq!(row.status, "CrashLoopBackOff");
    assert_eq!(row.ready_column(), "0/1");
    assert_eq!(row.restarts_column(now()), "4 (2m ago)");
    assert_eq!(
        row.message.as_deref(),
        Some("back-off 40s restarting failed container")
    );
}

#[test]
fn waiting_reasons_terminated_and_deleting() {
    let waiting = |reason: &str| {
        let mut v = base(
            json!([{"name": "mystocks-api", "ready": false, "restartCount": 0, "image": "x",
            "imageID": "", "state": {"waiting": {"reason": reason}}}]),
        );
        v["status"]["phase"] = json!("Pending");
        pod(v)
    };
    assert_eq!(
        pod_status(&waiting("ContainerCreating")),
        "ContainerCreating"
    );
    assert_eq!(pod_status(&waiting("ImagePullBackOff")), "ImagePullBackOff");
    let mut no_status = base(json!([]));
    no_status["status"]["phase"] = json!("Pending");
    assert_eq!(pod_status(&pod(no_status)), "Pending");

    let term = |t: serde_json::Value| {
        pod(base(
            json!([{"name": "c", "ready": false, "restartCount": 0, "image": "x", "imageID": "",
            "state": {"terminated": t}}]),
        ))
    };
    assert_eq!(
        pod_status(&term(json!({"exitCode": 137, "reason": "OOMKilled"}))),
        "OOMKilled"
    );
    assert_eq!(pod_status(&term(json!({"exitCode": 2}))), "ExitCode:2");
    assert_eq!(
        pod_status(&term(json!({"exitCode": 0, "signal": 9}))),
        "Signal:9"
    );

    let mut deleting = base(
        json!([{"name": "c", "ready": true, "restartCount": 0, "image": "x", "imageID": "",
        "state": {"running": {}}}]),
    );
    deleting["metadata"]["deletionTimestamp"] = json!("2026-11-28T14:05:00Z");
    assert_eq!(pod_status(&pod(deleting)), "Terminating");
}

#[test]
fn init_containers() {
    let mut v = base(json!([]));
    v["spec"]["initContainers"] = json!([{"name": "migrate"}, {"name": "warm"}]);
    v["status"]["phase"] = json!("Pending");
    v["status"]["initContainerStatuses"] = json!([
        {"name": "migrate", "ready": true, "restartCount": 0, "image": "x", "imageID": "",
         "state": {"terminated": {"exitCode": 0}}},
        {"name": "warm", "ready": false, "restartCount": 0, "image": "x", "imageID": "",
         "state": {"running": {}}}]);
    assert_eq!(pod_status(&pod(v.clone())), "Init:1/2");
    v["status"]["initContainerStatuses"][1]["state"] =
        json!({"waiting": {"reason": "CrashLoopBackOff"}});
    assert_eq!(pod_status(&pod(v)), "Init:CrashLoopBackOff");
}

#[test]
fn empty_pod_does_not_panic() {
    let row = pod_row(&Pod::default(), "mystocks-api", now());
    assert_eq!(row.status, "");
    assert_eq!(row.ready_column(), "0/0");
    assert_eq!(row.age, "<unknown>");
}
