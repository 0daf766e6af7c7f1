//! mystocks-adapters — chat platforms: each turns platform events into an `Invocation` for the core and renders
//! the core's `Reply`s. For now the console (terminal or piped transcript); Slack and Matrix come later.

pub mod console;
pub mod slack;
