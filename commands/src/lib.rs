//! mystocks-commands — the command core: grammar, policy, approvals, audit, the store, and execution against the
//! cluster. Adapters hand it an [`Invocation`] and a [`ReplySink`]; it answers through the sink.

pub mod audit_anchor;
pub mod checks;
pub mod cluster;
pub mod engine;
pub mod incident;
pub mod present;

pub use mystocks_store::{audit, coordinator, store};

pub use mystocks_core::{
    approval, clock, command, directory, grammar, handler, help, invocation, policy, reference,
    render, reply, runbook,
};

pub use mystocks_core::{
    Actor, Addressing, Command, Conversation, Directory, DirectoryConfig, Handler, Identity,
    Invocation, MessageRef, ParseError, PolicyConfig, Principal, Reply, ReplySink, Risk, Role,
    Rule,
};
