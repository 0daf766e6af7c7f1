//! CPU and memory of a pod's app container, for `metrics.k8s.io` (`kubectl top pods`): follows the scenario and
//! the load, which the serving pods share — so adding replicas lowers each pod's CPU.

use chrono::{DateTime, Utc};

use super::noise::Noise;
use super::profile::{Mode, Profile, can_answer};
use crate::world::{PodState, PodView, ScenarioState};

/// A container's resource usage at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    /// CPU in millicores (`900m`).
    pub cpu_millicores: u64,
    /// Working set in bytes.
    pub memory_bytes: u64,
}

const MIB: f64 = 1024.0 * 1024.0;
/// What an idle, ready instance burns (event loop, probes, scrapes).
const IDLE_MILLICORES: f64 = 40.0;
const BASE_MEMORY_MIB: f64 = 190.0;

/// The usage of `pod` at `now`, when `serving_pods` pods share the traffic. A container that is not running
/// (pending, creating, crashed, pull back-off) uses nothing: zeros, which the cluster may leave out of the
/// metrics list like metrics-server does. Deterministic per (pod uid, minute), with a few percent of jitter.
///
/// Under `high-cpu` a serving pod uses about 900m at 3 serving pods, about 300m at 10.
pub fn pod_usage(
    pod: &PodView,
    scenario: &ScenarioState,
    serving_pods: usize,
    now: DateTime<Utc>,
) -> Usage {
    let mode = Mode::of(pod, scenario);
    let running = can_answer(pod, mode, now)
        || (pod.state == PodState::Terminating && pod.started_at.is_some());
    let Some(started) = pod.started_at.filter(|_| running) else {
        return Usage {
            cpu_millicores: 0,
            memory_bytes: 0,
        };
    };
    let profile = Profile::of(mode);
    let (cpu, memory_mib) = if mode == Mode::Crashing {
        (250.0, 160.0)
    } else if !pod.serving() {
        // Starting up (or draining): imports and cache warm-up, no client traffic.
        (150.0, 140.0)
    } else {
        let share = profile.shared_cpu_millicores / serving_pods.max(1) as f64;
        let minute_start = now.timestamp().div_euclid(60) * 60;
        let uptime_hours = (minute_start - started.timestamp()).max(0) as f64 / 3600.0;
        let growth = (uptime_hours * 4.0).min(40.0);
        (
            IDLE_MILLICORES + share,
            BASE_MEMORY_MIB + profile.extra_memory_mib + growth,
        )
    };
    let mut noise = Noise::at(&pod.uid, now.timestamp().div_euclid(60), "usage");
    Usage {
        cpu_millicores: (cpu * noise.jitter(0.06)).round().max(1.0) as u64,
        memory_bytes: (memory_mib * noise.jitter(0.02) * MIB).round() as u64,
    }
}
