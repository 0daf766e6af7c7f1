//! The command line: `demo`, `sim`, `run`, `check-config`.

#[cfg(feature = "sim")]
use std::net::SocketAddr;
use std::path::PathBuf;

#[cfg(feature = "sim")]
use clap::ValueEnum;
use clap::{Parser, Subcommand};
#[cfg(feature = "sim")]
use mystocks_sim::world::Scenario;

use crate::telemetry::LogFormat;

/// A ChatOps bot that runs the MyStocks operations manual from chat.
#[derive(Debug, Parser)]
#[command(name = "mystocks-bot", version, about)]
pub struct Cli {
    /// Log line format (logs go to stderr; the level comes from RUST_LOG).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

/// What to run.
#[derive(Debug, Subcommand)]
pub enum Command {
    #[cfg(feature = "sim")]
    /// Try the bot in your terminal against a simulated cluster (type or pipe chat lines).
    Demo(DemoArgs),
    #[cfg(feature = "sim")]
    /// Run the simulated cluster alone, printing a kubeconfig for kubectl or the bot.
    Sim(SimArgs),
    /// Run the bot in production (Slack and/or Matrix).
    Run(ConfigArgs),
    /// Validate a config file and show what would connect where.
    CheckConfig(ConfigArgs),
}

#[cfg(feature = "sim")]
/// How the console prints replies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Readable text with a header line per message.
    #[default]
    Text,
    /// One JSON object per reply, one per line.
    Json,
}

#[cfg(feature = "sim")]
/// `mystocks-bot demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Fault scenario of the simulated cluster.
    #[arg(long, default_value = "healthy", value_parser = parse_scenario)]
    pub scenario: Scenario,
    /// Keep the demo's SQLite store in this directory (default: a temporary one, removed at exit).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// How replies are printed.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Speed of the simulated clock (2.0 = twice as fast as real time).
    #[arg(long, default_value_t = 5.0, value_parser = parse_speed)]
    pub speed: f64,
}

#[cfg(feature = "sim")]
/// `mystocks-bot sim`.
#[derive(Debug, clap::Args)]
pub struct SimArgs {
    /// Address of the Kubernetes API server (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Where to write the kubeconfig (default: a temporary file, removed at exit).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Fault scenario to start in.
    #[arg(long, default_value = "healthy", value_parser = parse_scenario)]
    pub scenario: Scenario,
    /// Speed of the simulated clock.
    #[arg(long, default_value_t = 1.0, value_parser = parse_speed)]
    pub speed: f64,
}

/// Commands that read a config file.
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// The TOML config file (see deploy/config.example.toml); MYSTOCKS_BOT__SECTION__KEY variables override it.
    #[arg(long, env = "MYSTOCKS_BOT_CONFIG")]
    pub config: PathBuf,
}

#[cfg(feature = "sim")]
fn parse_scenario(s: &str) -> Result<Scenario, String> {
    s.parse()
}

#[cfg(feature = "sim")]
fn parse_speed(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 && x <= 1000.0 => Ok(x),
        _ => Err(format!(
            "`{s}` is not a speed: use a number above 0 and at most 1000, e.g. 1 or 20"
        )),
    }
}

#[cfg(all(test, feature = "sim"))]
mod tests {
    use super::*;

    #[test]
    fn demo_flags_parse() {
        let cli = Cli::try_parse_from([
            "mystocks-bot",
            "demo",
            "--scenario",
            "bad-release",
            "--format",
            "json",
            "--speed",
            "20",
        ]);
        let Ok(Cli {
            command: Command::Demo(d),
            ..
        }) = cli
        else {
            panic!("demo did not parse: {cli:?}")
        };
        assert_eq!(d.scenario, Scenario::BadRelease);
        assert_eq!(d.format, OutputFormat::Json);
        assert_eq!(d.speed, 20.0);
    }

    #[test]
    fn bad_values_are_refused_with_the_reason() {
        let err = Cli::try_parse_from(["mystocks-bot", "demo", "--scenario", "nope"])
            .err()
            .map(|e| e.to_string());
        assert!(err.unwrap_or_default().contains("known: healthy"));
        let err = Cli::try_parse_from(["mystocks-bot", "sim", "--speed=-1"])
            .err()
            .map(|e| e.to_string());
        assert!(err.unwrap_or_default().contains("not a speed"));
        assert!(Cli::try_parse_from(["mystocks-bot", "sim", "--speed", "NaN"]).is_err());
        assert!(Cli::try_parse_from(["mystocks-bot", "sim", "--speed", "0"]).is_err());
    }
}
