//! The people directory: persons with their chat identities, roles and groups, and the check of a person's
//! roles against a command's [`Rule`]. Built once from settings; run-time [`RoleSource`]s (Slack user groups)
//! can add roles, answering from their own caches, so resolving stays synchronous and does no I/O.
//!
//! Roles belong to persons, not accounts: `slack:T1/UBOB` and `console:bob` resolve to the same person, so the
//! two-person rule counts people.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Deserialize;

use crate::invocation::Identity;
use crate::policy::{ConfigError, PolicyConfig, Role, Rule, has_role};

mod refusal;
mod sources;

pub use refusal::{Refusal, authorize};
pub use sources::RoleSource;
use sources::RoleSources;

/// What to tell someone who lacks a role, when nothing is configured.
pub const DEFAULT_CONTACT: &str = "ask #platform or platform@mystocks.example.com for access";

/// The `[people]` settings. Role names are those of `[policy] role_names` (by default the standard ones).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DirectoryConfig {
    pub persons: Vec<PersonConfig>,
    pub groups: Vec<GroupConfig>,
    /// The role of an identity no person has (default none: such people are refused, and told whom to ask).
    pub unknown_role: Option<String>,
    /// Who to ask for access, appended to refusals.
    pub contact: String,
}

impl Default for DirectoryConfig {
    fn default() -> Self {
        DirectoryConfig {
            persons: Vec::new(),
            groups: Vec::new(),
            unknown_role: None,
            contact: DEFAULT_CONTACT.to_string(),
        }
    }
}

/// One person (`[[people.persons]]`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonConfig {
    /// A stable id (`alice`), used in approvals and the audit log.
    pub id: String,
    /// The name to show (default: the id).
    #[serde(default)]
    pub display: Option<String>,
    /// Chat identities: `slack:T123/U123`, `matrix:@alice:example.org`, `console:alice`.
    pub identities: Vec<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
}

/// A group whose members get its roles (`[[people.groups]]`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupConfig {
    pub name: String,
    #[serde(default)]
    pub roles: Vec<String>,
}

/// Who is acting, as the core sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The person's id; for an unknown identity, the identity itself.
    pub person_id: String,
    pub display: String,
    /// Own roles and the roles of the person's groups.
    pub roles: BTreeSet<Role>,
    /// Whether the identity belongs to a configured person.
    pub known: bool,
}

#[derive(Clone, Debug)]
struct Person {
    display: String,
    identities: Vec<String>,
    roles: BTreeSet<Role>,
}

/// The resolved directory.
#[derive(Clone, Debug)]
pub struct Directory {
    persons: BTreeMap<String, Person>,
    by_identity: HashMap<String, String>,
    unknown_roles: BTreeSet<Role>,
    contact: String,
    role_names: BTreeMap<Role, String>,
    /// Run-time role sources (Slack user groups), shared by every clone.
    sources: RoleSources,
}

/// Nobody: every identity is unknown and holds no role.
impl Default for Directory {
    fn default() -> Self {
        Directory::from_empty()
    }
}

/// Who may approve a request: their names, and every chat identity they have (for the platforms to mention them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Approvers {
    pub names: Vec<String>,
    pub identities: Vec<Identity>,
}

impl Directory {
    /// Builds the directory with the standard role names.
    pub fn from_config(config: &DirectoryConfig) -> Result<Directory, ConfigError> {
        Self::from_config_with(config, &PolicyConfig::default())
    }

