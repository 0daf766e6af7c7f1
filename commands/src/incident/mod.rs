//! Incidents: the war room model (severity, status, roles, acknowledgement, break-glass), the SLA timers, the
//! PagerDuty client and the postmortem. The engine glue that runs the `incident` commands is
//! `engine/incidents.rs`; the store keeps incidents and their timelines.

pub mod pagerduty;

pub use mystocks_core::incident::{config, model, postmortem, sla};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub use config::{Contact, IncidentConfig, ResponseTimes};
pub use model::{
    BreakGlassUse, IncidentRecord, IncidentRole, IncidentStatus, NewTimelineEntry, Severity,
    TimelineEntry,
};
pub use pagerduty::{PageError, PageEvent, PagerDuty, PagerDutyConfig};

/// What the engine needs for incidents: the settings and, when configured, the pager.
#[derive(Clone, Debug, Default)]
pub struct IncidentSettings {
    pub config: IncidentConfig,
    /// `None`: paging is not configured (the timeline says so; SLA reminders still run).
    pub pager: Option<PagerDuty>,
    /// Timeline entries an incident command produced, waiting for the invocation's audit row so they can cite it.
    pub(crate) pending: Arc<Mutex<HashMap<String, Vec<PendingEntry>>>>,
}

impl IncidentSettings {
    /// Settings with `config` and an optional pager.
    pub fn new(config: IncidentConfig, pager: Option<PagerDuty>) -> Self {
        IncidentSettings {
            config,
            pager,
            pending: Arc::default(),
        }
    }
}

/// A timeline entry produced while handling an invocation, written once its audit row exists.
#[derive(Clone, Debug)]
pub(crate) struct PendingEntry {
    pub incident: i64,
    pub kind: &'static str,
    pub text: String,
}
