//! Typed settings, layered: one TOML file, then `MYSTOCKS_BOT__SECTION__KEY` environment overrides.
//!
//! Every field is documented in `deploy/config.example.toml`. Secrets are `SecretString`s and URLs that may carry
//! credentials are [`CredentialUrl`]s, so `Debug` of [`Settings`] never shows a secret.

mod incidents;
mod secret;
mod slack;
mod validate;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use mystocks_commands::checks::ChecksConfig;
use mystocks_commands::directory::DirectoryConfig;
use mystocks_commands::engine::ratelimit::RateLimitConfig;
use mystocks_commands::incident::IncidentConfig;
use mystocks_commands::policy::PolicyConfig;
use mystocks_commands::runbook::RunbooksConfig;
use secrecy::SecretString;
use serde::Deserialize;

pub use incidents::PagerDutySettings;
pub use secret::{CredentialUrl, redact_url};
pub use validate::Summary;

/// The prefix of environment overrides: `MYSTOCKS_BOT__AUDIT__HMAC_KEY` sets `[audit] hmac_key`.
pub const ENV_PREFIX: &str = "MYSTOCKS_BOT__";

/// All settings of `mystocks-bot run`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub service: ServiceSettings,
    #[serde(default)]
    pub kubernetes: KubernetesSettings,
    #[serde(default)]
    pub store: StoreSettings,
    #[serde(default)]
    pub coordinator: CoordinatorSettings,
    #[serde(default)]
    pub audit: AuditSettings,
    /// Roles, quorum, expiry, scale bounds, allowed images.
    #[serde(default)]
    pub policy: PolicyConfig,
    /// Persons, their identities and roles, groups.
    #[serde(default)]
    pub people: DirectoryConfig,
    /// Commands per person per minute, by class.
    #[serde(default)]
    pub rate_limit: RateLimitConfig,
    /// Health checks, metrics and database commands: which checks run, timeouts, thresholds. URLs not given
    /// here come from `[service]` (see [`Settings::checks_config`]).
    #[serde(default)]
    pub checks: ChecksConfig,
    /// Where the runbook files are (`[runbooks] directory`); a malformed file is reported, never fatal.
    #[serde(default)]
    pub runbooks: RunbooksConfig,
    /// Incident response: the war-room channel, response times, on-call, who may ack and break glass.
    #[serde(default)]
    pub incidents: IncidentConfig,
    /// PagerDuty Events API v2; absent means no paging.
    pub pagerduty: Option<PagerDutySettings>,
    /// Slack; absent means Slack is off.
    pub slack: Option<SlackSettings>,
    /// Matrix; absent means Matrix is off.
    pub matrix: Option<MatrixSettings>,
    #[serde(default)]
    pub server: ServerSettings,
    /// Bounds on the work the bot takes on at once.
    #[serde(default)]
    pub limits: LimitsSettings,
    /// Stored jobs: how long a replica holds one before another may take it over.
    #[serde(default)]
    pub jobs: JobsSettings,
}

impl Settings {
    /// The checks settings with `[service]`'s URLs filled in where `[checks]` gives none.
    pub fn checks_config(&self) -> ChecksConfig {
        let svc = &self.service;
        let mut checks = self.checks.clone();
        checks.api_url = checks.api_url.or_else(|| Some(svc.api_url.clone()));
        let exposed = |u: &Option<CredentialUrl>| u.as_ref().map(|u| u.expose().to_string());
        checks.redis_url = checks.redis_url.or_else(|| exposed(&svc.cache_url));
        checks.database_url = checks.database_url.or_else(|| exposed(&svc.database_url));
        checks.prometheus_url = checks.prometheus_url.or_else(|| svc.prometheus_url.clone());
        checks
    }
}

