//! deny — refuse a pending request, optionally saying why.  Grammar: `deny ID [REASON…]`

use crate::command::Decide;
use serde::{Deserialize, Serialize};

use super::{ApprovalId, Canonical, Command, CommandSpec, approval_id};
use crate::grammar::{Args, ParseError};

/// Longest reason kept, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// How `help` shows `deny`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "deny",
    aliases: &[],
    summary: "Refuse a pending request; the reason is shown to the requester and kept in the audit log.",
    usage: "deny ID [REASON…]",
    flags: &[],
    examples: &["deny A12 wrong tag, use v1.0.3"],
    manual: None,
    free_text: true,
    parse,
};

/// Deny request `id`, with an optional reason (the words after the id, joined by single spaces).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deny {
    pub id: ApprovalId,
    pub reason: Option<String>,
}

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    let id = approval_id::required(args)?;
    let reason = reason(args)?;
    Ok(Command::Decide(Decide::Deny(Deny { id, reason })))
}

/// The rest of the arguments as a reason: `None` when empty, an error when longer than [`MAX_REASON_CHARS`].
pub(crate) fn reason(args: &mut Args) -> Result<Option<String>, ParseError> {
    match args.rest_text() {
        Some(text) if text.chars().count() > MAX_REASON_CHARS => Err(args.bad_value(
            "reason",
            &text,
            format!("keep it under {MAX_REASON_CHARS} characters"),
        )),
        other => Ok(other),
    }
}

impl Deny {
    pub(crate) fn write_args(&self, out: &mut Canonical) {
        out.arg(&self.id.to_string());
        if let Some(reason) = &self.reason {
            out.arg(reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Deny;
    use crate::command::Decide;
    use crate::command::{ApprovalId, Command};
    use crate::grammar::{ParseError, parse};

    fn deny(reason: Option<&str>) -> Command {
        Command::Decide(Decide::Deny(Deny {
            id: ApprovalId::new(12),
            reason: reason.map(str::to_string),
        }))
    }

    #[test]
    fn reason_is_optional_free_text() {
        assert_eq!(parse("deny A12"), Ok(deny(None)));
        assert_eq!(parse("deny a12 wrong   tag"), Ok(deny(Some("wrong tag"))));
        assert_eq!(
            parse("deny A12 don't --force it"),
            Ok(deny(Some("don't --force it")))
        );
        assert_eq!(
            parse("deny A12 \"two  spaces\""),
            Ok(deny(Some("two  spaces")))
        );
        assert_eq!(parse("deny A12 \"\""), Ok(deny(None)));
    }

    #[test]
    fn canonical_quotes_the_reason() {
        assert_eq!(
            deny(Some("wrong tag")).canonical(),
            "deny A12 \"wrong tag\""
        );
        assert_eq!(deny(None).canonical(), "deny A12");
    }

    #[test]
    fn bad_id_or_long_reason_is_refused() {
        assert!(matches!(
            parse("deny because"),
            Err(ParseError::BadValue { .. })
        ));
        assert!(matches!(
            parse("deny"),
            Err(ParseError::MissingArgument { .. })
        ));
        let long = format!("deny A1 {}", "x".repeat(501));
        assert!(matches!(
            parse(&long),
            Err(ParseError::BadValue { what: "reason", .. })
        ));
    }
}
