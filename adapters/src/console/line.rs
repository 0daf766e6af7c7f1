//! What one console line means: a console directive (`:as`, `:thread`, `:help`, `:quit`), nothing (blank or
//! `# comment`), or chat text for the bot. Pure, so every case is unit-tested.

/// The meaning of one input line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// Blank line or `# comment`.
    Skip,
    /// `:as NAME` — act as another person.
    As(String),
    /// `:thread NAME` — move into a thread; `:thread` alone — back to the channel.
    Thread(Option<String>),
    /// `:help` — list the console directives.
    Help,
    /// `:quit` — stop reading.
    Quit,
    /// `:advance 15m` — move the clock forward (SLA timers, expiries).
    Advance(std::time::Duration),
    /// A directive the console does not know, or used wrongly: the text says why.
    Invalid(String),
    /// Chat text for the bot (`/mystocks ` prefix removed).
    Say(String),
}

/// Longest accepted line, in bytes.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// The console directives, for `:help`.
pub const HELP: &str = "console commands:
  :as NAME        act as NAME (demo people: alice operator, bob approver, carol viewer, dave admin)
  :thread NAME    move into thread NAME (e.g. an incident war room)
  :thread         back to the channel
  :advance 15m    move the demo clock forward (SLA reminders and escalations fire)
  :help           this list
  :quit           leave (or end of input / Ctrl-D)
anything else is sent to the bot as if typed after /mystocks — try `help`";

/// Interprets one line (without its line ending).
pub fn parse(raw: &str) -> Line {
    let line = raw.trim();
    if line.is_empty() || line.starts_with('#') {
        return Line::Skip;
    }
    if line.len() > MAX_LINE_BYTES {
        return Line::Invalid(format!(
            "line too long ({} bytes; at most {MAX_LINE_BYTES})",
            line.len()
        ));
    }
    let Some(directive) = line.strip_prefix(':') else {
        return say(line);
    };
    let mut words = directive.split_whitespace();
    let name = words.next().unwrap_or("");
    let arg = words.next();
    let extra = words.next().is_some();
    match (name, arg, extra) {
        ("as", Some(who), false) => valid_name(who, "person")
            .map(Line::As)
            .unwrap_or_else(Line::Invalid),
        ("as", _, _) => Line::Invalid("usage: :as NAME".into()),
        ("thread", None, _) => Line::Thread(None),
        ("thread", Some(t), false) => valid_name(t, "thread")
            .map(|t| Line::Thread(Some(t)))
            .unwrap_or_else(Line::Invalid),
        ("thread", _, _) => {
            Line::Invalid("usage: :thread NAME (one word), or :thread alone".into())
        }
        ("help", _, _) => Line::Help,
        ("advance", Some(by), false) => super::advance::parse(by)
            .map(Line::Advance)
            .unwrap_or_else(Line::Invalid),
        ("advance", _, _) => Line::Invalid("usage: :advance 15m".into()),
        ("quit" | "exit" | "q", None, _) => Line::Quit,
        _ => Line::Invalid(format!(
            "unknown console command `:{name}`; :help lists them"
        )),
    }
}

fn say(line: &str) -> Line {
    let text = match line.strip_prefix("/mystocks") {
        Some(rest) if rest.is_empty() || rest.starts_with(char::is_whitespace) => rest.trim(),
        _ => line,
    };
    if text.is_empty() {
        Line::Say("help".into())
    } else {
        Line::Say(text.to_string())
    }
}

fn valid_name(name: &str, what: &str) -> Result<String, String> {
    let ok = name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
    if ok {
        Ok(name.to_string())
    } else {
        Err(format!(
            "`{}` is not a {what} name: use letters, digits, - _ . @ (at most 64)",
            name.escape_debug()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_and_comments_are_skipped() {
        assert_eq!(parse(""), Line::Skip);
        assert_eq!(parse("   \t"), Line::Skip);
        assert_eq!(parse("# carol tries to scale"), Line::Skip);
        assert_eq!(parse("  # indented comment"), Line::Skip);
    }

    #[test]
    fn directives() {
        assert_eq!(parse(":as bob"), Line::As("bob".into()));
        assert_eq!(parse("  :as   carol  "), Line::As("carol".into()));
        assert_eq!(
            parse(":thread incident-1"),
            Line::Thread(Some("incident-1".into()))
        );
        assert_eq!(parse(":thread"), Line::Thread(None));
        assert_eq!(parse(":help"), Line::Help);
        assert_eq!(parse(":quit"), Line::Quit);
    }

    #[test]
    fn malformed_directives_say_why() {
        assert!(matches!(parse(":as"), Line::Invalid(m) if m.contains("usage: :as NAME")));
        assert!(matches!(parse(":as bob carol"), Line::Invalid(m) if m.contains("usage")));
        assert!(
            matches!(parse(":as b\u{1b}[2Job"), Line::Invalid(m) if m.contains("not a person name"))
        );
        assert!(matches!(parse(":thread a b"), Line::Invalid(_)));
        assert!(matches!(parse(":frobnicate"), Line::Invalid(m) if m.contains("`:frobnicate`")));
        assert!(matches!(parse(":"), Line::Invalid(_)));
    }

    #[test]
    fn chat_text_is_passed_on_without_the_slash_prefix() {
        assert_eq!(parse("scale 5"), Line::Say("scale 5".into()));
        assert_eq!(
            parse("/mystocks rollback --to-revision 1\r"),
            Line::Say("rollback --to-revision 1".into())
        );
        assert_eq!(parse("/mystocks"), Line::Say("help".into()));
        assert_eq!(parse("/mystocksfoo"), Line::Say("/mystocksfoo".into()));
    }

    #[test]
    fn overlong_lines_are_refused() {
        let long = "x".repeat(MAX_LINE_BYTES + 1);
        assert!(matches!(parse(&long), Line::Invalid(m) if m.contains("too long")));
    }
}
