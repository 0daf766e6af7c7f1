//! Settings tests: file + environment layering, clear errors naming the key, no secret in `Debug`.

// figment's `Jail` closures must return `figment::Result`, whose error is large; nothing to box here.
#![allow(clippy::result_large_err)]

use figment::Jail;
use secrecy::ExposeSecret;

use super::*;

const KEY: &str = "0123456789abcdef0123456789abcdef";

fn valid_file() -> String {
    format!(
        r#"
[service]
namespace = "shop"

[store]
url = "postgres://bot:db-password-1@db.internal:5432/bot"

[coordinator]
redis_url = "redis://:redis-password-2@cache:6379/0"

[audit]
hmac_key = "{KEY}"

[slack]
bot_token = "xoxb-slack-token-3"
signing_secret = "signing-secret-4"
team_id = "T1"
api_app_id = "A1"

[policy]
expiry = "10m"

[[people.persons]]
id = "alice"
identities = ["console:alice", "slack:T1/UALICE"]
roles = ["operator"]
"#
    )
}

fn load(jail: &Jail) -> Result<Settings, SettingsError> {
    Settings::load(&jail.directory().join("bot.toml"))
}

#[test]
fn file_values_and_defaults_load() {
    Jail::expect_with(|jail| {
        jail.create_file("bot.toml", &valid_file())?;
        let s = load(jail).map_err(|e| e.to_string())?;
        assert_eq!(s.service.namespace, "shop");
        assert_eq!(s.service.deployment, "mystocks-api");
        assert_eq!(s.service.selector, "app=mystocks-api");
        assert_eq!(s.store.effective_url().scheme(), "postgres");
        assert_eq!(
            s.audit
                .hmac_key
                .as_ref()
                .map(|k| k.expose_secret().to_string()),
            Some(KEY.to_string())
        );
        assert_eq!(s.server.listen.port(), 8080);
        assert_eq!(s.policy.expiry.as_secs(), 600);
        assert_eq!(s.policy.quorum, 1);
        assert_eq!(s.people.persons.len(), 1);
        Ok(())
    });
}

#[test]
fn environment_overrides_the_file() {
    Jail::expect_with(|jail| {
        jail.create_file("bot.toml", &valid_file())?;
        jail.set_env("MYSTOCKS_BOT__SERVICE__NAMESPACE", "other");
        jail.set_env("MYSTOCKS_BOT__RATE_LIMIT__READ_PER_MINUTE", "7");
        // an all-digit secret is parsed as a number by figment; it must still be taken as the secret
        jail.set_env(
            "MYSTOCKS_BOT__AUDIT__HMAC_KEY",
            "11111111111111111111111111111111111",
        );
        let s = load(jail).map_err(|e| e.to_string())?;
        assert_eq!(s.service.namespace, "other");
        assert_eq!(s.service.deployment, "mystocks-api");
        assert_eq!(s.rate_limit.read_per_minute, 7);
        let key = s
            .audit
            .hmac_key
            .as_ref()
            .map(|k| k.expose_secret().to_string());
        assert_eq!(key.as_deref(), Some("11111111111111111111111111111111111"));
        Ok(())
    });
}

#[test]
fn missing_hmac_key_names_the_key_and_the_variable() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "bot.toml",
            &valid_file().replace(&format!("hmac_key = \"{KEY}\""), ""),
        )?;
        let err = load(jail).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("audit.hmac_key is missing"), "{err}");
        assert!(err.contains("MYSTOCKS_BOT__AUDIT__HMAC_KEY"), "{err}");
        Ok(())
    });
}

#[test]
fn every_problem_is_reported_at_once() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "bot.toml",
            "[store]\nurl = \"mysql://u:p@h/db\"\n[service]\napi_url = \"ftp://x\"\n",
        )?;
        let err = load(jail).err().map(|e| e.to_string()).unwrap_or_default();
        for needle in [
            "store.url",
            "service.api_url",
            "audit.hmac_key",
            "no chat adapter configured",
        ] {
            assert!(err.contains(needle), "{needle} not in {err}");
        }
        assert!(!err.contains(":p@"), "password shown: {err}");
        Ok(())
    });
}

