//! `db tables` and `db vacuum` against a real PostgreSQL database standing in for the MyStocks database; the
//! vacuum goes through the normal approval flow.

use mystocks_commands::reply::{Level, ReplyKind};
use mystocks_sim::world::Scenario;
use mystocks_tests::{TestDb, approval_id, texts};
use sqlx::{Connection, PgConnection};

use super::harness::ChecksApp;

pub(super) async fn mystocks_db() -> TestDb {
    let db = TestDb::postgres().await;
    let mut conn = PgConnection::connect(&db.url).await.expect("connect");
    sqlx::raw_sql(
        "CREATE TABLE quotes (id serial PRIMARY KEY, symbol text);
         INSERT INTO quotes (symbol) SELECT 'S' || g FROM generate_series(1, 3000) g;
         CREATE TABLE portfolios (id int);
         INSERT INTO portfolios VALUES (1), (2);",
    )
    .execute(&mut conn)
    .await
    .expect("tables");
    let _ = conn.close().await;
    db
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_largest_first_and_vacuum_through_approval() {
    let db = mystocks_db().await;
    let app = ChecksApp::spawn(Scenario::Healthy, Some(db.url.clone())).await;

    let replies = app.say("carol", "db tables").await;
    let text = texts(&replies);
    assert_eq!(replies[0].kind(), ReplyKind::Result, "{text}");
    let quotes = text.find("quotes").expect("quotes listed");
    let portfolios = text.find("portfolios").expect("portfolios listed");
    assert!(quotes < portfolios, "largest first: {text}");

    let replies = app.say("carol", "db vacuum quotes").await;
    assert_eq!(
        replies[0].kind(),
        ReplyKind::Refusal,
        "a viewer cannot request it: {}",
        texts(&replies)
    );

    let replies = app.say("alice", "db vacuum nosuch").await;
    let text = texts(&replies);
    assert_eq!(replies[0].kind(), ReplyKind::Refusal, "{text}");
    assert!(
        text.contains("no table `nosuch`") && text.contains("quotes"),
        "{text}"
    );

    let replies = app.say("alice", "db vacuum quotes").await;
    let text = texts(&replies);
    let id = approval_id(&replies).unwrap_or_else(|| panic!("an approval request: {text}"));
    assert!(
        text.contains("VACUUM (ANALYZE) \"public\".\"quotes\""),
        "the SQL is previewed: {text}"
    );

    let replies = app.say("bob", &format!("approve {id}")).await;
    let text = texts(&replies);
    let result = replies
        .iter()
        .find(|r| r.reply.header.as_deref() == Some("Database maintenance"))
        .unwrap_or_else(|| panic!("a maintenance result: {text}"));
    assert_eq!(result.reply.level, Level::Ok, "{text}");
    assert!(
        result.text().contains("1 vacuumed, 0 skipped, 0 failed"),
        "{}",
        result.text()
    );

    let mut conn = PgConnection::connect(&db.url).await.expect("connect");
    let count: i64 =
        sqlx::query_scalar("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'quotes'")
            .fetch_one(&mut conn)
            .await
            .expect("count");
    assert_eq!(count, 1, "the table was vacuumed once");
    let _ = conn.close().await;

    let replies = app.say("carol", "approvals").await;
    assert!(
        !texts(&replies).contains(&format!("{id} ")) || texts(&replies).contains("done"),
        "{}",
        texts(&replies)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_database_url_db_commands_say_not_configured() {
    let app = ChecksApp::spawn(Scenario::Healthy, None).await;
    let replies = app.say("carol", "db tables").await;
    assert_eq!(replies[0].kind(), ReplyKind::Error);
    assert!(
        texts(&replies).contains("set `checks.database_url`"),
        "{}",
        texts(&replies)
    );
    let replies = app.say("alice", "db vacuum").await;
    assert_eq!(replies[0].kind(), ReplyKind::Refusal);
    assert!(
        texts(&replies).contains("not configured") || texts(&replies).contains("no database"),
        "{}",
        texts(&replies)
    );
    let replies = app.say("carol", "health").await;
    let text = texts(&replies);
    assert!(
        text.contains("postgres") && text.contains("not configured"),
        "{text}"
    );
}
