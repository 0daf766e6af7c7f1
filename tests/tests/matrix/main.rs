//! The Matrix adapter against a real Synapse (installed from PyPI by `scripts/test`, or by the launcher when
//! missing): commands, threads, approvals by command and by reaction, incident war rooms, encryption, restarts
//! and rate limits.
#![recursion_limit = "256"]

mod approvals;
mod commands;
mod encryption;
mod incidents;
mod new_user;
mod rate_limits;
mod restart;
mod support;
mod user;
