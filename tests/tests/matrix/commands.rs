//! Commands as room messages: the reply, its HTML, its thread.

use crate::support::{World, WorldOptions, bot_says};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_gets_an_html_reply() {
    let world = World::start(WorldOptions::default()).await;
    let asked = world.alice.say(&world.room, "!mystocks pods").await;
    let reply = world
        .alice
        .wait_for("the pods reply", |s| bot_says(s, &["mystocks-api-"]))
        .await;
    assert_eq!(
        reply.thread, None,
        "a command outside a thread is answered outside a thread"
    );
    let html = reply.html.expect("the reply has an HTML body");
    assert!(html.contains("<table>"), "{html}");
    assert_ne!(reply.event_id, asked.to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_in_a_thread_is_answered_in_that_thread() {
    let world = World::start(WorldOptions::default()).await;
    let root = world.alice.say(&world.room, "latency is up, looking").await;
    world
        .alice
        .say_in_thread(&world.room, root.as_str(), "/mystocks status")
        .await;
    let reply = world
        .alice
        .wait_for("a status reply in the thread", |s| {
            s.sender == crate::support::bot_id() && s.thread.as_deref() == Some(root.as_str())
        })
        .await;
    assert!(reply.body.contains("mystocks-api"), "{}", reply.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_from_people_is_escaped_and_cannot_ping_the_room() {
    let world = World::start(WorldOptions::default()).await;
    world.alice.say(&world.room, "!mystocks <b>@room</b>").await;
    let reply = world
        .alice
        .wait_for("the unknown-command refusal", |s| {
            bot_says(s, &["unknown command"])
        })
        .await;
    let html = reply.html.expect("HTML body");
    assert!(
        html.contains("&lt;b&gt;"),
        "markup from people is escaped: {html}"
    );
    assert!(!html.contains("<b>"), "{html}");
    assert!(
        !reply.body.contains("@room") && !html.contains("@room"),
        "@room is defused: {}",
        reply.body
    );
    assert!(reply.body.contains("@\u{2060}room"), "{}", reply.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uninvited_room_is_ignored_and_its_invitation_declined() {
    let world = World::start(WorldOptions::default()).await;
    let other = world
        .alice
        .create_room(false, &[&crate::support::bot_id()])
        .await;
    world.alice.say(&other, "!mystocks pods").await;
    // A command in the allowed room after it: once that is answered, the other room's event has been seen too.
    world.alice.say(&world.room, "!mystocks help").await;
    world
        .alice
        .wait_for("the help reply", |s| {
            bot_says(s, &["rollback"]) && s.room == world.room.as_str()
        })
        .await;
    let bot = &world.running().bot;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let state = bot.client().get_room(&other).map(|r| r.state());
        if state == Some(matrix_sdk::RoomState::Left) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the invitation was not declined: {state:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let answered_there = world
        .alice
        .seen()
        .into_iter()
        .any(|s| s.sender == crate::support::bot_id() && s.room == other.as_str());
    assert!(
        !answered_there,
        "the bot said something in a room it is not allowed in"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn talk_and_unknown_identities_do_not_reach_the_core() {
    let world = World::start(WorldOptions::default()).await;
    world
        .alice
        .say(&world.room, "status looks fine to me")
        .await;
    world.carol.say(&world.room, "!mystocks whoami").await;
    let whoami = world
        .alice
        .wait_for("carol's whoami", |s| bot_says(s, &["carol"]))
        .await;
    assert!(
        whoami.body.contains("viewer"),
        "roles come from the directory, not power levels: {}",
        whoami.body
    );
    let replies = world.bot_messages();
    assert_eq!(
        replies.len(),
        1,
        "only the command was answered: {replies:?}"
    );
}
