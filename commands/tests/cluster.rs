//! The cluster operations against the simulated cluster (crate mystocks-sim) through kube-rs: every read-only
//! op, every preview and its refusals (asserting from the sim's request log that a refusal sent no change), the
//! executions with kubectl's semantics, the resourceVersion precondition (409), stale bindings, crash
//! reconciliation, and following rollouts to completion and to failure.

#[path = "cluster/changes.rs"]
mod changes;
#[path = "cluster/failures.rs"]
mod failures;
#[path = "cluster/reads.rs"]
mod reads;
#[path = "cluster/refusals.rs"]
mod refusals;
#[path = "cluster/rollouts.rs"]
mod rollouts;
#[path = "cluster/support.rs"]
mod support;
