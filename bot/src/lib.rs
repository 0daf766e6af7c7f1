//! mystocks-bot as a library: settings, command line, telemetry and the modes (`demo`, `sim`, `run`,
//! `check-config`), so integration tests can start exactly what `main` starts.

pub mod application;
pub mod check_config;
pub mod cli;
#[cfg(feature = "sim")]
pub mod demo;
pub mod matrix;
pub mod metrics;
pub mod ops_server;
pub mod settings;
pub mod shutdown;
#[cfg(feature = "sim")]
pub mod simulator;
pub mod slack;
pub mod telemetry;
