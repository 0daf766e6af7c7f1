//! The reads that look at the service (`top`, `pods`, `errors`, `5xx`, `logs`, `status`, `history`, `health`,
//! `metrics`, `latency`): one handler each, which chat and runbook steps both call. A handler returns an
//! [`Observation`]: the reply to post, the typed facts later steps' conditions read, and one line for a run's
//! summary.

use std::time::{Duration, Instant};

use crate::checks::{self, CheckLevel, CheckResult, http_check, prometheus, window};
use crate::cluster::{self, ClusterError};
use crate::command::{Health, Latency, Logs, LogsTarget, Pods, StepRead};
use crate::present;
use crate::present::checks as checks_present;
use crate::reply::{Level, Reply, ReplyKind};
use crate::runbook::{Fact, Grade, StepFacts};

use super::Context;
use super::dispatch::{Outcome, Request};

/// What a read found.
pub(super) struct Observation {
    pub reply: Reply,
    /// What runbook conditions read (`usage.cpu_max_millicores`).
    pub facts: StepFacts,
    /// One line for a run's summary: what was found.
    pub summary: String,
    /// What the audit log (and an incident's timeline) records for the command run in chat.
    pub outcome: String,
}

/// Why a read could not answer.
pub(super) enum ReadError {
    /// The command asks for something that cannot be (a `--grep` pattern that is not valid): refused.
    Refused(String),
    /// It could not run, for a reason people can act on (not configured, unreachable, no such pod).
    Failed(String),
    /// The cluster call failed inside: chat shows a reference, the logs the chain.
    Internal(ClusterError),
}

impl ReadError {
    /// The reason a runbook step shows.
    pub fn reason(&self) -> String {
        match self {
            ReadError::Refused(text) | ReadError::Failed(text) => text.clone(),
            ReadError::Internal(err) => format!("the cluster call failed: {err}"),
        }
    }
}

fn cluster_err(err: ClusterError) -> ReadError {
    if err.is_user_facing() {
        ReadError::Failed(err.to_string())
    } else {
        ReadError::Internal(err)
    }
}

/// Runs a read. The match has no catch-all: a read a step can run has its handler here, or does not compile.
pub(super) async fn observe(ctx: &Context, read: &StepRead) -> Result<Observation, ReadError> {
    match read {
        StepRead::Top(_) => top(ctx).await,
        StepRead::Pods(c) => pods(ctx, c).await,
        StepRead::Errors(c) => errors(ctx, c.since_minutes).await,
        StepRead::FiveXx(c) => five_xx(ctx, c.since_minutes).await,
        StepRead::Logs(c) => logs(ctx, c).await,
        StepRead::Status(_) => status(ctx).await,
        StepRead::History(_) => history(ctx).await,
        StepRead::Health(c) => health(ctx, c).await,
        StepRead::Metrics(_) => metrics(ctx).await,
        StepRead::Latency(c) => latency(ctx, c).await,
    }
}

/// Answers a read in chat: the reply in the conversation, or privately why it could not run.
pub(super) async fn answer(request: &Request<'_>, read: &StepRead) -> Outcome {
    match observe(request.ctx, read).await {
        Ok(found) => {
            request.say(found.reply).await;
            Outcome::allowed(found.outcome)
        }
        Err(ReadError::Refused(text)) => request.refuse(text).await,
        Err(ReadError::Failed(text)) => {
            request
                .tell(Reply::text(ReplyKind::Error, Level::Fail, text.clone()))
                .await;
            Outcome::error(text)
        }
        Err(ReadError::Internal(err)) => request.internal_error(&err).await,
    }
}

fn grade(level: CheckLevel) -> Grade {
    match level {
        CheckLevel::Skip | CheckLevel::Ok => Grade::Ok,
        CheckLevel::Warn => Grade::Warn,
        CheckLevel::Fail => Grade::Fail,
    }
}

fn since(minutes: u32) -> Duration {
    Duration::from_secs(u64::from(minutes) * 60)
}

