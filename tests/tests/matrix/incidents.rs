//! The war room on Matrix: `incident declare` opens a thread in the configured incidents room; commands typed there
//! by exact name are answered in the thread and go on the timeline; a 📌 on a message of the thread notes it (once);
//! ack, resolve and the postmortem happen in the thread, and the postmortem lists it all in order.

use matrix_sdk::ruma::events::reaction::ReactionEventContent;
use matrix_sdk::ruma::events::relation::Annotation;
use matrix_sdk::ruma::{OwnedEventId, RoomId};
use mystocks_commands::incident::model::kind;

use crate::support::{World, WorldOptions, bot_id, bot_says};
use crate::user::Seen;

/// One row of the postmortem's timeline table: time, who, kind, text.
#[derive(Debug)]
struct Row {
    time: String,
    who: String,
    kind: String,
    text: String,
}

fn timeline_rows(postmortem: &str) -> Vec<Row> {
    let table = postmortem
        .split("## Timeline")
        .nth(1)
        .expect("the postmortem has a timeline");
    table
        .lines()
        .filter(|l| l.starts_with("| 20"))
        .map(|l| {
            let cells: Vec<&str> = l.split(" | ").map(|c| c.trim_matches(['|', ' '])).collect();
            Row {
                time: cells[0].to_string(),
                who: cells[1].to_string(),
                kind: cells[2].to_string(),
                text: cells[3].to_string(),
            }
        })
        .collect()
}

/// Sends a reaction as the bot itself (its own client), as a misbehaving second session of the account would.
async fn react_as_bot(world: &World, room: &RoomId, event_id: &str, key: &str) {
    let room = world
        .running()
        .bot
        .client()
        .get_room(room)
        .expect("the bot is in the room");
    let target = OwnedEventId::try_from(event_id).expect("event id");
    room.send(ReactionEventContent::new(Annotation::new(
        target,
        key.to_string(),
    )))
    .await
    .expect("the bot's reaction is sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_war_room_opens_in_the_incidents_room_and_keeps_the_timeline() {
    let world = World::start(WorldOptions {
        incidents_room: true,
        ..WorldOptions::default()
    })
    .await;
    let incidents = world.incidents_room.clone().expect("an incidents room");
    let step = || world.clock.advance(chrono::Duration::seconds(20));

    world
        .alice
        .say(
            &world.room,
            "!mystocks incident declare P1 checkout API down",
        )
        .await;
    let announcement = world
        .alice
        .wait_for("the war room's announcement in the incidents room", |s| {
            s.room == incidents.as_str()
                && s.thread.is_none()
                && s.replaces.is_none()
                && bot_says(s, &["Incident 1", "checkout API down"])
        })
        .await;
    let root = announcement.event_id.clone();
    let pointer = world
        .alice
        .wait_for(
            "where the war room is, in the room it was declared in",
            |s| s.room == world.room.as_str() && bot_says(s, &["Incident 1", "war room"]),
        )
        .await;
    assert!(pointer.body.contains(&root), "{}", pointer.body);
    let in_war_room = |s: &Seen| {
        s.sender == bot_id()
            && s.room == incidents.as_str()
            && s.thread.as_deref() == Some(root.as_str())
    };

    step();
    world.alice.say_in_thread(&incidents, &root, "health").await;
    world
        .alice
        .wait_for("`health` by exact name, answered in the thread", |s| {
            in_war_room(s) && s.body.contains("database")
        })
        .await;

    step();
    world
        .bob
        .say_in_thread(&incidents, &root, "incident ack")
        .await;
    world
        .alice
        .wait_for("the acknowledgement in the thread", |s| {
            in_war_room(s) && s.body.contains("acknowledged")
        })
        .await;

    // 📌 on a message of the thread: a note, once, whoever pins it again.
    step();
    let finding = world
        .bob
        .say_in_thread(
            &incidents,
            &root,
            "root cause: config push at 14:02 <b>@room</b>",
        )
        .await;
    world.alice.react(&incidents, finding.as_str(), "📌").await;
    world
        .alice
        .wait_for("the note's confirmation in the thread", |s| {
            in_war_room(s) && s.body.contains("Noted on incident 1")
        })
        .await;
    world.bob.react(&incidents, finding.as_str(), "📌").await;
    world
        .alice
        .react(&incidents, finding.as_str(), "📌\u{fe0f}")
        .await;
    // Not notes: a pin outside any war room, and a pin by the bot itself.
    let elsewhere = world.bob.say(&world.room, "unrelated: lunch at noon").await;
    world
        .alice
        .react(&world.room, elsewhere.as_str(), "📌")
        .await;
    let chatter = world
        .carol
        .say_in_thread(&incidents, &root, "customers report 502s")
        .await;
    react_as_bot(&world, &incidents, chatter.as_str(), "📌").await;

    step();
    world
        .alice
        .say_in_thread(&incidents, &root, "incident resolve")
        .await;
    world
        .alice
        .wait_for("the resolution in the thread", |s| {
            in_war_room(s) && s.body.contains("resolved after")
        })
        .await;

    step();
    world
        .alice
        .say_in_thread(&incidents, &root, "incident postmortem")
        .await;
    let postmortem = world
        .alice
        .wait_for("the postmortem in the thread", |s| {
            in_war_room(s) && s.body.contains("Postmortem — incident 1")
        })
        .await;

    let notes: Vec<_> = world
        .store
        .timeline(1)
        .await
        .expect("timeline")
        .into_iter()
        .filter(|e| e.kind == kind::NOTE)
        .collect();
    assert_eq!(notes.len(), 1, "one note for one pinned message: {notes:?}");
    assert_eq!(notes[0].actor, "alice", "the person who pinned it");
    assert_eq!(
        notes[0].text,
        "root cause: config push at 14:02 <b>@room</b>"
    );
    let confirmations = world
        .alice
        .seen()
        .into_iter()
        .filter(|s| in_war_room(s) && s.body.contains("Noted on incident"))
        .count();
    assert_eq!(confirmations, 1);

    let rows = timeline_rows(&postmortem.body);
    let expected: [(&str, &str, &str); 5] = [
        ("alice", kind::DECLARED, "declared P1"),
        ("alice", kind::COMMAND, "`health`"),
        ("bob", kind::ACK, "acknowledged"),
        ("alice", kind::NOTE, "root cause: config push"),
        ("alice", kind::RESOLVED, "resolved after"),
    ];
    let mut at = 0;
    let mut times = Vec::new();
    for (who, what, text) in expected {
        let found = rows[at..]
            .iter()
            .position(|r| r.who == who && r.kind == what && r.text.contains(text))
            .unwrap_or_else(|| {
                panic!("no `{what}` by {who} ({text}) after row {at} in order: {rows:#?}")
            });
        at += found;
        times.push(rows[at].time.clone());
        at += 1;
    }
    assert!(
        times.windows(2).all(|w| w[0] < w[1]),
        "each step has its own, later time: {times:?}"
    );
    assert!(
        !postmortem.body.contains("@room"),
        "the pinned text cannot ping the room from the postmortem"
    );
}
