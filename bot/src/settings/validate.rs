//! Checks on loaded settings (each problem says what is wrong and how to fix it), and the "what would connect
//! where" summary that `check-config` prints — with every credential redacted.

use std::fmt;

use mystocks_commands::directory::Directory;
use secrecy::{ExposeSecret, SecretString};

use super::{CredentialUrl, ENV_PREFIX, Settings};

/// The shortest accepted audit HMAC key, in characters.
pub const MIN_HMAC_KEY_LEN: usize = 32;

fn env_name(key: &str) -> String {
    format!(
        "{ENV_PREFIX}{}",
        key.replace('.', "__").to_ascii_uppercase()
    )
}

pub(super) fn missing(key: &str, hint: &str) -> String {
    let (section, field) = key.rsplit_once('.').unwrap_or(("", key));
    format!(
        "{key} is missing: set `{field}` in [{section}] or {}{hint}",
        env_name(key)
    )
}

fn check_url(problems: &mut Vec<String>, key: &str, url: &CredentialUrl, schemes: &[&str]) {
    let scheme = url.scheme();
    if !schemes.contains(&scheme.as_str()) {
        problems.push(format!(
            "{key} `{}` has scheme `{scheme}`; expected one of: {}",
            url.redacted(),
            schemes.join(", ")
        ));
    } else if scheme != "sqlite" && url::Url::parse(url.expose()).is_err() {
        problems.push(format!("{key} `{}` is not a valid URL", url.redacted()));
    }
}

fn check_http(problems: &mut Vec<String>, key: &str, raw: &str) {
    match url::Url::parse(raw) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {}
        _ => problems.push(format!(
            "{key} `{}` must be an http:// or https:// URL",
            super::redact_url(raw)
        )),
    }
}

fn is_blank(secret: &Option<SecretString>) -> bool {
    secret
        .as_ref()
        .is_none_or(|s| s.expose_secret().trim().is_empty())
}

