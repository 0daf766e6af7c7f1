//! Commands about the bot itself: help, whoami, the open approvals, the audit log, freeze and unfreeze (checking
//! and re-anchoring the audit log: `audit_checks.rs`).

use crate::command::{Audit, Freeze, Help};
use crate::reply::{Block, Level, Reply, ReplyKind, Table};
use crate::store::{ApprovalState, FreezeState};

use super::dispatch::{Outcome, Request};

pub(super) async fn help(request: &Request<'_>, cmd: &Help) -> Outcome {
    match crate::help::help_reply_with(cmd.topic.as_deref(), &request.ctx.policy) {
        Ok(reply) => {
            request.say(reply).await;
            Outcome::allowed("help shown")
        }
        Err(err) => request.refuse(err.to_string()).await,
    }
}

pub(super) async fn whoami(request: &Request<'_>) -> Outcome {
    let p = request.principal;
    let roles: Vec<String> = p
        .roles
        .iter()
        .map(|r| request.ctx.policy.role_name(*r))
        .collect();
    let roles = if roles.is_empty() {
        "none".to_string()
    } else {
        roles.join(", ")
    };
    let mut fields = vec![
        (
            "Person".to_string(),
            format!("{} ({})", p.display, p.person_id),
        ),
        (
            "Identity".to_string(),
            request.invocation.actor.identity.to_string(),
        ),
        ("Roles".to_string(), roles),
    ];
    if !p.known {
        fields.push((
            "Access".to_string(),
            request.ctx.directory.contact().to_string(),
        ));
    }
    let reply = Reply::new(ReplyKind::Result, Level::Info)
        .with_header("Who you are")
        .with_block(Block::Fields { fields });
    request.tell(reply).await;
    Outcome::allowed("whoami")
}

pub(super) async fn approvals(request: &Request<'_>) -> Outcome {
    let ctx = request.ctx;
    let open = match ctx
        .store
        .approvals_in_state(&ApprovalState::IN_FLIGHT, 50)
        .await
    {
        Ok(open) => open,
        Err(err) => return request.internal_error(&err).await,
    };
    let reply = if open.is_empty() {
        Reply::text(ReplyKind::Result, Level::Info, "No open approval requests.")
    } else {
        let rows = open
            .iter()
            .map(|r| {
                vec![
                    r.id.clone(),
                    r.command.clone(),
                    ctx.directory.display_name(&r.requester_person),
                    r.state.to_string(),
                    r.expires_at.format("%H:%M:%S UTC").to_string(),
                ]
            })
            .collect();
        let columns = ["ID", "COMMAND", "REQUESTED BY", "STATE", "EXPIRES"]
            .map(String::from)
            .to_vec();
        Reply::new(ReplyKind::Result, Level::Info)
            .with_header(format!("Open approval requests ({})", open.len()))
            .with_block(Block::Table {
                table: Table { columns, rows },
            })
    };
    request.say(reply).await;
    Outcome::allowed("approvals listed")
}

pub(super) async fn audit(request: &Request<'_>, cmd: &Audit) -> Outcome {
    let ctx = request.ctx;
    let rows = match ctx.store.audit_tail(cmd.limit as i64).await {
        Ok(rows) => rows,
        Err(err) => return request.internal_error(&err).await,
    };
    let table_rows = rows
        .iter()
        .map(|r| {
            vec![
                r.seq.to_string(),
                r.at.format("%H:%M:%S").to_string(),
                r.actor_person
                    .clone()
                    .unwrap_or_else(|| r.actor_identity.clone()),
                r.command.clone().unwrap_or_else(|| r.text.clone()),
                r.decision.clone(),
                r.outcome.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let columns = ["SEQ", "TIME", "WHO", "COMMAND", "DECISION", "OUTCOME"]
        .map(String::from)
        .to_vec();
    let reply = Reply::new(ReplyKind::Result, Level::Info)
        .with_header(format!("Audit log — last {} entries", rows.len()))
        .with_block(Block::Table {
            table: Table {
                columns,
                rows: table_rows,
            },
        });
    request.say(reply).await;
    Outcome::allowed(format!("{} audit entries shown", rows.len()))
}

pub(super) async fn freeze(request: &Request<'_>, cmd: &Freeze) -> Outcome {
    let ctx = request.ctx;
    let state = FreezeState {
        by: request.principal.display.clone(),
        reason: cmd
            .reason
            .clone()
            .unwrap_or_else(|| "no reason given".to_string()),
        at: ctx.clock.now(),
    };
    if let Err(err) = ctx.store.set_freeze(Some(state.clone())).await {
        return request.internal_error(&err).await;
    }
    let text = format!(
        "Changes are FROZEN by {} ({}). Every destructive command and every approved change waiting to run is refused until an admin says `unfreeze`.",
        state.by, state.reason
    );
    request
        .say(Reply::text(ReplyKind::Notice, Level::Warn, text))
        .await;
    Outcome::allowed("frozen")
}

pub(super) async fn unfreeze(request: &Request<'_>) -> Outcome {
    let ctx = request.ctx;
    if let Err(err) = ctx.store.set_freeze(None).await {
        return request.internal_error(&err).await;
    }
    let text = format!("Changes are unfrozen by {}.", request.principal.display);
    request
        .say(Reply::text(ReplyKind::Notice, Level::Ok, text))
        .await;
    Outcome::allowed("unfrozen")
}
