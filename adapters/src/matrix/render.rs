//! Renders a `Reply` as a Matrix message: an HTML `formatted_body` and a plain `body`. All reply text is treated
//! as untrusted (it may come from people or logs): HTML is escaped, and room-wide pings (`@room`) are defused in
//! both bodies, so a log line can never ping a room, fake a link or inject markup.

use mystocks_commands::reply::{
    Action, Block, Level, Reply, ReplyKind, StatusLine, Table, Visibility,
};

/// The command prefix people type in Matrix rooms.
pub const PREFIX: &str = "!mystocks";

/// A rendered message: what goes in `body` and `formatted_body`, and whom it addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub plain: String,
    pub html: String,
    /// The Matrix user id the reply is addressed to (a private reply; Matrix has no ephemeral messages).
    pub addressed_to: Option<String>,
    /// The Matrix user ids the reply notifies (approvers asked to act), shown as pills and put in `m.mentions`.
    pub notified: Vec<String>,
}

/// Escapes text for HTML (element content and attribute values) and defuses room pings.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in defuse_pings(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// Inserts a word joiner after the `@` of `@room` (any case), so clients show it but no push rule matches it.
pub fn defuse_pings(text: &str) -> String {
    const JOINER: char = '\u{2060}';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('@') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        if rest
            .get(..4)
            .is_some_and(|w| w.eq_ignore_ascii_case("room"))
        {
            out.push(JOINER);
        }
    }
    out.push_str(rest);
    out
}

/// Plain text with controls removed (except newlines and tabs) and pings defused.
fn clean_plain(text: &str) -> String {
    defuse_pings(text)
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect()
}

/// Renders a reply for a Matrix room.
pub fn render(reply: &Reply) -> Rendered {
    let addressed_to = match &reply.visibility {
        Visibility::Public => None,
        Visibility::Private(identity) => identity
            .as_str()
            .strip_prefix("matrix:")
            .map(str::to_string),
    };
    let mut plain: Vec<String> = Vec::new();
    let mut html: Vec<String> = Vec::new();
    if let Some(user) = &addressed_to {
        plain.push(format!("{user}:"));
        html.push(format!(
            "<a href=\"https://matrix.to/#/{0}\">{0}</a>:",
            escape_html(user)
        ));
    }
    if let Some(header) = &reply.header {
        plain.push(format!("{} {}", mark(reply.level), clean_plain(header)));
        html.push(format!(
            "<p>{} <strong>{}</strong></p>",
            mark(reply.level),
            code_spans(header)
        ));
    }
    for block in &reply.blocks {
        plain.push(plain_block(block));
        html.push(html_block(block));
    }
    for a in &reply.attachments {
        let note = format!("[attached: {} ({} bytes)]", a.filename, a.content.len());
        plain.push(clean_plain(&note));
        html.push(format!(
            "<p><em>{}</em></p><pre><code>{}</code></pre>",
            escape_html(&note),
            escape_html(&a.content)
        ));
    }
    if let Some(how) = how_to_act(reply) {
        plain.push(clean_plain(&how));
        html.push(format!("<p>{}</p>", code_spans(&how)));
    }
    let notified = notified(reply);
    if !notified.is_empty() {
        plain.push(format!("Notified: {}", notified.join(", ")));
        let pills: Vec<String> = notified
            .iter()
            .map(|u| {
                format!(
                    "<a href=\"https://matrix.to/#/{0}\">{0}</a>",
                    escape_html(u)
                )
            })
            .collect();
        html.push(format!("<p>Notified: {}</p>", pills.join(", ")));
    }
    Rendered {
        plain: plain.join("\n"),
        html: html.join("\n"),
        addressed_to,
        notified,
    }
}

/// The Matrix user ids among the people `reply` notifies: `@localpart:server`, nothing else (not `@room`).
fn notified(reply: &Reply) -> Vec<String> {
    let mut users: Vec<String> = Vec::new();
    for identity in &reply.mentions {
        let Some(user) = identity.as_str().strip_prefix("matrix:") else {
            continue;
        };
        let valid = user
            .strip_prefix('@')
            .and_then(|u| u.split_once(':'))
            .is_some_and(|(local, server)| {
                !local.is_empty()
                    && !server.is_empty()
                    && user
                        .chars()
                        .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '&'))
            });
        if valid && !users.iter().any(|u| u == user) {
            users.push(user.to_string());
        }
    }
    users
}

