//! Who may run each `incident` sub-command — an exhaustive match, like the rest of policy. Finer checks (who may
//! acknowledge, break-glass, review) depend on `[incidents]` and the incident itself; the engine makes them.

use super::{Risk, Role, Rule, rule_of};
use crate::command::Incident;

/// The rule for one `incident` sub-command.
pub(super) fn rule(command: &Incident) -> Rule {
    const VIEWER: Option<Role> = Some(Role::Viewer);
    const OPERATOR: Option<Role> = Some(Role::Operator);
    match command {
        Incident::List | Incident::Show { .. } | Incident::Postmortem { .. } => {
            rule_of(VIEWER, Risk::ReadOnly, false)
        }
        Incident::Declare { .. }
        | Incident::Ack { .. }
        | Incident::Note { .. }
        | Incident::Role { .. }
        | Incident::Status { .. }
        | Incident::Severity { .. }
        | Incident::Resolve { .. } => rule_of(OPERATOR, Risk::Deciding, false),
        Incident::Review { .. } => rule_of(Some(Role::Approver), Risk::Deciding, false),
        // The change itself skips the second approver; it is still destructive (rate limits, runbooks).
        Incident::BreakGlass { .. } => rule_of(OPERATOR, Risk::Destructive, false),
    }
}

#[cfg(test)]
mod tests {
    use crate::command::Command;
    use crate::policy::{Risk, Role, rule};

    fn of(text: &str) -> (Option<Role>, Risk) {
        let r = rule(&Command::parse(text).expect(text));
        (r.min_role, r.risk)
    }

    #[test]
    fn reading_is_for_viewers_running_for_operators() {
        assert_eq!(of("incident list"), (Some(Role::Viewer), Risk::ReadOnly));
        assert_eq!(
            of("incident postmortem"),
            (Some(Role::Viewer), Risk::ReadOnly)
        );
        assert_eq!(
            of("incident declare P1 down"),
            (Some(Role::Operator), Risk::Deciding)
        );
        assert_eq!(
            of("incident review"),
            (Some(Role::Approver), Risk::Deciding)
        );
        assert_eq!(
            of("incident breakglass rollback why"),
            (Some(Role::Operator), Risk::Destructive)
        );
        assert_eq!(of("oncall"), (Some(Role::Viewer), Risk::ReadOnly));
    }
}
