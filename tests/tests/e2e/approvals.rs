//! The approval flow end to end: preview, two-person rule, execution once, progress, result.

use std::sync::Arc;

use mystocks_commands::policy::PolicyConfig;
use mystocks_commands::reply::ReplyKind;
use mystocks_commands::{Handler, Identity};
use mystocks_sim::world::{Scenario, ScenarioState};
use mystocks_tests::{AppOptions, TestApp, approval_id, approval_state, texts};

use crate::on_both_stores;
use crate::support::{image, real_changes, replicas};

on_both_stores!(scale_needs_a_second_person, |store| async move {
    let app = TestApp::spawn(AppOptions {
        store,
        ..Default::default()
    })
    .await;
    let carol = app.say("carol", "scale 5").await;
    assert_eq!(carol[0].kind(), ReplyKind::Refusal, "{}", texts(&carol));
    assert!(
        texts(&carol).contains("operator"),
        "names the role needed: {}",
        texts(&carol)
    );

    let asked = app.say("alice", "scale 5").await;
    let id =
        approval_id(&asked).unwrap_or_else(|| panic!("no approval request: {}", texts(&asked)));
    let preview = texts(&asked);
    assert!(
        preview.contains('3') && preview.contains('5'),
        "preview shows 3 → 5: {preview}"
    );

    let own = app.say("alice", &format!("approve {id}")).await;
    assert_eq!(own[0].kind(), ReplyKind::Refusal);
    assert!(texts(&own).contains("two-person"), "{}", texts(&own));
    assert!(
        real_changes(&app.sim).is_empty(),
        "{:?}",
        real_changes(&app.sim)
    );

    let done = app.say("bob", &format!("approve {id}")).await;
    let all = texts(&done);
    assert!(
        done.iter().any(|r| r.kind() == ReplyKind::Progress),
        "progress posted: {all}"
    );
    assert_eq!(approval_state(&done, &id).as_deref(), Some("done"), "{all}");
    assert_eq!(replicas(&app.sim), (5, 5), "{all}");
    let scale_patches: Vec<_> = real_changes(&app.sim)
        .into_iter()
        .filter(|c| c.contains("/scale"))
        .collect();
    assert_eq!(scale_patches.len(), 1, "{scale_patches:?}");
    let again = app.say("dave", &format!("approve {id}")).await;
    assert_eq!(again[0].kind(), ReplyKind::Refusal, "{}", texts(&again));
    assert_eq!(
        real_changes(&app.sim)
            .iter()
            .filter(|c| c.contains("/scale"))
            .count(),
        1
    );
});

on_both_stores!(
    one_person_two_accounts_cannot_approve_self,
    |store| async move {
        let app = TestApp::spawn(AppOptions {
            store,
            ..Default::default()
        })
        .await;
        let bob_slack = Identity::new("slack", "TDEMO/UBOB");
        let asked = app.say_as(bob_slack, "bob (slack)", None, "restart").await;
        let id = approval_id(&asked).unwrap_or_else(|| panic!("{}", texts(&asked)));
        let own = app.say("bob", &format!("approve {id}")).await;
        assert_eq!(own[0].kind(), ReplyKind::Refusal, "{}", texts(&own));
        assert!(real_changes(&app.sim).is_empty());
    }
);

on_both_stores!(deny_and_cancel, |store| async move {
    let app = TestApp::spawn(AppOptions {
        store,
        ..Default::default()
    })
    .await;
    let id = approval_id(&app.say("alice", "scale 4").await).expect("request");
    let not_theirs = app.say("carol", &format!("cancel {id}")).await;
    assert_eq!(not_theirs[0].kind(), ReplyKind::Refusal);
    let denied = app
        .say("bob", &format!("deny {id} not during market hours"))
        .await;
    assert!(
        texts(&denied).contains("market hours"),
        "{}",
        texts(&denied)
    );
    let late = app.say("dave", &format!("approve {id}")).await;
    assert!(texts(&late).contains("denied"), "{}", texts(&late));

    let id2 = approval_id(&app.say("alice", "scale 4").await).expect("second request");
    let cancelled = app.say("alice", &format!("cancel {id2}")).await;
    assert!(
        texts(&cancelled).contains("cancelled"),
        "{}",
        texts(&cancelled)
    );
    assert!(real_changes(&app.sim).is_empty());
    assert_eq!(replicas(&app.sim).0, 3);
});

