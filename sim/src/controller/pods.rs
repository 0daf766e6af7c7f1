//! Pod lifecycle: Pending → ContainerCreating → Running → Ready after configurable delays; a bad image goes
//! ErrImagePull ⇄ ImagePullBackOff, a crashing one CrashLoopBackOff with restarts counting up; deleted pods
//! terminate gracefully. The status written to each Pod object is rendered from its [`PodRuntime`] by
//! `pod_status.rs`.

use std::time::Duration;

use chrono::{DateTime, Utc};

pub use super::pod_status::{fnv, pod_view, render_status};
use crate::world::{ImageFate, PodState};

/// How long each step of a pod's life takes, in simulated time.
#[derive(Clone, Debug, PartialEq)]
pub struct PodDelays {
    /// Pending (scheduling) before the container is being created.
    pub scheduling: Duration,
    /// ContainerCreating (pulling, starting) before the container runs.
    pub container_creating: Duration,
    /// Running before the readiness probe passes.
    pub readiness: Duration,
    /// How long a crashing container runs before it exits.
    pub crash_after: Duration,
    /// Terminating before a deleted pod disappears.
    pub termination: Duration,
}

impl Default for PodDelays {
    fn default() -> Self {
        PodDelays {
            scheduling: Duration::from_secs(1),
            container_creating: Duration::from_secs(2),
            readiness: Duration::from_secs(2),
            crash_after: Duration::from_secs(1),
            termination: Duration::from_secs(2),
        }
    }
}

/// Where a pod is in its life (simulation-only state, not part of the Pod object).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Pending,
    ContainerCreating,
    /// Running, readiness probe not passed yet.
    Starting,
    Ready,
    /// Crashed; restarts at `until`.
    CrashBackOff {
        until: DateTime<Utc>,
    },
    ErrImagePull,
    /// Retries the pull at `until`.
    ImagePullBackOff {
        until: DateTime<Utc>,
    },
    /// Deleted; disappears at `until`.
    Terminating {
        until: DateTime<Utc>,
    },
}

/// Simulation-only state of one pod.
#[derive(Clone, Debug)]
pub struct PodRuntime {
    pub stage: Stage,
    /// When the current stage began.
    pub since: DateTime<Utc>,
    pub restarts: u32,
    /// When the current container started (kept after it crashed, until the next start).
    pub started_at: Option<DateTime<Utc>>,
    /// The last container's (start, exit) times, for `lastState.terminated`.
    pub last_exit: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The pod IP.
    pub ip: String,
    /// Whether the pod was Ready when it was deleted (Terminating pods keep a phase).
    pub was_running: bool,
}

impl PodRuntime {
    /// A pod that was just created.
    pub fn new(now: DateTime<Utc>, ip: String) -> PodRuntime {
        PodRuntime {
            stage: Stage::Pending,
            since: now,
            restarts: 0,
            started_at: None,
            last_exit: None,
            ip,
            was_running: false,
        }
    }

    /// A pod that has been Ready since `started`.
    pub fn ready_since(started: DateTime<Utc>, ip: String) -> PodRuntime {
        PodRuntime {
            stage: Stage::Ready,
            since: started,
            started_at: Some(started),
            ..PodRuntime::new(started, ip)
        }
    }

    /// The state the application side sees.
    pub fn pod_state(&self) -> PodState {
        match self.stage {
            Stage::Pending => PodState::Pending,
            Stage::ContainerCreating => PodState::ContainerCreating,
            Stage::Starting => PodState::Running { ready: false },
            Stage::Ready => PodState::Running { ready: true },
            Stage::CrashBackOff { .. } => PodState::CrashLoopBackOff,
            Stage::ErrImagePull | Stage::ImagePullBackOff { .. } => PodState::ImagePullBackOff,
            Stage::Terminating { .. } => PodState::Terminating,
        }
    }

    /// Starts graceful termination.
    pub fn terminate(&mut self, now: DateTime<Utc>, delays: &PodDelays) {
        if matches!(self.stage, Stage::Terminating { .. }) {
            return;
        }
        self.was_running = matches!(
            self.stage,
            Stage::Starting | Stage::Ready | Stage::CrashBackOff { .. }
        );
        self.stage = Stage::Terminating {
            until: now + chrono_dur(delays.termination),
        };
        self.since = now;
    }

    /// Whether a step may be due at `now` (cheap; `advance` decides). `crash_possible`: some image may crash
    /// under the current scenario, so even a Ready pod may have to move.
    pub fn may_be_due(&self, now: DateTime<Utc>, d: &PodDelays, crash_possible: bool) -> bool {
        let after = |delay: Duration| self.since + chrono_dur(delay) <= now;
        match self.stage {
            Stage::Pending => after(d.scheduling),
            Stage::ContainerCreating => after(d.container_creating),
            Stage::Starting => after(d.readiness.min(d.crash_after)),
            Stage::Ready => crash_possible,
            Stage::ErrImagePull => after(Duration::from_secs(5)),
            Stage::CrashBackOff { until }
            | Stage::ImagePullBackOff { until }
            | Stage::Terminating { until } => until <= now,
        }
    }

