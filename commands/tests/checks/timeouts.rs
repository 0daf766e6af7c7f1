//! Timeouts, concurrency and refused connections.

use std::sync::Arc;
use std::time::Duration;

use mystocks_commands::checks::{CheckLevel, ChecksConfig, run_health};
use mystocks_commands::cluster::Target;

use crate::fakes::{
    OpenConnections, only, refused_addr, server, silent_counting_server, unused_kube,
};

#[tokio::test]
async fn a_dependency_that_never_answers_costs_its_timeout_and_fails() {
    let open = Arc::new(OpenConnections::default());
    let silent = silent_counting_server(open.clone()).await;
    let timeout = Duration::from_millis(300);
    let cfg = ChecksConfig {
        api_url: Some(format!("http://{silent}")),
        redis_url: Some(format!("redis://{silent}")),
        database_url: Some(format!("postgres://u@{silent}/db")),
        tdengine_url: Some(format!("http://{silent}")),
        prometheus_url: Some(format!("http://{silent}")),
        ..only(
            &[
                "api",
                "database",
                "cache",
                "postgres",
                "tdengine",
                "prometheus",
            ],
            timeout,
        )
    };
    let report = run_health(&cfg, &unused_kube(), &Target::default(), None).await;
    assert_eq!(report.lines.len(), 6, "{report:?}");
    for line in &report.lines {
        assert_eq!(line.level, CheckLevel::Fail, "{line:?}");
        assert!(line.reason.contains("timeout"), "{line:?}");
        assert!(
            line.millis >= Some(300),
            "a timed-out check is reported with its timeout: {line:?}"
        );
    }
    // All six waited on the silent server at the same time: the report took as long as one timeout, not six.
    assert_eq!(
        open.most(),
        6,
        "every check was connected and waiting at once"
    );
    assert_eq!(report.verdict, CheckLevel::Fail);
}

#[tokio::test]
async fn checks_run_at_once() {
    // The server answers only while both requests wait together: run one after the other, both would time out.
    let body = r#"{"status":"healthy","version":"v1","pool":{"active":2,"idle":5,"max":20}}"#;
    let addr = server(200, "application/json", body.to_string(), 2).await;
    let cfg = ChecksConfig {
        api_url: Some(format!("http://{addr}")),
        ..only(&["api", "database"], Duration::from_secs(2))
    };
    let report = run_health(&cfg, &unused_kube(), &Target::default(), None).await;
    let levels: Vec<_> = report
        .lines
        .iter()
        .map(|l| (l.name.as_str(), l.level))
        .collect();
    assert_eq!(
        levels,
        [("api", CheckLevel::Ok), ("database", CheckLevel::Ok)],
        "{report:?}"
    );
    assert!(
        report
            .line("database")
            .is_some_and(|l| l.reason.contains("2/20 active")),
        "{report:?}"
    );
}

#[tokio::test]
async fn refused_connections_fail_with_the_reason() {
    let refused = refused_addr().await;
    let cfg = ChecksConfig {
        api_url: Some(format!("http://{refused}")),
        redis_url: Some(format!("redis://{refused}")),
        database_url: Some(format!("postgres://u:secret@{refused}/db")),
        prometheus_url: Some(format!("http://{refused}")),
        tdengine_url: Some(format!("http://root:taosdata@{refused}")),
        ..only(
            &[
                "api",
                "database",
                "cache",
                "postgres",
                "tdengine",
                "prometheus",
            ],
            Duration::from_secs(2),
        )
    };
    let report = run_health(&cfg, &unused_kube(), &Target::default(), None).await;
    assert_eq!(report.lines.len(), 6, "{report:?}");
    for line in &report.lines {
        assert_eq!(line.level, CheckLevel::Fail, "{line:?}");
        assert!(line.reason.contains("connection refused"), "{line:?}");
        assert!(
            !line.target.contains("secret") && !line.target.contains("taosdata"),
            "credentials shown: {line:?}"
        );
    }
}

#[tokio::test]
async fn unconfigured_checks_are_skipped_and_do_not_fail_the_verdict() {
    let cfg = only(&["api", "cache", "postgres"], Duration::from_secs(1));
    let report = run_health(&cfg, &unused_kube(), &Target::default(), None).await;
    assert!(
        report
            .lines
            .iter()
            .all(|l| l.level == CheckLevel::Skip && l.reason.contains("not configured"))
    );
    assert_eq!(report.verdict, CheckLevel::Ok);
}

#[tokio::test]
async fn the_real_redis_answers_pong() {
    let cfg = ChecksConfig {
        redis_url: Some("redis://127.0.0.1:6379".into()),
        ..only(&["cache"], Duration::from_secs(2))
    };
    let report = run_health(&cfg, &unused_kube(), &Target::default(), None).await;
    let cache = report.line("cache").expect("cache line");
    assert_eq!(
        (cache.level, cache.reason.as_str()),
        (CheckLevel::Ok, "PONG"),
        "{cache:?}"
    );
}

#[tokio::test]
async fn unhealthy_and_degraded_answers_carry_the_apps_reason() {
    let body = r#"{"status":"unhealthy","checks":{"cache":"down"},"reason":"cache unreachable"}"#;
    let addr = server(503, "application/json", body.to_string(), 1).await;
    let cfg = ChecksConfig {
        api_url: Some(format!("http://{addr}")),
        ..only(&["api"], Duration::from_secs(2))
    };
    let report = run_health(&cfg, &unused_kube(), &Target::default(), None).await;
    let api = report.line("api").expect("api line");
    assert_eq!(api.level, CheckLevel::Fail);
    assert_eq!(api.reason, "503 cache unreachable");

    let body = r#"{"status":"unhealthy","error":"QueuePool limit of size 20 overflow 0 reached","pool":{"active":20,"idle":0,"max":20}}"#;
    let addr = server(503, "application/json", body.to_string(), 1).await;
    let cfg = ChecksConfig {
        api_url: Some(format!("http://{addr}")),
        ..only(&["database"], Duration::from_secs(2))
    };
    let report = run_health(&cfg, &unused_kube(), &Target::default(), None).await;
    let db = report.line("database").expect("database line");
    assert_eq!(db.level, CheckLevel::Fail);
    assert!(
        db.reason.contains("QueuePool limit") && db.reason.contains("20/20 active"),
        "{db:?}"
    );
}

#[test]
fn config_validation_names_the_field() {
    let bad = ChecksConfig {
        enabled: vec!["apii".into()],
        ..ChecksConfig::default()
    };
    assert!(
        bad.validate()
            .is_err_and(|e| e.contains("checks.enabled") && e.contains("apii"))
    );
    let bad = ChecksConfig {
        redis_url: Some("http://x".into()),
        ..ChecksConfig::default()
    };
    assert!(
        bad.validate()
            .is_err_and(|e| e.contains("checks.redis_url"))
    );
    assert_eq!(ChecksConfig::default().validate(), Ok(()));
    let parsed: ChecksConfig = serde_json::from_value(serde_json::json!({
        "timeout": "3s", "api_url": "http://x:8000", "thresholds": { "cpu_warn_millicores": 400 }
    }))
    .expect("parses");
    assert_eq!(parsed.timeout, Duration::from_secs(3));
    assert_eq!(parsed.thresholds.cpu_warn_millicores, 400);
}
