//! Reading incidents: `incident list`, `incident show`, `incident postmortem` (Markdown, posted as a file and kept
//! in the store), and `oncall`.

use crate::incident::model::kind;
use crate::incident::postmortem::{self, span, time};
use crate::incident::{IncidentRecord, Severity};
use crate::reply::{Attachment, Block, Level, Reply, ReplyKind, Table};

use super::super::dispatch::{Outcome, Request};
use super::declare::humanize;
use super::room::{change_for, remember, target};

/// How many incidents `incident list` shows.
const LIST_LIMIT: u32 = 20;
/// How many timeline entries `incident show` shows.
const SHOW_ENTRIES: usize = 15;

pub(super) async fn list(request: &Request<'_>) -> Outcome {
    let incidents = match request.ctx.store.incidents(false, LIST_LIMIT).await {
        Ok(list) => list,
        Err(err) => return request.internal_error(&err).await,
    };
    if incidents.is_empty() {
        request
            .say(Reply::text(ReplyKind::Result, Level::Ok, "No incidents."))
            .await;
        return Outcome::allowed("no incidents");
    }
    let name = |p: &str| request.ctx.directory.display_name(p);
    let rows = incidents
        .iter()
        .map(|i| {
            vec![
                i.number.to_string(),
                i.severity.to_string(),
                i.status.to_string(),
                i.title.clone(),
                name(&i.commander),
                time(i.declared_at),
                i.acked_by
                    .as_deref()
                    .map(name)
                    .unwrap_or_else(|| "—".into()),
            ]
        })
        .collect();
    let columns = [
        "#",
        "sev",
        "status",
        "title",
        "commander",
        "declared (UTC)",
        "acked by",
    ];
    let table = Table {
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
    };
    let open = incidents.iter().filter(|i| i.is_open()).count();
    let reply = Reply::new(
        ReplyKind::Result,
        if open > 0 { Level::Warn } else { Level::Ok },
    )
    .with_header(format!("Incidents — {open} open"))
    .with_block(Block::Table { table });
    request.say(reply).await;
    Outcome::allowed(format!("{} incidents listed", incidents.len()))
}

pub(super) async fn show(request: &Request<'_>, id: Option<i64>) -> Outcome {
    let incident = match target(request, id).await {
        Ok(i) => i,
        Err(outcome) => return outcome,
    };
    let timeline = match request.ctx.store.timeline(incident.number).await {
        Ok(t) => t,
        Err(err) => return request.internal_error(&err).await,
    };
    let name = |p: &str| request.ctx.directory.display_name(p);
    let skip = timeline.len().saturating_sub(SHOW_ENTRIES);
    let rows = timeline[skip..]
        .iter()
        .map(|e| vec![time(e.at), name(&e.actor), e.kind.clone(), e.text.clone()])
        .collect();
    let table = Table {
        columns: vec![
            "time (UTC)".into(),
            "who".into(),
            "what".into(),
            "entry".into(),
        ],
        rows,
    };
    let reply = Reply::new(
        ReplyKind::Result,
        if incident.is_open() {
            Level::Warn
        } else {
            Level::Ok
        },
    )
    .with_header(format!("Incident {} — {}", incident.number, incident.title))
    .with_block(Block::Fields {
        fields: fields(request, &incident),
    })
    .with_block(Block::Table { table });
    request.say(reply).await;
    Outcome::allowed(format!("incident {} shown", incident.number))
}

fn fields(request: &Request<'_>, i: &IncidentRecord) -> Vec<(String, String)> {
    let name = |p: &str| request.ctx.directory.display_name(p);
    let now = request.ctx.clock.now();
    let mut f = vec![
        (
            "Severity".to_string(),
            format!("{} — {}", i.severity, i.severity.description()),
        ),
        ("Status".to_string(), i.status.to_string()),
        ("Commander".to_string(), name(&i.commander)),
        (
            "Declared".to_string(),
            format!("{} by {}", time(i.declared_at), name(&i.declared_by)),
        ),
    ];
    let acked = match (&i.acked_by, i.acked_at) {
        (Some(by), Some(at)) => format!("by {} after {}", name(by), span(i.declared_at, at)),
        _ => format!("not yet ({} since declared)", span(i.declared_at, now)),
    };
    f.push(("Acknowledged".to_string(), acked));
    if let Some(at) = i.resolved_at {
        f.push((
            "Resolved".to_string(),
            format!("after {}", span(i.declared_at, at)),
        ));
    }
    if let Some(thread) = &i.thread {
        f.push((
            "War room".to_string(),
            format!("{} thread {thread}", i.channel),
        ));
    }
    let unreviewed: Vec<&str> = i.unreviewed().map(|b| b.approval_id.as_str()).collect();
    if !unreviewed.is_empty() {
        f.push(("Break-glass to review".to_string(), unreviewed.join(", ")));
    }
    f
}

