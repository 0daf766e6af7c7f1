//! Runbooks as data: TOML files in a configured directory, each a title, when to use it, and steps that run chat
//! commands (a destructive one through the normal approval flow) or give guidance, with conditions on earlier
//! steps' results. This module is the pure part — format, loader, validation, conditions, and the run's state
//! machine; the engine (`engine::runbooks`) runs it against the cluster and chat.

pub mod condition;
pub mod config;
pub mod facts;
pub mod format;
pub mod loader;
pub mod run;

pub use condition::{Condition, ConditionError, Unresolved};
pub use config::RunbooksConfig;
pub use facts::{Fact, FactValue, Facts, Grade, StepFacts};
pub use format::{Runbook, Step, StepAction};
pub use loader::{RunbookProblem, RunbookSet, load_dir};
pub use run::{RunState, RunStatus};
