//! Slack Web API trouble in the bot's own metrics: a 429 and a refusal provoked through the fake show up in
//! `/metrics` as `mystocks_bot_slack_rate_limited_total` and `mystocks_bot_slack_api_errors_total{kind=…}`.

use mystocks_tests::fake_slack::Failure;
use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_and_errors_from_slack_are_counted() {
    let bot = Bot::start(Options::default()).await;
    let before = bot
        .metrics_when("the Slack series", |m| {
            m.contains("mystocks_bot_slack_rate_limited_total")
        })
        .await;
    assert!(
        before.contains("mystocks_bot_slack_rate_limited_total 0"),
        "{before}"
    );

    bot.slack.fail_next(
        "chat.postMessage",
        Failure::RateLimited { retry_after: 1 },
        1,
    );
    bot.slack
        .fail_next("chat.postMessage", Failure::ServerError, 1);
    let mention = json!({"type": "app_mention", "user": "UCAROL", "text": "<@UBOT> pods", "ts": "1700001000.000100",
                         "channel": CHANNEL});
    bot.event(&callback(mention, None)).await;
    bot.wait_for("the answer after a 429 and a 500", |s| {
        !s.accepted("chat.postMessage").is_empty()
    })
    .await;
    // A mention in a channel the bot was never invited to: Slack refuses the answer (channel_not_found).
    let elsewhere = json!({"type": "app_mention", "user": "UCAROL", "text": "<@UBOT> pods", "ts": "1700001001.000100",
                           "channel": "CNOTIN"});
    bot.event(&callback(elsewhere, None)).await;

    let text = bot
        .metrics_when("the refusal", |m| m.contains("kind=\"channel_not_found\""))
        .await;
    for series in [
        "mystocks_bot_slack_rate_limited_total 1",
        "mystocks_bot_slack_api_errors_total{kind=\"rate_limited\"} 1",
        "mystocks_bot_slack_api_errors_total{kind=\"http_5xx\"} 1",
        "mystocks_bot_slack_api_errors_total{kind=\"channel_not_found\"} 1",
    ] {
        assert!(text.contains(series), "missing {series} in:\n{text}");
    }
    assert!(
        !text.contains("UCAROL") && !text.contains("CNOTIN"),
        "no user or channel ids in labels"
    );
}
