//! When the API cannot be reached or does not answer: user-facing errors, never a hang or a panic.

use std::time::Duration;

use mystocks_commands::cluster::{self, ClusterError};
use mystocks_sim::{Role, SimConfig, SimToken};

use crate::support::World;

async fn client_at(w: &World, url: &str) -> kube::Client {
    let yaml = w.sim.kubeconfig_yaml().replace(&w.sim.api_url(), url);
    match cluster::client_from_kubeconfig_yaml(&yaml).await {
        Ok(c) => c,
        Err(e) => panic!("client: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_port_is_unreachable() {
    let w = World::start().await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("https://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let client = client_at(&w, &url).await;
    match cluster::pods(&client, &w.target, None).await {
        Err(e @ ClusterError::Unreachable { .. }) => {
            assert!(
                e.to_string()
                    .starts_with("the Kubernetes API is unreachable"),
                "{e}"
            );
            assert!(e.is_user_facing());
        }
        Err(other) => panic!("expected unreachable, got {other:?}"),
        Ok(rows) => panic!("pods from a closed port: {rows:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_times_out_after_10_s() {
    let w = World::start().await;
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("https://{}", silent.local_addr().expect("addr"));
    // Accepts connections and never says a word.
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let client = client_at(&w, &url).await;
    let outcome = tokio::time::timeout(
        Duration::from_secs(30),
        cluster::history(&client, &w.target),
    )
    .await;
    holder.abort();
    match outcome {
        Ok(Err(ClusterError::Timeout)) => {}
        Ok(Err(other)) => panic!("expected the 10 s timeout, got {other:?}"),
        Ok(Ok(revs)) => panic!("history from a silent server: {revs:?}"),
        Err(_) => panic!("the call hung past its own timeout"),
    }
    assert_eq!(
        ClusterError::Timeout.to_string(),
        "the Kubernetes API did not answer within 10 s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_token_reads_but_a_preview_is_forbidden() {
    let viewer = SimToken {
        name: "viewer".into(),
        token: "viewer-token".into(),
        roles: Some(vec![Role::allow(
            &["get", "list", "watch"],
            &["deployments", "replicasets", "pods"],
        )]),
    };
    let config = SimConfig {
        speed: crate::support::SPEED,
        tokens: vec![viewer],
        ..Default::default()
    };
    let w = World::with_config(config).await;
    assert_eq!(
        crate::support::ok(cluster::pods(&w.client, &w.target, None).await, "pods").len(),
        3
    );
    match cluster::plan_scale(&w.client, &w.target, 5, 1..=20).await {
        Err(e @ ClusterError::Forbidden { .. }) => {
            assert!(e.is_user_facing());
            assert!(
                e.to_string()
                    .starts_with("the bot is not allowed to do this in the cluster"),
                "{e}"
            );
        }
        Err(other) => panic!("expected forbidden, got {other:?}"),
        Ok(p) => panic!("a preview with a read-only token: {}", p.summary()),
    }
    let denied = w.sim.changing_requests();
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert_eq!(
        (denied[0].status, denied[0].token_name.as_deref()),
        (403, Some("viewer"))
    );
    assert_eq!(w.sim.deployment().spec.replicas, Some(3));
}
