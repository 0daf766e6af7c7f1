//! The engine's side of runbooks: `runbook list | show NAME | run NAME`, the stored job that runs a run's steps,
//! and the hook that resumes a run when the approval it waits for is decided.

use crate::command::Runbook as RunbookCommand;
use crate::reply::{Level, Reply, ReplyKind};

use super::dispatch::{Outcome, Request};

/// Answers `runbook …`.
pub(super) async fn command(request: &Request<'_>, cmd: &RunbookCommand) -> Outcome {
    let _ = cmd;
    request
        .say(Reply::text(
            ReplyKind::Notice,
            Level::Info,
            "runbooks are being set up",
        ))
        .await;
    Outcome::allowed("runbook")
}
