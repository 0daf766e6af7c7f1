//! The user-group cache on a paused clock: roles while fresh, nothing once expired or after a failed lookup, one
//! lookup per expiry, and only for the configured workspace.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use super::*;

/// Memberships set by the test; a group absent from the map fails like `no_such_subteam`.
#[derive(Default)]
struct Script {
    groups: Mutex<HashMap<String, Vec<String>>>,
    calls: Mutex<usize>,
}

impl Script {
    fn set(&self, group: &str, users: &[&str]) {
        self.groups.lock().expect("lock").insert(
            group.to_string(),
            users.iter().map(|u| u.to_string()).collect(),
        );
    }
    fn remove(&self, group: &str) {
        self.groups.lock().expect("lock").remove(group);
    }
    fn calls(&self) -> usize {
        *self.calls.lock().expect("lock")
    }
}

#[async_trait]
impl MemberLookup for Script {
    async fn members(&self, group: &str) -> Result<Vec<String>, ApiError> {
        *self.calls.lock().expect("lock") += 1;
        self.groups
            .lock()
            .expect("lock")
            .get(group)
            .cloned()
            .ok_or_else(|| ApiError::Refused {
                method: "usergroups.users.list",
                code: "no_such_subteam".into(),
            })
    }
}

fn erin() -> Identity {
    Identity::new("slack", "T1/UERIN")
}

fn source(script: &Arc<Script>) -> UsergroupRoles {
    UsergroupRoles::new(
        script.clone(),
        "T1",
        vec![
            ("SAPPROVERS".into(), Role::Approver),
            ("SOPS".into(), Role::Operator),
        ],
        Duration::from_secs(60),
    )
}

#[tokio::test(start_paused = true)]
async fn members_hold_the_role_until_the_ttl_and_lose_it_after_removal() {
    let script = Arc::new(Script::default());
    script.set("SAPPROVERS", &["UERIN", "UBOB"]);
    script.set("SOPS", &["UALICE"]);
    let groups = source(&script);
    assert!(
        groups.roles_of(&erin()).is_empty(),
        "nothing before the first lookup"
    );
    groups.refresh().await;
    assert_eq!(groups.roles_of(&erin()), BTreeSet::from([Role::Approver]));
    assert_eq!(script.calls(), 2, "one lookup per group");
    let mut holders = groups.holders();
    holders.sort();
    assert_eq!(
        holders,
        [
            (Identity::new("slack", "T1/UALICE"), Role::Operator),
            (Identity::new("slack", "T1/UBOB"), Role::Approver),
            (erin(), Role::Approver),
        ]
    );
    groups.refresh().await;
    assert_eq!(script.calls(), 2, "fresh memberships are not asked again");

    script.set("SAPPROVERS", &["UBOB"]);
    tokio::time::advance(Duration::from_secs(59)).await;
    assert_eq!(
        groups.roles_of(&erin()),
        BTreeSet::from([Role::Approver]),
        "cached until the TTL"
    );
    tokio::time::advance(Duration::from_secs(1)).await;
    assert!(
        groups.roles_of(&erin()).is_empty(),
        "an expired membership grants nothing, even before it is asked again"
    );
    assert!(groups.holders().is_empty(), "nor lists anyone");
    groups.refresh().await;
    assert!(groups.roles_of(&erin()).is_empty());
    assert_eq!(
        groups.roles_of(&Identity::new("slack", "T1/UBOB")),
        BTreeSet::from([Role::Approver])
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_lookup_grants_nothing_and_is_retried_after_a_pause() {
    let script = Arc::new(Script::default());
    script.set("SAPPROVERS", &["UERIN"]);
    let groups = source(&script);
    groups.refresh().await;
    assert_eq!(groups.roles_of(&erin()), BTreeSet::from([Role::Approver]));
    // The group disappears (Slack answers no_such_subteam) once the membership expired.
    script.remove("SAPPROVERS");
    tokio::time::advance(Duration::from_secs(60)).await;
    groups.refresh().await;
    assert!(groups.roles_of(&erin()).is_empty());
    let calls = script.calls();
    groups.refresh().await;
    assert_eq!(
        script.calls(),
        calls,
        "a failure is not retried on every invocation"
    );
    script.set("SAPPROVERS", &["UERIN"]);
    tokio::time::advance(RETRY_AFTER_FAILURE).await;
    groups.refresh().await;
    assert_eq!(groups.roles_of(&erin()), BTreeSet::from([Role::Approver]));
}

#[tokio::test(start_paused = true)]
async fn only_the_configured_workspace_counts() {
    let script = Arc::new(Script::default());
    script.set("SAPPROVERS", &["UERIN"]);
    script.set("SOPS", &["UERIN"]);
    let groups = source(&script);
    groups.refresh().await;
    assert_eq!(
        groups.roles_of(&erin()),
        BTreeSet::from([Role::Approver, Role::Operator])
    );
    assert!(
        groups
            .roles_of(&Identity::new("slack", "T2/UERIN"))
            .is_empty()
    );
    assert!(
        groups
            .roles_of(&Identity::new("matrix", "@erin:example.org"))
            .is_empty()
    );
    assert!(groups.describe().contains("SAPPROVERS"));
}

/// A lookup that never answers.
struct Silent;

#[async_trait]
impl MemberLookup for Silent {
    async fn members(&self, _group: &str) -> Result<Vec<String>, ApiError> {
        std::future::pending().await
    }
}

#[tokio::test(start_paused = true)]
async fn a_lookup_that_never_answers_fails_after_its_timeout() {
    let groups = UsergroupRoles::new(
        Arc::new(Silent),
        "T1",
        vec![("SAPPROVERS".into(), Role::Approver)],
        Duration::from_secs(60),
    );
    let started = Instant::now();
    groups.refresh().await;
    assert!(
        started.elapsed() >= LOOKUP_TIMEOUT,
        "the refresh waited for the lookup, then gave up"
    );
    assert!(groups.roles_of(&erin()).is_empty());
}
