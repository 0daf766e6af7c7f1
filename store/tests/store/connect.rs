//! Opening a store: unsupported URLs, unreachable databases (told apart from other errors, URL redacted), and
//! short audit keys.

use mystocks_store::audit::AuditKey;
use mystocks_store::store::{self, StoreError};
use secrecy::SecretString;

use crate::harness::{URL_PASSWORD, audit_key};

#[tokio::test]
async fn unsupported_url_is_refused_with_the_password_hidden() {
    let err = store::connect(&format!("mysql://root:{URL_PASSWORD}@db/bot"), audit_key())
        .await
        .expect_err("mysql is not supported");
    assert!(matches!(err, StoreError::BadUrl(_)), "{err:?}");
    let shown = err.to_string();
    assert!(
        !shown.contains(URL_PASSWORD) && shown.contains("postgres://"),
        "{shown}"
    );
}

#[tokio::test]
async fn unreachable_postgres_is_unavailable_with_the_password_hidden() {
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    let url = format!("postgres://bot:{URL_PASSWORD}@127.0.0.1:1/bot");
    let err = store::connect(&url, audit_key())
        .await
        .expect_err("nothing listens on port 1");
    assert!(err.is_unavailable(), "{err:?}");
    let shown = err.to_string();
    assert!(!shown.contains(URL_PASSWORD), "{shown}");
    assert!(
        shown.contains("postgres://bot:***@127.0.0.1:1/bot"),
        "{shown}"
    );
    assert!(!format!("{err:?}").contains(URL_PASSWORD));
}

#[tokio::test]
async fn unopenable_sqlite_file_is_unavailable() {
    let err = store::connect(
        "sqlite:///nonexistent-dir-for-store-test/sub/store.db",
        audit_key(),
    )
    .await
    .expect_err("the directory does not exist");
    assert!(err.is_unavailable(), "{err:?}");
}

#[tokio::test]
async fn memory_store_works_and_keeps_its_data() {
    let store = store::connect("sqlite::memory:", audit_key())
        .await
        .expect("memory store");
    store.put_value("k", "v").await.expect("put");
    store
        .append_audit(crate::audit::entry(1))
        .await
        .expect("append");
    assert_eq!(
        store.get_value("k").await.expect("get").as_deref(),
        Some("v")
    );
    assert!(
        store
            .verify_audit(&audit_key(), None)
            .await
            .expect("verify")
            .is_ok()
    );
}

#[test]
fn short_audit_keys_are_refused() {
    let err = AuditKey::new(SecretString::from("short")).expect_err("5 bytes is too short");
    assert!(matches!(err, StoreError::BadKey(_)), "{err:?}");
    assert!(!err.to_string().contains("short\""), "{err}");
    assert!(AuditKey::new(SecretString::from("sixteen-bytes-ok")).is_ok());
}
