//! Helpers shared by the e2e modules.

use mystocks_sim::Sim;

/// Runs a test body on both stores: `on_both_stores!(name, |kind| async move { … })`.
#[macro_export]
macro_rules! on_both_stores {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($body)(mystocks_tests::StoreKind::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                ($body)(mystocks_tests::StoreKind::Postgres).await
            }
        }
    };
}

/// Requests that changed the cluster for real (dry runs excluded).
pub fn real_changes(sim: &Sim) -> Vec<String> {
    sim.changing_requests()
        .into_iter()
        .filter(|r| !is_dry_run(r))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// Whether a recorded request was a server-side dry run (changes nothing).
pub fn is_dry_run(r: &mystocks_sim::RecordedRequest) -> bool {
    r.path.contains("dryRun=All")
}

/// Desired and ready replicas of the app deployment.
pub fn replicas(sim: &Sim) -> (i32, i32) {
    let d = sim.deployment();
    let spec = d.spec.replicas.unwrap_or_default();
    let ready = d.status.and_then(|s| s.ready_replicas).unwrap_or_default();
    (spec, ready)
}

/// The app container's image.
pub fn image(sim: &Sim) -> String {
    let d = sim.deployment();
    d.spec
        .template
        .spec
        .and_then(|s| s.containers.first().and_then(|c| c.image.clone()))
        .unwrap_or_default()
}
