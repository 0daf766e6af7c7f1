//! Socket Mode, the alternative to HTTP: a WebSocket from `apps.connections.open` (app-level token) whose
//! envelopes are decoded from their raw JSON by the same decoders as HTTP and go through the same front door — so
//! claims, filters and refusals behave the same. Typed envelope structs are not used: they drop fields the
//! workspace check needs (a Slack Connect sender's `user_team`).

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use secrecy::SecretString;
use serde_json::{Value, json};
use slack_morphism::prelude::*;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

use super::api::{ApiError, Connector, client, token};
use super::escape::mrkdwn;
use super::front::{Ack, SlackFront};
use super::inbound::{self, Inbound};

/// Acknowledgements waiting to be written; envelope handlers wait when it is full.
const ACK_QUEUE: usize = 64;

/// A running Socket Mode connection (reconnecting as Slack asks); stop it with [`SocketMode::shutdown`].
pub struct SocketMode {
    stop: watch::Sender<bool>,
    task: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl SocketMode {
    /// Connects to Slack (through `apps.connections.open` at `api_url`) and starts handling envelopes.
    pub async fn start(
        front: SlackFront,
        api_url: &str,
        app_token: &SecretString,
    ) -> Result<SocketMode, ApiError> {
        let opener = Opener {
            client: client(api_url)?,
            token: token(app_token),
        };
        let first = opener.connect().await?;
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(front, opener, first, stopped));
        Ok(SocketMode {
            stop,
            task: tokio::sync::Mutex::new(Some(task)),
        })
    }

    /// Closes the connection.
    pub async fn shutdown(&self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.lock().await.take() {
            let _ = task.await;
        }
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Opener {
    client: Arc<SlackClient<Connector>>,
    token: SlackApiToken,
}

impl Opener {
    async fn connect(&self) -> Result<Socket, ApiError> {
        let setup = |e: String| ApiError::Setup(format!("Socket Mode cannot connect: {e}"));
        let opened = self
            .client
            .open_session(&self.token)
            .apps_connections_open(&SlackApiAppsConnectionOpenRequest::new())
            .await
            .map_err(|e| setup(format!("apps.connections.open: {e}")))?;
        let (socket, _) = tokio_tungstenite::connect_async(opened.url.0.as_str())
            .await
            .map_err(|e| setup(format!("WebSocket: {e}")))?;
        Ok(socket)
    }
}

async fn run(front: SlackFront, opener: Opener, first: Socket, mut stopped: watch::Receiver<bool>) {
    let mut socket = Some(first);
    let mut backoff = Duration::from_secs(1);
    loop {
        if let Some(s) = socket.take() {
            serve(&front, s, &mut stopped).await;
            backoff = Duration::from_secs(1);
        }
        if *stopped.borrow() {
            return;
        }
        match opener.connect().await {
            Ok(s) => socket = Some(s),
            Err(err) => {
                tracing::warn!(error = %err, retry_in_s = backoff.as_secs(), "Socket Mode reconnect failed");
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    _ = stopped.changed() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
}

/// Serves one connection until Slack closes it, asks for a reconnect, or the bot stops.
async fn serve(front: &SlackFront, socket: Socket, stopped: &mut watch::Receiver<bool>) {
    let (mut write, mut read) = socket.split();
    let (acks, mut pending) = mpsc::channel::<String>(ACK_QUEUE);
    loop {
        tokio::select! {
            frame = read.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let Ok(envelope) = serde_json::from_str::<Value>(text.as_str()) else {
                        tracing::warn!("Socket Mode frame is not JSON; ignored");
                        continue;
                    };
                    if envelope["type"] == "disconnect" {
                        tracing::info!(reason = %envelope["reason"], "Slack asks for a new Socket Mode connection");
                        break;
                    }
                    let (front, acks) = (front.clone(), acks.clone());
                    tokio::spawn(async move {
                        if let Some(ack) = handle(&front, &envelope).await {
                            let _ = acks.send(ack.to_string()).await;
                        }
                    });
                }
                Some(Ok(Message::Close(_))) | None => break,
                Some(Ok(_)) => {}
                Some(Err(err)) => {
                    tracing::warn!(error = %err, "Socket Mode connection failed");
                    break;
                }
            },
            Some(ack) = pending.recv() => {
                if let Err(err) = write.send(Message::Text(ack.into())).await {
                    tracing::warn!(error = %err, "cannot acknowledge a Socket Mode envelope");
                    break;
                }
            }
            _ = stopped.changed() => break,
        }
    }
    let _ = write.close().await;
}

/// Handles one envelope; returns its acknowledgement (none for `hello` and unknown types).
async fn handle(front: &SlackFront, envelope: &Value) -> Option<Value> {
    let id = envelope["envelope_id"].as_str()?;
    let payload = &envelope["payload"];
    let answer = match envelope["type"].as_str() {
        Some("slash_commands") => match inbound::parse_command_value(payload) {
            Ok(command) => Some(command_response(front.command(command).await)),
            Err(e) => {
                tracing::warn!(error = %e, "malformed Socket Mode slash command");
                None
            }
        },
        Some("interactive") => {
            match inbound::parse_interaction_value(payload) {
                Ok(Inbound::Button(b)) => {
                    front.button(b).await;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "malformed Socket Mode interaction"),
            }
            None
        }
        Some("events_api") => {
            let bot = front.identity().bot_user_id.clone();
            match inbound::parse_event_value(payload, bot.as_deref()) {
                Ok(Inbound::Message(m)) => {
                    front.message(m).await;
                }
                Ok(Inbound::Reaction(r)) => {
                    front.reaction(r).await;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "malformed Socket Mode event"),
            }
            None
        }
        _ => return None,
    };
    Some(match answer {
        Some(payload) => json!({"envelope_id": id, "payload": payload}),
        None => json!({"envelope_id": id}),
    })
}

/// The acknowledgement payload of a slash command: what Slack shows, as the HTTP response would.
fn command_response(ack: Ack) -> Value {
    let response = match ack {
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
    };
    serde_json::to_value(response).unwrap_or_else(|_| json!({}))
}
