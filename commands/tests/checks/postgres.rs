//! `db tables` and VACUUM against a real PostgreSQL: a database with a few tables and rows, created and dropped
//! by the test, and a second role that owns none of them.

use std::time::Duration;

use mystocks_commands::approval::{Approved, Ballot, Tally};
use mystocks_commands::checks::db::{
    DbError, MaintenancePlan, VacuumOutcome, reachability, resolve_table, vacuum_sql,
};
use mystocks_commands::checks::{CheckLevel, table_sizes, vacuum};
use sqlx::{Connection, PgConnection};

const TIMEOUT: Duration = Duration::from_secs(5);

fn server_url() -> String {
    std::env::var("DATABASE_TEST_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database and a role that exist for one test; dropped when it ends, even on failure.
struct Scratch {
    name: String,
    role: String,
    url: String,
    other_url: String,
}

impl Scratch {
    async fn create() -> Scratch {
        let server = server_url();
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let name = format!("checks_test_{suffix}");
        let role = format!("checks_other_{suffix}");
        let mut conn = PgConnection::connect(&server).await.unwrap_or_else(|e| {
            panic!("PostgreSQL is required at {server} (set DATABASE_TEST_URL): {e}")
        });
        for sql in [
            format!("CREATE DATABASE \"{name}\""),
            format!("CREATE ROLE \"{role}\" LOGIN"),
        ] {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut conn)
                .await
                .expect("create");
        }
        let base = server
            .rsplit_once('/')
            .map(|(b, _)| b.to_string())
            .unwrap_or(server.clone());
        let url = format!("{base}/{name}");
        let other_url = url::Url::parse(&url)
            .map(|mut u| {
                let _ = u.set_username(&role);
                let _ = u.set_password(None);
                u.to_string()
            })
            .expect("url");
        let scratch = Scratch {
            name,
            role,
            url,
            other_url,
        };
        let mut db = PgConnection::connect(&scratch.url)
            .await
            .expect("connect to the test database");
        let setup = "CREATE TABLE quotes (id serial PRIMARY KEY, symbol text, price numeric);
             INSERT INTO quotes (symbol, price) SELECT 'S' || g, g FROM generate_series(1, 5000) g;
             CREATE TABLE trades (id serial PRIMARY KEY, qty int);
             INSERT INTO trades (qty) SELECT g FROM generate_series(1, 50) g;
             CREATE TABLE \"MixedCase\" (id int);
             INSERT INTO \"MixedCase\" VALUES (1);
             CREATE SCHEMA audit; CREATE TABLE audit.events (id int); INSERT INTO audit.events VALUES (1);";
        sqlx::raw_sql(setup).execute(&mut db).await.expect("tables");
        let grant = format!("GRANT USAGE ON SCHEMA audit TO \"{}\"", scratch.role);
        sqlx::raw_sql(sqlx::AssertSqlSafe(grant))
            .execute(&mut db)
            .await
            .expect("grant");
        let _ = db.close().await;
        scratch
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let (server, name, role) = (server_url(), self.name.clone(), self.role.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = PgConnection::connect(&server).await.ok()?;
                for sql in [
                    format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                    format!("DROP ROLE IF EXISTS \"{role}\""),
                ] {
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await
                        .ok()?;
                }
                Some(())
            })
        })
        .join();
    }
}

#[tokio::test]
async fn tables_are_listed_largest_first_with_human_sizes() {
    let db = Scratch::create().await;
    let tables = table_sizes(Some(&db.url), TIMEOUT).await.expect("tables");
    let names: Vec<String> = tables.iter().map(|t| t.qualified()).collect();
    assert_eq!(names.len(), 4, "{names:?}");
    assert_eq!(names[0], "quotes", "largest first: {names:?}");
    assert!(
        names.contains(&"audit.events".to_string()) && names.contains(&"MixedCase".to_string()),
        "{names:?}"
    );
    assert!(
        tables.windows(2).all(|w| w[0].bytes >= w[1].bytes),
        "{tables:?}"
    );
    assert!(
        tables[0].size.ends_with("kB") || tables[0].size.ends_with("MB"),
        "{:?}",
        tables[0]
    );

    let check = reachability(&db.url, TIMEOUT).await;
    assert_eq!(check.level, CheckLevel::Ok, "{check:?}");
    assert!(check.reason.starts_with("PostgreSQL 1"), "{check:?}");
}

