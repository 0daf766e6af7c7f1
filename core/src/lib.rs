//! mystocks-core — the pure decisions of the bot: the grammar and the closed set of commands, policy (who may run
//! what, and what needs approval), persons and their roles, the platform-neutral `Reply`, the `Invocation`
//! adapters build, runbooks as data and their conditions, and the incident model. Nothing here does I/O beyond
//! reading runbook files: no async runtime, HTTP, database or Kubernetes crate (`cargo tree -p mystocks-core`).

pub mod approval;
pub mod clock;
pub mod command;
pub mod directory;
pub mod grammar;
pub mod handler;
pub mod help;
pub mod incident;
pub mod invocation;
pub mod policy;
pub mod reference;
pub mod render;
pub mod reply;
pub mod runbook;

pub use command::Command;
pub use directory::{Directory, DirectoryConfig, Principal};
pub use grammar::ParseError;
pub use handler::Handler;
pub use invocation::{Actor, Addressing, Conversation, Identity, Invocation};
pub use policy::{PolicyConfig, Risk, Role, Rule};
pub use reply::{MessageRef, Reply, ReplySink};
