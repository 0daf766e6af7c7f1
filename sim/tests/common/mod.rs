//! Shared test support: start a sim, give each test its own HOME and kubeconfig, run the real kubectl.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use mystocks_sim::{Sim, SimConfig};

/// A running sim plus a private HOME (so kubectl's discovery cache starts empty) with a kubeconfig in it.
pub struct Harness {
    pub sim: Sim,
    pub home: tempfile::TempDir,
    pub kubeconfig: PathBuf,
}

/// The output of one kubectl run.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Harness {
    /// Starts a sim at `speed` with default settings.
    pub async fn start(speed: f64) -> Harness {
        Harness::with(SimConfig {
            speed,
            ..Default::default()
        })
        .await
    }

    /// Starts a sim with `config`.
    pub async fn with(config: SimConfig) -> Harness {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let sim = Sim::start(config).await.expect("sim starts");
        let home = tempfile::tempdir().expect("temp HOME");
        let kubeconfig = home.path().join("kubeconfig");
        sim.write_kubeconfig(&kubeconfig)
            .expect("kubeconfig written");
        Harness {
            sim,
            home,
            kubeconfig,
        }
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new("/usr/bin/kubectl");
        cmd.args(args)
            .env_clear()
            .env("HOME", self.home.path())
            .env("KUBECONFIG", &self.kubeconfig)
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    /// Runs kubectl to completion (60 s real-time limit).
    pub async fn kubectl(&self, args: &[&str]) -> Output {
        let child = self.command(args).spawn().expect("kubectl runs");
        let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("kubectl {args:?} did not finish within 60 s"))
            .expect("kubectl output");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs kubectl and asserts it succeeded; returns stdout.
    pub async fn ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args).await;
        assert_eq!(out.code, 0, "kubectl {args:?} failed: {out:?}");
        out.stdout
    }

    /// Starts kubectl without waiting (for `-f` commands).
    pub fn spawn(&self, args: &[&str]) -> tokio::process::Child {
        self.command(args).spawn().expect("kubectl runs")
    }

    /// The deployment's container image.
    pub fn image(&self) -> String {
        self.sim
            .deployment()
            .spec
            .template
            .spec
            .and_then(|s| s.containers.first().and_then(|c| c.image.clone()))
            .unwrap_or_default()
    }

    /// The deployment's revision annotation.
    pub fn revision(&self) -> String {
        annotation(
            &self.sim.deployment().metadata,
            "deployment.kubernetes.io/revision",
        )
    }

    /// Waits (real time) until the deployment has rolled out completely: `replicas` ready pods, all from the
    /// current template, no others.
    pub async fn wait_rolled_out(&self, replicas: usize) {
        let ok = self
            .sim
            .wait_until(
                |sim| {
                    let d = sim.deployment();
                    let st = d.status.unwrap_or_default();
                    st.observed_generation == d.metadata.generation
                        && st.updated_replicas == Some(replicas as i32)
                        && st.available_replicas == Some(replicas as i32)
                        && st.replicas == Some(replicas as i32)
                        && sim.pods().len() == replicas
                },
                Duration::from_secs(30),
            )
            .await;
        assert!(
            ok,
            "rollout to {replicas} did not finish: {:?}",
            self.sim.deployment().status
        );
    }
}

/// An annotation's value (empty when absent).
pub fn annotation(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    key: &str,
) -> String {
    meta.annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .cloned()
        .unwrap_or_default()
}

/// Pod names.
pub fn pod_names(sim: &Sim) -> Vec<String> {
    sim.pods()
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect()
}

/// The image of each live pod.
pub fn pod_images(sim: &Sim) -> Vec<String> {
    sim.pods()
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter_map(|p| {
            p.spec
                .and_then(|s| s.containers.first().and_then(|c| c.image.clone()))
        })
        .collect()
}
