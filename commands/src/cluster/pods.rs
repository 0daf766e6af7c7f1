//! `pods`: the app's pods with kubectl's NAME / READY / STATUS / RESTARTS / AGE columns.

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use kube::api::{Api, ListParams};
use serde::{Deserialize, Serialize};

use super::age::{age, human_duration, to_chrono};
use super::error::{ClusterError, call};
use super::target::Target;

/// One row of `kubectl get pods`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodRow {
    pub name: String,
    /// Ready containers.
    pub ready: u32,
    /// Containers in the pod spec.
    pub containers: u32,
    /// kubectl's STATUS: `Running`, `CrashLoopBackOff`, `ContainerCreating`, `Terminating`, `Init:0/1` …
    pub status: String,
    pub restarts: i32,
    /// When the last container restart ended (kubectl's `5 (2m ago)`).
    pub last_restart: Option<DateTime<Utc>>,
    pub created: Option<DateTime<Utc>>,
    /// kubectl's AGE column, computed when the rows were read.
    pub age: String,
    /// The image of the target container (or the first container).
    pub image: String,
    /// Waiting/terminated message of a failing container (`Back-off pulling image …`), for explanations.
    pub message: Option<String>,
}

impl PodRow {
    /// Being deleted (`metadata.deletionTimestamp` set): on its way out, so — as `kubectl rollout status` does —
    /// left out of readiness counts and shown as terminating.
    pub fn is_terminating(&self) -> bool {
        self.status == "Terminating"
    }

    /// `1/1`.
    pub fn ready_column(&self) -> String {
        format!("{}/{}", self.ready, self.containers)
    }

    /// `0` or `5 (2m ago)`, seen at `now`.
    pub fn restarts_column(&self, now: DateTime<Utc>) -> String {
        match self.last_restart {
            Some(at) if self.restarts > 0 => {
                format!(
                    "{} ({} ago)",
                    self.restarts,
                    human_duration((now - at).num_seconds())
                )
            }
            _ => self.restarts.to_string(),
        }
    }
}

/// Lists the pods of the target (by its selector, or by `selector` when given), sorted by name.
pub async fn pods(
    client: &kube::Client,
    target: &Target,
    selector: Option<&str>,
) -> Result<Vec<PodRow>, ClusterError> {
    let list = list_pods(client, target, selector).await?;
    let now = Utc::now();
    let mut rows: Vec<PodRow> = list
        .iter()
        .map(|p| pod_row(p, &target.container, now))
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(rows)
}

/// The raw pods matching the target's selector (or `selector`).
pub(crate) async fn list_pods(
    client: &kube::Client,
    target: &Target,
    selector: Option<&str>,
) -> Result<Vec<Pod>, ClusterError> {
    let api: Api<Pod> = Api::namespaced(client.clone(), &target.namespace);
    let selector = selector.unwrap_or(&target.selector);
    let params = ListParams::default().labels(selector);
    let list = call(
        api.list(&params),
        ("pods with selector", selector, &target.namespace),
    )
    .await?;
    Ok(list.items)
}

/// One pod as a row, the way kubectl's printer computes it.
pub fn pod_row(pod: &Pod, container: &str, now: DateTime<Utc>) -> PodRow {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let created = pod.metadata.creation_timestamp.as_ref().map(to_chrono);
    let spec_containers = pod
        .spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or_default();
    let image = spec_containers
        .iter()
        .find(|c| c.name == container)
        .or_else(|| spec_containers.first())
        .and_then(|c| c.image.clone())
        .unwrap_or_default();
    let statuses = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default();
    let restarts = statuses.iter().map(|c| c.restart_count).sum();
    let last_restart = statuses
        .iter()
        .filter_map(|c| {
            c.last_state
                .as_ref()?
                .terminated
                .as_ref()?
                .finished_at
                .as_ref()
        })
        .map(to_chrono)
        .max();
    PodRow {
        name,
        ready: statuses.iter().filter(|c| c.ready && running(c)).count() as u32,
        containers: spec_containers.len() as u32,
        status: pod_status(pod),
        restarts,
        last_restart,
        created,
        age: age(created, now),
        image,
        message: failure_message(statuses),
    }
}

