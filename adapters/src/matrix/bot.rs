//! The bot's sync loop: one `/sync` at a time from the position kept in the store; invitations to allowed rooms
//! accepted (others declined); commands and votes from allowed homeservers handed to the core (which claims each
//! event once, in the store), each in a task of its own holding a permit (none free: a "busy" notice) that the
//! loop waits for — so events are handled in order, and a cancelled loop never cuts one short; the position
//! saved only after the events it covers were handled, so a restart neither loses nor repeats.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use matrix_sdk::config::SyncSettings;
use matrix_sdk::deserialized_responses::{TimelineEvent, TimelineEventKind};
use matrix_sdk::ruma::RoomId;
use matrix_sdk::ruma::events::AnySyncTimelineEvent;
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::sync::SyncResponse;
use matrix_sdk::{Client, Room};
use mystocks_commands::clock::Clock;
use mystocks_commands::engine::delivery_key;
use mystocks_commands::reply::{Level, ReplyKind};
use mystocks_commands::store::Store;
use mystocks_commands::{
    Actor, Addressing, Conversation, Handler, Identity, Invocation, Reply, ReplySink, grammar,
};

use super::approvals::{RequestMessage, request_of};
use super::config::MatrixConfig;
use super::inbound::{Inbound, InboundKind, classify};
use super::offline::{is_change, offline_notice};
use super::sink::{MatrixSink, PLATFORM};
use super::{MatrixError, gap, pins, session};
use crate::in_flight::{DEFAULT_MAX_IN_FLIGHT, InFlight};

/// The Matrix side of the bot: a logged-in client, its sink, and the loop that feeds the core.
pub struct MatrixBot {
    client: Client,
    config: Arc<MatrixConfig>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    sink: Arc<MatrixSink>,
    in_flight: Arc<InFlight>,
}

