//! Incidents end to end: the war room in a thread with its timeline and postmortem, paging through a fake
//! PagerDuty, SLA timers on simulated time (reminder, escalation once, after a restart, with two processes
//! racing), and break-glass with its review — on SQLite and PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

use mystocks_commands::Identity;
use mystocks_commands::incident::{IncidentConfig, IncidentSettings, PagerDuty, PagerDutyConfig};
use mystocks_sim::Sim;
use mystocks_tests::app::test_audit_key;
use mystocks_tests::fake_pagerduty::{FakePagerDuty, ROUTING_KEY};
use mystocks_tests::{AppOptions, Recorded, StoreKind, TestApp, approval_id, texts};

use crate::on_both_stores;

/// The war room of the first incident in the console channel.
const ROOM: &str = "incident-1";

fn incidents(pd: &FakePagerDuty) -> IncidentSettings {
    let config = IncidentConfig {
        oncall: vec!["alice".into()],
        ..IncidentConfig::default()
    };
    let pager = PagerDuty::new(PagerDutyConfig {
        routing_key: secrecy::SecretString::from(ROUTING_KEY),
        base_url: pd.url.clone(),
        source: "mystocks-api".into(),
        timeout: Duration::from_secs(5),
    });
    IncidentSettings::new(config, Some(pager))
}

async fn spawn(store: StoreKind, pd: &FakePagerDuty) -> TestApp {
    TestApp::spawn(AppOptions {
        store,
        incidents: incidents(pd),
        ..Default::default()
    })
    .await
}

/// Another bot process on the same sim and database.
async fn another(first: &TestApp, store: StoreKind, pd: &FakePagerDuty, sim: Arc<Sim>) -> TestApp {
    let options = AppOptions {
        store,
        incidents: incidents(pd),
        reuse_db: Some(first.db_url.clone()),
        ..Default::default()
    };
    TestApp::spawn_on(sim, options).await
}

async fn room(app: &TestApp, who: &str, text: &str) -> Vec<Recorded> {
    app.say_as(Identity::new("console", who), who, Some(ROOM), text)
        .await
}

/// Moves the process's clock and runs its due jobs.
async fn advance(app: &TestApp, minutes: i64) -> Vec<Recorded> {
    let cursor = app.sink.len();
    app.clock.advance(chrono::Duration::minutes(minutes));
    app.core.run_due_jobs().await;
    app.sink.since(cursor)
}

fn in_room(replies: &[Recorded]) -> Vec<&Recorded> {
    replies
        .iter()
        .filter(|r| r.conversation.thread.as_deref() == Some(ROOM))
        .collect()
}

fn escalations(pd: &FakePagerDuty) -> usize {
    pd.accepted()
        .iter()
        .filter(|r| {
            r.summary
                .as_deref()
                .is_some_and(|s| s.starts_with("ESCALATED"))
        })
        .count()
}

on_both_stores!(
    war_room_timeline_and_postmortem,
    |store: StoreKind| async move {
        let pd = FakePagerDuty::start().await;
        let app = spawn(store, &pd).await;
        let declared = app.say("dave", "incident declare P1 api down").await;
        assert!(
            !in_room(&declared).is_empty(),
            "the announcement opens thread {ROOM}: {}",
            texts(&declared)
        );
        let trigger = pd
            .accepted()
            .first()
            .cloned()
            .expect("a P1 pages on declare");
        assert_eq!(
            (trigger.action.as_str(), trigger.severity.as_deref()),
            ("trigger", Some("critical"))
        );
        assert_eq!(trigger.dedup_key, "mystocks-incident-1");

        room(&app, "alice", "health").await;
        let id = approval_id(&room(&app, "alice", "rollback").await).expect("rollback request");
        let done = room(&app, "bob", &format!("approve {id}")).await;
        assert!(
            done.iter()
                .any(|r| r.reply.approval.as_ref().is_some_and(|a| a.state == "done")),
            "{}",
            texts(&done)
        );
        room(&app, "bob", "incident ack").await;
        room(&app, "carol", "incident note cache warmed up again").await; // a viewer may not note: refused, still on the timeline
        room(&app, "alice", "incident note error rate back to normal").await;
        room(&app, "alice", "incident resolve").await;
        assert_eq!(
            (
                pd.count("trigger"),
                pd.count("acknowledge"),
                pd.count("resolve")
            ),
            (1, 1, 1),
            "{:?}",
            pd.accepted()
        );
        assert!(pd.rejected().is_empty(), "{:?}", pd.rejected());

        let pm = room(&app, "alice", "incident postmortem").await;
        let md = pm
            .iter()
            .flat_map(|r| r.reply.attachments.iter())
            .map(|a| a.content.clone())
            .next()
            .expect("postmortem file");
        let timeline = &md[md.find("## Timeline").expect("timeline section")..];
        let order = [
            "declared P1",
            "`health`",
            "`rollback`",
            &format!("`approve {id}`"),
            &format!("{id} `rollback` done"),
            "acknowledged after",
            "error rate back to normal",
            "resolved after",
        ];
        let mut at = 0;
        for needle in order {
            let found = timeline[at..]
                .find(needle)
                .unwrap_or_else(|| panic!("`{needle}` missing or out of order:\n{md}"));
            at += found;
        }
        for who in ["| dave |", "| alice |", "| bob |", "| carol |"] {
            assert!(timeline.contains(who), "{who} missing:\n{md}");
        }
        assert!(
            md.contains("time to acknowledge") && md.contains("time to resolve"),
            "{md}"
        );

        // Every cited MAC is the MAC of that audit row, and the chain verifies.
        let entries = app.store.timeline(1).await.expect("timeline");
        let audit = app.store.audit_tail(1000).await.expect("audit");
        // (The postmortem's own entry is written after it.)
        let cited: Vec<_> = entries
            .iter()
            .filter(|e| e.kind != "postmortem")
            .filter_map(|e| Some((e.audit_seq?, e.audit_mac.clone()?)))
            .collect();
        assert!(cited.len() >= 8, "{entries:?}");
        for (seq, mac) in &cited {
            let row = audit
                .iter()
                .find(|r| r.seq == *seq)
                .expect("cited row exists");
            assert_eq!(&row.mac, mac);
            assert!(
                md.contains(mac.as_str()),
                "MAC of audit #{seq} not in the postmortem"
            );
        }
        assert!(
            app.store
                .verify_audit(&test_audit_key(), None)
                .await
                .expect("verify")
                .is_ok()
        );
        let stored = app
            .store
            .incident(1)
            .await
            .expect("store")
            .expect("incident");
        assert_eq!(stored.postmortem.as_deref(), Some(md.as_str()));
    }
);

