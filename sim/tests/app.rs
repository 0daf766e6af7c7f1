//! The simulated MyStocks application against a fake cluster, over real HTTP and TCP: health, database and
//! metrics endpoints under every scenario, pod logs and usage, the control endpoint and the Redis stand-in.

#[path = "app/cache.rs"]
mod cache;
#[path = "app/control.rs"]
mod control;
#[path = "app/endpoints.rs"]
mod endpoints;
#[path = "app/fake.rs"]
mod fake;
#[path = "app/pod_logs.rs"]
mod pod_logs;
