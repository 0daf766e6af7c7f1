//! The approval transcript in a Matrix room: a change requested, approved by a second person by command or by ✅
//! reaction, denied by ❌, self-approval refused; the request message edited to its outcome; rollout progress in
//! one message.

use crate::support::{World, WorldOptions, approval_id_in, bot_id, bot_says};
use crate::user::Seen;

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
