//! Stored jobs: long work (executing an approval and following its rollout) is a row in the store with a claim
//! and a lease, not a task that lives only in one process. Any process polls for due jobs; a job whose owner
//! died is taken over when its lease expires. A process that stops gracefully claims nothing new, lets its jobs
//! finish for a while, then hands the rest back (lease released at once, so another process goes on without
//! waiting for it to expire).
//!
//! What settles requests left between states, and prunes old claims, is in `reconcile.rs`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use serde_json::json;

use crate::reply::ReplySink;
use crate::store::{ApprovalState, Job, JobOutcome, NewJob};

use super::Context;
use super::execute::{self, ExecutePayload};
use super::request_change::refresh_request_message;
use super::request_moves::{By, step};
use super::work_count::WorkCount;

/// The job kind that executes an approved request and follows its rollout.
pub const EXECUTE: &str = "execute-approval";

/// The reply sinks by platform (`console`, `slack`, `matrix`), so a job can post into any conversation.
#[derive(Clone, Default)]
pub struct Sinks(Arc<RwLock<HashMap<String, Arc<dyn ReplySink>>>>);

impl Sinks {
    /// The sink for a channel id such as `console:main` or `slack:T1/C2`.
    pub fn for_channel(&self, channel: &str) -> Option<Arc<dyn ReplySink>> {
        let platform = channel.split_once(':').map(|(p, _)| p).unwrap_or(channel);
        self.0.read().ok()?.get(platform).cloned()
    }

    fn register(&self, platform: &str, sink: Arc<dyn ReplySink>) {
        if let Ok(mut map) = self.0.write() {
            map.insert(platform.to_string(), sink);
        }
    }
}

/// Counts work in flight in this process, so `settle` can wait for it.
struct InFlight {
    work: WorkCount,
    tasks: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// The process is stopping: no job is claimed any more.
    stopping: AtomicBool,
    /// Set when running jobs must stop and give their leases back.
    hand_over: tokio::sync::watch::Sender<bool>,
    /// Jobs given back so far.
    handed_back: AtomicUsize,
}

impl Default for InFlight {
    fn default() -> Self {
        InFlight {
            work: WorkCount::default(),
            tasks: std::sync::Mutex::default(),
            stopping: AtomicBool::new(false),
            hand_over: tokio::sync::watch::Sender::new(false),
            handed_back: AtomicUsize::new(0),
        }
    }
}

/// Aborts a helper task when the work it serves ends, however it ends (finished, failed or cancelled).
pub(super) struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Claims and runs stored jobs.
#[derive(Clone)]
pub struct JobRunner {
    pub(super) ctx: Arc<Context>,
    pub(super) sinks: Sinks,
    in_flight: Arc<InFlight>,
}

impl JobRunner {
    pub fn new(ctx: Arc<Context>) -> Self {
        JobRunner {
            ctx,
            sinks: Sinks::default(),
            in_flight: Arc::default(),
        }
    }

    pub fn register_sink(&self, platform: &str, sink: Arc<dyn ReplySink>) {
        self.sinks.register(platform, sink);
    }

    pub fn sinks(&self) -> Sinks {
        self.sinks.clone()
    }

    /// The job that executes an approved request; it is stored in the same transaction as the approval (see
    /// [`super::request_moves::step`]), then [`JobRunner::kick`] starts it in this process.
    pub(super) fn execution_job(&self, approval_id: &str, approved_by: &str) -> NewJob {
        NewJob {
            kind: EXECUTE.to_string(),
            payload: json!(ExecutePayload {
                approval_id: approval_id.to_string(),
                approved_by: approved_by.to_string()
            }),
            run_at: self.ctx.clock.now(),
        }
    }

