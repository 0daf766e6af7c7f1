//! Front-door tests: what reaches the core, once, with which identity and conversation.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use mystocks_commands::reply::{MessageRef, Reply, SinkError};
use mystocks_commands::{Addressing, Conversation, Handler, Invocation, ReplySink};

use super::*;
use crate::slack::inbound::{ButtonPress, MessageEvent, MessageKind, ReactionEvent, SlashCommand};

#[derive(Default)]
struct Recorder(Mutex<Vec<Invocation>>);

#[async_trait]
impl Handler for Recorder {
    async fn handle(&self, invocation: Invocation, _sink: Arc<dyn ReplySink>) {
        self.0.lock().unwrap().push(invocation);
    }
    async fn settle(&self) {}
}

struct Silent;

#[async_trait]
impl ReplySink for Silent {
    async fn post(&self, c: &Conversation, _r: &Reply) -> Result<MessageRef, SinkError> {
        Ok(MessageRef {
            conversation: c.clone(),
            message_id: "1".into(),
        })
    }
    async fn update(&self, _m: &MessageRef, _r: &Reply) -> Result<(), SinkError> {
        Ok(())
    }
}

fn front_without_reader() -> (SlackFront, Arc<Recorder>) {
    front()
}

fn front() -> (SlackFront, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let identity = SlackIdentity {
        team_id: "T1".into(),
        enterprise_id: None,
        workspaces: Vec::new(),
        api_app_id: Some("A1".into()),
        bot_user_id: Some("UBOT".into()),
    };
    let front = SlackFront::new(identity, recorder.clone(), Arc::new(Silent));
    (front, recorder)
}

