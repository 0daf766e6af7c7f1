//! Checking the audit chain: rows are fed one at a time in `seq` order (so a store can stream them), then the chain
//! head is compared with where the rows ended, and the external checkpoint (when there is one) with the rows: the
//! head lives in the same database as the rows, the checkpoint does not. Re-exported from `crate::audit`.

use serde::Serialize;

use crate::audit::{AuditCheckpoint, AuditHead, AuditKey, AuditRow, GENESIS_MAC};

/// What kind of tampering a problem points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditProblemKind {
    /// The row's content no longer matches its MAC (its MAC still links into the chain).
    EditedRow,
    /// Sequence numbers jump: rows in the middle were deleted.
    MissingRows,
    /// A run of rows carries MACs made without the key (re-hashed or forged rows).
    ForgedChain,
    /// The chain head records more rows than exist: the newest rows were deleted.
    TruncatedTail,
    /// The chain head is missing, was not written with the key, or does not match the rows.
    BadHead,
    /// The external checkpoint names a row past the end of the log: the newest rows were deleted and an older
    /// chain head put back.
    TruncatedPastCheckpoint,
    /// The row at the checkpoint's `seq` is not the row checkpointed: the log was rolled back to an older state
    /// (an older head restored) and written on from there.
    RolledBack,
    /// The external checkpoint exists but the log has no rows: both tables were emptied.
    WipedLog,
    /// The external checkpoint was not signed with the audit key.
    BadCheckpoint,
}

impl std::fmt::Display for AuditProblemKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AuditProblemKind::EditedRow => "edited row",
            AuditProblemKind::MissingRows => "missing rows",
            AuditProblemKind::ForgedChain => "forged chain",
            AuditProblemKind::TruncatedTail => "truncated tail",
            AuditProblemKind::BadHead => "bad chain head",
            AuditProblemKind::TruncatedPastCheckpoint => "truncated past the checkpoint",
            AuditProblemKind::RolledBack => "rolled-back head",
            AuditProblemKind::WipedLog => "wiped log",
            AuditProblemKind::BadCheckpoint => "bad checkpoint",
        })
    }
}

/// One finding of `verify_audit`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditProblem {
    /// The first sequence number concerned.
    pub seq: i64,
    /// What kind of tampering it points to.
    pub kind: AuditProblemKind,
    /// A sentence for people.
    pub detail: String,
}

impl std::fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}: {} — {}", self.seq, self.kind, self.detail)
    }
}

/// The result of checking the whole audit log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// How many rows were read.
    pub rows_checked: u64,
    /// The last sequence number the chain head records, if there is a head.
    pub head_seq: Option<i64>,
    /// What was found, in `seq` order; empty when the log is intact.
    pub problems: Vec<AuditProblem>,
    /// The external checkpoint the rows were compared with, if one was given.
    pub checkpoint: Option<AuditCheckpoint>,
    /// The last row the check could confirm: the end of the untouched part of the chain, and none when no row
    /// can be tied to the checkpoint (a wiped or rolled-back log).
    pub confirmed_seq: Option<i64>,
    /// The `seq` of the last row read.
    pub last_seq: Option<i64>,
}

impl VerifyReport {
    /// True when nothing was found.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// Rows after the checkpoint, which it does not protect yet (all rows when there is no checkpoint).
    pub fn unanchored_rows(&self) -> i64 {
        let last = self.last_seq.unwrap_or(0);
        let anchored = self.checkpoint.as_ref().map_or(0, |c| c.seq);
        (last - anchored).max(0)
    }
}

/// Rows whose MAC failed, each linking to the one before.
struct BadRun {
    seqs: Vec<i64>,
    last_mac: String,
}

/// Checks rows fed in ascending `seq` order, then the head (`finish`).
pub struct ChainVerifier<'k> {
    key: &'k AuditKey,
    report: VerifyReport,
    expected_seq: i64,
    last: Option<(i64, String)>,
    run: Option<BadRun>,
    checkpoint: Option<AuditCheckpoint>,
    /// The `mac` of the row at the checkpoint's `seq`, once read.
    mac_at_checkpoint: Option<String>,
}

