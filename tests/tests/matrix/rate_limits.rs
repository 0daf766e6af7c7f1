//! Synapse's default rate limits (rc_message: 0.2/s, burst 10) apply to the bot; people are exempted so only the
//! bot meets them. Edits of one message are coalesced (the last content always lands), refused sends wait the
//! server's `retry_after_ms` and go through, and the approval transcript still completes.

use std::time::Duration;

use mystocks_commands::reply::{Level, ReplyKind};
use mystocks_commands::{Conversation, Reply, ReplySink};

use crate::approvals::request_scale;
use crate::support::{World, WorldOptions, bot_id, bot_says};

const PATIENCE: Duration = Duration::from_secs(240);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_rate_limits_edits_are_throttled_and_retry_after_is_honoured() {
    let world = World::start(WorldOptions {
        default_rate_limits: true,
        ..WorldOptions::default()
    })
    .await;
    let sink = world.running().bot.sink();
    let stats = sink.stats();

    // Twenty quick updates of one message: a couple of edits reach the room, the last content among them.
    let conversation = Conversation {
        channel: format!("matrix:{}", world.room),
        thread: None,
    };
    let message = sink
        .post(
            &conversation,
            &Reply::text(ReplyKind::Progress, Level::Info, "edit 0"),
        )
        .await
        .expect("posted");
    for i in 1..=20 {
        sink.update(
            &message,
            &Reply::text(ReplyKind::Progress, Level::Info, format!("edit {i}")),
        )
        .await
        .expect("queued");
    }
    sink.flush().await;
    let id = message.message_id.clone();
    let last = world
        .alice
        .wait_for_within(PATIENCE, "the last edit", |s| {
            s.replaces.as_deref() == Some(id.as_str()) && s.body.contains("edit 20")
        })
        .await;
    assert_eq!(
        last.msgtype, "m.notice",
        "progress is a notice (no notification)"
    );
    let edits = world
        .alice
        .seen()
        .into_iter()
        .filter(|s| s.replaces.as_deref() == Some(id.as_str()))
        .count();
    assert!(edits <= 3, "20 updates in a burst became {edits} edits");
    assert!(stats.counts().coalesced >= 15, "{:?}", stats.counts());

    // More replies than the burst allows: some sends are refused and retried after the server's delay.
    for _ in 0..9 {
        world.alice.say(&world.room, "!mystocks whoami").await;
    }
    let deadline = std::time::Instant::now() + PATIENCE;
    while world
        .bot_messages()
        .iter()
        .filter(|s| bot_says(s, &["Who you are"]))
        .count()
        < 9
    {
        assert!(
            std::time::Instant::now() < deadline,
            "not every command was answered: {:?}\n{:#?}",
            stats.counts(),
            world.alice.seen()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let counts = stats.counts();
    assert!(
        counts.rate_limited >= 1,
        "the homeserver never limited the bot: {counts:?}"
    );
    assert!(counts.waited_ms > 0, "{counts:?}");
    assert_eq!(counts.failed, 0, "nothing was dropped: {counts:?}");

    // The approval transcript under the same limits.
    let (request, approval) = request_scale(&world, 5).await;
    world
        .bob
        .say(&world.room, &format!("!mystocks approve {approval}"))
        .await;
    let req = request.event_id.clone();
    world
        .alice
        .wait_for_within(PATIENCE, "the request edited to Done", |s| {
            s.sender == bot_id()
                && s.replaces.as_deref() == Some(req.as_str())
                && s.body.contains("Done")
        })
        .await;
    assert_eq!(world.replicas(), 5);
    assert_eq!(stats.counts().failed, 0, "{:?}", stats.counts());
}
