//! A runbook run's state machine, as stored between steps: which step is next, what earlier steps found out
//! (their facts), what each step did, and whether the run is waiting for an approval decision. Pure: the engine
//! loads it, asks [`RunState::next`], does the step, records the result, and stores it again — so a restart
//! mid-run continues from the last recorded step.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::facts::{Fact, Facts, Grade, StepFacts};
use super::format::{Runbook, Step};
use crate::invocation::Conversation;

/// Where a run is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RunStatus {
    /// Steps remain to run now.
    Running,
    /// A change step became approval request `approval_id`; the run goes on after its decision.
    Waiting { approval_id: String },
    /// Every step has been done or skipped.
    Finished,
}

/// How one step went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    /// Ran; its grade says what it found.
    Ran(Grade),
    /// Its condition did not hold.
    Skipped,
    /// Could not run (the command failed, or the change was refused).
    Failed,
    /// A change: approved, made and rolled out.
    Changed,
    /// A change that did not happen (denied, cancelled, expired, or failed while executing).
    NotChanged,
}

/// What one step did, for the run's summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    /// The step's index in the runbook (from 0).
    pub index: usize,
    pub outcome: StepOutcome,
    /// One line: what it found or why it was skipped.
    pub summary: String,
    /// The step's expectation, if it has one: whether it held, and with which values.
    pub expectation: Option<(bool, String)>,
}

/// What the run does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Run (or skip) the step at this index.
    Step(usize),
    /// Nothing left: post the summary and finish.
    Finish,
    /// Waiting for an approval decision; nothing to do until then.
    Wait,
    /// Finished already.
    Done,
}

/// A run of a runbook, as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// `R` and 8 hex digits.
    pub id: String,
    /// The runbook as it was when the run started (editing the file later does not change a run).
    pub runbook: Runbook,
    /// The thread the steps are posted in (approvals of its changes are decided there too).
    pub conversation: Conversation,
    /// Who started the run: their chat identity (changes are requested in their name) and name to show.
    pub requester_identity: String,
    pub requester_display: String,
    pub started_at: DateTime<Utc>,
    pub status: RunStatus,
    /// The next step to run.
    pub next_step: usize,
    pub facts: Facts,
    pub records: Vec<StepRecord>,
}

impl RunState {
    /// A new run at its first step.
    pub fn new(
        id: String,
        runbook: Runbook,
        conversation: Conversation,
        requester_identity: String,
        requester_display: String,
        started_at: DateTime<Utc>,
    ) -> Self {
        RunState {
            id,
            runbook,
            conversation,
            requester_identity,
            requester_display,
            started_at,
            status: RunStatus::Running,
            next_step: 0,
            facts: Facts::default(),
            records: Vec::new(),
        }
    }

    /// What to do next.
    pub fn next(&self) -> Next {
        match &self.status {
            RunStatus::Finished => Next::Done,
            RunStatus::Waiting { .. } => Next::Wait,
            RunStatus::Running if self.next_step < self.runbook.steps.len() => {
                Next::Step(self.next_step)
            }
            RunStatus::Running => Next::Finish,
        }
    }

    /// The step at `index`.
    pub fn step(&self, index: usize) -> Option<&Step> {
        self.runbook.steps.get(index)
    }

    /// Whether the step at `index` should run: its condition holds (or it has none). `Err` carries the
    /// explanation of a condition that does not hold.
    pub fn should_run(&self, index: usize) -> Result<(), String> {
        match self.step(index).and_then(|s| s.condition.as_ref()) {
            Some(c) if !c.holds(&self.facts) => Err(c.explain(&self.facts)),
            _ => Ok(()),
        }
    }

    /// Records that the step at `index` was skipped (its condition did not hold) and moves on.
    pub fn skip(&mut self, index: usize, explanation: &str) {
        self.record(
            index,
            StepOutcome::Skipped,
            format!("skipped: not needed — {explanation} is false"),
        );
    }

    /// Records what a step that ran found, checks its expectation, and moves on.
    pub fn complete(&mut self, index: usize, facts: &StepFacts, summary: String) {
        let grade = facts.grade();
        self.remember(index, facts);
        self.record(index, StepOutcome::Ran(grade), summary);
    }

    /// Records that a step could not run (its level is `fail`) and moves on.
    pub fn fail(&mut self, index: usize, reason: String) {
        self.remember(index, &StepFacts::graded(Grade::Fail));
        self.record(index, StepOutcome::Failed, reason);
    }

    /// Pauses at a change step that became approval request `approval_id`.
    pub fn wait_for(&mut self, approval_id: &str) {
        self.status = RunStatus::Waiting {
            approval_id: approval_id.to_string(),
        };
    }

    /// The approval the run waits for, if any.
    pub fn waiting_for(&self) -> Option<&str> {
        match &self.status {
            RunStatus::Waiting { approval_id } => Some(approval_id),
            _ => None,
        }
    }

    /// Records the decision on the awaited approval and resumes: `approved` (quorum reached), `done` (the
    /// change was made and rolled out). False, changing nothing, if the run does not wait for `approval_id`
    /// (a second resume of the same decision is harmless).
    pub fn decided(
        &mut self,
        approval_id: &str,
        approved: bool,
        done: bool,
        detail: String,
    ) -> bool {
        if self.waiting_for() != Some(approval_id) {
            return false;
        }
        let index = self.next_step;
        let grade = if done { Grade::Ok } else { Grade::Fail };
        let facts = StepFacts::graded(grade)
            .number(Fact::Approved, f64::from(u8::from(approved)))
            .number(Fact::Done, f64::from(u8::from(done)));
        self.remember(index, &facts);
        self.status = RunStatus::Running;
        let outcome = if done {
            StepOutcome::Changed
        } else {
            StepOutcome::NotChanged
        };
        self.record(index, outcome, detail);
        true
    }

    /// Marks the run finished.
    pub fn finish(&mut self) {
        self.status = RunStatus::Finished;
    }

    fn remember(&mut self, index: usize, facts: &StepFacts) {
        if let Some(id) = self.step(index).map(|s| s.id.clone()) {
            self.facts.set_all(&id, facts);
        }
    }

    fn record(&mut self, index: usize, outcome: StepOutcome, summary: String) {
        let ran = !matches!(outcome, StepOutcome::Skipped);
        let expectation = match self.step(index).and_then(|s| s.expect.as_ref()) {
            Some(e) if ran => Some((e.holds(&self.facts), e.explain(&self.facts))),
            _ => None,
        };
        self.records.push(StepRecord {
            index,
            outcome,
            summary,
            expectation,
        });
        self.next_step = index + 1;
    }

    /// The run's verdict: the worst finding, where findings made before the run's last change count no more
    /// (they describe the state the change fixed); a failed or refused step is `warn`, an unmet expectation `fail`.
    pub fn verdict(&self) -> Grade {
        let last_change = self
            .records
            .iter()
            .rposition(|r| r.outcome == StepOutcome::Changed);
        self.records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let step = match r.outcome {
                    StepOutcome::Ran(_) if last_change.is_some_and(|c| i < c) => Grade::Ok,
                    StepOutcome::Ran(g) => g,
                    StepOutcome::Failed | StepOutcome::NotChanged => Grade::Warn,
                    StepOutcome::Skipped | StepOutcome::Changed => Grade::Ok,
                };
                match &r.expectation {
                    Some((false, _)) => Grade::Fail,
                    _ => step,
                }
            })
            .max()
            .unwrap_or(Grade::Ok)
    }
}
