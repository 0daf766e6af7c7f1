//! `help` and `help COMMAND`, generated from the command specs and from policy — never written by hand, so
//! they cannot drift from what the bot accepts and who may run it.

use std::time::Duration;

use crate::command::{self, Command, CommandSpec};
use crate::grammar::{self, shown};
use crate::policy::{PolicyConfig, Risk, Rule, rule};
use crate::reply::{Block, Level, Reply, ReplyKind, Table};

/// `help TOPIC` named no command.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no command `{given}`{} (`help` lists commands)", suggestion.as_ref().map(|s| format!(" — did you mean `{s}`?")).unwrap_or_default())]
pub struct UnknownTopic {
    pub given: String,
    pub suggestion: Option<String>,
}

/// Help with the default policy: the overview for `None`, one command's page for `Some(name or alias)`.
pub fn help_reply(topic: Option<&str>) -> Result<Reply, UnknownTopic> {
    help_reply_with(topic, &PolicyConfig::default())
}

/// Help using the configured policy (role names, quorum, expiry).
pub fn help_reply_with(topic: Option<&str>, policy: &PolicyConfig) -> Result<Reply, UnknownTopic> {
    match topic {
        None => Ok(overview()),
        Some(name) => match command::find(name) {
            Some(spec) => Ok(command_page(spec, policy)),
            None => Err(UnknownTopic {
                given: shown(name),
                suggestion: grammar::did_you_mean(name, command::all_spellings())
                    .map(str::to_string),
            }),
        },
    }
}

/// Like [`help_reply_with`], with an unknown topic answered as a (warning) help reply instead of an error.
pub fn reply_for(topic: Option<&str>, policy: &PolicyConfig) -> Reply {
    help_reply_with(topic, policy)
        .unwrap_or_else(|e| Reply::text(ReplyKind::Help, Level::Warn, e.to_string()))
}

/// The rule of the command a spec describes (asked with its first example).
pub fn rule_of(spec: &CommandSpec) -> Option<Rule> {
    let example = spec.examples.first()?;
    Command::parse(example).ok().map(|c| rule(&c))
}

const GROUPS: [(Risk, &str); 4] = [
    (Risk::ReadOnly, "Read-only"),
    (Risk::Destructive, "Changes (need approval)"),
    (Risk::Deciding, "Deciding on requests"),
    (Risk::Admin, "Admin"),
];

fn overview() -> Reply {
    let mut reply = Reply::new(ReplyKind::Help, Level::Info).with_header(
        "mystocks-bot commands — `help COMMAND` explains one (usage, flags, who may run it)",
    );
    for (risk, title) in GROUPS {
        let rows: Vec<Vec<String>> = command::specs()
            .filter(|spec| rule_of(spec).is_some_and(|r| r.risk == risk))
            .map(|spec| vec![spec.usage.to_string(), spec.summary.to_string()])
            .collect();
        if !rows.is_empty() {
            let columns = vec![title.to_string(), String::new()];
            reply = reply.with_block(Block::Table {
                table: Table { columns, rows },
            });
        }
    }
    reply.with_block(Block::Text {
        text: "In a Slack thread, mention the bot (`@mystocks status`); in an incident thread, start a message \
               with a command name."
            .to_string(),
    })
}

fn command_page(spec: &CommandSpec, policy: &PolicyConfig) -> Reply {
    let mut fields = vec![("Usage".to_string(), spec.usage.to_string())];
    if !spec.aliases.is_empty() {
        fields.push(("Also".to_string(), spec.aliases.join(", ")));
    }
    if let Some(rule) = rule_of(spec) {
        fields.push(("Who may run it".to_string(), who_may(&rule, policy)));
        fields.push(("Approval".to_string(), approval_text(spec, &rule, policy)));
    }
    if let Some(section) = spec.manual {
        fields.push(("Manual".to_string(), section.to_string()));
    }
    let mut reply = Reply::new(ReplyKind::Help, Level::Info)
        .with_header(format!("{} — {}", spec.name, spec.summary))
        .with_block(Block::Fields { fields });
    if !spec.flags.is_empty() {
        let rows = spec
            .flags
            .iter()
            .map(|f| {
                let names = f.spellings().collect::<Vec<_>>().join(", ");
                vec![format!("{names} {}", f.value), f.help.to_string()]
            })
            .collect();
        let columns = vec!["FLAG".to_string(), "MEANING".to_string()];
        reply = reply.with_block(Block::Table {
            table: Table { columns, rows },
        });
    }
    reply.with_block(Block::Code {
        text: spec.examples.join("\n"),
    })
}