#[test]
fn unknown_keys_and_wrong_types_name_the_key() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "bot.toml",
            &format!("{}\n[server]\nlisten = 5\n", valid_file()),
        )?;
        let err = load(jail).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("server.listen"), "{err}");
        jail.create_file(
            "bot.toml",
            &format!("{}\n[rate_limit]\nread_per_minit = 3\n", valid_file()),
        )?;
        let err = load(jail).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("read_per_minit"), "{err}");
        Ok(())
    });
}

#[test]
fn missing_file_is_a_clear_error() {
    Jail::expect_with(|jail| {
        let err = load(jail).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("bot.toml cannot be read"), "{err}");
        Ok(())
    });
}

/// Credentials in the app's URLs (the API behind a proxy with basic auth, Prometheus, a Redis token as user name)
/// show in neither `Debug` nor `check-config`.
#[test]
fn credentials_in_service_and_check_urls_are_redacted() {
    Jail::expect_with(|jail| {
        let file = valid_file()
            .replace(
                "[service]\nnamespace = \"shop\"",
                "[service]\nnamespace = \"shop\"\napi_url = \"https://ops:api-password-5@api.internal\"\n\
                 cache_url = \"redis://redis-token-6@cache:6379\"",
            )
            .replace(
                "[store]",
                "[checks]\nprometheus_url = \"https://ops:prom-password-7@prom.internal\"\n\n[store]",
            );
        jail.create_file("bot.toml", &file)?;
        let s = load(jail).map_err(|e| e.to_string())?;
        let shown = format!("{s:?}\n{}\n{:?}", s.summary(), s.checks_config());
        for secret in ["api-password-5", "redis-token-6", "prom-password-7"] {
            assert!(!shown.contains(secret), "{secret} leaked in:\n{shown}");
        }
        assert!(shown.contains("https://ops:***@api.internal"), "{shown}");
        Ok(())
    });
}

#[test]
fn debug_and_summary_show_no_secret() {
    Jail::expect_with(|jail| {
        jail.create_file("bot.toml", &valid_file())?;
        let s = load(jail).map_err(|e| e.to_string())?;
        let shown = format!("{s:?}\n{}", s.summary());
        for secret in [
            KEY,
            "db-password-1",
            "redis-password-2",
            "xoxb-slack-token-3",
            "signing-secret-4",
        ] {
            assert!(!shown.contains(secret), "{secret} leaked in:\n{shown}");
        }
        assert!(
            shown.contains("postgres://bot:***@db.internal:5432/bot"),
            "{shown}"
        );
        Ok(())
    });
}

#[test]
fn the_example_config_is_valid_once_secrets_are_supplied() {
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/config.example.toml");
    Jail::expect_with(|jail| {
        jail.set_env("MYSTOCKS_BOT__AUDIT__HMAC_KEY", KEY);
        jail.set_env("MYSTOCKS_BOT__SLACK__BOT_TOKEN", "xoxb-example");
        jail.set_env("MYSTOCKS_BOT__SLACK__SIGNING_SECRET", "example-secret");
        jail.set_env("MYSTOCKS_BOT__SLACK__TEAM_ID", "T0123ABCD");
        jail.set_env("MYSTOCKS_BOT__SLACK__API_APP_ID", "A0123ABCD");
        let s = Settings::load(&example).map_err(|e| e.to_string())?;
        assert_eq!(s.service.api_url, "http://mystocks-api.mystocks:8000");
        assert_eq!(s.rate_limit.destructive_per_minute, 5);
        assert!(s.slack.is_some() && s.matrix.is_none());
        Ok(())
    });
}

#[test]
fn slack_without_its_workspace_or_app_id_is_an_error_saying_what_to_set() {
    Jail::expect_with(|jail| {
        let file = valid_file()
            .replace("team_id = \"T1\"\n", "")
            .replace("api_app_id = \"A1\"\n", "");
        jail.create_file("bot.toml", &file)?;
        let err = load(jail).err().map(|e| e.to_string()).unwrap_or_default();
        for needle in [
            "slack.team_id is missing",
            "MYSTOCKS_BOT__SLACK__TEAM_ID",
            "workspace id (T…",
            "slack.api_app_id is missing",
            "MYSTOCKS_BOT__SLACK__API_APP_ID",
            "App ID",
        ] {
            assert!(err.contains(needle), "{needle} not in {err}");
        }
        jail.create_file(
            "bot.toml",
            &file.replace("[slack]\n", "[slack]\nteam_id = \" \"\napi_app_id = \"\"\n"),
        )?;
        let err = load(jail).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            err.contains("slack.team_id is missing") && err.contains("slack.api_app_id is missing"),
            "blank counts as missing: {err}"
        );
        Ok(())
    });
}

