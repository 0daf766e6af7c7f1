//! The `[checks]` settings: which checks run, where they connect, their timeout and the thresholds that turn a
//! reading into ok / warn / fail. Every field has a default; a check without a URL answers "not configured".

use std::path::PathBuf;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde::Deserialize;

use crate::policy::parse_duration;

/// Where the checks connect and when they warn or fail.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChecksConfig {
    /// Base URL of the app behind its load balancer (`/health`, `/api/health/database`, `/metrics`).
    pub api_url: Option<String>,
    /// Path of the app's health endpoint (default `/health`).
    pub health_path: String,
    /// Path of the app's database health endpoint (default `/api/health/database`).
    pub database_health_path: String,
    /// Path of the app's Prometheus exposition (default `/metrics`).
    pub metrics_path: String,
    /// The app's port inside its pods, for `health --pods` through the API server's pod proxy (default 8000).
    pub pod_port: u16,
    /// Without Prometheus, `metrics` scrapes each pod twice this far apart for recent rates (default 2 s).
    #[serde(deserialize_with = "deserialize_duration")]
    pub metrics_gap: Duration,
    /// The app's cache: `redis://HOST:PORT` (checked with PING).
    pub redis_url: Option<String>,
    /// The app's own PostgreSQL database (reachability, `db tables`, `db vacuum`); not the bot's store.
    pub database_url: Option<String>,
    /// TDengine's REST interface, e.g. `http://root:taosdata@tdengine:6041` (optional): `POST /rest/sql` with
    /// Basic authentication from the URL's user and password (TDengine's default account when it names none).
    pub tdengine_url: Option<String>,
    /// Prometheus, e.g. `http://prometheus:9090`: `/-/healthy`, and the query API for windowed rates (optional).
    pub prometheus_url: Option<String>,
    /// A PEM file of CA certificates the HTTP checks, `metrics` and `latency` trust besides the system's (and,
    /// for `latency`, the bundled webpki roots): for endpoints behind a private CA (optional).
    pub ca_file: Option<PathBuf>,
    /// Each check's own timeout (default 2 s): seconds (`2`) or a duration text (`"2s"`).
    #[serde(deserialize_with = "deserialize_duration")]
    pub timeout: Duration,
    /// Which checks `health` runs (default all of: api, database, cache, postgres, tdengine, prometheus, pods,
    /// cpu, errors); a configured URL is still needed for the ones that connect somewhere.
    pub enabled: Vec<String>,
    /// When they turn warn or fail.
    pub thresholds: Thresholds,
}

/// The numbers that turn readings into ok / warn / fail.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// An answer slower than this is a warning (default 250 ms).
    pub latency_warn_ms: u64,
    /// CPU per pod above this is a warning (default 500 millicores).
    pub cpu_warn_millicores: u64,
    /// CPU per pod above this fails (default 1000 millicores).
    pub cpu_fail_millicores: u64,
    /// Share of 5xx responses above which the error rate warns (default 0.01).
    pub error_ratio_warn: f64,
    /// Share of 5xx responses above which the error rate fails (default 0.05).
    pub error_ratio_fail: f64,
    /// A cache hit rate below this warns (default 0.8).
    pub cache_hit_warn: f64,
    /// A cache hit rate below this fails (default 0.2).
    pub cache_hit_fail: f64,
    /// DB pool use (active / max) at or above this warns (default 0.8); a full pool fails.
    pub pool_warn_ratio: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            latency_warn_ms: 250,
            cpu_warn_millicores: 500,
            cpu_fail_millicores: 1000,
            error_ratio_warn: 0.01,
            error_ratio_fail: 0.05,
            cache_hit_warn: 0.8,
            cache_hit_fail: 0.2,
            pool_warn_ratio: 0.8,
        }
    }
}

/// Every check `health` knows, in the order it shows them.
pub const ALL_CHECKS: [&str; 9] = [
    "api",
    "database",
    "cache",
    "postgres",
    "tdengine",
    "prometheus",
    "pods",
    "cpu",
    "errors",
];

impl Default for ChecksConfig {
    fn default() -> Self {
        ChecksConfig {
            api_url: None,
            health_path: "/health".into(),
            database_health_path: "/api/health/database".into(),
            metrics_path: "/metrics".into(),
            pod_port: 8000,
            metrics_gap: Duration::from_secs(2),
            redis_url: None,
            database_url: None,
            tdengine_url: None,
            prometheus_url: None,
            ca_file: None,
            timeout: Duration::from_secs(2),
            enabled: ALL_CHECKS.iter().map(|s| s.to_string()).collect(),
            thresholds: Thresholds::default(),
        }
    }
}

