//! What one pod's instance of the app is doing under the current scenario: its request mix, latencies, cache
//! and pool figures. Logs, metrics, usage and the HTTP endpoints all read the same profile, so they agree.

use crate::world::{ImageFate, PodView, Scenario, ScenarioState, image_tag};

/// Seconds a container of a crashing image (see [`ImageFate::Crash`]) stays up before it dies with a fatal
/// error. The app's logs and endpoints follow it; it matches the cluster's default `crash_after`, and a
/// cluster that times CrashLoopBackOff differently should use this constant so logs and pod status agree.
pub const CRASH_AFTER_SECS: i64 = 1;

/// Seconds after a container starts before it serves traffic and is probed (startup lines meanwhile).
pub(crate) const STARTUP_SECS: i64 = 2;

/// Milliseconds after a container starts before clients' requests reach it. The bad release starts fast and
/// fails requests at once, so its short life shows 500s.
pub(crate) fn traffic_start_ms(mode: Mode) -> i64 {
    if mode == Mode::Crashing {
        300
    } else {
        STARTUP_SECS * 1000
    }
}

/// The size of the app's database connection pool (SQLAlchemy `pool_size`, no overflow).
pub(crate) const POOL_MAX: u32 = 20;

/// How long `/api/health/database` waits for a pool connection before it reports the pool exhausted (its own
/// short checkout timeout; requests wait for the pool's 30 s).
pub(crate) const DB_HEALTH_CHECKOUT_MS: u64 = 500;

/// The state a pod's app instance is in, derived from the scenario and the image the pod runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Serving normally.
    Normal,
    /// Running the bad release: requests fail with 500, the worker dies after [`CRASH_AFTER_SECS`].
    Crashing,
    /// Burning CPU: slower responses, event-loop stalls.
    CpuBound,
    /// Every connection of the DB pool is checked out: requests answered from the cache are fast, those that
    /// need the database wait in the pool's queue (seconds) and are then served; the database health endpoint,
    /// which gives up after [`DB_HEALTH_CHECKOUT_MS`], fails. Waits stay under the pool timeout: no 5xx storm.
    PoolExhausted,
    /// The time-series store (TDengine, where quotes and price history live) answers slowly: every request
    /// that reads prices waits on it, and so does `/health`, which pings it. Cache and PostgreSQL are fine.
    Slow,
    /// Redis is unreachable: every cache lookup fails and requests are answered from the database instead
    /// (cache-aside), a little slower; `/health` still answers 200 with its cache check `down`.
    CacheDown,
}

impl Mode {
    /// The mode of `pod`'s app instance under `scenario`.
    pub(crate) fn of(pod: &PodView, scenario: &ScenarioState) -> Mode {
        if scenario.image_fate(&pod.image) == ImageFate::Crash {
            return Mode::Crashing;
        }
        match scenario.scenario {
            Scenario::Healthy | Scenario::BadRelease => Mode::Normal,
            Scenario::HighCpu => Mode::CpuBound,
            Scenario::DbPoolExhausted => Mode::PoolExhausted,
            Scenario::HighLatency => Mode::Slow,
            Scenario::RedisDown => Mode::CacheDown,
        }
    }
}

/// An application log line that accompanies a request of some class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Note {
    None,
    /// `WARN db: waited …ms for a pool connection` (the request was served after waiting).
    PoolWait,
    /// `ERROR cache: … Connection refused` (on some of the requests).
    CacheDown,
    /// `ERROR request failed: … ProgrammingError …` (the bad release).
    Unhandled,
}

/// One kind of request: how often it happens, what it answers and how long it takes
/// (latency = `base_ms` + an exponential with mean `mean_ms`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct RequestClass {
    pub weight: f64,
    pub method: &'static str,
    pub status: u16,
    pub base_ms: f64,
    pub mean_ms: f64,
    pub note: Note,
}

const fn class(
    weight: f64,
    method: &'static str,
    status: u16,
    base_ms: f64,
    mean_ms: f64,
    note: Note,
) -> RequestClass {
    RequestClass {
        weight,
        method,
        status,
        base_ms,
        mean_ms,
        note,
    }
}

const NORMAL: &[RequestClass] = &[
    class(0.90, "GET", 200, 3.0, 12.0, Note::None),
    class(0.05, "POST", 201, 8.0, 20.0, Note::None),
    class(0.04, "GET", 404, 1.0, 3.0, Note::None),
    class(0.01, "POST", 422, 2.0, 3.0, Note::None),
];
const CRASHING: &[RequestClass] = &[
    class(0.85, "GET", 500, 15.0, 30.0, Note::Unhandled),
    class(0.10, "GET", 200, 3.0, 10.0, Note::None),
    class(0.05, "GET", 404, 1.0, 3.0, Note::None),
];
const CPU_BOUND: &[RequestClass] = &[
    class(0.94, "GET", 200, 40.0, 120.0, Note::None),
    class(0.04, "POST", 201, 60.0, 150.0, Note::None),
    class(0.02, "GET", 404, 5.0, 20.0, Note::None),
];
/// Cache hits answer at once; requests that need the database queue for a connection (1.5 s and more) and are
/// served before the pool's 30 s timeout.
const POOL_EXHAUSTED: &[RequestClass] = &[
    class(0.70, "GET", 200, 3.0, 10.0, Note::None),
    class(0.22, "GET", 200, 1500.0, 4000.0, Note::PoolWait),
    class(0.03, "POST", 201, 1500.0, 4000.0, Note::PoolWait),
    class(0.05, "GET", 404, 1.0, 3.0, Note::None),
];
/// Every price read waits on the slow time-series store.
const SLOW: &[RequestClass] = &[
    class(0.95, "GET", 200, 300.0, 500.0, Note::None),
    class(0.04, "POST", 201, 400.0, 600.0, Note::None),
    class(0.01, "GET", 404, 1.0, 3.0, Note::None),
];
const CACHE_DOWN: &[RequestClass] = &[
    class(0.92, "GET", 200, 60.0, 150.0, Note::CacheDown),
    class(0.05, "POST", 201, 60.0, 150.0, Note::None),
    class(0.03, "GET", 404, 1.0, 3.0, Note::None),
];

