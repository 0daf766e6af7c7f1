//! Which first reply goes into the HTTP response, and that none is lost at the budget's edge.

use std::time::Duration;

use mystocks_commands::reply::{Action, ActionStyle, Level};

use super::*;

/// Waits for the answer while the command's handling is still going on elsewhere.
async fn wait(slot: &AckSlot, rx: oneshot::Receiver<AckAnswer>, budget: Duration) -> Waited {
    answer_within(tokio::spawn(std::future::pending()), slot, rx, budget).await
}

/// Records what would have been posted.
#[derive(Default)]
struct Posted(Mutex<Vec<Reply>>);

#[async_trait]
impl ReplySink for Posted {
    async fn post(
        &self,
        conversation: &Conversation,
        reply: &Reply,
    ) -> Result<MessageRef, SinkError> {
        self.0.lock().expect("lock").push(reply.clone());
        Ok(MessageRef {
            conversation: conversation.clone(),
            message_id: "1700000000.000100".into(),
        })
    }
    async fn update(&self, _message: &MessageRef, _reply: &Reply) -> Result<(), SinkError> {
        Ok(())
    }
}

fn here() -> Conversation {
    Conversation {
        channel: "slack:T1/C1".into(),
        thread: None,
    }
}

fn alice() -> Identity {
    Identity::new("slack", "T1/UALICE")
}

fn sink() -> (
    AckSink,
    Arc<Posted>,
    Arc<AckSlot>,
    oneshot::Receiver<AckAnswer>,
) {
    let posted = Arc::new(Posted::default());
    let (slot, rx) = AckSlot::open();
    let sink = AckSink::new(posted.clone(), slot.clone(), here(), alice());
    (sink, posted, slot, rx)
}

fn result(text: &str) -> Reply {
    Reply::text(ReplyKind::Result, Level::Ok, text)
}

#[tokio::test]
async fn the_first_plain_answer_goes_into_the_response_and_later_ones_are_posted() {
    let (sink, posted, slot, rx) = sink();
    let first = sink.post(&here(), &result("3 pods")).await.expect("taken");
    assert_eq!(first.message_id, ACK_ID);
    let Waited::Answered(answer) = wait(&slot, rx, Duration::from_secs(2)).await else {
        panic!("an answer")
    };
    assert!(answer.in_channel);
    assert!(answer.text.contains("3 pods"), "{answer:?}");
    assert_eq!(answer.body()["response_type"], "in_channel");
    sink.post(&here(), &result("more")).await.expect("posted");
    assert_eq!(posted.0.lock().expect("lock").len(), 1);
}

