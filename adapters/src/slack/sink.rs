//! The Slack `ReplySink`: posts (public with `chat.postMessage`, private with `chat.postEphemeral`) and updates
//! (`chat.update`) from a `MessageRef` alone — channel and `ts` — so a stored job in any process can update a
//! message it did not post. Files go up after the message, in the same thread.

use std::sync::Arc;

use async_trait::async_trait;
use mystocks_commands::reply::{MessageRef, Reply, ReplySink, SinkError, Visibility};
use mystocks_commands::{Conversation, Identity};

use super::api::{ApiError, SlackApi};
use super::render::{Rendered, render};
use super::response_url::{self, ResponseUrls};

/// Message id given to ephemeral posts (Slack cannot update them by `ts`).
pub const EPHEMERAL_ID: &str = "ephemeral";
/// Message id given to posts through a response_url (they cannot be updated by `ts` either).
pub const RESPONSE_URL_ID: &str = "response_url";

/// Delivers replies to Slack.
#[derive(Clone, Debug)]
pub struct SlackSink {
    api: Arc<SlackApi>,
    response_urls: Arc<ResponseUrls>,
    http: reqwest::Client,
}

/// `slack:T1/C2` → (`T1`, `C2`).
pub fn split_channel(channel: &str) -> Option<(&str, &str)> {
    channel.strip_prefix("slack:")?.split_once('/')
}

/// `slack:T1/U2` → `U2`.
pub fn user_of(identity: &Identity) -> Option<&str> {
    identity
        .as_str()
        .strip_prefix("slack:")?
        .split_once('/')
        .map(|(_, u)| u)
}

/// The conversation id of a Slack channel: `slack:TEAM/CHANNEL`.
pub fn channel_id(team: &str, channel: &str) -> String {
    format!("slack:{team}/{channel}")
}

impl SlackSink {
    /// A sink over `api`.
    pub fn new(api: Arc<SlackApi>) -> Self {
        SlackSink {
            api,
            response_urls: Arc::default(),
            http: reqwest::Client::new(),
        }
    }

    /// Uses the response_urls the front door learns when the bot cannot post in a channel itself.
    pub fn with_response_urls(mut self, urls: Arc<ResponseUrls>) -> Self {
        self.response_urls = urls;
        self
    }

    /// Falls back to a response_url when Slack says the bot cannot post in the channel: for a private answer
    /// (`to` a person) only that person's own, for a public one the channel's latest.
    async fn fallback(
        &self,
        channel: &str,
        to: Option<&str>,
        rendered: &Rendered,
        err: ApiError,
    ) -> Result<String, SinkError> {
        let cannot_post = matches!(&err, ApiError::Refused { code, .. } if code == "not_in_channel" || code == "channel_not_found");
        let in_channel = to.is_none();
        let url = match to {
            Some(user) => self.response_urls.for_person(channel, user),
            None => self.response_urls.for_channel(channel),
        }
        .filter(|_| cannot_post);
        let Some(url) = url else {
            return Err(SinkError(err.to_string()));
        };
        let body = response_url::body(in_channel, &rendered.text, &rendered.blocks);
        response_url::post(&self.http, &url, &body)
            .await
            .map(|()| RESPONSE_URL_ID.to_string())
            .map_err(|e| {
                SinkError(format!(
                    "{err}; and through the command's response_url: {e}"
                ))
            })
    }

    async fn upload_files(
        &self,
        channel: &str,
        thread: Option<&str>,
        files: &[mystocks_commands::reply::Attachment],
    ) {
        for file in files {
            if let Err(e) = self
                .api
                .upload_file(
                    channel,
                    thread,
                    &file.filename,
                    &file.content_type,
                    file.content.as_bytes(),
                )
                .await
            {
                tracing::error!(error = %e, file = %file.filename, channel, "could not upload a file to Slack");
            }
        }
    }
}

fn not_slack(what: &str) -> SinkError {
    SinkError(format!(
        "{what} is not a Slack conversation (expected slack:TEAM/CHANNEL)"
    ))
}

#[async_trait]
impl ReplySink for SlackSink {
    async fn post(
        &self,
        conversation: &Conversation,
        reply: &Reply,
    ) -> Result<MessageRef, SinkError> {
        let (_, channel) =
            split_channel(&conversation.channel).ok_or_else(|| not_slack(&conversation.channel))?;
        let thread = conversation.thread.as_deref();
        let rendered = render(reply);
        let message_id = match &reply.visibility {
            Visibility::Private(identity) => {
                let user = user_of(identity).ok_or_else(|| {
                    SinkError(format!(
                        "{identity} is not a Slack user; cannot whisper to them"
                    ))
                })?;
                match self
                    .api
                    .post_ephemeral(channel, user, thread, &rendered.text, &rendered.blocks)
                    .await
                {
                    Ok(()) => EPHEMERAL_ID.to_string(),
                    Err(e) => self.fallback(channel, Some(user), &rendered, e).await?,
                }
            }
            Visibility::Public => match self
                .api
                .post_message(channel, thread, &rendered.text, &rendered.blocks)
                .await
            {
                Ok(ts) => ts,
                Err(e) => self.fallback(channel, None, &rendered, e).await?,
            },
        };
        self.upload_files(channel, thread, &rendered.files).await;
        Ok(MessageRef {
            conversation: conversation.clone(),
            message_id,
        })
    }

    async fn update(&self, message: &MessageRef, reply: &Reply) -> Result<(), SinkError> {
        let channel = &message.conversation.channel;
        let (_, channel) = split_channel(channel).ok_or_else(|| not_slack(channel))?;
        if [EPHEMERAL_ID, RESPONSE_URL_ID, super::ack::ACK_ID]
            .contains(&message.message_id.as_str())
        {
            // Ephemeral messages, response_url posts and answers in a slash command's response have no ts to
            // update: post the new state instead of losing it.
            return self.post(&message.conversation, reply).await.map(|_| ());
        }
        let rendered = render(reply);
        self.api
            .update(
                channel,
                &message.message_id,
                &rendered.text,
                &rendered.blocks,
            )
            .await
            .map_err(|e| SinkError(e.to_string()))
    }
}
