//! An incident war room on Slack: `/mystocks incident declare P1 …` opens the room as a new message in the
//! incidents channel (its thread is the room); `health` typed there by its exact name is answered there and lands
//! on the timeline; a 📌 on a person's message in the room notes it, once however often it is pinned, and 📌
//! elsewhere or on the bot's own messages does nothing; `incident ack`, `incident resolve` and `incident
//! postmortem` follow, the postmortem uploaded as a file into the room (files.getUploadURLExternal, the upload,
//! files.completeUploadExternal).

use serde_json::Value;

use crate::support::*;

const NOTE: &str = "cache hit rate dropped at 14:02, &lt;3 pods warm";

/// Posts in the room (the thread `room` of the incidents channel).
fn room_posts(bot: &Bot, room: &str) -> Vec<(String, Value)> {
    bot.slack
        .posted()
        .into_iter()
        .filter(|(_, b)| b["channel"] == INCIDENTS && b["thread_ts"] == room)
        .collect()
}

fn room_posts_with(bot: &Bot, room: &str, needle: &str) -> usize {
    room_posts(bot, room)
        .iter()
        .filter(|(_, b)| text_of(b).contains(needle))
        .count()
}

/// The lines of one `## title` section of a Markdown document.
fn section<'a>(markdown: &'a str, title: &str) -> Vec<&'a str> {
    markdown
        .split("\n## ")
        .find(|s| s.starts_with(title))
        .map(|s| s.lines().skip(1).filter(|l| l.starts_with("- ")).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_war_room_in_a_thread_from_declaration_to_postmortem() {
    let bot = Bot::start(Options::default()).await;
    let ack = bot
        .slash_json("UALICE", "incident declare P1 api down")
        .await;
    assert_eq!(
        ack["response_type"], "in_channel",
        "the declaration is shown, its answer posted (it opens a thread): {ack}"
    );
    let room = bot.war_room("api down").await;
    bot.wait_for("the pointer to the room where it was declared", |s| {
        posts_with(s, &room).iter().any(|b| b["channel"] == CHANNEL)
    })
    .await;

    // `health` by its exact name in the room: answered in the room.
    bot.say_in_thread(INCIDENTS, &room, "UCAROL", "health")
        .await;
    bot.wait_for("health in the room", |s| {
        s.posted()
            .iter()
            .any(|(_, b)| b["thread_ts"] == room.as_str() && text_of(b).contains("Health"))
    })
    .await;
    // Talk is not a command.
    bot.say_in_thread(INCIDENTS, &room, "UBOB", "status is bad, looking")
        .await;

    // 📌 on a person's message in the room: a note, once, however often and by whomever it is pinned.
    let said = bot.say_in_thread(INCIDENTS, &room, "UALICE", NOTE).await;
    for pinner in ["UBOB", "UALICE", "UBOB"] {
        assert_eq!(bot.react(INCIDENTS, &said, pinner, "pushpin").await.0, 200);
    }
    bot.wait_for("the note's confirmation", |s| {
        s.posted().iter().any(|(_, b)| {
            b["thread_ts"] == room.as_str() && text_of(b).contains("Noted on incident 1")
        })
    })
    .await;
    // 📌 on the bot's own answer, a 👍, 📌 by the bot itself, and 📌 in an ordinary thread: nothing.
    let (health_ts, _) = room_posts(&bot, &room)
        .into_iter()
        .find(|(_, b)| text_of(b).contains("Health"))
        .expect("the health answer");
    bot.react(INCIDENTS, &health_ts, "UBOB", "pushpin").await;
    let other = bot.react(INCIDENTS, &said, "UBOB", "+1").await;
    assert_eq!(other.0, 200);
    let elsewhere_root = bot.slack.add_message(CHANNEL, None, "UDAVE", "lunch?");
    let elsewhere = bot
        .say_in_thread(CHANNEL, &elsewhere_root, "UDAVE", "pizza, pinned")
        .await;
    bot.react(CHANNEL, &elsewhere, "UDAVE", "pushpin").await;
    let another = bot
        .say_in_thread(INCIDENTS, &room, "UDAVE", "db looks fine")
        .await;
    bot.react(INCIDENTS, &another, "UBOT", "pushpin").await;

    // The on-call approver acknowledges, the commander resolves: both in the room.
    bot.say_in_thread(INCIDENTS, &room, "UBOB", "incident ack")
        .await;
    bot.wait_for("the acknowledgement", |s| {
        s.posted()
            .iter()
            .any(|(_, b)| b["thread_ts"] == room.as_str() && text_of(b).contains("acknowledged"))
    })
    .await;
    bot.say_in_thread(INCIDENTS, &room, "UALICE", "incident resolve")
        .await;
    bot.wait_for("the resolution", |s| {
        s.posted()
            .iter()
            .any(|(_, b)| b["thread_ts"] == room.as_str() && text_of(b).contains("resolved"))
    })
    .await;

    // The postmortem, uploaded into the room.
    bot.say_in_thread(INCIDENTS, &room, "UCAROL", "incident postmortem")
        .await;
    bot.wait_for("the postmortem file", |s| {
        !s.accepted("files.completeUploadExternal").is_empty()
    })
    .await;
    let complete = &bot.slack.accepted("files.completeUploadExternal")[0];
    assert_eq!(complete["channel_id"], INCIDENTS, "{complete}");
    assert_eq!(
        complete["thread_ts"],
        room.as_str(),
        "into the room: {complete}"
    );
    let asked = &bot.slack.accepted("files.getUploadURLExternal")[0];
    assert!(
        asked["filename"]
            .as_str()
            .is_some_and(|f| f.contains("postmortem")),
        "{asked}"
    );
    let file_id = complete["files"][0]["id"].as_str().expect("file id");
    let uploads = bot.slack.uploads();
    let markdown = String::from_utf8_lossy(uploads.get(file_id).expect("the bytes were uploaded"));

    let notes = section(&markdown, "Notes");
    assert_eq!(
        notes.len(),
        1,
        "one note, from one 📌 (pinned three times; the others were not notes):\n{markdown}"
    );
    assert!(
        notes[0].contains("cache hit rate dropped at 14:02, <3 pods warm")
            && notes[0].contains("bob"),
        "the message's text, noted by the first to pin it: {}",
        notes[0]
    );
    let commands = section(&markdown, "Commands and approvals").join("\n");
    assert!(commands.contains("health"), "{markdown}");
    assert!(
        markdown.contains("- Acknowledged:") && markdown.contains("by bob"),
        "{markdown}"
    );
    assert!(
        markdown.contains("- Resolved:") && markdown.contains("by alice"),
        "{markdown}"
    );
    for absent in ["pizza", "db looks fine", "status is bad"] {
        assert!(!markdown.contains(absent), "{absent} is in:\n{markdown}");
    }
    assert_eq!(
        room_posts_with(&bot, &room, "Noted on incident"),
        1,
        "{:#?}",
        room_posts(&bot, &room)
    );
    let reads = bot.slack.accepted("conversations.replies");
    assert!(
        reads.iter().all(|q| q["ts"] != elsewhere_root.as_str()),
        "pinned messages are read one by one: {reads:?}"
    );
    assert!(
        bot.slack.refused().is_empty(),
        "Slack refused nothing: {:?}",
        bot.slack.refused()
    );
}
