//! Publishing the checkpoint: the background publisher's one step, and `audit reanchor`'s forced publish.

use super::config_map::{AnchorError, StoredCheckpoint, read_checkpoint, write_checkpoint};
use super::{AnchorHealth, AuditAnchor};
use crate::audit::AuditCheckpoint;
use crate::engine::Context;

/// What one step of the publisher did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Published {
    /// A new checkpoint was written.
    Written(AuditCheckpoint),
    /// The checkpoint already names the newest row.
    UpToDate(AuditCheckpoint),
    /// The log has no rows and there is no checkpoint: nothing to anchor.
    Empty,
    /// Someone wrote the object between our read and our write: it was kept; the next step reads again.
    Conflict,
    /// The chain no longer holds the checkpointed row: the object was kept (the sentence says what was found).
    Refused(String),
}

/// One step of the publisher: reads the checkpoint, checks that the chain still holds its row with the same MAC,
/// and if the chain has grown writes a checkpoint of the newest row with the resourceVersion it read. Records
/// the outcome in `anchor`'s health; a refusal is logged as an error when it starts.
pub async fn publish_once(ctx: &Context, anchor: &AuditAnchor) -> Result<Published, AnchorError> {
    let result = step(ctx, anchor).await;
    let health = match &result {
        Ok(Published::Written(cp) | Published::UpToDate(cp)) => {
            AnchorHealth::Anchored { seq: cp.seq }
        }
        Ok(Published::Empty) => AnchorHealth::Starting,
        Ok(Published::Conflict) => anchor.health(),
        Ok(Published::Refused(why)) => AnchorHealth::Refused(why.clone()),
        Err(err) => AnchorHealth::Unavailable(err.to_string()),
    };
    if anchor.set_health(health.clone()) {
        match &health {
            AnchorHealth::Refused(why) => tracing::error!(
                checkpoint = %anchor.location,
                problem = %why,
                "audit checkpoint NOT published: the log no longer holds the checkpointed row"
            ),
            AnchorHealth::Unavailable(why) => {
                tracing::error!(checkpoint = %anchor.location, problem = %why, "audit checkpoint unavailable")
            }
            AnchorHealth::Starting | AnchorHealth::Anchored { .. } => {}
        }
    }
    result
}

async fn step(ctx: &Context, anchor: &AuditAnchor) -> Result<Published, AnchorError> {
    let stored = read_checkpoint(&ctx.kube, &anchor.location).await?;
    if let Some(cp) = &stored.checkpoint
        && let Some(why) = chain_lost(ctx, cp).await?
    {
        return Ok(Published::Refused(why));
    }
    let Some(last) = ctx.store.audit_tail(1).await?.pop() else {
        return Ok(Published::Empty);
    };
    if let Some(cp) = stored.checkpoint.as_ref().filter(|c| c.seq == last.seq) {
        return Ok(Published::UpToDate(cp.clone()));
    }
    let cp = AuditCheckpoint::sign(&ctx.audit_key, last.seq, &last.mac, ctx.clock.now());
    match write(ctx, anchor, &cp, stored).await {
        Ok(()) => Ok(Published::Written(cp)),
        Err(AnchorError::Conflict(_)) => {
            tracing::warn!(checkpoint = %anchor.location, "audit checkpoint changed meanwhile (409); kept it, reading again next time");
            Ok(Published::Conflict)
        }
        Err(err) => Err(err),
    }
}

/// Why the chain no longer holds `cp`, if it does not: its signature, a missing row, or a different row.
async fn chain_lost(ctx: &Context, cp: &AuditCheckpoint) -> Result<Option<String>, AnchorError> {
    let taken = cp.at.format("%Y-%m-%d %H:%M:%S UTC");
    if !cp.is_signed_by(&ctx.audit_key) {
        return Ok(Some(format!(
            "the checkpoint (row #{}, taken {taken}) is not signed with the audit key",
            cp.seq
        )));
    }
    let next = "run `audit verify`; after a legitimate restore from backup, two admins run `audit reanchor`";
    Ok(match ctx.store.audit_row(cp.seq).await? {
        None => Some(format!(
            "the log no longer has row #{} that the checkpoint taken {taken} records: rows were deleted; {next}",
            cp.seq
        )),
        Some(row) if row.mac != cp.mac => Some(format!(
            "row #{} is not the row the checkpoint taken {taken} records: the log was rolled back; {next}",
            cp.seq
        )),
        Some(_) => None,
    })
}

async fn write(
    ctx: &Context,
    anchor: &AuditAnchor,
    cp: &AuditCheckpoint,
    stored: StoredCheckpoint,
) -> Result<(), AnchorError> {
    write_checkpoint(
        &ctx.kube,
        &anchor.location,
        Some(cp),
        stored.resource_version,
    )
    .await?;
    // The line an operator's log pipeline keeps: a second, independent copy of every checkpoint.
    tracing::info!(
        seq = cp.seq,
        mac = %cp.mac,
        at = %cp.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        checkpoint = %anchor.location,
        "audit checkpoint published"
    );
    Ok(())
}

/// `audit reanchor`: checkpoints the chain's current head whatever the stored checkpoint says (clearing it when
/// the log is empty), with the resourceVersion precondition; a concurrent update is read again, a few times.
pub async fn reanchor(
    ctx: &Context,
    anchor: &AuditAnchor,
) -> Result<Option<AuditCheckpoint>, AnchorError> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let stored = read_checkpoint(&ctx.kube, &anchor.location).await?;
        let last = ctx.store.audit_tail(1).await?.pop();
        let cp = last
            .map(|row| AuditCheckpoint::sign(&ctx.audit_key, row.seq, &row.mac, ctx.clock.now()));
        let written = match &cp {
            Some(cp) => write(ctx, anchor, cp, stored).await,
            None => write_checkpoint(&ctx.kube, &anchor.location, None, stored.resource_version)
                .await
                .map(drop),
        };
        match written {
            Ok(()) => {
                let health = match &cp {
                    Some(cp) => AnchorHealth::Anchored { seq: cp.seq },
                    None => AnchorHealth::Starting,
                };
                anchor.set_health(health);
                return Ok(cp);
            }
            Err(AnchorError::Conflict(_)) if attempts < 3 => continue,
            Err(err) => return Err(err),
        }
    }
}
