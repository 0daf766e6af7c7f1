//! Resource usage and error rate as check lines: CPU per pod against the thresholds (from metrics.k8s.io, as
//! `kubectl top`), and the share of 5xx access lines in the pods' recent logs (the manual's grep for 500|502|503).

use std::collections::BTreeMap;
use std::time::Duration;

use super::config::Thresholds;
use super::result::{CheckLevel, CheckResult};
use crate::cluster::{self, PodUsage, Target};

/// The `cpu` line: the busiest pod against the warn / fail thresholds, every pod above them named.
pub fn cpu_check(usage: &[PodUsage], thresholds: &Thresholds, elapsed: Duration) -> CheckResult {
    let what = "CPU per pod (metrics.k8s.io)";
    let Some(busiest) = usage.iter().max_by_key(|u| u.cpu_millicores) else {
        return CheckResult::new("cpu", what, CheckLevel::Warn, "no pod metrics", elapsed);
    };
    let above = |limit: u64| -> Vec<String> {
        usage
            .iter()
            .filter(|u| u.cpu_millicores > limit)
            .map(|u| format!("{} {}m", u.pod, u.cpu_millicores))
            .collect()
    };
    let (level, limit) = if busiest.cpu_millicores > thresholds.cpu_fail_millicores {
        (CheckLevel::Fail, thresholds.cpu_fail_millicores)
    } else if busiest.cpu_millicores > thresholds.cpu_warn_millicores {
        (CheckLevel::Warn, thresholds.cpu_warn_millicores)
    } else {
        let reason = format!(
            "highest {}m ({}) of {} pods, under {}m",
            busiest.cpu_millicores,
            busiest.pod,
            usage.len(),
            thresholds.cpu_warn_millicores
        );
        return CheckResult::new("cpu", what, CheckLevel::Ok, reason, elapsed);
    };
    CheckResult::new(
        "cpu",
        what,
        level,
        format!("above {limit}m: {}", above(limit).join(", ")),
        elapsed,
    )
}

/// Reads usage and judges it.
pub async fn cpu(client: &kube::Client, target: &Target, thresholds: &Thresholds) -> CheckResult {
    let started = std::time::Instant::now();
    match cluster::top(client, target).await {
        Ok(usage) => cpu_check(&usage, thresholds, started.elapsed()),
        Err(err) => CheckResult::new(
            "cpu",
            "metrics.k8s.io",
            CheckLevel::Warn,
            err.to_string(),
            started.elapsed(),
        ),
    }
}

/// Counts of access lines: all, and 5xx.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccessCounts {
    pub total: u64,
    pub server_errors: u64,
}

/// Counts the access lines of `lines` and those with a 5xx status.
pub fn count_access(lines: &[cluster::LogLine]) -> AccessCounts {
    let mut counts = AccessCounts::default();
    for line in lines {
        if let Some((_, _, status)) = cluster::log_5xx::parse_access(&line.text) {
            counts.total += 1;
            if (500..600).contains(&status) {
                counts.server_errors += 1;
            }
        }
    }
    counts
}

/// The `5xx` line from a share of server errors.
pub fn error_ratio_check(
    source: &str,
    errors: f64,
    total: f64,
    thresholds: &Thresholds,
    elapsed: Duration,
) -> CheckResult {
    if total <= 0.0 {
        return CheckResult::new(
            "5xx",
            source,
            CheckLevel::Ok,
            "no requests in the window",
            elapsed,
        );
    }
    let ratio = errors / total;
    let level = if ratio > thresholds.error_ratio_fail {
        CheckLevel::Fail
    } else if ratio > thresholds.error_ratio_warn {
        CheckLevel::Warn
    } else {
        CheckLevel::Ok
    };
    let reason = format!(
        "{:.1}% 5xx ({} of {} requests)",
        ratio * 100.0,
        errors.round(),
        total.round()
    );
    CheckResult::new("5xx", source, level, reason, elapsed)
}

/// Access counts per pod.
pub fn count_by_pod(lines: &[cluster::LogLine]) -> BTreeMap<String, AccessCounts> {
    let mut by_pod: BTreeMap<String, AccessCounts> = BTreeMap::new();
    for line in lines {
        let counts = count_access(std::slice::from_ref(line));
        let entry = by_pod.entry(line.pod.clone()).or_default();
        entry.total += counts.total;
        entry.server_errors += counts.server_errors;
    }
    by_pod
}

/// Fewest access lines a pod needs before its own 5xx share counts.
const MIN_POD_REQUESTS: u64 = 2;

/// The 5xx line from the pods' access lines: the overall share, and any pod whose own share is above the fail
/// threshold named (a crash-looping release serves 5xx from a pod the overall share dilutes).
pub fn error_ratio_by_pod(
    source: &str,
    lines: &[cluster::LogLine],
    thresholds: &Thresholds,
    elapsed: Duration,
) -> CheckResult {
    let total = count_access(lines);
    let mut result = error_ratio_check(
        source,
        total.server_errors as f64,
        total.total as f64,
        thresholds,
        elapsed,
    );
    let bad: Vec<String> = count_by_pod(lines)
        .into_iter()
        .filter(|(_, c)| {
            c.total >= MIN_POD_REQUESTS
                && c.server_errors as f64 / c.total as f64 > thresholds.error_ratio_fail
        })
        .map(|(pod, c)| format!("{pod} {} of {}", c.server_errors, c.total))
        .collect();
    if !bad.is_empty() {
        result.level = CheckLevel::Fail;
        result.reason = format!("{}; 5xx from: {}", result.reason, bad.join(", "));
    }
    result
}

/// Log lines per pod the 5xx share is computed over (the manual's `--tail=500`).
pub const ERROR_TAIL: i64 = 500;

/// The 5xx share in the last [`ERROR_TAIL`] log lines of every pod (the manual's `kubectl logs --tail=500 |
/// grep "500\|502\|503"`), with any pod serving mostly 5xx named. A pod that restarted contributes its previous
/// container's last lines too, up to the same [`ERROR_TAIL`], so a crash-looping pod's errors are not lost at each
/// restart.
pub async fn error_ratio_from_logs(
    client: &kube::Client,
    target: &Target,
    thresholds: &Thresholds,
) -> CheckResult {
    let started = std::time::Instant::now();
    let source = format!("last {ERROR_TAIL} log lines of each pod, across restarts");
    let pods = match cluster::pods::list_pods(client, target, None).await {
        Ok(p) => p,
        Err(err) => {
            return CheckResult::new(
                "5xx",
                source,
                CheckLevel::Warn,
                err.to_string(),
                started.elapsed(),
            );
        }
    };
    match cluster::logs::read_tail_across_restarts(client, target, &pods, ERROR_TAIL).await {
        Ok(logs) => error_ratio_by_pod(&source, &logs.lines, thresholds, started.elapsed()),
        Err(err) => CheckResult::new(
            "5xx",
            source,
            CheckLevel::Warn,
            err.to_string(),
            started.elapsed(),
        ),
    }
}
