//! Approval requests, votes and the exactly-once state transition.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use futures::future::join_all;
use mystocks_store::audit::NewAuditEntry;
use mystocks_store::store::{
    ApprovalState, JobOutcome, NewApproval, NewJob, StoreError, Transition, Vote, VoteDecision,
    VoteResult,
};
use serde_json::json;

use crate::harness::{TestDb, t0};

pub fn new_approval(target: &str, person: &str) -> NewApproval {
    NewApproval {
        requester_person: person.to_string(),
        requester_identity: format!("console:{person}"),
        conversation: json!({"channel": "console:main", "thread": "incident-1"}),
        command: "scale 5".to_string(),
        kind: "scale".to_string(),
        target_key: target.to_string(),
        binding: json!({"uid": "d-1", "generation": 4, "resourceVersion": "991", "replicas": 3}),
        preview: json!({"replicas": {"before": 3, "after": 5}}),
        quorum: 1,
        created_at: t0(),
        expires_at: t0() + Duration::minutes(15),
    }
}

/// The audit row of a request's creation.
pub fn created(person: &str) -> NewAuditEntry {
    NewAuditEntry {
        at: t0(),
        actor_person: Some(person.to_string()),
        actor_identity: format!("console:{person}"),
        conversation: json!({"channel": "console:main", "thread": "incident-1"}),
        text: "scale 5".to_string(),
        command: Some("scale 5".to_string()),
        decision: "requested".to_string(),
        outcome: Some("pending".to_string()),
        duration_ms: None,
        approval_id: None,
        detail: json!({}),
    }
}

/// A transition of `id` with its audit row and no job.
pub fn step(
    id: &str,
    from: &[ApprovalState],
    to: ApprovalState,
    detail: Option<&str>,
    at: DateTime<Utc>,
) -> Transition {
    Transition {
        id: id.to_string(),
        from: from.to_vec(),
        to,
        detail: detail.map(str::to_string),
        at,
        job: None,
        audit: NewAuditEntry {
            at,
            actor_person: None,
            actor_identity: "process:test".to_string(),
            conversation: json!(null),
            text: String::new(),
            command: None,
            decision: to.as_str().to_string(),
            outcome: detail.map(str::to_string),
            duration_ms: None,
            approval_id: None,
            detail: json!({}),
        },
    }
}

fn vote(person: &str, identity: &str, decision: VoteDecision, minutes: i64) -> Vote {
    Vote {
        person_id: person.to_string(),
        identity: identity.to_string(),
        decision,
        reason: (decision == VoteDecision::Deny).then(|| "not now".to_string()),
        conversation: json!({"channel": "console:main", "thread": "incident-1"}),
        at: t0() + Duration::minutes(minutes),
    }
}

pub async fn approvals_round_trip_with_sequential_ids(db: &TestDb) {
    let store = &db.store;
    let first = store
        .create_approval(
            new_approval("mystocks/mystocks-api", "alice"),
            created("alice"),
        )
        .await
        .expect("create");
    let second = store
        .create_approval(new_approval("mystocks/other", "alice"), created("alice"))
        .await
        .expect("create");
    assert_eq!((first.id.as_str(), second.id.as_str()), ("A1", "A2"));
    assert_eq!(first.state, ApprovalState::Pending);
    assert_eq!(first.requester_person, "alice");
    assert_eq!(first.binding["resourceVersion"], "991");
    assert_eq!(first.created_at, t0());
    assert_eq!(first.updated_at, t0());
    assert_eq!(first.expires_at, t0() + Duration::minutes(15));
    assert_eq!(first.decided_at, None);
    assert_eq!(first.request_message, None);
    let read = store
        .approval("A1")
        .await
        .expect("read")
        .expect("A1 exists");
    assert_eq!(read, first);
    assert!(store.approval("A99").await.expect("read").is_none());
    assert!(store.approval("").await.expect("read").is_none());
}

pub async fn approval_ids_are_unique_under_concurrency(db: &TestDb) {
    let creates = (0..50).map(|i| {
        let store = db.store.clone();
        async move {
            store
                .create_approval(new_approval(&format!("ns/d{i}"), "alice"), created("alice"))
                .await
        }
    });
    let ids: Vec<String> = join_all(creates)
        .await
        .into_iter()
        .map(|r| r.expect("concurrent create succeeds").id)
        .collect();
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), 50, "ids: {ids:?}");
    let expected: BTreeSet<String> = (1..=50).map(|n| format!("A{n}")).collect();
    assert_eq!(ids.iter().cloned().collect::<BTreeSet<_>>(), expected);
}

