//! 5xx — 5xx responses in recent API logs, counted by path and status.  Grammar: `5xx [--since MINUTES]`

use crate::command::Read;
use serde::{Deserialize, Serialize};

use super::errors::{SINCE_FLAG, since_minutes};
use super::{Canonical, Command, CommandSpec};
use crate::grammar::{Args, ParseError};

/// How `help` shows `5xx`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "5xx",
    aliases: &["errors5xx"],
    summary: "5xx responses in recent API logs, counted by path and status.",
    usage: "5xx [--since MINUTES]",
    flags: &[SINCE_FLAG],
    examples: &["5xx", "5xx --since 60"],
    manual: Some("Troubleshooting — High Error Rate: Check 5xx responses"),
    free_text: false,
    parse,
};

/// 5xx responses of the last `since_minutes` minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiveXx {
    pub since_minutes: u32,
}

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    let since_minutes = since_minutes(args)?;
    args.finish()?;
    Ok(Command::Read(Read::FiveXx(FiveXx { since_minutes })))
}

impl FiveXx {
    pub(crate) fn write_args(&self, out: &mut Canonical) {
        out.flag("since", &self.since_minutes.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::FiveXx;
    use crate::command::Command;
    use crate::command::Read;
    use crate::grammar::{ParseError, parse};

    #[test]
    fn parses_with_default_and_explicit_window() {
        assert_eq!(
            parse("5xx"),
            Ok(Command::Read(Read::FiveXx(FiveXx { since_minutes: 15 })))
        );
        assert_eq!(
            parse("errors5xx --since 1h"),
            Ok(Command::Read(Read::FiveXx(FiveXx { since_minutes: 60 })))
        );
        assert_eq!(
            parse("5XX --since 5").map(|c| c.canonical()),
            Ok("5xx --since 5".to_string())
        );
    }

    #[test]
    fn rejects_bad_windows_and_arguments() {
        assert!(matches!(
            parse("5xx --since -5"),
            Err(ParseError::BadNumber { .. })
        ));
        assert!(matches!(
            parse("5xx 500"),
            Err(ParseError::ExtraArgument { .. })
        ));
    }
}
