//! db — the app's PostgreSQL database.  Grammar: `db tables` | `db vacuum [TABLE]`
//!
//! Implements the manual's "Database Maintenance": table sizes (read-only) and VACUUM ANALYZE (through approval).
//! A table name is checked for shape here; that it exists is checked against the database when the request is
//! made and again when it runs.

use crate::command::{Change, Read};
use serde::{Deserialize, Serialize};

use super::{Canonical, Command, CommandSpec};
use crate::grammar::{Args, ParseError};

/// Longest part of a table name (PostgreSQL's NAMEDATALEN - 1).
pub const MAX_IDENT_CHARS: usize = 63;

/// How `help` shows `db`.
pub static SPEC: CommandSpec = CommandSpec {
    name: "db",
    aliases: &["database"],
    summary: "The app's database: `db tables` (sizes, largest first) or `db vacuum [TABLE]` (VACUUM ANALYZE; needs approval).",
    usage: "db tables | db vacuum [TABLE]",
    flags: &[],
    examples: &["db tables", "db vacuum", "db vacuum quotes"],
    manual: Some("Maintenance Procedures — Database Maintenance"),
    free_text: false,
    parse,
};

/// Table sizes, largest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbTables;

/// VACUUM ANALYZE of one table (`schema.table` or `table`), or of every user table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbVacuum {
    pub table: Option<String>,
}

fn parse(args: &mut Args) -> Result<Command, ParseError> {
    let action = args.required("action (`tables` or `vacuum`)")?;
    let command = match action.to_ascii_lowercase().as_str() {
        "tables" | "sizes" => Command::Read(Read::DbTables(DbTables)),
        "vacuum" => {
            let table = args.next_arg().map(|t| check_table(args, t)).transpose()?;
            Command::Change(Change::DbVacuum(DbVacuum { table }))
        }
        _ => {
            return Err(args.bad_value(
                "db action",
                &action,
                "use `db tables` or `db vacuum [TABLE]`",
            ));
        }
    };
    args.finish()?;
    Ok(command)
}

/// `name` or `schema.name`, each part a plain SQL identifier.
fn check_table(args: &Args, given: String) -> Result<String, ParseError> {
    let part_ok = |p: &str| {
        !p.is_empty()
            && p.chars().count() <= MAX_IDENT_CHARS
            && p.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    };
    let parts: Vec<&str> = given.split('.').collect();
    if parts.len() <= 2 && parts.iter().all(|p| part_ok(p)) {
        Ok(given)
    } else {
        Err(args.bad_value(
            "table name",
            &given,
            "write `table` or `schema.table` with letters, digits and `_` (see `db tables`)",
        ))
    }
}

impl DbTables {
    pub(crate) fn write_args(&self, out: &mut Canonical) {
        out.arg("tables");
    }
}

impl DbVacuum {
    pub(crate) fn write_args(&self, out: &mut Canonical) {
        out.arg("vacuum");
        if let Some(table) = &self.table {
            out.arg(table);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{DbTables, DbVacuum};
    use crate::command::Command;
    use crate::command::{Change, Read};
    use crate::grammar::{ParseError, parse};

    fn vacuum(table: Option<&str>) -> Result<Command, ParseError> {
        Ok(Command::Change(Change::DbVacuum(DbVacuum {
            table: table.map(str::to_string),
        })))
    }

    #[test]
    fn tables_and_vacuum() {
        assert_eq!(
            parse("db tables"),
            Ok(Command::Read(Read::DbTables(DbTables)))
        );
        assert_eq!(parse("db vacuum"), vacuum(None));
        assert_eq!(
            parse("db VACUUM public.quotes"),
            vacuum(Some("public.quotes"))
        );
        assert_eq!(
            parse("db vacuum quotes").map(|c| c.canonical()),
            Ok("db vacuum quotes".to_string())
        );
        assert_eq!(
            parse("db tables").map(|c| c.canonical()),
            Ok("db tables".to_string())
        );
    }

    #[test]
    fn refuses_injection_and_nonsense() {
        for bad in [
            "db vacuum 'quotes; DROP TABLE x'",
            "db vacuum 'a\"b'",
            "db vacuum a.b.c",
            "db vacuum 1abc",
            "db drop",
        ] {
            assert!(
                matches!(parse(bad), Err(ParseError::BadValue { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            parse("db"),
            Err(ParseError::MissingArgument { .. })
        ));
        assert!(matches!(
            parse("db tables x"),
            Err(ParseError::ExtraArgument { .. })
        ));
        assert!(matches!(
            parse("db vacuum a b"),
            Err(ParseError::ExtraArgument { .. })
        ));
    }
}
