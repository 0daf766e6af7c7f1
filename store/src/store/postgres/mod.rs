//! The PostgreSQL store, for production and for several replicas sharing one database. Claims are single
//! conditional statements (`FOR UPDATE SKIP LOCKED` for jobs); audit appends hold a transaction-scoped advisory lock.

mod approvals;
mod audit;
mod incidents;
mod jobs;

use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::{PgPool, PgPoolOptions};

use super::{
    ApprovalRecord, ApprovalState, FreezeState, Job, JobOutcome, NewApproval, Store, StoreError,
    Vote, VoteResult, redact_url,
};
use crate::audit::{AuditKey, AuditRow, NewAuditEntry, VerifyReport};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// How long to wait for a connection before calling the database unavailable.
const CONNECT_TIMEOUT: StdDuration = StdDuration::from_secs(10);

/// The store in a PostgreSQL database.
pub struct PostgresStore {
    pool: PgPool,
    key: AuditKey,
    shown_url: String,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &self.shown_url)
            .field("audit_key", &self.key)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`) and applies the migrations.
    pub async fn connect(url: &str, key: AuditKey) -> Result<Self, StoreError> {
        let shown_url = redact_url(url);
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect(url)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to {shown_url}: {e}")))?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                url: shown_url.clone(),
                source,
            })?;
        Ok(PostgresStore {
            pool,
            key,
            shown_url,
        })
    }
}

/// The states as names, for `state = ANY($n)`.
pub(crate) fn state_names(states: &[ApprovalState]) -> Vec<String> {
    states.iter().map(|s| s.as_str().to_string()).collect()
}

#[async_trait]
impl Store for PostgresStore {
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
        let done = sqlx::query("INSERT INTO claimed_events (key, claimed_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(at)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn set_freeze(&self, freeze: Option<FreezeState>) -> Result<(), StoreError> {
        match freeze {
            Some(f) => {
                sqlx::query(
                    "INSERT INTO freeze_state (singleton, frozen_by, reason, frozen_at) VALUES (1, $1, $2, $3) \
                     ON CONFLICT (singleton) DO UPDATE SET frozen_by = excluded.frozen_by, \
                     reason = excluded.reason, frozen_at = excluded.frozen_at",
                )
                .bind(f.by)
                .bind(f.reason)
                .bind(f.at)
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
        let row: Option<(String, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT frozen_by, reason, frozen_at FROM freeze_state WHERE singleton = 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(by, reason, at)| FreezeState { by, reason, at }))
    }

    async fn get_value(&self, key: &str) -> Result<Option<String>, StoreError> {
        let value = sqlx::query_scalar("SELECT value FROM kv WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(value)
    }

    async fn put_value(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO kv (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
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
