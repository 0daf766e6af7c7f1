//! Roles from Slack user groups: `[slack.usergroup_roles]` maps a group id (`S…`) to a role; a member of the group
//! holds the role in addition to what `[people]` gives them. Memberships come from `usergroups.users.list` and are
//! cached for a TTL; the front door refreshes expired ones before it hands an invocation to the core, and the
//! core's directory reads the cache (a [`RoleSource`]). A membership older than the TTL, or a lookup that failed,
//! grants nothing — a failure is logged and retried after a short pause, never answered from stale data.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use mystocks_commands::directory::RoleSource;
use mystocks_commands::{Identity, Role};
use tokio::time::Instant;

use super::api::{ApiError, SlackApi};

/// Longest pause before a failed lookup is tried again (shorter when the TTL is shorter).
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(10);

/// How long one lookup may take (Slack's retries included) before it counts as failed: commands wait for the
/// refresh, so a slow Slack must not hold them up for long.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Where memberships come from (the Web API; a script in unit tests).
#[async_trait]
pub trait MemberLookup: Send + Sync {
    /// The user ids (`U…`) in `group`.
    async fn members(&self, group: &str) -> Result<Vec<String>, ApiError>;
}

#[async_trait]
impl MemberLookup for SlackApi {
    async fn members(&self, group: &str) -> Result<Vec<String>, ApiError> {
        self.usergroup_members(group).await
    }
}

#[derive(Clone, Debug)]
enum Membership {
    Known { users: HashSet<String>, at: Instant },
    Failed { at: Instant },
}

/// The user-group role source of one workspace.
pub struct UsergroupRoles {
    lookup: Arc<dyn MemberLookup>,
    team_id: String,
    /// Group id → the role its members hold.
    groups: Vec<(String, Role)>,
    ttl: Duration,
    cache: Mutex<HashMap<String, Membership>>,
    /// One refresh at a time: concurrent invocations after expiry wait for it instead of asking Slack again.
    refreshing: tokio::sync::Mutex<()>,
}

impl UsergroupRoles {
    /// A source for `team_id` mapping `groups` (id, role), keeping memberships for `ttl`.
    pub fn new(
        lookup: Arc<dyn MemberLookup>,
        team_id: &str,
        groups: Vec<(String, Role)>,
        ttl: Duration,
    ) -> Self {
        UsergroupRoles {
            lookup,
            team_id: team_id.to_string(),
            groups,
            ttl,
            cache: Mutex::default(),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, Membership>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `group` needs asking again at `now`.
    fn stale(&self, group: &str, now: Instant) -> bool {
        let retry = self.ttl.min(RETRY_AFTER_FAILURE);
        match self.cache().get(group) {
            None => true,
            Some(Membership::Known { at, .. }) => now.duration_since(*at) >= self.ttl,
            Some(Membership::Failed { at }) => now.duration_since(*at) >= retry,
        }
    }

    /// Asks Slack again, all at once, for every group whose membership expired (or whose last lookup failed a
    /// while ago). Each lookup has [`LOOKUP_TIMEOUT`]; one that runs out counts as failed.
    pub async fn refresh(&self) {
        if !self
            .groups
            .iter()
            .any(|(g, _)| self.stale(g, Instant::now()))
        {
            return;
        }
        let _one_at_a_time = self.refreshing.lock().await;
        let now = Instant::now();
        let stale = self.groups.iter().filter(|(g, _)| self.stale(g, now));
        let lookups = stale.map(|(group, _)| async move {
            let found = tokio::time::timeout(LOOKUP_TIMEOUT, self.lookup.members(group)).await;
            (group, found)
        });
        for (group, found) in futures::future::join_all(lookups).await {
            let entry = match found {
                Ok(Ok(users)) => Membership::Known {
                    users: users.into_iter().collect(),
                    at: Instant::now(),
                },
                Ok(Err(err)) => failed(group, &err.to_string()),
                Err(_) => failed(group, "no answer in time"),
            };
            self.cache().insert(group.clone(), entry);
        }
    }

    fn user_of<'a>(&self, identity: &'a Identity) -> Option<&'a str> {
        let (team, user) = identity.as_str().strip_prefix("slack:")?.split_once('/')?;
        (team == self.team_id).then_some(user)
    }
}

fn failed(group: &str, why: &str) -> Membership {
    tracing::error!(
        group,
        error = why,
        "cannot read a Slack user group's members; it grants no role until a lookup succeeds"
    );
    Membership::Failed { at: Instant::now() }
}

impl RoleSource for UsergroupRoles {
    fn roles_of(&self, identity: &Identity) -> BTreeSet<Role> {
        let Some(user) = self.user_of(identity) else {
            return BTreeSet::new();
        };
        let now = Instant::now();
        let cache = self.cache();
        self.groups
            .iter()
            .filter(|(group, _)| match cache.get(group) {
                Some(Membership::Known { users, at }) => {
                    now.duration_since(*at) < self.ttl && users.contains(user)
                }
                _ => false,
            })
            .map(|(_, role)| *role)
            .collect()
    }

    fn holders(&self) -> Vec<(Identity, Role)> {
        let now = Instant::now();
        let cache = self.cache();
        let mut holders = Vec::new();
        for (group, role) in &self.groups {
            if let Some(Membership::Known { users, at }) = cache.get(group)
                && now.duration_since(*at) < self.ttl
            {
                holders.extend(users.iter().map(|user| {
                    (
                        Identity::new("slack", &format!("{}/{user}", self.team_id)),
                        *role,
                    )
                }));
            }
        }
        holders
    }

    fn describe(&self) -> String {
        let ids: Vec<&str> = self.groups.iter().map(|(g, _)| g.as_str()).collect();
        format!(
            "Slack user groups {} (cached {} s)",
            ids.join(", "),
            self.ttl.as_secs()
        )
    }
}

#[cfg(test)]
#[path = "usergroups_tests.rs"]
mod tests;
