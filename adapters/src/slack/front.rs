//! The Slack front door, shared by HTTP and Socket Mode: checks the workspace and app, claims the delivery once
//! through the coordinator, turns it into an `Invocation` and hands it to the core in a task. It returns at once
//! with the acknowledgement, so Slack always hears back within its 3 seconds.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use mystocks_commands::coordinator::Coordinator;
use mystocks_commands::{
    Actor, Addressing, Conversation, Handler, Identity, Invocation, ReplySink,
};

use super::inbound::{ButtonPress, MessageEvent, MessageKind, SlashCommand};
use super::response_url::ResponseUrls;
use super::sink::channel_id;

/// Who the bot is on Slack: requests for another workspace or app are refused.
#[derive(Clone, Debug)]
pub struct SlackIdentity {
    /// The workspace (`T…`) the bot serves.
    pub team_id: String,
    /// The app (`A…`); when set, requests naming another app are refused.
    pub api_app_id: Option<String>,
    /// The bot's user id (`U…`), to strip mentions and ignore its own messages.
    pub bot_user_id: Option<String>,
    /// How long a delivery stays claimed (Slack retries within minutes; replays are stale after 5).
    pub claim_ttl: Duration,
}

/// What to answer Slack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ack {
    /// Taken: the work goes on in a task. For a slash command, shows the command in the channel.
    Accepted,
    /// Already claimed (a retry, a repeated event or a replayed capture): nothing runs.
    Duplicate,
    /// Understood and not acted on (bots, edits, other event types).
    Ignored,
    /// Refused, with a sentence for the person (another workspace, a Slack Connect outsider).
    Refused(String),
    /// A request naming another app (403).
    ForeignApp,
}

/// The shared front door.
#[derive(Clone)]
pub struct SlackFront {
    identity: SlackIdentity,
    coordinator: Arc<dyn Coordinator>,
    handler: Arc<dyn Handler>,
    sink: Arc<dyn ReplySink>,
    response_urls: Option<Arc<ResponseUrls>>,
}

impl SlackFront {
    /// A front handing invocations to `handler`, replying through `sink`, claiming through `coordinator`.
    pub fn new(
        identity: SlackIdentity,
        coordinator: Arc<dyn Coordinator>,
        handler: Arc<dyn Handler>,
        sink: Arc<dyn ReplySink>,
    ) -> Self {
        SlackFront {
            identity,
            coordinator,
            handler,
            sink,
            response_urls: None,
        }
    }

    /// Remembers each slash command's response_url here (the sink's fallback for channels it cannot post in).
    pub fn with_response_urls(mut self, urls: Arc<ResponseUrls>) -> Self {
        self.response_urls = Some(urls);
        self
    }

    /// The bot's Slack identity.
    pub fn identity(&self) -> &SlackIdentity {
        &self.identity
    }

    fn app_ok(&self, api_app_id: Option<&str>) -> bool {
        match (&self.identity.api_app_id, api_app_id) {
            (Some(ours), Some(theirs)) => ours == theirs,
            _ => true,
        }
    }

    fn outsider(&self, team: &str) -> Option<Ack> {
        (team != self.identity.team_id).then(|| {
            Ack::Refused(format!(
                "this bot only takes commands from its own workspace ({}); ask someone there",
                self.identity.team_id
            ))
        })
    }

    /// Claims `key` once; a coordinator outage lets the delivery through (the core's own claim falls back to
    /// the store, so it still runs at most once).
    async fn claim(&self, key: &str) -> bool {
        match self
            .coordinator
            .claim(&format!("slack:{key}"), self.identity.claim_ttl)
            .await
        {
            Ok(won) => won,
            Err(e) => {
                tracing::warn!(error = %e, "coordinator unavailable; relying on the core's claim");
                true
            }
        }
    }

    fn hand_off(&self, invocation: Invocation) {
        let (handler, sink) = (self.handler.clone(), self.sink.clone());
        tokio::spawn(async move { handler.handle(invocation, sink).await });
    }

