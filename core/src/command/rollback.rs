//! rollback — undo the last rollout (or go to a given revision), through approval.
//! Grammar: `rollback [--to-revision N]`

use crate::command::Change;
use serde::{Deserialize, Serialize};

use super::{Canonical, Command, CommandSpec, FlagSpec};
use crate::grammar::{Args, ParseError};

/// Highest revision number accepted (Kubernetes revisions are int64; anything near this is a typo).
pub const MAX_REVISION: u64 = 1_000_000_000;

/// How `help` shows `rollback`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "rollback",
    aliases: &["undo"],
    summary: "Roll the API back to the previous revision (or `--to-revision N`); needs approval.",
    usage: "rollback [--to-revision N]",
    flags: &[FlagSpec {
        long: "to-revision",
        short: None,
        value: "N",
        help: "the revision to go back to (see `history`); default: the one before the current",
    }],
    examples: &["rollback", "rollback --to-revision 3"],
    manual: Some("Incident Response — Rollback Procedure"),
    free_text: false,
    parse,
};

/// Roll back to `to_revision` (`i64`, as Kubernetes numbers revisions), or to the previous one when `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollback {
    pub to_revision: Option<i64>,
}

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    let to_revision = match args.flag("to-revision") {
        Some(given) => {
            let revision = args.number("revision", &given, 1, MAX_REVISION)?;
            Some(
                i64::try_from(revision)
                    .map_err(|_| args.bad_value("revision", &given, "too large"))?,
            )
        }
        None => None,
    };
    args.finish()?;
    Ok(Command::Change(Change::Rollback(Rollback { to_revision })))
}

impl Rollback {
    pub(crate) fn write_args(&self, out: &mut Canonical) {
        if let Some(revision) = self.to_revision {
            out.flag("to-revision", &revision.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Rollback;
    use crate::command::Change;
    use crate::command::Command;
    use crate::grammar::{ParseError, parse};

    #[test]
    fn previous_or_given_revision() {
        assert_eq!(
            parse("rollback"),
            Ok(Command::Change(Change::Rollback(Rollback {
                to_revision: None
            })))
        );
        assert_eq!(
            parse("undo --to-revision=3"),
            Ok(Command::Change(Change::Rollback(Rollback {
                to_revision: Some(3)
            })))
        );
        assert_eq!(
            parse("rollback --to-revision 3").map(|c| c.canonical()),
            Ok("rollback --to-revision 3".to_string())
        );
    }

    #[test]
    fn bad_revisions_are_refused() {
        for bad in [
            "rollback --to-revision 0",
            "rollback --to-revision x",
            "rollback --to-revision -2",
        ] {
            assert!(
                matches!(parse(bad), Err(ParseError::BadNumber { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            parse("rollback --to-revision"),
            Err(ParseError::MissingFlagValue { .. })
        ));
        let err = parse("rollback 3").expect_err("positional");
        assert_eq!(
            err.to_string(),
            "unexpected `3` — usage: `rollback [--to-revision N]`"
        );
        let err = parse("rollback --revision 3").expect_err("typo");
        assert!(
            err.to_string().contains("did you mean `--to-revision`?"),
            "{err}"
        );
    }
}
