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

impl Conversation {
    /// A link that opens the conversation on its platform, at `message` when given (a Matrix event id): a
    /// `matrix.to` link to the room or to the message; for Slack, the channel (`app_redirect`; Slack documents no
    /// thread link without the workspace's domain). `None` where the platform has none (the console).
    pub fn link(&self, message: Option<&str>) -> Option<String> {
        let (platform, place) = self.channel.split_once(':')?;
        let safe = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "!$:._-~=+/".contains(c))
        };
        match platform {
            "matrix" if safe(place) => Some(match message.filter(|m| safe(m)) {
                Some(event) => format!("https://matrix.to/#/{place}/{event}"),
                None => format!("https://matrix.to/#/{place}"),
            }),
            "slack" => {
                let (home, channel) = place.split_once('/')?;
                let ids = [home, channel];
                if !ids
                    .iter()
                    .all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()))
                {
                    return None;
                }
                // An organisation (E…) is not a workspace: the link then names the channel alone.
                Some(if home.starts_with('T') {
                    format!("https://slack.com/app_redirect?team={home}&channel={channel}")
                } else {
                    format!("https://slack.com/app_redirect?channel={channel}")
                })
            }
            _ => None,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation(channel: &str, thread: Option<&str>) -> Conversation {
        Conversation {
            channel: channel.into(),
            thread: thread.map(str::to_string),
        }
    }

    #[test]
    fn links_open_the_conversation_on_its_platform() {
        let v12 = conversation("matrix:!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM", None);
        assert_eq!(
            v12.link(Some("$abc-DEF_1")).as_deref(),
            Some("https://matrix.to/#/!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM/$abc-DEF_1")
        );
        assert_eq!(
            conversation("matrix:!a:example.org", None)
                .link(None)
                .as_deref(),
            Some("https://matrix.to/#/!a:example.org")
        );
        assert_eq!(
            conversation("slack:T1/C9", Some("1.000100"))
                .link(None)
                .as_deref(),
            Some("https://slack.com/app_redirect?team=T1&channel=C9")
        );
        assert_eq!(
            conversation("slack:E1/C9", None).link(None).as_deref(),
            Some("https://slack.com/app_redirect?channel=C9")
        );
        assert_eq!(conversation("console:main", None).link(None), None);
        assert_eq!(
            conversation("matrix:!a b", None).link(None),
            None,
            "nothing unsafe goes into a link"
        );
        assert_eq!(conversation("slack:T1/C9&x=1", None).link(None), None);
    }
}
