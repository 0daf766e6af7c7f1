//! `logs`: the app's log lines, all pods by default, each line prefixed with its pod; bounded output.

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::error::{ClusterError, call};
use super::pods::list_pods;
use super::target::Target;

/// Lines per pod when no `--tail` is given.
pub const DEFAULT_TAIL: i64 = 100;
/// The most lines asked of one pod.
pub const MAX_TAIL: i64 = 5_000;
/// Pods read at the same time.
const PARALLEL_READS: usize = 4;
/// The most lines kept over all pods (the newest per pod are kept).
pub const MAX_LINES: usize = 20_000;

/// One log line and the pod that wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub pod: String,
    pub text: String,
}

/// The lines read, and what could not be read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logs {
    /// The pods asked, in order.
    pub pods: Vec<String>,
    /// Lines grouped by pod, in the pods' order, oldest first within a pod.
    pub lines: Vec<LogLine>,
    /// Pods whose logs could not be read, with the cluster's reason (a container still starting …).
    pub unavailable: Vec<(String, String)>,
    /// Whether lines were dropped to stay within [`MAX_LINES`].
    pub truncated: bool,
}

impl Logs {
    /// `pod | line` lines, as one text.
    pub fn prefixed_text(&self) -> String {
        self.lines
            .iter()
            .map(|l| format!("{} | {}", l.pod, l.text))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Which time window or tail to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Window {
    Tail(i64),
    Since(std::time::Duration),
}

/// Reads logs of the target's pods (or one pod; `deployment`, `deployment/<name>` or the deployment's name mean
/// all pods), the last `tail` lines of each (default [`DEFAULT_TAIL`]), keeping lines that match `grep`.
pub async fn logs(
    client: &kube::Client,
    target: &Target,
    pod_or_deployment: Option<&str>,
    tail: Option<i64>,
    grep: Option<&Regex>,
) -> Result<Logs, ClusterError> {
    let pods = resolve_pods(client, target, pod_or_deployment).await?;
    let tail = tail.unwrap_or(DEFAULT_TAIL).clamp(1, MAX_TAIL);
    let mut out = read(client, target, &pods, Window::Tail(tail)).await?;
    if let Some(re) = grep {
        out.lines.retain(|l| re.is_match(&l.text));
    }
    Ok(out)
}

/// The pods named by the argument: all the target's pods, or the one pod named.
async fn resolve_pods(
    client: &kube::Client,
    target: &Target,
    pod_or_deployment: Option<&str>,
) -> Result<Vec<Pod>, ClusterError> {
    let name = pod_or_deployment.map(str::trim).filter(|n| !n.is_empty());
    let all = match name {
        None | Some("deployment") => true,
        Some(n) => {
            n == target.deployment
                || n.strip_prefix("deployment/") == Some(target.deployment.as_str())
        }
    };
    if all {
        return list_pods(client, target, None).await;
    }
    let name = name.unwrap_or_default();
    let pod_name = name.strip_prefix("pod/").unwrap_or(name);
    if name.starts_with("deployment/") {
        return Err(ClusterError::NotFound {
            kind: "deployment".into(),
            name: name.trim_start_matches("deployment/").into(),
            namespace: target.namespace.clone(),
        });
    }
    let api: Api<Pod> = Api::namespaced(client.clone(), &target.namespace);
    Ok(vec![
        call(api.get(pod_name), ("pod", pod_name, &target.namespace)).await?,
    ])
}

/// Reads the window of each pod, a few pods at a time; unreadable pods are listed, not fatal.
pub(crate) async fn read(
    client: &kube::Client,
    target: &Target,
    pods: &[Pod],
    window: Window,
) -> Result<Logs, ClusterError> {
    let api: Api<Pod> = Api::namespaced(client.clone(), &target.namespace);
    let mut names: Vec<String> = pods
        .iter()
        .filter_map(|p| p.metadata.name.clone())
        .collect();
    names.sort();
    let containers: Vec<Option<String>> = names
        .iter()
        .map(|n| {
            let pod = pods.iter().find(|p| p.metadata.name.as_deref() == Some(n));
            container_for(pod, &target.container)
        })
        .collect();
    // Owned futures joined a few at a time: borrowing closures in stream combinators make the caller's future
    // fail the `Send` check (rust-lang/rust#102211), and the engine spawns these futures.
    let mut results: Vec<(String, Result<String, ClusterError>)> = Vec::with_capacity(names.len());
    let jobs: Vec<(String, LogParams)> = names
        .iter()
        .zip(containers)
        .map(|(name, container)| (name.clone(), log_params(container, window)))
        .collect();
    for chunk in jobs.chunks(PARALLEL_READS) {
        let reads = chunk.iter().cloned().map(|(name, params)| {
            let api = api.clone();
            let namespace = target.namespace.clone();
            async move {
                let text = call(api.logs(&name, &params), ("logs of pod", &name, &namespace)).await;
                (name, text)
            }
        });
        results.extend(futures::future::join_all(reads).await);
    }
    let mut out = Logs {
        pods: names.clone(),
        ..Logs::default()
    };
    let per_pod_cap = MAX_LINES / names.len().max(1);
    for (pod, result) in results {
        match result {
            Ok(text) => {
                let lines = pod_lines(&pod, &text);
                let skip = lines.len().saturating_sub(per_pod_cap);
                out.truncated |= skip > 0;
                out.lines.extend(lines.into_iter().skip(skip));
            }
            Err(
                e @ (ClusterError::Timeout
                | ClusterError::Unreachable { .. }
                | ClusterError::Forbidden { .. }),
            ) => {
                return Err(e);
            }
            Err(e) => out.unavailable.push((pod, e.to_string())),
        }
    }
    Ok(out)
}

/// The last `tail` lines of each pod, completed across a restart: a pod that has restarted and whose current
/// container wrote fewer than `tail` lines gets the rest from its previous container (`kubectl logs --previous`),
/// older lines first. A crash-looping pod's current container has barely started, so its recent traffic — the
/// errors an operator looks for — is in the one before. A previous container the kubelet no longer has counts as
/// no lines.
pub(crate) async fn read_tail_across_restarts(
    client: &kube::Client,
    target: &Target,
    pods: &[Pod],
    tail: i64,
) -> Result<Logs, ClusterError> {
    let mut logs = read(client, target, pods, Window::Tail(tail)).await?;
    let api: Api<Pod> = Api::namespaced(client.clone(), &target.namespace);
    let mut earlier: std::collections::HashMap<String, Vec<LogLine>> = Default::default();
    for pod in pods.iter().filter(|p| restarted(p, &target.container)) {
        let Some(name) = pod.metadata.name.clone() else {
            continue;
        };
        let have = logs.lines.iter().filter(|l| l.pod == name).count() as i64;
        if have >= tail {
            continue;
        }
        let mut params = log_params(
            container_for(Some(pod), &target.container),
            Window::Tail(tail - have),
        );
        params.previous = true;
        match call(
            api.logs(&name, &params),
            ("previous logs of pod", &name, &target.namespace),
        )
        .await
        {
            Ok(text) => {
                earlier.insert(name.clone(), pod_lines(&name, &text));
            }
            Err(err) => tracing::debug!(pod = %name, error = %err, "no previous container's logs"),
        }
    }
    if !earlier.is_empty() {
        let current = std::mem::take(&mut logs.lines);
        for pod in &logs.pods {
            logs.lines.extend(earlier.remove(pod).unwrap_or_default());
            logs.lines
                .extend(current.iter().filter(|l| &l.pod == pod).cloned());
        }
    }
    Ok(logs)
}

/// The non-blank lines of `text`, a log `pod` wrote, oldest first.
fn pod_lines(pod: &str, text: &str) -> Vec<LogLine> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| LogLine {
            pod: pod.to_string(),
            text: l.to_string(),
        })
        .collect()
}

