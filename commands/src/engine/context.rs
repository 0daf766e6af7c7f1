//! The one context that execution runs against: cluster client, store, coordinator, people, policy, clock.

use std::sync::Arc;
use std::time::Duration;

use crate::audit::AuditKey;
use crate::audit_anchor::AuditAnchor;
use crate::checks::ChecksConfig;
use crate::clock::Clock;
use crate::cluster::Target;
use crate::coordinator::Coordinator;
use crate::directory::Directory;
use crate::incident::IncidentSettings;
use crate::policy::PolicyConfig;
use crate::runbook::RunbookSet;
use crate::store::Store;

use super::audit_gap::AuditGap;
use super::audit_writer::AuditWriter;
use super::busy_log::BusyLog;
use super::claim::PreFilter;
use super::context_builder::ContextBuilder;
use super::metrics_hook::CoreMetrics;
use super::ratelimit::{RateLimitConfig, RateLimits};

/// Engine settings that are not policy: how long to follow a rollout, how long leases last, who this process is.
#[derive(Clone, Debug)]
pub struct CoreSettings {
    /// Gives up following a rollout after this long (the rollout itself goes on; `status` shows it).
    pub follow_timeout: Duration,
    /// A job's lease; a process that dies loses its jobs to another after this long.
    pub job_lease: Duration,
    /// How often the job runner looks for due jobs.
    pub job_poll: Duration,
    /// This process's name in job leases (`hostname-pid`).
    pub process_id: String,
    /// The fieldManager the bot's changes carry.
    pub field_manager: String,
    /// How long a claimed event id stays marked in the coordinator's pre-filter (the store's claim stays).
    pub event_claim_ttl: Duration,
    /// After the coordinator failed, how long the claim pre-filter skips it before trying again.
    pub coordinator_retry: Duration,
    /// Rate limits per person.
    pub rate_limit: RateLimitConfig,
}

impl Default for CoreSettings {
    fn default() -> Self {
        CoreSettings {
            follow_timeout: Duration::from_secs(600),
            job_lease: Duration::from_secs(30),
            job_poll: Duration::from_millis(500),
            process_id: format!("mystocks-bot-{}", std::process::id()),
            field_manager: "mystocks-bot".to_string(),
            event_claim_ttl: Duration::from_secs(24 * 3600),
            coordinator_retry: Duration::from_secs(5),
            rate_limit: RateLimitConfig::default(),
        }
    }
}

/// Everything the engine needs, built once by the binary (or by the test harness).
pub struct Context {
    pub kube: kube::Client,
    /// The same cluster for requests through the pod proxy (`health --pods`, per-pod metrics): kube-rs's retries
    /// off, since there a 503 is the answer (see [`crate::checks::pods::proxy_client`]). `kube` unless
    /// [`ContextBuilder::pod_proxy`] sets one.
    pub pod_proxy: kube::Client,
    pub target: Target,
    pub store: Arc<dyn Store>,
    pub coordinator: Arc<dyn Coordinator>,
    pub directory: Directory,
    pub policy: PolicyConfig,
    pub clock: Arc<dyn Clock>,
    pub audit_key: AuditKey,
    pub settings: CoreSettings,
    /// Where health checks, metrics and database commands connect, and their thresholds (`[checks]`).
    pub checks: ChecksConfig,
    /// Incident settings (`[incidents]`) and the PagerDuty client (`[pagerduty]`), if paging is configured.
    pub incidents: IncidentSettings,
    /// The runbooks loaded from `[runbooks] directory`, and the files that did not load.
    pub runbooks: Arc<RunbookSet>,
    /// Where the core reports invocations, latencies and errors (the binary's metrics); none in most tests.
    pub metrics: Option<Arc<dyn CoreMetrics>>,
    /// The audit chain's external checkpoint (`[audit.checkpoint]`), if configured.
    pub audit_anchor: Option<Arc<AuditAnchor>>,
    pub(crate) limits: RateLimits,
    /// Audit entries the store could not take, recorded as one gap entry when it answers again.
    pub(crate) audit_gap: AuditGap,
    /// Appends invocation and job rows in batches (group commit).
    pub(crate) audit_writer: AuditWriter,
    /// The "busy" refusals of the current window, written as one summary row.
    pub(crate) busy_log: BusyLog,
    /// Redis in front of the store's delivery claims, skipped for a while after it failed.
    pub(crate) claim_pre_filter: PreFilter,
}

impl Context {
    /// A builder for a context on `kube`, `store` and `audit_key`, the parts with no sensible default; everything
    /// else has a setter and starts at its default (see [`ContextBuilder`]).
    pub fn builder(
        kube: kube::Client,
        store: Arc<dyn Store>,
        audit_key: AuditKey,
    ) -> ContextBuilder {
        ContextBuilder::new(kube, store, audit_key)
    }

    /// The key one change at a time is counted per: `namespace/deployment`.
    pub fn target_key(&self) -> String {
        format!("{}/{}", self.target.namespace, self.target.deployment)
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("target", &self.target)
            .field("coordinator", &self.coordinator.describe())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}
