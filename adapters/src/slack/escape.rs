//! Slack mrkdwn escaping: text that came from people or logs is shown, never acted on. Slack only turns
//! `<…>` sequences into mentions (`<!channel>`, `<@U123>`) and links (`<https://evil|Approve>`), so escaping
//! `&`, `<` and `>` (as Slack documents) makes all of them literal text.

/// Escapes `&`, `<`, `>` for mrkdwn and the message's fallback `text`.
pub fn mrkdwn(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for a ``` code block: as [`mrkdwn`], and breaks runs of three backticks so a log line cannot
/// close the block early.
pub fn code(text: &str) -> String {
    mrkdwn(text).replace("```", "`\u{200b}``")
}

/// Cuts `text` to at most `max` characters on a character boundary, marking the cut with `…`.
pub fn cut_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_and_links_become_literal() {
        assert_eq!(mrkdwn("<!channel> hi"), "&lt;!channel&gt; hi");
        assert_eq!(mrkdwn("<@U123>"), "&lt;@U123&gt;");
        assert_eq!(
            mrkdwn("<https://evil|Approve>"),
            "&lt;https://evil|Approve&gt;"
        );
        assert_eq!(mrkdwn("a && b > c"), "a &amp;&amp; b &gt; c");
        assert_eq!(
            mrkdwn("&lt;"),
            "&amp;lt;",
            "already-escaped text stays literal too"
        );
    }

    #[test]
    fn code_cannot_be_closed_by_a_log_line() {
        let out = code("line ``` <!here>");
        assert!(!out.contains("```"), "{out}");
        assert!(out.contains("&lt;!here&gt;"));
    }

    #[test]
    fn cuts_on_characters() {
        assert_eq!(cut_chars("ünïcödé", 4), "ünï…");
        assert_eq!(cut_chars("abc", 3), "abc");
    }
}
