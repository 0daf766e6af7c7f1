//! mystocks-commands — the command core: grammar, policy, approvals, audit, the store, and execution against the
//! cluster. Adapters hand it an [`Invocation`] and a [`ReplySink`]; it answers through the sink.

pub mod clock;
pub mod invocation;
pub mod render;
pub mod reply;

pub use invocation::{Actor, Addressing, Conversation, Identity, Invocation};
pub use reply::{MessageRef, Reply, ReplySink};
