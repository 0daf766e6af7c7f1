//! The app's own PostgreSQL database (its configured URL, never the bot's store): reachability, the manual's
//! table-size query, and VACUUM ANALYZE — one table at a time, outside any transaction, each table named as a
//! quoted identifier after checking it exists, and each checked afterwards for having been vacuumed at all.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sqlx::{Connection, PgConnection, Row};

use super::result::{CheckLevel, CheckResult};
use crate::approval::Approved;
use crate::store::redact_url;

/// Why a database command could not run.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("no database configured for the app (set `checks.database_url`)")]
    NotConfigured,
    #[error("cannot reach the app's database at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("there is no table `{given}` in the app's database{}", suggestion_text(.known))]
    UnknownTable { given: String, known: Vec<String> },
    #[error("the database refused: {0}")]
    Query(String),
    #[error(
        "another maintenance run holds the app database's maintenance lock (another bot process is vacuuming); \
         wait for it to finish, then request `db vacuum` again"
    )]
    MaintenanceRunning,
}

/// The session-level advisory lock every bot process takes in the app's database while it vacuums, so two
/// processes (say, after a store outage let a job's lease pass to another) never run maintenance at once. The key
/// is "mysvacum" as bytes.
const MAINTENANCE_LOCK: i64 = i64::from_be_bytes(*b"mysvacum");

fn suggestion_text(known: &[String]) -> String {
    if known.is_empty() {
        " (it has no tables)".into()
    } else {
        format!(
            " (tables: {})",
            known
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// One row of `db tables`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSize {
    pub schema: String,
    pub table: String,
    pub bytes: i64,
    /// `pg_size_pretty`, e.g. `8192 bytes`, `16 MB`.
    pub size: String,
    pub rows_estimate: i64,
}

impl TableSize {
    /// `schema.table`, or just `table` in `public`.
    pub fn qualified(&self) -> String {
        qualified(&self.schema, &self.table)
    }
}

fn qualified(schema: &str, table: &str) -> String {
    if schema == "public" {
        table.to_string()
    } else {
        format!("{schema}.{table}")
    }
}

/// What happened to one table under VACUUM ANALYZE.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "detail")]
pub enum VacuumOutcome {
    Vacuumed,
    /// PostgreSQL skipped it (typically: the bot's role does not own it).
    Skipped(String),
    Failed(String),
}

/// The result of `db vacuum`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VacuumReport {
    pub tables: Vec<(String, VacuumOutcome, u64)>,
    pub total_millis: u64,
}

impl VacuumReport {
    /// Every table vacuumed.
    pub fn all_vacuumed(&self) -> bool {
        self.tables
            .iter()
            .all(|(_, o, _)| *o == VacuumOutcome::Vacuumed)
    }
}

async fn connect(url: &str, timeout: Duration) -> Result<PgConnection, DbError> {
    let unreachable = |reason: String| DbError::Unreachable {
        url: redact_url(url),
        reason,
    };
    match tokio::time::timeout(timeout, PgConnection::connect(url)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(err)) => Err(unreachable(sqlx_reason(&err))),
        Err(_) => Err(unreachable(format!(
            "no answer within {} ms (timeout)",
            timeout.as_millis()
        ))),
    }
}

/// Reachability: connect and `SELECT 1`.
pub async fn reachability(url: &str, timeout: Duration) -> CheckResult {
    let shown = redact_url(url);
    let started = Instant::now();
    let outcome = async {
        let mut conn = connect(url, timeout).await?;
        let version: String = sqlx::query_scalar("SHOW server_version")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| DbError::Query(sqlx_reason(&e)))?;
        let _ = conn.close().await;
        Ok::<_, DbError>(version)
    }
    .await;
    match outcome {
        Ok(version) => CheckResult::new(
            "postgres",
            shown,
            CheckLevel::Ok,
            format!("PostgreSQL {version}"),
            started.elapsed(),
        ),
        Err(DbError::Unreachable { reason, .. }) => CheckResult::new(
            "postgres",
            shown,
            CheckLevel::Fail,
            reason,
            started.elapsed(),
        ),
        Err(err) => CheckResult::new(
            "postgres",
            shown,
            CheckLevel::Fail,
            err.to_string(),
            started.elapsed(),
        ),
    }
}

/// The manual's table-size query, largest first.
pub async fn table_sizes(url: Option<&str>, timeout: Duration) -> Result<Vec<TableSize>, DbError> {
    let url = url.ok_or(DbError::NotConfigured)?;
    let mut conn = connect(url, timeout).await?;
    let tables = list_tables(&mut conn).await;
    let _ = conn.close().await;
    tables
}

