//! The audit log in SQLite: appends inside `BEGIN IMMEDIATE` (one writer at a time, across processes too),
//! verification streaming the rows inside one read transaction (a consistent snapshot).

use futures::TryStreamExt;
use serde_json::Value;
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{Row, Sqlite, Transaction};

use super::{parse_json, parse_ts, ts};
use crate::audit::{
    AuditHead, AuditKey, AuditRow, ChainVerifier, GENESIS_MAC, NewAuditEntry, VerifyReport,
};
use crate::store::StoreError;

/// The columns `decode` reads.
macro_rules! columns {
    () => {
        "seq, at, actor_person, actor_identity, conversation, text, command, decision, outcome, duration_ms, \
         approval_id, detail, prev_mac, mac"
    };
}

pub(super) async fn append(
    pool: &SqlitePool,
    key: &AuditKey,
    entry: NewAuditEntry,
) -> Result<AuditRow, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let (last_seq, last_mac) = chain_end(&mut tx).await?;
    let row = AuditRow::seal(key, last_seq + 1, &last_mac, entry);
    let head = AuditHead::after(key, &row);
    sqlx::query(concat!(
        "INSERT INTO audit_log (",
        columns!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(row.seq)
    .bind(ts(row.at))
    .bind(&row.actor_person)
    .bind(&row.actor_identity)
    .bind(row.conversation.to_string())
    .bind(&row.text)
    .bind(&row.command)
    .bind(&row.decision)
    .bind(&row.outcome)
    .bind(row.duration_ms)
    .bind(&row.approval_id)
    .bind(row.detail.to_string())
    .bind(&row.prev_mac)
    .bind(&row.mac)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO audit_head (singleton, last_seq, last_mac, head_mac) VALUES (1, ?, ?, ?) \
         ON CONFLICT (singleton) DO UPDATE SET last_seq = excluded.last_seq, last_mac = excluded.last_mac, \
         head_mac = excluded.head_mac",
    )
    .bind(head.last_seq)
    .bind(&head.last_mac)
    .bind(&head.head_mac)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Where the next row chains on: the head (so deleted newest rows stay visible as a gap), or the last row if it
/// is further on (never reuse a seq).
async fn chain_end(tx: &mut Transaction<'static, Sqlite>) -> Result<(i64, String), StoreError> {
    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT last_seq, last_mac FROM audit_head WHERE singleton = 1")
            .fetch_optional(&mut **tx)
            .await?;
    let last: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await?;
    Ok(match (head, last) {
        (Some(h), Some(l)) if l.0 > h.0 => l,
        (Some(h), _) => h,
        (None, Some(l)) => l,
        (None, None) => (0, GENESIS_MAC.to_string()),
    })
}

pub(super) async fn tail(pool: &SqlitePool, n: i64) -> Result<Vec<AuditRow>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT * FROM (SELECT ",
        columns!(),
        " FROM audit_log ORDER BY seq DESC LIMIT ?) ORDER BY seq"
    ))
    .bind(n.max(0))
    .fetch_all(pool)
    .await?;
    rows.iter().map(|row| decode(row, false)).collect()
}

pub(super) async fn verify(pool: &SqlitePool, key: &AuditKey) -> Result<VerifyReport, StoreError> {
    let mut tx = pool.begin().await?;
    let head = sqlx::query_as::<_, (i64, String, String)>(
        "SELECT last_seq, last_mac, head_mac FROM audit_head WHERE singleton = 1",
    )
    .fetch_optional(&mut *tx)
    .await?
    .map(|(last_seq, last_mac, head_mac)| AuditHead {
        last_seq,
        last_mac,
        head_mac,
    });
    let mut verifier = ChainVerifier::new(key);
    {
        let mut rows = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM audit_log ORDER BY seq"
        ))
        .fetch(&mut *tx);
        while let Some(row) = rows.try_next().await? {
            verifier.push(&decode(&row, true)?);
        }
    }
    tx.commit().await?;
    Ok(verifier.finish(head.as_ref()))
}

/// Reads a row. `lenient` (for verification) turns unreadable JSON or times into values whose MAC cannot
/// match, so a damaged row is reported as tampered rather than stopping the check.
fn decode(row: &SqliteRow, lenient: bool) -> Result<AuditRow, StoreError> {
    let json = |column: &str| -> Result<Value, StoreError> {
        let text: String = row.try_get(column)?;
        match parse_json(&text) {
            Ok(value) => Ok(value),
            Err(_) if lenient => Ok(Value::String(text)),
            Err(e) => Err(e),
        }
    };
    let at_text: String = row.try_get("at")?;
    let at = match parse_ts(&at_text) {
        Ok(at) => at,
        Err(_) if lenient => chrono::DateTime::UNIX_EPOCH,
        Err(e) => return Err(e),
    };
    Ok(AuditRow {
        seq: row.try_get("seq")?,
        at,
        actor_person: row.try_get("actor_person")?,
        actor_identity: row.try_get("actor_identity")?,
        conversation: json("conversation")?,
        text: row.try_get("text")?,
        command: row.try_get("command")?,
        decision: row.try_get("decision")?,
        outcome: row.try_get("outcome")?,
        duration_ms: row.try_get("duration_ms")?,
        approval_id: row.try_get("approval_id")?,
        detail: json("detail")?,
        prev_mac: row.try_get("prev_mac")?,
        mac: row.try_get("mac")?,
    })
}
