//! A stand-in `Handler` for the demo until the command core's `Core` is wired: it answers every line by
//! repeating it, so the console → handler → sink path can be run and tested end to end.

use std::sync::Arc;

use async_trait::async_trait;
use mystocks_commands::reply::{Level, Reply, ReplyKind};
use mystocks_commands::{Handler, Invocation, ReplySink};

/// Replies with the text it was given, naming who said it.
#[derive(Debug, Default)]
pub struct EchoHandler;

#[async_trait]
impl Handler for EchoHandler {
    async fn handle(&self, invocation: Invocation, sink: Arc<dyn ReplySink>) {
        let reply = Reply::text(ReplyKind::Result, Level::Info, invocation.text.clone())
            .with_header(format!("echo from {}", invocation.actor.identity));
        if let Err(e) = sink.post(&invocation.conversation, &reply).await {
            tracing::warn!(error = %e, "echo reply not delivered");
        }
    }

    async fn settle(&self) {}
}
