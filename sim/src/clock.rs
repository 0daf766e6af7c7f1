//! The simulated clock: wall time sped up by a multiplier, so tests can run a ten-minute rollout in seconds.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff;

/// Simulated time. `now()` = the wall time at start + real elapsed time × `speed`.
#[derive(Clone, Debug)]
pub struct SimClock {
    started_real: Instant,
    started_sim: DateTime<Utc>,
    speed: f64,
}

impl SimClock {
    /// A clock that starts at the current wall time and runs `speed` times faster (values ≤ 0 or NaN mean 1.0).
    pub fn new(speed: f64) -> SimClock {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        SimClock {
            started_real: Instant::now(),
            started_sim: Utc::now(),
            speed,
        }
    }

    /// Simulated time now.
    pub fn now(&self) -> DateTime<Utc> {
        let real = self.started_real.elapsed().as_secs_f64() * self.speed;
        let sim = chrono::Duration::microseconds((real * 1_000_000.0) as i64);
        self.started_sim + sim
    }

    /// The speed multiplier.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// How long in real time a simulated duration takes.
    pub fn real_duration(&self, sim: Duration) -> Duration {
        sim.div_f64(self.speed)
    }
}

/// A Kubernetes `Time` (second precision, like a real API server) from a chrono time.
pub fn ktime(t: DateTime<Utc>) -> Time {
    Time(jiff::Timestamp::from_second(t.timestamp()).unwrap_or(jiff::Timestamp::UNIX_EPOCH))
}

/// A chrono time from a Kubernetes `Time`.
pub fn from_ktime(t: &Time) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.0.as_microsecond()).unwrap_or_default()
}

/// Whole seconds from `earlier` to `later` as a simulated [`Duration`] (zero when `later` is before `earlier`).
pub fn elapsed(earlier: DateTime<Utc>, later: DateTime<Utc>) -> Duration {
    (later - earlier).to_std().unwrap_or(Duration::ZERO)
}

/// Renders an age the way kubectl's printers do: `45s`, `3m12s`, `5h2m`, `3d4h`, `12d`.
pub fn human_age(age: Duration) -> String {
    let s = age.as_secs();
    let pair = |big: u64, big_unit: &str, small: u64, small_unit: &str| {
        if small == 0 {
            format!("{big}{big_unit}")
        } else {
            format!("{big}{big_unit}{small}{small_unit}")
        }
    };
    let (m, h, d) = (s / 60, s / 3600, s / 86400);
    match s {
        0..120 => format!("{s}s"),
        120..600 => pair(m, "m", s % 60, "s"),
        600..10800 => format!("{m}m"),
        10800..28800 => pair(h, "h", m % 60, "m"),
        28800..172800 => format!("{h}h"),
        172800..691200 => pair(d, "d", h % 24, "h"),
        _ if d < 730 => format!("{d}d"),
        _ => format!("{}y", d / 365),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_render_like_kubectl() {
        assert_eq!(human_age(Duration::from_secs(5)), "5s");
        assert_eq!(human_age(Duration::from_secs(150)), "2m30s");
        assert_eq!(human_age(Duration::from_secs(3 * 86400 + 7200)), "3d2h");
        assert_eq!(human_age(Duration::from_secs(3 * 86400 + 60)), "3d");
    }

    #[test]
    fn clock_runs_faster() {
        let c = SimClock::new(1000.0);
        let a = c.now();
        std::thread::sleep(Duration::from_millis(10));
        assert!(c.now() - a >= chrono::Duration::seconds(5));
    }
}
