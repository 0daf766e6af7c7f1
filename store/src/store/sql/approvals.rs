//! Approval requests and votes. The id comes from the database (`A` and the row number); a vote and a state
//! change are each one conditional statement, so concurrent presses and claims have exactly one winner. A request's
//! creation and each of its transitions commit together with their audit row (and the job a transition starts).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{AssertSqlSafe, Pool};

use super::Dialect;
use super::bounds::{Affected, BindArg, ReadCol};
use crate::audit::{AuditKey, NewAuditEntry};
use crate::store::{
    ApprovalRecord, ApprovalState, NewApproval, StoreError, Transition, Transitioned, Vote,
    VoteDecision, VoteResult,
};

/// The columns `decode` reads, as a literal so queries stay `&'static str`.
macro_rules! columns {
    () => {
        "id, requester_person, requester_identity, conversation, command, kind, target_key, binding, preview, \
         quorum, created_at, expires_at, state, state_detail, decided_at, updated_at, request_message"
    };
}

pub(super) async fn create<DB: Dialect>(
    pool: &Pool<DB>,
    key: &AuditKey,
    new: NewApproval,
    audit: NewAuditEntry,
) -> Result<ApprovalRecord, StoreError> {
    let quorum = DB::Integer::try_from(new.quorum)
        .map_err(|_| StoreError::Invalid(format!("quorum {} is out of range", new.quorum)))?;
    let target = new.target_key.clone();
    let mut tx = super::audit::begin_append(pool).await?;
    let inserted = sqlx::query(concat!(
        "INSERT INTO approvals (requester_person, requester_identity, conversation, command, kind, target_key, \
         binding, preview, quorum, created_at, expires_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $10) RETURNING ",
        columns!()
    ))
    .arg(new.requester_person)
    .arg(new.requester_identity)
    .arg(DB::json(&new.conversation)?)
    .arg(new.command)
    .arg(new.kind)
    .arg(new.target_key)
    .arg(DB::json(&new.binding)?)
    .arg(DB::json(&new.preview)?)
    .arg(quorum)
    .arg(DB::time(new.created_at))
    .arg(DB::time(new.expires_at))
    .fetch_one(DB::conn(&mut tx))
    .await;
    let row = match inserted {
        Ok(row) => row,
        // The partial unique index `approvals_one_open_per_target`: one open change per target.
        Err(e)
            if e.as_database_error()
                .is_some_and(|d| d.is_unique_violation()) =>
        {
            return Err(StoreError::Conflict(format!(
                "{target} already has an open change request"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let record = decode::<DB>(&row)?;
    let mut audit = audit;
    audit.approval_id = Some(record.id.clone());
    super::audit::append_in(&mut tx, key, audit).await?;
    tx.commit().await?;
    Ok(record)
}

pub(super) async fn get<DB: Dialect>(
    pool: &Pool<DB>,
    id: &str,
) -> Result<Option<ApprovalRecord>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM approvals WHERE id = $1"
    ))
    .arg(id)
    .fetch_optional(DB::pool(pool))
    .await?;
    row.as_ref().map(decode::<DB>).transpose()
}

pub(super) async fn in_state<DB: Dialect>(
    pool: &Pool<DB>,
    states: &[ApprovalState],
    limit: u32,
) -> Result<Vec<ApprovalRecord>, StoreError> {
    let sql = format!(
        "SELECT {} FROM approvals WHERE {} ORDER BY number LIMIT $2",
        columns!(),
        DB::state_in("$1")
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .arg(DB::states(states))
        .arg(i64::from(limit))
        .fetch_all(DB::pool(pool))
        .await?;
    rows.iter().map(decode::<DB>).collect()
}

pub(super) async fn for_target<DB: Dialect>(
    pool: &Pool<DB>,
    target_key: &str,
) -> Result<Vec<ApprovalRecord>, StoreError> {
    let sql = format!(
        "SELECT {} FROM approvals WHERE target_key = $1 AND {} ORDER BY number",
        columns!(),
        DB::state_in("$2")
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .arg(target_key)
        .arg(DB::states(&ApprovalState::IN_FLIGHT))
        .fetch_all(DB::pool(pool))
        .await?;
    rows.iter().map(decode::<DB>).collect()
}

pub(super) async fn add_vote<DB: Dialect>(
    pool: &Pool<DB>,
    approval_id: &str,
    vote: Vote,
) -> Result<VoteResult, StoreError> {
    let done = sqlx::query(
        "INSERT INTO approval_votes (approval_id, person_id, identity, decision, reason, conversation, voted_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (approval_id, person_id) DO NOTHING",
    )
    .arg(approval_id)
    .arg(vote.person_id)
    .arg(vote.identity)
    .arg(vote.decision.as_str())
    .arg(vote.reason)
    .arg(DB::json(&vote.conversation)?)
    .arg(DB::time(vote.at))
    .execute(DB::pool(pool))
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

pub(super) async fn votes<DB: Dialect>(
    pool: &Pool<DB>,
    approval_id: &str,
) -> Result<Vec<Vote>, StoreError> {
    let sql = format!(
        "SELECT person_id, identity, decision, reason, conversation, voted_at FROM approval_votes \
         WHERE approval_id = $1 ORDER BY voted_at, {}",
        DB::VOTE_TIEBREAK
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .arg(approval_id)
        .fetch_all(DB::pool(pool))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Vote {
                person_id: row.col("person_id")?,
                identity: row.col("identity")?,
                decision: VoteDecision::parse(&row.col::<String>("decision")?)?,
                reason: row.col("reason")?,
                conversation: DB::read_json(row.col("conversation")?)?,
                at: DB::read_time(row.col("voted_at")?)?,
            })
        })
        .collect()
}

pub(super) async fn transition<DB: Dialect>(
    pool: &Pool<DB>,
    key: &AuditKey,
    step: Transition,
) -> Result<Option<Transitioned>, StoreError> {
    let mut tx = super::audit::begin_append(pool).await?;
    let sql = format!(
        "UPDATE approvals SET state = $1, state_detail = $2, updated_at = $3, decided_at = COALESCE(decided_at, $3) \
         WHERE id = $4 AND {}",
        DB::state_in("$5")
    );
    let done = sqlx::query(AssertSqlSafe(sql))
        .arg(step.to.as_str())
        .arg(step.detail)
        .arg(DB::time(step.at))
        .arg(step.id.as_str())
        .arg(DB::states(&step.from))
        .execute(DB::conn(&mut tx))
        .await?;
    if done.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(None);
    }
    let job_id = match step.job {
        Some(job) => {
            Some(super::jobs::enqueue_in::<DB>(&mut tx, &job.kind, job.payload, job.run_at).await?)
        }
        None => None,
    };
    let mut audit = step.audit;
    audit.approval_id = Some(step.id);
    let audit = super::audit::append_in(&mut tx, key, audit).await?;
    tx.commit().await?;
    Ok(Some(Transitioned { job_id, audit }))
}

pub(super) async fn stranded<DB: Dialect>(
    pool: &Pool<DB>,
    job_kind: &str,
    quiet_since: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<ApprovalRecord>, StoreError> {
    let sql = format!(
        "SELECT {} FROM approvals WHERE {} AND updated_at <= $2 AND NOT EXISTS \
         (SELECT 1 FROM jobs WHERE jobs.kind = $3 AND jobs.status IN ('queued', 'running') AND {} = approvals.id) \
         ORDER BY number LIMIT $4",
        columns!(),
        DB::state_in("$1"),
        DB::JOB_APPROVAL_ID
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .arg(DB::states(&[
            ApprovalState::Approved,
            ApprovalState::Executing,
        ]))
        .arg(DB::time(quiet_since))
        .arg(job_kind)
        .arg(i64::from(limit))
        .fetch_all(DB::pool(pool))
        .await?;
    rows.iter().map(decode::<DB>).collect()
}

pub(super) async fn set_request_message<DB: Dialect>(
    pool: &Pool<DB>,
    id: &str,
    message: Value,
) -> Result<(), StoreError> {
    let done = sqlx::query("UPDATE approvals SET request_message = $1 WHERE id = $2")
        .arg(DB::json(&message)?)
        .arg(id)
        .execute(DB::pool(pool))
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("approval request {id}")));
    }
    Ok(())
}

fn decode<DB: Dialect>(row: &DB::Row) -> Result<ApprovalRecord, StoreError> {
    let quorum: i64 = row.col::<DB::Integer>("quorum")?.into();
    Ok(ApprovalRecord {
        id: row.col("id")?,
        requester_person: row.col("requester_person")?,
        requester_identity: row.col("requester_identity")?,
        conversation: DB::read_json(row.col("conversation")?)?,
        command: row.col("command")?,
        kind: row.col("kind")?,
        target_key: row.col("target_key")?,
        binding: DB::read_json(row.col("binding")?)?,
        preview: DB::read_json(row.col("preview")?)?,
        quorum: u32::try_from(quorum)
            .map_err(|_| StoreError::Corrupt(format!("quorum {quorum} out of range")))?,
        created_at: DB::read_time(row.col("created_at")?)?,
        expires_at: DB::read_time(row.col("expires_at")?)?,
        state: ApprovalState::parse(&row.col::<String>("state")?)?,
        state_detail: row.col("state_detail")?,
        decided_at: row
            .col::<Option<DB::Time>>("decided_at")?
            .map(DB::read_time)
            .transpose()?,
        updated_at: DB::read_time(row.col("updated_at")?)?,
        request_message: row
            .col::<Option<DB::Json>>("request_message")?
            .map(DB::read_json)
            .transpose()?,
    })
}
