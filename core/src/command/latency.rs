//! latency — where the time of a request to the API's health endpoint goes.  Grammar: `latency [--samples N]`
//!
//! Implements the manual's "High Latency — Check API latency" (`curl -w`), phase by phase.

use crate::command::Read;
use serde::{Deserialize, Serialize};

use super::{Canonical, Command, CommandSpec, FlagSpec};
use crate::grammar::{Args, ParseError};

/// Samples when `--samples` is not given.
pub const DEFAULT_SAMPLES: u32 = 5;
/// Most samples (they run one after another).
pub const MAX_SAMPLES: u32 = 20;

/// How `help` shows `latency`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "latency",
    aliases: &[],
    summary: "DNS, connect, TLS, time to first byte and total of the API health endpoint: min / median / max.",
    usage: "latency [--samples N]",
    flags: &[FlagSpec {
        long: "samples",
        short: Some('n'),
        value: "N",
        help: "requests to time (default 5, at most 20)",
    }],
    examples: &["latency", "latency --samples 10"],
    manual: Some("Troubleshooting — High Latency: Check API latency"),
    free_text: false,
    parse,
};

/// Time `samples` requests to the API's health endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latency {
    pub samples: u32,
}

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    let samples = match args.flag("samples") {
        Some(given) => {
            u32::try_from(args.number("number of samples", &given, 1, u64::from(MAX_SAMPLES))?)
                .map_err(|_| args.bad_value("number of samples", &given, "too large"))?
        }
        None => DEFAULT_SAMPLES,
    };
    args.finish()?;
    Ok(Command::Read(Read::Latency(Latency { samples })))
}

impl Latency {
    pub(crate) fn write_args(&self, out: &mut Canonical) {
        out.flag("samples", &self.samples.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::Latency;
    use crate::command::Command;
    use crate::command::Read;
    use crate::grammar::{ParseError, parse};

    #[test]
    fn samples_default_and_bounds() {
        assert_eq!(
            parse("latency"),
            Ok(Command::Read(Read::Latency(Latency { samples: 5 })))
        );
        assert_eq!(
            parse("latency -n 3"),
            Ok(Command::Read(Read::Latency(Latency { samples: 3 })))
        );
        assert_eq!(
            parse("latency").map(|c| c.canonical()),
            Ok("latency --samples 5".to_string())
        );
        for bad in [
            "latency --samples 0",
            "latency --samples 21",
            "latency --samples x",
        ] {
            assert!(
                matches!(parse(bad), Err(ParseError::BadNumber { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            parse("latency now"),
            Err(ParseError::ExtraArgument { .. })
        ));
    }
}
