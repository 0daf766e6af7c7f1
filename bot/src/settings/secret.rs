//! Secret-bearing values in settings: URLs whose credentials must never be shown, and secrets read leniently
//! from the environment (where `MYSTOCKS_BOT__AUDIT__HMAC_KEY=123456` would otherwise parse as a number).

use std::fmt;

use secrecy::SecretString;
use serde::{Deserialize, Deserializer};

/// A URL that may carry credentials (`postgres://user:password@host/db`, `redis://:password@host`).
/// `Debug` and `Display` show it redacted; [`CredentialUrl::expose`] gives the full URL to the one caller that
/// connects with it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct CredentialUrl(String);

impl CredentialUrl {
    /// Wraps a URL string.
    pub fn new(url: impl Into<String>) -> Self {
        CredentialUrl(url.into())
    }

    /// The full URL, credentials included: only for connecting, never for showing.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL's scheme (`postgres`, `sqlite`, `redis`), lower-cased, or "" when it has none.
    pub fn scheme(&self) -> String {
        self.0
            .split_once(':')
            .map(|(s, _)| s.to_ascii_lowercase())
            .unwrap_or_default()
    }

    /// The URL with its password replaced by `***`.
    pub fn redacted(&self) -> String {
        redact_url(&self.0)
    }
}

impl fmt::Debug for CredentialUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CredentialUrl({:?})", self.redacted())
    }
}

impl fmt::Display for CredentialUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Replaces the credentials of a URL with `***` (`postgres://u:pw@h/db` → `postgres://u:***@h/db`, secret query
/// parameters too — `mystocks_commands::store::redact_url`); a URL with only a user part (`redis://token@host`)
/// has that part hidden as well, since some services take a token there.
pub fn redact_url(raw: &str) -> String {
    let redacted = mystocks_commands::store::redact_url(raw);
    match url::Url::parse(&redacted) {
        Ok(mut url) if url.password().is_none() && !url.username().is_empty() => {
            let _ = url.set_username("***");
            url.to_string()
        }
        _ => redacted,
    }
}

/// Deserializes an optional secret from a string, or from a number or boolean (environment values are typed by
/// figment, so a numeric token would otherwise be rejected).
pub fn lenient_secret<'de, D>(deserializer: D) -> Result<Option<SecretString>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Unsigned(u64),
        Signed(i64),
        Float(f64),
        Flag(bool),
    }
    let raw: Option<Raw> = Option::deserialize(deserializer)?;
    Ok(raw.map(|r| {
        let text = match r {
            Raw::Text(s) => s,
            Raw::Unsigned(n) => n.to_string(),
            Raw::Signed(n) => n.to_string(),
            Raw::Float(n) => n.to_string(),
            Raw::Flag(b) => b.to_string(),
        };
        SecretString::from(text)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_is_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(
            redact_url("redis://:pw@cache:6379/0"),
            "redis://:***@cache:6379/0"
        );
    }

    #[test]
    fn bare_user_part_is_hidden_and_plain_urls_unchanged() {
        assert_eq!(
            redact_url("redis://token@cache:6379"),
            "redis://***@cache:6379"
        );
        assert_eq!(redact_url("sqlite://data/bot.db"), "sqlite://data/bot.db");
        assert_eq!(redact_url("not a url"), "not a url");
        assert!(!redact_url("weird u:pw@ thing").contains("pw"));
        assert_eq!(
            redact_url("postgres://h/db?password=pw"),
            "postgres://h/db?password=***"
        );
    }

    #[test]
    fn debug_and_display_hide_the_password() {
        let url = CredentialUrl::new("postgres://bot:hunter2@db:5432/bot");
        assert!(!format!("{url:?}").contains("hunter2"));
        assert!(!url.to_string().contains("hunter2"));
        assert_eq!(url.expose(), "postgres://bot:hunter2@db:5432/bot");
        assert_eq!(url.scheme(), "postgres");
    }
}
