//! The operator guide's `check-config` step: the example settings and the settings the manifests ship are valid
//! once the secrets the guide names are supplied (as the Secret supplies them, through the environment).

use std::path::Path;

use figment::providers::Serialized;
use mystocks_bot::settings::Settings;
use mystocks_tests::rbac;

/// Loads `path` as `check-config` does, with `secrets` as the environment would add them; the problems found.
fn problems(path: &Path, secrets: &[(&str, &str)]) -> Vec<String> {
    let mut figment = Settings::figment(path);
    for (key, value) in secrets {
        figment = figment.merge(Serialized::default(key, value));
    }
    match figment.extract::<Settings>() {
        Ok(settings) => settings.problems(),
        Err(e) => vec![format!("malformed: {e}")],
    }
}

const HMAC: &str = "0123456789abcdef0123456789abcdef0123456789abcdef";

#[test]
fn the_example_settings_pass_check_config_with_the_guides_secrets() {
    let example = rbac::deploy_dir().join("config.example.toml");
    let found = problems(
        &example,
        &[
            ("audit.hmac_key", HMAC),
            ("slack.bot_token", "xoxb-1"),
            ("slack.signing_secret", "s"),
            ("slack.team_id", "T0123ABCD"),
            ("slack.api_app_id", "A0123ABCD"),
        ],
    );
    assert!(found.is_empty(), "{found:?}");
    let without_key = problems(&example, &[("slack.bot_token", "xoxb-1")]);
    assert!(
        without_key.iter().any(|p| p.contains("hmac_key")),
        "a missing audit key is named: {without_key:?}"
    );
}

#[test]
fn the_shipped_settings_are_valid_in_cluster_with_the_ops_port_apart() {
    let shipped = rbac::deploy_dir().join("base").join("config.toml");
    let found = problems(
        &shipped,
        &[
            ("audit.hmac_key", HMAC),
            ("slack.bot_token", "xoxb-1"),
            ("slack.signing_secret", "s"),
        ],
    );
    assert!(found.is_empty(), "{found:?}");
    let settings: Settings = Settings::figment(&shipped).extract().expect("parses");
    assert!(settings.kubernetes.in_cluster);
    assert_eq!(settings.server.listen.port(), 8080);
    assert_eq!(
        settings.server.ops_listen.map(|a| a.port()),
        Some(9090),
        "probes and Prometheus use port 9090"
    );
}

#[test]
fn the_ha_overlay_supplies_postgres_and_redis_through_the_secret() {
    let shipped = rbac::deploy_dir().join("base").join("config.toml");
    let secrets = [
        ("audit.hmac_key", HMAC),
        ("slack.bot_token", "xoxb-1"),
        ("slack.signing_secret", "s"),
        (
            "store.url",
            "postgres://bot:pw@postgres.mystocks-bot:5432/bot",
        ),
        (
            "coordinator.redis_url",
            "redis://:pw@redis.mystocks-bot:6379/0",
        ),
    ];
    let found = problems(&shipped, &secrets);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn the_matrix_pods_settings_are_valid_with_its_secrets() {
    let matrix = rbac::deploy_dir()
        .join("components")
        .join("matrix")
        .join("config-matrix.toml");
    let secrets = [
        ("audit.hmac_key", HMAC),
        ("matrix.access_token", "syt_token"),
        (
            "store.url",
            "postgres://bot:pw@postgres.mystocks-bot:5432/bot",
        ),
        (
            "coordinator.redis_url",
            "redis://:pw@redis.mystocks-bot:6379/0",
        ),
    ];
    let found = problems(&matrix, &secrets);
    assert!(found.is_empty(), "{found:?}");
}
