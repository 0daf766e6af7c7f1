//! Property tests of the grammar (the fuzz target; cargo-fuzz needs nightly, this runs on stable):
//! no input makes `parse` panic, and a parsed command's canonical text parses back to the same command.
//!
//! Run: `cargo nextest run -p mystocks-commands --test grammar_props` (`PROPTEST_CASES=100000` for a long run).

use mystocks_commands::command::{self, Command};
use mystocks_commands::grammar::{self, parse};
use mystocks_commands::invocation::Addressing;
use proptest::prelude::*;

/// Argument words that make texts likely to parse: flags, numbers, ids, tags, quotes, and some noise.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(vec![
            "--tail", "--grep", "--since", "-l", "--selector", "--to-revision", "--help", "-h", "--", "verify",
            "deployment", "A12", "a7", "v1.0.3", "mystocks/api:v2", "app=api", "15m", "2h", "'", "\"", "“", "”",
            "\\", "=", "--tail=5", "-l=x", "/mystocks", "api-1", "scale", "\"two words\"", "'it''s'",
        ])
        .prop_map(str::to_string),
        3 => (0u64..600).prop_map(|n| n.to_string()),
        1 => "[a-z0-9 ._'\"=-]{0,12}",
        1 => any::<String>(),
    ]
}

/// A command name (or alias, or a near miss) followed by a few argument words.
fn text() -> impl Strategy<Value = String> {
    let mut names: Vec<String> = command::all_spellings().map(str::to_string).collect();
    names.extend(["/mystocks status", "!mystocks pods", "scael", "STATUS"].map(str::to_string));
    let separator = proptest::sample::select(vec![" ", "  ", "\t", "\n", "\u{200B}"]);
    (
        proptest::sample::select(names),
        proptest::collection::vec((separator, word()), 0..4),
    )
        .prop_map(|(name, rest)| {
            rest.into_iter()
                .fold(name, |text, (sep, w)| format!("{text}{sep}{w}"))
        })
}

/// 4,000 cases per property, or `PROPTEST_CASES` for a longer run.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4000)
}

fn assert_round_trip(command: &Command) {
    let canonical = command.canonical();
    assert_eq!(
        parse(&canonical).as_ref(),
        Ok(command),
        "canonical `{canonical}`"
    );
    assert_eq!(
        parse(&canonical).map(|c| c.canonical()),
        Ok(canonical.clone()),
        "canonical is stable"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn arbitrary_strings_never_panic(input in any::<String>()) {
        let _ = parse(&input);
        for addressing in [Addressing::Direct, Addressing::ThreadMessage] {
            let _ = grammar::parse_addressed(addressing, &input, true);
        }
    }

    #[test]
    fn command_like_texts_never_panic_and_round_trip(input in text()) {
        if let Ok(command) = parse(&input) {
            assert_round_trip(&command);
        } else if let Err(err) = parse(&input) {
            // Errors are short and name something to do.
            let message = err.to_string();
            prop_assert!(message.chars().count() < 400, "{message}");
        }
    }

    #[test]
    fn free_text_reasons_round_trip(reason in any::<String>()) {
        for prefix in ["deny A3 ", "freeze "] {
            if let Ok(command) = parse(&format!("{prefix}{reason}")) {
                assert_round_trip(&command);
            }
        }
    }

    #[test]
    fn grep_patterns_round_trip(pattern in any::<String>()) {
        let quoted = command::quote(&pattern);
        if let Ok(command) = parse(&format!("logs --grep {quoted}")) {
            assert_round_trip(&command);
        }
    }
}

/// The round-trip property means something only if many generated texts parse.
#[test]
fn generated_texts_often_parse() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = text();
    let mut parsed = 0;
    for _ in 0..2000 {
        let input = strategy.new_tree(&mut runner).expect("a value").current();
        if let Ok(command) = parse(&input) {
            parsed += 1;
            assert_round_trip(&command);
        }
    }
    assert!(
        parsed >= 200,
        "only {parsed} of 2000 generated texts parsed"
    );
}

#[test]
fn very_long_and_odd_inputs_are_refused_not_panicked() {
    for input in [
        "x".repeat(1_000_000),
        "\"".repeat(5000),
        "'".repeat(5000),
        "\\".repeat(5000),
        "-".repeat(5000),
        "scale ".to_string() + &"9".repeat(4000),
        "\u{0}\u{1}\u{7f}".to_string(),
        "logs --grep \"a\\".to_string(),
        "🚀".repeat(1000),
        "é".repeat(2000),
    ] {
        let _ = parse(&input);
    }
}
