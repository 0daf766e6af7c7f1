//! Unit tests of binding comparison and crash reconciliation, on hand-built objects.

use serde_json::json;

use super::*;
use crate::cluster::execute::{Reconciled, shows_result};
use crate::cluster::target::Target;

fn dep(generation: i64, image: &str, replicas: i32) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": "mystocks-api", "uid": "dep-uid", "generation": generation, "resourceVersion": "10",
                     "annotations": {"deployment.kubernetes.io/revision": "2"}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "mystocks-api"}},
                 "template": {"metadata": {"labels": {"app": "mystocks-api"}},
                              "spec": {"containers": [{"name": "mystocks-api", "image": image}]}}}
    }))
    .expect("deployment")
}

fn rs(uid: &str, image: &str) -> ReplicaSet {
    serde_json::from_value(json!({
        "metadata": {"name": "rs-old", "uid": uid},
        "spec": {"selector": {}, "template": {"metadata": {"labels": {"app": "mystocks-api", "pod-template-hash": "h"}},
                 "spec": {"containers": [{"name": "mystocks-api", "image": image}]}}}
    }))
    .expect("replicaset")
}

fn plan(change: Change) -> Plan {
    Plan {
        target: Target::default(),
        binding: Binding::of(&dep(2, "mystocks/api:v1.0.1", 3)),
        change,
    }
}

fn old_template() -> k8s_openapi::api::core::v1::PodTemplateSpec {
    template::without_hash(&crate::cluster::deployment::rs_template(&rs(
        "rs-uid",
        "mystocks/api:v1.0.0",
    )))
}

fn rollback() -> Change {
    Change::Rollback {
        from_revision: Some(2),
        from_image: "mystocks/api:v1.0.1".into(),
        to_revision: 1,
        to_image: "mystocks/api:v1.0.0".into(),
        rs_name: "rs-old".into(),
        rs_uid: "rs-uid".into(),
        template: Box::new(old_template()),
        annotations: Default::default(),
    }
}

#[test]
fn unchanged_deployment_is_still_bound() {
    let p = plan(Change::Scale { from: 3, to: 5 });
    let mut same = dep(2, "mystocks/api:v1.0.1", 3);
    same.metadata.resource_version = Some("99".into()); // status updates do not matter
    assert!(differences(&p, &same, &[]).is_empty());
}

#[test]
fn names_what_changed() {
    let p = plan(Change::Scale { from: 3, to: 5 });
    let changed = differences(&p, &dep(3, "mystocks/api:v1.0.3", 4), &[]);
    assert_eq!(
        changed,
        vec![
            "image mystocks/api:v1.0.1 → mystocks/api:v1.0.3",
            "replicas 3 → 4"
        ]
    );
    let only_generation = differences(&p, &dep(3, "mystocks/api:v1.0.1", 3), &[]);
    assert_eq!(only_generation, vec!["the spec changed (generation 2 → 3)"]);
    let mut recreated = dep(1, "mystocks/api:v1.0.1", 3);
    recreated.metadata.uid = Some("new-uid".into());
    assert_eq!(
        differences(&p, &recreated, &[]),
        vec!["the deployment was re-created (uid dep-uid → new-uid)"]
    );
}

#[test]
fn rollback_is_pinned_to_the_replicaset_uid_and_template() {
    let p = plan(rollback());
    let live = dep(2, "mystocks/api:v1.0.1", 3);
    assert!(differences(&p, &live, &[rs("rs-uid", "mystocks/api:v1.0.0")]).is_empty());
    let gone = differences(&p, &live, &[rs("other-uid", "mystocks/api:v1.0.0")]);
    assert_eq!(
        gone,
        vec!["revision 1's ReplicaSet `rs-old` no longer exists"]
    );
    let changed = differences(&p, &live, &[rs("rs-uid", "mystocks/api:v9")]);
    assert_eq!(
        changed,
        vec!["revision 1's ReplicaSet `rs-old` has a different template"]
    );
}

#[test]
fn results_are_recognised_for_reconciliation() {
    assert!(shows_result(
        &plan(rollback()),
        &dep(3, "mystocks/api:v1.0.0", 3)
    ));
    assert!(!shows_result(
        &plan(rollback()),
        &dep(2, "mystocks/api:v1.0.1", 3)
    ));
    let deploy = Change::Deploy {
        container: "mystocks-api".into(),
        from_image: "mystocks/api:v1.0.1".into(),
        to_image: "mystocks/api:v1.0.2".into(),
    };
    assert!(shows_result(
        &plan(deploy.clone()),
        &dep(3, "mystocks/api:v1.0.2", 3)
    ));
    assert!(!shows_result(
        &plan(deploy),
        &dep(2, "mystocks/api:v1.0.1", 3)
    ));
    assert!(shows_result(
        &plan(Change::Scale { from: 3, to: 5 }),
        &dep(3, "mystocks/api:v1.0.1", 5)
    ));
    let restart = Change::Restart {
        pods: vec![],
        restarted_at: "2026-11-28T14:00:00Z".into(),
    };
    assert!(!shows_result(
        &plan(restart),
        &dep(2, "mystocks/api:v1.0.1", 3)
    ));
    let _ = Reconciled::NotApplied;
}
