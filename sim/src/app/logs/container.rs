//! One container's life as log lines: startup, a few requests per second, probes and scrapes, periodic
//! warnings, and for a crashing image the fatal end.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::LogLine;
use super::text;
use crate::app::noise::Noise;
use crate::app::profile::{
    CRASH_AFTER_SECS, Mode, Profile, STARTUP_SECS, container_window, traffic_start_ms, version,
};
use crate::world::{PodState, PodView, ScenarioState};

/// How a container's log ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// Still running (as far as `to`).
    Running,
    /// Died with the bad release's traceback at this instant.
    Crashed(DateTime<Utc>),
    /// Killed (a restarted good image) at this instant.
    Killed(DateTime<Utc>),
}

/// A container whose log can be generated.
pub(super) struct Container {
    /// Seeds the noise: the pod uid and the run's start.
    key: String,
    version: String,
    profile: Profile,
    started: DateTime<Utc>,
    end: End,
    /// Whether clients' requests reach it (it is ready, or it is the bad release serving 5xx while up).
    receives_traffic: bool,
}

impl Container {
    /// The pod's current container, None before it first started.
    pub(super) fn current(pod: &PodView, scenario: &ScenarioState) -> Option<Container> {
        let mode = Mode::of(pod, scenario);
        let (started, died) = container_window(pod, mode)?;
        let ready = matches!(
            pod.state,
            PodState::Running { ready: true } | PodState::Terminating
        );
        let end = died.map_or(End::Running, End::Crashed);
        Some(Container::new(pod, mode, started, end, ready))
    }

    /// A run of the pod's container that ended at `finished`: with the bad release's traceback when the image
    /// crashes under `scenario`, else killed for memory.
    pub(super) fn finished(
        pod: &PodView,
        scenario: &ScenarioState,
        started: DateTime<Utc>,
        finished: DateTime<Utc>,
    ) -> Container {
        let mode = Mode::of(pod, scenario);
        let end = if mode == Mode::Crashing {
            End::Crashed(finished)
        } else {
            End::Killed(finished)
        };
        Container::new(pod, mode, started, end, mode != Mode::Crashing)
    }

    /// The container that ran before the current one, guessed from the restart count and the kubelet's
    /// back-off (10 s doubling per restart, at most 5 minutes); None when the pod never restarted.
    pub(super) fn previous(
        pod: &PodView,
        scenario: &ScenarioState,
        now: DateTime<Utc>,
    ) -> Option<Container> {
        if pod.restarts == 0 {
            return None;
        }
        let current_start = pod.started_at.unwrap_or(now);
        let backoff = 10i64
            .saturating_mul(1 << (pod.restarts - 1).min(5))
            .min(300);
        let died = current_start - Duration::seconds(backoff);
        let life = if Mode::of(pod, scenario) == Mode::Crashing {
            Duration::seconds(CRASH_AFTER_SECS)
        } else {
            Duration::minutes(10)
        };
        Some(Container::finished(pod, scenario, died - life, died))
    }

    fn new(pod: &PodView, mode: Mode, started: DateTime<Utc>, end: End, ready: bool) -> Container {
        Container {
            // One run of one pod: the same run gives the same lines, whichever way it is asked for.
            key: format!("{}@{}", pod.uid, started.timestamp_millis()),
            version: version(pod).to_string(),
            profile: Profile::of(mode),
            started,
            end,
            receives_traffic: ready || mode == Mode::Crashing,
        }
    }

    /// When it started.
    pub(super) fn started(&self) -> DateTime<Utc> {
        self.started
    }

    /// The last instant it can log (its fatal lines), or None while running.
    fn died(&self) -> Option<DateTime<Utc>> {
        match self.end {
            End::Running => None,
            End::Crashed(at) | End::Killed(at) => Some(at),
        }
    }

