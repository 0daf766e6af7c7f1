//! Read-only runbook steps: each runs its command against the live cluster and the app (as the command itself
//! does), and hands back the reply to post plus the facts later steps' conditions read.

use crate::command::Read;
use std::time::{Duration, Instant};

use crate::checks::{self, CheckLevel, CheckResult, http_check};
use crate::cluster::{self, ClusterError};
use crate::command::{Command, LogsTarget};
use crate::present;
use crate::present::checks as checks_present;
use crate::reply::Reply;
use crate::runbook::{Grade, StepFacts};

use super::super::Context;

/// What a read-only step found.
pub(super) struct Observed {
    pub reply: Reply,
    pub facts: StepFacts,
    /// One line for the run's summary.
    pub summary: String,
}

fn grade(level: CheckLevel) -> Grade {
    match level {
        CheckLevel::Skip | CheckLevel::Ok => Grade::Ok,
        CheckLevel::Warn => Grade::Warn,
        CheckLevel::Fail => Grade::Fail,
    }
}

fn cluster_err(err: ClusterError) -> String {
    if err.is_user_facing() {
        err.to_string()
    } else {
        format!("the cluster call failed: {err}")
    }
}

/// Runs a read-only command as a step. `Err` says why it could not run.
pub(super) async fn observe(ctx: &Context, command: &Command) -> Result<Observed, String> {
    match command {
        Command::Read(Read::Top(_)) => top(ctx).await,
        Command::Read(Read::Pods(c)) => pods(ctx, c.selector.as_deref()).await,
        Command::Read(Read::Errors(c)) => errors(ctx, c.since_minutes).await,
        Command::Read(Read::FiveXx(c)) => five_xx(ctx, c.since_minutes).await,
        Command::Read(Read::Logs(c)) => logs(ctx, c).await,
        Command::Read(Read::Status(_)) => status(ctx).await,
        Command::Read(Read::History(_)) => history(ctx).await,
        Command::Read(Read::Health(c)) => health(ctx, c.pods).await,
        Command::Read(Read::Metrics(_)) => metrics(ctx).await,
        Command::Read(Read::Latency(c)) => latency(ctx, c.samples).await,
        other => Err(format!("`{}` cannot run as a runbook step", other.name())),
    }
}

async fn top(ctx: &Context) -> Result<Observed, String> {
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
        .number("cpu_max_millicores", max as f64)
        .number("cpu_avg_millicores", avg.round())
        .number("memory_max_mib", mem.round())
        .number("pods", usage.len() as f64);
    let summary = format!(
        "{} pods, CPU up to {max}m per pod (average {avg:.0}m) — {}",
        usage.len(),
        check.reason
    );
    Ok(Observed {
        reply: present::top_reply(&usage),
        facts,
        summary,
    })
}

async fn pods(ctx: &Context, selector: Option<&str>) -> Result<Observed, String> {
    let rows = cluster::pods(&ctx.kube, &ctx.target, selector)
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
        .number("pods", rows.len() as f64)
        .number("ready", ready as f64)
        .number("not_ready", not_ready as f64)
        .number("restarts", restarts as f64);
    let summary = format!("{ready} of {} pods ready, {restarts} restarts", rows.len());
    Ok(Observed {
        reply: present::pods_reply(&rows, ctx.clock.now()),
        facts,
        summary,
    })
}

fn since(minutes: u32) -> Duration {
    Duration::from_secs(u64::from(minutes) * 60)
}

async fn errors(ctx: &Context, minutes: u32) -> Result<Observed, String> {
    let groups = cluster::errors(&ctx.kube, &ctx.target, since(minutes))
        .await
        .map_err(cluster_err)?;
    let count: usize = groups.iter().map(|g| g.count).sum();
    let level = if count == 0 { Grade::Ok } else { Grade::Warn };
    let facts = StepFacts::graded(level)
        .number("errors", count as f64)
        .number("groups", groups.len() as f64);
    let summary = format!(
        "{count} error lines in {} kinds over the last {minutes} min",
        groups.len()
    );
    Ok(Observed {
        reply: present::errors_reply(&groups, minutes),
        facts,
        summary,
    })
}

