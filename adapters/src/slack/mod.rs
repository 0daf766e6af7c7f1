//! The Slack adapter: slash commands, Events API (`app_mention`, thread messages), interactivity (buttons) and
//! `url_verification`, over HTTP (an axum router the bot serves) or Socket Mode; replies rendered as Block Kit
//! and delivered through the Web API (slack-morphism) with retries and per-channel pacing.
//!
//! The way in: [`http::router`] or [`socket::SocketMode`] → [`front::SlackFront`] (workspace/app checks, claim
//! through the coordinator, hand-off) → the core's `Handler`. The way out: the core → [`sink::SlackSink`] →
//! [`render::render`] → [`api::SlackApi`] — or, for a slash command's ready answer, the HTTP response
//! ([`ack`]). Roles may also come from Slack user groups ([`usergroups`]); a 📌 in an incident thread is a
//! note ([`pins`]).

pub mod ack;
pub mod api;
pub mod escape;
pub mod front;
pub mod http;
pub mod inbound;
pub mod pins;
pub mod render;
pub mod response_url;
pub mod signature;
pub mod sink;
pub mod socket;
pub mod usergroups;

pub use api::{ApiError, ApiObserver, ApiSettings, SlackApi};
pub use front::{Ack, SlackFront, SlackIdentity};
pub use response_url::ResponseUrls;
pub use signature::{SignatureError, SlackSigner};
pub use sink::SlackSink;
pub use socket::SocketMode;
pub use usergroups::UsergroupRoles;
