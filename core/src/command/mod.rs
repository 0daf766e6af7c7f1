//! The closed set of chat commands: one struct per command, each in its own file with its grammar, its `SPEC`
//! (what `help` shows) and its `parse`. Adding a command is adding a file, one enum arm and one `SPECS` entry;
//! policy's exhaustive match then refuses to compile until someone decides who may run it.
//!
//! Room is left for runbook, incident and oncall: they are not built yet.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::grammar::{self, Args, ParseError};

mod approval_id;
pub mod approvals;
pub mod approve;
pub mod audit;
pub mod cancel;
mod canonical;
pub mod checklist;
pub mod db;
pub mod deny;
pub mod deploy;
pub mod errors;
pub mod five_xx;
pub mod freeze;
pub mod health;
pub mod help;
pub mod history;
mod image_ref;
pub mod incident;
pub mod latency;
pub mod logs;
pub mod metrics;
pub mod oncall;
pub mod pods;
pub mod restart;
pub mod rollback;
pub mod runbook;
pub mod scale;
pub mod status;
pub(crate) mod suggest;
pub mod top;
pub mod unfreeze;
pub mod whoami;

pub use approval_id::ApprovalId;
pub use approvals::Approvals;
pub use approve::Approve;
pub use audit::{Audit, AuditVerify};
pub use cancel::Cancel;
pub use canonical::{Canonical, quote};
pub use checklist::Checklist;
pub use db::{DbTables, DbVacuum};
pub use deny::Deny;
pub use deploy::{BadImageRef, Deploy, ImageRef, is_bare_tag, parse_image_ref};
pub use errors::Errors;
pub use five_xx::FiveXx;
pub use freeze::Freeze;
pub use health::Health;
pub use help::Help;
pub use history::History;
pub use incident::{BreakGlassChange, Incident};
pub use latency::Latency;
pub use logs::{Logs, LogsTarget};
pub use metrics::Metrics;
pub use oncall::Oncall;
pub use pods::Pods;
pub use restart::Restart;
pub use rollback::Rollback;
pub use runbook::Runbook;
pub use scale::Scale;
pub use status::Status;
pub use top::Top;
pub use unfreeze::Unfreeze;
pub use whoami::Whoami;

/// One chat command, parsed. `Display` is the canonical text, which parses back to the same command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    Help(Help),
    Pods(Pods),
    Top(Top),
    Logs(Logs),
    Errors(Errors),
    FiveXx(FiveXx),
    History(History),
    Status(Status),
    Whoami(Whoami),
    Approvals(Approvals),
    Audit(Audit),
    AuditVerify(AuditVerify),
    Rollback(Rollback),
    Deploy(Deploy),
    Scale(Scale),
    Restart(Restart),
    Approve(Approve),
    Deny(Deny),
    Cancel(Cancel),
    Freeze(Freeze),
    Unfreeze(Unfreeze),
    Health(Health),
    Latency(Latency),
    Metrics(Metrics),
    DbTables(DbTables),
    DbVacuum(DbVacuum),
    Checklist(Checklist),
    Incident(Incident),
    Oncall(Oncall),
    Runbook(Runbook),
}

impl Command {
    /// Parses a command text; see [`grammar::parse`].
    pub fn parse(text: &str) -> Result<Command, ParseError> {
        grammar::parse(text)
    }

