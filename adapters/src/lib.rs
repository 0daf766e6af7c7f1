//! mystocks-adapters — chat platforms: each turns platform events into an `Invocation` for the core and renders
//! the core's `Reply`s. For now the console (terminal or piped transcript); Slack and Matrix come later.
#![recursion_limit = "256"]

pub mod console;
pub mod in_flight;
pub mod matrix;
pub mod slack;
