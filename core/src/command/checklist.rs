//! checklist — the manual's morning checklist in one command.  Grammar: `checklist`
//!
//! Pod status, resource usage and application health, with a one-line verdict on top.

use crate::command::Read;
use serde::{Deserialize, Serialize};

use super::{Command, CommandSpec};
use crate::grammar::{Args, ParseError};

/// How `help` shows `checklist`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "checklist",
    aliases: &["morning"],
    summary: "The morning checklist: pods, resource usage and health, with a one-line verdict on top.",
    usage: "checklist",
    flags: &[],
    examples: &["checklist"],
    manual: Some("Daily Operations — Morning Checklist"),
    free_text: false,
    parse,
};

/// Run the morning checklist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checklist;

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    args.finish()?;
    Ok(Command::Read(Read::Checklist(Checklist)))
}

#[cfg(test)]
mod tests {
    use crate::command::Read;
    use crate::command::{Checklist, Command};
    use crate::grammar::parse;

    #[test]
    fn parses_with_its_alias() {
        assert_eq!(
            parse("checklist"),
            Ok(Command::Read(Read::Checklist(Checklist)))
        );
        assert_eq!(
            parse("morning"),
            Ok(Command::Read(Read::Checklist(Checklist)))
        );
        assert!(parse("checklist now").is_err());
    }
}
