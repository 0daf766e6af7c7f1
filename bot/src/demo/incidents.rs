//! The demo's incident setup: a clock the console's `:advance` moves (the core's `ManualClock`; due jobs such as
//! SLA timers run right after), and the demo's `[incidents]` — alice on call, no PagerDuty (the war room says
//! so) unless `MYSTOCKS_DEMO_PAGERDUTY_URL` names an Events API to page (e.g. a local receiver).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mystocks_adapters::console::TimeControl;
use mystocks_commands::clock::{Clock, ManualClock};
use mystocks_commands::engine::Core;
use mystocks_commands::incident::{IncidentConfig, IncidentSettings, PagerDuty, PagerDutyConfig};
use secrecy::SecretString;

/// The environment variable that points the demo's paging at a PagerDuty Events API (a fake one, usually).
pub const DEMO_PAGERDUTY_URL_ENV: &str = "MYSTOCKS_DEMO_PAGERDUTY_URL";

/// The demo's incident settings: alice (operator) is on call; paging only when [`DEMO_PAGERDUTY_URL_ENV`] is set.
pub fn settings() -> IncidentSettings {
    let config = IncidentConfig {
        oncall: vec!["alice".into()],
        ..IncidentConfig::default()
    };
    let pager = std::env::var(DEMO_PAGERDUTY_URL_ENV)
        .ok()
        .filter(|u| !u.trim().is_empty())
        .map(|url| {
            PagerDuty::new(PagerDutyConfig {
                routing_key: SecretString::from("demo-routing-key"),
                base_url: url,
                source: "mystocks-api (demo)".into(),
                timeout: Duration::from_secs(5),
            })
        });
    IncidentSettings::new(config, pager)
}

/// Moves the demo clock for `:advance` and runs what became due.
pub struct DemoTime {
    clock: Arc<ManualClock>,
    core: Core,
}

impl DemoTime {
    /// Time control over `clock`, running `core`'s due jobs after each move.
    pub fn new(clock: Arc<ManualClock>, core: Core) -> Self {
        DemoTime { clock, core }
    }
}

#[async_trait]
impl TimeControl for DemoTime {
    async fn advance(&self, by: Duration) -> String {
        let step = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::zero());
        self.clock.advance(step);
        self.core.run_due_jobs().await;
        mystocks_commands::Handler::settle(&self.core).await;
        format!(
            "clock advanced {}s — now {}",
            by.as_secs(),
            self.clock.now().format("%H:%M:%S UTC")
        )
    }
}
