//! The sqlx capabilities the shared store code needs from a database, stated once as supertraits of
//! [`super::Dialect`], so that generic code only says `DB: Dialect`.
//!
//! Why not plain where-clauses: a bound like `String: Encode<'q, DB>` in a trait's where-clause is not implied
//! where the trait is used, so every generic impl would have to repeat the whole list. Bounds whose subject is
//! the database itself (supertraits, and bounds on its associated types) are implied. So each capability here
//! is a trait *of the database* (`DB: Binds<String>`), implemented once for every database that has it, and the
//! shared code uses it through [`BindArg::arg`], [`ReadCol::col`] and [`Runs`] instead of sqlx's own `bind`,
//! `try_get` and `&Pool`.

use sqlx::query::Query;
use sqlx::{Column, ColumnIndex, Database, Decode, Encode, Executor, Pool, Row, Type};

/// A Rust value that `DB` can bind as a parameter.
pub(crate) trait Param<DB: Database>: for<'q> Encode<'q, DB> + Type<DB> + Send {}

impl<DB: Database, T: for<'q> Encode<'q, DB> + Type<DB> + Send> Param<DB> for T {}

/// A Rust value that `DB` can read out of a column.
pub(crate) trait Field<DB: Database>: for<'r> Decode<'r, DB> + Type<DB> + Send {}

impl<DB: Database, T: for<'r> Decode<'r, DB> + Type<DB> + Send> Field<DB> for T {}

/// The database binds a `T`.
pub(crate) trait Binds<T>: Database {
    fn bind_to(
        query: Query<'_, Self, Self::Arguments>,
        value: T,
    ) -> Query<'_, Self, Self::Arguments>;
}

impl<DB: Database, T: Param<DB>> Binds<T> for DB {
    fn bind_to(
        query: Query<'_, Self, Self::Arguments>,
        value: T,
    ) -> Query<'_, Self, Self::Arguments> {
        query.bind(value)
    }
}

/// The database reads a `T` from a column.
pub(crate) trait Reads<T>: Database {
    fn read(row: &Self::Row, column: &str) -> Result<T, sqlx::Error>;
}

impl<DB: Database, T: Field<DB>> Reads<T> for DB {
    fn read(row: &Self::Row, column: &str) -> Result<T, sqlx::Error> {
        row.try_get(Named(column))
    }
}

/// A column by name, for any row type: sqlx implements `&str` indexes per database, which would be one more
/// bound to carry.
#[derive(Debug)]
struct Named<'a>(&'a str);

impl<R: Row> ColumnIndex<R> for Named<'_> {
    fn index(&self, row: &R) -> Result<usize, sqlx::Error> {
        row.columns()
            .iter()
            .position(|column| column.name() == self.0)
            .ok_or_else(|| sqlx::Error::ColumnNotFound(self.0.into()))
    }
}

/// The database runs queries on a pool and on a single connection (a transaction).
pub(crate) trait Runs: Database {
    fn pool(pool: &Pool<Self>) -> impl Executor<'_, Database = Self>;
    fn conn(conn: &mut Self::Connection) -> impl Executor<'_, Database = Self>;
}

impl<DB: Database> Runs for DB
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    fn pool(pool: &Pool<Self>) -> impl Executor<'_, Database = Self> {
        pool
    }

    fn conn(conn: &mut Self::Connection) -> impl Executor<'_, Database = Self> {
        conn
    }
}

/// How many rows a statement changed (sqlx has it per database, not in a trait).
pub(crate) trait Affected {
    fn rows_affected(&self) -> u64;
}

impl Affected for sqlx::postgres::PgQueryResult {
    fn rows_affected(&self) -> u64 {
        sqlx::postgres::PgQueryResult::rows_affected(self)
    }
}

impl Affected for sqlx::sqlite::SqliteQueryResult {
    fn rows_affected(&self) -> u64 {
        sqlx::sqlite::SqliteQueryResult::rows_affected(self)
    }
}

/// `query.arg(value)`: `bind` for any value the database [`Binds`].
pub(crate) trait BindArg<DB: Database>: Sized {
    fn arg<T>(self, value: T) -> Self
    where
        DB: Binds<T>;
}

impl<DB: Database> BindArg<DB> for Query<'_, DB, DB::Arguments> {
    fn arg<T>(self, value: T) -> Self
    where
        DB: Binds<T>,
    {
        DB::bind_to(self, value)
    }
}

/// `row.col("name")`: `try_get` for any value the database [`Reads`].
pub(crate) trait ReadCol<DB: Database> {
    fn col<T>(&self, column: &str) -> Result<T, sqlx::Error>
    where
        DB: Reads<T>;
}

impl<R: Row> ReadCol<R::Database> for R {
    fn col<T>(&self, column: &str) -> Result<T, sqlx::Error>
    where
        R::Database: Reads<T>,
    {
        <R::Database as Reads<T>>::read(self, column)
    }
}
