//! The audit log's records and its HMAC chain: every row carries `mac = HMAC-SHA256(key, canonical(row) ‖
//! prev_mac)`, and a chain head kept outside the audit table records the last sequence number under the same key.
//! The key comes from the settings and is never stored in the database, so an attacker with write access to the
//! database can neither edit, delete nor re-hash rows without `verify` noticing. Deleting the newest rows together
//! with putting back an older head is caught only by the external checkpoint ([`AuditCheckpoint`]), kept outside
//! the database.
//!
//! The canonical encoding is length-prefixed (never JSON of a map), so no two different rows encode alike.

use chrono::{DateTime, SubsecRound, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::Value;
use sha2::Sha256;

use crate::store::StoreError;

pub use crate::store::chain_verify::{AuditProblem, AuditProblemKind, ChainVerifier, VerifyReport};
pub use checkpoint::AuditCheckpoint;

mod checkpoint;

type HmacSha256 = Hmac<Sha256>;

/// Domain-separation tags, so a row MAC can never pass as a head MAC or the reverse.
const ROW_TAG: &[u8] = b"mystocks-audit-row-v1\0";
const HEAD_TAG: &[u8] = b"mystocks-audit-head-v1\0";
const NOTE_TAG: &[u8] = b"mystocks-audit-note-v1\0";

/// The `prev_mac` of the first row.
pub const GENESIS_MAC: &str = "";

/// The secret that keys the audit chain. Never printed: `Debug` shows `AuditKey(***)`.
#[derive(Clone)]
pub struct AuditKey(SecretString);

impl AuditKey {
    /// Wraps the key from the settings; refuses an empty or very short one (at least 16 bytes).
    pub fn new(secret: SecretString) -> Result<Self, StoreError> {
        let len = secret.expose_secret().len();
        if len < 16 {
            return Err(StoreError::BadKey(format!(
                "the audit HMAC key has {len} bytes; give at least 16 (e.g. `openssl rand -hex 32`)"
            )));
        }
        Ok(AuditKey(secret))
    }

    /// A fresh random key (for a throw-away demo store; a persistent store needs the same key every start).
    pub fn random() -> Self {
        let bytes: [u8; 32] = rand::random();
        AuditKey(SecretString::from(hex::encode(bytes)))
    }

    /// Signs `text` for `purpose` (a short name: `reanchor-request`) under its own domain-separation tag, so a
    /// value the bot keeps in the database cannot be forged by someone who can only write the database. Hex.
    pub fn sign_note(&self, purpose: &str, text: &str) -> String {
        hex::encode(self.note_mac(purpose, text).finalize().into_bytes())
    }

    /// True when `signature` is [`AuditKey::sign_note`] of `text` for `purpose` (constant-time compare).
    pub fn note_is_signed(&self, purpose: &str, text: &str, signature: &str) -> bool {
        match hex::decode(signature) {
            Ok(stored) => self.note_mac(purpose, text).verify_slice(&stored).is_ok(),
            Err(_) => false,
        }
    }

    fn note_mac(&self, purpose: &str, text: &str) -> HmacSha256 {
        let mut mac = self.hmac();
        mac.update(NOTE_TAG);
        let mut encoded = Vec::new();
        put_str(&mut encoded, purpose);
        put_str(&mut encoded, text);
        mac.update(&encoded);
        mac
    }

    fn hmac(&self) -> HmacSha256 {
        // HMAC takes keys of any length, so this cannot fail.
        <HmacSha256 as Mac>::new_from_slice(self.0.expose_secret().as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
    }
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(***)")
    }
}

/// One invocation (or step of one) to record.
#[derive(Clone, Debug, PartialEq)]
pub struct NewAuditEntry {
    /// When it happened (kept to the microsecond).
    pub at: DateTime<Utc>,
    /// The person the actor maps to; `None` for an unknown identity.
    pub actor_person: Option<String>,
    /// The chat identity, e.g. `slack:T1/U2`.
    pub actor_identity: String,
    /// The conversation (channel, thread) as JSON.
    pub conversation: Value,
    /// The text as typed.
    pub text: String,
    /// The canonical command, when the text parsed.
    pub command: Option<String>,
    /// `allowed`, `refused`, `requested`, `approved`, `denied`, `executed`, …
    pub decision: String,
    /// What came of it (`ok`, `failed: …`), when known.
    pub outcome: Option<String>,
    /// How long the invocation took, when it is over.
    pub duration_ms: Option<i64>,
    /// The approval request this concerns, if any.
    pub approval_id: Option<String>,
    /// Anything else worth keeping.
    pub detail: Value,
}

/// A stored audit row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditRow {
    /// 1, 2, 3, … with no gaps.
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_person: Option<String>,
    pub actor_identity: String,
    pub conversation: Value,
    pub text: String,
    pub command: Option<String>,
    pub decision: String,
    pub outcome: Option<String>,
    pub duration_ms: Option<i64>,
    pub approval_id: Option<String>,
    pub detail: Value,
    /// The previous row's `mac` (empty for the first row), hex.
    pub prev_mac: String,
    /// HMAC-SHA256 over the canonical encoding of this row and `prev_mac`, hex.
    pub mac: String,
}

