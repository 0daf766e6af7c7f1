//! Starting and stopping the whole simulated world: the API server (HTTPS), the controllers, and the
//! application's HTTP endpoint, control endpoint and Redis stand-in — each on its own loopback port.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::api::{ApiState, router};
use crate::auth::SimToken;
use crate::clock::SimClock;
use crate::cluster::Cluster;
use crate::controller::pods::PodDelays;
use crate::request_log::RecordedRequest;
use crate::world::{ClusterControl, ClusterView, ScenarioState};
use crate::{
    DEFAULT_DEPLOYMENT, DEFAULT_NAMESPACE, app, controller, kubeconfig, seed, server, tls,
};

/// How to start the sim. `SimConfig::default()` is what most tests want, with `speed` raised.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Where the API server listens (default 127.0.0.1:0).
    pub listen: SocketAddr,
    /// Where the app's HTTP endpoint listens (default 127.0.0.1:0).
    pub app_listen: SocketAddr,
    /// Where the control endpoint listens (default 127.0.0.1:0).
    pub control_listen: SocketAddr,
    /// Where the Redis stand-in listens (default 127.0.0.1:0).
    pub redis_listen: SocketAddr,
    /// The scenario at start.
    pub scenario: ScenarioState,
    /// Sim clock speed multiplier (default 1.0; tests use 20–100).
    pub speed: f64,
    /// Serve the API over HTTPS (default true; kubectl only sends tokens over HTTPS).
    pub tls: bool,
    /// Accepted bearer tokens (default: one admin token, random).
    pub tokens: Vec<SimToken>,
    /// Pod lifecycle delays in simulated time.
    pub pod_delays: PodDelays,
}

impl Default for SimConfig {
    fn default() -> Self {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        SimConfig {
            listen: loopback,
            app_listen: loopback,
            control_listen: loopback,
            redis_listen: loopback,
            scenario: ScenarioState::default(),
            speed: 1.0,
            tls: true,
            tokens: vec![SimToken::admin(
                "admin",
                &format!("sim-admin-{}", uuid::Uuid::new_v4().simple()),
            )],
            pod_delays: PodDelays {
                crash_after: Duration::from_secs(app::CRASH_AFTER_SECS as u64),
                ..PodDelays::default()
            },
        }
    }
}

/// Why the sim could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A listener could not bind.
    #[error("cannot listen on {addr} for the {what}: {source}; choose another address or port 0")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// Certificate generation failed.
    #[error("cannot set up TLS for the API server: {0}")]
    Tls(String),
    /// No token configured.
    #[error("no API token configured; give SimConfig at least one SimToken")]
    NoToken,
}

/// A running simulated cluster. Dropping it stops every server; `shutdown` also waits for them.
pub struct Sim {
    cluster: Arc<Cluster>,
    api_addr: SocketAddr,
    app_addr: SocketAddr,
    control_addr: SocketAddr,
    redis_addr: SocketAddr,
    tls: bool,
    ca_pem: String,
    tasks: Vec<JoinHandle<()>>,
}

async fn bind(what: &'static str, addr: SocketAddr) -> Result<(TcpListener, SocketAddr), SimError> {
    let l = TcpListener::bind(addr)
        .await
        .map_err(|source| SimError::Bind { what, addr, source })?;
    let local = l
        .local_addr()
        .map_err(|source| SimError::Bind { what, addr, source })?;
    Ok((l, local))
}

impl Sim {
    /// Starts everything and returns once all servers accept connections (well under a second).
    pub async fn start(config: SimConfig) -> Result<Sim, SimError> {
        if config.tokens.is_empty() {
            return Err(SimError::NoToken);
        }
        let tls = if config.tls {
            Some(tls::generate().map_err(SimError::Tls)?)
        } else {
            None
        };
        let clock = SimClock::new(config.speed);
        let cluster = Arc::new(Cluster::new(
            clock,
            config.scenario.clone(),
            config.pod_delays.clone(),
            config.tokens.clone(),
        ));
        {
            let mut store = cluster.store();
            seed::seed(&mut store, cluster.clock.now());
        }
        controller::tick(&cluster);
        cluster.store().compact();

        let (api_l, api_addr) = bind("Kubernetes API", config.listen).await?;
        let (app_l, app_addr) = bind("app HTTP endpoint", config.app_listen).await?;
        let (control_l, control_addr) = bind("control endpoint", config.control_listen).await?;
        let (redis_l, redis_addr) = bind("Redis stand-in", config.redis_listen).await?;

        let view: Arc<dyn ClusterView> = cluster.clone();
        let control: Arc<dyn ClusterControl> = cluster.clone();
        let state = Arc::new(ApiState {
            cluster: cluster.clone(),
            server_address: api_addr.to_string(),
        });
        let server_config = tls.as_ref().map(|t| t.server_config.clone());
        let tasks = vec![
            tokio::spawn(controller::run(cluster.clone())),
            tokio::spawn(server::serve(api_l, router(state), server_config)),
            tokio::spawn(server::serve(app_l, app::http_router(view.clone()), None)),
            tokio::spawn(server::serve(control_l, app::control_router(control), None)),
            tokio::spawn(app::redis::serve(redis_l, view)),
        ];
        Ok(Sim {
            cluster,
            api_addr,
            app_addr,
            control_addr,
            redis_addr,
            tls: config.tls,
            ca_pem: tls.map(|t| t.ca_pem).unwrap_or_default(),
            tasks,
        })
    }