    /// Builds the directory with the role names of `policy`. Refuses an identity given to two persons (or twice),
    /// duplicate person ids or group names, unknown role names and unknown groups.
    pub fn from_config_with(
        config: &DirectoryConfig,
        policy: &PolicyConfig,
    ) -> Result<Directory, ConfigError> {
        let mut group_roles: BTreeMap<&str, BTreeSet<Role>> = BTreeMap::new();
        for group in &config.groups {
            let place = format!("group `{}`", group.name);
            let roles = resolve_roles(policy, &group.roles, &place)?;
            if group_roles.insert(&group.name, roles).is_some() {
                return Err(ConfigError::DuplicateGroup(group.name.clone()));
            }
        }
        let unknown_roles = match &config.unknown_role {
            Some(name) => BTreeSet::from([policy.resolve_role(name, "people.unknown_role")?]),
            None => BTreeSet::new(),
        };
        let mut directory = Directory {
            persons: BTreeMap::new(),
            by_identity: HashMap::new(),
            unknown_roles,
            contact: config.contact.clone(),
            role_names: Role::ALL
                .iter()
                .map(|r| (*r, policy.role_name(*r)))
                .collect(),
            sources: RoleSources::default(),
        };
        for person in &config.persons {
            directory.add_person(person, policy, &group_roles)?;
        }
        Ok(directory)
    }

    fn add_person(
        &mut self,
        config: &PersonConfig,
        policy: &PolicyConfig,
        group_roles: &BTreeMap<&str, BTreeSet<Role>>,
    ) -> Result<(), ConfigError> {
        let id = &config.id;
        if id.trim().is_empty() {
            return Err(ConfigError::Invalid {
                field: "people.persons.id".into(),
                reason: "must not be empty".into(),
            });
        }
        let mut roles = resolve_roles(policy, &config.roles, &format!("person `{id}`"))?;
        for group in &config.groups {
            let extra =
                group_roles
                    .get(group.as_str())
                    .ok_or_else(|| ConfigError::UnknownGroup {
                        person: id.clone(),
                        group: group.clone(),
                    })?;
            roles.extend(extra);
        }
        for identity in &config.identities {
            if !is_identity(identity) {
                return Err(ConfigError::BadIdentity {
                    person: id.clone(),
                    identity: identity.clone(),
                });
            }
            if let Some(first) = self.by_identity.insert(identity.clone(), id.clone()) {
                return Err(ConfigError::DuplicateIdentity {
                    identity: identity.clone(),
                    first,
                    second: id.clone(),
                });
            }
        }
        let display = config.display.clone().unwrap_or_else(|| id.clone());
        let person = Person {
            display,
            identities: config.identities.clone(),
            roles,
        };
        if self.persons.insert(id.clone(), person).is_some() {
            return Err(ConfigError::DuplicatePerson(id.clone()));
        }
        Ok(())
    }

    /// The demo people: alice operator, bob approver (also `slack:TDEMO/UBOB`), carol viewer, dave admin.
    pub fn demo() -> Directory {
        Self::from_config(&DirectoryConfig::demo()).unwrap_or_else(|_| Self::from_empty())
    }

    fn from_empty() -> Directory {
        Directory {
            persons: BTreeMap::new(),
            by_identity: HashMap::new(),
            unknown_roles: BTreeSet::new(),
            contact: DEFAULT_CONTACT.to_string(),
            role_names: Role::ALL
                .iter()
                .map(|r| (*r, r.standard_name().to_string()))
                .collect(),
            sources: RoleSources::default(),
        }
    }

    /// Adds a run-time role source: from now on, the roles it grants to any of a person's identities (or to an
    /// unknown identity) are added to the roles from `[people]`. Every clone of this directory sees it.
    pub fn add_role_source(&self, source: std::sync::Arc<dyn RoleSource>) {
        tracing::info!(source = %source.describe(), "roles also come from a run-time source");
        self.sources.add(source);
    }

    /// The person behind `identity`; an unknown identity is its own person with the configured unknown role.
    /// Roles from run-time sources (user groups) are added: for a person, those of any of their identities.
    pub fn resolve(&self, identity: &Identity) -> Principal {
        let person = self
            .by_identity
            .get(identity.as_str())
            .and_then(|id| Some((id, self.persons.get(id)?)));
        match person {
            Some((id, person)) => {
                let mut roles = person.roles.clone();
                roles.extend(
                    self.sources
                        .roles_of(person.identities.iter().map(String::as_str)),
                );
                Principal {
                    person_id: id.clone(),
                    display: person.display.clone(),
                    roles,
                    known: true,
                }
            }
            None => {
                let mut roles = self.unknown_roles.clone();
                roles.extend(self.sources.roles_of(std::iter::once(identity.as_str())));
                Principal {
                    person_id: identity.to_string(),
                    display: identity.to_string(),
                    roles,
                    known: false,
                }
            }
        }
    }

