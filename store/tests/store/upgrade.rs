//! Upgrading a store written by the first release (a SQLite store the demo of commit fff7aa3 wrote, kept under
//! `tests/fixtures/first-release/`): this version's migrations apply to it, its audit chain verifies under its key,
//! its requests and incidents read back, new rows chain onto it, and the rule of one open change per target holds
//! from then on.

use std::path::Path;

use mystocks_store::audit::{AuditKey, NewAuditEntry};
use mystocks_store::store::{self, ApprovalState, StoreError};
use secrecy::SecretString;
use serde_json::json;

use crate::approvals::{created, new_approval};

/// The fixture: the first release's demo store and the audit key the demo kept next to it.
fn fixture() -> (tempfile::TempDir, String, AuditKey) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/first-release");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        source.join("mystocks-demo.db"),
        dir.path().join("mystocks-demo.db"),
    )
    .expect("the fixture store is in the repository");
    let key = std::fs::read_to_string(source.join("audit.key")).expect("the fixture's audit key");
    let key = AuditKey::new(SecretString::from(key.trim().to_string())).expect("key");
    let url = format!("sqlite://{}", dir.path().join("mystocks-demo.db").display());
    (dir, url, key)
}

#[tokio::test]
async fn a_store_written_by_the_first_release_upgrades_and_keeps_verifying() {
    let (_dir, url, key) = fixture();
    let store = store::connect(&url, key.clone())
        .await
        .expect("the old store opens and migrates");
    let before = store.verify_audit(&key).await.expect("verify");
    assert!(before.is_ok(), "the old chain verifies: {before:?}");
    assert!(
        before.rows_checked >= 20,
        "the fixture has a history: {before:?}"
    );

    // What the first release stored reads back.
    let states: Vec<ApprovalState> = {
        let mut all = Vec::new();
        for n in 1.. {
            match store.approval(&format!("A{n}")).await.expect("read") {
                Some(record) => all.push(record.state),
                None => break,
            }
        }
        all
    };
    for expected in [
        ApprovalState::Done,
        ApprovalState::Denied,
        ApprovalState::Cancelled,
    ] {
        assert!(states.contains(&expected), "{expected} in {states:?}");
    }
    let incidents = store.incidents(false, 10).await.expect("incidents");
    assert!(!incidents.is_empty(), "the war room survived");
    assert!(
        !store
            .timeline(incidents[0].number)
            .await
            .expect("timeline")
            .is_empty()
    );

    // New rows chain onto the old ones, and one open change per target holds.
    let tail = store.audit_tail(1).await.expect("tail");
    let first = store
        .create_approval(
            new_approval("mystocks/mystocks-api", "alice"),
            created("alice"),
        )
        .await
        .expect("a new request on the upgraded store");
    match store
        .create_approval(new_approval("mystocks/mystocks-api", "bob"), created("bob"))
        .await
    {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("a second open request must conflict: {other:?}"),
    }
    let row = store
        .append_audit(NewAuditEntry {
            at: chrono::Utc::now(),
            actor_person: Some("alice".into()),
            actor_identity: "console:alice".into(),
            conversation: json!(null),
            text: "status".into(),
            command: Some("status".into()),
            decision: "allowed".into(),
            outcome: Some("ok".into()),
            duration_ms: Some(1),
            approval_id: None,
            detail: json!({}),
        })
        .await
        .expect("append");
    assert_eq!(row.seq, tail[0].seq + 2, "after the request's own row");
    let after = store.verify_audit(&key).await.expect("verify");
    assert!(after.is_ok(), "old and new rows verify together: {after:?}");
    assert_eq!(after.rows_checked, before.rows_checked + 2);
    assert_eq!(first.state, ApprovalState::Pending);
    store.close().await;
}
