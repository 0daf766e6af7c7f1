//! The counters each pod's app process keeps since it started (requests by status, latency histogram, cache
//! hits and misses, pool wait time). Traffic is integrated from the scenario in force between two looks, so
//! counters only grow while a container lives — even when the scenario changes — and restart from zero with
//! a new container. The first time a process is looked at, its history before the last minute counts as
//! healthy traffic (a scenario switched on at start or just now has not been running all along). Requests
//! really served through the app endpoints are added as they happen.

use std::collections::{BTreeMap, HashMap};
use std::sync::{LazyLock, Mutex};

use chrono::{DateTime, Duration, Utc};

use super::profile::{Mode, Profile, container_window, share_within, traffic_start_ms};
use crate::world::PodView;

/// Histogram bucket upper bounds of `http_request_duration_seconds`, in seconds (+Inf is implied).
pub(crate) const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A process's counters, as fractional expectations; rendered rounded down.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Counters {
    pub requests: BTreeMap<u16, f64>,
    pub buckets: [f64; BUCKETS.len()],
    pub duration_sum: f64,
    pub cache_hits: f64,
    pub cache_misses: f64,
    pub pool_wait_seconds: f64,
}

impl Counters {
    /// Adds `seconds` of traffic under `profile` (`rps` requests per second).
    fn add_traffic(&mut self, profile: &Profile, seconds: f64) {
        let requests = profile.rps * seconds;
        if requests <= 0.0 {
            return;
        }
        let total_weight: f64 = profile.classes.iter().map(|c| c.weight).sum();
        for class in profile.classes {
            let n = requests * class.weight / total_weight;
            *self.requests.entry(class.status).or_default() += n;
            self.duration_sum += n * (class.base_ms + class.mean_ms) / 1000.0;
            for (bucket, le) in self.buckets.iter_mut().zip(BUCKETS) {
                *bucket += n * share_within(class, le * 1000.0);
            }
        }
        let lookups = requests * profile.cache_lookups;
        self.cache_hits += lookups * profile.cache_hit_ratio;
        self.cache_misses += lookups * (1.0 - profile.cache_hit_ratio);
        self.pool_wait_seconds += requests * profile.pool_wait_per_request;
    }

    /// Adds one request really served, with its duration.
    pub(crate) fn add_request(&mut self, status: u16, seconds: f64) {
        *self.requests.entry(status).or_default() += 1.0;
        self.duration_sum += seconds;
        for (bucket, le) in self.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= le {
                *bucket += 1.0;
            }
        }
    }
}

/// One process's counters and how far they have been integrated.
struct Process {
    started: DateTime<Utc>,
    integrated_to: DateTime<Utc>,
    counters: Counters,
    touched: u64,
}

#[derive(Default)]
struct Registry {
    processes: HashMap<String, Process>,
    clock: u64,
}

/// Processes are keyed by pod uid; uids are unique, so several simulated worlds in one process do not mix.
static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Mutex::default);
/// On first sight of a process, only this many seconds of its past count under the current scenario.
const FIRST_SIGHT_SECS: i64 = 60;
/// Beyond this many processes, the least recently looked-at half is forgotten.
const MAX_PROCESSES: usize = 20_000;

/// Runs `f` on `pod`'s current process counters brought up to `now` (None when its container never started).
pub(crate) fn with<T>(
    pod: &PodView,
    profile: &Profile,
    receives_traffic: bool,
    now: DateTime<Utc>,
    f: impl FnOnce(&mut Counters) -> T,
) -> Option<T> {
    let (started, died) = container_window(pod, profile.mode)?;
    let mut registry = REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    registry.clock += 1;
    let clock = registry.clock;
    if registry.processes.len() > MAX_PROCESSES {
        forget_oldest(&mut registry.processes);
    }
    let mut first_sight = !registry.processes.contains_key(&pod.uid);
    let process = registry
        .processes
        .entry(pod.uid.clone())
        .or_insert_with(|| fresh(started, clock));
    if process.started != started {
        *process = fresh(started, clock);
        first_sight = true;
    }
    process.touched = clock;
    let traffic_from = started + Duration::milliseconds(traffic_start_ms(profile.mode));
    let until = died.map_or(now, |d| d.min(now));
    if first_sight && receives_traffic && !matches!(profile.mode, Mode::Normal | Mode::Crashing) {
        // Nobody looked before: the scenario may have just been switched on, so the older history counts
        // as healthy traffic and only the last minute as the scenario's (a crashing image crashed all along).
        let history_end = (now - Duration::seconds(FIRST_SIGHT_SECS)).min(until);
        if history_end > traffic_from {
            process.counters.add_traffic(
                &Profile::of(Mode::Normal),
                seconds(traffic_from, history_end),
            );
            process.integrated_to = history_end;
        }
    }
    let from = process.integrated_to.max(traffic_from);
    if until > from {
        if receives_traffic {
            process.counters.add_traffic(profile, seconds(from, until));
        }
        process.integrated_to = until;
    }
    Some(f(&mut process.counters))
}

fn seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds() as f64 / 1000.0
}

fn fresh(started: DateTime<Utc>, clock: u64) -> Process {
    Process {
        started,
        integrated_to: started,
        counters: Counters::default(),
        touched: clock,
    }
}

fn forget_oldest(processes: &mut HashMap<String, Process>) {
    let mut ages: Vec<u64> = processes.values().map(|p| p.touched).collect();
    ages.sort_unstable();
    let cutoff = ages[ages.len() / 2];
    processes.retain(|_, p| p.touched > cutoff);
}
