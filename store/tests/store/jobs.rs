//! Jobs: claim, lease, checkpoints, hand-over and takeover after a lease runs out.

use std::collections::BTreeSet;

use std::time::Duration as StdDuration;

use chrono::Duration;
use futures::future::join_all;
use mystocks_store::store::{JobOutcome, JobStatus, StoreError};
use serde_json::json;

use crate::harness::{TestDb, t0};

fn lease() -> StdDuration {
    StdDuration::from_secs(30)
}

/// The lease as a span of time to add to a `DateTime`.
fn lease_span() -> Duration {
    Duration::seconds(30)
}

pub async fn job_life_cycle(db: &TestDb) {
    let store = &db.store;
    let run_at = t0() + Duration::minutes(5);
    let id = store
        .enqueue_job("follow_rollout", json!({"approval": "A1"}), run_at)
        .await
        .expect("enqueue");
    let queued = store.job(id).await.expect("read").expect("exists");
    assert_eq!(
        (queued.status, queued.attempts, queued.owner.clone()),
        (JobStatus::Queued, 0, None)
    );
    assert_eq!(queued.payload, json!({"approval": "A1"}));
    assert_eq!(queued.run_at, run_at);

    assert!(
        store
            .claim_job("p1", t0(), lease())
            .await
            .expect("claim")
            .is_none(),
        "not due yet"
    );
    let job = store
        .claim_job("p1", run_at, lease())
        .await
        .expect("claim")
        .expect("due now");
    assert_eq!(
        (job.id, job.status, job.attempts),
        (id, JobStatus::Running, 1)
    );
    assert_eq!(job.owner.as_deref(), Some("p1"));
    assert_eq!(job.lease_until, Some(run_at + lease_span()));
    assert!(
        store
            .claim_job("p2", run_at, lease())
            .await
            .expect("claim")
            .is_none(),
        "held by p1"
    );

    let checkpoint = json!({"message": {"id": "m7"}, "updated": 2});
    assert!(
        !store
            .update_job(id, "p2", json!({"stolen": true}))
            .await
            .expect("update"),
        "only the owner"
    );
    assert!(
        store
            .update_job(id, "p1", checkpoint.clone())
            .await
            .expect("update")
    );
    let later = run_at + Duration::seconds(20);
    assert!(
        store
            .renew_lease(id, "p1", later, lease())
            .await
            .expect("renew")
    );
    assert!(
        !store
            .renew_lease(id, "p2", later, lease())
            .await
            .expect("renew")
    );
    assert_eq!(
        store
            .job(id)
            .await
            .expect("read")
            .expect("exists")
            .lease_until,
        Some(later + lease_span())
    );

    let end = later + Duration::seconds(5);
    assert!(
        !store
            .finish_job(id, "p2", JobOutcome::Done("x".into()))
            .await
            .expect("finish")
    );
    assert!(
        store
            .finish_job(id, "p1", JobOutcome::Done("rollout complete".into()))
            .await
            .expect("finish")
    );
    let done = store.job(id).await.expect("read").expect("exists");
    assert_eq!(done.status, JobStatus::Done);
    assert_eq!(done.outcome.as_deref(), Some("rollout complete"));
    assert_eq!(done.state, Some(checkpoint));
    assert!(done.finished_at.is_some());
    assert!(
        !store.update_job(id, "p1", json!({})).await.expect("update"),
        "finished jobs stay finished"
    );
    let much_later = end + Duration::hours(1);
    assert!(
        store
            .claim_job("p2", much_later, lease())
            .await
            .expect("claim")
            .is_none()
    );
    assert!(store.job(id + 1000).await.expect("read").is_none());
}

pub async fn failed_jobs_keep_their_reason(db: &TestDb) {
    let store = &db.store;
    let id = store
        .enqueue_job("execute_approval", json!({"approval": "A3"}), t0())
        .await
        .expect("enqueue");
    store
        .claim_job("p1", t0(), lease())
        .await
        .expect("claim")
        .expect("due");
    let outcome = JobOutcome::Failed("deployment changed since this was requested".into());
    assert!(store.finish_job(id, "p1", outcome).await.expect("finish"));
    let failed = store.job(id).await.expect("read").expect("exists");
    assert_eq!(failed.status, JobStatus::Failed);
    assert_eq!(
        failed.outcome.as_deref(),
        Some("deployment changed since this was requested")
    );
}

