//! Read-only commands answer from the live cluster, for every role that may read.

use mystocks_commands::reply::ReplyKind;
use mystocks_tests::{AppOptions, TestApp, texts};

use crate::on_both_stores;
use crate::support::real_changes;

on_both_stores!(viewer_reads_everything, |store| async move {
    let app = TestApp::spawn(AppOptions {
        store,
        ..Default::default()
    })
    .await;
    let pods = app.say("carol", "pods").await;
    let text = texts(&pods);
    assert_eq!(pods[0].kind(), ReplyKind::Result, "{text}");
    assert!(
        text.contains("NAME") && text.contains("READY") && text.contains("Running"),
        "{text}"
    );
    assert_eq!(
        text.matches("mystocks-api-").count(),
        3,
        "three pods: {text}"
    );

    let history = texts(&app.say("carol", "history").await);
    assert!(
        history.contains("v1.0.0") && history.contains("v1.0.1"),
        "{history}"
    );

    let status = texts(&app.say("carol", "status").await);
    assert!(
        status.contains("successfully rolled out") || status.contains("complete"),
        "{status}"
    );

    let logs = texts(&app.say("carol", "logs --tail 5").await);
    assert!(logs.lines().count() >= 5, "{logs}");

    for cmd in [
        "top",
        "errors",
        "5xx",
        "whoami",
        "approvals",
        "audit",
        "help",
        "help scale",
    ] {
        let replies = app.say("carol", cmd).await;
        assert!(!replies.is_empty(), "{cmd} answered nothing");
        assert!(
            replies
                .iter()
                .all(|r| r.kind() != ReplyKind::Refusal && r.kind() != ReplyKind::Error),
            "{cmd}: {}",
            texts(&replies)
        );
    }
    assert!(
        real_changes(&app.sim).is_empty(),
        "reading changed the cluster: {:?}",
        real_changes(&app.sim)
    );
});

on_both_stores!(unknown_command_suggests, |store| async move {
    let app = TestApp::spawn(AppOptions {
        store,
        ..Default::default()
    })
    .await;
    let replies = app.say("carol", "scael 5").await;
    assert_eq!(replies[0].kind(), ReplyKind::Refusal);
    assert!(
        texts(&replies).contains("did you mean `scale`"),
        "{}",
        texts(&replies)
    );
    let replies = app.say("carol", "logs --tial 5").await;
    assert!(texts(&replies).contains("--tail"), "{}", texts(&replies));
});
