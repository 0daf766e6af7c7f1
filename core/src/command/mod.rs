//! The closed set of chat commands: one struct per command, each in its own file with its grammar, its `SPEC`
//! (what `help` shows) and its `parse`. Adding a command is adding a file, one enum arm and one `SPECS` entry;
//! policy's exhaustive match then refuses to compile until someone decides who may run it.
//!
//! Room is left for runbook, incident and oncall: they are not built yet.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::grammar::{self, Args, ParseError};
use crate::runbook::Fact;

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
pub use audit::{Audit, AuditReanchor, AuditVerify};
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

/// One chat command, parsed, typed by what it does. `Display` is the canonical text, which parses back to the same
/// command.
///
/// The kind decides the path through the engine and the rule policy gives it: every [`Change`] is previewed and
/// waits for approval because it is a `Change` — no list of commands decides that. Adding a variant to any of the
/// kinds does not compile until its rule, its plan (for a change) and its handler are written.
///
/// Serialised (runbook runs keep their steps in the store) as before the kinds existed: `{"command": "scale",
/// "replicas": 5}`, the kind being implied by the command's name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Command {
    /// Looks and tells; runs at once.
    Read(Read),
    /// Changes the service; previewed, bound to the target's state, and run only once approved.
    Change(Change),
    /// Decides on a change request.
    Decide(Decide),
    /// Changes the bot itself.
    Admin(Admin),
    /// The incident war room (its break-glass is the one change that runs without a second approver).
    Incident(Incident),
}

/// A command that only reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Read {
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
    Health(Health),
    Latency(Latency),
    Metrics(Metrics),
    DbTables(DbTables),
    Checklist(Checklist),
    Oncall(Oncall),
    Runbook(Runbook),
}

/// A read that looks at the service and says what it found. One handler in the engine answers it for chat and for
/// a runbook step alike; the step also keeps its [`facts`](StepRead::facts) for later steps' conditions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepRead {
    Top(Top),
    Pods(Pods),
    Errors(Errors),
    FiveXx(FiveXx),
    Logs(Logs),
    Status(Status),
    History(History),
    Health(Health),
    Metrics(Metrics),
    Latency(Latency),
}

/// A read about the bot, its records or the conversation, or one that gathers several reads at once: chat runs
/// it; a runbook step cannot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChatRead {
    Help(Help),
    Whoami(Whoami),
    Approvals(Approvals),
    Audit(Audit),
    AuditVerify(AuditVerify),
    DbTables(DbTables),
    Checklist(Checklist),
    Oncall(Oncall),
    Runbook(Runbook),
}

/// Which of the two a read is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadKind {
    Step(StepRead),
    Chat(ChatRead),
}

/// A command that changes the service: it goes through approval because of its type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Change {
    Rollback(Rollback),
    Deploy(Deploy),
    Scale(Scale),
    Restart(Restart),
    DbVacuum(DbVacuum),
}

/// A decision on a change request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Decide {
    Approve(Approve),
    Deny(Deny),
    Cancel(Cancel),
}

/// A command that changes the bot itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Admin {
    Freeze(Freeze),
    Unfreeze(Unfreeze),
    AuditReanchor(AuditReanchor),
}

impl Command {
    /// Parses a command text; see [`grammar::parse`].
    pub fn parse(text: &str) -> Result<Command, ParseError> {
        grammar::parse(text)
    }

    /// The spec of this command (name, usage, flags, help).
    pub fn spec(&self) -> &'static CommandSpec {
        match self {
            Command::Read(c) => c.spec(),
            Command::Change(c) => c.spec(),
            Command::Decide(Decide::Approve(_)) => &approve::SPEC,
            Command::Decide(Decide::Deny(_)) => &deny::SPEC,
            Command::Decide(Decide::Cancel(_)) => &cancel::SPEC,
            Command::Admin(Admin::Freeze(_)) => &freeze::SPEC,
            Command::Admin(Admin::Unfreeze(_)) => &unfreeze::SPEC,
            Command::Admin(Admin::AuditReanchor(_)) => &audit::SPEC,
            Command::Incident(_) => &incident::SPEC,
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
            Command::Read(c) => c.write_args(&mut out),
            Command::Change(c) => c.write_args(&mut out),
            Command::Decide(Decide::Approve(c)) => c.write_args(&mut out),
            Command::Decide(Decide::Deny(c)) => c.write_args(&mut out),
            Command::Decide(Decide::Cancel(c)) => c.write_args(&mut out),
            Command::Admin(Admin::Freeze(c)) => c.write_args(&mut out),
            Command::Admin(Admin::Unfreeze(_)) => {}
            Command::Admin(Admin::AuditReanchor(c)) => c.write_args(&mut out),
            Command::Incident(c) => c.write_args(&mut out),
        }
        out.finish()
    }
}