impl AuditRow {
    /// Builds the row that follows `prev_mac` at `seq`, with its MAC. Times are cut to microseconds, which both
    /// databases store exactly, so the MAC verifies after a round trip.
    pub fn seal(key: &AuditKey, seq: i64, prev_mac: &str, entry: NewAuditEntry) -> AuditRow {
        let mut row = AuditRow {
            seq,
            at: entry.at.trunc_subsecs(6),
            actor_person: entry.actor_person,
            actor_identity: entry.actor_identity,
            conversation: entry.conversation,
            text: entry.text,
            command: entry.command,
            decision: entry.decision,
            outcome: entry.outcome,
            duration_ms: entry.duration_ms,
            approval_id: entry.approval_id,
            detail: entry.detail,
            prev_mac: prev_mac.to_string(),
            mac: String::new(),
        };
        row.mac = hex::encode(row_mac(key, &row).finalize().into_bytes());
        row
    }

    /// True when `mac` is the MAC of this row's fields and `prev_mac` under `key` (constant-time compare).
    pub fn mac_is_valid(&self, key: &AuditKey) -> bool {
        match hex::decode(&self.mac) {
            Ok(stored) => row_mac(key, self).verify_slice(&stored).is_ok(),
            Err(_) => false,
        }
    }
}

/// The chain head, kept in its own one-row table and updated in the same transaction as each append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditHead {
    /// The `seq` of the newest row.
    pub last_seq: i64,
    /// The `mac` of the newest row.
    pub last_mac: String,
    /// HMAC over `last_seq` and `last_mac`.
    pub head_mac: String,
}

impl AuditHead {
    /// The head after appending `row`.
    pub fn after(key: &AuditKey, row: &AuditRow) -> AuditHead {
        let mac = head_mac(key, row.seq, &row.mac);
        AuditHead {
            last_seq: row.seq,
            last_mac: row.mac.clone(),
            head_mac: hex::encode(mac.finalize().into_bytes()),
        }
    }

    /// True when `head_mac` matches under `key`.
    pub fn mac_is_valid(&self, key: &AuditKey) -> bool {
        match hex::decode(&self.head_mac) {
            Ok(stored) => head_mac(key, self.last_seq, &self.last_mac)
                .verify_slice(&stored)
                .is_ok(),
            Err(_) => false,
        }
    }
}

fn row_mac(key: &AuditKey, row: &AuditRow) -> HmacSha256 {
    let mut mac = key.hmac();
    mac.update(ROW_TAG);
    mac.update(&canonical_row(row));
    mac
}

fn head_mac(key: &AuditKey, last_seq: i64, last_mac: &str) -> HmacSha256 {
    let mut mac = key.hmac();
    mac.update(HEAD_TAG);
    mac.update(&last_seq.to_be_bytes());
    let mut encoded = Vec::new();
    put_str(&mut encoded, last_mac);
    mac.update(&encoded);
    mac
}

