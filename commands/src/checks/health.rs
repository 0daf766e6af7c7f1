//! `health`: every configured check at once, each with its own timeout, so the whole report takes as long as
//! the slowest check (never the sum) and a dependency that never answers costs only its timeout.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::config::ChecksConfig;
use super::http_check::{self, join};
use super::pods::{self, PodsSnapshot};
use super::result::{CheckLevel, CheckResult, with_timeout, worst};
use super::{db, prometheus, redis_check, tdengine, usage};
use crate::cluster::Target;

/// Every line of a health run, the verdict, and how long the run took.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HealthReport {
    pub lines: Vec<CheckResult>,
    pub verdict: CheckLevel,
    pub total_millis: u64,
}

impl HealthReport {
    /// Builds a report from lines; the verdict is the worst line.
    pub fn new(lines: Vec<CheckResult>, elapsed: Duration) -> Self {
        let verdict = worst(&lines);
        HealthReport {
            lines,
            verdict,
            total_millis: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// The line called `name`, if any.
    pub fn line(&self, name: &str) -> Option<&CheckResult> {
        self.lines.iter().find(|l| l.name == name)
    }
}

/// Runs the health checks. With `each_pod` — the client for the pod proxy, without retries
/// ([`pods::proxy_client`]) — also every pod's `/health` through the pod proxy.
pub async fn run_health(
    cfg: &ChecksConfig,
    kube: &kube::Client,
    target: &Target,
    each_pod: Option<&kube::Client>,
) -> HealthReport {
    let started = Instant::now();
    let timeout = cfg.timeout;
    let client = http_check::client_for(cfg);
    let client = &client;
    let thresholds = &cfg.thresholds;

    let api = async {
        let base = match url_of(cfg, "api", "api_url", cfg.api_url.as_deref()) {
            Ok(base) => base,
            Err(line) => return line,
        };
        let url = join(base, &cfg.health_path);
        let check = |c| http_check::api_health(c, &url, thresholds);
        Some(http_line(client, "api", &url, timeout, check).await)
    };
    let database = async {
        let base = match url_of(cfg, "database", "api_url", cfg.api_url.as_deref()) {
            Ok(base) => base,
            Err(line) => return line,
        };
        let url = join(base, &cfg.database_health_path);
        let check = |c| http_check::database_health(c, &url, thresholds);
        Some(http_line(client, "database", &url, timeout, check).await)
    };
    let cache = async {
        let url = match url_of(cfg, "cache", "redis_url", cfg.redis_url.as_deref()) {
            Ok(url) => url,
            Err(line) => return line,
        };
        let shown = crate::store::redact_url(url);
        Some(with_timeout("cache", &shown, timeout, redis_check::ping(url)).await)
    };
    let postgres = async {
        let url = match url_of(cfg, "postgres", "database_url", cfg.database_url.as_deref()) {
            Ok(url) => url,
            Err(line) => return line,
        };
        let shown = crate::store::redact_url(url);
        let check = db::reachability(url, timeout * 2);
        Some(with_timeout("postgres", &shown, timeout, check).await)
    };
    // Optional: without a URL there is no line at all.
    let tdengine = async {
        let base = cfg
            .tdengine_url
            .as_deref()
            .filter(|_| cfg.runs("tdengine"))?;
        let shown = tdengine::sql_url(base);
        let check = |c| tdengine::server_version(c, base);
        Some(http_line(client, "tdengine", &shown, timeout, check).await)
    };
    let prom = async {
        let base = cfg
            .prometheus_url
            .as_deref()
            .filter(|_| cfg.runs("prometheus"))?;
        let url = join(base, "/-/healthy");
        let check = |c| http_check::liveness(c, "prometheus", &url);
        Some(http_line(client, "prometheus", &url, timeout, check).await)
    };
    let pods = pods_lines(cfg, kube, target, each_pod);
    let cpu = async {
        cfg.runs("cpu").then_some(())?;
        let check = usage::cpu(kube, target, thresholds);
        Some(with_timeout("cpu", "metrics.k8s.io", timeout, check).await)
    };
    let errors = async {
        cfg.runs("errors").then_some(())?;
        let check = error_rate(cfg, client.as_ref(), kube, target);
        Some(with_timeout("5xx", "error rate", timeout, check).await)
    };
    let (api, database, cache, postgres, tdengine, prom, (pod_lines, snapshot), cpu, errors) = tokio::join!(
        api, database, cache, postgres, tdengine, prom, pods, cpu, errors
    );
    let api = api.map(|a| cross_check_version(a, snapshot.as_ref()));
    let mut lines: Vec<CheckResult> = [api, database, cache, postgres, tdengine, prom]
        .into_iter()
        .flatten()
        .collect();
    lines.extend(pod_lines);
    lines.extend([cpu, errors].into_iter().flatten());
    HealthReport::new(lines, started.elapsed())
}

/// The URL a check connects to: `Err(None)` when the check is switched off (no line), `Err(Some(line))` when it
/// is on but has nowhere to connect (a "not configured" line).
fn url_of<'a>(
    cfg: &ChecksConfig,
    name: &str,
    setting: &str,
    url: Option<&'a str>,
) -> Result<&'a str, Option<CheckResult>> {
    if !cfg.runs(name) {
        return Err(None);
    }
    url.ok_or_else(|| Some(CheckResult::not_configured(name, setting)))
}

