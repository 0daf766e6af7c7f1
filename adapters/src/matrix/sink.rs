//! The Matrix `ReplySink`: posts rendered replies into the room (and thread) of a conversation, and edits them
//! with `m.replace`. Edits of one message are throttled: at most one per `edit_interval`, newer content replacing
//! older content still waiting, sent in order by one task per message, so the last state always lands.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use matrix_sdk::ruma::events::Mentions;
use matrix_sdk::ruma::events::relation::Thread;
use matrix_sdk::ruma::events::room::message::{
    Relation, ReplacementMetadata, RoomMessageEventContent, RoomMessageEventContentWithoutRelation,
};
use matrix_sdk::ruma::{EventId, OwnedEventId, OwnedUserId, RoomId};
use matrix_sdk::{Client, Room};
use mystocks_commands::reply::{ReplyKind, SinkError};
use mystocks_commands::store::Store;
use mystocks_commands::{Conversation, MessageRef, Reply, ReplySink};
use tokio::sync::Notify;

use super::approvals::remember_request;
use super::outbox::{self, SendStats};
use super::render::render;

/// The platform prefix of Matrix channels and identities.
pub const PLATFORM: &str = "matrix";

/// Posts and edits replies in Matrix rooms.
pub struct MatrixSink {
    client: Client,
    store: Arc<dyn Store>,
    stats: Arc<SendStats>,
    edit_interval: Duration,
    edits: Arc<Mutex<HashMap<String, EditSlot>>>,
    idle: Arc<Notify>,
}

/// The edit state of one message.
#[derive(Default)]
struct EditSlot {
    last_sent: Option<Instant>,
    pending: Option<(MessageRef, Reply)>,
    /// A task is sending this message's edits.
    busy: bool,
}

impl MatrixSink {
    /// A sink over a logged-in client; `store` remembers which message is which approval request.
    pub fn new(client: Client, store: Arc<dyn Store>, edit_interval: Duration) -> Self {
        MatrixSink {
            client,
            store,
            stats: Arc::default(),
            edit_interval,
            edits: Arc::default(),
            idle: Arc::default(),
        }
    }

    /// What sending has met so far (rate limits waited out, edits coalesced).
    pub fn stats(&self) -> Arc<SendStats> {
        self.stats.clone()
    }

    /// Waits until every edit queued so far has been sent (or given up).
    pub async fn flush(&self) {
        loop {
            let idle = self.idle.notified();
            let busy = self
                .edits
                .lock()
                .map(|slots| slots.values().any(|s| s.busy))
                .unwrap_or(false);
            if !busy {
                return;
            }
            idle.await;
        }
    }

    fn room(&self, channel: &str) -> Result<Room, SinkError> {
        let id = channel
            .strip_prefix("matrix:")
            .ok_or_else(|| SinkError(format!("`{channel}` is not a Matrix room")))?;
        let room_id = <&RoomId>::try_from(id)
            .map_err(|e| SinkError(format!("`{id}` is not a room id: {e}")))?;
        self.client
            .get_room(room_id)
            .ok_or_else(|| SinkError(format!("the bot is not in room {id}")))
    }

