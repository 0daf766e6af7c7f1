//! `db tables` and `checklist`, run against the context's `[checks]` settings (`health`, `latency` and `metrics`
//! are answered by [`super::reads`], which runbook steps share); `db vacuum` goes through approval (see
//! [`maintenance`]).

pub(super) mod maintenance;

use std::time::Instant;

use crate::checks::{self, CheckLevel, ChecksConfig};
use crate::cluster;
use crate::present::checks as present;
use crate::present::{pods_reply, top_reply};
use crate::reply::{Block, Level, Reply, ReplyKind};

use super::dispatch::{Outcome, Request};

/// Posts a result and records what it said.
async fn post(request: &Request<'_>, reply: Reply, summary: impl Into<String>) -> Outcome {
    request.say(reply).await;
    Outcome::allowed(summary)
}

/// A user-facing failure to run at all (not configured, unreachable), said privately.
async fn cannot(request: &Request<'_>, text: String) -> Outcome {
    request
        .tell(Reply::text(ReplyKind::Error, Level::Fail, text.clone()))
        .await;
    Outcome::error(text)
}

pub(super) async fn db_tables(request: &Request<'_>) -> Outcome {
    let cfg: &ChecksConfig = &request.ctx.checks;
    match checks::table_sizes(cfg.database_url.as_deref(), cfg.timeout).await {
        Ok(tables) => {
            post(
                request,
                present::tables_reply(&tables),
                format!("{} tables listed", tables.len()),
            )
            .await
        }
        Err(err) => cannot(request, err.to_string()).await,
    }
}

/// The morning checklist: pods, resource usage and health at once, the verdict on top.
pub(super) async fn checklist(request: &Request<'_>) -> Outcome {
    let ctx = request.ctx;
    let (pods, usage, report) = tokio::join!(
        cluster::pods(&ctx.kube, &ctx.target, None),
        cluster::top(&ctx.kube, &ctx.target),
        checks::run_health(&ctx.checks, &ctx.kube, &ctx.target, None),
    );
    let mut lines = report.lines.clone();
    if !ctx.checks.runs("cpu") {
        let started = Instant::now();
        if let Ok(u) = &usage {
            lines.push(checks::cpu_check(
                u,
                &ctx.checks.thresholds,
                started.elapsed(),
            ));
        }
    }
    let verdict = checks::result::worst(&lines);
    let mut reply = Reply::new(ReplyKind::Result, verdict.level())
        .with_header("Morning checklist")
        .with_block(Block::Text {
            text: format!("Verdict: {}", present::verdict_line(&lines)),
        });
    let now = ctx.clock.now();
    reply = match &pods {
        Ok(rows) => append_blocks(reply, pods_reply(rows, now)),
        Err(err) => reply.with_block(Block::Text {
            text: format!("Pods: {err}"),
        }),
    };
    reply = match &usage {
        Ok(u) => append_blocks(reply, top_reply(u)),
        Err(err) => reply.with_block(Block::Text {
            text: format!("Resource usage: {err}"),
        }),
    };
    reply = reply.with_block(present::status_block(&lines));
    let summary = format!(
        "checklist {}",
        if verdict == CheckLevel::Ok {
            "ok"
        } else {
            verdict.as_str()
        }
    );
    post(request, reply, summary).await
}

fn append_blocks(mut reply: Reply, part: Reply) -> Reply {
    reply.blocks.extend(part.blocks);
    reply
}
