//! Approval requests and votes in PostgreSQL.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::{PgPool, PgRow};

use super::state_names;
use crate::store::{
    ApprovalRecord, ApprovalState, NewApproval, StoreError, Vote, VoteDecision, VoteResult,
};

/// The columns `decode` reads, as a literal so queries stay `&'static str`.
macro_rules! columns {
    () => {
        "id, requester_person, requester_identity, conversation, command, kind, target_key, binding, preview, \
         quorum, created_at, expires_at, state, state_detail, decided_at, updated_at, request_message"
    };
}

pub(super) async fn create(pool: &PgPool, new: NewApproval) -> Result<ApprovalRecord, StoreError> {
    let quorum = i32::try_from(new.quorum)
        .map_err(|_| StoreError::Invalid(format!("quorum {} is out of range", new.quorum)))?;
    let row = sqlx::query(concat!(
        "INSERT INTO approvals (requester_person, requester_identity, conversation, command, kind, target_key, \
         binding, preview, quorum, created_at, expires_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $10) RETURNING ",
        columns!()
    ))
    .bind(new.requester_person)
    .bind(new.requester_identity)
    .bind(new.conversation)
    .bind(new.command)
    .bind(new.kind)
    .bind(new.target_key)
    .bind(new.binding)
    .bind(new.preview)
    .bind(quorum)
    .bind(new.created_at)
    .bind(new.expires_at)
    .fetch_one(pool)
    .await?;
    decode(&row)
}

pub(super) async fn get(pool: &PgPool, id: &str) -> Result<Option<ApprovalRecord>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM approvals WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(decode).transpose()
}

pub(super) async fn in_state(
    pool: &PgPool,
    states: &[ApprovalState],
    limit: u32,
) -> Result<Vec<ApprovalRecord>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM approvals WHERE state = ANY($1) ORDER BY number LIMIT $2"
    ))
    .bind(state_names(states))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(decode).collect()
}

pub(super) async fn for_target(
    pool: &PgPool,
    target_key: &str,
) -> Result<Vec<ApprovalRecord>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM approvals WHERE target_key = $1 AND state = ANY($2) ORDER BY number"
    ))
    .bind(target_key)
    .bind(state_names(&ApprovalState::IN_FLIGHT))
    .fetch_all(pool)
    .await?;
    rows.iter().map(decode).collect()
}

pub(super) async fn add_vote(
    pool: &PgPool,
    approval_id: &str,
    vote: Vote,
) -> Result<VoteResult, StoreError> {
    let done = sqlx::query(
        "INSERT INTO approval_votes (approval_id, person_id, identity, decision, reason, conversation, voted_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (approval_id, person_id) DO NOTHING",
    )
    .bind(approval_id)
    .bind(vote.person_id)
    .bind(vote.identity)
    .bind(vote.decision.as_str())
    .bind(vote.reason)
    .bind(vote.conversation)
    .bind(vote.at)
    .execute(pool)
    .await;
    match done {
        Ok(done) if done.rows_affected() == 1 => Ok(VoteResult::Recorded),
        Ok(_) => Ok(VoteResult::AlreadyVoted),
        Err(e)
            if e.as_database_error()
                .is_some_and(|d| d.is_foreign_key_violation()) =>
        {
            Err(StoreError::NotFound(format!(
                "approval request {approval_id}"
            )))
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn votes(pool: &PgPool, approval_id: &str) -> Result<Vec<Vote>, StoreError> {
    let rows = sqlx::query(
        "SELECT person_id, identity, decision, reason, conversation, voted_at FROM approval_votes \
         WHERE approval_id = $1 ORDER BY voted_at, person_id",
    )
    .bind(approval_id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Vote {
                person_id: row.try_get("person_id")?,
                identity: row.try_get("identity")?,
                decision: VoteDecision::parse(&row.try_get::<String, _>("decision")?)?,
                reason: row.try_get("reason")?,
                conversation: row.try_get("conversation")?,
                at: row.try_get("voted_at")?,
            })
        })
        .collect()
}

pub(super) async fn transition(
    pool: &PgPool,
    id: &str,
    from: &[ApprovalState],
    to: ApprovalState,
    detail: Option<&str>,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE approvals SET state = $1, state_detail = $2, updated_at = $3, decided_at = COALESCE(decided_at, $3) \
         WHERE id = $4 AND state = ANY($5)",
    )
    .bind(to.as_str())
    .bind(detail)
    .bind(at)
    .bind(id)
    .bind(state_names(from))
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn set_request_message(
    pool: &PgPool,
    id: &str,
    message: Value,
) -> Result<(), StoreError> {
    let done = sqlx::query("UPDATE approvals SET request_message = $1 WHERE id = $2")
        .bind(message)
        .bind(id)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("approval request {id}")));
    }
    Ok(())
}

fn decode(row: &PgRow) -> Result<ApprovalRecord, StoreError> {
    let quorum: i32 = row.try_get("quorum")?;
    Ok(ApprovalRecord {
        id: row.try_get("id")?,
        requester_person: row.try_get("requester_person")?,
        requester_identity: row.try_get("requester_identity")?,
        conversation: row.try_get("conversation")?,
        command: row.try_get("command")?,
        kind: row.try_get("kind")?,
        target_key: row.try_get("target_key")?,
        binding: row.try_get("binding")?,
        preview: row.try_get("preview")?,
        quorum: u32::try_from(quorum)
            .map_err(|_| StoreError::Corrupt(format!("quorum {quorum} out of range")))?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        state: ApprovalState::parse(&row.try_get::<String, _>("state")?)?,
        state_detail: row.try_get("state_detail")?,
        decided_at: row.try_get("decided_at")?,
        updated_at: row.try_get("updated_at")?,
        request_message: row.try_get("request_message")?,
    })
}
