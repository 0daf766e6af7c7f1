//! The Slack front door, shared by HTTP and Socket Mode: checks the workspace and app, takes a permit for the
//! delivery (none free: "busy" at once, see [`crate::in_flight`]), turns it into an `Invocation` and hands it to
//! the core in a task of its own (after refreshing expired user-group memberships, when roles come from groups).
//! The core claims the delivery once, durably, before anything runs — the front claims nothing, so a slow store
//! never holds the acknowledgement. It returns with the acknowledgement at once — or, for a slash command, within
//! a short budget with the answer itself when it is ready (see [`super::ack`]) — so Slack always hears back within
//! its 3 seconds; the handling goes on whether or not the connection that brought it stays open.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use mystocks_commands::{
    Actor, Addressing, Conversation, Handler, Identity, Invocation, ReplySink,
};

use super::ack::{self, AckAnswer, AckSink, AckSlot, Waited};
use super::inbound::{ButtonPress, MessageEvent, MessageKind, ReactionEvent, SlashCommand};
use super::pins::{self, MessageLookup};
use super::response_url::ResponseUrls;
use super::sink::channel_id;
use super::usergroups::UsergroupRoles;
use crate::in_flight::{Admission, DEFAULT_MAX_IN_FLIGHT, InFlight};

/// Who the bot is on Slack: requests for another workspace or app are refused.
#[derive(Clone, Debug)]
pub struct SlackIdentity {
    /// The workspace (`T…`) the bot serves.
    pub team_id: String,
    /// Enterprise Grid: the organisation (`E…`) the bot is installed in. When set, only requests naming it are
    /// taken, from `team_id` and `workspaces`, and people are known as `slack:E…/U…` (user ids are the same in
    /// every workspace of an organisation).
    pub enterprise_id: Option<String>,
    /// Enterprise Grid: the organisation's other workspaces (`T…`) the bot serves besides `team_id`.
    pub workspaces: Vec<String>,
    /// The app (`A…`); when set, requests naming another app are refused.
    pub api_app_id: Option<String>,
    /// The bot's user id (`U…`), to strip mentions and ignore its own messages.
    pub bot_user_id: Option<String>,
}

/// What to answer Slack.
#[derive(Clone, Debug, PartialEq)]
pub enum Ack {
    /// Taken: the work goes on in a task. For a slash command, shows the command in the channel.
    Accepted,
    /// A slash command whose answer was ready within the budget: the response carries it (it is not posted).
    Answered(AckAnswer),
    /// A slash command whose answer was not ready within the budget: "working on it", the answer follows.
    Working,
    /// Too many deliveries in flight: nothing runs, the person is told to try again
    /// ([`crate::in_flight::BUSY`]).
    Busy,
    /// Understood and not acted on (bots, edits, other event types; a slash command the core dropped as a
    /// duplicate).
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
    handler: Arc<dyn Handler>,
    sink: Arc<dyn ReplySink>,
    response_urls: Option<Arc<ResponseUrls>>,
    usergroups: Option<Arc<UsergroupRoles>>,
    messages: Option<Arc<dyn MessageLookup>>,
    ack_wait: Duration,
    in_flight: Arc<InFlight>,
}

impl SlackFront {
    /// A front handing invocations to `handler` (which claims each delivery), replying through `sink`.
    pub fn new(
        identity: SlackIdentity,
        handler: Arc<dyn Handler>,
        sink: Arc<dyn ReplySink>,
    ) -> Self {
        SlackFront {
            identity,
            handler,
            sink,
            response_urls: None,
            usergroups: None,
            messages: None,
            ack_wait: Duration::ZERO,
            in_flight: InFlight::new(DEFAULT_MAX_IN_FLIGHT),
        }
    }

    /// Bounds the deliveries handled at once by `gate` (shared with the other adapters; the bot's graceful stop
    /// waits for it).
    pub fn with_in_flight(mut self, gate: Arc<InFlight>) -> Self {
        self.in_flight = gate;
        self
    }

    /// Refreshes expired user-group memberships before each hand-off (roles from groups).
    pub fn with_usergroups(mut self, groups: Arc<UsergroupRoles>) -> Self {
        self.usergroups = Some(groups);
        self
    }

    /// Reads pinned messages here, so a 📌 in an incident thread becomes a note (without it, 📌 is ignored).
    pub fn with_messages(mut self, messages: Arc<dyn MessageLookup>) -> Self {
        self.messages = Some(messages);
        self
    }

    /// Lets a slash command's response wait up to `budget` for its answer (zero: acknowledge at once).
    pub fn with_ack_wait(mut self, budget: Duration) -> Self {
        self.ack_wait = budget;
        self
    }

    /// Remembers each slash command's and button press's response_url here, per person (the sink's fallback for
    /// channels it cannot post in).
    pub fn with_response_urls(mut self, urls: Arc<ResponseUrls>) -> Self {
        self.response_urls = Some(urls);
        self
    }

    /// The bot's Slack identity.
    pub fn identity(&self) -> &SlackIdentity {
        &self.identity
    }

