//! Socket Mode through the fake's WebSocket endpoint: the same front door as HTTP — commands acknowledged with
//! their envelope id, results posted, repeated events run once, buttons work.

use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_mode_behaves_like_http() {
    let bot = Bot::start_socket_mode().await;
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
                       "payload": bot.slack.block_actions(TEAM, "UBOB", &approve, &ts)});
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

/// An `events_api` envelope carrying `event` (a fresh event id), as Socket Mode delivers it.
fn event_envelope(n: usize, event: serde_json::Value) -> serde_json::Value {
    json!({"envelope_id": format!("env-room-{n}"), "type": "events_api", "accepts_response_payload": false,
           "retry_attempt": 0, "retry_reason": "", "payload": callback(event, None)})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_mode_war_room_takes_commands_and_pins() {
    let bot = Bot::start_socket_mode().await;
    let declare = json!({
        "envelope_id": "env-declare", "type": "slash_commands", "accepts_response_payload": true,
        "payload": {"token": "x", "team_id": TEAM, "team_domain": "t", "channel_id": CHANNEL, "channel_name": "ops",
                    "user_id": "UALICE", "user_name": "alice", "command": "/mystocks",
                    "text": "incident declare P1 api down", "api_app_id": "A1",
                    "response_url": "https://hooks.slack.invalid/9", "trigger_id": "sock-trig-declare"}
    });
    assert!(bot.slack.socket_send(declare));
    let room = bot.war_room("api down").await;

    // A command by its exact name in the room, and a person's message pinned twice: over the socket, as over HTTP.
    let said = |user: &str, text: &str| {
        let ts = bot.slack.add_message(INCIDENTS, Some(&room), user, text);
        let event = json!({"type": "message", "user": user, "text": text, "ts": ts, "thread_ts": room,
                           "channel": INCIDENTS, "channel_type": "channel"});
        (ts, event)
    };
    let (_, health) = said("UCAROL", "health");
    assert!(bot.slack.socket_send(event_envelope(1, health)));
    bot.wait_for("health answered in the room", |s| {
        s.posted()
            .iter()
            .any(|(_, b)| b["thread_ts"] == room.as_str() && text_of(b).contains("Health"))
    })
    .await;
    let (note_ts, note) = said("UALICE", "replica lag 40 s on db-2");
    assert!(bot.slack.socket_send(event_envelope(2, note)));
    for (n, pinner) in [(3, "UBOB"), (4, "UALICE")] {
        let pin = json!({"type": "reaction_added", "user": pinner, "reaction": "pushpin", "item_user": "UALICE",
                         "item": {"type": "message", "channel": INCIDENTS, "ts": note_ts}, "event_ts": note_ts});
        assert!(bot.slack.socket_send(event_envelope(n, pin)));
    }
    bot.wait_for("the note's confirmation", |s| {
        s.posted().iter().any(|(_, b)| {
            b["thread_ts"] == room.as_str() && text_of(b).contains("Noted on incident 1")
        })
    })
    .await;
    bot.wait_for("every envelope acknowledged", |s| {
        (1..=4).all(|n| {
            s.socket_acks()
                .iter()
                .any(|a| a["envelope_id"] == format!("env-room-{n}").as_str())
        })
    })
    .await;
    // The second pin noted nothing more; the timeline has the note once.
    let noted = bot
        .slack
        .posted()
        .into_iter()
        .filter(|(_, b)| text_of(b).contains("Noted on incident 1"))
        .count();
    assert_eq!(noted, 1);
    assert!(
        bot.slack
            .socket_send(event_envelope(5, said("UBOB", "incident show").1))
    );
    bot.wait_for("the incident shown with the note on its timeline", |s| {
        s.posted().iter().any(|(_, b)| {
            b["thread_ts"] == room.as_str()
                && !text_of(b).contains("Noted on incident")
                && text_of(b).contains("replica lag 40 s on db-2")
        })
    })
    .await;
}
