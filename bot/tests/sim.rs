//! `mystocks-bot sim` end to end: it prints the three URLs and a kubeconfig that a kube-rs client can use, and
//! stops cleanly on SIGTERM, removing its temporary kubeconfig.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};

#[tokio::test]
async fn sim_prints_a_working_kubeconfig_and_stops_on_sigterm() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mystocks-bot"))
        .args(["sim", "--speed", "20", "--scenario", "high-cpu"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("mystocks-bot sim starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let mut printed = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("stdout is text");
        let done = line.starts_with("kubeconfig: ");
        printed.push(line);
        if done {
            break;
        }
    }
    assert_eq!(printed.len(), 4, "{printed:?}");
    assert!(
        printed[0].starts_with("api: https://127.0.0.1:"),
        "{printed:?}"
    );
    assert!(
        printed[1].starts_with("app: http://127.0.0.1:"),
        "{printed:?}"
    );
    assert!(
        printed[2].starts_with("control: http://127.0.0.1:"),
        "{printed:?}"
    );
    let path = std::path::PathBuf::from(printed[3].trim_start_matches("kubeconfig: "));
    let yaml = std::fs::read_to_string(&path).expect("kubeconfig written");
    assert!(
        yaml.contains(printed[0].trim_start_matches("api: ")),
        "{yaml}"
    );

    let client = mystocks_commands::cluster::client::client_from_kubeconfig_yaml(&yaml)
        .await
        .expect("client from kubeconfig");
    let pods: Api<Pod> = Api::namespaced(client, "mystocks");
    let list = pods
        .list(&ListParams::default().labels("app=mystocks-api"))
        .await
        .expect("pods listed");
    assert_eq!(list.items.len(), 3, "the seeded deployment runs 3 pods");

    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(term.success());
    let status = child.wait().expect("sim exits");
    assert!(status.success(), "sim exited with {status}");
    assert!(
        !path.exists(),
        "temporary kubeconfig {} left behind",
        path.display()
    );
}
