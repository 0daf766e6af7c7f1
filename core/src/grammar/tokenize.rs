//! Splitting a command text into words: separators, quotes, and the characters that are refused.

use super::{MAX_INPUT_BYTES, ParseError};

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
