//! The end-to-end suite: the command core against the simulated cluster, on SQLite and on PostgreSQL.
//! One test binary (zero2prod style); each module is one area.

mod approvals;
mod audit;
mod audit_checkpoint;
mod checks;
mod incidents;
mod readonly;
mod refusals;
mod resilience;
mod runbooks;
mod safety;
mod support;