pub async fn expired_lease_is_taken_over(db: &TestDb) {
    let store = &db.store;
    let id = store
        .enqueue_job("follow_rollout", json!({}), t0())
        .await
        .expect("enqueue");
    store
        .claim_job("dead-process", t0(), lease())
        .await
        .expect("claim")
        .expect("due");
    let before_expiry = t0() + Duration::seconds(29);
    assert!(
        store
            .claim_job("p2", before_expiry, lease())
            .await
            .expect("claim")
            .is_none()
    );
    let after_expiry = t0() + Duration::seconds(30);
    let job = store
        .claim_job("p2", after_expiry, lease())
        .await
        .expect("claim")
        .expect("lease ran out");
    assert_eq!(
        (job.id, job.attempts, job.owner.as_deref()),
        (id, 2, Some("p2"))
    );
    // The old owner wakes up: everything it tries is refused.
    assert!(
        !store
            .renew_lease(id, "dead-process", after_expiry, lease())
            .await
            .expect("renew")
    );
    assert!(
        !store
            .update_job(id, "dead-process", json!({}))
            .await
            .expect("update")
    );
    assert!(
        !store
            .finish_job(id, "dead-process", JobOutcome::Done(String::new()),)
            .await
            .expect("f")
    );
    assert!(
        !store
            .release_job(id, "dead-process")
            .await
            .expect("release")
    );
    assert!(
        store
            .finish_job(id, "p2", JobOutcome::Done("ok".into()))
            .await
            .expect("finish")
    );
}

pub async fn released_job_is_claimed_at_once(db: &TestDb) {
    let store = &db.store;
    let id = store
        .enqueue_job("follow_rollout", json!({"n": 1}), t0())
        .await
        .expect("enqueue");
    store
        .claim_job("p1", t0(), lease())
        .await
        .expect("claim")
        .expect("due");
    assert!(
        store
            .update_job(id, "p1", json!({"step": 3}))
            .await
            .expect("update")
    );
    assert!(store.release_job(id, "p1").await.expect("release"));
    let released = store.job(id).await.expect("read").expect("exists");
    assert_eq!(
        (
            released.status,
            released.owner.clone(),
            released.lease_until
        ),
        (JobStatus::Queued, None, None)
    );
    let job = store
        .claim_job("p2", t0(), lease())
        .await
        .expect("claim")
        .expect("released jobs are due");
    assert_eq!((job.owner.as_deref(), job.attempts), (Some("p2"), 2));
    assert_eq!(
        job.state,
        Some(json!({"step": 3})),
        "the checkpoint is handed over"
    );
}

pub async fn jobs_are_claimed_oldest_first(db: &TestDb) {
    let store = &db.store;
    let late = store
        .enqueue_job("b", json!({}), t0() + Duration::seconds(2))
        .await
        .expect("enqueue");
    let early = store
        .enqueue_job("a", json!({}), t0() + Duration::seconds(1))
        .await
        .expect("enqueue");
    let now = t0() + Duration::seconds(3);
    assert_eq!(
        store
            .claim_job("p", now, lease())
            .await
            .expect("claim")
            .map(|j| j.id),
        Some(early)
    );
    assert_eq!(
        store
            .claim_job("p", now, lease())
            .await
            .expect("claim")
            .map(|j| j.id),
        Some(late)
    );
    assert!(
        store
            .claim_job("p", now, lease())
            .await
            .expect("claim")
            .is_none()
    );
}

pub async fn exactly_one_of_50_claimers_gets_the_job(db: &TestDb) {
    let id = db
        .store
        .enqueue_job("execute_approval", json!({"approval": "A1"}), t0())
        .await
        .expect("enqueue");
    let second_process = db.reopen().await;
    let claims = (0..50).map(|i| {
        let store = if i % 2 == 0 {
            db.store.clone()
        } else {
            second_process.clone()
        };
        async move { store.claim_job(&format!("worker-{i}"), t0(), lease()).await }
    });
    let won: Vec<_> = join_all(claims)
        .await
        .into_iter()
        .filter_map(|r| r.expect("claim"))
        .collect();
    assert_eq!(won.len(), 1, "exactly one claimer: {won:?}");
    assert_eq!((won[0].id, won[0].attempts), (id, 1));
    second_process.close().await;
}

pub async fn concurrent_claimers_share_out_jobs(db: &TestDb) {
    for n in 0..20 {
        db.store
            .enqueue_job("work", json!({"n": n}), t0())
            .await
            .expect("enqueue");
    }
    let claims = (0..50).map(|i| {
        let store = db.store.clone();
        async move { store.claim_job(&format!("worker-{i}"), t0(), lease()).await }
    });
    let won: Vec<_> = join_all(claims)
        .await
        .into_iter()
        .filter_map(|r| r.expect("claim"))
        .collect();
    let ids: BTreeSet<i64> = won.iter().map(|job| job.id).collect();
    assert_eq!((won.len(), ids.len()), (20, 20), "each job to one claimer");
}

pub async fn bad_leases_are_refused(db: &TestDb) {
    let store = &db.store;
    let id = store
        .enqueue_job("work", json!({}), t0())
        .await
        .expect("enqueue");
    let refused = store.claim_job("p1", t0(), StdDuration::ZERO).await;
    assert!(
        matches!(refused, Err(StoreError::Invalid(_))),
        "{refused:?}"
    );
    let absurd = store.claim_job("p1", t0(), StdDuration::MAX).await;
    assert!(matches!(absurd, Err(StoreError::Invalid(_))), "{absurd:?}");
    store
        .claim_job("p1", t0(), lease())
        .await
        .expect("claim")
        .expect("still claimable");
    assert!(matches!(
        store.renew_lease(id, "p1", t0(), StdDuration::ZERO).await,
        Err(StoreError::Invalid(_))
    ));
}
