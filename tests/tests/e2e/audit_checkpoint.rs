//! The audit log's checkpoint outside the database: cutting the log short by SQL (newest rows deleted and an old
//! copy of the chain head put back, or both tables emptied) is reported by `audit verify` and stops the
//! checkpoint publisher; only two admins saying `audit reanchor` accept the log as it is; the ConfigMap is written
//! with a resourceVersion precondition. The sim enforces the Roles rendered from deploy/.

use std::collections::BTreeMap;

use mystocks_commands::audit::AuditCheckpoint;
use mystocks_commands::audit_anchor::{
    AnchorError, AnchorHealth, Published, publish_once, read_checkpoint, write_checkpoint,
};
use mystocks_commands::clock::Clock;
use mystocks_commands::directory::{DirectoryConfig, PersonConfig};
use mystocks_tests::app::test_audit_key;
use mystocks_tests::rbac::{CHECKPOINT_NAME, CHECKPOINT_NAMESPACE};
use mystocks_tests::{AppOptions, StoreKind, TestApp, texts};

use crate::on_both_stores;

/// The demo people plus a second admin, erin.
fn people() -> DirectoryConfig {
    let mut people = DirectoryConfig::demo();
    people.persons.push(PersonConfig {
        id: "erin".into(),
        display: None,
        identities: vec!["console:erin".into()],
        roles: vec!["admin".into()],
        groups: Vec::new(),
    });
    people
}

async fn app(store: StoreKind) -> TestApp {
    TestApp::spawn(AppOptions {
        store,
        people: Some(people()),
        ..Default::default()
    })
    .await
}

/// Runs one statement on the app's database, as an attacker with database access would.
async fn sql(app: &TestApp, statement: &str) {
    let url = &app.db_url;
    let result = if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.expect("open sqlite");
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_string()))
            .execute(&pool)
            .await
            .map(drop)
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("open postgres");
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_string()))
            .execute(&pool)
            .await
            .map(drop)
    };
    result.unwrap_or_else(|e| panic!("{statement}: {e}"));
}

fn stored_seq(app: &TestApp) -> (Option<String>, Option<String>) {
    let cm = app
        .sim
        .config_map(CHECKPOINT_NAMESPACE, CHECKPOINT_NAME)
        .expect("the checkpoint ConfigMap");
    let seq = cm.data.and_then(|d| d.get("seq").cloned());
    (seq, cm.metadata.resource_version)
}

