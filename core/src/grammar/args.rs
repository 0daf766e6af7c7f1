//! A command's arguments: words split into positionals and the flags its spec knows, with typed accessors
//! that turn bad values into user-facing errors.

use std::collections::VecDeque;

use super::tokenize::Token;
use super::{ParseError, did_you_mean, shown};
use crate::command::CommandSpec;

/// The arguments of one command, already split into positionals and (known) flags.
/// Command parsers take what they need and call [`Args::finish`] to reject leftovers.
#[derive(Debug)]
pub struct Args {
    spec: &'static CommandSpec,
    positionals: VecDeque<String>,
    flags: Vec<(&'static str, String)>,
}

impl Args {
    /// The spec of the command being parsed (its usage line goes into every error).
    pub fn spec(&self) -> &'static CommandSpec {
        self.spec
    }

    /// The next positional argument, if any.
    pub fn next_arg(&mut self) -> Option<String> {
        self.positionals.pop_front()
    }

    /// The next positional argument, or an error naming `what` is missing.
    pub fn required(&mut self, what: &'static str) -> Result<String, ParseError> {
        self.next_arg().ok_or(ParseError::MissingArgument {
            what,
            usage: self.spec.usage,
        })
    }

    /// All remaining positionals joined by single spaces and trimmed; `None` when that is empty.
    pub fn rest_text(&mut self) -> Option<String> {
        let words: Vec<String> = self.positionals.drain(..).collect();
        let text = words.join(" ");
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_string())
    }

    /// Takes the value of flag `long` (its long name without dashes), if it was given.
    pub fn flag(&mut self, long: &str) -> Option<String> {
        let at = self.flags.iter().position(|(name, _)| *name == long)?;
        Some(self.flags.remove(at).1)
    }

    /// Ends parsing: any argument left over is an error.
    pub fn finish(&mut self) -> Result<(), ParseError> {
        if let Some(extra) = self.positionals.pop_front() {
            return Err(ParseError::ExtraArgument {
                given: shown(&extra),
                usage: self.spec.usage,
            });
        }
        if let Some((name, _)) = self.flags.first() {
            return Err(ParseError::ExtraArgument {
                given: format!("--{name}"),
                usage: self.spec.usage,
            });
        }
        Ok(())
    }

    /// Parses a whole number in `min..=max`; `what` names it in the error ("number of replicas").
    pub fn number(
        &self,
        what: &'static str,
        given: &str,
        min: u64,
        max: u64,
    ) -> Result<u64, ParseError> {
        let bad = |reason: String| ParseError::BadNumber {
            what,
            given: shown(given),
            reason,
            usage: self.spec.usage,
        };
        if given.starts_with('-') && given.len() > 1 {
            return Err(bad(format!("it must be {min} or more")));
        }
        if given.is_empty() || !given.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(format!("expected a whole number from {min} to {max}")));
        }
        match given.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            Ok(n) if n < min => Err(bad(format!("it must be {min} or more"))),
            _ => Err(bad(format!("it must be at most {max}"))),
        }
    }

    /// A `BadValue` error for `given`, with this command's usage line.
    pub fn bad_value(
        &self,
        what: &'static str,
        given: &str,
        reason: impl Into<String>,
    ) -> ParseError {
        ParseError::BadValue {
            what,
            given: shown(given),
            reason: reason.into(),
            usage: self.spec.usage,
        }
    }
}

pub(super) fn is_help_flag(token: &Token) -> bool {
    !token.quoted && (token.text == "--help" || token.text == "-h")
}

/// Splits tokens into positionals and flags, per the command's spec.
pub(super) fn split_args(
    spec: &'static CommandSpec,
    tokens: Vec<Token>,
) -> Result<Args, ParseError> {
    let mut args = Args {
        spec,
        positionals: VecDeque::new(),
        flags: Vec::new(),
    };
    let mut iter = tokens.into_iter();
    let flags_allowed = !(spec.free_text && spec.flags.is_empty());
    while let Some(token) = iter.next() {
        if token.quoted || !flags_allowed {
            args.positionals.push_back(token.text);
            continue;
        }
        if token.text == "--" {
            args.positionals.extend(iter.by_ref().map(|t| t.text));
            break;
        }
        let Some((name, inline_value)) = flag_parts(&token.text) else {
            args.positionals.push_back(token.text);
            continue;
        };
        let flag = spec
            .flag(name)
            .ok_or_else(|| unknown_flag(spec, &token.text))?;
        // Errors name the flag as it was typed (`-l`, not `--selector`).
        let typed = || {
            token
                .text
                .split_once('=')
                .map_or(token.text.as_str(), |(n, _)| n)
                .to_string()
        };
        let value = match inline_value {
            Some(v) => v.to_string(),
            None => iter
                .next()
                .map(|t| t.text)
                .ok_or_else(|| ParseError::MissingFlagValue {
                    flag: typed(),
                    usage: spec.usage,
                })?,
        };
        if args.flags.iter().any(|(n, _)| *n == flag.long) {
            return Err(ParseError::RepeatedFlag {
                flag: typed(),
                usage: spec.usage,
            });
        }
        args.flags.push((flag.long, value));
    }
    Ok(args)
}

/// `--name[=value]` or `-n[=value]` → (`name`, value). `-5` is a (negative) number, not a flag.
fn flag_parts(text: &str) -> Option<(&str, Option<&str>)> {
    let body = if let Some(long) = text.strip_prefix("--") {
        long
    } else {
        let short = text.strip_prefix('-')?;
        if !short.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return None;
        }
        short
    };
    if body.is_empty() {
        return None;
    }
    Some(match body.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (body, None),
    })
}

fn unknown_flag(spec: &'static CommandSpec, given: &str) -> ParseError {
    let name = given.split_once('=').map_or(given, |(n, _)| n);
    let candidates: Vec<String> = spec.flags.iter().flat_map(|f| f.spellings()).collect();
    let suggestion = did_you_mean(name, candidates.iter().map(String::as_str)).map(str::to_string);
    ParseError::UnknownFlag {
        command: spec.name,
        given: shown(name),
        suggestion,
        command_has_flags: !spec.flags.is_empty(),
        usage: spec.usage,
    }
}
