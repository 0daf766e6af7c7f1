//! `check-config` (validate a config and show what would connect where) and, for now, `run`'s start-up checks.

use std::path::Path;
use std::process::ExitCode;

use mystocks_commands::runbook::{RunbookSet, RunbooksConfig};

use crate::application::Application;
use crate::settings::{Settings, SettingsError};

/// Validates `path`: prints the summary and exits 0, or prints every problem and exits 1.
pub fn check(path: &Path) -> ExitCode {
    match Settings::load(path) {
        Ok(settings) => {
            let runbooks = settings.runbooks.load();
            if !runbooks.problems.is_empty() {
                eprintln!(
                    "error: {} runbook file(s) do not load (the bot would run without them):",
                    runbooks.problems.len()
                );
                for problem in &runbooks.problems {
                    eprintln!("  - {problem}");
                }
            }
            println!(
                "config {} is valid; the bot would connect to:",
                path.display()
            );
            let mut summary = settings.summary();
            summary
                .lines
                .push(("runbooks".into(), settings.runbooks.describe(&runbooks)));
            print!("{summary}");
            if runbooks.problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `run`: loads the settings and connects everything; the chat adapters are not built yet, so it then stops with a
/// clear message.
pub async fn run(path: &Path) -> anyhow::Result<ExitCode> {
    let settings = match Settings::load(path) {
        Ok(s) => s,
        Err(SettingsError::Invalid(problems)) => {
            anyhow::bail!(
                "config {} is invalid:\n  - {}",
                path.display(),
                problems.join("\n  - ")
            )
        }
        Err(e) => return Err(e.into()),
    };
    for (what, place) in settings.summary().lines {
        tracing::info!(%what, %place, "configured");
    }
    let app = Application::build(&settings).await?;
    tracing::info!(
        port = app.port(),
        "connected to the store, the cluster and the coordinator"
    );
    let configured: Vec<&str> = [
        settings.slack.as_ref().map(|_| "Slack"),
        settings.matrix.as_ref().map(|_| "Matrix"),
    ]
    .into_iter()
    .flatten()
    .collect();
    anyhow::bail!(
        "no chat adapter available: {} is configured but not part of this build yet; \
         use `mystocks-bot demo` to try the bot in a terminal",
        configured.join(" and ")
    )
}

/// Loads the configured runbooks for a starting bot: each file that does not load is logged with its file, line
/// and reason, and the bot goes on without it.
pub fn load_runbooks(config: &RunbooksConfig) -> RunbookSet {
    let set = config.load();
    for problem in &set.problems {
        tracing::error!(problem = %problem, "a runbook does not load; the bot runs without it");
    }
    tracing::info!(runbooks = %config.describe(&set), "runbooks");
    set
}
