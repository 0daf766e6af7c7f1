//! Work in flight: a command goes on to its end when Slack hangs up while the response waits for it, and with
//! `[limits] max_in_flight` taken, a new command is answered "busy" at once.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::*;

/// A bot that looks a user group up before a command (again a second after the last look), with Slack slow to
/// answer that: the command is still running well after 100 ms.
async fn slow_to_start() -> Bot {
    let bot = Bot::start(Options {
        usergroup_roles: vec![("SVIEWERS", "viewer")],
        usergroup_ttl: Some("1s"),
        ..Options::default()
    })
    .await;
    bot.slack.set_usergroup("SVIEWERS", &["UCAROL"]);
    bot.slack
        .delay("usergroups.users.list", Duration::from_millis(800));
    bot
}

/// The audit log's answer to dave's `audit`.
async fn audit(bot: &Bot) -> String {
    ack_text(&bot.slash_json("UDAVE", "audit").await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slash_command_goes_on_when_slack_hangs_up() {
    let bot = slow_to_start().await;
    let body = command_body(TEAM, CHANNEL, "UCAROL", "pods");
    bot.post_and_hang_up("/slack/commands", FORM, &body, Duration::from_millis(100))
        .await;
    bot.wait_for("the answer, posted after the hang-up", |s| {
        s.accepted("chat.postMessage")
            .iter()
            .any(|b| text_of(b).contains("mystocks-api-"))
    })
    .await;
    let log = audit(&bot).await;
    assert!(log.contains("pods"), "the command is audited: {log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_button_press_goes_on_when_slack_hangs_up() {
    let bot = slow_to_start().await;
    assert_eq!(bot.slash("UALICE", "scale 4").await.0, 200);
    bot.wait_for("the approval request", |s| {
        s.posted().iter().any(|(_, b)| !buttons(b).is_empty())
    })
    .await;
    let (ts, _, approve) = posted_request(&bot.slack, "approve");
    // The group's members are looked up again before the press is handled.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let body = form(&[(
        "payload",
        &bot.slack
            .block_actions(TEAM, "UBOB", &approve, &ts)
            .to_string(),
    )]);
    bot.post_and_hang_up(
        "/slack/interactions",
        FORM,
        &body,
        Duration::from_millis(100),
    )
    .await;
    for _ in 0..600 {
        if replicas(&bot.sim).0 == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(replicas(&bot.sim).0, 4, "the approved change ran");
    let log = audit(&bot).await;
    assert!(log.contains("approve"), "the press is audited: {log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_every_slot_taken_a_command_is_answered_busy_at_once() {
    let bot = Bot::start(Options {
        max_in_flight: Some(1),
        ..Options::default()
    })
    .await;
    // A mention whose answer Slack is slow to take holds the one slot.
    bot.slack
        .delay("chat.postMessage", Duration::from_millis(1500));
    let slow = json!({"type": "app_mention", "user": "UCAROL", "text": "<@UBOT> pods", "ts": "1700000700.000100",
                      "channel": CHANNEL});
    assert_eq!(bot.event(&callback(slow, None)).await.0, 200);
    tokio::time::sleep(Duration::from_millis(200)).await;

    let asked = Instant::now();
    let busy = bot.slash_json("UCAROL", "whoami").await;
    assert!(
        asked.elapsed() < Duration::from_millis(500),
        "answered at once, took {:?}",
        asked.elapsed()
    );
    assert_eq!(busy["response_type"], "ephemeral", "{busy}");
    assert!(
        ack_text(&busy).contains("busy — too many commands in flight; try again in a moment"),
        "{busy}"
    );
    bot.metrics_when("the refusal counted", |m| {
        m.contains("mystocks_bot_busy_refusals_total{platform=\"slack\"} 1")
    })
    .await;

    bot.wait_for("the slow command's answer", |s| {
        !s.accepted("chat.postMessage").is_empty()
    })
    .await;
    let mut answered = bot.slash_json("UCAROL", "whoami").await;
    for _ in 0..50 {
        if !ack_text(&answered).contains("busy") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        answered = bot.slash_json("UCAROL", "whoami").await;
    }
    assert!(
        !ack_text(&answered).contains("busy"),
        "the slot is free again: {answered}"
    );
    // The refusal is on the record: one summary row for its 10-second window, naming how many were refused (the retries above may have been refused too).
    let mut audit = String::new();
    for _ in 0..40 {
        audit = ack_text(&bot.slash_json("UDAVE", "audit 30").await);
        if audit.contains("deliveries refused since") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(audit.contains("deliveries refused since"), "{audit}");
}