    /// Lines in `[from, to)`, oldest first.
    pub(super) fn lines(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<LogLine> {
        let first = from.max(self.started).timestamp();
        let last = self.died().map_or(to, |d| d.min(to)).timestamp();
        let mut out = Vec::new();
        for s in first..=last {
            out.extend(
                self.second(s)
                    .into_iter()
                    .filter(|l| l.at >= from && l.at < to),
            );
        }
        out
    }

    /// The last `n` lines before `to`, oldest first.
    pub(super) fn tail(&self, to: DateTime<Utc>, n: usize) -> Vec<LogLine> {
        let first = self
            .started
            .timestamp()
            .max(to.timestamp() - super::RETAINED_SECS);
        let mut s = self.died().map_or(to, |d| d.min(to)).timestamp();
        let mut chunks: Vec<Vec<LogLine>> = Vec::new();
        let mut count = 0;
        while s >= first && count < n {
            let chunk: Vec<LogLine> = self.second(s).into_iter().filter(|l| l.at < to).collect();
            count += chunk.len();
            chunks.push(chunk);
            s -= 1;
        }
        let mut out: Vec<LogLine> = chunks.into_iter().rev().flatten().collect();
        let skip = out.len().saturating_sub(n);
        out.drain(..skip);
        out
    }

    /// Every line whose instant falls in the unix second `s`, in order.
    fn second(&self, s: i64) -> Vec<LogLine> {
        let mut out: Vec<(i64, String)> = Vec::new();
        let base_ms = s * 1000;
        let start_ms = self.started.timestamp_millis();
        for (offset, line) in text::startup(&self.version, self.profile.mode) {
            let at = start_ms + offset;
            if at >= base_ms && at < base_ms + 1000 {
                out.push((at, line));
            }
        }
        let since_start = s - self.started.timestamp();
        let traffic_from = start_ms + traffic_start_ms(self.profile.mode);
        if base_ms + 1000 > traffic_from {
            self.serving_second(s, since_start, traffic_from, &mut out);
        }
        let died = self.died().map(|d| d.timestamp_millis());
        if let Some(died) = died {
            out.retain(|(at, _)| *at < died);
            if died >= base_ms && died < base_ms + 1000 {
                let fatal = match self.end {
                    End::Killed(_) => text::killed(),
                    _ => text::crash(&self.version),
                };
                out.extend(
                    fatal
                        .into_iter()
                        .enumerate()
                        .map(|(i, l)| (died + i as i64, l)),
                );
            }
        }
        out.sort_by_key(|(at, _)| *at);
        out.into_iter()
            .filter_map(|(at, text)| {
                Some(LogLine {
                    at: Utc.timestamp_millis_opt(at).single()?,
                    text,
                })
            })
            .collect()
    }

    /// Requests (from `traffic_from`, unix ms), probes, scrapes and warnings of one second after startup.
    fn serving_second(
        &self,
        s: i64,
        since_start: i64,
        traffic_from: i64,
        out: &mut Vec<(i64, String)>,
    ) {
        let mut noise = Noise::at(&self.key, s, "log");
        let base_ms = s * 1000;
        if self.receives_traffic {
            let rps = self.profile.rps;
            let n = (rps.floor() as u64).saturating_sub(1) + noise.range(0, 2);
            for _ in 0..n {
                let at = base_ms + noise.range(0, 999) as i64;
                let mut request = Vec::new();
                self.request(at, &mut noise, &mut request);
                out.extend(request.into_iter().filter(|_| at >= traffic_from));
            }
        }
        if since_start < STARTUP_SECS {
            return;
        }
        if since_start % 10 == 5 {
            // The kubelet's liveness and readiness probes ask whether the process is up, not its dependencies
            // (so a Redis outage does not take every pod out of the load balancer).
            let ms = 0.4 + noise.unit() * 1.2;
            let probe = text::access(text::KUBELET, "GET", "/health/live", 200, ms);
            out.push((base_ms + 2, probe));
        }
        if (since_start + scrape_phase(&self.key)) % 15 == 0 {
            let ms = 1.5 + noise.unit() * 3.0;
            out.push((
                base_ms + 400,
                text::access(text::PROMETHEUS, "GET", "/metrics", 200, ms),
            ));
        }
        if let Some(line) = text::periodic(self.profile.mode, since_start, &mut noise) {
            out.push((base_ms + 650, line));
        }
    }

    /// One client request: maybe an application line, then the access line.
    fn request(&self, at: i64, noise: &mut Noise, out: &mut Vec<(i64, String)>) {
        let class = pick_class(self.profile.classes, noise.unit());
        let path = text::path(class, noise);
        let client = text::client(noise);
        let ms = class.base_ms - class.mean_ms * (1.0 - noise.unit()).ln();
        if let Some(note) = text::request_note(class, class.method, path, ms, noise) {
            out.push((at, note));
        }
        if ms > 1000.0 && class.status < 500 {
            let took = text::millis(ms, class.status);
            out.push((
                at,
                format!("WARN slow request: {} {path} took {took}", class.method),
            ));
        }
        out.push((
            at,
            text::access(client, class.method, path, class.status, ms),
        ));
    }
}

/// The class a uniform draw `u` falls into, by weight.
fn pick_class(
    classes: &'static [crate::app::profile::RequestClass],
    u: f64,
) -> &'static crate::app::profile::RequestClass {
    let total: f64 = classes.iter().map(|c| c.weight).sum();
    let mut acc = 0.0;
    for c in classes {
        acc += c.weight / total;
        if u < acc {
            return c;
        }
    }
    &classes[classes.len() - 1]
}

/// A per-pod phase so pods are not scraped in the same second.
fn scrape_phase(key: &str) -> i64 {
    (crate::app::noise::hash(&[key.as_bytes(), b"scrape"]) % 15) as i64
}