/// A vacuum of `tables`, approved the only way a test may: alice asked, bob (an approver) approved.
fn approved(tables: Vec<(String, String)>) -> Approved<MaintenancePlan> {
    let plan = MaintenancePlan {
        operation: "vacuum".into(),
        database: "scratch".into(),
        sql: Vec::new(),
        tables,
    };
    let bob = Ballot {
        person: "bob".into(),
        approves: true,
        may_approve: true,
    };
    Approved::by_quorum(plan, &Tally::new("alice", 1, vec![bob])).expect("approved")
}

#[tokio::test]
async fn vacuum_runs_table_by_table_and_reports_each() {
    let db = Scratch::create().await;
    let all = table_sizes(Some(&db.url), TIMEOUT).await.expect("tables");
    let pairs: Vec<(String, String)> = all
        .iter()
        .map(|t| (t.schema.clone(), t.table.clone()))
        .collect();
    let report = vacuum(Some(&db.url), &approved(pairs), TIMEOUT)
        .await
        .expect("vacuum");
    assert_eq!(report.tables.len(), 4);
    assert!(report.all_vacuumed(), "{report:?}");

    let mixed = resolve_table("MixedCase", &all).expect("exists");
    assert_eq!(
        vacuum_sql(mixed),
        "VACUUM (ANALYZE) \"public\".\"MixedCase\""
    );
    assert_eq!(
        resolve_table("AUDIT.EVENTS", &all)
            .map(|t| t.qualified())
            .ok(),
        Some("audit.events".into())
    );
    match resolve_table("quotes; DROP TABLE trades", &all) {
        Err(DbError::UnknownTable { known, .. }) => assert!(known.contains(&"trades".to_string())),
        other => panic!("{other:?}"),
    }
}

/// Two processes never vacuum at once: while another session holds the maintenance lock in the app's database
/// (as a bot process running VACUUM does), a second run refuses before touching any table; once it is released,
/// the run goes ahead.
#[tokio::test]
async fn a_second_vacuum_waits_for_the_maintenance_lock() {
    let db = Scratch::create().await;
    let all = table_sizes(Some(&db.url), TIMEOUT).await.expect("tables");
    let pairs: Vec<(String, String)> = all
        .iter()
        .map(|t| (t.schema.clone(), t.table.clone()))
        .collect();
    let mut other = PgConnection::connect(&db.url).await.expect("connect");
    let key = i64::from_be_bytes(*b"mysvacum");
    let held: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(key)
        .fetch_one(&mut other)
        .await
        .expect("lock");
    assert!(held);
    match vacuum(Some(&db.url), &approved(pairs.clone()), TIMEOUT).await {
        Err(DbError::MaintenanceRunning) => {}
        other => panic!("a second vacuum must refuse while the lock is held: {other:?}"),
    }
    other.close().await.expect("close");
    let report = vacuum(Some(&db.url), &approved(pairs), TIMEOUT)
        .await
        .expect("vacuum");
    assert!(report.all_vacuumed(), "{report:?}");
}

#[tokio::test]
async fn a_role_that_owns_nothing_gets_skipped_tables_not_success() {
    let db = Scratch::create().await;
    let all = table_sizes(Some(&db.other_url), TIMEOUT)
        .await
        .expect("the other role sees the tables");
    let pairs: Vec<(String, String)> = all
        .iter()
        .map(|t| (t.schema.clone(), t.table.clone()))
        .collect();
    let report = vacuum(Some(&db.other_url), &approved(pairs), TIMEOUT)
        .await
        .expect("vacuum runs");
    assert!(!report.all_vacuumed());
    for (name, outcome, _) in &report.tables {
        assert!(
            matches!(outcome, VacuumOutcome::Skipped(why) if why.contains("owner")),
            "{name}: {outcome:?}"
        );
    }
}

#[tokio::test]
async fn not_configured_and_unreachable_are_said() {
    assert!(matches!(
        table_sizes(None, TIMEOUT).await,
        Err(DbError::NotConfigured)
    ));
    let err = table_sizes(Some("postgres://u:hunter2@127.0.0.1:1/db"), TIMEOUT)
        .await
        .expect_err("refused");
    let text = err.to_string();
    assert!(
        text.contains("connection refused") && !text.contains("hunter2"),
        "{text}"
    );
}
