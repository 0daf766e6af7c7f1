//! PostgreSQL, for production and for several replicas sharing one database: TIMESTAMPTZ and JSONB columns,
//! claims with `FOR UPDATE SKIP LOCKED`, audit appends under a transaction-scoped advisory lock.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::Postgres;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};

use super::Dialect;
use crate::store::{ApprovalState, StoreError};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// How long to wait for a connection before calling the database unavailable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl Dialect for Postgres {
    const STORE_NAME: &'static str = "PostgresStore";
    const MIGRATOR: &'static Migrator = &MIGRATOR;

    /// `url` is `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`.
    async fn open(url: &str, shown_url: &str) -> Result<PgPool, StoreError> {
        PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect(url)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to {shown_url}: {e}")))
    }

    type Time = DateTime<Utc>;

    fn time(at: DateTime<Utc>) -> DateTime<Utc> {
        at
    }

    fn read_time(stored: DateTime<Utc>) -> Result<DateTime<Utc>, StoreError> {
        Ok(stored)
    }

    /// NULL: the server's `now()` fills record-only times.
    type Stamp = Option<DateTime<Utc>>;

    fn stamp() -> Option<DateTime<Utc>> {
        None
    }

    type Json = Value;

    fn json<T: Serialize>(value: &T) -> Result<Value, StoreError> {
        Ok(serde_json::to_value(value)?)
    }

    fn read_json(stored: Value) -> Result<Value, StoreError> {
        Ok(stored)
    }

    type Integer = i32;

    /// A text array, for `state = ANY($n)`.
    type States = Vec<String>;

    fn states(states: &[ApprovalState]) -> Vec<String> {
        states.iter().map(|s| s.as_str().to_string()).collect()
    }

    fn state_in(param: &str) -> String {
        format!("state = ANY({param})")
    }

    const JOB_APPROVAL_ID: &'static str = "jobs.payload ->> 'approval_id'";
    const VOTE_TIEBREAK: &'static str = "person_id";
    const CLAIM_LOCK: &'static str = " FOR UPDATE SKIP LOCKED";
    const BEGIN_APPEND: &'static str = "BEGIN";

    /// One writer at a time across all replicas; the key is "mystaudi" as bytes (0x6d79_7374_6175_6469).
    const LOCK_APPEND: Option<&'static str> =
        Some("SELECT pg_advisory_xact_lock(7888463166004618345)");

    const BEGIN_SNAPSHOT: &'static str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
}

#[cfg(test)]
mod tests {
    use super::{Dialect, Postgres};

    /// The lock key must stay the one every deployed version takes, or old and new replicas would append at once.
    #[test]
    fn append_lock_key_is_unchanged() {
        let key = i64::from_be_bytes(*b"mystaudi");
        assert_eq!(key, 0x6d79_7374_6175_6469);
        assert_eq!(
            Postgres::LOCK_APPEND,
            Some(format!("SELECT pg_advisory_xact_lock({key})").as_str())
        );
    }
}