impl MatrixBot {
    /// Logs in (or restores the saved session: the same device) and prepares the sink. `store` keeps the sync
    /// position, claimed events and request messages; `clock` decides which offline commands are too old.
    pub async fn connect(
        config: MatrixConfig,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<MatrixBot, MatrixError> {
        let client = session::connect(&config).await?;
        let sink = Arc::new(MatrixSink::new(
            client.clone(),
            store.clone(),
            config.edit_interval,
        ));
        Ok(MatrixBot {
            client,
            config: Arc::new(config),
            store,
            clock,
            sink,
            in_flight: InFlight::new(DEFAULT_MAX_IN_FLIGHT),
        })
    }

    /// Bounds the deliveries handled at once by `gate` (shared with the other adapters; the bot's graceful stop
    /// waits for it).
    pub fn with_in_flight(mut self, gate: Arc<InFlight>) -> Self {
        self.in_flight = gate;
        self
    }

    /// The sink to register with the core (`Core::register_sink("matrix", bot.sink())`).
    pub fn sink(&self) -> Arc<MatrixSink> {
        self.sink.clone()
    }

    /// The underlying client (tests inspect devices and rooms through it).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The bot's device id.
    pub fn device_id(&self) -> Option<String> {
        self.client.device_id().map(|d| d.to_string())
    }

    fn sync_key(&self) -> String {
        format!("matrix:sync-token:{}", self.config.user_id)
    }

    /// Syncs and hands commands to `handler` until `shutdown` completes; then waits for queued edits. Returns an
    /// error only when going on is pointless (the homeserver refuses the session).
    pub async fn run(
        &self,
        handler: Arc<dyn Handler>,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), MatrixError> {
        let mut shutdown = std::pin::pin!(shutdown);
        let key = self.sync_key();
        let mut token = self
            .store
            .get_value(&key)
            .await
            .map_err(|e| MatrixError::Sync(format!("cannot read the sync position: {e}")))?;
        let mut backoff = Duration::from_millis(500);
        loop {
            let mut settings = SyncSettings::default()
                .timeout(self.config.sync_timeout)
                .filter(gap::sync_filter());
            if let Some(t) = &token {
                settings = settings.token(t.clone());
            }
            let response = tokio::select! {
                r = self.client.sync_once(settings) => r,
                () = &mut shutdown => break,
            };
            match response {
                Ok(response) => {
                    // With no position yet (first start ever), history is not answered: only invitations count.
                    self.process(&response, token.as_deref(), &handler).await;
                    if let Err(err) = self.store.put_value(&key, &response.next_batch).await {
                        tracing::warn!(error = %err, "could not save the sync position; a restart may see events again (claims stop repeats)");
                    }
                    token = Some(response.next_batch);
                    backoff = Duration::from_millis(500);
                }
                Err(err) => {
                    if let Some(kind) = err.client_api_error_kind()
                        && matches!(
                            kind,
                            matrix_sdk::ruma::api::error::ErrorKind::UnknownToken { .. }
                        )
                    {
                        return Err(MatrixError::Session(format!(
                            "the homeserver no longer accepts the bot's access token ({err}); delete {} to log in again (a new device)",
                            session::session_path(&self.config).display()
                        )));
                    }
                    tracing::warn!(error = %err, retry_in_ms = backoff.as_millis() as u64, "Matrix sync failed");
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        () = &mut shutdown => break,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
        }
        self.sink.flush().await;
        Ok(())
    }

    /// Handles one sync response; `since` is the position it continues from (none on the very first start).
    async fn process(
        &self,
        response: &SyncResponse,
        since: Option<&str>,
        handler: &Arc<dyn Handler>,
    ) {
        for room_id in response.rooms.invited.keys() {
            let Some(room) = self.client.get_room(room_id) else {
                continue;
            };
            self.answer_invite(&room).await;
        }
        let Some(since) = since else { return };
        for (room_id, update) in &response.rooms.joined {
            if !self.config.room_allowed(room_id.as_str()) {
                continue;
            }
            let Some(room) = self.client.get_room(room_id) else {
                continue;
            };
            if update.timeline.limited
                && let Some(prev_batch) = &update.timeline.prev_batch
            {
                for event in gap::missing_events(&room, prev_batch, since).await {
                    self.handle_event(&room, &event, handler).await;
                }
            }
            for event in &update.timeline.events {
                self.handle_event(&room, event, handler).await;
            }
        }
    }

    /// Handles one event of the allowed room `room_id` as if a sync had just brought it. The sync loop is the
    /// only caller in the bot; tests use this for events another homeserver may send over federation but the
    /// local test homeserver refuses to create (a relation to another room's event).
    #[doc(hidden)]
    pub async fn handle_delivered(
        &self,
        room_id: &RoomId,
        event: Raw<AnySyncTimelineEvent>,
        handler: &Arc<dyn Handler>,
    ) {
        if !self.config.room_allowed(room_id.as_str()) {
            return;
        }
        let Some(room) = self.client.get_room(room_id) else {
            return;
        };
        self.handle_event(&room, &TimelineEvent::from_plaintext(event), handler)
            .await;
    }

    async fn answer_invite(&self, room: &Room) {
        let room_id = room.room_id().to_string();
        if self.config.room_allowed(&room_id) {
            match room.join().await {
                Ok(()) => tracing::info!(room = %room_id, "joined an allowed room"),
                Err(err) => {
                    tracing::warn!(room = %room_id, error = %err, "could not join an allowed room")
                }
            }
        } else {
            tracing::info!(room = %room_id, "declining an invitation to a room that is not allowed");
            if let Err(err) = room.leave().await {
                tracing::warn!(room = %room_id, error = %err, "could not decline an invitation");
            }
        }
    }

    async fn handle_event(&self, room: &Room, event: &TimelineEvent, handler: &Arc<dyn Handler>) {
        if let TimelineEventKind::UnableToDecrypt { utd_info, .. } = &event.kind {
            tracing::warn!(room = %room.room_id(), event = ?event.event_id(), reason = ?utd_info.reason, "cannot decrypt an event; ignored");
            return;
        }
        let Ok(parsed) = event.raw().deserialize() else {
            return;
        };
        if Some(parsed.sender()) == self.client.user_id() {
            return;
        }
        if !self
            .config
            .server_allowed(parsed.sender().server_name().as_str())
        {
            tracing::debug!(sender = %parsed.sender(), "sender's homeserver is not allowed; ignored");
            return;
        }
        let Some(inbound) = classify(&parsed) else {
            return;
        };
        // A note is harmless however late it comes; changes that arrived while offline are not run late.
        let late_is_fine = matches!(inbound.what, InboundKind::Pin { .. });
        let Some(invocation) = self.invocation(room, &parsed, inbound).await else {
            return;
        };
        let sink: Arc<dyn ReplySink> = self.sink.clone();
        let age = self.clock.now() - invocation.received_at;
        if !late_is_fine
            && is_change(&invocation.text)
            && age
                .to_std()
                .is_ok_and(|age| age > self.config.offline_max_age)
        {
            if self.claim(&invocation.event_id).await {
                let reply = offline_notice(&invocation);
                if let Err(err) = sink.post(&invocation.conversation, &reply).await {
                    tracing::warn!(error = %err, "could not answer an old command");
                }
            }
            return;
        }
        let admission = match self.in_flight.admit(PLATFORM, &invocation.event_id) {
            Ok(admission) => admission,
            Err(busy) => {
                let reply = notice(busy.to_string(), &invocation.actor.identity);
                if let Err(err) = sink.post(&invocation.conversation, &reply).await {
                    tracing::warn!(error = %err, "could not say the bot is busy");
                }
                return;
            }
        };
        let handler = handler.clone();
        let handling = admission.spawn(async move { handler.handle(invocation, sink).await });
        if let Err(err) = handling.await {
            tracing::error!(error = %err, "the handling of a Matrix event failed");
        }
    }

    /// The invocation an inbound event stands for: a vote only on a known request message; a plain thread
    /// message only in a war room and when it starts with a command name; a pin only on a message of a war room.
    async fn invocation(
        &self,
        room: &Room,
        event: &AnySyncTimelineEvent,
        inbound: Inbound,
    ) -> Option<Invocation> {
        let channel = format!("{PLATFORM}:{}", room.room_id());
        let mut event_id = format!("{PLATFORM}:{}", inbound.event_id);
        let (conversation, addressing, text) = match inbound.what {
            InboundKind::Command { text, thread } => {
                (Conversation { channel, thread }, Addressing::Direct, text)
            }
            InboundKind::ThreadMessage { text, thread } => {
                let conversation = Conversation {
                    channel,
                    thread: Some(thread),
                };
                let addressed = grammar::parse_addressed(Addressing::ThreadMessage, &text, true);
                if addressed.is_none() || !self.is_war_room(&conversation).await {
                    return None;
                }
                (conversation, Addressing::ThreadMessage, text)
            }
            InboundKind::Reaction { target, vote } => {
                let request = request_of(self.store.as_ref(), &target).await?;
                (
                    reaction_conversation(channel, &request),
                    Addressing::Action,
                    vote.command(&request.approval_id),
                )
            }
            InboundKind::Pin { target } => {
                let message = pins::pinned(room, &target).await?;
                let conversation = Conversation {
                    channel,
                    thread: Some(message.thread_root),
                };
                if !self.is_war_room(&conversation).await {
                    return None;
                }
                // One note per message, whoever pins it and however often.
                event_id = format!("{PLATFORM}:pin:{target}");
                (
                    conversation,
                    Addressing::Action,
                    pins::note_command(&message.text)?,
                )
            }
        };
        let sender = event.sender();
        let display_name = match room.get_member_no_sync(sender).await {
            Ok(Some(member)) => member
                .display_name()
                .unwrap_or(sender.localpart())
                .to_string(),
            _ => sender.localpart().to_string(),
        };
        Some(Invocation {
            event_id,
            actor: Actor {
                identity: Identity::new(PLATFORM, sender.as_str()),
                display_name,
            },
            conversation,
            addressing,
            text,
            received_at: inbound.at,
        })
    }

    /// Whether the conversation is an incident's war-room thread.
    async fn is_war_room(&self, conversation: &Conversation) -> bool {
        let Some(thread) = conversation.thread.as_deref() else {
            return false;
        };
        match self
            .store
            .incident_in_thread(&conversation.channel, thread)
            .await
        {
            Ok(found) => found.is_some(),
            Err(err) => {
                tracing::warn!(error = %err, "cannot tell whether a thread is a war room; message ignored");
                false
            }
        }
    }

    /// Claims an event the core is not handed (an old change, answered with a notice) under the key the core
    /// would claim it under, so neither a duplicate nor a replay after a restart answers it twice. A store that
    /// does not answer lets the notice through: it changes nothing.
    async fn claim(&self, event_id: &str) -> bool {
        match self
            .store
            .claim_event(&delivery_key(event_id), self.clock.now())
            .await
        {
            Ok(won) => won,
            Err(err) => {
                tracing::warn!(error = %err, event = event_id, "cannot claim the event in the store");
                true
            }
        }
    }
}

/// Where a vote by reaction was cast: the room it arrived in (`channel`), and — since a reaction belongs to the
/// thread of the message it is on — the request's thread when that message is in this room. The core counts a
/// vote only in the request's own conversation, so a reaction relating to the request from another room (which
/// another homeserver may send) is refused there, never counted.
fn reaction_conversation(channel: String, request: &RequestMessage) -> Conversation {
    let thread = (request.conversation.channel == channel)
        .then(|| request.conversation.thread.clone())
        .flatten();
    Conversation { channel, thread }
}

/// A notice for the person, in the conversation (Matrix has no private replies in a room).
pub(super) fn notice(text: String, to: &Identity) -> Reply {
    Reply::text(ReplyKind::Refusal, Level::Warn, text).private_to(to.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(thread: Option<&str>) -> RequestMessage {
        RequestMessage {
            approval_id: "A1".into(),
            conversation: Conversation {
                channel: "matrix:!a:hs".into(),
                thread: thread.map(str::to_string),
            },
        }
    }

    #[test]
    fn a_reaction_votes_from_the_room_it_arrived_in() {
        let here = reaction_conversation("matrix:!a:hs".into(), &request(Some("$root")));
        assert_eq!(here, request(Some("$root")).conversation);
        let elsewhere = reaction_conversation("matrix:!b:hs".into(), &request(Some("$root")));
        assert_eq!(elsewhere.channel, "matrix:!b:hs");
        assert_eq!(elsewhere.thread, None);
        assert_ne!(elsewhere, request(Some("$root")).conversation);
    }
}
