//! Socket Mode, the alternative to HTTP: slack-morphism opens a WebSocket from `apps.connections.open` with the
//! app-level token and hands each envelope to these callbacks, which go through the same front door (and the
//! same decoders) as HTTP — so claims, filters and refusals behave the same.

use std::sync::Arc;

use secrecy::SecretString;
use slack_morphism::prelude::*;

use super::api::{ApiError, Connector, client, token};
use super::escape::mrkdwn;
use super::front::{Ack, SlackFront};
use super::inbound::{self, Inbound, SlashCommand};

/// A running Socket Mode connection; stop it with [`SocketMode::shutdown`].
pub struct SocketMode {
    listener: SlackClientSocketModeListener<Connector>,
}

impl SocketMode {
    /// Connects to Slack (through `apps.connections.open` at `api_url`) and starts handling envelopes.
    pub async fn start(
        front: SlackFront,
        api_url: &str,
        app_token: &SecretString,
    ) -> Result<SocketMode, ApiError> {
        let env = Arc::new(
            SlackClientEventsListenerEnvironment::new(client(api_url)?)
                .with_error_handler(on_error)
                .with_user_state(front),
        );
        let callbacks = SlackSocketModeListenerCallbacks::new()
            .with_command_events(on_command)
            .with_interaction_events(on_interaction)
            .with_push_events(on_push);
        let config = SlackClientSocketModeConfig::new()
            .with_max_connections_count(1)
            .with_initial_backoff_in_seconds(1);
        let listener = SlackClientSocketModeListener::new(&config, env, callbacks);
        listener.listen_for(&token(app_token)).await.map_err(|e| {
            ApiError::Setup(format!(
                "Socket Mode cannot connect (apps.connections.open): {e}"
            ))
        })?;
        listener.start().await;
        Ok(SocketMode { listener })
    }

    /// Closes the connection.
    pub async fn shutdown(&self) {
        self.listener.shutdown().await;
    }
}

fn on_error(
    err: Box<dyn std::error::Error + Send + Sync>,
    _client: Arc<SlackClient<Connector>>,
    _state: SlackClientEventsUserState,
) -> HttpStatusCode {
    tracing::warn!(error = %err, "Socket Mode envelope could not be handled");
    HttpStatusCode::OK
}

async fn front_of(state: &SlackClientEventsUserState) -> Option<SlackFront> {
    state.read().await.get_user_state::<SlackFront>().cloned()
}

async fn on_command(
    ev: SlackCommandEvent,
    _client: Arc<SlackClient<Connector>>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<SlackCommandEventResponse> {
    let Some(front) = front_of(&state).await else {
        return Ok(SlackCommandEventResponse::new(SlackMessageContent::new()));
    };
    let command = SlashCommand {
        team_id: ev.team_id.0,
        api_app_id: None,
        channel_id: ev.channel_id.0,
        user_id: ev.user_id.0,
        user_name: String::new(),
        command: ev.command.0,
        text: inbound::unescape(ev.text.as_deref().unwrap_or("")),
        response_url: Some(ev.response_url.0.to_string()),
        trigger_id: ev.trigger_id.0.clone(),
    };
    let ack = front.command(command).await;
    Ok(match ack {
        Ack::Accepted => SlackCommandEventResponse::new(SlackMessageContent::new())
            .with_response_type(SlackMessageResponseType::InChannel),
        Ack::Working => SlackCommandEventResponse::new(
            SlackMessageContent::new().with_text(mrkdwn(super::ack::WORKING)),
        )
        .with_response_type(SlackMessageResponseType::InChannel),
        Ack::Answered(answer) => {
            let kind = if answer.in_channel {
                SlackMessageResponseType::InChannel
            } else {
                SlackMessageResponseType::Ephemeral
            };
            SlackCommandEventResponse::new(super::api::content(&answer.text, &answer.blocks))
                .with_response_type(kind)
        }
        Ack::Refused(text) => {
            SlackCommandEventResponse::new(SlackMessageContent::new().with_text(mrkdwn(&text)))
                .with_response_type(SlackMessageResponseType::Ephemeral)
        }
        Ack::Busy => SlackCommandEventResponse::new(
            SlackMessageContent::new().with_text(mrkdwn(crate::in_flight::BUSY)),
        )
        .with_response_type(SlackMessageResponseType::Ephemeral),
        _ => SlackCommandEventResponse::new(SlackMessageContent::new()),
    })
}

async fn on_interaction(
    ev: SlackInteractionEvent,
    _client: Arc<SlackClient<Connector>>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    let Some(front) = front_of(&state).await else {
        return Ok(());
    };
    let value = serde_json::to_value(&ev)?;
    match inbound::parse_interaction_value(&value) {
        Ok(Inbound::Button(b)) => {
            front.button(b).await;
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "malformed Socket Mode interaction"),
    }
    Ok(())
}

async fn on_push(
    ev: SlackPushEventCallback,
    _client: Arc<SlackClient<Connector>>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    let Some(front) = front_of(&state).await else {
        return Ok(());
    };
    let mut value = serde_json::to_value(&ev)?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert("type".into(), "event_callback".into());
    }
    let bot = front.identity().bot_user_id.clone();
    match inbound::parse_event_value(&value, bot.as_deref()) {
        Ok(Inbound::Message(m)) => {
            front.message(m).await;
        }
        Ok(Inbound::Reaction(r)) => {
            front.reaction(r).await;
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "malformed Socket Mode event"),
    }
    Ok(())
}
