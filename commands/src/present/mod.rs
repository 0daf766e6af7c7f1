//! Turning cluster results into `Reply`s: tables for pods, usage and history, code blocks for logs, grouped
//! errors and 5xx, preview fields, rollout progress and outcomes.

pub mod changes;
pub mod checks;
pub mod logs;
pub mod reads;
pub mod rollout;

pub use changes::{
    cluster_error_reply, executed_reply, plan_fields, preview_reply, reconciled_reply,
};
pub use logs::{errors_reply, fivexx_reply, logs_reply};
pub use reads::{history_reply, pods_reply, status_reply, top_reply};
pub use rollout::{outcome_reply, outcome_summary, progress_reply};
