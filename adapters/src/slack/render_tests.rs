//! Tests of the Block Kit rendering: limits, escaping, actions, cut output.

use mystocks_commands::reply::{Action, ActionStyle, Block, Level, Reply, ReplyKind, StatusLine};
use serde_json::Value;

use super::{limits, render};

fn section_texts(blocks: &[Value]) -> Vec<String> {
    blocks
        .iter()
        .filter_map(|b| b["text"]["text"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn people_and_log_text_is_escaped_everywhere() {
    let evil = "<!channel> <@U999> <https://evil|Approve> & more";
    let reply = Reply::text(ReplyKind::Result, Level::Info, evil)
        .with_block(Block::Code { text: evil.into() })
        .with_block(Block::Fields {
            fields: vec![("Reason".into(), evil.into())],
        })
        .with_block(Block::Status {
            lines: vec![StatusLine {
                level: Level::Warn,
                label: evil.into(),
                detail: evil.into(),
                millis: None,
            }],
        });
    let r = render(&reply);
    let json = serde_json::to_string(&r.blocks).unwrap();
    assert!(
        !json.contains("<!channel>")
            && !json.contains("<@U999>")
            && !json.contains("<https://evil"),
        "{json}"
    );
    assert!(json.contains("&lt;!channel&gt;"), "{json}");
    assert!(!r.text.contains('<'), "{}", r.text);
}

#[test]
fn buttons_carry_the_command_and_fit_the_limits() {
    let reply = Reply::text(ReplyKind::ApprovalRequest, Level::Info, "scale 3 → 5")
        .with_action(Action {
            label: "Approve".into(),
            command: "approve A12".into(),
            style: ActionStyle::Primary,
        })
        .with_action(Action {
            label: "x".repeat(200),
            command: "y".repeat(5000),
            style: ActionStyle::Danger,
        })
        .with_approval("A12", "pending");
    let r = render(&reply);
    let actions = r.blocks.last().unwrap();
    assert_eq!(actions["type"], "actions");
    assert_eq!(actions["elements"][0]["value"], "approve A12");
    assert_eq!(actions["elements"][0]["style"], "primary");
    assert!(
        actions["elements"][1]["text"]["text"]
            .as_str()
            .unwrap()
            .chars()
            .count()
            <= limits::BUTTON_LABEL
    );
    assert!(
        actions["elements"][1]["value"]
            .as_str()
            .unwrap()
            .chars()
            .count()
            <= limits::BUTTON_VALUE
    );
    let decided =
        Reply::text(ReplyKind::ApprovalDecision, Level::Ok, "done").with_approval("A12", "done");
    assert!(
        render(&decided)
            .blocks
            .iter()
            .all(|b| b["type"] != "actions")
    );
}

#[test]
fn long_logs_are_cut_with_a_note_and_attached() {
    let log: String = (0..2000).map(|i| format!("line {i} <!here>\n")).collect();
    let r = render(
        &Reply::new(ReplyKind::Result, Level::Info).with_block(Block::Code { text: log.clone() }),
    );
    let texts = section_texts(&r.blocks);
    assert!(
        texts
            .iter()
            .all(|t| t.chars().count() <= limits::SECTION_TEXT)
    );
    assert!(
        texts[0].contains("Output cut") && texts[0].contains("line 1999"),
        "{}",
        texts[0]
    );
    assert_eq!(r.files.len(), 1);
    assert_eq!(r.files[0].content, log);
}

#[test]
fn many_blocks_and_long_text_stay_within_limits() {
    let mut reply = Reply::new(ReplyKind::Result, Level::Ok).with_header("h".repeat(400));
    for i in 0..80 {
        reply = reply.with_block(Block::Text {
            text: format!("paragraph {i}"),
        });
    }
    reply = reply.with_block(Block::Text {
        text: "&".repeat(10_000),
    });
    reply = reply.with_block(Block::Fields {
        fields: (0..25).map(|i| (format!("k{i}"), "v".into())).collect(),
    });
    reply = reply.with_action(Action {
        label: "Deny".into(),
        command: "deny A1".into(),
        style: ActionStyle::Danger,
    });
    let r = render(&reply);
    assert_eq!(r.blocks.len(), limits::BLOCKS);
    assert_eq!(
        r.blocks.last().unwrap()["type"],
        "actions",
        "the buttons survive the cut"
    );
    assert!(
        r.blocks[0]["text"]["text"]
            .as_str()
            .unwrap()
            .chars()
            .count()
            <= limits::HEADER
    );
    let note = &r.blocks[limits::BLOCKS - 2]["elements"][0]["text"];
    assert!(note.as_str().unwrap().contains("more blocks cut"), "{note}");
    let long = render(&Reply::text(
        ReplyKind::Result,
        Level::Ok,
        "&".repeat(10_000),
    ));
    let texts = section_texts(&long.blocks);
    assert!(texts.len() >= 17, "{}", texts.len());
    assert!(
        texts
            .iter()
            .all(|t| t.chars().count() <= limits::SECTION_TEXT && !t.ends_with("&am"))
    );
    let fields = render(
        &Reply::new(ReplyKind::Result, Level::Ok).with_block(Block::Fields {
            fields: (0..25).map(|i| (format!("k{i}"), "v".into())).collect(),
        }),
    );
    assert!(fields.blocks.iter().all(|b| {
        b["fields"]
            .as_array()
            .is_none_or(|f| f.len() <= limits::SECTION_FIELDS)
    }));
    assert_eq!(fields.blocks.len(), 3);
}

#[test]
fn people_to_notify_are_mentioned_once_and_only_slack_user_ids() {
    use mystocks_commands::Identity;
    let reply = Reply::text(
        ReplyKind::Notice,
        Level::Info,
        "bob, erin: A7 waits for your approval",
    )
    .with_mentions([
        Identity::new("slack", "T1/UBOB"),
        Identity::new("console", "bob"),
        Identity::new("matrix", "@erin:example.org"),
        Identity::new("slack", "T1/UERIN"),
        Identity::new("slack", "T1/UBOB"),
        // Not a user id: must not become `<!channel>` or a link.
        Identity::new("slack", "T1/!channel"),
        Identity::new("slack", "T1/U1|x>"),
    ]);
    let out = render(&reply);
    assert!(
        out.text.starts_with("<@UBOB> <@UERIN> "),
        "the notification names them: {}",
        out.text
    );
    let notes: Vec<&Value> = out
        .blocks
        .iter()
        .filter(|b| b["type"] == "context")
        .collect();
    assert_eq!(notes.len(), 1);
    assert_eq!(
        notes[0]["elements"][0]["text"],
        "Notified: <@UBOB> <@UERIN>"
    );
    let all = serde_json::to_string(&out.blocks).expect("json");
    assert!(
        !all.contains("<!channel>") && !all.contains("U1|x"),
        "{all}"
    );
    // Nobody to notify: no note, the text as before.
    let plain = render(&Reply::text(ReplyKind::Notice, Level::Info, "hello"));
    assert_eq!(plain.text, "hello");
    assert!(plain.blocks.iter().all(|b| b["type"] != "context"));
}