    /// The spec of this command (name, usage, flags, help).
    pub fn spec(&self) -> &'static CommandSpec {
        match self {
            Command::Help(_) => &help::SPEC,
            Command::Pods(_) => &pods::SPEC,
            Command::Top(_) => &top::SPEC,
            Command::Logs(_) => &logs::SPEC,
            Command::Errors(_) => &errors::SPEC,
            Command::FiveXx(_) => &five_xx::SPEC,
            Command::History(_) => &history::SPEC,
            Command::Status(_) => &status::SPEC,
            Command::Whoami(_) => &whoami::SPEC,
            Command::Approvals(_) => &approvals::SPEC,
            Command::Audit(_) | Command::AuditVerify(_) => &audit::SPEC,
            Command::Rollback(_) => &rollback::SPEC,
            Command::Deploy(_) => &deploy::SPEC,
            Command::Scale(_) => &scale::SPEC,
            Command::Restart(_) => &restart::SPEC,
            Command::Approve(_) => &approve::SPEC,
            Command::Deny(_) => &deny::SPEC,
            Command::Cancel(_) => &cancel::SPEC,
            Command::Freeze(_) => &freeze::SPEC,
            Command::Unfreeze(_) => &unfreeze::SPEC,
            Command::Health(_) => &health::SPEC,
            Command::Latency(_) => &latency::SPEC,
            Command::Metrics(_) => &metrics::SPEC,
            Command::DbTables(_) | Command::DbVacuum(_) => &db::SPEC,
            Command::Checklist(_) => &checklist::SPEC,
            Command::Incident(_) => &incident::SPEC,
            Command::Oncall(_) => &oncall::SPEC,
            Command::Runbook(_) => &runbook::SPEC,
        }
    }

    /// The command's name as typed (`scale`, `5xx`, `audit`).
    pub fn name(&self) -> &'static str {
        self.spec().name
    }

    /// The canonical text of this command (`logs --tail 100`, `deny A12 "bad tag"`): explicit defaults, fixed
    /// order, quoted where needed. It parses back to the same command; the audit log records it.
    pub fn canonical(&self) -> String {
        let mut out = Canonical::new(self.name());
        match self {
            Command::Help(c) => c.write_args(&mut out),
            Command::Pods(c) => c.write_args(&mut out),
            Command::Logs(c) => c.write_args(&mut out),
            Command::Errors(c) => c.write_args(&mut out),
            Command::FiveXx(c) => c.write_args(&mut out),
            Command::Audit(c) => c.write_args(&mut out),
            Command::AuditVerify(c) => c.write_args(&mut out),
            Command::Rollback(c) => c.write_args(&mut out),
            Command::Deploy(c) => c.write_args(&mut out),
            Command::Scale(c) => c.write_args(&mut out),
            Command::Approve(c) => c.write_args(&mut out),
            Command::Deny(c) => c.write_args(&mut out),
            Command::Cancel(c) => c.write_args(&mut out),
            Command::Freeze(c) => c.write_args(&mut out),
            Command::Health(c) => c.write_args(&mut out),
            Command::Latency(c) => c.write_args(&mut out),
            Command::DbTables(c) => c.write_args(&mut out),
            Command::DbVacuum(c) => c.write_args(&mut out),
            Command::Incident(c) => c.write_args(&mut out),
            Command::Runbook(c) => c.write_args(&mut out),
            Command::Top(_)
            | Command::History(_)
            | Command::Status(_)
            | Command::Whoami(_)
            | Command::Approvals(_)
            | Command::Restart(_)
            | Command::Unfreeze(_)
            | Command::Metrics(_)
            | Command::Checklist(_)
            | Command::Oncall(_) => {}
        }
        out.finish()
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

/// A flag a command accepts.
#[derive(Debug)]
pub struct FlagSpec {
    /// Long name without dashes (`tail` for `--tail`).
    pub long: &'static str,
    /// Optional one-letter form (`l` for `-l`).
    pub short: Option<char>,
    /// The value's placeholder in usage (`N`, `SELECTOR`).
    pub value: &'static str,
    /// One line of help.
    pub help: &'static str,
}

impl FlagSpec {
    /// The long spelling, `--tail`.
    pub fn display(&self) -> String {
        format!("--{}", self.long)
    }

    /// Every way to write this flag's name: `--selector`, `-l`.
    pub fn spellings(&self) -> impl Iterator<Item = String> + '_ {
        std::iter::once(format!("--{}", self.long)).chain(self.short.map(|c| format!("-{c}")))
    }
}

/// Everything `help` says about a command, and how to parse it.
#[derive(Debug)]
pub struct CommandSpec {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    /// One line: what the command does.
    pub summary: &'static str,
    /// The grammar line, e.g. `logs [POD|deployment] [--tail N] [--grep PATTERN]`.
    pub usage: &'static str,
    pub flags: &'static [FlagSpec],
    /// Example command texts; the first is also used to ask policy about the command.
    pub examples: &'static [&'static str],
    /// The section of the MyStocks operations manual the command implements; `None` for the bot's own commands.
    pub manual: Option<&'static str>,
    /// Takes free text at the end (a reason): every word after the fixed arguments is text, dashes included.
    pub free_text: bool,
    /// Parses the arguments (everything after the name).
    pub parse: fn(&mut Args) -> Result<Command, ParseError>,
}

impl CommandSpec {
    /// The flag named `name` (long name without dashes, or the one-letter short form).
    pub fn flag(&self, name: &str) -> Option<&'static FlagSpec> {
        let name = name.to_ascii_lowercase();
        let short = name.chars().next().filter(|_| name.chars().count() == 1);
        self.flags
            .iter()
            .find(|f| f.long == name || (short.is_some() && f.short == short))
    }
}

/// Every command spec, in the order `help` lists them.
pub static SPECS: &[&CommandSpec] = &[
    &help::SPEC,
    &pods::SPEC,
    &top::SPEC,
    &logs::SPEC,
    &errors::SPEC,
    &five_xx::SPEC,
    &history::SPEC,
    &status::SPEC,
    &whoami::SPEC,
    &approvals::SPEC,
    &audit::SPEC,
    &rollback::SPEC,
    &deploy::SPEC,
    &scale::SPEC,
    &restart::SPEC,
    &approve::SPEC,
    &deny::SPEC,
    &cancel::SPEC,
    &freeze::SPEC,
    &unfreeze::SPEC,
    &health::SPEC,
    &latency::SPEC,
    &metrics::SPEC,
    &db::SPEC,
    &checklist::SPEC,
    &incident::SPEC,
    &oncall::SPEC,
    &runbook::SPEC,
];

/// Every command spec.
pub fn specs() -> impl Iterator<Item = &'static CommandSpec> {
    SPECS.iter().copied()
}

/// The command called `name` or with `name` as an alias (ASCII case-insensitive).
pub fn find(name: &str) -> Option<&'static CommandSpec> {
    specs().find(|s| {
        s.name.eq_ignore_ascii_case(name) || s.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    })
}

/// Every command name and alias (for "did you mean").
pub fn all_spellings() -> impl Iterator<Item = &'static str> {
    specs().flat_map(|s| std::iter::once(s.name).chain(s.aliases.iter().copied()))
}

#[cfg(test)]
mod tests;