#[tokio::test]
async fn a_private_refusal_is_an_ephemeral_answer() {
    let (sink, posted, slot, rx) = sink();
    let refusal =
        Reply::text(ReplyKind::Refusal, Level::Warn, "needs operator").private_to(alice());
    sink.post(&here(), &refusal).await.expect("taken");
    let Waited::Answered(answer) = wait(&slot, rx, Duration::from_secs(2)).await else {
        panic!("an answer")
    };
    assert!(!answer.in_channel);
    assert_eq!(answer.body()["response_type"], "ephemeral");
    assert!(posted.0.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn replies_that_are_updated_or_elsewhere_are_posted_and_end_the_wait() {
    let request = Reply::new(ReplyKind::ApprovalRequest, Level::Warn).with_action(Action {
        label: "Approve".into(),
        command: "approve A1".into(),
        style: ActionStyle::Primary,
    });
    let progress = Reply::text(ReplyKind::Progress, Level::Info, "rollout 1/5");
    let elsewhere = Conversation {
        channel: "slack:T1/C2".into(),
        thread: None,
    };
    let to_bob = Reply::text(ReplyKind::Refusal, Level::Warn, "x")
        .private_to(Identity::new("slack", "T1/UBOB"));
    let cases = [
        (here(), request),
        (here(), progress),
        (elsewhere, result("in another channel")),
        (here(), to_bob),
    ];
    for (conversation, reply) in cases {
        let (sink, posted, slot, rx) = sink();
        let msg = sink.post(&conversation, &reply).await.expect("posted");
        assert_ne!(msg.message_id, ACK_ID, "{reply:?}");
        assert_eq!(
            wait(&slot, rx, Duration::from_secs(3600)).await,
            Waited::NoAnswer,
            "the wait ends at once with no answer: {reply:?}"
        );
        assert_eq!(posted.0.lock().expect("lock").len(), 1);
    }
}

#[tokio::test(start_paused = true)]
async fn an_answer_after_the_budget_is_posted_not_lost() {
    let (sink, posted, slot, rx) = sink();
    assert_eq!(
        wait(&slot, rx, Duration::from_millis(1500)).await,
        Waited::TimedOut
    );
    let late = sink.post(&here(), &result("late")).await.expect("posted");
    assert_ne!(late.message_id, ACK_ID);
    assert_eq!(posted.0.lock().expect("lock").len(), 1);
}

#[test]
fn commands_that_thread_under_their_first_message_never_answer_in_the_response() {
    assert!(may_answer_in_ack("pods"));
    assert!(may_answer_in_ack("scale 5"));
    assert!(may_answer_in_ack("not a command"));
    assert!(may_answer_in_ack("runbook list"));
    assert!(!may_answer_in_ack("runbook run high-cpu"));
    assert!(!may_answer_in_ack("RUNBOOKS start high-cpu"));
    assert!(!may_answer_in_ack("incident declare P1 api down"));
    assert!(!may_answer_in_ack("\u{200B}incident\u{200B}declare P1 x"));
    assert!(!may_answer_in_ack("\"runbook\" run high-cpu"));
    assert!(!may_answer_in_ack("/mystocks runbook run high-cpu"));
    assert!(may_answer_in_ack("incident ack"));
}

#[tokio::test]
async fn the_work_runs_in_its_own_task_and_what_is_left_goes_on_after_the_answer() {
    let posted = Arc::new(Posted::default());
    let (slot, rx) = AckSlot::open();
    let sink = AckSink::new(posted.clone(), slot.clone(), here(), alice());
    let (done_tx, done_rx) = oneshot::channel();
    let work = async move {
        sink.post(&here(), &result("first")).await.expect("taken");
        tokio::task::yield_now().await;
        sink.post(&here(), &result("second")).await.expect("posted");
        let _ = done_tx.send(());
    };
    let Waited::Answered(answer) =
        answer_within(tokio::spawn(work), &slot, rx, Duration::from_secs(2)).await
    else {
        panic!("an answer")
    };
    assert!(answer.text.contains("first"));
    done_rx.await.expect("the rest of the work ran");
    assert_eq!(
        posted.0.lock().expect("lock").len(),
        1,
        "the second reply was posted"
    );

    let (slot, rx) = AckSlot::open();
    let closing = slot.clone();
    let nothing = async move {
        drop(closing.close());
    };
    assert_eq!(
        answer_within(tokio::spawn(nothing), &slot, rx, Duration::from_secs(2)).await,
        Waited::Silent,
        "work that ends without a reply ends the wait, with nothing to show"
    );
}

#[tokio::test]
async fn a_wait_given_up_midway_leaves_the_work_running_and_its_answer_is_posted() {
    let posted = Arc::new(Posted::default());
    let (slot, rx) = AckSlot::open();
    let sink = AckSink::new(posted.clone(), slot.clone(), here(), alice());
    let (go, started) = oneshot::channel::<()>();
    let (done_tx, done_rx) = oneshot::channel();
    let work = tokio::spawn(async move {
        let _ = started.await;
        sink.post(&here(), &result("late")).await.expect("posted");
        let _ = done_tx.send(());
    });
    // The HTTP handler is dropped while it waits, as hyper does when Slack hangs up.
    let waiting = answer_within(work, &slot, rx, Duration::from_secs(2));
    assert!(
        tokio::time::timeout(Duration::from_millis(50), waiting)
            .await
            .is_err()
    );
    go.send(()).expect("the work waits");
    done_rx.await.expect("the work ran to its end");
    assert_eq!(
        posted.0.lock().expect("lock").len(),
        1,
        "the answer was posted"
    );
}
