//! The records the store keeps: approval requests and votes, jobs, the freeze switch. JSON payloads are
//! `serde_json::Value`; the engine gives them their typed shape.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::StoreError;

/// Where an approval request is in its life. Stored as the lowercase name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalState {
    /// Waiting for votes.
    Pending,
    /// Quorum reached, not yet claimed for execution.
    Approved,
    /// Claimed for execution (exactly one process moved it here); the change is being made or followed.
    Executing,
    /// The change was made and its rollout finished.
    Done,
    /// The change was attempted and failed.
    Failed,
    /// An approver said no.
    Denied,
    /// The requester withdrew it.
    Cancelled,
    /// Nobody decided before `expires_at`.
    Expired,
    /// Another change to the same target made it obsolete.
    Superseded,
}

impl ApprovalState {
    /// Every state, in life-cycle order.
    pub const ALL: [ApprovalState; 9] = [
        ApprovalState::Pending,
        ApprovalState::Approved,
        ApprovalState::Executing,
        ApprovalState::Done,
        ApprovalState::Failed,
        ApprovalState::Denied,
        ApprovalState::Cancelled,
        ApprovalState::Expired,
        ApprovalState::Superseded,
    ];

    /// States in which a request still blocks another change to the same target.
    pub const IN_FLIGHT: [ApprovalState; 3] = [
        ApprovalState::Pending,
        ApprovalState::Approved,
        ApprovalState::Executing,
    ];

    /// The name stored in the database and shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalState::Pending => "pending",
            ApprovalState::Approved => "approved",
            ApprovalState::Executing => "executing",
            ApprovalState::Done => "done",
            ApprovalState::Failed => "failed",
            ApprovalState::Denied => "denied",
            ApprovalState::Cancelled => "cancelled",
            ApprovalState::Expired => "expired",
            ApprovalState::Superseded => "superseded",
        }
    }

    /// Parses a stored state name.
    pub fn parse(name: &str) -> Result<Self, StoreError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown approval state `{name}`")))
    }

    /// True once nothing more will happen to the request.
    pub fn is_final(self) -> bool {
        !Self::IN_FLIGHT.contains(&self)
    }
}

impl std::fmt::Display for ApprovalState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A new approval request; the store allocates its id (`A1`, `A2`, …).
#[derive(Clone, Debug, PartialEq)]
pub struct NewApproval {
    /// The person who asked (the two-person rule counts persons).
    pub requester_person: String,
    /// The chat identity they asked from, e.g. `slack:T1/U2`.
    pub requester_identity: String,
    /// The conversation (channel, thread) the request lives in; votes must come from it.
    pub conversation: Value,
    /// The canonical command text, e.g. `rollback --to-revision 3`.
    pub command: String,
    /// `rollback`, `deploy`, `scale`, `restart`, …
    pub kind: String,
    /// What the request is about, e.g. `mystocks/mystocks-api`; one change at a time per target.
    pub target_key: String,
    /// The target state the request is bound to (uid, generation, resourceVersion, revision/image/replicas, …).
    pub binding: Value,
    /// What will change, as shown to the approvers.
    pub preview: Value,
    /// How many distinct approving persons are needed.
    pub quorum: u32,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A stored approval request: the fields of [`NewApproval`] plus its id and where it is in its life.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ApprovalRecord {
    /// Short, human-typeable, unique: `A12`.
    pub id: String,
    pub requester_person: String,
    pub requester_identity: String,
    pub conversation: Value,
    pub command: String,
    pub kind: String,
    pub target_key: String,
    pub binding: Value,
    pub preview: Value,
    pub quorum: u32,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub state: ApprovalState,
    /// Why it is in its state (the deny reason, the failure, …).
    pub state_detail: Option<String>,
    /// When it first left `pending`.
    pub decided_at: Option<DateTime<Utc>>,
    /// When its state last changed.
    pub updated_at: DateTime<Utc>,
    /// The `MessageRef` (as JSON) of the posted request, so later steps can update it.
    pub request_message: Option<Value>,
}

/// A vote's decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VoteDecision {
    Approve,
    Deny,
}

