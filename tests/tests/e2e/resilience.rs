//! Restarts: a request survives a restart of the bot; a followed rollout is finished by the next process.

use std::sync::Arc;
use std::time::Duration;

use mystocks_tests::{AppOptions, StoreKind, TestApp, approval_id, approval_state, texts};

use crate::on_both_stores;

on_both_stores!(request_survives_restart, |store: StoreKind| async move {
    let first = TestApp::spawn(AppOptions {
        store,
        ..Default::default()
    })
    .await;
    let id = approval_id(&first.say("alice", "scale 5").await).expect("request");
    let sim = first.sim.clone();
    let url = first.db_url.clone();
    let TestApp { db, .. } = first; // the first process is gone; its database stays
    let second = TestApp::spawn_on(
        sim,
        AppOptions {
            store,
            reuse_db: Some(url),
            ..Default::default()
        },
    )
    .await;
    let done = second.say("bob", &format!("approve {id}")).await;
    assert_eq!(
        approval_state(&done, &id).as_deref(),
        Some("done"),
        "{}",
        texts(&done)
    );
    drop(db);
});

on_both_stores!(
    killed_during_follow_is_finished_after_restart,
    |store: StoreKind| async move {
        let first = TestApp::spawn(AppOptions {
            store,
            speed: 5.0,
            ..Default::default()
        })
        .await;
        let id = approval_id(&first.say("alice", "scale 6").await).expect("request");
        let sim = first.sim.clone();
        let first = Arc::new(first);
        let approving = {
            let first = first.clone();
            let id = id.clone();
            tokio::spawn(async move { first.say("bob", &format!("approve {id}")).await })
        };
        // Wait until the change reached the cluster, then kill the process mid-follow.
        for _ in 0..100 {
            if sim.deployment().spec.replicas == Some(6) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            sim.deployment().spec.replicas,
            Some(6),
            "the change was not applied"
        );
        first.core.abort_jobs();
        approving.abort();
        let record = first
            .store
            .approval(&id)
            .await
            .expect("store")
            .expect("record");
        assert_eq!(
            record.state.as_str(),
            "executing",
            "killed before the report: {:?}",
            record.state_detail
        );

        let url = first.db_url.clone();
        let second = TestApp::spawn_on(
            sim.clone(),
            AppOptions {
                store,
                reuse_db: Some(url),
                ..Default::default()
            },
        )
        .await;
        // The dead process's lease (5 s in tests) must expire before the job is taken over.
        let mut state = String::new();
        for _ in 0..200 {
            second.core.run_due_jobs().await;
            let record = second
                .store
                .approval(&id)
                .await
                .expect("store")
                .expect("record");
            state = record.state.as_str().to_string();
            if state == "done" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(state, "done");
        let reported = texts(&second.sink.all());
        assert!(
            reported.contains("rolled out") || reported.contains("6/6"),
            "{reported}"
        );
        assert_eq!(
            sim.changing_requests()
                .iter()
                .filter(|r| r.path.contains("/scale") && !crate::support::is_dry_run(r))
                .count(),
            1
        );
    }
);