pub(super) async fn postmortem(request: &Request<'_>, id: Option<i64>) -> Outcome {
    let ctx = request.ctx;
    let incident = match target(request, id).await {
        Ok(i) => i,
        Err(outcome) => return outcome,
    };
    if incident.is_open() {
        let n = incident.number;
        return request
            .refuse(format!(
                "incident {n} is still open; `incident resolve {n}` first, then the postmortem"
            ))
            .await;
    }
    let timeline = match ctx.store.timeline(incident.number).await {
        Ok(t) => t,
        Err(err) => return request.internal_error(&err).await,
    };
    let name = |p: &str| ctx.directory.display_name(p);
    let markdown = postmortem::render(&incident, &timeline, &name);
    let doc = markdown.clone();
    if let Err(outcome) = change_for(request, incident.number, |i| {
        i.postmortem = Some(doc.clone());
        Ok(())
    })
    .await
    {
        return outcome;
    }
    remember(
        request,
        incident.number,
        kind::POSTMORTEM,
        format!("postmortem written ({} timeline entries)", timeline.len()),
    );
    let reply = Reply::new(ReplyKind::Result, Level::Info)
        .with_header(format!("Postmortem — incident {}: {}", incident.number, incident.title))
        .with_block(Block::Text {
            text: format!(
                "{} timeline entries; every cited entry carries its audit seq and MAC (`audit verify` checks the chain).",
                timeline.len()
            ),
        })
        // Shown inline too (the console prints no files); adapters shorten it to their limits.
        .with_block(Block::Code { text: markdown.clone() })
        .with_attachment(Attachment {
            filename: format!("incident-{}-postmortem.md", incident.number),
            content_type: "text/markdown".into(),
            content: markdown,
        });
    request.say(reply).await;
    Outcome::allowed(format!("postmortem of incident {}", incident.number))
}

pub(crate) async fn oncall(request: &Request<'_>) -> Outcome {
    let ctx = request.ctx;
    let config = &ctx.incidents.config;
    let oncall: Vec<String> = config
        .oncall
        .iter()
        .map(|p| ctx.directory.display_name(p))
        .collect();
    let now = if oncall.is_empty() {
        "nobody configured ([incidents] oncall)".to_string()
    } else {
        oncall.join(", ")
    };
    let contacts = Table {
        columns: vec!["Role".into(), "Contact".into()],
        rows: config
            .contacts
            .iter()
            .map(|c| vec![c.role.clone(), c.contact.clone()])
            .collect(),
    };
    let severities = Table {
        columns: vec![
            "Level".into(),
            "Description".into(),
            "Response time".into(),
            "Pages".into(),
        ],
        rows: Severity::ALL
            .iter()
            .map(|s| {
                let pages = if config.pages_on_declare(*s) {
                    "on declare"
                } else {
                    "at expiry"
                };
                vec![
                    s.to_string(),
                    s.description().to_string(),
                    humanize(config.response_time(*s)),
                    pages.to_string(),
                ]
            })
            .collect(),
    };
    let paging = if ctx.incidents.pager.is_some() {
        "PagerDuty"
    } else {
        "not configured"
    };
    let reply = Reply::new(ReplyKind::Result, Level::Info)
        .with_header("On call")
        .with_block(Block::Fields {
            fields: vec![
                ("On call now".into(), now),
                ("Paging".into(), paging.into()),
            ],
        })
        .with_block(Block::Table { table: contacts })
        .with_block(Block::Table { table: severities });
    request.say(reply).await;
    Outcome::allowed("on-call shown")
}
