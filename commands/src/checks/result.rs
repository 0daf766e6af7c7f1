//! The outcome of one check: ok / warn / fail, how long it took, and why.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::reply::Level;

/// How a check came out. Ordered: a report is as bad as its worst line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckLevel {
    /// Not run: switched off, or nowhere to connect (counts as ok in a verdict).
    Skip,
    Ok,
    Warn,
    Fail,
}

impl CheckLevel {
    /// The reply level of the same tone.
    pub fn level(self) -> Level {
        match self {
            CheckLevel::Skip => Level::Info,
            CheckLevel::Ok => Level::Ok,
            CheckLevel::Warn => Level::Warn,
            CheckLevel::Fail => Level::Fail,
        }
    }

    /// `ok`, `warn`, `fail`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckLevel::Skip => "skip",
            CheckLevel::Ok => "ok",
            CheckLevel::Warn => "warn",
            CheckLevel::Fail => "fail",
        }
    }
}

/// One line of a health report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The check's name (`api`, `database`, `cache`, `postgres`, `pods`, `pod mystocks-api-…`, …).
    pub name: String,
    /// What it checked, e.g. `GET http://…/health`.
    pub target: String,
    pub level: CheckLevel,
    /// Why (for ok: what it saw, e.g. `200 healthy`).
    pub reason: String,
    /// How long the check took; `None` when it did not run (not configured).
    pub millis: Option<u64>,
}

impl CheckResult {
    /// A result of `level` after `elapsed`.
    pub fn new(
        name: impl Into<String>,
        target: impl Into<String>,
        level: CheckLevel,
        reason: impl Into<String>,
        elapsed: Duration,
    ) -> Self {
        CheckResult {
            name: name.into(),
            target: target.into(),
            level,
            reason: reason.into(),
            millis: Some(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)),
        }
    }

    /// A check that has nowhere to connect: skipped, saying which setting would turn it on.
    pub fn not_configured(name: &str, setting: &str) -> Self {
        CheckResult {
            name: name.into(),
            target: String::new(),
            level: CheckLevel::Skip,
            reason: format!("not configured (set `checks.{setting}`)"),
            millis: None,
        }
    }

    /// A check that gave no answer within `timeout`.
    pub fn timed_out(name: &str, target: &str, timeout: Duration) -> Self {
        CheckResult::new(
            name,
            target,
            CheckLevel::Fail,
            format!("no answer within {} ms (timeout)", timeout.as_millis()),
            timeout,
        )
    }
}

/// The worst level among `results` (ok when empty).
pub fn worst<'a>(results: impl IntoIterator<Item = &'a CheckResult>) -> CheckLevel {
    results
        .into_iter()
        .map(|r| r.level)
        .max()
        .filter(|l| *l != CheckLevel::Skip)
        .unwrap_or(CheckLevel::Ok)
}

/// Runs `check` with a timeout: when it does not finish in time, the result says so (and costs only the timeout).
pub async fn with_timeout<F>(name: &str, target: &str, timeout: Duration, check: F) -> CheckResult
where
    F: Future<Output = CheckResult>,
{
    match tokio::time::timeout(timeout, check).await {
        Ok(result) => result,
        Err(_) => CheckResult::timed_out(name, target, timeout),
    }
}
