//! The `[incidents]` settings: response times per severity, which severities page on declaration, who is on call,
//! who may acknowledge and use break-glass, how soon a break-glass change must be reviewed, and the contacts.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use super::model::Severity;
use crate::directory::Principal;
use crate::policy::{ConfigError, PolicyConfig, has_role, parse_duration};

/// The name that stands for "the persons on call" in `ack_by` and `break_glass_by`.
pub const ONCALL: &str = "oncall";

/// One line of the contact list `oncall` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub role: String,
    pub contact: String,
}

/// Response times per severity (`[incidents.response_times]`, each seconds or `"15m"`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResponseTimes {
    #[serde(rename = "P1", deserialize_with = "duration")]
    pub p1: Duration,
    #[serde(rename = "P2", deserialize_with = "duration")]
    pub p2: Duration,
    #[serde(rename = "P3", deserialize_with = "duration")]
    pub p3: Duration,
    #[serde(rename = "P4", deserialize_with = "duration")]
    pub p4: Duration,
}

impl Default for ResponseTimes {
    fn default() -> Self {
        ResponseTimes {
            p1: Duration::from_secs(15 * 60),
            p2: Duration::from_secs(3600),
            p3: Duration::from_secs(4 * 3600),
            p4: Duration::from_secs(24 * 3600),
        }
    }
}

/// The `[incidents]` settings; every field has the manual's default.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IncidentConfig {
    /// The channel war rooms open in (`slack:T1/C9`, `matrix:!room:example.org`); when unset, or on another
    /// platform than the declaration, the channel the incident was declared in.
    pub channel: Option<String>,
    /// How soon an incident must be acknowledged, per severity (manual: P1 15 min, P2 1 h, P3 4 h, P4 24 h).
    pub response_times: ResponseTimes,
    /// Severities that page the on-call at once when declared (default P1, P2); the others page at expiry.
    pub page_on_declare: Vec<Severity>,
    /// Person ids on call now.
    pub oncall: Vec<String>,
    /// Who may `incident ack`: `oncall` and/or role names (a higher role counts). Default: on-call and approvers.
    pub ack_by: Vec<String>,
    /// Who may use break-glass in a P1: `oncall` and/or role names. Default: the on-call.
    pub break_glass_by: Vec<String>,
    /// How soon another approver must review a break-glass change (seconds or `"1h"`; default 1 hour).
    #[serde(deserialize_with = "duration")]
    pub review_within: Duration,
    /// The contact list (default: the manual's).
    pub contacts: Vec<Contact>,
}

impl Default for IncidentConfig {
    fn default() -> Self {
        IncidentConfig {
            channel: None,
            response_times: ResponseTimes::default(),
            page_on_declare: vec![Severity::P1, Severity::P2],
            oncall: Vec::new(),
            ack_by: vec![ONCALL.into(), "approver".into()],
            break_glass_by: vec![ONCALL.into()],
            review_within: Duration::from_secs(3600),
            contacts: vec![
                Contact {
                    role: "On-Call".into(),
                    contact: "PagerDuty: +1-555-0100".into(),
                },
                Contact {
                    role: "Platform".into(),
                    contact: "platform@mystocks.example.com".into(),
                },
            ],
        }
    }
}

impl IncidentConfig {
    /// The response time of `severity`.
    pub fn response_time(&self, severity: Severity) -> Duration {
        match severity {
            Severity::P1 => self.response_times.p1,
            Severity::P2 => self.response_times.p2,
            Severity::P3 => self.response_times.p3,
            Severity::P4 => self.response_times.p4,
        }
    }

    /// Whether declaring `severity` pages at once.
    pub fn pages_on_declare(&self, severity: Severity) -> bool {
        self.page_on_declare.contains(&severity)
    }

    /// Whether `person` is on call.
    pub fn is_oncall(&self, person: &str) -> bool {
        self.oncall.iter().any(|p| p == person)
    }

    /// Whether `who` may acknowledge.
    pub fn may_ack(&self, who: &Principal, policy: &PolicyConfig) -> bool {
        allowed(&self.ack_by, who, self, policy)
    }

    /// Whether `who` may use break-glass.
    pub fn may_break_glass(&self, who: &Principal, policy: &PolicyConfig) -> bool {
        allowed(&self.break_glass_by, who, self, policy)
    }

