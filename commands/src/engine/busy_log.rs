//! "Busy" refusals on the record, without letting a flood fill the log: every delivery refused for want of a
//! permit is counted into a window of [`WINDOW`]; when the window ends, one summary row is appended (how many, from
//! which platforms, the first and the last delivery's id). A quiet process keeps no window open.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::audit::NewAuditEntry;

use super::Context;

/// How long refusals are gathered into one summary row.
pub(crate) const WINDOW: Duration = Duration::from_secs(10);

/// The refusals of the current window.
#[derive(Debug, Default)]
pub(crate) struct BusyLog {
    open: Mutex<Option<Window>>,
}

#[derive(Debug)]
pub(crate) struct Window {
    count: u64,
    first: String,
    last: String,
    platforms: BTreeMap<String, u64>,
    since: DateTime<Utc>,
}

impl BusyLog {
    /// Counts a refusal; true when it opened a window (the caller then writes its row when the window ends).
    pub(crate) fn note(&self, platform: &str, delivery: &str, now: DateTime<Utc>) -> bool {
        let Ok(mut open) = self.open.lock() else {
            return false;
        };
        match open.as_mut() {
            Some(window) => {
                window.count += 1;
                window.last = delivery.to_string();
                *window.platforms.entry(platform.to_string()).or_default() += 1;
                false
            }
            None => {
                *open = Some(Window {
                    count: 1,
                    first: delivery.to_string(),
                    last: delivery.to_string(),
                    platforms: BTreeMap::from([(platform.to_string(), 1)]),
                    since: now,
                });
                true
            }
        }
    }

    /// Closes the window.
    pub(crate) fn take(&self) -> Option<Window> {
        self.open.lock().ok()?.take()
    }
}

impl Window {
    /// The window's summary row.
    pub(crate) fn entry(&self, now: DateTime<Utc>) -> NewAuditEntry {
        NewAuditEntry {
            at: now,
            actor_person: None,
            actor_identity: "bot".to_string(),
            conversation: serde_json::Value::Null,
            text: String::new(),
            command: None,
            decision: super::trail::Decision::Refused.as_str().to_string(),
            outcome: Some(format!(
                "busy: {} deliveries refused since {} (every permit taken)",
                self.count,
                self.since.format("%H:%M:%S UTC")
            )),
            duration_ms: None,
            approval_id: None,
            detail: json!({
                "busy": {"count": self.count, "first": self.first, "last": self.last,
                         "platforms": self.platforms, "since": self.since.to_rfc3339()}
            }),
        }
    }
}

/// Counts a refusal and, when it opens a window, writes the window's row once it ends.
pub(crate) fn note(ctx: &std::sync::Arc<Context>, platform: &str, delivery: &str) {
    if !ctx.busy_log.note(platform, delivery, ctx.clock.now()) {
        return;
    }
    tracing::warn!(
        platform,
        delivery,
        "refusing deliveries: every permit is taken ([limits] max_in_flight); one summary follows in 10 s"
    );
    let ctx = ctx.clone();
    tokio::spawn(async move {
        tokio::time::sleep(WINDOW).await;
        if let Some(window) = ctx.busy_log.take() {
            tracing::warn!(
                refused = window.count,
                first = %window.first,
                last = %window.last,
                "deliveries refused as busy in the last window"
            );
            super::trail::record_entry(&ctx, window.entry(ctx.clock.now())).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_counts_every_refusal_and_names_the_first_and_last() {
        let log = BusyLog::default();
        let now = Utc::now();
        assert!(
            log.note("slack", "slack:T1:cmd:a", now),
            "the first opens a window"
        );
        for n in 0..998 {
            assert!(!log.note("slack", &format!("slack:T1:cmd:{n}"), now));
        }
        assert!(!log.note("matrix", "matrix:$z", now));
        let window = log.take().expect("a window");
        let row = window.entry(now);
        assert_eq!(row.detail["busy"]["count"], 1000);
        assert_eq!(row.detail["busy"]["first"], "slack:T1:cmd:a");
        assert_eq!(row.detail["busy"]["last"], "matrix:$z");
        assert_eq!(row.detail["busy"]["platforms"]["slack"], 999);
        assert!(
            row.outcome
                .as_deref()
                .is_some_and(|o| o.contains("1000 deliveries"))
        );
        assert!(log.take().is_none(), "taken once");
        assert!(
            log.note("slack", "next", now),
            "the next refusal opens a new window"
        );
    }
}
