//! freeze — stop all changes, everywhere, until unfrozen (admin).  Grammar: `freeze [REASON…]`

use crate::command::Admin;
use serde::{Deserialize, Serialize};

use super::{Canonical, Command, CommandSpec, deny};
use crate::grammar::{Args, ParseError};

/// How `help` shows `freeze`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "freeze",
    aliases: &[],
    summary: "Refuse every change and pending execution in every bot process until `unfreeze`.",
    usage: "freeze [REASON…]",
    flags: &[],
    examples: &["freeze incident 42 in progress"],
    manual: Some("Incident Response"),
    free_text: true,
    parse,
};

/// Freeze changes, with an optional reason shown to whoever is refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Freeze {
    pub reason: Option<String>,
}

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    let reason = deny::reason(args)?;
    Ok(Command::Admin(Admin::Freeze(Freeze { reason })))
}

impl Freeze {
    pub(crate) fn write_args(&self, out: &mut Canonical) {
        if let Some(reason) = &self.reason {
            out.arg(reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Freeze;
    use crate::command::Admin;
    use crate::command::Command;
    use crate::grammar::parse;

    #[test]
    fn reason_is_optional() {
        assert_eq!(
            parse("freeze"),
            Ok(Command::Admin(Admin::Freeze(Freeze { reason: None })))
        );
        assert_eq!(
            parse("freeze -- release window, 'no' changes"),
            Ok(Command::Admin(Admin::Freeze(Freeze {
                reason: Some("-- release window, no changes".to_string())
            })))
        );
    }

    #[test]
    fn canonical_round_trips() {
        let cmd = Command::Admin(Admin::Freeze(Freeze {
            reason: Some("db \"migration\"".to_string()),
        }));
        assert_eq!(cmd.canonical(), "freeze \"db \\\"migration\\\"\"");
        assert_eq!(parse(&cmd.canonical()), Ok(cmd));
    }
}
