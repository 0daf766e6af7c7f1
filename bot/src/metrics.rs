//! The bot's own metrics: one `Metrics` struct owning a prometheus-client registry (no process-global recorder),
//! fed by the command core through [`CoreMetrics`] and by the ops server, rendered for `/metrics`.
//! Labels are command names, outcomes and dependency names — never user ids or channel names.

use std::time::Duration;

use mystocks_adapters::in_flight::BusyObserver;
use mystocks_commands::engine::{CoreMetrics, Dependency};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Every series starts with this (`mystocks_bot_invocations_total`).
pub const PREFIX: &str = "mystocks_bot";

type Labels = Vec<(String, String)>;

/// The registry and every metric in it.
pub struct Metrics {
    registry: Registry,
    invocations: Family<Labels, Counter>,
    latency: Family<Labels, Histogram>,
    time_to_ack: Histogram,
    approvals_pending: Gauge,
    approvals_decided: Family<Labels, Counter>,
    approval_wait: Histogram,
    slack_api_errors: Family<Labels, Counter>,
    slack_rate_limited: Counter,
    dependency_errors: Family<Labels, Counter>,
    dependency_up: Family<Labels, Gauge>,
    busy_refusals: Family<Labels, Counter>,
}

fn latency_buckets() -> Histogram {
    // 10 ms … ~80 s: reads answer in well under a second, checks and rollouts take longer.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.01, 2.0, 14,
    ))
}

fn wait_buckets() -> Histogram {
    // 5 s … ~1.4 h: approvals wait for a person.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        5.0, 2.0, 11,
    ))
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A registry with every series registered (and none observed yet).
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix(PREFIX);
        let m = Metrics {
            invocations: Family::default(),
            latency: Family::new_with_constructor(latency_buckets),
            time_to_ack: latency_buckets(),
            approvals_pending: Gauge::default(),
            approvals_decided: Family::default(),
            approval_wait: wait_buckets(),
            slack_api_errors: Family::default(),
            slack_rate_limited: Counter::default(),
            dependency_errors: Family::default(),
            dependency_up: Family::default(),
            busy_refusals: Family::default(),
            registry: Registry::default(),
        };
        let r = &mut registry;
        r.register(
            "invocations",
            "Invocations handled, by command and outcome",
            m.invocations.clone(),
        );
        r.register(
            "invocation_duration_seconds",
            "Time the core took for an invocation, by command",
            m.latency.clone(),
        );
        r.register(
            "time_to_ack_seconds",
            "Time from an event's arrival to the bot's first reply",
            m.time_to_ack.clone(),
        );
        r.register(
            "approvals_pending",
            "Approval requests waiting for a decision",
            m.approvals_pending.clone(),
        );
        r.register(
            "approvals_decided",
            "Approval requests decided, by verdict",
            m.approvals_decided.clone(),
        );
        r.register(
            "approval_wait_seconds",
            "Time an approval request waited for its decision",
            m.approval_wait.clone(),
        );
        r.register(
            "slack_api_errors",
            "Slack Web API calls that failed, by kind",
            m.slack_api_errors.clone(),
        );
        r.register(
            "slack_rate_limited",
            "Slack Web API answers 429 (rate limited)",
            m.slack_rate_limited.clone(),
        );
        r.register(
            "dependency_errors",
            "Failed calls to the bot's dependencies (store, coordinator, kubernetes)",
            m.dependency_errors.clone(),
        );
        r.register(
            "dependency_up",
            "Whether a dependency answered the last readiness check (1) or not (0)",
            m.dependency_up.clone(),
        );
        r.register(
            "busy_refusals",
            "Deliveries refused because [limits] max_in_flight were already being handled, by platform",
            m.busy_refusals.clone(),
        );
        // Zero from the start, so an alert on their rate sees a series before the first error.
        for dependency in [
            Dependency::Store,
            Dependency::Coordinator,
            Dependency::Kubernetes,
        ] {
            let labels = vec![("dependency".to_string(), dependency.as_str().to_string())];
            let _ = m.dependency_errors.get_or_create(&labels);
        }
        Metrics { registry, ..m }
    }

    /// The OpenMetrics text exposition of every series.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = encode(&mut out, &self.registry) {
            tracing::warn!(error = %e, "cannot encode the metrics");
        }
        out
    }

    /// Sets the number of approval requests waiting (read from the store at scrape time).
    pub fn set_approvals_pending(&self, n: usize) {
        self.approvals_pending
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// Records whether a dependency answered the readiness check.
    pub fn set_dependency_up(&self, dependency: Dependency, up: bool) {
        let labels = vec![("dependency".to_string(), dependency.as_str().to_string())];
        self.dependency_up.get_or_create(&labels).set(i64::from(up));
        if !up {
            self.dependency_error(dependency);
        }
    }

    /// A Slack Web API call failed (`kind`: `http_5xx`, `transport`, the API's error code, …); a 429 is
    /// counted both here (`rate_limited`) and in the 429 counter.
    pub fn slack_api_error(&self, kind: &str) {
        let labels = vec![("kind".to_string(), kind.to_string())];
        self.slack_api_errors.get_or_create(&labels).inc();
        if kind == "rate_limited" {
            self.slack_rate_limited.inc();
        }
    }
}