    fn remember_response_url(&self, channel: &str, user: &str, url: Option<&str>) {
        if let (Some(urls), Some(url)) = (&self.response_urls, url) {
            urls.remember(channel, user, url);
        }
    }

    fn app_ok(&self, api_app_id: Option<&str>) -> bool {
        match (&self.identity.api_app_id, api_app_id) {
            (Some(ours), Some(theirs)) => ours == theirs,
            _ => true,
        }
    }

    /// A refusal when the request is not from the bot's own workspaces: `team` is the workspace it came from,
    /// `user_team` the acting person's own workspace (a Slack Connect outsider's differs), `enterprise` the
    /// organisation it names.
    fn outsider(&self, team: &str, user_team: &str, enterprise: Option<&str>) -> Option<Ack> {
        let id = &self.identity;
        let serves = |t: &str| t == id.team_id || id.workspaces.iter().any(|w| w == t);
        let enterprise_ok = id
            .enterprise_id
            .as_deref()
            .is_none_or(|ours| enterprise == Some(ours));
        if enterprise_ok && serves(team) && serves(user_team) {
            return None;
        }
        tracing::info!(%team, %user_team, ?enterprise, "refusing a request from outside the bot's workspaces");
        Some(Ack::Refused(match &id.enterprise_id {
            Some(org) => format!(
                "this bot only takes commands from its own workspaces ({}) of organisation {org}; ask someone there",
                std::iter::once(id.team_id.as_str())
                    .chain(id.workspaces.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => format!(
                "this bot only takes commands from its own workspace ({}); ask someone there",
                id.team_id
            ),
        }))
    }

    /// A permit for one delivery, or `Ack::Busy` (logged and counted by the gate).
    fn admit(&self, delivery: &str) -> Result<Admission, Ack> {
        self.in_flight
            .admit("slack", delivery)
            .map_err(|_| Ack::Busy)
    }

    /// Runs `invocation` in a task of its own holding `admission`, replying through the front's sink.
    fn hand_off(&self, admission: Admission, invocation: Invocation) {
        drop(admission.spawn(self.work(invocation, self.sink.clone(), None)));
    }

    /// The handling of `invocation`: refresh expired user groups, then the core. `slot` (a slash command's answer
    /// slot) is closed when the core is done with it, so the response stops waiting even when there was nothing
    /// to answer.
    fn work(
        &self,
        invocation: Invocation,
        sink: Arc<dyn ReplySink>,
        slot: Option<Arc<AckSlot>>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let (handler, groups) = (self.handler.clone(), self.usergroups.clone());
        async move {
            if let Some(groups) = groups {
                groups.refresh().await;
            }
            handler.handle(invocation, sink).await;
            if let Some(slot) = slot {
                drop(slot.close());
            }
        }
    }

    /// What people and conversations are named under: the organisation when the bot serves one (user and channel
    /// ids are unique across an organisation's workspaces, and a channel may be shared between them), else the
    /// workspace.
    fn home<'a>(&'a self, team: &'a str) -> &'a str {
        self.identity.enterprise_id.as_deref().unwrap_or(team)
    }

    fn actor(&self, team: &str, user: &str, name: &str) -> Actor {
        let display = if name.is_empty() {
            user.to_string()
        } else {
            name.to_string()
        };
        // In an organisation, a person has one user id in all its workspaces, so they are known by the organisation.
        let home = self.home(team);
        Actor {
            identity: Identity::new("slack", &format!("{home}/{user}")),
            display_name: display,
        }
    }

    /// A slash command. Its delivery key is its trigger id: a replayed request carries the same one.
    pub async fn command(&self, c: SlashCommand) -> Ack {
        if !self.app_ok(c.api_app_id.as_deref()) {
            return Ack::ForeignApp;
        }
        // Slack documents no acting person's workspace on slash commands: the workspace they ran it in counts.
        if let Some(refusal) = self.outsider(&c.team_id, &c.team_id, c.enterprise_id.as_deref()) {
            return refusal;
        }
        let admission = match self.admit(&format!("slack:{}:cmd:{}", c.team_id, c.trigger_id)) {
            Ok(admission) => admission,
            Err(busy) => return busy,
        };
        self.remember_response_url(&c.channel_id, &c.user_id, c.response_url.as_deref());
        let invocation = Invocation {
            event_id: format!("slack:{}:cmd:{}", c.team_id, c.trigger_id),
            actor: self.actor(&c.team_id, &c.user_id, &c.user_name),
            conversation: Conversation {
                channel: channel_id(self.home(&c.team_id), &c.channel_id),
                thread: None,
            },
            addressing: Addressing::Direct,
            text: c.text,
            received_at: Utc::now(),
        };
        if self.ack_wait.is_zero() || !ack::may_answer_in_ack(&invocation.text) {
            self.hand_off(admission, invocation);
            return Ack::Accepted;
        }
        let (slot, answer) = AckSlot::open();
        let sink = Arc::new(AckSink::new(
            self.sink.clone(),
            slot.clone(),
            invocation.conversation.clone(),
            invocation.actor.identity.clone(),
        ));
        // Detached: should Slack hang up while the response waits, the command still runs to its end.
        let work = admission.spawn(self.work(invocation, sink, Some(slot.clone())));
        match ack::answer_within(work, &slot, answer, self.ack_wait).await {
            Waited::Answered(answer) => Ack::Answered(answer),
            Waited::TimedOut => Ack::Working,
            Waited::NoAnswer => Ack::Accepted,
            // A duplicate (the core's claim dropped it): nothing is echoed.
            Waited::Silent => Ack::Ignored,
        }
    }

    /// A mention or thread message from the Events API.
    pub async fn message(&self, m: MessageEvent) -> Ack {
        if !self.app_ok(m.api_app_id.as_deref()) {
            return Ack::ForeignApp;
        }
        if self
            .outsider(&m.team_id, &m.user_team, m.enterprise_id.as_deref())
            .is_some()
        {
            return Ack::Ignored;
        }
        let admission = match self.admit(&format!("slack:{}:event:{}", m.team_id, m.event_id)) {
            Ok(admission) => admission,
            Err(busy) => return busy,
        };
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
                channel: channel_id(self.home(&m.team_id), &m.channel_id),
                thread,
            },
            addressing,
            text: m.text,
            received_at: Utc::now(),
        };
        self.hand_off(admission, invocation);
        Ack::Accepted
    }

