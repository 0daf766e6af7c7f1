//! Jobs with a claim and a lease in PostgreSQL: the claim picks the oldest due job with
//! `FOR UPDATE SKIP LOCKED`, so concurrent claimers take different jobs and never the same one.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::{PgPool, PgRow};

use crate::store::{Job, JobOutcome, JobStatus, StoreError, lease_end};

/// The columns `decode` reads.
macro_rules! columns {
    () => {
        "id, kind, payload, state, run_at, status, owner, lease_until, attempts, outcome, created_at, finished_at"
    };
}

pub(super) async fn enqueue(
    pool: &PgPool,
    kind: &str,
    payload: Value,
    run_at: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let id = sqlx::query_scalar(
        "INSERT INTO jobs (kind, payload, run_at, created_at) VALUES ($1, $2, $3, now()) RETURNING id",
    )
    .bind(kind)
    .bind(payload)
    .bind(run_at)
    .fetch_one(pool)
    .await?;
    Ok(id)
}

pub(super) async fn claim(
    pool: &PgPool,
    owner: &str,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<Option<Job>, StoreError> {
    let until = lease_end(now, lease)?;
    let row = sqlx::query(concat!(
        "UPDATE jobs SET status = 'running', owner = $1, lease_until = $2, attempts = attempts + 1 \
         WHERE id = (SELECT id FROM jobs WHERE run_at <= $3 \
                     AND (status = 'queued' OR (status = 'running' AND lease_until <= $3)) \
                     ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
         RETURNING ",
        columns!()
    ))
    .bind(owner)
    .bind(until)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(decode).transpose()
}

pub(super) async fn renew(
    pool: &PgPool,
    id: i64,
    owner: &str,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<bool, StoreError> {
    let until = lease_end(now, lease)?;
    let done = sqlx::query(
        "UPDATE jobs SET lease_until = $1 WHERE id = $2 AND owner = $3 AND status = 'running'",
    )
    .bind(until)
    .bind(id)
    .bind(owner)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn update(
    pool: &PgPool,
    id: i64,
    owner: &str,
    state: Value,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE jobs SET state = $1 WHERE id = $2 AND owner = $3 AND status = 'running'",
    )
    .bind(state)
    .bind(id)
    .bind(owner)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn finish(
    pool: &PgPool,
    id: i64,
    owner: &str,
    outcome: JobOutcome,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE jobs SET status = $1, outcome = $2, finished_at = now(), lease_until = NULL \
         WHERE id = $3 AND owner = $4 AND status = 'running'",
    )
    .bind(outcome.status().as_str())
    .bind(outcome.text())
    .bind(id)
    .bind(owner)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn release(pool: &PgPool, id: i64, owner: &str) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE jobs SET status = 'queued', owner = NULL, lease_until = NULL \
         WHERE id = $1 AND owner = $2 AND status = 'running'",
    )
    .bind(id)
    .bind(owner)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn get(pool: &PgPool, id: i64) -> Result<Option<Job>, StoreError> {
    let row = sqlx::query(concat!("SELECT ", columns!(), " FROM jobs WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(decode).transpose()
}

fn decode(row: &PgRow) -> Result<Job, StoreError> {
    let attempts: i32 = row.try_get("attempts")?;
    Ok(Job {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        payload: row.try_get("payload")?,
        state: row.try_get("state")?,
        run_at: row.try_get("run_at")?,
        status: JobStatus::parse(&row.try_get::<String, _>("status")?)?,
        owner: row.try_get("owner")?,
        lease_until: row.try_get("lease_until")?,
        attempts: u32::try_from(attempts)
            .map_err(|_| StoreError::Corrupt(format!("job attempts {attempts} out of range")))?,
        outcome: row.try_get("outcome")?,
        created_at: row.try_get("created_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}
