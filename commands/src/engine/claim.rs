//! Claiming a delivery once, before anything of it runs. The claim is one row in the store under one key per
//! delivery ([`delivery_key`]: `event:` and the invocation's event id — a Slack event id, a slash command's or
//! button press's trigger id, a Matrix event id); whoever inserts it runs the delivery, everybody else does
//! nothing. Redis is only a pre-filter in front of it: a key Redis has seen short-cuts a duplicate without a store
//! round trip, but a key Redis has not seen still goes to the store, which decides. A key is marked in Redis only
//! after the store's claim was won, so the pre-filter never knows of a claim the store does not hold. While Redis
//! fails, the pre-filter is skipped for [`CoreSettings::coordinator_retry`](super::CoreSettings) (a circuit
//! breaker) and the store alone decides.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Context;
use super::metrics_hook::{self, Dependency};

/// At most this long for a pre-filter answer; a slower Redis counts as down.
const PRE_FILTER_TIMEOUT: Duration = Duration::from_millis(500);

/// The one key a delivery is claimed under, in the store and in the pre-filter.
pub fn delivery_key(event_id: &str) -> String {
    format!("event:{event_id}")
}

/// How the claim of a delivery ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Claim {
    /// This process holds the delivery's claim: run it.
    Won,
    /// Claimed before (a retry, a replay, another replica): do nothing.
    Duplicate,
    /// The store could not be asked: nothing holds the claim, so only what is harmless to repeat may run.
    Unrecorded,
}

/// The pre-filter's circuit breaker: open (skipped) until a moment after its last failure.
#[derive(Debug, Default)]
pub(crate) struct PreFilter {
    open_until: Mutex<Option<Instant>>,
}

impl PreFilter {
    fn closed(&self) -> bool {
        let open_until = self.open_until.lock().unwrap_or_else(|p| p.into_inner());
        open_until.is_none_or(|until| Instant::now() >= until)
    }

    fn trip(&self, retry_after: Duration) {
        *self.open_until.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(Instant::now() + retry_after);
    }

    fn reset(&self) {
        *self.open_until.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// Claims the delivery `event_id` once across processes and restarts.
pub(super) async fn claim(ctx: &Context, event_id: &str) -> Claim {
    let key = delivery_key(event_id);
    if seen_in_pre_filter(ctx, &key).await {
        return Claim::Duplicate;
    }
    match ctx.store.claim_event(&key, ctx.clock.now()).await {
        Ok(true) => {
            mark_in_pre_filter(ctx, &key).await;
            Claim::Won
        }
        Ok(false) => Claim::Duplicate,
        Err(err) => {
            metrics_hook::dependency_error(ctx, Dependency::Store);
            tracing::error!(error = %err, "cannot claim the delivery in the store");
            Claim::Unrecorded
        }
    }
}

/// Whether Redis has seen `key` claimed; false when it has not, or cannot say (the store decides then).
async fn seen_in_pre_filter(ctx: &Context, key: &str) -> bool {
    if !ctx.claim_pre_filter.closed() {
        return false;
    }
    let asked = tokio::time::timeout(PRE_FILTER_TIMEOUT, ctx.coordinator.is_claimed(key)).await;
    match asked {
        Ok(Ok(seen)) => {
            ctx.claim_pre_filter.reset();
            seen
        }
        Ok(Err(err)) => {
            pre_filter_failed(ctx, &err.to_string());
            false
        }
        Err(_) => {
            pre_filter_failed(ctx, "no answer in time");
            false
        }
    }
}

/// Tells Redis about a claim the store holds, so a later duplicate is short-cut.
async fn mark_in_pre_filter(ctx: &Context, key: &str) {
    if !ctx.claim_pre_filter.closed() {
        return;
    }
    let ttl = ctx.settings.event_claim_ttl;
    match tokio::time::timeout(PRE_FILTER_TIMEOUT, ctx.coordinator.claim(key, ttl)).await {
        Ok(Ok(_)) => {}
        Ok(Err(err)) => pre_filter_failed(ctx, &err.to_string()),
        Err(_) => pre_filter_failed(ctx, "no answer in time"),
    }
}

fn pre_filter_failed(ctx: &Context, why: &str) {
    let retry_after = ctx.settings.coordinator_retry;
    ctx.claim_pre_filter.trip(retry_after);
    metrics_hook::dependency_error(ctx, Dependency::Coordinator);
    tracing::warn!(
        error = why,
        retry_in_ms = retry_after.as_millis() as u64,
        "coordinator unavailable; deliveries are claimed in the store alone"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_breaker_opens_on_a_failure_and_closes_after_the_interval() {
        let filter = PreFilter::default();
        assert!(filter.closed());
        filter.trip(Duration::from_millis(30));
        assert!(!filter.closed(), "skipped right after a failure");
        std::thread::sleep(Duration::from_millis(40));
        assert!(filter.closed(), "tried again after the interval");
        filter.trip(Duration::from_secs(60));
        filter.reset();
        assert!(filter.closed());
    }

    #[test]
    fn one_key_per_delivery() {
        assert_eq!(delivery_key("slack:T1:cmd:tr1"), "event:slack:T1:cmd:tr1");
    }
}
