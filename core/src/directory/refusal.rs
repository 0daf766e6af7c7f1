//! The answer when a person may not run a command: which role it needs, what they have, and whom to ask.

use std::collections::BTreeMap;
use std::fmt;

use super::{DEFAULT_CONTACT, Principal};
use crate::policy::{Role, Rule, has_role};

/// A refusal for lack of a role. `Display` is the text shown to the person.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct Refusal {
    /// The role the command needs.
    pub needed: Role,
    /// Its configured name.
    pub needed_name: String,
    /// The person's display name (or identity, when unknown).
    pub who: String,
    /// Whether the person is in the directory.
    pub known: bool,
    /// The configured names of the roles they hold.
    pub held: Vec<String>,
    /// Whom to ask for access.
    pub contact: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let needed = &self.needed_name;
        match (self.known, self.held.is_empty()) {
            (false, true) => write!(
                f,
                "this needs the {needed} role, and I do not know you ({}) — {}",
                self.who, self.contact
            ),
            (false, false) => write!(
                f,
                "this needs the {needed} role; as an unregistered identity ({}) you have {} — {}",
                self.who,
                self.held.join(", "),
                self.contact
            ),
            (true, true) => write!(
                f,
                "this needs the {needed} role; {} has no role — {}",
                self.who, self.contact
            ),
            (true, false) => write!(
                f,
                "this needs the {needed} role; {} has {} — {}",
                self.who,
                self.held.join(", "),
                self.contact
            ),
        }
    }
}

/// Checks `principal` may run a command with `rule`, naming roles by their standard names and the default
/// contact. Prefer [`Directory::authorize`](super::Directory::authorize), which uses the configured ones.
pub fn authorize(principal: &Principal, rule: &Rule) -> Result<(), Refusal> {
    let names = Role::ALL
        .iter()
        .map(|r| (*r, r.standard_name().to_string()))
        .collect();
    check(principal, rule, &names, DEFAULT_CONTACT)
}

pub(super) fn check(
    principal: &Principal,
    rule: &Rule,
    names: &BTreeMap<Role, String>,
    contact: &str,
) -> Result<(), Refusal> {
    let Some(needed) = rule.min_role else {
        return Ok(());
    };
    if has_role(&principal.roles, needed) {
        return Ok(());
    }
    let name = |r: Role| {
        names
            .get(&r)
            .cloned()
            .unwrap_or_else(|| r.standard_name().to_string())
    };
    Err(Refusal {
        needed,
        needed_name: name(needed),
        who: principal.display.clone(),
        known: principal.known,
        held: principal.roles.iter().rev().map(|r| name(*r)).collect(),
        contact: contact.to_string(),
    })
}
