//! The incident records: severity, status, roles, acknowledgement, break-glass uses, and timeline entries.
//! Pure data; the store keeps an incident as one JSON document with a version, its timeline as rows.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How bad an incident is (the manual's levels).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    P1,
    P2,
    P3,
    P4,
}

impl Severity {
    /// Every severity, worst first.
    pub const ALL: [Severity; 4] = [Severity::P1, Severity::P2, Severity::P3, Severity::P4];

    /// `P1` … `P4`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::P1 => "P1",
            Severity::P2 => "P2",
            Severity::P3 => "P3",
            Severity::P4 => "P4",
        }
    }

    /// The manual's description.
    pub fn description(self) -> &'static str {
        match self {
            Severity::P1 => "Critical — complete outage",
            Severity::P2 => "High — major feature broken",
            Severity::P3 => "Medium — minor issue",
            Severity::P4 => "Low — cosmetic",
        }
    }

    /// The PagerDuty Events API v2 severity (P1 critical, P2 error, P3 warning, P4 info).
    pub fn pagerduty(self) -> &'static str {
        match self {
            Severity::P1 => "critical",
            Severity::P2 => "error",
            Severity::P3 => "warning",
            Severity::P4 => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|sev| sev.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| "expected P1, P2, P3 or P4".to_string())
    }
}

/// Where an incident is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IncidentStatus {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
}

impl IncidentStatus {
    /// Every status, in the usual order.
    pub const ALL: [IncidentStatus; 4] = [
        IncidentStatus::Investigating,
        IncidentStatus::Identified,
        IncidentStatus::Monitoring,
        IncidentStatus::Resolved,
    ];

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Investigating => "investigating",
            IncidentStatus::Identified => "identified",
            IncidentStatus::Monitoring => "monitoring",
            IncidentStatus::Resolved => "resolved",
        }
    }
}

impl fmt::Display for IncidentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IncidentStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IncidentStatus::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| "expected investigating, identified, monitoring or resolved".to_string())
    }
}

/// A role in the war room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IncidentRole {
    Commander,
    Comms,
    Scribe,
}

impl IncidentRole {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentRole::Commander => "commander",
            IncidentRole::Comms => "comms",
            IncidentRole::Scribe => "scribe",
        }
    }
}

impl fmt::Display for IncidentRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IncidentRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "commander" => Ok(IncidentRole::Commander),
            "comms" => Ok(IncidentRole::Comms),
            "scribe" => Ok(IncidentRole::Scribe),
            _ => Err("expected commander, comms or scribe".to_string()),
        }
    }
}

/// One change made under break-glass (no second approver), waiting for or carrying its review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakGlassUse {
    /// The approval record the change ran under (`A7`).
    pub approval_id: String,
    /// The canonical command (`rollback`, `scale 8`).
    pub command: String,
    /// The person who used it.
    pub by: String,
    pub reason: String,
    pub at: DateTime<Utc>,
    /// The approver who reviewed it, once reviewed.
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
}

/// An incident. Persons are person ids (display names come from the directory).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentRecord {
    /// `1`, `2`, … (shown as `incident 1`; the console thread is `incident-1`). Set by the store.
    #[serde(default)]
    pub number: i64,
    /// The optimistic-concurrency version. Set by the store.
    #[serde(default)]
    pub version: i64,
    pub title: String,
    pub severity: Severity,
    pub status: IncidentStatus,
    /// The channel the war room thread lives in.
    pub channel: String,
    /// The thread id (console `incident-N`, Slack the announcement's `ts`, Matrix its event id), once posted.
    pub thread: Option<String>,
    /// The announcement's `MessageRef` as JSON.
    pub announcement: Option<Value>,
    pub declared_by: String,
    pub declared_at: DateTime<Utc>,
    pub commander: String,
    pub comms: Option<String>,
    pub scribe: Option<String>,
    pub acked_by: Option<String>,
    pub acked_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// A page was triggered (on declaration, or at escalation).
    pub paged: bool,
    /// When the unacknowledged page was escalated (set before paging, so it happens once).
    pub escalated_at: Option<DateTime<Utc>>,
    pub break_glass: Vec<BreakGlassUse>,
    /// The last postmortem rendered (Markdown).
    pub postmortem: Option<String>,
}

