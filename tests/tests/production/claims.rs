//! One durable claim per delivery: Redis stopped and started between two deliveries of one event never runs it
//! twice, on SQLite and on PostgreSQL. The store's claim decides; Redis only pre-filters duplicates in front of it.
//! Each test runs a Redis server of its own (a child process on a free port), since the shared one must stay up.

use std::time::Duration;

use mystocks_commands::Handler;
use mystocks_commands::engine::CoreSettings;
use mystocks_sim::Sim;
use mystocks_tests::{AppOptions, Recorded, TestApp, TestDb};

use crate::replicas::{self, Replica, replica_settings};
use crate::support::{OwnRedis, invocation};

/// A replica on `db_url` whose coordinator is `redis`, trying Redis again 100 ms after it failed.
async fn replica(sim: &Sim, db_url: &str, redis: &OwnRedis) -> Replica {
    let settings = CoreSettings {
        coordinator_retry: Duration::from_millis(100),
        ..replica_settings("claims")
    };
    replicas::replica(sim, db_url, &redis.url(), "mystocks-bot-test:", settings).await
}

/// Delivers `event` (alice's `whoami`) and returns what it answered.
async fn deliver(bot: &Replica, event: &str) -> Vec<Recorded> {
    let before = bot.sink.len();
    Handler::handle(
        &bot.core,
        invocation(event, "alice", "whoami"),
        bot.sink.clone(),
    )
    .await;
    Handler::settle(&bot.core).await;
    bot.sink.since(before)
}

/// Waits until the replica's coordinator answers again (its connection is re-established), then past the
/// pre-filter's retry interval.
async fn redis_answers_again(bot: &Replica) {
    let coordinator = &bot.core.context().coordinator;
    for _ in 0..200 {
        if coordinator.is_claimed("probe").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(200)).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the coordinator did not reconnect to the restarted Redis");
}

async fn each_delivery_runs_once_across_a_redis_restart(db: TestDb) {
    let app = TestApp::spawn(AppOptions::default()).await;
    let mut redis = OwnRedis::start();
    let bot = replica(&app.sim, &db.url, &redis).await;
    let event = |name: &str| format!("claims-{name}-{}", uuid::Uuid::new_v4().simple());

    // Redis down at the first delivery, back at the retry.
    let first = event("down-then-up");
    redis.stop();
    assert!(
        !deliver(&bot, &first).await.is_empty(),
        "runs while Redis is down"
    );
    redis.restart();
    redis_answers_again(&bot).await;
    let again = deliver(&bot, &first).await;
    assert!(
        again.is_empty(),
        "a retry after Redis came back ran the command a second time: {again:?}"
    );

    // Redis up at the first delivery, down at the retry.
    let second = event("up-then-down");
    assert!(!deliver(&bot, &second).await.is_empty(), "runs");
    redis.stop();
    let again = deliver(&bot, &second).await;
    assert!(
        again.is_empty(),
        "a retry while Redis is down ran the command a second time: {again:?}"
    );
    redis.restart();
    redis_answers_again(&bot).await;
    assert!(
        deliver(&bot, &second).await.is_empty(),
        "and once Redis is back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_runs_once_across_a_redis_restart_on_sqlite() {
    each_delivery_runs_once_across_a_redis_restart(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_runs_once_across_a_redis_restart_on_postgres() {
    each_delivery_runs_once_across_a_redis_restart(TestDb::postgres().await).await;
}