impl Settings {
    /// Everything wrong with these settings, one sentence each; empty when they can be used for `run`.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        let svc = &self.service;
        for (key, value) in [
            ("service.namespace", &svc.namespace),
            ("service.deployment", &svc.deployment),
            ("service.container", &svc.container),
        ] {
            if value.trim().is_empty() {
                p.push(format!("{key} is empty: name the Kubernetes object"));
            }
        }
        if !svc.selector.contains('=') {
            p.push(format!(
                "service.selector `{}` must be a label selector like app=mystocks-api",
                svc.selector
            ));
        }
        check_http(&mut p, "service.api_url", &svc.api_url);
        if self.limits.max_in_flight == 0 {
            p.push(
                "limits.max_in_flight is 0: nothing could ever run; set it to 1 or more (default 64)".into(),
            );
        }
        if let Err(e) = mystocks_commands::policy::parse_duration(&self.server.shutdown_grace) {
            p.push(format!("server.shutdown_grace: {e}"));
        }
        match mystocks_commands::policy::parse_duration(&self.jobs.lease) {
            Err(e) => p.push(format!("jobs.lease: {e}")),
            Ok(lease) if lease < super::JobsSettings::MIN_LEASE => p.push(format!(
                "jobs.lease `{}` is under 3s: it is renewed every third of it, which must leave room for a \
                 store round trip",
                self.jobs.lease
            )),
            Ok(_) => {}
        }
        if let Some(url) = &svc.database_url {
            check_url(
                &mut p,
                "service.database_url",
                url,
                &["postgres", "postgresql"],
            );
        }
        if let Some(url) = &svc.cache_url {
            check_url(&mut p, "service.cache_url", url, &["redis", "rediss"]);
        }
        if let Some(url) = &svc.prometheus_url {
            check_http(&mut p, "service.prometheus_url", url);
        }
        self.kubernetes_problems(&mut p);
        self.incident_problems(&mut p);
        check_url(
            &mut p,
            "store.url",
            &self.store.effective_url(),
            &["sqlite", "postgres", "postgresql"],
        );
        if let Some(url) = &self.coordinator.redis_url {
            check_url(&mut p, "coordinator.redis_url", url, &["redis", "rediss"]);
        }
        match &self.audit.hmac_key {
            None => p.push(missing("audit.hmac_key", " (generate one with `openssl rand -hex 32`)")),
            Some(k) if k.expose_secret().chars().count() < MIN_HMAC_KEY_LEN => p.push(format!(
                "audit.hmac_key is too short: use at least {MIN_HMAC_KEY_LEN} characters (`openssl rand -hex 32`)"
            )),
            Some(_) => {}
        }
        if let Some(cp) = &self.audit.checkpoint {
            audit_checkpoint_problems(cp, &mut p);
        }
        if let Err(e) = self.policy.validate() {
            p.push(format!("[policy] {e}"));
        } else if let Err(e) = Directory::from_config_with(&self.people, &self.policy) {
            p.push(format!("[people] {e}"));
        }
        if let Err(e) = self.checks_config().validate() {
            p.push(format!("[checks] {e}"));
        }
        if self.rate_limit.read_per_minute == 0 || self.rate_limit.destructive_per_minute == 0 {
            p.push("rate_limit values must be at least 1 per minute".into());
        }
        self.chat_problems(&mut p);
        p
    }

    fn kubernetes_problems(&self, p: &mut Vec<String>) {
        let k = &self.kubernetes;
        if k.in_cluster && (k.kubeconfig.is_some() || k.context.is_some()) {
            p.push("kubernetes.in_cluster = true cannot be combined with kubernetes.kubeconfig/context".into());
        }
        if let Some(path) = &k.kubeconfig
            && !path.is_file()
        {
            p.push(format!(
                "kubernetes.kubeconfig {} does not exist or is not a file",
                path.display()
            ));
        }
    }

    fn chat_problems(&self, p: &mut Vec<String>) {
        if self.slack.is_none() && self.matrix.is_none() {
            p.push("no chat adapter configured: add a [slack] or [matrix] section".into());
        }
        if let Some(s) = &self.slack {
            if is_blank(&s.bot_token) {
                p.push(missing(
                    "slack.bot_token",
                    " (the xoxb- token of the Slack app)",
                ));
            }
            if is_blank(&s.signing_secret) && is_blank(&s.app_token) {
                p.push(missing(
                    "slack.signing_secret",
                    " (Events API), or set slack.app_token to use Socket Mode",
                ));
            }
            check_http(p, "slack.api_url", &s.api_url);
            s.problems(&self.policy, p);
        }
        if let Some(m) = &self.matrix {
            check_http(p, "matrix.homeserver_url", &m.homeserver_url);
            if !m.user_id.starts_with('@') || !m.user_id.contains(':') {
                p.push(format!(
                    "matrix.user_id `{}` must look like @mystocks:example.org",
                    m.user_id
                ));
            }
            if is_blank(&m.password) && is_blank(&m.access_token) {
                p.push(missing("matrix.password", ", or set matrix.access_token"));
            }
            for (key, value) in [
                ("matrix.offline_max_age", &m.offline_max_age),
                ("matrix.edit_interval", &m.edit_interval),
            ] {
                if let Err(e) = mystocks_commands::policy::parse_duration(value) {
                    p.push(format!("{key}: {e}"));
                }
            }
            for room in &m.rooms {
                if let Err(why) = mystocks_adapters::matrix::check_room_id(room) {
                    p.push(format!("matrix.rooms: {why}"));
                }
            }
        }
    }

    /// What would connect where, credentials redacted.
    pub fn summary(&self) -> Summary {
        let svc = &self.service;
        let k = &self.kubernetes;
        let kube = if k.in_cluster {
            "in-cluster service account".to_string()
        } else {
            let file = k.kubeconfig.as_ref().map(|p| p.display().to_string());
            format!(
                "kubeconfig {} (context {})",
                file.unwrap_or_else(|| "from KUBECONFIG or ~/.kube/config".into()),
                k.context.as_deref().unwrap_or("current")
            )
        };
        let store = self.store.effective_url();
        let kind = if store.scheme() == "sqlite" {
            "SQLite file"
        } else {
            "PostgreSQL"
        };
        let mut lines = vec![
            ("kubernetes".to_string(), kube),
            (
                "target".into(),
                format!(
                    "deployment {}/{} (container {}, pods {})",
                    svc.namespace, svc.deployment, svc.container, svc.selector
                ),
            ),
            ("service api".into(), super::redact_url(&svc.api_url)),
            (
                "service database".into(),
                optional(&svc.database_url, "not configured"),
            ),
            (
                "service cache".into(),
                optional(&svc.cache_url, "not configured"),
            ),
            ("store".into(), format!("{} ({kind})", store.redacted())),
            (
                "coordinator".into(),
                optional(&self.coordinator.redis_url, "in-process (one replica only)"),
            ),
            (
                "audit key".into(),
                if is_blank(&self.audit.hmac_key) {
                    "missing"
                } else {
                    "set (hidden)"
                }
                .into(),
            ),
            (
                "audit checkpoint".into(),
                match &self.audit.checkpoint {
                    Some(cp) => format!(
                        "ConfigMap {}/{} in the bot's cluster, every {}",
                        cp.namespace, cp.name, cp.interval
                    ),
                    None => {
                        "none (the newest entries are not protected outside the database)".into()
                    }
                },
            ),
            (
                "http server".into(),
                format!("listening on {}", self.server.listen),
            ),
            (
                "rate limits".into(),
                format!(
                    "{} read, {} destructive per person per minute",
                    self.rate_limit.read_per_minute, self.rate_limit.destructive_per_minute
                ),
            ),
        ];
        lines.push(("people".into(), self.people_summary()));
        if let Some(s) = &self.slack {
            let mode = if is_blank(&s.app_token) {
                "Events API"
            } else {
                "Socket Mode"
            };
            lines.push((
                "slack".into(),
                format!(
                    "{} via {mode}; {}",
                    super::redact_url(&s.api_url),
                    s.describe_extras()
                ),
            ));
        }
        if let Some(m) = &self.matrix {
            lines.push((
                "matrix".into(),
                format!(
                    "{} on {} ({} rooms, crypto store {})",
                    m.user_id,
                    m.homeserver_url,
                    m.rooms.len(),
                    m.store_dir.display()
                ),
            ));
        }
        Summary { lines }
    }
}