impl IncidentRecord {
    /// A fresh incident, declared now by `by`, commanded by them.
    pub fn declare(
        title: &str,
        severity: Severity,
        channel: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Self {
        IncidentRecord {
            number: 0,
            version: 0,
            title: title.to_string(),
            severity,
            status: IncidentStatus::Investigating,
            channel: channel.to_string(),
            thread: None,
            announcement: None,
            declared_by: by.to_string(),
            declared_at: at,
            commander: by.to_string(),
            comms: None,
            scribe: None,
            acked_by: None,
            acked_at: None,
            resolved_by: None,
            resolved_at: None,
            paged: false,
            escalated_at: None,
            break_glass: Vec::new(),
            postmortem: None,
        }
    }

    /// Open until resolved.
    pub fn is_open(&self) -> bool {
        self.status != IncidentStatus::Resolved
    }

    /// The PagerDuty dedup key: stable per incident.
    pub fn dedup_key(&self) -> String {
        format!("mystocks-incident-{}", self.number)
    }

    /// The console thread name for an incident number.
    pub fn console_thread(number: i64) -> String {
        format!("incident-{number}")
    }

    /// Break-glass uses not yet reviewed.
    pub fn unreviewed(&self) -> impl Iterator<Item = &BreakGlassUse> {
        self.break_glass.iter().filter(|b| b.reviewed_by.is_none())
    }
}

/// What kind of timeline entry.
pub mod kind {
    pub const DECLARED: &str = "declared";
    pub const COMMAND: &str = "command";
    pub const APPROVAL: &str = "approval";
    pub const ACK: &str = "ack";
    pub const STATUS: &str = "status";
    pub const SEVERITY: &str = "severity";
    pub const ROLE: &str = "role";
    pub const NOTE: &str = "note";
    pub const PAGE: &str = "page";
    pub const REMINDER: &str = "reminder";
    pub const ESCALATION: &str = "escalation";
    pub const BREAK_GLASS: &str = "break-glass";
    pub const REVIEW: &str = "review";
    pub const RESOLVED: &str = "resolved";
    pub const POSTMORTEM: &str = "postmortem";
}

/// A timeline entry to append.
#[derive(Clone, Debug, PartialEq)]
pub struct NewTimelineEntry {
    pub incident: i64,
    pub at: DateTime<Utc>,
    /// The person id, or `bot`.
    pub actor: String,
    /// One of [`kind`].
    pub kind: String,
    pub text: String,
    /// The audit row this entry comes from, when there is one.
    pub audit_seq: Option<i64>,
    pub audit_mac: Option<String>,
    pub detail: Value,
}

/// A stored timeline entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimelineEntry {
    pub id: i64,
    pub incident: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub kind: String,
    pub text: String,
    pub audit_seq: Option<i64>,
    pub audit_mac: Option<String>,
    pub detail: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for s in Severity::ALL {
            assert_eq!(s.as_str().parse::<Severity>(), Ok(s));
        }
        assert_eq!("p2".parse::<Severity>(), Ok(Severity::P2));
        assert!("P5".parse::<Severity>().is_err());
        for s in IncidentStatus::ALL {
            assert_eq!(s.as_str().parse::<IncidentStatus>(), Ok(s));
        }
        assert_eq!("Scribe".parse::<IncidentRole>(), Ok(IncidentRole::Scribe));
    }

    #[test]
    fn pagerduty_severities_follow_the_issue() {
        let mapped: Vec<_> = Severity::ALL.iter().map(|s| s.pagerduty()).collect();
        assert_eq!(mapped, ["critical", "error", "warning", "info"]);
    }

    #[test]
    fn record_round_trips_through_json() {
        let rec = IncidentRecord::declare(
            "api down",
            Severity::P1,
            "console:main",
            "alice",
            Utc::now(),
        );
        let back: IncidentRecord =
            serde_json::from_value(serde_json::to_value(&rec).expect("json")).expect("parse");
        assert_eq!(back, rec);
        assert!(back.is_open());
    }
}