pub async fn approvals_are_listed_by_state_and_target(db: &TestDb) {
    let store = &db.store;
    // One open request per target: each person asks about a deployment of their own.
    for (target, person) in [
        ("mystocks/mystocks-api", "alice"),
        ("mystocks/b", "bob"),
        ("mystocks/c", "carol"),
        ("mystocks/d", "dave"),
    ] {
        store
            .create_approval(new_approval(target, person), created(person))
            .await
            .expect("create");
    }
    store
        .create_approval(new_approval("mystocks/worker", "alice"), created("alice"))
        .await
        .expect("create");
    let at = t0() + Duration::minutes(1);
    assert!(
        store
            .transition(step(
                "A2",
                &[ApprovalState::Pending],
                ApprovalState::Denied,
                Some("no"),
                at
            ))
            .await
            .expect("deny")
            .is_some()
    );
    assert!(
        store
            .transition(step(
                "A3",
                &[ApprovalState::Pending],
                ApprovalState::Executing,
                None,
                at
            ))
            .await
            .expect("claim")
            .is_some()
    );

    let pending = store
        .approvals_in_state(&[ApprovalState::Pending], 10)
        .await
        .expect("list");
    let ids: Vec<&str> = pending.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["A1", "A4", "A5"]);
    let limited = store
        .approvals_in_state(&[ApprovalState::Pending], 2)
        .await
        .expect("list");
    assert_eq!(
        limited.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["A1", "A4"]
    );
    let final_ones = store
        .approvals_in_state(&[ApprovalState::Denied, ApprovalState::Done], 10)
        .await
        .expect("list");
    assert_eq!(
        final_ones.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["A2"]
    );
    assert!(
        store
            .approvals_in_state(&[], 10)
            .await
            .expect("list")
            .is_empty()
    );

    for (target, open) in [
        ("mystocks/mystocks-api", vec!["A1"]),
        ("mystocks/b", vec![]),
        ("mystocks/c", vec!["A3"]),
    ] {
        let blocking = store.pending_for_target(target).await.expect("target");
        assert_eq!(
            blocking.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
            open,
            "{target}"
        );
    }
    assert!(
        store
            .pending_for_target("mystocks/nothing")
            .await
            .expect("target")
            .is_empty()
    );
}

pub async fn one_vote_per_person(db: &TestDb) {
    let store = &db.store;
    let request = store
        .create_approval(
            new_approval("mystocks/mystocks-api", "alice"),
            created("alice"),
        )
        .await
        .expect("create");
    let id = request.id.as_str();
    let bob = vote("bob", "slack:T1/U2", VoteDecision::Approve, 1);
    assert_eq!(
        store.add_vote(id, bob.clone()).await.expect("vote"),
        VoteResult::Recorded
    );
    // The same person again, through another chat account and with the opposite decision: a no-op.
    let bob_again = vote("bob", "matrix:@bob:example.org", VoteDecision::Deny, 2);
    assert_eq!(
        store.add_vote(id, bob_again).await.expect("vote"),
        VoteResult::AlreadyVoted
    );
    let carol = vote("carol", "console:carol", VoteDecision::Deny, 3);
    assert_eq!(
        store.add_vote(id, carol.clone()).await.expect("vote"),
        VoteResult::Recorded
    );
    assert_eq!(store.votes(id).await.expect("votes"), vec![bob, carol]);
    assert!(store.votes("A77").await.expect("votes").is_empty());
    match store
        .add_vote("A77", vote("bob", "console:bob", VoteDecision::Approve, 1))
        .await
    {
        Err(StoreError::NotFound(what)) => assert!(what.contains("A77"), "{what}"),
        other => panic!("a vote on an unknown request must be NotFound, got {other:?}"),
    }
}

