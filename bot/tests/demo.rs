//! The demo binary end to end: a transcript piped into `mystocks-bot demo --format json` comes out as one JSON
//! object per line with the stable fields, message ids in order, and the process exits at end of input.

mod support;

use support::demo;

const TRANSCRIPT: &str = "\
# carol looks, alice asks, bob decides
:as carol
pods
:as alice
scale 5
:thread incident-1
status
:thread
:as bob
help
:bogus
";

#[test]
fn piped_transcript_gives_one_json_object_per_line() {
    let out = demo(&["--format", "json", "--speed", "50"], TRANSCRIPT);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed: {stderr}\n{stdout}");
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {l}\nstderr: {stderr}"))
        })
        .collect();
    for r in &records {
        for field in [
            "kind",
            "level",
            "text",
            "message_id",
            "update",
            "thread",
            "private_to",
            "approval",
            "header",
        ] {
            assert!(r.get(field).is_some(), "field {field} missing in {r}");
        }
        assert!(r["text"].is_string() && r["update"].is_boolean(), "{r}");
    }
    // every new message gets the next id; updates repeat an id already seen
    let mut next = 1;
    for r in records.iter().filter(|r| r["kind"] != "console") {
        let id = r["message_id"].as_str().unwrap_or_default().to_string();
        if r["update"] == true {
            let n: usize = id.trim_start_matches('m').parse().unwrap_or(usize::MAX);
            assert!(n < next, "update of {id} before it was posted");
        } else {
            assert_eq!(id, format!("m{next}"), "{r}");
            next += 1;
        }
    }
    assert!(next > 4, "each of the four commands is answered: {stdout}");
    // the thread switch reaches the replies, and the malformed directive is reported, not sent to the bot
    assert!(
        records.iter().any(|r| r["thread"] == "incident-1"),
        "{stdout}"
    );
    let console: Vec<_> = records.iter().filter(|r| r["kind"] == "console").collect();
    assert_eq!(console.len(), 1, "{stdout}");
    assert!(
        console[0]["text"]
            .as_str()
            .unwrap_or_default()
            .contains(":bogus")
    );
}

#[test]
fn piped_text_is_a_readable_transcript_without_prompts_waiting() {
    let out = demo(&["--speed", "50"], ":as dave\nwhoami\n");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("alice@main> :as dave\ndave@main> whoami\n[m1] bot"),
        "{stdout}"
    );
}

#[test]
fn unknown_scenario_is_refused_before_starting() {
    let out = demo(&["--scenario", "meteor"], "");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown scenario `meteor`"), "{stderr}");
}
