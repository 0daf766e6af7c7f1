//! The runbook file format (TOML) and its validation. A runbook has a title, when to use it, and steps; a step
//! runs one chat command (`run = "top"`) or says guidance (`say = "…"`), may carry a condition on earlier steps'
//! facts (`if = "usage.cpu_max_millicores > 500"`) and an expectation checked after it ran (`expect = …`).
//!
//! ```toml
//! title = "High CPU usage"
//! when = "Pods burn CPU: slow answers, `top` shows more than 500m per pod."
//!
//! [[steps]]
//! id = "usage"
//! title = "Check resource usage"
//! run = "top"
//!
//! [[steps]]
//! id = "scale"
//! title = "Scale up if needed"
//! run = "scale 10"
//! if = "usage.cpu_max_millicores > 500"
//! ```
//!
//! Every problem is reported with the line it is on. Pure: no I/O.

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::condition::{Condition, Unresolved};
use super::facts::{CHANGE_FACTS, Fact, SAY_FACTS, names};
use crate::command::{ChatRead, Command, ReadKind, StepRead};
use crate::policy::{self, Risk};

/// Most steps a runbook may have (a longer one is a procedure for a person, not a chat thread).
pub const MAX_STEPS: usize = 30;

/// A loaded, valid runbook.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Runbook {
    /// What `runbook run NAME` calls it: the file name without `.toml`, unless the file says `name = …`.
    pub name: String,
    pub title: String,
    /// When to use it.
    pub when: String,
    /// The manual section it comes from, if any.
    pub manual: Option<String>,
    pub steps: Vec<Step>,
}

/// One step of a runbook.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// How conditions name its facts (`usage` in `usage.cpu_max_millicores`); default `step1`, `step2`, ….
    pub id: String,
    pub title: String,
    pub action: StepAction,
    /// Runs only when this holds; otherwise skipped, saying why.
    pub condition: Option<Condition>,
    /// Checked after the step ran; the run reports whether it held.
    pub expect: Option<Condition>,
}

/// What a step does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepAction {
    /// Runs a chat command; a destructive one becomes an approval request and the run waits for the decision.
    Run(Command),
    /// Posts guidance for people (what to do by hand).
    Say(String),
}

impl Step {
    /// The command's name for a command step (`top`, `scale`), `say` for guidance.
    pub fn kind(&self) -> &'static str {
        match &self.action {
            StepAction::Run(c) => c.name(),
            StepAction::Say(_) => "say",
        }
    }

    /// The facts the step yields for later steps' conditions.
    pub fn facts(&self) -> &'static [Fact] {
        match &self.action {
            StepAction::Run(Command::Read(read)) => read.as_step().map_or(SAY_FACTS, |s| s.facts()),
            StepAction::Run(Command::Change(_)) => CHANGE_FACTS,
            StepAction::Run(Command::Decide(_) | Command::Admin(_) | Command::Incident(_))
            | StepAction::Say(_) => SAY_FACTS,
        }
    }

    /// True when the step changes something and so goes through approval.
    pub fn is_change(&self) -> bool {
        matches!(&self.action, StepAction::Run(c) if policy::rule(c).risk == Risk::Destructive)
    }
}

/// A problem in a runbook file: the line (from 1) when known, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatError {
    pub line: Option<usize>,
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRunbook {
    name: Option<Spanned<String>>,
    title: Option<Spanned<String>>,
    when: Option<Spanned<String>>,
    manual: Option<String>,
    #[serde(default)]
    steps: Vec<Spanned<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: Option<Spanned<String>>,
    title: Option<Spanned<String>>,
    run: Option<Spanned<String>>,
    say: Option<Spanned<String>>,
    #[serde(rename = "if")]
    condition: Option<Spanned<String>>,
    expect: Option<Spanned<String>>,
}

