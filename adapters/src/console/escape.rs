//! Console escaping: text from people and logs must not be able to repaint the terminal, so terminal control
//! sequences and control characters are removed before printing (newlines and tabs stay).

/// Removes ESC sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL|ESC \`, and two-byte `ESC X`), C1 controls
/// (U+0080–U+009F, which include the one-byte CSI), carriage returns, backspaces and every other control
/// character except `\n` and `\t`.
pub fn strip_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            // one-byte CSI and OSC: skip their parameters the same way
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' => skip_osc(&mut chars),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

fn skip_escape(chars: &mut Chars<'_>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        Some(']') | Some('P') | Some('X') | Some('^') | Some('_') => skip_osc(chars),
        // ESC followed by one character (e.g. `ESC c` reset); nothing more to skip
        _ => {}
    }
}

/// CSI: parameter and intermediate bytes up to one final byte in `@`..=`~`.
fn skip_csi(chars: &mut Chars<'_>) {
    for c in chars.by_ref() {
        if ('@'..='~').contains(&c) {
            return;
        }
        if c == '\n' {
            return;
        }
    }
}

/// OSC and other string sequences: up to BEL, `ESC \` or ST (U+009C).
fn skip_osc(chars: &mut Chars<'_>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{07}' | '\u{9c}' => return,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::strip_controls;

    #[test]
    fn colour_and_cursor_sequences_are_removed() {
        assert_eq!(strip_controls("\u{1b}[31mred\u{1b}[0m ok"), "red ok");
        assert_eq!(strip_controls("a\u{1b}[2J\u{1b}[1;1Hb"), "ab");
        assert_eq!(strip_controls("x\u{9b}2Jy"), "xy");
    }

    #[test]
    fn title_and_hyperlink_sequences_are_removed() {
        assert_eq!(strip_controls("\u{1b}]0;pwned\u{07}title"), "title");
        assert_eq!(
            strip_controls("\u{1b}]8;;http://evil\u{1b}\\link\u{1b}]8;;\u{1b}\\"),
            "link"
        );
    }

    #[test]
    fn line_rewriting_controls_go_newlines_stay() {
        assert_eq!(
            strip_controls("ok\rFAIL\u{8}\u{8}\n\tnext"),
            "okFAIL\n\tnext"
        );
        assert_eq!(strip_controls("bell\u{7} nul\u{0}"), "bell nul");
        assert_eq!(strip_controls("unicode → ✓ stays"), "unicode → ✓ stays");
    }

    #[test]
    fn a_lone_escape_at_the_end_is_dropped() {
        assert_eq!(strip_controls("end\u{1b}"), "end");
        assert_eq!(strip_controls("end\u{1b}["), "end");
    }
}
