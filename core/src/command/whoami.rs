//! whoami — show who the bot thinks you are and what you may do.  Grammar: `whoami`
//!
//! The bot's own command; the operations manual has no counterpart.

use crate::command::Read;
use serde::{Deserialize, Serialize};

use super::{Command, CommandSpec};
use crate::grammar::{Args, ParseError};

/// How `help` shows `whoami`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "whoami",
    aliases: &[],
    summary: "Who the bot thinks you are: person, chat identity, roles.",
    usage: "whoami",
    flags: &[],
    examples: &["whoami"],
    manual: None,
    free_text: false,
    parse,
};

/// Who the bot thinks you are: person, chat identity, roles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Whoami;

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    args.finish()?;
    Ok(Command::Read(Read::Whoami(Whoami)))
}

#[cfg(test)]
mod tests {
    use crate::command::Read;
    use crate::command::{Command, Whoami};
    use crate::grammar::{ParseError, parse};

    #[test]
    fn parses_alone() {
        assert_eq!(parse("whoami"), Ok(Command::Read(Read::Whoami(Whoami))));
        assert_eq!(
            parse("whoami").map(|c| c.canonical()),
            Ok("whoami".to_string())
        );
    }

    #[test]
    fn rejects_arguments_and_flags() {
        assert!(matches!(
            parse("whoami now"),
            Err(ParseError::ExtraArgument { .. })
        ));
        assert!(matches!(
            parse("whoami --now"),
            Err(ParseError::UnknownFlag { .. })
        ));
    }
}
