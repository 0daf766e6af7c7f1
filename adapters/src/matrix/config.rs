//! What the Matrix adapter needs to know: the homeserver, the bot account and how it logs in, the rooms it answers
//! in, the homeservers whose users it accepts, and where its session and end-to-end encryption stores live.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

/// How the bot account logs in the first time (afterwards the saved session is restored: the same device).
#[derive(Clone, Debug)]
pub enum Login {
    Password(SecretString),
    /// An access token of an existing device; its device id is asked from the homeserver.
    AccessToken(SecretString),
}

/// The Matrix adapter's settings. `Debug` shows no secret.
#[derive(Clone, Debug)]
pub struct MatrixConfig {
    /// Homeserver base URL, `https://matrix.example.org`.
    pub homeserver_url: String,
    /// The bot's user id, `@mystocks:example.org`.
    pub user_id: String,
    pub login: Login,
    /// Room ids (`!abc:example.org`) the bot joins when invited and answers in; every other room is ignored and
    /// its invitations are declined.
    pub rooms: Vec<String>,
    /// Homeservers whose users may address the bot (`example.org`); empty means the bot's own homeserver only.
    pub allowed_servers: Vec<String>,
    /// Holds the session (`session.json`) and the state and crypto stores (`store/`); must survive restarts.
    pub data_dir: PathBuf,
    /// Encrypts the state and crypto stores at rest, when set.
    pub store_passphrase: Option<SecretString>,
    /// Changes (and votes) that arrived longer ago than this while the bot was away are not run: the sender is
    /// asked to send them again. Read-only commands are answered whatever their age.
    pub offline_max_age: Duration,
    /// At most one edit of the same message per this interval; newer content in between replaces older content.
    pub edit_interval: Duration,
    /// How long one sync request waits for news.
    pub sync_timeout: Duration,
    /// The device's display name, set on first login.
    pub device_name: String,
}

impl MatrixConfig {
    /// Settings with the defaults for everything but where to connect and how to log in.
    pub fn new(
        homeserver_url: impl Into<String>,
        user_id: impl Into<String>,
        login: Login,
        data_dir: PathBuf,
    ) -> Self {
        MatrixConfig {
            homeserver_url: homeserver_url.into(),
            user_id: user_id.into(),
            login,
            rooms: Vec::new(),
            allowed_servers: Vec::new(),
            data_dir,
            store_passphrase: None,
            offline_max_age: DEFAULT_OFFLINE_MAX_AGE,
            edit_interval: DEFAULT_EDIT_INTERVAL,
            sync_timeout: Duration::from_secs(30),
            device_name: "mystocks-bot".to_string(),
        }
    }

    /// The server part of the bot's user id (`example.org` of `@mystocks:example.org`).
    pub fn own_server(&self) -> Option<&str> {
        self.user_id.split_once(':').map(|(_, server)| server)
    }

    /// Whether users of `server` may address the bot.
    pub fn server_allowed(&self, server: &str) -> bool {
        if self.allowed_servers.is_empty() {
            return self.own_server() == Some(server);
        }
        self.allowed_servers
            .iter()
            .any(|s| s.eq_ignore_ascii_case(server))
    }

    /// Whether the bot answers in `room_id`.
    pub fn room_allowed(&self, room_id: &str) -> bool {
        self.rooms.iter().any(|r| r == room_id)
    }
}

/// Default of [`MatrixConfig::offline_max_age`]: 5 minutes.
pub const DEFAULT_OFFLINE_MAX_AGE: Duration = Duration::from_secs(300);
/// Default of [`MatrixConfig::edit_interval`]: 2 seconds.
pub const DEFAULT_EDIT_INTERVAL: Duration = Duration::from_secs(2);

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> MatrixConfig {
        let login = Login::Password(SecretString::from("pw"));
        MatrixConfig::new(
            "http://127.0.0.1:1",
            "@bot:example.org",
            login,
            PathBuf::from("data"),
        )
    }

    #[test]
    fn own_server_is_the_default_allow_list() {
        let c = config();
        assert!(c.server_allowed("example.org"));
        assert!(!c.server_allowed("evil.example"));
    }

    #[test]
    fn explicit_allow_list_replaces_the_default() {
        let mut c = config();
        c.allowed_servers = vec!["Partner.org".into()];
        assert!(c.server_allowed("partner.org"));
        assert!(!c.server_allowed("example.org"));
    }

    #[test]
    fn debug_shows_no_secret() {
        let text = format!("{:?}", config());
        assert!(!text.contains("\"pw\""), "{text}");
    }
}
