//! The gate in front of every change: an [`Approved`] change. The code that writes to the cluster or the service's
//! database takes one, and there are exactly two ways to make one — the quorum decision ([`Approved::by_quorum`])
//! and break-glass during an incident ([`Approved::break_glass`], the one exception, with its own rules). Nothing
//! else can build one, so a change cannot reach the cluster around approval by accident:
//!
//! ```compile_fail
//! use mystocks_core::approval::{Approved, Authority};
//!
//! // A handler cannot approve a change itself: the fields are private and there is no other constructor.
//! let forged = Approved {
//!     change: "scale 50",
//!     authority: Authority::Quorum { approvers: vec!["mallory".into()] },
//! };
//! ```

use std::collections::BTreeSet;

use crate::incident::IncidentRecord;

/// A change that may run, and on whose authority.
#[derive(Clone, Debug, PartialEq)]
pub struct Approved<T> {
    change: T,
    authority: Authority,
}

/// Why an approved change may run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Authority {
    /// Distinct persons other than the requester, each holding an approving role when the votes were counted.
    Quorum { approvers: Vec<String> },
    /// Break-glass during an open incident: no second approver beforehand, a review afterwards.
    BreakGlass { person: String, incident: i64 },
}

/// One vote on a request, with what the voter holds now (roles are checked when votes are counted, not only when
/// they were cast: someone removed from the approvers no longer counts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ballot {
    pub person: String,
    pub approves: bool,
    /// Whether the voter holds an approving role at counting time.
    pub may_approve: bool,
}

/// The votes on one request, counted under the two-person rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally {
    requester: String,
    quorum: u32,
    ballots: Vec<Ballot>,
}

impl Tally {
    /// The votes on a request by `requester` that needs `quorum` approvals.
    pub fn new(requester: impl Into<String>, quorum: u32, ballots: Vec<Ballot>) -> Self {
        Tally {
            requester: requester.into(),
            quorum,
            ballots,
        }
    }

    /// The persons whose approval counts: approving, holding an approving role now, not the requester; each
    /// person once, in name order.
    pub fn approvers(&self) -> Vec<String> {
        let persons: BTreeSet<&str> = self
            .ballots
            .iter()
            .filter(|b| b.approves && b.may_approve && b.person != self.requester)
            .map(|b| b.person.as_str())
            .collect();
        persons.into_iter().map(str::to_string).collect()
    }

    /// Whether the approvals that count reach the quorum (at least one, whatever the setting).
    pub fn reached(&self) -> bool {
        self.approvers().len() >= self.quorum.max(1) as usize
    }

    /// How many approvals count, and how many are needed.
    pub fn progress(&self) -> (usize, u32) {
        (self.approvers().len(), self.quorum.max(1))
    }
}

/// The quorum is not (or no longer) reached.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{have} of {need} approvals count (the others are missing, the requester's own, or from someone who no longer holds an approving role)"
)]
pub struct NotApproved {
    pub have: usize,
    pub need: u32,
}

/// Proof that break-glass was used for one request: the incident records the use, by the requester, during a P1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BreakGlassGrant {
    person: String,
    incident: i64,
}

impl BreakGlassGrant {
    /// The grant for `approval_id` requested by `requester`, if `incident` records that break-glass use.
    pub fn recorded(incident: &IncidentRecord, approval_id: &str, requester: &str) -> Option<Self> {
        incident
            .break_glass
            .iter()
            .any(|u| u.approval_id == approval_id && u.by == requester)
            .then(|| BreakGlassGrant {
                person: requester.to_string(),
                incident: incident.number,
            })
    }
}

impl<T> Approved<T> {
    /// `change`, approved by the votes in `tally` if they reach its quorum.
    pub fn by_quorum(change: T, tally: &Tally) -> Result<Self, NotApproved> {
        let (have, need) = tally.progress();
        if !tally.reached() {
            return Err(NotApproved { have, need });
        }
        Ok(Approved {
            change,
            authority: Authority::Quorum {
                approvers: tally.approvers(),
            },
        })
    }

    /// `change`, run under break-glass: the one exception to the two-person rule.
    pub fn break_glass(change: T, grant: &BreakGlassGrant) -> Self {
        Approved {
            change,
            authority: Authority::BreakGlass {
                person: grant.person.clone(),
                incident: grant.incident,
            },
        }
    }

    /// The change to make.
    pub fn change(&self) -> &T {
        &self.change
    }

    /// On whose authority it runs.
    pub fn authority(&self) -> &Authority {
        &self.authority
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ballot(person: &str, approves: bool, may_approve: bool) -> Ballot {
        Ballot {
            person: person.into(),
            approves,
            may_approve,
        }
    }

    #[test]
    fn quorum_counts_distinct_other_persons_who_still_hold_the_role() {
        let tally = Tally::new(
            "alice",
            2,
            vec![
                ballot("alice", true, true),
                ballot("bob", true, true),
                ballot("bob", true, true),
                ballot("erin", true, false),
                ballot("dave", false, true),
            ],
        );
        assert_eq!(tally.approvers(), vec!["bob".to_string()]);
        assert_eq!(
            Approved::by_quorum("scale 5", &tally),
            Err(NotApproved { have: 1, need: 2 })
        );
        let tally = Tally::new(
            "alice",
            2,
            vec![ballot("bob", true, true), ballot("dave", true, true)],
        );
        let approved = Approved::by_quorum("scale 5", &tally).expect("two approvers");
        assert_eq!(approved.change(), &"scale 5");
        assert_eq!(
            approved.authority(),
            &Authority::Quorum {
                approvers: vec!["bob".into(), "dave".into()]
            }
        );
    }

    #[test]
    fn a_quorum_of_zero_still_needs_one_approver() {
        assert!(!Tally::new("alice", 0, vec![]).reached());
        assert!(Tally::new("alice", 0, vec![ballot("bob", true, true)]).reached());
    }
}