on_both_stores!(
    a_cut_tail_stops_the_publisher_and_only_two_admins_reanchor,
    |store| async move {
        let app = app(store).await;
        let ctx = app.core.context().clone();
        let anchor = ctx
            .audit_anchor
            .clone()
            .expect("the checkpoint is configured");
        for cmd in ["pods", "status", "history"] {
            app.say("carol", cmd).await;
        }
        sql(&app, "CREATE TABLE saved_head AS SELECT * FROM audit_head").await;
        for cmd in ["whoami", "approvals"] {
            app.say("carol", cmd).await;
        }
        let published = publish_once(&ctx, &anchor).await.expect("publishes");
        assert!(
            matches!(&published, Published::Written(cp) if cp.seq == 5),
            "{published:?}"
        );
        let (seq, version) = stored_seq(&app);
        assert_eq!(seq.as_deref(), Some("5"));

        // The attack: the two newest rows deleted, the saved head row put back.
        sql(&app, "DELETE FROM audit_log WHERE seq > 3").await;
        sql(&app, "DELETE FROM audit_head").await;
        sql(&app, "INSERT INTO audit_head SELECT * FROM saved_head").await;
        assert!(
            app.store
                .verify_audit(&test_audit_key(), None)
                .await
                .expect("verify")
                .is_ok(),
            "the database alone cannot tell"
        );

        let refused = publish_once(&ctx, &anchor).await.expect("the step runs");
        assert!(matches!(refused, Published::Refused(_)), "{refused:?}");
        assert!(
            matches!(anchor.health(), AnchorHealth::Refused(ref why) if why.contains("row #5")),
            "{:?}",
            anchor.health()
        );
        assert!(!anchor.health().is_ready());
        assert_eq!(
            stored_seq(&app),
            (Some("5".into()), version.clone()),
            "the old checkpoint is kept"
        );

        let verified = texts(&app.say("carol", "audit verify").await);
        assert!(
            verified.contains("TAMPERED")
                && verified.contains("truncated past the checkpoint")
                && verified.contains("rows #4..#5 were deleted")
                && verified.contains("Last entry confirmed: 3."),
            "{verified}"
        );

        let viewer = texts(&app.say("carol", "audit reanchor").await);
        assert!(!viewer.contains("asks to re-anchor"), "{viewer}");
        let asked = texts(&app.say("dave", "audit reanchor").await);
        assert!(
            asked.contains("asks to re-anchor") && asked.contains("second admin"),
            "{asked}"
        );
        let alone = texts(&app.say("dave", "audit reanchor").await);
        assert!(
            alone.contains("already asked") && alone.contains("another admin"),
            "{alone}"
        );
        assert!(matches!(
            publish_once(&ctx, &anchor).await.expect("the step runs"),
            Published::Refused(_)
        ));
        assert_eq!(
            stored_seq(&app),
            (Some("5".into()), version),
            "one admin alone changes nothing"
        );
        let still = texts(&app.say("carol", "audit verify").await);
        assert!(still.contains("TAMPERED"), "{still}");

        let done = texts(&app.say("erin", "audit reanchor").await);
        assert!(
            done.contains("re-anchored")
                && done.contains("asked by dave")
                && done.contains("confirmed by erin"),
            "{done}"
        );
        assert!(anchor.health().is_ready());
        let clean = texts(&app.say("carol", "audit verify").await);
        assert!(
            clean.contains("intact") && clean.contains("matches"),
            "{clean}"
        );
        let next = publish_once(&ctx, &anchor).await.expect("publishes");
        assert!(matches!(next, Published::Written(_)), "{next:?}");
        let trail = app.store.audit_tail(20).await.expect("tail");
        let reanchors: Vec<(Option<String>, String)> = trail
            .iter()
            .filter(|r| r.command.as_deref() == Some("audit reanchor"))
            .map(|r| (r.actor_person.clone(), r.decision.clone()))
            .collect();
        assert_eq!(
            reanchors,
            [
                (Some("carol".into()), "refused".into()),
                (Some("dave".into()), "requested".into()),
                (Some("dave".into()), "refused".into()),
                (Some("erin".into()), "allowed".into()),
            ],
            "every step of the re-anchoring is audited"
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emptied_log_is_reported_and_not_papered_over() {
    let app = app(StoreKind::Sqlite).await;
    let ctx = app.core.context().clone();
    let anchor = ctx.audit_anchor.clone().expect("anchor");
    for cmd in ["pods", "status"] {
        app.say("carol", cmd).await;
    }
    publish_once(&ctx, &anchor).await.expect("publishes");
    sql(&app, "DELETE FROM audit_log").await;
    sql(&app, "DELETE FROM audit_head").await;
    let verified = texts(&app.say("carol", "audit verify").await);
    assert!(
        verified.contains("wiped log") && verified.contains("Last entry confirmed: none."),
        "{verified}"
    );
    // The verify itself was appended as row 1 of a new chain: the publisher still refuses to anchor it.
    assert!(matches!(
        publish_once(&ctx, &anchor).await.expect("the step runs"),
        Published::Refused(_)
    ));
    assert_eq!(stored_seq(&app).0.as_deref(), Some("2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checkpoint_is_written_only_over_the_version_it_read() {
    let app = app(StoreKind::Sqlite).await;
    let ctx = app.core.context().clone();
    let anchor = ctx.audit_anchor.clone().expect("anchor");
    app.say("carol", "pods").await;
    let read = read_checkpoint(&ctx.kube, &anchor.location)
        .await
        .expect("reads");
    // Someone else updates the object between our read and our write.
    let theirs = BTreeMap::from([("note".to_string(), "theirs".to_string())]);
    app.sim
        .put_config_map(CHECKPOINT_NAMESPACE, CHECKPOINT_NAME, Some(theirs.clone()));
    let row = app.store.audit_row(1).await.expect("read").expect("row 1");
    let cp = AuditCheckpoint::sign(&test_audit_key(), 1, &row.mac, chrono::Utc::now());
    let err = write_checkpoint(
        &ctx.kube,
        &anchor.location,
        Some(&cp),
        read.resource_version,
    )
    .await
    .expect_err("a stale resourceVersion is refused");
    assert!(matches!(err, AnchorError::Conflict(_)), "{err}");
    let cm = app
        .sim
        .config_map(CHECKPOINT_NAMESPACE, CHECKPOINT_NAME)
        .expect("cm");
    assert_eq!(cm.data, Some(theirs), "their update was kept");
    let put = format!("/api/v1/namespaces/{CHECKPOINT_NAMESPACE}/configmaps/{CHECKPOINT_NAME}");
    assert!(
        app.sim
            .requests()
            .iter()
            .any(|r| r.method == "PUT" && r.path.starts_with(&put) && r.status == 409),
        "the API server answered 409"
    );
    // The publisher's next step reads the new version and writes over it.
    let published = publish_once(&ctx, &anchor).await.expect("publishes");
    assert!(matches!(published, Published::Written(_)), "{published:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_request_planted_in_the_database_does_not_count() {
    let app = app(StoreKind::Sqlite).await;
    let at = app.clock.now().to_rfc3339();
    let planted = format!(r#"{{"person":"dave","display":"dave","at":"{at}","signature":"00"}}"#);
    app.store
        .put_value("audit:reanchor:request", &planted)
        .await
        .expect("planted");
    let first = texts(&app.say("erin", "audit reanchor").await);
    assert!(
        first.contains("asks to re-anchor") && !first.contains("re-anchored"),
        "an unsigned request is not a first admin's: {first}"
    );
}

/// The log lines written while the test holds the guard (this thread's default subscriber).
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// Current-thread: every task runs on this thread, under the thread's default subscriber.
#[tokio::test(flavor = "current_thread")]
async fn each_checkpoint_is_also_a_structured_log_line() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let app = app(StoreKind::Sqlite).await;
    let ctx = app.core.context().clone();
    let anchor = ctx.audit_anchor.clone().expect("anchor");
    app.say("carol", "pods").await;
    let Published::Written(cp) = publish_once(&ctx, &anchor).await.expect("publishes") else {
        panic!("nothing written");
    };
    let text = String::from_utf8_lossy(&captured.0.lock().expect("log")).to_string();
    let line: serde_json::Value = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["fields"]["message"] == "audit checkpoint published")
        .unwrap_or_else(|| panic!("no checkpoint line in {text}"));
    assert_eq!(line["fields"]["seq"], cp.seq);
    assert_eq!(line["fields"]["mac"], cp.mac.as_str());
    assert!(
        line["fields"]["at"]
            .as_str()
            .is_some_and(|at| at.starts_with(&cp.at.format("%Y-%m-%dT%H:%M:%S").to_string())),
        "{line}"
    );
    assert!(!text.contains("test-audit-key"), "the key is never logged");
}
