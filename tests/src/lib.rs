//! mystocks-tests — the end-to-end suite's support: the whole core started against the simulated cluster, a
//! fresh store (SQLite or PostgreSQL) per test, and a sink that records every reply.

pub mod app;
pub mod db;
pub mod fake_pagerduty;
pub mod fake_slack;
pub mod faulty_store;
pub mod kit;
pub mod rbac;
pub mod sink;
pub mod synapse;

pub use app::{AppOptions, StoreKind, TestApp, approval_id, approval_state, texts};
pub use db::TestDb;
pub use kit::test_context;
pub use sink::{Recorded, RecordingSink};

/// Installs the rustls crypto provider (ring and aws-lc may both be linked); call at the start of every test.
pub fn init() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
