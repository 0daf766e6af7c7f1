//! Fresh databases for tests: a SQLite file in a temp dir, or a PostgreSQL database created with a random name
//! on the local server and dropped when the test ends. A missing PostgreSQL fails the test; it never skips.

use sqlx::Connection;

/// The PostgreSQL server tests use (`DATABASE_TEST_URL`, default the local trust-auth server).
pub fn postgres_server_url() -> String {
    std::env::var("DATABASE_TEST_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A database that exists for one test.
pub struct TestDb {
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A SQLite database file in a fresh temp dir.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("bot.db").display());
        TestDb {
            url,
            pg_name: None,
            _dir: Some(dir),
        }
    }

    /// A fresh PostgreSQL database on the local server.
    pub async fn postgres() -> TestDb {
        let server = postgres_server_url();
        let name = format!("mystocks_test_{}", uuid_like());
        let mut conn = sqlx::PgConnection::connect(&server)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL is required for this test at {server} (set DATABASE_TEST_URL): {e}"
                )
            });
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let base = server.rsplit_once('/').map(|(b, _)| b).unwrap_or(&server);
        TestDb {
            url: format!("{base}/{name}"),
            pg_name: Some(name),
            _dir: None,
        }
    }
}

fn uuid_like() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        let server = postgres_server_url();
        // Drop runs outside any async context we can rely on: use a small runtime of our own on a thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&server).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await
                .ok()
            })
        })
        .join();
    }
}