/// The service the bot operates (defaults: the MyStocks API). `Debug` redacts credentials in its URLs.
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceSettings {
    pub namespace: String,
    pub deployment: String,
    pub container: String,
    /// Label selector of the service's pods.
    pub selector: String,
    /// Base URL of the service's HTTP API (health checks).
    pub api_url: String,
    /// The service's own database (table sizes, VACUUM); database commands answer "not configured" without it.
    pub database_url: Option<CredentialUrl>,
    /// The service's cache (Redis PING).
    pub cache_url: Option<CredentialUrl>,
    /// Prometheus, for metrics queries.
    pub prometheus_url: Option<String>,
}

impl std::fmt::Debug for ServiceSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceSettings")
            .field("namespace", &self.namespace)
            .field("deployment", &self.deployment)
            .field("container", &self.container)
            .field("selector", &self.selector)
            .field("api_url", &redact_url(&self.api_url))
            .field("database_url", &self.database_url)
            .field("cache_url", &self.cache_url)
            .field(
                "prometheus_url",
                &self.prometheus_url.as_deref().map(redact_url),
            )
            .finish()
    }
}

impl Default for ServiceSettings {
    fn default() -> Self {
        ServiceSettings {
            namespace: "mystocks".into(),
            deployment: "mystocks-api".into(),
            container: "mystocks-api".into(),
            selector: "app=mystocks-api".into(),
            api_url: "http://mystocks-api.mystocks:8000".into(),
            database_url: None,
            cache_url: None,
            prometheus_url: None,
        }
    }
}

/// How to reach the Kubernetes API.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KubernetesSettings {
    /// A kubeconfig file; none means kube's default (`KUBECONFIG`, `~/.kube/config`, or in-cluster).
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context; none means its current context.
    pub context: Option<String>,
    /// Use the pod's service account (when the bot runs in the cluster it operates).
    pub in_cluster: bool,
}

/// The bot's own store.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    /// `sqlite://PATH` or `postgres://USER:PASSWORD@HOST/DB`; none means a SQLite file in `data_dir`.
    pub url: Option<CredentialUrl>,
    /// Where the default SQLite file lives.
    pub data_dir: PathBuf,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            url: None,
            data_dir: PathBuf::from("data"),
        }
    }
}

impl StoreSettings {
    /// The URL the store connects to: the configured one, or the SQLite file in `data_dir`.
    pub fn effective_url(&self) -> CredentialUrl {
        match &self.url {
            Some(url) => url.clone(),
            None => CredentialUrl::new(format!(
                "sqlite://{}",
                self.data_dir.join("mystocks-bot.db").display()
            )),
        }
    }
}

/// Coordination between replicas.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CoordinatorSettings {
    /// `redis://…`; none means in-process (one replica only).
    pub redis_url: Option<CredentialUrl>,
}

/// The audit log.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditSettings {
    /// The HMAC key of the audit chain (required for `run`; never stored in the database).
    #[serde(deserialize_with = "secret::lenient_secret")]
    pub hmac_key: Option<SecretString>,
    /// Where the chain's checkpoint is kept outside the database (`[audit.checkpoint]`); none: no checkpoint, and
    /// the newest entries could be cut off with the chain head unnoticed.
    pub checkpoint: Option<CheckpointSettings>,
}

/// `[audit.checkpoint]`: the ConfigMap the bot writes the chain's signed checkpoint to (get and update only).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointSettings {
    /// The cluster holding the ConfigMap. Reserved for when the bot talks to several clusters; today only
    /// `"bot"`, the cluster of `[kubernetes]` (the default).
    #[serde(default = "bot_cluster")]
    pub cluster: String,
    /// The ConfigMap's namespace (the bot's own, e.g. `mystocks-bot`).
    pub namespace: String,
    /// The ConfigMap's name (e.g. `mystocks-bot-audit-checkpoint`).
    pub name: String,
    /// How often the checkpoint is brought up to date (`"10s"`, the default; shorter only for tests).
    #[serde(default = "checkpoint_interval")]
    pub interval: String,
}