/// The line (from 1) of a byte offset in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Parses and validates one runbook file's text; `stem` is the file name without `.toml`.
pub fn parse_runbook(text: &str, stem: &str) -> Result<Runbook, FormatError> {
    let raw: RawRunbook = toml::from_str(text).map_err(|err| FormatError {
        line: err.span().map(|s| line_of(text, s.start)),
        reason: format!("not valid runbook TOML: {}", err.message()),
    })?;
    let at = |span: std::ops::Range<usize>, reason: String| FormatError {
        line: Some(line_of(text, span.start)),
        reason,
    };
    let top = |reason: &str| FormatError {
        line: Some(1),
        reason: reason.to_string(),
    };
    let name = match &raw.name {
        Some(n) => {
            check_name(n.get_ref()).map_err(|r| at(n.span(), format!("name: {r}")))?;
            n.get_ref().clone()
        }
        None => {
            check_name(stem).map_err(|r| {
                top(&format!(
                    "the file name `{stem}.toml` cannot be a runbook name ({r}); add `name = \"…\"`"
                ))
            })?;
            stem.to_string()
        }
    };
    let title = required_text(&raw.title, "title", text)?;
    let when = required_text(&raw.when, "when", text)?;
    if raw.steps.is_empty() {
        return Err(top("a runbook needs at least one `[[steps]]`"));
    }
    if raw.steps.len() > MAX_STEPS {
        return Err(at(
            raw.steps[MAX_STEPS].span(),
            format!("too many steps: at most {MAX_STEPS}"),
        ));
    }
    let mut steps: Vec<Step> = Vec::with_capacity(raw.steps.len());
    for (i, raw_step) in raw.steps.iter().enumerate() {
        let step = parse_step(text, raw_step, i, &steps)?;
        steps.push(step);
    }
    Ok(Runbook {
        name,
        title,
        when,
        manual: raw.manual,
        steps,
    })
}

fn required_text(
    field: &Option<Spanned<String>>,
    name: &str,
    text: &str,
) -> Result<String, FormatError> {
    match field {
        None => Err(FormatError {
            line: Some(1),
            reason: format!("`{name}` is missing"),
        }),
        Some(v) if v.get_ref().trim().is_empty() => Err(FormatError {
            line: Some(line_of(text, v.span().start)),
            reason: format!("`{name}` is empty"),
        }),
        Some(v) => Ok(v.get_ref().trim().to_string()),
    }
}

/// Runbook names and step ids: lowercase letters, digits, `-` and `_`, starting with a letter.
fn check_name(name: &str) -> Result<(), String> {
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` must be lowercase letters, digits, `-` or `_`, starting with a letter (at most 64)"
        ))
    }
}

fn parse_step(
    text: &str,
    raw: &Spanned<RawStep>,
    index: usize,
    earlier: &[Step],
) -> Result<Step, FormatError> {
    let number = index + 1;
    let step_line = line_of(text, raw.span().start);
    let at = |span: std::ops::Range<usize>, reason: String| FormatError {
        line: Some(line_of(text, span.start)),
        reason: format!("step {number}: {reason}"),
    };
    let whole = |reason: String| FormatError {
        line: Some(step_line),
        reason: format!("step {number}: {reason}"),
    };
    let s = raw.get_ref();
    let id = match &s.id {
        Some(id) => {
            check_name(id.get_ref()).map_err(|r| at(id.span(), format!("id {r}")))?;
            if earlier.iter().any(|e| &e.id == id.get_ref()) {
                return Err(at(
                    id.span(),
                    format!("id `{}` is used by an earlier step", id.get_ref()),
                ));
            }
            id.get_ref().clone()
        }
        None => format!("step{number}"),
    };
    let title = match &s.title {
        Some(t) if !t.get_ref().trim().is_empty() => t.get_ref().trim().to_string(),
        Some(t) => return Err(at(t.span(), "`title` is empty".into())),
        None => return Err(whole("`title` is missing".into())),
    };
    let action = match (&s.run, &s.say) {
        (Some(run), None) => {
            StepAction::Run(step_command(run.get_ref()).map_err(|r| at(run.span(), r))?)
        }
        (None, Some(say)) if !say.get_ref().trim().is_empty() => {
            StepAction::Say(say.get_ref().trim().to_string())
        }
        (None, Some(say)) => return Err(at(say.span(), "`say` is empty".into())),
        (Some(_), Some(_)) => {
            return Err(whole(
                "has both `run` and `say`; a step does one thing".into(),
            ));
        }
        (None, None) => {
            return Err(whole(
                "needs `run = \"COMMAND\"` or `say = \"TEXT\"`".into(),
            ));
        }
    };
    let step = Step {
        id,
        title,
        action,
        condition: None,
        expect: None,
    };
    let condition = match &s.condition {
        Some(c) => Some(
            step_condition(c.get_ref(), earlier, None)
                .map_err(|r| at(c.span(), format!("if: {r}")))?,
        ),
        None => None,
    };
    let expect = match &s.expect {
        Some(c) => Some(
            step_condition(c.get_ref(), earlier, Some(&step))
                .map_err(|r| at(c.span(), format!("expect: {r}")))?,
        ),
        None => None,
    };
    Ok(Step {
        condition,
        expect,
        ..step
    })
}

