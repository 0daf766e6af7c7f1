//! Approval requests and votes in SQLite.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::Row;
use sqlx::sqlite::{SqlitePool, SqliteRow};

use super::{parse_json, parse_opt_ts, parse_ts, ts};
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

pub(super) async fn create(
    pool: &SqlitePool,
    new: NewApproval,
) -> Result<ApprovalRecord, StoreError> {
    let row = sqlx::query(concat!(
        "INSERT INTO approvals (requester_person, requester_identity, conversation, command, kind, target_key, \
         binding, preview, quorum, created_at, expires_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ",
        columns!()
    ))
    .bind(new.requester_person)
    .bind(new.requester_identity)
    .bind(new.conversation.to_string())
    .bind(new.command)
    .bind(new.kind)
    .bind(new.target_key)
    .bind(new.binding.to_string())
    .bind(new.preview.to_string())
    .bind(i64::from(new.quorum))
    .bind(ts(new.created_at))
    .bind(ts(new.expires_at))
    .bind(ts(new.created_at))
    .fetch_one(pool)
    .await?;
    decode(&row)
}

pub(super) async fn get(pool: &SqlitePool, id: &str) -> Result<Option<ApprovalRecord>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM approvals WHERE id = ?"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(decode).transpose()
}

pub(super) async fn in_state(
    pool: &SqlitePool,
    states: &[ApprovalState],
    limit: u32,
) -> Result<Vec<ApprovalRecord>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM approvals WHERE state IN (SELECT value FROM json_each(?)) ORDER BY number LIMIT ?"
    ))
    .bind(state_list(states))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(decode).collect()
}

pub(super) async fn for_target(
    pool: &SqlitePool,
    target_key: &str,
) -> Result<Vec<ApprovalRecord>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM approvals WHERE target_key = ? AND state IN (SELECT value FROM json_each(?)) ORDER BY number"
    ))
    .bind(target_key)
    .bind(state_list(&ApprovalState::IN_FLIGHT))
    .fetch_all(pool)
    .await?;
    rows.iter().map(decode).collect()
}

pub(super) async fn add_vote(
    pool: &SqlitePool,
    approval_id: &str,
    vote: Vote,
) -> Result<VoteResult, StoreError> {
    let done = sqlx::query(
        "INSERT INTO approval_votes (approval_id, person_id, identity, decision, reason, conversation, voted_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (approval_id, person_id) DO NOTHING",
    )
    .bind(approval_id)
    .bind(vote.person_id)
    .bind(vote.identity)
    .bind(vote.decision.as_str())
    .bind(vote.reason)
    .bind(vote.conversation.to_string())
    .bind(ts(vote.at))
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

pub(super) async fn votes(pool: &SqlitePool, approval_id: &str) -> Result<Vec<Vote>, StoreError> {
    let rows = sqlx::query(
        "SELECT person_id, identity, decision, reason, conversation, voted_at FROM approval_votes \
         WHERE approval_id = ? ORDER BY voted_at, rowid",
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
                conversation: parse_json(&row.try_get::<String, _>("conversation")?)?,
                at: parse_ts(&row.try_get::<String, _>("voted_at")?)?,
            })
        })
        .collect()
}

pub(super) async fn transition(
    pool: &SqlitePool,
    id: &str,
    from: &[ApprovalState],
    to: ApprovalState,
    detail: Option<&str>,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE approvals SET state = ?, state_detail = ?, updated_at = ?, decided_at = COALESCE(decided_at, ?) \
         WHERE id = ? AND state IN (SELECT value FROM json_each(?))",
    )
    .bind(to.as_str())
    .bind(detail)
    .bind(ts(at))
    .bind(ts(at))
    .bind(id)
    .bind(state_list(from))
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn set_request_message(
    pool: &SqlitePool,
    id: &str,
    message: Value,
) -> Result<(), StoreError> {
    let done = sqlx::query("UPDATE approvals SET request_message = ? WHERE id = ?")
        .bind(message.to_string())
        .bind(id)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("approval request {id}")));
    }
    Ok(())
}

/// The states as a JSON array, for `IN (SELECT value FROM json_each(?))`.
fn state_list(states: &[ApprovalState]) -> String {
    Value::from(states.iter().map(|s| s.as_str()).collect::<Vec<_>>()).to_string()
}

fn decode(row: &SqliteRow) -> Result<ApprovalRecord, StoreError> {
    let quorum: i64 = row.try_get("quorum")?;
    Ok(ApprovalRecord {
        id: row.try_get("id")?,
        requester_person: row.try_get("requester_person")?,
        requester_identity: row.try_get("requester_identity")?,
        conversation: parse_json(&row.try_get::<String, _>("conversation")?)?,
        command: row.try_get("command")?,
        kind: row.try_get("kind")?,
        target_key: row.try_get("target_key")?,
        binding: parse_json(&row.try_get::<String, _>("binding")?)?,
        preview: parse_json(&row.try_get::<String, _>("preview")?)?,
        quorum: u32::try_from(quorum)
            .map_err(|_| StoreError::Corrupt(format!("quorum {quorum} out of range")))?,
        created_at: parse_ts(&row.try_get::<String, _>("created_at")?)?,
        expires_at: parse_ts(&row.try_get::<String, _>("expires_at")?)?,
        state: ApprovalState::parse(&row.try_get::<String, _>("state")?)?,
        state_detail: row.try_get("state_detail")?,
        decided_at: parse_opt_ts(row.try_get("decided_at")?)?,
        updated_at: parse_ts(&row.try_get::<String, _>("updated_at")?)?,
        request_message: row
            .try_get::<Option<String>, _>("request_message")?
            .as_deref()
            .map(parse_json)
            .transpose()?,
    })
}
