//! The production suite: the deploy/ manifests rendered with the real `kubectl kustomize` and checked, the
//! rendered Role enforced and fully used, the bot's own endpoints and metrics after an end-to-end run, and
//! several replicas on one PostgreSQL and Redis (each event once, each approval executed once, takeover).

mod audit_checkpoint;
mod claims;
mod config;
mod degradation;
mod fleet;
mod manifests;
mod ops;
mod outage;
mod rbac;
mod replicas;
mod slack_deliveries;
mod slack_replicas;
mod soak;
mod soak_processes;
mod support;
