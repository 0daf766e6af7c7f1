//! What the `[policy]` settings decide: approval terms, who may approve, role names, scale bounds, images.

use std::collections::BTreeSet;
use std::ops::RangeInclusive;

use super::{ApprovalTerms, ConfigError, PolicyConfig, Role, has_role, rule};
use crate::command::{self, Command};

impl PolicyConfig {
    /// Checks the settings make sense: known role names, quorum ≥ 1, bounds in order, overrides of commands
    /// that need approval.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field: &str, reason: &str| ConfigError::Invalid {
            field: field.into(),
            reason: reason.into(),
        };
        if self.role_names.is_empty() {
            return Err(invalid("policy.role_names", "name at least one role"));
        }
        if self.quorum == 0 {
            return Err(invalid("policy.quorum", "at least 1 approval is needed"));
        }
        if self.scale_min < 0 {
            return Err(invalid("policy.scale_min", "must not be negative"));
        }
        if self.scale_min > self.scale_max {
            return Err(invalid("policy.scale_min", "must not be above scale_max"));
        }
        if command::parse_image_ref(&format!("{}:x", self.allowed_repository)).is_err() {
            return Err(invalid(
                "policy.allowed_repository",
                "not a repository name like `mystocks/api`",
            ));
        }
        if self.approver_roles.is_empty() {
            return Err(invalid("policy.approver_roles", "name at least one role"));
        }
        for name in &self.approver_roles {
            self.resolve_role(name, "policy.approver_roles")?;
        }
        for (name, over) in &self.overrides {
            let needs_approval = command::find(name)
                .and_then(|spec| Command::parse(spec.examples.first()?).ok())
                .is_some_and(|c| rule(&c).needs_approval);
            if !needs_approval {
                return Err(invalid(
                    &format!("policy.overrides.{name}"),
                    "only commands that need approval take overrides",
                ));
            }
            if over.quorum == Some(0) {
                return Err(invalid(
                    &format!("policy.overrides.{name}.quorum"),
                    "at least 1 approval is needed",
                ));
            }
        }
        Ok(())
    }

    /// The role configured under `name` (exact, or ignoring ASCII case).
    pub fn role_by_name(&self, name: &str) -> Option<Role> {
        self.role_names
            .get(name)
            .or_else(|| {
                self.role_names
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, r)| r)
            })
            .copied()
    }

    /// Like [`role_by_name`](Self::role_by_name), with an error naming `place` and the known names.
    pub fn resolve_role(&self, name: &str, place: &str) -> Result<Role, ConfigError> {
        self.role_by_name(name)
            .ok_or_else(|| ConfigError::UnknownRole {
                name: name.to_string(),
                place: place.to_string(),
                known: self
                    .role_names
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The name `role` goes by: its standard name if configured, else the first configured name, else standard.
    pub fn role_name(&self, role: Role) -> String {
        if self.role_names.get(role.standard_name()) == Some(&role) {
            return role.standard_name().to_string();
        }
        self.role_names
            .iter()
            .find(|(_, r)| **r == role)
            .map_or_else(|| role.standard_name().to_string(), |(n, _)| n.clone())
    }

    /// The roles that may approve (unknown names, which `validate` reports, are skipped).
    pub fn approver_roles(&self) -> BTreeSet<Role> {
        self.approver_roles
            .iter()
            .filter_map(|n| self.role_by_name(n))
            .collect()
    }

    /// The approving roles' names, lowest first (`["approver", "admin"]`), for messages.
    pub fn approver_role_names(&self) -> Vec<String> {
        self.approver_roles()
            .into_iter()
            .map(|r| self.role_name(r))
            .collect()
    }

    /// Whether a person holding `roles` may approve or deny. An approving role is matched exactly or by a
    /// higher role, since a higher role includes the lower ones.
    pub fn may_approve(&self, roles: &BTreeSet<Role>) -> bool {
        self.approver_roles()
            .iter()
            .any(|needed| has_role(roles, *needed))
    }

    /// Quorum and expiry for `command`, with per-command overrides applied.
    pub fn approval_for(&self, command: &Command) -> ApprovalTerms {
        let over = self.overrides.get(command.name());
        ApprovalTerms {
            quorum: over.and_then(|o| o.quorum).unwrap_or(self.quorum),
            expiry: over.and_then(|o| o.expiry).unwrap_or(self.expiry),
        }
    }

    /// The replica counts `scale` may ask for.
    pub fn scale_bounds(&self) -> RangeInclusive<i32> {
        self.scale_min..=self.scale_max
    }

    /// Refuses a replica count outside the bounds, saying what is allowed.
    pub fn check_replicas(&self, replicas: i32) -> Result<(), String> {
        if self.scale_bounds().contains(&replicas) {
            Ok(())
        } else {
            Err(format!(
                "{replicas} replicas is outside the allowed {}–{}",
                self.scale_min, self.scale_max
            ))
        }
    }

    /// The repository `deploy` must take images from: the allowed one, or any (`""`) when
    /// `allow_other_repositories` is set.
    pub fn deploy_repository(&self) -> &str {
        if self.allow_other_repositories {
            ""
        } else {
            &self.allowed_repository
        }
    }
}
