//! mystocks-bench — load generators. `slack-load serve` runs the bot's real Slack HTTP front (signature check,
//! claim in Redis, decode, hand-off) with a handler that parses and authorizes each command; `slack-load drive`
//! sends distinct, freshly signed slash commands from many users and reports acks/s and latency percentiles.

pub mod drive;
pub mod serve;
pub mod stats;
