//! Pods: a summary from the API server (crash-looping, unpullable or unready pods named), and for
//! `health --pods` each pod's own `/health` through the API server's pod proxy subresource, so the one bad pod
//! behind the load balancer is named without any network path to the pods.

use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use serde_json::Value;

use super::result::{CheckLevel, CheckResult, with_timeout};
use crate::cluster::{self, PodRow, Target};

/// STATUS values of a pod that is broken rather than on its way up or down.
const BROKEN: [&str; 6] = [
    "CrashLoopBackOff",
    "Error",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "OOMKilled",
];

/// The pods as the API server sees them, and the image the deployment wants.
#[derive(Clone, Debug, Default)]
pub struct PodsSnapshot {
    pub rows: Vec<PodRow>,
    /// The target container's image in the deployment's template.
    pub desired_image: Option<String>,
}

/// Reads the pods and the deployment's desired image.
pub async fn snapshot(
    client: &kube::Client,
    target: &Target,
) -> Result<PodsSnapshot, cluster::ClusterError> {
    let (rows, deployment) = tokio::join!(
        cluster::pods(client, target, None),
        cluster::deployment::get(client, target)
    );
    let desired_image = deployment.ok().and_then(|d| {
        let tpl = cluster::deployment::template(&d);
        tpl.spec?
            .containers
            .iter()
            .find(|c| c.name == target.container)
            .and_then(|c| c.image.clone())
    });
    Ok(PodsSnapshot {
        rows: rows?,
        desired_image,
    })
}

/// The `pods` line: broken pods fail (named, with restarts), unready ones warn. Terminating pods (a scale-down,
/// the old pods of a rollout) are on their way out: they are named but neither counted nor unready.
pub fn summary(snapshot: &PodsSnapshot, target: &Target, elapsed: Duration) -> CheckResult {
    let what = format!("pods {} in {}", target.selector, target.namespace);
    let (terminating, rows): (Vec<&PodRow>, Vec<&PodRow>) =
        snapshot.rows.iter().partition(|r| r.is_terminating());
    let leaving = if terminating.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = terminating.iter().map(|r| r.name.as_str()).collect();
        format!("; {} terminating: {}", names.len(), names.join(", "))
    };
    if rows.is_empty() {
        return CheckResult::new(
            "pods",
            what,
            CheckLevel::Fail,
            format!("no pods match{leaving}"),
            elapsed,
        );
    }
    let broken: Vec<String> = rows
        .iter()
        .filter(|r| BROKEN.contains(&r.status.as_str()))
        .map(|r| {
            format!(
                "{} {} ({} restarts, {})",
                r.name,
                r.status,
                r.restarts,
                tag_of(&r.image)
            )
        })
        .collect();
    let ready = rows.iter().filter(|r| serving(r)).count();
    let unready: Vec<String> = rows
        .iter()
        .filter(|r| !serving(r) && !BROKEN.contains(&r.status.as_str()))
        .map(|r| format!("{} {}", r.name, r.status))
        .collect();
    let counts = format!("{ready}/{} running and ready", rows.len());
    if !broken.is_empty() {
        CheckResult::new(
            "pods",
            what,
            CheckLevel::Fail,
            format!("{counts}; failing: {}{leaving}", broken.join(", ")),
            elapsed,
        )
    } else if !unready.is_empty() {
        CheckResult::new(
            "pods",
            what,
            CheckLevel::Warn,
            format!("{counts}; not ready: {}{leaving}", unready.join(", ")),
            elapsed,
        )
    } else {
        CheckResult::new(
            "pods",
            what,
            CheckLevel::Ok,
            format!("{counts}{leaving}"),
            elapsed,
        )
    }
}

/// Running with every container ready.
pub fn serving(row: &PodRow) -> bool {
    row.status == "Running" && row.ready == row.containers
}

/// The tag of an image reference (`mystocks/api:v1.0.2` → `v1.0.2`), or the reference itself.
pub fn tag_of(image: &str) -> &str {
    let last = image.rsplit('/').next().unwrap_or(image);
    last.rsplit_once(':').map_or(image, |(_, tag)| tag)
}

/// A client for the pod proxy checks: the same cluster and credentials as `config`, without kube-rs's default
/// retries. kube-rs retries 429, 503 and 504 answers up to 15 times with a growing backoff; through the pod proxy
/// a 503 is the finding (a pod's own `/health` answer, or the API server saying it cannot reach the pod), not a
/// transient, and retrying it would only turn the reason into a timeout.
pub fn proxy_client(mut config: kube::Config) -> Result<kube::Client, kube::Error> {
    config.default_retry = false;
    kube::Client::try_from(config)
}

