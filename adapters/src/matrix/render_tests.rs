//! Rendering tests: escaping, ping defusing, private replies, approval instructions.

use mystocks_commands::Identity;
use mystocks_commands::reply::{Action, ActionStyle, Block, Level, Reply, ReplyKind, Table};

use super::*;

#[test]
fn html_from_logs_is_escaped() {
    let reply = Reply::text(
        ReplyKind::Result,
        Level::Info,
        "<script>alert(1)</script> & <a href=x>y</a>",
    );
    let r = render(&reply);
    assert!(!r.html.contains("<script>"), "{}", r.html);
    assert!(!r.html.contains("<a href=x>"), "{}", r.html);
    assert!(
        r.html
            .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;a href=x&gt;y&lt;/a&gt;")
    );
    assert_eq!(r.plain, "<script>alert(1)</script> & <a href=x>y</a>");
}

#[test]
fn room_pings_are_defused_in_both_bodies() {
    let reply = Reply::new(ReplyKind::Result, Level::Info).with_block(Block::Code {
        text: "ERROR paging @room now, @ROOM too".into(),
    });
    let r = render(&reply);
    for body in [&r.plain, &r.html] {
        assert!(!body.to_lowercase().contains("@room"), "{body}");
        assert!(body.contains("@\u{2060}room"), "{body}");
    }
    assert_eq!(
        defuse_pings("mail me@roomy.org"),
        "mail me@\u{2060}roomy.org"
    );
    assert_eq!(defuse_pings("@ro"), "@ro");
}

#[test]
fn code_spans_become_code_but_stay_escaped() {
    let reply = Reply::text(ReplyKind::Refusal, Level::Warn, "try `scale <5>` instead");
    assert!(
        render(&reply)
            .html
            .contains("try <code>scale &lt;5&gt;</code> instead")
    );
    let unpaired = Reply::text(ReplyKind::Refusal, Level::Warn, "a ` b");
    assert!(render(&unpaired).html.contains("a ` b"));
}

#[test]
fn private_replies_address_the_person() {
    let reply = Reply::text(ReplyKind::Refusal, Level::Warn, "no")
        .private_to(Identity::new("matrix", "@carol:example.org"));
    let r = render(&reply);
    assert_eq!(r.addressed_to.as_deref(), Some("@carol:example.org"));
    assert!(r.plain.starts_with("@carol:example.org:"));
    assert!(r.html.contains("https://matrix.to/#/@carol:example.org"));
}

#[test]
fn approval_requests_say_how_to_approve() {
    let reply = Reply::new(ReplyKind::ApprovalRequest, Level::Info)
        .with_header("Approval A1 — `scale 5`")
        .with_action(Action {
            label: "Approve".into(),
            command: "approve A1".into(),
            style: ActionStyle::Primary,
        })
        .with_action(Action {
            label: "Deny".into(),
            command: "deny A1".into(),
            style: ActionStyle::Danger,
        });
    let r = render(&reply);
    assert!(
        r.plain.contains("React ✅ to approve or ❌ to deny"),
        "{}",
        r.plain
    );
    assert!(r.plain.contains("`!mystocks approve A1`"), "{}", r.plain);
    assert!(
        r.plain.contains("`!mystocks deny A1 REASON`"),
        "{}",
        r.plain
    );
    assert!(
        r.html
            .contains("<strong>Approval A1 — <code>scale 5</code></strong>"),
        "{}",
        r.html
    );
}

#[test]
fn tables_and_fields_render() {
    let table = Table {
        columns: vec!["NAME".into()],
        rows: vec![vec!["<pod>".into()]],
    };
    let reply = Reply::new(ReplyKind::Result, Level::Ok)
        .with_block(Block::Table { table })
        .with_block(Block::Fields {
            fields: vec![("Replicas".into(), "3 → 5".into())],
        });
    let r = render(&reply);
    assert!(r.html.contains("<td>&lt;pod&gt;</td>"), "{}", r.html);
    assert!(
        r.html.contains("<li><strong>Replicas</strong>: 3 → 5</li>"),
        "{}",
        r.html
    );
    assert!(r.plain.contains("Replicas: 3 → 5"));
}

#[test]
fn people_to_notify_are_pills_and_only_matrix_user_ids() {
    let reply = Reply::text(
        ReplyKind::Notice,
        Level::Info,
        "bob: A7 waits for your approval",
    )
    .with_mentions([
        Identity::new("matrix", "@bob:example.org"),
        Identity::new("slack", "T1/UBOB"),
        Identity::new("matrix", "@bob:example.org"),
        Identity::new("matrix", "@room"),
        Identity::new("matrix", "@x:y\"><script>"),
    ]);
    let out = render(&reply);
    assert_eq!(out.notified, ["@bob:example.org"]);
    assert!(
        out.plain.ends_with("Notified: @bob:example.org"),
        "{}",
        out.plain
    );
    assert!(
        out.html
            .contains("<a href=\"https://matrix.to/#/@bob:example.org\">@bob:example.org</a>"),
        "{}",
        out.html
    );
    assert!(!out.html.contains("<script>"));
    let plain = render(&Reply::text(ReplyKind::Notice, Level::Info, "hello"));
    assert!(plain.notified.is_empty() && !plain.plain.contains("Notified"));
}
