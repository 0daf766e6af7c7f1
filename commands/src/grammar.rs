//! The chat grammar: `[/mystocks|!mystocks] COMMAND [ARG…] [--flag value|--flag=value|-l value]`.
//!
//! Pure: turns text into a [`Command`] or a [`ParseError`] whose text is shown to the user. Quotes `"…"` (with
//! `\` escapes), `'…'` and the typographic quotes chat clients substitute for them group words into one argument.
//! Any input — long, unicode, control characters — yields a value or an error, never a panic.

use std::collections::VecDeque;

use crate::command::{self, Command, CommandSpec};
use crate::invocation::Addressing;

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

/// One word of the input; a quoted word is never a flag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub text: String,
    pub quoted: bool,
}

/// Characters that separate words: whitespace, and the zero-width characters chat clients sometimes insert.
pub(crate) fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}')
}

/// Control characters and bidirectional overrides, which could hide or reorder text in the audit log.
fn is_forbidden(c: char) -> bool {
    (c.is_control() && !c.is_whitespace())
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

pub(crate) const DOUBLE_OPEN: [char; 4] = ['"', '“', '”', '„'];
pub(crate) const DOUBLE_CLOSE: [char; 3] = ['"', '“', '”'];
const SINGLE_OPEN: [char; 3] = ['\'', '‘', '’'];
const SINGLE_CLOSE: [char; 3] = ['\'', '‘', '’'];

/// Splits the input into words. Double quotes may open anywhere and must close (`\` escapes inside them); a
/// single quote opens only at the start of a word or after `=`, and only if it closes — so "don't" stays a word.
pub(crate) fn tokenize(input: &str) -> Result<Vec<Token>, ParseError> {
    if input.len() > MAX_INPUT_BYTES {
        return Err(ParseError::TooLong {
            len: input.len(),
            max: MAX_INPUT_BYTES,
        });
    }
    if let Some(c) = input.chars().find(|&c| is_forbidden(c)) {
        return Err(ParseError::ControlCharacter {
            codepoint: u32::from(c),
        });
    }
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut current: Option<Token> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if is_separator(c) {
            tokens.extend(current.take());
            i += 1;
            continue;
        }
        let token = current.get_or_insert_with(|| Token {
            text: String::new(),
            quoted: false,
        });
        let at_word_start = token.text.is_empty() || token.text.ends_with('=');
        // A word is "quoted" (never a flag) when it starts with a quote; `--grep="a b"` stays a flag.
        let starts_word = token.text.is_empty() && !token.quoted;
        if DOUBLE_OPEN.contains(&c) {
            i = read_double_quoted(&chars, i + 1, &mut token.text)?;
            token.quoted |= starts_word;
        } else if SINGLE_OPEN.contains(&c) && at_word_start {
            match chars[i + 1..]
                .iter()
                .position(|ch| SINGLE_CLOSE.contains(ch))
            {
                Some(len) => {
                    token.text.extend(&chars[i + 1..i + 1 + len]);
                    token.quoted |= starts_word;
                    i += len + 2;
                }
                None => {
                    token.text.push(c);
                    i += 1;
                }
            }
        } else {
            token.text.push(c);
            i += 1;
        }
    }
    tokens.extend(current);
    Ok(tokens)
}

/// Reads a double-quoted section starting after its opening quote; returns the index after the closing quote.
fn read_double_quoted(chars: &[char], mut i: usize, out: &mut String) -> Result<usize, ParseError> {
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            out.push(chars[i + 1]);
            i += 2;
        } else if DOUBLE_CLOSE.contains(&c) {
            return Ok(i + 1);
        } else {
            out.push(c);
            i += 1;
        }
    }
    Err(ParseError::UnterminatedQuote { quote: '"' })
}

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

fn is_help_flag(token: &Token) -> bool {
    !token.quoted && (token.text == "--help" || token.text == "-h")
}

