//! `run` with Matrix: the application (with Slack too when `[slack]` is configured), the Matrix adapter logged in
//! with its persistent session, its sink registered with the core, and its sync loop running until the process is
//! asked to stop.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use mystocks_adapters::matrix::{Login, MatrixBot, MatrixConfig};
use mystocks_commands::Handler;
use mystocks_commands::clock::SystemClock;
use mystocks_commands::policy::parse_duration;

use crate::application::Application;
use crate::settings::{MatrixSettings, Settings, SettingsError};

/// The adapter's settings from `[matrix]`.
pub fn adapter_config(m: &MatrixSettings) -> anyhow::Result<MatrixConfig> {
    let login = match (&m.password, &m.access_token) {
        (Some(password), _) => Login::Password(password.clone()),
        (None, Some(token)) => Login::AccessToken(token.clone()),
        (None, None) => anyhow::bail!("matrix.password or matrix.access_token is required"),
    };
    let mut config = MatrixConfig::new(&m.homeserver_url, &m.user_id, login, m.store_dir.clone());
    config.rooms = m.rooms.clone();
    config.allowed_servers = m.allowed_servers.clone();
    config.store_passphrase = m.store_passphrase.clone();
    config.offline_max_age = parse_duration(&m.offline_max_age)
        .map_err(|e| anyhow::anyhow!("matrix.offline_max_age: {e}"))?;
    config.edit_interval = parse_duration(&m.edit_interval)
        .map_err(|e| anyhow::anyhow!("matrix.edit_interval: {e}"))?;
    Ok(config)
}

/// `mystocks-bot run` when `[matrix]` is configured (Slack is served as well when `[slack]` is).
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
    let m = settings.matrix.as_ref().context("no [matrix] section")?;
    let (app, socket) = if settings.slack.is_some() {
        crate::slack::build(&settings).await?
    } else {
        (Application::build(&settings).await?, None)
    };
    let store = app.core().context().store.clone();
    let bot = MatrixBot::connect(adapter_config(m)?, store, Arc::new(SystemClock))
        .await?
        .with_in_flight(app.in_flight().clone());
    tracing::info!(user = %m.user_id, device = ?bot.device_id(), rooms = m.rooms.len(), "Matrix connected");
    app.core().register_sink("matrix", bot.sink());
    let (stop, _) = tokio::sync::broadcast::channel::<()>(1);
    let handler: Arc<dyn Handler> = Arc::new(app.core().clone());
    let matrix_stopped = {
        let mut stopped = stop.subscribe();
        let stop = stop.clone();
        async move {
            let result = bot
                .run(handler, async move {
                    let _ = stopped.recv().await;
                })
                .await;
            if let Err(err) = &result {
                tracing::error!(error = %err, "the Matrix adapter stopped; stopping the bot");
                let _ = stop.send(());
            }
            result
        }
    };
    let app_stopped = {
        let mut stopped = stop.subscribe();
        app.run_until_stopped(async move {
            let _ = stopped.recv().await;
            // Socket Mode takes no new event from the signal on, while the work in flight finishes.
            if let Some(socket) = &socket {
                socket.shutdown().await;
            }
        })
    };
    let signal = {
        let mut stopped = stop.subscribe();
        async move {
            tokio::select! {
                () = crate::shutdown::signal() => { let _ = stop.send(()); }
                _ = stopped.recv() => {}
            }
        }
    };
    let (matrix, served, ()) = tokio::join!(matrix_stopped, app_stopped, signal);
    served?;
    matrix?;
    Ok(ExitCode::SUCCESS)
}
