//! The approval transcript in a Matrix room: a change requested, approved by a second person by command or by ✅
//! reaction, denied by ❌, self-approval refused; the request message edited to its outcome; rollout progress in
//! one message.

use crate::support::{World, WorldOptions, approval_id_in, bot_id, bot_says};
use crate::user::Seen;
use mystocks_commands::Handler;

/// Alice asks for `scale N`; returns the request message and its approval id.
pub async fn request_scale(world: &World, replicas: u32) -> (Seen, String) {
    world
        .alice
        .say(&world.room, &format!("!mystocks scale {replicas}"))
        .await;
    let request = world
        .alice
        .wait_for("the approval request", |s| {
            bot_says(s, &["Approval A", &format!("scale {replicas}")]) && s.replaces.is_none()
        })
        .await;
    assert!(
        request.body.contains("React ✅ to approve or ❌ to deny"),
        "the request says how: {}",
        request.body
    );
    let id = approval_id_in(&request.body).expect("an approval id in the request");
    (request, id)
}

/// Waits until the request message has been edited to contain `word`.
pub async fn request_edited_to(world: &World, request: &Seen, word: &str) -> Seen {
    let id = request.event_id.clone();
    world
        .alice
        .wait_for(&format!("the request edited to `{word}`"), move |s| {
            s.sender == bot_id()
                && s.replaces.as_deref() == Some(id.as_str())
                && s.body.contains(word)
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_by_command_runs_the_change_and_edits_the_request() {
    let world = World::start(WorldOptions::default()).await;
    let (request, id) = request_scale(&world, 5).await;
    assert_eq!(world.replicas(), 3, "nothing changes before approval");
    world
        .bob
        .say(&world.room, &format!("!mystocks approve {id}"))
        .await;
    request_edited_to(&world, &request, "Done").await;
    assert_eq!(world.replicas(), 5);
    // Progress lives in one message: every rollout line after the first is an edit of it.
    let progress: Vec<Seen> = world
        .bot_messages()
        .into_iter()
        .filter(|s| s.body.contains("rollout") || s.body.contains("Rollout"))
        .collect();
    let posts: Vec<&Seen> = progress.iter().filter(|s| s.replaces.is_none()).collect();
    assert!(
        posts.len() <= 1,
        "progress was posted as one message and edited: {progress:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_by_reaction_counts_as_the_approvers_vote() {
    let world = World::start(WorldOptions::default()).await;
    let (request, id) = request_scale(&world, 4).await;
    world.bob.react(&world.room, &request.event_id, "✅").await;
    world
        .alice
        .wait_for("bob's approval announced", |s| {
            bot_says(s, &[&id, "approved by bob"])
        })
        .await;
    request_edited_to(&world, &request, "Done").await;
    assert_eq!(world.replicas(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denial_by_reaction_closes_the_request() {
    let world = World::start(WorldOptions::default()).await;
    let (request, id) = request_scale(&world, 6).await;
    world.bob.react(&world.room, &request.event_id, "❌").await;
    request_edited_to(&world, &request, "Denied").await;
    world
        .alice
        .wait_for("the denial", |s| bot_says(s, &[&id, "denied by bob"]))
        .await;
    assert_eq!(world.replicas(), 3, "a denied change is never made");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_approval_is_refused_by_command_and_by_reaction() {
    let world = World::start(WorldOptions::default()).await;
    let (request, id) = request_scale(&world, 5).await;
    world
        .alice
        .say(&world.room, &format!("!mystocks approve {id}"))
        .await;
    world
        .alice
        .wait_for("the refusal", |s| bot_says(s, &["two-person rule"]))
        .await;
    world
        .alice
        .react(&world.room, &request.event_id, "✅")
        .await;
    let refusals = || {
        world
            .bot_messages()
            .into_iter()
            .filter(|s| s.body.contains("two-person rule"))
            .count()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while refusals() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the reaction was not refused: {:?}",
            world.bot_messages()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Carol (viewer) cannot approve either; bob can, and only then does anything change.
    world
        .carol
        .react(&world.room, &request.event_id, "✅")
        .await;
    world
        .alice
        .wait_for("carol's refusal", |s| {
            bot_says(s, &["@carol:localhost", "approv"])
        })
        .await;
    assert_eq!(world.replicas(), 3, "refused votes change nothing");
    world.bob.react(&world.room, &request.event_id, "✅").await;
    request_edited_to(&world, &request, "Done").await;
    assert_eq!(world.replicas(), 5);
}

/// A ✅ on the request that arrives in another room is no vote: votes count only in the request's own room.
/// Synapse refuses to create a relation to another room's event for its own users, but another homeserver can
/// still send one over federation; so the test checks Synapse's refusal, then hands the bot that event as sync
/// would have brought it in the other room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reaction_from_another_room_is_no_vote() {
    let world = World::start(WorldOptions {
        incidents_room: true,
        ..WorldOptions::default()
    })
    .await;
    let other_room = world.incidents_room.clone().expect("a second room");
    let (request, id) = request_scale(&world, 7).await;
    let content = serde_json::json!({
        "m.relates_to": {"rel_type": "m.annotation", "event_id": request.event_id, "key": "✅"}
    });
    let refused = world
        .bob
        .client
        .get_room(&other_room)
        .expect("bob is in the other room")
        .send_raw("m.reaction", content.clone())
        .await;
    assert!(
        refused.is_err(),
        "Synapse refuses a local relation across rooms (else send it this way): {refused:?}"
    );
    let event = serde_json::json!({
        "type": "m.reaction",
        "event_id": "$federated-vote-from-the-other-room",
        "sender": world.bob.user_id.to_string(),
        "origin_server_ts": chrono::Utc::now().timestamp_millis(),
        "content": content,
    });
    let event = matrix_sdk::ruma::serde::Raw::from_json_string(event.to_string())
        .expect("a timeline event");
    let running = world.running();
    let handler: std::sync::Arc<dyn Handler> = std::sync::Arc::new(running.core.clone());
    running
        .bot
        .handle_delivered(&other_room, event, &handler)
        .await;
    running.core.settle().await;
    // The bot answers in the room the reaction came from; until then, watch for the vote being counted.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let seen = world.alice.seen();
        let voted = seen.iter().any(|s| {
            bot_says(s, &[&id, "approved by bob"])
                || (s.replaces.as_deref() == Some(request.event_id.as_str())
                    && s.body.contains("Done"))
        });
        assert!(
            !voted,
            "a reaction from another room counted as a vote: {seen:?}"
        );
        let refused = seen
            .iter()
            .any(|s| s.room == other_room.as_str() && bot_says(s, &[&id, "only be decided"]));
        if refused {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no answer in the room the reaction came from: {seen:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(world.replicas(), 3, "nothing was approved");
    // The same person's vote in the request's own room still counts.
    world.bob.react(&world.room, &request.event_id, "✅").await;
    request_edited_to(&world, &request, "Done").await;
    assert_eq!(world.replicas(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_typed_in_another_room_is_told_where_to_decide_with_a_link() {
    let world = World::start(WorldOptions {
        incidents_room: true,
        ..WorldOptions::default()
    })
    .await;
    let other = world.incidents_room.clone().expect("a second room");
    let (request, id) = request_scale(&world, 5).await;
    world
        .bob
        .say(&other, &format!("!mystocks approve {id}"))
        .await;
    let link = format!("https://matrix.to/#/{}/{}", world.room, request.event_id);
    let refusal = world
        .bob
        .wait_for("the refusal naming where to decide", |s| {
            s.room == other.as_str() && bot_says(s, &[&id, "decide it in"])
        })
        .await;
    assert!(
        refusal.body.contains(&link),
        "the refusal links to the request message ({link}): {}",
        refusal.body
    );
    assert_eq!(world.replicas(), 3, "nothing was approved");
}