/// Splits tokens into positionals and flags, per the command's spec.
fn split_args(spec: &'static CommandSpec, tokens: Vec<Token>) -> Result<Args, ParseError> {
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
        let value = match inline_value {
            Some(v) => v.to_string(),
            None => iter
                .next()
                .map(|t| t.text)
                .ok_or_else(|| ParseError::MissingFlagValue {
                    flag: flag.display(),
                    usage: spec.usage,
                })?,
        };
        if args.flags.iter().any(|(n, _)| *n == flag.long) {
            return Err(ParseError::RepeatedFlag {
                flag: flag.display(),
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
        return Ok(Command::Help(command::help::Help {
            topic: Some(spec.name.to_string()),
        }));
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
mod tests {
    use super::*;
    use crate::command::{Pods, Scale, Status};

    fn words(text: &str) -> Vec<String> {
        tokenize(text)
            .expect("tokenizes")
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn tokenizer_handles_quotes_and_separators() {
        assert_eq!(words("  a\tb  c "), ["a", "b", "c"]);
        assert_eq!(words("c:\\x"), ["c:\\x"]);
        assert_eq!(words("a\tb\nc\u{200B}d"), ["a", "b", "c", "d"]);
        assert_eq!(
            words("\"a b\" 'c d' “e f” ‘g h’"),
            ["a b", "c d", "e f", "g h"]
        );
        assert_eq!(words("--grep=\"a b\"x"), ["--grep=a bx"]);
        assert_eq!(words("--grep='a b'"), ["--grep=a b"]);
        assert_eq!(words("\"say \\\"hi\\\"\""), ["say \"hi\""]);
        assert_eq!(words("don't stop"), ["don't", "stop"]);
        assert_eq!(words("'tis fine"), ["'tis", "fine"]);
        assert_eq!(words("\"\""), [""]);
    }

    #[test]
    fn tokenizer_rejects_what_it_cannot_read() {
        assert_eq!(
            tokenize("scale \"5"),
            Err(ParseError::UnterminatedQuote { quote: '"' })
        );
        assert_eq!(
            tokenize("scale\u{7}5"),
            Err(ParseError::ControlCharacter { codepoint: 7 })
        );
        assert_eq!(
            tokenize("a\u{202E}b"),
            Err(ParseError::ControlCharacter { codepoint: 0x202E })
        );
        let long = "x".repeat(MAX_INPUT_BYTES + 1);
        assert!(matches!(tokenize(&long), Err(ParseError::TooLong { .. })));
    }

    #[test]
    fn quoted_words_are_never_flags() {
        assert!(matches!(
            parse("pods \"-l\" x"),
            Err(ParseError::ExtraArgument { .. })
        ));
        assert!(matches!(
            parse("status \"--help\""),
            Err(ParseError::ExtraArgument { .. })
        ));
    }

    #[test]
    fn bot_prefix_is_stripped() {
        assert_eq!(parse("/mystocks status"), Ok(Command::Status(Status)));
        assert_eq!(
            parse("!MyStocks scale 5"),
            Ok(Command::Scale(Scale { replicas: 5 }))
        );
        assert_eq!(parse("/mystocks"), Err(ParseError::Empty));
        assert_eq!(parse("   "), Err(ParseError::Empty));
    }

    #[test]
    fn names_are_case_insensitive() {
        assert_eq!(parse("STATUS"), Ok(Command::Status(Status)));
        assert_eq!(
            parse("Pods -L app=x"),
            Ok(Command::Pods(Pods {
                selector: Some("app=x".into())
            }))
        );
    }

    #[test]
    fn unknown_command_suggests() {
        assert_eq!(
            parse("scael 5").map_err(|e| e.to_string()),
            Err(
                "unknown command `scael` — did you mean `scale`? (`help` lists commands)"
                    .to_string()
            )
        );
        assert_eq!(
            parse("kubectl get pods").map_err(|e| e.to_string()),
            Err("unknown command `kubectl` (`help` lists commands)".to_string())
        );
        assert!(parse("rollbak").is_err_and(|e| e.to_string().contains("`rollback`")));
    }

    #[test]
    fn errors_never_echo_a_paste() {
        let text = format!("{} 1", "z".repeat(3000));
        let message = parse(&text).expect_err("unknown").to_string();
        assert!(message.len() < 200, "{message}");
    }

    #[test]
    fn double_dash_ends_flags() {
        assert!(matches!(
            parse("logs -- --tail"),
            Err(ParseError::BadValue { .. })
        ));
    }

    #[test]
    fn direct_mentions_and_actions_are_always_addressed() {
        for addressing in [Addressing::Direct, Addressing::Mention, Addressing::Action] {
            assert_eq!(
                addressed_command(addressing, "scale looks fine", false),
                Some("scale looks fine")
            );
        }
    }

    #[test]
    fn thread_talk_is_a_command_only_in_incident_threads_with_an_exact_name_first() {
        let thread = Addressing::ThreadMessage;
        assert_eq!(addressed_command(thread, "scale 5", true), Some("scale 5"));
        assert_eq!(
            addressed_command(thread, "  status", true),
            Some("  status")
        );
        assert_eq!(addressed_command(thread, "scale looks fine", false), None);
        assert_eq!(addressed_command(thread, "Scale 5", true), None);
        assert_eq!(addressed_command(thread, "status?", true), None);
        assert_eq!(addressed_command(thread, "undo", true), None);
        assert_eq!(
            addressed_command(thread, "I think we should scale", true),
            None
        );
        assert_eq!(addressed_command(thread, "", true), None);
    }

    #[test]
    fn parse_addressed_drops_thread_talk_that_does_not_parse() {
        let thread = Addressing::ThreadMessage;
        assert_eq!(parse_addressed(thread, "status is bad", true), None);
        assert_eq!(
            parse_addressed(thread, "status", true),
            Some(Ok(Command::Status(Status)))
        );
        assert!(matches!(
            parse_addressed(Addressing::Direct, "status is bad", false),
            Some(Err(_))
        ));
        assert_eq!(parse_addressed(thread, "status", false), None);
    }
}
