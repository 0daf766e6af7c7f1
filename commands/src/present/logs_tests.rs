//! Tests of the log replies: truncation with an attachment, grouping tables.

use std::collections::BTreeSet;

use super::*;
use crate::cluster::LogLine;

fn logs(n: usize) -> Logs {
    Logs {
        pods: vec!["p1".into(), "p2".into()],
        lines: (0..n)
            .map(|i| LogLine {
                pod: format!("p{}", i % 2 + 1),
                text: format!("INFO line {i}"),
            })
            .collect(),
        unavailable: vec![("p3".into(), "container is waiting to start".into())],
        truncated: false,
    }
}

#[test]
fn short_logs_inline_without_attachment() {
    let reply = logs_reply(&logs(3));
    let text = reply.plain_text();
    assert!(
        text.contains("p1 | INFO line 0\np2 | INFO line 1\np1 | INFO line 2"),
        "{text}"
    );
    assert!(reply.attachments.is_empty());
    assert!(text.contains("No logs from p3: container is waiting to start"));
    assert_eq!(reply.header.as_deref(), Some("Logs of 2 pods"));
}

#[test]
fn long_logs_keep_the_newest_and_attach_everything() {
    let reply = logs_reply(&logs(1000));
    let Some(Block::Code { text }) = reply.blocks.first() else {
        panic!("no code block")
    };
    assert!(text.len() <= INLINE_LOG_CHARS);
    assert!(text.ends_with("INFO line 999"));
    assert!(!text.contains("INFO line 0\n"));
    assert_eq!(reply.attachments.len(), 1);
    assert_eq!(reply.attachments[0].content.lines().count(), 1000);
    assert!(reply.plain_text().contains("Showing the last"));
}

#[test]
fn empty_logs_say_so() {
    let mut l = logs(0);
    l.unavailable.clear();
    assert!(
        logs_reply(&l)
            .plain_text()
            .contains("No matching log lines.")
    );
}

#[test]
fn error_and_5xx_tables() {
    let pods: BTreeSet<String> = ["p1", "p2", "p3"].into_iter().map(String::from).collect();
    let groups = vec![ErrorGroup {
        pattern: "ERROR x <n>".into(),
        count: 7,
        example: "ERROR x 1".into(),
        pods: pods.clone(),
    }];
    let text = errors_reply(&groups, 10).plain_text();
    assert!(text.contains("Errors in the last 10 min"));
    assert!(text.contains("7 error lines of 1 kinds."));
    assert!(text.contains("7       3 pods   ERROR x 1"), "{text}");
    assert_eq!(errors_reply(&[], 10).level, Level::Ok);
    let five = vec![FivexxGroup {
        method: "GET".into(),
        path: "/api/v1/portfolio/{id}".into(),
        status: 503,
        count: 4,
        example: "x".into(),
        pods,
    }];
    let text = fivexx_reply(&five, 15).plain_text();
    assert!(
        text.contains("4       503      GET /api/v1/portfolio/{id}   3 pods"),
        "{text}"
    );
    assert!(
        fivexx_reply(&[], 15)
            .plain_text()
            .contains("No 5xx responses.")
    );
}
