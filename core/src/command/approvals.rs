//! approvals — list approval requests waiting for a decision.  Grammar: `approvals`
//!
//! The bot's own command; the operations manual has no counterpart.

use crate::command::Read;
use serde::{Deserialize, Serialize};

use super::{Command, CommandSpec};
use crate::grammar::{Args, ParseError};

/// How `help` shows `approvals`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "approvals",
    aliases: &["pending"],
    summary: "Approval requests waiting for a decision.",
    usage: "approvals",
    flags: &[],
    examples: &["approvals"],
    manual: None,
    free_text: false,
    parse,
};

/// Approval requests waiting for a decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approvals;

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    args.finish()?;
    Ok(Command::Read(Read::Approvals(Approvals)))
}

#[cfg(test)]
mod tests {
    use crate::command::Read;
    use crate::command::{Approvals, Command};
    use crate::grammar::{ParseError, parse};

    #[test]
    fn parses_alone() {
        assert_eq!(
            parse("approvals"),
            Ok(Command::Read(Read::Approvals(Approvals)))
        );
        assert_eq!(
            parse("approvals").map(|c| c.canonical()),
            Ok("approvals".to_string())
        );
    }

    #[test]
    fn rejects_arguments_and_flags() {
        assert!(matches!(
            parse("approvals now"),
            Err(ParseError::ExtraArgument { .. })
        ));
        assert!(matches!(
            parse("approvals --now"),
            Err(ParseError::UnknownFlag { .. })
        ));
    }
}
