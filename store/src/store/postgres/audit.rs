//! The audit log in PostgreSQL: appends hold a transaction-scoped advisory lock (one writer at a time across all
//! replicas); verification streams the rows inside one repeatable-read transaction (a consistent snapshot).

use futures::TryStreamExt;
use serde_json::Value;
use sqlx::postgres::{PgPool, PgRow};
use sqlx::{Postgres, Row, Transaction};

use crate::audit::{
    AuditHead, AuditKey, AuditRow, ChainVerifier, GENESIS_MAC, NewAuditEntry, VerifyReport,
};
use crate::store::StoreError;

/// The advisory lock key that serialises appends ("mystocks audit" as bytes).
const APPEND_LOCK: i64 = 0x6d79_7374_6175_6469;

/// The columns `decode` reads.
macro_rules! columns {
    () => {
        "seq, at, actor_person, actor_identity, conversation, text, command, decision, outcome, duration_ms, \
         approval_id, detail, prev_mac, mac"
    };
}

pub(super) async fn append(
    pool: &PgPool,
    key: &AuditKey,
    entry: NewAuditEntry,
) -> Result<AuditRow, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(APPEND_LOCK)
        .execute(&mut *tx)
        .await?;
    let (last_seq, last_mac) = chain_end(&mut tx).await?;
    let row = AuditRow::seal(key, last_seq + 1, &last_mac, entry);
    let head = AuditHead::after(key, &row);
    sqlx::query(concat!(
        "INSERT INTO audit_log (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    ))
    .bind(row.seq)
    .bind(row.at)
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
        "INSERT INTO audit_head (singleton, last_seq, last_mac, head_mac) VALUES (1, $1, $2, $3) \
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
async fn chain_end(tx: &mut Transaction<'static, Postgres>) -> Result<(i64, String), StoreError> {
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

pub(super) async fn tail(pool: &PgPool, n: i64) -> Result<Vec<AuditRow>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT * FROM (SELECT ",
        columns!(),
        " FROM audit_log ORDER BY seq DESC LIMIT $1) AS newest ORDER BY seq"
    ))
    .bind(n.max(0))
    .fetch_all(pool)
    .await?;
    rows.iter().map(|row| decode(row, false)).collect()
}

pub(super) async fn verify(pool: &PgPool, key: &AuditKey) -> Result<VerifyReport, StoreError> {
    let mut tx = pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await?;
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

/// Reads a row. `lenient` (for verification) turns unreadable JSON into values whose MAC cannot
/// match, so a damaged row is reported as tampered rather than stopping the check.
fn decode(row: &PgRow, lenient: bool) -> Result<AuditRow, StoreError> {
    let json = |column: &str| -> Result<Value, StoreError> {
        let text: String = row.try_get(column)?;
        match serde_json::from_str(&text) {
            Ok(value) => Ok(value),
            Err(_) if lenient => Ok(Value::String(text)),
            Err(e) => Err(e.into()),
        }
    };
    let at = row.try_get("at")?;
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
