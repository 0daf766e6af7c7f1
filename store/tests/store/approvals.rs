//! Approval requests, votes and the exactly-once state transition.

use std::collections::BTreeSet;

use chrono::Duration;
use futures::future::join_all;
use mystocks_store::store::{
    ApprovalState, NewApproval, StoreError, Vote, VoteDecision, VoteResult,
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
        .create_approval(new_approval("mystocks/mystocks-api", "alice"))
        .await
        .expect("create");
    let second = store
        .create_approval(new_approval("mystocks/other", "alice"))
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
                .create_approval(new_approval(&format!("ns/d{i}"), "alice"))
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
    for person in ["alice", "bob", "carol", "dave"] {
        store
            .create_approval(new_approval("mystocks/mystocks-api", person))
            .await
            .expect("create");
    }
    store
        .create_approval(new_approval("mystocks/worker", "alice"))
        .await
        .expect("create");
    let at = t0() + Duration::minutes(1);
    assert!(
        store
            .transition(
                "A2",
                &[ApprovalState::Pending],
                ApprovalState::Denied,
                Some("no"),
                at
            )
            .await
            .expect("deny")
    );
    assert!(
        store
            .transition(
                "A3",
                &[ApprovalState::Pending],
                ApprovalState::Executing,
                None,
                at
            )
            .await
            .expect("claim")
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

    let blocking = store
        .pending_for_target("mystocks/mystocks-api")
        .await
        .expect("target");
    assert_eq!(
        blocking.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["A1", "A3", "A4"]
    );
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
        .create_approval(new_approval("mystocks/mystocks-api", "alice"))
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
        .create_approval(new_approval("mystocks/mystocks-api", "alice"))
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
        .create_approval(new_approval("mystocks/mystocks-api", "alice"))
        .await
        .expect("create");
    let at1 = t0() + Duration::minutes(2);
    let at2 = t0() + Duration::minutes(3);
    assert!(
        store
            .transition(
                "A1",
                &[ApprovalState::Pending],
                ApprovalState::Approved,
                None,
                at1
            )
            .await
            .expect("t")
    );
    // Not in `from` any more: nothing moves.
    assert!(
        !store
            .transition(
                "A1",
                &[ApprovalState::Pending],
                ApprovalState::Denied,
                Some("late"),
                at2
            )
            .await
            .expect("t")
    );
    assert!(
        !store
            .transition(
                "A9",
                &[ApprovalState::Pending],
                ApprovalState::Approved,
                None,
                at2
            )
            .await
            .expect("t")
    );
    assert!(
        !store
            .transition("A1", &[], ApprovalState::Done, None, at2)
            .await
            .expect("t")
    );
    let from = [ApprovalState::Pending, ApprovalState::Approved];
    assert!(
        store
            .transition(
                "A1",
                &from,
                ApprovalState::Executing,
                Some("claimed by p1"),
                at2
            )
            .await
            .expect("t")
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
        .create_approval(new_approval("mystocks/mystocks-api", "alice"))
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
                .transition(&id, &from, ApprovalState::Executing, Some(&detail), t0())
                .await
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
        .create_approval(new_approval("mystocks/mystocks-api", "alice"))
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
