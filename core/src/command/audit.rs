//! audit — the newest audit-log entries, a check of the log's HMAC chain, or re-anchoring its checkpoint.
//! Grammar: `audit [N]` · `audit verify` · `audit reanchor`
//!
//! One command name, three forms: [`Audit`] lists, [`AuditVerify`] checks, [`AuditReanchor`] (admin, two persons)
//! accepts the log as it is now after a restore from backup.

use crate::command::{Admin, Read};
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
    summary: "The newest audit-log entries (`audit N`), `audit verify` to check the log is untampered and complete \
              up to its external checkpoint, or `audit reanchor` (admins; a second admin confirms) to checkpoint the \
              log as it is now after a restore from backup.",
    usage: "audit [N | verify | reanchor]",
    flags: &[],
    examples: &["audit", "audit 50", "audit verify", "audit reanchor"],
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

/// Re-publish the audit checkpoint at the chain's current head (admin; needs a second admin's confirmation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReanchor;

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    let command = match args.next_arg() {
        Some(word) if word.eq_ignore_ascii_case("verify") => {
            Command::Read(Read::AuditVerify(AuditVerify))
        }
        Some(word) if word.eq_ignore_ascii_case("reanchor") => {
            Command::Admin(Admin::AuditReanchor(AuditReanchor))
        }
        Some(given) if !given.bytes().all(|b| b.is_ascii_digit() || b == b'-') => {
            return Err(args.bad_value(
                "argument for audit",
                &given,
                "expected a number of entries (1–500), `verify` or `reanchor`",
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

impl AuditReanchor {
    pub(crate) fn write_args(&self, out: &mut Canonical) {
        out.arg("reanchor");
    }
}

#[cfg(test)]
mod tests {
    use super::{Audit, AuditReanchor, AuditVerify};
    use crate::command::Read;
    use crate::command::{Admin, Command};
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
    fn reanchor_form() {
        let cmd = Command::Admin(Admin::AuditReanchor(AuditReanchor));
        assert_eq!(parse("audit reanchor"), Ok(cmd.clone()));
        assert_eq!(
            parse("audit REANCHOR").map(|c| c.canonical()),
            Ok("audit reanchor".to_string())
        );
        assert_eq!(cmd.name(), "audit");
        assert!(matches!(
            parse("audit reanchor now"),
            Err(ParseError::ExtraArgument { .. })
        ));
    }

    #[test]
    fn bad_counts_and_extras_are_refused() {
        let err = parse("audit 501").expect_err("too many");
        assert_eq!(
            err.to_string(),
            "`501` is not a valid number of entries: it must be at most 500 — usage: `audit [N | verify | reanchor]`"
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
