//! `audit verify` — the chain, its head, and the external checkpoint — and `audit reanchor`, which accepts the log
//! as it is now (after a restore from backup) and needs two admins: the first asks, a second one confirms by
//! saying the same command within the approval expiry. Both invocations are audited like every other.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::audit::{AuditCheckpoint, VerifyReport};
use crate::audit_anchor::{self, AuditAnchor};
use crate::reply::{Block, Level, Reply, ReplyKind};

use super::dispatch::{Outcome, Request};
use super::trail::Decision;

/// The store value holding the first admin's request to re-anchor.
const REANCHOR_REQUEST: &str = "audit:reanchor:request";

/// Checks the chain and compares it with the checkpoint (when one is configured and readable).
pub(super) async fn verify(request: &Request<'_>) -> Outcome {
    let ctx = request.ctx;
    let (checkpoint, note) = match &ctx.audit_anchor {
        None => (
            None,
            Some(
                "No external checkpoint is configured (`[audit.checkpoint]`): the newest entries could be cut off \
                 together with the chain head without this check noticing."
                    .to_string(),
            ),
        ),
        Some(anchor) => match audit_anchor::read_checkpoint(&ctx.kube, &anchor.location).await {
            Ok(stored) => {
                let note = stored.checkpoint.is_none().then(|| {
                    format!(
                        "The {} holds no checkpoint yet: the bot writes one within {} s of the next entry.",
                        anchor.location,
                        anchor.interval.as_secs()
                    )
                });
                (stored.checkpoint, note)
            }
            Err(err) => (None, Some(format!("The checkpoint could not be read: {err}."))),
        },
    };
    let report = match ctx
        .store
        .verify_audit(&ctx.audit_key, checkpoint.as_ref())
        .await
    {
        Ok(report) => report,
        Err(err) => return request.internal_error(&err).await,
    };
    let mut reply = verify_reply(&report);
    if let Some(note) = note {
        reply = reply.with_block(Block::Text { text: note });
    }
    request.say(reply).await;
    if report.is_ok() {
        Outcome::allowed(format!(
            "audit verified through #{}",
            report.last_seq.unwrap_or(0)
        ))
    } else {
        Outcome::allowed(format!("{} audit problems", report.problems.len()))
    }
}

fn verify_reply(report: &VerifyReport) -> Reply {
    let anchored = match &report.checkpoint {
        Some(cp) => format!(
            " The checkpoint of entry {} (taken {}) matches; {} newer entries are not checkpointed yet.",
            cp.seq,
            cp.at.format("%Y-%m-%d %H:%M:%S UTC"),
            report.unanchored_rows()
        ),
        None => String::new(),
    };
    if report.is_ok() {
        return Reply::text(
            ReplyKind::Result,
            Level::Ok,
            format!(
                "Audit log intact: {} entries checked, chain and head verified.{anchored}",
                report.rows_checked
            ),
        );
    }
    let mut lines: Vec<String> = report
        .problems
        .iter()
        .map(|p| format!("entry {}: {} — {}", p.seq, p.kind, p.detail))
        .collect();
    lines.push(match report.confirmed_seq {
        Some(seq) => format!("Last entry confirmed: {seq}."),
        None => "Last entry confirmed: none.".to_string(),
    });
    Reply::new(ReplyKind::Result, Level::Fail)
        .with_header(format!(
            "Audit log TAMPERED: {} problem(s) in {} entries",
            report.problems.len(),
            report.rows_checked
        ))
        .with_block(Block::Code {
            text: lines.join("\n"),
        })
}

/// The first admin's request, kept in the store until a second admin confirms or it expires. Signed with the
/// audit key: someone who can write the database must not be able to plant a first request, which would turn an
/// admin's innocent first `audit reanchor` into the confirmation.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct ReanchorRequest {
    person: String,
    display: String,
    at: DateTime<Utc>,
    #[serde(default)]
    signature: String,
}

/// The purpose [`ReanchorRequest`] signatures are made for.
const REQUEST_PURPOSE: &str = "audit-reanchor-request";

impl ReanchorRequest {
    fn signed_text(&self) -> String {
        format!(
            "{}\n{}\n{}",
            self.person,
            self.display,
            self.at.to_rfc3339()
        )
    }

    fn sign(mut self, key: &crate::audit::AuditKey) -> Self {
        self.signature = key.sign_note(REQUEST_PURPOSE, &self.signed_text());
        self
    }

    fn is_signed_by(&self, key: &crate::audit::AuditKey) -> bool {
        key.note_is_signed(REQUEST_PURPOSE, &self.signed_text(), &self.signature)
    }
}

