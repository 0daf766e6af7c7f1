//! Bad input: malformed JSON, unknown paths and kinds, invalid and unsupported patches, bad selectors, stale and
//! too-old resourceVersions, missing or wrong tokens — each gets the right Status, never a panic, and the state
//! stays as it was.

mod common;

use common::Harness;
use serde_json::{Value, json};

const DEPLOY: &str = "/apis/apps/v1/namespaces/mystocks/deployments/mystocks-api";

struct Raw {
    h: Harness,
    http: reqwest::Client,
}

impl Raw {
    async fn start() -> Raw {
        let h = Harness::start(50.0).await;
        let ca = reqwest::Certificate::from_pem(h.sim.ca_pem().as_bytes()).expect("CA parses");
        let http = reqwest::Client::builder()
            .add_root_certificate(ca)
            .build()
            .expect("client");
        Raw { h, http }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &str,
        token: Option<&str>,
    ) -> (u16, Value, String) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.h.sim.api_url()));
        if !content_type.is_empty() {
            req = req.header("content-type", content_type);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req
            .body(body.to_string())
            .send()
            .await
            .expect("server answers");
        let code = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (
            code,
            serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        )
    }

    async fn req(&self, method: &str, path: &str, content_type: &str, body: &str) -> (u16, Value) {
        let token = self.h.sim.token();
        let (code, v, _) = self
            .call(method, path, content_type, body, Some(&token))
            .await;
        (code, v)
    }

    fn rv(&self) -> String {
        self.h
            .sim
            .deployment()
            .metadata
            .resource_version
            .unwrap_or_default()
    }
}

