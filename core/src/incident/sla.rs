//! SLA timers: when an unacknowledged incident gets a reminder (half its response time) and when it escalates
//! (its response time), as stored-job payloads. A timer carries the severity it was set for, so a severity change
//! (which sets new timers) makes the old ones stand down. Pure.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::config::IncidentConfig;
use super::model::{IncidentRecord, Severity};

/// The job kind of SLA timers.
pub const SLA_JOB: &str = "incident-sla";
/// The job kind of the break-glass review deadline.
pub const REVIEW_JOB: &str = "incident-review-due";

/// Which SLA step a timer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SlaStep {
    /// Half the response time has passed without an acknowledgement: remind in the thread.
    Remind,
    /// The response time has passed: escalate the page (or send it, if the severity does not page on declare).
    Escalate,
}

/// The payload of an SLA timer job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTimer {
    pub incident: i64,
    pub step: SlaStep,
    /// The severity the timer was set for.
    pub severity: Severity,
    /// When the response time started (declaration, or the severity change).
    pub since: DateTime<Utc>,
}

/// The payload of a break-glass review deadline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewDue {
    pub incident: i64,
    pub approval_id: String,
}

/// The two timers for an incident at `severity` from `since`, with the time each is due.
pub fn timers(
    config: &IncidentConfig,
    incident: i64,
    severity: Severity,
    since: DateTime<Utc>,
) -> Vec<(SlaTimer, DateTime<Utc>)> {
    let full = chrono::Duration::from_std(config.response_time(severity))
        .unwrap_or(chrono::Duration::minutes(15));
    let half = full / 2;
    [(SlaStep::Remind, half), (SlaStep::Escalate, full)]
        .into_iter()
        .map(|(step, after)| {
            (
                SlaTimer {
                    incident,
                    step,
                    severity,
                    since,
                },
                since + after,
            )
        })
        .collect()
}

/// Why a due timer does nothing, if it does nothing.
pub fn stands_down(timer: &SlaTimer, incident: &IncidentRecord) -> Option<&'static str> {
    if !incident.is_open() {
        Some("the incident is resolved")
    } else if incident.acked_at.is_some() {
        Some("the incident was acknowledged")
    } else if incident.severity != timer.severity {
        Some("the severity changed since the timer was set")
    } else if timer.step == SlaStep::Escalate && incident.escalated_at.is_some() {
        Some("the page was already escalated")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p1_reminds_at_half_time_and_escalates_at_fifteen_minutes() {
        let t0 = Utc::now();
        let t = timers(&IncidentConfig::default(), 1, Severity::P1, t0);
        assert_eq!(t[0].0.step, SlaStep::Remind);
        assert_eq!(t[0].1 - t0, chrono::Duration::seconds(450));
        assert_eq!(t[1].0.step, SlaStep::Escalate);
        assert_eq!(t[1].1 - t0, chrono::Duration::minutes(15));
    }

    #[test]
    fn timers_stand_down_when_no_longer_needed() {
        let t0 = Utc::now();
        let mut inc = IncidentRecord::declare("x", Severity::P1, "c", "alice", t0);
        let timer = timers(&IncidentConfig::default(), 1, Severity::P1, t0)
            .remove(1)
            .0;
        assert_eq!(stands_down(&timer, &inc), None);
        inc.severity = Severity::P2;
        assert!(stands_down(&timer, &inc).is_some());
        inc.severity = Severity::P1;
        inc.escalated_at = Some(t0);
        assert!(stands_down(&timer, &inc).is_some());
        inc.escalated_at = None;
        inc.acked_at = Some(t0);
        assert!(stands_down(&timer, &inc).is_some());
    }
}
