//! top — show CPU and memory of each API pod.  Grammar: `top`
//!
//! Implements the operations manual's "Morning Checklist — Check resource usage".

use crate::command::Read;
use serde::{Deserialize, Serialize};

use super::{Command, CommandSpec};
use crate::grammar::{Args, ParseError};

/// How `help` shows `top`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "top",
    aliases: &[],
    summary: "CPU and memory of each API pod.",
    usage: "top",
    flags: &[],
    examples: &["top"],
    manual: Some("Morning Checklist — Check resource usage"),
    free_text: false,
    parse,
};

/// CPU and memory of each API pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Top;

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    args.finish()?;
    Ok(Command::Read(Read::Top(Top)))
}

#[cfg(test)]
mod tests {
    use crate::command::Read;
    use crate::command::{Command, Top};
    use crate::grammar::{ParseError, parse};

    #[test]
    fn parses_alone() {
        assert_eq!(parse("top"), Ok(Command::Read(Read::Top(Top))));
        assert_eq!(parse("top").map(|c| c.canonical()), Ok("top".to_string()));
    }

    #[test]
    fn rejects_arguments_and_flags() {
        assert!(matches!(
            parse("top now"),
            Err(ParseError::ExtraArgument { .. })
        ));
        assert!(matches!(
            parse("top --now"),
            Err(ParseError::UnknownFlag { .. })
        ));
    }
}