impl Read {
    fn spec(&self) -> &'static CommandSpec {
        match self {
            Read::Help(_) => &help::SPEC,
            Read::Pods(_) => &pods::SPEC,
            Read::Top(_) => &top::SPEC,
            Read::Logs(_) => &logs::SPEC,
            Read::Errors(_) => &errors::SPEC,
            Read::FiveXx(_) => &five_xx::SPEC,
            Read::History(_) => &history::SPEC,
            Read::Status(_) => &status::SPEC,
            Read::Whoami(_) => &whoami::SPEC,
            Read::Approvals(_) => &approvals::SPEC,
            Read::Audit(_) | Read::AuditVerify(_) => &audit::SPEC,
            Read::Health(_) => &health::SPEC,
            Read::Latency(_) => &latency::SPEC,
            Read::Metrics(_) => &metrics::SPEC,
            Read::DbTables(_) => &db::SPEC,
            Read::Checklist(_) => &checklist::SPEC,
            Read::Oncall(_) => &oncall::SPEC,
            Read::Runbook(_) => &runbook::SPEC,
        }
    }

    fn write_args(&self, out: &mut Canonical) {
        match self {
            Read::Help(c) => c.write_args(out),
            Read::Pods(c) => c.write_args(out),
            Read::Logs(c) => c.write_args(out),
            Read::Errors(c) => c.write_args(out),
            Read::FiveXx(c) => c.write_args(out),
            Read::Audit(c) => c.write_args(out),
            Read::AuditVerify(c) => c.write_args(out),
            Read::Health(c) => c.write_args(out),
            Read::Latency(c) => c.write_args(out),
            Read::Runbook(c) => c.write_args(out),
            Read::DbTables(c) => c.write_args(out),
            Read::Top(_)
            | Read::History(_)
            | Read::Status(_)
            | Read::Whoami(_)
            | Read::Approvals(_)
            | Read::Metrics(_)
            | Read::Checklist(_)
            | Read::Oncall(_) => {}
        }
    }
}

impl Read {
    /// Splits the reads by who runs them; the match has no catch-all, so a new read is placed here or does not
    /// compile.
    pub fn kind(self) -> ReadKind {
        match self {
            Read::Top(c) => ReadKind::Step(StepRead::Top(c)),
            Read::Pods(c) => ReadKind::Step(StepRead::Pods(c)),
            Read::Errors(c) => ReadKind::Step(StepRead::Errors(c)),
            Read::FiveXx(c) => ReadKind::Step(StepRead::FiveXx(c)),
            Read::Logs(c) => ReadKind::Step(StepRead::Logs(c)),
            Read::Status(c) => ReadKind::Step(StepRead::Status(c)),
            Read::History(c) => ReadKind::Step(StepRead::History(c)),
            Read::Health(c) => ReadKind::Step(StepRead::Health(c)),
            Read::Metrics(c) => ReadKind::Step(StepRead::Metrics(c)),
            Read::Latency(c) => ReadKind::Step(StepRead::Latency(c)),
            Read::Help(c) => ReadKind::Chat(ChatRead::Help(c)),
            Read::Whoami(c) => ReadKind::Chat(ChatRead::Whoami(c)),
            Read::Approvals(c) => ReadKind::Chat(ChatRead::Approvals(c)),
            Read::Audit(c) => ReadKind::Chat(ChatRead::Audit(c)),
            Read::AuditVerify(c) => ReadKind::Chat(ChatRead::AuditVerify(c)),
            Read::DbTables(c) => ReadKind::Chat(ChatRead::DbTables(c)),
            Read::Checklist(c) => ReadKind::Chat(ChatRead::Checklist(c)),
            Read::Oncall(c) => ReadKind::Chat(ChatRead::Oncall(c)),
            Read::Runbook(c) => ReadKind::Chat(ChatRead::Runbook(c)),
        }
    }

    /// The read as a runbook step would run it, if a step can.
    pub fn as_step(&self) -> Option<StepRead> {
        match self.clone().kind() {
            ReadKind::Step(step) => Some(step),
            ReadKind::Chat(_) => None,
        }
    }
}