/// The canonical encoding of a row (every field but `mac`): fixed-width integers and length-prefixed strings
/// with a presence byte for optional ones, in a fixed order. JSON payloads are encoded as serde_json writes a
/// `Value` (map keys sorted), which is also exactly the text the stores keep.
pub fn canonical_row(row: &AuditRow) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + row.text.len());
    out.extend_from_slice(&row.seq.to_be_bytes());
    out.extend_from_slice(&row.at.timestamp_micros().to_be_bytes());
    put_opt_str(&mut out, row.actor_person.as_deref());
    put_str(&mut out, &row.actor_identity);
    put_str(&mut out, &row.conversation.to_string());
    put_str(&mut out, &row.text);
    put_opt_str(&mut out, row.command.as_deref());
    put_str(&mut out, &row.decision);
    put_opt_str(&mut out, row.outcome.as_deref());
    match row.duration_ms {
        Some(ms) => {
            out.push(1);
            out.extend_from_slice(&ms.to_be_bytes());
        }
        None => out.push(0),
    }
    put_opt_str(&mut out, row.approval_id.as_deref());
    put_str(&mut out, &row.detail.to_string());
    put_str(&mut out, &row.prev_mac);
    out
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
        None => out.push(0),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn key() -> AuditKey {
        AuditKey::new(SecretString::from("unit-test-audit-key")).expect("key")
    }

    fn entry() -> NewAuditEntry {
        NewAuditEntry {
            at: Utc
                .with_ymd_and_hms(2026, 11, 28, 12, 0, 0)
                .single()
                .expect("time"),
            actor_person: Some("alice".into()),
            actor_identity: "console:alice".into(),
            conversation: json!({"channel": "console:main"}),
            text: "scale 5".into(),
            command: Some("scale 5".into()),
            decision: "requested".into(),
            outcome: None,
            duration_ms: Some(12),
            approval_id: Some("A1".into()),
            detail: json!({}),
        }
    }

    #[test]
    fn moving_bytes_between_fields_changes_the_encoding() {
        let a = AuditRow::seal(
            &key(),
            1,
            GENESIS_MAC,
            NewAuditEntry {
                text: "ab".into(),
                decision: "c".into(),
                ..entry()
            },
        );
        let b = AuditRow::seal(
            &key(),
            1,
            GENESIS_MAC,
            NewAuditEntry {
                text: "a".into(),
                decision: "bc".into(),
                ..entry()
            },
        );
        assert_ne!(canonical_row(&a), canonical_row(&b));
        assert_ne!(a.mac, b.mac);
        // None and Some("") differ too.
        let none = AuditRow::seal(
            &key(),
            1,
            GENESIS_MAC,
            NewAuditEntry {
                outcome: None,
                ..entry()
            },
        );
        let empty = AuditRow::seal(
            &key(),
            1,
            GENESIS_MAC,
            NewAuditEntry {
                outcome: Some(String::new()),
                ..entry()
            },
        );
        assert_ne!(none.mac, empty.mac);
    }

    #[test]
    fn every_field_is_covered_by_the_mac() {
        let row = AuditRow::seal(&key(), 7, "ab12", entry());
        assert!(row.mac_is_valid(&key()));
        let edits: Vec<fn(&mut AuditRow)> = vec![
            |r| r.seq = 8,
            |r| r.at += chrono::Duration::microseconds(1),
            |r| r.actor_person = None,
            |r| r.actor_identity.push('x'),
            |r| r.conversation = json!({"channel": "elsewhere"}),
            |r| r.text.push('!'),
            |r| r.command = None,
            |r| r.decision = "allowed".into(),
            |r| r.outcome = Some("ok".into()),
            |r| r.duration_ms = Some(13),
            |r| r.approval_id = Some("A2".into()),
            |r| r.detail = json!({"x": 1}),
            |r| r.prev_mac = "ab13".into(),
            |r| r.mac = "not hex".into(),
        ];
        for (i, edit) in edits.iter().enumerate() {
            let mut edited = row.clone();
            edit(&mut edited);
            assert!(!edited.mac_is_valid(&key()), "edit {i} went unnoticed");
        }
        let other = AuditKey::new(SecretString::from("another-unit-test-key")).expect("key");
        assert!(!row.mac_is_valid(&other));
    }

    #[test]
    fn times_are_cut_to_microseconds_before_sealing() {
        let at = entry().at + chrono::Duration::nanoseconds(1_234_567);
        let row = AuditRow::seal(&key(), 1, GENESIS_MAC, NewAuditEntry { at, ..entry() });
        assert_eq!(row.at, entry().at + chrono::Duration::microseconds(1_234));
        assert!(row.mac_is_valid(&key()));
    }

    #[test]
    fn head_mac_covers_seq_and_last_mac() {
        let row = AuditRow::seal(&key(), 3, "00", entry());
        let head = AuditHead::after(&key(), &row);
        assert!(head.mac_is_valid(&key()));
        assert!(
            !AuditHead {
                last_seq: 4,
                ..head.clone()
            }
            .mac_is_valid(&key())
        );
        assert!(
            !AuditHead {
                last_mac: "00".into(),
                ..head.clone()
            }
            .mac_is_valid(&key())
        );
        let other = AuditKey::new(SecretString::from("another-unit-test-key")).expect("key");
        assert!(!head.mac_is_valid(&other));
    }

    #[test]
    fn notes_are_signed_for_one_purpose() {
        let sig = key().sign_note("reanchor-request", "dave");
        assert!(key().note_is_signed("reanchor-request", "dave", &sig));
        assert!(!key().note_is_signed("reanchor-request", "erin", &sig));
        assert!(!key().note_is_signed("other", "dave", &sig));
        let other = AuditKey::new(SecretString::from("another-unit-test-key")).expect("key");
        assert!(!other.note_is_signed("reanchor-request", "dave", &sig));
    }

    #[test]
    fn keys_are_never_shown() {
        assert_eq!(format!("{:?}", key()), "AuditKey(***)");
        assert!(AuditKey::new(SecretString::from("too-short")).is_err());
        assert!(!format!("{:?}", AuditKey::random()).contains(char::is_numeric));
    }
}