impl Settings {
    fn people_summary(&self) -> String {
        let policy = &self.policy;
        format!(
            "{} persons, {} groups; approvals: quorum {}, expiry {} s, approvers {}; unknown identities get {}",
            self.people.persons.len(),
            self.people.groups.len(),
            policy.quorum,
            policy.expiry.as_secs(),
            policy.approver_roles.join(", "),
            self.people.unknown_role.as_deref().unwrap_or("no role")
        )
    }
}

fn optional(url: &Option<CredentialUrl>, none: &str) -> String {
    url.as_ref()
        .map(CredentialUrl::redacted)
        .unwrap_or_else(|| none.to_string())
}

/// `check-config`'s report: one `what: where` line per connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub lines: Vec<(String, String)>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (k, v) in &self.lines {
            writeln!(f, "{:<width$}  {v}", format!("{k}:"), width = width + 1)?;
        }
        Ok(())
    }
}

fn audit_checkpoint_problems(cp: &super::CheckpointSettings, p: &mut Vec<String>) {
    if cp.cluster != super::BOT_CLUSTER {
        p.push(format!(
            "audit.checkpoint.cluster is `{}`: only `{}` (the cluster in [kubernetes]) is supported; remove the key \
             or set it to `{}`",
            cp.cluster,
            super::BOT_CLUSTER,
            super::BOT_CLUSTER
        ));
    }
    for (key, value) in [("namespace", &cp.namespace), ("name", &cp.name)] {
        if value.trim().is_empty() {
            p.push(format!(
                "audit.checkpoint.{key} is empty: name the ConfigMap deploy/ creates (namespace `mystocks-bot`, \
                 name `mystocks-bot-audit-checkpoint`)"
            ));
        }
    }
    if let Err(e) = mystocks_commands::policy::parse_duration(&cp.interval) {
        p.push(format!("audit.checkpoint.interval: {e}"));
    }
}
