//! logs — recent log lines of one pod or of all the API pods.
//! Grammar: `logs [POD|deployment] [--tail N] [--grep PATTERN]`

use crate::command::Read;
use serde::{Deserialize, Serialize};

use super::{Canonical, Command, CommandSpec, FlagSpec};
use crate::grammar::{Args, ParseError};

/// Lines per pod when `--tail` is not given.
pub const DEFAULT_TAIL: u32 = 100;
/// Most lines per pod.
pub const MAX_TAIL: u32 = 5000;
/// Longest `--grep` pattern.
pub const MAX_PATTERN_CHARS: usize = 200;

/// How `help` shows `logs`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "logs",
    aliases: &["log"],
    summary: "Recent log lines of one pod, or of all the API pods (the default).",
    usage: "logs [POD|deployment] [--tail N] [--grep PATTERN]",
    flags: &[
        FlagSpec {
            long: "tail",
            short: None,
            value: "N",
            help: "lines per pod (default 100, at most 5000)",
        },
        FlagSpec {
            long: "grep",
            short: None,
            value: "PATTERN",
            help: "only lines containing PATTERN (ignoring case); quote it if it has spaces",
        },
    ],
    examples: &[
        "logs",
        "logs --tail 500 --grep error",
        "logs mystocks-api-7d9f8-abcde --tail 50",
    ],
    manual: Some("Quick Reference — View logs"),
    free_text: false,
    parse,
};

/// Whose logs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogsTarget {
    /// All pods of the API deployment.
    Deployment,
    /// One pod, by name.
    Pod(String),
}

/// Show the last `tail` lines (per pod), optionally only those containing `grep`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logs {
    pub target: LogsTarget,
    pub tail: u32,
    pub grep: Option<String>,
}

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    let target = match args.next_arg() {
        None => LogsTarget::Deployment,
        Some(word) if word == "deployment" || word == "deploy" => LogsTarget::Deployment,
        Some(word) => {
            let name = word.strip_prefix("pod/").unwrap_or(&word);
            check_pod_name(name).map_err(|reason| args.bad_value("pod name", &word, reason))?;
            LogsTarget::Pod(name.to_string())
        }
    };
    let tail = match args.flag("tail") {
        Some(given) => {
            u32::try_from(args.number("number of lines", &given, 1, u64::from(MAX_TAIL))?)
                .map_err(|_| args.bad_value("number of lines", &given, "too large"))?
        }
        None => DEFAULT_TAIL,
    };
    let grep = args
        .flag("grep")
        .map(|p| check_pattern(args, p))
        .transpose()?;
    args.finish()?;
    Ok(Command::Read(Read::Logs(Logs { target, tail, grep })))
}

/// Pod names are DNS-1123 subdomains: lower-case letters, digits, `-` and `.`, at most 253 characters.
fn check_pod_name(name: &str) -> Result<(), &'static str> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
    let alnum_end =
        |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if name.is_empty() || name.len() > 253 {
        Err("a pod name has 1 to 253 characters")
    } else if !name.chars().all(allowed) {
        Err("a pod name has only lower-case letters, digits, `-` and `.` (see `pods`)")
    } else if !alnum_end(name.chars().next()) || !alnum_end(name.chars().last()) {
        Err("a pod name starts and ends with a letter or digit")
    } else {
        Ok(())
    }
}

fn check_pattern(args: &Args, pattern: String) -> Result<String, ParseError> {
    if pattern.is_empty() {
        Err(args.bad_value("pattern", &pattern, "it is empty"))
    } else if pattern.chars().count() > MAX_PATTERN_CHARS {
        Err(args.bad_value(
            "pattern",
            &pattern,
            format!("at most {MAX_PATTERN_CHARS} characters"),
        ))
    } else {
        Ok(pattern)
    }
}

impl Logs {
    pub(crate) fn write_args(&self, out: &mut Canonical) {
        if let LogsTarget::Pod(name) = &self.target {
            out.arg(name);
        }
        out.flag("tail", &self.tail.to_string());
        if let Some(pattern) = &self.grep {
            out.flag("grep", pattern);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Logs, LogsTarget};
    use crate::command::Command;
    use crate::command::Read;
    use crate::grammar::{ParseError, parse};

    fn logs(target: LogsTarget, tail: u32, grep: Option<&str>) -> Result<Command, ParseError> {
        Ok(Command::Read(Read::Logs(Logs {
            target,
            tail,
            grep: grep.map(str::to_string),
        })))
    }

    #[test]
    fn defaults_to_the_deployment_and_100_lines() {
        assert_eq!(parse("logs"), logs(LogsTarget::Deployment, 100, None));
        assert_eq!(
            parse("logs deployment"),
            logs(LogsTarget::Deployment, 100, None)
        );
        assert_eq!(
            parse("logs").map(|c| c.canonical()),
            Ok("logs --tail 100".to_string())
        );
    }

    #[test]
    fn pod_tail_and_grep_in_any_order() {
        let want = logs(LogsTarget::Pod("api-1".into()), 50, Some("time out"));
        assert_eq!(parse("logs api-1 --tail 50 --grep 'time out'"), want);
        assert_eq!(parse("logs --grep=\"time out\" --tail=50 pod/api-1"), want);
        assert_eq!(parse("log --tail 50 api-1 --grep “time out”"), want);
        assert_eq!(
            parse("logs --grep -ERROR").map(|c| c.canonical()),
            Ok("logs --tail 100 --grep \"-ERROR\"".to_string())
        );
    }

    #[test]
    fn bad_values_are_refused() {
        for bad in ["logs --tail 0", "logs --tail 5001", "logs --tail lots"] {
            assert!(
                matches!(parse(bad), Err(ParseError::BadNumber { .. })),
                "{bad}"
            );
        }
        for bad in [
            "logs Api-1",
            "logs '-api'",
            "logs api_1",
            "logs --grep ''",
            "logs 'a b'",
        ] {
            assert!(
                matches!(parse(bad), Err(ParseError::BadValue { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            parse("logs a b"),
            Err(ParseError::ExtraArgument { .. })
        ));
        let err = parse("logs --tial 5").expect_err("typo");
        assert_eq!(
            err.to_string(),
            "unknown flag `--tial` for `logs` — did you mean `--tail`? — usage: `logs [POD|deployment] [--tail N] [--grep PATTERN]`"
        );
    }
}
