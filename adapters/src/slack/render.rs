//! Renders a `Reply` as Slack Block Kit within Slack's limits: at most 50 blocks, 3,000 characters a section
//! text, 150 a header, 75 a button label, 2,000 a button value, 10 fields a section. Text from people or logs
//! is escaped; long output is cut with a note and the whole of it attached as a file.

use mystocks_commands::reply::{Action, ActionStyle, Attachment, Block, Level, Reply, StatusLine};
use serde_json::{Value, json};

use super::escape::{code, cut_chars, mrkdwn};

/// Slack's limits, as Slack enforces them.
pub mod limits {
    pub const BLOCKS: usize = 50;
    pub const SECTION_TEXT: usize = 3000;
    pub const HEADER: usize = 150;
    pub const BUTTON_LABEL: usize = 75;
    pub const BUTTON_VALUE: usize = 2000;
    pub const SECTION_FIELDS: usize = 10;
    pub const FIELD_TEXT: usize = 2000;
    pub const ACTIONS: usize = 25;
    pub const CONTEXT_TEXT: usize = 3000;
    /// The `text` fallback we send (Slack allows more; a notification needs far less).
    pub const FALLBACK_TEXT: usize = 3000;
}

/// A reply ready for `chat.postMessage` / `chat.update`, plus the files to upload after it.
#[derive(Clone, Debug, PartialEq)]
pub struct Rendered {
    /// Notification / fallback text (escaped mrkdwn).
    pub text: String,
    /// Block Kit blocks, as Slack's JSON.
    pub blocks: Vec<Value>,
    /// Files to upload into the same conversation (the reply's own, and the full text of cut output).
    pub files: Vec<Attachment>,
}

/// Renders `reply`.
pub fn render(reply: &Reply) -> Rendered {
    let mut content: Vec<Value> = Vec::new();
    let mut files = reply.attachments.clone();
    if let Some(header) = &reply.header {
        let text = format!("{} {}", level_emoji(reply.level), header);
        content.push(json!({"type": "header", "text": plain(&cut_chars(&text, limits::HEADER))}));
    }
    for block in &reply.blocks {
        render_block(block, &mut content, &mut files);
    }
    if let Some(tag) = &reply.approval {
        let note = format!("Approval *{}* · {}", mrkdwn(&tag.id), mrkdwn(&tag.state));
        content.push(json!({"type": "context", "elements": [mrkdwn_text(&note)]}));
    }
    for file in &reply.attachments {
        let note = format!(
            "Attached: `{}` ({} bytes)",
            mrkdwn(&file.filename),
            file.content.len()
        );
        content.push(json!({"type": "context", "elements": [mrkdwn_text(&note)]}));
    }
    // People to notify: mentioned in the notification text (what pushes and previews show) and once near the top
    // of the message, where a cut of long content cannot drop it.
    let people = mentions(reply);
    if let Some(people) = &people {
        let note = mrkdwn_text(&format!("Notified: {people}"));
        let at = usize::from(reply.header.is_some());
        content.insert(at, json!({"type": "context", "elements": [note]}));
    }
    let actions = actions_block(&reply.actions);
    let room = limits::BLOCKS - usize::from(actions.is_some());
    if content.len() > room {
        let cut = content.len() - (room - 1);
        content.truncate(room - 1);
        let note = format!(
            "… {cut} more blocks cut (Slack shows at most {} per message)",
            limits::BLOCKS
        );
        content.push(json!({"type": "context", "elements": [mrkdwn_text(&note)]}));
    }
    content.extend(actions);
    let mut text = fallback_text(reply);
    if let Some(people) = &people {
        text = cut_chars(&format!("{people} {text}"), limits::FALLBACK_TEXT);
    }
    Rendered {
        text,
        blocks: content,
        files,
    }
}

/// `<@U…>` for each Slack user the reply notifies, or None. Ids that are not Slack user ids are left out, so
/// nothing but a mention can come of them.
fn mentions(reply: &Reply) -> Option<String> {
    let mut users: Vec<&str> = Vec::new();
    let ids = reply
        .mentions
        .iter()
        .filter_map(|identity| identity.as_str().strip_prefix("slack:"))
        .filter_map(|team_user| team_user.split_once('/').map(|(_, user)| user))
        .filter(|user| !user.is_empty() && user.chars().all(|c| c.is_ascii_alphanumeric()));
    for user in ids {
        if !users.contains(&user) {
            users.push(user);
        }
    }
    (!users.is_empty()).then(|| {
        users
            .iter()
            .map(|u| format!("<@{u}>"))
            .collect::<Vec<_>>()
            .join(" ")
    })
}

fn level_emoji(level: Level) -> &'static str {
    match level {
        Level::Ok => ":white_check_mark:",
        Level::Info => ":information_source:",
        Level::Warn => ":warning:",
        Level::Fail => ":x:",
    }
}

fn plain(text: &str) -> Value {
    json!({"type": "plain_text", "text": text, "emoji": true})
}

fn mrkdwn_text(text: &str) -> Value {
    json!({"type": "mrkdwn", "text": text, "verbatim": true})
}

fn section(text: &str) -> Value {
    json!({"type": "section", "text": mrkdwn_text(text)})
}

