//! health — the app and its dependencies, every check at once.  Grammar: `health [--pods]`
//!
//! Implements the manual's "Health Checks" (API, database, cache) and the health line of the morning checklist.
//! `--pods` takes no value, which the flag grammar cannot say (every flag there has a value), so the spec takes
//! its words as free text and this parser accepts exactly `--pods` (or `pods`).

use crate::command::Read;
use serde::{Deserialize, Serialize};

use super::{Canonical, Command, CommandSpec};
use crate::grammar::{Args, ParseError};

/// How `help` shows `health`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "health",
    aliases: &[],
    summary: "Health of the API, its database, cache and dependencies — each check ok / warn / fail with its time.",
    usage: "health [--pods]",
    flags: &[],
    examples: &["health", "health --pods"],
    manual: Some("Health Checks; Morning Checklist — Check application health"),
    free_text: true,
    parse,
};

/// Run the health checks; `pods`: also each pod's `/health` through the API server's pod proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub pods: bool,
}

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    let pods = match args.next_arg() {
        None => false,
        Some(word) if word == "--pods" || word == "pods" => true,
        Some(word) if word.starts_with('-') => {
            return Err(ParseError::UnknownFlag {
                command: SPEC.name,
                given: crate::grammar::shown(&word),
                suggestion: Some("--pods".into()),
                command_has_flags: true,
                usage: SPEC.usage,
            });
        }
        Some(word) => return Err(args.bad_value("argument", &word, "the only option is `--pods`")),
    };
    args.finish()?;
    Ok(Command::Read(Read::Health(Health { pods })))
}

impl Health {
    pub(crate) fn write_args(&self, out: &mut Canonical) {
        if self.pods {
            out.arg("pods");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Health;
    use crate::command::Command;
    use crate::command::Read;
    use crate::grammar::{ParseError, parse};

    #[test]
    fn parses_with_and_without_pods() {
        assert_eq!(
            parse("health"),
            Ok(Command::Read(Read::Health(Health { pods: false })))
        );
        assert_eq!(
            parse("health --pods"),
            Ok(Command::Read(Read::Health(Health { pods: true })))
        );
        assert_eq!(
            parse("health pods"),
            Ok(Command::Read(Read::Health(Health { pods: true })))
        );
        assert_eq!(
            parse("health --pods").map(|c| c.canonical()),
            Ok("health pods".to_string())
        );
    }

    #[test]
    fn refuses_anything_else() {
        assert!(matches!(
            parse("health --pod"),
            Err(ParseError::UnknownFlag { .. })
        ));
        assert!(matches!(
            parse("health now"),
            Err(ParseError::BadValue { .. })
        ));
        assert!(matches!(
            parse("health --pods --pods"),
            Err(ParseError::ExtraArgument { .. })
        ));
        assert_eq!(
            parse("health --help"),
            Ok(Command::Read(Read::Help(crate::command::Help {
                topic: Some("health".into())
            })))
        );
    }
}
