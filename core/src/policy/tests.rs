//! Tests of the rules and of the `[policy]` settings.

use std::collections::BTreeSet;
use std::time::Duration;

use super::*;
use crate::command::{self, Command};

fn cmd(text: &str) -> Command {
    Command::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn config(json: &str) -> Result<PolicyConfig, serde_json::Error> {
    serde_json::from_str(json)
}

#[test]
fn roles_are_ordered_and_include_lower_ones() {
    assert!(
        Role::Viewer < Role::Operator
            && Role::Operator < Role::Approver
            && Role::Approver < Role::Admin
    );
    let admin = BTreeSet::from([Role::Admin]);
    assert!(Role::ALL.iter().all(|r| has_role(&admin, *r)));
    let viewer = BTreeSet::from([Role::Viewer]);
    assert!(!has_role(&viewer, Role::Operator));
    assert!(!has_role(&BTreeSet::new(), Role::Viewer));
}

#[test]
fn every_command_has_the_decided_rule() {
    let expect = |text: &str, min_role: Option<Role>, risk: Risk, needs_approval: bool| {
        assert_eq!(
            rule(&cmd(text)),
            Rule {
                min_role,
                risk,
                needs_approval
            },
            "{text}"
        );
    };
    expect("help", None, Risk::ReadOnly, false);
    expect("whoami", None, Risk::ReadOnly, false);
    for read in [
        "pods",
        "top",
        "logs",
        "errors",
        "5xx",
        "history",
        "status",
        "approvals",
        "audit",
        "audit verify",
    ] {
        expect(read, Some(Role::Viewer), Risk::ReadOnly, false);
    }
    for change in ["rollback", "deploy v1", "scale 3", "restart"] {
        expect(change, Some(Role::Operator), Risk::Destructive, true);
    }
    expect("approve A1", Some(Role::Approver), Risk::Deciding, false);
    expect("deny A1", Some(Role::Approver), Risk::Deciding, false);
    expect("cancel A1", Some(Role::Viewer), Risk::Deciding, false);
    expect("freeze", Some(Role::Admin), Risk::Admin, false);
    expect("unfreeze", Some(Role::Admin), Risk::Admin, false);
}

#[test]
fn only_destructive_commands_need_approval() {
    for spec in command::specs() {
        let c = cmd(spec.examples[0]);
        let r = rule(&c);
        assert_eq!(
            r.needs_approval,
            r.risk == Risk::Destructive,
            "{}",
            spec.name
        );
    }
}

#[test]
fn defaults_match_the_brief() {
    let p = PolicyConfig::default();
    assert_eq!(
        p.approval_for(&cmd("scale 3")),
        ApprovalTerms {
            quorum: 1,
            expiry: Duration::from_secs(900)
        }
    );
    assert_eq!(p.scale_bounds(), 1..=20);
    assert_eq!(p.allowed_repository, "mystocks/api");
    assert_eq!(p.approver_role_names(), ["approver", "admin"]);
    assert!(p.validate().is_ok());
    assert_eq!(config("{}").expect("empty config"), p);
}

#[test]
fn who_may_approve() {
    let p = PolicyConfig::default();
    assert!(p.may_approve(&BTreeSet::from([Role::Approver])));
    assert!(p.may_approve(&BTreeSet::from([Role::Admin])));
    assert!(!p.may_approve(&BTreeSet::from([Role::Operator, Role::Viewer])));
    let admins_only = config(r#"{"approver_roles": ["admin"]}"#).expect("config");
    assert!(!admins_only.may_approve(&BTreeSet::from([Role::Approver])));
    assert_eq!(admins_only.approver_role_names(), ["admin"]);
}

#[test]
fn expiry_as_seconds_or_text_and_overrides() {
    let p = config(
        r#"{"expiry": "30m", "quorum": 2, "overrides": {"deploy": {"quorum": 3, "expiry": 60}}}"#,
    )
    .expect("config");
    assert!(p.validate().is_ok());
    assert_eq!(
        p.approval_for(&cmd("scale 2")),
        ApprovalTerms {
            quorum: 2,
            expiry: Duration::from_secs(1800)
        }
    );
    assert_eq!(
        p.approval_for(&cmd("deploy v2")),
        ApprovalTerms {
            quorum: 3,
            expiry: Duration::from_secs(60)
        }
    );
    assert_eq!(
        config(r#"{"expiry": 120}"#).expect("seconds").expiry,
        Duration::from_secs(120)
    );
    let err = config(r#"{"expiry": "soon"}"#)
        .expect_err("bad expiry")
        .to_string();
    assert!(err.contains("not a duration"), "{err}");
    assert!(
        config(r#"{"quorom": 2}"#).is_err(),
        "unknown fields are refused"
    );
}

#[test]
fn validate_names_the_mistake() {
    let bad = |json: &str, needle: &str| {
        let err = config(json)
            .expect("parses")
            .validate()
            .expect_err(json)
            .to_string();
        assert!(err.contains(needle), "{json}: {err}");
    };
    bad(r#"{"quorum": 0}"#, "policy.quorum");
    bad(r#"{"scale_min": 5, "scale_max": 2}"#, "scale_min");
    bad(r#"{"scale_min": -1}"#, "must not be negative");
    bad(r#"{"approver_roles": ["boss"]}"#, "unknown role `boss`");
    bad(
        r#"{"overrides": {"pods": {"quorum": 2}}}"#,
        "policy.overrides.pods",
    );
    bad(
        r#"{"overrides": {"deploy": {"quorum": 0}}}"#,
        "overrides.deploy.quorum",
    );
    bad(
        r#"{"allowed_repository": "Not A Repo"}"#,
        "allowed_repository",
    );
}

#[test]
fn configured_role_names() {
    let p = config(r#"{"role_names": {"reader": "viewer", "sre": "operator", "lead": "approver", "root": "admin"},
                      "approver_roles": ["lead", "root"]}"#)
    .expect("config");
    assert!(p.validate().is_ok());
    assert_eq!(p.role_by_name("SRE"), Some(Role::Operator));
    assert_eq!(p.role_by_name("operator"), None);
    assert_eq!(p.role_name(Role::Approver), "lead");
    assert_eq!(p.approver_role_names(), ["lead", "root"]);
    assert_eq!(PolicyConfig::default().role_name(Role::Viewer), "viewer");
}

#[test]
fn replicas_and_images_are_checked_against_config() {
    let p = PolicyConfig::default();
    assert!(p.check_replicas(20).is_ok());
    assert_eq!(
        p.check_replicas(21),
        Err("21 replicas is outside the allowed 1–20".to_string())
    );
    assert!(p.check_replicas(0).is_err());
    // The live check (cluster::image_resolve::resolve) takes this repository; empty means any.
    assert_eq!(p.deploy_repository(), "mystocks/api");
    let open = PolicyConfig {
        allow_other_repositories: true,
        ..PolicyConfig::default()
    };
    assert_eq!(open.deploy_repository(), "");
}
