//! The optional checks against strict fakes that answer only the request the real server answers: TDengine's
//! REST interface (`POST /rest/sql`, Basic authentication, `SELECT SERVER_VERSION()`) and Prometheus'
//! `/-/healthy`. Anything else gets the real server's refusal, so a check that asks wrongly fails.

use std::time::Duration;

use mystocks_commands::checks::tdengine::PROBE_SQL;
use mystocks_commands::checks::{CheckLevel, CheckResult, ChecksConfig, run_health};
use mystocks_commands::cluster::Target;

use crate::fakes::{Answer, Received, only, recording_server, unused_kube};

/// `root:taosdata`, TDengine's default account.
const DEFAULT_ACCOUNT: &str = "Basic cm9vdDp0YW9zZGF0YQ==";
/// `monitor:s3cr@t`.
const MONITOR_ACCOUNT: &str = "Basic bW9uaXRvcjpzM2NyQHQ=";
const VERSION: &str =
    r#"{"code":0,"column_meta":[["server_version()","VARCHAR",7]],"data":[["3.3.6.0"]],"rows":1}"#;

/// taosAdapter's REST endpoint, accepting `account` (a Basic `Authorization` value). A valid request gets
/// `valid`'s answer.
fn taosadapter(account: &'static str, valid: Answer) -> impl Fn(&Received) -> Answer {
    move |r: &Received| {
        if r.method != "POST" || r.path != "/rest/sql" {
            return (404, "text/plain", "404 page not found".into());
        }
        match r.header("authorization") {
            None => (
                401,
                "application/json",
                r#"{"code":65535,"desc":"no auth info input"}"#.into(),
            ),
            Some(a) if a != account => (
                401,
                "application/json",
                r#"{"code":3,"desc":"Authentication failure"}"#.into(),
            ),
            Some(_) if r.body != PROBE_SQL => (
                200,
                "application/json",
                r#"{"code":9730,"desc":"syntax error near the statement"}"#.into(),
            ),
            Some(_) => valid.clone(),
        }
    }
}

async fn tdengine_line(url: String) -> CheckResult {
    let cfg = ChecksConfig {
        tdengine_url: Some(url),
        ..only(&["tdengine"], Duration::from_secs(2))
    };
    let report = run_health(&cfg, &unused_kube(), &Target::default(), None).await;
    assert_eq!(report.lines.len(), 1, "{report:?}");
    report.lines[0].clone()
}

#[tokio::test]
async fn tdengine_answers_its_version_to_select_server_version() {
    let valid = (200, "application/json", VERSION.to_string());
    let (addr, seen) = recording_server(taosadapter(DEFAULT_ACCOUNT, valid)).await;
    let line = tdengine_line(format!("http://{addr}")).await;
    assert_eq!(
        (line.name.as_str(), line.level, line.reason.as_str()),
        ("tdengine", CheckLevel::Ok, "200 TDengine 3.3.6.0"),
        "{line:?}"
    );
    assert_eq!(line.target, format!("http://{addr}/rest/sql"));
    let seen = seen.lock().expect("log").clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("POST", "/rest/sql")
    );
    assert_eq!(seen[0].header("authorization"), Some(DEFAULT_ACCOUNT));
    assert_eq!(seen[0].body, "SELECT SERVER_VERSION()");
}

#[tokio::test]
async fn tdengine_credentials_come_from_the_url_and_are_not_shown() {
    let valid = (200, "application/json", VERSION.to_string());
    let (addr, seen) = recording_server(taosadapter(MONITOR_ACCOUNT, valid)).await;
    let line = tdengine_line(format!("http://monitor:s3cr%40t@{addr}")).await;
    assert_eq!(line.level, CheckLevel::Ok, "{line:?}");
    assert!(
        !line.target.contains("s3cr") && !line.target.contains("monitor"),
        "{line:?}"
    );
    assert_eq!(
        seen.lock().expect("log")[0].header("authorization"),
        Some(MONITOR_ACCOUNT)
    );

    // The default account is refused by this server: TDengine's own reason is shown.
    let line = tdengine_line(format!("http://{addr}")).await;
    assert_eq!(line.level, CheckLevel::Fail, "{line:?}");
    assert_eq!(line.reason, "401 code 3: Authentication failure");
}

#[tokio::test]
async fn tdengine_errors_fail_with_their_code_and_desc() {
    // taosAdapter is up but cannot reach taosd: HTTP 200, a non-zero code.
    let down = (
        200,
        "application/json",
        r#"{"code":11,"desc":"Unable to establish connection"}"#.to_string(),
    );
    let (addr, _) = recording_server(taosadapter(DEFAULT_ACCOUNT, down)).await;
    let line = tdengine_line(format!("http://{addr}")).await;
    assert_eq!(
        (line.level, line.reason.as_str()),
        (
            CheckLevel::Fail,
            "200 code 11: Unable to establish connection"
        ),
        "{line:?}"
    );

    // Something that is not TDengine (here: a server answering 404 to everything).
    let (addr, _) =
        recording_server(|_: &Received| (404, "text/plain", "404 page not found".into())).await;
    let line = tdengine_line(format!("http://{addr}")).await;
    assert_eq!(
        (line.level, line.reason.as_str()),
        (CheckLevel::Fail, "404 404 page not found"),
        "{line:?}"
    );
}

/// Prometheus: `GET /-/healthy` answers 200 with its sentence; every other request 404.
fn prometheus(r: &Received) -> Answer {
    if r.method == "GET" && r.path == "/-/healthy" {
        (
            200,
            "text/plain; charset=utf-8",
            "Prometheus Server is Healthy.\n".into(),
        )
    } else {
        (
            404,
            "text/plain; charset=utf-8",
            "404 page not found\n".into(),
        )
    }
}

#[tokio::test]
async fn prometheus_is_asked_its_healthy_endpoint() {
    let (addr, seen) = recording_server(prometheus).await;
    let cfg = ChecksConfig {
        prometheus_url: Some(format!("http://{addr}/")),
        ..only(&["prometheus"], Duration::from_secs(2))
    };
    let report = run_health(&cfg, &unused_kube(), &Target::default(), None).await;
    let line = report.line("prometheus").expect("prometheus line");
    assert_eq!(
        (line.level, line.reason.as_str()),
        (CheckLevel::Ok, "200 Prometheus Server is Healthy."),
        "{line:?}"
    );
    let seen = seen.lock().expect("log").clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("GET", "/-/healthy")
    );

    // A Prometheus that is shutting down answers 503.
    let (addr, _) =
        recording_server(|_: &Received| (503, "text/plain", "Service Unavailable".into())).await;
    let cfg = ChecksConfig {
        prometheus_url: Some(format!("http://{addr}")),
        ..cfg
    };
    let report = run_health(&cfg, &unused_kube(), &Target::default(), None).await;
    let line = report.line("prometheus").expect("prometheus line");
    assert_eq!(
        (line.level, line.reason.as_str()),
        (CheckLevel::Fail, "503 Service Unavailable"),
        "{line:?}"
    );
}

#[tokio::test]
async fn without_a_url_the_optional_checks_show_no_line() {
    let cfg = only(&["tdengine", "prometheus"], Duration::from_secs(1));
    let report = run_health(&cfg, &unused_kube(), &Target::default(), None).await;
    assert!(report.lines.is_empty(), "{report:?}");
}
