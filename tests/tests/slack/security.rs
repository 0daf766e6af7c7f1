//! Requests that must change nothing: unsigned, forged, stale, replayed, from another workspace or app; and
//! text from people shown, never acted on by Slack.

use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_forged_and_stale_requests_get_401_and_run_nothing() {
    let bot = Bot::start(Options::default()).await;
    let body = command_body(TEAM, CHANNEL, "UALICE", "scale 5");
    let now = chrono::Utc::now().timestamp();

    let (status, why) = bot.post_raw("/slack/commands", FORM, &body, &[]).await;
    assert_eq!(status, 401, "unsigned: {why}");
    let forged = mystocks_adapters::slack::SlackSigner::new("not-the-secret".to_string().into())
        .sign(now, body.as_bytes());
    let (status, why) = bot
        .post_raw(
            "/slack/commands",
            FORM,
            &body,
            &[
                ("x-slack-request-timestamp", now.to_string()),
                ("x-slack-signature", forged),
            ],
        )
        .await;
    assert_eq!(status, 401, "forged: {why}");
    let altered = body.replace("scale+5", "scale+9");
    let (status, _) = bot
        .post_raw(
            "/slack/commands",
            FORM,
            &altered,
            &[
                ("x-slack-request-timestamp", now.to_string()),
                ("x-slack-signature", bot.sign(now, &body)),
            ],
        )
        .await;
    assert_eq!(status, 401, "altered body");
    let old = now - 10 * 60;
    let (status, why) = bot
        .post_raw(
            "/slack/commands",
            FORM,
            &body,
            &[
                ("x-slack-request-timestamp", old.to_string()),
                ("x-slack-signature", bot.sign(old, &body)),
            ],
        )
        .await;
    assert_eq!(status, 401, "stale: {why}");
    assert!(why.contains("stale"), "{why}");
    let event = callback(
        json!({"type": "app_mention", "user": "UALICE", "text": "<@UBOT> restart", "ts": "1.0", "channel": CHANNEL}),
        None,
    );
    let (status, _) = bot
        .post_raw("/slack/events", "application/json", &event.to_string(), &[])
        .await;
    assert_eq!(status, 401, "unsigned event");
    let (status, _) = bot
        .post_raw("/slack/interactions", FORM, "payload=%7B%7D", &[])
        .await;
    assert_eq!(status, 401, "unsigned button press");

    // A good request afterwards still works, and nothing above left a trace.
    let whoami = bot.slash_json("UCAROL", "whoami").await;
    assert!(ack_text(&whoami).contains("carol"), "{whoami}");
    assert!(
        posts_with(&bot.slack, "approve ").is_empty(),
        "no approval request was made"
    );
    assert!(real_changes(&bot.sim).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_capture_runs_nothing() {
    let bot = Bot::start(Options {
        redis: true,
        ..Options::default()
    })
    .await;
    let body = command_body(TEAM, CHANNEL, "UALICE", "scale 4");
    let ts = chrono::Utc::now().timestamp();
    let headers = [
        ("x-slack-request-timestamp", ts.to_string()),
        ("x-slack-signature", bot.sign(ts, &body)),
    ];
    assert_eq!(
        bot.post_raw("/slack/commands", FORM, &body, &headers)
            .await
            .0,
        200
    );
    bot.wait_for("the approval request", |s| {
        s.posted().iter().any(|(_, b)| !buttons(b).is_empty())
    })
    .await;
    for _ in 0..3 {
        let (status, answer) = bot.post_raw("/slack/commands", FORM, &body, &headers).await;
        assert_eq!(
            status, 200,
            "a replay is acknowledged (Slack retries must not error): {answer}"
        );
        assert!(answer.is_empty(), "and not echoed: {answer}");
    }
    // Let any wrongly started work show up before counting: a later command, answered once it has run.
    let whoami = bot.slash_json("UCAROL", "whoami").await;
    assert!(ack_text(&whoami).contains("carol"), "{whoami}");
    let requests = bot
        .slack
        .posted()
        .into_iter()
        .filter(|(_, b)| !buttons(b).is_empty())
        .count();
    assert_eq!(
        requests,
        1,
        "one approval request: {:#?}",
        bot.slack.calls()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_workspaces_and_apps_are_refused() {
    let bot = Bot::start(Options::default()).await;
    let (status, answer) = bot.slash_in("TOTHER", CHANNEL, "UALICE", "scale 5").await;
    assert_eq!(status, 200);
    assert!(
        answer.contains("ephemeral") && answer.contains("workspace"),
        "{answer}"
    );
    let foreign =
        command_body(TEAM, CHANNEL, "UALICE", "scale 5").replace("api_app_id=A1", "api_app_id=A9");
    let (status, _) = bot.post_signed("/slack/commands", FORM, &foreign).await;
    assert_eq!(status, 403);
    // A Slack Connect outsider mentioning the bot in a shared channel.
    let outsider = callback(
        json!({"type": "app_mention", "user": "UALICE", "user_team": "TOTHER", "text": "<@UBOT> restart", "ts": "1.0", "channel": CHANNEL}),
        None,
    );
    assert_eq!(bot.event(&outsider).await.0, 200);
    let whoami = bot.slash_json("UCAROL", "whoami").await;
    assert!(ack_text(&whoami).contains("carol"), "{whoami}");
    assert!(
        posts_with(&bot.slack, "approve ").is_empty(),
        "{:#?}",
        bot.slack.calls()
    );
    assert!(real_changes(&bot.sim).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_from_people_is_shown_not_acted_on() {
    let bot = Bot::start(Options::default()).await;
    bot.slash("UALICE", "scale 4").await;
    bot.wait_for("the approval request", |s| {
        s.posted().iter().any(|(_, b)| !buttons(b).is_empty())
    })
    .await;
    let (ts, _, deny) = posted_request(&bot.slack, "deny");
    let id = deny.replace("deny ", "");
    bot.slash(
        "UBOB",
        &format!("deny {id} <!channel> see <https://evil.example|Approve> & <@UEVE>"),
    )
    .await;
    bot.wait_for("the denial", |s| {
        s.message(CHANNEL, &ts)
            .is_some_and(|m| buttons(&m).is_empty())
    })
    .await;
    bot.wait_for("the reason shown", |s| {
        s.calls()
            .iter()
            .any(|c| text_of(&c.body).contains("evil.example"))
    })
    .await;
    for call in bot.slack.calls() {
        let text = text_of(&call.body);
        assert!(
            !text.contains("<!channel>")
                && !text.contains("<https://evil")
                && !text.contains("<@UEVE>"),
            "{text}"
        );
    }
    assert!(
        bot.slack
            .calls()
            .iter()
            .any(|c| text_of(&c.body).contains("&lt;!channel&gt;"))
    );
}

/// Anyone not in the directory gets `unknown_role` (approver here), so only the workspace check stands between a
/// Slack Connect outsider and the cluster.
fn outsiders_would_be_approvers() -> Options {
    Options {
        unknown_role: Some("approver"),
        ..Options::default()
    }
}

/// A mention by an outsider in a shared channel, as Slack sends it: the envelope is our workspace's, the user's
/// own workspace is in `user_team` (and `source_team`, `team`).
fn outsider_mention(text: &str) -> serde_json::Value {
    callback(
        json!({"type": "app_mention", "user": "UOUT", "user_team": "TOTHER", "source_team": "TOTHER",
               "team": "TOTHER", "text": format!("<@UBOT> {text}"), "ts": "1700000800.1",
               "event_ts": "1700000800.1", "channel": CHANNEL}),
        None,
    )
}

/// A button press by an outsider: the payload's `team` is the channel's workspace, `user.team_id` theirs.
fn outsider_press(bot: &Bot, value: &str, message_ts: &str) -> serde_json::Value {
    let mut payload = bot.slack.block_actions(TEAM, "UOUT", value, message_ts);
    payload["user"]["team_id"] = json!("TOTHER");
    payload
}

/// Waits a little for anything an outsider's request could have started, then checks nothing did.
async fn assert_outsiders_ran_nothing(bot: &Bot) {
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let calls = bot.slack.calls();
    let answered: Vec<serde_json::Value> = whispers_to(&bot.slack, "UOUT")
        .into_iter()
        .filter(|b| !text_of(b).contains("workspace"))
        .collect();
    assert!(
        answered.is_empty(),
        "an outsider's request was taken (and answered): {answered:#?}"
    );
    assert!(
        posts_with(&bot.slack, "scale 6").is_empty(),
        "an outsider's mention was taken: {calls:#?}"
    );
    assert!(
        posts_with(&bot.slack, "approved by").is_empty(),
        "an outsider's vote counted: {calls:#?}"
    );
    assert!(
        posts_with(&bot.slack, "Noted on incident").is_empty(),
        "an outsider's pin became a note: {calls:#?}"
    );
    assert_eq!(replicas(&bot.sim).0, 3, "nothing changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_connect_outsiders_run_nothing_over_http() {
    let bot = Bot::start(outsiders_would_be_approvers()).await;
    bot.slash("UALICE", "scale 4").await;
    bot.wait_for("the approval request", |s| {
        s.posted().iter().any(|(_, b)| !buttons(b).is_empty())
    })
    .await;
    let (ts, _, approve) = posted_request(&bot.slack, "approve");
    let (status, answer) = bot.slash_in("TOTHER", CHANNEL, "UOUT", "scale 6").await;
    assert_eq!(status, 200);
    assert!(answer.contains("workspace"), "{answer}");
    assert_eq!(bot.event(&outsider_mention("scale 6")).await.0, 200);
    let press = form(&[("payload", &outsider_press(&bot, &approve, &ts).to_string())]);
    let (status, _) = bot.post_signed("/slack/interactions", FORM, &press).await;
    assert_eq!(status, 200);
    // A 📌 by an outsider on a message in a war room.
    bot.slash("UALICE", "incident declare P2 outsiders").await;
    let room = bot.war_room("outsiders").await;
    let note_ts = bot
        .slack
        .add_message(INCIDENTS, Some(&room), "UALICE", "db-2 lagging");
    let pin = json!({"type": "reaction_added", "user": "UOUT", "user_team": "TOTHER", "reaction": "pushpin",
                     "item_user": "UALICE", "item": {"type": "message", "channel": INCIDENTS, "ts": note_ts},
                     "event_ts": note_ts});
    assert_eq!(bot.event(&callback(pin, None)).await.0, 200);
    assert_outsiders_ran_nothing(&bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_connect_outsiders_run_nothing_over_socket_mode() {
    let bot = Bot::start_socket_mode_with(outsiders_would_be_approvers()).await;
    let envelope = |id: &str, kind: &str, payload: serde_json::Value| {
        json!({"envelope_id": id, "type": kind, "accepts_response_payload": kind == "slash_commands",
               "retry_attempt": 0, "retry_reason": "", "payload": payload})
    };
    let slash = |team: &str, user: &str, text: &str, trigger: &str| {
        json!({"token": "x", "team_id": team, "team_domain": "t", "channel_id": CHANNEL, "channel_name": "ops",
               "user_id": user, "user_name": user.to_lowercase(), "command": "/mystocks", "text": text,
               "api_app_id": "A1", "response_url": format!("https://hooks.slack.invalid/{trigger}"),
               "trigger_id": trigger})
    };
    assert!(bot.slack.socket_send(envelope(
        "env-alice",
        "slash_commands",
        slash(TEAM, "UALICE", "scale 4", "trig-alice")
    )));
    bot.wait_for("the approval request", |s| {
        s.posted().iter().any(|(_, b)| !buttons(b).is_empty())
    })
    .await;
    let (ts, _, approve) = posted_request(&bot.slack, "approve");
    let sent = [
        envelope(
            "env-out-1",
            "slash_commands",
            slash("TOTHER", "UOUT", "scale 6", "trig-out"),
        ),
        envelope("env-out-2", "events_api", outsider_mention("scale 6")),
        envelope(
            "env-out-3",
            "interactive",
            outsider_press(&bot, &approve, &ts),
        ),
    ];
    for e in sent {
        assert!(bot.slack.socket_send(e));
    }
    bot.wait_for("every envelope acknowledged", |s| {
        (1..=3).all(|n| {
            s.socket_acks()
                .iter()
                .any(|a| a["envelope_id"] == format!("env-out-{n}").as_str())
        })
    })
    .await;
    let refusal = bot
        .slack
        .socket_acks()
        .into_iter()
        .find(|a| a["envelope_id"] == "env-out-1")
        .expect("the slash command's ack");
    assert!(
        refusal["payload"].to_string().contains("workspace"),
        "the outsider is told why: {refusal}"
    );
    assert_outsiders_ran_nothing(&bot).await;
}

/// A slash command from `user` in workspace `team` of organisation `enterprise` (as an org-wide install sends it).
fn grid_command(team: &str, enterprise: Option<&str>, user: &str, text: &str) -> String {
    let mut body = command_body(team, CHANNEL, user, text);
    if let Some(org) = enterprise {
        body.push_str(&format!("&enterprise_id={org}&is_enterprise_install=true"));
    }
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_org_wide_install_takes_only_its_organisation_and_workspaces() {
    let bot = Bot::start(Options {
        enterprise_id: Some("E1"),
        workspaces: vec!["T2"],
        ..Options::default()
    })
    .await;
    // alice is one person in both workspaces of the organisation: `slack:E1/UALICE`.
    for team in [TEAM, "T2"] {
        let (status, answer) = bot
            .post_signed(
                "/slack/commands",
                FORM,
                &grid_command(team, Some("E1"), "UALICE", "whoami"),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        assert!(
            answer.contains("alice") && answer.contains("operator"),
            "from {team}: {answer}"
        );
    }
    // Another workspace of the organisation that is not configured, another organisation, and no organisation at all.
    for (team, org) in [("T3", Some("E1")), ("T2", Some("E2")), (TEAM, None)] {
        let (status, answer) = bot
            .post_signed(
                "/slack/commands",
                FORM,
                &grid_command(team, org, "UALICE", "scale 6"),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        assert!(
            answer.contains(
                "only takes commands from its own workspaces (T1, T2) of organisation E1"
            ),
            "{team}/{org:?}: {answer}"
        );
    }
    // Events and buttons from another organisation are not acted on either.
    let mut foreign = callback(
        json!({"type": "app_mention", "user": "UALICE", "text": "<@UBOT> scale 6", "ts": "1700000800.1",
               "event_ts": "1700000800.1", "channel": CHANNEL}),
        None,
    );
    foreign["enterprise_id"] = json!("E2");
    assert_eq!(bot.event(&foreign).await.0, 200);
    let (status, answer) = bot
        .post_signed(
            "/slack/commands",
            FORM,
            &grid_command("T2", Some("E1"), "UALICE", "scale 4"),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    bot.wait_for("the approval request", |s| {
        s.posted().iter().any(|(_, b)| !buttons(b).is_empty())
    })
    .await;
    let (ts, _, approve) = posted_request(&bot.slack, "approve");
    // bob presses Approve from workspace `team` of organisation `org`.
    let press_from = |team: &'static str, org: &'static str| {
        let mut press = bot.slack.block_actions(team, "UBOB", &approve, &ts);
        press["enterprise"] = json!({"id": org, "name": org});
        form(&[("payload", &press.to_string())])
    };
    let (status, _) = bot
        .post_signed("/slack/interactions", FORM, &press_from(TEAM, "E2"))
        .await;
    assert_eq!(status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(
        real_changes(&bot.sim).is_empty(),
        "{:?}",
        real_changes(&bot.sim)
    );
    // bob, pressing from the organisation, approves.
    let (status, _) = bot
        .post_signed("/slack/interactions", FORM, &press_from("T2", "E1"))
        .await;
    assert_eq!(status, 200);
    bot.wait_for("the rollout to complete", |s| {
        s.calls()
            .iter()
            .any(|c| text_of(&c.body).contains("Rollout complete"))
    })
    .await;
    assert_eq!(replicas(&bot.sim), (4, 4));
    assert_eq!(
        posts_with(&bot.slack, "scale 6").len(),
        0,
        "nothing from outside the organisation was acted on"
    );
}
