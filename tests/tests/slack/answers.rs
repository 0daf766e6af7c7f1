//! Answers inside the slash command's HTTP response: a ready answer is the response (in the channel, or only for
//! the requester), escaped like any message, and never posted a second time. (The cases where the response does
//! not wait — a slow answer, a request to be updated later — are in `delivery`.)

use serde_json::json;

use crate::support::*;

/// A mention answered by a post: once its answer is there, a post the slash command wrongly made would be too.
async fn barrier(bot: &Bot) {
    let mention = json!({"type": "app_mention", "user": "UDAVE", "text": "<@UBOT> pods", "ts": "1700000950.000100",
                         "channel": CHANNEL});
    assert_eq!(bot.event(&callback(mention, None)).await.0, 200);
    bot.wait_for("the mention's answer", |s| {
        s.posted()
            .iter()
            .any(|(_, b)| b["thread_ts"] == "1700000950.000100")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ready_answer_is_the_response_and_is_not_posted_again() {
    let bot = Bot::start(Options::default()).await;
    let ack = bot.slash_json("UCAROL", "pods").await;
    assert_eq!(
        ack["response_type"], "in_channel",
        "everyone sees the command and its answer: {ack}"
    );
    let text = ack_text(&ack);
    assert!(
        text.contains("mystocks-api"),
        "the pods, in the response: {ack}"
    );
    assert!(
        ack["blocks"].as_array().is_some_and(|b| !b.is_empty()),
        "rendered as Block Kit: {ack}"
    );
    // Slack's limits hold for the response as for a post (the fake's own checks).
    mystocks_tests::fake_slack::check_message(&ack).expect("within Slack's limits");
    barrier(&bot).await;
    assert_eq!(
        bot.slack.accepted("chat.postMessage").len(),
        1,
        "only the mention's answer was posted: {:#?}",
        bot.slack.calls()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_is_an_ephemeral_response_and_hostile_text_in_it_is_escaped() {
    let bot = Bot::start(Options::default()).await;
    let ack = bot.slash_json("UCAROL", "restart").await;
    assert_eq!(ack["response_type"], "ephemeral", "{ack}");
    assert!(ack_text(&ack).contains("operator"), "{ack}");
    let ack = bot
        .slash_json("UCAROL", "pods <!channel> <https://evil.example|Approve>")
        .await;
    assert_eq!(ack["response_type"], "ephemeral", "{ack}");
    let text = ack_text(&ack);
    assert!(
        !text.contains("<!channel>") && !text.contains("<https://evil"),
        "{text}"
    );
    assert!(text.contains("&lt;!channel&gt;"), "shown as text: {text}");
    barrier(&bot).await;
    assert!(
        whispers_to(&bot.slack, "UCAROL").is_empty(),
        "no ephemeral post besides the responses: {:#?}",
        bot.slack.calls()
    );
    assert!(real_changes(&bot.sim).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_wait_off_every_answer_is_posted() {
    let bot = Bot::start(Options {
        ack_wait_ms: Some(0),
        ..Options::default()
    })
    .await;
    let ack = bot.slash_json("UCAROL", "pods").await;
    assert_eq!(ack, json!({"response_type": "in_channel"}));
    bot.wait_for("the posted answer", |s| {
        s.accepted("chat.postMessage")
            .iter()
            .any(|b| text_of(b).contains("mystocks-api"))
    })
    .await;
}