fn who_may(rule: &Rule, policy: &PolicyConfig) -> String {
    match rule.min_role {
        None => "anyone, including people the bot does not know".to_string(),
        Some(role) => format!("{} (or a higher role)", policy.role_name(role)),
    }
}

fn approval_text(spec: &CommandSpec, rule: &Rule, policy: &PolicyConfig) -> String {
    if !rule.needs_approval {
        return "not needed".to_string();
    }
    let terms = spec
        .examples
        .first()
        .and_then(|e| Command::parse(e).ok())
        .map(|c| policy.approval_for(&c));
    let (quorum, expiry) = terms.map_or((policy.quorum, policy.expiry), |t| (t.quorum, t.expiry));
    format!(
        "needed: {quorum} approval(s) from a person with the {} role other than the requester, within {}",
        policy.approver_role_names().join(" or "),
        human_duration(expiry)
    )
}

/// `15 min`, `1 h 30 min`, `90 s`.
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut parts = Vec::new();
    if h > 0 {
        parts.push(format!("{h} h"));
    }
    if m > 0 {
        parts.push(format!("{m} min"));
    }
    if s > 0 || parts.is_empty() {
        parts.push(format!("{s} s"));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(topic: Option<&str>) -> String {
        help_reply(topic)
            .map(|r| r.plain_text())
            .unwrap_or_else(|e| panic!("{topic:?}: {e}"))
    }

    #[test]
    fn overview_lists_every_command_once_in_its_group() {
        let reply = help_reply(None).expect("overview");
        assert_eq!(reply.kind, ReplyKind::Help);
        let plain = reply.plain_text();
        for spec in command::specs() {
            assert_eq!(
                plain.matches(&format!("\n{}", spec.usage)).count(),
                1,
                "{}\n{plain}",
                spec.usage
            );
        }
        let order = [
            "Read-only",
            "Changes (need approval)",
            "Deciding on requests",
            "Admin",
        ];
        let at: Vec<usize> = order.iter().map(|t| plain.find(t).expect(t)).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{plain}");
        let changes = &plain[at[1]..at[2]];
        for name in ["rollback", "deploy", "scale", "restart"] {
            assert!(
                changes.contains(&format!("\n{name}")),
                "{name} not under changes:\n{changes}"
            );
        }
    }

    #[test]
    fn command_page_has_usage_flags_examples_role_and_approval() {
        let page = text(Some("logs"));
        for needle in [
            "logs — ",
            "Usage: logs [POD|deployment]",
            "--tail N",
            "--grep PATTERN",
            "Also: log",
            "viewer (or a higher role)",
            "Approval: not needed",
            "logs --tail 500 --grep error",
        ] {
            assert!(page.contains(needle), "missing {needle}:\n{page}");
        }
        let scale = text(Some("scale"));
        assert!(scale.contains("operator (or a higher role)"), "{scale}");
        assert!(scale.contains("needed: 1 approval(s) from a person with the approver or admin role other than the requester, within 15 min"), "{scale}");
        assert!(text(Some("whoami")).contains("anyone, including people the bot does not know"));
        assert!(text(Some("undo")).starts_with("rollback — "));
    }

    #[test]
    fn configured_policy_shows_in_help() {
        let policy: PolicyConfig = serde_json::from_str(
            r#"{"role_names": {"sre": "operator", "lead": "approver", "root": "admin", "viewer": "viewer"},
                "approver_roles": ["lead"], "overrides": {"deploy": {"quorum": 2, "expiry": "1h30m"}}}"#,
        )
        .expect("policy");
        let page = help_reply_with(Some("deploy"), &policy)
            .expect("page")
            .plain_text();
        assert!(page.contains("sre (or a higher role)"), "{page}");
        assert!(
            page.contains("needed: 2 approval(s) from a person with the lead role"),
            "{page}"
        );
        assert!(page.contains("within 1 h 30 min"), "{page}");
    }

    #[test]
    fn unknown_topic_suggests() {
        let err = help_reply(Some("scael")).expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "no command `scael` — did you mean `scale`? (`help` lists commands)"
        );
        let reply = reply_for(Some("zzzzzz"), &PolicyConfig::default());
        assert_eq!((reply.kind, reply.level), (ReplyKind::Help, Level::Warn));
        assert_eq!(
            reply.plain_text(),
            "no command `zzzzzz` (`help` lists commands)"
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(Duration::from_secs(900)), "15 min");
        assert_eq!(human_duration(Duration::from_secs(5400)), "1 h 30 min");
        assert_eq!(human_duration(Duration::from_secs(90)), "1 min 30 s");
        assert_eq!(human_duration(Duration::ZERO), "0 s");
    }
}
