//! Jobs with a claim and a lease. A claim is one `UPDATE … WHERE id = (SELECT …) RETURNING` that takes the
//! oldest due job; the dialect's `CLAIM_LOCK` makes concurrent claimers take different jobs, never the same one.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{AssertSqlSafe, Pool};

use super::Dialect;
use super::bounds::{Affected, BindArg, ReadCol};
use crate::store::{Job, JobOutcome, JobStatus, StoreError, lease_end};

/// The columns `decode` reads.
macro_rules! columns {
    () => {
        "id, kind, payload, state, run_at, status, owner, lease_until, attempts, outcome, created_at, finished_at"
    };
}

pub(super) async fn enqueue<DB: Dialect>(
    pool: &Pool<DB>,
    kind: &str,
    payload: Value,
    run_at: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let mut conn = pool.acquire().await?;
    enqueue_in::<DB>(&mut conn, kind, payload, run_at).await
}

/// Queues a job on one connection (inside a caller's transaction).
pub(super) async fn enqueue_in<DB: Dialect>(
    conn: &mut DB::Connection,
    kind: &str,
    payload: Value,
    run_at: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "INSERT INTO jobs (kind, payload, run_at, created_at) \
         VALUES ($1, $2, $3, COALESCE($4, CURRENT_TIMESTAMP)) RETURNING id",
    )
    .arg(kind)
    .arg(DB::json(&payload)?)
    .arg(DB::time(run_at))
    .arg(DB::stamp())
    .fetch_one(DB::conn(conn))
    .await?;
    Ok(row.col("id")?)
}

pub(super) async fn claim<DB: Dialect>(
    pool: &Pool<DB>,
    owner: &str,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<Option<Job>, StoreError> {
    let until = lease_end(now, lease)?;
    let sql = format!(
        "UPDATE jobs SET status = 'running', owner = $1, lease_until = $2, attempts = attempts + 1 \
         WHERE id = (SELECT id FROM jobs WHERE run_at <= $3 \
                     AND (status = 'queued' OR (status = 'running' AND lease_until <= $3)) \
                     ORDER BY run_at, id LIMIT 1{}) \
         RETURNING {}",
        DB::CLAIM_LOCK,
        columns!()
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .arg(owner)
        .arg(DB::time(until))
        .arg(DB::time(now))
        .fetch_optional(DB::pool(pool))
        .await?;
    row.as_ref().map(decode::<DB>).transpose()
}

pub(super) async fn renew<DB: Dialect>(
    pool: &Pool<DB>,
    id: i64,
    owner: &str,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<bool, StoreError> {
    let until = lease_end(now, lease)?;
    let done = sqlx::query(
        "UPDATE jobs SET lease_until = $1 WHERE id = $2 AND owner = $3 AND status = 'running'",
    )
    .arg(DB::time(until))
    .arg(id)
    .arg(owner)
    .execute(DB::pool(pool))
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn update<DB: Dialect>(
    pool: &Pool<DB>,
    id: i64,
    owner: &str,
    state: Value,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE jobs SET state = $1 WHERE id = $2 AND owner = $3 AND status = 'running'",
    )
    .arg(DB::json(&state)?)
    .arg(id)
    .arg(owner)
    .execute(DB::pool(pool))
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn finish<DB: Dialect>(
    pool: &Pool<DB>,
    id: i64,
    owner: &str,
    outcome: JobOutcome,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE jobs SET status = $1, outcome = $2, finished_at = COALESCE($3, CURRENT_TIMESTAMP), \
         lease_until = NULL WHERE id = $4 AND owner = $5 AND status = 'running'",
    )
    .arg(outcome.status().as_str())
    .arg(outcome.text())
    .arg(DB::stamp())
    .arg(id)
    .arg(owner)
    .execute(DB::pool(pool))
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn release<DB: Dialect>(
    pool: &Pool<DB>,
    id: i64,
    owner: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE jobs SET status = 'queued', owner = NULL, lease_until = NULL \
         WHERE id = $1 AND owner = $2 AND status = 'running'",
    )
    .arg(id)
    .arg(owner)
    .execute(DB::pool(pool))
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn get<DB: Dialect>(pool: &Pool<DB>, id: i64) -> Result<Option<Job>, StoreError> {
    let row = sqlx::query(concat!("SELECT ", columns!(), " FROM jobs WHERE id = $1"))
        .arg(id)
        .fetch_optional(DB::pool(pool))
        .await?;
    row.as_ref().map(decode::<DB>).transpose()
}

fn decode<DB: Dialect>(row: &DB::Row) -> Result<Job, StoreError> {
    let attempts: i64 = row.col::<DB::Integer>("attempts")?.into();
    Ok(Job {
        id: row.col("id")?,
        kind: row.col("kind")?,
        payload: DB::read_json(row.col("payload")?)?,
        state: row
            .col::<Option<DB::Json>>("state")?
            .map(DB::read_json)
            .transpose()?,
        run_at: DB::read_time(row.col("run_at")?)?,
        status: JobStatus::parse(&row.col::<String>("status")?)?,
        owner: row.col("owner")?,
        lease_until: row
            .col::<Option<DB::Time>>("lease_until")?
            .map(DB::read_time)
            .transpose()?,
        attempts: u32::try_from(attempts)
            .map_err(|_| StoreError::Corrupt(format!("job attempts {attempts} out of range")))?,
        outcome: row.col("outcome")?,
        created_at: DB::read_time(row.col("created_at")?)?,
        finished_at: row
            .col::<Option<DB::Time>>("finished_at")?
            .map(DB::read_time)
            .transpose()?,
    })
}