    /// Sends the latest pending edit of `key` until none is left, one per interval.
    async fn drain_edits(self: Arc<Self>, key: String) {
        loop {
            let (wait, next) = {
                let Ok(mut slots) = self.edits.lock() else {
                    return;
                };
                let slot = slots.entry(key.clone()).or_default();
                let Some(next) = slot.pending.take() else {
                    slot.busy = false;
                    self.idle.notify_waiters();
                    return;
                };
                let wait = slot
                    .last_sent
                    .map(|t| self.edit_interval.saturating_sub(t.elapsed()))
                    .unwrap_or_default();
                (wait, next)
            };
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
                // Content that arrived while waiting is newer: send that instead.
                let newer = self
                    .edits
                    .lock()
                    .ok()
                    .and_then(|mut s| s.get_mut(&key).and_then(|s| s.pending.take()));
                if newer.is_some() {
                    self.stats.count_coalesced();
                }
                let (message, reply) = newer.unwrap_or(next);
                self.send_edit(&key, &message, &reply).await;
            } else {
                self.send_edit(&key, &next.0, &next.1).await;
            }
        }
    }

    async fn send_edit(&self, key: &str, message: &MessageRef, reply: &Reply) {
        if let Ok(mut slots) = self.edits.lock() {
            slots.entry(key.to_string()).or_default().last_sent = Some(Instant::now());
        }
        if let Err(err) = self.edit_now(message, reply).await {
            tracing::warn!(error = %err, message = %message.message_id, "could not edit a Matrix message");
        }
    }

    async fn edit_now(&self, message: &MessageRef, reply: &Reply) -> Result<(), SinkError> {
        let room = self.room(&message.conversation.channel)?;
        let original = <&EventId>::try_from(message.message_id.as_str())
            .map_err(|e| SinkError(format!("`{}` is not an event id: {e}", message.message_id)))?;
        let content = message_content(reply)
            .make_replacement(ReplacementMetadata::new(original.to_owned(), None));
        outbox::send(&room, content, &self.stats).await.map(|_| ())
    }
}

/// The message content of a reply: HTML and plain bodies, and explicit mentions: the addressed person and the
/// people the reply notifies (never the room).
fn message_content(reply: &Reply) -> RoomMessageEventContentWithoutRelation {
    let rendered = render(reply);
    let users: Vec<OwnedUserId> = rendered
        .addressed_to
        .iter()
        .chain(&rendered.notified)
        .filter_map(|u| OwnedUserId::try_from(u.as_str()).ok())
        .collect();
    let mentions = if users.is_empty() {
        Mentions::new()
    } else {
        Mentions::with_user_ids(users)
    };
    let content = match reply.kind {
        ReplyKind::Progress => {
            RoomMessageEventContentWithoutRelation::notice_html(rendered.plain, rendered.html)
        }
        _ => RoomMessageEventContentWithoutRelation::text_html(rendered.plain, rendered.html),
    };
    content.add_mentions(mentions)
}

#[async_trait]
impl ReplySink for MatrixSink {
    async fn post(
        &self,
        conversation: &Conversation,
        reply: &Reply,
    ) -> Result<MessageRef, SinkError> {
        let room = self.room(&conversation.channel)?;
        let mut content: RoomMessageEventContent = message_content(reply).into();
        if let Some(root) = &conversation.thread {
            let root = OwnedEventId::try_from(root.as_str())
                .map_err(|e| SinkError(format!("thread root `{root}` is not an event id: {e}")))?;
            content.relates_to = Some(Relation::Thread(Thread::plain(root.clone(), root)));
        }
        let event_id = outbox::send(&room, content, &self.stats).await?;
        let message = MessageRef {
            conversation: conversation.clone(),
            message_id: event_id.to_string(),
        };
        if reply.kind == ReplyKind::ApprovalRequest
            && let Some(tag) = &reply.approval
        {
            remember_request(self.store.as_ref(), &message, &tag.id).await;
        }
        Ok(message)
    }

    async fn update(&self, message: &MessageRef, reply: &Reply) -> Result<(), SinkError> {
        // Checked now, so a wrong reference is reported to the caller rather than only logged.
        self.room(&message.conversation.channel)?;
        let key = message.message_id.clone();
        let start = {
            let mut slots = self
                .edits
                .lock()
                .map_err(|_| SinkError("edit queue poisoned".into()))?;
            let slot = slots.entry(key.clone()).or_default();
            if slot
                .pending
                .replace((message.clone(), reply.clone()))
                .is_some()
            {
                self.stats.count_coalesced();
            }
            !std::mem::replace(&mut slot.busy, true)
        };
        if start {
            let me = Arc::new(self.clone_handle());
            tokio::spawn(me.drain_edits(key));
        }
        Ok(())
    }
}

impl MatrixSink {
    /// A second handle on the same queues and counters (the edit task owns one).
    fn clone_handle(&self) -> MatrixSink {
        MatrixSink {
            client: self.client.clone(),
            store: self.store.clone(),
            stats: self.stats.clone(),
            edit_interval: self.edit_interval,
            edits: self.edits.clone(),
            idle: self.idle.clone(),
        }
    }
}
