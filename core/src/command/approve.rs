//! approve — vote for a pending approval request.  Grammar: `approve ID`
//!
//! The two-person rule, quorum, expiry and the target's state are checked by the engine, not here.

use crate::command::Decide;
use serde::{Deserialize, Serialize};

use super::{ApprovalId, Canonical, Command, CommandSpec, approval_id};
use crate::grammar::{Args, ParseError};

/// How `help` shows `approve`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "approve",
    aliases: &[],
    summary: "Approve a pending request by someone else; it runs once the quorum is reached.",
    usage: "approve ID",
    flags: &[],
    examples: &["approve A12"],
    manual: None,
    free_text: false,
    parse,
};

/// Approve request `id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approve {
    pub id: ApprovalId,
}

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    let id = approval_id::required(args)?;
    args.finish()?;
    Ok(Command::Decide(Decide::Approve(Approve { id })))
}

impl Approve {
    pub(crate) fn write_args(&self, out: &mut Canonical) {
        out.arg(&self.id.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::Approve;
    use crate::command::Decide;
    use crate::command::{ApprovalId, Command};
    use crate::grammar::{ParseError, parse};

    #[test]
    fn parses_an_id_case_insensitively() {
        let want = Ok(Command::Decide(Decide::Approve(Approve {
            id: ApprovalId::new(12),
        })));
        assert_eq!(parse("approve A12"), want);
        assert_eq!(parse("approve a12"), want);
        assert_eq!(
            parse("approve a12").map(|c| c.canonical()),
            Ok("approve A12".to_string())
        );
    }

    #[test]
    fn rejects_bad_or_missing_ids() {
        let err = parse("approve 12").expect_err("no A");
        assert_eq!(
            err.to_string(),
            "`12` is not a valid approval id: approval ids look like A12 (the letter A, then digits) — usage: `approve ID`"
        );
        assert!(matches!(
            parse("approve"),
            Err(ParseError::MissingArgument { .. })
        ));
        assert!(matches!(
            parse("approve A1 A2"),
            Err(ParseError::ExtraArgument { .. })
        ));
    }
}
