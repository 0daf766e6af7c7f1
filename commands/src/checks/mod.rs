//! Looking, not changing: health checks of the app and its dependencies (each concurrent, each with its own
//! timeout), per-phase latency, the app's Prometheus metrics, and the app's PostgreSQL tables and VACUUM.
//!
//! Everything here returns data ([`CheckResult`], [`LatencyReport`], [`MetricsSummary`], …); the engine turns it
//! into replies (`present::checks`).

pub mod config;
pub mod db;
pub mod health;
pub mod http_check;
pub mod latency;
pub mod metrics;
pub mod pods;
pub mod prometheus;
pub mod redis_check;
pub mod result;
pub mod tdengine;
pub mod usage;
pub mod window;

pub use config::{ChecksConfig, Thresholds};
pub use db::{TableSize, VacuumOutcome, VacuumReport, table_sizes, vacuum};
pub use health::{HealthReport, run_health};
pub use latency::{LatencyReport, Phases, Spread, measure_latency};
pub use metrics::{MetricsSummary, parse_metrics, scrape_metrics};
pub use result::{CheckLevel, CheckResult};
pub use usage::cpu_check;
