//! `ContextBuilder`: a [`Context`] from its three required parts, with a setter for each of the others.

use std::sync::Arc;

use crate::audit::AuditKey;
use crate::audit_anchor::AuditAnchor;
use crate::checks::ChecksConfig;
use crate::clock::{Clock, SystemClock};
use crate::cluster::Target;
use crate::coordinator::{Coordinator, InProcessCoordinator};
use crate::directory::Directory;
use crate::incident::IncidentSettings;
use crate::policy::PolicyConfig;
use crate::runbook::RunbookSet;
use crate::store::Store;

use super::audit_gap::AuditGap;
use super::audit_writer::AuditWriter;
use super::busy_log::BusyLog;
use super::claim::PreFilter;
use super::context::{Context, CoreSettings};
use super::metrics_hook::CoreMetrics;
use super::ratelimit::RateLimits;

/// Builds a [`Context`] (start with [`Context::builder`]). What is not set takes its default: the default target
/// (`mystocks/mystocks-api`), in-process coordination, nobody in the directory, the default policy, the system
/// clock, the default [`CoreSettings`], no checks URLs, no incident paging, no runbooks, no metrics, the cluster
/// client also for the pod proxy, and no audit checkpoint.
pub struct ContextBuilder {
    kube: kube::Client,
    pod_proxy: Option<kube::Client>,
    store: Arc<dyn Store>,
    audit_key: AuditKey,
    target: Target,
    coordinator: Arc<dyn Coordinator>,
    directory: Directory,
    policy: PolicyConfig,
    clock: Arc<dyn Clock>,
    settings: CoreSettings,
    checks: ChecksConfig,
    incidents: IncidentSettings,
    runbooks: RunbookSet,
    metrics: Option<Arc<dyn CoreMetrics>>,
    audit_anchor: Option<AuditAnchor>,
}

impl ContextBuilder {
    pub(super) fn new(kube: kube::Client, store: Arc<dyn Store>, audit_key: AuditKey) -> Self {
        ContextBuilder {
            kube,
            pod_proxy: None,
            store,
            audit_key,
            target: Target::default(),
            coordinator: Arc::new(InProcessCoordinator::default()),
            directory: Directory::default(),
            policy: PolicyConfig::default(),
            clock: Arc::new(SystemClock),
            settings: CoreSettings::default(),
            checks: ChecksConfig::default(),
            incidents: IncidentSettings::default(),
            runbooks: RunbookSet::default(),
            metrics: None,
            audit_anchor: None,
        }
    }

    /// The deployment commands act on (`[service]`).
    pub fn target(mut self, target: Target) -> Self {
        self.target = target;
        self
    }

    /// Where processes coordinate (`[coordinator]`: Redis, or in-process for one process).
    pub fn coordinator(mut self, coordinator: Arc<dyn Coordinator>) -> Self {
        self.coordinator = coordinator;
        self
    }

    /// The people and their roles (`[people]`).
    pub fn directory(mut self, directory: Directory) -> Self {
        self.directory = directory;
        self
    }

    /// The policy (`[policy]`).
    pub fn policy(mut self, policy: PolicyConfig) -> Self {
        self.policy = policy;
        self
    }

    /// The clock approvals, leases and incidents read (tests pass a clock they move).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The engine settings; the rate limiters are made from `settings.rate_limit`.
    pub fn settings(mut self, settings: CoreSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Where health checks, metrics and database commands connect, and their thresholds (`[checks]`).
    pub fn checks(mut self, checks: ChecksConfig) -> Self {
        self.checks = checks;
        self
    }

    /// Incident settings (`[incidents]`) and the pager (`[pagerduty]`).
    pub fn incidents(mut self, incidents: IncidentSettings) -> Self {
        self.incidents = incidents;
        self
    }

    /// The runbooks (`[runbooks]`).
    pub fn runbooks(mut self, runbooks: RunbookSet) -> Self {
        self.runbooks = runbooks;
        self
    }

    /// Where the core reports invocations, latencies and errors (the binary's Prometheus registry).
    pub fn metrics(mut self, metrics: Arc<dyn CoreMetrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The client for requests through the pod proxy, built with [`crate::checks::pods::proxy_client`] (no
    /// retries: there a 503 is the answer).
    pub fn pod_proxy(mut self, client: kube::Client) -> Self {
        self.pod_proxy = Some(client);
        self
    }

    /// Keeps the audit chain's checkpoint outside the database, in `anchor`'s ConfigMap (`[audit.checkpoint]`).
    pub fn audit_anchor(mut self, anchor: AuditAnchor) -> Self {
        self.audit_anchor = Some(anchor);
        self
    }

    /// The context.
    pub fn build(self) -> Context {
        Context {
            pod_proxy: self.pod_proxy.unwrap_or_else(|| self.kube.clone()),
            kube: self.kube,
            target: self.target,
            store: self.store,
            coordinator: self.coordinator,
            directory: self.directory,
            policy: self.policy,
            clock: self.clock,
            audit_key: self.audit_key,
            limits: RateLimits::new(&self.settings.rate_limit),
            settings: self.settings,
            checks: self.checks,
            incidents: self.incidents,
            runbooks: Arc::new(self.runbooks),
            metrics: self.metrics,
            audit_anchor: self.audit_anchor.map(Arc::new),
            audit_gap: AuditGap::default(),
            audit_writer: AuditWriter::default(),
            busy_log: BusyLog::default(),
            claim_pre_filter: PreFilter::default(),
        }
    }
}
