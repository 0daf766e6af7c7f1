//! mystocks-sim — a simulated MyStocks cluster: a Kubernetes API server subset that the real kubectl drives,
//! controllers that make it behave like a cluster, and the MyStocks application's own endpoints.
//!
//! Where things live: `api/` (routing, discovery, tables, patches, watch, Status errors), `store.rs` (objects,
//! resourceVersions, watch history), `controller/` (deployment controller, ReplicaSets, pod lifecycle),
//! `seed.rs` (the starting world), `clock.rs`, `tls.rs`, `auth.rs`, `request_log.rs`, `sim.rs` (start/stop),
//! `world.rs` (the seam to the application half) and `app/` (the application itself).

pub mod api;
pub mod app;
pub mod auth;
pub mod clock;
pub mod cluster;
pub mod controller;
pub mod kubeconfig;
pub mod request_log;
pub mod seed;
pub mod server;
mod sim;
pub mod store;
pub mod tls;
pub mod world;

pub use auth::{RequestAttributes, Role, RoleRule, SimToken};
pub use controller::pods::PodDelays;
pub use request_log::RecordedRequest;
pub use sim::{Sim, SimConfig, SimError};

/// The namespace the app lives in.
pub const DEFAULT_NAMESPACE: &str = "mystocks";
/// The app's deployment (also its container name and `app` label).
pub const DEFAULT_DEPLOYMENT: &str = "mystocks-api";
