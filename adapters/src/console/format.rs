//! How the console prints a message: a readable text block with a header line, or one JSON object per line with
//! stable fields. All text is passed through [`strip_controls`] first.

use mystocks_commands::reply::{ApprovalTag, Reply, Visibility};
use serde::Serialize;

use super::escape::strip_controls;

/// The console's output format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// A header line (`[m3] bot → thread incident-1`) and the reply's plain text.
    #[default]
    Text,
    /// One JSON object per line (see [`Record`]).
    Json,
}

/// One printed message, as the JSON format emits it. Field names are stable: scripts and tests rely on them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Record {
    /// The reply kind (`result`, `refusal`, `approval_request`, `progress`, …) or `console` for the console's own
    /// notices.
    pub kind: String,
    /// `ok`, `info`, `warn`, `fail`.
    pub level: String,
    /// The reply's plain-text rendering.
    pub text: String,
    /// `m1`, `m2`, …; an update repeats the id of the message it updates. `null` for console notices.
    pub message_id: Option<String>,
    /// Whether this replaces an earlier message.
    pub update: bool,
    /// The thread the message is in, `null` in the channel.
    pub thread: Option<String>,
    /// The identity a private reply is shown to, `null` when public.
    pub private_to: Option<String>,
    /// The approval request this message is about.
    pub approval: Option<ApprovalTag>,
    /// The reply's header line.
    pub header: Option<String>,
}

fn label<T: Serialize>(value: T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "unknown".to_string(),
    }
}

impl Record {
    /// The record of a posted (`update == false`) or updated reply.
    pub fn of_reply(reply: &Reply, message_id: &str, thread: Option<&str>, update: bool) -> Record {
        let private_to = match &reply.visibility {
            Visibility::Public => None,
            Visibility::Private(identity) => Some(strip_controls(identity.as_str())),
        };
        let approval = reply.approval.as_ref().map(|a| ApprovalTag {
            id: strip_controls(&a.id),
            state: strip_controls(&a.state),
        });
        Record {
            kind: label(reply.kind),
            level: label(reply.level),
            text: strip_controls(&reply.plain_text()),
            message_id: Some(message_id.to_string()),
            update,
            thread: thread.map(strip_controls),
            private_to,
            approval,
            header: reply.header.as_deref().map(strip_controls),
        }
    }

    /// A notice from the console itself (help, a malformed directive).
    pub fn console(level: &str, text: &str, thread: Option<&str>) -> Record {
        Record {
            kind: "console".into(),
            level: level.into(),
            text: strip_controls(text),
            message_id: None,
            update: false,
            thread: thread.map(strip_controls),
            private_to: None,
            approval: None,
            header: None,
        }
    }

    /// The printed form, ending with a newline.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Json => {
                let line = serde_json::to_string(self).unwrap_or_else(|e| {
                    format!(
                        r#"{{"kind":"console","level":"fail","text":"cannot encode reply: {e}"}}"#
                    )
                });
                line + "\n"
            }
            Format::Text => self.text_block(),
        }
    }

    fn text_block(&self) -> String {
        let Some(id) = &self.message_id else {
            return format!("{}\n\n", self.text);
        };
        let mut head = format!("[{id}] bot");
        if let Some(thread) = &self.thread {
            head.push_str(&format!(" → thread {thread}"));
        }
        if let Some(to) = &self.private_to {
            head.push_str(&format!(" (private to {to})"));
        }
        if self.update {
            head.push_str(&format!(" (update of {id})"));
        }
        format!("{head}\n{}\n\n", self.text)
    }
}

#[cfg(test)]
mod tests {
    use mystocks_commands::Identity;
    use mystocks_commands::reply::{Level, ReplyKind};

    use super::*;

    fn approval_reply() -> Reply {
        Reply::text(
            ReplyKind::ApprovalRequest,
            Level::Warn,
            "scale 3 → 5\u{1b}[2J",
        )
        .with_header("Approval A1")
        .with_approval("A1", "pending")
    }

    #[test]
    fn json_has_every_stable_field() {
        let line = Record::of_reply(&approval_reply(), "m4", Some("incident-1"), false)
            .render(Format::Json);
        assert!(line.ends_with('\n'));
        assert_eq!(line.matches('\n').count(), 1, "exactly one line: {line}");
        let v: serde_json::Value = serde_json::from_str(&line).expect("valid JSON");
        assert_eq!(v["kind"], "approval_request");
        assert_eq!(v["level"], "warn");
        assert_eq!(v["text"], "Approval A1\nscale 3 → 5");
        assert_eq!(v["message_id"], "m4");
        assert_eq!(v["update"], false);
        assert_eq!(v["thread"], "incident-1");
        assert_eq!(v["private_to"], serde_json::Value::Null);
        assert_eq!(
            v["approval"],
            serde_json::json!({"id": "A1", "state": "pending"})
        );
        assert_eq!(v["header"], "Approval A1");
    }

    #[test]
    fn private_update_in_text() {
        let reply = Reply::text(ReplyKind::Progress, Level::Info, "rollout 2/5")
            .private_to(Identity::new("console", "alice"));
        let text = Record::of_reply(&reply, "m3", None, true).render(Format::Text);
        assert_eq!(
            text,
            "[m3] bot (private to console:alice) (update of m3)\nrollout 2/5\n\n"
        );
        let v: serde_json::Value =
            serde_json::from_str(&Record::of_reply(&reply, "m3", None, true).render(Format::Json))
                .expect("json");
        assert_eq!(v["private_to"], "console:alice");
        assert_eq!(v["update"], true);
        assert_eq!(v["thread"], serde_json::Value::Null);
    }

    #[test]
    fn console_notices_have_no_message_id() {
        let v: serde_json::Value = serde_json::from_str(
            &Record::console("warn", "usage: :as NAME", None).render(Format::Json),
        )
        .expect("json");
        assert_eq!(v["kind"], "console");
        assert_eq!(v["message_id"], serde_json::Value::Null);
        assert_eq!(
            Record::console("info", "hi", None).render(Format::Text),
            "hi\n\n"
        );
    }
}
