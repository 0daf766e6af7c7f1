//! unfreeze — allow changes again after `freeze` (admin).  Grammar: `unfreeze`

use crate::command::Admin;
use serde::{Deserialize, Serialize};

use super::{Command, CommandSpec};
use crate::grammar::{Args, ParseError};

/// How `help` shows `unfreeze`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "unfreeze",
    aliases: &["thaw"],
    summary: "Allow changes again after `freeze`.",
    usage: "unfreeze",
    flags: &[],
    examples: &["unfreeze"],
    manual: Some("Incident Response"),
    free_text: false,
    parse,
};

/// Lift a freeze.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unfreeze;

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    args.finish()?;
    Ok(Command::Admin(Admin::Unfreeze(Unfreeze)))
}

#[cfg(test)]
mod tests {
    use super::Unfreeze;
    use crate::command::Admin;
    use crate::command::Command;
    use crate::grammar::{ParseError, parse};

    #[test]
    fn parses_alone() {
        assert_eq!(
            parse("unfreeze"),
            Ok(Command::Admin(Admin::Unfreeze(Unfreeze)))
        );
        assert_eq!(parse("thaw"), Ok(Command::Admin(Admin::Unfreeze(Unfreeze))));
        assert!(matches!(
            parse("unfreeze now"),
            Err(ParseError::ExtraArgument { .. })
        ));
    }
}
