//! Roles from Slack user groups, through the real bot and the fake's strict `usergroups.users.list`: erin is in no
//! `[people]` entry, only in the approver group — she is named among the approvers and can approve; removed from the group, once the cached
//! membership expires, she cannot. A group Slack does not know grants nothing.

use std::time::Duration;

use crate::support::*;

/// Alice asks for `scale N`; the request's ts and Approve command.
async fn request_scale(bot: &Bot, replicas: u32, nth: usize) -> (String, String) {
    bot.slash("UALICE", &format!("scale {replicas}")).await;
    bot.wait_for("the approval request", |s| {
        s.posted()
            .iter()
            .filter(|(_, b)| !buttons(b).is_empty())
            .count()
            > nth
    })
    .await;
    let (ts, _, approve) = approval_request(&bot.slack, nth);
    (ts, approve)
}

fn scale_changes(bot: &Bot) -> usize {
    real_changes(&bot.sim)
        .iter()
        .filter(|c| c.contains("/scale"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_of_the_approver_group_approves_until_removed_and_the_ttl_passes() {
    let bot = Bot::start(Options {
        usergroup_roles: vec![("SAPPROVERS", "approver")],
        usergroup_ttl: Some("1s"),
        ..Options::default()
    })
    .await;
    bot.slack.set_usergroup("SAPPROVERS", &["UERIN"]);

    let (ts, approve) = request_scale(&bot, 4, 0).await;
    // The approvers asked by name include erin, an approver through the group only, and she is mentioned.
    bot.wait_for("the approvers' notice naming erin", |s| {
        s.posted().iter().any(|(_, b)| {
            let text = text_of(b);
            text.contains("waits for your approval")
                && text.contains(&format!("slack:{TEAM}/UERIN"))
                && b["text"].as_str().is_some_and(|t| t.contains("<@UERIN>"))
        })
    })
    .await;
    bot.press("UERIN", &approve, &ts).await;
    bot.wait_for("the rollout to complete", |s| {
        s.calls()
            .iter()
            .any(|c| text_of(&c.body).contains("Rollout complete"))
    })
    .await;
    assert_eq!(replicas(&bot.sim), (4, 4), "erin's approval executed");
    assert_eq!(scale_changes(&bot), 1);
    let lookups = bot.slack.accepted("usergroups.users.list");
    assert!(
        !lookups.is_empty() && lookups.iter().all(|q| q["usergroup"] == "SAPPROVERS"),
        "the group was looked up: {lookups:?}"
    );

    // Erin leaves the group; the cached membership is trusted for one more second at most.
    bot.slack.set_usergroup("SAPPROVERS", &["UBOB"]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (ts, approve) = request_scale(&bot, 5, 1).await;
    bot.press("UERIN", &approve, &ts).await;
    bot.wait_for("erin's refusal", |s| !whispers_to(s, "UERIN").is_empty())
        .await;
    let refusal = text_of(&whispers_to(&bot.slack, "UERIN")[0]);
    assert!(refusal.contains("approver"), "{refusal}");
    assert_eq!(scale_changes(&bot), 1, "nothing ran");
    assert_eq!(replicas(&bot.sim).0, 4);
    assert!(
        bot.slack.accepted("usergroups.users.list").len() > lookups.len(),
        "asked again after the TTL"
    );
    // Bob, a member now (and an approver anyway), still can.
    bot.press("UBOB", &approve, &ts).await;
    bot.wait_for("the second rollout", |s| {
        s.calls()
            .iter()
            .filter(|c| text_of(&c.body).contains("Rollout complete"))
            .count()
            >= 2
    })
    .await;
    assert_eq!(scale_changes(&bot), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_slack_does_not_know_grants_nothing() {
    let bot = Bot::start(Options {
        usergroup_roles: vec![("SGONE", "approver")],
        ..Options::default()
    })
    .await;
    let (ts, approve) = request_scale(&bot, 4, 0).await;
    bot.press("UERIN", &approve, &ts).await;
    bot.wait_for("erin's refusal", |s| !whispers_to(s, "UERIN").is_empty())
        .await;
    assert_eq!(scale_changes(&bot), 0);
    assert!(
        bot.slack.refused().contains(&(
            "usergroups.users.list".to_string(),
            "no_such_subteam".to_string()
        )),
        "{:?}",
        bot.slack.refused()
    );
}

/// A vote counts only while its voter holds an approving role: erin approves (1 of 2), leaves the approver group,
/// and when bob's vote would make the quorum, erin's is counted again — no longer an approver's — so nothing runs
/// until dave, an admin, approves as the second approver.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vote_from_someone_removed_from_the_approver_group_no_longer_counts() {
    let bot = Bot::start(Options {
        usergroup_roles: vec![("SAPPROVERS", "approver")],
        usergroup_ttl: Some("1s"),
        quorum: Some(2),
        ..Options::default()
    })
    .await;
    bot.slack.set_usergroup("SAPPROVERS", &["UERIN"]);
    let (ts, approve) = request_scale(&bot, 4, 0).await;
    bot.press("UERIN", &approve, &ts).await;
    bot.wait_for("erin's vote", |s| {
        s.calls()
            .iter()
            .any(|c| text_of(&c.body).contains("(1 of 2 approvals)"))
    })
    .await;

    bot.slack.set_usergroup("SAPPROVERS", &[]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    bot.press("UBOB", &approve, &ts).await;
    bot.wait_for("bob's vote, counted with erin's no longer", |s| {
        s.calls()
            .iter()
            .filter(|c| text_of(&c.body).contains("(1 of 2 approvals)"))
            .count()
            >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        scale_changes(&bot),
        0,
        "erin's vote no longer counts: nothing ran"
    );

    bot.press("UDAVE", &approve, &ts).await;
    bot.wait_for("the rollout to complete", |s| {
        s.calls()
            .iter()
            .any(|c| text_of(&c.body).contains("Rollout complete"))
    })
    .await;
    assert_eq!(scale_changes(&bot), 1, "bob and dave make the quorum");
}
