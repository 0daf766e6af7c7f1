//! Claimed events, the freeze switch and small values: single statements, upserts with `ON CONFLICT`.

use chrono::{DateTime, Utc};
use sqlx::Pool;

use super::Dialect;
use super::bounds::{Affected, BindArg, ReadCol};
use crate::store::{FreezeState, StoreError};

pub(super) async fn claim_event<DB: Dialect>(
    pool: &Pool<DB>,
    key: &str,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO claimed_events (key, claimed_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
    )
    .arg(key)
    .arg(DB::time(at))
    .execute(DB::pool(pool))
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn prune_claims<DB: Dialect>(
    pool: &Pool<DB>,
    before: DateTime<Utc>,
    limit: u32,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "DELETE FROM claimed_events WHERE key IN \
         (SELECT key FROM claimed_events WHERE claimed_at < $1 ORDER BY claimed_at LIMIT $2)",
    )
    .arg(DB::time(before))
    .arg(i64::from(limit))
    .execute(DB::pool(pool))
    .await?;
    Ok(done.rows_affected())
}

pub(super) async fn set_freeze<DB: Dialect>(
    pool: &Pool<DB>,
    freeze: Option<FreezeState>,
) -> Result<(), StoreError> {
    match freeze {
        Some(f) => {
            sqlx::query(
                "INSERT INTO freeze_state (singleton, frozen_by, reason, frozen_at) VALUES (1, $1, $2, $3) \
                 ON CONFLICT (singleton) DO UPDATE SET frozen_by = excluded.frozen_by, \
                 reason = excluded.reason, frozen_at = excluded.frozen_at",
            )
            .arg(f.by)
            .arg(f.reason)
            .arg(DB::time(f.at))
            .execute(DB::pool(pool))
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM freeze_state")
                .execute(DB::pool(pool))
                .await?;
        }
    }
    Ok(())
}

pub(super) async fn freeze<DB: Dialect>(
    pool: &Pool<DB>,
) -> Result<Option<FreezeState>, StoreError> {
    let row =
        sqlx::query("SELECT frozen_by, reason, frozen_at FROM freeze_state WHERE singleton = 1")
            .fetch_optional(DB::pool(pool))
            .await?;
    row.map(|row| {
        Ok(FreezeState {
            by: row.col("frozen_by")?,
            reason: row.col("reason")?,
            at: DB::read_time(row.col("frozen_at")?)?,
        })
    })
    .transpose()
}

pub(super) async fn get<DB: Dialect>(
    pool: &Pool<DB>,
    key: &str,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT value FROM kv WHERE key = $1")
        .arg(key)
        .fetch_optional(DB::pool(pool))
        .await?;
    Ok(row.map(|row| row.col("value")).transpose()?)
}

pub(super) async fn put<DB: Dialect>(
    pool: &Pool<DB>,
    key: &str,
    value: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO kv (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .arg(key)
    .arg(value)
    .execute(DB::pool(pool))
    .await?;
    Ok(())
}
