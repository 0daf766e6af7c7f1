//! The answer inside a slash command's HTTP response. Slack lets the immediate response body be the message
//! itself, so a command whose answer is ready within a short budget (well inside Slack's 3 s) is answered there,
//! and not posted again; otherwise the response says "working on it" and the answer is posted as usual.
//!
//! Only a plain answer goes into the response: the command's first reply, in the command's own conversation,
//! public (`in_channel`) or private to the requester (`ephemeral`), with no buttons and no files, of a kind the
//! core never updates nor threads under (a result, help, a refusal or an error), and not from a command that
//! opens a thread under its first message (`runbook run`, `incident declare`). Such a message has no `ts`: should
//! the core update it anyway, the sink posts the new state instead (see [`ACK_ID`]).

use mystocks_commands::command::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use mystocks_commands::command::{self, Incident, Runbook};
use mystocks_commands::reply::{MessageRef, Reply, ReplyKind, SinkError, Visibility};
use mystocks_commands::{Command, Conversation, Identity, ReplySink, grammar};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::escape::mrkdwn;
use super::render::render;

/// Message id given to an answer delivered in the HTTP response (it has no `ts`, so it cannot be updated).
pub const ACK_ID: &str = "ack";

/// The "working on it" acknowledgement text.
pub const WORKING: &str = "Working on it…";

/// A ready answer for the HTTP response.
#[derive(Clone, Debug, PartialEq)]
pub struct AckAnswer {
    /// `in_channel` (everyone sees command and answer) or `ephemeral` (only the requester).
    pub in_channel: bool,
    pub text: String,
    pub blocks: Vec<Value>,
}

impl AckAnswer {
    /// The slash command response body Slack documents.
    pub fn body(&self) -> Value {
        json!({
            "response_type": if self.in_channel { "in_channel" } else { "ephemeral" },
            "text": self.text,
            "blocks": self.blocks,
        })
    }

    /// The body when nothing is ready: the command is shown in the channel, with a short "working on it".
    pub fn working_body() -> Value {
        json!({"response_type": "in_channel", "text": mrkdwn(WORKING)})
    }
}

/// The one place a slash command's first reply can go instead of a post; taken by whoever comes first — the
/// sink with a reply, or the waiting HTTP handler when its budget is spent.
#[derive(Default)]
pub struct AckSlot {
    tx: Mutex<Option<oneshot::Sender<AckAnswer>>>,
    /// Whether the command replied at all (a duplicate delivery, dropped by the core's claim, never does).
    replied: AtomicBool,
}

impl AckSlot {
    /// A slot and the receiver the HTTP handler waits on.
    pub fn open() -> (Arc<AckSlot>, oneshot::Receiver<AckAnswer>) {
        let (tx, rx) = oneshot::channel();
        let slot = AckSlot {
            tx: Mutex::new(Some(tx)),
            replied: AtomicBool::new(false),
        };
        (Arc::new(slot), rx)
    }

    /// Closes the slot: later replies are posted. Also called when the command's handling ends.
    pub fn close(&self) -> Option<oneshot::Sender<AckAnswer>> {
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    fn replied(&self) -> bool {
        self.replied.load(Ordering::SeqCst)
    }
}

/// How the wait for a slash command's answer ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Waited {
    /// The answer is ready: the response carries it.
    Answered(AckAnswer),
    /// The first reply was not a plain answer (it is posted).
    NoAnswer,
    /// The command ended without replying at all (a duplicate delivery): nothing to show.
    Silent,
    /// The budget ran out first: "working on it", and the answer is posted when it comes.
    TimedOut,
}

