//! The chain's external checkpoint: the `seq` and `mac` of a row, and when they were taken, signed with the audit
//! key under its own domain-separation tag. It is kept outside the database (a ConfigMap), so an attacker who can
//! write the database alone cannot cut the log short and put back an older chain head unnoticed: the checkpoint
//! still names the newer row. Rows appended after the last checkpoint are not protected by it yet.

use chrono::{DateTime, SubsecRound, Utc};
use hmac::Mac;
use serde::Serialize;

use super::{AuditKey, HmacSha256, put_str};

/// Tag of checkpoint signatures, distinct from the row and head tags.
const CHECKPOINT_TAG: &[u8] = b"mystocks-audit-checkpoint-v1\0";

/// A signed (seq, mac, time) of the audit chain, as published outside the database.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditCheckpoint {
    /// The `seq` of the row checkpointed.
    pub seq: i64,
    /// That row's `mac`, hex.
    pub mac: String,
    /// When the checkpoint was taken (microseconds).
    pub at: DateTime<Utc>,
    /// HMAC over the three fields above under the audit key, hex.
    pub signature: String,
}

impl AuditCheckpoint {
    /// The signed checkpoint of row `seq` with `mac`, taken `at`.
    pub fn sign(key: &AuditKey, seq: i64, mac: &str, at: DateTime<Utc>) -> AuditCheckpoint {
        let at = at.trunc_subsecs(6);
        let signature = hex::encode(signature(key, seq, mac, at).finalize().into_bytes());
        AuditCheckpoint {
            seq,
            mac: mac.to_string(),
            at,
            signature,
        }
    }

    /// True when `signature` was made with `key` over these fields (constant-time compare).
    pub fn is_signed_by(&self, key: &AuditKey) -> bool {
        match hex::decode(&self.signature) {
            Ok(stored) => signature(key, self.seq, &self.mac, self.at)
                .verify_slice(&stored)
                .is_ok(),
            Err(_) => false,
        }
    }
}

fn signature(key: &AuditKey, seq: i64, mac: &str, at: DateTime<Utc>) -> HmacSha256 {
    let mut hmac = key.hmac();
    hmac.update(CHECKPOINT_TAG);
    hmac.update(&seq.to_be_bytes());
    let mut encoded = Vec::new();
    put_str(&mut encoded, mac);
    hmac.update(&encoded);
    hmac.update(&at.timestamp_micros().to_be_bytes());
    hmac
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use secrecy::SecretString;

    use super::*;
    use crate::audit::{AuditHead, AuditRow, GENESIS_MAC, NewAuditEntry};

    fn key() -> AuditKey {
        AuditKey::new(SecretString::from("checkpoint-unit-test-key")).expect("key")
    }

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0)
            .single()
            .expect("time")
    }

    #[test]
    fn every_field_is_signed() {
        let cp = AuditCheckpoint::sign(&key(), 7, "ab12", at());
        assert!(cp.is_signed_by(&key()));
        let edits: Vec<fn(&mut AuditCheckpoint)> = vec![
            |c| c.seq = 6,
            |c| c.mac = "ab13".into(),
            |c| c.at += chrono::Duration::microseconds(1),
            |c| c.signature = "not hex".into(),
        ];
        for (i, edit) in edits.iter().enumerate() {
            let mut edited = cp.clone();
            edit(&mut edited);
            assert!(!edited.is_signed_by(&key()), "edit {i} went unnoticed");
        }
        let other = AuditKey::new(SecretString::from("another-checkpoint-key")).expect("key");
        assert!(!cp.is_signed_by(&other));
    }

    #[test]
    fn a_head_or_row_mac_never_passes_as_a_checkpoint_signature() {
        let entry = NewAuditEntry {
            at: at(),
            actor_person: None,
            actor_identity: "console:alice".into(),
            conversation: serde_json::json!({}),
            text: "pods".into(),
            command: None,
            decision: "allowed".into(),
            outcome: None,
            duration_ms: None,
            approval_id: None,
            detail: serde_json::json!({}),
        };
        let row = AuditRow::seal(&key(), 1, GENESIS_MAC, entry);
        let head = AuditHead::after(&key(), &row);
        let forged = AuditCheckpoint {
            seq: 1,
            mac: row.mac.clone(),
            at: at(),
            signature: head.head_mac.clone(),
        };
        assert!(!forged.is_signed_by(&key()));
        let forged = AuditCheckpoint {
            signature: row.mac.clone(),
            ..forged
        };
        assert!(!forged.is_signed_by(&key()));
    }
}
