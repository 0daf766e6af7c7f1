//! Following a rollout with a watch on the deployment (like `kubectl rollout status`), reporting progress when
//! the numbers change, and the outcome: complete, failed (deadline exceeded, or new pods crash-looping / unable
//! to pull their image, with each pod's reason), or timed out.

use std::pin::pin;
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::Api;
use kube::runtime::{WatchStreamExt, watcher};
use serde::{Deserialize, Serialize};

use super::deployment;
use super::error::ClusterError;
use super::pods::{PodRow, list_pods, pod_row};
use super::status::{RolloutProgress, RolloutState, progress, rollout_state};
use super::target::Target;
use super::template;

/// A new pod crash-looping this many times fails the rollout early instead of waiting for the deadline.
pub const FAIL_FAST_RESTARTS: i32 = 3;
/// How often the pods are looked at for crash loops while the watch waits for deployment changes.
const POD_CHECK_EVERY: Duration = Duration::from_secs(2);
/// Consecutive watch errors after which following gives up.
const MAX_WATCH_ERRORS: u32 = 5;

/// What to do after a failed rollout.
pub const ROLLBACK_SUGGESTION: &str = "roll back with `rollback`";

/// A pod that keeps the rollout from finishing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodProblem {
    pub pod: String,
    /// kubectl's STATUS (`CrashLoopBackOff`, `ImagePullBackOff` …).
    pub status: String,
    pub restarts: i32,
    pub message: Option<String>,
}

/// How following a rollout ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RolloutOutcome {
    Complete {
        progress: RolloutProgress,
        message: String,
    },
    Failed {
        progress: RolloutProgress,
        reason: String,
        message: String,
        pods: Vec<PodProblem>,
        suggestion: String,
    },
    TimedOut {
        progress: Option<RolloutProgress>,
        message: String,
    },
    /// The cluster could not be watched any more (unreachable, forbidden); the rollout may still be going on.
    Interrupted {
        progress: Option<RolloutProgress>,
        message: String,
    },
}

impl RolloutOutcome {
    /// Whether the rollout completed.
    pub fn is_complete(&self) -> bool {
        matches!(self, RolloutOutcome::Complete { .. })
    }
}

/// Watches the target deployment until its rollout completes, fails, or `timeout` passes, calling `on_progress`
/// whenever the replica counts change (and once at the start).
pub async fn follow_rollout(
    client: &kube::Client,
    target: &Target,
    timeout: Duration,
    mut on_progress: impl FnMut(&RolloutProgress),
) -> RolloutOutcome {
    let api: Api<Deployment> = Api::namespaced(client.clone(), &target.namespace);
    let config = watcher::Config::default().fields(&format!("metadata.name={}", target.deployment));
    let mut events = pin!(watcher(api, config).default_backoff().applied_objects());
    let deadline = tokio::time::sleep(timeout);
    let mut deadline = pin!(deadline);
    let mut pod_check = tokio::time::interval(POD_CHECK_EVERY);
    let mut last: Option<RolloutProgress> = None;
    let mut latest: Option<Deployment> = None;
    let mut errors = 0;
    loop {
        tokio::select! {
            _ = &mut deadline => {
                let message = latest.as_ref().map(|d| rollout_state(d).message().to_string()).unwrap_or_default();
                return RolloutOutcome::TimedOut { progress: last, message };
            }
            event = events.next() => match event {
                Some(Ok(dep)) => {
                    errors = 0;
                    let p = progress(&dep);
                    if last != Some(p) {
                        on_progress(&p);
                        last = Some(p);
                    }
                    match rollout_state(&dep) {
                        RolloutState::Complete { progress, message } => {
                            return RolloutOutcome::Complete { progress, message };
                        }
                        RolloutState::Failed { progress, reason, message } => {
                            let pods = problems(client, target, &dep).await.unwrap_or_default();
                            return failed(progress, reason, message, pods);
                        }
                        RolloutState::Progressing { .. } => latest = Some(dep),
                    }
                }
                Some(Err(e)) => {
                    errors += 1;
                    if errors >= MAX_WATCH_ERRORS {
                        let message = format!("lost the watch on the deployment: {e}");
                        return RolloutOutcome::Interrupted { progress: last, message };
                    }
                }
                None => {
                    let message = "the deployment watch ended".to_string();
                    return RolloutOutcome::Interrupted { progress: last, message };
                }
            },
            _ = pod_check.tick() => {
                if let Some(dep) = &latest
                    && let Ok(pods) = problems(client, target, dep).await
                    && let Some(reason) = fail_fast_reason(&pods)
                {
                    let p = progress(dep);
                    let message = failing_message(&target.deployment, &reason);
                    return failed(p, reason, message, pods);
                }
            }
        }
    }
}