impl VoteDecision {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            VoteDecision::Approve => "approve",
            VoteDecision::Deny => "deny",
        }
    }

    /// Parses a stored decision name.
    pub fn parse(name: &str) -> Result<Self, StoreError> {
        match name {
            "approve" => Ok(VoteDecision::Approve),
            "deny" => Ok(VoteDecision::Deny),
            other => Err(StoreError::Corrupt(format!(
                "unknown vote decision `{other}`"
            ))),
        }
    }
}

/// One person's vote on an approval request (at most one per person per request).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Vote {
    pub person_id: String,
    /// The chat identity the vote came from.
    pub identity: String,
    pub decision: VoteDecision,
    pub reason: Option<String>,
    /// The conversation the vote came from.
    pub conversation: Value,
    pub at: DateTime<Utc>,
}

/// What `add_vote` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoteResult {
    /// The vote was stored.
    Recorded,
    /// This person had already voted on this request; nothing changed (a second press is a no-op).
    AlreadyVoted,
}

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting to be claimed (new, or released by its owner).
    Queued,
    /// Claimed by an owner holding a lease (which may have expired: then another may take it over).
    Running,
    /// Finished successfully.
    Done,
    /// Finished with a failure.
    Failed,
}

impl JobStatus {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }

    /// Parses a stored status name.
    pub fn parse(name: &str) -> Result<Self, StoreError> {
        match name {
            "queued" => Ok(JobStatus::Queued),
            "running" => Ok(JobStatus::Running),
            "done" => Ok(JobStatus::Done),
            "failed" => Ok(JobStatus::Failed),
            other => Err(StoreError::Corrupt(format!("unknown job status `{other}`"))),
        }
    }
}

/// A stored job: long work (executing an approval, following a rollout) that any process can finish.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    /// What to do (the engine's typed payload as JSON).
    pub payload: Value,
    /// The last checkpoint the owner saved (e.g. the `MessageRef` being updated), if any.
    pub state: Option<Value>,
    /// Not claimable before this time.
    pub run_at: DateTime<Utc>,
    pub status: JobStatus,
    pub owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    /// How many times it has been claimed (a takeover after a crash counts again).
    pub attempts: u32,
    /// The outcome given to `finish_job`.
    pub outcome: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// How a job ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobOutcome {
    /// It did its work; the text says what happened.
    Done(String),
    /// It failed; the text says why.
    Failed(String),
}

impl JobOutcome {
    pub(crate) fn status(&self) -> JobStatus {
        match self {
            JobOutcome::Done(_) => JobStatus::Done,
            JobOutcome::Failed(_) => JobStatus::Failed,
        }
    }

    pub(crate) fn text(&self) -> &str {
        match self {
            JobOutcome::Done(text) | JobOutcome::Failed(text) => text,
        }
    }
}

/// Who froze the bot, why and when. While set, every destructive action is refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreezeState {
    /// The person (or identity) who froze it.
    pub by: String,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// A job to queue together with a transition.
#[derive(Clone, Debug, PartialEq)]
pub struct NewJob {
    pub kind: String,
    /// What to do (the engine's typed payload as JSON).
    pub payload: Value,
    /// Not claimable before this time.
    pub run_at: DateTime<Utc>,
}

/// One step in an approval request's life, written as one transaction: the state change (only from one of
/// `from`: exactly one caller wins), the job it starts, and its audit row. Either all of it is stored or none.
#[derive(Clone, Debug)]
pub struct Transition {
    /// The request (`A12`).
    pub id: String,
    /// The states it may move from.
    pub from: Vec<ApprovalState>,
    pub to: ApprovalState,
    /// Why it is now in `to` (kept as `state_detail`).
    pub detail: Option<String>,
    /// When; also `updated_at`, and `decided_at` if not yet set.
    pub at: DateTime<Utc>,
    /// The job this step starts (the execution of an approved request), if any.
    pub job: Option<NewJob>,
    /// The audit row of this step. The store sets its `approval_id` to `id`.
    pub audit: crate::audit::NewAuditEntry,
}

/// What a [`Transition`] that moved the request wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct Transitioned {
    /// The id of the job it queued, if it queued one.
    pub job_id: Option<i64>,
    /// Its audit row.
    pub audit: crate::audit::AuditRow,
}
