//! The command core's approval transcript through Slack payloads: carol refused, alice requests, alice cannot
//! approve herself, bob's button executes, progress updates one message, the request is updated in place
//! without buttons, and the audit log shows it all.

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_transcript_end_to_end() {
    let bot = Bot::start(Options {
        redis: true,
        ..Options::default()
    })
    .await;

    // Carol's refusal is ready at once: it is the response itself, only she sees it.
    let ack = bot.slash_json("UCAROL", "scale 5").await;
    assert_eq!(ack["response_type"], "ephemeral", "{ack}");
    assert!(
        ack_text(&ack).contains("operator"),
        "names the role needed: {ack}"
    );
    assert!(
        posts_with(&bot.slack, "approve ").is_empty()
            && whispers_to(&bot.slack, "UCAROL").is_empty(),
        "no approval request for carol, and the refusal is not sent twice: {:#?}",
        bot.slack.calls()
    );

    // Alice's request is posted (it is updated later, so it cannot be the response); the command shows.
    let ack = bot.slash_json("UALICE", "scale 5").await;
    assert_eq!(ack["response_type"], "in_channel", "{ack}");
    bot.wait_for("alice's approval request", |s| {
        s.accepted("chat.postMessage")
            .iter()
            .any(|b| !buttons(b).is_empty())
    })
    .await;
    let (request_ts, request, approve) = posted_request(&bot.slack, "approve");
    assert!(
        buttons(&request).iter().any(|v| v.starts_with("deny ")),
        "a Deny button: {request}"
    );
    assert!(
        text_of(&request).contains('3') && text_of(&request).contains('5'),
        "preview 3 → 5: {request}"
    );

    bot.press("UALICE", &approve, &request_ts).await;
    bot.wait_for("alice's self-approval refusal", |s| {
        !whispers_to(s, "UALICE").is_empty()
    })
    .await;
    assert!(
        text_of(&whispers_to(&bot.slack, "UALICE")[0]).contains("two-person"),
        "{:?}",
        whispers_to(&bot.slack, "UALICE")
    );
    assert!(
        real_changes(&bot.sim).is_empty(),
        "nothing ran: {:?}",
        real_changes(&bot.sim)
    );

    bot.press("UBOB", &approve, &request_ts).await;
    bot.wait_for("the rollout to complete", |s| {
        s.calls()
            .iter()
            .any(|c| text_of(&c.body).contains("Rollout complete"))
    })
    .await;
    assert_eq!(replicas(&bot.sim), (5, 5));
    assert_eq!(
        real_changes(&bot.sim)
            .iter()
            .filter(|c| c.contains("/scale"))
            .count(),
        1,
        "{:?}",
        real_changes(&bot.sim)
    );

    // The request was updated in place and its buttons are gone.
    bot.wait_for("the request to show its outcome", |s| {
        s.message(CHANNEL, &request_ts)
            .is_some_and(|m| buttons(&m).is_empty() && text_of(&m).contains("done"))
    })
    .await;
    // Progress: one message, updated in place (a fast rollout may finish before the first update) — never a
    // flood of posts; it ends showing the completed rollout.
    let progress: Vec<_> = bot
        .slack
        .posted()
        .into_iter()
        .filter(|(_, b)| text_of(b).contains("Rollout"))
        .collect();
    assert_eq!(progress.len(), 1, "one progress message: {progress:#?}");
    let progress_ts = progress[0].0.clone();
    let updates = bot.slack.accepted("chat.update");
    assert!(
        updates
            .iter()
            .filter(|u| text_of(u).contains("Rollout"))
            .all(|u| u["ts"] == progress_ts.as_str()),
        "progress updates go to the progress message: {updates:#?}"
    );
    let last = bot
        .slack
        .message(CHANNEL, &progress_ts)
        .expect("progress message");
    assert!(text_of(&last).contains("Rollout complete"), "{last}");

    // A second press counts nothing and changes nothing.
    bot.press("UDAVE", &approve, &request_ts).await;
    bot.wait_for("dave's answer", |s| !whispers_to(s, "UDAVE").is_empty())
        .await;
    assert_eq!(
        real_changes(&bot.sim)
            .iter()
            .filter(|c| c.contains("/scale"))
            .count(),
        1
    );

    let audit = ack_text(&bot.slash_json("UDAVE", "audit").await);
    assert!(
        audit.contains("scale") && audit.contains("approve"),
        "the audit answer, in the response: {audit}"
    );
    assert!(
        bot.slack.refused().is_empty(),
        "Slack refused nothing: {:?}",
        bot.slack.refused()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_rollout_updates_one_progress_message() {
    let bot = Bot::start(Options {
        speed: 2.0,
        ..Options::default()
    })
    .await;
    bot.slash("UALICE", "restart").await;
    bot.wait_for("the request", |s| {
        s.posted().iter().any(|(_, b)| !buttons(b).is_empty())
    })
    .await;
    let (ts, _, approve) = posted_request(&bot.slack, "approve");
    bot.press("UBOB", &approve, &ts).await;
    // While it runs, another change is refused with what is running and about when it should be done.
    bot.wait_for("the rollout to start", |s| {
        s.posted()
            .iter()
            .any(|(_, b)| text_of(b).contains("Rollout"))
    })
    .await;
    let busy = ack_text(&bot.slash_json("UALICE", "scale 4").await);
    assert!(
        busy.contains("one change at a time")
            && busy.contains("running since")
            && busy.contains("by about")
            && busy.contains("the rollout:"),
        "{busy}"
    );
    bot.wait_for("the rollout to complete", |s| {
        s.calls()
            .iter()
            .any(|c| text_of(&c.body).contains("Rollout complete"))
    })
    .await;
    let progress: Vec<_> = bot
        .slack
        .posted()
        .into_iter()
        .filter(|(_, b)| text_of(b).contains("Rollout"))
        .collect();
    assert_eq!(progress.len(), 1, "one progress message: {progress:#?}");
    let updates: Vec<_> = bot
        .slack
        .accepted("chat.update")
        .into_iter()
        .filter(|u| u["ts"] == progress[0].0.as_str())
        .collect();
    assert!(
        !updates.is_empty(),
        "the progress message was updated in place: {:#?}",
        bot.slack.calls()
    );
    assert_eq!(replicas(&bot.sim), (3, 3));
}

/// Once a request's message has replies, Slack sends it as a thread parent (`thread_ts` equal to its own `ts`, with
/// `reply_count`) in the button's payload; Approve and Deny must keep working on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_and_deny_work_on_a_request_whose_message_has_replies() {
    let bot = Bot::start(Options::default()).await;

    let ack = bot.slash_json("UALICE", "scale 5").await;
    assert_eq!(ack["response_type"], "in_channel", "{ack}");
    bot.wait_for("alice's approval request", |s| {
        s.posted().iter().any(|(_, b)| !buttons(b).is_empty())
    })
    .await;
    let (request_ts, _, approve) = posted_request(&bot.slack, "approve");
    bot.slack.add_message(
        CHANNEL,
        Some(&request_ts),
        "UBOB",
        "checking the dashboards first",
    );
    let press = bot.slack.block_actions(TEAM, "UBOB", &approve, &request_ts);
    assert_eq!(
        (
            press["message"]["thread_ts"].as_str(),
            press["message"]["reply_count"].as_u64()
        ),
        (Some(request_ts.as_str()), Some(1)),
        "the payload shows a thread parent, as Slack sends it: {press}"
    );
    bot.press("UBOB", &approve, &request_ts).await;
    bot.wait_for("the rollout to complete", |s| {
        s.calls()
            .iter()
            .any(|c| text_of(&c.body).contains("Rollout complete"))
    })
    .await;
    assert_eq!(replicas(&bot.sim), (5, 5));
    // The decided request keeps who asked, who approved and when, and the outcome.
    bot.wait_for("the request to show its outcome", |s| {
        s.message(CHANNEL, &request_ts)
            .is_some_and(|m| buttons(&m).is_empty() && text_of(&m).contains("Done"))
    })
    .await;
    let decided = text_of(
        &bot.slack
            .message(CHANNEL, &request_ts)
            .expect("the request"),
    );
    assert!(
        decided.contains("Requested by alice at") && decided.contains("Approved by bob at"),
        "{decided}"
    );

    let ack = bot.slash_json("UALICE", "scale 4").await;
    assert_eq!(ack["response_type"], "in_channel", "{ack}");
    bot.wait_for("the second request", |s| {
        s.posted()
            .iter()
            .filter(|(_, b)| !buttons(b).is_empty())
            .count()
            == 2
    })
    .await;
    let (second_ts, second, _) = approval_request(&bot.slack, 1);
    let deny = buttons(&second)
        .into_iter()
        .find(|v| v.starts_with("deny "))
        .expect("a Deny button");
    bot.slack
        .add_message(CHANNEL, Some(&second_ts), "UBOB", "not during the open");
    bot.press("UBOB", &deny, &second_ts).await;
    bot.wait_for("the request to show it was denied", |s| {
        s.message(CHANNEL, &second_ts)
            .is_some_and(|m| buttons(&m).is_empty() && text_of(&m).contains("Denied by bob at"))
    })
    .await;
    assert_eq!(replicas(&bot.sim), (5, 5), "the denied change did not run");
    assert!(
        whispers_to(&bot.slack, "UBOB").is_empty(),
        "no refusal to bob: {:?}",
        whispers_to(&bot.slack, "UBOB")
    );
}
