//! Rate limits per person and per command class (governor): "slow down — try again in N s", never a silent drop.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;

/// How many commands a person may run per minute, by class.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Read-only commands per person per minute (burst the same).
    pub read_per_minute: u32,
    /// Destructive requests (rollback, deploy, scale, restart, vacuum) per person per minute.
    pub destructive_per_minute: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            read_per_minute: 30,
            destructive_per_minute: 5,
        }
    }
}

/// The class a command is limited under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LimitClass {
    Read,
    Destructive,
}

/// Keyed limiters, one per class, keyed by person id.
pub struct RateLimits {
    read: DefaultKeyedRateLimiter<String>,
    destructive: DefaultKeyedRateLimiter<String>,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RateLimits")
    }
}

fn quota(per_minute: u32) -> Quota {
    let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(n)
}

impl RateLimits {
    pub fn new(config: &RateLimitConfig) -> Self {
        RateLimits {
            read: RateLimiter::keyed(quota(config.read_per_minute)),
            destructive: RateLimiter::keyed(quota(config.destructive_per_minute)),
        }
    }

    /// Ok, or how long the person must wait before trying again.
    pub fn check(&self, person: &str, class: LimitClass) -> Result<(), Duration> {
        let limiter = match class {
            LimitClass::Read => &self.read,
            LimitClass::Destructive => &self.destructive,
        };
        limiter
            .check_key(&person.to_string())
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// The refusal text for a wait.
pub fn slow_down(wait: Duration) -> String {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    format!("slow down — try again in {} s", secs.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destructive_is_tighter_and_per_person() {
        let limits = RateLimits::new(&RateLimitConfig {
            read_per_minute: 3,
            destructive_per_minute: 1,
        });
        assert!(limits.check("alice", LimitClass::Destructive).is_ok());
        let wait = limits.check("alice", LimitClass::Destructive).unwrap_err();
        assert!(wait > Duration::from_secs(1));
        assert!(slow_down(wait).starts_with("slow down — try again in "));
        assert!(limits.check("bob", LimitClass::Destructive).is_ok());
        for _ in 0..3 {
            assert!(limits.check("alice", LimitClass::Read).is_ok());
        }
        assert!(limits.check("alice", LimitClass::Read).is_err());
    }
}