/// Whether the target container of `pod` (or its only container) has restarted.
fn restarted(pod: &Pod, container: &str) -> bool {
    let statuses = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default();
    statuses
        .iter()
        .find(|c| c.name == container)
        .or(statuses.first().filter(|_| statuses.len() == 1))
        .is_some_and(|c| c.restart_count > 0)
}

/// The target container if the pod has it; otherwise let the API pick (a pod with one container).
fn container_for(pod: Option<&Pod>, container: &str) -> Option<String> {
    let spec = pod?.spec.as_ref()?;
    spec.containers
        .iter()
        .any(|c| c.name == container)
        .then(|| container.to_string())
}

fn log_params(container: Option<String>, window: Window) -> LogParams {
    let mut params = LogParams {
        container,
        ..LogParams::default()
    };
    match window {
        Window::Tail(n) => params.tail_lines = Some(n),
        Window::Since(d) => params.since_seconds = Some(d.as_secs().max(1) as i64),
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_and_prefixes() {
        let p = log_params(Some("c".into()), Window::Tail(50));
        assert_eq!(
            (p.container.as_deref(), p.tail_lines, p.since_seconds),
            (Some("c"), Some(50), None)
        );
        let p = log_params(None, Window::Since(std::time::Duration::from_secs(600)));
        assert_eq!((p.tail_lines, p.since_seconds), (None, Some(600)));
        let logs = Logs {
            lines: vec![
                LogLine {
                    pod: "p1".into(),
                    text: "a".into(),
                },
                LogLine {
                    pod: "p2".into(),
                    text: "b".into(),
                },
            ],
            ..Logs::default()
        };
        assert_eq!(logs.prefixed_text(), "p1 | a\np2 | b");
    }
}