/// Each pod's `/health` through the pod proxy, concurrently, each with its own timeout, one request per pod.
/// `proxy` should be a client without retries ([`proxy_client`]).
///
/// Pods that are not running (CrashLoopBackOff, Pending, …) are reported from their status without a request:
/// nothing listens in them, and their status, restarts and last message say more than the API server's
/// "connection refused".
pub async fn each_pod_health(
    proxy: &kube::Client,
    target: &Target,
    rows: &[PodRow],
    port: u16,
    path: &str,
    timeout: Duration,
) -> Vec<CheckResult> {
    let checks = rows.iter().map(|row| {
        let client = proxy.clone();
        let namespace = target.namespace.clone();
        let row = row.clone();
        let path = path.to_string();
        async move {
            let label = format!("pod {}", row.name);
            let url = proxy_path(&namespace, &row.name, port, &path);
            if row.is_terminating() {
                return CheckResult::new(
                    &label,
                    &url,
                    CheckLevel::Skip,
                    "terminating (being removed); not asked",
                    Duration::ZERO,
                );
            }
            if row.status != "Running" {
                return not_running(&label, &url, &row);
            }
            with_timeout(
                &label,
                &url,
                timeout,
                one_pod(client, &row, label.clone(), url.clone()),
            )
            .await
        }
    });
    futures::future::join_all(checks).await
}

/// A pod that is not running cannot answer: its status, restarts and last message say why.
fn not_running(label: &str, url: &str, row: &PodRow) -> CheckResult {
    let broken = BROKEN.contains(&row.status.as_str());
    let message = row
        .message
        .as_deref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    let reason = format!(
        "{} ({} restarts, {}){message}; the API server cannot reach it (connection refused)",
        row.status,
        row.restarts,
        tag_of(&row.image)
    );
    let level = if broken {
        CheckLevel::Fail
    } else {
        CheckLevel::Warn
    };
    CheckResult::new(label, url, level, reason, Duration::ZERO)
}

/// `/api/v1/namespaces/NS/pods/NAME:PORT/proxy/PATH`.
pub fn proxy_path(namespace: &str, pod: &str, port: u16, path: &str) -> String {
    format!(
        "/api/v1/namespaces/{namespace}/pods/{pod}:{port}/proxy/{}",
        path.trim_start_matches('/')
    )
}

async fn one_pod(client: kube::Client, row: &PodRow, label: String, url: String) -> CheckResult {
    let started = Instant::now();
    match proxy_get(&client, &url).await {
        Ok((status, body)) => {
            let (level, reason) = judge_pod_answer(status, &body);
            let (level, reason) = starting_is_a_warning(level, reason, row);
            CheckResult::new(&label, &url, level, reason, started.elapsed())
        }
        Err(reason) => CheckResult::new(&label, &url, CheckLevel::Fail, reason, started.elapsed()),
    }
}

/// A running pod that has not passed its readiness probe yet gets no traffic; its failing `/health` is a
/// warning (as the `pods` line counts it), with its readiness named. A ready pod that fails is a failure.
fn starting_is_a_warning(level: CheckLevel, reason: String, row: &PodRow) -> (CheckLevel, String) {
    if level == CheckLevel::Fail && row.ready < row.containers && row.restarts == 0 {
        let why = format!("not ready ({}/{}): {reason}", row.ready, row.containers);
        (CheckLevel::Warn, why)
    } else {
        (level, reason)
    }
}

/// GET through the API server (a pod proxy path): status and body.
pub async fn proxy_get(client: &kube::Client, url: &str) -> Result<(u16, String), String> {
    let request = http::Request::get(url)
        .body(Vec::new())
        .map_err(|e| e.to_string())?;
    let response = client
        .send(request.map(kube::client::Body::from))
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    Ok((
        status,
        String::from_utf8_lossy(&body.to_bytes()).into_owned(),
    ))
}

/// A pod's `/health` answer (or the API server's `Status` when it cannot reach the pod) as a level and reason.
pub fn judge_pod_answer(status: u16, body: &str) -> (CheckLevel, String) {
    let json: Option<Value> = serde_json::from_str(body).ok();
    let field = |k: &str| {
        json.as_ref()
            .and_then(|j| j[k].as_str())
            .map(str::to_string)
    };
    let is_status_object = field("kind").as_deref() == Some("Status");
    match status {
        200..=299 => match field("status").as_deref() {
            Some("degraded") => (
                CheckLevel::Warn,
                format!("{status} degraded: {}", field("reason").unwrap_or_default()),
            ),
            Some(word) => (CheckLevel::Ok, format!("{status} {word}")),
            None => (CheckLevel::Ok, format!("{status}")),
        },
        _ if is_status_object => (
            CheckLevel::Fail,
            format!(
                "{status} {}",
                field("message").unwrap_or_else(|| "the API server cannot reach the pod".into())
            ),
        ),
        _ => (
            CheckLevel::Fail,
            format!(
                "{status} {}",
                field("reason")
                    .or_else(|| field("error"))
                    .unwrap_or_else(|| super::http_check::excerpt(body))
            ),
        ),
    }
}