async fn five_xx(ctx: &Context, minutes: u32) -> Result<Observed, String> {
    let groups = cluster::fivexx(&ctx.kube, &ctx.target, since(minutes))
        .await
        .map_err(cluster_err)?;
    let count: usize = groups.iter().map(|g| g.count).sum();
    let level = if count == 0 { Grade::Ok } else { Grade::Fail };
    let facts = StepFacts::graded(level)
        .number("responses", count as f64)
        .number("groups", groups.len() as f64);
    let summary = format!("{count} 5xx responses over the last {minutes} min");
    Ok(Observed {
        reply: present::fivexx_reply(&groups, minutes),
        facts,
        summary,
    })
}

async fn logs(ctx: &Context, cmd: &crate::command::Logs) -> Result<Observed, String> {
    let grep = match cmd.grep.as_deref() {
        Some(p) => Some(
            regex::RegexBuilder::new(&regex::escape(p))
                .case_insensitive(true)
                .build()
                .map_err(|e| format!("--grep pattern is not valid: {e}"))?,
        ),
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
    let facts = StepFacts::graded(Grade::Ok).number("lines", logs.lines.len() as f64);
    let summary = format!("{} log lines", logs.lines.len());
    Ok(Observed {
        reply: present::logs_reply(&logs),
        facts,
        summary,
    })
}

async fn status(ctx: &Context) -> Result<Observed, String> {
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
    let facts =
        StepFacts::graded(level).number("complete", f64::from(u8::from(state.is_complete())));
    Ok(Observed {
        reply: present::status_reply(&state),
        facts,
        summary: state.message().to_string(),
    })
}

async fn history(ctx: &Context) -> Result<Observed, String> {
    let revisions = cluster::history(&ctx.kube, &ctx.target)
        .await
        .map_err(cluster_err)?;
    let facts = StepFacts::graded(Grade::Ok).number("revisions", revisions.len() as f64);
    let summary = format!("{} revisions", revisions.len());
    let reply = present::history_reply(&revisions, &ctx.target.container, ctx.clock.now());
    Ok(Observed {
        reply,
        facts,
        summary,
    })
}

fn counts(lines: &[CheckResult]) -> (usize, usize) {
    let failing = lines.iter().filter(|l| l.level == CheckLevel::Fail).count();
    let warning = lines.iter().filter(|l| l.level == CheckLevel::Warn).count();
    (failing, warning)
}

async fn health(ctx: &Context, each_pod: bool) -> Result<Observed, String> {
    let report = checks::run_health(
        &ctx.checks,
        &ctx.kube,
        &ctx.target,
        each_pod.then_some(&ctx.pod_proxy),
    )
    .await;
    let (failing, warning) = counts(&report.lines);
    let facts = StepFacts::graded(grade(report.verdict))
        .number("failing", failing as f64)
        .number("warning", warning as f64);
    let summary = format!(
        "health {}: {}",
        report.verdict.as_str(),
        checks_present::verdict_line(&report.lines)
    );
    Ok(Observed {
        reply: checks_present::health_reply(&report),
        facts,
        summary,
    })
}

async fn metrics(ctx: &Context) -> Result<Observed, String> {
    let cfg = &ctx.checks;
    let base = cfg
        .api_url
        .as_deref()
        .ok_or("metrics: no API URL configured (set `checks.api_url`)")?;
    let client = http_check::client_for(cfg)?;
    let url = http_check::join(base, &cfg.metrics_path);
    let summary = checks::scrape_metrics(&client, &url)
        .await
        .map_err(|e| e.to_string())?;
    let requests = summary.requests();
    let ratio = (requests > 0.0).then(|| summary.server_errors() / requests);
    let (level, findings) = judge_metrics(&summary, ratio, &cfg.thresholds);
    let facts = StepFacts::graded(level)
        .maybe("cache_hit_rate", summary.cache_hit_rate)
        .maybe("pool_active", summary.pool_active)
        .maybe("pool_idle", summary.pool_idle)
        .maybe("pool_max", summary.pool_max)
        .maybe("pool_wait_seconds", summary.pool_wait_seconds)
        .maybe("error_ratio", ratio)
        .maybe("latency_p50_ms", summary.latency_p50.map(|s| s * 1000.0))
        .maybe("latency_p99_ms", summary.latency_p99.map(|s| s * 1000.0));
    let text = if findings.is_empty() {
        "metrics ok".to_string()
    } else {
        findings.join("; ")
    };
    let reply = metrics_reply(&summary, ratio, level, &url);
    Ok(Observed {
        reply,
        facts,
        summary: text,
    })
}

/// The metrics' grade by the `[checks]` thresholds: a full DB pool or a cache hit rate below its fail threshold
/// fails; a busy pool, a low hit rate or a 5xx share above its warn threshold warns.
fn judge_metrics(
    m: &checks::MetricsSummary,
    ratio: Option<f64>,
    t: &checks::Thresholds,
) -> (Grade, Vec<String>) {
    let mut findings = Vec::new();
    let mut level = Grade::Ok;
    let mut note = |g: Grade, text: String| {
        level = level.max(g);
        findings.push(text);
    };
    if let (Some(active), Some(max)) = (m.pool_active, m.pool_max)
        && max > 0.0
    {
        if active >= max {
            note(
                Grade::Fail,
                format!("DB pool full: {active:.0} of {max:.0} connections in use"),
            );
        } else if active / max >= t.pool_warn_ratio {
            note(
                Grade::Warn,
                format!("DB pool busy: {active:.0} of {max:.0} connections in use"),
            );
        }
    }
    if let Some(hit) = m.cache_hit_rate {
        if hit < t.cache_hit_fail {
            note(Grade::Fail, format!("cache hit rate {:.0}%", hit * 100.0));
        } else if hit < t.cache_hit_warn {
            note(Grade::Warn, format!("cache hit rate {:.0}%", hit * 100.0));
        }
    }
    if let Some(r) = ratio {
        if r > t.error_ratio_fail {
            note(Grade::Fail, format!("{:.1}% 5xx", r * 100.0));
        } else if r > t.error_ratio_warn {
            note(Grade::Warn, format!("{:.1}% 5xx", r * 100.0));
        }
    }
    (level, findings)
}

fn metrics_reply(m: &checks::MetricsSummary, ratio: Option<f64>, level: Grade, url: &str) -> Reply {
    let show =
        |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map(f).unwrap_or_else(|| "—".to_string());
    let mut fields = vec![
        (
            "Cache hit rate".to_string(),
            show(m.cache_hit_rate, &|v| format!("{:.0}%", v * 100.0)),
        ),
        (
            "DB pool (active / idle / max)".to_string(),
            format!(
                "{} / {} / {}",
                show(m.pool_active, &|v| format!("{v:.0}")),
                show(m.pool_idle, &|v| format!("{v:.0}")),
                show(m.pool_max, &|v| format!("{v:.0}"))
            ),
        ),
        (
            "DB pool wait (total)".to_string(),
            show(m.pool_wait_seconds, &|v| format!("{v:.1} s")),
        ),
        (
            "5xx share".to_string(),
            show(ratio, &|v| format!("{:.2}%", v * 100.0)),
        ),
        (
            "Latency p50 / p99".to_string(),
            format!(
                "{} / {}",
                show(m.latency_p50, &|v| format!("{:.0} ms", v * 1000.0)),
                show(m.latency_p99, &|v| format!("{:.0} ms", v * 1000.0))
            ),
        ),
    ];
    if let Some(pod) = &m.served_by {
        fields.push(("Served by".to_string(), pod.clone()));
    }
    let tone = match level {
        Grade::Ok => crate::reply::Level::Ok,
        Grade::Warn => crate::reply::Level::Warn,
        Grade::Fail => crate::reply::Level::Fail,
    };
    Reply::new(crate::reply::ReplyKind::Result, tone)
        .with_header(format!("Metrics from {url}"))
        .with_block(crate::reply::Block::Fields { fields })
}

async fn latency(ctx: &Context, samples: u32) -> Result<Observed, String> {
    let cfg = &ctx.checks;
    let base = cfg
        .api_url
        .as_deref()
        .ok_or("latency: no API URL configured (set `checks.api_url`)")?;
    let url = http_check::join(base, &cfg.health_path);
    let report = checks::measure_latency(&url, samples, cfg)
        .await
        .map_err(|e| e.to_string())?;
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
        .maybe("total_median_ms", median_ms)
        .maybe("total_max_ms", total.as_ref().map(|s| s.max * 1000.0))
        .maybe("ttfb_median_ms", ttfb.map(|s| s.median * 1000.0))
        .number("failures", report.failures.len() as f64);
    let summary = match median_ms {
        Some(ms) => format!(
            "median {ms:.0} ms over {} samples (warns above {warn_ms:.0} ms)",
            report.samples.len()
        ),
        None => format!("no sample answered ({} failures)", report.failures.len()),
    };
    Ok(Observed {
        reply: checks_present::latency_reply(&report, cfg.thresholds.latency_warn_ms),
        facts,
        summary,
    })
}
