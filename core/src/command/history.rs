//! history — list the deployment's rollout history.  Grammar: `history`
//!
//! Implements the operations manual's "Rollback Procedure".

use crate::command::Read;
use serde::{Deserialize, Serialize};

use super::{Command, CommandSpec};
use crate::grammar::{Args, ParseError};

/// How `help` shows `history`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "history",
    aliases: &[],
    summary: "Rollout history: revision, image, change cause, age.",
    usage: "history",
    flags: &[],
    examples: &["history"],
    manual: Some("Rollback Procedure"),
    free_text: false,
    parse,
};

/// Rollout history: revision, image, change cause, age.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct History;

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    args.finish()?;
    Ok(Command::Read(Read::History(History)))
}

#[cfg(test)]
mod tests {
    use crate::command::Read;
    use crate::command::{Command, History};
    use crate::grammar::{ParseError, parse};

    #[test]
    fn parses_alone() {
        assert_eq!(parse("history"), Ok(Command::Read(Read::History(History))));
        assert_eq!(
            parse("history").map(|c| c.canonical()),
            Ok("history".to_string())
        );
    }

    #[test]
    fn rejects_arguments_and_flags() {
        assert!(matches!(
            parse("history now"),
            Err(ParseError::ExtraArgument { .. })
        ));
        assert!(matches!(
            parse("history --now"),
            Err(ParseError::UnknownFlag { .. })
        ));
    }
}
