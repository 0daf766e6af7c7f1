//! Running the `mystocks-bot` binary in tests: pipe a transcript into `demo` and collect its output.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `mystocks-bot demo ARGS` with `transcript` on stdin until it exits.
pub fn demo(args: &[&str], transcript: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mystocks-bot"))
        .arg("demo")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mystocks-bot starts");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin
        .write_all(transcript.as_bytes())
        .expect("transcript written");
    drop(stdin);
    child.wait_with_output().expect("mystocks-bot exits")
}

/// Runs the demo with `--format json` and parses every stdout line; panics with the output when the demo fails
/// or a line is not JSON.
#[allow(dead_code)] // not every test binary uses every helper
pub fn demo_json(args: &[&str], transcript: &str) -> Vec<serde_json::Value> {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let out = demo(&all, transcript);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed: {stderr}\n{stdout}");
    stdout
        .lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {l}\nstderr: {stderr}"))
        })
        .collect()
}
