//! Cluster operations through kube-rs, with kubectl's semantics: the read-only commands' data, previews of
//! destructive changes (each also sent as a server-side dry run), their execution with a resourceVersion
//! precondition, and following a rollout.

pub mod age;
pub mod binding;
pub mod client;
pub mod deploy;
pub mod deployment;
pub mod error;
pub mod execute;
pub mod follow;
pub mod history;
pub mod image_resolve;
pub mod log_5xx;
pub mod log_errors;
pub mod logs;
pub mod patches;
pub mod plan;
pub mod pods;
pub mod quantity;
pub mod restart;
pub mod rollback;
pub mod scale;
pub mod status;
pub mod target;
pub mod template;
pub mod top;

pub use binding::{check_binding, check_binding_at};
pub use client::client_from_kubeconfig_yaml;
pub use deploy::plan_deploy;
pub use error::{ClusterError, Refusal, Stale};
pub use execute::{Executed, Reconciled, act, execute, reconcile_after_crash};
pub use follow::{PodProblem, RolloutOutcome, follow_rollout};
pub use history::{Revision, history};
pub use log_5xx::{FivexxGroup, fivexx};
pub use log_errors::{ErrorGroup, errors};
pub use logs::{LogLine, Logs, logs};
pub use patches::FIELD_MANAGER;
pub use plan::{Binding, Change, Plan};
pub use pods::{PodRow, pods};
pub use restart::plan_restart;
pub use rollback::plan_rollback;
pub use scale::plan_scale;
pub use status::{RolloutProgress, RolloutState, rollout_status};
pub use target::Target;
pub use top::{PodUsage, top};

#[cfg(test)]
mod send_check {
    //! The engine spawns futures that call these operations: they must be `Send` for any borrowed arguments.

    use super::*;

    fn assert_send<T: Send>(_: T) {}

    async fn everything(
        client: &kube::Client,
        target: &Target,
        plan: &Plan,
        approved: &crate::approval::Approved<Plan>,
    ) {
        let since = std::time::Duration::from_secs(60);
        let _ = pods(client, target, None).await;
        let _ = top(client, target).await;
        let _ = logs(client, target, None, None, None).await;
        let _ = errors(client, target, since).await;
        let _ = fivexx(client, target, since).await;
        let _ = history(client, target).await;
        let _ = rollout_status(client, target).await;
        let _ = plan_rollback(client, target, None).await;
        let _ = plan_deploy(client, target, "v1", "").await;
        let _ = plan_scale(client, target, 3, 1..=20).await;
        let _ = plan_restart(client, target).await;
        let _ = check_binding(client, plan).await;
        let _ = execute(client, approved, "cause", FIELD_MANAGER).await;
        let _ = reconcile_after_crash(client, plan).await;
        let _ = follow_rollout(client, target, since, |_| {}).await;
    }

    #[allow(dead_code)]
    fn futures_are_send(
        client: &kube::Client,
        target: &Target,
        plan: &Plan,
        approved: &crate::approval::Approved<Plan>,
    ) {
        assert_send(everything(client, target, plan, approved));
    }
}
