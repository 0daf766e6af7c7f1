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
