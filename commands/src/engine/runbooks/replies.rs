//! What runbooks look like in chat: the list, one runbook's steps, a run's opening message, each step's header,
//! and the run's summary.

use crate::reply::{Block, Level, Reply, ReplyKind, StatusLine, Table};
use crate::runbook::run::{StepOutcome, StepRecord};
use crate::runbook::{Grade, RunState, Runbook, RunbookSet, Step, StepAction};

fn level_of(grade: Grade) -> Level {
    match grade {
        Grade::Ok => Level::Ok,
        Grade::Warn => Level::Warn,
        Grade::Fail => Level::Fail,
    }
}

fn does(step: &Step) -> String {
    match &step.action {
        StepAction::Run(c) if step.is_change() => format!("`{}` (needs approval)", c.canonical()),
        StepAction::Run(c) => format!("`{}`", c.canonical()),
        StepAction::Say(_) => "guidance".to_string(),
    }
}

/// `runbook list`.
pub(super) fn list_reply(set: &RunbookSet) -> Reply {
    let mut reply = Reply::new(ReplyKind::Result, Level::Info).with_header("Runbooks");
    if set.runbooks.is_empty() {
        let where_ = match &set.directory {
            Some(d) => format!("no runbook loaded from `{}`", d.display()),
            None => "no runbooks directory is configured (`[runbooks] directory`)".to_string(),
        };
        reply = reply.with_block(Block::Text { text: where_ });
    } else {
        let rows = set
            .runbooks
            .iter()
            .map(|r| {
                vec![
                    r.name.clone(),
                    r.title.clone(),
                    r.steps.len().to_string(),
                    r.when.clone(),
                ]
            })
            .collect();
        let columns = ["NAME", "TITLE", "STEPS", "WHEN TO USE"]
            .map(String::from)
            .to_vec();
        reply = reply
            .with_block(Block::Table {
                table: Table { columns, rows },
            })
            .with_block(Block::Text {
                text: "`runbook show NAME` lists the steps; `runbook run NAME` runs them.".into(),
            });
    }
    if !set.problems.is_empty() {
        let lines: Vec<String> = set.problems.iter().map(|p| p.to_string()).collect();
        reply = reply
            .with_block(Block::Text {
                text: format!("{} runbook file(s) did not load:", lines.len()),
            })
            .with_block(Block::Code {
                text: lines.join("\n"),
            });
    }
    reply
}

/// `runbook show NAME`.
pub(super) fn show_reply(runbook: &Runbook) -> Reply {
    let mut fields = vec![("When to use".to_string(), runbook.when.clone())];
    if let Some(manual) = &runbook.manual {
        fields.push(("Manual".to_string(), manual.clone()));
    }
    let rows = runbook
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            vec![
                (i + 1).to_string(),
                s.id.clone(),
                s.title.clone(),
                does(s),
                s.condition
                    .as_ref()
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
                s.expect.as_ref().map(|c| c.to_string()).unwrap_or_default(),
            ]
        })
        .collect();
    let columns = ["#", "ID", "STEP", "DOES", "ONLY IF", "EXPECTS"]
        .map(String::from)
        .to_vec();
    let mut reply = Reply::new(ReplyKind::Result, Level::Info)
        .with_header(format!("Runbook `{}` — {}", runbook.name, runbook.title))
        .with_block(Block::Fields { fields })
        .with_block(Block::Table {
            table: Table { columns, rows },
        });
    for (i, s) in runbook.steps.iter().enumerate() {
        if let StepAction::Say(text) = &s.action {
            reply = reply.with_block(Block::Text {
                text: format!("Step {} — {}: {text}", i + 1, s.title),
            });
        }
    }
    reply.with_block(Block::Text {
        text: format!("Run it: `runbook run {}`", runbook.name),
    })
}

