//! Tests of directory building, identity resolution and authorization.

use std::collections::BTreeSet;

use super::*;
use crate::command::Command;
use crate::policy::{self, ConfigError, PolicyConfig, Role};

fn id(text: &str) -> Identity {
    Identity(text.to_string())
}

fn rule_for(text: &str) -> Rule {
    policy::rule(&Command::parse(text).unwrap_or_else(|e| panic!("{text}: {e}")))
}

fn config(json: &str) -> DirectoryConfig {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"))
}

#[test]
fn demo_people_have_their_roles() {
    let d = Directory::demo();
    let roles = |who: &str| d.resolve(&id(&format!("console:{who}"))).roles;
    assert_eq!(roles("alice"), BTreeSet::from([Role::Operator]));
    assert_eq!(roles("bob"), BTreeSet::from([Role::Approver]));
    assert_eq!(roles("carol"), BTreeSet::from([Role::Viewer]));
    assert_eq!(roles("dave"), BTreeSet::from([Role::Admin]));
    assert!(Directory::from_config(&DirectoryConfig::demo()).is_ok());
}

#[test]
fn the_default_directory_knows_nobody() {
    let d = Directory::default();
    let p = d.resolve(&id("console:alice"));
    assert!(!p.known);
    assert!(p.roles.is_empty());
}

#[test]
fn two_accounts_are_one_person() {
    let d = Directory::demo();
    let console = d.resolve(&id("console:bob"));
    let slack = d.resolve(&id("slack:TDEMO/UBOB"));
    assert_eq!(console, slack);
    assert_eq!(console.person_id, "bob");
    assert!(console.known);
    assert_eq!(d.identities_of("bob"), ["console:bob", "slack:TDEMO/UBOB"]);
}

