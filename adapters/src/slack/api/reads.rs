//! The Web API reads the bot makes: a user group's members (roles from groups) and one message by channel and
//! `ts` (the 📌 note). Same retry rules as the writes; reads are not paced (Slack paces posts, not reads).

use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;

use super::{ApiError, SlackApi};

/// One message, as much of it as the bot needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchedMessage {
    pub ts: String,
    /// The thread it is in (for a thread's first message, its own `ts`); none for a plain channel message.
    pub thread_ts: Option<String>,
    /// The author, when a person wrote it.
    pub user: Option<String>,
    /// Whether a bot (or an integration) wrote it.
    pub from_bot: bool,
    /// Its text as Slack stores it (entities `&lt;` `&gt;` `&amp;` still escaped).
    pub text: String,
}

impl SlackApi {
    /// `usergroups.users.list`: the ids of the users in `usergroup` (`S…`).
    pub async fn usergroup_members(&self, usergroup: &str) -> Result<Vec<String>, ApiError> {
        let req = SlackApiUserGroupsUsersListRequest::new(SlackUserGroupId(usergroup.to_string()));
        let mut attempt = 0;
        loop {
            match self
                .client
                .open_session(&self.token)
                .usergroups_users_list(&req)
                .await
            {
                Ok(answer) => return Ok(answer.users.into_iter().map(|u| u.0).collect()),
                Err(e) => {
                    self.after_failure("usergroups.users.list", e, &mut attempt)
                        .await?
                }
            }
        }
    }

    /// The message `ts` in `channel`, through `conversations.replies` (which finds thread replies as well as
    /// channel messages; `conversations.history` sees only the latter). `None` when Slack has no such message.
    pub async fn message(
        &self,
        channel: &str,
        ts: &str,
    ) -> Result<Option<FetchedMessage>, ApiError> {
        let mut req = SlackApiConversationsRepliesRequest::new(channel.into(), SlackTs(ts.into()));
        // Only the message itself: the time window is that one `ts` (Slack may add the thread's parent first).
        req.oldest = Some(SlackTs(ts.into()));
        req.latest = Some(SlackTs(ts.into()));
        req.inclusive = Some(true);
        req.limit = Some(2);
        let mut attempt = 0;
        let answer = loop {
            match self
                .client
                .open_session(&self.token)
                .conversations_replies(&req)
                .await
            {
                Ok(answer) => break answer,
                Err(SlackClientError::ApiError(e))
                    if e.code == "thread_not_found" || e.code == "message_not_found" =>
                {
                    return Ok(None);
                }
                Err(e) => {
                    self.after_failure("conversations.replies", e, &mut attempt)
                        .await?
                }
            }
        };
        Ok(answer
            .messages
            .into_iter()
            .find(|m| m.origin.ts.0 == ts)
            .map(|m| FetchedMessage {
                ts: m.origin.ts.0,
                thread_ts: m.origin.thread_ts.map(|t| t.0),
                user: m.sender.user.map(|u| u.0),
                from_bot: m.sender.bot_id.is_some()
                    || m.sender.bot_profile.is_some()
                    || m.subtype == Some(SlackMessageEventType::BotMessage),
                text: m.content.text.unwrap_or_default(),
            }))
    }
}