/// A delivery refused for want of a permit (`[limits] max_in_flight`).
impl BusyObserver for Metrics {
    fn refused_busy(&self, platform: &str, _delivery: &str) {
        let labels = vec![("platform".to_string(), platform.to_string())];
        self.busy_refusals.get_or_create(&labels).inc();
    }
}

impl CoreMetrics for Metrics {
    fn invocation(&self, command: &str, outcome: &str, took: Duration) {
        let labels = vec![
            ("command".to_string(), command.to_string()),
            ("outcome".to_string(), outcome.to_string()),
        ];
        self.invocations.get_or_create(&labels).inc();
        let labels = vec![("command".to_string(), command.to_string())];
        self.latency
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    fn first_reply(&self, after: Duration) {
        self.time_to_ack.observe(after.as_secs_f64());
    }

    fn approval_decided(&self, verdict: &str, waited: Duration) {
        let labels = vec![("verdict".to_string(), verdict.to_string())];
        self.approvals_decided.get_or_create(&labels).inc();
        self.approval_wait.observe(waited.as_secs_f64());
    }

    fn dependency_error(&self, dependency: Dependency) {
        let labels = vec![("dependency".to_string(), dependency.as_str().to_string())];
        self.dependency_errors.get_or_create(&labels).inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_appear_under_their_names_and_labels() {
        let m = Metrics::new();
        m.invocation("scale", "requested", Duration::from_millis(30));
        m.approval_decided("approved", Duration::from_secs(12));
        m.slack_api_error("rate_limited");
        m.set_dependency_up(Dependency::Store, false);
        m.set_approvals_pending(2);
        m.refused_busy("slack", "slack:T1:cmd:t1");
        let text = m.render();
        for expected in [
            "mystocks_bot_invocations_total{command=\"scale\",outcome=\"requested\"} 1",
            "mystocks_bot_invocation_duration_seconds_count{command=\"scale\"} 1",
            "mystocks_bot_approvals_decided_total{verdict=\"approved\"} 1",
            "mystocks_bot_approval_wait_seconds_count 1",
            "mystocks_bot_slack_rate_limited_total 1",
            "mystocks_bot_dependency_up{dependency=\"store\"} 0",
            "mystocks_bot_dependency_errors_total{dependency=\"store\"} 1",
            "mystocks_bot_approvals_pending 2",
            "mystocks_bot_busy_refusals_total{platform=\"slack\"} 1",
        ] {
            assert!(text.contains(expected), "missing {expected} in:\n{text}");
        }
    }
}