/// The only `[audit.checkpoint] cluster` today: the cluster the bot talks to.
pub const BOT_CLUSTER: &str = "bot";

fn bot_cluster() -> String {
    BOT_CLUSTER.into()
}

fn checkpoint_interval() -> String {
    "10s".into()
}

/// Slack (the adapter: `mystocks_adapters::slack`; see docs/slack.md).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackSettings {
    /// Bot token (`xoxb-…`).
    #[serde(default, deserialize_with = "secret::lenient_secret")]
    pub bot_token: Option<SecretString>,
    /// Signing secret for the Events API (not needed with Socket Mode).
    #[serde(default, deserialize_with = "secret::lenient_secret")]
    pub signing_secret: Option<SecretString>,
    /// App-level token (`xapp-…`): set it to use Socket Mode instead of the Events API.
    #[serde(default, deserialize_with = "secret::lenient_secret")]
    pub app_token: Option<SecretString>,
    /// Slack Web API base URL (tests point it at a fake Slack).
    #[serde(default = "default_slack_api")]
    pub api_url: String,
    /// The workspace id (`T…`) the bot serves; requests from other workspaces are refused. Required for `run`.
    #[serde(default)]
    pub team_id: String,
    /// Enterprise Grid: the organisation id (`E…`). When set, only requests from it are taken, from `team_id` and
    /// `workspaces`, and people's identities are `slack:E…/U…`.
    #[serde(default)]
    pub enterprise_id: Option<String>,
    /// Enterprise Grid: the organisation's other workspaces (`T…`) the bot serves besides `team_id`.
    #[serde(default)]
    pub workspaces: Vec<String>,
    /// The app id (`A…`); requests naming another app are refused.
    #[serde(default)]
    pub api_app_id: Option<String>,
    /// The bot user's id (`U…`): its mention is stripped from commands and its own messages are ignored.
    #[serde(default)]
    pub bot_user_id: Option<String>,
    /// Least milliseconds between two posts in one channel (Slack allows about one message a second).
    #[serde(default = "default_slack_post_interval")]
    pub post_interval_ms: u64,
    /// Roles from Slack user groups: group id (`S…`) → role name. Members hold the role as well as their
    /// `[people]` roles.
    #[serde(default)]
    pub usergroup_roles: std::collections::BTreeMap<String, String>,
    /// How long a user group's members are trusted before `usergroups.users.list` is asked again.
    #[serde(default = "default_usergroup_ttl")]
    pub usergroup_ttl: String,
    /// How long a slash command's HTTP response may wait to carry the answer itself (0: acknowledge at once).
    #[serde(default = "default_ack_wait")]
    pub ack_wait_ms: u64,
}

fn default_usergroup_ttl() -> String {
    "5m".into()
}

fn default_ack_wait() -> u64 {
    slack::DEFAULT_ACK_WAIT_MS
}

fn default_slack_api() -> String {
    "https://slack.com/api".into()
}

fn default_slack_post_interval() -> u64 {
    1000
}

/// Matrix (the adapter: `mystocks_adapters::matrix`; see docs/matrix.md).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixSettings {
    pub homeserver_url: String,
    /// The bot's user id, `@mystocks:example.org`.
    pub user_id: String,
    #[serde(default, deserialize_with = "secret::lenient_secret")]
    pub password: Option<SecretString>,
    #[serde(default, deserialize_with = "secret::lenient_secret")]
    pub access_token: Option<SecretString>,
    /// Rooms the bot answers in (ids `!abc:example.org`); others are ignored.
    #[serde(default)]
    pub rooms: Vec<String>,
    /// The session, state and crypto stores (keep it on a persistent volume: it is the bot's one device).
    #[serde(default = "default_matrix_store")]
    pub store_dir: PathBuf,
    /// Encrypts the state and crypto stores at rest, when set.
    #[serde(default, deserialize_with = "secret::lenient_secret")]
    pub store_passphrase: Option<SecretString>,
    /// Homeservers whose users may address the bot; empty means the bot's own homeserver only.
    #[serde(default)]
    pub allowed_servers: Vec<String>,
    /// Changes sent while the bot was away and older than this are not run late ("5m", or seconds).
    #[serde(default = "default_matrix_offline_max_age")]
    pub offline_max_age: String,
    /// At most one edit of a message (rollout progress) per this interval ("2s", or seconds).
    #[serde(default = "default_matrix_edit_interval")]
    pub edit_interval: String,
}

