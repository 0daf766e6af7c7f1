//! The control endpoint: read, switch and reject scenarios.

use mystocks_sim::app;
use mystocks_sim::world::{ClusterView, Scenario, ScenarioState};

use super::fake::{FakeCluster, get, json, serve};

#[tokio::test]
async fn control_endpoint_switches_and_rejects() {
    let view = FakeCluster::three("ctl", Scenario::Healthy);
    let addr = serve(app::control_router(view.clone())).await;
    let client = reqwest::Client::new();
    let (status, body, _) = get(addr, "/scenario").await;
    assert_eq!(
        (status, json(&body)),
        (
            200,
            serde_json::json!({"scenario":"healthy","bad_tag":"v1.0.2"})
        )
    );
    assert!(get(addr, "/").await.1.contains("PUT  /scenario"));
    let put = client
        .put(format!("http://{addr}/scenario"))
        .body(r#"{"scenario":"bad-release","bad_tag":"v9"}"#);
    assert_eq!(put.send().await.expect("put").status().as_u16(), 200);
    assert_eq!(
        view.scenario(),
        ScenarioState {
            scenario: Scenario::BadRelease,
            bad_tag: "v9".into()
        }
    );
    let post = client
        .post(format!("http://{addr}/scenario/redis-down"))
        .send()
        .await
        .expect("post");
    assert_eq!(post.status().as_u16(), 200);
    assert_eq!(view.scenario().scenario, Scenario::RedisDown);
    assert_eq!(view.scenario().bad_tag, "v9", "kept when not given");
    let unknown = client
        .post(format!("http://{addr}/scenario/meltdown"))
        .send()
        .await
        .expect("post");
    assert_eq!(unknown.status().as_u16(), 400);
    let body = json(&unknown.text().await.expect("body"));
    assert!(
        body["error"]
            .as_str()
            .unwrap_or("")
            .contains("unknown scenario `meltdown`")
    );
    assert_eq!(body["known"].as_array().map(Vec::len), Some(6));
    let malformed = client
        .put(format!("http://{addr}/scenario"))
        .body("{nope")
        .send()
        .await
        .expect("put");
    assert_eq!(malformed.status().as_u16(), 400);
    assert_eq!(
        view.scenario().scenario,
        Scenario::RedisDown,
        "rejected requests change nothing"
    );
}
