//! Pod logs: what a mystocks-api container writes, second by second, as a pure function of the pod, the scenario
//! and the time — so the cluster can serve `tailLines`, `sinceSeconds` and `follow` by asking again.
//!
//! Access lines look like `INFO 10.0.3.7 "GET /api/v1/quotes/AAPL HTTP/1.1" 200 12.3ms` (the status is its own
//! field; lines of other statuses never contain `500`/`502`/`503`); application errors start with `ERROR`.

mod container;
mod text;

use chrono::{DateTime, Duration, Utc};

use crate::world::{PodView, ScenarioState};
use container::Container;

/// One line a container wrote, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// When it was written (kubectl's `--timestamps` prefix).
    pub at: DateTime<Utc>,
    /// The line, without timestamp or newline.
    pub text: String,
}

/// Log rotation: only the last this many seconds of a container's life are kept (about 100k lines).
pub const RETAINED_SECS: i64 = 8 * 3600;

/// The current container's lines written in `[from, to)`, oldest first. Empty before the container first
/// started; a crashed container's lines end with its fatal error. Deterministic: asking twice gives the same
/// lines. Only the last [`RETAINED_SECS`] before `to` are kept, as a rotated log would.
pub fn lines(
    pod: &PodView,
    scenario: &ScenarioState,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<LogLine> {
    match Container::current(pod, scenario) {
        Some(c) => c.lines(from.max(to - Duration::seconds(RETAINED_SECS)), to),
        None => Vec::new(),
    }
}

/// The last `n` lines the current container wrote before `to`, oldest first — cheaper than [`lines`] for
/// `--tail` on a long-running pod.
pub fn tail(pod: &PodView, scenario: &ScenarioState, to: DateTime<Utc>, n: usize) -> Vec<LogLine> {
    match Container::current(pod, scenario) {
        Some(c) => c.tail(to, n),
        None => Vec::new(),
    }
}

/// A finished run of a pod's container, as `status.containerStatuses[].lastState.terminated` records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FinishedRun {
    /// `startedAt`.
    pub started_at: DateTime<Utc>,
    /// `finishedAt`: the crash (or kill); the run's fatal lines are written at this instant.
    pub finished_at: DateTime<Utc>,
}

/// Every line of a finished run (the last [`RETAINED_SECS`] of it), oldest first, ending with its traceback
/// (an image that crashes under `scenario`) or fatal error. What the kubelet serves for `--previous`, and also
/// for plain `kubectl logs` while the container waits in CrashLoopBackOff. Deterministic per run; a run that
/// is still the current container gives the same lines as [`lines`] did.
pub fn run_lines(pod: &PodView, scenario: &ScenarioState, run: FinishedRun) -> Vec<LogLine> {
    let c = Container::finished(pod, scenario, run.started_at, run.finished_at);
    let end = run.finished_at + Duration::seconds(1);
    c.lines(
        run.started_at.max(end - Duration::seconds(RETAINED_SECS)),
        end,
    )
}

/// The lines of the previous container of `pod` (for `kubectl logs --previous`) when the cluster does not
/// track the run (prefer [`run_lines`]): its times are guessed from the restart count and the kubelet's
/// back-off. Empty when the pod has not restarted yet; otherwise ends with a traceback or fatal error.
pub fn previous_lines(pod: &PodView, scenario: &ScenarioState, now: DateTime<Utc>) -> Vec<LogLine> {
    match Container::previous(pod, scenario, now) {
        Some(c) => c.lines(c.started(), now),
        None => Vec::new(),
    }
}