on_both_stores!(
    unacknowledged_p1_reminds_then_escalates_once,
    |store: StoreKind| async move {
        let pd = FakePagerDuty::start().await;
        let app = spawn(store, &pd).await;
        app.say("dave", "incident declare P1 checkout failing")
            .await;
        assert_eq!(pd.count("trigger"), 1);
        let early = advance(&app, 5).await;
        assert!(
            early.is_empty(),
            "nothing is due at 5 minutes: {}",
            texts(&early)
        );
        let reminder = advance(&app, 3).await;
        assert!(
            texts(&in_room(&reminder).into_iter().cloned().collect::<Vec<_>>())
                .contains("not acknowledged"),
            "{}",
            texts(&reminder)
        );
        assert_eq!(escalations(&pd), 0);
        let escalated = advance(&app, 8).await;
        assert_eq!(escalations(&pd), 1, "{:?}", pd.accepted());
        assert!(
            texts(&escalated).contains("escalated"),
            "{}",
            texts(&escalated)
        );
        advance(&app, 60).await;
        assert_eq!(escalations(&pd), 1, "an escalation fires once");
        let kinds: Vec<String> = app
            .store
            .timeline(1)
            .await
            .expect("timeline")
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(
            kinds.iter().filter(|k| *k == "escalation").count(),
            1,
            "{kinds:?}"
        );
        assert_eq!(
            kinds.iter().filter(|k| *k == "reminder").count(),
            1,
            "{kinds:?}"
        );
    }
);

on_both_stores!(
    acknowledged_incident_does_not_escalate,
    |store: StoreKind| async move {
        let pd = FakePagerDuty::start().await;
        let app = spawn(store, &pd).await;
        app.say("dave", "incident declare P1 api down").await;
        let acked = room(&app, "alice", "incident ack").await;
        assert!(texts(&acked).contains("acknowledged"), "{}", texts(&acked));
        let later = advance(&app, 30).await;
        assert!(later.is_empty(), "{}", texts(&later));
        assert_eq!((pd.count("trigger"), pd.count("acknowledge")), (1, 1));
        let refused = room(&app, "carol", "incident ack").await;
        assert!(
            texts(&refused).contains("needs the operator role"),
            "{}",
            texts(&refused)
        );
    }
);

on_both_stores!(
    p3_pages_only_at_expiry_even_after_a_restart,
    |store: StoreKind| async move {
        let pd = FakePagerDuty::start().await;
        let first = spawn(store, &pd).await;
        first
            .say("alice", "incident declare P3 search results stale")
            .await;
        assert_eq!(pd.count("trigger"), 0, "a P3 does not page on declare");
        let sim = first.sim.clone();
        let second = another(&first, store, &pd, sim).await;
        let TestApp { db, .. } = first; // the first process is gone; its database stays
        let none = advance(&second, 119).await;
        assert!(
            in_room(&none)
                .iter()
                .all(|r| !r.text().contains("escalated")),
            "{}",
            texts(&none)
        );
        let fired = advance(&second, 122).await;
        assert_eq!(escalations(&pd), 1, "{:?}", pd.accepted());
        assert_eq!(pd.accepted()[0].severity.as_deref(), Some("warning"));
        assert!(
            in_room(&fired)
                .iter()
                .any(|r| r.text().contains("escalated")),
            "{}",
            texts(&fired)
        );
        drop(db);
    }
);