async fn seen(recorder: &Recorder, n: usize) -> Vec<Invocation> {
    for _ in 0..200 {
        if recorder.0.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    recorder.0.lock().unwrap().clone()
}

fn command(team: &str, app: &str) -> SlashCommand {
    SlashCommand {
        team_id: team.into(),
        enterprise_id: None,
        api_app_id: Some(app.into()),
        channel_id: "C1".into(),
        user_id: "U1".into(),
        user_name: "alice".into(),
        command: "/mystocks".into(),
        text: "scale 5".into(),
        response_url: None,
        trigger_id: "tr1".into(),
    }
}

#[tokio::test]
async fn a_command_is_handed_off_with_its_identity_and_a_replay_under_the_same_key() {
    let (front, recorder) = front();
    assert_eq!(front.command(command("T1", "A1")).await, Ack::Accepted);
    assert_eq!(front.command(command("T1", "A1")).await, Ack::Accepted);
    let got = seen(&recorder, 2).await;
    assert_eq!(got.len(), 2);
    assert_eq!(
        (got[0].event_id.as_str(), got[1].event_id.as_str()),
        ("slack:T1:cmd:tr1", "slack:T1:cmd:tr1"),
        "the core claims a replay under the same key, so it runs nothing"
    );
    assert_eq!(got[0].actor.identity.as_str(), "slack:T1/U1");
    assert_eq!(got[0].conversation.channel, "slack:T1/C1");
    assert_eq!(
        (got[0].addressing, got[0].text.as_str()),
        (Addressing::Direct, "scale 5")
    );
}

#[tokio::test]
async fn other_workspaces_and_apps_never_reach_the_core() {
    let (front, recorder) = front();
    assert!(matches!(
        front.command(command("T2", "A1")).await,
        Ack::Refused(_)
    ));
    assert_eq!(front.command(command("T1", "A9")).await, Ack::ForeignApp);
    let outsider = MessageEvent {
        event_id: "Ev1".into(),
        team_id: "T1".into(),
        enterprise_id: None,
        api_app_id: Some("A1".into()),
        user_team: "T2".into(),
        user_id: "UX".into(),
        channel_id: "C1".into(),
        ts: "2.0".into(),
        thread_ts: None,
        text: "restart".into(),
        kind: MessageKind::Mention,
    };
    assert_eq!(front.message(outsider).await, Ack::Ignored);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(recorder.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn mentions_thread_under_themselves_and_buttons_under_their_message() {
    let (front, recorder) = front();
    let mention = MessageEvent {
        event_id: "Ev1".into(),
        team_id: "T1".into(),
        enterprise_id: None,
        api_app_id: None,
        user_team: "T1".into(),
        user_id: "U1".into(),
        channel_id: "C1".into(),
        ts: "2.0".into(),
        thread_ts: None,
        text: "status".into(),
        kind: MessageKind::Mention,
    };
    assert_eq!(front.message(mention).await, Ack::Accepted);
    let press = ButtonPress {
        team_id: "T1".into(),
        enterprise_id: None,
        api_app_id: Some("A1".into()),
        user_team: "T1".into(),
        user_id: "U2".into(),
        user_name: "bob".into(),
        channel_id: "C1".into(),
        message_ts: "5.0".into(),
        thread_ts: None,
        value: "approve A1".into(),
        trigger_id: "tr2".into(),
        response_url: None,
    };
    assert_eq!(front.button(press).await, Ack::Accepted);
    let got = seen(&recorder, 2).await;
    assert_eq!(got.len(), 2);
    let mention = got
        .iter()
        .find(|i| i.addressing == Addressing::Mention)
        .unwrap();
    assert_eq!(mention.conversation.thread.as_deref(), Some("2.0"));
    let press = got
        .iter()
        .find(|i| i.addressing == Addressing::Action)
        .unwrap();
    assert_eq!(
        (press.text.as_str(), press.conversation.thread.as_deref()),
        ("approve A1", None)
    );
    assert_eq!(press.actor.identity.as_str(), "slack:T1/U2");
}

/// A handler that answers each command with one result, the way the core does.
struct Answering;

#[async_trait]
impl Handler for Answering {
    async fn handle(&self, invocation: Invocation, sink: Arc<dyn ReplySink>) {
        let reply = Reply::text(
            mystocks_commands::reply::ReplyKind::Result,
            mystocks_commands::reply::Level::Ok,
            format!("done: {}", invocation.text),
        );
        let _ = sink.post(&invocation.conversation, &reply).await;
    }
    async fn settle(&self) {}
}

fn answering_front(wait: Duration) -> SlackFront {
    let (front, _) = front();
    SlackFront::new(
        front.identity().clone(),
        Arc::new(Answering),
        Arc::new(Silent),
    )
    .with_ack_wait(wait)
}

#[tokio::test]
async fn a_ready_answer_comes_back_as_the_ack_and_threading_commands_do_not_wait() {
    let front = answering_front(Duration::from_secs(2));
    match front.command(command("T1", "A1")).await {
        Ack::Answered(answer) => {
            assert!(answer.in_channel);
            assert!(answer.text.contains("done: scale 5"), "{answer:?}");
        }
        other => panic!("{other:?}"),
    }
    let mut runbook = command("T1", "A1");
    runbook.text = "runbook run high-cpu".into();
    runbook.trigger_id = "tr9".into();
    assert_eq!(front.command(runbook).await, Ack::Accepted);
    let off = answering_front(Duration::ZERO);
    assert_eq!(off.command(command("T1", "A1")).await, Ack::Accepted);
}

/// Pinned messages the test knows, by ts.
struct Messages(Vec<crate::slack::api::FetchedMessage>);

#[async_trait]
impl MessageLookup for Messages {
    async fn message(
        &self,
        _channel: &str,
        ts: &str,
    ) -> Result<Option<crate::slack::api::FetchedMessage>, crate::slack::api::ApiError> {
        Ok(self.0.iter().find(|m| m.ts == ts).cloned())
    }
}

fn pin(user: &str, ts: &str) -> ReactionEvent {
    ReactionEvent {
        event_id: format!("Ev-{user}-{ts}"),
        team_id: "T1".into(),
        enterprise_id: None,
        user_team: "T1".into(),
        api_app_id: Some("A1".into()),
        user_id: user.into(),
        channel_id: "C2".into(),
        message_ts: ts.into(),
    }
}

#[tokio::test]
async fn a_pinned_message_is_noted_once_in_its_thread_by_whoever_pinned_it() {
    let (front, recorder) = front();
    let message = |ts: &str, thread: Option<&str>, bot: bool| crate::slack::api::FetchedMessage {
        ts: ts.into(),
        thread_ts: thread.map(str::to_string),
        user: Some("UALICE".into()),
        from_bot: bot,
        text: "cache &lt;3 dropped".into(),
    };
    let front = front.with_messages(Arc::new(Messages(vec![
        message("5.000001", Some("1.000001"), false),
        message("6.000001", Some("1.000001"), true),
        message("7.000001", None, false),
    ])));
    assert_eq!(front.reaction(pin("UBOB", "5.000001")).await, Ack::Accepted);
    front.reaction(pin("UBOB", "6.000001")).await;
    front.reaction(pin("UBOB", "7.000001")).await;
    front.reaction(pin("UBOB", "8.000001")).await;
    let got = seen(&recorder, 1).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let got_later = recorder.0.lock().unwrap().clone();
    assert_eq!(
        got_later.len(),
        1,
        "bots, plain messages and unknown ones are not notes: {got_later:?}"
    );
    let note = &got[0];
    assert_eq!(note.addressing, Addressing::ThreadMessage);
    assert_eq!(note.text, "incident note \"cache <3 dropped\"");
    assert_eq!(note.actor.identity.as_str(), "slack:T1/UBOB");
    assert_eq!(
        (
            note.conversation.channel.as_str(),
            note.conversation.thread.as_deref()
        ),
        ("slack:T1/C2", Some("1.000001"))
    );
    let (without, _) = front_without_reader();
    assert_eq!(
        without.reaction(pin("UBOB", "5.000001")).await,
        Ack::Ignored,
        "no reader: ignored"
    );
}

/// A handler that holds each invocation until told to let go.
struct Holding(tokio::sync::Semaphore);

#[async_trait]
impl Handler for Holding {
    async fn handle(&self, _invocation: Invocation, _sink: Arc<dyn ReplySink>) {
        let _ = self.0.acquire().await.map(|p| p.forget());
    }
    async fn settle(&self) {}
}

#[tokio::test]
async fn with_every_permit_taken_a_delivery_is_refused_busy_at_once() {
    let (front, _) = front();
    let holding = Arc::new(Holding(tokio::sync::Semaphore::new(0)));
    let gate = crate::in_flight::InFlight::new(1);
    let front = SlackFront::new(front.identity().clone(), holding.clone(), Arc::new(Silent))
        .with_in_flight(gate.clone());
    assert_eq!(front.command(command("T1", "A1")).await, Ack::Accepted);
    let mut second = command("T1", "A1");
    second.trigger_id = "tr2".into();
    assert_eq!(front.command(second.clone()).await, Ack::Busy);
    holding.0.add_permits(1);
    tokio::time::timeout(Duration::from_secs(5), gate.idle())
        .await
        .expect("the first command ended");
    assert_eq!(front.command(second).await, Ack::Accepted);
    holding.0.add_permits(1);
}