impl StepRead {
    /// The reads a runbook step can run, in the order messages list them.
    pub const SPECS: [&'static CommandSpec; 10] = [
        &top::SPEC,
        &pods::SPEC,
        &errors::SPEC,
        &five_xx::SPEC,
        &logs::SPEC,
        &status::SPEC,
        &history::SPEC,
        &health::SPEC,
        &metrics::SPEC,
        &latency::SPEC,
    ];

    /// The facts the read yields in a runbook step ([`Fact::Level`] always).
    pub fn facts(&self) -> &'static [Fact] {
        match self {
            StepRead::Top(_) => &[
                Fact::Level,
                Fact::CpuMaxMillicores,
                Fact::CpuAvgMillicores,
                Fact::MemoryMaxMib,
                Fact::Pods,
            ],
            StepRead::Pods(_) => &[
                Fact::Level,
                Fact::Pods,
                Fact::Ready,
                Fact::NotReady,
                Fact::Restarts,
            ],
            StepRead::Errors(_) => &[Fact::Level, Fact::Errors, Fact::Groups],
            StepRead::FiveXx(_) => &[Fact::Level, Fact::Responses, Fact::Groups],
            StepRead::Logs(_) => &[Fact::Level, Fact::Lines],
            StepRead::Status(_) => &[Fact::Level, Fact::Complete],
            StepRead::History(_) => &[Fact::Level, Fact::Revisions],
            StepRead::Health(_) => &[Fact::Level, Fact::Failing, Fact::Warning],
            StepRead::Metrics(_) => &[
                Fact::Level,
                Fact::CacheHitRate,
                Fact::PoolActive,
                Fact::PoolIdle,
                Fact::PoolMax,
                Fact::PoolWaitSeconds,
                Fact::ErrorRatio,
                Fact::LatencyP50Ms,
                Fact::LatencyP99Ms,
            ],
            StepRead::Latency(_) => &[
                Fact::Level,
                Fact::TotalMedianMs,
                Fact::TotalMaxMs,
                Fact::TtfbMedianMs,
                Fact::Failures,
            ],
        }
    }

    /// The read as a command, for its canonical text and name.
    pub fn command(&self) -> Command {
        Command::Read(match self.clone() {
            StepRead::Top(c) => Read::Top(c),
            StepRead::Pods(c) => Read::Pods(c),
            StepRead::Errors(c) => Read::Errors(c),
            StepRead::FiveXx(c) => Read::FiveXx(c),
            StepRead::Logs(c) => Read::Logs(c),
            StepRead::Status(c) => Read::Status(c),
            StepRead::History(c) => Read::History(c),
            StepRead::Health(c) => Read::Health(c),
            StepRead::Metrics(c) => Read::Metrics(c),
            StepRead::Latency(c) => Read::Latency(c),
        })
    }
}

impl Change {
    fn spec(&self) -> &'static CommandSpec {
        match self {
            Change::Rollback(_) => &rollback::SPEC,
            Change::Deploy(_) => &deploy::SPEC,
            Change::Scale(_) => &scale::SPEC,
            Change::Restart(_) => &restart::SPEC,
            Change::DbVacuum(_) => &db::SPEC,
        }
    }

    fn write_args(&self, out: &mut Canonical) {
        match self {
            Change::Rollback(c) => c.write_args(out),
            Change::Deploy(c) => c.write_args(out),
            Change::Scale(c) => c.write_args(out),
            Change::Restart(_) => {}
            Change::DbVacuum(c) => c.write_args(out),
        }
    }

    /// The command's name as typed (`scale`, `db`).
    pub fn name(&self) -> &'static str {
        self.spec().name
    }

    /// Whether the change waits for a rollout in progress to end. A rollback does not (undoing a stuck release is
    /// what it is for), nor does database maintenance (it does not touch the deployment).
    pub fn waits_for_rollout(&self) -> bool {
        match self {
            Change::Deploy(_) | Change::Scale(_) | Change::Restart(_) => true,
            Change::Rollback(_) | Change::DbVacuum(_) => false,
        }
    }

    /// The canonical text of this change.
    pub fn canonical(&self) -> String {
        Command::Change(self.clone()).canonical()
    }
}

impl From<Change> for Command {
    fn from(change: Change) -> Self {
        Command::Change(change)
    }
}

impl From<Read> for Command {
    fn from(read: Read) -> Self {
        Command::Read(read)
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
