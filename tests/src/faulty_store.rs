//! A store with faults a test switches on: it fails the Nth write from now (as a dropped connection or a full disk
//! would), or stops answering altogether until resumed (a stalled database, a network partition). Everything else
//! goes to the real store underneath.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mystocks_commands::audit::{AuditCheckpoint, AuditKey, AuditRow, NewAuditEntry, VerifyReport};
use mystocks_commands::incident::{IncidentRecord, NewTimelineEntry, TimelineEntry};
use mystocks_commands::store::{
    ApprovalRecord, ApprovalState, FreezeState, IncidentStore, Job, JobOutcome, NewApproval, Store,
    StoreError, Transition, Transitioned, Vote, VoteResult,
};
use serde_json::Value;

/// The switches, shared by the test and the store.
#[derive(Debug)]
pub struct Faults {
    writes: AtomicU64,
    /// The number of the write that fails (counted since the store was made); 0: none.
    fail_at: AtomicU64,
    paused: tokio::sync::watch::Sender<bool>,
    /// An audit decision (`"executed"`) whose append pauses the store, as if the process stopped right there.
    pause_at_audit: std::sync::Mutex<Option<String>>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            writes: AtomicU64::new(0),
            fail_at: AtomicU64::new(0),
            paused: tokio::sync::watch::Sender::new(false),
            pause_at_audit: std::sync::Mutex::new(None),
        }
    }
}

impl Faults {
    /// The `n`th write from now (1 = the next) fails; the ones after it succeed again.
    pub fn fail_nth_write(&self, n: u64) {
        let now = self.writes.load(Ordering::SeqCst);
        self.fail_at.store(now + n, Ordering::SeqCst);
    }

    /// No write fails.
    pub fn heal(&self) {
        self.fail_at.store(0, Ordering::SeqCst);
    }

    /// Every call waits until [`Faults::resume`].
    pub fn pause(&self) {
        self.paused.send_replace(true);
    }

    /// The store pauses (as [`Faults::pause`]) when an audit row with `decision` is appended, before it is written.
    pub fn pause_at_audit(&self, decision: &str) {
        *self
            .pause_at_audit
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(decision.to_string());
    }

    fn pause_if_audit_is(&self, decision: &str) {
        let at = self
            .pause_at_audit
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if at.as_deref() == Some(decision) {
            self.pause();
        }
    }

    pub fn resume(&self) {
        self.paused.send_replace(false);
    }

    /// Writes attempted so far.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::SeqCst)
    }

    async fn wait_while_paused(&self) {
        let mut paused = self.paused.subscribe();
        let _ = paused.wait_for(|p| !*p).await;
    }

    async fn write(&self, what: &str) -> Result<(), StoreError> {
        self.wait_while_paused().await;
        let n = self.writes.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.fail_at.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable(format!(
                "injected fault at write {n} ({what})"
            )));
        }
        Ok(())
    }
}

/// The real store behind the switches of [`Faults`].
#[derive(Debug)]
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    faults: Arc<Faults>,
}

impl FaultyStore {
    pub fn wrap(inner: Arc<dyn Store>, faults: Arc<Faults>) -> Arc<dyn Store> {
        Arc::new(FaultyStore { inner, faults })
    }
}

#[async_trait]
impl IncidentStore for FaultyStore {
    async fn create_incident(
        &self,
        incident: &IncidentRecord,
    ) -> Result<IncidentRecord, StoreError> {
        self.faults.write("create_incident").await?;
        self.inner.create_incident(incident).await
    }

    async fn incident(&self, number: i64) -> Result<Option<IncidentRecord>, StoreError> {
        self.faults.wait_while_paused().await;
        self.inner.incident(number).await
    }

    async fn incident_in_thread(
        &self,
        channel: &str,
        thread: &str,
    ) -> Result<Option<IncidentRecord>, StoreError> {
        self.faults.wait_while_paused().await;
        self.inner.incident_in_thread(channel, thread).await
    }

    async fn incidents(
        &self,
        open_only: bool,
        limit: u32,
    ) -> Result<Vec<IncidentRecord>, StoreError> {
        self.faults.wait_while_paused().await;
        self.inner.incidents(open_only, limit).await
    }

    async fn save_incident(&self, incident: &IncidentRecord) -> Result<bool, StoreError> {
        self.faults.write("save_incident").await?;
        self.inner.save_incident(incident).await
    }

    async fn append_timeline(&self, entry: NewTimelineEntry) -> Result<TimelineEntry, StoreError> {
        self.faults.write("append_timeline").await?;
        self.inner.append_timeline(entry).await
    }

    async fn timeline(&self, incident: i64) -> Result<Vec<TimelineEntry>, StoreError> {
        self.faults.wait_while_paused().await;
        self.inner.timeline(incident).await
    }
}

#[async_trait]
impl Store for FaultyStore {
    async fn create_approval(
        &self,
        new: NewApproval,
        audit: NewAuditEntry,
    ) -> Result<ApprovalRecord, StoreError> {
        self.faults.write("create_approval").await?;
        self.inner.create_approval(new, audit).await
    }

