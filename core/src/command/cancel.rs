//! cancel — withdraw your own pending request.  Grammar: `cancel ID`
//!
//! Only the requester may cancel; the engine checks that against the stored request.

use crate::command::Decide;
use serde::{Deserialize, Serialize};

use super::{ApprovalId, Canonical, Command, CommandSpec, approval_id};
use crate::grammar::{Args, ParseError};

/// How `help` shows `cancel`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "cancel",
    aliases: &[],
    summary: "Withdraw a request you made that is still pending.",
    usage: "cancel ID",
    flags: &[],
    examples: &["cancel A12"],
    manual: None,
    free_text: false,
    parse,
};

/// Cancel request `id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancel {
    pub id: ApprovalId,
}

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    let id = approval_id::required(args)?;
    args.finish()?;
    Ok(Command::Decide(Decide::Cancel(Cancel { id })))
}

impl Cancel {
    pub(crate) fn write_args(&self, out: &mut Canonical) {
        out.arg(&self.id.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::Cancel;
    use crate::command::Decide;
    use crate::command::{ApprovalId, Command};
    use crate::grammar::{ParseError, parse};

    #[test]
    fn parses_an_id() {
        assert_eq!(
            parse("cancel A3"),
            Ok(Command::Decide(Decide::Cancel(Cancel {
                id: ApprovalId::new(3)
            })))
        );
        assert_eq!(
            parse("cancel a03").map(|c| c.canonical()),
            Ok("cancel A3".to_string())
        );
    }

    #[test]
    fn takes_no_reason() {
        assert!(matches!(
            parse("cancel A3 oops"),
            Err(ParseError::ExtraArgument { .. })
        ));
        assert!(matches!(
            parse("cancel x"),
            Err(ParseError::BadValue { .. })
        ));
    }
}
