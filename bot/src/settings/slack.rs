//! The `[slack]` checks that go beyond "is it set": the workspace and app ids that refuse other workspaces, roles
//! from user groups, the user-group cache and the slash command's answer budget — and their typed values.

use std::time::Duration;

use mystocks_commands::Role;
use mystocks_commands::policy::{PolicyConfig, parse_duration};

use super::SlackSettings;
use super::validate::missing;

/// How long a slash command's response waits for its answer by default.
pub const DEFAULT_ACK_WAIT_MS: u64 = 2000;
/// The longest accepted wait: Slack gives up on a slash command's response after 3 s, and the response still has
/// to travel back.
pub const MAX_ACK_WAIT_MS: u64 = 2500;

impl SlackSettings {
    /// The `[slack]` problems beyond tokens and URLs, one sentence each, appended to `p`.
    pub(super) fn problems(&self, policy: &PolicyConfig, p: &mut Vec<String>) {
        if self.team_id.trim().is_empty() {
            p.push(missing(
                "slack.team_id",
                " to your workspace id (T…, in the workspace's URL or from auth.test); without it requests from \
                 other workspaces cannot be refused",
            ));
        }
        if self
            .api_app_id
            .as_deref()
            .is_none_or(|a| a.trim().is_empty())
        {
            p.push(missing(
                "slack.api_app_id",
                " to your app's id (A…, Basic Information → App ID); without it requests for other apps cannot \
                 be refused",
            ));
        }
        let id_like = |id: &str, first: char| {
            id.len() > 1 && id.starts_with(first) && id.bytes().all(|b| b.is_ascii_alphanumeric())
        };
        if let Some(org) = &self.enterprise_id
            && !id_like(org.trim(), 'E')
        {
            p.push(format!(
                "slack.enterprise_id: `{org}` is not an organisation id (E…, from the org's admin dashboard or \
                 auth.test's `enterprise_id`)"
            ));
        }
        for w in &self.workspaces {
            if !id_like(w.trim(), 'T') {
                p.push(format!(
                    "slack.workspaces: `{w}` is not a workspace id (T…, from auth.team.list or the workspace's URL)"
                ));
            }
        }
        if !self.workspaces.is_empty() && self.enterprise().is_none() {
            p.push(
                "slack.workspaces names other workspaces but slack.enterprise_id is not set: serving several \
                 workspaces needs an org-wide install (set slack.enterprise_id to the organisation's E… id)"
                    .to_string(),
            );
        }
        if let Err(e) = self.usergroup_roles(policy) {
            p.push(e);
        }
        if let Err(e) = parse_duration(&self.usergroup_ttl) {
            p.push(format!("slack.usergroup_ttl: {e}"));
        }
        if self.ack_wait_ms > MAX_ACK_WAIT_MS {
            p.push(format!(
                "slack.ack_wait_ms = {} is too long: at most {MAX_ACK_WAIT_MS} (Slack gives up on a slash command's \
                 response after 3 s); 0 acknowledges at once",
                self.ack_wait_ms
            ));
        }
    }

    /// The Enterprise Grid organisation the bot serves, when one is set.
    pub fn enterprise(&self) -> Option<&str> {
        self.enterprise_id
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
    }

    /// `[slack.usergroup_roles]` resolved: (group id, role), in id order.
    pub fn usergroup_roles(&self, policy: &PolicyConfig) -> Result<Vec<(String, Role)>, String> {
        self.usergroup_roles
            .iter()
            .map(|(group, role)| {
                let id = group.trim();
                if !id.starts_with('S') || id.len() < 2 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(format!(
                        "slack.usergroup_roles: `{group}` is not a user group id (S…, from the group's URL or \
                         usergroups.list)"
                    ));
                }
                let role = policy
                    .resolve_role(role, "slack.usergroup_roles")
                    .map_err(|e| e.to_string())?;
                Ok((id.to_string(), role))
            })
            .collect()
    }

    /// How long a user group's members are trusted (the default when the setting does not parse; `check-config`
    /// reports it).
    pub fn usergroup_ttl(&self) -> Duration {
        parse_duration(&self.usergroup_ttl).unwrap_or(Duration::from_secs(300))
    }

    /// `check-config`'s words for the answer budget and the user groups.
    pub(super) fn describe_extras(&self) -> String {
        let answers = match self.ack_wait_ms.min(MAX_ACK_WAIT_MS) {
            0 => "slash commands acknowledged at once".to_string(),
            ms => format!("answers in the slash command's response when ready within {ms} ms"),
        };
        let groups = match self.usergroup_roles.len() {
            0 => "no roles from user groups".to_string(),
            n => format!(
                "roles from {n} user group(s) ({}), members trusted for {}",
                self.usergroup_roles
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                self.usergroup_ttl
            ),
        };
        format!("{answers}; {groups}")
    }

    /// How long a slash command's response may wait for its answer.
    pub fn ack_wait(&self) -> Duration {
        Duration::from_millis(self.ack_wait_ms.min(MAX_ACK_WAIT_MS))
    }
}
