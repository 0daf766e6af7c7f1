//! runbook — the manual's runbooks, run from chat.  Grammar: `runbook [list] | runbook show NAME | runbook run NAME`
//!
//! Implements the operations manual's "Runbooks" (and its troubleshooting procedures): each runbook is a TOML
//! file in the configured directory (see docs/runbooks.md). `run` posts the steps one after another in a
//! thread; a step that changes something becomes an approval request and the run waits for the decision.

use crate::command::Read;
use serde::{Deserialize, Serialize};

use super::{Canonical, Command, CommandSpec};
use crate::grammar::{Args, ParseError};

/// How `help` shows `runbook`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "runbook",
    aliases: &["runbooks"],
    summary: "List the runbooks, show one's steps, or run one step by step in a thread (changes need approval).",
    usage: "runbook [list] | runbook show NAME | runbook run NAME",
    flags: &[],
    examples: &[
        "runbook list",
        "runbook show high-cpu",
        "runbook run high-cpu",
    ],
    manual: Some("Runbooks; Troubleshooting"),
    free_text: false,
    parse,
};

/// What to do with runbooks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Runbook {
    /// Every runbook: name, title, when to use it.
    List,
    /// One runbook's steps.
    Show { name: String },
    /// Runs one.
    Run { name: String },
}

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    let action = args.next_arg().map(|a| a.to_ascii_lowercase());
    let command = match action.as_deref() {
        None | Some("list") | Some("ls") => Runbook::List,
        Some("show") => Runbook::Show {
            name: runbook_name(args)?,
        },
        Some("run") | Some("start") => Runbook::Run {
            name: runbook_name(args)?,
        },
        Some(other) => {
            return Err(args.bad_value(
                "action",
                other,
                "expected `list`, `show NAME` or `run NAME`",
            ));
        }
    };
    args.finish()?;
    Ok(Command::Read(Read::Runbook(command)))
}

fn runbook_name(args: &mut Args) -> Result<String, ParseError> {
    let name = args.required("runbook name (NAME; `runbook list` shows them)")?;
    let plain = name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !plain {
        return Err(args.bad_value(
            "runbook name",
            &name,
            "runbook names are letters, digits, `-` and `_`",
        ));
    }
    Ok(name.to_ascii_lowercase())
}

impl Runbook {
    pub(crate) fn write_args(&self, out: &mut Canonical) {
        match self {
            Runbook::List => {
                out.arg("list");
            }
            Runbook::Show { name } => {
                out.arg("show").arg(name);
            }
            Runbook::Run { name } => {
                out.arg("run").arg(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Runbook;
    use crate::command::Command;
    use crate::command::Read;
    use crate::grammar::{ParseError, parse};

    fn rb(r: Runbook) -> Result<Command, ParseError> {
        Ok(Command::Read(Read::Runbook(r)))
    }

    #[test]
    fn parses_each_action() {
        assert_eq!(parse("runbook"), rb(Runbook::List));
        assert_eq!(parse("runbook list"), rb(Runbook::List));
        assert_eq!(parse("runbooks"), rb(Runbook::List));
        assert_eq!(
            parse("runbook show High-CPU"),
            rb(Runbook::Show {
                name: "high-cpu".into()
            })
        );
        assert_eq!(
            parse("runbook run high-cpu"),
            rb(Runbook::Run {
                name: "high-cpu".into()
            })
        );
    }

    #[test]
    fn canonical_text_parses_back() {
        for text in [
            "runbook list",
            "runbook show high-cpu",
            "runbook run db-pool-exhausted",
        ] {
            let command = parse(text).expect(text);
            assert_eq!(command.canonical(), text);
            assert_eq!(parse(&command.canonical()), Ok(command));
        }
    }

    #[test]
    fn refuses_bad_actions_and_names() {
        assert!(matches!(
            parse("runbook launch x"),
            Err(ParseError::BadValue { .. })
        ));
        assert!(matches!(
            parse("runbook run"),
            Err(ParseError::MissingArgument { .. })
        ));
        assert!(matches!(
            parse("runbook run ../etc/passwd"),
            Err(ParseError::BadValue { .. })
        ));
        assert!(matches!(
            parse("runbook run a b"),
            Err(ParseError::ExtraArgument { .. })
        ));
        assert!(matches!(
            parse("runbook list --now x"),
            Err(ParseError::UnknownFlag { .. })
        ));
    }
}
