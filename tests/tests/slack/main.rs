//! The Slack suite: the real bot's HTTP endpoints (and Socket Mode) on port 0, the real core over the simulated
//! cluster, and a fake Slack Web API that records calls and refuses what Slack refuses. Requests are signed by
//! the tests. One test binary; each module is one area.

mod answers;
mod delivery;
mod fake;
mod in_flight;
mod incidents;
mod metrics;
mod security;
mod socket_mode;
mod support;
mod transcript;
mod usergroups;