impl ChecksConfig {
    /// Whether `health` runs the check called `name`.
    pub fn runs(&self, name: &str) -> bool {
        self.enabled.iter().any(|e| e.eq_ignore_ascii_case(name))
    }

    /// The certificates of `ca_file` (none when it is not set). An unreadable file, or one without a PEM
    /// certificate, is an error naming the setting and the file.
    pub fn trusted_cas(&self) -> Result<Vec<CertificateDer<'static>>, String> {
        let Some(path) = &self.ca_file else {
            return Ok(Vec::new());
        };
        let shown = path.display();
        let pem =
            std::fs::read(path).map_err(|e| format!("checks.ca_file: cannot read {shown}: {e}"))?;
        let certs = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("checks.ca_file: {shown} is not PEM: {e}"))?;
        if certs.is_empty() {
            return Err(format!("checks.ca_file: {shown} holds no certificate"));
        }
        Ok(certs)
    }

    /// Checks names, URLs and numbers, so a typo is reported at start rather than as a failing check.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(bad) = self
            .enabled
            .iter()
            .find(|e| !ALL_CHECKS.iter().any(|c| c.eq_ignore_ascii_case(e)))
        {
            return Err(format!(
                "checks.enabled: unknown check `{bad}` (known: {})",
                ALL_CHECKS.join(", ")
            ));
        }
        let urls = [
            ("checks.api_url", &self.api_url, &["http", "https"][..]),
            (
                "checks.redis_url",
                &self.redis_url,
                &["redis", "rediss"][..],
            ),
            (
                "checks.database_url",
                &self.database_url,
                &["postgres", "postgresql"][..],
            ),
            (
                "checks.tdengine_url",
                &self.tdengine_url,
                &["http", "https"][..],
            ),
            (
                "checks.prometheus_url",
                &self.prometheus_url,
                &["http", "https"][..],
            ),
        ];
        for (field, url, schemes) in urls {
            let Some(url) = url else { continue };
            match url::Url::parse(url) {
                Ok(u) if schemes.contains(&u.scheme()) => {}
                Ok(u) => {
                    return Err(format!(
                        "{field}: scheme `{}` is not one of {}",
                        u.scheme(),
                        schemes.join(", ")
                    ));
                }
                Err(err) => return Err(format!("{field}: not a URL ({err})")),
            }
        }
        self.trusted_cas()?;
        if self.timeout.is_zero() {
            return Err("checks.timeout: must be more than 0".into());
        }
        let t = &self.thresholds;
        if t.cpu_warn_millicores > t.cpu_fail_millicores {
            return Err(
                "checks.thresholds.cpu_warn_millicores: must not be above cpu_fail_millicores"
                    .into(),
            );
        }
        let ratios = [
            ("error_ratio_warn", t.error_ratio_warn),
            ("error_ratio_fail", t.error_ratio_fail),
            ("cache_hit_warn", t.cache_hit_warn),
            ("cache_hit_fail", t.cache_hit_fail),
            ("pool_warn_ratio", t.pool_warn_ratio),
        ];
        if let Some((name, _)) = ratios.iter().find(|(_, v)| !(0.0..=1.0).contains(v)) {
            return Err(format!("checks.thresholds.{name}: a share from 0 to 1"));
        }
        Ok(())
    }
}

/// URLs are shown without credentials, so settings can be logged.
impl std::fmt::Debug for ChecksConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |u: &Option<String>| u.as_deref().map(crate::store::redact_url);
        f.debug_struct("ChecksConfig")
            .field("api_url", &shown(&self.api_url))
            .field("redis_url", &shown(&self.redis_url))
            .field("database_url", &shown(&self.database_url))
            .field("tdengine_url", &shown(&self.tdengine_url))
            .field("prometheus_url", &shown(&self.prometheus_url))
            .field("ca_file", &self.ca_file)
            .field("timeout", &self.timeout)
            .field("enabled", &self.enabled)
            .field("thresholds", &self.thresholds)
            .finish_non_exhaustive()
    }
}

fn deserialize_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Given {
        Seconds(u64),
        Text(String),
    }
    match Given::deserialize(d)? {
        Given::Seconds(s) => Ok(Duration::from_secs(s)),
        Given::Text(t) => parse_duration(&t).map_err(serde::de::Error::custom),
    }
}