    async fn approval(&self, id: &str) -> Result<Option<ApprovalRecord>, StoreError> {
        self.faults.wait_while_paused().await;
        self.inner.approval(id).await
    }

    async fn approvals_in_state(
        &self,
        states: &[ApprovalState],
        limit: u32,
    ) -> Result<Vec<ApprovalRecord>, StoreError> {
        self.faults.wait_while_paused().await;
        self.inner.approvals_in_state(states, limit).await
    }

    async fn pending_for_target(
        &self,
        target_key: &str,
    ) -> Result<Vec<ApprovalRecord>, StoreError> {
        self.faults.wait_while_paused().await;
        self.inner.pending_for_target(target_key).await
    }

    async fn add_vote(&self, approval_id: &str, vote: Vote) -> Result<VoteResult, StoreError> {
        self.faults.write("add_vote").await?;
        self.inner.add_vote(approval_id, vote).await
    }

    async fn votes(&self, approval_id: &str) -> Result<Vec<Vote>, StoreError> {
        self.faults.wait_while_paused().await;
        self.inner.votes(approval_id).await
    }

    async fn transition(&self, step: Transition) -> Result<Option<Transitioned>, StoreError> {
        self.faults.write("transition").await?;
        self.inner.transition(step).await
    }

    async fn stranded_approvals(
        &self,
        job_kind: &str,
        quiet_since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ApprovalRecord>, StoreError> {
        self.faults.wait_while_paused().await;
        self.inner
            .stranded_approvals(job_kind, quiet_since, limit)
            .await
    }

    async fn set_request_message(&self, id: &str, message: Value) -> Result<(), StoreError> {
        self.faults.write("set_request_message").await?;
        self.inner.set_request_message(id, message).await
    }

    async fn enqueue_job(
        &self,
        kind: &str,
        payload: Value,
        run_at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.faults.write("enqueue_job").await?;
        self.inner.enqueue_job(kind, payload, run_at).await
    }

    async fn claim_job(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<Job>, StoreError> {
        self.faults.write("claim_job").await?;
        self.inner.claim_job(owner, now, lease).await
    }

    async fn renew_lease(
        &self,
        id: i64,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        self.faults.write("renew_lease").await?;
        self.inner.renew_lease(id, owner, now, lease).await
    }

    async fn update_job(&self, id: i64, owner: &str, state: Value) -> Result<bool, StoreError> {
        self.faults.write("update_job").await?;
        self.inner.update_job(id, owner, state).await
    }

    async fn finish_job(
        &self,
        id: i64,
        owner: &str,
        outcome: JobOutcome,
    ) -> Result<bool, StoreError> {
        self.faults.write("finish_job").await?;
        self.inner.finish_job(id, owner, outcome).await
    }

    async fn release_job(&self, id: i64, owner: &str) -> Result<bool, StoreError> {
        self.faults.write("release_job").await?;
        self.inner.release_job(id, owner).await
    }

    async fn job(&self, id: i64) -> Result<Option<Job>, StoreError> {
        self.faults.wait_while_paused().await;
        self.inner.job(id).await
    }

    async fn claim_event(&self, key: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.faults.write("claim_event").await?;
        self.inner.claim_event(key, at).await
    }

    async fn prune_claims(&self, before: DateTime<Utc>, limit: u32) -> Result<u64, StoreError> {
        self.faults.write("prune_claims").await?;
        self.inner.prune_claims(before, limit).await
    }

    async fn set_freeze(&self, freeze: Option<FreezeState>) -> Result<(), StoreError> {
        self.faults.write("set_freeze").await?;
        self.inner.set_freeze(freeze).await
    }

    async fn freeze(&self) -> Result<Option<FreezeState>, StoreError> {
        self.faults.wait_while_paused().await;
        self.inner.freeze().await
    }

    async fn get_value(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.faults.wait_while_paused().await;
        self.inner.get_value(key).await
    }

    async fn put_value(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.faults.write("put_value").await?;
        self.inner.put_value(key, value).await
    }

    async fn append_audit(&self, entry: NewAuditEntry) -> Result<AuditRow, StoreError> {
        self.faults.pause_if_audit_is(&entry.decision);
        self.faults.write("append_audit").await?;
        self.inner.append_audit(entry).await
    }

    async fn audit_tail(&self, n: i64) -> Result<Vec<AuditRow>, StoreError> {
        self.faults.wait_while_paused().await;
        self.inner.audit_tail(n).await
    }

    async fn audit_row(&self, seq: i64) -> Result<Option<AuditRow>, StoreError> {
        self.faults.wait_while_paused().await;
        self.inner.audit_row(seq).await
    }

    async fn verify_audit(
        &self,
        key: &AuditKey,
        checkpoint: Option<&AuditCheckpoint>,
    ) -> Result<VerifyReport, StoreError> {
        self.faults.wait_while_paused().await;
        self.inner.verify_audit(key, checkpoint).await
    }

    async fn close(&self) {
        self.inner.close().await;
    }
}
