//! The audit log: appends one at a time across processes (the dialect's `BEGIN_APPEND` and `LOCK_APPEND`), so the
//! chain never forks; verification streams the rows inside one snapshot (`BEGIN_SNAPSHOT`), so appends running
//! meanwhile cannot make a consistent chain look broken.

use futures::TryStreamExt;
use serde_json::Value;
use sqlx::{Pool, Transaction};

use super::Dialect;
use super::bounds::{BindArg, ReadCol};
use crate::audit::{
    AuditCheckpoint, AuditHead, AuditKey, AuditRow, ChainVerifier, GENESIS_MAC, NewAuditEntry,
    VerifyReport,
};
use crate::store::StoreError;

/// The columns `decode` reads.
macro_rules! columns {
    () => {
        "seq, at, actor_person, actor_identity, conversation, text, command, decision, outcome, duration_ms, \
         approval_id, detail, prev_mac, mac"
    };
}

pub(super) async fn append<DB: Dialect>(
    pool: &Pool<DB>,
    key: &AuditKey,
    entry: NewAuditEntry,
) -> Result<AuditRow, StoreError> {
    let mut tx = begin_append(pool).await?;
    let row = append_in(&mut tx, key, entry).await?;
    tx.commit().await?;
    Ok(row)
}

/// A transaction that may append to the audit log: appends are serialised across processes from here on, so the
/// chain never forks. Everything else the transaction writes commits or rolls back with its audit row.
pub(super) async fn begin_append<DB: Dialect>(
    pool: &Pool<DB>,
) -> Result<Transaction<'static, DB>, StoreError> {
    let mut tx = pool.begin_with(DB::BEGIN_APPEND).await?;
    if let Some(lock) = DB::LOCK_APPEND {
        sqlx::query(lock).execute(DB::conn(&mut tx)).await?;
    }
    Ok(tx)
}

/// Appends a row inside a transaction from [`begin_append`].
pub(super) async fn append_in<DB: Dialect>(
    tx: &mut Transaction<'static, DB>,
    key: &AuditKey,
    entry: NewAuditEntry,
) -> Result<AuditRow, StoreError> {
    let (last_seq, last_mac) = chain_end(tx).await?;
    let row = AuditRow::seal(key, last_seq + 1, &last_mac, entry);
    insert_row(tx, &row).await?;
    write_head(tx, key, &row).await?;
    Ok(row)
}

/// Appends `entries` in order in one transaction (group commit): the chain is locked and its end read once, each
/// row chains on the one before, and the head is written once, after the last. All or none are written.
pub(super) async fn append_batch<DB: Dialect>(
    pool: &Pool<DB>,
    key: &AuditKey,
    entries: Vec<NewAuditEntry>,
) -> Result<Vec<AuditRow>, StoreError> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = begin_append(pool).await?;
    let (mut seq, mut mac) = chain_end(&mut tx).await?;
    let mut rows = Vec::with_capacity(entries.len());
    for entry in entries {
        let row = AuditRow::seal(key, seq + 1, &mac, entry);
        insert_row(&mut tx, &row).await?;
        (seq, mac) = (row.seq, row.mac.clone());
        rows.push(row);
    }
    if let Some(last) = rows.last() {
        write_head(&mut tx, key, last).await?;
    }
    tx.commit().await?;
    Ok(rows)
}

