//! Test databases: a SQLite file in a temp dir, or a fresh PostgreSQL database per test (created with a random
//! name, dropped afterwards even if the test panics). PostgreSQL missing is a failure, never a skip.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use mystocks_store::audit::AuditKey;
use mystocks_store::store::{self, Store};
use secrecy::SecretString;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool, SqlitePool};

/// Where the test PostgreSQL server is; override with `MYSTOCKS_TEST_PG`.
const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/";

/// A password put into the test URL (the test server trusts local connections) to prove it is never shown.
pub const URL_PASSWORD: &str = "pw-must-not-show-7Qx";

/// The audit key text the stores are opened with, to prove it is never shown.
pub const KEY_TEXT: &str = "audit-key-must-not-show-93kd0s";

pub fn audit_key() -> AuditKey {
    AuditKey::new(SecretString::from(KEY_TEXT)).expect("test key is long enough")
}

/// A fixed start time with microseconds (what both databases keep).
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0)
        .single()
        .expect("valid time")
        + chrono::Duration::microseconds(123_456)
}

/// Direct access to the database under the store, for tampering with it like an attacker would.
pub enum Raw {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Raw {
    /// Runs one statement (literal values only: the SQL is the same on both databases).
    pub async fn exec(&self, sql: &str) -> u64 {
        let sql = AssertSqlSafe(sql.to_string());
        let done = match self {
            Raw::Sqlite(pool) => sqlx::query(sql)
                .execute(pool)
                .await
                .map(|d| d.rows_affected()),
            Raw::Postgres(pool) => sqlx::query(sql)
                .execute(pool)
                .await
                .map(|d| d.rows_affected()),
        };
        done.unwrap_or_else(|e| panic!("raw statement failed: {e}"))
    }
}

/// What goes when the test ends: the temp dir, or the PostgreSQL database.
enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(#[allow(dead_code)] DropDatabase),
}

/// Drops a test database when dropped — also when the test panics, even before the store opened.
struct DropDatabase {
    admin_url: String,
    name: String,
}

/// One test's database and the store opened on it.
pub struct TestDb {
    pub store: Arc<dyn Store>,
    pub raw: Raw,
    /// The URL the store was opened with (a second "process" can open it again).
    pub url: String,
    _cleanup: Cleanup,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("a temp dir for the SQLite store");
        let url = format!("sqlite://{}", dir.path().join("store.db").display());
        let store = store::connect(&url, audit_key())
            .await
            .expect("SQLite store opens");
        let raw = SqlitePoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .expect("raw SQLite connection");
        TestDb {
            store,
            raw: Raw::Sqlite(raw),
            url,
            _cleanup: Cleanup::Sqlite(dir),
        }
    }

    pub async fn postgres() -> TestDb {
        Self::postgres_with(None).await
    }

    /// A fresh PostgreSQL database loaded from a plain `pg_dump` before the store opens it (and migrates it).
    pub async fn postgres_from_dump(dump: &str) -> TestDb {
        Self::postgres_with(Some(dump)).await
    }

    async fn postgres_with(dump: Option<&str>) -> TestDb {
        let base = std::env::var("MYSTOCKS_TEST_PG").unwrap_or_else(|_| DEFAULT_PG.to_string());
        let mut base = url::Url::parse(&base)
            .unwrap_or_else(|e| panic!("MYSTOCKS_TEST_PG `{base}` is not a URL: {e}"));
        if base.password().is_none() {
            base.set_password(Some(URL_PASSWORD))
                .expect("URL takes a password");
        }
        let admin_url = with_database(&base, "postgres");
        let name = format!("mystocks_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is needed for the store tests and is not reachable at {} ({e}). Start it, or point \
                 MYSTOCKS_TEST_PG at one (e.g. postgres://postgres@127.0.0.1:5432/).",
                store::redact_url(&admin_url)
            )
        });
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let _ = admin.close().await;
        let cleanup = Cleanup::Postgres(DropDatabase {
            admin_url,
            name: name.clone(),
        });
        let url = with_database(&base, &name);
        if let Some(dump) = dump {
            // Its own connection: a dump sets the session's search_path.
            let mut loader = PgConnection::connect(&url)
                .await
                .expect("connect to load the dump");
            sqlx::raw_sql(AssertSqlSafe(dump.to_string()))
                .execute(&mut loader)
                .await
                .unwrap_or_else(|e| panic!("the dump does not load: {e}"));
            let _ = loader.close().await;
        }
        let store = store::connect(&url, audit_key())
            .await
            .expect("PostgreSQL store opens");
        let raw = PgPoolOptions::new()
            .max_connections(2)
            .connect(&url)
            .await
            .expect("raw PostgreSQL connection");
        TestDb {
            store,
            raw: Raw::Postgres(raw),
            url,
            _cleanup: cleanup,
        }
    }

    /// Opens the same database again, as a second process would.
    pub async fn reopen(&self) -> Arc<dyn Store> {
        store::connect(&self.url, audit_key())
            .await
            .expect("the store opens a second time")
    }

    /// Closes the connections; the database goes when `self` drops.
    pub async fn finish(self) {
        self.store.close().await;
        match &self.raw {
            Raw::Sqlite(pool) => pool.close().await,
            Raw::Postgres(pool) => pool.close().await,
        }
    }
}

impl Drop for DropDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop may run inside the test's runtime: drop the database from a thread with a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await?;
                sqlx::query(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await?;
                Ok::<_, sqlx::Error>(())
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop a test database: {e}");
        }
    }
}

fn with_database(base: &url::Url, name: &str) -> String {
    let mut url = base.clone();
    url.set_path(&format!("/{name}"));
    url.to_string()
}
