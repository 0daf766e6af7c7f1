//! Writing a command back as text that parses to the same command (for the audit log and round-trip tests).

use std::borrow::Cow;

use crate::grammar::{DOUBLE_CLOSE, DOUBLE_OPEN, is_separator};

/// Quotes a word when the grammar would otherwise split, unquote or take it as a flag; escapes inside `"…"`.
pub fn quote(word: &str) -> Cow<'_, str> {
    let plain = !word.is_empty()
        && !word.starts_with('-')
        && !word.chars().any(|c| {
            is_separator(c) || DOUBLE_OPEN.contains(&c) || matches!(c, '\\' | '\'' | '‘' | '’')
        });
    if plain {
        return Cow::Borrowed(word);
    }
    let mut out = String::with_capacity(word.len() + 2);
    out.push('"');
    for c in word.chars() {
        if c == '\\' || DOUBLE_CLOSE.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Cow::Owned(out)
}

/// Builds a canonical command text: the name, then positionals, then flags, each quoted as needed.
#[derive(Debug)]
pub struct Canonical {
    text: String,
}

impl Canonical {
    /// Starts with the command name.
    pub fn new(name: &str) -> Self {
        Canonical {
            text: name.to_string(),
        }
    }

    /// Appends a positional argument.
    pub fn arg(&mut self, value: &str) -> &mut Self {
        self.text.push(' ');
        self.text.push_str(&quote(value));
        self
    }

    /// Appends `--long value`.
    pub fn flag(&mut self, long: &str, value: &str) -> &mut Self {
        self.text.push_str(" --");
        self.text.push_str(long);
        self.arg(value)
    }

    /// The finished text.
    pub fn finish(self) -> String {
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_stay_plain() {
        assert_eq!(quote("v1.0.3"), "v1.0.3");
        assert_eq!(quote("app=api,tier!=db"), "app=api,tier!=db");
    }

    #[test]
    fn words_that_would_change_are_quoted() {
        assert_eq!(quote(""), "\"\"");
        assert_eq!(quote("a b"), "\"a b\"");
        assert_eq!(quote("-x"), "\"-x\"");
        assert_eq!(quote("don't"), "\"don't\"");
        assert_eq!(quote("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(quote("c:\\x"), "\"c:\\\\x\"");
        assert_eq!(quote("a\u{200B}b"), "\"a\u{200B}b\"");
    }

    #[test]
    fn builder_orders_name_args_flags() {
        let mut c = Canonical::new("logs");
        c.arg("pod-1").flag("tail", "100").flag("grep", "time out");
        assert_eq!(c.finish(), "logs pod-1 --tail 100 --grep \"time out\"");
    }
}
