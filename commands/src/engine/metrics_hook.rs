//! The engine's observer hook: what the core reports to the binary's metrics (invocations, latency, time to the
//! first reply, decided approvals, dependency errors), without knowing the registry the binary uses.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::invocation::Conversation;
use crate::reply::{MessageRef, Reply, ReplySink, SinkError};
use crate::store::ApprovalState;

use super::Context;
use super::dispatch::Outcome;
use super::trail::Decision;

/// A dependency of the bot whose errors are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dependency {
    /// The bot's own store (SQLite or PostgreSQL).
    Store,
    /// The coordinator (Redis).
    Coordinator,
    /// The Kubernetes API.
    Kubernetes,
}

impl Dependency {
    /// The label value: `store`, `coordinator`, `kubernetes`.
    pub fn as_str(self) -> &'static str {
        match self {
            Dependency::Store => "store",
            Dependency::Coordinator => "coordinator",
            Dependency::Kubernetes => "kubernetes",
        }
    }
}

/// Receives what the core observes. Implemented by the binary's `Metrics`; labels are never user ids.
pub trait CoreMetrics: Send + Sync + 'static {
    /// An invocation finished: its command's name (`scale`, `unknown` when it did not parse), the decision
    /// (`allowed`, `refused`, `requested`, `error`, …) and how long the core took.
    fn invocation(&self, command: &str, outcome: &str, took: Duration);
    /// The first reply to an invocation was posted this long after the event arrived.
    fn first_reply(&self, after: Duration);
    /// An approval request was decided (`approved`, `denied`) after waiting this long.
    fn approval_decided(&self, verdict: &str, waited: Duration);
    /// A dependency failed a call.
    fn dependency_error(&self, dependency: Dependency);
}

/// A sink that reports how long after `received_at` the first reply went out, then passes everything on.
pub(super) struct FirstReplyTimer {
    inner: Arc<dyn ReplySink>,
    metrics: Arc<dyn CoreMetrics>,
    received_at: DateTime<Utc>,
    reported: AtomicBool,
}

impl FirstReplyTimer {
    pub fn wrap(
        inner: Arc<dyn ReplySink>,
        metrics: Arc<dyn CoreMetrics>,
        received_at: DateTime<Utc>,
    ) -> Arc<dyn ReplySink> {
        Arc::new(FirstReplyTimer {
            inner,
            metrics,
            received_at,
            reported: AtomicBool::new(false),
        })
    }
}

#[async_trait]
impl ReplySink for FirstReplyTimer {
    async fn post(
        &self,
        conversation: &Conversation,
        reply: &Reply,
    ) -> Result<MessageRef, SinkError> {
        let posted = self.inner.post(conversation, reply).await;
        if !self.reported.swap(true, Ordering::SeqCst) {
            let after = (Utc::now() - self.received_at).to_std().unwrap_or_default();
            self.metrics.first_reply(after);
        }
        posted
    }

    async fn update(&self, message: &MessageRef, reply: &Reply) -> Result<(), SinkError> {
        self.inner.update(message, reply).await
    }
}

/// Reports a finished invocation, and the approval it decided (if it was the deciding vote).
pub(super) async fn report(
    ctx: &Context,
    metrics: &dyn CoreMetrics,
    canonical: Option<&str>,
    outcome: &Outcome,
    took: Duration,
) {
    let command = command_label(canonical);
    metrics.invocation(&command, outcome.decision.as_str(), took);
    let deciding =
        matches!(command.as_str(), "approve" | "deny") && outcome.decision == Decision::Allowed;
    let Some(id) = outcome.approval_id.as_deref().filter(|_| deciding) else {
        return;
    };
    match ctx.store.approval(id).await {
        Ok(Some(record)) => {
            let verdict = match record.state {
                ApprovalState::Pending | ApprovalState::Cancelled | ApprovalState::Expired => {
                    return;
                }
                ApprovalState::Denied => "denied",
                _ => "approved",
            };
            let Some(decided_at) = record.decided_at else {
                return;
            };
            metrics.approval_decided(
                verdict,
                (decided_at - record.created_at)
                    .to_std()
                    .unwrap_or_default(),
            );
        }
        Ok(None) => {}
        Err(err) => {
            tracing::warn!(error = %err, "cannot read the decided approval for metrics");
            metrics.dependency_error(Dependency::Store);
        }
    }
}

/// Counts a failed call to a dependency, when metrics are configured.
pub(super) fn dependency_error(ctx: &Context, dependency: Dependency) {
    if let Some(metrics) = &ctx.metrics {
        metrics.dependency_error(dependency);
    }
}

/// The name of a canonical command (`scale 5` → `scale`, `db vacuum x` → `db vacuum`), for a label.
pub(super) fn command_label(canonical: Option<&str>) -> String {
    let Some(text) = canonical else {
        return "unknown".to_string();
    };
    let mut words = text.split_whitespace();
    match (words.next(), words.next()) {
        (Some("db"), Some(sub)) => format!("db {sub}"),
        (Some(first), _) => first.to_string(),
        (None, _) => "unknown".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::command_label;

    #[test]
    fn labels_are_command_names_only() {
        assert_eq!(command_label(Some("scale 5")), "scale");
        assert_eq!(command_label(Some("db vacuum trades")), "db vacuum");
        assert_eq!(command_label(Some("approve A1")), "approve");
        assert_eq!(command_label(None), "unknown");
        assert_eq!(command_label(Some("")), "unknown");
    }
}
