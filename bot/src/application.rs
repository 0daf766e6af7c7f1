//! `Application::build(settings)`: everything `run` needs, connected — the cluster client, the store, the
//! coordinator, the command core — plus the HTTP servers: the chat adapters' endpoints, and the bot's own
//! `/healthz`, `/readyz` and `/metrics` (on `server.ops_listen` when set, else next to the chat endpoints).
//! Tests build it exactly as `main` does, on port 0.

use std::future::Future;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use kube::config::{KubeConfigOptions, Kubeconfig};
use mystocks_adapters::in_flight::{BusyObserver, InFlight};
use mystocks_commands::Handler as _;
use mystocks_commands::audit::AuditKey;
use mystocks_commands::audit_anchor::{AuditAnchor, CheckpointLocation};
use mystocks_commands::cluster::Target;
use mystocks_commands::coordinator::{Coordinator, InProcessCoordinator, RedisCoordinator};
use mystocks_commands::directory::Directory;
use mystocks_commands::engine::{Context, Core, CoreSettings};
use mystocks_commands::policy::parse_duration;
use mystocks_commands::store;
use tokio::net::TcpListener;

use crate::metrics::Metrics;
use crate::ops_server::{self, OpsState};
use crate::settings::{AuditSettings, KubernetesSettings, Settings};

/// After the grace period, how long giving the remaining jobs and locks back may take (a store or Redis that does
/// not answer must not hold the exit up; what was not given back expires by itself).
pub const HAND_OVER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Redis keys of this bot start with this.
pub const REDIS_PREFIX: &str = "mystocks-bot:";

/// The bot, built and ready to serve.
pub struct Application {
    core: Core,
    listener: TcpListener,
    port: u16,
    /// Routes of the chat adapters (the Slack endpoints), served next to `/healthz` and `/readyz`.
    routes: Router,
    metrics: Arc<Metrics>,
    /// The ops endpoints' own listener (`server.ops_listen`); none serves them on the main listener.
    ops_listener: Option<TcpListener>,
    /// How long in-flight work may go on after the stop signal (`server.shutdown_grace`).
    shutdown_grace: std::time::Duration,
    /// The deliveries being handled, bounded by `[limits] max_in_flight`; shared by the chat adapters.
    in_flight: Arc<InFlight>,
}

/// Where a delivery refused as busy goes: the metrics count it, the core writes one audit row per window.
struct BusyRefusals {
    metrics: Arc<Metrics>,
    core: Core,
}

impl BusyObserver for BusyRefusals {
    fn refused_busy(&self, platform: &str, delivery: &str) {
        self.metrics.refused_busy(platform, delivery);
        self.core.note_busy(platform, delivery);
    }
}

