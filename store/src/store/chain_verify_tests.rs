use chrono::{TimeZone, Utc};
use secrecy::SecretString;
use serde_json::json;

use super::*;
use crate::audit::NewAuditEntry;

fn key() -> AuditKey {
    AuditKey::new(SecretString::from("verify-unit-test-key")).expect("key")
}

fn entry(n: i64) -> NewAuditEntry {
    NewAuditEntry {
        at: Utc
            .with_ymd_and_hms(2026, 11, 28, 12, 0, 0)
            .single()
            .expect("time"),
        actor_person: None,
        actor_identity: "console:alice".into(),
        conversation: json!({}),
        text: format!("line {n}"),
        command: None,
        decision: "allowed".into(),
        outcome: None,
        duration_ms: None,
        approval_id: None,
        detail: json!({}),
    }
}

/// A chain of `n` rows sealed with `key`, and its head.
fn chain(key: &AuditKey, n: i64) -> (Vec<AuditRow>, AuditHead) {
    let mut rows: Vec<AuditRow> = Vec::new();
    for seq in 1..=n {
        let prev = rows
            .last()
            .map_or(GENESIS_MAC.to_string(), |r| r.mac.clone());
        rows.push(AuditRow::seal(key, seq, &prev, entry(seq)));
    }
    let head = AuditHead::after(key, rows.last().expect("rows"));
    (rows, head)
}

fn check(rows: &[AuditRow], head: Option<&AuditHead>) -> Vec<(AuditProblemKind, i64)> {
    let key = key();
    let mut verifier = ChainVerifier::new(&key);
    rows.iter().for_each(|row| verifier.push(row));
    let report = verifier.finish(head);
    assert_eq!(report.rows_checked, rows.len() as u64);
    report.problems.iter().map(|p| (p.kind, p.seq)).collect()
}

#[test]
fn an_untouched_chain_passes() {
    let (rows, head) = chain(&key(), 4);
    assert!(check(&rows, Some(&head)).is_empty());
    assert!(check(&[], None).is_empty());
}

#[test]
fn two_adjacent_edited_rows_are_each_reported() {
    let (mut rows, head) = chain(&key(), 5);
    rows[1].text = "edited".into();
    rows[2].text = "edited too".into();
    assert_eq!(
        check(&rows, Some(&head)),
        [
            (AuditProblemKind::EditedRow, 2),
            (AuditProblemKind::EditedRow, 3)
        ]
    );
}

#[test]
fn one_row_resealed_with_a_guessed_key_is_a_forgery() {
    let (mut rows, head) = chain(&key(), 4);
    let guessed = AuditKey::new(SecretString::from("guessed-key-1234")).expect("key");
    rows[1] = AuditRow::seal(
        &guessed,
        2,
        &rows[0].mac,
        NewAuditEntry {
            text: "x".into(),
            ..entry(2)
        },
    );
    assert_eq!(
        check(&rows, Some(&head)),
        [(AuditProblemKind::ForgedChain, 2)]
    );
}

#[test]
fn a_whole_chain_under_another_key_is_a_forgery() {
    let other = AuditKey::new(SecretString::from("someone-elses-key")).expect("key");
    let (rows, head) = chain(&other, 3);
    assert_eq!(
        check(&rows, Some(&head)),
        [
            (AuditProblemKind::ForgedChain, 1),
            (AuditProblemKind::BadHead, 3)
        ]
    );
}

#[test]
fn gaps_and_truncation_are_reported() {
    let (rows, head) = chain(&key(), 6);
    let without_middle: Vec<AuditRow> = rows
        .iter()
        .filter(|r| r.seq != 2 && r.seq != 3)
        .cloned()
        .collect();
    assert_eq!(
        check(&without_middle, Some(&head)),
        [(AuditProblemKind::MissingRows, 2)]
    );
    assert_eq!(
        check(&rows[..4], Some(&head)),
        [(AuditProblemKind::TruncatedTail, 5)]
    );
    assert_eq!(check(&rows, None), [(AuditProblemKind::BadHead, 6)]);
    let (_, short_head) = chain(&key(), 4);
    assert_eq!(
        check(&rows, Some(&short_head)),
        [(AuditProblemKind::BadHead, 5)]
    );
}

