//! Tests of the read-only replies, on their plain-text rendering.

use chrono::TimeZone;

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 15, 0, 0)
        .single()
        .expect("time")
}

fn row(name: &str, status: &str, ready: u32) -> PodRow {
    PodRow {
        name: name.into(),
        ready,
        containers: 1,
        status: status.into(),
        restarts: 0,
        last_restart: None,
        created: Some(now() - chrono::Duration::minutes(5)),
        age: String::new(),
        image: "mystocks/api:v1.0.1".into(),
        message: None,
    }
}

#[test]
fn pods_table_like_kubectl() {
    let reply = pods_reply(
        &[
            row("mystocks-api-a", "Running", 1),
            row("mystocks-api-b", "CrashLoopBackOff", 0),
        ],
        now(),
    );
    let text = reply.plain_text();
    assert!(
        text.contains("NAME             READY   STATUS             RESTARTS   AGE"),
        "{text}"
    );
    assert!(
        text.contains("mystocks-api-b   0/1     CrashLoopBackOff   0          5m"),
        "{text}"
    );
    assert!(text.contains("2 pods, 1 running and ready."));
    assert_eq!(reply.level, Level::Warn);
    assert_eq!(
        pods_reply(&[row("a", "Running", 1)], now()).level,
        Level::Ok
    );
    assert!(
        pods_reply(&[], now())
            .plain_text()
            .contains("No pods match.")
    );
}

#[test]
fn top_totals() {
    let usage = vec![
        PodUsage {
            pod: "a".into(),
            cpu_millicores: 250,
            memory_bytes: 128 * 1024 * 1024,
        },
        PodUsage {
            pod: "b".into(),
            cpu_millicores: 50,
            memory_bytes: 64 * 1024 * 1024,
        },
    ];
    let text = top_reply(&usage).plain_text();
    assert!(text.contains("a      250m         128Mi"), "{text}");
    assert!(
        text.contains("Total: 300m CPU, 192Mi memory over 2 pods."),
        "{text}"
    );
}

#[test]
fn history_marks_the_current_revision() {
    let rev = |n: i64, image: &str, current: bool| Revision {
        number: n,
        images: vec![("mystocks-api".into(), image.into())],
        change_cause: (n == 1).then(|| "initial release".to_string()),
        created: Some(now() - chrono::Duration::hours(3)),
        rs_name: format!("rs{n}"),
        rs_uid: format!("uid{n}"),
        current,
        replicas: 0,
    };
    let text = history_reply(
        &[
            rev(1, "mystocks/api:v1.0.0", false),
            rev(2, "mystocks/api:v1.0.1", true),
        ],
        "mystocks-api",
        now(),
    )
    .plain_text();
    assert!(
        text.contains("1             mystocks/api:v1.0.0   initial release   3h"),
        "{text}"
    );
    assert!(
        text.contains("2 (current)   mystocks/api:v1.0.1   <none>            3h"),
        "{text}"
    );
}

#[test]
fn status_levels() {
    let p = RolloutProgress {
        desired: 3,
        updated: 1,
        ready: 1,
        available: 1,
        total: 4,
    };
    let s = RolloutState::Progressing {
        progress: p,
        message: "Waiting …".into(),
    };
    let reply = status_reply(&s);
    assert_eq!(reply.level, Level::Info);
    assert!(reply.plain_text().contains("Updated: 1/3"));
    let f = RolloutState::Failed {
        progress: p,
        reason: "ProgressDeadlineExceeded".into(),
        message: "x".into(),
    };
    assert_eq!(status_reply(&f).level, Level::Fail);
}

#[test]
fn a_cluster_clock_ahead_of_ours_gives_no_invalid_ages() {
    let mut ahead = row("mystocks-api-c", "CrashLoopBackOff", 0);
    ahead.created = Some(now() + chrono::Duration::minutes(3));
    ahead.restarts = 2;
    ahead.last_restart = Some(now() + chrono::Duration::minutes(4));
    let text = pods_reply(&[row("mystocks-api-a", "Running", 1), ahead], now()).plain_text();
    assert!(!text.contains("<invalid>"), "{text}");
    assert!(text.contains("2 (0s ago)"), "{text}");
}