async fn insert_row<DB: Dialect>(
    tx: &mut Transaction<'static, DB>,
    row: &AuditRow,
) -> Result<(), StoreError> {
    // The JSON columns are text on both databases: the exact text the MAC covers.
    sqlx::query(concat!(
        "INSERT INTO audit_log (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    ))
    .arg(row.seq)
    .arg(DB::time(row.at))
    .arg(row.actor_person.clone())
    .arg(row.actor_identity.as_str())
    .arg(row.conversation.to_string())
    .arg(row.text.as_str())
    .arg(row.command.clone())
    .arg(row.decision.as_str())
    .arg(row.outcome.clone())
    .arg(row.duration_ms)
    .arg(row.approval_id.clone())
    .arg(row.detail.to_string())
    .arg(row.prev_mac.as_str())
    .arg(row.mac.as_str())
    .execute(DB::conn(tx))
    .await?;
    Ok(())
}

/// Moves the chain's head to `row`.
async fn write_head<DB: Dialect>(
    tx: &mut Transaction<'static, DB>,
    key: &AuditKey,
    row: &AuditRow,
) -> Result<(), StoreError> {
    let head = AuditHead::after(key, row);
    sqlx::query(
        "INSERT INTO audit_head (singleton, last_seq, last_mac, head_mac) VALUES (1, $1, $2, $3) \
         ON CONFLICT (singleton) DO UPDATE SET last_seq = excluded.last_seq, last_mac = excluded.last_mac, \
         head_mac = excluded.head_mac",
    )
    .arg(head.last_seq)
    .arg(head.last_mac)
    .arg(head.head_mac)
    .execute(DB::conn(tx))
    .await?;
    Ok(())
}

/// Where the next row chains on: the head (so deleted newest rows stay visible as a gap), or the last row if it
/// is further on (never reuse a seq).
async fn chain_end<DB: Dialect>(
    tx: &mut Transaction<'static, DB>,
) -> Result<(i64, String), StoreError> {
    let head = sqlx::query("SELECT last_seq, last_mac FROM audit_head WHERE singleton = 1")
        .fetch_optional(DB::conn(tx))
        .await?
        .map(|row| Ok::<_, sqlx::Error>((row.col("last_seq")?, row.col("last_mac")?)))
        .transpose()?;
    let last = sqlx::query("SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(DB::conn(tx))
        .await?
        .map(|row| Ok::<_, sqlx::Error>((row.col("seq")?, row.col("mac")?)))
        .transpose()?;
    Ok(match (head, last) {
        (Some(h), Some(l)) if l.0 > h.0 => l,
        (Some(h), _) => h,
        (None, Some(l)) => l,
        (None, None) => (0, GENESIS_MAC.to_string()),
    })
}

pub(super) async fn tail<DB: Dialect>(
    pool: &Pool<DB>,
    n: i64,
) -> Result<Vec<AuditRow>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT * FROM (SELECT ",
        columns!(),
        " FROM audit_log ORDER BY seq DESC LIMIT $1) AS newest ORDER BY seq"
    ))
    .arg(n.max(0))
    .fetch_all(DB::pool(pool))
    .await?;
    rows.iter().map(|row| decode::<DB>(row, false)).collect()
}

pub(super) async fn row<DB: Dialect>(
    pool: &Pool<DB>,
    seq: i64,
) -> Result<Option<AuditRow>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM audit_log WHERE seq = $1"
    ))
    .arg(seq)
    .fetch_optional(DB::pool(pool))
    .await?;
    row.as_ref().map(|r| decode::<DB>(r, true)).transpose()
}

pub(super) async fn verify<DB: Dialect>(
    pool: &Pool<DB>,
    key: &AuditKey,
    checkpoint: Option<&AuditCheckpoint>,
) -> Result<VerifyReport, StoreError> {
    let mut tx = pool.begin_with(DB::BEGIN_SNAPSHOT).await?;
    let head =
        sqlx::query("SELECT last_seq, last_mac, head_mac FROM audit_head WHERE singleton = 1")
            .fetch_optional(DB::conn(&mut tx))
            .await?
            .map(|row| {
                Ok::<_, sqlx::Error>(AuditHead {
                    last_seq: row.col("last_seq")?,
                    last_mac: row.col("last_mac")?,
                    head_mac: row.col("head_mac")?,
                })
            })
            .transpose()?;
    let mut verifier = ChainVerifier::new(key).against(checkpoint);
    {
        let mut rows = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM audit_log ORDER BY seq"
        ))
        .fetch(DB::conn(&mut tx));
        while let Some(row) = rows.try_next().await? {
            verifier.push(&decode::<DB>(&row, true)?);
        }
    }
    tx.commit().await?;
    Ok(verifier.finish(head.as_ref()))
}

/// Reads a row. `lenient` (for verification) turns unreadable JSON or times into values whose MAC cannot
/// match, so a damaged row is reported as tampered rather than stopping the check.
fn decode<DB: Dialect>(row: &DB::Row, lenient: bool) -> Result<AuditRow, StoreError> {
    let json = |column: &str| -> Result<Value, StoreError> {
        let text: String = row.col(column)?;
        match serde_json::from_str(&text) {
            Ok(value) => Ok(value),
            Err(_) if lenient => Ok(Value::String(text)),
            Err(e) => Err(e.into()),
        }
    };
    let at = match DB::read_time(row.col("at")?) {
        Ok(at) => at,
        Err(_) if lenient => chrono::DateTime::UNIX_EPOCH,
        Err(e) => return Err(e),
    };
    Ok(AuditRow {
        seq: row.col("seq")?,
        at,
        actor_person: row.col("actor_person")?,
        actor_identity: row.col("actor_identity")?,
        conversation: json("conversation")?,
        text: row.col("text")?,
        command: row.col("command")?,
        decision: row.col("decision")?,
        outcome: row.col("outcome")?,
        duration_ms: row.col("duration_ms")?,
        approval_id: row.col("approval_id")?,
        detail: json("detail")?,
        prev_mac: row.col("prev_mac")?,
        mac: row.col("mac")?,
    })
}