#[test]
fn roles_from_user_groups_the_cache_and_the_answer_budget_are_checked() {
    Jail::expect_with(|jail| {
        let good = format!(
            "{}\n[slack.usergroup_roles]\nS0APPROVERS = \"approver\"\nS0OPS = \"operator\"\n",
            valid_file().replace(
                "api_app_id = \"A1\"\n",
                "api_app_id = \"A1\"\nusergroup_ttl = \"2m\"\nack_wait_ms = 500\n"
            )
        );
        jail.create_file("bot.toml", &good)?;
        let s = load(jail).map_err(|e| e.to_string())?;
        let slack = s.slack.as_ref().expect("slack");
        assert_eq!(
            slack.usergroup_roles(&s.policy),
            Ok(vec![
                ("S0APPROVERS".to_string(), mystocks_commands::Role::Approver),
                ("S0OPS".to_string(), mystocks_commands::Role::Operator),
            ])
        );
        assert_eq!(slack.usergroup_ttl(), std::time::Duration::from_secs(120));
        assert_eq!(slack.ack_wait(), std::time::Duration::from_millis(500));
        let summary = s.summary().to_string();
        assert!(
            summary.contains("within 500 ms")
                && summary.contains(
                    "roles from 2 user group(s) (S0APPROVERS, S0OPS), members trusted for 2m"
                ),
            "{summary}"
        );
        let bad = good
            .replace(
                "S0OPS = \"operator\"",
                "S0OPS = \"operator\"\nengineers = \"viewer\"",
            )
            .replace("usergroup_ttl = \"2m\"", "usergroup_ttl = \"soon\"")
            .replace("ack_wait_ms = 500", "ack_wait_ms = 5000");
        jail.create_file("bot.toml", &bad)?;
        let err = load(jail).err().map(|e| e.to_string()).unwrap_or_default();
        for needle in [
            "`engineers` is not a user group id",
            "slack.usergroup_ttl",
            "slack.ack_wait_ms = 5000 is too long",
        ] {
            assert!(err.contains(needle), "{needle} not in {err}");
        }
        jail.create_file("bot.toml", &good.replace("\"operator\"", "\"boss\""))?;
        let err = load(jail).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("unknown role `boss`"), "{err}");
        Ok(())
    });
}

#[test]
fn slack_defaults_answer_in_the_response_and_take_no_roles_from_groups() {
    Jail::expect_with(|jail| {
        jail.create_file("bot.toml", &valid_file())?;
        let s = load(jail).map_err(|e| e.to_string())?;
        let slack = s.slack.as_ref().expect("slack");
        assert_eq!(slack.ack_wait(), std::time::Duration::from_millis(2000));
        assert_eq!(slack.usergroup_ttl(), std::time::Duration::from_secs(300));
        assert_eq!(slack.usergroup_roles(&s.policy), Ok(vec![]));
        Ok(())
    });
}

#[test]
fn policy_and_people_are_checked_with_the_core_rules() {
    Jail::expect_with(|jail| {
        let extra = "[[people.persons]]\nid = \"bob\"\nidentities = [\"console:alice\"]\nroles = [\"approver\"]\n";
        jail.create_file("bot.toml", &format!("{}{extra}", valid_file()))?;
        let err = load(jail).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            err.contains("[people]") && err.contains("console:alice"),
            "{err}"
        );
        let bad_quorum = valid_file().replace("expiry = \"10m\"", "quorum = 0");
        jail.create_file("bot.toml", &bad_quorum)?;
        let err = load(jail).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("policy.quorum"), "{err}");
        Ok(())
    });
}

/// The example config with every commented-out `key = value` and `[section]` line switched on.
fn example_with_everything_on() -> String {
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/config.example.toml");
    let text = std::fs::read_to_string(example).unwrap_or_default();
    text.lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest) if is_setting_line(rest) => rest.to_string(),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether a commented line is a setting (`key = …`) or a table header (`[x]`, `[[x]]`), not prose.
fn is_setting_line(line: &str) -> bool {
    if line.starts_with('[') {
        return line.trim_end().ends_with(']') && !line.contains(' ');
    }
    let Some((key, _)) = line.split_once(" = ") else {
        return false;
    };
    !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '_')
}

