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
        if let Some(channel) = &self.incidents.channel
            && let Err(why) = check_channel(channel)
        {
            problems.push(format!("incidents.channel: {why}"));
        }
        if let Some(org) = self.slack.as_ref().and_then(|s| s.enterprise())
            && let Some(channel) = &self.incidents.channel
            && let Some((home, id)) = channel
                .strip_prefix("slack:")
                .and_then(|c| c.split_once('/'))
            && home != org
        {
            problems.push(format!(
                "incidents.channel: `{channel}` names workspace {home}, but with slack.enterprise_id conversations \
                 are named by the organisation: write `slack:{org}/{id}`"
            ));
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

/// Checks a conversation as the bot names it: `slack:TEAM/CHANNEL`, `matrix:ROOM_ID` (any room version) or
/// `console:NAME`.
fn check_channel(channel: &str) -> Result<(), String> {
    let usage = "give `slack:T0123/C0456` (workspace and channel ids), `matrix:!room` (a room id) or `console:main`";
    match channel.split_once(':') {
        Some(("slack", ids)) => match ids.split_once('/') {
            Some((team, id))
                if [team, id]
                    .iter()
                    .all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric())) =>
            {
                Ok(())
            }
            _ => Err(format!("`{channel}` is not a Slack channel: {usage}")),
        },
        Some(("matrix", room)) => mystocks_adapters::matrix::check_room_id(room)
            .map_err(|why| format!("in `{channel}`, {why}")),
        Some(("console", name)) if !name.trim().is_empty() => Ok(()),
        _ => Err(format!(
            "`{channel}` is not a conversation the bot knows: {usage}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use figment::Figment;
    use figment::providers::{Format, Toml};

    use super::Settings;

    fn settings(toml: &str) -> Settings {
        Figment::from(Toml::string(toml))
            .extract()
            .expect("settings parse")
    }

    #[test]
    fn a_routing_key_turns_paging_on() {
        let s = settings("[pagerduty]\nrouting_key = \"abc\"\napi_url = \"http://127.0.0.1:1\"\n");
        assert!(s.incident_settings().pager.is_some());
        let mut problems = Vec::new();
        s.incident_problems(&mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(
            !format!("{s:?}").contains("abc"),
            "the routing key is never printed"
        );
    }

    #[test]
    fn problems_name_the_key() {
        let s = settings("[pagerduty]\napi_url = \"ftp://x\"\n[incidents]\noncall = [\"zed\"]\n");
        assert!(s.incident_settings().pager.is_none());
        let mut problems = Vec::new();
        s.incident_problems(&mut problems);
        let all = problems.join("\n");
        assert!(
            all.contains("incidents.oncall") && all.contains("zed"),
            "{all}"
        );
        assert!(
            all.contains("pagerduty.api_url") && all.contains("pagerduty.routing_key"),
            "{all}"
        );
    }

    #[test]
    fn response_times_and_defaults() {
        let s = settings("[incidents.response_times]\nP1 = \"5m\"\n");
        let config = &s.incident_settings().config;
        assert_eq!(config.response_times.p1.as_secs(), 300);
        assert_eq!(config.response_times.p2.as_secs(), 3600);
    }

    #[test]
    fn the_war_room_channel_is_checked_for_every_platform_and_room_version() {
        for good in [
            "slack:T1/C9",
            "matrix:!abc:example.org",
            "matrix:!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM",
            "console:main",
        ] {
            let s = settings(&format!("[incidents]\nchannel = \"{good}\"\n"));
            let mut problems = Vec::new();
            s.incident_problems(&mut problems);
            assert!(problems.is_empty(), "{good}: {problems:?}");
        }
        for bad in ["#ops", "slack:C9", "matrix:#ops:example.org", "irc:ops"] {
            let s = settings(&format!("[incidents]\nchannel = \"{bad}\"\n"));
            let mut problems = Vec::new();
            s.incident_problems(&mut problems);
            assert!(
                problems
                    .iter()
                    .any(|p| p.starts_with("incidents.channel") && p.contains(bad)),
                "{bad}: {problems:?}"
            );
        }
    }
}