fn mark(level: Level) -> &'static str {
    match level {
        Level::Ok => "✅",
        Level::Info => "ℹ️",
        Level::Warn => "⚠️",
        Level::Fail => "❌",
    }
}

fn status_mark(line: &StatusLine) -> &'static str {
    match line.level {
        Level::Ok => "ok",
        Level::Info => "info",
        Level::Warn => "warn",
        Level::Fail => "FAIL",
    }
}

fn plain_block(block: &Block) -> String {
    match block {
        Block::Text { text } => clean_plain(text),
        Block::Fields { fields } => fields
            .iter()
            .map(|(k, v)| clean_plain(&format!("{k}: {v}")))
            .collect::<Vec<_>>()
            .join("\n"),
        Block::Status { lines } => lines
            .iter()
            .map(|l| {
                let ms = l.millis.map(|m| format!("  {m} ms")).unwrap_or_default();
                clean_plain(&format!(
                    "{}  {}  {}{ms}",
                    status_mark(l),
                    l.label,
                    l.detail
                ))
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Block::Table { table } => clean_plain(&mystocks_commands::render::table_text(table)),
        Block::Code { text } => clean_plain(text),
    }
}

fn html_block(block: &Block) -> String {
    match block {
        Block::Text { text } => format!("<p>{}</p>", code_spans(text).replace('\n', "<br>")),
        Block::Fields { fields } => {
            let items: String = fields
                .iter()
                .map(|(k, v)| {
                    format!(
                        "<li><strong>{}</strong>: {}</li>",
                        escape_html(k),
                        code_spans(v)
                    )
                })
                .collect();
            format!("<ul>{items}</ul>")
        }
        Block::Status { lines } => {
            let items: String = lines
                .iter()
                .map(|l| {
                    let ms = l.millis.map(|m| format!(" ({m} ms)")).unwrap_or_default();
                    format!(
                        "<li><code>{}</code> <strong>{}</strong> {}{ms}</li>",
                        status_mark(l),
                        escape_html(&l.label),
                        escape_html(&l.detail)
                    )
                })
                .collect();
            format!("<ul>{items}</ul>")
        }
        Block::Table { table } => html_table(table),
        Block::Code { text } => format!("<pre><code>{}</code></pre>", escape_html(text)),
    }
}

fn html_table(table: &Table) -> String {
    let head: String = table
        .columns
        .iter()
        .map(|c| format!("<th>{}</th>", escape_html(c)))
        .collect();
    let rows: String = table
        .rows
        .iter()
        .map(|row| {
            let cells: String = row
                .iter()
                .map(|c| format!("<td>{}</td>", escape_html(c)))
                .collect();
            format!("<tr>{cells}</tr>")
        })
        .collect();
    format!("<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
}

/// Escapes text, turning `` `…` `` spans into `<code>` (the core marks commands and names that way).
fn code_spans(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    if parts.len().is_multiple_of(2) {
        // an unpaired backtick: no code spans at all
        return escape_html(text);
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{}</code>", escape_html(part))
            } else {
                escape_html(part)
            }
        })
        .collect()
}

/// How to act on a reply's actions in Matrix: reactions on an approval request, typed commands otherwise.
fn how_to_act(reply: &Reply) -> Option<String> {
    if reply.actions.is_empty() {
        return None;
    }
    let typed: Vec<String> = reply.actions.iter().map(typed_command).collect();
    let approval = reply.kind == ReplyKind::ApprovalRequest
        && reply
            .actions
            .iter()
            .any(|a| a.command.starts_with("approve "))
        && reply.actions.iter().any(|a| a.command.starts_with("deny "));
    Some(if approval {
        format!(
            "React ✅ to approve or ❌ to deny, or send {}.",
            typed.join(" or ")
        )
    } else {
        format!("Send {}.", typed.join(" or "))
    })
}

fn typed_command(action: &Action) -> String {
    if action.command.starts_with("deny ") {
        format!("`{PREFIX} {} REASON`", action.command)
    } else {
        format!("`{PREFIX} {}`", action.command)
    }
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
