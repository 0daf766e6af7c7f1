//! Settling what was left between states, and forgetting what is no longer needed: requests left approved or
//! executing without a job to run them, and delivery claims past their retention. The job runner's poller runs
//! both now and then.

use crate::invocation::Conversation;
use crate::reply::{Level, Reply, ReplyKind};
use crate::store::{ApprovalRecord, ApprovalState};

use super::jobs::{EXECUTE, JobRunner};
use super::request_change::refresh_request_message;
use super::request_moves::{By, step};

/// How long a delivery's claim is kept: far longer than any platform retries a delivery (Slack: minutes; a Matrix
/// sync resumes from its stored position and ignores old events).
const CLAIM_RETENTION: chrono::Duration = chrono::Duration::days(2);

/// How often old claims are pruned, and how many go in one batch.
pub(super) const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);
const PRUNE_BATCH: u32 = 1_000;

impl JobRunner {
    /// Forgets delivery claims older than the retention, in bounded batches (a few per call), so the claims table
    /// stays the size of two days of traffic. Returns how many went.
    pub async fn prune_claims(&self) -> u64 {
        let before = self.ctx.clock.now() - CLAIM_RETENTION;
        let mut pruned = 0;
        for _ in 0..10 {
            match self.ctx.store.prune_claims(before, PRUNE_BATCH).await {
                Ok(n) => {
                    pruned += n;
                    if n < u64::from(PRUNE_BATCH) {
                        break;
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "cannot prune old event claims");
                    break;
                }
            }
        }
        if pruned > 0 {
            tracing::info!(pruned, "old event claims pruned");
        }
        pruned
    }

    /// Finds requests left approved or executing with no job to run them (a crash, a store fault or a cancelled
    /// task between two steps, or a job that ended without closing its request) and settles each: an approved
    /// request that has not expired gets its execution job again (which re-checks the freeze, the approval and
    /// the bound target state before acting); one that has expired is closed without running; an executing one
    /// gets a job that compares with the cluster before doing anything (it never re-runs blindly). Each step is
    /// audited and said in the request's conversation.
    pub async fn reconcile_stranded(&self) -> usize {
        let ctx = &self.ctx;
        // Only requests that have sat still for a whole lease: a step just taken by another process is not
        // stranded, it is about to be worked on.
        let quiet = chrono::Duration::from_std(ctx.settings.job_lease)
            .unwrap_or(chrono::Duration::minutes(1));
        let stranded = match ctx
            .store
            .stranded_approvals(EXECUTE, ctx.clock.now() - quiet, 50)
            .await
        {
            Ok(found) => found,
            Err(err) => {
                tracing::warn!(error = %err, "cannot look for stranded requests");
                return 0;
            }
        };
        let mut settled = 0;
        for record in stranded {
            if self.reconcile_one(&record).await {
                settled += 1;
            }
        }
        settled
    }

    async fn reconcile_one(&self, record: &ApprovalRecord) -> bool {
        let ctx = &self.ctx;
        let now = ctx.clock.now();
        let (to, detail, job, say) = match record.state {
            ApprovalState::Approved if now >= record.expires_at => (
                ApprovalState::Expired,
                format!(
                    "approved but never executed (no job ran it) before it expired at {}; nothing was changed — request it again",
                    record.expires_at.format("%H:%M:%S UTC")
                ),
                None,
                Level::Warn,
            ),
            ApprovalState::Approved => (
                ApprovalState::Approved,
                "approved; its execution was lost and is queued again".to_string(),
                Some(self.execution_job(&record.id, "the recorded approvals")),
                Level::Info,
            ),
            ApprovalState::Executing => (
                ApprovalState::Executing,
                "the execution stopped without finishing; comparing with the cluster before going on".to_string(),
                Some(self.execution_job(&record.id, "the recorded approvals")),
                Level::Info,
            ),
            _ => return false,
        };
        let from = [record.state];
        match step(ctx, &record.id, &from, to, &detail, By::Bot, job).await {
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return false,
        }
        tracing::warn!(approval = %record.id, state = %record.state, "{detail}");
        if let Ok(conversation) =
            serde_json::from_value::<Conversation>(record.conversation.clone())
            && let Some(sink) = self.sinks.for_channel(&conversation.channel)
        {
            let text = format!("{} {detail}.", record.id);
            let reply =
                Reply::text(ReplyKind::Notice, say, text).with_approval(&record.id, to.as_str());
            if let Err(err) = sink.post(&conversation, &reply).await {
                tracing::warn!(error = %err, "could not say that a request was recovered");
            }
        }
        if let Ok(Some(updated)) = ctx.store.approval(&record.id).await {
            refresh_request_message(ctx, &self.sinks, &updated).await;
        }
        if to != ApprovalState::Expired {
            self.kick();
        }
        true
    }
}
