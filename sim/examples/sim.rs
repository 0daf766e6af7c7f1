//! Runs the simulated cluster alone for trying kubectl against it:
//! `cargo run -p mystocks-sim --example sim -- [KUBECONFIG_PATH] [SPEED] [SCENARIO]`.

use std::time::Instant;

use mystocks_sim::world::ScenarioState;
use mystocks_sim::{Sim, SimConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().cloned().unwrap_or_else(|| {
        std::env::temp_dir()
            .join("mystocks-sim.kubeconfig")
            .display()
            .to_string()
    });
    let speed = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(1.0);
    let scenario = args
        .get(2)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or_default();
    let started = Instant::now();
    let sim = Sim::start(SimConfig {
        speed,
        scenario: ScenarioState {
            scenario,
            ..Default::default()
        },
        ..Default::default()
    })
    .await?;
    sim.write_kubeconfig(std::path::Path::new(&path))?;
    println!("api: {}", sim.api_url());
    println!("app: {}", sim.app_url());
    println!("control: {}", sim.control_url());
    println!("redis: {}", sim.redis_addr());
    println!("kubeconfig: {path}");
    eprintln!("ready in {:?}", started.elapsed());
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}
