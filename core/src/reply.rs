//! The platform-neutral reply document, and the sink through which the core posts and updates replies.
//!
//! Adapters render a `Reply` (Slack Block Kit, Matrix HTML + plain body, console text or JSON). Text in a
//! `Reply` is plain text; anything that came from people or logs is escaped by the adapter when rendering.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::invocation::{Conversation, Identity};

/// The tone of a reply or a status line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Info,
    Warn,
    Fail,
}

/// What a reply is, so adapters and the JSON console output can tell them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyKind {
    /// An answer to a read-only command.
    Result,
    /// Help text.
    Help,
    /// A refusal (role, policy, freeze, rate limit, bad input).
    Refusal,
    /// An error while running (the cluster said no, timeouts, internal errors with a reference).
    Error,
    /// An approval request with its actions.
    ApprovalRequest,
    /// The outcome of a vote or decision on an approval request.
    ApprovalDecision,
    /// Progress of long work (rollout n/m …); usually an update of one message.
    Progress,
    /// A notice (e.g. approvers being notified, freeze announcements).
    Notice,
}

/// One line of a status list (`ok  API /health  12 ms`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusLine {
    pub level: Level,
    pub label: String,
    pub detail: String,
    pub millis: Option<u64>,
}

/// A simple table: header row and data rows, all plain text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A file attached to a reply (long logs, postmortems).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub content: String,
}

/// A button (Slack), a reaction or typed command (Matrix, console) that stands for a command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// Short label, e.g. `Approve`.
    pub label: String,
    /// The command the action runs, e.g. `approve A12`.
    pub command: String,
    pub style: ActionStyle,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionStyle {
    Primary,
    Danger,
    Default,
}

/// The approval an approval-related reply is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalTag {
    pub id: String,
    /// `pending`, `approved`, `executing`, `done`, `failed`, `denied`, `cancelled`, `expired`, `superseded`.
    pub state: String,
}

/// One block of a reply, in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    /// A paragraph of plain text.
    Text {
        text: String,
    },
    /// Key/value pairs (`Replicas: 3 → 5`).
    Fields {
        fields: Vec<(String, String)>,
    },
    Status {
        lines: Vec<StatusLine>,
    },
    Table {
        table: Table,
    },
    /// Preformatted text (logs, SQL).
    Code {
        text: String,
    },
}

/// Who sees a reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "to", content = "identity")]
pub enum Visibility {
    /// Everyone in the conversation.
    Public,
    /// Only this person (Slack ephemeral; Matrix/console: addressed to them).
    Private(Identity),
}

/// A platform-neutral reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub kind: ReplyKind,
    pub level: Level,
    pub header: Option<String>,
    pub blocks: Vec<Block>,
    pub actions: Vec<Action>,
    pub attachments: Vec<Attachment>,
    pub visibility: Visibility,
    pub approval: Option<ApprovalTag>,
    /// People to notify (approvers asked to act): each platform mentions those it knows (Slack `<@U…>`, Matrix
    /// `m.mentions`) and ignores the others.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<Identity>,
}

impl Reply {
    pub fn new(kind: ReplyKind, level: Level) -> Self {
        Reply {
            kind,
            level,
            header: None,
            blocks: Vec::new(),
            actions: Vec::new(),
            attachments: Vec::new(),
            visibility: Visibility::Public,
            approval: None,
            mentions: Vec::new(),
        }
    }
    /// A one-paragraph answer.
    pub fn text(kind: ReplyKind, level: Level, text: impl Into<String>) -> Self {
        Reply::new(kind, level).with_block(Block::Text { text: text.into() })
    }
    pub fn with_header(mut self, header: impl Into<String>) -> Self {
        self.header = Some(header.into());
        self
    }
    pub fn with_block(mut self, block: Block) -> Self {
        self.blocks.push(block);
        self
    }
    pub fn with_action(mut self, action: Action) -> Self {
        self.actions.push(action);
        self
    }
    pub fn with_attachment(mut self, attachment: Attachment) -> Self {
        self.attachments.push(attachment);
        self
    }
    pub fn private_to(mut self, identity: Identity) -> Self {
        self.visibility = Visibility::Private(identity);
        self
    }
    pub fn with_mentions(mut self, people: impl IntoIterator<Item = Identity>) -> Self {
        self.mentions.extend(people);
        self
    }
    pub fn with_approval(mut self, id: impl Into<String>, state: impl Into<String>) -> Self {
        self.approval = Some(ApprovalTag {
            id: id.into(),
            state: state.into(),
        });
        self
    }

    /// The plain-text rendering: what the console prints and what Matrix puts in `body`.
    pub fn plain_text(&self) -> String {
        crate::render::plain_text(self)
    }
}

/// A posted message, serialisable so a stored job can update it later (from any process).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MessageRef {
    pub conversation: Conversation,
    /// The platform's id of the message (Slack `ts`, Matrix event id, console sequence number).
    pub message_id: String,
}

/// Errors a sink can report (the platform refused, rate limits exhausted, …).
#[derive(Debug, thiserror::Error)]
#[error("could not deliver reply: {0}")]
pub struct SinkError(pub String);

/// Where the core posts replies in one conversation; implemented by each adapter.
#[async_trait]
pub trait ReplySink: Send + Sync {
    /// Posts a new message in `conversation` (public or private per the reply's visibility).
    async fn post(
        &self,
        conversation: &Conversation,
        reply: &Reply,
    ) -> Result<MessageRef, SinkError>;
    /// Replaces the content of a message posted earlier.
    async fn update(&self, message: &MessageRef, reply: &Reply) -> Result<(), SinkError>;
}
