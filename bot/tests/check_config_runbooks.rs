//! `check-config` and runbooks: a malformed runbook file is named with its file, line and reason (exit 1, the
//! bot would run without it); good ones are counted in the summary.

use std::path::Path;
use std::process::{Command, Output};

const GOOD: &str = "title = \"T\"\nwhen = \"W\"\n\n[[steps]]\ntitle = \"Check\"\nrun = \"top\"\n";

fn check_config(runbooks: &Path) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bot.toml");
    let config = format!(
        "[store]\nurl = \"sqlite://{}\"\n[slack]\nbot_token = \"xoxb-t\"\nsigning_secret = \"s\"\nteam_id = \"T1\"\napi_app_id = \"A1\"\n[runbooks]\ndirectory = \"{}\"\n",
        dir.path().join("bot.db").display(),
        runbooks.display()
    );
    std::fs::write(&path, config).expect("config written");
    Command::new(env!("CARGO_BIN_EXE_mystocks-bot"))
        .args(["check-config", "--config"])
        .arg(&path)
        .env_remove("RUST_LOG")
        .env("MYSTOCKS_BOT__AUDIT__HMAC_KEY", "k".repeat(40))
        .output()
        .expect("mystocks-bot runs")
}

#[test]
fn good_runbooks_are_counted_in_the_summary() {
    let runbooks = tempfile::tempdir().expect("tempdir");
    std::fs::write(runbooks.path().join("check.toml"), GOOD).expect("write");
    let out = check_config(runbooks.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("runbooks:") && stdout.contains("1 runbook(s) from"),
        "{stdout}"
    );
}

#[test]
fn a_malformed_runbook_is_named_with_file_line_and_reason() {
    let runbooks = tempfile::tempdir().expect("tempdir");
    std::fs::write(runbooks.path().join("check.toml"), GOOD).expect("write");
    let bad = GOOD.replace("run = \"top\"", "run = \"top\"\nif = \"usage.cpu > 5\"");
    std::fs::write(runbooks.path().join("broken.toml"), bad).expect("write");
    let out = check_config(runbooks.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("broken.toml:7:"), "file and line: {stderr}");
    assert!(
        stderr.contains("names no earlier step `usage`"),
        "the reason: {stderr}"
    );
    assert!(
        stdout.contains("1 runbook(s) from") && stdout.contains("1 file(s) with problems"),
        "{stdout}"
    );
}