/// The message a run opens its thread with.
pub(super) fn started_reply(run: &RunState) -> Reply {
    let rb = &run.runbook;
    let changes = rb.steps.iter().filter(|s| s.is_change()).count();
    let note = if changes == 0 {
        "It only looks; nothing is changed.".to_string()
    } else {
        format!(
            "{changes} step(s) change something: each asks for approval in this thread and the run waits."
        )
    };
    Reply::new(ReplyKind::Notice, Level::Info)
        .with_header(format!("Runbook: {} ({})", rb.title, run.id))
        .with_block(Block::Text {
            text: format!(
                "Started by {}: {} steps follow in this thread. {note}",
                run.requester_display,
                rb.steps.len()
            ),
        })
}

/// The header line of step `index`.
pub(super) fn step_header(run: &RunState, index: usize, step: &Step) -> String {
    format!(
        "{} · step {}/{} — {}",
        run.runbook.title,
        index + 1,
        run.runbook.steps.len(),
        step.title
    )
}

/// A step that did not run, or guidance, or a failure: one text reply under the step's header.
pub(super) fn step_note(
    run: &RunState,
    index: usize,
    step: &Step,
    level: Level,
    text: String,
) -> Reply {
    Reply::new(ReplyKind::Result, level)
        .with_header(step_header(run, index, step))
        .with_block(Block::Text { text })
}

/// A read-only step's own reply, under the step's header, with its expectation if it has one.
pub(super) fn step_reply(run: &RunState, index: usize, step: &Step, mut reply: Reply) -> Reply {
    let inner = reply.header.take();
    reply.header = Some(step_header(run, index, step));
    if let Some(inner) = inner {
        reply.blocks.insert(0, Block::Text { text: inner });
    }
    if let Some(record) = run.records.iter().rev().find(|r| r.index == index)
        && let Some((held, shown)) = &record.expectation
    {
        reply = reply.with_block(expectation_block(*held, shown));
    }
    reply
}

fn expectation_block(held: bool, shown: &str) -> Block {
    let level = if held { Level::Ok } else { Level::Fail };
    Block::Status {
        lines: vec![StatusLine {
            level,
            label: "expected".into(),
            detail: format!("{shown}: {}", if held { "yes" } else { "no" }),
            millis: None,
        }],
    }
}

fn record_line(run: &RunState, record: &StepRecord) -> StatusLine {
    let title = run
        .step(record.index)
        .map(|s| s.title.clone())
        .unwrap_or_default();
    let (level, state) = match record.outcome {
        StepOutcome::Ran(_) => (level_of(record_grade(record)), ""),
        StepOutcome::Skipped => (Level::Info, ""),
        StepOutcome::Failed => (Level::Fail, "failed: "),
        StepOutcome::Changed => (Level::Ok, "changed: "),
        StepOutcome::NotChanged => (Level::Warn, "not changed: "),
    };
    let mut detail = format!("{state}{}", record.summary);
    if let Some((held, shown)) = &record.expectation {
        detail.push_str(&format!(
            "; expected {shown}: {}",
            if *held { "yes" } else { "no" }
        ));
    }
    StatusLine {
        level,
        label: format!("{}. {title}", record.index + 1),
        detail,
        millis: None,
    }
}

fn record_grade(record: &StepRecord) -> Grade {
    match record.outcome {
        StepOutcome::Ran(g) => g,
        _ => Grade::Ok,
    }
}

/// The run's closing message: every step's outcome and the verdict.
pub(super) fn summary_reply(run: &RunState) -> Reply {
    let verdict = run.verdict();
    let lines = run.records.iter().map(|r| record_line(run, r)).collect();
    let ran = run
        .records
        .iter()
        .filter(|r| r.outcome != StepOutcome::Skipped)
        .count();
    let skipped = run.records.len() - ran;
    Reply::new(ReplyKind::Result, level_of(verdict))
        .with_header(format!(
            "Runbook: {} ({}) finished — {}",
            run.runbook.title,
            run.id,
            verdict.as_str()
        ))
        .with_block(Block::Status { lines })
        .with_block(Block::Text {
            text: format!("{ran} step(s) ran, {skipped} skipped."),
        })
}