/// Waits for the command's handling — `work`, already running in a task of its own, which closes `slot` when it
/// ends — until its answer is ready, it ends, or `budget` is spent. The work never depends on this wait: should
/// the caller be dropped (Slack hung up), the work goes on and its answer is posted instead.
pub async fn answer_within(
    mut work: JoinHandle<()>,
    slot: &AckSlot,
    mut rx: oneshot::Receiver<AckAnswer>,
    budget: std::time::Duration,
) -> Waited {
    let deadline = tokio::time::sleep(budget);
    tokio::pin!(deadline);
    let ended = |slot: &AckSlot| {
        if slot.replied() {
            Waited::NoAnswer
        } else {
            Waited::Silent
        }
    };
    tokio::select! {
        biased;
        first = &mut rx => first.map_or_else(|_| ended(slot), Waited::Answered),
        _ = &mut work => {
            let otherwise = ended(slot);
            received(&mut rx, otherwise)
        }
        () = &mut deadline => {
            // Close first, then look again: an answer sent just before the close is used, one after it is
            // posted by the sink (its send fails), so none is lost.
            drop(slot.close());
            received(&mut rx, Waited::TimedOut)
        }
    }
}

/// The answer already in `rx`, or `otherwise`.
fn received(rx: &mut oneshot::Receiver<AckAnswer>, otherwise: Waited) -> Waited {
    rx.try_recv().map_or(otherwise, Waited::Answered)
}

/// Whether the first reply of `text` may be answered in the HTTP response at all.
pub fn may_answer_in_ack(text: &str) -> bool {
    // Only `runbook run` and `incident declare` open a thread under their first reply. A first word that is a
    // plain name of another command settles it without parsing; anything else (quotes, prefixes) is parsed.
    let first = text
        .split(|c: char| c.is_whitespace() || matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}'))
        .find(|w| !w.is_empty());
    if let Some(word) = first
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && !command::find(word).is_some_and(|spec| matches!(spec.name, "runbook" | "incident"))
    {
        return true;
    }
    !matches!(
        grammar::parse(text),
        Ok(Command::Read(Read::Runbook(Runbook::Run { .. })))
            | Ok(Command::Incident(Incident::Declare { .. }))
    )
}

/// The sink a slash command's invocation replies through: its first reply may go into the HTTP response.
pub struct AckSink {
    inner: Arc<dyn ReplySink>,
    slot: Arc<AckSlot>,
    conversation: Conversation,
    requester: Identity,
}

impl AckSink {
    pub fn new(
        inner: Arc<dyn ReplySink>,
        slot: Arc<AckSlot>,
        conversation: Conversation,
        requester: Identity,
    ) -> Self {
        AckSink {
            inner,
            slot,
            conversation,
            requester,
        }
    }

    /// The answer `reply` would be in the HTTP response, if it is a plain answer here.
    fn answer(&self, conversation: &Conversation, reply: &Reply) -> Option<AckAnswer> {
        if conversation != &self.conversation
            || !reply.actions.is_empty()
            || !reply.attachments.is_empty()
        {
            return None;
        }
        let in_channel = match &reply.visibility {
            Visibility::Public => true,
            Visibility::Private(who) if who == &self.requester => false,
            Visibility::Private(_) => return None,
        };
        let plain = matches!(
            reply.kind,
            ReplyKind::Result | ReplyKind::Help | ReplyKind::Refusal | ReplyKind::Error
        );
        if in_channel && !plain {
            return None;
        }
        let rendered = render(reply);
        rendered.files.is_empty().then_some(AckAnswer {
            in_channel,
            text: rendered.text,
            blocks: rendered.blocks,
        })
    }
}

#[async_trait]
impl ReplySink for AckSink {
    async fn post(
        &self,
        conversation: &Conversation,
        reply: &Reply,
    ) -> Result<MessageRef, SinkError> {
        // The first reply closes the slot whatever it is: the response never waits behind a post.
        self.slot.replied.store(true, Ordering::SeqCst);
        if let Some(tx) = self.slot.close()
            && let Some(answer) = self.answer(conversation, reply)
            && tx.send(answer).is_ok()
        {
            return Ok(MessageRef {
                conversation: conversation.clone(),
                message_id: ACK_ID.to_string(),
            });
        }
        self.inner.post(conversation, reply).await
    }

    async fn update(&self, message: &MessageRef, reply: &Reply) -> Result<(), SinkError> {
        self.inner.update(message, reply).await
    }
}

#[cfg(test)]
#[path = "ack_tests.rs"]
mod tests;
