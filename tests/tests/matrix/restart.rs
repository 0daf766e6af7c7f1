//! Restarts: the same device (no new one), the sync position resumed from the store, old commands not replayed,
//! commands sent while the bot was down answered if read-only and refused as too old if they change something.

use chrono::Duration as ChronoDuration;

use crate::support::{World, WorldOptions, bot_id, bot_says};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_the_device_resumes_and_does_not_replay() {
    let mut world = World::start(WorldOptions {
        encrypted: true,
        ..WorldOptions::default()
    })
    .await;
    let device = world.running().bot.device_id().expect("a device");
    world.alice.wait_for_device(&bot_id(), &device).await;
    world.alice.say(&world.room, "!mystocks pods").await;
    world
        .alice
        .wait_for("the first pods reply", |s| bot_says(s, &["mystocks-api-"]))
        .await;
    // (Registration itself made a device too; the bot's login is the other one.)
    let devices_before = world
        .synapse
        .devices(&world.admin, &bot_id())
        .await
        .expect("devices listed");
    assert!(devices_before.contains(&device));
    world.stop_bot().await;

    // While the bot is down: a read-only command and a change.
    world.alice.say(&world.room, "!mystocks status").await;
    world.alice.say(&world.room, "!mystocks scale 7").await;
    world.clock.advance(ChronoDuration::minutes(6));

    world.start_bot(&[]).await;
    assert_eq!(
        world.running().bot.device_id().as_deref(),
        Some(device.as_str()),
        "the session was restored"
    );
    let devices = world
        .synapse
        .devices(&world.admin, &bot_id())
        .await
        .expect("devices listed");
    assert_eq!(devices, devices_before, "no new device appeared");

    world
        .alice
        .wait_for("the late status answer", |s| {
            bot_says(s, &["Rollout status"])
        })
        .await;
    let offline = world
        .alice
        .wait_for("the offline refusal", |s| {
            bot_says(s, &["scale 7", "arrived while I was offline"])
        })
        .await;
    assert!(
        offline.encrypted,
        "replies after the restart are still encrypted"
    );

    // New messages still decrypt, and the first command is not answered again.
    world.alice.say(&world.room, "!mystocks whoami").await;
    world
        .alice
        .wait_for("the whoami reply", |s| {
            bot_says(s, &["alice"]) && s.body.contains("operator")
        })
        .await;
    let pods_answers = world
        .bot_messages()
        .iter()
        .filter(|s| {
            s.body.contains("mystocks-api-") && s.replaces.is_none() && s.body.contains("READY")
        })
        .count();
    assert_eq!(
        pods_answers, 1,
        "the pods command before the restart was not replayed"
    );
    assert!(
        !world
            .bot_messages()
            .iter()
            .any(|s| s.body.contains("Approval A")),
        "the old change was not requested late"
    );
    assert_eq!(world.replicas(), 3);
}
