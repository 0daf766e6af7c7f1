//! Degraded operation, as docs/operator-guide.md describes it. Redis down: events are claimed in the store (no
//! duplicate runs), changes are requested and decided as usual (one change at a time is the store's rule), and
//! each executes exactly once. PostgreSQL down: read-only commands answer, destructive ones are refused
//! with the reason and change nothing, and the audit entries that could not be written are recorded as one gap
//! entry when the store answers again.

use std::net::SocketAddr;

use mystocks_commands::store::ApprovalState;
use mystocks_tests::{AppOptions, TestApp, TestDb, approval_id, texts};

use crate::outage::Outage;
use crate::replicas::{redis_url, replica, replica_settings};
use crate::support::invocation;

fn address_of(url: &str, default_port: u16) -> SocketAddr {
    let parsed = url::Url::parse(url).expect("a URL");
    let host = parsed
        .host_str()
        .unwrap_or("127.0.0.1")
        .replace("localhost", "127.0.0.1");
    format!("{host}:{}", parsed.port().unwrap_or(default_port))
        .parse()
        .expect("an address")
}

/// `url` with its host and port replaced by the proxy's.
fn through(url: &str, proxy: &Outage) -> String {
    let mut parsed = url::Url::parse(url).expect("a URL");
    parsed.set_host(Some("127.0.0.1")).expect("host");
    parsed.set_port(Some(proxy.port)).expect("port");
    parsed.to_string()
}

fn real_changes(app: &TestApp) -> usize {
    app.sim
        .changing_requests()
        .iter()
        .filter(|r| !r.path.contains("dryRun=All"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_claims_in_the_store_and_changes_go_on() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let db = TestDb::postgres().await;
    let redis = Outage::proxy(address_of(&redis_url(), 6379)).await;
    let prefix = format!("mystocks-bot-test-{}:", uuid::Uuid::new_v4().simple());
    let bot = replica(
        &app.sim,
        &db.url,
        &through(&redis_url(), &redis),
        &prefix,
        replica_settings(&format!("replica-0-{prefix}")),
    )
    .await;
    let ask = |event: &str, who: &str, text: &str| {
        let (core, sink, inv) = (
            bot.core.clone(),
            bot.sink.clone(),
            invocation(event, who, text),
        );
        async move {
            let before = sink.len();
            mystocks_commands::Handler::handle(&core, inv, sink.clone()).await;
            mystocks_commands::Handler::settle(&core).await;
            sink.since(before)
        }
    };
    let id =
        approval_id(&ask("r1", "alice", "scale 4").await).expect("a request while Redis is up");

    redis.cut();
    let pods = ask("r2", "alice", "pods").await;
    assert!(
        texts(&pods).contains("mystocks-api-"),
        "reads answer: {}",
        texts(&pods)
    );
    assert!(
        ask("r2", "alice", "pods").await.is_empty(),
        "a duplicate event is still claimed once (in the store)"
    );
    // One change at a time is the store's rule, not Redis's: a second change is refused because of the first,
    // and nothing waits on Redis.
    let refused = texts(&ask("r3", "alice", "restart").await);
    assert!(
        refused.contains(&format!("{id} (`scale 4`")) && refused.contains("one change at a time"),
        "{refused}"
    );
    let before = real_changes(&app);
    ask("r4", "bob", &format!("approve {id}")).await;
    ask("r5", "bob", &format!("approve {id}")).await;
    let record = bot
        .core
        .context()
        .store
        .approval(&id)
        .await
        .expect("store")
        .expect("record");
    assert_eq!(
        record.state,
        ApprovalState::Done,
        "{:?}",
        record.state_detail
    );
    assert_eq!(
        real_changes(&app) - before,
        1,
        "the approved change ran once"
    );
    let next = ask("r6", "alice", "restart").await;
    assert!(
        approval_id(&next).is_some(),
        "with the first change done, the next is requested while Redis is still down: {}",
        texts(&next)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_down_answers_reads_refuses_changes_and_records_the_audit_gap() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let db = TestDb::postgres().await;
    let pg = Outage::proxy(address_of(&db.url, 5432)).await;
    let prefix = format!("mystocks-bot-test-{}:", uuid::Uuid::new_v4().simple());
    let settings = replica_settings(&format!("replica-0-{prefix}"));
    let bot = replica(
        &app.sim,
        &through(&db.url, &pg),
        &redis_url(),
        &prefix,
        settings,
    )
    .await;
    let ask = |event: &str, who: &str, text: &str| {
        let (core, sink, inv) = (
            bot.core.clone(),
            bot.sink.clone(),
            invocation(event, who, text),
        );
        async move {
            let before = sink.len();
            mystocks_commands::Handler::handle(&core, inv, sink.clone()).await;
            mystocks_commands::Handler::settle(&core).await;
            sink.since(before)
        }
    };
    assert!(texts(&ask("p0", "alice", "status").await).contains("mystocks-api"));

    pg.cut();
    let pods = texts(&ask("p1", "alice", "pods").await);
    assert!(
        pods.contains("mystocks-api-"),
        "reads answer without the store: {pods}"
    );
    let before = real_changes(&app);
    let refused = texts(&ask("p2", "alice", "scale 5").await);
    assert!(
        refused.contains("refused until the store answers"),
        "the reason is given: {refused}"
    );
    assert_eq!(real_changes(&app), before, "nothing changed");

    pg.restore();
    ask("p3", "alice", "status").await;
    let store = &bot.core.context().store;
    let tail = store.audit_tail(10).await.expect("the store is back");
    let gap = tail
        .iter()
        .find(|r| r.decision == "gap")
        .unwrap_or_else(|| panic!("a gap entry: {tail:#?}"));
    assert_eq!(gap.detail["missing"], 2, "{gap:#?}");
    assert_eq!(
        gap.detail["events"],
        serde_json::json!(["p1", "p2"]),
        "{gap:#?}"
    );
    let report = store
        .verify_audit(&mystocks_tests::app::test_audit_key(), None)
        .await
        .expect("verify");
    assert!(
        report.problems.is_empty(),
        "the chain stays intact across the gap: {report:?}"
    );
}
