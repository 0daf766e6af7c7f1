//! The SQLite store: the embedded default (a file, or memory for throw-away use). Writers are serialised by SQLite
//! itself: single conditional statements, and `BEGIN IMMEDIATE` where a write needs a read first.

mod approvals;
mod audit;
mod incidents;
mod jobs;

use std::str::FromStr;
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::{
    ApprovalRecord, ApprovalState, FreezeState, Job, JobOutcome, NewApproval, Store, StoreError,
    Vote, VoteResult, redact_url,
};
use crate::audit::{AuditKey, AuditRow, NewAuditEntry, VerifyReport};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a writer waits for another to finish before giving up.
const BUSY_TIMEOUT: StdDuration = StdDuration::from_secs(30);

/// The store in a SQLite database.
pub struct SqliteStore {
    pool: SqlitePool,
    key: AuditKey,
    shown_url: String,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("url", &self.shown_url)
            .field("audit_key", &self.key)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite://PATH`, `sqlite:PATH` or `sqlite::memory:`)
    /// and applies the migrations.
    pub async fn connect(url: &str, key: AuditKey) -> Result<Self, StoreError> {
        let shown_url = redact_url(url);
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("cannot open {shown_url}: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        // Every connection to `:memory:` is a database of its own: keep exactly one, forever.
        let pool_options = if in_memory {
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            SqlitePoolOptions::new().max_connections(8)
        };
        let pool = pool_options
            .acquire_timeout(BUSY_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot open {shown_url}: {e}")))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                url: shown_url.clone(),
                source,
            })?;
        Ok(SqliteStore {
            pool,
            key,
            shown_url,
        })
    }
}

/// Times are stored as fixed-width UTC text (microseconds), so text order is time order.
pub(crate) fn ts(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub(crate) fn parse_ts(text: &str) -> Result<DateTime<Utc>, StoreError> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.fZ")
        .map(|naive| naive.and_utc())
        .map_err(|e| StoreError::Corrupt(format!("stored time `{text}` does not parse: {e}")))
}

pub(crate) fn parse_opt_ts(text: Option<String>) -> Result<Option<DateTime<Utc>>, StoreError> {
    text.as_deref().map(parse_ts).transpose()
}

pub(crate) fn parse_json(text: &str) -> Result<Value, StoreError> {
    Ok(serde_json::from_str(text)?)
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_approval(&self, new: NewApproval) -> Result<ApprovalRecord, StoreError> {
        approvals::create(&self.pool, new).await
    }

    async fn approval(&self, id: &str) -> Result<Option<ApprovalRecord>, StoreError> {
        approvals::get(&self.pool, id).await
    }

    async fn approvals_in_state(
        &self,
        states: &[ApprovalState],
        limit: u32,
    ) -> Result<Vec<ApprovalRecord>, StoreError> {
        approvals::in_state(&self.pool, states, limit).await
    }

    async fn pending_for_target(
        &self,
        target_key: &str,
    ) -> Result<Vec<ApprovalRecord>, StoreError> {
        approvals::for_target(&self.pool, target_key).await
    }

    async fn add_vote(&self, approval_id: &str, vote: Vote) -> Result<VoteResult, StoreError> {
        approvals::add_vote(&self.pool, approval_id, vote).await
    }

    async fn votes(&self, approval_id: &str) -> Result<Vec<Vote>, StoreError> {
        approvals::votes(&self.pool, approval_id).await
    }

    async fn transition(
        &self,
        id: &str,
        from: &[ApprovalState],
        to: ApprovalState,
        detail: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        approvals::transition(&self.pool, id, from, to, detail, at).await
    }

    async fn set_request_message(&self, id: &str, message: Value) -> Result<(), StoreError> {
        approvals::set_request_message(&self.pool, id, message).await
    }

    async fn enqueue_job(
        &self,
        kind: &str,
        payload: Value,
        run_at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        jobs::enqueue(&self.pool, kind, payload, run_at).await
    }

    async fn claim_job(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: StdDuration,
    ) -> Result<Option<Job>, StoreError> {
        jobs::claim(&self.pool, owner, now, lease).await
    }

    async fn renew_lease(
        &self,
        id: i64,
        owner: &str,
        now: DateTime<Utc>,
        lease: StdDuration,
    ) -> Result<bool, StoreError> {
        jobs::renew(&self.pool, id, owner, now, lease).await
    }

    async fn update_job(&self, id: i64, owner: &str, state: Value) -> Result<bool, StoreError> {
        jobs::update(&self.pool, id, owner, state).await
    }

    async fn finish_job(
        &self,
        id: i64,
        owner: &str,
        outcome: JobOutcome,
    ) -> Result<bool, StoreError> {
        jobs::finish(&self.pool, id, owner, outcome).await
    }

    async fn release_job(&self, id: i64, owner: &str) -> Result<bool, StoreError> {
        jobs::release(&self.pool, id, owner).await
    }

    async fn job(&self, id: i64) -> Result<Option<Job>, StoreError> {
        jobs::get(&self.pool, id).await
    }

    async fn claim_event(&self, key: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let done = sqlx::query("INSERT INTO claimed_events (key, claimed_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(ts(at))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn set_freeze(&self, freeze: Option<FreezeState>) -> Result<(), StoreError> {
        match freeze {
            Some(f) => {
                sqlx::query(
                    "INSERT INTO freeze_state (singleton, frozen_by, reason, frozen_at) VALUES (1, ?, ?, ?) \
                     ON CONFLICT (singleton) DO UPDATE SET frozen_by = excluded.frozen_by, \
                     reason = excluded.reason, frozen_at = excluded.frozen_at",
                )
                .bind(f.by)
                .bind(f.reason)
                .bind(ts(f.at))
                .execute(&self.pool)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM freeze_state")
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(())
    }

    async fn freeze(&self) -> Result<Option<FreezeState>, StoreError> {
        let row = sqlx::query(
            "SELECT frozen_by, reason, frozen_at FROM freeze_state WHERE singleton = 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(FreezeState {
                by: row.try_get("frozen_by")?,
                reason: row.try_get("reason")?,
                at: parse_ts(&row.try_get::<String, _>("frozen_at")?)?,
            })
        })
        .transpose()
    }

    async fn get_value(&self, key: &str) -> Result<Option<String>, StoreError> {
        let value = sqlx::query_scalar("SELECT value FROM kv WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(value)
    }

    async fn put_value(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn append_audit(&self, entry: NewAuditEntry) -> Result<AuditRow, StoreError> {
        audit::append(&self.pool, &self.key, entry).await
    }

    async fn audit_tail(&self, n: i64) -> Result<Vec<AuditRow>, StoreError> {
        audit::tail(&self.pool, n).await
    }

    async fn verify_audit(&self, key: &AuditKey) -> Result<VerifyReport, StoreError> {
        audit::verify(&self.pool, key).await
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