on_both_stores!(bad_release_then_rollback, |store| async move {
    let scenario = ScenarioState {
        scenario: Scenario::BadRelease,
        ..Default::default()
    };
    let app = TestApp::spawn(AppOptions {
        store,
        scenario,
        ..Default::default()
    })
    .await;
    let id = approval_id(&app.say("alice", "deploy v1.0.2").await).expect("deploy request");
    let outcome = app.say("bob", &format!("approve {id}")).await;
    let text = texts(&outcome);
    let failed = outcome.iter().any(|r| {
        r.reply
            .approval
            .as_ref()
            .is_some_and(|a| a.id == id && a.state == "failed")
    });
    assert!(failed, "the deploy is reported failed: {text}");
    assert!(
        text.contains("CrashLoopBackOff") || text.contains("ProgressDeadlineExceeded"),
        "{text}"
    );
    assert!(
        text.contains("Verification after `deploy v1.0.2`") && text.contains("fail"),
        "verified: {text}"
    );
    // The failed verification proposes the rollback, in the deployer's name, for an approver to decide.
    let rollback = approval_id(&outcome).unwrap_or_else(|| panic!("no rollback proposed: {text}"));
    let proposal = outcome
        .iter()
        .find(|r| r.reply.approval.as_ref().is_some_and(|a| a.id == rollback))
        .expect("proposal");
    assert!(
        proposal.text().contains("rollback") && proposal.text().contains("v1.0.1"),
        "{}",
        proposal.text()
    );
    assert!(
        proposal.text().contains("Requested by alice"),
        "{}",
        proposal.text()
    );

    // Asking again is refused: one change at a time, and the proposal is named.
    let again = texts(&app.say("alice", "rollback").await);
    assert!(again.contains(&rollback), "{again}");

    let done = app.say("bob", &format!("approve {rollback}")).await;
    let all = texts(&done);
    let finished = done.iter().any(|r| {
        r.reply
            .approval
            .as_ref()
            .is_some_and(|a| a.id == rollback && a.state == "done")
    });
    assert!(finished, "{all}");
    assert!(
        all.contains("Verification after `rollback`"),
        "verified after the rollback: {all}"
    );
    assert_eq!(image(&app.sim), "mystocks/api:v1.0.1");
    assert_eq!(replicas(&app.sim), (3, 3));
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_approvals_execute_once() {
    let first = TestApp::spawn(AppOptions {
        speed: 400.0,
        ..Default::default()
    })
    .await;
    let sim = first.sim.clone();
    let options = AppOptions {
        reuse_db: Some(first.db_url.clone()),
        speed: 400.0,
        ..Default::default()
    };
    let second = Arc::new(TestApp::spawn_on(sim.clone(), options).await);
    let first = Arc::new(first);
    let trials = std::env::var("RACE_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    for trial in 0..trials {
        let target = if trial % 2 == 0 { 4 } else { 3 };
        let before = real_changes(&sim).len();
        let id = approval_id(&first.say("alice", &format!("scale {target}")).await)
            .unwrap_or_else(|| panic!("trial {trial}: no request"));
        let (a, b) = (first.clone(), second.clone());
        let (ida, idb) = (id.clone(), id.clone());
        let one = tokio::spawn(async move { a.say("bob", &format!("approve {ida}")).await });
        let two = tokio::spawn(async move { b.say("dave", &format!("approve {idb}")).await });
        let (_, _) = (
            one.await.expect("first approval"),
            two.await.expect("second approval"),
        );
        first.core.settle().await;
        second.core.settle().await;
        let patches = real_changes(&sim)[before..].to_vec();
        assert_eq!(patches.len(), 1, "trial {trial}: {patches:?}");
        let record = first
            .store
            .approval(&id)
            .await
            .expect("store")
            .expect("record");
        assert_eq!(
            record.state.as_str(),
            "done",
            "trial {trial}: {:?}",
            record.state_detail
        );
    }
}

on_both_stores!(
    allow_other_repositories_decides_whether_deploy_takes_other_images,
    |store| async move {
        let strict = TestApp::spawn(AppOptions {
            store,
            ..Default::default()
        })
        .await;
        let refused = strict.say("alice", "deploy other/repo:v2").await;
        assert_eq!(refused[0].kind(), ReplyKind::Refusal, "{}", texts(&refused));
        assert!(
            texts(&refused).contains("mystocks/api"),
            "names the allowed repository: {}",
            texts(&refused)
        );

        let open = TestApp::spawn(AppOptions {
            store,
            policy: PolicyConfig {
                allow_other_repositories: true,
                ..PolicyConfig::default()
            },
            ..Default::default()
        })
        .await;
        let asked = open.say("alice", "deploy other/repo:v2").await;
        let id = approval_id(&asked)
            .unwrap_or_else(|| panic!("another repository is allowed: {}", texts(&asked)));
        assert!(texts(&asked).contains("other/repo:v2"), "{}", texts(&asked));
        open.say("bob", &format!("approve {id}")).await;
        assert_eq!(image(&open.sim), "other/repo:v2");
    }
);

on_both_stores!(
    a_vote_from_another_conversation_is_told_where_to_decide,
    |store| async move {
        let app = TestApp::spawn(AppOptions {
            store,
            ..Default::default()
        })
        .await;
        let id = approval_id(&app.say("alice", "scale 5").await).expect("a request");
        let elsewhere = app
            .say_as(
                Identity::new("console", "bob"),
                "bob",
                Some("incident-9"),
                &format!("approve {id}"),
            )
            .await;
        let said = texts(&elsewhere);
        assert_eq!(elsewhere[0].kind(), ReplyKind::Refusal, "{said}");
        assert!(
            said.contains("decide it in console:main"),
            "the refusal names where: {said}"
        );
        assert!(real_changes(&app.sim).is_empty());
    }
);
