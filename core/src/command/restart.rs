//! restart — rolling restart of the API deployment, through approval.  Grammar: `restart`
//!
//! Implements the operations manual's "Quick Reference — Restart service".

use crate::command::Change;
use serde::{Deserialize, Serialize};

use super::{Command, CommandSpec};
use crate::grammar::{Args, ParseError};

/// How `help` shows `restart`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "restart",
    aliases: &[],
    summary: "Restart the API pods one by one (rolling restart); needs approval.",
    usage: "restart",
    flags: &[],
    examples: &["restart"],
    manual: Some("Quick Reference — Restart service"),
    free_text: false,
    parse,
};

/// Restart the API pods one by one (rolling restart); needs approval.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restart;

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    args.finish()?;
    Ok(Command::Change(Change::Restart(Restart)))
}

#[cfg(test)]
mod tests {
    use crate::command::Change;
    use crate::command::{Command, Restart};
    use crate::grammar::{ParseError, parse};

    #[test]
    fn parses_alone() {
        assert_eq!(
            parse("restart"),
            Ok(Command::Change(Change::Restart(Restart)))
        );
        assert_eq!(
            parse("restart").map(|c| c.canonical()),
            Ok("restart".to_string())
        );
    }

    #[test]
    fn rejects_arguments_and_flags() {
        assert!(matches!(
            parse("restart now"),
            Err(ParseError::ExtraArgument { .. })
        ));
        assert!(matches!(
            parse("restart --now"),
            Err(ParseError::UnknownFlag { .. })
        ));
    }
}
