//! Tests over the whole command set: specs are consistent, examples parse, canonical forms round-trip.

use std::collections::BTreeSet;

use super::*;

/// Examples with a `<placeholder>` are illustrations, not texts to run.
fn runnable_examples() -> impl Iterator<Item = (&'static CommandSpec, &'static str)> {
    specs()
        .flat_map(|s| s.examples.iter().map(move |e| (s, *e)))
        .filter(|(_, e)| !e.contains('<'))
}

#[test]
fn names_and_aliases_are_unique_and_lower_case() {
    let mut seen = BTreeSet::new();
    for spelling in all_spellings() {
        assert!(seen.insert(spelling), "`{spelling}` is used twice");
        assert_eq!(spelling, spelling.to_ascii_lowercase());
    }
    assert_eq!(SPECS.len(), 28); // … incident, oncall, runbook
}

#[test]
fn every_spec_has_help_and_a_first_example_that_parses_to_itself() {
    for spec in specs() {
        assert!(
            !spec.summary.is_empty() && spec.usage.starts_with(spec.name),
            "{}",
            spec.name
        );
        let first = spec.examples.first().expect("an example");
        let command = Command::parse(first).unwrap_or_else(|e| panic!("{first}: {e}"));
        assert_eq!(command.spec().name, spec.name, "{first}");
        for flag in spec.flags {
            assert!(
                spec.usage.contains(flag.value),
                "{}: usage lacks {}",
                spec.name,
                flag.value
            );
        }
    }
}

#[test]
fn every_example_round_trips_through_canonical_text_and_serde() {
    for (spec, example) in runnable_examples() {
        let command = Command::parse(example).unwrap_or_else(|e| panic!("{example}: {e}"));
        assert_eq!(command.name(), spec.name);
        assert_eq!(
            Command::parse(&command.canonical()),
            Ok(command.clone()),
            "{example}"
        );
        assert_eq!(command.to_string(), command.canonical());
        let json = serde_json::to_string(&command).expect("serialise");
        assert_eq!(
            serde_json::from_str::<Command>(&json).expect("deserialise"),
            command,
            "{json}"
        );
    }
}

#[test]
fn every_variant_is_reachable_from_text() {
    let mut names = BTreeSet::new();
    for (_, example) in runnable_examples() {
        if let Ok(command) = Command::parse(example) {
            // `Read(Pods(…))`: the variant is the one inside the kind; an incident is one variant.
            let debug = format!("{command:?}");
            let mut parts = debug.split(['(', ' ']);
            let kind = parts.next().unwrap_or_default();
            let variant = match kind {
                "Incident" => kind,
                _ => parts.next().unwrap_or_default(),
            };
            names.insert(variant.to_string());
        }
    }
    assert_eq!(names.len(), 31, "{names:?}");
}

#[test]
fn find_accepts_names_and_aliases() {
    assert_eq!(find("undo").map(|s| s.name), Some("rollback"));
    assert_eq!(find("PODS").map(|s| s.name), Some("pods"));
    assert!(find("meltdown").is_none());
}

#[test]
fn flag_lookup_by_long_or_short_name() {
    assert_eq!(pods::SPEC.flag("l").map(|f| f.long), Some("selector"));
    assert_eq!(
        pods::SPEC.flag("selector").map(|f| f.long),
        Some("selector")
    );
    assert!(pods::SPEC.flag("s").is_none());
    assert!(logs::SPEC.flag("").is_none());
}