pub async fn concurrent_presses_record_one_vote(db: &TestDb) {
    let request = db
        .store
        .create_approval(
            new_approval("mystocks/mystocks-api", "alice"),
            created("alice"),
        )
        .await
        .expect("create");
    let presses = (0..50).map(|i| {
        let store = db.store.clone();
        let id = request.id.clone();
        async move {
            store
                .add_vote(
                    &id,
                    vote("bob", &format!("slack:T1/U{i}"), VoteDecision::Approve, 1),
                )
                .await
        }
    });
    let results: Vec<VoteResult> = join_all(presses)
        .await
        .into_iter()
        .map(|r| r.expect("vote"))
        .collect();
    assert_eq!(
        results
            .iter()
            .filter(|r| **r == VoteResult::Recorded)
            .count(),
        1,
        "{results:?}"
    );
    assert_eq!(db.store.votes(&request.id).await.expect("votes").len(), 1);
}

pub async fn transition_is_conditional(db: &TestDb) {
    let store = &db.store;
    store
        .create_approval(
            new_approval("mystocks/mystocks-api", "alice"),
            created("alice"),
        )
        .await
        .expect("create");
    let at1 = t0() + Duration::minutes(2);
    let at2 = t0() + Duration::minutes(3);
    assert!(
        store
            .transition(step(
                "A1",
                &[ApprovalState::Pending],
                ApprovalState::Approved,
                None,
                at1
            ))
            .await
            .expect("t")
            .is_some()
    );
    // Not in `from` any more: nothing moves.
    assert!(
        store
            .transition(step(
                "A1",
                &[ApprovalState::Pending],
                ApprovalState::Denied,
                Some("late"),
                at2
            ))
            .await
            .expect("t")
            .is_none()
    );
    assert!(
        store
            .transition(step(
                "A9",
                &[ApprovalState::Pending],
                ApprovalState::Approved,
                None,
                at2
            ))
            .await
            .expect("t")
            .is_none()
    );
    assert!(
        store
            .transition(step("A1", &[], ApprovalState::Done, None, at2))
            .await
            .expect("t")
            .is_none()
    );
    let from = [ApprovalState::Pending, ApprovalState::Approved];
    assert!(
        store
            .transition(step(
                "A1",
                &from,
                ApprovalState::Executing,
                Some("claimed by p1"),
                at2
            ))
            .await
            .expect("t")
            .is_some()
    );
    let record = store.approval("A1").await.expect("read").expect("exists");
    assert_eq!(record.state, ApprovalState::Executing);
    assert_eq!(record.state_detail.as_deref(), Some("claimed by p1"));
    assert_eq!(
        record.decided_at,
        Some(at1),
        "decided_at keeps the first decision"
    );
    assert_eq!(record.updated_at, at2);
}