    /// Checks role names against `policy` and that on-call persons exist in `persons`.
    pub fn validate(
        &self,
        policy: &PolicyConfig,
        persons: &BTreeSet<String>,
    ) -> Result<(), ConfigError> {
        for (field, names) in [
            ("incidents.ack_by", &self.ack_by),
            ("incidents.break_glass_by", &self.break_glass_by),
        ] {
            for name in names.iter().filter(|n| n.as_str() != ONCALL) {
                policy.resolve_role(name, field)?;
            }
        }
        if let Some(unknown) = self.oncall.iter().find(|p| !persons.contains(*p)) {
            return Err(ConfigError::Invalid {
                field: "incidents.oncall".into(),
                reason: format!("`{unknown}` is not a person under [people]"),
            });
        }
        Ok(())
    }
}

fn allowed(
    names: &[String],
    who: &Principal,
    config: &IncidentConfig,
    policy: &PolicyConfig,
) -> bool {
    names.iter().any(|name| {
        if name == ONCALL {
            config.is_oncall(&who.person_id)
        } else {
            policy
                .resolve_role(name, "")
                .is_ok_and(|role| has_role(&who.roles, role))
        }
    })
}

fn duration<'de, D: Deserializer<'de>>(de: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Seconds(u64),
        Text(String),
    }
    match Raw::deserialize(de)? {
        Raw::Seconds(0) => Err(serde::de::Error::custom(
            "a duration must be at least 1 second",
        )),
        Raw::Seconds(s) => Ok(Duration::from_secs(s)),
        Raw::Text(t) => parse_duration(&t).map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Role;

    fn principal(id: &str, role: Role) -> Principal {
        Principal {
            person_id: id.into(),
            display: id.into(),
            roles: BTreeSet::from([role]),
            known: true,
        }
    }

    #[test]
    fn defaults_follow_the_manual() {
        let c = IncidentConfig::default();
        assert_eq!(c.response_time(Severity::P1), Duration::from_secs(900));
        assert_eq!(c.response_time(Severity::P4), Duration::from_secs(86_400));
        assert!(c.pages_on_declare(Severity::P2) && !c.pages_on_declare(Severity::P3));
    }

    #[test]
    fn ack_is_for_oncall_and_approvers() {
        let c = IncidentConfig {
            oncall: vec!["alice".into()],
            ..IncidentConfig::default()
        };
        let policy = PolicyConfig::default();
        assert!(c.may_ack(&principal("alice", Role::Operator), &policy));
        assert!(c.may_ack(&principal("bob", Role::Approver), &policy));
        assert!(c.may_ack(&principal("dave", Role::Admin), &policy));
        assert!(!c.may_ack(&principal("carol", Role::Operator), &policy));
        assert!(c.may_break_glass(&principal("alice", Role::Operator), &policy));
        assert!(!c.may_break_glass(&principal("bob", Role::Approver), &policy));
    }

    #[test]
    fn parses_toml_like_values() {
        let c: IncidentConfig = serde_json::from_value(serde_json::json!({
            "response_times": { "P1": "5m", "P2": 120 },
            "oncall": ["bob"],
            "review_within": "30m"
        }))
        .expect("parses");
        assert_eq!(c.response_time(Severity::P1), Duration::from_secs(300));
        assert_eq!(c.response_time(Severity::P2), Duration::from_secs(120));
        assert_eq!(c.response_time(Severity::P3), Duration::from_secs(4 * 3600));
        assert_eq!(c.review_within, Duration::from_secs(1800));
        let bad = serde_json::from_value::<IncidentConfig>(
            serde_json::json!({ "review_within": "soon" }),
        );
        assert!(bad.is_err());
    }

    #[test]
    fn validate_names_unknown_roles_and_persons() {
        let policy = PolicyConfig::default();
        let persons = BTreeSet::from(["alice".to_string()]);
        let c = IncidentConfig {
            ack_by: vec!["pilot".into()],
            ..IncidentConfig::default()
        };
        assert!(c.validate(&policy, &persons).is_err());
        let c = IncidentConfig {
            oncall: vec!["zed".into()],
            ..IncidentConfig::default()
        };
        assert!(
            c.validate(&policy, &persons)
                .unwrap_err()
                .to_string()
                .contains("zed")
        );
    }
}
