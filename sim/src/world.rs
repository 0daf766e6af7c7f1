//! The seam between the simulated cluster (API server + controllers) and the simulated MyStocks application.
//!
//! The cluster side owns the objects; the application side (app/) only reads this view of them to decide what
//! each pod answers, logs and consumes. Keep this file small: it is a contract between two halves of the sim.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

/// The fault scenario the simulated world runs under. Switchable at run time through the control endpoint.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// Everything works.
    #[default]
    Healthy,
    /// Images whose tag is the scenario's bad tag crash on start (CrashLoopBackOff) and serve 5xx while up.
    BadRelease,
    /// Pods burn CPU; per-pod CPU falls as replicas are added.
    HighCpu,
    /// The DB pool is exhausted: active = max, waits growing, `/api/health/database` fails; requests that need
    /// the database wait for a connection (slow, but served: no 5xx), cache hits stay fast.
    DbPoolExhausted,
    /// The time-series store the app reads prices from is slow: `/health` (which pings it) and requests are
    /// slow; cache, database and CPU are fine.
    HighLatency,
    /// The app's cache (Redis) is down: the RESP endpoint refuses, the app reports its cache down and answers
    /// from the database (cache-aside), so `/health` stays 200.
    RedisDown,
}

impl Scenario {
    pub const ALL: [Scenario; 6] = [
        Scenario::Healthy,
        Scenario::BadRelease,
        Scenario::HighCpu,
        Scenario::DbPoolExhausted,
        Scenario::HighLatency,
        Scenario::RedisDown,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Healthy => "healthy",
            Scenario::BadRelease => "bad-release",
            Scenario::HighCpu => "high-cpu",
            Scenario::DbPoolExhausted => "db-pool-exhausted",
            Scenario::HighLatency => "high-latency",
            Scenario::RedisDown => "redis-down",
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scenario {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scenario::ALL
            .into_iter()
            .find(|sc| sc.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Scenario::ALL.iter().map(|s| s.name()).collect();
                format!("unknown scenario `{s}`; known: {}", names.join(", "))
            })
    }
}

/// What happens to a container started from an image, decided by the scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFate {
    /// Pulls, starts, becomes ready.
    Good,
    /// The image cannot be pulled: ErrImagePull, then ImagePullBackOff.
    PullError,
    /// Pulls and starts, then crashes: CrashLoopBackOff with restarts counting up; serves 5xx while briefly up.
    Crash,
}

/// The scenario plus its parameters, as the control endpoint sets them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScenarioState {
    pub scenario: Scenario,
    /// Under `bad-release`, images with this tag crash. Default `v1.0.2`.
    pub bad_tag: String,
}

impl Default for ScenarioState {
    fn default() -> Self {
        ScenarioState {
            scenario: Scenario::Healthy,
            bad_tag: "v1.0.2".to_string(),
        }
    }
}

impl ScenarioState {
    /// Whether a container started from `image` would pull, crash or run. Tags containing `does-not-exist`
    /// never pull, under every scenario (a typo'd tag on a real registry).
    pub fn image_fate(&self, image: &str) -> ImageFate {
        let tag = image_tag(image);
        if tag.contains("does-not-exist") {
            return ImageFate::PullError;
        }
        if self.scenario == Scenario::BadRelease && tag == self.bad_tag {
            return ImageFate::Crash;
        }
        ImageFate::Good
    }
}

/// The tag of an image reference (`registry:5000/name:tag@sha256:…` → `tag`; none → `latest`).
pub fn image_tag(image: &str) -> &str {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last.split_once(':').map(|(_, t)| t).unwrap_or("latest")
}

/// Where a pod is in its life, as the application sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodState {
    Pending,
    ContainerCreating,
    /// Running; `ready` says whether it passed its readiness probe.
    Running {
        ready: bool,
    },
    /// Crashed and waiting to be restarted.
    CrashLoopBackOff,
    ImagePullBackOff,
    /// Being deleted (graceful termination).
    Terminating,
}

/// One pod of the app deployment, as the application side needs to see it.
#[derive(Clone, Debug)]
pub struct PodView {
    pub name: String,
    pub uid: String,
    pub image: String,
    pub container: String,
    pub state: PodState,
    /// When the current container started (None before it first started).
    pub started_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub restarts: u32,
}

impl PodView {
    /// Whether the pod would receive traffic from the load balancer.
    pub fn serving(&self) -> bool {
        matches!(self.state, PodState::Running { ready: true })
    }
}

/// A read-only view of the world the application lives in. Implemented by the cluster.
pub trait ClusterView: Send + Sync + 'static {
    /// The app deployment's pods (all phases).
    fn app_pods(&self) -> Vec<PodView>;
    /// The current scenario.
    fn scenario(&self) -> ScenarioState;
    /// Simulated time now.
    fn now(&self) -> DateTime<Utc>;
}

/// The control endpoint's handle on the world: the view plus switching the scenario at run time.
pub trait ClusterControl: ClusterView {
    /// Switches the scenario; controllers and the app follow from their next step.
    fn set_scenario(&self, state: ScenarioState);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert_eq!(image_tag("mystocks/api:v1.0.1"), "v1.0.1");
        assert_eq!(image_tag("reg:5000/mystocks/api:v2"), "v2");
        assert_eq!(image_tag("reg:5000/mystocks/api"), "latest");
        assert_eq!(image_tag("mystocks/api:v3@sha256:abcd"), "v3");
    }

    #[test]
    fn scenario_names_round_trip() {
        for s in Scenario::ALL {
            assert_eq!(s.name().parse::<Scenario>().unwrap(), s);
        }
        assert!("nope".parse::<Scenario>().is_err());
    }

    #[test]
    fn bad_release_crashes_only_its_tag() {
        let st = ScenarioState {
            scenario: Scenario::BadRelease,
            ..Default::default()
        };
        assert_eq!(st.image_fate("mystocks/api:v1.0.2"), ImageFate::Crash);
        assert_eq!(st.image_fate("mystocks/api:v1.0.1"), ImageFate::Good);
        assert_eq!(
            ScenarioState::default().image_fate("mystocks/api:v1.0.2"),
            ImageFate::Good
        );
        assert_eq!(
            st.image_fate("mystocks/api:does-not-exist"),
            ImageFate::PullError
        );
    }
}
