//! `mystocks-bot sim`: the simulated cluster on its own, with a kubeconfig for kubectl or the bot, until Ctrl-C
//! or SIGTERM.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use mystocks_sim::world::ScenarioState;
use mystocks_sim::{Sim, SimConfig};

use crate::cli::SimArgs;

/// The sim's configuration for these arguments.
pub fn config(args: &SimArgs) -> SimConfig {
    SimConfig {
        listen: args.listen,
        scenario: ScenarioState {
            scenario: args.scenario,
            ..ScenarioState::default()
        },
        speed: args.speed,
        ..SimConfig::default()
    }
}

/// What `sim` prints once ready: the three URLs, the kubeconfig path and how to use it.
pub fn banner(sim: &Sim, kubeconfig: &std::path::Path) -> String {
    let path = kubeconfig.display();
    format!(
        "api: {}\napp: {}\ncontrol: {}\nkubeconfig: {path}\n\
         # use it: export KUBECONFIG={path} && kubectl get pods -n {}\n\
         # switch scenarios: curl -X POST {}/scenario/bad-release  (Ctrl-C stops the simulator)\n",
        sim.api_url(),
        sim.app_url(),
        sim.control_url(),
        mystocks_sim::DEFAULT_NAMESPACE,
        sim.control_url(),
    )
}

/// Runs the simulator until asked to stop.
pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    let sim = Sim::start(config(&args))
        .await
        .context("cannot start the simulated cluster")?;
    // Without --kubeconfig the file lives in a temporary directory removed at exit.
    let (path, temp): (PathBuf, Option<tempfile::TempDir>) = match &args.kubeconfig {
        Some(path) => (path.clone(), None),
        None => {
            let dir = tempfile::Builder::new()
                .prefix("mystocks-sim-")
                .tempdir()
                .context("cannot create a directory for the kubeconfig")?;
            (dir.path().join("kubeconfig"), Some(dir))
        }
    };
    sim.write_kubeconfig(&path)
        .with_context(|| format!("cannot write the kubeconfig to {}", path.display()))?;
    let mut out = std::io::stdout().lock();
    out.write_all(banner(&sim, &path).as_bytes())
        .and_then(|()| out.flush())
        .context("writing to stdout")?;
    drop(out);
    tracing::info!(redis = %sim.redis_addr(), scenario = %args.scenario, speed = args.speed, "simulator ready");
    crate::shutdown::signal().await;
    tracing::info!("stopping the simulator");
    sim.shutdown().await;
    drop(temp);
    Ok(())
}
