//! The chat grammar: `[/mystocks|!mystocks] COMMAND [ARG…] [--flag value|--flag=value|-l value]`.
//!
//! Pure: turns text into a [`Command`] or a [`ParseError`] whose text is shown to the user. Quotes `"…"` (with
//! `\` escapes), `'…'` and the typographic quotes chat clients substitute for them group words into one argument.
//! Any input — long, unicode, control characters — yields a value or an error, never a panic.

use crate::command::Read;
use crate::command::{self, Command};
use crate::invocation::Addressing;

mod args;
mod tokenize;

pub use args::Args;
use args::{is_help_flag, split_args};
use tokenize::tokenize;
pub(crate) use tokenize::{DOUBLE_CLOSE, DOUBLE_OPEN, is_separator};

pub use crate::command::suggest::did_you_mean;

/// Longest command text accepted, in bytes (a chat message with a command is short; a paste is not a command).
pub const MAX_INPUT_BYTES: usize = 4096;

/// Why a text is not a valid command. The `Display` text is written for the person who typed it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("nothing to do — type `help` to list commands")]
    Empty,
    #[error(
        "that is too long for a command ({len} bytes, at most {max}) — send the command on its own"
    )]
    TooLong { len: usize, max: usize },
    #[error("the command contains an invisible control character (U+{codepoint:04X}) — retype it")]
    ControlCharacter { codepoint: u32 },
    #[error(
        "a quote ({quote}) is not closed — close it, or put the text in the other kind of quotes"
    )]
    UnterminatedQuote { quote: char },
    #[error("unknown command `{given}`{} (`help` lists commands)", suggestion_text(.suggestion))]
    UnknownCommand {
        given: String,
        suggestion: Option<String>,
    },
    #[error("unknown flag `{given}` for `{command}`{} — usage: `{usage}`", flag_hint(.suggestion, .command_has_flags))]
    UnknownFlag {
        command: &'static str,
        given: String,
        suggestion: Option<String>,
        command_has_flags: bool,
        usage: &'static str,
    },
    #[error("flag `{flag}` needs a value — usage: `{usage}`")]
    MissingFlagValue { flag: String, usage: &'static str },
    #[error("flag `{flag}` is given twice — usage: `{usage}`")]
    RepeatedFlag { flag: String, usage: &'static str },
    #[error("missing {what} — usage: `{usage}`")]
    MissingArgument {
        what: &'static str,
        usage: &'static str,
    },
    #[error("unexpected `{given}` — usage: `{usage}`")]
    ExtraArgument { given: String, usage: &'static str },
    #[error("`{given}` is not a valid {what}: {reason} — usage: `{usage}`")]
    BadNumber {
        what: &'static str,
        given: String,
        reason: String,
        usage: &'static str,
    },
    #[error("`{given}` is not a valid {what}: {reason} — usage: `{usage}`")]
    BadValue {
        what: &'static str,
        given: String,
        reason: String,
        usage: &'static str,
    },
}

fn suggestion_text(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!(" — did you mean `{s}`?"),
        None => String::new(),
    }
}

fn flag_hint(suggestion: &Option<String>, has_flags: &bool) -> String {
    match (suggestion, has_flags) {
        (Some(s), _) => format!(" — did you mean `{s}`?"),
        (None, false) => " (it takes no flags)".to_string(),
        (None, true) => String::new(),
    }
}

/// Shortens user text quoted back in an error, so an error never repeats a paste.
pub(crate) fn shown(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    if text.chars().count() <= MAX_CHARS {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(MAX_CHARS).collect();
    cut.push('…');
    cut
}

/// Parses one command text (with or without a leading `/mystocks` or `!mystocks`).
pub fn parse(text: &str) -> Result<Command, ParseError> {
    let mut tokens = tokenize(text)?;
    if tokens
        .first()
        .is_some_and(|t| !t.quoted && is_bot_prefix(&t.text))
    {
        tokens.remove(0);
    }
    if tokens.is_empty() {
        return Err(ParseError::Empty);
    }
    let first = tokens.remove(0);
    let name = first.text.to_ascii_lowercase();
    let spec = command::find(&name).ok_or_else(|| ParseError::UnknownCommand {
        given: shown(&first.text),
        suggestion: did_you_mean(&name, command::all_spellings()).map(str::to_string),
    })?;
    let asks_help = if spec.free_text {
        tokens.first().is_some_and(is_help_flag)
    } else {
        tokens.iter().any(is_help_flag)
    };
    if asks_help {
        return Ok(Command::Read(Read::Help(command::help::Help {
            topic: Some(spec.name.to_string()),
        })));
    }
    (spec.parse)(&mut split_args(spec, tokens)?)
}

fn is_bot_prefix(word: &str) -> bool {
    word.eq_ignore_ascii_case("/mystocks") || word.eq_ignore_ascii_case("!mystocks")
}

/// The command text of a message, if the message addresses the bot at all.
///
/// Slash commands, mentions and actions always do. A plain thread message does only in an incident thread, and
/// only when its first word is exactly a command name (`status`, not `Status?` nor an alias), so ordinary talk
/// ("scale looks fine" in a normal thread) is never a command.
pub fn addressed_command(
    addressing: Addressing,
    text: &str,
    in_incident_thread: bool,
) -> Option<&str> {
    match addressing {
        Addressing::Direct | Addressing::Mention | Addressing::Action => Some(text),
        Addressing::ThreadMessage => {
            let first = text.split(is_separator).find(|w| !w.is_empty())?;
            (in_incident_thread && command::specs().any(|s| s.name == first)).then_some(text)
        }
    }
}

/// [`addressed_command`] then [`parse`]: `None` when the message is not for the bot. A thread message that
/// starts with a command name but does not parse ("status is bad") is taken as talk, so it is `None` too.
pub fn parse_addressed(
    addressing: Addressing,
    text: &str,
    in_incident_thread: bool,
) -> Option<Result<Command, ParseError>> {
    let text = addressed_command(addressing, text, in_incident_thread)?;
    match (addressing, parse(text)) {
        (Addressing::ThreadMessage, Err(_)) => None,
        (_, result) => Some(result),
    }
}

#[cfg(test)]
mod tests;