fn default_matrix_store() -> PathBuf {
    PathBuf::from("data/matrix")
}

fn default_matrix_offline_max_age() -> String {
    "5m".into()
}

fn default_matrix_edit_interval() -> String {
    "2s".into()
}

/// Listen addresses.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Slack Events API endpoints.
    pub listen: SocketAddr,
    /// The bot's own endpoints — `/healthz`, `/readyz`, `/metrics` — on a port never exposed publicly. Unset:
    /// they are served on `listen`, next to the Slack endpoints.
    pub ops_listen: Option<SocketAddr>,
    /// On SIGTERM, how long in-flight work (a rollout being followed, a runbook step) may go on before it is
    /// handed over to another replica (`"25s"`; keep it below the pod's terminationGracePeriodSeconds).
    pub shutdown_grace: String,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            ops_listen: None,
            shutdown_grace: "25s".into(),
        }
    }
}

/// Bounds on the work the bot takes on at once.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsSettings {
    /// Deliveries (slash commands, events, button presses, Matrix messages) handled at once; with all taken, a
    /// new one is answered "busy" at once.
    pub max_in_flight: usize,
}

impl Default for LimitsSettings {
    fn default() -> Self {
        LimitsSettings {
            max_in_flight: mystocks_adapters::in_flight::DEFAULT_MAX_IN_FLIGHT,
        }
    }
}

/// Stored jobs (executing an approval and following its rollout, runbook runs, SLA timers).
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsSettings {
    /// A job's lease (`"30s"`): the replica running a job renews it every third of this; when the replica dies
    /// without SIGTERM, another takes the job over once it has run out. At least 3 s.
    pub lease: String,
}

impl JobsSettings {
    /// The shortest lease: renewed every third of it, a shorter one would leave a store round trip no room.
    pub const MIN_LEASE: std::time::Duration = std::time::Duration::from_secs(3);

    /// The lease; the default 30 s if it does not parse (`problems` reports that).
    pub fn lease(&self) -> std::time::Duration {
        mystocks_commands::policy::parse_duration(&self.lease)
            .unwrap_or(std::time::Duration::from_secs(30))
    }
}

impl Default for JobsSettings {
    fn default() -> Self {
        JobsSettings {
            lease: "30s".into(),
        }
    }
}

/// Why settings could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("config file {path} cannot be read: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("config is malformed: {0}")]
    Malformed(Box<figment::Error>),
    #[error("config is invalid:\n  - {}", .0.join("\n  - "))]
    Invalid(Vec<String>),
}

impl Settings {
    /// The layered sources: the TOML file, then the environment.
    pub fn figment(path: &Path) -> Figment {
        Figment::new()
            .merge(Toml::file_exact(path))
            .merge(Env::prefixed(ENV_PREFIX).split("__"))
    }

    /// Loads and validates the settings from `path` plus the environment.
    pub fn load(path: &Path) -> Result<Settings, SettingsError> {
        if let Err(e) = std::fs::metadata(path) {
            return Err(SettingsError::File {
                path: path.to_path_buf(),
                reason: e.to_string(),
            });
        }
        let settings: Settings = Settings::figment(path)
            .extract()
            .map_err(|e| SettingsError::Malformed(Box::new(e)))?;
        let problems = settings.problems();
        if problems.is_empty() {
            Ok(settings)
        } else {
            Err(SettingsError::Invalid(problems))
        }
    }
}

#[cfg(test)]
mod tests;
