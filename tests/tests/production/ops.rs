//! The bot's own endpoints after an end-to-end run through `Application::build` (as `run` builds it): `/healthz`
//! and `/readyz` on the ops port, and `/metrics` naming what an on-call needs — nothing of it on the chat port.

use std::sync::Arc;

use mystocks_bot::application::Application;
use mystocks_commands::Handler;
use mystocks_tests::{RecordingSink, approval_id, rbac};

use crate::support::{get, invocation, settings, sim_for};

/// The value of the sample whose line starts with `series` (name and labels), if exposed.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_endpoints_report_health_readiness_and_the_runs_metrics() {
    mystocks_tests::init();
    let token = rbac::bot_token();
    let secret = token.token.clone();
    let sim = sim_for(token).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let app = Application::build(&settings(&sim, &secret, dir.path(), None, None))
        .await
        .expect("builds");
    let (port, ops) = (app.port(), app.ops_port());
    assert_ne!(port, ops, "the ops endpoints have their own port");
    let core = app.core().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));

    let sink = Arc::new(RecordingSink::default());
    core.handle(invocation("e1", "alice", "pods"), sink.clone())
        .await;
    core.handle(invocation("e2", "alice", "frobnicate"), sink.clone())
        .await;
    core.handle(invocation("e3", "alice", "scale 4"), sink.clone())
        .await;
    let id = approval_id(&sink.all()).expect("a scale request");
    core.handle(invocation("e4", "alice", "scale 5"), sink.clone())
        .await;
    core.handle(
        invocation("e5", "bob", &format!("approve {id}")),
        sink.clone(),
    )
    .await;
    core.settle().await;

    assert_eq!(get(ops, "/healthz").await, (200, "ok\n".to_string()));
    let (status, ready) = get(ops, "/readyz").await;
    assert_eq!(status, 200, "{ready}");
    for line in ["ready", "store: ok", "coordinator: ok", "kubernetes: ok"] {
        assert!(ready.lines().any(|l| l == line), "{line} in {ready}");
    }
    let (status, metrics) = get(ops, "/metrics").await;
    assert_eq!(status, 200);
    let expect = [
        (
            "mystocks_bot_invocations_total{command=\"pods\",outcome=\"allowed\"}",
            1.0,
        ),
        (
            "mystocks_bot_invocations_total{command=\"unknown\",outcome=\"refused\"}",
            1.0,
        ),
        (
            "mystocks_bot_invocations_total{command=\"scale\",outcome=\"requested\"}",
            1.0,
        ),
        (
            "mystocks_bot_invocations_total{command=\"approve\",outcome=\"allowed\"}",
            1.0,
        ),
        (
            "mystocks_bot_invocation_duration_seconds_count{command=\"pods\"}",
            1.0,
        ),
        ("mystocks_bot_time_to_ack_seconds_count", 5.0),
        (
            "mystocks_bot_approvals_decided_total{verdict=\"approved\"}",
            1.0,
        ),
        ("mystocks_bot_approval_wait_seconds_count", 1.0),
        ("mystocks_bot_approvals_pending", 0.0),
        ("mystocks_bot_dependency_up{dependency=\"store\"}", 1.0),
        (
            "mystocks_bot_dependency_up{dependency=\"coordinator\"}",
            1.0,
        ),
        ("mystocks_bot_dependency_up{dependency=\"kubernetes\"}", 1.0),
        ("mystocks_bot_slack_rate_limited_total", 0.0),
        (
            "mystocks_bot_dependency_errors_total{dependency=\"kubernetes\"}",
            0.0,
        ),
    ];
    let missing: Vec<String> = expect
        .iter()
        .filter(|(series, value)| sample(&metrics, series) != Some(*value))
        .map(|(series, value)| format!("{series} = {value} (found {:?})", sample(&metrics, series)))
        .collect();
    assert!(missing.is_empty(), "{missing:#?}\n{metrics}");
    assert!(
        !metrics.contains("alice") && !metrics.contains("bob"),
        "no user ids in labels:\n{metrics}"
    );
    let (status, _) = get(port, "/metrics").await;
    assert_eq!(
        status, 404,
        "the chat port does not serve the ops endpoints"
    );

    let _ = stop.send(());
    server.await.expect("server task").expect("stops cleanly");
    sim.shutdown().await;
}

/// At the stop signal the bot tells its readiness probe it is draining (503, whatever `?degraded=` says), and
/// waits for the commands adapters handed it before it exits — here a `health` whose only check waits on an
/// endpoint that never answers, so the command is in flight for the whole check timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_bot_says_draining_and_lets_commands_in_flight_finish() {
    mystocks_tests::init();
    let token = rbac::bot_token();
    let secret = token.token.clone();
    let sim = sim_for(token).await;
    // Accepts connections and never answers on them.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let silent_addr = silent.local_addr().expect("address");
    let (accepted, waiting) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let (mut held, mut accepted) = (Vec::new(), Some(accepted));
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
            if let Some(tx) = accepted.take() {
                let _ = tx.send(());
            }
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = settings(&sim, &secret, dir.path(), None, None);
    settings.checks.api_url = Some(format!("http://{silent_addr}"));
    settings.checks.enabled = vec!["api".into()];
    settings.checks.timeout = std::time::Duration::from_secs(8);
    settings.server.shutdown_grace = "30s".into();
    let app = Application::build(&settings).await.expect("builds");
    let ops = app.ops_port();
    let core = app.core().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    assert_eq!(get(ops, "/readyz").await.0, 200, "ready before the stop");

    // An adapter hands the command over in a task of its own, as the Slack front does.
    let sink = Arc::new(RecordingSink::default());
    let command = tokio::spawn({
        let (core, sink) = (core.clone(), sink.clone());
        async move {
            core.handle(invocation("e1", "alice", "health"), sink).await;
        }
    });
    waiting.await.expect("the api check connects");
    let _ = stop.send(());

    let mut draining = None;
    for _ in 0..100 {
        let (status, body) = get(ops, "/readyz?degraded=ok").await;
        if status == 503 {
            draining = Some(body);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let body = draining.expect("/readyz turns 503 at the stop signal");
    assert!(body.starts_with("draining\n"), "{body}");
    assert!(body.contains("1 command(s) in flight"), "{body}");
    assert!(
        !command.is_finished() && !server.is_finished(),
        "the command is still waiting on its check, and the bot waits for it"
    );

    server.await.expect("server task").expect("stops cleanly");
    let answered = sink.all();
    assert!(
        answered.iter().any(|r| r.text().contains("api")),
        "the bot exits only after the command in flight has answered: {answered:#?}"
    );
    command.await.expect("the command's task");
    sim.shutdown().await;
}
