//! Replies of the looking commands: `health`, `latency`, `metrics`, `db tables`, `db vacuum` and `checklist`.

use crate::checks::db::{TableSize, VacuumOutcome, VacuumReport};
use crate::checks::latency::{LatencyReport, Phases, Spread};
use crate::checks::prometheus::WindowedRates;
use crate::checks::result::worst;
use crate::checks::{CheckLevel, CheckResult, HealthReport, MetricsSummary};
use crate::reply::{Block, Level, Reply, ReplyKind, StatusLine, Table};

/// Check results as a status block (`ok  api  200 healthy  12 ms`).
pub fn status_block(lines: &[CheckResult]) -> Block {
    Block::Status {
        lines: lines
            .iter()
            .map(|l| StatusLine {
                level: l.level.level(),
                label: l.name.clone(),
                detail: l.reason.clone(),
                millis: l.millis,
            })
            .collect(),
    }
}

/// One sentence: `ok — 7 checks`, or `FAIL — api: 503 …; cache: connection refused`.
pub fn verdict_line(lines: &[CheckResult]) -> String {
    let verdict = worst(lines);
    let counted = lines.iter().filter(|l| l.level != CheckLevel::Skip).count();
    match verdict {
        CheckLevel::Ok | CheckLevel::Skip => format!("ok — all {counted} checks pass"),
        level => {
            let bad: Vec<String> = lines
                .iter()
                .filter(|l| l.level == level)
                .map(|l| format!("{}: {}", l.name, l.reason))
                .collect();
            let word = if level == CheckLevel::Fail {
                "FAIL"
            } else {
                "warn"
            };
            format!("{word} — {}", bad.join("; "))
        }
    }
}

/// The `health` answer: one line per check, then the verdict and the time taken (the slowest check).
pub fn health_reply(report: &HealthReport) -> Reply {
    let summary = format!(
        "{} (in {} ms, checks run at once)",
        verdict_line(&report.lines),
        report.total_millis
    );
    Reply::new(ReplyKind::Result, report.verdict.level())
        .with_header("Health")
        .with_block(status_block(&report.lines))
        .with_block(Block::Text { text: summary })
}

fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.0} ms")
    }
}

fn spread_row(name: &str, spread: Option<Spread>) -> Vec<String> {
    match spread {
        Some(s) => vec![name.into(), ms(s.min), ms(s.median), ms(s.max)],
        None => vec![name.into(), "—".into(), "—".into(), "—".into()],
    }
}

/// The `latency` answer: min / median / max of each phase (cumulative from the start, as `curl -w`).
pub fn latency_reply(report: &LatencyReport, warn_ms: u64) -> Reply {
    let rows = vec![
        spread_row("DNS", report.spread(|p: &Phases| Some(p.dns))),
        spread_row("connect", report.spread(|p| Some(p.connect))),
        spread_row("TLS", report.spread(|p| p.tls)),
        spread_row("first byte", report.spread(|p| Some(p.ttfb))),
        spread_row("total", report.spread(|p| Some(p.total))),
    ];
    let median_total = report.spread(|p| Some(p.total)).map(|s| s.median);
    let bad_status = report
        .samples
        .iter()
        .filter(|p| !(200..300).contains(&p.status))
        .count();
    let level = if report.samples.is_empty() || bad_status > 0 {
        Level::Fail
    } else if !report.failures.is_empty() || median_total.is_some_and(|m| m > warn_ms as f64) {
        Level::Warn
    } else {
        Level::Ok
    };
    let mut text = format!(
        "{} of {} samples answered",
        report.samples.len(),
        report.samples.len() + report.failures.len()
    );
    if let Some(m) = median_total {
        text.push_str(&format!(
            "; median total {} (warn above {warn_ms} ms)",
            ms(m)
        ));
    }
    if bad_status > 0 {
        text.push_str(&format!("; {bad_status} answered with an error status"));
    }
    let mut reply = Reply::new(ReplyKind::Result, level)
        .with_header(format!("Latency of {}", report.url))
        .with_block(Block::Table {
            table: Table {
                columns: vec![
                    "PHASE (cumulative)".into(),
                    "MIN".into(),
                    "MEDIAN".into(),
                    "MAX".into(),
                ],
                rows,
            },
        })
        .with_block(Block::Text { text });
    if !report.failures.is_empty() {
        reply = reply.with_block(Block::Text {
            text: format!("Failed samples: {}", report.failures.join("; ")),
        });
    }
    reply
}

