//! Plain-text rendering of a `Reply`: what the console prints and the plain body of a Matrix message.

use std::fmt::Write;

use crate::reply::{Block, Level, Reply, Table};

fn level_mark(level: Level) -> &'static str {
    match level {
        Level::Ok => "ok  ",
        Level::Info => "info",
        Level::Warn => "warn",
        Level::Fail => "FAIL",
    }
}

/// Renders a table with columns padded to their widest cell.
pub fn table_text(table: &Table) -> String {
    let mut widths: Vec<usize> = table.columns.iter().map(|c| c.chars().count()).collect();
    for row in &table.rows {
        for (i, cell) in row.iter().enumerate() {
            if i >= widths.len() {
                widths.push(0);
            }
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let mut l = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(cell);
            } else {
                let _ = write!(l, "{:<width$}   ", cell, width = widths[i]);
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&table.columns);
    for row in &table.rows {
        line(row);
    }
    out.pop();
    out
}

/// The whole reply as plain text.
pub fn plain_text(reply: &Reply) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(h) = &reply.header {
        parts.push(h.clone());
    }
    for block in &reply.blocks {
        parts.push(match block {
            Block::Text { text } => text.clone(),
            Block::Fields { fields } => fields
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join("\n"),
            Block::Status { lines } => lines
                .iter()
                .map(|l| {
                    let ms = l.millis.map(|m| format!("  {m} ms")).unwrap_or_default();
                    format!("{}  {}  {}{}", level_mark(l.level), l.label, l.detail, ms)
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Block::Table { table } => table_text(table),
            Block::Code { text } => text.clone(),
        });
    }
    for a in &reply.attachments {
        parts.push(format!(
            "[attached: {} ({} bytes)]",
            a.filename,
            a.content.len()
        ));
    }
    if !reply.actions.is_empty() {
        let acts: Vec<String> = reply
            .actions
            .iter()
            .map(|a| format!("[{}: `{}`]", a.label, a.command))
            .collect();
        parts.push(acts.join("  "));
    }
    parts.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::ReplyKind;

    #[test]
    fn table_is_aligned() {
        let t = Table {
            columns: vec!["NAME".into(), "READY".into()],
            rows: vec![
                vec!["a-long-name".into(), "1/1".into()],
                vec!["b".into(), "0/1".into()],
            ],
        };
        assert_eq!(
            table_text(&t),
            "NAME          READY\na-long-name   1/1\nb             0/1"
        );
    }

    #[test]
    fn reply_renders_header_and_blocks() {
        let r = Reply::text(ReplyKind::Result, Level::Ok, "hello").with_header("Pods");
        assert_eq!(r.plain_text(), "Pods\nhello");
    }
}