/// An HTTP check with its timeout; when no HTTP client could be built (an unusable `ca_file`), it fails at once
/// saying why.
async fn http_line<'a, F, Fut>(
    client: &'a Result<reqwest::Client, String>,
    name: &str,
    target: &str,
    timeout: Duration,
    check: F,
) -> CheckResult
where
    F: FnOnce(&'a reqwest::Client) -> Fut,
    Fut: Future<Output = CheckResult>,
{
    match client {
        Ok(client) => with_timeout(name, target, timeout, check(client)).await,
        Err(why) => CheckResult::new(name, target, CheckLevel::Fail, why.clone(), Duration::ZERO),
    }
}

/// The `pods` line (and with `each_pod` one line per pod), plus the snapshot for the version cross-check.
async fn pods_lines(
    cfg: &ChecksConfig,
    kube: &kube::Client,
    target: &Target,
    each_pod: Option<&kube::Client>,
) -> (Vec<CheckResult>, Option<PodsSnapshot>) {
    if !cfg.runs("pods") && each_pod.is_none() {
        return (Vec::new(), None);
    }
    let started = Instant::now();
    let what = format!("pods {} in {}", target.selector, target.namespace);
    let snapshot = match tokio::time::timeout(cfg.timeout, pods::snapshot(kube, target)).await {
        Ok(Ok(s)) => s,
        Ok(Err(err)) => {
            return (
                vec![CheckResult::new(
                    "pods",
                    what,
                    CheckLevel::Fail,
                    err.to_string(),
                    started.elapsed(),
                )],
                None,
            );
        }
        Err(_) => {
            return (
                vec![CheckResult::timed_out("pods", &what, cfg.timeout)],
                None,
            );
        }
    };
    let mut lines = vec![pods::summary(&snapshot, target, started.elapsed())];
    if let Some(proxy) = each_pod {
        lines.extend(
            pods::each_pod_health(
                proxy,
                target,
                &snapshot.rows,
                cfg.pod_port,
                &cfg.health_path,
                cfg.timeout,
            )
            .await,
        );
    }
    (lines, Some(snapshot))
}

/// The 5xx share: over Prometheus' window when it is configured, else from the pods' recent access lines.
async fn error_rate(
    cfg: &ChecksConfig,
    client: Result<&reqwest::Client, &String>,
    kube: &kube::Client,
    target: &Target,
) -> CheckResult {
    let started = Instant::now();
    if let Some(base) = &cfg.prometheus_url {
        let q = &prometheus::queries()[1].1;
        let source = format!("Prometheus, last {}", prometheus::WINDOW);
        let answer = match client {
            Ok(client) => prometheus::query(client, base, q).await,
            Err(why) => Err(why.clone()),
        };
        return match answer {
            Ok(Some(ratio)) => {
                let mut r = usage::error_ratio_check(
                    &source,
                    ratio * 1000.0,
                    1000.0,
                    &cfg.thresholds,
                    started.elapsed(),
                );
                r.reason = format!(
                    "{:.1}% 5xx over the last {}",
                    ratio * 100.0,
                    prometheus::WINDOW
                );
                r
            }
            Ok(None) => CheckResult::new(
                "5xx",
                source,
                CheckLevel::Ok,
                "no requests in the window",
                started.elapsed(),
            ),
            Err(reason) => CheckResult::new(
                "5xx",
                source,
                CheckLevel::Warn,
                format!("Prometheus query failed: {reason}"),
                started.elapsed(),
            ),
        };
    }
    usage::error_ratio_from_logs(kube, target, &cfg.thresholds).await
}

/// The load balancer may answer healthy from old pods while the version the deployment wants never serves (a
/// stuck rollout of a bad release): then the API line fails, naming both versions and the failing pods.
pub fn cross_check_version(api: CheckResult, snapshot: Option<&PodsSnapshot>) -> CheckResult {
    let Some(snapshot) = snapshot else { return api };
    let Some(desired) = snapshot.desired_image.as_deref() else {
        return api;
    };
    if api.level == CheckLevel::Fail || api.level == CheckLevel::Skip {
        return api;
    }
    let failing: Vec<&str> = snapshot
        .rows
        .iter()
        .filter(|r| !r.is_terminating())
        .filter(|r| r.image == desired && !(r.status == "Running" && r.ready == r.containers))
        .filter(|r| r.restarts > 0 || r.status.contains("BackOff") || r.status.contains("Err"))
        .map(|r| r.name.as_str())
        .collect();
    let serving_desired = snapshot
        .rows
        .iter()
        .any(|r| r.image == desired && r.status == "Running" && r.ready == r.containers);
    if failing.is_empty() || serving_desired {
        return api;
    }
    CheckResult {
        level: CheckLevel::Fail,
        reason: format!(
            "the deployed {} is not serving (its pods fail: {}); old pods answer: {}",
            pods::tag_of(desired),
            failing.join(", "),
            api.reason
        ),
        ..api
    }
}
