//! mystocks-bot: the binary — parses the command line, sets up telemetry and runs `demo`, `sim`, `run` or
//! `check-config`.

use std::process::ExitCode;

use clap::Parser;

use mystocks_bot::cli::{Cli, Command};
use mystocks_bot::{check_config, matrix, slack, telemetry};
#[cfg(feature = "sim")]
use mystocks_bot::{demo, simulator};

// mimalloc: the Slack front allocates a few dozen small objects per request, and glibc's allocator was a quarter
// of its CPU time under load (docs/slack.md §6); idle memory is no larger (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // ring and aws-lc may both be compiled in; rustls cannot choose on its own.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let default_filter = match cli.command {
        #[cfg(feature = "sim")]
        Command::Demo(_) => "warn",
        _ => "info",
    };
    telemetry::init(cli.log_format, default_filter);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(dispatch(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    };
    // A terminal read may still be blocked in a worker thread after Ctrl-C: do not wait for it.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    code
}

async fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::CheckConfig(args) => Ok(check_config::check(&args.config)),
        Command::Run(args) if matrix_configured(&args.config) => matrix::run(&args.config).await,
        Command::Run(args) if slack_configured(&args.config) => slack::run(&args.config).await,
        Command::Run(args) => check_config::run(&args.config).await,
        #[cfg(feature = "sim")]
        Command::Demo(args) => demo::run(args).await.map(|()| ExitCode::SUCCESS),
        #[cfg(feature = "sim")]
        Command::Sim(args) => simulator::run(args).await.map(|()| ExitCode::SUCCESS),
    }
}

/// Whether the config names a `[matrix]` section (then `run` serves Matrix, and Slack too when configured).
fn matrix_configured(path: &std::path::Path) -> bool {
    mystocks_bot::settings::Settings::load(path).is_ok_and(|s| s.matrix.is_some())
}

/// Whether the config names a `[slack]` section (then `run` serves Slack; errors are reported by loading it).
fn slack_configured(path: &std::path::Path) -> bool {
    mystocks_bot::settings::Settings::load(path).is_ok_and(|s| s.slack.is_some())
}
