//! Work in flight, bounded and detached. Each delivery (a slash command, an event, a button press, a Matrix
//! message) takes a permit before its handling is spawned as a task of its own, so a platform connection that goes
//! away (a client that hangs up, a Socket Mode frame dropped, a sync loop cancelled) never cuts the handling short:
//! the connection only waits for it. With no permit free the delivery is answered [`BUSY`] at once. A stopping
//! process waits for the work still running ([`InFlight::idle`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

/// At most this many deliveries are handled at once unless configured (`[limits] max_in_flight`).
pub const DEFAULT_MAX_IN_FLIGHT: usize = 64;

/// What a person is told when every permit is taken.
pub const BUSY: &str = "busy — too many commands in flight; try again in a moment";

/// Told when a delivery is refused for want of a permit (the binary counts it in its metrics).
pub trait BusyObserver: Send + Sync {
    /// A delivery from `platform` (`slack`, `matrix`) was refused; `delivery` is its id (a trigger, event or
    /// Matrix event id).
    fn refused_busy(&self, platform: &str, delivery: &str);
}

/// Every permit is taken: the delivery is refused, nothing of it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{BUSY}")]
pub struct Busy;

/// The permits, and the work holding them.
pub struct InFlight {
    max: usize,
    permits: Arc<Semaphore>,
    running: AtomicUsize,
    idle: Notify,
    observer: Option<Arc<dyn BusyObserver>>,
}

/// One delivery's permit: held by its task until the handling ends (also when it panics).
pub struct Admission {
    gate: Arc<InFlight>,
    _permit: OwnedSemaphorePermit,
}

impl InFlight {
    /// A gate of `max` permits (at least one).
    pub fn new(max: usize) -> Arc<InFlight> {
        InFlight::build(max, None)
    }

    /// A gate of `max` permits whose refusals are reported to `observer`.
    pub fn with_observer(max: usize, observer: Arc<dyn BusyObserver>) -> Arc<InFlight> {
        InFlight::build(max, Some(observer))
    }

    fn build(max: usize, observer: Option<Arc<dyn BusyObserver>>) -> Arc<InFlight> {
        let max = max.max(1);
        Arc::new(InFlight {
            max,
            permits: Arc::new(Semaphore::new(max)),
            running: AtomicUsize::new(0),
            idle: Notify::new(),
            observer,
        })
    }

    /// How many permits there are.
    pub fn max(&self) -> usize {
        self.max
    }

    /// How many deliveries are being handled right now.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    /// Takes a permit for the delivery `delivery` (its id) from `platform`, or refuses it at once (logged and
    /// reported).
    pub fn admit(self: &Arc<Self>, platform: &str, delivery: &str) -> Result<Admission, Busy> {
        match self.permits.clone().try_acquire_owned() {
            Ok(permit) => {
                self.running.fetch_add(1, Ordering::SeqCst);
                Ok(Admission {
                    gate: self.clone(),
                    _permit: permit,
                })
            }
            Err(_) => {
                // Debug only: under a flood a line per refusal would cost more than the refusal. The observer
                // counts them, and the bot logs and audits one summary per window.
                tracing::debug!(
                    platform,
                    delivery,
                    max_in_flight = self.max,
                    "refused a delivery: too many in flight"
                );
                if let Some(observer) = &self.observer {
                    observer.refused_busy(platform, delivery);
                }
                Err(Busy)
            }
        }
    }

    /// Waits until no delivery is being handled (graceful stop).
    pub async fn idle(&self) {
        loop {
            let idle = self.idle.notified();
            if self.running() == 0 {
                return;
            }
            idle.await;
        }
    }
}

impl Admission {
    /// Runs `work` in a task of its own holding this permit; the handle may be awaited or dropped (dropping it
    /// does not stop the work).
    pub fn spawn(self, work: impl Future<Output = ()> + Send + 'static) -> JoinHandle<()> {
        tokio::spawn(async move {
            let _admission = self;
            work.await;
        })
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        if self.gate.running.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.gate.idle.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_full_gate_refuses_at_once_and_frees_the_permit_when_the_work_ends() {
        let gate = InFlight::new(1);
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let task = gate
            .admit("slack", "d1")
            .expect("a permit")
            .spawn(async move {
                let _ = released.await;
            });
        assert_eq!(gate.admit("slack", "d1").err(), Some(Busy));
        assert_eq!(gate.running(), 1);
        release.send(()).expect("the work waits");
        tokio::time::timeout(Duration::from_secs(5), gate.idle())
            .await
            .expect("idle once the work ended");
        task.await.expect("the work ended");
        assert!(
            gate.admit("slack", "d1").is_ok(),
            "the permit is free again"
        );
    }

    #[tokio::test]
    async fn work_goes_on_when_its_handle_is_dropped() {
        let gate = InFlight::new(2);
        let (done, finished) = tokio::sync::oneshot::channel::<()>();
        drop(
            gate.admit("matrix", "d2")
                .expect("a permit")
                .spawn(async move {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    let _ = done.send(());
                }),
        );
        tokio::time::timeout(Duration::from_secs(5), finished)
            .await
            .expect("finished in time")
            .expect("the work ran to its end");
        gate.idle().await;
    }
}
