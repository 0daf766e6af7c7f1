//! Upgrading a store written by the first release (kept under `tests/fixtures/first-release/`: the SQLite store the
//! demo of commit fff7aa3 wrote, and a `pg_dump` of the same history written into PostgreSQL by that commit's store
//! code): this version's migrations apply to it, its audit chain verifies under its key, its requests and incidents
//! read back, new rows chain onto it, and the rule of one open change per target holds from then on.

use std::path::Path;

use mystocks_store::audit::{AuditKey, NewAuditEntry};
use mystocks_store::store::{self, ApprovalState, StoreError};
use secrecy::SecretString;
use serde_json::json;

use crate::approvals::{created, new_approval};

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/first-release")
}

/// The audit key the first release's demo kept next to its store.
fn fixture_key() -> AuditKey {
    let key =
        std::fs::read_to_string(fixtures().join("audit.key")).expect("the fixture's audit key");
    AuditKey::new(SecretString::from(key.trim().to_string())).expect("key")
}

#[tokio::test]
async fn a_sqlite_store_of_the_first_release_upgrades_and_keeps_verifying() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("mystocks-demo.db");
    std::fs::copy(fixtures().join("mystocks-demo.db"), &db)
        .expect("the fixture store is in the repository");
    let store = store::connect(&format!("sqlite://{}", db.display()), fixture_key())
        .await
        .expect("the old store opens and migrates");
    upgraded(store.as_ref(), &fixture_key()).await;
}

#[tokio::test]
async fn a_postgres_store_of_the_first_release_upgrades_and_keeps_verifying() {
    let dump = std::fs::read_to_string(fixtures().join("postgres.sql")).expect("the dump");
    let db = crate::harness::TestDb::postgres_from_dump(&dump).await;
    let store = store::connect(&db.url, fixture_key())
        .await
        .expect("the migrated store opens with the old key");
    upgraded(store.as_ref(), &fixture_key()).await;
    db.finish().await;
}

async fn upgraded(store: &dyn store::Store, key: &AuditKey) {
    let before = store.verify_audit(key, None).await.expect("verify");
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
    let after = store.verify_audit(key, None).await.expect("verify");
    assert!(after.is_ok(), "old and new rows verify together: {after:?}");
    assert_eq!(after.rows_checked, before.rows_checked + 2);
    assert_eq!(first.state, ApprovalState::Pending);
    store.close().await;
}
