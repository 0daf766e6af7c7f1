//! Tests of the tokenizer, the prefix, did-you-mean errors and thread addressing.

use super::*;
use crate::command::{Change, Read};
use crate::command::{Pods, Scale, Status};

fn words(text: &str) -> Vec<String> {
    tokenize(text)
        .expect("tokenizes")
        .into_iter()
        .map(|t| t.text)
        .collect()
}

#[test]
fn tokenizer_handles_quotes_and_separators() {
    assert_eq!(words("  a\tb  c "), ["a", "b", "c"]);
    assert_eq!(words("c:\\x"), ["c:\\x"]);
    assert_eq!(words("a\tb\nc\u{200B}d"), ["a", "b", "c", "d"]);
    assert_eq!(
        words("\"a b\" 'c d' “e f” ‘g h’"),
        ["a b", "c d", "e f", "g h"]
    );
    assert_eq!(words("--grep=\"a b\"x"), ["--grep=a bx"]);
    assert_eq!(words("--grep='a b'"), ["--grep=a b"]);
    assert_eq!(words("\"say \\\"hi\\\"\""), ["say \"hi\""]);
    assert_eq!(words("don't stop"), ["don't", "stop"]);
    assert_eq!(words("'tis fine"), ["'tis", "fine"]);
    assert_eq!(words("\"\""), [""]);
}

#[test]
fn tokenizer_rejects_what_it_cannot_read() {
    assert_eq!(
        tokenize("scale \"5"),
        Err(ParseError::UnterminatedQuote { quote: '"' })
    );
    assert_eq!(
        tokenize("scale\u{7}5"),
        Err(ParseError::ControlCharacter { codepoint: 7 })
    );
    assert_eq!(
        tokenize("a\u{202E}b"),
        Err(ParseError::ControlCharacter { codepoint: 0x202E })
    );
    let long = "x".repeat(MAX_INPUT_BYTES + 1);
    assert!(matches!(tokenize(&long), Err(ParseError::TooLong { .. })));
}

#[test]
fn quoted_words_are_never_flags() {
    assert!(matches!(
        parse("pods \"-l\" x"),
        Err(ParseError::ExtraArgument { .. })
    ));
    assert!(matches!(
        parse("status \"--help\""),
        Err(ParseError::ExtraArgument { .. })
    ));
}

#[test]
fn bot_prefix_is_stripped() {
    assert_eq!(
        parse("/mystocks status"),
        Ok(Command::Read(Read::Status(Status)))
    );
    assert_eq!(
        parse("!MyStocks scale 5"),
        Ok(Command::Change(Change::Scale(Scale { replicas: 5 })))
    );
    assert_eq!(parse("/mystocks"), Err(ParseError::Empty));
    assert_eq!(parse("   "), Err(ParseError::Empty));
}

#[test]
fn names_are_case_insensitive() {
    assert_eq!(parse("STATUS"), Ok(Command::Read(Read::Status(Status))));
    assert_eq!(
        parse("Pods -L app=x"),
        Ok(Command::Read(Read::Pods(Pods {
            selector: Some("app=x".into())
        })))
    );
}

#[test]
fn unknown_command_suggests() {
    assert_eq!(
        parse("scael 5").map_err(|e| e.to_string()),
        Err("unknown command `scael` — did you mean `scale`? (`help` lists commands)".to_string())
    );
    assert_eq!(
        parse("kubectl get pods").map_err(|e| e.to_string()),
        Err("unknown command `kubectl` (`help` lists commands)".to_string())
    );
    assert!(parse("rollbak").is_err_and(|e| e.to_string().contains("`rollback`")));
}

#[test]
fn errors_never_echo_a_paste() {
    let text = format!("{} 1", "z".repeat(3000));
    let message = parse(&text).expect_err("unknown").to_string();
    assert!(message.len() < 200, "{message}");
}

#[test]
fn double_dash_ends_flags() {
    assert!(matches!(
        parse("logs -- --tail"),
        Err(ParseError::BadValue { .. })
    ));
}

#[test]
fn direct_mentions_and_actions_are_always_addressed() {
    for addressing in [Addressing::Direct, Addressing::Mention, Addressing::Action] {
        assert_eq!(
            addressed_command(addressing, "scale looks fine", false),
            Some("scale looks fine")
        );
    }
}

#[test]
fn thread_talk_is_a_command_only_in_incident_threads_with_an_exact_name_first() {
    let thread = Addressing::ThreadMessage;
    assert_eq!(addressed_command(thread, "scale 5", true), Some("scale 5"));
    assert_eq!(
        addressed_command(thread, "  status", true),
        Some("  status")
    );
    assert_eq!(addressed_command(thread, "scale looks fine", false), None);
    assert_eq!(addressed_command(thread, "Scale 5", true), None);
    assert_eq!(addressed_command(thread, "status?", true), None);
    assert_eq!(addressed_command(thread, "undo", true), None);
    assert_eq!(
        addressed_command(thread, "I think we should scale", true),
        None
    );
    assert_eq!(addressed_command(thread, "", true), None);
}

#[test]
fn parse_addressed_drops_thread_talk_that_does_not_parse() {
    let thread = Addressing::ThreadMessage;
    assert_eq!(parse_addressed(thread, "status is bad", true), None);
    assert_eq!(
        parse_addressed(thread, "status", true),
        Some(Ok(Command::Read(Read::Status(Status))))
    );
    assert!(matches!(
        parse_addressed(Addressing::Direct, "status is bad", false),
        Some(Err(_))
    ));
    assert_eq!(parse_addressed(thread, "status", false), None);
}

#[test]
fn flag_errors_name_the_flag_as_typed() {
    assert_eq!(
        parse("pods -l").map_err(|e| e.to_string()),
        Err("flag `-l` needs a value — usage: `pods [-l SELECTOR]`".to_string())
    );
    assert_eq!(
        parse("logs --tail 5 --TAIL=6").map_err(|e| e.to_string()),
        Err("flag `--TAIL` is given twice — usage: `logs [POD|deployment] [--tail N] [--grep PATTERN]`".to_string())
    );
}