async fn top(ctx: &Context) -> Result<Observation, ReadError> {
    let started = Instant::now();
    let usage = cluster::top(&ctx.kube, &ctx.target)
        .await
        .map_err(cluster_err)?;
    let check = checks::cpu_check(&usage, &ctx.checks.thresholds, started.elapsed());
    let max = usage.iter().map(|u| u.cpu_millicores).max().unwrap_or(0);
    let avg =
        usage.iter().map(|u| u.cpu_millicores).sum::<u64>() as f64 / usage.len().max(1) as f64;
    let mem = usage.iter().map(|u| u.memory_bytes).max().unwrap_or(0) as f64 / (1024.0 * 1024.0);
    let facts = StepFacts::graded(grade(check.level))
        .number(Fact::CpuMaxMillicores, max as f64)
        .number(Fact::CpuAvgMillicores, avg.round())
        .number(Fact::MemoryMaxMib, mem.round())
        .number(Fact::Pods, usage.len() as f64);
    let summary = format!(
        "{} pods, CPU up to {max}m per pod (average {avg:.0}m) — {}",
        usage.len(),
        check.reason
    );
    Ok(Observation {
        reply: present::top_reply(&usage),
        facts,
        summary,
        outcome: "usage shown".into(),
    })
}

async fn pods(ctx: &Context, cmd: &Pods) -> Result<Observation, ReadError> {
    let rows = cluster::pods(&ctx.kube, &ctx.target, cmd.selector.as_deref())
        .await
        .map_err(cluster_err)?;
    let ready = rows
        .iter()
        .filter(|r| r.status == "Running" && r.ready == r.containers)
        .count();
    let restarts: i64 = rows.iter().map(|r| i64::from(r.restarts)).sum();
    let not_ready = rows.len() - ready;
    let level = if rows.is_empty() || ready == 0 {
        Grade::Fail
    } else if not_ready > 0 {
        Grade::Warn
    } else {
        Grade::Ok
    };
    let facts = StepFacts::graded(level)
        .number(Fact::Pods, rows.len() as f64)
        .number(Fact::Ready, ready as f64)
        .number(Fact::NotReady, not_ready as f64)
        .number(Fact::Restarts, restarts as f64);
    Ok(Observation {
        reply: present::pods_reply(&rows, ctx.clock.now()),
        facts,
        summary: format!("{ready} of {} pods ready, {restarts} restarts", rows.len()),
        outcome: "pods listed".into(),
    })
}

async fn errors(ctx: &Context, minutes: u32) -> Result<Observation, ReadError> {
    let groups = cluster::errors(&ctx.kube, &ctx.target, since(minutes))
        .await
        .map_err(cluster_err)?;
    let count: usize = groups.iter().map(|g| g.count).sum();
    let level = if count == 0 { Grade::Ok } else { Grade::Warn };
    let facts = StepFacts::graded(level)
        .number(Fact::Errors, count as f64)
        .number(Fact::Groups, groups.len() as f64);
    let summary = format!(
        "{count} error lines in {} kinds over the last {minutes} min",
        groups.len()
    );
    Ok(Observation {
        reply: present::errors_reply(&groups, minutes),
        facts,
        summary,
        outcome: "errors shown".into(),
    })
}

async fn five_xx(ctx: &Context, minutes: u32) -> Result<Observation, ReadError> {
    let groups = cluster::fivexx(&ctx.kube, &ctx.target, since(minutes))
        .await
        .map_err(cluster_err)?;
    let count: usize = groups.iter().map(|g| g.count).sum();
    let level = if count == 0 { Grade::Ok } else { Grade::Fail };
    let facts = StepFacts::graded(level)
        .number(Fact::Responses, count as f64)
        .number(Fact::Groups, groups.len() as f64);
    Ok(Observation {
        reply: present::fivexx_reply(&groups, minutes),
        facts,
        summary: format!("{count} 5xx responses over the last {minutes} min"),
        outcome: "5xx shown".into(),
    })
}

