//! Replies of the log commands: `logs` (a code block, long output truncated with the full text attached),
//! `errors` and `5xx` (grouped and counted).

use crate::cluster::{ErrorGroup, FivexxGroup, Logs};
use crate::reply::{Attachment, Block, Level, Reply, ReplyKind, Table};

/// The most characters of log text shown inline (chat platforms cut long messages; Slack at 3,000 a block).
pub const INLINE_LOG_CHARS: usize = 2_800;
/// The most groups listed by `errors` and `5xx`.
pub const MAX_GROUPS: usize = 15;
/// Examples longer than this are cut in tables.
const EXAMPLE_CHARS: usize = 160;

/// The log lines as a code block, newest kept inline; the full text attached when it does not fit.
pub fn logs_reply(logs: &Logs) -> Reply {
    let mut reply = Reply::new(ReplyKind::Result, Level::Info)
        .with_header(format!("Logs of {}", pods_label(&logs.pods)));
    if logs.lines.is_empty() {
        reply = reply.with_block(Block::Text {
            text: "No matching log lines.".to_string(),
        });
    } else {
        let lines: Vec<String> = logs
            .lines
            .iter()
            .map(|l| format!("{} | {}", l.pod, l.text))
            .collect();
        let (shown, total) = newest_fitting(&lines, INLINE_LOG_CHARS);
        reply = reply.with_block(Block::Code {
            text: lines[lines.len() - shown..].join("\n"),
        });
        if shown < total {
            let note =
                format!("Showing the last {shown} of {total} lines; the full text is attached.");
            reply = reply
                .with_block(Block::Text { text: note })
                .with_attachment(Attachment {
                    filename: "logs.txt".to_string(),
                    content_type: "text/plain".to_string(),
                    content: lines.join("\n"),
                });
        }
    }
    if logs.truncated {
        let note =
            "Older lines were left out to keep the output bounded; narrow with a pod or `--tail`.";
        reply = reply.with_block(Block::Text {
            text: note.to_string(),
        });
    }
    if !logs.unavailable.is_empty() {
        // One block for all of them: chat platforms limit the number of blocks in a message.
        let lines: Vec<String> = logs
            .unavailable
            .iter()
            .map(|(pod, why)| format!("No logs from {pod}: {why}"))
            .collect();
        reply = reply.with_block(Block::Text {
            text: lines.join("\n"),
        });
    }
    reply
}

/// How many of the newest lines fit in `limit` characters (at least one), and how many there are.
fn newest_fitting(lines: &[String], limit: usize) -> (usize, usize) {
    let mut used = 0;
    let mut shown = 0;
    for line in lines.iter().rev() {
        let len = line.chars().count() + 1;
        if shown > 0 && used + len > limit {
            break;
        }
        used += len;
        shown += 1;
    }
    (shown, lines.len())
}

fn pods_label(pods: &[String]) -> String {
    match pods {
        [] => "no pods".to_string(),
        [one] => one.clone(),
        many => format!("{} pods", many.len()),
    }
}

fn cut(text: &str) -> String {
    if text.chars().count() <= EXAMPLE_CHARS {
        text.to_string()
    } else {
        format!(
            "{}…",
            text.chars().take(EXAMPLE_CHARS - 1).collect::<String>()
        )
    }
}

fn pods_cell(pods: &std::collections::BTreeSet<String>) -> String {
    if pods.len() <= 2 {
        pods.iter().cloned().collect::<Vec<_>>().join(", ")
    } else {
        format!("{} pods", pods.len())
    }
}

/// Error lines of the last `since_minutes`, grouped, most frequent first.
pub fn errors_reply(groups: &[ErrorGroup], since_minutes: u32) -> Reply {
    let header = format!("Errors in the last {since_minutes} min");
    if groups.is_empty() {
        return Reply::text(ReplyKind::Result, Level::Ok, "No error lines.").with_header(header);
    }
    let total: usize = groups.iter().map(|g| g.count).sum();
    let rows = groups
        .iter()
        .take(MAX_GROUPS)
        .map(|g| vec![g.count.to_string(), pods_cell(&g.pods), cut(&g.example)]);
    let mut reply = Reply::new(ReplyKind::Result, Level::Warn)
        .with_header(header)
        .with_block(Block::Text {
            text: format!("{total} error lines of {} kinds.", groups.len()),
        })
        .with_block(Block::Table {
            table: Table {
                columns: cols(&["COUNT", "PODS", "EXAMPLE"]),
                rows: rows.collect(),
            },
        });
    if groups.len() > MAX_GROUPS {
        reply = reply.with_block(Block::Text {
            text: format!("… and {} rarer kinds.", groups.len() - MAX_GROUPS),
        });
    }
    reply
}

/// 5xx responses of the last `since_minutes`, by path and status.
pub fn fivexx_reply(groups: &[FivexxGroup], since_minutes: u32) -> Reply {
    let header = format!("5xx responses in the last {since_minutes} min");
    if groups.is_empty() {
        return Reply::text(ReplyKind::Result, Level::Ok, "No 5xx responses.").with_header(header);
    }
    let total: usize = groups.iter().map(|g| g.count).sum();
    let rows = groups.iter().take(MAX_GROUPS).map(|g| {
        vec![
            g.count.to_string(),
            g.status.to_string(),
            format!("{} {}", g.method, g.path),
            pods_cell(&g.pods),
        ]
    });
    let mut reply = Reply::new(ReplyKind::Result, Level::Warn)
        .with_header(header)
        .with_block(Block::Text {
            text: format!("{total} responses with status 5xx."),
        })
        .with_block(Block::Table {
            table: Table {
                columns: cols(&["COUNT", "STATUS", "REQUEST", "PODS"]),
                rows: rows.collect(),
            },
        });
    if groups.len() > MAX_GROUPS {
        reply = reply.with_block(Block::Text {
            text: format!("… and {} more paths.", groups.len() - MAX_GROUPS),
        });
    }
    reply
}

fn cols(names: &[&str]) -> Vec<String> {
    names.iter().map(|c| c.to_string()).collect()
}

#[cfg(test)]
#[path = "logs_tests.rs"]
mod tests;
