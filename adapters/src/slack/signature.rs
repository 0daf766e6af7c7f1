//! Slack request signing: `v0=` HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the signing secret, checked in
//! constant time, with a 5-minute window against an injectable clock (tests and the load generator sign too).

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// Header carrying the signature (`v0=…`).
pub const SIGNATURE_HEADER: &str = "x-slack-signature";
/// Header carrying the request timestamp (Unix seconds).
pub const TIMESTAMP_HEADER: &str = "x-slack-request-timestamp";
/// How far a request's timestamp may be from now, either way.
pub const MAX_AGE_SECONDS: i64 = 5 * 60;

/// Why a request is not from Slack (every variant answers 401).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request is not signed (no {SIGNATURE_HEADER} or {TIMESTAMP_HEADER} header)")]
    Missing,
    #[error("the request timestamp `{0}` is not a number of seconds")]
    BadTimestamp(String),
    #[error(
        "the request is {age_seconds} s away from now (at most {MAX_AGE_SECONDS} s): stale or replayed"
    )]
    Stale { age_seconds: i64 },
    #[error(
        "the signature does not match the body (wrong signing secret, or the body was altered)"
    )]
    Mismatch,
}

/// Signs and verifies requests with one signing secret.
#[derive(Clone)]
pub struct SlackSigner {
    secret: SecretString,
}

impl std::fmt::Debug for SlackSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SlackSigner(..)")
    }
}

impl SlackSigner {
    /// A signer for `secret` (the app's signing secret).
    pub fn new(secret: SecretString) -> Self {
        SlackSigner { secret }
    }

    fn mac(&self, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.secret.expose_secret().as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"v0:");
        mac.update(timestamp.as_bytes());
        mac.update(b":");
        mac.update(body);
        mac
    }

    /// The `x-slack-signature` value Slack would send for `body` at `timestamp`.
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        let digest = self
            .mac(&timestamp.to_string(), body)
            .finalize()
            .into_bytes();
        format!("v0={}", hex::encode(digest))
    }

    /// Checks `signature` over the raw `body` at `timestamp`, `now` being the current Unix time in seconds.
    pub fn verify(
        &self,
        signature: Option<&str>,
        timestamp: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<(), SignatureError> {
        let (Some(signature), Some(timestamp)) = (signature, timestamp) else {
            return Err(SignatureError::Missing);
        };
        let ts: i64 = timestamp
            .trim()
            .parse()
            .map_err(|_| SignatureError::BadTimestamp(timestamp.chars().take(20).collect()))?;
        let age = now.saturating_sub(ts);
        if age.saturating_abs() > MAX_AGE_SECONDS {
            return Err(SignatureError::Stale { age_seconds: age });
        }
        let given = signature
            .strip_prefix("v0=")
            .and_then(|h| hex::decode(h).ok())
            .ok_or(SignatureError::Mismatch)?;
        self.mac(timestamp.trim(), body)
            .verify_slice(&given)
            .map_err(|_| SignatureError::Mismatch)
    }
}

/// The current Unix time in seconds.
pub fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> SlackSigner {
        SlackSigner::new(SecretString::from("8f742231b10e8888abcd99yyyzzz85a5"))
    }

    #[test]
    fn matches_slacks_documented_example() {
        // The example from Slack's "Verifying requests from Slack" page.
        let body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
        assert_eq!(signer().sign(1531420618, body), expected);
        assert_eq!(
            signer().verify(Some(expected), Some("1531420618"), body, 1531420618 + 10),
            Ok(())
        );
    }

    #[test]
    fn altered_unsigned_stale_and_future_requests_fail() {
        let s = signer();
        let sig = s.sign(1000, b"a=1");
        assert_eq!(
            s.verify(Some(&sig), Some("1000"), b"a=2", 1000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            s.verify(None, Some("1000"), b"a=1", 1000),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            s.verify(Some(&sig), Some("1000"), b"a=1", 1000 + 301),
            Err(SignatureError::Stale { age_seconds: 301 })
        );
        assert_eq!(
            s.verify(Some(&sig), Some("1000"), b"a=1", 1000 - 301),
            Err(SignatureError::Stale { age_seconds: -301 })
        );
        assert!(matches!(
            s.verify(Some(&sig), Some("soon"), b"a=1", 1000),
            Err(SignatureError::BadTimestamp(_))
        ));
        assert_eq!(
            s.verify(Some("v0=zz"), Some("1000"), b"a=1", 1000),
            Err(SignatureError::Mismatch)
        );
        let other = SlackSigner::new(SecretString::from("another-secret"));
        assert_eq!(
            other.verify(Some(&sig), Some("1000"), b"a=1", 1000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            s.verify(Some(&sig), Some("1000"), b"a=1", 1000 + 300),
            Ok(())
        );
    }
}
