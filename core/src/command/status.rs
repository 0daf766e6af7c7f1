//! status — rollout status of the API deployment.  Grammar: `status`
//!
//! Implements the operations manual's "Rollback Procedure — Monitor rollout".

use crate::command::Read;
use serde::{Deserialize, Serialize};

use super::{Command, CommandSpec};
use crate::grammar::{Args, ParseError};

/// How `help` shows `status`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "status",
    aliases: &[],
    summary: "Rollout status of the API deployment: replicas updated, ready, available.",
    usage: "status",
    flags: &[],
    examples: &["status"],
    manual: Some("Rollback Procedure — Monitor rollout"),
    free_text: false,
    parse,
};

/// Rollout status of the API deployment: replicas updated, ready, available.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status;

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    args.finish()?;
    Ok(Command::Read(Read::Status(Status)))
}

#[cfg(test)]
mod tests {
    use crate::command::Read;
    use crate::command::{Command, Status};
    use crate::grammar::{ParseError, parse};

    #[test]
    fn parses_alone() {
        assert_eq!(parse("status"), Ok(Command::Read(Read::Status(Status))));
        assert_eq!(
            parse("status").map(|c| c.canonical()),
            Ok("status".to_string())
        );
    }

    #[test]
    fn rejects_arguments_and_flags() {
        assert!(matches!(
            parse("status now"),
            Err(ParseError::ExtraArgument { .. })
        ));
        assert!(matches!(
            parse("status --now"),
            Err(ParseError::UnknownFlag { .. })
        ));
    }
}
