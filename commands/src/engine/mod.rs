//! The engine: what happens to an invocation. Claims the delivery once in the store, parses, resolves the person, applies policy and
//! rate limits, then answers a read-only command at once, turns a destructive one into an approval request, or
//! decides on one; approved changes run as stored jobs that any process can finish. Every step is audited.

mod admin;
mod audit_checks;
mod audit_gap;
mod audit_writer;
mod busy_log;
mod change;
mod checks;
mod claim;
mod context;
mod context_builder;
mod decide;
mod dispatch;
mod execute;
mod incidents;
mod jobs;
mod metrics_hook;
pub mod ratelimit;
mod reads;
mod reconcile;
mod request_change;
mod request_moves;
mod runbooks;
mod trail;
mod verify_after_change;
mod work_count;

use std::sync::Arc;

use async_trait::async_trait;

pub use claim::delivery_key;
pub use context::{Context, CoreSettings};
pub use context_builder::ContextBuilder;
pub use execute::{ExecutePayload, FollowState};
pub use metrics_hook::{CoreMetrics, Dependency};

use crate::handler::Handler;
use crate::invocation::Invocation;
use crate::reply::ReplySink;

/// The command core, as adapters see it.
#[derive(Clone)]
pub struct Core {
    ctx: Arc<Context>,
    runner: jobs::JobRunner,
    /// The invocations being handled right now, so a stopping process lets them finish (see `settle`).
    invocations: Arc<work_count::WorkCount>,
}

impl Core {
    /// Builds the core over a context. Call [`Core::start_job_runner`] to also work on stored jobs.
    pub fn new(ctx: Context) -> Self {
        let ctx = Arc::new(ctx);
        Core {
            runner: jobs::JobRunner::new(ctx.clone()),
            ctx,
            invocations: Arc::default(),
        }
    }

    /// A delivery refused as busy (every permit taken), by its delivery id: counted into the current 10-second
    /// window, whose one summary row goes into the audit log when the window ends.
    pub fn note_busy(&self, platform: &str, delivery: &str) {
        busy_log::note(&self.ctx, platform, delivery);
    }

    /// The context the core runs against.
    pub fn context(&self) -> &Arc<Context> {
        &self.ctx
    }

    /// Registers the sink that delivers replies for `platform` (`console`, `slack`, `matrix`), so a stored job can
    /// update messages of that platform from any process.
    pub fn register_sink(&self, platform: &str, sink: Arc<dyn ReplySink>) {
        self.runner.register_sink(platform, sink);
    }

    /// Starts polling the store for due jobs (jobs of a dead process are taken over when their lease expires).
    pub fn start_job_runner(&self) -> tokio::task::JoinHandle<()> {
        self.runner.clone().spawn_poller()
    }

    /// Starts the audit checkpoint publisher when `[audit.checkpoint]` is configured: every `interval` it
    /// checkpoints the chain's newest row in the ConfigMap, unless the chain lost the last checkpoint's row (then
    /// it keeps the old object and reports not-ready; see [`crate::audit_anchor`]).
    pub fn start_audit_checkpoints(&self) -> Option<tokio::task::JoinHandle<()>> {
        let anchor = self.ctx.audit_anchor.clone()?;
        let ctx = self.ctx.clone();
        Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(anchor.interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                // Errors are recorded in the anchor's health (and logged when they start).
                let _ = crate::audit_anchor::publish_once(&ctx, &anchor).await;
            }
        }))
    }

    /// Graceful stop, first step: claims no stored job from now on (running ones go on; `settle` waits for them).
    pub fn stop_taking_work(&self) {
        self.runner.stop_taking_work();
    }

    /// Whether the process is stopping (it takes no new job; `/readyz` says so, so no new traffic is sent here).
    pub fn is_stopping(&self) -> bool {
        self.runner.stopping()
    }

    /// How many invocations are being handled right now.
    pub fn invocations_in_flight(&self) -> usize {
        self.invocations.get()
    }

    /// Graceful stop, last step: stops the jobs still running and gives their leases back to the store, so another
    /// process takes them over at once instead of after the lease expires. Returns how many were given back.
    pub async fn hand_over(&self) -> usize {
        self.runner.hand_over().await
    }

    /// Stops this process's job work at once, as a crash would (tests of takeover).
    pub fn abort_jobs(&self) {
        self.runner.abort_all();
    }

    /// Looks once for requests left approved or executing without a job, and settles them (the job runner's
    /// poller does this about twice a lease; tests call it directly). Returns how many it settled.
    pub async fn reconcile_stranded(&self) -> usize {
        self.runner.reconcile_stranded().await
    }

    /// Runs due jobs once, in this task (tests and the demo use it for determinism).
    pub async fn run_due_jobs(&self) {
        self.runner.run_due().await;
    }
}

#[async_trait]
impl Handler for Core {
    async fn handle(&self, invocation: Invocation, sink: Arc<dyn ReplySink>) {
        let _handling = self.invocations.enter();
        let platform = invocation.actor.identity.platform().to_string();
        self.runner.register_sink(&platform, sink.clone());
        dispatch::handle(&self.ctx, &self.runner, invocation, sink).await;
    }

    /// Waits for the invocations being handled (an adapter hands them over in tasks of its own, which a stopping
    /// process must not cut short), then for the jobs they started.
    async fn settle(&self) {
        self.invocations.idle().await;
        self.runner.settle().await;
    }
}
