//! Slack in the bot: builds the Web API client (its failures counted in the bot's metrics) and sink from
//! `[slack]`, registers the sink with the core (so stored jobs can update Slack messages), adds the roles of
//! `[slack.usergroup_roles]` to the core's directory, and starts either the HTTP endpoints (merged into the bot's
//! server) or Socket Mode when an app-level token is set. `run` with Slack lives here too.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use mystocks_adapters::slack::{
    ApiObserver, ApiSettings, ResponseUrls, SlackApi, SlackFront, SlackIdentity, SlackSigner,
    SlackSink, SocketMode, UsergroupRoles, http,
};
use mystocks_commands::Handler;
use mystocks_commands::policy::PolicyConfig;

use crate::application::Application;
use crate::metrics::Metrics;
use crate::settings::{Settings, SettingsError, SlackSettings};

/// Slack, started: HTTP routes to serve, or a Socket Mode connection.
pub enum SlackService {
    Http(axum::Router),
    Socket(SocketMode),
}

/// Every failed Slack Web API attempt (429s, 5xx, refusals) is counted in `mystocks_bot_slack_*`.
impl ApiObserver for Metrics {
    fn failed(&self, method: &str, kind: &str) {
        tracing::debug!(method, kind, "Slack Web API call failed");
        self.slack_api_error(kind);
    }
}

/// Builds the Slack side of `app`: `settings` is its `[slack]`, `policy` names the roles user groups grant.
pub async fn start(
    settings: &SlackSettings,
    policy: &PolicyConfig,
    app: &Application,
) -> anyhow::Result<SlackService> {
    anyhow::ensure!(
        !settings.team_id.trim().is_empty(),
        "slack.team_id is missing: set it to your workspace id (T…, shown by auth.test or in the workspace URL)"
    );
    let core = app.core();
    let token = settings
        .bot_token
        .clone()
        .context("slack.bot_token is missing (the app's xoxb- token)")?;
    let api_settings = ApiSettings {
        api_url: settings.api_url.clone(),
        post_interval: Duration::from_millis(settings.post_interval_ms),
        ..ApiSettings::default()
    };
    let metrics: Arc<dyn ApiObserver> = app.metrics().clone();
    let api = Arc::new(SlackApi::new(&token, api_settings)?.with_observer(metrics));
    let response_urls = Arc::new(ResponseUrls::default());
    let sink = Arc::new(SlackSink::new(api.clone()).with_response_urls(response_urls.clone()));
    core.register_sink("slack", sink.clone());
    let identity = SlackIdentity {
        team_id: settings.team_id.trim().to_string(),
        enterprise_id: settings.enterprise().map(str::to_string),
        workspaces: settings
            .workspaces
            .iter()
            .map(|w| w.trim().to_string())
            .collect(),
        api_app_id: settings.api_app_id.clone(),
        bot_user_id: settings.bot_user_id.clone(),
    };
    let handler: Arc<dyn Handler> = Arc::new(core.clone());
    let mut front = SlackFront::new(identity, handler, sink)
        .with_in_flight(app.in_flight().clone())
        .with_response_urls(response_urls)
        .with_messages(api.clone())
        .with_ack_wait(settings.ack_wait());
    let groups = settings
        .usergroup_roles(policy)
        .map_err(anyhow::Error::msg)?;
    if !groups.is_empty() {
        let source = Arc::new(UsergroupRoles::new(
            api.clone(),
            settings.enterprise().unwrap_or(settings.team_id.trim()),
            groups,
            settings.usergroup_ttl(),
        ));
        core.context().directory.add_role_source(source.clone());
        front = front.with_usergroups(source);
    }
    if let Some(app_token) = &settings.app_token {
        let socket = SocketMode::start(front, &settings.api_url, app_token).await?;
        tracing::info!("Slack: Socket Mode connected");
        return Ok(SlackService::Socket(socket));
    }
    let secret = settings
        .signing_secret
        .clone()
        .context("slack.signing_secret is missing (needed for the Events API; or set slack.app_token for Socket Mode)")?;
    tracing::info!(
        commands = http::COMMANDS_PATH,
        events = http::EVENTS_PATH,
        interactions = http::INTERACTIONS_PATH,
        "Slack: HTTP endpoints"
    );
    Ok(SlackService::Http(http::router(
        front,
        SlackSigner::new(secret),
    )))
}

/// Builds the application with Slack attached (the routes merged, or Socket Mode running).
pub async fn build(settings: &Settings) -> anyhow::Result<(Application, Option<SocketMode>)> {
    let app = Application::build(settings).await?;
    let Some(slack) = &settings.slack else {
        return Ok((app, None));
    };
    match start(slack, &settings.policy, &app).await? {
        SlackService::Http(routes) => Ok((app.with_routes(routes), None)),
        SlackService::Socket(socket) => Ok((app, Some(socket))),
    }
}

/// `run` with Slack configured: serves until SIGINT/SIGTERM.
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
    let (app, socket) = build(&settings).await?;
    tracing::info!(port = app.port(), "mystocks-bot is serving");
    app.run_until_stopped(async move {
        crate::shutdown::signal().await;
        // Socket Mode takes no new event from the signal on, while the work in flight finishes.
        if let Some(socket) = &socket {
            socket.shutdown().await;
        }
    })
    .await?;
    Ok(ExitCode::SUCCESS)
}
