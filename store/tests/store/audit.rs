//! The audit log: appends chain, and each kind of tampering an attacker with database access could try is found.

use chrono::Duration;
use futures::future::join_all;
use mystocks_store::audit::{
    AuditCheckpoint, AuditHead, AuditKey, AuditProblemKind, AuditRow, GENESIS_MAC, NewAuditEntry,
    VerifyReport,
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
        .verify_audit(&audit_key(), None)
        .await
        .expect("verify runs");
    report.problems.iter().map(|p| (p.kind, p.seq)).collect()
}

pub async fn appends_chain_and_verify(db: &TestDb) {
    let store = &db.store;
    let empty = store
        .verify_audit(&audit_key(), None)
        .await
        .expect("verify");
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

    let report = store
        .verify_audit(&audit_key(), None)
        .await
        .expect("verify");
    assert!(report.is_ok(), "an untouched log passes: {report:?}");
    assert_eq!((report.rows_checked, report.head_seq), (5, Some(5)));

    let wrong = AuditKey::new(SecretString::from("some-other-key-entirely")).expect("key");
    let report = store.verify_audit(&wrong, None).await.expect("verify");
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
    let report = db
        .store
        .verify_audit(&audit_key(), None)
        .await
        .expect("verify");
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

/// The checkpoint the bot would publish outside the database for `row`.
fn checkpoint_of(row: &AuditRow) -> AuditCheckpoint {
    AuditCheckpoint::sign(&audit_key(), row.seq, &row.mac, t0() + Duration::hours(1))
}

async fn verify_against(db: &TestDb, checkpoint: &AuditCheckpoint) -> VerifyReport {
    db.store
        .verify_audit(&audit_key(), Some(checkpoint))
        .await
        .expect("verify runs")
}

fn found(report: &VerifyReport) -> Vec<(AuditProblemKind, i64)> {
    report.problems.iter().map(|p| (p.kind, p.seq)).collect()
}

/// The attacker keeps a copy of the head row (plain SQL: no key needed), lets the log grow, then deletes the
/// newest rows and puts the old head row back. The chain and head agree again; only the checkpoint knows better.
async fn cut_tail_and_restore_head(db: &TestDb, keep: i64) {
    db.raw
        .exec(&format!("DELETE FROM audit_log WHERE seq > {keep}"))
        .await;
    db.raw.exec("DELETE FROM audit_head").await;
    db.raw
        .exec("INSERT INTO audit_head SELECT * FROM saved_head")
        .await;
}

pub async fn cut_tail_with_an_old_head_put_back_is_found(db: &TestDb) {
    append_rows(db, 4).await;
    db.raw
        .exec("CREATE TABLE saved_head AS SELECT * FROM audit_head")
        .await;
    let rows = append_rows_from(db, 5, 6).await;
    let checkpoint = checkpoint_of(rows.last().expect("row 6"));
    cut_tail_and_restore_head(db, 4).await;
    assert!(
        problems(db).await.is_empty(),
        "the database alone cannot tell: this is the hole the checkpoint closes"
    );
    let report = verify_against(db, &checkpoint).await;
    assert_eq!(
        found(&report),
        [(AuditProblemKind::TruncatedPastCheckpoint, 5)]
    );
    assert_eq!(report.confirmed_seq, Some(4));
    let detail = &report.problems[0].detail;
    assert!(
        detail.contains("rows #5..#6 were deleted") && detail.contains("last row confirmed is #4"),
        "{detail}"
    );
}

pub async fn old_head_restored_and_written_on_is_found(db: &TestDb) {
    append_rows(db, 3).await;
    db.raw
        .exec("CREATE TABLE saved_head AS SELECT * FROM audit_head")
        .await;
    let rows = append_rows_from(db, 4, 6).await;
    let checkpoint = checkpoint_of(&rows[1]);
    cut_tail_and_restore_head(db, 3).await;
    // The bot goes on appending from the restored head: rows 4.. again, with valid MACs.
    let again = append_rows_from(db, 10, 13).await;
    assert_eq!(again.first().map(|r| r.seq), Some(4));
    assert!(problems(db).await.is_empty(), "the chain itself is whole");
    let report = verify_against(db, &checkpoint).await;
    assert_eq!(found(&report), [(AuditProblemKind::RolledBack, 5)]);
    assert_eq!(report.confirmed_seq, None);
    assert!(
        report.problems[0]
            .detail
            .contains("no row can be confirmed"),
        "{}",
        report.problems[0].detail
    );
}

pub async fn both_tables_emptied_are_found(db: &TestDb) {
    let rows = append_rows(db, 3).await;
    let checkpoint = checkpoint_of(&rows[2]);
    db.raw.exec("DELETE FROM audit_log").await;
    db.raw.exec("DELETE FROM audit_head").await;
    assert!(
        problems(db).await.is_empty(),
        "an empty log with no head looks fresh"
    );
    let report = verify_against(db, &checkpoint).await;
    assert_eq!(found(&report), [(AuditProblemKind::WipedLog, 1)]);
    assert_eq!(report.confirmed_seq, None);
}

pub async fn an_intact_log_matches_its_checkpoint(db: &TestDb) {
    let rows = append_rows(db, 5).await;
    let report = verify_against(db, &checkpoint_of(&rows[2])).await;
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(
        (report.confirmed_seq, report.unanchored_rows()),
        (Some(5), 2)
    );
    let row = db.store.audit_row(3).await.expect("read").expect("row 3");
    assert_eq!(row, rows[2]);
    assert_eq!(db.store.audit_row(9).await.expect("read"), None);
}

async fn append_rows_from(db: &TestDb, first: i64, last: i64) -> Vec<AuditRow> {
    let mut rows = Vec::new();
    for n in first..=last {
        rows.push(db.store.append_audit(entry(n)).await.expect("append"));
    }
    rows
}
