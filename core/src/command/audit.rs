//! audit — the newest audit-log entries, or a check of the log's HMAC chain.
//! Grammar: `audit [N]` · `audit verify`
//!
//! One command name, two forms: [`Audit`] lists, [`AuditVerify`] checks.

use crate::command::Read;
use serde::{Deserialize, Serialize};

use super::{Canonical, Command, CommandSpec};
use crate::grammar::{Args, ParseError};

/// Entries shown when N is not given.
pub const DEFAULT_LIMIT: u32 = 20;
/// Most entries shown at once.
pub const MAX_LIMIT: u32 = 500;

/// How `help` shows `audit`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "audit",
    aliases: &[],
    summary: "The newest audit-log entries (`audit N`), or `audit verify` to check the log is untampered.",
    usage: "audit [N | verify]",
    flags: &[],
    examples: &["audit", "audit 50", "audit verify"],
    manual: None,
    free_text: false,
    parse,
};

/// Show the newest `limit` audit entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audit {
    pub limit: u32,
}

/// Verify the audit log's HMAC chain and its recorded head.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditVerify;

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    let command = match args.next_arg() {
        Some(word) if word.eq_ignore_ascii_case("verify") => {
            Command::Read(Read::AuditVerify(AuditVerify))
        }
        Some(given) if !given.bytes().all(|b| b.is_ascii_digit() || b == b'-') => {
            return Err(args.bad_value(
                "argument for audit",
                &given,
                "expected a number of entries (1–500) or `verify`",
            ));
        }
        Some(given) => {
            let limit = args.number("number of entries", &given, 1, u64::from(MAX_LIMIT))?;
            let limit = u32::try_from(limit)
                .map_err(|_| args.bad_value("number of entries", &given, "too large"))?;
            Command::Read(Read::Audit(Audit { limit }))
        }
        None => Command::Read(Read::Audit(Audit {
            limit: DEFAULT_LIMIT,
        })),
    };
    args.finish()?;
    Ok(command)
}

impl Audit {
    pub(crate) fn write_args(&self, out: &mut Canonical) {
        out.arg(&self.limit.to_string());
    }
}

impl AuditVerify {
    pub(crate) fn write_args(&self, out: &mut Canonical) {
        out.arg("verify");
    }
}

#[cfg(test)]
mod tests {
    use super::{Audit, AuditVerify};
    use crate::command::Command;
    use crate::command::Read;
    use crate::grammar::{ParseError, parse};

    #[test]
    fn list_with_default_or_given_count() {
        assert_eq!(
            parse("audit"),
            Ok(Command::Read(Read::Audit(Audit { limit: 20 })))
        );
        assert_eq!(
            parse("audit 500"),
            Ok(Command::Read(Read::Audit(Audit { limit: 500 })))
        );
        assert_eq!(
            parse("audit").map(|c| c.canonical()),
            Ok("audit 20".to_string())
        );
    }

    #[test]
    fn verify_form() {
        assert_eq!(
            parse("audit verify"),
            Ok(Command::Read(Read::AuditVerify(AuditVerify)))
        );
        assert_eq!(
            parse("audit VERIFY").map(|c| c.canonical()),
            Ok("audit verify".to_string())
        );
        assert_eq!(
            Command::Read(Read::AuditVerify(AuditVerify)).name(),
            "audit"
        );
    }

    #[test]
    fn bad_counts_and_extras_are_refused() {
        let err = parse("audit 501").expect_err("too many");
        assert_eq!(
            err.to_string(),
            "`501` is not a valid number of entries: it must be at most 500 — usage: `audit [N | verify]`"
        );
        assert!(matches!(
            parse("audit 0"),
            Err(ParseError::BadNumber { .. })
        ));
        assert!(matches!(
            parse("audit verfy"),
            Err(ParseError::BadValue { .. })
        ));
        assert!(matches!(
            parse("audit verify now"),
            Err(ParseError::ExtraArgument { .. })
        ));
        assert!(matches!(
            parse("audit 5 verify"),
            Err(ParseError::ExtraArgument { .. })
        ));
    }
}
