//! Runbook files: the shipped ones load; malformed ones are reported with file, line and reason and never stop
//! the others from loading; conditions drive the run's state machine.

use std::path::{Path, PathBuf};

use chrono::Utc;
use mystocks_commands::Conversation;
use mystocks_commands::runbook::run::{Next, StepOutcome};
use mystocks_commands::runbook::{
    Fact, Grade, RunState, RunStatus, RunbookSet, StepAction, StepFacts, load_dir,
};

fn shipped_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../runbooks")
}

fn one(text: &str) -> RunbookSet {
    RunbookSet::from_texts([(PathBuf::from("runbooks/bad.toml"), text)])
}

/// The single problem of a one-file set: (line, reason).
fn problem(text: &str) -> (Option<usize>, String) {
    let set = one(text);
    assert!(
        set.runbooks.is_empty(),
        "expected a problem, got a runbook for:\n{text}"
    );
    assert_eq!(set.problems.len(), 1, "{:?}", set.problems);
    let p = &set.problems[0];
    assert_eq!(p.file, PathBuf::from("runbooks/bad.toml"));
    (p.line, p.reason.clone())
}

const GOOD: &str = r#"title = "T"
when = "W"

[[steps]]
id = "usage"
title = "Check"
run = "top"
"#;

#[test]
fn the_shipped_runbooks_load_without_problems() {
    let set = load_dir(&shipped_dir());
    assert!(
        set.problems.is_empty(),
        "{:?}",
        set.problems
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
    );
    let names: Vec<&str> = set.runbooks.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "db-pool-exhausted",
            "high-cpu",
            "high-error-rate",
            "high-latency"
        ]
    );
    let cpu = set.get("high-cpu").expect("high-cpu");
    assert_eq!(cpu.title, "High CPU usage");
    assert!(
        cpu.steps[1].is_change(),
        "the scale step goes through approval"
    );
    assert!(matches!(&cpu.steps[1].action, StepAction::Run(c) if c.canonical() == "scale 10"));
    let pool = set.get("db-pool-exhausted").expect("pool runbook");
    assert!(
        pool.steps
            .iter()
            .any(|s| matches!(&s.action, StepAction::Say(t) if t.contains("Increase pool size")))
    );
}

#[test]
fn a_good_file_loads_with_defaults() {
    let set = one(GOOD);
    assert!(set.problems.is_empty(), "{:?}", set.problems);
    let rb = &set.runbooks[0];
    assert_eq!(rb.name, "bad");
    assert_eq!(rb.steps[0].id, "usage");
}

#[test]
fn toml_syntax_errors_name_the_line() {
    let (line, reason) =
        problem("title = \"T\"\nwhen = \"W\"\n[[steps]]\ntitle = \"x\nrun = \"top\"\n");
    assert_eq!(line, Some(4));
    assert!(reason.contains("not valid runbook TOML"), "{reason}");
}

#[test]
fn unknown_and_missing_fields_are_named() {
    let (line, reason) = problem(&GOOD.replace("run = \"top\"", "run = \"top\"\nrum = \"x\""));
    assert_eq!(line, Some(8), "{reason}");
    assert!(reason.contains("rum"), "{reason}");
    let (line, reason) = problem(&GOOD.replace("when = \"W\"\n", ""));
    assert_eq!(line, Some(1));
    assert!(reason.contains("`when` is missing"), "{reason}");
    let (_, reason) = problem("title = \"T\"\nwhen = \"W\"\n");
    assert!(reason.contains("at least one `[[steps]]`"), "{reason}");
}

#[test]
fn bad_commands_are_refused_with_their_line() {
    let (line, reason) = problem(&GOOD.replace("run = \"top\"", "run = \"scael 10\""));
    assert_eq!(line, Some(7));
    assert!(
        reason.contains("step 1") && reason.contains("scael"),
        "{reason}"
    );
    let (_, reason) = problem(&GOOD.replace("run = \"top\"", "run = \"approve A1\""));
    assert!(reason.contains("cannot"), "{reason}");
    let (_, reason) = problem(&GOOD.replace("run = \"top\"", "run = \"freeze now\""));
    assert!(reason.contains("cannot"), "{reason}");
    let (_, reason) = problem(&GOOD.replace("run = \"top\"", "run = \"whoami\""));
    assert!(reason.contains("cannot be a runbook step"), "{reason}");
    let (_, reason) = problem(&GOOD.replace("run = \"top\"", "run = \"top\"\nsay = \"hi\""));
    assert!(reason.contains("both `run` and `say`"), "{reason}");
    let (line, reason) = problem(&GOOD.replace("run = \"top\"\n", ""));
    assert_eq!(line, Some(4));
    assert!(reason.contains("needs `run"), "{reason}");
}

#[test]
fn conditions_must_name_earlier_steps_and_their_facts() {
    let two = format!(
        "{GOOD}\n[[steps]]\nid = \"more\"\ntitle = \"Scale\"\nrun = \"scale 5\"\nif = \"COND\"\n"
    );
    let (line, reason) = problem(&two.replace("COND", "usage.cpu > 500"));
    assert_eq!(line, Some(13));
    assert!(
        reason.contains("no fact `cpu`") && reason.contains("cpu_max_millicores"),
        "{reason}"
    );
    let (_, reason) = problem(&two.replace("COND", "later.cpu_max_millicores > 500"));
    assert!(reason.contains("names no earlier step `later`"), "{reason}");
    let (_, reason) = problem(&two.replace("COND", "more.done"));
    assert!(
        reason.contains("names no earlier step `more`"),
        "a step's `if` cannot read itself: {reason}"
    );
    let (_, reason) = problem(&two.replace("COND", "usage.cpu_max_millicores >> 5"));
    assert!(reason.contains("column"), "{reason}");
    assert!(
        one(&two.replace(
            "COND",
            "usage.cpu_max_millicores > 500 and usage.level >= warn"
        ))
        .problems
        .is_empty()
    );
}

