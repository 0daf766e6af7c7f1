//! `mystocks-bot check-config` through the binary: exit 0 with a redacted "what connects where" summary, or
//! exit 1 naming every problem; `run` refuses clearly without a chat adapter.

use std::process::{Command, Output};

fn bot(args: &[&str], config: &str, env: &[(&str, &str)]) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bot.toml");
    std::fs::write(&path, config).expect("config written");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mystocks-bot"));
    cmd.args(args)
        .arg("--config")
        .arg(&path)
        .env_remove("RUST_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    (cmd.output().expect("mystocks-bot runs"), dir)
}

const CONFIG: &str = r#"
[store]
url = "postgres://bot:store-pw-1@db.internal:5432/bot"
[coordinator]
redis_url = "redis://:redis-pw-2@cache:6379/0"
[slack]
bot_token = "xoxb-token-3"
signing_secret = "signing-4"
team_id = "T0123ABCD"
api_app_id = "A0123ABCD"
"#;

#[test]
fn a_valid_config_shows_where_it_connects_without_secrets() {
    let key = "k".repeat(40);
    let (out, _dir) = bot(
        &["check-config"],
        CONFIG,
        &[("MYSTOCKS_BOT__AUDIT__HMAC_KEY", &key)],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}\n{stdout}");
    assert!(
        stdout.contains("postgres://bot:***@db.internal:5432/bot"),
        "{stdout}"
    );
    assert!(stdout.contains("redis://:***@cache:6379/0"), "{stdout}");
    assert!(
        stdout.contains("deployment mystocks/mystocks-api"),
        "{stdout}"
    );
    assert!(
        stdout.contains("answers in the slash command's response when ready within 2000 ms")
            && stdout.contains("no roles from user groups"),
        "{stdout}"
    );
    for secret in [
        "store-pw-1",
        "redis-pw-2",
        "xoxb-token-3",
        "signing-4",
        key.as_str(),
    ] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{secret} shown:\n{stdout}\n{stderr}"
        );
    }
}

#[test]
fn an_invalid_config_exits_1_naming_each_problem() {
    let (out, _dir) = bot(
        &["check-config"],
        "[service]\napi_url = \"not a url\"\n",
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "service.api_url",
        "audit.hmac_key is missing",
        "no chat adapter configured",
    ] {
        assert!(stderr.contains(needle), "{needle} not in {stderr}");
    }
}

#[test]
fn slack_without_its_workspace_and_app_ids_is_an_error_naming_what_to_set() {
    let key = "k".repeat(40);
    let config = CONFIG
        .replace("team_id = \"T0123ABCD\"\n", "")
        .replace("api_app_id = \"A0123ABCD\"\n", "");
    let (out, _dir) = bot(
        &["check-config"],
        &config,
        &[("MYSTOCKS_BOT__AUDIT__HMAC_KEY", &key)],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "slack.team_id is missing: set `team_id` in [slack] or MYSTOCKS_BOT__SLACK__TEAM_ID",
        "slack.api_app_id is missing: set `api_app_id` in [slack] or MYSTOCKS_BOT__SLACK__API_APP_ID",
    ] {
        assert!(stderr.contains(needle), "{needle} not in {stderr}");
    }
}

#[test]
fn run_without_a_chat_adapter_says_so() {
    let key = "k".repeat(40);
    let (out, _dir) = bot(
        &["run"],
        "[audit]\n",
        &[("MYSTOCKS_BOT__AUDIT__HMAC_KEY", &key)],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no chat adapter configured"), "{stderr}");
}