fn assert_status(got: &(u16, Value), code: u16, reason: &str) {
    let (c, v) = got;
    assert_eq!(*c, code, "{v}");
    assert_eq!(v["kind"], "Status", "{v}");
    assert_eq!(v["status"], "Failure", "{v}");
    assert_eq!(v["code"], code, "{v}");
    assert_eq!(v["reason"], reason, "{v}");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_invalid_writes_are_refused_and_change_nothing() {
    let r = Raw::start().await;
    let rv = r.rv();
    let merge = "application/merge-patch+json";
    let smp = "application/strategic-merge-patch+json";
    assert_status(
        &r.req("PATCH", DEPLOY, merge, "{not json").await,
        400,
        "BadRequest",
    );
    assert_status(
        &r.req("PATCH", DEPLOY, merge, "[1,2]").await,
        400,
        "BadRequest",
    );
    assert_status(
        &r.req("PUT", DEPLOY, "application/json", "{\"spec\":").await,
        400,
        "BadRequest",
    );
    assert_status(
        &r.req(
            "PATCH",
            DEPLOY,
            "application/json-patch+json",
            "{\"op\":\"replace\"}",
        )
        .await,
        400,
        "BadRequest",
    );
    let missing = r#"[{"op":"replace","path":"/spec/nope/deeper","value":1}]"#;
    assert_status(
        &r.req("PATCH", DEPLOY, "application/json-patch+json", missing)
            .await,
        422,
        "Invalid",
    );
    assert_status(
        &r.req("PATCH", DEPLOY, merge, r#"{"spec":{"replicas":-1}}"#)
            .await,
        422,
        "Invalid",
    );
    assert_status(
        &r.req("PATCH", DEPLOY, merge, r#"{"spec":{"replicas":"three"}}"#)
            .await,
        422,
        "Invalid",
    );
    assert_status(
        &r.req(
            "PATCH",
            DEPLOY,
            merge,
            r#"{"spec":{"selector":{"matchLabels":{"app":"x"}}}}"#,
        )
        .await,
        422,
        "Invalid",
    );
    assert_status(
        &r.req(
            "PATCH",
            DEPLOY,
            merge,
            r#"{"spec":{"template":{"spec":{"containers":[]}}}}"#,
        )
        .await,
        422,
        "Invalid",
    );
    let no_image =
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"mystocks-api","image":""}]}}}}"#;
    assert_status(&r.req("PATCH", DEPLOY, smp, no_image).await, 422, "Invalid");
    assert_status(
        &r.req(
            "PATCH",
            &format!("{DEPLOY}/scale"),
            merge,
            r#"{"spec":{"replicas":-5}}"#,
        )
        .await,
        422,
        "Invalid",
    );
    assert_status(
        &r.req("PATCH", DEPLOY, "application/apply-patch+yaml", "{}")
            .await,
        415,
        "UnsupportedMediaType",
    );
    assert_status(
        &r.req("PATCH", DEPLOY, "text/plain", "{}").await,
        415,
        "UnsupportedMediaType",
    );
    assert_status(
        &r.req("PATCH", &format!("{DEPLOY}?dryRun=Some"), merge, "{}")
            .await,
        400,
        "BadRequest",
    );
    let renamed = r#"{"metadata":{"name":"other"}}"#;
    assert_status(
        &r.req("PATCH", DEPLOY, merge, renamed).await,
        400,
        "BadRequest",
    );
    assert_eq!(r.rv(), rv, "no refused write changed the deployment");
    assert_eq!(r.h.sim.deployment().spec.replicas, Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_kinds_and_objects_are_404() {
    let r = Raw::start().await;
    assert_status(
        &r.req("GET", "/apis/nope.example.com/v1/things", "", "")
            .await,
        404,
        "NotFound",
    );
    assert_status(
        &r.req("GET", "/api/v1/namespaces/mystocks/widgets", "", "")
            .await,
        404,
        "NotFound",
    );
    assert_status(&r.req("GET", "/api/v2/pods", "", "").await, 404, "NotFound");
    assert_status(
        &r.req("GET", "/totally/else", "", "").await,
        404,
        "NotFound",
    );
    let missing = r
        .req(
            "GET",
            "/apis/apps/v1/namespaces/mystocks/deployments/nope",
            "",
            "",
        )
        .await;
    assert_status(&missing, 404, "NotFound");
    assert_eq!(missing.1["message"], "deployments.apps \"nope\" not found");
    assert_eq!(missing.1["details"]["name"], "nope");
    assert_status(
        &r.req(
            "PATCH",
            "/apis/apps/v1/namespaces/mystocks/deployments/nope",
            "application/merge-patch+json",
            "{}",
        )
        .await,
        404,
        "NotFound",
    );
    assert_status(
        &r.req("DELETE", "/api/v1/namespaces/mystocks/pods/nope", "", "")
            .await,
        404,
        "NotFound",
    );
    assert_status(
        &r.req("GET", "/api/v1/namespaces/mystocks/pods/nope/log", "", "")
            .await,
        404,
        "NotFound",
    );
    assert_status(
        &r.req(
            "GET",
            "/api/v1/namespaces/mystocks/pods/nope:8000/proxy/health",
            "",
            "",
        )
        .await,
        404,
        "NotFound",
    );
    assert_status(
        &r.req(
            "POST",
            "/apis/apps/v1/namespaces/mystocks/deployments",
            "application/json",
            "{}",
        )
        .await,
        405,
        "MethodNotAllowed",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_selectors_and_parameters_are_400() {
    let r = Raw::start().await;
    let pods = "/api/v1/namespaces/mystocks/pods";
    for q in [
        "labelSelector=app%20in%20(",
        "labelSelector=%3Dx",
        "labelSelector=a%20b%3Dc",
        "fieldSelector=spec.foo%3D1",
        "fieldSelector=nonsense",
        "limit=-1",
        "continue=garbage",
    ] {
        assert_status(
            &r.req("GET", &format!("{pods}?{q}"), "", "").await,
            400,
            "BadRequest",
        );
    }
    assert_status(
        &r.req(
            "GET",
            &format!("{pods}?watch=true&resourceVersion=abc"),
            "",
            "",
        )
        .await,
        400,
        "BadRequest",
    );
    let pod = common::pod_names(&r.h.sim).remove(0);
    assert_status(
        &r.req("GET", &format!("{pods}/{pod}/log?tailLines=lots"), "", "")
            .await,
        400,
        "BadRequest",
    );
    assert_status(
        &r.req("GET", &format!("{pods}/{pod}/log?container=nope"), "", "")
            .await,
        400,
        "BadRequest",
    );
    assert_status(
        &r.req("GET", &format!("{pods}/{pod}/log?previous=true"), "", "")
            .await,
        400,
        "BadRequest",
    );
    // A good selector still works after all that.
    let (code, list) = r
        .req(
            "GET",
            &format!("{pods}?labelSelector=app%3Dmystocks-api"),
            "",
            "",
        )
        .await;
    assert_eq!(
        (code, list["items"].as_array().map(Vec::len)),
        (200, Some(3))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_and_too_old_resource_versions() {
    let r = Raw::start().await;
    let (_, d) = r.req("GET", DEPLOY, "", "").await;
    let merge = "application/merge-patch+json";
    assert_eq!(
        r.req(
            "PATCH",
            DEPLOY,
            merge,
            r#"{"metadata":{"labels":{"touched":"yes"}}}"#
        )
        .await
        .0,
        200
    );
    let mut stale = d.clone();
    stale["spec"]["replicas"] = json!(7);
    let conflict = r
        .req("PUT", DEPLOY, "application/json", &stale.to_string())
        .await;
    assert_status(&conflict, 409, "Conflict");
    assert!(
        conflict.1["message"]
            .as_str()
            .is_some_and(|m| m.contains("the object has been modified"))
    );
    assert_eq!(r.h.sim.deployment().spec.replicas, Some(3));

    // The history before start is gone: a watch from it gets a 410 Expired event.
    let (code, _, text) = r.call("GET", "/apis/apps/v1/namespaces/mystocks/deployments?watch=true&resourceVersion=1&timeoutSeconds=5", "", "", Some(&r.h.sim.token())).await;
    assert_eq!(code, 200);
    let first: Value =
        serde_json::from_str(text.lines().next().expect("one event")).expect("json event");
    assert_eq!(first["type"], "ERROR");
    assert_eq!(first["object"]["code"], 410);
    assert_eq!(first["object"]["reason"], "Expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_wrong_tokens_are_401_and_recorded() {
    let r = Raw::start().await;
    for token in [None, Some("wrong"), Some("")] {
        let (code, v, _) = r
            .call("GET", "/api/v1/namespaces/mystocks/pods", "", "", token)
            .await;
        assert_status(&(code, v), 401, "Unauthorized");
    }
    let (code, v, _) = r
        .call(
            "PATCH",
            &format!("{DEPLOY}/scale"),
            "application/merge-patch+json",
            r#"{"spec":{"replicas":9}}"#,
            Some("wrong"),
        )
        .await;
    assert_status(&(code, v), 401, "Unauthorized");
    assert_eq!(r.h.sim.deployment().spec.replicas, Some(3));
    let refused = r.h.sim.changing_requests();
    assert_eq!(refused.len(), 1);
    assert_eq!(
        (refused[0].status, refused[0].token_name.clone()),
        (401, None)
    );
    // /version is public, like on a real cluster (kubectl's dispatcher asks before authenticating).
    let (code, v, _) = r.call("GET", "/version", "", "", None).await;
    assert_eq!((code, v["minor"].as_str()), (200, Some("32")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_mode_serves_the_same_api() {
    let config = mystocks_sim::SimConfig {
        tls: false,
        ..Default::default()
    };
    let h = Harness::with(config).await;
    assert!(h.sim.api_url().starts_with("http://"));
    assert!(
        !h.sim
            .kubeconfig_yaml()
            .contains("certificate-authority-data")
    );
    let http = reqwest::Client::new();
    let url = format!(
        "{}/apis/apps/v1/namespaces/mystocks/deployments/mystocks-api",
        h.sim.api_url()
    );
    let resp = http
        .get(&url)
        .bearer_auth(h.sim.token())
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status().as_u16(), 200);
    let d: Value = resp.json().await.expect("json");
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "2"
    );
    assert_eq!(
        http.get(&url)
            .send()
            .await
            .expect("answer")
            .status()
            .as_u16(),
        401
    );
}
