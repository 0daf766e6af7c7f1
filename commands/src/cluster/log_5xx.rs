//! `5xx`: server-error responses in the app's recent access lines, counted by path and status.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::error::ClusterError;
use super::logs::{LogLine, Window, read};
use super::pods::list_pods;
use super::target::Target;

/// 5xx responses of one method + path with one status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FivexxGroup {
    pub method: String,
    /// The path without its query, numeric segments shown as `{id}`.
    pub path: String,
    pub status: u16,
    pub count: usize,
    /// One request as logged.
    pub example: String,
    pub pods: BTreeSet<String>,
}

/// The 5xx access lines of the last `since` across the target's pods, counted by path and status.
pub async fn fivexx(
    client: &kube::Client,
    target: &Target,
    since: Duration,
) -> Result<Vec<FivexxGroup>, ClusterError> {
    let pods = list_pods(client, target, None).await?;
    let logs = read(client, target, &pods, Window::Since(since)).await?;
    Ok(group_5xx(&logs.lines))
}

static ACCESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#""(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[0-9.]+" (?P<status>\d{3})\b"#)
        .expect("access regex")
});

/// The method, normalised path and status of an access line, if it is one.
pub fn parse_access(line: &str) -> Option<(String, String, u16)> {
    let caps = ACCESS.captures(line)?;
    let status: u16 = caps["status"].parse().ok()?;
    Some((
        caps["method"].to_string(),
        normalize_path(&caps["path"]),
        status,
    ))
}

/// `/api/v1/portfolio/1042/positions?x=1` → `/api/v1/portfolio/{id}/positions`.
pub fn normalize_path(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    path.split('/')
        .map(|seg| {
            if !seg.is_empty() && seg.chars().all(|c| c.is_ascii_digit()) {
                "{id}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Counts 5xx access lines by method, path and status, most frequent first.
pub fn group_5xx(lines: &[LogLine]) -> Vec<FivexxGroup> {
    let mut groups: Vec<FivexxGroup> = Vec::new();
    let mut index: HashMap<(String, String, u16), usize> = HashMap::new();
    for line in lines {
        let Some((method, path, status)) =
            parse_access(&line.text).filter(|(_, _, s)| (500..600).contains(s))
        else {
            continue;
        };
        let key = (method.clone(), path.clone(), status);
        let i = *index.entry(key).or_insert_with(|| {
            let example = line.text.trim().to_string();
            groups.push(FivexxGroup {
                method,
                path,
                status,
                count: 0,
                example,
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
    fn parses_access_lines() {
        assert_eq!(
            parse_access(
                "INFO 10.0.3.7 \"GET /api/v1/portfolio/1042/positions?x=1 HTTP/1.1\" 503 5012.0ms"
            ),
            Some(("GET".into(), "/api/v1/portfolio/{id}/positions".into(), 503))
        );
        assert_eq!(parse_access("ERROR db: timeout (GET /x)"), None);
        assert_eq!(normalize_path("/"), "/");
    }

    #[test]
    fn counts_only_5xx_by_path_and_status() {
        let lines = vec![
            line(
                "p1",
                "INFO 10.0.3.7 \"GET /api/v1/portfolio/1042 HTTP/1.1\" 503 30001.2ms",
            ),
            line(
                "p2",
                "INFO 10.0.1.12 \"GET /api/v1/portfolio/2217 HTTP/1.1\" 503 30000.4ms",
            ),
            line(
                "p2",
                "INFO 10.0.1.12 \"GET /api/v1/portfolio/2217 HTTP/1.1\" 500 12.0ms",
            ),
            line(
                "p1",
                "INFO 10.0.3.7 \"GET /api/v1/quotes/AAPL HTTP/1.1\" 200 12.3ms",
            ),
            line(
                "p1",
                "INFO 10.0.3.7 \"GET /favicon.ico HTTP/1.1\" 404 1.1ms",
            ),
        ];
        let groups = group_5xx(&lines);
        assert_eq!(groups.len(), 2);
        assert_eq!(
            (groups[0].path.as_str(), groups[0].status, groups[0].count),
            ("/api/v1/portfolio/{id}", 503, 2)
        );
        assert_eq!(groups[0].pods.len(), 2);
        assert_eq!((groups[1].status, groups[1].count), (500, 1));
    }
}
