//! 📌 on Slack: a `pushpin` reaction on a person's message in an incident thread appends the message's text to
//! the incident's timeline as a note. The front door claims the pinned message once (however often, and by
//! whomever, it is pinned), fetches it (`conversations.replies`), and hands the core `incident note "TEXT"` as a
//! plain message of the pinning person in that thread — so the core's own rules apply: only in an incident
//! thread (elsewhere such a message is talk and nothing happens), only for those who may add notes.

use async_trait::async_trait;
use mystocks_commands::command::deny::MAX_REASON_CHARS;
use mystocks_commands::command::quote;

use super::api::{ApiError, FetchedMessage, SlackApi};
use super::inbound::unescape;

/// The reaction that pins a message to the timeline.
pub const PUSHPIN: &str = "pushpin";

/// Where pinned messages are read from (the Web API).
#[async_trait]
pub trait MessageLookup: Send + Sync {
    async fn message(&self, channel: &str, ts: &str) -> Result<Option<FetchedMessage>, ApiError>;
}

#[async_trait]
impl MessageLookup for SlackApi {
    async fn message(&self, channel: &str, ts: &str) -> Result<Option<FetchedMessage>, ApiError> {
        SlackApi::message(self, channel, ts).await
    }
}

/// Why a pinned message is not a note.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotANote {
    /// A bot wrote it (the bot's own answers are on the timeline already).
    FromBot,
    /// It is not inside a thread (or it is a thread's first message), so it cannot be in a war room.
    NotInThread,
    /// Nothing but whitespace and invisible characters.
    Empty,
}

/// The thread the message is in and the command that notes it.
pub fn note_for(message: &FetchedMessage) -> Result<(String, String), NotANote> {
    if message.from_bot || message.user.is_none() {
        return Err(NotANote::FromBot);
    }
    let thread = match &message.thread_ts {
        Some(thread) if thread != &message.ts => thread.clone(),
        _ => return Err(NotANote::NotInThread),
    };
    let text = note_text(&message.text).ok_or(NotANote::Empty)?;
    Ok((thread, format!("incident note {}", quote(&text))))
}

/// The message's text as one line the grammar takes whole: entities decoded, control and direction-override
/// characters (which the grammar refuses) turned into spaces, runs of whitespace collapsed, and cut to the
/// longest note with `…`.
fn note_text(raw: &str) -> Option<String> {
    let cleaned: String = unescape(raw)
        .chars()
        .map(|c| if is_hidden(c) { ' ' } else { c })
        .collect();
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    if words.is_empty() {
        return None;
    }
    let line = words.join(" ");
    if line.chars().count() <= MAX_REASON_CHARS {
        return Some(line);
    }
    let mut cut: String = line.chars().take(MAX_REASON_CHARS - 1).collect();
    cut.push('…');
    Some(cut)
}

fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use mystocks_commands::Command;
    use mystocks_commands::command::Incident;

    fn message(text: &str, thread: Option<&str>) -> FetchedMessage {
        FetchedMessage {
            ts: "1700000100.000200".into(),
            thread_ts: thread.map(str::to_string),
            user: Some("UALICE".into()),
            from_bot: false,
            text: text.into(),
        }
    }

    fn noted(text: &str) -> String {
        let (_, command) = note_for(&message(text, Some("1700000000.000100"))).expect("a note");
        match Command::parse(&command) {
            Ok(Command::Incident(Incident::Note { text })) => text,
            other => panic!("{command} parsed as {other:?}"),
        }
    }

    #[test]
    fn any_text_becomes_exactly_that_note() {
        assert_eq!(
            noted("cache hit rate dropped at 14:02"),
            "cache hit rate dropped at 14:02"
        );
        assert_eq!(
            noted("it's \"down\" -- see <https://x|here> &amp; \\o/ “quoted”"),
            "it's \"down\" -- see <https://x|here> & \\o/ “quoted”"
        );
        assert_eq!(noted("--help"), "--help");
        assert_eq!(noted("two\nlines\t\u{202E}hidden"), "two lines hidden");
        let long = noted(&"x".repeat(2000));
        assert_eq!(long.chars().count(), MAX_REASON_CHARS);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn bots_roots_plain_messages_and_empty_text_are_not_notes() {
        let mut from_bot = message("health ok", Some("1.1"));
        from_bot.from_bot = true;
        assert_eq!(note_for(&from_bot), Err(NotANote::FromBot));
        let root = message("root", Some("1700000100.000200"));
        assert_eq!(note_for(&root), Err(NotANote::NotInThread));
        assert_eq!(
            note_for(&message("plain", None)),
            Err(NotANote::NotInThread)
        );
        assert_eq!(
            note_for(&message(" \u{200B}\n ", Some("1.1"))),
            Err(NotANote::Empty)
        );
        let (thread, _) = note_for(&message("x", Some("1.1"))).expect("note");
        assert_eq!(thread, "1.1");
    }
}