    /// Runs due jobs in a background task that `settle` waits for.
    pub(super) fn kick(&self) {
        let runner = self.clone();
        runner.in_flight.work.add();
        let in_flight = runner.in_flight.clone();
        let handle = tokio::spawn(async move {
            runner.run_due().await;
            runner.done_with_work();
        });
        if let Ok(mut tasks) = in_flight.tasks.lock() {
            tasks.retain(|t| !t.is_finished());
            tasks.push(handle);
        }
    }

    /// Stops this process's job work at once, as a crash would: leases are not released, so another process
    /// takes the jobs over when they expire. For tests of takeover.
    pub fn abort_all(&self) {
        if let Ok(mut tasks) = self.in_flight.tasks.lock() {
            for t in tasks.drain(..) {
                t.abort();
            }
        }
        self.in_flight.work.reset();
    }

    fn done_with_work(&self) {
        self.in_flight.work.done();
    }

    /// Claims no job from now on (the process is stopping); running jobs go on.
    pub fn stop_taking_work(&self) {
        self.in_flight.stopping.store(true, Ordering::SeqCst);
    }

    pub(super) fn stopping(&self) -> bool {
        self.in_flight.stopping.load(Ordering::SeqCst)
    }

    /// Stops claiming jobs and stops the running ones, giving each back to the store (queued again, no owner,
    /// no lease) so another process takes it over at once; waits until they are given back. A job stopped
    /// mid-way resumes from its checkpoint, as after a crash. Returns how many jobs were given back.
    pub async fn hand_over(&self) -> usize {
        self.stop_taking_work();
        self.in_flight.hand_over.send_replace(true);
        self.settle().await;
        self.in_flight.handed_back.load(Ordering::SeqCst)
    }

    /// Waits until the work kicked off in this process has finished.
    pub async fn settle(&self) {
        self.in_flight.work.idle().await;
    }

