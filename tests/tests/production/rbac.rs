//! The rendered Role against the code: the sim enforces it for the bot's token (TestApp does so for every
//! end-to-end test), no call the code makes is outside it, and every permission it grants is used.

use std::sync::Arc;

use mystocks_commands::directory::{DirectoryConfig, PersonConfig};
use mystocks_sim::{RecordedRequest, Sim, SimToken};
use mystocks_tests::rbac::{self, ApiCall, BOT_USER};
use mystocks_tests::{AppOptions, TestApp, approval_id, texts};

use crate::support::sim_for;

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

/// The demo people and a second admin (`audit reanchor` takes two).
fn people() -> DirectoryConfig {
    let mut people = DirectoryConfig::demo();
    people.persons.push(PersonConfig {
        id: "erin".into(),
        display: None,
        identities: vec!["console:erin".into()],
        roles: vec!["admin".into()],
        groups: Vec::new(),
    });
    people
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_stays_within_the_role_and_uses_all_of_it() {
    let app = TestApp::spawn(AppOptions {
        people: Some(people()),
        ..AppOptions::default()
    })
    .await;
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
    // The audit checkpoint (in the bot's own namespace): read by `audit verify`, written by `audit reanchor`.
    app.say("dave", "audit verify").await;
    app.say("dave", "audit reanchor").await;
    let reanchored = texts(&app.say("erin", "audit reanchor").await);
    assert!(reanchored.contains("re-anchored"), "{reanchored}");
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
    let (role, checkpoint) = (rbac::bot_role(), rbac::checkpoint_role());
    let denied: Vec<String> = rbac::denied_calls(&requests, BOT_USER, role)
        .into_iter()
        .filter(|d| rbac::denied_calls(&requests, BOT_USER, checkpoint).contains(d))
        .collect();
    assert!(
        denied.is_empty(),
        "calls outside both Roles (group, namespace or resourceNames): {denied:#?}"
    );
    let calls = bot_calls(&requests);
    let unused: Vec<String> = role
        .unused(&calls)
        .iter()
        .chain(checkpoint.unused(&calls).iter())
        .map(ToString::to_string)
        .collect();
    assert!(
        unused.is_empty(),
        "granted but never used by the code — remove from deploy/base/role.yaml or audit-checkpoint.yaml: \
         {unused:?}"
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
        roles: Some(vec![role.sim_role()]),
    };
    let sim = sim_for(token).await;
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

/// A sim whose only token is the bot's, bound to `role` (the rendered Role, possibly altered by the test).
async fn sim_with_role(role: &rbac::RenderedRole, token: &str) -> Arc<Sim> {
    mystocks_tests::init();
    let token = SimToken {
        name: BOT_USER.into(),
        token: token.into(),
        roles: Some(vec![role.sim_role()]),
    };
    let sim = sim_for(token).await;
    Arc::new(sim)
}

/// The status the sim answers `method path` with, asked with the bot's token (as the bot's kube client asks).
async fn status_of(sim: &Sim, token: &str, method: &str, path: &str, body: &str) -> u16 {
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&sim.kubeconfig_for(BOT_USER, token))
        .expect("kubeconfig parses");
    let config = kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .expect("kubeconfig usable");
    let client = kube::Client::try_from(config).expect("client");
    let request = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/merge-patch+json")
        .body(body.as_bytes().to_vec())
        .expect("request");
    match client.request_text(request).await {
        Ok(_) => 200,
        Err(kube::Error::Api(status)) => status.code,
        Err(other) => panic!("{method} {path}: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_server_enforces_resource_names_and_subresources_of_the_rendered_role() {
    let token = "bot-exact-rbac";
    let sim = sim_with_role(rbac::bot_role(), token).await;
    let ns = "/apis/apps/v1/namespaces/mystocks/deployments";
    let pods = "/api/v1/namespaces/mystocks/pods";
    let pod = sim
        .pods()
        .first()
        .and_then(|p| p.metadata.name.clone())
        .expect("a pod");
    let scale = r#"{"spec":{"replicas":3}}"#;
    let cases: Vec<(&str, String, &str, u16, &str)> = vec![
        (
            "GET",
            format!("{ns}/mystocks-api"),
            "",
            200,
            "the named deployment",
        ),
        (
            "GET",
            format!("{ns}/other"),
            "",
            403,
            "a deployment the Role does not name",
        ),
        (
            "PATCH",
            format!("{ns}/other"),
            "{}",
            403,
            "patch of another deployment",
        ),
        (
            "GET",
            ns.to_string(),
            "",
            403,
            "an unnamed list of deployments",
        ),
        (
            "GET",
            format!("{ns}?fieldSelector=metadata.name%3Dmystocks-api"),
            "",
            200,
            "a list pinned to the named deployment",
        ),
        (
            "PATCH",
            format!("{ns}/mystocks-api/scale"),
            scale,
            200,
            "the scale subresource",
        ),
        (
            "GET",
            format!("{ns}/mystocks-api/scale"),
            "",
            403,
            "get of scale is not granted",
        ),
        (
            "PATCH",
            format!("{ns}/other/scale"),
            scale,
            403,
            "scale of another deployment",
        ),
        (
            "PATCH",
            format!("{ns}/mystocks-api/status"),
            "{}",
            403,
            "deployments/status is not granted",
        ),
        ("GET", format!("{pods}/{pod}/log"), "", 200, "pods/log"),
        (
            "GET",
            format!("{pods}/{pod}:8000/proxy/health"),
            "",
            200,
            "pods/proxy get",
        ),
        (
            "POST",
            format!("{pods}/{pod}:8000/proxy/health"),
            "{}",
            403,
            "pods/proxy create",
        ),
        ("DELETE", format!("{pods}/{pod}"), "", 403, "pod deletion"),
        ("GET", format!("{pods}/{pod}/exec"), "", 403, "pods/exec"),
        (
            "GET",
            "/api/v1/pods".to_string(),
            "",
            403,
            "pods of every namespace",
        ),
        (
            "GET",
            "/api/v1/namespaces/kube-system/pods".to_string(),
            "",
            403,
            "another namespace",
        ),
        (
            "GET",
            "/apis/apps/v1/namespaces/mystocks/replicasets/x".to_string(),
            "",
            403,
            "replicasets get",
        ),
    ];
    let mut wrong = Vec::new();
    for (method, path, body, want, what) in &cases {
        let got = status_of(&sim, token, method, path, body).await;
        let refused = got == 403;
        if refused != (*want == 403) {
            wrong.push(format!("{what}: {method} {path} → {got}, want {want}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_naming_another_deployment_refuses_the_bots_change() {
    let mut role = rbac::bot_role().clone();
    for rule in &mut role.rules {
        if rule.resources.iter().any(|r| r == "deployments/scale") {
            rule.resource_names = vec!["another-app".into()];
        }
    }
    let sim = sim_with_role(&role, "bot-other-deployment").await;
    let app = TestApp::spawn_on(sim, AppOptions::default()).await;
    let replies = app.say("alice", "scale 5").await;
    let refused: Vec<_> = app
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.status == 403)
        .collect();
    assert!(
        refused
            .iter()
            .any(|r| r.method == "PATCH" && r.path.contains("/deployments/mystocks-api/scale")),
        "the scale patch was refused: {refused:?}"
    );
    assert!(
        approval_id(&replies).is_none(),
        "no request for a change the bot may not make: {}",
        texts(&replies)
    );
    let text = texts(&replies).to_lowercase();
    assert!(text.contains("not allowed"), "{text}");
    assert_eq!(app.sim.deployment().spec.replicas, Some(3));
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
