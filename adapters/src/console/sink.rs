//! The console's `ReplySink`: prints each posted or updated reply, numbering messages `m1`, `m2`, ….

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use mystocks_commands::Conversation;
use mystocks_commands::reply::{MessageRef, Reply, ReplySink, SinkError};

use super::format::{Format, Record};

/// Where the console writes; shared by the sink (which may print from background work) and the reading loop.
pub type Output = Arc<Mutex<Box<dyn Write + Send>>>;

/// Wraps a writer as console [`Output`].
pub fn output(writer: impl Write + Send + 'static) -> Output {
    Arc::new(Mutex::new(Box::new(writer)))
}

/// Writes `text` to `out` and flushes it.
pub fn write(out: &Output, text: &str) -> Result<(), SinkError> {
    let mut w = out
        .lock()
        .map_err(|_| SinkError("console output lock poisoned".into()))?;
    w.write_all(text.as_bytes())
        .and_then(|()| w.flush())
        .map_err(|e| SinkError(format!("cannot write to the console: {e}")))
}

/// Prints replies to the console.
pub struct ConsoleSink {
    format: Format,
    out: Output,
    next_id: AtomicU64,
}

impl ConsoleSink {
    /// A sink printing in `format` to `out`; the first message is `m1`.
    pub fn new(format: Format, out: Output) -> Self {
        ConsoleSink {
            format,
            out,
            next_id: AtomicU64::new(1),
        }
    }

    /// Prints a notice of the console's own (not a bot message).
    pub fn notice(&self, level: &str, text: &str, thread: Option<&str>) -> Result<(), SinkError> {
        write(
            &self.out,
            &Record::console(level, text, thread).render(self.format),
        )
    }

    /// The output this sink writes to.
    pub fn output(&self) -> &Output {
        &self.out
    }

    /// The format this sink prints in.
    pub fn format(&self) -> Format {
        self.format
    }
}

#[async_trait]
impl ReplySink for ConsoleSink {
    async fn post(
        &self,
        conversation: &Conversation,
        reply: &Reply,
    ) -> Result<MessageRef, SinkError> {
        let id = format!("m{}", self.next_id.fetch_add(1, Ordering::SeqCst));
        let record = Record::of_reply(reply, &id, conversation.thread.as_deref(), false);
        write(&self.out, &record.render(self.format))?;
        Ok(MessageRef {
            conversation: conversation.clone(),
            message_id: id,
        })
    }

    async fn update(&self, message: &MessageRef, reply: &Reply) -> Result<(), SinkError> {
        let thread = message.conversation.thread.as_deref();
        let record = Record::of_reply(reply, &message.message_id, thread, true);
        write(&self.out, &record.render(self.format))
    }
}
