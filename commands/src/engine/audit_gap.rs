//! Audit entries that could not be written (the store was down): each is logged in full at error level, and
//! the gap is remembered so that the first write after the store returns records it in the audit chain itself
//! ("N entries missing between T1 and T2, events …"). Entries are not buffered for replay: a replayed entry
//! would carry a time out of order with the chain, and a process may die before replaying it; the log lines and
//! the recorded gap together say exactly what ran while the store was down.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::audit::NewAuditEntry;

/// How many event ids of missing entries the gap entry lists.
const LISTED: usize = 50;

/// The entries not written since the store last accepted one.
#[derive(Debug, Default)]
pub struct AuditGap(Mutex<Option<Missing>>);

#[derive(Debug, Clone)]
struct Missing {
    count: u64,
    first_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
    events: Vec<String>,
}

impl AuditGap {
    /// Remembers an entry that could not be written, and logs it in full.
    pub fn note(&self, entry: &NewAuditEntry, error: &str) {
        tracing::error!(
            error,
            entry = %json!({
                "at": entry.at, "actor": entry.actor_identity, "person": entry.actor_person, "command": entry.command,
                "decision": entry.decision, "outcome": entry.outcome, "approval": entry.approval_id, "detail": entry.detail,
            }),
            "audit entry not written; the gap is recorded in the audit log when the store answers again"
        );
        let event = entry
            .detail
            .get("event_id")
            .and_then(Value::as_str)
            .map(str::to_string);
        let mut missing = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let m = missing.get_or_insert(Missing {
            count: 0,
            first_at: entry.at,
            last_at: entry.at,
            events: Vec::new(),
        });
        m.count += 1;
        m.last_at = entry.at;
        if let Some(event) = event.filter(|_| m.events.len() < LISTED) {
            m.events.push(event);
        }
    }

    /// The entry that records the gap, if entries are missing; the gap is cleared (restore it with
    /// [`AuditGap::restore`] if this entry cannot be written either).
    pub fn take_entry(&self, now: DateTime<Utc>) -> Option<(NewAuditEntry, GapToken)> {
        let m = self.0.lock().unwrap_or_else(|e| e.into_inner()).take()?;
        let outcome = format!(
            "audit gap: {} entr{} could not be written between {} and {} (the store was unavailable); \
             they are in the bot's logs ('audit entry not written')",
            m.count,
            if m.count == 1 { "y" } else { "ies" },
            m.first_at.format("%Y-%m-%d %H:%M:%S UTC"),
            m.last_at.format("%Y-%m-%d %H:%M:%S UTC"),
        );
        let entry = NewAuditEntry {
            at: now,
            actor_person: None,
            actor_identity: "mystocks-bot".to_string(),
            conversation: Value::Null,
            text: String::new(),
            command: None,
            decision: "gap".to_string(),
            outcome: Some(outcome),
            duration_ms: None,
            approval_id: None,
            detail: json!({ "missing": m.count, "from": m.first_at, "to": m.last_at, "events": m.events }),
        };
        Some((entry, GapToken(m)))
    }

    /// Puts back a gap whose entry could not be written (entries noted meanwhile are merged in).
    pub fn restore(&self, token: GapToken) {
        let old = token.0;
        let mut missing = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match missing.as_mut() {
            None => *missing = Some(old),
            Some(m) => {
                m.count += old.count;
                m.first_at = old.first_at.min(m.first_at);
                let mut events = old.events;
                events.append(&mut m.events);
                events.truncate(LISTED);
                m.events = events;
            }
        }
    }
}

/// A taken gap, to restore if its entry is not written.
#[derive(Debug)]
pub struct GapToken(Missing);

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at: DateTime<Utc>, event: &str) -> NewAuditEntry {
        NewAuditEntry {
            at,
            actor_person: Some("alice".into()),
            actor_identity: "console:alice".into(),
            conversation: Value::Null,
            text: "pods".into(),
            command: Some("pods".into()),
            decision: "allowed".into(),
            outcome: Some("ok".into()),
            duration_ms: Some(1),
            approval_id: None,
            detail: json!({ "event_id": event }),
        }
    }

    #[test]
    fn a_gap_is_recorded_once_with_its_span_and_events_and_survives_a_failed_write() {
        let gap = AuditGap::default();
        let t0 = Utc::now();
        assert!(gap.take_entry(t0).is_none(), "no gap, no entry");
        gap.note(&entry(t0, "e1"), "down");
        gap.note(&entry(t0 + chrono::Duration::seconds(5), "e2"), "down");
        let (first, token) = gap.take_entry(t0).expect("a gap entry");
        assert_eq!(first.detail["missing"], 2);
        assert_eq!(first.detail["events"], json!(["e1", "e2"]));
        assert!(
            first
                .outcome
                .as_deref()
                .is_some_and(|o| o.starts_with("audit gap: 2 entries")),
            "{first:?}"
        );
        gap.note(
            &entry(t0 + chrono::Duration::seconds(9), "e3"),
            "still down",
        );
        gap.restore(token);
        let (again, _) = gap.take_entry(t0).expect("still a gap");
        assert_eq!(again.detail["missing"], 3);
        assert_eq!(again.detail["events"], json!(["e1", "e2", "e3"]));
        assert!(gap.take_entry(t0).is_none(), "recorded once");
    }
}
