//! Claimed events, the freeze switch, small values, what a second process sees, and what Debug output shows.

use chrono::Duration;
use futures::future::join_all;
use mystocks_store::store::{FreezeState, StoreConfig};
use secrecy::SecretString;

use crate::approvals::{created, new_approval};
use crate::harness::{KEY_TEXT, TestDb, URL_PASSWORD, audit_key, t0};

pub async fn events_are_claimed_once(db: &TestDb) {
    let store = &db.store;
    assert!(store.claim_event("slack:Ev1", t0()).await.expect("claim"));
    assert!(
        !store
            .claim_event("slack:Ev1", t0() + Duration::seconds(1))
            .await
            .expect("claim")
    );
    assert!(store.claim_event("slack:Ev2", t0()).await.expect("claim"));
    let claims = (0..50).map(|_| {
        let store = db.store.clone();
        async move { store.claim_event("matrix:$event", t0()).await }
    });
    let won = join_all(claims)
        .await
        .into_iter()
        .map(|r| r.expect("claim"))
        .filter(|won| *won)
        .count();
    assert_eq!(won, 1, "exactly one of 50 claims wins");
}

pub async fn freeze_is_set_read_and_lifted(db: &TestDb) {
    let store = &db.store;
    assert_eq!(store.freeze().await.expect("read"), None);
    let freeze = FreezeState {
        by: "dave".into(),
        reason: "incident 42".into(),
        at: t0(),
    };
    store
        .set_freeze(Some(freeze.clone()))
        .await
        .expect("freeze");
    assert_eq!(store.freeze().await.expect("read"), Some(freeze));
    let again = FreezeState {
        by: "erin".into(),
        reason: "still investigating".into(),
        at: t0() + Duration::minutes(1),
    };
    store
        .set_freeze(Some(again.clone()))
        .await
        .expect("freeze again");
    assert_eq!(store.freeze().await.expect("read"), Some(again));
    store.set_freeze(None).await.expect("unfreeze");
    assert_eq!(store.freeze().await.expect("read"), None);
    store
        .set_freeze(None)
        .await
        .expect("unfreezing twice is fine");
}

pub async fn values_are_stored_and_replaced(db: &TestDb) {
    let store = &db.store;
    assert_eq!(store.get_value("matrix.since").await.expect("get"), None);
    store
        .put_value("matrix.since", "s72594_4483_1934")
        .await
        .expect("put");
    assert_eq!(
        store
            .get_value("matrix.since")
            .await
            .expect("get")
            .as_deref(),
        Some("s72594_4483_1934")
    );
    store
        .put_value("matrix.since", "s72595_4484_1935")
        .await
        .expect("put");
    assert_eq!(
        store
            .get_value("matrix.since")
            .await
            .expect("get")
            .as_deref(),
        Some("s72595_4484_1935")
    );
    store.put_value("other", "").await.expect("put");
    assert_eq!(
        store.get_value("other").await.expect("get").as_deref(),
        Some("")
    );
}

/// Two processes on one database: a freeze, a request and its claim made by one are seen by the other at once,
/// and ids keep counting after a restart.
pub async fn a_second_process_sees_everything(db: &TestDb) {
    let other = db.reopen().await;
    let freeze = FreezeState {
        by: "dave".into(),
        reason: "deploy window closed".into(),
        at: t0(),
    };
    db.store
        .set_freeze(Some(freeze.clone()))
        .await
        .expect("freeze");
    assert_eq!(other.freeze().await.expect("read"), Some(freeze));
    let created = db
        .store
        .create_approval(
            new_approval("mystocks/mystocks-api", "alice"),
            created("alice"),
        )
        .await
        .expect("create");
    assert_eq!(
        other.approval(&created.id).await.expect("read"),
        Some(created)
    );
    other.close().await;
    // A restart: the new store continues the id sequence.
    let restarted = db.reopen().await;
    let next = restarted
        .create_approval(
            new_approval("mystocks/worker", "bob"),
            crate::approvals::created("bob"),
        )
        .await
        .expect("create");
    assert_eq!(next.id, "A2");
    restarted.close().await;
}

pub async fn debug_output_hides_key_and_password(db: &TestDb) {
    let shown = format!("{:?}", db.store);
    assert!(
        !shown.contains(KEY_TEXT),
        "store Debug shows the audit key: {shown}"
    );
    assert!(
        !shown.contains(URL_PASSWORD),
        "store Debug shows the URL password: {shown}"
    );
    assert!(shown.contains("***"), "{shown}");
    let config = StoreConfig {
        url: SecretString::from(format!(
            "postgres://bot:{URL_PASSWORD}@db.internal:5432/bot"
        )),
        audit_key: audit_key(),
    };
    let shown = format!("{config:?}");
    assert!(
        !shown.contains(KEY_TEXT) && !shown.contains(URL_PASSWORD),
        "{shown}"
    );
    assert!(
        shown.contains("postgres://bot:***@db.internal:5432/bot"),
        "{shown}"
    );
    let shown = format!("{:?}", audit_key());
    assert_eq!(shown, "AuditKey(***)");
}

/// Old claims go in bounded batches, oldest first; recent ones stay claimed.
pub async fn old_claims_are_pruned_in_batches(db: &TestDb) {
    let store = &db.store;
    for n in 0..5 {
        assert!(
            store
                .claim_event(&format!("old-{n}"), t0() + chrono::Duration::seconds(n))
                .await
                .expect("claim")
        );
    }
    assert!(
        store
            .claim_event("recent", t0() + chrono::Duration::days(3))
            .await
            .expect("claim")
    );
    let cutoff = t0() + chrono::Duration::days(1);
    assert_eq!(store.prune_claims(cutoff, 3).await.expect("prune"), 3);
    assert!(
        store.claim_event("old-0", t0()).await.expect("claim"),
        "the oldest went first"
    );
    assert!(
        !store.claim_event("old-4", t0()).await.expect("claim"),
        "not in the first batch"
    );
    assert_eq!(
        store.prune_claims(cutoff, 3).await.expect("prune"),
        3,
        "old-3, old-4 and the re-claimed old-0"
    );
    assert_eq!(store.prune_claims(cutoff, 3).await.expect("prune"), 0);
    assert!(
        !store.claim_event("recent", t0()).await.expect("claim"),
        "a recent claim stays"
    );
}
