//! A count of work in flight that can be waited on until it reaches zero: the invocations the core is handling
//! and the job work the runner kicked off, so a stopping process (and the demo, line by line) lets them finish.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

/// Work in flight, and a way to wait until there is none.
#[derive(Default)]
pub(super) struct WorkCount {
    count: AtomicUsize,
    idle: Notify,
}

/// One piece of work, counted until dropped (also when its task is cancelled or panics).
pub(super) struct Counted<'a>(&'a WorkCount);

impl WorkCount {
    /// Counts one piece of work until the guard is dropped.
    pub(super) fn enter(&self) -> Counted<'_> {
        self.add();
        Counted(self)
    }

    /// Counts one piece of work, until [`WorkCount::done`] (for work that outlives the caller's borrow).
    pub(super) fn add(&self) {
        self.count.fetch_add(1, Ordering::SeqCst);
    }

    /// One piece of work counted by [`WorkCount::add`] has ended.
    pub(super) fn done(&self) {
        if self.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }

    /// Forgets all work in flight (it was aborted) and wakes whoever waits.
    pub(super) fn reset(&self) {
        self.count.store(0, Ordering::SeqCst);
        self.idle.notify_waiters();
    }

    /// How much work is in flight.
    pub(super) fn get(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    /// Waits until no work is in flight.
    pub(super) async fn idle(&self) {
        loop {
            let idle = self.idle.notified();
            if self.get() == 0 {
                return;
            }
            idle.await;
        }
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.done();
    }
}
