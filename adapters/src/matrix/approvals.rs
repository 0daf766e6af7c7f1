//! Reactions as votes: which posted message is which approval request (kept in the store's key/value, so any
//! process and a restarted bot know), and which reaction means what (✅ approve, ❌ deny).

use mystocks_commands::store::Store;
use mystocks_commands::{Conversation, MessageRef};
use serde::{Deserialize, Serialize};

/// What a reaction on a request message stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReactionVote {
    Approve,
    Deny,
}

impl ReactionVote {
    /// The command the vote stands for, e.g. `approve A3`.
    pub fn command(self, approval_id: &str) -> String {
        match self {
            ReactionVote::Approve => format!("approve {approval_id}"),
            ReactionVote::Deny => format!("deny {approval_id}"),
        }
    }
}

/// The vote a reaction key means: ✅ (or ✔️) approves, ❌ denies; anything else is no vote.
pub fn reaction_vote(key: &str) -> Option<ReactionVote> {
    match key.trim_end_matches('\u{fe0f}') {
        "✅" | "✔" => Some(ReactionVote::Approve),
        "❌" => Some(ReactionVote::Deny),
        _ => None,
    }
}

/// A posted approval request, as remembered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestMessage {
    pub approval_id: String,
    /// The conversation the request was posted in (votes count only there).
    pub conversation: Conversation,
}

fn key(event_id: &str) -> String {
    format!("matrix:approval-request:{event_id}")
}

/// Remembers that `message` is the request message of `approval_id`; failures are logged (the typed command
/// still works).
pub(super) async fn remember_request(store: &dyn Store, message: &MessageRef, approval_id: &str) {
    let value = RequestMessage {
        approval_id: approval_id.to_string(),
        conversation: message.conversation.clone(),
    };
    let Ok(text) = serde_json::to_string(&value) else {
        return;
    };
    if let Err(err) = store.put_value(&key(&message.message_id), &text).await {
        tracing::warn!(error = %err, approval = approval_id, "could not remember the request message; reactions on it will not count");
    }
}

/// The approval request posted as event `event_id`, if it is one.
pub(super) async fn request_of(store: &dyn Store, event_id: &str) -> Option<RequestMessage> {
    match store.get_value(&key(event_id)).await {
        Ok(Some(text)) => serde_json::from_str(&text).ok(),
        Ok(None) => None,
        Err(err) => {
            tracing::warn!(error = %err, "cannot read the request messages; reaction ignored");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reaction_keys() {
        assert_eq!(reaction_vote("✅"), Some(ReactionVote::Approve));
        assert_eq!(reaction_vote("✔\u{fe0f}"), Some(ReactionVote::Approve));
        assert_eq!(reaction_vote("❌"), Some(ReactionVote::Deny));
        assert_eq!(reaction_vote("👍"), None);
        assert_eq!(reaction_vote(""), None);
        assert_eq!(ReactionVote::Deny.command("A7"), "deny A7");
    }
}
