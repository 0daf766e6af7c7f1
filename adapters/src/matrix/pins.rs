//! 📌 on a message in an incident's war-room thread: that message's text becomes a note on the incident timeline
//! (`incident note …` on behalf of the person who pinned it), once per message however often it is pinned.

use matrix_sdk::Room;
use matrix_sdk::ruma::EventId;
use matrix_sdk::ruma::events::room::message::{MessageType, Relation};
use matrix_sdk::ruma::events::{
    AnySyncMessageLikeEvent, AnySyncTimelineEvent, SyncMessageLikeEvent,
};
use mystocks_commands::Command;
use mystocks_commands::command::Incident;

/// The longest note taken from a pinned message, in characters (the note grammar allows 500).
const MAX_NOTE_CHARS: usize = 480;

/// Whether a reaction key is the pin (📌, with or without a variation selector).
pub fn is_pin(key: &str) -> bool {
    key.trim_end_matches('\u{fe0f}') == "📌"
}

/// A pinned message: the thread it belongs to (its own id when it is a thread's root) and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pinned {
    pub thread_root: String,
    pub text: String,
}

/// Fetches (and decrypts) the message `target` in `room`; None when it is not a text message or cannot be read.
pub(super) async fn pinned(room: &Room, target: &str) -> Option<Pinned> {
    let event_id = <&EventId>::try_from(target).ok()?;
    let event = match room.event(event_id, None).await {
        Ok(event) => event,
        Err(err) => {
            tracing::warn!(error = %err, event = target, "cannot read a pinned message; pin ignored");
            return None;
        }
    };
    let parsed = event.raw().deserialize().ok()?;
    pinned_of(&parsed)
}

/// What a pinned event is, if it is a message that can become a note. Edits are not (the original is pinned).
pub fn pinned_of(event: &AnySyncTimelineEvent) -> Option<Pinned> {
    let AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomMessage(
        SyncMessageLikeEvent::Original(m),
    )) = event
    else {
        return None;
    };
    let body = match &m.content.msgtype {
        MessageType::Text(t) => &t.body,
        MessageType::Notice(n) => &n.body,
        MessageType::Emote(e) => &e.body,
        _ => return None,
    };
    let thread_root = match &m.content.relates_to {
        Some(Relation::Thread(t)) => t.event_id.to_string(),
        Some(Relation::Replacement(_)) => return None,
        _ => m.event_id.to_string(),
    };
    Some(Pinned {
        thread_root,
        text: body.clone(),
    })
}

/// The `incident note …` command carrying `text`, made safe for the grammar: whitespace folded, control and
/// bidirectional formatting characters dropped, long text cut. None when nothing is left.
pub fn note_command(text: &str) -> Option<String> {
    let cleaned: String = text
        .chars()
        .filter_map(|c| {
            if c.is_whitespace() {
                Some(' ')
            } else if c.is_control() || is_format(c) {
                None
            } else {
                Some(c)
            }
        })
        .collect();
    let mut note = cleaned
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if note.chars().count() > MAX_NOTE_CHARS {
        note = note.chars().take(MAX_NOTE_CHARS - 1).collect::<String>() + "…";
    }
    if note.is_empty() {
        return None;
    }
    let command = Command::Incident(Incident::Note { text: note.clone() }).canonical();
    // Only what parses back to exactly this note is sent (the core parses it again).
    match Command::parse(&command) {
        Ok(Command::Incident(Incident::Note { text })) if text == note => Some(command),
        _ => None,
    }
}

/// Zero-width and bidirectional formatting characters, which the grammar refuses.
fn is_format(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use matrix_sdk::ruma::serde::Raw;
    use serde_json::json;

    fn message(content: serde_json::Value) -> AnySyncTimelineEvent {
        let raw = json!({
            "type": "m.room.message", "event_id": "$m1", "sender": "@bob:example.org",
            "origin_server_ts": 1_700_000_000_000u64, "content": content,
        });
        Raw::<AnySyncTimelineEvent>::from_json_string(raw.to_string())
            .and_then(|r| r.deserialize())
            .expect("test event parses")
    }

    #[test]
    fn pins() {
        assert!(is_pin("📌"));
        assert!(is_pin("📌\u{fe0f}"));
        assert!(!is_pin("📍"));
        assert!(!is_pin("✅"));
    }

    #[test]
    fn a_pinned_message_knows_its_thread() {
        let in_thread = message(json!({"msgtype": "m.text", "body": "config push at 14:02",
            "m.relates_to": {"rel_type": "m.thread", "event_id": "$root"}}));
        assert_eq!(
            pinned_of(&in_thread),
            Some(Pinned {
                thread_root: "$root".into(),
                text: "config push at 14:02".into()
            })
        );
        let root = message(json!({"msgtype": "m.notice", "body": "Incident 1"}));
        assert_eq!(pinned_of(&root).map(|p| p.thread_root), Some("$m1".into()));
        let edit = message(json!({"msgtype": "m.text", "body": "* x",
            "m.new_content": {"msgtype": "m.text", "body": "x"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": "$old"}}));
        assert_eq!(pinned_of(&edit), None);
        let image = message(json!({"msgtype": "m.image", "body": "x.png", "url": "mxc://a/b"}));
        assert_eq!(pinned_of(&image), None);
    }

    #[test]
    fn note_commands_round_trip_whatever_people_wrote() {
        let parsed = |text: &str| match note_command(text).map(|c| Command::parse(&c)) {
            Some(Ok(Command::Incident(Incident::Note { text }))) => Some(text),
            _ => None,
        };
        assert_eq!(
            parsed("rolled back at 14:05, \"v1.0.2\" was bad"),
            Some("rolled back at 14:05, \"v1.0.2\" was bad".into())
        );
        assert_eq!(
            parsed("line one\nline  two\t--force 'x"),
            Some("line one line two --force 'x".into())
        );
        assert_eq!(parsed("a\u{202e}b\u{7}c"), Some("abc".into()));
        assert_eq!(parsed(" \n\u{200b} "), None);
        let long = "x".repeat(2000);
        assert_eq!(
            parsed(&long).map(|t| t.chars().count()),
            Some(MAX_NOTE_CHARS)
        );
    }
}
