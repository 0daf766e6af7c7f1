//! A reply sink that records everything the core posts and updates, for assertions.

use std::sync::Mutex;

use async_trait::async_trait;
use mystocks_commands::reply::{ReplyKind, SinkError};
use mystocks_commands::{Conversation, MessageRef, Reply, ReplySink};

/// One post or update, in order.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub message_id: String,
    /// True when this replaced an earlier message.
    pub update: bool,
    pub conversation: Conversation,
    pub reply: Reply,
}

impl Recorded {
    pub fn text(&self) -> String {
        self.reply.plain_text()
    }
    pub fn kind(&self) -> ReplyKind {
        self.reply.kind
    }
}

/// Records replies; message ids are `m1`, `m2`, ….
#[derive(Debug, Default)]
pub struct RecordingSink {
    log: Mutex<Vec<Recorded>>,
    next: Mutex<u64>,
}

impl RecordingSink {
    /// Everything recorded so far.
    pub fn all(&self) -> Vec<Recorded> {
        self.log.lock().expect("sink lock").clone()
    }
    /// Number of records so far (a cursor for `since`).
    pub fn len(&self) -> usize {
        self.log.lock().expect("sink lock").len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Records after the cursor.
    pub fn since(&self, cursor: usize) -> Vec<Recorded> {
        self.log.lock().expect("sink lock")[cursor..].to_vec()
    }
}

#[async_trait]
impl ReplySink for RecordingSink {
    async fn post(
        &self,
        conversation: &Conversation,
        reply: &Reply,
    ) -> Result<MessageRef, SinkError> {
        let id = {
            let mut n = self.next.lock().expect("sink lock");
            *n += 1;
            format!("m{n}")
        };
        let msg = MessageRef {
            conversation: conversation.clone(),
            message_id: id.clone(),
        };
        self.log.lock().expect("sink lock").push(Recorded {
            message_id: id,
            update: false,
            conversation: conversation.clone(),
            reply: reply.clone(),
        });
        Ok(msg)
    }

    async fn update(&self, message: &MessageRef, reply: &Reply) -> Result<(), SinkError> {
        self.log.lock().expect("sink lock").push(Recorded {
            message_id: message.message_id.clone(),
            update: true,
            conversation: message.conversation.clone(),
            reply: reply.clone(),
        });
        Ok(())
    }
}
