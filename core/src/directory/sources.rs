//! Roles that come from outside `[people]` at run time — Slack user groups — added to the roles a person has from
//! the configuration. A source answers from memory (a cache its adapter keeps fresh), because resolving a person
//! stays synchronous and free of I/O; a membership it cannot vouch for (expired, failed lookup) grants nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};

use crate::invocation::Identity;
use crate::policy::Role;

/// Roles granted to chat identities by something other than the configuration.
pub trait RoleSource: Send + Sync {
    /// The roles `identity` holds through this source right now (empty when unknown or not fresh).
    fn roles_of(&self, identity: &Identity) -> BTreeSet<Role>;

    /// Every identity holding a role through this source right now, with the role (the same freshness rule as
    /// [`RoleSource::roles_of`]); lists of approvers name them.
    fn holders(&self) -> Vec<(Identity, Role)>;

    /// What the source is, for logs (`Slack user groups S0123, S0456`).
    fn describe(&self) -> String;
}

/// The sources a directory consults; shared by every clone of the directory, so a source registered after the
/// core was built (an adapter starting later) is seen by the core.
#[derive(Clone, Default)]
pub(super) struct RoleSources(Arc<RwLock<Vec<Arc<dyn RoleSource>>>>);

impl RoleSources {
    pub(super) fn add(&self, source: Arc<dyn RoleSource>) {
        match self.0.write() {
            Ok(mut sources) => sources.push(source),
            Err(poisoned) => poisoned.into_inner().push(source),
        }
    }

    /// The union of every source's roles for any of `identities`.
    pub(super) fn roles_of<'a>(
        &self,
        identities: impl Iterator<Item = &'a str> + Clone,
    ) -> BTreeSet<Role> {
        let sources = match self.0.read() {
            Ok(sources) => sources,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut roles = BTreeSet::new();
        if sources.is_empty() {
            return roles;
        }
        for source in sources.iter() {
            for identity in identities.clone() {
                roles.extend(source.roles_of(&Identity(identity.to_string())));
            }
        }
        roles
    }

    /// Every identity holding a role through any source, with the roles it holds that way.
    pub(super) fn holders(&self) -> BTreeMap<String, BTreeSet<Role>> {
        let sources = match self.0.read() {
            Ok(sources) => sources,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut holders: BTreeMap<String, BTreeSet<Role>> = BTreeMap::new();
        for (identity, role) in sources.iter().flat_map(|s| s.holders()) {
            holders.entry(identity.0).or_default().insert(role);
        }
        holders
    }
}

impl std::fmt::Debug for RoleSources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let described: Vec<String> = match self.0.read() {
            Ok(sources) => sources.iter().map(|s| s.describe()).collect(),
            Err(_) => vec!["(unreadable)".into()],
        };
        f.debug_list().entries(described).finish()
    }
}
