//! The wiring every harness shares: [`test_context`], the core's context on a sim as the tests run it — the test
//! audit key, the demo people, a clock that only moves when told, quick jobs, generous rate limits, and checks
//! pointed at the sim's app and Redis stand-in. A harness sets only what differs.

use std::sync::Arc;
use std::time::Duration;

use mystocks_commands::audit::AuditKey;
use mystocks_commands::checks::ChecksConfig;
use mystocks_commands::clock::ManualClock;
use mystocks_commands::directory::Directory;
use mystocks_commands::engine::ratelimit::RateLimitConfig;
use mystocks_commands::engine::{Context, ContextBuilder, CoreSettings};
use mystocks_commands::store::Store;
use mystocks_sim::Sim;

/// The audit key tests use.
pub fn test_audit_key() -> AuditKey {
    AuditKey::new(secrecy::SecretString::from(
        "test-audit-key-0123456789abcdef",
    ))
    .expect("audit key")
}

/// A kube client for the sim, as the bot builds one from a kubeconfig.
pub async fn kube_client(sim: &Sim) -> kube::Client {
    let kubeconfig =
        kube::config::Kubeconfig::from_yaml(&sim.kubeconfig_yaml()).expect("sim kubeconfig parses");
    let config = kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .expect("sim kubeconfig usable");
    kube::Client::try_from(config).expect("kube client")
}

/// Rate limits high enough that a test sending many commands is never held back.
pub fn test_rate_limit() -> RateLimitConfig {
    RateLimitConfig {
        read_per_minute: 10_000,
        destructive_per_minute: 10_000,
    }
}

/// Engine settings for tests: a rollout followed for a minute, a 5 s job lease polled every 100 ms (a process
/// that stops loses its jobs quickly), a process name of its own, and [`test_rate_limit`].
pub fn test_settings() -> CoreSettings {
    CoreSettings {
        follow_timeout: Duration::from_secs(60),
        job_lease: Duration::from_secs(5),
        job_poll: Duration::from_millis(100),
        process_id: format!("test-{}", uuid::Uuid::new_v4().simple()),
        rate_limit: test_rate_limit(),
        ..CoreSettings::default()
    }
}

/// Checks pointed at the sim: its app URL and Redis stand-in (no database).
pub fn sim_checks(sim: &Sim) -> ChecksConfig {
    ChecksConfig {
        api_url: Some(sim.app_url()),
        redis_url: Some(format!("redis://{}", sim.redis_addr())),
        ..ChecksConfig::default()
    }
}

/// A context builder for a core on `sim` and `store`: the test audit key, the demo people (alice operator, bob
/// approver, carol viewer, dave admin), a [`ManualClock`], [`test_settings`] and [`sim_checks`]; the rest as
/// in production (default target and policy, in-process coordination).
pub async fn test_context(sim: &Sim, store: Arc<dyn Store>) -> ContextBuilder {
    Context::builder(kube_client(sim).await, store, test_audit_key())
        .directory(Directory::demo())
        .clock(Arc::new(ManualClock::default()))
        .settings(test_settings())
        .checks(sim_checks(sim))
}
