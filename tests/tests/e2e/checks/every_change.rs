//! Every kind of change, walked through request → approve → execute on the whole core: each is previewed and
//! waits, the requester cannot approve it, and one approval by someone else runs it exactly once. The list of
//! changes is checked against the `Change` type, so a new change fails here until it is walked too.

use mystocks_commands::command::{Change, Command};
use mystocks_commands::reply::ReplyKind;
use mystocks_sim::world::Scenario;
use mystocks_tests::{approval_id, approval_state, texts};
use sqlx::{Connection, PgConnection};

use super::harness::ChecksApp;
use super::maintenance::mystocks_db;

/// One text per change, in an order the sim can follow (deploy, then roll it back, …).
const CHANGES: [&str; 5] = [
    "deploy v1.0.2",
    "rollback",
    "scale 4",
    "restart",
    "db vacuum quotes",
];

/// Which change a command is; exhaustive, so adding a change does not compile until this test knows it.
fn index(change: &Change) -> usize {
    match change {
        Change::Deploy(_) => 0,
        Change::Rollback(_) => 1,
        Change::Scale(_) => 2,
        Change::Restart(_) => 3,
        Change::DbVacuum(_) => 4,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_is_requested_approved_and_executed_once() {
    let db = mystocks_db().await;
    let app = ChecksApp::spawn(Scenario::Healthy, Some(db.url.clone())).await;
    let mut walked = Vec::new();
    for text in CHANGES {
        let Ok(Command::Change(change)) = Command::parse(text) else {
            panic!("`{text}` is not a change");
        };
        walked.push(index(&change));
        let writes_before = real_writes(&app);

        let asked = app.say("alice", text).await;
        let id = approval_id(&asked)
            .unwrap_or_else(|| panic!("`{text}` asks for approval: {}", texts(&asked)));
        assert_eq!(
            real_writes(&app),
            writes_before,
            "`{text}` ran before approval"
        );

        let own = app.say("alice", &format!("approve {id}")).await;
        assert_eq!(own[0].kind(), ReplyKind::Refusal, "{}", texts(&own));

        let done = app.say("bob", &format!("approve {id}")).await;
        assert_eq!(
            approval_state(&done, &id).as_deref(),
            Some("done"),
            "`{text}`: {}",
            texts(&done)
        );
        let again = app.say("dave", &format!("approve {id}")).await;
        assert_eq!(again[0].kind(), ReplyKind::Refusal, "{}", texts(&again));
        match change {
            Change::DbVacuum(_) => assert_eq!(vacuums(&db.url).await, 1, "vacuumed once"),
            _ => assert_eq!(
                real_writes(&app),
                writes_before + 1,
                "`{text}` wrote to the cluster exactly once"
            ),
        }
    }
    walked.sort_unstable();
    assert_eq!(walked, (0..CHANGES.len()).collect::<Vec<_>>());
}

/// Writes the sim received that changed the deployment for real (dry runs are previews).
fn real_writes(app: &ChecksApp) -> usize {
    app.sim
        .changing_requests()
        .into_iter()
        .filter(|r| !r.path.contains("dryRun=All"))
        .count()
}

async fn vacuums(url: &str) -> i64 {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    let count =
        sqlx::query_scalar("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'quotes'")
            .fetch_one(&mut conn)
            .await
            .expect("count");
    let _ = conn.close().await;
    count
}
