//! The audit chain's anchor outside the database: a signed checkpoint (seq, mac, time) of the chain kept in a
//! ConfigMap (`[audit.checkpoint]`), written by a background publisher at most every `interval`, read by
//! `audit verify`, and re-published at the current head only by `audit reanchor` (two admins).
//!
//! The publisher writes a new checkpoint only while the chain still holds the previous one's row with the same MAC;
//! otherwise it keeps the old object, logs an error and reports not-ready, so a truncation is never papered over.

mod config_map;
mod publish;

use std::sync::Mutex;
use std::time::Duration;

pub use config_map::{AnchorError, StoredCheckpoint, read_checkpoint, write_checkpoint};
pub use publish::{Published, publish_once, reanchor};

/// Where the checkpoint lives: a ConfigMap the bot may `get` and `update` (and nothing else).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointLocation {
    /// The cluster, reserved for when the bot talks to several: today always the bot's own cluster.
    pub cluster: String,
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for CheckpointLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ConfigMap {}/{}", self.namespace, self.name)
    }
}

/// How the publisher is doing, as `/readyz` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnchorHealth {
    /// Nothing published yet by this process (the log may be empty).
    Starting,
    /// The checkpoint matches the chain; `seq` is the newest row checkpointed.
    Anchored { seq: i64 },
    /// The chain no longer holds the checkpointed row: the publisher refuses to write over it.
    Refused(String),
    /// The ConfigMap could not be read or written (cluster down, RBAC, missing object).
    Unavailable(String),
}

impl AnchorHealth {
    /// Whether the bot may call itself ready as far as the checkpoint goes.
    pub fn is_ready(&self) -> bool {
        matches!(self, AnchorHealth::Starting | AnchorHealth::Anchored { .. })
    }
}

/// The configured checkpoint and the publisher's latest health, shared by the publisher, the commands and
/// `/readyz`.
#[derive(Debug)]
pub struct AuditAnchor {
    pub location: CheckpointLocation,
    /// How often the publisher looks (and writes when the chain has grown).
    pub interval: Duration,
    health: Mutex<AnchorHealth>,
}

impl AuditAnchor {
    /// An anchor at `location`, published every `interval`.
    pub fn new(location: CheckpointLocation, interval: Duration) -> Self {
        AuditAnchor {
            location,
            interval,
            health: Mutex::new(AnchorHealth::Starting),
        }
    }

    /// The publisher's latest health.
    pub fn health(&self) -> AnchorHealth {
        self.health
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Records the publisher's health; returns whether it changed (so a refusal is logged once, not every tick).
    pub fn set_health(&self, health: AnchorHealth) -> bool {
        let mut current = self
            .health
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let changed = *current != health;
        *current = health;
        changed
    }
}