#[test]
fn duplicate_ids_and_names_are_refused() {
    let dup = format!("{GOOD}\n[[steps]]\nid = \"usage\"\ntitle = \"Again\"\nrun = \"pods\"\n");
    let (line, reason) = problem(&dup);
    assert_eq!(line, Some(10));
    assert!(reason.contains("used by an earlier step"), "{reason}");
    let set = RunbookSet::from_texts([
        (PathBuf::from("a.toml"), GOOD),
        (
            PathBuf::from("b.toml"),
            &*GOOD.replace("title = \"T\"", "name = \"a\"\ntitle = \"T\""),
        ),
    ]);
    assert_eq!(set.runbooks.len(), 1);
    assert!(
        set.problems[0].reason.contains("already used"),
        "{:?}",
        set.problems
    );
}

#[test]
fn a_directory_with_a_bad_file_still_loads_the_good_ones() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("good.toml"), GOOD).expect("write");
    std::fs::write(dir.path().join("broken.toml"), "title = \n").expect("write");
    std::fs::write(dir.path().join("binary.toml"), [0xff, 0xfe, 0x00]).expect("write");
    std::fs::write(dir.path().join("notes.md"), "not a runbook").expect("write");
    let set = load_dir(dir.path());
    assert_eq!(set.runbooks.len(), 1);
    let shown: Vec<String> = set.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(
        shown.iter().any(|s| s.contains("broken.toml:1:")),
        "{shown:?}"
    );
    assert!(
        shown
            .iter()
            .any(|s| s.contains("binary.toml") && s.contains("UTF-8")),
        "{shown:?}"
    );
    let missing = load_dir(&dir.path().join("nope"));
    assert!(missing.runbooks.is_empty());
    assert!(
        missing.problems[0]
            .reason
            .contains("cannot read the runbooks directory"),
        "{:?}",
        missing.problems
    );
}

fn high_cpu_run() -> RunState {
    let set = load_dir(&shipped_dir());
    let rb = set.get("high-cpu").expect("high-cpu").clone();
    let conv = Conversation {
        channel: "console:main".into(),
        thread: Some("m1".into()),
    };
    RunState::new(
        "R1".into(),
        rb,
        conv,
        "console:alice".into(),
        "Alice".into(),
        Utc::now(),
    )
}

#[test]
fn the_run_skips_the_scale_when_cpu_is_fine() {
    let mut run = high_cpu_run();
    assert_eq!(run.next(), Next::Step(0));
    run.complete(
        0,
        &StepFacts::graded(Grade::Ok).number(Fact::CpuMaxMillicores, 130.0),
        "3 pods".into(),
    );
    assert_eq!(run.next(), Next::Step(1));
    let why = run.should_run(1).expect_err("no scale needed");
    assert_eq!(why, "usage.cpu_max_millicores (130) > 500");
    run.skip(1, &why);
    assert!(
        run.should_run(2).is_err(),
        "the after-check only follows a scale"
    );
    run.skip(2, "scale.done");
    assert_eq!(run.next(), Next::Finish);
    assert_eq!(run.records[1].outcome, StepOutcome::Skipped);
    assert_eq!(run.verdict(), Grade::Ok);
}

#[test]
fn the_run_waits_for_the_approval_and_checks_its_expectation() {
    let mut run = high_cpu_run();
    run.complete(
        0,
        &StepFacts::graded(Grade::Warn).number(Fact::CpuMaxMillicores, 912.0),
        "hot".into(),
    );
    assert!(run.should_run(1).is_ok());
    run.wait_for("A1");
    assert_eq!(run.next(), Next::Wait);
    assert!(
        !run.decided("A2", true, true, "other".into()),
        "only the awaited approval resumes it"
    );
    assert!(run.decided("A1", true, true, "scaled".into()));
    assert!(
        !run.decided("A1", true, true, "again".into()),
        "a second resume changes nothing"
    );
    assert_eq!(run.status, RunStatus::Running);
    assert!(run.should_run(2).is_ok());
    run.complete(
        2,
        &StepFacts::graded(Grade::Ok).number(Fact::CpuMaxMillicores, 340.0),
        "cooler".into(),
    );
    let (held, shown) = run.records[2]
        .expectation
        .clone()
        .expect("expectation checked");
    assert!(held, "{shown}");
    assert_eq!(
        shown,
        "after.cpu_max_millicores (340) < usage.cpu_max_millicores (912)"
    );
    assert_eq!(
        run.verdict(),
        Grade::Ok,
        "the warning before the fix no longer counts"
    );
    let back: RunState =
        serde_json::from_value(serde_json::to_value(&run).expect("json")).expect("round trip");
    assert_eq!(back, run);
}

#[test]
fn a_denied_change_resumes_without_its_follow_up() {
    let mut run = high_cpu_run();
    run.complete(
        0,
        &StepFacts::graded(Grade::Warn).number(Fact::CpuMaxMillicores, 912.0),
        "hot".into(),
    );
    run.wait_for("A1");
    assert!(run.decided("A1", false, false, "denied by Bob".into()));
    assert_eq!(run.records[1].outcome, StepOutcome::NotChanged);
    assert!(run.should_run(2).is_err());
    assert_eq!(run.verdict(), Grade::Warn);
}
