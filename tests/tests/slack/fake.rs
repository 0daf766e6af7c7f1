//! The fake Slack refuses what Slack refuses; the bot's own rendering and upload stay within what it accepts.

use std::sync::Arc;
use std::time::Duration;

use mystocks_adapters::slack::{ApiSettings, SlackApi, SlackSink};
use mystocks_commands::reply::{Action, ActionStyle, Block, Level, Reply, ReplyKind};
use mystocks_commands::{Conversation, ReplySink};
use mystocks_tests::fake_slack::{BOT_TOKEN, FakeSlack};
use serde_json::{Value, json};

async fn call(slack: &FakeSlack, method: &str, token: &str, body: &str) -> Value {
    let resp = reqwest::Client::new()
        .post(format!("{}/{method}", slack.api_url()))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("fake answers");
    resp.json().await.expect("JSON answer")
}

fn section(n: usize) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": "x".repeat(n)}})
}

#[tokio::test]
async fn refuses_what_slack_refuses() {
    mystocks_tests::init();
    let slack = FakeSlack::start(&["C1"]).await;
    let ok = json!({"channel": "C1", "text": "hi"}).to_string();
    assert_eq!(
        call(&slack, "chat.postMessage", BOT_TOKEN, &ok).await["ok"],
        true
    );
    let cases = [
        (BOT_TOKEN.replace("fake", "wrong"), ok.clone(), "invalid_auth"),
        (BOT_TOKEN.to_string(), json!({"channel": "C404", "text": "hi"}).to_string(), "channel_not_found"),
        (BOT_TOKEN.to_string(), json!({"channel": "C1"}).to_string(), "no_text"),
        (BOT_TOKEN.to_string(), json!({"channel": "C1", "text": "t", "blocks": vec![section(1); 51]}).to_string(), "invalid_blocks"),
        (BOT_TOKEN.to_string(), json!({"channel": "C1", "text": "t", "blocks": [section(3001)]}).to_string(), "invalid_blocks"),
        (BOT_TOKEN.to_string(), json!({"channel": "C1", "text": "t", "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h".repeat(151)}}]}).to_string(), "invalid_blocks"),
        (BOT_TOKEN.to_string(), json!({"channel": "C1", "text": "t", "blocks": [{"type": "section", "fields": vec![json!({"type": "mrkdwn", "text": "f"}); 11]}]}).to_string(), "invalid_blocks"),
        (BOT_TOKEN.to_string(), json!({"channel": "C1", "text": "t", "blocks": [{"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "b".repeat(76)}, "value": "v"}]}]}).to_string(), "invalid_blocks"),
        (BOT_TOKEN.to_string(), "{\"channel\": \"C1\", \"text\": ".to_string(), "invalid_json"),
    ];
    for (token, body, error) in cases {
        let answer = call(&slack, "chat.postMessage", &token, &body).await;
        assert_eq!(answer["error"], error, "{body:.120} → {answer}");
    }
    let update = json!({"channel": "C1", "ts": "999.1", "text": "x"}).to_string();
    assert_eq!(
        call(&slack, "chat.update", BOT_TOKEN, &update).await["error"],
        "message_not_found"
    );
    assert_eq!(slack.accepted("chat.postMessage").len(), 1);
}

#[tokio::test]
async fn the_sink_posts_big_and_hostile_replies_that_slack_accepts() {
    mystocks_tests::init();
    let slack = FakeSlack::start(&["C1"]).await;
    let settings = ApiSettings {
        api_url: slack.api_url(),
        post_interval: Duration::ZERO,
        ..ApiSettings::default()
    };
    let sink = SlackSink::new(Arc::new(
        SlackApi::new(&BOT_TOKEN.to_string().into(), settings).expect("client"),
    ));
    let log: String = (0..3000)
        .map(|i| format!("2026-11-28T10:00:{i:04} ERROR <!channel> request {i} & <@U1>\n"))
        .collect();
    let mut reply = Reply::new(ReplyKind::Result, Level::Warn).with_header("Logs ".repeat(60));
    for i in 0..70 {
        reply = reply.with_block(Block::Text {
            text: format!("paragraph {i} <https://evil|Approve>"),
        });
    }
    reply = reply
        .with_block(Block::Code { text: log.clone() })
        .with_action(Action {
            label: "Approve".repeat(20),
            command: "approve A1".into(),
            style: ActionStyle::Primary,
        });
    let conversation = Conversation {
        channel: "slack:T1/C1".into(),
        thread: Some("1700000000.1".into()),
    };
    let posted = sink
        .post(&conversation, &reply)
        .await
        .expect("Slack accepts it");
    assert!(slack.refused().is_empty(), "{:?}", slack.refused());
    let body = slack.message("C1", &posted.message_id).expect("stored");
    assert_eq!(body["thread_ts"], "1700000000.1");
    assert!(!body.to_string().contains("<!channel>"));
    // Long output is uploaded whole (3 steps) into the same thread, even when its block was cut from the message.
    let logs =
        Reply::new(ReplyKind::Result, Level::Info).with_block(Block::Code { text: log.clone() });
    sink.post(&conversation, &logs).await.expect("posted");
    let uploads = slack.uploads();
    assert_eq!(
        uploads
            .values()
            .filter(|bytes| bytes.as_slice() == log.as_bytes())
            .count(),
        2,
        "the whole log, twice"
    );
    let completed = slack.accepted("files.completeUploadExternal");
    assert_eq!(completed.len(), 2, "{:#?}", slack.calls());
    assert!(
        completed
            .iter()
            .all(|c| c["thread_ts"] == "1700000000.1" && c["channel_id"] == "C1")
    );
    let bad = Conversation {
        channel: "slack:T1/C404".into(),
        thread: None,
    };
    assert!(
        sink.post(&bad, &Reply::text(ReplyKind::Result, Level::Ok, "x"))
            .await
            .is_err(),
        "unknown channel is an error"
    );
}

async fn get(slack: &FakeSlack, method: &str, token: &str, query: &[(&str, &str)]) -> Value {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in query {
        q.append_pair(k, v);
    }
    reqwest::Client::new()
        .get(format!("{}/{method}?{}", slack.api_url(), q.finish()))
        .bearer_auth(token)
        .send()
        .await
        .expect("fake answers")
        .json()
        .await
        .expect("JSON answer")
}

#[tokio::test]
async fn user_groups_and_messages_are_read_as_strictly_as_slack_reads_them() {
    mystocks_tests::init();
    let slack = FakeSlack::start(&["C1"]).await;
    slack.set_usergroup("S1", &["UERIN", "UBOB"]);
    let members = get(
        &slack,
        "usergroups.users.list",
        BOT_TOKEN,
        &[("usergroup", "S1")],
    )
    .await;
    assert_eq!(members["users"], json!(["UERIN", "UBOB"]), "{members}");
    let bad_token = BOT_TOKEN.replace("fake", "wrong");
    for (token, query, error) in [
        (
            bad_token.as_str(),
            vec![("usergroup", "S1")],
            "invalid_auth",
        ),
        (BOT_TOKEN, vec![("usergroup", "S404")], "no_such_subteam"),
        (BOT_TOKEN, vec![], "invalid_arguments"),
    ] {
        let answer = get(&slack, "usergroups.users.list", token, &query).await;
        assert_eq!(answer["error"], error, "{query:?} → {answer}");
    }
    let posted = json!({"usergroup": "S1"}).to_string();
    assert_eq!(
        call(&slack, "usergroups.users.list", BOT_TOKEN, &posted).await["users"],
        json!(["UERIN", "UBOB"]),
        "a JSON body works too"
    );

    let root = slack.add_message("C1", None, "UALICE", "root");
    let first = slack.add_message("C1", Some(&root), "UBOB", "first");
    let second = slack.add_message("C1", Some(&root), "UERIN", "second");
    let window = [
        ("channel", "C1"),
        ("ts", second.as_str()),
        ("oldest", second.as_str()),
        ("latest", second.as_str()),
        ("inclusive", "true"),
    ];
    let answer = get(&slack, "conversations.replies", BOT_TOKEN, &window).await;
    let texts: Vec<&str> = answer["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert_eq!(
        texts,
        ["root", "second"],
        "the parent first, then the window: {answer}"
    );
    assert_eq!(answer["messages"][1]["thread_ts"], root.as_str());
    assert_eq!(answer["messages"][1]["user"], "UERIN");
    let whole = get(
        &slack,
        "conversations.replies",
        BOT_TOKEN,
        &[("channel", "C1"), ("ts", &first)],
    )
    .await;
    assert_eq!(
        whole["messages"].as_array().map(Vec::len),
        Some(3),
        "{whole}"
    );
    for (query, error) in [
        (
            vec![("channel", "C404"), ("ts", first.as_str())],
            "channel_not_found",
        ),
        (
            vec![("channel", "C1"), ("ts", "1.000001")],
            "thread_not_found",
        ),
        (
            vec![("channel", "C1"), ("ts", "yesterday")],
            "invalid_arguments",
        ),
        (vec![("channel", "C1")], "invalid_arguments"),
        (
            vec![("channel", "C1"), ("ts", first.as_str()), ("limit", "0")],
            "invalid_arguments",
        ),
        (
            vec![
                ("channel", "C1"),
                ("ts", first.as_str()),
                ("inclusive", "maybe"),
            ],
            "invalid_arguments",
        ),
    ] {
        let answer = get(&slack, "conversations.replies", BOT_TOKEN, &query).await;
        assert_eq!(answer["error"], error, "{query:?} → {answer}");
    }
}
