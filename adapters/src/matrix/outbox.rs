//! Sending to a room within the homeserver's rate limits: a refused send (`M_LIMIT_EXCEEDED`) waits the
//! `retry_after_ms` the server asked for and tries again with the same transaction id (so a retry can never post
//! twice). Counters show how often that happened.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use matrix_sdk::Room;
use matrix_sdk::config::RequestConfig;
use matrix_sdk::ruma::api::error::{ErrorKind, RetryAfter};
use matrix_sdk::ruma::events::MessageLikeEventContent;
use matrix_sdk::ruma::{OwnedEventId, TransactionId};
use mystocks_commands::reply::SinkError;

/// Attempts per message before giving up (rate-limit waits included).
const MAX_ATTEMPTS: u32 = 30;
/// The longest single wait a rate limit may impose before the message is given up.
const MAX_WAIT: Duration = Duration::from_secs(120);
/// The wait when the server refuses without saying how long.
const DEFAULT_WAIT: Duration = Duration::from_secs(1);

/// What the adapter's sending has met so far.
#[derive(Debug, Default)]
pub struct SendStats {
    sent: AtomicU64,
    rate_limited: AtomicU64,
    waited_ms: AtomicU64,
    coalesced: AtomicU64,
    failed: AtomicU64,
}

/// A copy of the counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SendCounts {
    /// Events the homeserver accepted (messages, edits).
    pub sent: u64,
    /// Sends refused with `M_LIMIT_EXCEEDED` and retried after the server's `retry_after_ms`.
    pub rate_limited: u64,
    /// Total time waited for rate limits, in milliseconds.
    pub waited_ms: u64,
    /// Edits replaced by newer content before they were sent (throttling).
    pub coalesced: u64,
    /// Messages given up.
    pub failed: u64,
}

impl SendStats {
    /// The counters now.
    pub fn counts(&self) -> SendCounts {
        SendCounts {
            sent: self.sent.load(Ordering::SeqCst),
            rate_limited: self.rate_limited.load(Ordering::SeqCst),
            waited_ms: self.waited_ms.load(Ordering::SeqCst),
            coalesced: self.coalesced.load(Ordering::SeqCst),
            failed: self.failed.load(Ordering::SeqCst),
        }
    }

    pub(super) fn count_coalesced(&self) {
        self.coalesced.fetch_add(1, Ordering::SeqCst);
    }
}

/// Sends one event to `room`, waiting out rate limits; the event id on success.
pub(super) async fn send<C>(
    room: &Room,
    content: C,
    stats: &Arc<SendStats>,
) -> Result<OwnedEventId, SinkError>
where
    C: MessageLikeEventContent + Clone,
{
    let txn = TransactionId::new();
    let mut last_error = String::new();
    for attempt in 1..=MAX_ATTEMPTS {
        let result = room
            .send(content.clone())
            .with_transaction_id(txn.clone())
            .with_request_config(RequestConfig::new().disable_retry())
            .await;
        match result {
            Ok(sent) => {
                stats.sent.fetch_add(1, Ordering::SeqCst);
                return Ok(sent.response.event_id);
            }
            Err(err) => {
                let wait = match err.client_api_error_kind() {
                    Some(ErrorKind::LimitExceeded(data)) => {
                        stats.rate_limited.fetch_add(1, Ordering::SeqCst);
                        wait_of(data.retry_after.as_ref())
                    }
                    // Network trouble: a few quick retries, then give up.
                    None if attempt < 4 && err.as_client_api_error().is_none() => {
                        Duration::from_millis(500 * attempt as u64)
                    }
                    _ => {
                        stats.failed.fetch_add(1, Ordering::SeqCst);
                        return Err(SinkError(format!(
                            "the homeserver refused the message: {err}"
                        )));
                    }
                };
                if wait > MAX_WAIT {
                    stats.failed.fetch_add(1, Ordering::SeqCst);
                    return Err(SinkError(format!(
                        "rate limited for {} s; message dropped",
                        wait.as_secs()
                    )));
                }
                tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, error = %err, "send refused; retrying");
                stats
                    .waited_ms
                    .fetch_add(wait.as_millis() as u64, Ordering::SeqCst);
                last_error = err.to_string();
                tokio::time::sleep(wait).await;
            }
        }
    }
    stats.failed.fetch_add(1, Ordering::SeqCst);
    Err(SinkError(format!(
        "gave up after {MAX_ATTEMPTS} attempts: {last_error}"
    )))
}

/// How long the server asked to wait.
fn wait_of(retry_after: Option<&RetryAfter>) -> Duration {
    match retry_after {
        Some(RetryAfter::Delay(d)) => *d,
        Some(RetryAfter::DateTime(at)) => at
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
        None => DEFAULT_WAIT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_what_the_server_asks() {
        assert_eq!(
            wait_of(Some(&RetryAfter::Delay(Duration::from_millis(4321)))),
            Duration::from_millis(4321)
        );
        assert_eq!(wait_of(None), DEFAULT_WAIT);
        let past = SystemTime::now() - Duration::from_secs(5);
        assert_eq!(wait_of(Some(&RetryAfter::DateTime(past))), Duration::ZERO);
    }
}