#[test]
fn every_documented_key_of_the_example_is_a_real_setting() {
    Jail::expect_with(|jail| {
        let everything = example_with_everything_on();
        assert!(
            everything.contains("\n[slack]") && everything.contains("\n[[people.persons]]"),
            "{everything}"
        );
        jail.create_file("all.toml", &everything)?;
        let s: Settings = Settings::figment(&jail.directory().join("all.toml"))
            .extract()
            .map_err(|e| format!("a documented key is not accepted: {e}"))?;
        assert_eq!(s.people.persons.len(), 1);
        assert!(s.policy.overrides.contains_key("deploy"));
        assert!(s.matrix.is_some() && s.slack.is_some());
        assert!(
            s.store.url.is_some()
                && s.coordinator.redis_url.is_some()
                && s.service.database_url.is_some()
        );
        Ok(())
    });
}

#[test]
fn the_audit_checkpoint_section_loads_with_defaults_and_overrides() {
    Jail::expect_with(|jail| {
        let file = valid_file().replace(
            "[slack]",
            "[audit.checkpoint]\nnamespace = \"mystocks-bot\"\nname = \"mystocks-bot-audit-checkpoint\"\n\n[slack]",
        );
        jail.create_file("bot.toml", &file)?;
        let s = load(jail).map_err(|e| e.to_string())?;
        let cp = s.audit.checkpoint.as_ref().ok_or("no checkpoint")?;
        assert_eq!(
            (
                cp.cluster.as_str(),
                cp.namespace.as_str(),
                cp.name.as_str(),
                cp.interval.as_str()
            ),
            (
                "bot",
                "mystocks-bot",
                "mystocks-bot-audit-checkpoint",
                "10s"
            )
        );
        jail.set_env("MYSTOCKS_BOT__AUDIT__CHECKPOINT__INTERVAL", "2s");
        let s = load(jail).map_err(|e| e.to_string())?;
        assert_eq!(
            s.audit.checkpoint.map(|c| c.interval).as_deref(),
            Some("2s")
        );
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.create_file("bot.toml", &valid_file())?;
        let without = load(jail).map_err(|e| e.to_string())?;
        assert!(
            without.audit.checkpoint.is_none(),
            "the section is optional"
        );
        Ok(())
    });
}

#[test]
fn a_bad_audit_checkpoint_says_what_to_write() {
    Jail::expect_with(|jail| {
        let file = valid_file().replace(
            "[slack]",
            "[audit.checkpoint]\ncluster = \"prod-eu\"\nnamespace = \"\"\nname = \"cp\"\ninterval = \"soon\"\n\n[slack]",
        );
        jail.create_file("bot.toml", &file)?;
        let err = load(jail).err().map(|e| e.to_string()).unwrap_or_default();
        for needle in [
            "audit.checkpoint.cluster is `prod-eu`: only `bot`",
            "audit.checkpoint.namespace is empty",
            "audit.checkpoint.interval: `soon` is not a duration",
        ] {
            assert!(err.contains(needle), "{needle} not in {err}");
        }
        let missing = valid_file().replace(
            "[slack]",
            "[audit.checkpoint]\nnamespace = \"x\"\n\n[slack]",
        );
        jail.create_file("bot.toml", &missing)?;
        let err = load(jail).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("name"), "{err}");
        Ok(())
    });
}

#[test]
fn the_job_lease_defaults_to_30s_and_a_short_or_bad_one_says_what_to_write() {
    Jail::expect_with(|jail| {
        jail.create_file("bot.toml", &valid_file())?;
        let s = load(jail).map_err(|e| e.to_string())?;
        assert_eq!(s.jobs.lease(), std::time::Duration::from_secs(30));
        jail.set_env("MYSTOCKS_BOT__JOBS__LEASE", "5s");
        let s = load(jail).map_err(|e| e.to_string())?;
        assert_eq!(s.jobs.lease(), std::time::Duration::from_secs(5));
        for (lease, needle) in [
            ("2s", "jobs.lease `2s` is under 3s"),
            ("soon", "jobs.lease:"),
        ] {
            jail.set_env("MYSTOCKS_BOT__JOBS__LEASE", lease);
            let err = load(jail).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains(needle), "{lease}: {err}");
        }
        Ok(())
    });
}