/// The `metrics` answer: the judged lines, the raw figures, and the recent rates (or why there are none).
pub fn metrics_reply(
    summary: &MetricsSummary,
    lines: &[CheckResult],
    windowed: Option<&Result<WindowedRates, String>>,
) -> Reply {
    let mut fields: Vec<(String, String)> = Vec::new();
    if let Some(pod) = &summary.served_by {
        fields.push((
            "Scraped from".into(),
            format!("{pod} (one pod behind the load balancer)"),
        ));
    }
    if let (Some(h), Some(m)) = (summary.cache_hits, summary.cache_misses) {
        fields.push((
            "Cache hits / misses".into(),
            format!("{h:.0} / {m:.0} since the process started"),
        ));
    }
    let by_status: Vec<String> = summary
        .requests_by_status
        .iter()
        .map(|(s, n)| format!("{s}: {n:.0}"))
        .collect();
    if !by_status.is_empty() {
        fields.push((
            "Requests by status".into(),
            format!("{} since the process started", by_status.join(", ")),
        ));
    }
    match windowed {
        None => {}
        Some(Ok(w)) => {
            let pct = |v: Option<f64>| v.map_or("—".into(), |x| format!("{:.1}%", x * 100.0));
            let rate =
                |v: Option<f64>, unit: &str| v.map_or("—".into(), |x| format!("{x:.2} {unit}"));
            fields.push(("Recent window".into(), w.source.clone()));
            fields.push(("Request rate".into(), rate(w.requests_per_second, "/s")));
            fields.push(("5xx share".into(), pct(w.error_ratio)));
            fields.push(("Cache hit rate".into(), pct(w.cache_hit_rate)));
            fields.push(("Pool wait".into(), rate(w.pool_wait_per_second, "s/s")));
            let p = |v: Option<f64>| v.map_or("—".into(), |x| ms(x * 1000.0));
            fields.push((
                "Latency p50 / p99".into(),
                format!(
                    "{} / {}",
                    p(w.latency_p50_seconds),
                    p(w.latency_p99_seconds)
                ),
            ));
        }
        Some(Err(reason)) => {
            fields.push(("Recent window".into(), format!("unavailable: {reason}")))
        }
    }
    Reply::new(ReplyKind::Result, worst(lines).level())
        .with_header("Metrics")
        .with_block(status_block(lines))
        .with_block(Block::Fields { fields })
}

/// The `db tables` answer, largest first.
pub fn tables_reply(tables: &[TableSize]) -> Reply {
    if tables.is_empty() {
        return Reply::text(
            ReplyKind::Result,
            Level::Info,
            "The database has no user tables.",
        )
        .with_header("Tables");
    }
    let rows = tables
        .iter()
        .map(|t| {
            vec![
                t.qualified(),
                t.size.clone(),
                t.rows_estimate.max(0).to_string(),
            ]
        })
        .collect();
    Reply::new(ReplyKind::Result, Level::Info)
        .with_header("Tables (largest first)")
        .with_block(Block::Table {
            table: Table {
                columns: vec!["TABLE".into(), "SIZE".into(), "ROWS (est.)".into()],
                rows,
            },
        })
}

/// The preview of `db vacuum`: which tables, and the SQL that will run.
pub fn vacuum_preview_fields(database: &str, sql: &[String]) -> Vec<(String, String)> {
    vec![
        ("Database".into(), database.to_string()),
        ("Tables".into(), sql.len().to_string()),
        ("SQL".into(), sql.join("; ")),
        (
            "Runs".into(),
            "one statement per table, outside a transaction".into(),
        ),
    ]
}

/// The result of `db vacuum`: each table vacuumed, skipped (a warning) or failed, with times.
pub fn vacuum_reply(report: &VacuumReport) -> Reply {
    let lines: Vec<StatusLine> = report
        .tables
        .iter()
        .map(|(name, outcome, millis)| {
            let (level, detail) = match outcome {
                VacuumOutcome::Vacuumed => (Level::Ok, "vacuumed and analyzed".to_string()),
                VacuumOutcome::Skipped(why) => (Level::Warn, format!("skipped: {why}")),
                VacuumOutcome::Failed(why) => (Level::Fail, format!("failed: {why}")),
            };
            StatusLine {
                level,
                label: name.clone(),
                detail,
                millis: Some(*millis),
            }
        })
        .collect();
    let count =
        |want: fn(&VacuumOutcome) -> bool| report.tables.iter().filter(|(_, o, _)| want(o)).count();
    let done = count(|o| matches!(o, VacuumOutcome::Vacuumed));
    let skipped = count(|o| matches!(o, VacuumOutcome::Skipped(_)));
    let failed = count(|o| matches!(o, VacuumOutcome::Failed(_)));
    let level = if failed > 0 {
        Level::Fail
    } else if skipped > 0 {
        Level::Warn
    } else {
        Level::Ok
    };
    let text = format!(
        "VACUUM ANALYZE: {done} vacuumed, {skipped} skipped, {failed} failed, in {} ms.{}",
        report.total_millis,
        if skipped > 0 {
            " Skipped tables were not vacuumed: the bot's database role must own them."
        } else {
            ""
        }
    );
    Reply::new(ReplyKind::Result, level)
        .with_header("Database maintenance")
        .with_block(Block::Status { lines })
        .with_block(Block::Text { text })
}
