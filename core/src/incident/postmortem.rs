//! The postmortem: Markdown built from the incident and its timeline — summary, severity changes, time to
//! acknowledge and to resolve, commands and approvals with actors and times, notes, break-glass uses, and the
//! audit-chain MACs of every entry it cites (so a reader can check them against `audit verify`). Pure.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::model::{IncidentRecord, TimelineEntry, kind};

/// Renders the postmortem. `name` turns a person id into a display name.
pub fn render(
    incident: &IncidentRecord,
    timeline: &[TimelineEntry],
    name: &dyn Fn(&str) -> String,
) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Postmortem — incident {}: {}\n",
        incident.number, incident.title
    );
    summary(&mut md, incident, name);
    section(
        &mut md,
        "Severity changes",
        timeline,
        &[kind::DECLARED, kind::SEVERITY],
        name,
    );
    section(
        &mut md,
        "Commands and approvals",
        timeline,
        &[
            kind::COMMAND,
            kind::APPROVAL,
            kind::BREAK_GLASS,
            kind::REVIEW,
        ],
        name,
    );
    section(&mut md, "Notes", timeline, &[kind::NOTE], name);
    full_timeline(&mut md, timeline, name);
    md
}

fn summary(md: &mut String, inc: &IncidentRecord, name: &dyn Fn(&str) -> String) {
    let _ = writeln!(md, "## Summary\n");
    let _ = writeln!(
        md,
        "- Severity: {} ({})",
        inc.severity,
        inc.severity.description()
    );
    let _ = writeln!(md, "- Status: {}", inc.status);
    let _ = writeln!(
        md,
        "- Declared: {} by {}",
        time(inc.declared_at),
        name(&inc.declared_by)
    );
    let _ = writeln!(md, "- Commander: {}", name(&inc.commander));
    if let Some(comms) = &inc.comms {
        let _ = writeln!(md, "- Comms: {}", name(comms));
    }
    if let Some(scribe) = &inc.scribe {
        let _ = writeln!(md, "- Scribe: {}", name(scribe));
    }
    match (&inc.acked_by, inc.acked_at) {
        (Some(by), Some(at)) => {
            let _ = writeln!(
                md,
                "- Acknowledged: {} by {} — time to acknowledge {}",
                time(at),
                name(by),
                span(inc.declared_at, at)
            );
        }
        _ => {
            let _ = writeln!(md, "- Acknowledged: never");
        }
    }
    if let Some(at) = inc.escalated_at {
        let _ = writeln!(md, "- Escalated (no acknowledgement in time): {}", time(at));
    }
    match inc.resolved_at {
        Some(at) => {
            let by = inc.resolved_by.as_deref().map(name).unwrap_or_default();
            let _ = writeln!(
                md,
                "- Resolved: {} by {by} — time to resolve {}",
                time(at),
                span(inc.declared_at, at)
            );
        }
        None => {
            let _ = writeln!(md, "- Resolved: not yet");
        }
    }
    for bg in &inc.break_glass {
        let review = match (&bg.reviewed_by, bg.reviewed_at) {
            (Some(by), Some(at)) => format!("reviewed by {} at {}", name(by), time(at)),
            _ => "NOT REVIEWED".to_string(),
        };
        let _ = writeln!(
            md,
            "- Break-glass: {} `{}` by {} — \"{}\" — {review}",
            bg.approval_id,
            bg.command,
            name(&bg.by),
            bg.reason
        );
    }
    md.push('\n');
}

fn section(
    md: &mut String,
    title: &str,
    timeline: &[TimelineEntry],
    kinds: &[&str],
    name: &dyn Fn(&str) -> String,
) {
    let _ = writeln!(md, "## {title}\n");
    let mut any = false;
    for e in timeline.iter().filter(|e| kinds.contains(&e.kind.as_str())) {
        any = true;
        let _ = writeln!(
            md,
            "- {} — {} — {}{}",
            time(e.at),
            name(&e.actor),
            e.text,
            cite(e)
        );
    }
    if !any {
        md.push_str("- none\n");
    }
    md.push('\n');
}

fn full_timeline(md: &mut String, timeline: &[TimelineEntry], name: &dyn Fn(&str) -> String) {
    let _ = writeln!(md, "## Timeline\n");
    let _ = writeln!(
        md,
        "| time (UTC) | who | what | entry | audit seq | audit MAC |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|");
    for e in timeline {
        let seq = e.audit_seq.map(|s| s.to_string()).unwrap_or_default();
        let mac = e.audit_mac.clone().unwrap_or_default();
        let text = e.text.replace('|', "\\|").replace('\n', " ");
        let _ = writeln!(
            md,
            "| {} | {} | {} | {text} | {seq} | {mac} |",
            time(e.at),
            name(&e.actor),
            e.kind
        );
    }
}

fn cite(e: &TimelineEntry) -> String {
    match (e.audit_seq, &e.audit_mac) {
        (Some(seq), Some(mac)) => format!(" (audit #{seq}, MAC {})", &mac[..mac.len().min(16)]),
        _ => String::new(),
    }
}

/// `2026-11-28 15:04:05`.
pub fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A duration as `1h 05m 03s` / `7m 30s` / `12s`.
pub fn span(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let secs = (to - from).num_seconds().max(0);
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m {s:02}s"),
        _ => format!("{h}h {m:02}m {s:02}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::model::Severity;
    use chrono::Duration;
    use serde_json::Value;

    fn entry(
        id: i64,
        at: DateTime<Utc>,
        kind: &str,
        text: &str,
        seq: Option<i64>,
    ) -> TimelineEntry {
        TimelineEntry {
            id,
            incident: 1,
            at,
            actor: "alice".into(),
            kind: kind.into(),
            text: text.into(),
            audit_seq: seq,
            audit_mac: seq.map(|s| format!("{s:064}")),
            detail: Value::Null,
        }
    }

    #[test]
    fn shows_times_actors_and_macs_in_order() {
        let t0 = Utc::now();
        let mut inc =
            IncidentRecord::declare("api down", Severity::P1, "console:main", "alice", t0);
        inc.number = 1;
        inc.acked_by = Some("bob".into());
        inc.acked_at = Some(t0 + Duration::seconds(300));
        inc.resolved_by = Some("alice".into());
        inc.resolved_at = Some(t0 + Duration::seconds(3900));
        let timeline = vec![
            entry(1, t0, kind::DECLARED, "declared P1", Some(1)),
            entry(
                2,
                t0 + Duration::seconds(60),
                kind::COMMAND,
                "health → ok",
                Some(2),
            ),
            entry(
                3,
                t0 + Duration::seconds(120),
                kind::NOTE,
                "cache | cold",
                None,
            ),
        ];
        let md = render(&inc, &timeline, &|p: &str| p.to_uppercase());
        assert!(md.contains("time to acknowledge 5m 00s"), "{md}");
        assert!(md.contains("time to resolve 1h 05m 00s"), "{md}");
        assert!(md.contains("ALICE — health → ok (audit #2"), "{md}");
        assert!(md.contains("cache \\| cold"), "{md}");
        let declared = md.find("| declared |").expect("declared row");
        let command = md.find("| command |").expect("command row");
        assert!(declared < command);
        assert!(md.contains(&format!("{:064}", 2)));
    }

    #[test]
    fn spans_read_naturally() {
        let t = Utc::now();
        assert_eq!(span(t, t + Duration::seconds(12)), "12s");
        assert_eq!(span(t, t + Duration::seconds(450)), "7m 30s");
        assert_eq!(span(t + Duration::seconds(5), t), "0s");
    }
}
