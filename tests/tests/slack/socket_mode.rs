//! Socket Mode through the fake's WebSocket endpoint: the same front door as HTTP — commands acknowledged with
//! their envelope id, results posted, repeated events run once, buttons work.

use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_mode_behaves_like_http() {
    let bot = Bot::start(Options {
        socket_mode: true,
        ..Options::default()
    })
    .await;
    bot.wait_for("the WebSocket connection", |s| s.socket_connected())
        .await;
    let command = json!({
        "envelope_id": "env-1", "type": "slash_commands", "accepts_response_payload": true,
        "payload": {"token": "x", "team_id": TEAM, "team_domain": "t", "channel_id": CHANNEL, "channel_name": "ops",
                    "user_id": "UALICE", "user_name": "alice", "command": "/mystocks", "text": "scale 4",
                    "api_app_id": "A1", "response_url": "https://hooks.slack.invalid/1", "trigger_id": "sock-trig-1"}
    });
    assert!(bot.slack.socket_send(command.clone()));
    bot.wait_for("the ack", |s| {
        s.socket_acks().iter().any(|a| a["envelope_id"] == "env-1")
    })
    .await;
    bot.wait_for("the approval request", |s| {
        s.posted().iter().any(|(_, b)| !buttons(b).is_empty())
    })
    .await;
    // Slack re-sends an unacknowledged envelope with the same payload: it runs nothing again.
    let mut again = command.clone();
    again["envelope_id"] = json!("env-1b");
    assert!(bot.slack.socket_send(again));
    bot.wait_for("the second ack", |s| {
        s.socket_acks().iter().any(|a| a["envelope_id"] == "env-1b")
    })
    .await;

    let (ts, _, approve) = posted_request(&bot.slack, "approve");
    let press = json!({"envelope_id": "env-2", "type": "interactive", "accepts_response_payload": false,
                       "payload": button_payload(TEAM, "UBOB", &approve, &ts)});
    assert!(bot.slack.socket_send(press));
    bot.wait_for("the rollout to complete", |s| {
        s.calls()
            .iter()
            .any(|c| text_of(&c.body).contains("Rollout complete"))
    })
    .await;
    assert_eq!(replicas(&bot.sim), (4, 4));

    let mention = callback(
        json!({"type": "app_mention", "user": "UCAROL", "text": "<@UBOT> pods", "ts": "1700000700.1",
                                  "event_ts": "1700000700.1", "channel": CHANNEL}),
        Some("EvSock1"),
    );
    for n in 0..3 {
        let envelope = json!({"envelope_id": format!("env-ev-{n}"), "type": "events_api", "accepts_response_payload": false,
                              "retry_attempt": n, "retry_reason": "", "payload": mention});
        assert!(bot.slack.socket_send(envelope));
    }
    bot.wait_for("the mention's answer", |s| {
        s.posted()
            .iter()
            .any(|(_, b)| b["thread_ts"] == "1700000700.1")
    })
    .await;
    bot.wait_for("all acks", |s| {
        s.socket_acks()
            .iter()
            .filter(|a| {
                a["envelope_id"]
                    .as_str()
                    .is_some_and(|e| e.starts_with("env-ev-"))
            })
            .count()
            == 3
    })
    .await;
    let answers = bot
        .slack
        .posted()
        .into_iter()
        .filter(|(_, b)| b["thread_ts"] == "1700000700.1")
        .count();
    assert_eq!(answers, 1);
    let requests = bot
        .slack
        .posted()
        .into_iter()
        .filter(|(_, b)| !buttons(b).is_empty())
        .count();
    assert_eq!(requests, 1, "the re-sent command ran nothing");
    assert_eq!(
        real_changes(&bot.sim)
            .iter()
            .filter(|c| c.contains("/scale"))
            .count(),
        1
    );

    // A ready answer travels in the envelope's acknowledgement, as over HTTP.
    let whoami = json!({
        "envelope_id": "env-3", "type": "slash_commands", "accepts_response_payload": true,
        "payload": {"token": "x", "team_id": TEAM, "team_domain": "t", "channel_id": CHANNEL, "channel_name": "ops",
                    "user_id": "UCAROL", "user_name": "carol", "command": "/mystocks", "text": "whoami",
                    "api_app_id": "A1", "response_url": "https://hooks.slack.invalid/3", "trigger_id": "sock-trig-3"}
    });
    assert!(bot.slack.socket_send(whoami));
    bot.wait_for("the answer in the ack", |s| {
        s.socket_acks()
            .iter()
            .any(|a| a["envelope_id"] == "env-3" && a["payload"].to_string().contains("carol"))
    })
    .await;
    assert!(
        posts_with(&bot.slack, "carol").is_empty() && whispers_to(&bot.slack, "UCAROL").is_empty(),
        "the answer is not posted again: {:#?}",
        bot.slack.calls()
    );
}