/// The command a step runs: it must parse, and be one a runbook may run (read-only or a change through
/// approval — not deciding on approvals, freezing, or another runbook).
fn step_command(text: &str) -> Result<Command, String> {
    let command = Command::parse(text).map_err(|err| format!("run `{text}`: {err}"))?;
    if command.name() == "runbook" {
        return Err(format!(
            "run `{text}`: a runbook cannot run another runbook"
        ));
    }
    let step_read = match &command {
        Command::Read(read) => match read.clone().kind() {
            ReadKind::Step(_) => true,
            ReadKind::Chat(ChatRead::Help(_)) => {
                return Err(format!(
                    "run `{text}`: `help` is not a step (use `say` for guidance)"
                ));
            }
            ReadKind::Chat(_) => false,
        },
        _ => false,
    };
    match policy::rule(&command).risk {
        Risk::ReadOnly if !step_read => {
            let steps: Vec<&str> = StepRead::SPECS.iter().map(|s| s.name).collect();
            Err(format!(
                "run `{text}`: `{}` cannot be a runbook step; steps can run {} or a change (scale, deploy, rollback, restart, db vacuum)",
                command.name(),
                steps.join(", ")
            ))
        }
        Risk::ReadOnly | Risk::Destructive => Ok(command),
        Risk::Deciding | Risk::Admin => Err(format!(
            "run `{text}`: `{}` decides or administers; people do that themselves, a runbook cannot",
            command.name()
        )),
    }
}

/// Parses a condition, mapping each fact it reads to the [`Fact`] of an earlier step (or, for `expect`, this one)
/// that yields it.
fn step_condition(text: &str, earlier: &[Step], this: Option<&Step>) -> Result<Condition, String> {
    let resolve = |step_id: &str, name: &str| {
        let step = earlier
            .iter()
            .chain(this)
            .find(|s| s.id == step_id)
            .ok_or_else(|| {
                let known: Vec<&str> = earlier.iter().chain(this).map(|s| s.id.as_str()).collect();
                let known = if known.is_empty() {
                    "none yet".to_string()
                } else {
                    known.join(", ")
                };
                format!(
                    "`{step_id}.{name}` names no earlier step `{step_id}` (earlier steps: {known})"
                )
            })?;
        let facts = step.facts();
        facts
            .iter()
            .copied()
            .find(|f| f.name() == name)
            .ok_or_else(|| {
                format!(
                    "`{step_id}.{name}`: step `{step_id}` ({}) has no fact `{name}`; it has {}",
                    step.kind(),
                    names(facts)
                )
            })
    };
    Condition::parse_in(text, resolve).map_err(|err| match err {
        Unresolved::Syntax(err) => err.to_string(),
        Unresolved::Reference { reason, .. } => reason,
    })
}
