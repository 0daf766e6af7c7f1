//! The bot's own store: approval requests and votes, jobs, claimed events, the freeze switch, small values, and
//! the HMAC-chained audit log — one `Store` trait, one SQL implementation with a SQLite and a PostgreSQL dialect.
//!
//! `connect("sqlite://PATH" | "sqlite::memory:" | "postgres://…", key)` opens either and applies the embedded
//! migrations. Queries are runtime-checked (`sqlx::query`), so building needs no database.

pub(crate) mod chain_verify;
mod error;
mod incidents;
mod model;
mod redact;
mod sql;

use std::sync::Arc;

use async_trait::async_trait;
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::audit::{AuditCheckpoint, AuditKey, AuditRow, NewAuditEntry, VerifyReport};

pub use error::StoreError;
pub use incidents::IncidentStore;
pub use model::{
    ApprovalRecord, ApprovalState, FreezeState, Job, JobOutcome, JobStatus, NewApproval, NewJob,
    Transition, Transitioned, Vote, VoteDecision, VoteResult,
};
pub use redact::redact_url;
use sql::{PostgresStore, SqliteStore};

/// Everything the bot keeps between invocations and across processes. Every method is atomic on its own; the
/// claim methods (`transition`, `claim_job`, `claim_event`) have exactly one winner however many race.
#[async_trait]
pub trait Store: IncidentStore + Send + Sync + std::fmt::Debug + 'static {
    // --- approval requests ---

    /// Stores a new request in state `pending`, allocating the next id (`A1`, `A2`, …) atomically, together with
    /// `audit` (its `approval_id` set to the new id). `Conflict` if the target already has a request in flight
    /// (pending, approved or executing): one open change per target, whoever asks and however.
    async fn create_approval(
        &self,
        new: NewApproval,
        audit: NewAuditEntry,
    ) -> Result<ApprovalRecord, StoreError>;

    /// The request with this id (`A12`), if any.
    async fn approval(&self, id: &str) -> Result<Option<ApprovalRecord>, StoreError>;

    /// Requests in any of `states`, oldest first, at most `limit`.
    async fn approvals_in_state(
        &self,
        states: &[ApprovalState],
        limit: u32,
    ) -> Result<Vec<ApprovalRecord>, StoreError>;

    /// Requests for `target_key` that still block another change to it (pending, approved or executing),
    /// oldest first.
    async fn pending_for_target(&self, target_key: &str)
    -> Result<Vec<ApprovalRecord>, StoreError>;

    /// Records a vote; one per person per request, a second one is `AlreadyVoted` and changes nothing.
    /// `NotFound` if there is no such request.
    async fn add_vote(&self, approval_id: &str, vote: Vote) -> Result<VoteResult, StoreError>;

    /// The votes on a request, in the order they were cast.
    async fn votes(&self, approval_id: &str) -> Result<Vec<Vote>, StoreError>;

    /// Moves a request to `step.to` if it is in one of `step.from`, in one transaction with the job the step
    /// starts and its audit row: all of it is stored or none. `Some` only for the one caller that moved it (the
    /// exactly-once claim); `None` (nothing written) if the request is not in `from`. Sets `state_detail`,
    /// `updated_at` to `at`, and `decided_at` to `at` if not yet set.
    async fn transition(&self, step: Transition) -> Result<Option<Transitioned>, StoreError>;

    /// Requests left in `approved` or `executing` with no queued or running job of `job_kind` for them, whose
    /// state has not changed since `quiet_since`, oldest first, at most `limit`: what a crash or a store fault
    /// between steps left behind.
    async fn stranded_approvals(
        &self,
        job_kind: &str,
        quiet_since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ApprovalRecord>, StoreError>;

    /// Remembers the `MessageRef` (JSON) of the posted request. `NotFound` if there is no such request.
    async fn set_request_message(&self, id: &str, message: Value) -> Result<(), StoreError>;

    // --- jobs ---

    /// Queues a job, claimable from `run_at`; returns its id.
    async fn enqueue_job(
        &self,
        kind: &str,
        payload: Value,
        run_at: DateTime<Utc>,
    ) -> Result<i64, StoreError>;

    /// Atomically takes the oldest due job that is queued, or running with an expired lease, for `owner` until
    /// `now + lease`, counting an attempt. `None` when nothing is due.
    async fn claim_job(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<Job>, StoreError>;

    /// Extends the lease to `now + lease` if `owner` still holds the job; false if it was lost.
    async fn renew_lease(
        &self,
        id: i64,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<bool, StoreError>;

    /// Saves a checkpoint (e.g. the `MessageRef` being updated) if `owner` holds the job.
    async fn update_job(&self, id: i64, owner: &str, state: Value) -> Result<bool, StoreError>;

    /// Marks the job done or failed if `owner` holds it (`finished_at` is the wall clock: a record, not a
    /// decision).
    async fn finish_job(
        &self,
        id: i64,
        owner: &str,
        outcome: JobOutcome,
    ) -> Result<bool, StoreError>;

    /// Gives the job back (graceful shutdown): queued again, claimable at once by anyone.
    async fn release_job(&self, id: i64, owner: &str) -> Result<bool, StoreError>;

    /// The job with this id, if any.
    async fn job(&self, id: i64) -> Result<Option<Job>, StoreError>;

    // --- events, freeze, values ---

    /// Claims a platform event key; true the first time only.
    async fn claim_event(&self, key: &str, at: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Forgets at most `limit` event claims taken before `before`, oldest first (a bounded batch, so pruning never
    /// holds the table for long); returns how many went.
    async fn prune_claims(&self, before: DateTime<Utc>, limit: u32) -> Result<u64, StoreError>;

    /// Freezes (`Some`) or unfreezes (`None`) all destructive work, for every process at once.
    async fn set_freeze(&self, freeze: Option<FreezeState>) -> Result<(), StoreError>;

    /// The freeze in force, if any. Read on every destructive action.
    async fn freeze(&self) -> Result<Option<FreezeState>, StoreError>;

    /// A small stored value (e.g. the Matrix sync position).
    async fn get_value(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// Stores or replaces a small value.
    async fn put_value(&self, key: &str, value: &str) -> Result<(), StoreError>;

    // --- audit ---

    /// Appends a row to the audit log, chained to the last one under the store's audit key. Appends are
    /// serialised across processes, so `seq` runs 1, 2, 3, … without gaps.
    async fn append_audit(&self, entry: NewAuditEntry) -> Result<AuditRow, StoreError>;

    /// Appends `entries` in order (group commit). The database stores take the chain's lock once and write all or
    /// none in one transaction; this default appends them one by one and stops at the first failure.
    async fn append_audit_batch(
        &self,
        entries: Vec<NewAuditEntry>,
    ) -> Result<Vec<AuditRow>, StoreError> {
        let mut rows = Vec::with_capacity(entries.len());
        for entry in entries {
            rows.push(self.append_audit(entry).await?);
        }
        Ok(rows)
    }

    /// The newest `n` rows, oldest first (for display); `n` ≤ 0 gives none.
    async fn audit_tail(&self, n: i64) -> Result<Vec<AuditRow>, StoreError>;

    /// The row with this `seq`, if any (read leniently, as `verify_audit` reads it).
    async fn audit_row(&self, seq: i64) -> Result<Option<AuditRow>, StoreError>;

    /// Checks the whole chain and its head under `key`, streaming the rows in `seq` order, and compares the rows
    /// with `checkpoint`, the chain's external checkpoint, when given (the only check that notices the newest
    /// rows deleted together with an older head put back).
    async fn verify_audit(
        &self,
        key: &AuditKey,
        checkpoint: Option<&AuditCheckpoint>,
    ) -> Result<VerifyReport, StoreError>;

    /// Closes the connections (waits for queries in flight).
    async fn close(&self);
}

/// Where the store lives and the key of its audit chain. `Debug` shows neither the key nor a URL password.
#[derive(Clone)]
pub struct StoreConfig {
    /// `sqlite://PATH`, `sqlite::memory:` or `postgres://…`.
    pub url: SecretString,
    /// The key of the audit chain.
    pub audit_key: AuditKey,
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConfig")
            .field("url", &redact_url(self.url.expose_secret()))
            .field("audit_key", &self.audit_key)
            .finish()
    }
}

/// Opens the store at `url` (`sqlite://PATH` — created if missing —, `sqlite::memory:`, or `postgres://…`),
/// applies the embedded migrations, and uses `audit_key` to chain audit rows.
pub async fn connect(url: &str, audit_key: AuditKey) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url, audit_key).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(url, audit_key).await?))
    } else {
        Err(StoreError::BadUrl(redact_url(url)))
    }
}

/// [`connect`] with a [`StoreConfig`].
pub async fn connect_with(config: &StoreConfig) -> Result<Arc<dyn Store>, StoreError> {
    connect(config.url.expose_secret(), config.audit_key.clone()).await
}

/// A lease end, refusing empty or absurd leases.
pub(crate) fn lease_end(now: DateTime<Utc>, lease: Duration) -> Result<DateTime<Utc>, StoreError> {
    if lease.is_zero() {
        return Err(StoreError::Invalid(
            "a job lease must be longer than zero".into(),
        ));
    }
    chrono::Duration::from_std(lease)
        .ok()
        .and_then(|lease| now.checked_add_signed(lease))
        .ok_or_else(|| {
            StoreError::Invalid(format!("a lease of {lease:?} from {now} is out of range"))
        })
}
