//! Delivery: acknowledgements inside Slack's 3 s, events delivered several times run once, threads, bots
//! ignored, Slack's 429 and 5xx answers retried so no result is lost.

use std::time::Duration;

use mystocks_tests::fake_slack::Failure;
use serde_json::{Value, json};

use crate::support::*;

/// A later mention, answered by a post: when its answer is there, anything wrongly started before it would have
/// shown up too.
async fn later_mention(bot: &Bot) {
    let before = bot.slack.accepted("chat.postMessage").len();
    let later = json!({"type": "app_mention", "user": "UDAVE", "text": "<@UBOT> pods", "ts": "1700000900.000100",
                       "channel": CHANNEL});
    assert_eq!(bot.event(&callback(later, None)).await.0, 200);
    bot.wait_for("a later command", |s| {
        s.accepted("chat.postMessage").len() > before
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_event_delivered_three_times_runs_once() {
    let bot = Bot::start(Options {
        redis: true,
        ..Options::default()
    })
    .await;
    let event = callback(
        json!({"type": "app_mention", "user": "UCAROL", "text": "<@UBOT> pods", "ts": "1700000500.000200", "channel": CHANNEL}),
        None,
    );
    for retry in 0..3 {
        let ts = chrono::Utc::now().timestamp();
        let body = event.to_string();
        let mut headers = vec![
            ("x-slack-request-timestamp", ts.to_string()),
            ("x-slack-signature", bot.sign(ts, &body)),
        ];
        if retry > 0 {
            headers.push(("x-slack-retry-num", retry.to_string()));
            headers.push(("x-slack-retry-reason", "http_timeout".to_string()));
        }
        assert_eq!(
            bot.post_raw("/slack/events", "application/json", &body, &headers)
                .await
                .0,
            200
        );
    }
    bot.wait_for("the answer", |s| !s.accepted("chat.postMessage").is_empty())
        .await;
    later_mention(&bot).await;
    let answers: Vec<_> = bot
        .slack
        .posted()
        .into_iter()
        .filter(|(_, b)| b["thread_ts"] == "1700000500.000200")
        .collect();
    assert_eq!(
        answers.len(),
        1,
        "answered once, in a thread under the mention: {:#?}",
        bot.slack.calls()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentions_in_threads_answer_in_the_thread_and_bots_are_ignored() {
    let bot = Bot::start(Options::default()).await;
    let (status, body) = bot
        .event(&json!({"type": "url_verification", "challenge": "chal-123", "token": "x"}))
        .await;
    assert_eq!((status, body.contains("chal-123")), (200, true), "{body}");
    let in_thread = json!({"type": "app_mention", "user": "UCAROL", "text": "<@UBOT> pods", "ts": "1700000600.000300",
                           "thread_ts": "1700000599.000100", "channel": CHANNEL});
    bot.event(&callback(in_thread, None)).await;
    let from_bot = json!({"type": "message", "subtype": "bot_message", "bot_id": "B1", "text": "whoami", "ts": "1700000601.1",
                          "thread_ts": "1700000599.000100", "channel": CHANNEL});
    bot.event(&callback(from_bot, None)).await;
    let own = json!({"type": "message", "user": "UBOT", "text": "restart", "ts": "1700000602.1", "thread_ts": "1700000599.000100", "channel": CHANNEL});
    bot.event(&callback(own, None)).await;
    let edit = json!({"type": "message", "subtype": "message_changed", "channel": CHANNEL, "ts": "1700000603.1",
                      "message": {"user": "UALICE", "text": "restart", "ts": "1700000590.1"}});
    bot.event(&callback(edit, None)).await;
    bot.wait_for("the answer in the thread", |s| {
        s.posted()
            .iter()
            .any(|(_, b)| b["thread_ts"] == "1700000599.000100")
    })
    .await;
    later_mention(&bot).await;
    assert_eq!(
        bot.slack.accepted("chat.postMessage").len(),
        2,
        "only the mention and the later command: {:#?}",
        bot.slack.calls()
    );
    assert!(real_changes(&bot.sim).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_and_server_errors_are_retried_not_dropped() {
    let bot = Bot::start(Options::default()).await;
    bot.slack.fail_next(
        "chat.postMessage",
        Failure::RateLimited { retry_after: 1 },
        2,
    );
    bot.slack
        .fail_next("chat.postMessage", Failure::ServerError, 1);
    let mention = json!({"type": "app_mention", "user": "UCAROL", "text": "<@UBOT> pods", "ts": "1700000800.000100",
                         "channel": CHANNEL});
    bot.event(&callback(mention, None)).await;
    bot.wait_for("the answer after 429, 429, 500", |s| {
        !s.accepted("chat.postMessage").is_empty()
    })
    .await;
    let attempts: Vec<_> = bot
        .slack
        .calls()
        .into_iter()
        .filter(|c| c.method == "chat.postMessage")
        .map(|c| c.error)
        .collect();
    assert_eq!(
        attempts,
        vec![
            Some("ratelimited".to_string()),
            Some("ratelimited".to_string()),
            Some("http 500".to_string()),
            None
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ack_returns_before_a_slow_command_finishes() {
    let bot = Bot::start(Options::default()).await;
    // The approval request is posted, not answered in the response (it is updated later): the response does not
    // wait for Slack to take the post.
    bot.slack.delay("chat.postMessage", Duration::from_secs(3));
    let ack = bot.slash_json("UALICE", "scale 4").await;
    assert_eq!(ack["response_type"], "in_channel", "{ack}");
    assert!(
        bot.slack.accepted("chat.postMessage").is_empty(),
        "acknowledged while the command is still running"
    );
    bot.wait_for("the request afterwards", |s| {
        !s.accepted("chat.postMessage").is_empty()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_not_ready_within_the_budget_is_acknowledged_and_posted_later() {
    let bot = Bot::start(Options {
        ack_wait_ms: Some(300),
        usergroup_roles: vec![("SVIEWERS", "viewer")],
        ..Options::default()
    })
    .await;
    bot.slack.set_usergroup("SVIEWERS", &["UCAROL"]);
    // The first command after start looks the user group up before it runs, and Slack is slow to answer that.
    bot.slack
        .delay("usergroups.users.list", Duration::from_secs(3));
    let ack = bot.slash_json("UCAROL", "pods").await;
    assert_eq!(ack["response_type"], "in_channel", "{ack}");
    assert!(ack_text(&ack).contains("Working on it"), "{ack}");
    assert!(
        bot.slack.accepted("chat.postMessage").is_empty(),
        "acknowledged before the answer was ready"
    );
    bot.wait_for("the answer, posted", |s| {
        s.accepted("chat.postMessage")
            .iter()
            .any(|b| text_of(b).contains("mystocks-api"))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_the_bot_cannot_post_the_answer_goes_through_the_response_url() {
    // Answers inside the response are off, so the answer is posted — and the post is refused.
    let bot = Bot::start(Options {
        ack_wait_ms: Some(0),
        ..Options::default()
    })
    .await;
    // CNOTIN does not exist for the bot (not invited): chat.postMessage answers channel_not_found.
    let body = command_body(TEAM, "CNOTIN", "UCAROL", "pods").replace(
        "https%3A%2F%2Fhooks.slack.invalid%2Fcommands%2F1",
        &url::form_urlencoded::byte_serialize(bot.slack.hook_url("h1").as_bytes())
            .collect::<String>(),
    );
    assert_eq!(bot.post_signed("/slack/commands", FORM, &body).await.0, 200);
    bot.wait_for("the answer through the response_url", |s| {
        !s.accepted("response_url").is_empty()
    })
    .await;
    let answer = &bot.slack.accepted("response_url")[0];
    assert_eq!(answer["response_type"], "in_channel", "{answer}");
    assert!(text_of(answer).contains("mystocks-api"), "{answer}");
    assert_eq!(
        bot.slack.refused(),
        vec![(
            "chat.postMessage".to_string(),
            "channel_not_found".to_string()
        )]
    );
}

/// A slash command in a channel the bot is not in, answered through `hook` (the fake's response_url `hook`).
fn command_with_hook(bot: &Bot, channel: &str, user: &str, text: &str, hook: &str) -> String {
    command_body(TEAM, channel, user, text).replace(
        "https%3A%2F%2Fhooks.slack.invalid%2Fcommands%2F1",
        &url::form_urlencoded::byte_serialize(bot.slack.hook_url(hook).as_bytes())
            .collect::<String>(),
    )
}

/// The response_url posts that went to `hook`.
fn hook_posts(bot: &Bot, hook: &str) -> Vec<Value> {
    bot.slack
        .calls()
        .into_iter()
        .filter(|c| c.method == "response_url" && c.error.is_none() && c.answer["hook"] == hook)
        .map(|c| c.body)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_answer_never_goes_through_someone_elses_response_url() {
    let bot = Bot::start(Options {
        ack_wait_ms: Some(0),
        ..Options::default()
    })
    .await;
    // Alice asks for a change in a channel the bot is not in: the request goes out through her response_url.
    let body = command_with_hook(&bot, "CNOTIN", "UALICE", "scale 5", "h-alice");
    assert_eq!(bot.post_signed("/slack/commands", FORM, &body).await.0, 200);
    bot.wait_for("the request through alice's response_url", |_| {
        hook_posts(&bot, "h-alice")
            .iter()
            .any(|b| !buttons(b).is_empty())
    })
    .await;
    let request = hook_posts(&bot, "h-alice")
        .into_iter()
        .find(|b| !buttons(b).is_empty())
        .expect("the request");
    let approve = buttons(&request)
        .into_iter()
        .find(|v| v.starts_with("approve"))
        .expect("an approve button");
    // Carol (a viewer) presses Approve: her refusal is for her alone.
    let mut press = button_payload(TEAM, "UCAROL", &approve, "1700000900.1");
    press["container"]["channel_id"] = json!("CNOTIN");
    press["channel"]["id"] = json!("CNOTIN");
    press["response_url"] = json!(bot.slack.hook_url("h-carol"));
    let press = form(&[("payload", &press.to_string())]);
    assert_eq!(
        bot.post_signed("/slack/interactions", FORM, &press).await.0,
        200
    );
    bot.wait_for("carol's refusal, to carol", |_| {
        hook_posts(&bot, "h-carol")
            .iter()
            .any(|b| b["response_type"] == "ephemeral")
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    let to_alice: Vec<Value> = hook_posts(&bot, "h-alice")
        .into_iter()
        .filter(|b| b["response_type"] == "ephemeral")
        .collect();
    assert!(
        to_alice.is_empty(),
        "carol's private answers were shown to alice: {to_alice:#?}"
    );
    assert_eq!(replicas(&bot.sim).0, 3);
}
