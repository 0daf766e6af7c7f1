//! The Matrix adapter (matrix-sdk): messages `!mystocks …` (or `/mystocks …` typed as text) in allowed rooms,
//! commands by exact name in incident war-room threads, ✅ / ❌ reactions on approval requests and 📌 on war-room
//! messages (a timeline note) become invocations; replies are HTML with a plain body, in the thread
//! the command came from, edited in place (`m.replace`) for progress and outcomes. One device for life (the session
//! is restored from the data dir), end-to-end encryption through matrix-sdk's persisted crypto store, and the sync
//! position kept in the bot's store so a restart resumes where it stopped.

mod approvals;
mod bot;
mod config;
mod gap;
mod inbound;
mod offline;
mod outbox;
mod pins;
mod render;
mod session;
mod sink;

use std::path::PathBuf;

pub use approvals::{ReactionVote, RequestMessage, reaction_vote};
pub use bot::MatrixBot;
pub use config::{
    DEFAULT_EDIT_INTERVAL, DEFAULT_OFFLINE_MAX_AGE, Login, MatrixConfig, check_room_id,
};
pub use inbound::{Inbound, InboundKind, classify, command_text};
pub use offline::is_change;
pub use outbox::{SendCounts, SendStats};
pub use pins::{Pinned, is_pin, note_command, pinned_of};
pub use render::{Rendered, defuse_pings, escape_html, render};
pub use session::{SESSION_FILE, session_path};
pub use sink::{MatrixSink, PLATFORM};

/// Why the Matrix adapter could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    #[error("Matrix data dir {path} is unusable: {reason}")]
    DataDir { path: PathBuf, reason: String },
    #[error("Matrix: {0}")]
    Connect(String),
    #[error("Matrix login: {0}")]
    Login(String),
    #[error("Matrix session: {0}")]
    Session(String),
    #[error("Matrix sync: {0}")]
    Sync(String),
    #[error("Matrix configuration: {0}")]
    Config(String),
}
