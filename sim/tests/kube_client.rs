//! The same operations through kube-rs (the client the bot uses): watch, each patch type, the scale
//! subresource, log streams, pod proxy, 409 on a stale resourceVersion, dryRun=All, RBAC-bound tokens.

mod common;

use std::time::Duration;

use common::{Harness, annotation, pod_names};
use futures::{AsyncBufReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use mystocks_sim::{Role, SimConfig, SimToken};
use serde_json::json;

const NAME: &str = "mystocks-api";

async fn client_for(yaml: &str) -> kube::Client {
    let kc = Kubeconfig::from_yaml(yaml).expect("kubeconfig parses");
    let config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .expect("config");
    kube::Client::try_from(config).expect("client")
}

async fn setup() -> (Harness, kube::Client) {
    let h = Harness::start(50.0).await;
    let client = client_for(&h.sim.kubeconfig_yaml()).await;
    (h, client)
}

fn api_status(err: kube::Error) -> (u16, String) {
    match err {
        kube::Error::Api(s) => (s.code, s.reason.clone()),
        other => panic!("expected an API Status error, got {other:?}"),
    }
}

fn image(d: &Deployment) -> String {
    d.spec
        .template
        .spec
        .as_ref()
        .and_then(|s| s.containers[0].image.clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_delivers_the_scale_and_the_rollout_that_follows() {
    let (h, client) = setup().await;
    let api: Api<Deployment> = Api::namespaced(client, "mystocks");
    let rv = api
        .get(NAME)
        .await
        .expect("get")
        .metadata
        .resource_version
        .expect("rv");
    let wp = WatchParams::default()
        .fields("metadata.name=mystocks-api")
        .timeout(30);
    let mut stream = api.watch(&wp, &rv).await.expect("watch").boxed();
    api.patch_scale(
        NAME,
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 4}})),
    )
    .await
    .expect("scale");
    let mut saw_spec = false;
    let done = async {
        while let Some(ev) = stream.try_next().await.expect("watch event") {
            if let WatchEvent::Modified(d) = ev {
                saw_spec |= d.spec.replicas == Some(4);
                if d.status.as_ref().and_then(|s| s.available_replicas) == Some(4) {
                    return true;
                }
            }
        }
        false
    };
    let finished = tokio::time::timeout(Duration::from_secs(30), done)
        .await
        .expect("events arrive");
    assert!(
        finished && saw_spec,
        "the watch showed the new spec and then 4 available replicas"
    );
    assert_eq!(h.sim.deployment().spec.replicas, Some(4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_patch_type_changes_what_it_should() {
    let (h, client) = setup().await;
    let api: Api<Deployment> = Api::namespaced(client.clone(), "mystocks");

    // Strategic merge: containers merged by name, the port survives.
    let smp = json!({"spec": {"template": {"spec": {"containers": [{"name": NAME, "image": "mystocks/api:v1.0.3"}]}}}});
    let d = api
        .patch(NAME, &PatchParams::default(), &Patch::Strategic(smp))
        .await
        .expect("strategic");
    assert_eq!(image(&d), "mystocks/api:v1.0.3");
    let ports = d
        .spec
        .template
        .spec
        .as_ref()
        .and_then(|s| s.containers[0].ports.clone())
        .unwrap_or_default();
    assert_eq!(ports.first().map(|p| p.container_port), Some(8000));
    assert_eq!(d.metadata.generation, Some(3));

    // Merge patch on metadata.
    let d = api
        .patch(
            NAME,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"team": "markets"}}})),
        )
        .await
        .expect("merge");
    assert_eq!(
        d.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("team"))
            .map(String::as_str),
        Some("markets")
    );
    assert_eq!(
        d.metadata.generation,
        Some(3),
        "metadata changes do not bump generation"
    );

    // JSON patch, sent raw (kube's jsonpatch feature is off in this workspace).
    let body = json!([{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "mystocks/api:v1.0.4"}]);
    let req = http::Request::patch("/apis/apps/v1/namespaces/mystocks/deployments/mystocks-api")
        .header("content-type", "application/json-patch+json")
        .body(serde_json::to_vec(&body).expect("json"))
        .expect("request");
    let d: Deployment = client.request(req).await.expect("json patch");
    assert_eq!(image(&d), "mystocks/api:v1.0.4");
    assert_eq!(image(&h.sim.deployment()), "mystocks/api:v1.0.4");

    // Server-side apply is not served: 415, nothing changes.
    let apply = Patch::Apply(
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": NAME}}),
    );
    let err = api
        .patch(NAME, &PatchParams::apply("test"), &apply)
        .await
        .expect_err("apply refused");
    assert_eq!(api_status(err).0, 415);
    assert_eq!(image(&h.sim.deployment()), "mystocks/api:v1.0.4");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_subresource_get_patch_and_put() {
    let (h, client) = setup().await;
    let api: Api<Deployment> = Api::namespaced(client, "mystocks");
    let scale = api.get_scale(NAME).await.expect("get scale");
    assert_eq!(scale.spec.as_ref().and_then(|s| s.replicas), Some(3));
    assert_eq!(
        scale
            .status
            .as_ref()
            .and_then(|s| s.selector.clone())
            .as_deref(),
        Some("app=mystocks-api")
    );
    let mut wanted = scale.clone();
    wanted.spec.as_mut().expect("spec").replicas = Some(6);
    let put = api
        .replace_scale(NAME, &PostParams::default(), &wanted)
        .await
        .expect("put scale");
    assert_eq!(put.spec.and_then(|s| s.replicas), Some(6));
    h.wait_rolled_out(6).await;
    // The first Scale is stale now.
    let err = api
        .replace_scale(NAME, &PostParams::default(), &scale)
        .await
        .expect_err("stale scale");
    assert_eq!(api_status(err), (409, "Conflict".to_string()));
    assert_eq!(h.sim.deployment().spec.replicas, Some(6));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_and_log_stream() {
    let (h, client) = setup().await;
    let pods: Api<Pod> = Api::namespaced(client, "mystocks");
    let name = pod_names(&h.sim).remove(0);
    let lp = LogParams {
        container: Some(NAME.into()),
        tail_lines: Some(20),
        timestamps: true,
        ..Default::default()
    };
    let text = pods.logs(&name, &lp).await.expect("logs");
    assert_eq!(text.lines().count(), 20);
    assert!(text.lines().all(|l| {
        l.split_once(' ')
            .is_some_and(|(ts, _)| chrono::DateTime::parse_from_rfc3339(ts).is_ok())
    }));

    let follow = LogParams {
        follow: true,
        tail_lines: Some(1),
        ..Default::default()
    };
    let mut lines = pods
        .log_stream(&name, &follow)
        .await
        .expect("stream")
        .lines();
    let mut got = Vec::new();
    let read = async {
        while got.len() < 4 {
            match lines.try_next().await {
                Ok(Some(l)) => got.push(l),
                _ => break,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .expect("lines keep coming");
    assert_eq!(got.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_resource_version_is_a_conflict_and_changes_nothing() {
    let (h, client) = setup().await;
    let api: Api<Deployment> = Api::namespaced(client, "mystocks");
    let old = api.get(NAME).await.expect("get");
    api.patch(
        NAME,
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"x": "1"}}})),
    )
    .await
    .expect("patch");

    let mut stale = old.clone();
    stale.spec.replicas = Some(9);
    let err = api
        .replace(NAME, &PostParams::default(), &stale)
        .await
        .expect_err("stale PUT");
    assert_eq!(api_status(err), (409, "Conflict".to_string()));

    let rv = old.metadata.resource_version.clone().expect("rv");
    let precondition = json!({"metadata": {"resourceVersion": rv}, "spec": {"replicas": 9}});
    let err = api
        .patch(NAME, &PatchParams::default(), &Patch::Merge(precondition))
        .await
        .expect_err("stale PATCH");
    assert_eq!(api_status(err).0, 409);
    assert_eq!(h.sim.deployment().spec.replicas, Some(3));

    // With the current version it goes through.
    let fresh = api.get(NAME).await.expect("get");
    let mut wanted = fresh.clone();
    wanted.spec.replicas = Some(4);
    let put = api
        .replace(NAME, &PostParams::default(), &wanted)
        .await
        .expect("fresh PUT");
    assert_eq!(put.spec.replicas, Some(4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_all_changes_nothing() {
    let (h, client) = setup().await;
    let api: Api<Deployment> = Api::namespaced(client, "mystocks");
    let before = h.sim.deployment();
    let smp = json!({"spec": {"template": {"spec": {"containers": [{"name": NAME, "image": "mystocks/api:v9"}]}}}});
    let pp = PatchParams {
        dry_run: true,
        ..Default::default()
    };
    let preview = api
        .patch(NAME, &pp, &Patch::Strategic(smp))
        .await
        .expect("dry run");
    assert_eq!(
        image(&preview),
        "mystocks/api:v9",
        "the answer shows the result"
    );
    assert_eq!(preview.metadata.generation, Some(3));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let after = h.sim.deployment();
    assert_eq!(image(&after), "mystocks/api:v1.0.1");
    assert_eq!(
        after.metadata.resource_version,
        before.metadata.resource_version
    );
    assert_eq!(h.sim.replicasets().len(), 2, "no new ReplicaSet");
    assert!(h.sim.changing_requests()[0].path.contains("dryRun=All"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_pod_is_replaced_and_proxy_answers_as_the_pod() {
    let (h, client) = setup().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "mystocks");
    let before = pod_names(&h.sim);
    let victim = before[0].clone();

    let req = http::Request::get(format!(
        "/api/v1/namespaces/mystocks/pods/{victim}:8000/proxy/health"
    ))
    .body(Vec::new())
    .expect("request");
    let health: serde_json::Value = client.request(req).await.expect("proxy");
    assert_eq!(health["status"], "healthy");
    assert_eq!(health["pod"], victim.as_str());

    pods.delete(&victim, &Default::default())
        .await
        .expect("delete");
    let replaced = h
        .sim
        .wait_until(
            |sim| {
                let names = pod_names(sim);
                !names.contains(&victim)
                    && names.len() == 3
                    && sim.deployment().status.and_then(|s| s.available_replicas) == Some(3)
            },
            Duration::from_secs(30),
        )
        .await;
    assert!(
        replaced,
        "the ReplicaSet replaced the pod: {:?}",
        pod_names(&h.sim)
    );
    let rs = h.sim.replicasets();
    let active = rs
        .iter()
        .find(|r| r.spec.replicas == Some(3))
        .expect("active rs");
    assert_eq!(
        annotation(&active.metadata, "deployment.kubernetes.io/revision"),
        "2"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_bound_token_may_read_but_not_patch() {
    let reader = SimToken {
        name: "viewer".into(),
        token: "viewer-token".into(),
        roles: Some(vec![Role::allow(
            &["get", "list", "watch"],
            &["deployments", "pods"],
        )]),
    };
    let config = SimConfig {
        speed: 50.0,
        tokens: vec![SimToken::admin("admin", "admin-token"), reader],
        ..Default::default()
    };
    let h = Harness::with(config).await;
    let client = client_for(&h.sim.kubeconfig_for("viewer", "viewer-token")).await;
    let api: Api<Deployment> = Api::namespaced(client, "mystocks");
    api.get(NAME).await.expect("viewer may read");
    let err = api
        .patch_scale(
            NAME,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 5}})),
        )
        .await
        .expect_err("denied");
    let (code, reason) = api_status(err);
    assert_eq!((code, reason.as_str()), (403, "Forbidden"));
    let denied = h.sim.changing_requests();
    assert_eq!(denied.len(), 1);
    assert_eq!(
        (denied[0].status, denied[0].token_name.as_deref()),
        (403, Some("viewer"))
    );
    assert_eq!(h.sim.deployment().spec.replicas, Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_ends_when_its_client_hangs_up() {
    let (h, client) = setup().await;
    let api: Api<Pod> = Api::namespaced(client, "mystocks");
    let stream = api
        .watch(&WatchParams::default().timeout(300), "0")
        .await
        .expect("watch")
        .boxed();
    let mut stream = stream;
    let first = stream.try_next().await.expect("event");
    assert!(matches!(first, Some(WatchEvent::Added(_))));
    assert_eq!(h.sim.cluster().store().watchers(), 1);
    drop(stream);
    let closed = h
        .sim
        .wait_until(
            |sim| sim.cluster().store().watchers() == 0,
            Duration::from_secs(10),
        )
        .await;
    assert!(closed, "the server noticed the client hanging up");
}