#[test]
fn unknown_identity_is_its_own_person_with_the_unknown_role() {
    let d = Directory::demo();
    let p = d.resolve(&id("slack:T9/U9"));
    assert_eq!(
        p,
        Principal {
            person_id: "slack:T9/U9".into(),
            display: "slack:T9/U9".into(),
            roles: BTreeSet::new(),
            known: false
        }
    );
    let open = Directory::from_config(&config(r#"{"unknown_role": "viewer"}"#)).expect("valid");
    assert_eq!(
        open.resolve(&id("slack:T9/U9")).roles,
        BTreeSet::from([Role::Viewer])
    );
}

#[test]
fn group_roles_add_to_own_roles() {
    let d = Directory::from_config(&config(
        r#"{"groups": [{"name": "sre", "roles": ["operator"]}, {"name": "leads", "roles": ["approver"]}],
            "persons": [{"id": "eve", "display": "Eve", "identities": ["matrix:@eve:ex.org"], "roles": ["viewer"],
                         "groups": ["sre", "leads"]}]}"#,
    ))
    .expect("valid");
    let eve = d.resolve(&id("matrix:@eve:ex.org"));
    assert_eq!(
        eve.roles,
        BTreeSet::from([Role::Viewer, Role::Operator, Role::Approver])
    );
    assert_eq!(eve.display, "Eve");
    assert_eq!(d.display_name("eve"), "Eve");
    assert_eq!(d.display_name("nobody"), "nobody");
}

#[test]
fn bad_configs_are_refused_with_the_reason() {
    let err = |json: &str| Directory::from_config(&config(json)).expect_err(json);
    assert_eq!(
        err(
            r#"{"persons": [{"id": "a", "identities": ["console:x"]}, {"id": "b", "identities": ["console:x"]}]}"#
        ),
        ConfigError::DuplicateIdentity {
            identity: "console:x".into(),
            first: "a".into(),
            second: "b".into()
        }
    );
    assert!(matches!(
        err(r#"{"persons": [{"id": "a", "identities": ["console:x", "console:x"]}]}"#),
        ConfigError::DuplicateIdentity { .. }
    ));
    assert!(matches!(
        err(r#"{"persons": [{"id": "a", "identities": [], "roles": ["boss"]}]}"#),
        ConfigError::UnknownRole { .. }
    ));
    assert!(matches!(
        err(r#"{"persons": [{"id": "a", "identities": [], "groups": ["x"]}]}"#),
        ConfigError::UnknownGroup { .. }
    ));
    assert!(matches!(
        err(r#"{"persons": [{"id": "a", "identities": []}, {"id": "a", "identities": []}]}"#),
        ConfigError::DuplicatePerson(_)
    ));
    assert!(matches!(
        err(r#"{"groups": [{"name": "g"}, {"name": "g"}]}"#),
        ConfigError::DuplicateGroup(_)
    ));
    assert!(matches!(
        err(r#"{"persons": [{"id": "a", "identities": ["alice"]}]}"#),
        ConfigError::BadIdentity { .. }
    ));
    assert!(matches!(
        err(r#"{"persons": [{"id": "a", "identities": ["Slack:x"]}]}"#),
        ConfigError::BadIdentity { .. }
    ));
    assert!(matches!(
        err(r#"{"unknown_role": "guest"}"#),
        ConfigError::UnknownRole { .. }
    ));
    let text =
        err(r#"{"persons": [{"id": "a", "identities": [], "roles": ["boss"]}]}"#).to_string();
    assert_eq!(
        text,
        "person `a`: unknown role `boss` (known: admin, approver, operator, viewer)"
    );
}

#[test]
fn configured_role_names_are_used_for_people_and_refusals() {
    let policy: PolicyConfig =
        serde_json::from_str(r#"{"role_names": {"reader": "viewer", "sre": "operator", "lead": "approver", "root": "admin"}}"#)
            .expect("policy");
    let d = Directory::from_config_with(
        &config(r#"{"persons": [{"id": "c", "identities": ["console:c"], "roles": ["reader"]}], "contact": "ask Kim"}"#),
        &policy,
    )
    .expect("valid");
    let c = d.resolve(&id("console:c"));
    let refusal = d
        .authorize(&c, &rule_for("scale 3"))
        .expect_err("reader cannot scale");
    assert_eq!(
        refusal.to_string(),
        "this needs the sre role; c has reader — ask Kim"
    );
    assert!(
        Directory::from_config(&config(
            r#"{"persons": [{"id": "c", "identities": [], "roles": ["reader"]}]}"#
        ))
        .is_err()
    );
}

#[test]
fn authorize_follows_the_rules() {
    let d = Directory::demo();
    let who = |name: &str| d.resolve(&id(&format!("console:{name}")));
    assert!(d.authorize(&who("carol"), &rule_for("pods")).is_ok());
    assert!(d.authorize(&who("carol"), &rule_for("scale 5")).is_err());
    assert!(d.authorize(&who("alice"), &rule_for("scale 5")).is_ok());
    assert!(d.authorize(&who("alice"), &rule_for("approve A1")).is_err());
    assert!(d.authorize(&who("bob"), &rule_for("approve A1")).is_ok());
    assert!(d.authorize(&who("bob"), &rule_for("freeze")).is_err());
    assert!(d.authorize(&who("dave"), &rule_for("freeze")).is_ok());
    assert!(d.authorize(&who("dave"), &rule_for("scale 5")).is_ok());
    let stranger = d.resolve(&id("slack:T9/U9"));
    assert!(d.authorize(&stranger, &rule_for("help")).is_ok());
    assert!(d.authorize(&stranger, &rule_for("whoami")).is_ok());
    assert!(d.authorize(&stranger, &rule_for("pods")).is_err());
}

#[test]
fn refusal_texts_name_the_role_and_whom_to_ask() {
    let d = Directory::demo();
    let carol = d.resolve(&id("console:carol"));
    assert_eq!(
        d.authorize(&carol, &rule_for("scale 5")).map_err(|r| r.to_string()),
        Err("this needs the operator role; carol has viewer — ask #platform or platform@mystocks.example.com for access".into())
    );
    let stranger = d.resolve(&id("slack:T9/U9"));
    assert_eq!(
        d.authorize(&stranger, &rule_for("pods")).map_err(|r| r.to_string()),
        Err("this needs the viewer role, and I do not know you (slack:T9/U9) — ask #platform or platform@mystocks.example.com for access".into())
    );
    assert_eq!(
        authorize(&carol, &rule_for("scale 5")).map_err(|r| r.needed),
        Err(Role::Operator)
    );
}

#[test]
fn approvers_except_the_requester() {
    let d = Directory::demo();
    let policy = PolicyConfig::default();
    assert_eq!(d.approvers_except("alice", &policy).names, ["bob", "dave"]);
    assert_eq!(d.approvers_except("bob", &policy).names, ["dave"]);
    let ids: Vec<String> = d
        .approvers_except("alice", &policy)
        .identities
        .into_iter()
        .map(|i| i.0)
        .collect();
    assert_eq!(ids, ["console:bob", "slack:TDEMO/UBOB", "console:dave"]);
    assert!(d.anyone_with(Role::Admin));
}

/// A role source granting fixed roles to fixed identities, changeable while the directory is in use.
struct Granted(std::sync::Mutex<Vec<(String, Role)>>);

impl RoleSource for Granted {
    fn roles_of(&self, identity: &Identity) -> BTreeSet<Role> {
        let granted = self.0.lock().expect("not poisoned");
        granted
            .iter()
            .filter(|(who, _)| who == identity.as_str())
            .map(|(_, role)| *role)
            .collect()
    }
    fn holders(&self) -> Vec<(Identity, Role)> {
        let granted = self.0.lock().expect("not poisoned");
        granted
            .iter()
            .map(|(who, role)| (Identity(who.clone()), *role))
            .collect()
    }
    fn describe(&self) -> String {
        "test grants".into()
    }
}

#[test]
fn run_time_sources_add_roles_to_persons_and_strangers_and_every_clone_sees_them() {
    let d = Directory::demo();
    let core_copy = d.clone();
    let granted = std::sync::Arc::new(Granted(std::sync::Mutex::new(vec![
        // bob's Slack account is in an admin group: bob the person gains admin, whichever account he uses.
        ("slack:TDEMO/UBOB".to_string(), Role::Admin),
        ("slack:TDEMO/UERIN".to_string(), Role::Approver),
    ])));
    d.add_role_source(granted.clone());
    let bob = core_copy.resolve(&id("console:bob"));
    assert_eq!(bob.roles, BTreeSet::from([Role::Approver, Role::Admin]));
    let erin = core_copy.resolve(&id("slack:TDEMO/UERIN"));
    assert_eq!(
        (erin.known, erin.roles.clone()),
        (false, BTreeSet::from([Role::Approver]))
    );
    assert!(core_copy.authorize(&erin, &rule_for("approve A1")).is_ok());
    // Lists of approvers name whoever approves through the source: erin by her identity (not in `[people]`).
    let policy = PolicyConfig::default();
    assert_eq!(
        core_copy.approvers_except("alice", &policy).names,
        ["bob", "dave", "slack:TDEMO/UERIN"]
    );
    assert_eq!(
        core_copy
            .approvers_except("slack:TDEMO/UERIN", &policy)
            .names,
        ["bob", "dave"]
    );
    // The source stops vouching (membership removed or expired): the static roles are all that is left.
    granted.0.lock().expect("not poisoned").clear();
    assert_eq!(
        core_copy.resolve(&id("console:bob")).roles,
        BTreeSet::from([Role::Approver])
    );
    let erin = core_copy.resolve(&id("slack:TDEMO/UERIN"));
    assert!(erin.roles.is_empty());
    assert_eq!(
        core_copy.approvers_except("alice", &policy).names,
        ["bob", "dave"]
    );
    assert!(core_copy.authorize(&erin, &rule_for("approve A1")).is_err());
}
