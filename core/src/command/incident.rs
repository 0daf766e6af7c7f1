//! incident — the war room: declare, acknowledge, notes, roles, status, severity, break-glass, resolve and the
//! postmortem.  Grammar: `incident declare P1|P2|P3|P4 TITLE…` · `incident ack [ID]` · `incident note TEXT…` ·
//! `incident role commander|comms|scribe PERSON` · `incident status investigating|identified|monitoring|resolved` ·
//! `incident severity P1..P4 REASON…` · `incident list` · `incident show [ID]` · `incident resolve [ID]` ·
//! `incident postmortem [ID]` · `incident review [APPROVAL]` · `incident breakglass rollback|scale N REASON…`
//!
//! Without an ID a sub-command applies to the incident whose thread it is typed in (or the only open one).

use serde::{Deserialize, Serialize};

use super::{ApprovalId, Canonical, Command, CommandSpec, deny};
use crate::grammar::{Args, ParseError};
use crate::incident::{IncidentRole, IncidentStatus, Severity};

/// Longest incident title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;

/// How `help` shows `incident`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "incident",
    aliases: &[],
    summary: "Incident war room in a thread: declare (pages the on-call for P1/P2), ack, note, role, status, \
              severity, list, show, resolve, postmortem; break-glass rollback/scale during a P1, and its review.",
    usage: "incident declare|ack|note|role|status|severity|list|show|resolve|postmortem|review|breakglass …",
    flags: &[],
    examples: &[
        "incident declare P1 api down",
        "incident ack",
        "incident note cache hit rate dropped at 14:02",
        "incident role comms bob",
        "incident status identified",
        "incident severity P2 only search is affected",
        "incident list",
        "incident show 1",
        "incident resolve",
        "incident postmortem 1",
        "incident review A7",
        "incident breakglass rollback bad release, API down for everyone",
        "incident breakglass scale 10 traffic spike",
    ],
    manual: Some("Incident Response"),
    free_text: true,
    parse,
};

/// The change break-glass may make.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum BreakGlassChange {
    /// `rollback` to the previous revision.
    Rollback,
    /// `scale N`.
    Scale { replicas: u32 },
}

/// One `incident` sub-command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "sub", rename_all = "snake_case")]
pub enum Incident {
    Declare {
        severity: Severity,
        title: String,
    },
    Ack {
        id: Option<i64>,
    },
    Note {
        text: String,
    },
    Role {
        role: IncidentRole,
        person: String,
    },
    Status {
        status: IncidentStatus,
    },
    Severity {
        severity: Severity,
        reason: String,
    },
    List,
    Show {
        id: Option<i64>,
    },
    Resolve {
        id: Option<i64>,
    },
    Postmortem {
        id: Option<i64>,
    },
    Review {
        approval: Option<ApprovalId>,
    },
    BreakGlass {
        change: BreakGlassChange,
        reason: String,
    },
}

