//! Read-only commands: answered at once from the live cluster.

use std::time::Duration;

use crate::cluster::{self, ClusterError};
use crate::command::{Errors, FiveXx, Logs, LogsTarget, Pods};
use crate::present;
use crate::reply::Reply;

use super::dispatch::{Outcome, Request};

/// Posts the answer, or the cluster's error (user-facing errors as they are, internal ones with a reference).
async fn answer(request: &Request<'_>, result: Result<Reply, ClusterError>, what: &str) -> Outcome {
    match result {
        Ok(reply) => {
            request.say(reply).await;
            Outcome::allowed(what.to_string())
        }
        Err(err) if err.is_user_facing() => {
            let text = err.to_string();
            request
                .tell(Reply::text(
                    crate::reply::ReplyKind::Error,
                    crate::reply::Level::Fail,
                    text.clone(),
                ))
                .await;
            Outcome::error(text)
        }
        Err(err) => request.internal_error(&err).await,
    }
}

pub(super) async fn pods(request: &Request<'_>, cmd: &Pods) -> Outcome {
    let ctx = request.ctx;
    let result = cluster::pods(&ctx.kube, &ctx.target, cmd.selector.as_deref()).await;
    let now = ctx.clock.now();
    answer(
        request,
        result.map(|rows| present::pods_reply(&rows, now)),
        "pods listed",
    )
    .await
}

pub(super) async fn top(request: &Request<'_>) -> Outcome {
    let ctx = request.ctx;
    let result = cluster::top(&ctx.kube, &ctx.target).await;
    answer(
        request,
        result.map(|usage| present::top_reply(&usage)),
        "usage shown",
    )
    .await
}

pub(super) async fn logs(request: &Request<'_>, cmd: &Logs) -> Outcome {
    let ctx = request.ctx;
    let grep = match cmd.grep.as_deref().map(case_insensitive) {
        Some(Ok(re)) => Some(re),
        Some(Err(err)) => {
            return request
                .refuse(format!("--grep pattern is not valid: {err}"))
                .await;
        }
        None => None,
    };
    let which = match &cmd.target {
        LogsTarget::Deployment => None,
        LogsTarget::Pod(name) => Some(name.as_str()),
    };
    let result = cluster::logs(
        &ctx.kube,
        &ctx.target,
        which,
        Some(i64::from(cmd.tail)),
        grep.as_ref(),
    )
    .await;
    answer(
        request,
        result.map(|logs| present::logs_reply(&logs)),
        "logs shown",
    )
    .await
}

/// `--grep` matches like `grep -i`: the pattern is literal text, not a regular expression.
fn case_insensitive(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(&regex::escape(pattern))
        .case_insensitive(true)
        .build()
}

pub(super) async fn errors(request: &Request<'_>, cmd: &Errors) -> Outcome {
    let ctx = request.ctx;
    let since = Duration::from_secs(u64::from(cmd.since_minutes) * 60);
    let result = cluster::errors(&ctx.kube, &ctx.target, since).await;
    answer(
        request,
        result.map(|groups| present::errors_reply(&groups, cmd.since_minutes)),
        "errors shown",
    )
    .await
}

pub(super) async fn five_xx(request: &Request<'_>, cmd: &FiveXx) -> Outcome {
    let ctx = request.ctx;
    let since = Duration::from_secs(u64::from(cmd.since_minutes) * 60);
    let result = cluster::fivexx(&ctx.kube, &ctx.target, since).await;
    answer(
        request,
        result.map(|groups| present::fivexx_reply(&groups, cmd.since_minutes)),
        "5xx shown",
    )
    .await
}

pub(super) async fn history(request: &Request<'_>) -> Outcome {
    let ctx = request.ctx;
    let result = cluster::history(&ctx.kube, &ctx.target).await;
    let now = ctx.clock.now();
    let container = ctx.target.container.clone();
    answer(
        request,
        result.map(|revs| present::history_reply(&revs, &container, now)),
        "history shown",
    )
    .await
}

pub(super) async fn status(request: &Request<'_>) -> Outcome {
    let ctx = request.ctx;
    let result = cluster::rollout_status(&ctx.kube, &ctx.target).await;
    answer(
        request,
        result.map(|state| present::status_reply(&state)),
        "status shown",
    )
    .await
}
