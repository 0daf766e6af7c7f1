//! The safety spine under faults: a store write that fails at any point of an approval leaves no request stuck and
//! no change run twice; a request an older process left approved without a job is run (or, once expired, closed)
//! by the reconciler; a job whose store stalls past its lease stops before its next step while another process
//! takes over.

use std::sync::Arc;
use std::time::Duration;

use mystocks_commands::clock::Clock;
use mystocks_commands::store::{ApprovalState, Transition, Vote, VoteDecision};
use mystocks_tests::faulty_store::Faults;
use mystocks_tests::{AppOptions, StoreKind, TestApp, approval_id, approval_state, texts};
use serde_json::json;

use crate::on_both_stores;
use crate::support::real_changes;

fn scale_changes(app: &TestApp) -> usize {
    real_changes(&app.sim)
        .iter()
        .filter(|c| c.contains("/scale"))
        .count()
}

async fn state_of(app: &TestApp, id: &str) -> ApprovalState {
    app.store
        .approval(id)
        .await
        .expect("store")
        .expect("record")
        .state
}

/// Waits out a job lease (5 s in tests) on the app's clock, then lets the app recover as its poller would.
async fn recover(app: &TestApp) {
    app.clock.advance(chrono::Duration::seconds(30));
    app.core.reconcile_stranded().await;
    app.core.run_due_jobs().await;
    mystocks_commands::Handler::settle(&app.core).await;
}

on_both_stores!(
    a_store_fault_at_any_write_of_an_approval_leaves_nothing_stuck,
    |store: StoreKind| async move {
        // Fail each write in turn of the approval and everything it sets off (vote, transition and job, messages,
        // claim, execution, close), then let the bot recover: every time, the change runs exactly once.
        for n in 1..=12 {
            let faults = Arc::new(Faults::default());
            let app = TestApp::spawn(AppOptions {
                store,
                faults: Some(faults.clone()),
                ..Default::default()
            })
            .await;
            let id = approval_id(&app.say("alice", "scale 5").await).expect("a request");
            faults.fail_nth_write(n);
            let first = app.say("bob", &format!("approve {id}")).await;
            faults.heal();
            for _ in 0..5 {
                match state_of(&app, &id).await {
                    ApprovalState::Done => break,
                    // The fault hit before the approval was stored: deciding again works.
                    ApprovalState::Pending => {
                        let again = app.say("bob", &format!("approve {id}")).await;
                        eprintln!("fault at write {n}: approving again: {}", texts(&again));
                    }
                    _ => recover(&app).await,
                }
            }
            let record = app
                .store
                .approval(&id)
                .await
                .expect("store")
                .expect("record");
            assert_eq!(
                record.state,
                ApprovalState::Done,
                "fault at write {n}: {:?}; first answer: {}",
                record.state_detail,
                texts(&first)
            );
            assert_eq!(
                scale_changes(&app),
                1,
                "fault at write {n}: the change ran once"
            );
            assert!(
                app.store
                    .pending_for_target("mystocks/mystocks-api")
                    .await
                    .expect("store")
                    .is_empty(),
                "fault at write {n}: nothing left in flight"
            );
            let report = app
                .store
                .verify_audit(&mystocks_tests::app::test_audit_key(), None)
                .await
                .expect("verify");
            assert!(report.is_ok(), "fault at write {n}: {report:?}");
            let rows = app.store.audit_tail(200).await.expect("tail");
            for state in ["requested", "approved", "executing", "done"] {
                assert!(
                    rows.iter()
                        .any(|r| r.approval_id.as_deref() == Some(id.as_str())
                            && r.decision == state),
                    "fault at write {n}: the step `{state}` is on the record"
                );
            }
        }
    }
);

