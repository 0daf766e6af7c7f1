//! oncall — who is on call and whom to contact.  Grammar: `oncall`

use crate::command::Read;
use serde::{Deserialize, Serialize};

use super::{Command, CommandSpec};
use crate::grammar::{Args, ParseError};

/// How `help` shows `oncall`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "oncall",
    aliases: &["contacts"],
    summary: "Who is on call now, the contacts from the manual, and the response time of each severity.",
    usage: "oncall",
    flags: &[],
    examples: &["oncall"],
    manual: Some("Contact; Incident Response — Severity Levels"),
    free_text: false,
    parse,
};

/// Show the on-call and the contacts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Oncall;

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    args.finish()?;
    Ok(Command::Read(Read::Oncall(Oncall)))
}

#[cfg(test)]
mod tests {
    use crate::command::Command;
    use crate::command::Read;
    use crate::grammar::parse;

    #[test]
    fn takes_nothing() {
        assert_eq!(
            parse("oncall"),
            Ok(Command::Read(Read::Oncall(super::Oncall)))
        );
        assert_eq!(
            parse("contacts"),
            Ok(Command::Read(Read::Oncall(super::Oncall)))
        );
        assert!(parse("oncall now").is_err());
    }
}
