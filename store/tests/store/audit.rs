//! The audit log: appends chain, and each kind of tampering an attacker with database access could try is found.

use chrono::Duration;
use futures::future::join_all;
use mystocks_store::audit::{
    AuditHead, AuditKey, AuditProblemKind, AuditRow, GENESIS_MAC, NewAuditEntry,
};
use secrecy::SecretString;
use serde_json::json;

use crate::harness::{TestDb, audit_key, t0};

pub fn entry(n: i64) -> NewAuditEntry {
    NewAuditEntry {
        at: t0() + Duration::seconds(n),
        actor_person: (n % 3 != 0).then(|| "alice".to_string()),
        actor_identity: "slack:T1/U2".to_string(),
        conversation: json!({"channel": "C1", "thread": null}),
        text: format!("/mystocks scale {n}"),
        command: Some(format!("scale {n}")),
        decision: "requested".to_string(),
        outcome: (n % 2 == 0).then(|| "ok".to_string()),
        duration_ms: Some(n * 10),
        approval_id: Some(format!("A{n}")),
        detail: json!({"replicas": {"before": 3, "after": n}, "note": "ünïcode ✓"}),
    }
}

async fn append_rows(db: &TestDb, count: i64) -> Vec<AuditRow> {
    let mut rows = Vec::new();
    for n in 1..=count {
        rows.push(db.store.append_audit(entry(n)).await.expect("append"));
    }
    rows
}

/// The problems found, as (kind, seq).
async fn problems(db: &TestDb) -> Vec<(AuditProblemKind, i64)> {
    let report = db
        .store
        .verify_audit(&audit_key())
        .await
        .expect("verify runs");
    report.problems.iter().map(|p| (p.kind, p.seq)).collect()
}

pub async fn appends_chain_and_verify(db: &TestDb) {
    let store = &db.store;
    let empty = store.verify_audit(&audit_key()).await.expect("verify");
    assert!(empty.is_ok() && empty.rows_checked == 0, "{empty:?}");
    let rows = append_rows(db, 5).await;
    assert_eq!(
        rows.iter().map(|r| r.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(rows[0].prev_mac, GENESIS_MAC);
    for pair in rows.windows(2) {
        assert_eq!(pair[1].prev_mac, pair[0].mac);
    }
    assert_eq!(rows[2].text, "/mystocks scale 3");
    assert_eq!(rows[2].actor_person, None);
    let tail = store.audit_tail(2).await.expect("tail");
    assert_eq!(tail, rows[3..].to_vec(), "newest last, exactly as appended");
    assert_eq!(store.audit_tail(100).await.expect("tail"), rows);
    assert!(store.audit_tail(0).await.expect("tail").is_empty());
    assert!(store.audit_tail(-3).await.expect("tail").is_empty());

    let report = store.verify_audit(&audit_key()).await.expect("verify");
    assert!(report.is_ok(), "an untouched log passes: {report:?}");
    assert_eq!((report.rows_checked, report.head_seq), (5, Some(5)));

    let wrong = AuditKey::new(SecretString::from("some-other-key-entirely")).expect("key");
    let report = store.verify_audit(&wrong).await.expect("verify");
    assert!(!report.is_ok(), "a wrong key fails verification");
}

pub async fn concurrent_appends_leave_no_gaps(db: &TestDb) {
    let other = db.reopen().await;
    let appends = (1..=30).map(|n| {
        let store = if n % 2 == 0 {
            db.store.clone()
        } else {
            other.clone()
        };
        async move { store.append_audit(entry(n)).await }
    });
    let mut seqs: Vec<i64> = join_all(appends)
        .await
        .into_iter()
        .map(|r| r.expect("append").seq)
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=30).collect::<Vec<_>>());
    let report = db.store.verify_audit(&audit_key()).await.expect("verify");
    assert!(report.is_ok() && report.rows_checked == 30, "{report:?}");
    other.close().await;
}