impl Application {
    /// Connects to everything the settings name (the store is migrated) and binds the HTTP listener.
    pub async fn build(settings: &Settings) -> anyhow::Result<Application> {
        let problems = settings.problems();
        let key = settings
            .audit
            .hmac_key
            .clone()
            .context("audit.hmac_key is missing")?;
        anyhow::ensure!(
            problems.iter().all(|p| p.starts_with("no chat adapter")),
            "settings are invalid:\n  - {}",
            problems.join("\n  - ")
        );
        let audit_key = AuditKey::new(key).context("audit.hmac_key cannot be used")?;
        let (kube, pod_proxy) = kube_clients(&settings.kubernetes).await?;
        let store_url = settings.store.effective_url();
        let store = store::connect(store_url.expose(), audit_key.clone())
            .await
            .with_context(|| format!("cannot open the store at {store_url}"))?;
        let coordinator: Arc<dyn Coordinator> = match &settings.coordinator.redis_url {
            Some(url) => Arc::new(
                RedisCoordinator::connect(url.expose(), REDIS_PREFIX)
                    .await
                    .map_err(|e| anyhow::anyhow!("{}", e.0))
                    .with_context(|| format!("cannot reach the coordinator at {url}"))?,
            ),
            None => Arc::new(InProcessCoordinator::default()),
        };
        let directory = Directory::from_config_with(&settings.people, &settings.policy)?;
        let svc = &settings.service;
        let target = Target::new(&svc.namespace, &svc.deployment)
            .with_container(&svc.container)
            .with_selector(&svc.selector);
        let shutdown_grace = parse_duration(&settings.server.shutdown_grace)
            .map_err(|e| anyhow::anyhow!("server.shutdown_grace: {e}"))?;
        let core_settings = CoreSettings {
            rate_limit: settings.rate_limit.clone(),
            process_id: process_id(),
            job_lease: settings.jobs.lease(),
            ..CoreSettings::default()
        };
        let metrics = Arc::new(Metrics::new());
        let context = Context::builder(kube, store, audit_key)
            .target(target)
            .coordinator(coordinator)
            .directory(directory)
            .policy(settings.policy.clone())
            .settings(core_settings)
            .pod_proxy(pod_proxy)
            .metrics(metrics.clone())
            .incidents(settings.incident_settings())
            .checks(settings.checks_config())
            .runbooks(crate::check_config::load_runbooks(&settings.runbooks));
        let context = match audit_anchor(&settings.audit)? {
            Some(anchor) => context.audit_anchor(anchor),
            None => {
                tracing::warn!(
                    "no [audit.checkpoint]: the audit chain is not anchored outside the database, so its newest \
                     entries could be cut off unnoticed"
                );
                context
            }
        }
        .build();
        let listener = TcpListener::bind(settings.server.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.server.listen))?;
        let port = listener
            .local_addr()
            .context("listener has no address")?
            .port();
        let ops_listener = match settings.server.ops_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr} (server.ops_listen)"))?,
            ),
            None => None,
        };
        let core = Core::new(context);
        let busy = Arc::new(BusyRefusals {
            metrics: metrics.clone(),
            core: core.clone(),
        });
        let in_flight = InFlight::with_observer(settings.limits.max_in_flight, busy);
        Ok(Application {
            core,
            listener,
            port,
            routes: Router::new(),
            metrics,
            ops_listener,
            shutdown_grace,
            in_flight,
        })
    }

    /// The HTTP port (useful when the settings asked for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of `/healthz`, `/readyz` and `/metrics` (the main port when `server.ops_listen` is unset).
    pub fn ops_port(&self) -> u16 {
        self.ops_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .map_or(self.port, |a| a.port())
    }

    /// The bot's metrics (the Slack adapter records its API errors here).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The bound on deliveries handled at once, for the chat adapters to take permits from (the graceful stop
    /// waits for the work holding them).
    pub fn in_flight(&self) -> &Arc<InFlight> {
        &self.in_flight
    }

    /// The command core, for the chat adapters to hand invocations to.
    pub fn core(&self) -> &Core {
        &self.core
    }

    /// Adds routes (a chat adapter's endpoints) to the HTTP server.
    pub fn with_routes(mut self, routes: Router) -> Self {
        self.routes = self.routes.merge(routes);
        self
    }

    /// Serves HTTP and works on stored jobs until `shutdown` resolves; then stops taking work (the chat
    /// endpoint closes, no new job is claimed), lets in-flight work finish for up to `server.shutdown_grace`,
    /// gives what is still running back (job leases released, so another replica goes on at once; locks this
    /// process holds released), and closes the store. The ops endpoints answer until the end.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let jobs = self.core.start_job_runner();
        let checkpoints = self.core.start_audit_checkpoints();
        let ops = OpsState {
            core: self.core.clone(),
            metrics: self.metrics.clone(),
        };
        let (ops_stop, ops_stopped) = tokio::sync::oneshot::channel::<()>();
        let (router, ops_task) = match self.ops_listener {
            Some(listener) => {
                let stopped = async move {
                    let _ = ops_stopped.await;
                };
                (
                    self.routes,
                    Some(tokio::spawn(ops_server::serve(listener, ops, stopped))),
                )
            }
            None => (self.routes.merge(ops_server::routes(ops)), None),
        };
        let core = self.core.clone();
        let shutdown = async move {
            shutdown.await;
            // At the signal, not after the last connection closed: no new job is claimed while requests drain.
            core.stop_taking_work();
        };
        let served = axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown)
            .await;
        self.core.stop_taking_work();
        let grace = self.shutdown_grace;
        tracing::info!(
            grace_secs = grace.as_secs_f64(),
            "stopping: no new work is taken; finishing what is in flight"
        );
        // The deliveries first (their handling runs detached from the connections that brought them), then the
        // jobs they started.
        let settled = async {
            self.in_flight.idle().await;
            self.core.settle().await;
        };
        if tokio::time::timeout(grace, settled).await.is_err() {
            tracing::warn!(
                grace_secs = grace.as_secs_f64(),
                "in-flight work did not finish within the grace period; handing it over to another replica"
            );
        }
        hand_over(&self.core).await;
        jobs.abort();
        if let Some(task) = checkpoints {
            task.abort();
        }
        let _ = ops_stop.send(());
        if let Some(task) = ops_task {
            let _ = task.await;
        }
        self.core.context().store.close().await;
        served.context("the HTTP server failed")
    }
}

