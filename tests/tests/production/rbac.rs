//! The rendered Role against the code: the sim enforces it for the bot's token (TestApp does so for every
//! end-to-end test), no call the code makes is outside it, and every permission it grants is used.

use std::sync::Arc;

use mystocks_sim::{RecordedRequest, Sim, SimConfig, SimToken};
use mystocks_tests::rbac::{self, ApiCall, BOT_USER};
use mystocks_tests::{AppOptions, TestApp, approval_id, texts};

/// Every command that touches the cluster, read-only and destructive (approved by bob).
const READS: &[&str] = &[
    "pods",
    "top",
    "logs",
    "errors",
    "5xx",
    "history",
    "status",
    "health",
    "health --pods",
    "metrics",
    "checklist",
];
const CHANGES: &[&str] = &["scale 4", "restart", "deploy v1.0.2", "rollback"];

fn bot_calls(requests: &[RecordedRequest]) -> Vec<ApiCall> {
    requests
        .iter()
        .filter(|r| r.token_name.as_deref() == Some(BOT_USER))
        .filter_map(ApiCall::from_request)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_stays_within_the_role_and_uses_all_of_it() {
    let app = TestApp::spawn(AppOptions::default()).await;
    for read in READS {
        app.say("alice", read).await;
    }
    let pod = app
        .sim
        .pods()
        .first()
        .and_then(|p| p.metadata.name.clone())
        .expect("a pod");
    app.say("alice", &format!("logs {pod}")).await;
    for change in CHANGES {
        let requested = app.say("alice", change).await;
        let id = approval_id(&requested)
            .unwrap_or_else(|| panic!("{change}: no request: {}", texts(&requested)));
        let done = app.say("bob", &format!("approve {id}")).await;
        let finished = done
            .iter()
            .filter_map(|r| r.reply.approval.as_ref())
            .any(|a| matches!(a.state.as_str(), "done" | "failed"));
        assert!(finished, "{change}: {}", texts(&done));
    }
    let requests = app.sim.requests();
    let others: Vec<_> = requests
        .iter()
        .filter(|r| r.token_name.as_deref() != Some(BOT_USER))
        .collect();
    assert!(
        others.is_empty(),
        "the core used only the bot's token: {others:?}"
    );
    let forbidden: Vec<_> = requests
        .iter()
        .filter(|r| r.status == 403)
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        forbidden.is_empty(),
        "the sim refused calls the Role does not grant: {forbidden:?}"
    );
    let role = rbac::bot_role();
    let denied = rbac::denied_calls(&requests, BOT_USER, role);
    assert!(
        denied.is_empty(),
        "calls outside the Role (group, namespace or resourceNames): {denied:#?}"
    );
    let unused = role.unused(&bot_calls(&requests));
    let unused: Vec<String> = unused.iter().map(ToString::to_string).collect();
    assert!(
        unused.is_empty(),
        "granted but never used by the code — remove from deploy/base/role.yaml: {unused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_the_role_does_not_grant_is_refused_by_the_api_server() {
    let mut role = rbac::bot_role().clone();
    role.rules
        .retain(|r| !r.resources.iter().any(|res| res == "pods/log"));
    let token = SimToken {
        name: BOT_USER.into(),
        token: "bot-without-logs".into(),
        role: Some(role.sim_role()),
    };
    let sim = Sim::start(SimConfig {
        tokens: vec![token],
        speed: 50.0,
        ..SimConfig::default()
    })
    .await
    .expect("sim");
    let app = TestApp::spawn_on(Arc::new(sim), AppOptions::default()).await;
    let replies = app.say("alice", "logs").await;
    let refused: Vec<_> = app
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.status == 403)
        .collect();
    assert!(
        refused.iter().any(|r| r.path.contains("/log")),
        "the log read was refused: {refused:?}"
    );
    let text = texts(&replies).to_lowercase();
    assert!(
        text.contains("forbidden") || text.contains("not allowed") || text.contains("permission"),
        "{text}"
    );
}

fn recorded(method: &str, path: &str) -> RecordedRequest {
    RecordedRequest {
        method: method.into(),
        path: path.into(),
        patch_type: None,
        token_name: Some(BOT_USER.into()),
        kubectl_command: None,
        status: 200,
    }
}

#[test]
fn requests_are_read_as_rbac_reads_them() {
    let role = rbac::bot_role();
    let call =
        |m: &str, p: &str| ApiCall::from_request(&recorded(m, p)).expect("a resource request");
    let watch = call(
        "GET",
        "/apis/apps/v1/namespaces/mystocks/deployments?fieldSelector=metadata.name%3Dmystocks-api&watch=true",
    );
    assert_eq!(watch.verb, "watch");
    assert!(role.allows(&call(
        "GET",
        "/apis/apps/v1/namespaces/mystocks/deployments?fieldSelector=metadata.name=mystocks-api&watch=1"
    )));
    assert!(
        !role.allows(&call(
            "GET",
            "/apis/apps/v1/namespaces/mystocks/deployments"
        )),
        "an unnamed list is not granted"
    );
    assert!(
        !role.allows(&call(
            "PATCH",
            "/apis/apps/v1/namespaces/mystocks/deployments/other"
        )),
        "another deployment"
    );
    assert!(
        !role.allows(&call(
            "PATCH",
            "/apis/apps/v1/namespaces/mystocks-bot/deployments/mystocks-api"
        )),
        "another namespace"
    );
    assert!(role.allows(&call(
        "PATCH",
        "/apis/apps/v1/namespaces/mystocks/deployments/mystocks-api/scale"
    )));
    assert!(role.allows(&call(
        "GET",
        "/api/v1/namespaces/mystocks/pods/p-1:8000/proxy/health"
    )));
    assert!(
        !role.allows(&call("DELETE", "/api/v1/namespaces/mystocks/pods/p-1")),
        "no pod deletion"
    );
    assert!(
        !role.allows(&call("GET", "/apis/apps/v1/namespaces/mystocks/pods")),
        "pods are in the core group"
    );
    assert_eq!(ApiCall::from_request(&recorded("GET", "/version")), None);
}