    /// Moves the pod forward to `now`. `fate` tells what the image does (asked at each step, so a scenario
    /// switch applies from the next step). Returns whether the stage changed.
    pub fn advance(&mut self, now: DateTime<Utc>, delays: &PodDelays, fate: ImageFate) -> bool {
        let mut changed = false;
        // Several steps may be due at once when the clock runs fast; stop at the first that is not.
        for _ in 0..8 {
            match self.step(now, delays, fate) {
                Some((stage, at)) => {
                    self.stage = stage;
                    self.since = at;
                    changed = true;
                }
                None => break,
            }
        }
        changed
    }

    fn step(
        &mut self,
        now: DateTime<Utc>,
        d: &PodDelays,
        fate: ImageFate,
    ) -> Option<(Stage, DateTime<Utc>)> {
        let due = |delay: Duration| {
            let at = self.since + chrono_dur(delay);
            (at <= now).then_some(at)
        };
        match self.stage {
            Stage::Pending => due(d.scheduling).map(|at| (Stage::ContainerCreating, at)),
            Stage::ContainerCreating => {
                let at = due(d.container_creating)?;
                Some(self.start_or_fail(at, d, fate))
            }
            Stage::Starting => match fate {
                ImageFate::Crash => {
                    let at = due(d.crash_after)?;
                    Some(self.crash(at))
                }
                _ => due(d.readiness).map(|at| (Stage::Ready, at)),
            },
            Stage::Ready => (fate == ImageFate::Crash).then(|| self.crash(now)),
            Stage::CrashBackOff { until } => {
                (until <= now).then(|| self.start_or_fail(until, d, fate))
            }
            Stage::ErrImagePull => {
                let at = due(Duration::from_secs(5))?;
                let backoff = backoff(self.restarts.max(1));
                Some((
                    Stage::ImagePullBackOff {
                        until: at + backoff,
                    },
                    at,
                ))
            }
            Stage::ImagePullBackOff { until } => {
                (until <= now).then(|| self.start_or_fail(until, d, fate))
            }
            Stage::Terminating { .. } => None,
        }
    }

    fn start_or_fail(
        &mut self,
        at: DateTime<Utc>,
        _d: &PodDelays,
        fate: ImageFate,
    ) -> (Stage, DateTime<Utc>) {
        if fate == ImageFate::PullError {
            return (Stage::ErrImagePull, at);
        }
        self.started_at = Some(at);
        (Stage::Starting, at)
    }

    fn crash(&mut self, at: DateTime<Utc>) -> (Stage, DateTime<Utc>) {
        self.restarts += 1;
        // started_at stays: the crashed container is still the pod's current one until it restarts.
        self.last_exit = Some((self.started_at.unwrap_or(at), at));
        (
            Stage::CrashBackOff {
                until: at + backoff(self.restarts),
            },
            at,
        )
    }
}

/// Kubelet's back-off: 10 s doubling per restart, capped at 5 minutes.
fn backoff(restarts: u32) -> chrono::Duration {
    let secs = 10u64
        .saturating_mul(1u64 << restarts.saturating_sub(1).min(10))
        .min(300);
    chrono::Duration::seconds(secs as i64)
}

/// A std duration as a chrono one (saturating).
pub fn chrono_dur(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_pod_becomes_ready_and_crashing_pod_loops() {
        let t0 = Utc::now();
        let d = PodDelays::default();
        let mut rt = PodRuntime::new(t0, "10.244.0.2".into());
        rt.advance(t0 + chrono::Duration::seconds(2), &d, ImageFate::Good);
        assert_eq!(rt.stage, Stage::ContainerCreating);
        rt.advance(t0 + chrono::Duration::seconds(10), &d, ImageFate::Good);
        assert_eq!(rt.stage, Stage::Ready);

        let mut bad = PodRuntime::new(t0, "10.244.0.3".into());
        bad.advance(t0 + chrono::Duration::seconds(5), &d, ImageFate::Crash);
        assert!(matches!(bad.stage, Stage::CrashBackOff { .. }));
        bad.advance(t0 + chrono::Duration::seconds(300), &d, ImageFate::Crash);
        assert!(bad.restarts >= 3, "restarts {}", bad.restarts);

        let mut pull = PodRuntime::new(t0, "10.244.0.4".into());
        pull.advance(t0 + chrono::Duration::seconds(4), &d, ImageFate::PullError);
        assert_eq!(pull.stage, Stage::ErrImagePull);
        assert_eq!(pull.pod_state(), PodState::ImagePullBackOff);
    }
}