    /// Checks `principal` may run a command with `rule`; the refusal names the role needed and whom to ask.
    pub fn authorize(&self, principal: &Principal, rule: &Rule) -> Result<(), Refusal> {
        refusal::check(principal, rule, &self.role_names, &self.contact)
    }

    /// Who to ask for access.
    pub fn contact(&self) -> &str {
        &self.contact
    }

    /// The display name of a person id (the id itself when unknown, e.g. an identity).
    pub fn display_name(&self, person_id: &str) -> String {
        self.persons
            .get(person_id)
            .map_or_else(|| person_id.to_string(), |p| p.display.clone())
    }

    /// The identities of a person (empty when unknown).
    pub fn identities_of(&self, person_id: &str) -> &[String] {
        self.persons
            .get(person_id)
            .map_or(&[], |p| p.identities.as_slice())
    }

    /// The persons who may approve per `policy`, except `person_id` (the requester): roles from the configuration
    /// and from run-time sources (user groups) count, and someone who is not in `[people]` but holds an approving
    /// role through a source is named by their identity.
    pub fn approvers_except(&self, person_id: &str, policy: &PolicyConfig) -> Approvers {
        let holders = self.sources.holders();
        let mut approvers = Approvers::default();
        for (id, p) in &self.persons {
            let mut roles = p.roles.clone();
            for identity in &p.identities {
                roles.extend(holders.get(identity).into_iter().flatten());
            }
            if id.as_str() != person_id && policy.may_approve(&roles) {
                approvers.names.push(p.display.clone());
                approvers
                    .identities
                    .extend(p.identities.iter().cloned().map(Identity));
            }
        }
        for (identity, roles) in holders {
            let roles: BTreeSet<Role> = roles.union(&self.unknown_roles).copied().collect();
            if !self.by_identity.contains_key(&identity)
                && identity != person_id
                && policy.may_approve(&roles)
            {
                approvers.names.push(identity.clone());
                approvers.identities.push(Identity(identity));
            }
        }
        approvers
    }

    /// Whether anyone in the directory holds `role` (or a higher one).
    pub fn anyone_with(&self, role: Role) -> bool {
        self.persons.values().any(|p| has_role(&p.roles, role))
    }
}

impl DirectoryConfig {
    /// The demo people (see [`Directory::demo`]).
    pub fn demo() -> DirectoryConfig {
        let person = |id: &str, role: &str, identities: &[&str]| PersonConfig {
            id: id.to_string(),
            display: None,
            identities: identities.iter().map(|s| s.to_string()).collect(),
            roles: vec![role.to_string()],
            groups: Vec::new(),
        };
        DirectoryConfig {
            persons: vec![
                person("alice", "operator", &["console:alice"]),
                person("bob", "approver", &["console:bob", "slack:TDEMO/UBOB"]),
                person("carol", "viewer", &["console:carol"]),
                person("dave", "admin", &["console:dave"]),
            ],
            ..DirectoryConfig::default()
        }
    }
}

fn resolve_roles(
    policy: &PolicyConfig,
    names: &[String],
    place: &str,
) -> Result<BTreeSet<Role>, ConfigError> {
    names
        .iter()
        .map(|n| policy.resolve_role(n, place))
        .collect()
}

/// `platform:id`: a lower-case platform, a non-empty id, no spaces.
fn is_identity(text: &str) -> bool {
    match text.split_once(':') {
        Some((platform, id)) => {
            !platform.is_empty()
                && platform
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                && !id.is_empty()
                && !id.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests;