impl Incident {
    /// The sub-command's name (`declare`, `ack`, …).
    pub fn sub(&self) -> &'static str {
        match self {
            Incident::Declare { .. } => "declare",
            Incident::Ack { .. } => "ack",
            Incident::Note { .. } => "note",
            Incident::Role { .. } => "role",
            Incident::Status { .. } => "status",
            Incident::Severity { .. } => "severity",
            Incident::List => "list",
            Incident::Show { .. } => "show",
            Incident::Resolve { .. } => "resolve",
            Incident::Postmortem { .. } => "postmortem",
            Incident::Review { .. } => "review",
            Incident::BreakGlass { .. } => "breakglass",
        }
    }

    /// The incident number the command names, if it names one.
    pub fn id(&self) -> Option<i64> {
        match self {
            Incident::Ack { id }
            | Incident::Show { id }
            | Incident::Resolve { id }
            | Incident::Postmortem { id } => *id,
            _ => None,
        }
    }

    pub(crate) fn write_args(&self, out: &mut Canonical) {
        out.arg(self.sub());
        match self {
            Incident::Declare { severity, title } => {
                out.arg(severity.as_str()).arg(title);
            }
            Incident::Ack { id }
            | Incident::Show { id }
            | Incident::Resolve { id }
            | Incident::Postmortem { id } => {
                if let Some(id) = id {
                    out.arg(&id.to_string());
                }
            }
            Incident::Note { text } => {
                out.arg(text);
            }
            Incident::Role { role, person } => {
                out.arg(role.as_str()).arg(person);
            }
            Incident::Status { status } => {
                out.arg(status.as_str());
            }
            Incident::Severity { severity, reason } => {
                out.arg(severity.as_str()).arg(reason);
            }
            Incident::List => {}
            Incident::Review { approval } => {
                if let Some(a) = approval {
                    out.arg(a.as_str());
                }
            }
            Incident::BreakGlass { change, reason } => {
                match change {
                    BreakGlassChange::Rollback => out.arg("rollback"),
                    BreakGlassChange::Scale { replicas } => {
                        out.arg("scale").arg(&replicas.to_string())
                    }
                };
                out.arg(reason);
            }
        }
    }
}

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    let sub = args.required(
        "sub-command (declare, ack, note, role, status, severity, list, show, resolve, …)",
    )?;
    let incident = match sub.to_ascii_lowercase().as_str() {
        "declare" => {
            let severity = typed::<Severity>(args, "severity (P1, P2, P3 or P4)")?;
            let title = text(args, "title", MAX_TITLE_CHARS)?;
            Incident::Declare { severity, title }
        }
        "ack" => Incident::Ack {
            id: optional_id(args)?,
        },
        "note" => Incident::Note {
            text: text(args, "note text", deny::MAX_REASON_CHARS)?,
        },
        "role" => {
            let role = typed::<IncidentRole>(args, "role (commander, comms or scribe)")?;
            let person = args.required("person")?;
            Incident::Role { role, person }
        }
        "status" => Incident::Status {
            status: typed(args, "status")?,
        },
        "severity" => {
            let severity = typed::<Severity>(args, "severity (P1, P2, P3 or P4)")?;
            let reason = text(args, "reason", deny::MAX_REASON_CHARS)?;
            Incident::Severity { severity, reason }
        }
        "list" => Incident::List,
        "show" => Incident::Show {
            id: optional_id(args)?,
        },
        "resolve" => Incident::Resolve {
            id: optional_id(args)?,
        },
        "postmortem" => Incident::Postmortem {
            id: optional_id(args)?,
        },
        "review" => {
            let approval = match args.next_arg() {
                Some(given) => Some(given.parse().map_err(
                    |e: super::approval_id::BadApprovalId| {
                        args.bad_value("approval id", &given, e.to_string())
                    },
                )?),
                None => None,
            };
            Incident::Review { approval }
        }
        "breakglass" | "break-glass" => breakglass(args)?,
        _ => {
            return Err(args.bad_value(
                "incident sub-command",
                &sub,
                "use declare, ack, note, role, status, severity, list, show, resolve, postmortem, review or breakglass",
            ));
        }
    };
    args.finish()?;
    Ok(Command::Incident(incident))
}

fn breakglass(args: &mut Args) -> Result<Incident, ParseError> {
    let what = args.required("change (rollback or scale N)")?;
    let change = match what.to_ascii_lowercase().as_str() {
        "rollback" => BreakGlassChange::Rollback,
        "scale" => {
            let given = args.required("number of replicas")?;
            let replicas = args.number("number of replicas", &given, 0, 1000)? as u32;
            BreakGlassChange::Scale { replicas }
        }
        _ => {
            return Err(args.bad_value(
                "break-glass change",
                &what,
                "only rollback or scale N may skip approval",
            ));
        }
    };
    let reason = text(
        args,
        "reason (break-glass needs one)",
        deny::MAX_REASON_CHARS,
    )?;
    Ok(Incident::BreakGlass { change, reason })
}