/// The audit checkpoint of `[audit.checkpoint]`, if configured (settings were validated: the cluster is the bot's).
fn audit_anchor(audit: &AuditSettings) -> anyhow::Result<Option<AuditAnchor>> {
    let Some(cp) = &audit.checkpoint else {
        return Ok(None);
    };
    let interval = parse_duration(&cp.interval)
        .map_err(|e| anyhow::anyhow!("audit.checkpoint.interval: {e}"))?;
    let location = CheckpointLocation {
        cluster: cp.cluster.clone(),
        namespace: cp.namespace.clone(),
        name: cp.name.clone(),
    };
    Ok(Some(AuditAnchor::new(location, interval)))
}

/// Gives back the jobs still running (their leases), within [`HAND_OVER_TIMEOUT`].
async fn hand_over(core: &Core) {
    match tokio::time::timeout(HAND_OVER_TIMEOUT, core.hand_over()).await {
        Ok(jobs) => tracing::info!(jobs, "stopped: leases given back"),
        Err(_) => tracing::warn!(
            "could not give every lease back in time; another replica takes those jobs when they expire"
        ),
    }
}

/// This process's name in job leases: the host (the pod's name in Kubernetes, where every pid is 1), the pid and
/// a random part, so no two processes — nor a restart of one — ever share it.
fn process_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .unwrap_or_else(|| "mystocks-bot".to_string());
    format!(
        "{host}-{}-{:06x}",
        std::process::id(),
        rand::random::<u32>() & 0xff_ffff
    )
}

/// Clients for the configured cluster: the bot's, and one without retries for the pod proxy checks
/// ([`mystocks_commands::checks::pods::proxy_client`]). Nothing is contacted until the first request.
pub async fn kube_clients(k: &KubernetesSettings) -> anyhow::Result<(kube::Client, kube::Client)> {
    let options = KubeConfigOptions {
        context: k.context.clone(),
        ..KubeConfigOptions::default()
    };
    let config = if k.in_cluster {
        kube::Config::incluster()
            .context("no in-cluster service account (kubernetes.in_cluster = true)")?
    } else if let Some(path) = &k.kubeconfig {
        let file = Kubeconfig::read_from(path)
            .with_context(|| format!("cannot read kubeconfig {}", path.display()))?;
        kube::Config::from_custom_kubeconfig(file, &options)
            .await
            .with_context(|| format!("cannot use kubeconfig {}", path.display()))?
    } else if k.context.is_some() {
        kube::Config::from_kubeconfig(&options)
            .await
            .context("cannot use the kubeconfig context")?
    } else {
        kube::Config::infer()
            .await
            .context("no kubeconfig found and not running in a cluster")?
    };
    let pod_proxy = mystocks_commands::checks::pods::proxy_client(config.clone())
        .context("cannot build the Kubernetes client for the pod proxy")?;
    let kube = kube::Client::try_from(config).context("cannot build the Kubernetes client")?;
    Ok((kube, pod_proxy))
}
