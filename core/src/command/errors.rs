//! errors — error lines of the last minutes across the API pods, grouped and counted.
//! Grammar: `errors [--since MINUTES]`

use crate::command::Read;
use serde::{Deserialize, Serialize};

use super::{Canonical, Command, CommandSpec, FlagSpec};
use crate::grammar::{Args, ParseError, shown};

/// Window used when `--since` is not given, in minutes.
pub const DEFAULT_SINCE_MINUTES: u32 = 15;
/// Longest window, in minutes (one day).
pub const MAX_SINCE_MINUTES: u32 = 24 * 60;

/// The `--since` flag, shared with `5xx`.
pub(crate) const SINCE_FLAG: FlagSpec = FlagSpec {
    long: "since",
    short: None,
    value: "MINUTES",
    help: "how far back to look, in minutes (default 15, at most 1440); `2h` and `30m` work too",
};

/// How `help` shows `errors`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "errors",
    aliases: &[],
    summary: "Error lines of the last minutes across the API pods, grouped and counted.",
    usage: "errors [--since MINUTES]",
    flags: &[SINCE_FLAG],
    examples: &["errors", "errors --since 60"],
    manual: Some("Troubleshooting — High Error Rate: Check recent errors"),
    free_text: false,
    parse,
};

/// Error lines of the last `since_minutes` minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Errors {
    pub since_minutes: u32,
}

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    let since_minutes = since_minutes(args)?;
    args.finish()?;
    Ok(Command::Read(Read::Errors(Errors { since_minutes })))
}

/// Reads `--since`: `N` or `Nm` minutes, `Nh` hours; 1 to [`MAX_SINCE_MINUTES`].
pub(crate) fn since_minutes(args: &mut Args) -> Result<u32, ParseError> {
    let Some(given) = args.flag("since") else {
        return Ok(DEFAULT_SINCE_MINUTES);
    };
    let lower = given.to_ascii_lowercase();
    let (digits, per_unit) = match lower.strip_suffix('h') {
        Some(hours) => (hours, 60),
        None => (lower.strip_suffix('m').unwrap_or(&lower), 1),
    };
    let bad = |reason: &str| ParseError::BadNumber {
        what: "time window",
        given: shown(&given),
        reason: reason.to_string(),
        usage: args.spec().usage,
    };
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("expected minutes, like `30`, `30m` or `2h`"));
    }
    let minutes = digits
        .parse::<u32>()
        .map_err(|_| bad("expected minutes"))?
        .saturating_mul(per_unit);
    match minutes {
        0 => Err(bad("it must be at least 1 minute")),
        m if m > MAX_SINCE_MINUTES => Err(bad("it must be at most 1440 minutes (24h)")),
        m => Ok(m),
    }
}

impl Errors {
    pub(crate) fn write_args(&self, out: &mut Canonical) {
        out.flag("since", &self.since_minutes.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::Errors;
    use crate::command::Command;
    use crate::command::Read;
    use crate::grammar::{ParseError, parse};

    fn errors(since_minutes: u32) -> Result<Command, ParseError> {
        Ok(Command::Read(Read::Errors(Errors { since_minutes })))
    }

    #[test]
    fn default_window_is_fifteen_minutes() {
        assert_eq!(parse("errors"), errors(15));
        assert_eq!(
            parse("errors").map(|c| c.canonical()),
            Ok("errors --since 15".to_string())
        );
    }

    #[test]
    fn since_in_minutes_or_hours() {
        assert_eq!(parse("errors --since 60"), errors(60));
        assert_eq!(parse("errors --since=30m"), errors(30));
        assert_eq!(parse("errors --since 2H"), errors(120));
        assert_eq!(parse("errors --since 24h"), errors(1440));
    }

    #[test]
    fn out_of_range_windows_are_refused() {
        for bad in [
            "errors --since 0",
            "errors --since 1441",
            "errors --since 25h",
            "errors --since soon",
            "errors --since h",
        ] {
            assert!(
                matches!(parse(bad), Err(ParseError::BadNumber { .. })),
                "{bad}"
            );
        }
        let err = parse("errors --since 25h").expect_err("too long");
        assert_eq!(
            err.to_string(),
            "`25h` is not a valid time window: it must be at most 1440 minutes (24h) — usage: `errors [--since MINUTES]`"
        );
    }

    #[test]
    fn unknown_flag_suggests_since() {
        let err = parse("errors --snce 5").expect_err("typo");
        assert!(err.to_string().contains("did you mean `--since`?"), "{err}");
    }
}
