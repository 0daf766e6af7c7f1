//! The checks against real sockets, a real Redis (127.0.0.1:6379) and a real PostgreSQL (a database created and
//! dropped per test): timeouts honoured and checks run at once, refused connections named, malformed metrics
//! refused, metrics summarised, table sizes and VACUUM (with a role that owns nothing: skipped, not success);
//! TDengine and Prometheus against strict fakes; HTTPS behind a private CA (`checks.ca_file`).

#[path = "checks/fakes.rs"]
mod fakes;
#[path = "checks/metrics.rs"]
mod metrics;
#[path = "checks/optional.rs"]
mod optional;
#[path = "checks/postgres.rs"]
mod postgres;
#[path = "checks/timeouts.rs"]
mod timeouts;
#[path = "checks/trust.rs"]
mod trust;
#[path = "checks/units.rs"]
mod units;