fn running(c: &ContainerStatus) -> bool {
    c.state.as_ref().is_some_and(|s| s.running.is_some())
}

/// The first waiting or terminated message of the containers, if any.
fn failure_message(statuses: &[ContainerStatus]) -> Option<String> {
    statuses.iter().find_map(|c| {
        let state = c.state.as_ref()?;
        let waiting = state.waiting.as_ref().and_then(|w| w.message.clone());
        waiting.or_else(|| state.terminated.as_ref().and_then(|t| t.message.clone()))
    })
}

/// kubectl's STATUS column (`printPod` in kubectl's printers).
pub fn pod_status(pod: &Pod) -> String {
    let status = pod.status.as_ref();
    let mut reason = status.and_then(|s| s.phase.clone()).unwrap_or_default();
    if let Some(r) = status
        .and_then(|s| s.reason.clone())
        .filter(|r| !r.is_empty())
    {
        reason = r;
    }
    let init_statuses = status
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or_default();
    let init_count = pod
        .spec
        .as_ref()
        .and_then(|s| s.init_containers.as_ref())
        .map_or(0, Vec::len);
    let mut initializing = false;
    for (i, c) in init_statuses.iter().enumerate() {
        let state = c.state.as_ref();
        let terminated = state.and_then(|s| s.terminated.as_ref());
        let waiting = state.and_then(|s| s.waiting.as_ref());
        match (terminated, waiting) {
            (Some(t), _) if t.exit_code == 0 => continue,
            (Some(t), _) => {
                reason = match (&t.reason, t.signal) {
                    (Some(r), _) if !r.is_empty() => format!("Init:{r}"),
                    (_, Some(sig)) if sig != 0 => format!("Init:Signal:{sig}"),
                    _ => format!("Init:ExitCode:{}", t.exit_code),
                };
            }
            (None, Some(w))
                if w.reason
                    .as_deref()
                    .is_some_and(|r| !r.is_empty() && r != "PodInitializing") =>
            {
                reason = format!("Init:{}", w.reason.as_deref().unwrap_or_default());
            }
            _ => reason = format!("Init:{i}/{init_count}"),
        }
        initializing = true;
        break;
    }
    if !initializing {
        let statuses = status
            .and_then(|s| s.container_statuses.as_deref())
            .unwrap_or_default();
        let mut has_running = false;
        for c in statuses.iter().rev() {
            let state = c.state.as_ref();
            let waiting_reason = state
                .and_then(|s| s.waiting.as_ref())
                .and_then(|w| w.reason.clone());
            let terminated = state.and_then(|s| s.terminated.as_ref());
            if let Some(r) = waiting_reason.filter(|r| !r.is_empty()) {
                reason = r;
            } else if let Some(t) = terminated {
                reason = match (&t.reason, t.signal) {
                    (Some(r), _) if !r.is_empty() => r.clone(),
                    (_, Some(sig)) if sig != 0 => format!("Signal:{sig}"),
                    _ => format!("ExitCode:{}", t.exit_code),
                };
            } else if c.ready && running(c) {
                has_running = true;
            }
        }
        if reason == "Completed" && has_running {
            reason = if pod_ready(pod) {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }
    if pod.metadata.deletion_timestamp.is_some() {
        reason = if status.and_then(|s| s.reason.as_deref()) == Some("NodeLost") {
            "Unknown".into()
        } else {
            "Terminating".into()
        };
    }
    reason
}

/// Whether the pod's Ready condition is True.
pub fn pod_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

#[cfg(test)]
#[path = "pods_tests.rs"]
mod tests;