async fn logs(ctx: &Context, cmd: &Logs) -> Result<Observation, ReadError> {
    let grep = match cmd.grep.as_deref().map(case_insensitive) {
        Some(Ok(re)) => Some(re),
        Some(Err(err)) => {
            return Err(ReadError::Refused(format!(
                "--grep pattern is not valid: {err}"
            )));
        }
        None => None,
    };
    let which = match &cmd.target {
        LogsTarget::Deployment => None,
        LogsTarget::Pod(name) => Some(name.as_str()),
    };
    let logs = cluster::logs(
        &ctx.kube,
        &ctx.target,
        which,
        Some(i64::from(cmd.tail)),
        grep.as_ref(),
    )
    .await
    .map_err(cluster_err)?;
    Ok(Observation {
        reply: present::logs_reply(&logs),
        facts: StepFacts::graded(Grade::Ok).number(Fact::Lines, logs.lines.len() as f64),
        summary: format!("{} log lines", logs.lines.len()),
        outcome: "logs shown".into(),
    })
}

/// `--grep` matches like `grep -i`: the pattern is literal text, not a regular expression.
fn case_insensitive(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(&regex::escape(pattern))
        .case_insensitive(true)
        .build()
}

async fn status(ctx: &Context) -> Result<Observation, ReadError> {
    let state = cluster::rollout_status(&ctx.kube, &ctx.target)
        .await
        .map_err(cluster_err)?;
    let level = if state.is_complete() {
        Grade::Ok
    } else if state.is_failed() {
        Grade::Fail
    } else {
        Grade::Warn
    };
    let complete = f64::from(u8::from(state.is_complete()));
    Ok(Observation {
        reply: present::status_reply(&state),
        facts: StepFacts::graded(level).number(Fact::Complete, complete),
        summary: state.message().to_string(),
        outcome: "status shown".into(),
    })
}

async fn history(ctx: &Context) -> Result<Observation, ReadError> {
    let revisions = cluster::history(&ctx.kube, &ctx.target)
        .await
        .map_err(cluster_err)?;
    Ok(Observation {
        reply: present::history_reply(&revisions, &ctx.target.container, ctx.clock.now()),
        facts: StepFacts::graded(Grade::Ok).number(Fact::Revisions, revisions.len() as f64),
        summary: format!("{} revisions", revisions.len()),
        outcome: "history shown".into(),
    })
}

fn count(lines: &[CheckResult], level: CheckLevel) -> f64 {
    lines.iter().filter(|l| l.level == level).count() as f64
}

async fn health(ctx: &Context, cmd: &Health) -> Result<Observation, ReadError> {
    let pod_proxy = cmd.pods.then_some(&ctx.pod_proxy);
    let report = checks::run_health(&ctx.checks, &ctx.kube, &ctx.target, pod_proxy).await;
    let facts = StepFacts::graded(grade(report.verdict))
        .number(Fact::Failing, count(&report.lines, CheckLevel::Fail))
        .number(Fact::Warning, count(&report.lines, CheckLevel::Warn));
    let summary = format!(
        "health {}: {}",
        report.verdict.as_str(),
        checks_present::verdict_line(&report.lines)
    );
    Ok(Observation {
        reply: checks_present::health_reply(&report),
        facts,
        summary,
        outcome: format!("health {}", report.verdict.as_str()),
    })
}

