//! mystocks-commands — the command core: grammar, policy, approvals, audit, the store, and execution against the
//! cluster. Adapters hand it an [`Invocation`] and a [`ReplySink`]; it answers through the sink.

pub mod audit;
pub mod checks;
pub mod clock;
pub mod cluster;
pub mod command;
pub mod coordinator;
pub mod directory;
pub mod engine;
pub mod grammar;
pub mod handler;
pub mod help;
pub mod incident;
pub mod invocation;
pub mod policy;
pub mod present;
pub mod reference;
pub mod render;
pub mod reply;
pub mod runbook;
pub mod store;

pub use command::Command;
pub use directory::{Directory, DirectoryConfig, Principal};
pub use grammar::ParseError;
pub use handler::Handler;
pub use invocation::{Actor, Addressing, Conversation, Identity, Invocation};
pub use policy::{PolicyConfig, Risk, Role, Rule};
pub use reply::{MessageRef, Reply, ReplySink};
