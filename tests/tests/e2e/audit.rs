//! The audit log records what happened and `audit verify` notices tampering.

use mystocks_tests::{AppOptions, TestApp, approval_id, texts};

use crate::on_both_stores;

on_both_stores!(audit_lists_and_verifies, |store| async move {
    let app = TestApp::spawn(AppOptions {
        store,
        ..Default::default()
    })
    .await;
    app.say("carol", "pods").await;
    app.say("carol", "scale 5").await;
    let id = approval_id(&app.say("alice", "scale 5").await).expect("request");
    app.say("bob", &format!("approve {id}")).await;
    let audit = texts(&app.say("dave", "audit 50").await);
    for needle in ["pods", "refused", "requested", &id, "executed"] {
        assert!(audit.contains(needle), "audit lacks `{needle}`: {audit}");
    }
    let verified = texts(&app.say("dave", "audit verify").await);
    assert!(verified.contains("intact"), "{verified}");
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edited_row_is_detected() {
    let app = TestApp::spawn(AppOptions::default()).await;
    for cmd in ["pods", "history", "status", "whoami"] {
        app.say("carol", cmd).await;
    }
    let pool = sqlx::SqlitePool::connect(&app.db_url)
        .await
        .expect("open sqlite");
    let changed = sqlx::query("UPDATE audit_log SET outcome = 'nothing to see' WHERE seq = 2")
        .execute(&pool)
        .await
        .expect("tamper");
    assert_eq!(changed.rows_affected(), 1);
    let verified = texts(&app.say("dave", "audit verify").await);
    assert!(
        verified.contains("TAMPERED") && verified.contains("entry 2"),
        "{verified}"
    );
}
