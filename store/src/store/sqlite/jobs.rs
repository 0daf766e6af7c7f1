//! Jobs with a claim and a lease in SQLite. A claim is one `UPDATE … WHERE id = (SELECT …) RETURNING`: SQLite
//! takes the write lock before the statement reads, so two claimers can never pick the same job.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::Row;
use sqlx::sqlite::{SqlitePool, SqliteRow};

use super::{parse_json, parse_opt_ts, parse_ts, ts};
use crate::store::{Job, JobOutcome, JobStatus, StoreError, lease_end};

/// The columns `decode` reads.
macro_rules! columns {
    () => {
        "id, kind, payload, state, run_at, status, owner, lease_until, attempts, outcome, created_at, finished_at"
    };
}

pub(super) async fn enqueue(
    pool: &SqlitePool,
    kind: &str,
    payload: Value,
    run_at: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let id = sqlx::query_scalar(
        "INSERT INTO jobs (kind, payload, run_at, created_at) VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(kind)
    .bind(payload.to_string())
    .bind(ts(run_at))
    .bind(ts(Utc::now()))
    .fetch_one(pool)
    .await?;
    Ok(id)
}

pub(super) async fn claim(
    pool: &SqlitePool,
    owner: &str,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<Option<Job>, StoreError> {
    let until = lease_end(now, lease)?;
    let row = sqlx::query(concat!(
        "UPDATE jobs SET status = 'running', owner = ?, lease_until = ?, attempts = attempts + 1 \
         WHERE id = (SELECT id FROM jobs WHERE run_at <= ? \
                     AND (status = 'queued' OR (status = 'running' AND lease_until <= ?)) \
                     ORDER BY run_at, id LIMIT 1) \
         RETURNING ",
        columns!()
    ))
    .bind(owner)
    .bind(ts(until))
    .bind(ts(now))
    .bind(ts(now))
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(decode).transpose()
}

pub(super) async fn renew(
    pool: &SqlitePool,
    id: i64,
    owner: &str,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<bool, StoreError> {
    let until = lease_end(now, lease)?;
    let done = sqlx::query(
        "UPDATE jobs SET lease_until = ? WHERE id = ? AND owner = ? AND status = 'running'",
    )
    .bind(ts(until))
    .bind(id)
    .bind(owner)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn update(
    pool: &SqlitePool,
    id: i64,
    owner: &str,
    state: Value,
) -> Result<bool, StoreError> {
    let done =
        sqlx::query("UPDATE jobs SET state = ? WHERE id = ? AND owner = ? AND status = 'running'")
            .bind(state.to_string())
            .bind(id)
            .bind(owner)
            .execute(pool)
            .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn finish(
    pool: &SqlitePool,
    id: i64,
    owner: &str,
    outcome: JobOutcome,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE jobs SET status = ?, outcome = ?, finished_at = ?, lease_until = NULL \
         WHERE id = ? AND owner = ? AND status = 'running'",
    )
    .bind(outcome.status().as_str())
    .bind(outcome.text())
    .bind(ts(Utc::now()))
    .bind(id)
    .bind(owner)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn release(pool: &SqlitePool, id: i64, owner: &str) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE jobs SET status = 'queued', owner = NULL, lease_until = NULL \
         WHERE id = ? AND owner = ? AND status = 'running'",
    )
    .bind(id)
    .bind(owner)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn get(pool: &SqlitePool, id: i64) -> Result<Option<Job>, StoreError> {
    let row = sqlx::query(concat!("SELECT ", columns!(), " FROM jobs WHERE id = ?"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(decode).transpose()
}

fn decode(row: &SqliteRow) -> Result<Job, StoreError> {
    let attempts: i64 = row.try_get("attempts")?;
    Ok(Job {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        payload: parse_json(&row.try_get::<String, _>("payload")?)?,
        state: row
            .try_get::<Option<String>, _>("state")?
            .as_deref()
            .map(parse_json)
            .transpose()?,
        run_at: parse_ts(&row.try_get::<String, _>("run_at")?)?,
        status: JobStatus::parse(&row.try_get::<String, _>("status")?)?,
        owner: row.try_get("owner")?,
        lease_until: parse_opt_ts(row.try_get("lease_until")?)?,
        attempts: u32::try_from(attempts)
            .map_err(|_| StoreError::Corrupt(format!("job attempts {attempts} out of range")))?,
        outcome: row.try_get("outcome")?,
        created_at: parse_ts(&row.try_get::<String, _>("created_at")?)?,
        finished_at: parse_opt_ts(row.try_get("finished_at")?)?,
    })
}
