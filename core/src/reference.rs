//! The command reference in Markdown (docs/commands.md), generated from the same specs and policy as `help`, so
//! the documentation cannot drift from what the bot accepts. A test fails when docs/commands.md is stale.

use std::fmt::Write;

use crate::command::{self, CommandSpec};
use crate::help::rule_of;
use crate::policy::{PolicyConfig, Risk};

const GROUPS: [(Risk, &str, &str); 4] = [
    (
        Risk::ReadOnly,
        "Read-only",
        "Answered at once from the live cluster and services.",
    ),
    (
        Risk::Destructive,
        "Changes",
        "Each shows a preview computed from the live cluster (also sent as a server-side dry run) and waits for an \
         approval by another person — see [approvals.md](approvals.md).",
    ),
    (
        Risk::Deciding,
        "Deciding on requests",
        "Approve, deny or withdraw an approval request.",
    ),
    (Risk::Admin, "Admin", "The bot's own safety switches."),
];

/// docs/commands.md, from the specs and the default policy.
pub fn markdown() -> String {
    let policy = PolicyConfig::default();
    let mut out = String::from(
        "# Command reference\n\n<!-- Generated from the command specs by `UPDATE_DOCS=1 cargo test -p mystocks-commands \
         --test docs`; do not edit by hand. -->\n\nType these after `/mystocks` in Slack, after `!mystocks` in Matrix, \
         or as they are in the demo console. In a Slack thread, mention the bot (`@mystocks status`); in an incident \
         thread, a message that starts with a command name is a command. `help` and `help COMMAND` show the same \
         text in chat.\n",
    );
    for (risk, title, intro) in GROUPS {
        let specs: Vec<&CommandSpec> = command::specs()
            .filter(|s| rule_of(s).is_some_and(|r| r.risk == risk))
            .collect();
        if specs.is_empty() {
            continue;
        }
        let _ = write!(out, "\n## {title}\n\n{intro}\n");
        for spec in specs {
            command_section(&mut out, spec, &policy);
        }
    }
    out
}

fn command_section(out: &mut String, spec: &CommandSpec, policy: &PolicyConfig) {
    let _ = write!(
        out,
        "\n### `{}`\n\n{}\n\n```text\n{}\n```\n",
        spec.name, spec.summary, spec.usage
    );
    if !spec.aliases.is_empty() {
        let aliases: Vec<String> = spec.aliases.iter().map(|a| format!("`{a}`")).collect();
        let _ = writeln!(out, "\nAlso: {}.", aliases.join(", "));
    }
    if !spec.flags.is_empty() {
        out.push_str("\n| flag | meaning |\n|---|---|\n");
        for flag in spec.flags {
            let short = flag.short.map(|c| format!("`-{c}` ")).unwrap_or_default();
            let _ = writeln!(
                out,
                "| {short}`--{} {}` | {} |",
                flag.long, flag.value, flag.help
            );
        }
    }
    if let Some(rule) = rule_of(spec) {
        let who = match rule.min_role {
            Some(role) => format!("{} and above", policy.role_name(role)),
            None => "anyone".to_string(),
        };
        let approval = if rule.needs_approval {
            format!(
                "; runs after approval by {} other person(s) with the {} role (expires after {} min)",
                policy.quorum,
                policy.approver_role_names().join(" or "),
                policy.expiry.as_secs() / 60
            )
        } else {
            String::new()
        };
        let _ = writeln!(out, "\nWho: {who}{approval}.");
    }
    if let Some(manual) = spec.manual {
        let _ = writeln!(out, "\nManual: {manual}.");
    }
    if !spec.examples.is_empty() {
        let examples: Vec<String> = spec.examples.iter().map(|e| format!("`{e}`")).collect();
        let _ = writeln!(out, "\nExamples: {}.", examples.join(", "));
    }
}