    /// Polls for due jobs and expired requests until the process stops.
    pub fn spawn_poller(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            // Stranded requests are looked for at start and then about twice a lease.
            let mut last_reconcile: Option<std::time::Instant> = None;
            let mut last_prune: Option<std::time::Instant> = None;
            loop {
                tokio::time::sleep(self.ctx.settings.job_poll).await;
                if self.stopping() {
                    return;
                }
                // Counted as work in flight, so `settle` also waits for a job the poller picked up.
                self.in_flight.work.add();
                self.expire_due().await;
                if last_reconcile.is_none_or(|at| at.elapsed() >= self.ctx.settings.job_lease / 2) {
                    last_reconcile = Some(std::time::Instant::now());
                    self.reconcile_stranded().await;
                }
                if last_prune.is_none_or(|at| at.elapsed() >= super::reconcile::PRUNE_EVERY) {
                    last_prune = Some(std::time::Instant::now());
                    self.prune_claims().await;
                }
                self.run_due().await;
                self.done_with_work();
            }
        })
    }

    /// Claims and runs jobs until none is due.
    pub async fn run_due(&self) {
        let ctx = &self.ctx;
        let owner = &ctx.settings.process_id;
        loop {
            if self.stopping() {
                return;
            }
            let claimed = ctx
                .store
                .claim_job(owner, ctx.clock.now(), ctx.settings.job_lease)
                .await;
            match claimed {
                Ok(Some(job)) => self.run_one(job).await,
                Ok(None) => return,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot claim jobs");
                    return;
                }
            }
        }
    }

    async fn run_one(&self, job: Job) {
        let ctx = &self.ctx;
        let owner = ctx.settings.process_id.clone();
        let (lease_lost, mut lost) = tokio::sync::oneshot::channel();
        let renewer = AbortOnDrop(self.spawn_lease_renewal(job.id, lease_lost));
        let mut hand_over = self.in_flight.hand_over.subscribe();
        // Losing the lease stops the job at its next await, before its next side effect: another process may
        // hold the job now, and two owners would follow one rollout or run one VACUUM twice.
        let outcome = tokio::select! {
            outcome = self.work(&job) => Some(outcome),
            _ = hand_over.wait_for(|stop| *stop) => None,
            Ok(why) = &mut lost => {
                tracing::error!(job = job.id, kind = %job.kind, "{why}; the job stops here and whoever holds the lease goes on");
                return;
            }
        };
        drop(renewer);
        let Some(outcome) = outcome else {
            match ctx.store.release_job(job.id, &owner).await {
                Ok(_) => {
                    self.in_flight.handed_back.fetch_add(1, Ordering::SeqCst);
                    tracing::info!(job = job.id, kind = %job.kind, "stopping: job handed back for another process to go on with");
                }
                Err(err) => {
                    tracing::warn!(error = %err, job = job.id, "could not hand a job back; another process takes it when its lease expires")
                }
            }
            return;
        };
        if let Err(err) = ctx.store.finish_job(job.id, &owner, outcome).await {
            tracing::warn!(error = %err, job = job.id, "could not mark a job finished");
        }
    }

    async fn work(&self, job: &Job) -> JobOutcome {
        let ctx = &self.ctx;
        match job.kind.as_str() {
            EXECUTE => execute::run(ctx, &self.sinks, job).await,
            super::runbooks::ADVANCE_RUN => super::runbooks::run_job(self, ctx, job).await,
            super::verify_after_change::VERIFY_CHANGE => {
                super::verify_after_change::run_job(self, ctx, job).await
            }
            kind if super::incidents::is_job(kind) => {
                super::incidents::run_job(ctx, &self.sinks, job).await
            }
            other => JobOutcome::Failed(format!("unknown job kind `{other}`")),
        }
    }

    /// Renews the job's lease every third of it. Says on `lost` (and stops) when the store says another process
    /// holds the job, or when no renewal has succeeded for two thirds of a lease — by then the lease may run out
    /// before this process can prove it still holds it.
    fn spawn_lease_renewal(
        &self,
        job_id: i64,
        lost: tokio::sync::oneshot::Sender<String>,
    ) -> tokio::task::JoinHandle<()> {
        let ctx = self.ctx.clone();
        tokio::spawn(async move {
            let lease = ctx.settings.job_lease;
            let every = lease / 3;
            let mut held_at = tokio::time::Instant::now();
            loop {
                tokio::time::sleep(every).await;
                let owner = &ctx.settings.process_id;
                let renewal = tokio::time::timeout(
                    every,
                    ctx.store.renew_lease(job_id, owner, ctx.clock.now(), lease),
                )
                .await;
                match renewal {
                    Ok(Ok(true)) => held_at = tokio::time::Instant::now(),
                    Ok(Ok(false)) => {
                        let _ = lost.send("the job's lease was lost to another process".into());
                        return;
                    }
                    Ok(Err(err)) => {
                        tracing::warn!(error = %err, job = job_id, "could not renew a job lease")
                    }
                    Err(_) => tracing::warn!(job = job_id, "renewing a job lease timed out"),
                }
                if held_at.elapsed() >= lease.saturating_sub(every) {
                    let _ = lost.send(format!(
                        "the job's lease could not be renewed for {:?} (the store does not answer)",
                        held_at.elapsed()
                    ));
                    return;
                }
            }
        })
    }

    /// Marks pending requests past their expiry as expired and updates their messages.
    pub async fn expire_due(&self) {
        let ctx = &self.ctx;
        let Ok(pending) = ctx
            .store
            .approvals_in_state(&[ApprovalState::Pending], 500)
            .await
        else {
            return;
        };
        let now = ctx.clock.now();
        for record in pending.into_iter().filter(|r| r.expires_at <= now) {
            let moved = step(
                ctx,
                &record.id,
                &[ApprovalState::Pending],
                ApprovalState::Expired,
                "no decision in time",
                By::Bot,
                None,
            )
            .await;
            if let Ok(Some(_)) = moved
                && let Ok(Some(updated)) = ctx.store.approval(&record.id).await
            {
                refresh_request_message(ctx, &self.sinks, &updated).await;
            }
        }
    }
}