on_both_stores!(
    two_processes_fire_each_timer_once,
    |store: StoreKind| async move {
        let pd = FakePagerDuty::start().await;
        let first = spawn(store, &pd).await;
        let second = another(&first, store, &pd, first.sim.clone()).await;
        for n in 1..=3 {
            first
                .say("dave", &format!("incident declare P1 outage {n}"))
                .await;
        }
        assert_eq!(pd.count("trigger"), 3);
        for app in [&first, &second] {
            app.clock.advance(chrono::Duration::minutes(16));
        }
        // Four runners, two per process, race for the same due timers (each on its own task, as in the poller).
        let racers: Vec<_> = [&first, &second, &first, &second]
            .iter()
            .map(|app| {
                let core = app.core.clone();
                tokio::spawn(async move { core.run_due_jobs().await })
            })
            .collect();
        for racer in racers {
            racer.await.expect("runner task");
        }
        assert_eq!(
            escalations(&pd),
            3,
            "one escalation per incident: {:?}",
            pd.accepted()
        );
        let reminders = [&first, &second]
            .iter()
            .flat_map(|a| a.sink.all())
            .filter(|r| !r.update && r.text().contains("is not acknowledged after"))
            .count();
        assert_eq!(reminders, 3, "one reminder per incident");
        for n in 1..=3 {
            let incident = first
                .store
                .incident(n)
                .await
                .expect("store")
                .expect("incident");
            assert!(incident.escalated_at.is_some() && incident.paged);
        }
    }
);

on_both_stores!(
    break_glass_runs_without_a_second_approver_and_blocks_resolve_until_reviewed,
    |store: StoreKind| async move {
        let pd = FakePagerDuty::start().await;
        let app = spawn(store, &pd).await;
        // alice declared it herself and nobody acknowledged: no break-glass for her.
        app.say("alice", "incident declare P1 overload").await;
        let own = room(&app, "alice", "incident breakglass scale 5 traffic spike").await;
        assert!(
            texts(&own).contains("declared or acknowledged by someone else"),
            "{}",
            texts(&own)
        );
        room(&app, "bob", "incident ack").await;
        let used = room(&app, "alice", "incident breakglass scale 5 traffic spike").await;
        assert!(
            texts(&used).contains("BREAK-GLASS") && texts(&used).contains("bob"),
            "approvers notified: {}",
            texts(&used)
        );
        assert_eq!(
            crate::support::replicas(&app.sim).0,
            5,
            "scaled without a second approver"
        );
        let blocked = room(&app, "alice", "incident resolve").await;
        assert!(
            texts(&blocked).contains("not reviewed"),
            "{}",
            texts(&blocked)
        );
        let self_review = room(&app, "alice", "incident review").await;
        assert!(
            texts(&self_review).contains("needs the approver role"),
            "{}",
            texts(&self_review)
        );
        let reviewed = room(&app, "bob", "incident review").await;
        assert!(
            texts(&reviewed).contains("reviewed by"),
            "{}",
            texts(&reviewed)
        );
        let resolved = room(&app, "alice", "incident resolve").await;
        assert!(
            texts(&resolved).contains("resolved after"),
            "{}",
            texts(&resolved)
        );
        let kinds: Vec<String> = app
            .store
            .timeline(1)
            .await
            .expect("timeline")
            .into_iter()
            .map(|e| e.kind)
            .collect();
        for k in ["break-glass", "review", "resolved"] {
            assert!(
                kinds.iter().any(|x| x == k),
                "{k} not on the timeline: {kinds:?}"
            );
        }
        let deploy = room(&app, "alice", "incident breakglass deploy v9 because").await;
        assert!(
            texts(&deploy).contains("only rollback or scale"),
            "{}",
            texts(&deploy)
        );
    }
);

/// A plain message in the war room.
async fn talk(app: &TestApp, who: &str, text: &str) -> Vec<Recorded> {
    app.send(mystocks_commands::Invocation {
        event_id: format!("talk-{}", uuid::Uuid::new_v4().simple()),
        actor: mystocks_commands::Actor {
            identity: Identity::new("console", who),
            display_name: who.to_string(),
        },
        conversation: mystocks_commands::Conversation {
            channel: "console:main".into(),
            thread: Some(ROOM.into()),
        },
        addressing: mystocks_commands::Addressing::ThreadMessage,
        text: text.to_string(),
        received_at: chrono::Utc::now(),
    })
    .await
}

on_both_stores!(
    war_room_talk_is_not_a_command,
    |store: StoreKind| async move {
        let pd = FakePagerDuty::start().await;
        let app = spawn(store, &pd).await;
        app.say("dave", "incident declare P1 api down").await;
        let chatter = talk(&app, "alice", "status is bad, pods keep crashing").await;
        assert!(chatter.is_empty(), "talk was answered: {}", texts(&chatter));
        let command = talk(&app, "alice", "status").await;
        assert!(
            texts(&command).contains("rolled out") || texts(&command).contains("Rollout"),
            "an exact command name is a command in the war room: {}",
            texts(&command)
        );
    }
);