fn render_block(block: &Block, out: &mut Vec<Value>, files: &mut Vec<Attachment>) {
    match block {
        Block::Text { text } => out.extend(
            chunks(text, limits::SECTION_TEXT, mrkdwn)
                .iter()
                .map(|c| section(c)),
        ),
        Block::Fields { fields } => {
            for group in fields.chunks(limits::SECTION_FIELDS) {
                let texts: Vec<Value> = group
                    .iter()
                    .map(|(k, v)| {
                        let t = format!("*{}*\n{}", mrkdwn(k), mrkdwn(v));
                        mrkdwn_text(&cut_chars(&t, limits::FIELD_TEXT))
                    })
                    .collect();
                out.push(json!({"type": "section", "fields": texts}));
            }
        }
        Block::Status { lines } => {
            let text: Vec<String> = lines.iter().map(status_line).collect();
            out.extend(
                chunks(&text.join("\n"), limits::SECTION_TEXT, |s| s.to_string())
                    .iter()
                    .map(|c| section(c)),
            );
        }
        Block::Table { table } => code_block(
            &mystocks_commands::render::table_text(table),
            "table.txt",
            out,
            files,
        ),
        Block::Code { text } => code_block(text, "output.txt", out, files),
    }
}

fn status_line(line: &StatusLine) -> String {
    let ms = line
        .millis
        .map(|m| format!(" ({m} ms)"))
        .unwrap_or_default();
    format!(
        "{} *{}* {}{}",
        level_emoji(line.level),
        mrkdwn(&line.label),
        mrkdwn(&line.detail),
        ms
    )
}

/// Preformatted output: shown whole when it fits one section; otherwise its last lines are shown with a note and
/// the whole of it is attached as a file (logs: the newest lines matter most).
fn code_block(text: &str, filename: &str, out: &mut Vec<Value>, files: &mut Vec<Attachment>) {
    const FENCES: usize = 8;
    let escaped = code(text);
    if escaped.chars().count() + FENCES <= limits::SECTION_TEXT {
        out.push(section(&format!("```\n{escaped}\n```")));
        return;
    }
    let total_lines = text.lines().count();
    let budget = limits::SECTION_TEXT - FENCES - 200;
    let mut kept: Vec<String> = Vec::new();
    let mut used = 0;
    for line in text.lines().rev() {
        let line = code(&cut_chars(line, 500));
        if used + line.chars().count() + 1 > budget {
            break;
        }
        used += line.chars().count() + 1;
        kept.push(line);
    }
    kept.reverse();
    let note = format!(
        "_Output cut: showing the last {} of {} lines — the whole output is attached as `{}`._",
        kept.len(),
        total_lines,
        filename
    );
    out.push(section(&format!("{note}\n```\n{}\n```", kept.join("\n"))));
    files.push(Attachment {
        filename: filename.to_string(),
        content_type: "text/plain".to_string(),
        content: text.to_string(),
    });
}

/// Splits `text` into pieces whose escaped form (by `escape`) fits `max` characters, preferring line breaks.
fn chunks(text: &str, max: usize, escape: impl Fn(&str) -> String) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut current_len = 0;
    for line in text.split_inclusive('\n') {
        let escaped = escape(line);
        let len = escaped.chars().count();
        if current_len + len <= max {
            current.push_str(&escaped);
            current_len += len;
            continue;
        }
        if !current.is_empty() {
            out.push(std::mem::take(&mut current));
            current_len = 0;
        }
        if len <= max {
            current = escaped;
            current_len = len;
            continue;
        }
        // One line longer than a section: split it by characters, never inside an escape entity.
        for c in line.chars() {
            let piece = escape(c.encode_utf8(&mut [0; 4]));
            let n = piece.chars().count();
            if current_len + n > max {
                out.push(std::mem::take(&mut current));
                current_len = 0;
            }
            current.push_str(&piece);
            current_len += n;
        }
    }
    if !current.trim().is_empty() || out.is_empty() {
        out.push(current);
    }
    out.into_iter()
        .map(|c| {
            if c.trim().is_empty() {
                " ".to_string()
            } else {
                c.trim_end().to_string()
            }
        })
        .collect()
}

fn actions_block(actions: &[Action]) -> Option<Value> {
    if actions.is_empty() {
        return None;
    }
    let buttons: Vec<Value> = actions
        .iter()
        .take(limits::ACTIONS)
        .enumerate()
        .map(|(i, a)| {
            let mut button = json!({
                "type": "button",
                "action_id": format!("mystocks-{i}"),
                "text": plain(&cut_chars(&a.label, limits::BUTTON_LABEL)),
                "value": cut_chars(&a.command, limits::BUTTON_VALUE),
            });
            match a.style {
                ActionStyle::Primary => button["style"] = json!("primary"),
                ActionStyle::Danger => button["style"] = json!("danger"),
                ActionStyle::Default => {}
            }
            button
        })
        .collect();
    Some(json!({"type": "actions", "block_id": "mystocks-actions", "elements": buttons}))
}

/// The notification text: header and first text, escaped.
fn fallback_text(reply: &Reply) -> String {
    let first = reply.blocks.iter().find_map(|b| match b {
        Block::Text { text } => Some(text.as_str()),
        _ => None,
    });
    let text = match (&reply.header, first) {
        (Some(h), Some(t)) => format!("{h}: {t}"),
        (Some(h), None) => h.clone(),
        (None, Some(t)) => t.to_string(),
        (None, None) => reply.plain_text(),
    };
    cut_chars(&mrkdwn(&text), limits::FALLBACK_TEXT)
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