async fn latency(ctx: &Context, cmd: &Latency) -> Result<Observation, ReadError> {
    let cfg = &ctx.checks;
    let Some(base) = &cfg.api_url else {
        return Err(ReadError::Failed(
            "latency: no API URL configured (set `checks.api_url`)".into(),
        ));
    };
    let url = http_check::join(base, &cfg.health_path);
    let report = checks::measure_latency(&url, cmd.samples, cfg)
        .await
        .map_err(|err| ReadError::Failed(err.to_string()))?;
    let total = report.spread(|p| Some(p.total));
    let ttfb = report.spread(|p| Some(p.ttfb));
    let warn_ms = cfg.thresholds.latency_warn_ms as f64;
    let median_ms = total.as_ref().map(|s| s.median * 1000.0);
    let level = match median_ms {
        None => Grade::Fail,
        Some(_) if !report.failures.is_empty() => Grade::Warn,
        Some(ms) if ms > warn_ms => Grade::Warn,
        Some(_) => Grade::Ok,
    };
    let facts = StepFacts::graded(level)
        .maybe(Fact::TotalMedianMs, median_ms)
        .maybe(Fact::TotalMaxMs, total.as_ref().map(|s| s.max * 1000.0))
        .maybe(Fact::TtfbMedianMs, ttfb.map(|s| s.median * 1000.0))
        .number(Fact::Failures, report.failures.len() as f64);
    let summary = match median_ms {
        Some(ms) => format!(
            "median {ms:.0} ms over {} samples (warns above {warn_ms:.0} ms)",
            report.samples.len()
        ),
        None => format!("no sample answered ({} failures)", report.failures.len()),
    };
    Ok(Observation {
        reply: checks_present::latency_reply(&report, cfg.thresholds.latency_warn_ms),
        facts,
        summary,
        outcome: format!("latency of {} samples", report.samples.len()),
    })
}

/// The app's metrics, graded by the one metrics judge ([`checks::metrics::judge_recent`]) on recent rates when
/// they can be had (Prometheus' window when configured, else each pod scraped twice through the pod proxy).
async fn metrics(ctx: &Context) -> Result<Observation, ReadError> {
    let cfg = &ctx.checks;
    let Some(base) = &cfg.api_url else {
        return Err(ReadError::Failed(
            "metrics: no API URL configured (set `checks.api_url`)".into(),
        ));
    };
    let client =
        http_check::client_for(cfg).map_err(|why| ReadError::Failed(format!("metrics: {why}")))?;
    let url = http_check::join(base, &cfg.metrics_path);
    let started = Instant::now();
    let windowed = async {
        match &cfg.prometheus_url {
            Some(p) => prometheus::windowed(&client, p).await,
            None => {
                let (port, path, gap) = (cfg.pod_port, &cfg.metrics_path, cfg.metrics_gap);
                window::scrape_twice(&ctx.pod_proxy, &ctx.target, port, path, gap, cfg.timeout)
                    .await
            }
        }
    };
    let (scraped, windowed) = tokio::join!(checks::scrape_metrics(&client, &url), windowed);
    let summary = scraped.map_err(|err| ReadError::Failed(err.to_string()))?;
    let recent = windowed.as_ref().ok();
    let lines =
        checks::metrics::judge_recent(&summary, recent, &cfg.thresholds, &url, started.elapsed());
    let level = grade(checks::result::worst(&lines));
    let judged = checks::metrics::judged_figures(&summary, recent);
    let facts = StepFacts::graded(level)
        .maybe(Fact::CacheHitRate, judged.cache_hit_rate)
        .maybe(Fact::PoolActive, summary.pool_active)
        .maybe(Fact::PoolIdle, summary.pool_idle)
        .maybe(Fact::PoolMax, summary.pool_max)
        .maybe(Fact::PoolWaitSeconds, summary.pool_wait_seconds)
        .maybe(Fact::ErrorRatio, judged.error_ratio)
        .maybe(
            Fact::LatencyP50Ms,
            judged.latency.map(|(p50, _)| p50 * 1000.0),
        )
        .maybe(
            Fact::LatencyP99Ms,
            judged.latency.map(|(_, p99)| p99 * 1000.0),
        );
    let findings: Vec<String> = lines
        .iter()
        .filter(|l| matches!(l.level, CheckLevel::Warn | CheckLevel::Fail))
        .map(|l| format!("{}: {}", l.name, l.reason))
        .collect();
    let found = if findings.is_empty() {
        "metrics ok".to_string()
    } else {
        findings.join("; ")
    };
    Ok(Observation {
        reply: checks_present::metrics_reply(&summary, &lines, Some(&windowed)),
        facts,
        summary: found,
        outcome: "metrics shown".into(),
    })
}