/// What a crash between two writes of an older version left: a request approved (with its vote) but no job.
async fn approved_without_a_job(app: &TestApp, id: &str) {
    let vote = Vote {
        person_id: "bob".into(),
        identity: "console:bob".into(),
        decision: VoteDecision::Approve,
        reason: None,
        conversation: json!({"channel": "console:main", "thread": null}),
        at: Clock::now(app.clock.as_ref()),
    };
    app.store.add_vote(id, vote).await.expect("vote");
    let moved = app
        .store
        .transition(Transition {
            id: id.to_string(),
            from: vec![ApprovalState::Pending],
            to: ApprovalState::Approved,
            detail: Some("approved by bob".into()),
            at: Clock::now(app.clock.as_ref()),
            job: None,
            audit: mystocks_commands::audit::NewAuditEntry {
                at: Clock::now(app.clock.as_ref()),
                actor_person: Some("bob".into()),
                actor_identity: "console:bob".into(),
                conversation: json!(null),
                text: format!("approve {id}"),
                command: None,
                decision: "approved".into(),
                outcome: None,
                duration_ms: None,
                approval_id: None,
                detail: json!({}),
            },
        })
        .await
        .expect("store");
    assert!(moved.is_some());
}

on_both_stores!(
    a_request_left_approved_without_a_job_is_run_once,
    |store: StoreKind| async move {
        let app = TestApp::spawn(AppOptions {
            store,
            ..Default::default()
        })
        .await;
        let id = approval_id(&app.say("alice", "scale 5").await).expect("a request");
        approved_without_a_job(&app, &id).await;
        // Just approved: another process may be about to queue its job, so the reconciler leaves it alone.
        assert_eq!(app.core.reconcile_stranded().await, 0);
        let blocked = texts(&app.say("alice", "restart").await);
        assert!(
            blocked.contains(&id) && blocked.contains("approved"),
            "{blocked}"
        );

        let cursor = app.sink.len();
        recover(&app).await;
        let said = app.sink.since(cursor);
        assert_eq!(
            state_of(&app, &id).await,
            ApprovalState::Done,
            "{}",
            texts(&said)
        );
        assert!(
            texts(&said).contains("queued again"),
            "said in its thread: {}",
            texts(&said)
        );
        assert_eq!(scale_changes(&app), 1);
        assert_eq!(app.core.reconcile_stranded().await, 0, "nothing left");
    }
);

on_both_stores!(
    a_request_left_approved_past_its_expiry_is_closed_unrun,
    |store: StoreKind| async move {
        let app = TestApp::spawn(AppOptions {
            store,
            ..Default::default()
        })
        .await;
        let id = approval_id(&app.say("alice", "scale 5").await).expect("a request");
        approved_without_a_job(&app, &id).await;
        app.clock.advance(chrono::Duration::hours(1));
        let cursor = app.sink.len();
        assert_eq!(app.core.reconcile_stranded().await, 1);
        let said = texts(&app.sink.since(cursor));
        assert_eq!(state_of(&app, &id).await, ApprovalState::Expired);
        assert!(
            said.contains("never executed") && said.contains("nothing was changed"),
            "{said}"
        );
        assert_eq!(scale_changes(&app), 0);
        let rows = app.store.audit_tail(20).await.expect("tail");
        assert!(
            rows.iter()
                .any(|r| r.approval_id.as_deref() == Some(id.as_str()) && r.decision == "expired"),
            "the closing is on the record"
        );
        // The deployment is free for the next change.
        assert!(approval_id(&app.say("alice", "scale 4").await).is_some());
    }
);