/// `audit reanchor`: the first admin's invocation asks, a second admin's confirms and re-anchors.
pub(super) async fn reanchor(request: &Request<'_>) -> Outcome {
    let ctx = request.ctx;
    let Some(anchor) = ctx.audit_anchor.clone() else {
        return request
            .refuse(
                "There is no external audit checkpoint to re-anchor: configure `[audit.checkpoint]` in the bot's \
                 settings (see docs/operator-guide.md).",
            )
            .await;
    };
    let now = ctx.clock.now();
    let pending = match ctx.store.get_value(REANCHOR_REQUEST).await {
        Ok(value) => value
            .and_then(|v| serde_json::from_str::<ReanchorRequest>(&v).ok())
            .filter(|r| {
                let signed = r.is_signed_by(&ctx.audit_key);
                if !signed {
                    tracing::error!(
                        "a stored audit reanchor request is not signed with the audit key: ignored (was the \
                         database written to?)"
                    );
                }
                signed
            })
            .filter(|r| {
                chrono::Duration::from_std(ctx.policy.expiry)
                    .is_ok_and(|expiry| now - r.at < expiry)
            }),
        Err(err) => return request.internal_error(&err).await,
    };
    let me = request.principal;
    match pending {
        Some(first) if first.person == me.person_id => {
            request
                .refuse(format!(
                    "You already asked to re-anchor the audit checkpoint (at {}). It takes two persons: another \
                     admin confirms by saying `audit reanchor`.",
                    first.at.format("%H:%M:%S UTC")
                ))
                .await
        }
        Some(first) => confirm(request, &anchor, first).await,
        None => ask(request, now).await,
    }
}

async fn ask(request: &Request<'_>, now: DateTime<Utc>) -> Outcome {
    let ctx = request.ctx;
    let me = request.principal;
    let head = match ctx.store.audit_tail(1).await {
        Ok(mut rows) => rows.pop().map_or(0, |r| r.seq),
        Err(err) => return request.internal_error(&err).await,
    };
    let asked = ReanchorRequest {
        person: me.person_id.clone(),
        display: me.display.clone(),
        at: now,
        signature: String::new(),
    }
    .sign(&ctx.audit_key);
    let value = serde_json::to_string(&asked).unwrap_or_default();
    if let Err(err) = ctx.store.put_value(REANCHOR_REQUEST, &value).await {
        return request.internal_error(&err).await;
    }
    let minutes = ctx.policy.expiry.as_secs() / 60;
    let text = format!(
        "{} asks to re-anchor the audit checkpoint at the log's current end (entry {head}). This accepts the log \
         as it is now — entries missing since the last checkpoint included — so a second admin must confirm: \
         another admin says `audit reanchor` within {minutes} min. Run `audit verify` first to see what changes.",
        me.display
    );
    request
        .say(Reply::text(ReplyKind::Notice, Level::Warn, text))
        .await;
    Outcome {
        decision: Decision::Requested,
        summary: format!("audit reanchor asked at entry {head}; waiting for a second admin"),
        approval_id: None,
    }
}

async fn confirm(request: &Request<'_>, anchor: &AuditAnchor, first: ReanchorRequest) -> Outcome {
    let ctx = request.ctx;
    // Cleared first, so one request is confirmed once.
    if let Err(err) = ctx.store.put_value(REANCHOR_REQUEST, "").await {
        return request.internal_error(&err).await;
    }
    match audit_anchor::reanchor(ctx, anchor).await {
        Ok(cp) => {
            let (text, summary) =
                reanchored_text(cp.as_ref(), &first.display, &request.principal.display);
            request
                .say(Reply::text(ReplyKind::Notice, Level::Ok, text))
                .await;
            Outcome::allowed(summary)
        }
        Err(err) => {
            let text = format!(
                "The audit checkpoint was not re-anchored: {err}. Ask again once that is fixed."
            );
            tracing::error!(error = %err, "audit reanchor failed");
            request
                .say(Reply::text(ReplyKind::Error, Level::Fail, text.clone()))
                .await;
            Outcome::error(text)
        }
    }
}

fn reanchored_text(cp: Option<&AuditCheckpoint>, first: &str, second: &str) -> (String, String) {
    match cp {
        Some(cp) => (
            format!(
                "Audit checkpoint re-anchored at entry {} (asked by {first}, confirmed by {second}). `audit verify` \
                 now checks the log against it.",
                cp.seq
            ),
            format!(
                "audit checkpoint re-anchored at #{} mac {} (asked by {first}, confirmed by {second})",
                cp.seq, cp.mac
            ),
        ),
        None => (
            format!(
                "The audit log is empty: the checkpoint was cleared (asked by {first}, confirmed by {second}); the \
                 next entry starts a new one."
            ),
            format!(
                "audit checkpoint cleared on an empty log (asked by {first}, confirmed by {second})"
            ),
        ),
    }
}