#[test]
fn problems_read_well() {
    let (rows, head) = chain(&key(), 3);
    let key = key();
    let mut verifier = ChainVerifier::new(&key);
    verifier.push(&rows[0]);
    let report = verifier.finish(Some(&head));
    let text = report.problems[0].to_string();
    assert!(text.starts_with("#2: truncated tail"), "{text}");
}

fn against(rows: &[AuditRow], head: &AuditHead, cp: &AuditCheckpoint) -> VerifyReport {
    let key = key();
    let mut verifier = ChainVerifier::new(&key).against(Some(cp));
    rows.iter().for_each(|row| verifier.push(row));
    verifier.finish(Some(head))
}

fn kinds(report: &VerifyReport) -> Vec<(AuditProblemKind, i64)> {
    report.problems.iter().map(|p| (p.kind, p.seq)).collect()
}

fn checkpoint_at(rows: &[AuditRow], seq: i64) -> AuditCheckpoint {
    let row = &rows[(seq - 1) as usize];
    AuditCheckpoint::sign(&key(), row.seq, &row.mac, Utc::now())
}

#[test]
fn a_checkpoint_that_matches_confirms_the_log() {
    let (rows, head) = chain(&key(), 6);
    let report = against(&rows, &head, &checkpoint_at(&rows, 4));
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.confirmed_seq, Some(6));
    assert_eq!(report.unanchored_rows(), 2);
}

#[test]
fn a_cut_tail_with_its_head_put_back_is_caught_by_the_checkpoint() {
    let (rows, _) = chain(&key(), 6);
    let cp = checkpoint_at(&rows, 6);
    let older_head = AuditHead::after(&key(), &rows[3]);
    // Without the checkpoint the cut is invisible: the head matches the rows left.
    assert!(check(&rows[..4], Some(&older_head)).is_empty());
    let report = against(&rows[..4], &older_head, &cp);
    assert_eq!(
        kinds(&report),
        [(AuditProblemKind::TruncatedPastCheckpoint, 5)]
    );
    assert_eq!(report.confirmed_seq, Some(4));
    assert!(
        report.problems[0]
            .detail
            .contains("the last row confirmed is #4"),
        "{}",
        report.problems[0].detail
    );
}

#[test]
fn a_rolled_back_log_written_on_is_caught_by_the_checkpoint() {
    let (rows, _) = chain(&key(), 6);
    let cp = checkpoint_at(&rows, 5);
    // Back to row 3, then new rows 4.. written by the bot itself (valid MACs).
    let mut rewritten = rows[..3].to_vec();
    for seq in 4..=7 {
        let prev = rewritten.last().map(|r| r.mac.clone()).unwrap_or_default();
        let mut e = entry(seq);
        e.text = format!("after the rollback {seq}");
        rewritten.push(AuditRow::seal(&key(), seq, &prev, e));
    }
    let head = AuditHead::after(&key(), rewritten.last().expect("rows"));
    assert!(check(&rewritten, Some(&head)).is_empty());
    let report = against(&rewritten, &head, &cp);
    assert_eq!(kinds(&report), [(AuditProblemKind::RolledBack, 5)]);
    assert_eq!(report.confirmed_seq, None);
}

#[test]
fn a_wiped_log_and_a_forged_checkpoint_are_reported() {
    let (rows, head) = chain(&key(), 3);
    let cp = checkpoint_at(&rows, 3);
    let key = key();
    let report = ChainVerifier::new(&key).against(Some(&cp)).finish(None);
    assert_eq!(kinds(&report), [(AuditProblemKind::WipedLog, 1)]);
    assert_eq!(report.confirmed_seq, None);
    let forged = AuditCheckpoint {
        seq: 2,
        ..cp.clone()
    };
    assert_eq!(
        kinds(&against(&rows, &head, &forged)),
        [(AuditProblemKind::BadCheckpoint, 2)]
    );
}
