//! The simulated MyStocks application: what each pod of `mystocks-api` logs, consumes and answers, the
//! load-balanced app URL, the scenario control endpoint and a Redis stand-in — all derived from the
//! [`ClusterView`](crate::world::ClusterView) the cluster provides.
//!
//! Entry points: [`logs::lines`], [`logs::tail`], [`logs::run_lines`], [`logs::previous_lines`],
//! [`usage::pod_usage`], [`respond_as_pod`], [`http_router`], [`control_router`], [`redis::serve`].

mod control;
mod counters;
mod health;
pub mod logs;
mod metrics;
mod noise;
mod pod_http;
mod profile;
pub mod redis;
mod router;
pub mod usage;

pub use control::control_router;
pub use metrics::CONTENT_TYPE as METRICS_CONTENT_TYPE;
pub use pod_http::{APP_PORT, pod_ip, respond_as_pod};
pub use profile::CRASH_AFTER_SECS;
pub use router::http_router;
