//! Who may run what: roles, the risk of each command, and whether it waits for approval — an exhaustive match
//! over [`Command`] with no catch-all arm, so a new command does not compile until someone decides. Pure.
//!
//! [`PolicyConfig`] (the `[policy]` settings section) adds the numbers: quorum, expiry, scale bounds, the allowed
//! image repository, and the names roles go by.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::command::{Admin, ChatRead, Command, Decide, Read, ReadKind};

mod duration;
mod incident;

pub use duration::parse_duration;

/// A role, held by persons directly or through groups. Ordered: a higher role includes every lower one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Operator,
    Approver,
    Admin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Operator, Role::Approver, Role::Admin];

    /// The standard name (`viewer`, …), used unless configuration renames the role.
    pub fn standard_name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.standard_name())
    }
}

/// Whether `roles` include `needed` (or a higher role).
pub fn has_role(roles: &BTreeSet<Role>, needed: Role) -> bool {
    roles.iter().any(|r| *r >= needed)
}

/// What kind of thing a command does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// Reads; runs at once.
    ReadOnly,
    /// Changes the cluster; previewed, then waits for approval.
    Destructive,
    /// Decides on an approval request (approve, deny, cancel).
    Deciding,
    /// Changes the bot itself (freeze).
    Admin,
}

/// The policy for one command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The least role that may run (or request) it; `None`: anyone, unknown identities included.
    pub min_role: Option<Role>,
    pub risk: Risk,
    /// Runs only after approval by other persons.
    pub needs_approval: bool,
}

const fn rule_of(min_role: Option<Role>, risk: Risk, needs_approval: bool) -> Rule {
    Rule {
        min_role,
        risk,
        needs_approval,
    }
}

const ANYONE: Option<Role> = None;
const VIEWER: Option<Role> = Some(Role::Viewer);

impl Rule {
    /// The rule of every [`Change`]: requested by operators, previewed, and run only after approval. It comes from
    /// the command's kind, so a new change cannot be routed around approval.
    pub const CHANGE: Rule = rule_of(Some(Role::Operator), Risk::Destructive, true);
}

/// The policy for `command`. Cancel is open to viewers here; the engine lets only the requester cancel.
pub fn rule(command: &Command) -> Rule {
    match command {
        Command::Read(read) => read_rule(read),
        Command::Change(_) => Rule::CHANGE,
        Command::Decide(Decide::Approve(_) | Decide::Deny(_)) => {
            rule_of(Some(Role::Approver), Risk::Deciding, false)
        }
        Command::Decide(Decide::Cancel(_)) => rule_of(VIEWER, Risk::Deciding, false),
        Command::Admin(Admin::Freeze(_) | Admin::Unfreeze(_)) => {
            rule_of(Some(Role::Admin), Risk::Admin, false)
        }
        // Two persons, but not an approval request: the second admin confirms by saying the same command (the
        // engine keeps the first one's request; see `engine::audit_reanchor`).
        Command::Admin(Admin::AuditReanchor(_)) => rule_of(Some(Role::Admin), Risk::Admin, false),
        Command::Incident(c) => incident::rule(c),
    }
}

/// Who may read what: everything but `help` and `whoami` needs a known person. A read a runbook step can run
/// looks at the service, so its kind gives its rule (viewers), as a change's does.
fn read_rule(read: &Read) -> Rule {
    match read.clone().kind() {
        ReadKind::Step(_) => rule_of(VIEWER, Risk::ReadOnly, false),
        ReadKind::Chat(ChatRead::Help(_) | ChatRead::Whoami(_)) => {
            rule_of(ANYONE, Risk::ReadOnly, false)
        }
        ReadKind::Chat(
            ChatRead::Approvals(_)
            | ChatRead::Audit(_)
            | ChatRead::AuditVerify(_)
            | ChatRead::DbTables(_)
            | ChatRead::Checklist(_)
            | ChatRead::Oncall(_)
            | ChatRead::Runbook(_),
        ) => rule_of(VIEWER, Risk::ReadOnly, false),
    }
}

/// A configuration mistake, said so that the operator can fix the file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{place}: unknown role `{name}` (known: {known})")]
    UnknownRole {
        name: String,
        place: String,
        known: String,
    },
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error(
        "identity `{identity}` belongs to both `{first}` and `{second}`: an account is one person's"
    )]
    DuplicateIdentity {
        identity: String,
        first: String,
        second: String,
    },
    #[error("person `{0}` is listed twice")]
    DuplicatePerson(String),
    #[error("group `{0}` is listed twice")]
    DuplicateGroup(String),
    #[error("person `{person}`: unknown group `{group}` (add it under groups)")]
    UnknownGroup { person: String, group: String },
    #[error(
        "person `{person}`: `{identity}` is not an identity (write `slack:T123/U123`, `matrix:@a:ex.org` or `console:alice`)"
    )]
    BadIdentity { person: String, identity: String },
}

/// How long an approval request lives, and how many approvals it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApprovalTerms {
    pub quorum: u32,
    pub expiry: Duration,
}

/// Per-command changes to quorum or expiry (`[policy.overrides.deploy] quorum = 2`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalOverride {
    pub quorum: Option<u32>,
    #[serde(default, deserialize_with = "duration::deserialize_opt")]
    pub expiry: Option<Duration>,
}

/// The `[policy]` settings. Every field has a default; `expiry` is seconds (`900`) or a duration text (`"15m"`,
/// `"1h30m"`). Role names used here and in `[people]` are the keys of `role_names`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// Approvals a change needs, from distinct persons other than the requester (default 1).
    pub quorum: u32,
    /// How long a request waits for approval (default 15 minutes).
    #[serde(deserialize_with = "duration::deserialize")]
    pub expiry: Duration,
    /// Roles whose holders may approve or deny (default `approver`, `admin`).
    pub approver_roles: Vec<String>,
    /// Least replicas `scale` may ask for (default 1).
    pub scale_min: i32,
    /// Most replicas `scale` may ask for (default 20).
    pub scale_max: i32,
    /// The repository `deploy` takes images from; a bare tag means a tag of it (default `mystocks/api`).
    pub allowed_repository: String,
    /// Allow `deploy` of images from other repositories too (default false).
    pub allow_other_repositories: bool,
    /// The names roles go by (default: each role's standard name). When set, it replaces the standard names.
    pub role_names: BTreeMap<String, Role>,
    /// Quorum or expiry for one command (`deploy`, `rollback`, `scale`, `restart`).
    pub overrides: BTreeMap<String, ApprovalOverride>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            quorum: 1,
            expiry: Duration::from_secs(15 * 60),
            approver_roles: vec!["approver".into(), "admin".into()],
            scale_min: 1,
            scale_max: 20,
            allowed_repository: "mystocks/api".into(),
            allow_other_repositories: false,
            role_names: standard_role_names(),
            overrides: BTreeMap::new(),
        }
    }
}

/// `viewer` → Viewer, … : the names used when none are configured.
pub fn standard_role_names() -> BTreeMap<String, Role> {
    Role::ALL
        .iter()
        .map(|r| (r.standard_name().to_string(), *r))
        .collect()
}

mod config;

#[cfg(test)]
mod tests;