fn typed<T: std::str::FromStr<Err = String>>(
    args: &mut Args,
    what: &'static str,
) -> Result<T, ParseError> {
    let given = args.required(what)?;
    given
        .parse()
        .map_err(|reason: String| args.bad_value(what, &given, reason))
}

/// The rest of the words as required text of at most `max` characters.
fn text(args: &mut Args, what: &'static str, max: usize) -> Result<String, ParseError> {
    match args.rest_text() {
        None => Err(ParseError::MissingArgument {
            what,
            usage: args.spec().usage,
        }),
        Some(t) if t.chars().count() > max => {
            Err(args.bad_value(what, &t, format!("keep it under {max} characters")))
        }
        Some(t) => Ok(t),
    }
}

/// An incident number: `3`, `#3` or `incident-3`.
fn optional_id(args: &mut Args) -> Result<Option<i64>, ParseError> {
    let Some(given) = args.next_arg() else {
        return Ok(None);
    };
    let digits = given.trim_start_matches('#');
    let digits = digits.strip_prefix("incident-").unwrap_or(digits);
    match digits.parse::<i64>() {
        Ok(n) if n > 0 && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(n)),
        _ => Err(args.bad_value(
            "incident number",
            &given,
            "write the incident's number, like 3 or incident-3",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grammar::parse;

    fn inc(text: &str) -> Incident {
        match parse(text) {
            Ok(Command::Incident(i)) => i,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn declare_takes_severity_and_title() {
        assert_eq!(
            inc("incident declare p1 api down — 502s"),
            Incident::Declare {
                severity: Severity::P1,
                title: "api down — 502s".into()
            }
        );
        assert!(
            parse("incident declare P5 x")
                .unwrap_err()
                .to_string()
                .contains("P1, P2, P3 or P4")
        );
        assert!(
            parse("incident declare P1")
                .unwrap_err()
                .to_string()
                .contains("missing title")
        );
    }

    #[test]
    fn ids_in_three_spellings() {
        assert_eq!(inc("incident ack 3"), Incident::Ack { id: Some(3) });
        assert_eq!(inc("incident show #3"), Incident::Show { id: Some(3) });
        assert_eq!(
            inc("incident resolve incident-3"),
            Incident::Resolve { id: Some(3) }
        );
        assert_eq!(inc("incident ack"), Incident::Ack { id: None });
        assert!(parse("incident ack -1").is_err());
        assert!(parse("incident ack 1 2").is_err());
    }

    #[test]
    fn breakglass_only_rollback_or_scale_with_a_reason() {
        assert_eq!(
            inc("incident breakglass scale 8 load --now"),
            Incident::BreakGlass {
                change: BreakGlassChange::Scale { replicas: 8 },
                reason: "load --now".into()
            }
        );
        assert!(
            parse("incident breakglass rollback")
                .unwrap_err()
                .to_string()
                .contains("reason")
        );
        assert!(
            parse("incident breakglass deploy v2 because")
                .unwrap_err()
                .to_string()
                .contains("only rollback")
        );
    }

    #[test]
    fn role_status_review() {
        assert_eq!(
            inc("incident role Scribe carol"),
            Incident::Role {
                role: IncidentRole::Scribe,
                person: "carol".into()
            }
        );
        assert_eq!(
            inc("incident status monitoring"),
            Incident::Status {
                status: IncidentStatus::Monitoring
            }
        );
        assert_eq!(
            inc("incident review a7"),
            Incident::Review {
                approval: Some(ApprovalId::new(7))
            }
        );
        assert!(parse("incident status fixed").is_err());
        assert!(
            parse("incident frobnicate")
                .unwrap_err()
                .to_string()
                .contains("sub-command")
        );
    }

    #[test]
    fn canonical_round_trips() {
        for text in [
            "incident declare P2 \"db  slow\"",
            "incident note 'it''s -- fine'",
            "incident breakglass scale 3 x",
        ] {
            let cmd = parse(text).expect(text);
            assert_eq!(parse(&cmd.canonical()), Ok(cmd), "{text}");
        }
    }
}
