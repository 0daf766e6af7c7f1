//! The `[pagerduty]` section, and turning `[incidents]` + `[pagerduty]` into the core's incident settings.

use std::collections::BTreeSet;
use std::time::Duration;

use mystocks_commands::incident::pagerduty::DEFAULT_BASE_URL;
use mystocks_commands::incident::{IncidentSettings, PagerDuty, PagerDutyConfig};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{Settings, secret};

/// PagerDuty Events API v2. Without a routing key nothing is paged (the war room says so).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagerDutySettings {
    /// The Events API v2 integration key of the on-call service (a secret: keep it in
    /// `MYSTOCKS_BOT__PAGERDUTY__ROUTING_KEY`).
    #[serde(default, deserialize_with = "secret::lenient_secret")]
    pub routing_key: Option<SecretString>,
    /// The Events API base URL (tests point it at a fake receiver).
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// The `source` of triggered alerts: the system that is affected.
    #[serde(default = "default_source")]
    pub source: String,
}

fn default_api_url() -> String {
    DEFAULT_BASE_URL.to_string()
}

fn default_source() -> String {
    "mystocks-api".to_string()
}

impl Settings {
    /// The core's incident settings: `[incidents]`, and a PagerDuty client when `[pagerduty]` has a routing key.
    pub fn incident_settings(&self) -> IncidentSettings {
        let pager = self.pagerduty.as_ref().and_then(|pd| {
            let key = pd
                .routing_key
                .as_ref()
                .filter(|k| !k.expose_secret().trim().is_empty())?;
            Some(PagerDuty::new(PagerDutyConfig {
                routing_key: key.clone(),
                base_url: pd.api_url.clone(),
                source: pd.source.clone(),
                timeout: Duration::from_secs(10),
            }))
        });
        IncidentSettings::new(self.incidents.clone(), pager)
    }

    /// Problems in `[incidents]` and `[pagerduty]`.
    pub(super) fn incident_problems(&self, problems: &mut Vec<String>) {
        let persons: BTreeSet<String> = self.people.persons.iter().map(|p| p.id.clone()).collect();
        if let Err(err) = self.incidents.validate(&self.policy, &persons) {
            problems.push(err.to_string());
        }
        if let Some(pd) = &self.pagerduty {
            if !(pd.api_url.starts_with("https://") || pd.api_url.starts_with("http://")) {
                problems.push(format!(
                    "pagerduty.api_url `{}` must be an http(s) URL",
                    pd.api_url
                ));
            }
            if pd
                .routing_key
                .as_ref()
                .is_none_or(|k| k.expose_secret().trim().is_empty())
            {
                problems.push(
                    "pagerduty.routing_key is missing: set MYSTOCKS_BOT__PAGERDUTY__ROUTING_KEY, or remove [pagerduty] to run without paging"
                        .to_string(),
                );
            }
        }
    }
}