    /// The API server URL (`https://127.0.0.1:PORT`).
    pub fn api_url(&self) -> String {
        format!(
            "{}://{}",
            if self.tls { "https" } else { "http" },
            self.api_addr
        )
    }

    /// The app's load-balanced URL (stands in for `http://mystocks-api:8000`).
    pub fn app_url(&self) -> String {
        format!("http://{}", self.app_addr)
    }

    /// The control endpoint URL (switch scenarios at run time).
    pub fn control_url(&self) -> String {
        format!("http://{}", self.control_addr)
    }

    /// The Redis stand-in's address.
    pub fn redis_addr(&self) -> SocketAddr {
        self.redis_addr
    }

    /// The first configured bearer token.
    pub fn token(&self) -> String {
        self.cluster
            .tokens
            .first()
            .map(|t| t.token.clone())
            .unwrap_or_default()
    }

    /// The CA certificate (PEM) that signed the API server's certificate (empty without TLS).
    pub fn ca_pem(&self) -> String {
        self.ca_pem.clone()
    }

    /// A kubeconfig for the first token, namespace `mystocks`.
    pub fn kubeconfig_yaml(&self) -> String {
        let user = self
            .cluster
            .tokens
            .first()
            .map(|t| t.name.as_str())
            .unwrap_or("admin");
        self.kubeconfig_for(user, &self.token())
    }

    /// A kubeconfig using another token.
    pub fn kubeconfig_for(&self, user: &str, token: &str) -> String {
        let ca = self.tls.then_some(self.ca_pem.as_str());
        kubeconfig::render(&self.api_url(), ca, user, token, DEFAULT_NAMESPACE)
    }

    /// Writes [`Sim::kubeconfig_yaml`] to `path` (mode 0600 on Unix).
    pub fn write_kubeconfig(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.kubeconfig_yaml())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(())
    }

    /// Every API request so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.cluster.requests.all()
    }

    /// The POST/PUT/PATCH/DELETE requests so far.
    pub fn changing_requests(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(RecordedRequest::is_changing)
            .collect()
    }

    /// Switches the scenario (as the control endpoint does).
    pub fn set_scenario(&self, s: ScenarioState) {
        self.cluster.set_scenario(s);
    }

    /// The current scenario.
    pub fn scenario(&self) -> ScenarioState {
        self.cluster.scenario_state()
    }

    /// A snapshot of deployment `mystocks-api`.
    pub fn deployment(&self) -> Deployment {
        self.cluster
            .store()
            .get::<Deployment>(DEFAULT_NAMESPACE, DEFAULT_DEPLOYMENT)
            .cloned()
            .unwrap_or_default()
    }

    /// The ReplicaSets in namespace `mystocks`, by name.
    pub fn replicasets(&self) -> Vec<ReplicaSet> {
        self.cluster
            .store()
            .list::<ReplicaSet>(Some(DEFAULT_NAMESPACE))
            .into_iter()
            .cloned()
            .collect()
    }

    /// The pods in namespace `mystocks` (including Terminating ones), by name.
    pub fn pods(&self) -> Vec<Pod> {
        self.cluster
            .store()
            .list::<Pod>(Some(DEFAULT_NAMESPACE))
            .into_iter()
            .cloned()
            .collect()
    }

    /// The ConfigMap `namespace/name`, if it exists.
    pub fn config_map(&self, namespace: &str, name: &str) -> Option<ConfigMap> {
        self.cluster
            .store()
            .get::<ConfigMap>(namespace, name)
            .cloned()
    }

    /// Creates or replaces the ConfigMap `namespace/name` with `data` (as `kubectl apply` of a manifest would; a
    /// new resourceVersion either way).
    pub fn put_config_map(
        &self,
        namespace: &str,
        name: &str,
        data: Option<BTreeMap<String, String>>,
    ) {
        let mut store = self.cluster.store();
        let mut cm = store
            .get::<ConfigMap>(namespace, name)
            .cloned()
            .unwrap_or_else(|| ConfigMap {
                metadata: ObjectMeta {
                    name: Some(name.to_string()),
                    namespace: Some(namespace.to_string()),
                    uid: Some(uuid::Uuid::new_v4().to_string()),
                    ..ObjectMeta::default()
                },
                ..ConfigMap::default()
            });
        cm.data = data;
        store.put(cm);
    }

    /// Simulated time now.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.cluster.clock.now()
    }

    /// The cluster, for in-process use (the app view, the store).
    pub fn cluster(&self) -> Arc<Cluster> {
        self.cluster.clone()
    }

    /// Polls `pred` every 10 ms until it holds (true) or `timeout` passes in real time (false).
    pub async fn wait_until(&self, pred: impl Fn(&Sim) -> bool, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if pred(self) {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stops every server and the controllers, and waits for them.
    pub async fn shutdown(mut self) {
        let tasks = std::mem::take(&mut self.tasks);
        for t in &tasks {
            t.abort();
        }
        for t in tasks {
            let _ = t.await;
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}
