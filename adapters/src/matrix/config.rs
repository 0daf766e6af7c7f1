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

/// Checks a room id as the Matrix spec defines it for every room version: `!` and an opaque part, which before
/// room version 12 ends in `:server` (`!abc:example.org`) and from version 12 on is the hash of the room's create
/// event, with no server (`!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM`). Aliases (`#ops:example.org`) are not
/// room ids. The answer says what is wrong.
pub fn check_room_id(id: &str) -> Result<(), String> {
    if id.starts_with('#') {
        return Err(format!(
            "`{id}` is a room alias; give the room id (Element: Room settings → Advanced → Internal room ID)"
        ));
    }
    if id.len() <= 1 || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "`{id}` is not a room id: a room id is `!` and its id (`!abc:example.org`, or on room version 12 and later `!` and a hash with no server)"
        ));
    }
    matrix_sdk::ruma::RoomId::parse(id)
        .map(|_| ())
        .map_err(|e| {
            format!(
                "`{id}` is not a room id ({e}): a room id starts with `!`, like `!abc:example.org`"
            )
        })
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
    fn room_ids_of_every_room_version_are_accepted_and_aliases_are_not() {
        for good in [
            "!abc:example.org",
            "!OGEhHVWSdvArJzumhm:matrix.org",
            // Room version 12: the create event's hash, no server.
            "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM",
        ] {
            assert_eq!(check_room_id(good), Ok(()), "{good}");
        }
        for bad in [
            "#ops:example.org",
            "!",
            "abc:example.org",
            "! abc",
            "",
            "@alice:example.org",
        ] {
            let why = check_room_id(bad).expect_err(bad);
            assert!(why.contains(&format!("`{bad}`")), "names the value: {why}");
        }
        assert!(
            check_room_id("#ops:example.org")
                .unwrap_err()
                .contains("alias")
        );
    }

    #[test]
    fn debug_shows_no_secret() {
        let text = format!("{:?}", config());
        assert!(!text.contains("\"pw\""), "{text}");
    }
}