on_both_stores!(
    a_job_whose_store_stalls_past_its_lease_stops_and_another_finishes,
    |store: StoreKind| async move {
        let faults = Arc::new(Faults::default());
        // A slow rollout (about 20 s), so the stall happens while the job follows it.
        let first = Arc::new(
            TestApp::spawn(AppOptions {
                store,
                speed: 0.25,
                faults: Some(faults.clone()),
                ..Default::default()
            })
            .await,
        );
        let id = approval_id(&first.say("alice", "scale 6").await).expect("a request");
        let sim = first.sim.clone();
        let approving = {
            let first = first.clone();
            let id = id.clone();
            tokio::spawn(async move { first.say("bob", &format!("approve {id}")).await })
        };
        for _ in 0..200 {
            if sim.deployment().spec.replicas == Some(6) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            sim.deployment().spec.replicas,
            Some(6),
            "the change was applied"
        );
        // The first process's store stalls (every call hangs) for longer than the lease.
        faults.pause();
        let second = TestApp::spawn_on(
            sim.clone(),
            AppOptions {
                store,
                reuse_db: Some(first.db_url.clone()),
                ..Default::default()
            },
        )
        .await;
        let mut state = ApprovalState::Executing;
        for _ in 0..600 {
            second.core.run_due_jobs().await;
            state = state_of(&second, &id).await;
            if state.is_final() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(state, ApprovalState::Done);
        // The store answers again; the first process's job runner (which waited on it) settles.
        faults.resume();
        tokio::time::timeout(Duration::from_secs(30), approving)
            .await
            .expect("the first process settles once its store answers")
            .expect("task");
        let ended =
            |app: &TestApp| {
                app.sink
                    .all()
                    .iter()
                    .filter(|r| {
                        r.reply.approval.as_ref().is_some_and(|a| {
                            a.id == id && (a.state == "done" || a.state == "failed")
                        }) && r.reply.kind != mystocks_commands::reply::ReplyKind::ApprovalRequest
                    })
                    .count()
            };
        // Its job stopped when it could no longer prove its lease (before the rollout ended), so it reported
        // nothing, though the rollout it was following completed.
        assert_eq!(
            ended(&first),
            0,
            "the first process reported nothing after losing its lease"
        );
        assert!(ended(&second) >= 1, "the second process reported the end");
        assert_eq!(
            approval_state(&second.sink.all(), &id).as_deref(),
            Some("done")
        );
        assert_eq!(scale_changes(&second), 1);
    }
);

on_both_stores!(
    a_change_sent_by_a_process_that_died_before_recording_it_is_on_the_record,
    |store: StoreKind| async move {
        let faults = Arc::new(Faults::default());
        let first = Arc::new(
            TestApp::spawn(AppOptions {
                store,
                faults: Some(faults.clone()),
                ..Default::default()
            })
            .await,
        );
        let id = approval_id(&first.say("alice", "scale 6").await).expect("a request");
        // The first process sends the change, then its store hangs just before the `executed` row is written: its
        // job loses its lease and stops there, as a process killed between the two would.
        faults.pause_at_audit("executed");
        let approving = {
            let first = first.clone();
            let id = id.clone();
            tokio::spawn(async move { first.say("bob", &format!("approve {id}")).await })
        };
        for _ in 0..200 {
            if first.sim.deployment().spec.replicas == Some(6) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            first.sim.deployment().spec.replicas,
            Some(6),
            "the first process sent the change"
        );
        let second = TestApp::spawn_on(
            first.sim.clone(),
            AppOptions {
                store,
                reuse_db: Some(first.db_url.clone()),
                ..Default::default()
            },
        )
        .await;
        let mut state = ApprovalState::Executing;
        for _ in 0..600 {
            second.core.run_due_jobs().await;
            state = state_of(&second, &id).await;
            if state.is_final() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(state, ApprovalState::Done);
        assert_eq!(scale_changes(&second), 1, "the change was sent once");
        let executed: Vec<String> = second
            .store
            .audit_tail(50)
            .await
            .expect("tail")
            .into_iter()
            .filter(|r| r.approval_id.as_deref() == Some(id.as_str()) && r.decision == "executed")
            .map(|r| r.outcome.unwrap_or_default())
            .collect();
        assert_eq!(
            executed.len(),
            1,
            "the applied change is on the record once: {executed:?}"
        );
        assert!(
            executed[0].starts_with("found applied after a restart: scale"),
            "{executed:?}"
        );
        faults.resume();
        tokio::time::timeout(Duration::from_secs(30), approving)
            .await
            .expect("the first process settles once its store answers")
            .expect("task");
    }
);
