//! Every refusal path: each says why, and no changing request reaches the cluster.

use chrono::Duration;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};
use mystocks_commands::reply::ReplyKind;
use mystocks_tests::app::kube_client;
use mystocks_tests::{AppOptions, TestApp, approval_id, approval_state, texts};

use crate::on_both_stores;
use crate::support::real_changes;

/// Asserts the reply is a refusal mentioning `needle`, and that nothing changed in the cluster.
async fn refused(app: &TestApp, who: &str, text: &str, needle: &str) {
    let replies = app.say(who, text).await;
    let all = texts(&replies);
    assert!(!replies.is_empty(), "`{text}` got no answer");
    assert!(
        replies
            .iter()
            .any(|r| matches!(r.kind(), ReplyKind::Refusal | ReplyKind::Error)),
        "`{text}` by {who} was not refused: {all}"
    );
    assert!(
        all.to_lowercase().contains(&needle.to_lowercase()),
        "`{text}`: expected `{needle}` in: {all}"
    );
    assert!(
        approval_id(&replies).is_none(),
        "`{text}` created a request: {all}"
    );
    assert!(
        real_changes(&app.sim).is_empty(),
        "`{text}` changed the cluster: {:?}",
        real_changes(&app.sim)
    );
}

on_both_stores!(malformed_and_out_of_range, |store| async move {
    let app = TestApp::spawn(AppOptions {
        store,
        ..Default::default()
    })
    .await;
    refused(&app, "alice", "scale abc", "scale").await;
    refused(&app, "alice", "scale -1", "scale").await;
    refused(&app, "alice", "scale 99", "out of range").await;
    refused(&app, "alice", "scale 3", "already has 3").await;
    refused(&app, "alice", "deploy evil/api:v1", "allowed repository").await;
    refused(&app, "alice", "deploy 'not an image!'", "image").await;
    refused(&app, "alice", "deploy v1.0.1", "already runs").await;
    refused(&app, "alice", "rollback --to-revision 9", "no revision 9").await;
    refused(&app, "alice", "rollback --to-revision 2", "already runs").await;
    refused(&app, "bob", "approve A99", "no approval request A99").await;
    refused(&app, "bob", "approve B7", "approval id").await;
    refused(&app, "alice", "scale", "usage").await;
});

on_both_stores!(roles_are_enforced, |store| async move {
    let app = TestApp::spawn(AppOptions {
        store,
        ..Default::default()
    })
    .await;
    refused(&app, "carol", "rollback", "operator").await;
    refused(&app, "carol", "restart", "operator").await;
    refused(&app, "alice", "freeze", "admin").await;
    refused(&app, "mallory", "pods", "platform").await;
    let id = approval_id(&app.say("alice", "restart").await).expect("request");
    refused(&app, "carol", &format!("approve {id}"), "approver").await;
});

on_both_stores!(expired_request, |store| async move {
    let app = TestApp::spawn(AppOptions {
        store,
        ..Default::default()
    })
    .await;
    let id = approval_id(&app.say("alice", "scale 5").await).expect("request");
    app.clock.advance(Duration::minutes(16));
    refused(&app, "bob", &format!("approve {id}"), "expired").await;
});

on_both_stores!(stale_target, |store| async move {
    let app = TestApp::spawn(AppOptions {
        store,
        ..Default::default()
    })
    .await;
    let id = approval_id(&app.say("alice", "scale 5").await).expect("request");
    // Someone changes the deployment behind the bot's back.
    let client = kube_client(&app.sim).await;
    let api: Api<Deployment> = Api::namespaced(client, "mystocks");
    let patch =
        serde_json::json!({"spec": {"template": {"metadata": {"annotations": {"x": "y"}}}}});
    api.patch(
        "mystocks-api",
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await
    .expect("outside change");
    let before = real_changes(&app.sim).len();
    let replies = app.say("bob", &format!("approve {id}")).await;
    let all = texts(&replies);
    assert!(
        all.contains("changed since this was requested") || all.contains("in progress"),
        "{all}"
    );
    assert_eq!(
        real_changes(&app.sim).len(),
        before,
        "the bot changed a stale target: {all}"
    );
    assert_eq!(app.sim.deployment().spec.replicas, Some(3));
});

on_both_stores!(
    frozen_refuses_requests_and_pending_executions,
    |store| async move {
        let app = TestApp::spawn(AppOptions {
            store,
            ..Default::default()
        })
        .await;
        let id = approval_id(&app.say("alice", "scale 5").await).expect("request");
        let frozen = texts(&app.say("dave", "freeze market open").await);
        assert!(frozen.contains("FROZEN"), "{frozen}");
        refused(&app, "bob", &format!("approve {id}"), "frozen").await;
        refused(&app, "alice", "restart", "frozen").await;
        app.say("dave", "unfreeze").await;
        let done = app.say("bob", &format!("approve {id}")).await;
        assert_eq!(
            approval_state(&done, &id).as_deref(),
            Some("done"),
            "{}",
            texts(&done)
        );
    }
);

on_both_stores!(one_change_at_a_time, |store| async move {
    let app = TestApp::spawn(AppOptions {
        store,
        ..Default::default()
    })
    .await;
    let id = approval_id(&app.say("alice", "scale 5").await).expect("request");
    refused(&app, "dave", "restart", &id).await;
    refused(&app, "alice", "rollback", &id).await;
});

on_both_stores!(duplicate_event_runs_once, |store| async move {
    let app = TestApp::spawn(AppOptions {
        store,
        ..Default::default()
    })
    .await;
    let invocation = mystocks_commands::Invocation {
        event_id: "Ev-duplicate-1".into(),
        actor: mystocks_commands::Actor {
            identity: mystocks_commands::Identity::new("console", "alice"),
            display_name: "alice".into(),
        },
        conversation: mystocks_commands::Conversation {
            channel: "console:main".into(),
            thread: None,
        },
        addressing: mystocks_commands::Addressing::Direct,
        text: "scale 6".into(),
        received_at: chrono::Utc::now(),
    };
    let first = app.send(invocation.clone()).await;
    assert!(approval_id(&first).is_some(), "{}", texts(&first));
    let second = app.send(invocation).await;
    assert!(
        second.is_empty(),
        "a duplicate event ran again: {}",
        texts(&second)
    );
});

on_both_stores!(rate_limited_with_a_wait, |store| async move {
    let rate_limit = mystocks_commands::engine::ratelimit::RateLimitConfig::default();
    let app = TestApp::spawn(AppOptions {
        store,
        rate_limit,
        ..Default::default()
    })
    .await;
    let mut last = Vec::new();
    for _ in 0..6 {
        last = app.say("alice", "scale 99").await;
    }
    let all = texts(&last);
    assert!(all.contains("slow down — try again in"), "{all}");
    assert!(real_changes(&app.sim).is_empty());
});
