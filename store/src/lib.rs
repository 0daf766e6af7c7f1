//! mystocks-store — the bot's state: the store (one trait; PostgreSQL in production, SQLite embedded), the
//! HMAC-chained audit log, and the coordinator (Redis, or in-process for one replica).

pub mod audit;
pub mod coordinator;
pub mod store;

pub(crate) use mystocks_core::incident;
