//! What a room event means to the bot: a command (`!mystocks …` or `/mystocks …` as text, possibly in a
//! thread), a plain message in a thread (a command when the thread is a war room and it starts with a command
//! name — the core decides), a vote (a ✅ / ❌ reaction), a pin (📌), or nothing. Pure: no I/O.

use chrono::{DateTime, Utc};
use matrix_sdk::ruma::events::room::message::{MessageType, Relation};
use matrix_sdk::ruma::events::{
    AnySyncMessageLikeEvent, AnySyncTimelineEvent, SyncMessageLikeEvent,
};
use matrix_sdk::ruma::{MilliSecondsSinceUnixEpoch, OwnedUserId};

use super::approvals::{ReactionVote, reaction_vote};
use super::pins::is_pin;

/// A room event addressed to the bot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inbound {
    pub event_id: String,
    pub sender: OwnedUserId,
    pub at: DateTime<Utc>,
    pub what: InboundKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InboundKind {
    /// A command message; `thread` is the thread root when it was said in a thread.
    Command {
        text: String,
        thread: Option<String>,
    },
    /// A plain message (no prefix) in the thread under `thread`.
    ThreadMessage { text: String, thread: String },
    /// A vote by reaction on the message `target`.
    Reaction { target: String, vote: ReactionVote },
    /// A 📌 on the message `target`.
    Pin { target: String },
}

/// The command text of a message body, if the message addresses the bot: the first word is `!mystocks` or
/// `/mystocks` (any case). Quoted reply fallbacks (`> …` lines) before it are skipped.
pub fn command_text(body: &str) -> Option<&str> {
    let body = strip_reply_fallback(body).trim_start();
    let end = body.find(char::is_whitespace).unwrap_or(body.len());
    let (first, rest) = body.split_at(end);
    (first.eq_ignore_ascii_case("!mystocks") || first.eq_ignore_ascii_case("/mystocks"))
        .then(|| rest.trim())
}

fn strip_reply_fallback(body: &str) -> &str {
    let mut rest = body;
    while rest.starts_with("> ") || rest.starts_with(">\n") {
        match rest.find('\n') {
            Some(i) => rest = &rest[i + 1..],
            None => return "",
        }
    }
    rest
}

/// What an event means, if anything. Edits are never commands (an edited command is not run again).
pub fn classify(event: &AnySyncTimelineEvent) -> Option<Inbound> {
    let AnySyncTimelineEvent::MessageLike(message) = event else {
        return None;
    };
    let (what, ts) = match message {
        AnySyncMessageLikeEvent::RoomMessage(SyncMessageLikeEvent::Original(m)) => {
            let MessageType::Text(text) = &m.content.msgtype else {
                return None;
            };
            let thread = match &m.content.relates_to {
                Some(Relation::Replacement(_)) => return None,
                Some(Relation::Thread(t)) => Some(t.event_id.to_string()),
                _ => None,
            };
            let what = match (command_text(&text.body), thread) {
                (Some(command), thread) => InboundKind::Command {
                    text: command.to_string(),
                    thread,
                },
                (None, Some(thread)) => InboundKind::ThreadMessage {
                    text: strip_reply_fallback(&text.body).trim().to_string(),
                    thread,
                },
                (None, None) => return None,
            };
            (what, m.origin_server_ts)
        }
        AnySyncMessageLikeEvent::Reaction(SyncMessageLikeEvent::Original(r)) => {
            let relation = &r.content.relates_to;
            let target = relation.event_id.to_string();
            let what = if is_pin(&relation.key) {
                InboundKind::Pin { target }
            } else {
                InboundKind::Reaction {
                    target,
                    vote: reaction_vote(&relation.key)?,
                }
            };
            (what, r.origin_server_ts)
        }
        _ => return None,
    };
    Some(Inbound {
        event_id: message.event_id().to_string(),
        sender: message.sender().to_owned(),
        at: timestamp(ts),
        what,
    })
}

/// A Matrix timestamp as a `DateTime` (the epoch for an impossible one).
pub fn timestamp(ts: MilliSecondsSinceUnixEpoch) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(i64::from(ts.get())).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use matrix_sdk::ruma::serde::Raw;
    use serde_json::json;

    fn event(content: serde_json::Value, kind: &str) -> AnySyncTimelineEvent {
        let raw = json!({
            "type": kind, "event_id": "$e1", "sender": "@alice:example.org",
            "origin_server_ts": 1_700_000_000_000u64, "content": content,
        });
        Raw::<AnySyncTimelineEvent>::from_json_string(raw.to_string())
            .and_then(|r| r.deserialize())
            .expect("test event parses")
    }

    #[test]
    fn prefixes() {
        assert_eq!(command_text("!mystocks status"), Some("status"));
        assert_eq!(command_text("  /MyStocks   scale 5 "), Some("scale 5"));
        assert_eq!(command_text("!mystocks"), Some(""));
        assert_eq!(command_text("!mystocksstatus"), None);
        assert_eq!(command_text("hello !mystocks status"), None);
        assert_eq!(
            command_text("> <@bob:x> hi\n> more\n\n!mystocks pods"),
            Some("pods")
        );
        assert_eq!(command_text("> quoted only"), None);
    }

    #[test]
    fn threaded_command() {
        let e = event(
            json!({"msgtype": "m.text", "body": "!mystocks status",
                   "m.relates_to": {"rel_type": "m.thread", "event_id": "$root"}}),
            "m.room.message",
        );
        let inbound = classify(&e).expect("a command");
        assert_eq!(
            inbound.what,
            InboundKind::Command {
                text: "status".into(),
                thread: Some("$root".into())
            }
        );
        assert_eq!(inbound.sender.as_str(), "@alice:example.org");
        assert_eq!(inbound.at.timestamp_millis(), 1_700_000_000_000);
    }

    #[test]
    fn edits_notices_and_talk_are_not_commands() {
        let edit = json!({"msgtype": "m.text", "body": "* !mystocks scale 9",
            "m.new_content": {"msgtype": "m.text", "body": "!mystocks scale 9"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": "$old"}});
        assert_eq!(classify(&event(edit, "m.room.message")), None);
        let notice = json!({"msgtype": "m.notice", "body": "!mystocks status"});
        assert_eq!(classify(&event(notice, "m.room.message")), None);
        let talk = json!({"msgtype": "m.text", "body": "status looks fine"});
        assert_eq!(classify(&event(talk, "m.room.message")), None);
    }

    #[test]
    fn plain_messages_in_threads_go_to_the_core() {
        let e = event(
            json!({"msgtype": "m.text", "body": "health",
                   "m.relates_to": {"rel_type": "m.thread", "event_id": "$room"}}),
            "m.room.message",
        );
        assert_eq!(
            classify(&e).map(|i| i.what),
            Some(InboundKind::ThreadMessage {
                text: "health".into(),
                thread: "$room".into()
            })
        );
    }

    #[test]
    fn pins_are_recognised() {
        let r =
            json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": "$msg", "key": "📌"}});
        assert_eq!(
            classify(&event(r, "m.reaction")).map(|i| i.what),
            Some(InboundKind::Pin {
                target: "$msg".into()
            })
        );
    }

    #[test]
    fn reactions_are_votes() {
        let r =
            json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": "$req", "key": "✅"}});
        let inbound = classify(&event(r, "m.reaction")).expect("a vote");
        assert_eq!(
            inbound.what,
            InboundKind::Reaction {
                target: "$req".into(),
                vote: ReactionVote::Approve
            }
        );
        let other =
            json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": "$req", "key": "🎉"}});
        assert_eq!(classify(&event(other, "m.reaction")), None);
    }
}