pub async fn edited_middle_row_is_found(db: &TestDb) {
    append_rows(db, 5).await;
    let changed = db
        .raw
        .exec("UPDATE audit_log SET text = '/mystocks pods' WHERE seq = 3")
        .await;
    assert_eq!(changed, 1);
    assert_eq!(problems(db).await, [(AuditProblemKind::EditedRow, 3)]);
}

pub async fn edited_json_and_actor_are_found(db: &TestDb) {
    append_rows(db, 4).await;
    db.raw
        .exec(r#"UPDATE audit_log SET detail = '{"replicas":{"after":99}}' WHERE seq = 2"#)
        .await;
    db.raw
        .exec("UPDATE audit_log SET actor_person = 'mallory' WHERE seq = 4")
        .await;
    assert_eq!(
        problems(db).await,
        [
            (AuditProblemKind::EditedRow, 2),
            (AuditProblemKind::EditedRow, 4)
        ]
    );
}

pub async fn deleted_middle_row_is_found(db: &TestDb) {
    append_rows(db, 5).await;
    assert_eq!(db.raw.exec("DELETE FROM audit_log WHERE seq = 3").await, 1);
    assert_eq!(problems(db).await, [(AuditProblemKind::MissingRows, 3)]);
}

/// The attacker edits row 3 and recomputes every MAC after it, and the head, with a guessed key.
pub async fn chain_rehashed_without_the_key_is_found(db: &TestDb) {
    let rows = append_rows(db, 6).await;
    let guessed = AuditKey::new(SecretString::from("guessed-key-from-a-wordlist")).expect("key");
    let mut prev = rows[1].mac.clone();
    let mut forged = Vec::new();
    for row in &rows[2..] {
        let mut edited = entry(row.seq);
        if row.seq == 3 {
            edited.text = "/mystocks pods".to_string();
        }
        let row = AuditRow::seal(&guessed, row.seq, &prev, edited);
        prev = row.mac.clone();
        forged.push(row);
    }
    for row in &forged {
        let text = row.text.replace('\'', "''");
        let sql = format!(
            "UPDATE audit_log SET text = '{text}', prev_mac = '{}', mac = '{}' WHERE seq = {}",
            row.prev_mac, row.mac, row.seq
        );
        assert_eq!(db.raw.exec(&sql).await, 1);
    }
    let head = AuditHead::after(&guessed, forged.last().expect("forged rows"));
    db.raw
        .exec(&format!(
            "UPDATE audit_head SET last_seq = {}, last_mac = '{}', head_mac = '{}'",
            head.last_seq, head.last_mac, head.head_mac
        ))
        .await;
    let found = problems(db).await;
    assert_eq!(
        found,
        [
            (AuditProblemKind::ForgedChain, 3),
            (AuditProblemKind::BadHead, 6)
        ]
    );
}

pub async fn deleted_newest_rows_are_found(db: &TestDb) {
    append_rows(db, 6).await;
    assert_eq!(db.raw.exec("DELETE FROM audit_log WHERE seq >= 5").await, 2);
    assert_eq!(problems(db).await, [(AuditProblemKind::TruncatedTail, 5)]);
    // Appending afterwards does not paper over it: the gap stays.
    let next = db.store.append_audit(entry(7)).await.expect("append");
    assert_eq!(next.seq, 7);
    assert_eq!(problems(db).await, [(AuditProblemKind::MissingRows, 5)]);
}

pub async fn deleted_head_is_found(db: &TestDb) {
    append_rows(db, 3).await;
    db.raw.exec("DELETE FROM audit_head").await;
    assert_eq!(problems(db).await, [(AuditProblemKind::BadHead, 3)]);
    db.raw.exec("DELETE FROM audit_log").await;
    assert!(
        problems(db).await.is_empty(),
        "an empty log with no head is a fresh log"
    );
}

pub async fn whole_log_deleted_is_found(db: &TestDb) {
    append_rows(db, 3).await;
    db.raw.exec("DELETE FROM audit_log").await;
    assert_eq!(problems(db).await, [(AuditProblemKind::TruncatedTail, 1)]);
}
