//! Incidents, the pure part: the war room model (severity, status, roles, acknowledgement, break-glass), its
//! settings, the SLA timers' arithmetic and the postmortem. Paging and the engine glue live in mystocks-commands.

pub mod config;
pub mod model;
pub mod postmortem;
pub mod sla;

pub use config::{Contact, IncidentConfig, ResponseTimes};
pub use model::{
    BreakGlassUse, IncidentRecord, IncidentRole, IncidentStatus, NewTimelineEntry, Severity,
    TimelineEntry,
};
