//! Test support: a sim with a kube client and the default target, and request-log helpers.

#![allow(dead_code)]

use mystocks_commands::approval::{Approved, Ballot, Tally};
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};
use mystocks_commands::cluster::{self, Plan, Target};
use mystocks_sim::world::{Scenario, ScenarioState};
use mystocks_sim::{RecordedRequest, Sim, SimConfig};

/// Simulated seconds per real second in these tests.
pub const SPEED: f64 = 50.0;
/// The longest any rollout may be followed in a test (real time).
pub const FOLLOW: Duration = Duration::from_secs(60);

pub struct World {
    pub sim: Sim,
    pub client: kube::Client,
    pub target: Target,
}

impl World {
    pub async fn start() -> World {
        World::with_scenario(Scenario::Healthy).await
    }

    pub async fn with_scenario(scenario: Scenario) -> World {
        let config = SimConfig {
            speed: SPEED,
            scenario: ScenarioState {
                scenario,
                ..Default::default()
            },
            ..Default::default()
        };
        World::with_config(config).await
    }

    /// A sim with `config`; the client uses its first token.
    pub async fn with_config(config: SimConfig) -> World {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let sim = Sim::start(config).await.expect("the sim starts");
        let client = match cluster::client_from_kubeconfig_yaml(&sim.kubeconfig_yaml()).await {
            Ok(c) => c,
            Err(e) => panic!("client from the sim's kubeconfig: {e}"),
        };
        World {
            sim,
            client,
            target: Target::default(),
        }
    }

    /// Changing requests that were not dry runs.
    pub fn real_changes(&self) -> Vec<RecordedRequest> {
        self.sim
            .changing_requests()
            .into_iter()
            .filter(|r| !is_dry_run(r))
            .collect()
    }

    /// Dry-run requests so far.
    pub fn dry_runs(&self) -> Vec<RecordedRequest> {
        self.sim
            .changing_requests()
            .into_iter()
            .filter(is_dry_run)
            .collect()
    }

    /// The image of the deployment's container now.
    pub fn image(&self) -> String {
        image_of(&self.sim.deployment())
    }

    /// A change made behind the bot's back (another operator, another tool).
    pub async fn merge_patch(&self, body: serde_json::Value) {
        let api: Api<Deployment> = Api::namespaced(self.client.clone(), &self.target.namespace);
        api.patch(
            &self.target.deployment,
            &PatchParams::default(),
            &Patch::Merge(body),
        )
        .await
        .expect("the out-of-band change is accepted");
    }

    /// Waits (real time) until the deployment's rollout is complete in the sim.
    pub async fn settle(&self) {
        let done = self
            .sim
            .wait_until(
                |s| {
                    let d = s.deployment();
                    cluster::status::rollout_state(&d).is_complete()
                },
                FOLLOW,
            )
            .await;
        assert!(done, "the rollout did not settle");
    }

    /// Executes a plan the way the engine does, panicking on errors.
    pub async fn execute(&self, plan: &Plan, cause: &str) {
        let approved = approved(plan);
        if let Err(e) =
            cluster::execute(&self.client, &approved, cause, cluster::FIELD_MANAGER).await
        {
            panic!("execute {}: {e}", plan.summary());
        }
    }
}

/// `plan`, approved the only way a test may: alice requested it and bob, an approver, approved it.
pub fn approved(plan: &Plan) -> Approved<Plan> {
    let bob = Ballot {
        person: "bob".into(),
        approves: true,
        may_approve: true,
    };
    let tally = Tally::new("alice", 1, vec![bob]);
    Approved::by_quorum(plan.clone(), &tally).expect("bob's approval reaches the quorum")
}

pub fn is_dry_run(r: &RecordedRequest) -> bool {
    r.path.contains("dryRun=All")
}

pub fn image_of(d: &Deployment) -> String {
    d.spec
        .template
        .spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .and_then(|c| c.image.clone())
        .unwrap_or_default()
}

pub fn annotation(d: &Deployment, key: &str) -> Option<String> {
    d.metadata.annotations.as_ref()?.get(key).cloned()
}

/// Unwraps a result whose error type is not `Debug`-friendly in assertions.
pub fn ok<T>(r: Result<T, cluster::ClusterError>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: {e}"),
    }
}
