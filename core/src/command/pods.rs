//! pods — the API pods with status, restarts and age.  Grammar: `pods [-l SELECTOR]`

use crate::command::Read;
use serde::{Deserialize, Serialize};

use super::{Canonical, Command, CommandSpec, FlagSpec};
use crate::grammar::{Args, ParseError};

/// Longest label selector accepted.
pub const MAX_SELECTOR_CHARS: usize = 256;

/// How `help` shows `pods`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "pods",
    aliases: &["po"],
    summary: "Pods of the app: ready, status, restarts, age, node.",
    usage: "pods [-l SELECTOR]",
    flags: &[FlagSpec {
        long: "selector",
        short: Some('l'),
        value: "SELECTOR",
        help: "label selector instead of the app's own, e.g. `-l app=mystocks-api,tier=web`",
    }],
    examples: &["pods", "pods -l app=mystocks-api"],
    manual: Some("Morning Checklist — Check pod status; Quick Reference — View all pods"),
    free_text: false,
    parse,
};

/// List pods, optionally by a label selector (default: the app's own selector from config).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pods {
    pub selector: Option<String>,
}

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    let selector = args
        .flag("selector")
        .map(|s| check_selector(args, s))
        .transpose()?;
    args.finish()?;
    Ok(Command::Read(Read::Pods(Pods { selector })))
}

/// A light syntax check of a Kubernetes label selector (the API server does the full one).
fn check_selector(args: &Args, selector: String) -> Result<String, ParseError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-_./=!,() ".contains(c);
    if selector.trim().is_empty() {
        Err(args.bad_value("label selector", &selector, "it is empty"))
    } else if selector.chars().count() > MAX_SELECTOR_CHARS {
        Err(args.bad_value(
            "label selector",
            &selector,
            format!("at most {MAX_SELECTOR_CHARS} characters"),
        ))
    } else if let Some(c) = selector.chars().find(|&c| !allowed(c)) {
        Err(args.bad_value(
            "label selector",
            &selector,
            format!("`{c}` cannot appear in a label selector"),
        ))
    } else {
        Ok(selector)
    }
}

impl Pods {
    pub(crate) fn write_args(&self, out: &mut Canonical) {
        if let Some(selector) = &self.selector {
            out.flag("selector", selector);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Pods;
    use crate::command::Command;
    use crate::command::Read;
    use crate::grammar::{ParseError, parse};

    fn pods(selector: Option<&str>) -> Command {
        Command::Read(Read::Pods(Pods {
            selector: selector.map(str::to_string),
        }))
    }

    #[test]
    fn selector_in_every_spelling() {
        assert_eq!(parse("pods"), Ok(pods(None)));
        for text in [
            "pods -l app=api",
            "pods -l=app=api",
            "pods --selector app=api",
            "pods --selector=app=api",
        ] {
            assert_eq!(parse(text), Ok(pods(Some("app=api"))), "{text}");
        }
        assert_eq!(
            parse("pods -l 'app in (a,b)'"),
            Ok(pods(Some("app in (a,b)")))
        );
    }

    #[test]
    fn bad_selectors_are_refused() {
        assert!(matches!(
            parse("pods -l"),
            Err(ParseError::MissingFlagValue { .. })
        ));
        assert!(matches!(
            parse("pods -l ''"),
            Err(ParseError::BadValue { .. })
        ));
        assert!(matches!(
            parse("pods -l 'a;rm'"),
            Err(ParseError::BadValue { .. })
        ));
        assert!(matches!(
            parse("pods -l a -l b"),
            Err(ParseError::RepeatedFlag { .. })
        ));
        assert!(matches!(
            parse("pods api"),
            Err(ParseError::ExtraArgument { .. })
        ));
    }

    #[test]
    fn unknown_flag_suggests_the_close_one() {
        let err = parse("pods --selecter app=api").expect_err("typo");
        assert_eq!(
            err.to_string(),
            "unknown flag `--selecter` for `pods` — did you mean `--selector`? — usage: `pods [-l SELECTOR]`"
        );
    }

    #[test]
    fn canonical_uses_the_long_flag() {
        assert_eq!(
            pods(Some("app in (a,b)")).canonical(),
            "pods --selector \"app in (a,b)\""
        );
    }
}
