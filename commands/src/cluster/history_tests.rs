//! Unit tests of history building and kubectl's rollback revision choice, on hand-built objects.

use serde_json::json;

use super::*;

fn dep(image: &str) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": "mystocks-api", "uid": "dep-uid", "annotations": {"deployment.kubernetes.io/revision": "2"}},
        "spec": {"selector": {"matchLabels": {"app": "mystocks-api"}},
                 "template": {"metadata": {"labels": {"app": "mystocks-api"}},
                              "spec": {"containers": [{"name": "mystocks-api", "image": image}]}}}
    }))
    .expect("deployment")
}

fn rs(name: &str, revision: &str, image: &str, owner_uid: &str, controller: bool) -> ReplicaSet {
    serde_json::from_value(json!({
        "metadata": {"name": name, "uid": format!("{name}-uid"), "creationTimestamp": "2026-11-28T10:00:00Z",
            "annotations": {"deployment.kubernetes.io/revision": revision, "kubernetes.io/change-cause": format!("deploy {image}")},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "mystocks-api",
                                 "uid": owner_uid, "controller": controller}]},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "mystocks-api"}},
                 "template": {"metadata": {"labels": {"app": "mystocks-api", "pod-template-hash": name}},
                              "spec": {"containers": [{"name": "mystocks-api", "image": image}]}}}
    }))
    .expect("replicaset")
}

fn sample() -> Vec<ReplicaSet> {
    vec![
        rs("rs-b", "2", "mystocks/api:v1.0.1", "dep-uid", true),
        rs("rs-a", "1", "mystocks/api:v1.0.0", "dep-uid", true),
        rs("rs-foreign", "7", "other:1", "other-uid", true),
        rs("rs-adopted", "8", "other:2", "dep-uid", false),
    ]
}

#[test]
fn only_controlled_replicasets_sorted_with_current_marked() {
    let revs = revisions(&dep("mystocks/api:v1.0.1"), &sample());
    let numbers: Vec<i64> = revs.iter().map(|r| r.number).collect();
    assert_eq!(numbers, vec![1, 2]);
    assert!(revs[1].current && !revs[0].current);
    assert_eq!(revs[0].image("mystocks-api"), "mystocks/api:v1.0.0");
    assert_eq!(revs[0].rs_uid, "rs-a-uid");
    assert_eq!(
        revs[0].change_cause.as_deref(),
        Some("deploy mystocks/api:v1.0.0")
    );
}

#[test]
fn undo_picks_the_second_highest_revision() {
    let revs = revisions(&dep("mystocks/api:v1.0.1"), &sample());
    assert_eq!(select_rollback(&revs, None).map(|r| r.number), Ok(1));
    assert_eq!(select_rollback(&revs, Some(0)).map(|r| r.number), Ok(1));
    assert_eq!(select_rollback(&revs, Some(2)).map(|r| r.number), Ok(2));
    assert_eq!(
        select_rollback(&revs, Some(9)).map(|r| r.number),
        Err(Some(9))
    );
    assert_eq!(
        select_rollback(&revs[..1], None).map(|r| r.number),
        Err(None)
    );
}

#[test]
fn after_an_undo_the_renumbered_old_revision_is_current() {
    // After `undo` to v1.0.0, rs-a is renumbered 3 and current; the previous one (2) is the undo target.
    let rss = vec![
        rs("rs-a", "3", "mystocks/api:v1.0.0", "dep-uid", true),
        rs("rs-b", "2", "mystocks/api:v1.0.1", "dep-uid", true),
    ];
    let revs = revisions(&dep("mystocks/api:v1.0.0"), &rss);
    assert!(revs.iter().any(|r| r.number == 3 && r.current));
    assert_eq!(
        select_rollback(&revs, None).map(|r| r.rs_name.as_str()),
        Ok("rs-b")
    );
    assert_eq!(
        select_rollback(&revs, Some(1)).map(|r| r.number),
        Err(Some(1))
    );
}
