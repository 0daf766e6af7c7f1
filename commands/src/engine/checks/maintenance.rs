//! `db vacuum [TABLE]` through the normal approval flow: the request is bound to a maintenance plan (the tables,
//! validated against those that exist, and the SQL), stored as the approval's binding; the execution job runs it
//! exactly once, outside any transaction, and reports each table — a table PostgreSQL skipped is a warning and
//! makes the request end `failed`, never `done`.

use serde_json::{Value, json};

use crate::approval::{Approved, NotApproved};
use crate::checks::db::{self, MaintenancePlan, VacuumReport};
use crate::command::DbVacuum;
use crate::invocation::Conversation;
use crate::present::checks::{vacuum_preview_fields, vacuum_reply};
use crate::reply::{Level, Reply, ReplyKind};
use crate::store::{ApprovalRecord, ApprovalState, JobOutcome};

use super::super::Context;
use super::super::jobs::Sinks;
use super::super::request_change::{frozen, refresh_request_message};
use super::super::request_moves::{By, step};

/// Computes the plan and its preview; the error is a sentence for the requester.
pub(in crate::engine) async fn prepare(
    ctx: &Context,
    cmd: &DbVacuum,
) -> Result<(MaintenancePlan, Value), String> {
    let cfg = &ctx.checks;
    let url = cfg.database_url.as_deref();
    let tables = db::vacuum_targets(url, cmd.table.as_deref(), cfg.timeout)
        .await
        .map_err(|e| e.to_string())?;
    if tables.is_empty() {
        return Err("the app's database has no user tables to vacuum".into());
    }
    let database = url.map(crate::store::redact_url).unwrap_or_default();
    let plan = MaintenancePlan {
        operation: "vacuum".into(),
        database: database.clone(),
        tables: tables
            .iter()
            .map(|t| (t.schema.clone(), t.table.clone()))
            .collect(),
        sql: tables.iter().map(db::vacuum_sql).collect(),
    };
    let preview = vacuum_preview_fields(&database, &plan.sql);
    Ok((plan, json!(preview)))
}

/// Runs an approved maintenance request (the execution job's arm for [`MaintenancePlan`]).
pub(in crate::engine) async fn execute(
    ctx: &Context,
    sinks: &Sinks,
    record: &ApprovalRecord,
    approved: &Approved<MaintenancePlan>,
) -> JobOutcome {
    match record.state {
        ApprovalState::Approved => {
            let claimed = step(
                ctx,
                &record.id,
                &[ApprovalState::Approved],
                ApprovalState::Executing,
                "executing",
                By::Bot,
                None,
            )
            .await;
            match claimed {
                Ok(Some(_)) => {}
                Ok(None) => {
                    return JobOutcome::Done(format!(
                        "{} was claimed by another process",
                        record.id
                    ));
                }
                Err(err) => return JobOutcome::Failed(format!("store: {err}")),
            }
        }
        // A process died mid-run: VACUUM ANALYZE is safe to repeat, so it runs again.
        ApprovalState::Executing => {}
        other => return JobOutcome::Done(format!("{} is {other}; nothing to execute", record.id)),
    }
    if let Some(refusal) = frozen(ctx).await {
        return fail(ctx, sinks, record, refusal).await;
    }
    let cfg = &ctx.checks;
    let report = match db::vacuum(cfg.database_url.as_deref(), approved, cfg.timeout).await {
        Ok(r) => r,
        Err(err) => return fail(ctx, sinks, record, err.to_string()).await,
    };
    say(
        sinks,
        record,
        vacuum_reply(&report).with_approval(&record.id, end_state(&report).as_str()),
    )
    .await;
    let detail = summary(&report);
    close(ctx, sinks, record, end_state(&report), &detail).await;
    match end_state(&report) {
        ApprovalState::Done => JobOutcome::Done(detail),
        _ => JobOutcome::Failed(detail),
    }
}

/// Ends a maintenance request whose approval no longer holds (an approver lost the role since voting).
pub(in crate::engine) async fn refuse(
    ctx: &Context,
    sinks: &Sinks,
    record: &ApprovalRecord,
    why: NotApproved,
) -> JobOutcome {
    match record.state {
        ApprovalState::Approved | ApprovalState::Executing => {
            fail(ctx, sinks, record, format!("no longer approved: {why}")).await
        }
        other => JobOutcome::Done(format!("{} is {other}; nothing to execute", record.id)),
    }
}

fn end_state(report: &VacuumReport) -> ApprovalState {
    if report.all_vacuumed() {
        ApprovalState::Done
    } else {
        ApprovalState::Failed
    }
}

fn summary(report: &VacuumReport) -> String {
    let not_done: Vec<String> = report
        .tables
        .iter()
        .filter(|(_, o, _)| *o != db::VacuumOutcome::Vacuumed)
        .map(|(name, o, _)| match o {
            db::VacuumOutcome::Skipped(_) => format!("{name} skipped"),
            db::VacuumOutcome::Failed(why) => format!("{name} failed ({why})"),
            db::VacuumOutcome::Vacuumed => name.clone(),
        })
        .collect();
    let done = report.tables.len() - not_done.len();
    if not_done.is_empty() {
        format!("vacuumed {done} tables in {} ms", report.total_millis)
    } else {
        format!(
            "vacuumed {done} of {} tables in {} ms; {}",
            report.tables.len(),
            report.total_millis,
            not_done.join(", ")
        )
    }
}

async fn say(sinks: &Sinks, record: &ApprovalRecord, reply: Reply) {
    let Ok(conversation) = serde_json::from_value::<Conversation>(record.conversation.clone())
    else {
        return;
    };
    let Some(sink) = sinks.for_channel(&conversation.channel) else {
        return;
    };
    if let Err(err) = sink.post(&conversation, &reply).await {
        tracing::warn!(error = %err, "could not post a maintenance result");
    }
}

async fn fail(ctx: &Context, sinks: &Sinks, record: &ApprovalRecord, why: String) -> JobOutcome {
    let text = format!("{} not executed: {why}", record.id);
    say(
        sinks,
        record,
        Reply::text(ReplyKind::Error, Level::Fail, text).with_approval(&record.id, "failed"),
    )
    .await;
    close(ctx, sinks, record, ApprovalState::Failed, &why).await;
    JobOutcome::Failed(why)
}

async fn close(
    ctx: &Context,
    sinks: &Sinks,
    record: &ApprovalRecord,
    to: ApprovalState,
    detail: &str,
) {
    let from = [ApprovalState::Approved, ApprovalState::Executing];
    if let Err(err) = step(ctx, &record.id, &from, to, detail, By::Bot, None).await {
        tracing::warn!(error = %err, approval = %record.id, "could not close an approval; the reconciler finds it");
    }
    if let Ok(Some(updated)) = ctx.store.approval(&record.id).await {
        refresh_request_message(ctx, sinks, &updated).await;
    }
}