/// How an instance in some [`Mode`] behaves, per serving second.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Profile {
    pub mode: Mode,
    /// Requests per second this pod serves while it receives traffic.
    pub rps: f64,
    pub classes: &'static [RequestClass],
    /// Cache lookups per request and the share that hit.
    pub cache_lookups: f64,
    pub cache_hit_ratio: f64,
    /// Checked-out connections: a range, the actual figure jitters inside it.
    pub pool_active: (u32, u32),
    /// Seconds spent waiting for a pool connection, per request on average.
    pub pool_wait_per_request: f64,
    /// Total CPU (millicores) the service's load costs, shared by the serving pods.
    pub shared_cpu_millicores: f64,
    /// Extra memory this mode holds (queued requests, fallbacks), in MiB.
    pub extra_memory_mib: f64,
    /// How long `/health` really takes to answer, in ms (lo, hi).
    pub health_delay_ms: (u64, u64),
    /// How long `/api/health/database` really takes to answer, in ms (lo, hi).
    pub database_health_delay_ms: (u64, u64),
}

impl Profile {
    /// The profile of a mode.
    pub(crate) fn of(mode: Mode) -> Profile {
        let base = Profile {
            mode,
            rps: 3.0,
            classes: NORMAL,
            cache_lookups: 1.5,
            cache_hit_ratio: 0.92,
            pool_active: (2, 5),
            pool_wait_per_request: 0.0004,
            shared_cpu_millicores: 240.0,
            extra_memory_mib: 0.0,
            health_delay_ms: (0, 0),
            database_health_delay_ms: (0, 0),
        };
        match mode {
            Mode::Normal => base,
            Mode::Crashing => Profile {
                rps: 6.0,
                classes: CRASHING,
                pool_active: (1, 3),
                pool_wait_per_request: 0.0,
                ..base
            },
            Mode::CpuBound => Profile {
                classes: CPU_BOUND,
                pool_active: (6, 10),
                pool_wait_per_request: 0.002,
                shared_cpu_millicores: 2580.0,
                extra_memory_mib: 40.0,
                health_delay_ms: (20, 80),
                database_health_delay_ms: (20, 80),
                ..base
            },
            Mode::PoolExhausted => Profile {
                classes: POOL_EXHAUSTED,
                pool_active: (POOL_MAX, POOL_MAX),
                // A quarter of the requests wait 1.5 s + 4 s on average.
                pool_wait_per_request: 1.4,
                shared_cpu_millicores: 150.0,
                extra_memory_mib: 120.0,
                database_health_delay_ms: (DB_HEALTH_CHECKOUT_MS, DB_HEALTH_CHECKOUT_MS),
                ..base
            },
            Mode::Slow => Profile {
                classes: SLOW,
                pool_active: (3, 7),
                shared_cpu_millicores: 300.0,
                extra_memory_mib: 60.0,
                health_delay_ms: (600, 1200),
                ..base
            },
            Mode::CacheDown => Profile {
                classes: CACHE_DOWN,
                cache_hit_ratio: 0.0,
                pool_active: (10, 15),
                pool_wait_per_request: 0.01,
                shared_cpu_millicores: 600.0,
                extra_memory_mib: 30.0,
                ..base
            },
        }
    }
}

/// The app version a pod runs: its image tag.
pub(crate) fn version(pod: &PodView) -> &str {
    image_tag(&pod.image)
}

/// Expected share of a class's requests that finish within `le_ms` (the exponential's CDF past `base_ms`).
pub(crate) fn share_within(class: &RequestClass, le_ms: f64) -> f64 {
    if le_ms < class.base_ms {
        0.0
    } else if class.mean_ms <= 0.0 {
        1.0
    } else {
        1.0 - (-(le_ms - class.base_ms) / class.mean_ms).exp()
    }
}

/// When `pod`'s current container started and, if it has already died, when it died.
/// None before the container first started.
pub(crate) fn container_window(
    pod: &PodView,
    mode: Mode,
) -> Option<(
    chrono::DateTime<chrono::Utc>,
    Option<chrono::DateTime<chrono::Utc>>,
)> {
    let started = pod.started_at?;
    let died =
        (mode == Mode::Crashing).then(|| started + chrono::Duration::seconds(CRASH_AFTER_SECS));
    Some((started, died))
}

/// Whether `pod`'s app process is up and listening at `now` (Running, and not yet crashed).
pub(crate) fn can_answer(pod: &PodView, mode: Mode, now: chrono::DateTime<chrono::Utc>) -> bool {
    use crate::world::PodState;
    if !matches!(pod.state, PodState::Running { .. }) {
        return false;
    }
    match container_window(pod, mode) {
        Some((started, died)) => started <= now && died.is_none_or(|d| now < d),
        None => false,
    }
}
