//! What can go wrong with the store, with "the database is unreachable" kept apart from everything else.

/// An error from the store. `Unavailable` means the database could not be reached (retry later, check that it
/// runs); the other variants mean the request itself failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or the connection broke.
    #[error("the store is unavailable ({0}); check that the database is running and reachable")]
    Unavailable(String),
    /// The store URL is not one we understand.
    #[error(
        "store URL `{0}` is not supported: use `sqlite://PATH`, `sqlite::memory:` or `postgres://USER@HOST/DB`"
    )]
    BadUrl(String),
    /// The audit key is missing or unusable.
    #[error("audit key is unusable: {0}")]
    BadKey(String),
    /// Applying the embedded migrations failed.
    #[error("migrating the store at {url} failed: {source}")]
    Migrate {
        /// The store URL, redacted.
        url: String,
        /// What sqlx reported.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// No such record.
    #[error("{0} does not exist")]
    NotFound(String),
    /// The write would break a rule the store keeps (e.g. one open change request per target).
    #[error("{0}")]
    Conflict(String),
    /// A stored value could not be read back (a damaged or hand-edited database).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// A caller passed something the store cannot hold (e.g. a negative duration).
    #[error("invalid request to the store: {0}")]
    Invalid(String),
    /// A query failed for another reason.
    #[error("store query failed: {0}")]
    Query(#[source] sqlx::Error),
}

impl StoreError {
    /// True when the database could not be reached, as opposed to a failed request.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(err.to_string()),
            other => StoreError::Query(other),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(err: serde_json::Error) -> Self {
        StoreError::Corrupt(format!("a JSON column does not parse: {err}"))
    }
}
