//! metrics — the app's own figures from its Prometheus endpoint.  Grammar: `metrics`
//!
//! Implements the manual's "Check cache hit rate" and "Check pool metrics" (`curl …/metrics | grep …`).

use crate::command::Read;
use serde::{Deserialize, Serialize};

use super::{Command, CommandSpec};
use crate::grammar::{Args, ParseError};

/// How `help` shows `metrics`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "metrics",
    aliases: &[],
    summary: "Cache hit rate, DB pool, request rate, 5xx share and latency percentiles of the app.",
    usage: "metrics",
    flags: &[],
    examples: &["metrics"],
    manual: Some(
        "High Latency — Check cache hit rate; Runbook: Database Connection Pool Exhausted",
    ),
    free_text: false,
    parse,
};

/// Scrape and summarise the app's metrics (and query Prometheus when it is configured).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metrics;

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    args.finish()?;
    Ok(Command::Read(Read::Metrics(Metrics)))
}

#[cfg(test)]
mod tests {
    use crate::command::Read;
    use crate::command::{Command, Metrics};
    use crate::grammar::{ParseError, parse};

    #[test]
    fn parses_alone() {
        assert_eq!(parse("metrics"), Ok(Command::Read(Read::Metrics(Metrics))));
        assert!(matches!(
            parse("metrics x"),
            Err(ParseError::ExtraArgument { .. })
        ));
    }
}
