//! Commands that arrived while the bot was away: read-only ones are answered late (harmless), but a change or a
//! vote older than the configured age is not run late — the sender is asked to send it again.

use mystocks_commands::policy::{self, Risk};
use mystocks_commands::{Command, Invocation, Reply};

use super::bot::notice;

/// Whether the command text asks for a change (or decides or administers one): everything but read-only commands.
/// Text that does not parse is not a change (the core answers it with the parse error).
pub fn is_change(text: &str) -> bool {
    match Command::parse(text) {
        Ok(command) => policy::rule(&command).risk != Risk::ReadOnly,
        Err(_) => false,
    }
}

/// The answer to a change that is too old to run.
pub fn offline_notice(invocation: &Invocation) -> Reply {
    let text = format!(
        "`{}` arrived while I was offline (sent {}); not running it late — send it again if it is still wanted.",
        invocation.text,
        invocation.received_at.format("%H:%M:%S UTC")
    );
    notice(text, &invocation.actor.identity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_and_reads() {
        assert!(is_change("scale 5"));
        assert!(is_change("rollback"));
        assert!(is_change("approve A1"));
        assert!(is_change("freeze incident"));
        assert!(!is_change("status"));
        assert!(!is_change("pods"));
        assert!(!is_change("help"));
        assert!(!is_change("nonsense words"));
    }
}
