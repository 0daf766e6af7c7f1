//! What PostgreSQL and SQLite do differently, as the one trait the store is generic over. Everything else is
//! shared, the SQL text included: sqlx-sqlite binds `$N` placeholders by number, as PostgreSQL does.

use std::future::Future;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::migrate::{Migrate, Migrator};
use sqlx::{Database, IntoArguments, Pool};

use super::bounds::{Affected, Binds, Field, Param, Reads, Runs};
use crate::store::{ApprovalState, StoreError};

/// A database the store runs on. The supertraits are the sqlx capabilities the shared code uses (see
/// [`super::bounds`]); the items are the differences: how times, JSON and INTEGER columns are held, the few SQL
/// fragments that differ, how writers are serialised, and how a pool is opened.
pub(crate) trait Dialect:
    Database<Arguments: IntoArguments<Self>, QueryResult: Affected, Connection: Migrate>
    + Runs
    + Binds<String>
    + Binds<Option<String>>
    + for<'a> Binds<&'a str>
    + Binds<i64>
    + Binds<Option<i64>>
    + Binds<bool>
    + Reads<String>
    + Reads<Option<String>>
    + Reads<i64>
    + Reads<Option<i64>>
{
    /// The name `Debug` shows for the store.
    const STORE_NAME: &'static str;

    /// The embedded migrations (one folder per database; existing databases were created from them).
    const MIGRATOR: &'static Migrator;

    /// Opens a pool on `url` (`shown_url` is its redacted form, for errors), with this database's options.
    fn open(
        url: &str,
        shown_url: &str,
    ) -> impl Future<Output = Result<Pool<Self>, StoreError>> + Send;

    /// A stored time.
    type Time: Param<Self> + Field<Self>;

    fn time(at: DateTime<Utc>) -> Self::Time;

    fn read_time(stored: Self::Time) -> Result<DateTime<Utc>, StoreError>;

    /// The parameter of `COALESCE($n, CURRENT_TIMESTAMP)` for the times kept only as a record (`created_at` of
    /// jobs and incidents, `finished_at`): NULL where the database's own clock fills them (PostgreSQL), the
    /// process's time where it does not (SQLite).
    type Stamp: Param<Self>;

    fn stamp() -> Self::Stamp;

    /// A stored JSON document (the audit log's JSON is text on both: its MACs cover the exact text).
    type Json: Param<Self> + Field<Self>;

    fn json<T: Serialize>(value: &T) -> Result<Self::Json, StoreError>;

    fn read_json(stored: Self::Json) -> Result<Value, StoreError>;

    /// An `INTEGER` column (quorum, attempts).
    type Integer: Param<Self> + Field<Self> + TryFrom<u32> + Into<i64>;

    /// A set of approval states as one parameter.
    type States: Param<Self>;

    fn states(states: &[ApprovalState]) -> Self::States;

    /// The condition "`state` is in the set bound at `param`".
    fn state_in(param: &str) -> String;

    /// The `approval_id` of a job's payload, as text (`jobs` in scope).
    const JOB_APPROVAL_ID: &'static str;

    /// What orders votes cast at the same time.
    const VOTE_TIEBREAK: &'static str;

    /// What follows the claim's choice of a job, so that concurrent claimers take different jobs.
    const CLAIM_LOCK: &'static str;

    /// How an audit append's transaction begins.
    const BEGIN_APPEND: &'static str;

    /// The statement that then serialises appends across processes, if beginning did not already.
    const LOCK_APPEND: Option<&'static str>;

    /// How verification's transaction begins: a snapshot that appends cannot change under it.
    const BEGIN_SNAPSHOT: &'static str;
}