impl<'k> ChainVerifier<'k> {
    /// A verifier that checks MACs under `key`.
    pub fn new(key: &'k AuditKey) -> Self {
        ChainVerifier {
            key,
            report: VerifyReport::default(),
            expected_seq: 1,
            last: None,
            run: None,
            checkpoint: None,
            mac_at_checkpoint: None,
        }
    }

    /// Also compares the rows with the external checkpoint (see [`AuditCheckpoint`]).
    pub fn against(mut self, checkpoint: Option<&AuditCheckpoint>) -> Self {
        self.checkpoint = checkpoint.cloned();
        self
    }

    /// Checks the next row.
    pub fn push(&mut self, row: &AuditRow) {
        self.report.rows_checked += 1;
        if self.checkpoint.as_ref().is_some_and(|c| c.seq == row.seq) {
            self.mac_at_checkpoint = Some(row.mac.clone());
        }
        let gap = row.seq != self.expected_seq;
        if gap {
            self.problem(
                self.expected_seq.min(row.seq),
                AuditProblemKind::MissingRows,
                format!(
                    "expected row #{} but the next row is #{}: rows were deleted",
                    self.expected_seq, row.seq
                ),
            );
        }
        let expected_prev = self
            .last
            .as_ref()
            .map_or(GENESIS_MAC, |(_, mac)| mac.as_str());
        let linked = !gap && row.prev_mac == expected_prev;
        if row.mac_is_valid(self.key) {
            // A valid row after bad ones anchors them if it links to them: their MACs are the originals.
            let had_run = self.run.is_some();
            self.close_run(linked);
            if !gap && !linked && !had_run {
                self.problem(
                    row.seq,
                    AuditProblemKind::ForgedChain,
                    "the row does not link to the row before it".into(),
                );
            }
        } else {
            match self.run.as_mut() {
                Some(run) if linked => run.seqs.push(row.seq),
                _ => {
                    self.close_run(false);
                    self.run = Some(BadRun {
                        seqs: vec![row.seq],
                        last_mac: String::new(),
                    });
                }
            }
            if let Some(run) = self.run.as_mut() {
                run.last_mac = row.mac.clone();
            }
        }
        self.expected_seq = row.seq.saturating_add(1);
        self.last = Some((row.seq, row.mac.clone()));
    }

    /// Compares the head with the rows seen and returns the report.
    pub fn finish(mut self, head: Option<&AuditHead>) -> VerifyReport {
        let head_valid = head.is_some_and(|h| h.mac_is_valid(self.key));
        let anchored = match (head, &self.run) {
            (Some(h), Some(run)) => head_valid && h.last_mac == run.last_mac,
            _ => false,
        };
        self.close_run(anchored);
        let last_seq = self.last.as_ref().map(|(seq, _)| *seq);
        self.report.head_seq = head.map(|h| h.last_seq);
        match head {
            None => {
                if let Some(last) = last_seq {
                    self.problem(
                        last,
                        AuditProblemKind::BadHead,
                        "the chain head is missing".into(),
                    );
                }
            }
            Some(h) => self.check_head(h, head_valid),
        }
        self.report.last_seq = last_seq;
        let chain_ok_through = self
            .report
            .problems
            .iter()
            .map(|p| p.seq - 1)
            .min()
            .map_or(last_seq, |before| last_seq.map(|l| l.min(before)));
        self.report.confirmed_seq = chain_ok_through.filter(|s| *s > 0);
        if let Some(checkpoint) = self.checkpoint.take() {
            self.check_checkpoint(&checkpoint, last_seq);
            self.report.checkpoint = Some(checkpoint);
        }
        // Stable: problems at one row keep the order they were found in.
        self.report.problems.sort_by_key(|p| p.seq);
        self.report
    }

