//! The one store implementation, over SQL, generic over the database: [`PostgresStore`] and [`SqliteStore`]
//! are the same code with a different [`Dialect`].

mod approvals;
mod audit;
mod bounds;
mod dialect;
mod incidents;
mod jobs;
mod postgres;
mod sqlite;
mod values;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{Database, Pool, Postgres, Sqlite};

use super::{
    ApprovalRecord, ApprovalState, FreezeState, Job, JobOutcome, NewApproval, Store, StoreError,
    Transition, Transitioned, Vote, VoteResult, redact_url,
};
use crate::audit::{AuditCheckpoint, AuditKey, AuditRow, NewAuditEntry, VerifyReport};
use dialect::Dialect;

/// The store in a PostgreSQL database.
pub(crate) type PostgresStore = SqlStore<Postgres>;

/// The store in a SQLite database.
pub(crate) type SqliteStore = SqlStore<Sqlite>;

/// The store in a database of dialect `DB`.
pub(crate) struct SqlStore<DB: Database> {
    pool: Pool<DB>,
    key: AuditKey,
    shown_url: String,
}

impl<DB: Dialect> std::fmt::Debug for SqlStore<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(DB::STORE_NAME)
            .field("url", &self.shown_url)
            .field("audit_key", &self.key)
            .finish_non_exhaustive()
    }
}

impl<DB: Dialect> SqlStore<DB> {
    /// Opens the database at `url` and applies the migrations.
    pub(crate) async fn connect(url: &str, key: AuditKey) -> Result<Self, StoreError> {
        let shown_url = redact_url(url);
        let pool = DB::open(url, &shown_url).await?;
        DB::MIGRATOR
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                url: shown_url.clone(),
                source,
            })?;
        Ok(SqlStore {
            pool,
            key,
            shown_url,
        })
    }
}

#[async_trait]
impl<DB: Dialect> Store for SqlStore<DB> {
    async fn create_approval(
        &self,
        new: NewApproval,
        audit: NewAuditEntry,
    ) -> Result<ApprovalRecord, StoreError> {
        approvals::create(&self.pool, &self.key, new, audit).await
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

    async fn transition(&self, step: Transition) -> Result<Option<Transitioned>, StoreError> {
        approvals::transition(&self.pool, &self.key, step).await
    }

    async fn stranded_approvals(
        &self,
        job_kind: &str,
        quiet_since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ApprovalRecord>, StoreError> {
        approvals::stranded(&self.pool, job_kind, quiet_since, limit).await
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
        lease: Duration,
    ) -> Result<Option<Job>, StoreError> {
        jobs::claim(&self.pool, owner, now, lease).await
    }

    async fn renew_lease(
        &self,
        id: i64,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
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
        values::claim_event(&self.pool, key, at).await
    }

    async fn prune_claims(&self, before: DateTime<Utc>, limit: u32) -> Result<u64, StoreError> {
        values::prune_claims(&self.pool, before, limit).await
    }

    async fn set_freeze(&self, freeze: Option<FreezeState>) -> Result<(), StoreError> {
        values::set_freeze(&self.pool, freeze).await
    }

    async fn freeze(&self) -> Result<Option<FreezeState>, StoreError> {
        values::freeze(&self.pool).await
    }

    async fn get_value(&self, key: &str) -> Result<Option<String>, StoreError> {
        values::get(&self.pool, key).await
    }

    async fn put_value(&self, key: &str, value: &str) -> Result<(), StoreError> {
        values::put(&self.pool, key, value).await
    }

    async fn append_audit(&self, entry: NewAuditEntry) -> Result<AuditRow, StoreError> {
        audit::append(&self.pool, &self.key, entry).await
    }

    async fn append_audit_batch(
        &self,
        entries: Vec<NewAuditEntry>,
    ) -> Result<Vec<AuditRow>, StoreError> {
        audit::append_batch(&self.pool, &self.key, entries).await
    }

    async fn audit_tail(&self, n: i64) -> Result<Vec<AuditRow>, StoreError> {
        audit::tail(&self.pool, n).await
    }

    async fn audit_row(&self, seq: i64) -> Result<Option<AuditRow>, StoreError> {
        audit::row(&self.pool, seq).await
    }

    async fn verify_audit(
        &self,
        key: &AuditKey,
        checkpoint: Option<&AuditCheckpoint>,
    ) -> Result<VerifyReport, StoreError> {
        audit::verify(&self.pool, key, checkpoint).await
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