pub async fn exactly_one_of_50_transitions_wins(db: &TestDb) {
    let request = db
        .store
        .create_approval(
            new_approval("mystocks/mystocks-api", "alice"),
            created("alice"),
        )
        .await
        .expect("create");
    let second_process = db.reopen().await;
    let claims = (0..50).map(|i| {
        let store = if i % 2 == 0 {
            db.store.clone()
        } else {
            second_process.clone()
        };
        let id = request.id.clone();
        async move {
            let from = [ApprovalState::Pending, ApprovalState::Approved];
            let detail = format!("claimed by worker {i}");
            store
                .transition(step(
                    &id,
                    &from,
                    ApprovalState::Executing,
                    Some(&detail),
                    t0(),
                ))
                .await
                .map(|moved| moved.is_some())
        }
    });
    let results: Vec<bool> = join_all(claims)
        .await
        .into_iter()
        .map(|r| r.expect("transition"))
        .collect();
    assert_eq!(
        results.iter().filter(|won| **won).count(),
        1,
        "exactly one claim wins: {results:?}"
    );
    let winner = results.iter().position(|won| *won).expect("a winner");
    let record = db
        .store
        .approval(&request.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(record.state, ApprovalState::Executing);
    assert_eq!(
        record.state_detail,
        Some(format!("claimed by worker {winner}"))
    );
    second_process.close().await;
}

pub async fn request_message_is_kept(db: &TestDb) {
    let store = &db.store;
    store
        .create_approval(
            new_approval("mystocks/mystocks-api", "alice"),
            created("alice"),
        )
        .await
        .expect("create");
    let message =
        json!({"conversation": {"channel": "C1", "thread": "171.2"}, "id": "1700000000.000100"});
    store
        .set_request_message("A1", message.clone())
        .await
        .expect("set");
    let record = store.approval("A1").await.expect("read").expect("exists");
    assert_eq!(record.request_message, Some(message.clone()));
    assert!(matches!(
        store.set_request_message("A5", message).await,
        Err(StoreError::NotFound(_))
    ));
}

/// One open change per target, enforced by the store for every way a request is created: a second request is a
/// `Conflict` while the first is pending, approved or executing, and allowed once it is final.
pub async fn one_open_request_per_target(db: &TestDb) {
    let store = &db.store;
    let first = store
        .create_approval(
            new_approval("mystocks/mystocks-api", "alice"),
            created("alice"),
        )
        .await
        .expect("create");
    for state in [
        ApprovalState::Pending,
        ApprovalState::Approved,
        ApprovalState::Executing,
    ] {
        if state != ApprovalState::Pending {
            let from = [ApprovalState::Pending, ApprovalState::Approved];
            assert!(
                store
                    .transition(step(&first.id, &from, state, None, t0()))
                    .await
                    .expect("t")
                    .is_some()
            );
        }
        match store
            .create_approval(new_approval("mystocks/mystocks-api", "bob"), created("bob"))
            .await
        {
            Err(StoreError::Conflict(why)) => {
                assert!(why.contains("mystocks/mystocks-api"), "{why}")
            }
            other => {
                panic!("a second open request while the first is {state} must conflict: {other:?}")
            }
        }
    }
    // Another target is not affected, and a final request no longer blocks.
    store
        .create_approval(new_approval("mystocks/worker", "bob"), created("bob"))
        .await
        .expect("another target");
    let from = [ApprovalState::Executing];
    assert!(
        store
            .transition(step(&first.id, &from, ApprovalState::Done, None, t0()))
            .await
            .expect("t")
            .is_some()
    );
    store
        .create_approval(new_approval("mystocks/mystocks-api", "bob"), created("bob"))
        .await
        .expect("the first is done");
    // Racing creators from two processes: exactly one wins.
    let other = db.reopen().await;
    let creates = (0..20).map(|i| {
        let store = if i % 2 == 0 {
            db.store.clone()
        } else {
            other.clone()
        };
        async move {
            store
                .create_approval(new_approval("mystocks/racy", "carol"), created("carol"))
                .await
        }
    });
    let results = join_all(creates).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(_) | Err(StoreError::Conflict(_)))),
        "{results:?}"
    );
    other.close().await;
}

/// A creation and each transition write their audit row (with the request's id) in the same transaction; a
/// transition that loses writes nothing at all.
pub async fn transitions_are_audited_with_their_job(db: &TestDb) {
    let store = &db.store;
    let request = store
        .create_approval(
            new_approval("mystocks/mystocks-api", "alice"),
            created("alice"),
        )
        .await
        .expect("create");
    let mut approve = step(
        &request.id,
        &[ApprovalState::Pending],
        ApprovalState::Approved,
        Some("approved by bob"),
        t0(),
    );
    approve.job = Some(NewJob {
        kind: "execute-approval".into(),
        payload: json!({"approval_id": request.id, "approved_by": "bob"}),
        run_at: t0(),
    });
    let done = store
        .transition(approve.clone())
        .await
        .expect("t")
        .expect("moved");
    let job = store
        .job(done.job_id.expect("a job"))
        .await
        .expect("read")
        .expect("job exists");
    assert_eq!(job.payload["approval_id"], request.id);
    assert_eq!(done.audit.approval_id.as_deref(), Some(request.id.as_str()));
    assert_eq!(done.audit.decision, "approved");
    // The same step again loses: no second job, no second row.
    assert!(store.transition(approve).await.expect("t").is_none());
    let rows = store.audit_tail(10).await.expect("tail");
    assert_eq!(
        rows.iter()
            .map(|r| (r.decision.as_str(), r.approval_id.as_deref()))
            .collect::<Vec<_>>(),
        [("requested", Some("A1")), ("approved", Some("A1"))]
    );
    assert!(
        store
            .claim_job("p1", t0(), std::time::Duration::from_secs(30))
            .await
            .expect("claim")
            .is_some()
    );
    assert!(
        store
            .claim_job("p1", t0(), std::time::Duration::from_secs(30))
            .await
            .expect("claim")
            .is_none(),
        "one job only"
    );
    assert!(
        store
            .verify_audit(&crate::harness::audit_key(), None)
            .await
            .expect("verify")
            .is_ok()
    );
}

