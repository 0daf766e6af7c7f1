//! The bot's own store: approval requests and votes, jobs, claimed events, the freeze switch, small values, and
//! the HMAC-chained audit log — one `Store` trait, a SQLite and a PostgreSQL implementation.

mod redact;

pub use redact::redact_url;