    /// Compares the rows with the external checkpoint: the one check an attacker with the database alone cannot
    /// satisfy after cutting rows off, since the checkpoint is signed and kept elsewhere.
    fn check_checkpoint(&mut self, cp: &AuditCheckpoint, last_seq: Option<i64>) {
        let taken = cp.at.format("%Y-%m-%d %H:%M:%S UTC");
        if !cp.is_signed_by(self.key) {
            self.problem(
                cp.seq,
                AuditProblemKind::BadCheckpoint,
                format!(
                    "the checkpoint (row #{}, taken {taken}) is not signed with the audit key: it was written by \
                     someone else; nothing can be confirmed against it",
                    cp.seq
                ),
            );
            return;
        }
        let confirmed = self.confirmed_text();
        match last_seq {
            None => {
                self.report.confirmed_seq = None;
                self.problem(
                    1,
                    AuditProblemKind::WipedLog,
                    format!(
                        "the checkpoint taken {taken} records row #{} but the log has no rows: both audit tables \
                         were emptied; no row can be confirmed",
                        cp.seq
                    ),
                );
            }
            Some(last) if last < cp.seq => self.problem(
                last + 1,
                AuditProblemKind::TruncatedPastCheckpoint,
                format!(
                    "the checkpoint taken {taken} records row #{} but the log ends at #{last}: rows #{}..#{} were \
                     deleted and an older chain head put back; {confirmed}",
                    cp.seq,
                    last + 1,
                    cp.seq
                ),
            ),
            Some(_) if self.mac_at_checkpoint.as_deref() != Some(cp.mac.as_str()) => {
                self.report.confirmed_seq = None;
                self.problem(
                    cp.seq,
                    AuditProblemKind::RolledBack,
                    format!(
                        "row #{} is not the row the checkpoint taken {taken} records: the log was rolled back to \
                         an older chain head and written on from there; no row can be confirmed against the \
                         checkpoint",
                        cp.seq
                    ),
                );
            }
            Some(_) => {}
        }
    }

    fn confirmed_text(&self) -> String {
        match self.report.confirmed_seq {
            Some(seq) => format!("the last row confirmed is #{seq}"),
            None => "no row can be confirmed".to_string(),
        }
    }

    fn check_head(&mut self, head: &AuditHead, head_valid: bool) {
        let (last_seq, last_mac) = self.last.clone().unwrap_or((0, GENESIS_MAC.to_string()));
        if !head_valid {
            self.problem(
                head.last_seq,
                AuditProblemKind::BadHead,
                "the chain head was not written with the audit key".into(),
            );
        }
        if head.last_seq > last_seq {
            self.problem(
                last_seq + 1,
                AuditProblemKind::TruncatedTail,
                format!(
                    "the chain head records {} rows but the log ends at #{last_seq}: the newest rows were deleted",
                    head.last_seq
                ),
            );
        } else if head.last_seq < last_seq {
            self.problem(
                head.last_seq + 1,
                AuditProblemKind::BadHead,
                format!(
                    "rows after #{} are not covered by the chain head",
                    head.last_seq
                ),
            );
        } else if head.last_mac != last_mac && head_valid {
            self.problem(
                last_seq,
                AuditProblemKind::BadHead,
                "the chain head does not match the last row".into(),
            );
        }
    }

    /// Ends the current run of bad rows: anchored rows were edited in place; an unanchored run was re-hashed.
    fn close_run(&mut self, anchored: bool) {
        let Some(run) = self.run.take() else { return };
        if anchored {
            for seq in run.seqs {
                self.problem(
                    seq,
                    AuditProblemKind::EditedRow,
                    "the row's content does not match its MAC: it was edited".into(),
                );
            }
        } else {
            let first = run.seqs.first().copied().unwrap_or_default();
            let last = run.seqs.last().copied().unwrap_or_default();
            self.problem(
                first,
                AuditProblemKind::ForgedChain,
                format!("rows #{first}..#{last} carry MACs not made with the audit key"),
            );
        }
    }

    fn problem(&mut self, seq: i64, kind: AuditProblemKind, detail: String) {
        self.report
            .problems
            .push(AuditProblem { seq, kind, detail });
    }
}

#[cfg(test)]
#[path = "chain_verify_tests.rs"]
mod tests;