    /// A 📌 reaction: the message is fetched and, if a person wrote it inside a
    /// thread, handed to the core as `incident note "TEXT"` from the person who pinned it (the core ignores it
    /// outside incident threads).
    pub async fn reaction(&self, r: ReactionEvent) -> Ack {
        if !self.app_ok(r.api_app_id.as_deref()) {
            return Ack::ForeignApp;
        }
        if self
            .outsider(&r.team_id, &r.user_team, r.enterprise_id.as_deref())
            .is_some()
        {
            return Ack::Ignored;
        }
        let Some(messages) = self.messages.clone() else {
            return Ack::Ignored;
        };
        // Once per message (the core claims the note under this key): pinning it again, or by someone else, adds
        // nothing.
        let message_key = format!("{}:{}", r.channel_id, r.message_ts);
        let admission = match self.admit(&format!("slack:{}:event:{}", r.team_id, r.event_id)) {
            Ok(admission) => admission,
            Err(busy) => return busy,
        };
        let front = self.clone();
        drop(admission.spawn(async move {
            let message = match messages.message(&r.channel_id, &r.message_ts).await {
                Ok(Some(m)) => m,
                Ok(None) => {
                    tracing::info!(channel = %r.channel_id, ts = %r.message_ts, "the pinned message is gone");
                    return;
                }
                Err(err) => {
                    tracing::error!(error = %err, channel = %r.channel_id, ts = %r.message_ts, "cannot read a pinned message; no note");
                    return;
                }
            };
            let (thread, text) = match pins::note_for(&message) {
                Ok(found) => found,
                Err(why) => {
                    tracing::debug!(?why, "a pinned message that is not a note");
                    return;
                }
            };
            let invocation = Invocation {
                event_id: format!("slack:{}:pin:{message_key}", r.team_id),
                actor: front.actor(&r.team_id, &r.user_id, ""),
                conversation: Conversation {
                    channel: channel_id(front.home(&r.team_id), &r.channel_id),
                    thread: Some(thread),
                },
                addressing: Addressing::ThreadMessage,
                text,
                received_at: Utc::now(),
            };
            let sink = front.sink.clone();
            front.work(invocation, sink, None).await;
        }));
        Ack::Accepted
    }

    /// A button press. Its delivery key is its trigger id: a replayed request carries the same one.
    pub async fn button(&self, b: ButtonPress) -> Ack {
        if !self.app_ok(b.api_app_id.as_deref()) {
            return Ack::ForeignApp;
        }
        if let Some(refusal) = self.outsider(&b.team_id, &b.user_team, b.enterprise_id.as_deref()) {
            return refusal;
        }
        let admission = match self.admit(&format!("slack:{}:action:{}", b.team_id, b.trigger_id)) {
            Ok(admission) => admission,
            Err(busy) => return busy,
        };
        self.remember_response_url(&b.channel_id, &b.user_id, b.response_url.as_deref());
        let invocation = Invocation {
            event_id: format!("slack:{}:action:{}", b.team_id, b.trigger_id),
            actor: self.actor(&b.team_id, &b.user_id, &b.user_name),
            // Results follow where the button's message is (its thread, if any): the core decides an approval
            // only in the conversation it was requested in.
            conversation: Conversation {
                channel: channel_id(self.home(&b.team_id), &b.channel_id),
                thread: b.thread_ts.clone(),
            },
            addressing: Addressing::Action,
            text: b.value,
            received_at: Utc::now(),
        };
        self.hand_off(admission, invocation);
        Ack::Accepted
    }
}

#[cfg(test)]
#[path = "front_tests.rs"]
mod tests;