    fn actor(&self, team: &str, user: &str, name: &str) -> Actor {
        let display = if name.is_empty() {
            user.to_string()
        } else {
            name.to_string()
        };
        Actor {
            identity: Identity::new("slack", &format!("{team}/{user}")),
            display_name: display,
        }
    }

    /// A slash command; `claim_key` is the request's signature (HTTP) or trigger id (Socket Mode).
    pub async fn command(&self, c: SlashCommand, claim_key: &str) -> Ack {
        if !self.app_ok(c.api_app_id.as_deref()) {
            return Ack::ForeignApp;
        }
        if let Some(refusal) = self.outsider(&c.team_id) {
            return refusal;
        }
        if !self.claim(&format!("cmd:{claim_key}")).await {
            return Ack::Duplicate;
        }
        if let (Some(urls), Some(url)) = (&self.response_urls, &c.response_url) {
            urls.remember(&c.channel_id, url);
        }
        let invocation = Invocation {
            event_id: format!("slack:{}:cmd:{}", c.team_id, c.trigger_id),
            actor: self.actor(&c.team_id, &c.user_id, &c.user_name),
            conversation: Conversation {
                channel: channel_id(&c.team_id, &c.channel_id),
                thread: None,
            },
            addressing: Addressing::Direct,
            text: c.text,
            received_at: Utc::now(),
        };
        self.hand_off(invocation);
        Ack::Accepted
    }

    /// A mention or thread message from the Events API.
    pub async fn message(&self, m: MessageEvent) -> Ack {
        if !self.app_ok(m.api_app_id.as_deref()) {
            return Ack::ForeignApp;
        }
        if m.team_id != self.identity.team_id || m.user_team != self.identity.team_id {
            tracing::info!(team = %m.team_id, user_team = %m.user_team, "ignoring a message from another workspace");
            return Ack::Ignored;
        }
        if !self.claim(&format!("event:{}", m.event_id)).await {
            return Ack::Duplicate;
        }
        let addressing = match m.kind {
            MessageKind::Mention => Addressing::Mention,
            MessageKind::ThreadMessage => Addressing::ThreadMessage,
        };
        // A mention at the top level starts a thread under it; in a thread, the answer stays in that thread.
        let thread = m.thread_ts.clone().or_else(|| Some(m.ts.clone()));
        let invocation = Invocation {
            event_id: format!("slack:{}:event:{}", m.team_id, m.event_id),
            actor: self.actor(&m.team_id, &m.user_id, ""),
            conversation: Conversation {
                channel: channel_id(&m.team_id, &m.channel_id),
                thread,
            },
            addressing,
            text: m.text,
            received_at: Utc::now(),
        };
        self.hand_off(invocation);
        Ack::Accepted
    }

    /// A button press; `claim_key` is the request's signature (HTTP) or trigger id (Socket Mode).
    pub async fn button(&self, b: ButtonPress, claim_key: &str) -> Ack {
        if !self.app_ok(b.api_app_id.as_deref()) {
            return Ack::ForeignApp;
        }
        if let Some(refusal) = self
            .outsider(&b.team_id)
            .or_else(|| self.outsider(&b.user_team))
        {
            return refusal;
        }
        if !self.claim(&format!("action:{claim_key}")).await {
            return Ack::Duplicate;
        }
        let invocation = Invocation {
            event_id: format!("slack:{}:action:{}", b.team_id, b.trigger_id),
            actor: self.actor(&b.team_id, &b.user_id, &b.user_name),
            // Results follow where the button's message is (its thread, if any): the core decides an approval
            // only in the conversation it was requested in.
            conversation: Conversation {
                channel: channel_id(&b.team_id, &b.channel_id),
                thread: b.thread_ts.clone(),
            },
            addressing: Addressing::Action,
            text: b.value,
            received_at: Utc::now(),
        };
        self.hand_off(invocation);
        Ack::Accepted
    }
}

#[cfg(test)]
#[path = "front_tests.rs"]
mod tests;