/// Why a rollout is failing although its deadline has not passed.
pub(crate) fn failing_message(deployment: &str, reason: &str) -> String {
    format!(
        "new pods of deployment \"{deployment}\" are failing ({reason}); the rollout cannot complete"
    )
}

fn failed(
    progress: RolloutProgress,
    reason: String,
    message: String,
    pods: Vec<PodProblem>,
) -> RolloutOutcome {
    RolloutOutcome::Failed {
        progress,
        reason,
        message,
        pods,
        suggestion: ROLLBACK_SUGGESTION.to_string(),
    }
}

/// The pods of the deployment's current template that are not running and ready.
pub(crate) async fn problems(
    client: &kube::Client,
    target: &Target,
    dep: &Deployment,
) -> Result<Vec<PodProblem>, ClusterError> {
    let image = template::image_of(&deployment::template(dep), &target.container);
    let selector = deployment::match_labels_selector(dep);
    let selector = if selector.is_empty() {
        target.selector.clone()
    } else {
        selector
    };
    let now = Utc::now();
    let rows: Vec<PodRow> = list_pods(client, target, Some(&selector))
        .await?
        .iter()
        .map(|p| pod_row(p, &target.container, now))
        .filter(|r| r.image == image)
        .collect();
    Ok(pod_problems(&rows))
}

/// Rows that are not running and ready (terminating pods excluded), as problems.
pub fn pod_problems(rows: &[PodRow]) -> Vec<PodProblem> {
    rows.iter()
        .filter(|r| r.status != "Terminating" && (r.status != "Running" || r.ready < r.containers))
        .map(|r| PodProblem {
            pod: r.name.clone(),
            status: r.status.clone(),
            restarts: r.restarts,
            message: r.message.clone(),
        })
        .collect()
}

/// The reason to fail early: a new pod crash-looping [`FAIL_FAST_RESTARTS`] times, or unable to pull its image.
pub fn fail_fast_reason(problems: &[PodProblem]) -> Option<String> {
    problems.iter().find_map(|p| match p.status.as_str() {
        "CrashLoopBackOff" if p.restarts >= FAIL_FAST_RESTARTS => Some(p.status.clone()),
        "ImagePullBackOff" | "ErrImagePull" | "InvalidImageName" | "ErrImageNeverPull" => {
            Some(p.status.clone())
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, status: &str, ready: u32, restarts: i32) -> PodRow {
        PodRow {
            name: name.into(),
            ready,
            containers: 1,
            status: status.into(),
            restarts,
            last_restart: None,
            created: None,
            age: "1m".into(),
            image: "mystocks/api:v1.0.2".into(),
            message: Some("back-off".into()),
        }
    }

    #[test]
    fn problems_and_fail_fast() {
        let rows = vec![
            row("a", "Running", 1, 0),
            row("b", "CrashLoopBackOff", 0, 2),
            row("c", "Terminating", 0, 0),
            row("d", "Running", 0, 0),
        ];
        let problems = pod_problems(&rows);
        let names: Vec<&str> = problems.iter().map(|p| p.pod.as_str()).collect();
        assert_eq!(names, vec!["b", "d"]);
        assert_eq!(fail_fast_reason(&problems), None);
        let crashing = pod_problems(&[row("b", "CrashLoopBackOff", 0, 3)]);
        assert_eq!(
            fail_fast_reason(&crashing).as_deref(),
            Some("CrashLoopBackOff")
        );
        let pulling = pod_problems(&[row("e", "ImagePullBackOff", 0, 0)]);
        assert_eq!(
            fail_fast_reason(&pulling).as_deref(),
            Some("ImagePullBackOff")
        );
    }
}
