//! SQLite, the embedded default (a file, or memory for throw-away use): times and JSON as text, and writers
//! serialised by SQLite itself — single conditional statements, and `BEGIN IMMEDIATE` where a write needs a read
//! first.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::Sqlite;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::Dialect;
use crate::store::{ApprovalState, StoreError};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a writer waits for another to finish before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The pool for `url`. Every connection to `:memory:` is a database of its own: keep exactly one, forever.
fn pool_options(url: &str) -> SqlitePoolOptions {
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    if in_memory {
        SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    } else {
        SqlitePoolOptions::new().max_connections(8)
    }
}

impl Dialect for Sqlite {
    const STORE_NAME: &'static str = "SqliteStore";
    const MIGRATOR: &'static Migrator = &MIGRATOR;

    /// `url` is `sqlite://PATH`, `sqlite:PATH` or `sqlite::memory:`; a missing file is created.
    async fn open(url: &str, shown_url: &str) -> Result<SqlitePool, StoreError> {
        let unavailable =
            |e: sqlx::Error| StoreError::Unavailable(format!("cannot open {shown_url}: {e}"));
        let options = SqliteConnectOptions::from_str(url)
            .map_err(unavailable)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        pool_options(url)
            .acquire_timeout(BUSY_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(unavailable)
    }

    /// Fixed-width UTC text (microseconds), so text order is time order.
    type Time = String;

    fn time(at: DateTime<Utc>) -> String {
        at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    }

    fn read_time(stored: String) -> Result<DateTime<Utc>, StoreError> {
        NaiveDateTime::parse_from_str(&stored, "%Y-%m-%dT%H:%M:%S%.fZ")
            .map(|naive| naive.and_utc())
            .map_err(|e| StoreError::Corrupt(format!("stored time `{stored}` does not parse: {e}")))
    }

    /// The process's time: SQLite's own clock has milliseconds only, and another text format.
    type Stamp = String;

    fn stamp() -> String {
        Self::time(Utc::now())
    }

    type Json = String;

    fn json<T: Serialize>(value: &T) -> Result<String, StoreError> {
        Ok(serde_json::to_string(value)?)
    }

    fn read_json(stored: String) -> Result<Value, StoreError> {
        Ok(serde_json::from_str(&stored)?)
    }

    type Integer = i64;

    /// A JSON array of names, for `IN (SELECT value FROM json_each($n))`.
    type States = String;

    fn states(states: &[ApprovalState]) -> String {
        Value::from(states.iter().map(|s| s.as_str()).collect::<Vec<_>>()).to_string()
    }

    fn state_in(param: &str) -> String {
        format!("state IN (SELECT value FROM json_each({param}))")
    }

    /// Insertion order.
    const JOB_APPROVAL_ID: &'static str = "json_extract(jobs.payload, '$.approval_id')";
    const VOTE_TIEBREAK: &'static str = "rowid";

    /// Nothing: SQLite takes the write lock before the statement reads, so two claimers never pick the same job.
    const CLAIM_LOCK: &'static str = "";

    /// The write lock at once (one writer at a time, across processes too), before the chain end is read.
    const BEGIN_APPEND: &'static str = "BEGIN IMMEDIATE";
    const LOCK_APPEND: Option<&'static str> = None;

    /// A read transaction sees one snapshot of the database.
    const BEGIN_SNAPSHOT: &'static str = "BEGIN";
}
