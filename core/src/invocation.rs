//! What an adapter hands the core: one chat message (or button press) addressed to the bot.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A chat identity, written `platform:id` — `slack:T123/U123` (workspace/user), `matrix:@alice:example.org`,
/// `console:alice`. Identities map to persons; roles belong to persons.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Identity(pub String);

impl Identity {
    pub fn new(platform: &str, id: &str) -> Self {
        Identity(format!("{platform}:{id}"))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The platform part (`slack`, `matrix`, `console`).
    pub fn platform(&self) -> &str {
        self.0.split_once(':').map(|(p, _)| p).unwrap_or("")
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who sent the message: their identity and the name to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub identity: Identity,
    pub display_name: String,
}

/// Where a message was said: a channel/room and, optionally, a thread in it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Conversation {
    /// `slack:T123/C123`, `matrix:!room:example.org`, `console:main`.
    pub channel: String,
    /// The thread root's platform id, when the message was in a thread.
    pub thread: Option<String>,
}

/// How the message addressed the bot; decides what counts as a command (ordinary talk never does).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Addressing {
    /// A slash command (`/mystocks …`), or a line typed to the console: the text is the command.
    Direct,
    /// A mention of the bot (`@mystocks rollback`); the mention has been stripped from the text.
    Mention,
    /// A plain message in a thread: only a command if the thread is an incident war room and the message
    /// starts with an exact command name.
    ThreadMessage,
    /// A button press or reaction standing for a command (e.g. `approve A12`).
    Action,
}

/// One message addressed to the bot, platform-neutral.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invocation {
    /// The platform's id of the event; claimed once so a duplicate does nothing.
    pub event_id: String,
    pub actor: Actor,
    pub conversation: Conversation,
    pub addressing: Addressing,
    /// The command text without the `/mystocks` prefix or mention, e.g. `scale 5`.
    pub text: String,
    pub received_at: DateTime<Utc>,
}
