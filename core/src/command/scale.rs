//! scale — set the number of API replicas, through approval.  Grammar: `scale N`
//!
//! Parsing accepts any whole number up to [`MAX_REPLICAS`]; the configured bounds (default 1–20) are checked
//! when the request is made (`PolicyConfig::check_replicas`).

use crate::command::Change;
use serde::{Deserialize, Serialize};

use super::{Canonical, Command, CommandSpec};
use crate::grammar::{Args, ParseError};

/// Above this a number is a typo, not a replica count.
pub const MAX_REPLICAS: u64 = 10_000;

/// How `help` shows `scale`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "scale",
    aliases: &[],
    summary: "Set the number of API replicas (shows replicas before → after); needs approval.",
    usage: "scale N",
    flags: &[],
    examples: &["scale 5", "scale 10"],
    manual: Some("Quick Reference — Scale service; Runbook: High CPU Usage"),
    free_text: false,
    parse,
};

/// Scale the API deployment to `replicas` pods (`i32`, as Kubernetes counts replicas).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scale {
    pub replicas: i32,
}

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    let given = args.required("number of replicas (N)")?;
    let replicas = args.number("number of replicas", &given, 0, MAX_REPLICAS)?;
    args.finish()?;
    let replicas = i32::try_from(replicas)
        .map_err(|_| args.bad_value("number of replicas", &given, "too large"))?;
    Ok(Command::Change(Change::Scale(Scale { replicas })))
}

impl Scale {
    pub(crate) fn write_args(&self, out: &mut Canonical) {
        out.arg(&self.replicas.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::Scale;
    use crate::command::Change;
    use crate::command::Command;
    use crate::grammar::{ParseError, parse};

    #[test]
    fn parses_a_count() {
        assert_eq!(
            parse("scale 5"),
            Ok(Command::Change(Change::Scale(Scale { replicas: 5 })))
        );
        assert_eq!(
            parse("scale 0"),
            Ok(Command::Change(Change::Scale(Scale { replicas: 0 })))
        );
        assert_eq!(
            parse("scale 10000"),
            Ok(Command::Change(Change::Scale(Scale { replicas: 10_000 })))
        );
        assert_eq!(
            parse("/mystocks scale 5").map(|c| c.canonical()),
            Ok("scale 5".to_string())
        );
    }

    #[test]
    fn rejects_non_numbers_negatives_and_absurd_sizes() {
        for bad in [
            "scale five",
            "scale -1",
            "scale 10001",
            "scale 1e3",
            "scale 5.0",
            "scale ５",
            "scale 99999999999999999999999",
        ] {
            let err = parse(bad).expect_err(bad);
            assert!(
                matches!(err, ParseError::BadNumber { .. }),
                "{bad}: {err:?}"
            );
            assert!(err.to_string().contains("usage: `scale N`"), "{err}");
        }
        assert_eq!(
            parse("scale -1").map_err(|e| e.to_string()),
            Err(
                "`-1` is not a valid number of replicas: it must be 0 or more — usage: `scale N`"
                    .to_string()
            )
        );
    }

    #[test]
    fn needs_exactly_one_count() {
        assert!(matches!(
            parse("scale"),
            Err(ParseError::MissingArgument { .. })
        ));
        assert!(matches!(
            parse("scale 5 6"),
            Err(ParseError::ExtraArgument { .. })
        ));
        let err = parse("scale --replicas=5").expect_err("flag");
        assert_eq!(
            err.to_string(),
            "unknown flag `--replicas` for `scale` (it takes no flags) — usage: `scale N`"
        );
    }
}
