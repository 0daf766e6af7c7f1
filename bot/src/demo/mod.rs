//! `mystocks-bot demo`: the simulated cluster in-process, a SQLite store (temporary or `--data DIR`), the demo
//! people, and the console adapter reading chat lines from the terminal or a pipe.

mod data;
mod echo;
mod incidents;

use std::sync::Arc;

use anyhow::Context as _;
use mystocks_adapters::console::{Console, Format};
use mystocks_commands::Handler;
use mystocks_commands::audit::AuditKey;
use mystocks_commands::checks::ChecksConfig;
use mystocks_commands::clock::ManualClock;
use mystocks_commands::cluster::Target;
use mystocks_commands::cluster::client::{
    client_from_kubeconfig_yaml, pod_proxy_client_from_kubeconfig_yaml,
};
use mystocks_commands::directory::Directory;
use mystocks_commands::engine::{Context, Core};
use mystocks_commands::store::{self, Store};
use mystocks_sim::world::ScenarioState;
use mystocks_sim::{Sim, SimConfig};
use tokio::io::BufReader;

use crate::cli::{DemoArgs, OutputFormat};

pub use data::{AUDIT_KEY_FILE, DataDir};
pub use echo::EchoHandler;

/// The environment variable that points the demo at another runbooks directory (default: `runbooks/`).
pub const DEMO_RUNBOOKS_ENV: &str = "MYSTOCKS_BOT__RUNBOOKS__DIRECTORY";

/// The demo's runbooks: `$MYSTOCKS_BOT__RUNBOOKS__DIRECTORY`, else `runbooks/` here, else the repository's.
/// Files that do not load are reported on stderr with file, line and reason; the demo runs without them.
pub fn demo_runbooks() -> mystocks_commands::runbook::RunbookSet {
    let directory = std::env::var(DEMO_RUNBOOKS_ENV)
        .ok()
        .filter(|d| !d.trim().is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| Some(std::path::PathBuf::from("runbooks")).filter(|d| d.is_dir()))
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../runbooks"));
    let set = mystocks_commands::runbook::load_dir(&directory);
    for problem in &set.problems {
        eprintln!("runbook not loaded: {problem}");
    }
    set
}

/// The environment variable that gives the demo a MyStocks database for `db` and the postgres check.
pub const DEMO_DATABASE_URL_ENV: &str = "MYSTOCKS_BOT__CHECKS__DATABASE_URL";

/// What the demo runs against, built before the handler.
pub struct DemoParts {
    /// The simulated cluster, on loopback.
    pub sim: Sim,
    /// A client for the sim's API server.
    pub kube: kube::Client,
    /// The same without retries, for the pod proxy checks.
    pub pod_proxy: kube::Client,
    /// Where the store (and, when kept, its audit key) lives.
    pub data: DataDir,
    /// The key of the store's audit chain (the core needs it too, to verify).
    pub audit_key: AuditKey,
    /// The demo store (SQLite in `data`), migrated.
    pub store: Arc<dyn Store>,
    /// The demo's clock: the wall clock plus what `:advance` added.
    pub clock: Arc<ManualClock>,
}

impl DemoParts {
    /// Prepares the data directory and starts what the demo needs.
    pub async fn start(args: &DemoArgs) -> anyhow::Result<DemoParts> {
        let sim_config = SimConfig {
            scenario: ScenarioState {
                scenario: args.scenario,
                ..ScenarioState::default()
            },
            speed: args.speed,
            ..SimConfig::default()
        };
        let sim = Sim::start(sim_config)
            .await
            .context("cannot start the simulated cluster")?;
        let kube = client_from_kubeconfig_yaml(&sim.kubeconfig_yaml())
            .await
            .context("cannot build a Kubernetes client for the simulated cluster")?;
        let pod_proxy = pod_proxy_client_from_kubeconfig_yaml(&sim.kubeconfig_yaml())
            .await
            .context("cannot build a Kubernetes client for the simulated cluster")?;
        let data = DataDir::open(args.data.as_deref())?;
        let audit_key = data.audit_key()?;
        let store = store::connect(&data.store_url(), audit_key.clone())
            .await
            .with_context(|| format!("cannot open the demo store in {}", data.path.display()))?;
        Ok(DemoParts {
            sim,
            kube,
            pod_proxy,
            data,
            audit_key,
            store,
            clock: Arc::new(ManualClock::default()),
        })
    }

    /// Stops what `start` started.
    pub async fn shutdown(self) {
        self.store.close().await;
        self.sim.shutdown().await;
    }
}

impl DemoParts {
    /// The core's context for the demo: the sim's deployment, the demo people (alice operator, bob approver,
    /// carol viewer, dave admin), the default policy, in-process coordination and a clock that `:advance` moves.
    pub fn context(&self) -> Context {
        Context::builder(
            self.kube.clone(),
            self.store.clone(),
            self.audit_key.clone(),
        )
        .target(Target::new(
            mystocks_sim::DEFAULT_NAMESPACE,
            mystocks_sim::DEFAULT_DEPLOYMENT,
        ))
        .directory(Directory::demo())
        .clock(self.clock.clone())
        .pod_proxy(self.pod_proxy.clone())
        .checks(self.checks())
        .incidents(incidents::settings())
        .runbooks(demo_runbooks())
        .build()
    }

    /// The checks pointed at the sim: its app URL and Redis stand-in. The MyStocks database is not simulated:
    /// `db` commands answer "not configured" unless `MYSTOCKS_BOT__CHECKS__DATABASE_URL` names one.
    pub fn checks(&self) -> ChecksConfig {
        ChecksConfig {
            api_url: Some(self.sim.app_url()),
            redis_url: Some(format!("redis://{}", self.sim.redis_addr())),
            database_url: std::env::var(DEMO_DATABASE_URL_ENV)
                .ok()
                .filter(|u| !u.trim().is_empty()),
            ..ChecksConfig::default()
        }
    }
}

/// Runs the demo until end of input, `:quit`, Ctrl-C or SIGTERM.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let parts = DemoParts::start(&args).await?;
    let core = Core::new(parts.context());
    let format = match args.format {
        OutputFormat::Text => Format::Text,
        OutputFormat::Json => Format::Json,
    };
    let mut console = Console::stdio(Arc::new(core.clone()) as Arc<dyn Handler>, format, "alice")
        .with_time_control(Arc::new(incidents::DemoTime::new(
            parts.clock.clone(),
            core.clone(),
        )));
    // The console's sink is registered before the job runner starts, so a rollout report left behind by an
    // earlier run (with `--data`) is finished here, and approvals expire in their messages.
    core.register_sink("console", console.sink());
    let jobs = core.start_job_runner();
    let result = tokio::select! {
        r = console.run(BufReader::new(tokio::io::stdin())) => r.context("reading the console input"),
        () = crate::shutdown::signal() => Ok(()),
    };
    jobs.abort();
    parts.shutdown().await;
    result
}