async fn list_tables(conn: &mut PgConnection) -> Result<Vec<TableSize>, DbError> {
    let rows = sqlx::query(
        "SELECT schemaname::text, relname::text, pg_relation_size(relid) AS bytes, \
         pg_size_pretty(pg_relation_size(relid)) AS size, n_live_tup AS rows_estimate \
         FROM pg_stat_user_tables ORDER BY pg_relation_size(relid) DESC, schemaname, relname",
    )
    .fetch_all(conn)
    .await
    .map_err(|e| DbError::Query(sqlx_reason(&e)))?;
    rows.iter()
        .map(|r| {
            Ok(TableSize {
                schema: r.try_get(0)?,
                table: r.try_get(1)?,
                bytes: r.try_get(2)?,
                size: r.try_get(3)?,
                rows_estimate: r.try_get(4)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(|e| DbError::Query(sqlx_reason(&e)))
}

/// Finds `given` (`table` or `schema.table`, matched exactly, then ignoring case) among the existing tables.
pub fn resolve_table<'a>(given: &str, tables: &'a [TableSize]) -> Result<&'a TableSize, DbError> {
    let matches = |exact: bool| {
        tables.iter().find(|t| {
            let names = [t.qualified(), format!("{}.{}", t.schema, t.table)];
            names.iter().any(|n| {
                if exact {
                    n == given
                } else {
                    n.eq_ignore_ascii_case(given)
                }
            })
        })
    };
    matches(true)
        .or_else(|| matches(false))
        .ok_or_else(|| DbError::UnknownTable {
            given: given.to_string(),
            known: tables.iter().map(TableSize::qualified).collect(),
        })
}

/// Quotes a name as a PostgreSQL identifier: `"a""b"`.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The statement for one table: `VACUUM (ANALYZE) "schema"."table"`.
pub fn vacuum_sql(table: &TableSize) -> String {
    format!(
        "VACUUM (ANALYZE) {}.{}",
        quote_ident(&table.schema),
        quote_ident(&table.table)
    )
}

/// The tables `db vacuum [TABLE]` would touch (validated against those that exist), for the approval preview.
pub async fn vacuum_targets(
    url: Option<&str>,
    table: Option<&str>,
    timeout: Duration,
) -> Result<Vec<TableSize>, DbError> {
    let all = table_sizes(url, timeout).await?;
    match table {
        Some(given) => Ok(vec![resolve_table(given, &all)?.clone()]),
        None => Ok(all),
    }
}

/// What an approved `db vacuum` does; stored as the approval's binding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenancePlan {
    /// Always `vacuum` for now.
    pub operation: String,
    /// The database, without credentials.
    pub database: String,
    /// `(schema, table)` pairs, as found in `pg_stat_user_tables` when the request was made.
    pub tables: Vec<(String, String)>,
    /// The statements that will run, one per table.
    pub sql: Vec<String>,
}

/// VACUUM ANALYZE of the approved plan's tables (each re-validated), one statement per table outside any transaction. A table
/// whose vacuum count did not move was skipped by PostgreSQL (it only warns when the role does not own it).
pub async fn vacuum(
    url: Option<&str>,
    approved: &Approved<MaintenancePlan>,
    connect_timeout: Duration,
) -> Result<VacuumReport, DbError> {
    let tables = &approved.change().tables;
    let url = url.ok_or(DbError::NotConfigured)?;
    let started = Instant::now();
    let mut conn = connect(url, connect_timeout).await?;
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(MAINTENANCE_LOCK)
        .fetch_one(&mut conn)
        .await
        .map_err(|e| DbError::Query(sqlx_reason(&e)))?;
    if !locked {
        let _ = conn.close().await;
        return Err(DbError::MaintenanceRunning);
    }
    // Closing the connection releases the lock, however the run ends.
    let existing = list_tables(&mut conn).await?;
    let mut report = VacuumReport {
        tables: Vec::new(),
        total_millis: 0,
    };
    for (schema, table) in tables {
        let name = qualified(schema, table);
        let Some(found) = existing
            .iter()
            .find(|t| &t.schema == schema && &t.table == table)
        else {
            report.tables.push((
                name,
                VacuumOutcome::Failed("the table no longer exists".into()),
                0,
            ));
            continue;
        };
        let one = Instant::now();
        let outcome = vacuum_one(&mut conn, found).await;
        report.tables.push((name, outcome, millis(one.elapsed())));
    }
    let _ = conn.close().await;
    report.total_millis = millis(started.elapsed());
    Ok(report)
}

async fn vacuum_one(conn: &mut PgConnection, table: &TableSize) -> VacuumOutcome {
    let before = vacuum_count(conn, table).await;
    // The name comes from pg_stat_user_tables and is quoted as an identifier, never spliced as typed.
    let sql = vacuum_sql(table);
    if let Err(err) = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut *conn)
        .await
    {
        return VacuumOutcome::Failed(sqlx_reason(&err));
    }
    let after = vacuum_count(conn, table).await;
    match (before, after) {
        (Some(b), Some(a)) if a > b => VacuumOutcome::Vacuumed,
        (Some(_), Some(_)) => VacuumOutcome::Skipped(
            "PostgreSQL skipped it: only the table's owner (or a superuser) can vacuum it".into(),
        ),
        _ => VacuumOutcome::Failed("could not read the table's vacuum count to confirm".into()),
    }
}

/// The manual VACUUM count of a table (PostgreSQL 15+ updates it when VACUUM ends).
async fn vacuum_count(conn: &mut PgConnection, table: &TableSize) -> Option<i64> {
    sqlx::query_scalar(
        "SELECT vacuum_count FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = $2",
    )
    .bind(&table.schema)
    .bind(&table.table)
    .fetch_optional(conn)
    .await
    .ok()
    .flatten()
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A database error in a few words (the server's message, or the connection problem).
fn sqlx_reason(err: &sqlx::Error) -> String {
    match err {
        sqlx::Error::Database(db) => db.message().to_string(),
        sqlx::Error::Io(io) => super::http_check::io_reason(io),
        other => other.to_string(),
    }
}
