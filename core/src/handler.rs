//! The one entry point adapters call: hand the core an invocation and a sink; the core answers through the sink.

use std::sync::Arc;

use async_trait::async_trait;

use crate::invocation::Invocation;
use crate::reply::ReplySink;

/// What the core does with an invocation, seen from an adapter.
#[async_trait]
pub trait Handler: Send + Sync {
    /// Handles one invocation: parses, authorizes, runs or requests approval, and posts every reply through
    /// `sink`. Returns when the immediate answer has been posted; long work (a followed rollout) may go on as a job.
    async fn handle(&self, invocation: Invocation, sink: Arc<dyn ReplySink>);

    /// Waits until the long work started in this process so far has finished (the demo reads the next line
    /// only after this, so a piped transcript is deterministic).
    async fn settle(&self);
}
