//! help — list the commands, or explain one.  Grammar: `help [COMMAND]` (also `COMMAND --help`)
//!
//! The text itself is generated from the specs and from policy by `crate::help`.

use crate::command::Read;
use serde::{Deserialize, Serialize};

use super::{Canonical, Command, CommandSpec};
use crate::grammar::{Args, ParseError};

/// How `help` shows `help`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "help",
    aliases: &["?"],
    summary: "List the commands, or explain one: usage, flags, examples, who may run it.",
    usage: "help [COMMAND]",
    flags: &[],
    examples: &["help", "help rollback"],
    manual: None,
    free_text: false,
    parse,
};

/// `help` or `help COMMAND`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Help {
    /// The command asked about, lower-cased as typed (it may be unknown: help then says "did you mean").
    pub topic: Option<String>,
}

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    let topic = args.next_arg().map(|t| t.to_ascii_lowercase());
    args.finish()?;
    Ok(Command::Read(Read::Help(Help { topic })))
}

impl Help {
    pub(crate) fn write_args(&self, out: &mut Canonical) {
        if let Some(topic) = &self.topic {
            out.arg(topic);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Help;
    use crate::command::Command;
    use crate::command::Read;
    use crate::grammar::{ParseError, parse};

    fn help(topic: Option<&str>) -> Command {
        Command::Read(Read::Help(Help {
            topic: topic.map(str::to_string),
        }))
    }

    #[test]
    fn parses_with_and_without_topic() {
        assert_eq!(parse("help"), Ok(help(None)));
        assert_eq!(parse("? scale"), Ok(help(Some("scale"))));
        assert_eq!(parse("HELP Scale"), Ok(help(Some("scale"))));
        assert_eq!(parse("help scael"), Ok(help(Some("scael"))));
    }

    #[test]
    fn flag_help_on_any_command_is_help_for_it() {
        assert_eq!(parse("scale --help"), Ok(help(Some("scale"))));
        assert_eq!(parse("logs -h"), Ok(help(Some("logs"))));
        assert_eq!(parse("freeze --help"), Ok(help(Some("freeze"))));
        assert_eq!(parse("undo --help"), Ok(help(Some("rollback"))));
    }

    #[test]
    fn one_topic_only() {
        assert!(matches!(
            parse("help scale now"),
            Err(ParseError::ExtraArgument { .. })
        ));
    }

    #[test]
    fn canonical_names_topic() {
        assert_eq!(help(Some("scale")).canonical(), "help scale");
        assert_eq!(help(None).canonical(), "help");
    }
}
