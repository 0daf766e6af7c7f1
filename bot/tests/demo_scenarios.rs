//! The demo walk-throughs, piped into `mystocks-bot demo --format json`: roles, the two-person rule, an
//! approved scale followed to 5 ready replicas, the audit log and its verification; and a bad release.

mod support;

use serde_json::Value;
use support::demo_json;

fn text(r: &Value) -> &str {
    r["text"].as_str().unwrap_or_default()
}

/// The first record matching `pred` (replies are found by content: the output does not say which line they answer).
fn find(records: &[Value], pred: impl Fn(&Value) -> bool) -> Option<&Value> {
    records.iter().find(|r| pred(r))
}

#[test]
fn scale_needs_a_second_person_and_is_followed_to_five_ready_replicas() {
    let transcript = "\
:as carol
pods
scale 5
:as alice
scale 5
approve A1
:as bob
approve A1
audit
audit verify
";
    let records = demo_json(&["--speed", "50"], transcript);
    let all = serde_json::to_string_pretty(&records).unwrap_or_default();

    let pods = find(&records, |r| {
        r["kind"] == "result" && text(r).contains("NAME")
    })
    .expect(&all);
    assert!(text(pods).contains("mystocks-api-"), "{all}");

    let carol_refused = find(&records, |r| {
        r["kind"] == "refusal" && r["private_to"] == "console:carol"
    });
    assert!(
        carol_refused.is_some_and(|r| text(r).contains("operator")),
        "{all}"
    );

    let request = find(&records, |r| {
        r["kind"] == "approval_request" && r["update"] == false
    })
    .expect(&all);
    assert_eq!(
        request["approval"],
        serde_json::json!({"id": "A1", "state": "pending"}),
        "{all}"
    );
    assert!(text(request).contains("3 → 5"), "{all}");

    let alice_refused = find(&records, |r| {
        r["kind"] == "refusal" && r["private_to"] == "console:alice"
    });
    assert!(
        alice_refused.is_some(),
        "alice may not approve her own request: {all}"
    );

    // the request message is updated in place until it is done, and the rollout ends with 5 ready
    let request_id = request["message_id"].clone();
    let last_state = records
        .iter()
        .filter(|r| r["message_id"] == request_id)
        .filter_map(|r| r["approval"]["state"].as_str())
        .next_back();
    assert_eq!(last_state, Some("done"), "{all}");
    let progress: Vec<&Value> = records.iter().filter(|r| r["kind"] == "progress").collect();
    assert!(
        progress
            .last()
            .is_some_and(|r| text(r).contains("Ready: 5/5")),
        "{all}"
    );

    let audit = find(&records, |r| text(r).starts_with("Audit log —")).expect(&all);
    for who in ["carol", "alice", "bob"] {
        assert!(
            text(audit).contains(who),
            "{who} missing from the audit log: {all}"
        );
    }
    assert!(
        records.last().is_some_and(|r| text(r).contains("intact")),
        "audit verify: {all}"
    );
}

#[test]
fn a_bad_release_is_reported_as_a_failed_rollout() {
    let transcript = "\
deploy v1.0.2
:as bob
approve A1
";
    let records = demo_json(&["--speed", "50", "--scenario", "bad-release"], transcript);
    let all = serde_json::to_string_pretty(&records).unwrap_or_default();
    let request = find(&records, |r| r["kind"] == "approval_request").expect(&all);
    assert!(
        text(request).contains("mystocks/api:v1.0.1 → mystocks/api:v1.0.2"),
        "{all}"
    );
    let failed = find(&records, |r| {
        r["kind"] == "progress" && r["level"] == "fail"
    })
    .expect(&all);
    assert!(
        text(failed).contains("CrashLoopBackOff") && text(failed).contains("rollback"),
        "{all}"
    );
    let final_state = records
        .iter()
        .filter(|r| r["approval"]["id"] == "A1")
        .filter_map(|r| r["approval"]["state"].as_str())
        .next_back();
    assert_eq!(final_state, Some("failed"), "{all}");
    // The failed verification proposes the rollback as a new request, in the deployer's name.
    let proposal = find(&records, |r| {
        r["kind"] == "approval_request" && r["approval"]["id"] == "A2"
    })
    .expect(&all);
    assert!(
        text(proposal).contains("rollback") && text(proposal).contains("Requested by alice"),
        "{all}"
    );
}
