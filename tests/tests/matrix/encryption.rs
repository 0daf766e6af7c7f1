//! An encrypted room: commands decrypt, the bot's replies are themselves encrypted, and the approval transcript
//! works end to end.

use crate::approvals::{request_edited_to, request_scale};
use crate::support::{World, WorldOptions, bot_id, bot_says};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_room_approval_transcript() {
    let world = World::start(WorldOptions {
        encrypted: true,
        ..WorldOptions::default()
    })
    .await;
    let device = world
        .running()
        .bot
        .device_id()
        .expect("the bot has a device");
    world.alice.wait_for_device(&bot_id(), &device).await;
    world.bob.wait_for_device(&bot_id(), &device).await;
    world.alice.say(&world.room, "!mystocks pods").await;
    let pods = world
        .alice
        .wait_for("the pods reply", |s| bot_says(s, &["mystocks-api-"]))
        .await;
    assert!(
        pods.encrypted,
        "the bot's reply in an encrypted room is encrypted"
    );
    let (request, id) = request_scale(&world, 5).await;
    assert!(request.encrypted);
    let seen_by_bob = world
        .bob
        .wait_for("the request, decrypted by bob", |s| {
            s.event_id == request.event_id
        })
        .await;
    assert!(seen_by_bob.encrypted && seen_by_bob.body.contains(&id));
    world.bob.react(&world.room, &request.event_id, "✅").await;
    let done = request_edited_to(&world, &request, "Done").await;
    assert!(done.encrypted, "edits are encrypted too");
    assert_eq!(world.replicas(), 5);
    assert!(
        world.bot_messages().iter().all(|s| s.encrypted),
        "every bot message was encrypted"
    );
}
