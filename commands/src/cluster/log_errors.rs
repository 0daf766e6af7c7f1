//! `errors`: error lines of the last minutes across the app's pods, normalised (numbers, ids, addresses
//! stripped), grouped and counted, most frequent first.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::error::ClusterError;
use super::logs::{LogLine, Window, read};
use super::pods::list_pods;
use super::target::Target;

/// One kind of error line and how often it occurred.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorGroup {
    /// The normalised line (`ERROR db: … timeout <n> (GET <path>)`).
    pub pattern: String,
    pub count: usize,
    /// The first line of this kind, as written.
    pub example: String,
    /// The pods it came from.
    pub pods: BTreeSet<String>,
}

/// The error lines of the last `since` across the target's pods, grouped.
pub async fn errors(
    client: &kube::Client,
    target: &Target,
    since: Duration,
) -> Result<Vec<ErrorGroup>, ClusterError> {
    let pods = list_pods(client, target, None).await?;
    let logs = read(client, target, &pods, Window::Since(since)).await?;
    Ok(group_errors(&logs.lines))
}

static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\s*\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\]?\s*",
    )
    .expect("timestamp regex")
});
static ERROR_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)error|exception|traceback|fatal|panic").expect("error regex")
});
static REQUEST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\b(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) /[^\s)\]"']*"#).expect("request regex")
});
static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
        .expect("uuid regex")
});
static HEX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(?:0x[0-9a-f]+|[0-9a-f]{6,})\b").expect("hex regex"));
static IP: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b").expect("ip regex"));
static NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d+(?:\.\d+)?(?:ms|us|ns|s|m|h|%)?\b").expect("number regex"));

/// The line without a leading timestamp.
pub fn strip_timestamp(line: &str) -> &str {
    match TIMESTAMP.find(line) {
        Some(m) => &line[m.end()..],
        None => line,
    }
}

/// The log level a line starts with, if any (`INFO`, `ERROR` …).
pub fn level(line: &str) -> Option<&str> {
    let first = strip_timestamp(line).split_whitespace().next()?;
    let word = first.trim_matches(|c: char| !c.is_ascii_alphabetic());
    [
        "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "CRITICAL", "FATAL", "PANIC",
    ]
    .into_iter()
    .find(|l| word.eq_ignore_ascii_case(l))
}

/// Whether a line reports an error: an ERROR/CRITICAL/FATAL level, or no level and error words (traceback lines).
pub fn is_error_line(line: &str) -> bool {
    match level(line) {
        Some(l) => matches!(l, "ERROR" | "CRITICAL" | "FATAL" | "PANIC"),
        None => ERROR_WORDS.is_match(line),
    }
}

/// The line with its timestamp removed and request paths, ids, addresses and numbers replaced, so
/// occurrences group together.
pub fn normalize(line: &str) -> String {
    let s = strip_timestamp(line).trim();
    let s = REQUEST.replace_all(s, "$1 <path>");
    let s = UUID.replace_all(&s, "<id>");
    let s = IP.replace_all(&s, "<ip>");
    let s = HEX.replace_all(&s, |c: &regex::Captures| {
        let word = &c[0];
        let has_digit = word.chars().any(|ch| ch.is_ascii_digit());
        let has_letter = word
            .trim_start_matches("0x")
            .chars()
            .any(|ch| ch.is_ascii_alphabetic());
        if word.starts_with("0x") || (has_digit && has_letter) {
            "<hex>".to_string()
        } else {
            word.to_string()
        }
    });
    NUMBER.replace_all(&s, "<n>").into_owned()
}

/// Groups the error lines among `lines`, most frequent first (ties: first seen first).
pub fn group_errors(lines: &[LogLine]) -> Vec<ErrorGroup> {
    let mut groups: Vec<ErrorGroup> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for line in lines.iter().filter(|l| is_error_line(&l.text)) {
        let pattern = normalize(&line.text);
        let i = *index.entry(pattern.clone()).or_insert_with(|| {
            groups.push(ErrorGroup {
                pattern,
                count: 0,
                example: strip_timestamp(&line.text).trim().to_string(),
                pods: BTreeSet::new(),
            });
            groups.len() - 1
        });
        groups[i].count += 1;
        groups[i].pods.insert(line.pod.clone());
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.count));
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(pod: &str, text: &str) -> LogLine {
        LogLine {
            pod: pod.into(),
            text: text.into(),
        }
    }

    #[test]
    fn finds_error_lines() {
        assert!(is_error_line(
            "ERROR db: QueuePool limit of size 20 overflow 0 reached"
        ));
        assert!(is_error_line(
            "2026-11-28T14:00:00.123Z CRITICAL mystocks-api v1.0.2 exiting"
        ));
        assert!(is_error_line(
            "sqlalchemy.exc.ProgrammingError: column quotes.exchange_code does not exist"
        ));
        assert!(is_error_line("Traceback (most recent call last):"));
        assert!(!is_error_line(
            "INFO 10.0.3.7 \"GET /api/v1/errors HTTP/1.1\" 200 3.1ms"
        ));
        assert!(!is_error_line(
            "WARN cache: redis unavailable, serving /x from the database"
        ));
        assert!(!is_error_line(
            "  File \"/app/mystocks/startup.py\", line 57, in verify_schema"
        ));
        assert!(!is_error_line(""));
    }

    #[test]
    fn normalises_numbers_ids_and_addresses() {
        assert_eq!(
            normalize(
                "2026-11-28T14:00:00Z ERROR db: timeout 30.00 (GET /api/v1/portfolio/1042) from 10.0.3.7:5432"
            ),
            "ERROR db: timeout <n> (GET <path>) from <ip>"
        );
        assert_eq!(
            normalize("ERROR job 3f2a9c1e-0b7d-4e55-9a61-2c3d4e5f6a7b failed at 0x7f3a9b"),
            "ERROR job <id> failed at <hex>"
        );
        assert_eq!(
            normalize("ERROR cache: connection refused"),
            "ERROR cache: connection refused"
        );
        assert_eq!(
            normalize("ERROR api v1 slow: 12.3ms, facade 2 of 20"),
            "ERROR api v1 slow: <n>, facade <n> of <n>"
        );
    }

    #[test]
    fn groups_and_counts_most_frequent_first() {
        let lines = vec![
            line(
                "p1",
                "ERROR cache: redis.exceptions.ConnectionError: Error 111 connecting to redis:6379.",
            ),
            line("p1", "ERROR db: timeout (GET /api/v1/portfolio/1042)"),
            line("p2", "ERROR db: timeout (GET /api/v1/portfolio/2217)"),
            line(
                "p3",
                "INFO 10.0.3.7 \"GET /api/v1/quotes/AAPL HTTP/1.1\" 200 12.3ms",
            ),
            line("p3", "ERROR db: timeout (GET /api/v1/portfolio/3981)"),
        ];
        let groups = group_errors(&lines);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].pattern, "ERROR db: timeout (GET <path>)");
        assert_eq!(groups[0].count, 3);
        assert_eq!(
            groups[0].example,
            "ERROR db: timeout (GET /api/v1/portfolio/1042)"
        );
        assert_eq!(
            groups[0].pods.iter().cloned().collect::<Vec<_>>(),
            vec!["p1", "p2", "p3"]
        );
        assert_eq!(groups[1].count, 1);
        assert!(group_errors(&[]).is_empty());
    }
}