/// A transition whose job cannot be written stores nothing: the request stays where it was, with no audit row.
pub async fn a_failed_write_leaves_no_half_transition(db: &TestDb) {
    let store = &db.store;
    let request = store
        .create_approval(
            new_approval("mystocks/mystocks-api", "alice"),
            created("alice"),
        )
        .await
        .expect("create");
    // Break the jobs table as a fault would: the job insert fails inside the transition.
    db.raw.exec("ALTER TABLE jobs RENAME TO jobs_gone").await;
    let mut approve = step(
        &request.id,
        &[ApprovalState::Pending],
        ApprovalState::Approved,
        None,
        t0(),
    );
    approve.job = Some(NewJob {
        kind: "execute-approval".into(),
        payload: json!({"approval_id": request.id}),
        run_at: t0(),
    });
    assert!(
        store.transition(approve.clone()).await.is_err(),
        "the job insert fails"
    );
    let record = store
        .approval(&request.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(record.state, ApprovalState::Pending, "no half transition");
    assert_eq!(
        store.audit_tail(10).await.expect("tail").len(),
        1,
        "only the creation is recorded"
    );
    db.raw.exec("ALTER TABLE jobs_gone RENAME TO jobs").await;
    assert!(
        store.transition(approve).await.expect("t").is_some(),
        "the step can be taken again"
    );
    assert!(
        store
            .verify_audit(&crate::harness::audit_key(), None)
            .await
            .expect("verify")
            .is_ok()
    );
}

/// Requests left approved or executing with no live execution job are found once quiet; a live job hides them.
pub async fn stranded_requests_are_found(db: &TestDb) {
    let store = &db.store;
    for (target, person) in [
        ("ns/a", "alice"),
        ("ns/b", "bob"),
        ("ns/c", "carol"),
        ("ns/d", "dave"),
    ] {
        store
            .create_approval(new_approval(target, person), created(person))
            .await
            .expect("create");
    }
    let pending = [ApprovalState::Pending];
    // A1 approved without a job (the old two-write race), A2 approved with its job, A3 executing whose job
    // finished (a crash before closing), A4 still pending.
    assert!(
        store
            .transition(step("A1", &pending, ApprovalState::Approved, None, t0()))
            .await
            .expect("t")
            .is_some()
    );
    let mut with_job = step("A2", &pending, ApprovalState::Approved, None, t0());
    with_job.job = Some(NewJob {
        kind: "execute-approval".into(),
        payload: json!({"approval_id": "A2"}),
        run_at: t0(),
    });
    assert!(store.transition(with_job).await.expect("t").is_some());
    let mut a3 = step("A3", &pending, ApprovalState::Executing, None, t0());
    a3.job = Some(NewJob {
        kind: "execute-approval".into(),
        payload: json!({"approval_id": "A3"}),
        run_at: t0(),
    });
    let a3 = store.transition(a3).await.expect("t").expect("moved");
    let lease = std::time::Duration::from_secs(30);
    // A review job that names A1 is not its execution.
    store
        .enqueue_job("break-glass-review", json!({"approval_id": "A1"}), t0())
        .await
        .expect("enqueue");
    let claimed = loop {
        let job = store
            .claim_job("p1", t0(), lease)
            .await
            .expect("claim")
            .expect("a job");
        if Some(job.id) == a3.job_id {
            break job;
        }
    };
    store
        .finish_job(claimed.id, "p1", JobOutcome::Done("gone".into()))
        .await
        .expect("finish");
    let later = t0() + Duration::minutes(1);
    let ids = |rs: Vec<mystocks_store::store::ApprovalRecord>| {
        rs.into_iter().map(|r| r.id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(store
            .stranded_approvals("execute-approval", later, 10)
            .await
            .expect("q")),
        ["A1", "A3"]
    );
    assert!(
        store
            .stranded_approvals("execute-approval", t0() - Duration::seconds(1), 10)
            .await
            .expect("q")
            .is_empty(),
        "not yet quiet"
    );
}
