//! The audit checkpoint on the user's path: a settings file with `[audit.checkpoint]` through the real loader,
//! `Application::build` and `run_until_stopped` as `run` does, the sim enforcing the Roles rendered from deploy/
//! (get and update on the one ConfigMap). The background publisher keeps the ConfigMap up to date; after the log
//! is cut short by SQL it keeps the old checkpoint and `/readyz` reports it.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mystocks_bot::application::Application;
use mystocks_bot::settings::Settings;
use mystocks_commands::Handler;
use mystocks_sim::Sim;
use mystocks_tests::RecordingSink;
use mystocks_tests::rbac::{self, CHECKPOINT_NAME, CHECKPOINT_NAMESPACE};

use crate::support::{get, invocation, sim_for};

fn write_settings(sim: &Sim, token: &str, dir: &Path) -> Settings {
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(&kubeconfig, sim.kubeconfig_for(rbac::BOT_USER, token)).expect("kubeconfig");
    let config = format!(
        r#"
[kubernetes]
kubeconfig = "{kubeconfig}"
[store]
data_dir = "{dir}"
[audit]
hmac_key = "0123456789abcdef0123456789abcdef"
[audit.checkpoint]
namespace = "{CHECKPOINT_NAMESPACE}"
name = "{CHECKPOINT_NAME}"
interval = "1s"
[server]
listen = "127.0.0.1:0"
ops_listen = "127.0.0.1:0"
[[people.persons]]
id = "carol"
identities = ["console:carol"]
roles = ["viewer"]
"#,
        kubeconfig = kubeconfig.display(),
        dir = dir.display(),
    );
    let path = dir.join("bot.toml");
    std::fs::write(&path, config).expect("config written");
    // The real loader's layering and checks; `run` also refuses a file without a chat adapter, which this
    // test (driving the core directly) does not need.
    let settings: Settings = Settings::figment(&path).extract().expect("settings parse");
    let problems = settings.problems();
    assert!(
        problems.iter().all(|p| p.starts_with("no chat adapter")),
        "{problems:?}"
    );
    let cp = settings
        .audit
        .checkpoint
        .as_ref()
        .expect("[audit.checkpoint]");
    assert_eq!((cp.cluster.as_str(), cp.interval.as_str()), ("bot", "1s"));
    settings
}

fn checkpoint_seq(sim: &Sim) -> Option<String> {
    sim.config_map(CHECKPOINT_NAMESPACE, CHECKPOINT_NAME)
        .and_then(|cm| cm.data)
        .and_then(|d| d.get("seq").cloned())
}

async fn sql(url: &str, statement: &str) {
    let pool = sqlx::SqlitePool::connect(url).await.expect("open sqlite");
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_string()))
        .execute(&pool)
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
}

async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not within 10 s: {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_publisher_keeps_the_checkpoint_and_refuses_over_a_cut_log() {
    mystocks_tests::init();
    let token = rbac::bot_token();
    let secret = token.token.clone();
    let sim = sim_for(token).await;
    // As deploy/ creates it: empty.
    sim.put_config_map(CHECKPOINT_NAMESPACE, CHECKPOINT_NAME, None);
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = write_settings(&sim, &secret, dir.path());
    let db_url = format!("sqlite://{}", dir.path().join("mystocks-bot.db").display());
    let app = Application::build(&settings).await.expect("builds");
    let ops = app.ops_port();
    let core = app.core().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    let sink = Arc::new(RecordingSink::default());
    for (i, cmd) in ["pods", "status"].iter().enumerate() {
        core.handle(invocation(&format!("a{i}"), "carol", cmd), sink.clone())
            .await;
    }
    sql(
        &db_url,
        "CREATE TABLE saved_head AS SELECT * FROM audit_head",
    )
    .await;
    for (i, cmd) in ["history", "whoami"].iter().enumerate() {
        core.handle(invocation(&format!("b{i}"), "carol", cmd), sink.clone())
            .await;
    }
    eventually("the checkpoint reaches entry 4", async || {
        checkpoint_seq(&sim).as_deref() == Some("4")
    })
    .await;
    let (status, ready) = get(ops, "/readyz").await;
    assert_eq!(status, 200, "{ready}");
    assert!(ready.contains("audit-checkpoint: ok (entry 4)"), "{ready}");

    sql(&db_url, "DELETE FROM audit_log WHERE seq > 2").await;
    sql(&db_url, "DELETE FROM audit_head").await;
    sql(&db_url, "INSERT INTO audit_head SELECT * FROM saved_head").await;
    eventually("/readyz reports the refusal", async || {
        let (status, ready) = get(ops, "/readyz").await;
        status == 503 && ready.contains("audit-checkpoint: REFUSED")
    })
    .await;
    let (status, ready) = get(ops, "/readyz?degraded=ok").await;
    assert_eq!(status, 200, "still serving, so admins can act: {ready}");
    assert!(ready.contains("row #4"), "{ready}");
    // New entries do not make the publisher write over the checkpoint.
    core.handle(invocation("c1", "carol", "pods"), sink.clone())
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        checkpoint_seq(&sim).as_deref(),
        Some("4"),
        "the old checkpoint is kept"
    );
    let puts = sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.path.contains("/configmaps/"))
        .filter(|r| r.token_name.as_deref() == Some(rbac::BOT_USER))
        .count();
    assert!(puts >= 1, "the bot's own token wrote it, within its Role");
    assert!(
        sim.requests().iter().all(|r| r.status != 403),
        "nothing outside the rendered Roles"
    );
    let _ = stop.send(());
    server.await.expect("joins").expect("stops cleanly");
}
