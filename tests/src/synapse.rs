//! A real Matrix homeserver for tests: Synapse from PyPI in a venv (installed when missing), started on a free
//! loopback port with SQLite and shared-secret registration, and stopped — exactly the process it started — when
//! dropped. Rate limits are relaxed unless a test asks for Synapse's defaults.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};

/// The Synapse release tests run against (`scripts/test` installs the same one).
pub const SYNAPSE_VERSION: &str = "1.163.2";

/// The server name of every test homeserver.
pub const SERVER_NAME: &str = "localhost";

/// How to start Synapse.
#[derive(Clone, Copy, Debug, Default)]
pub struct SynapseOptions {
    /// Keep Synapse's default rate limits (rc_message 0.2/s, burst 10, …) instead of relaxing them all.
    pub default_rate_limits: bool,
}

/// A running Synapse; dropping it stops the process and removes its data.
pub struct Synapse {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    child: Child,
    dir: tempfile::TempDir,
    secret: String,
    http: reqwest::Client,
}

/// A registered account.
#[derive(Clone, Debug)]
pub struct Account {
    pub user_id: String,
    pub localpart: String,
    pub password: String,
    pub access_token: String,
}

/// The venv Synapse lives in: `MYSTOCKS_SYNAPSE_VENV`, or `~/.cache/mystocks-bot/synapse-VERSION`.
pub fn venv_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("MYSTOCKS_SYNAPSE_VENV") {
        return PathBuf::from(dir);
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/tmp".to_string());
    PathBuf::from(home)
        .join(".cache/mystocks-bot")
        .join(format!("synapse-{SYNAPSE_VERSION}"))
}

/// Installs Synapse into the venv if it is not there yet (one installer at a time across test processes).
pub fn ensure_installed() -> anyhow::Result<PathBuf> {
    let venv = venv_dir();
    let python = venv.join("bin/python");
    if synapse_importable(&python) {
        return Ok(python);
    }
    let parent = venv.parent().unwrap_or(Path::new("/tmp")).to_path_buf();
    fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
    let lock = parent.join(format!("synapse-{SYNAPSE_VERSION}.installing"));
    let started = Instant::now();
    while fs::create_dir(&lock).is_err() {
        if started.elapsed() > Duration::from_secs(600) {
            bail!(
                "another process has been installing Synapse for 10 minutes; remove {} if it died",
                lock.display()
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let result = install(&venv, &python);
    let _ = fs::remove_dir(&lock);
    result.map(|()| python)
}

fn synapse_importable(python: &Path) -> bool {
    python.exists()
        && Command::new(python)
            .args(["-c", "import synapse"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

fn install(venv: &Path, python: &Path) -> anyhow::Result<()> {
    if synapse_importable(python) {
        return Ok(());
    }
    eprintln!(
        "installing Synapse {SYNAPSE_VERSION} from PyPI into {} (once)",
        venv.display()
    );
    let status = Command::new("python3")
        .arg("-m")
        .arg("venv")
        .arg(venv)
        .status()
        .context("running python3 -m venv")?;
    if !status.success() {
        bail!(
            "python3 -m venv {} failed: install python3-venv",
            venv.display()
        );
    }
    let pip = venv.join("bin/pip");
    let status = Command::new(&pip)
        .args([
            "install",
            "--quiet",
            &format!("matrix-synapse=={SYNAPSE_VERSION}"),
        ])
        .status()
        .context("running pip")?;
    if !status.success() || !synapse_importable(python) {
        bail!("pip install matrix-synapse=={SYNAPSE_VERSION} failed (is PyPI reachable?)");
    }
    Ok(())
}

fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

impl Synapse {
    /// Installs (if needed) and starts a fresh homeserver; returns once its client API answers.
    pub async fn start(options: SynapseOptions) -> anyhow::Result<Synapse> {
        let python = tokio::task::spawn_blocking(ensure_installed).await??;
        let dir = tempfile::tempdir().context("temp dir for Synapse")?;
        let port = free_port()?;
        let secret = format!("test-secret-{}", uuid::Uuid::new_v4().simple());
        write_config(dir.path(), port, &secret, options)?;
        let log = fs::File::create(dir.path().join("homeserver.log"))?;
        let child = Command::new(&python)
            .args(["-m", "synapse.app.homeserver", "-c"])
            .arg(dir.path().join("homeserver.yaml"))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting Synapse")?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        let mut synapse = Synapse {
            url: format!("http://127.0.0.1:{port}"),
            child,
            dir,
            secret,
            http,
        };
        synapse.wait_ready().await?;
        Ok(synapse)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "Synapse exited ({status}) before answering:\n{}",
                    self.log_tail()
                );
            }
            let versions = self
                .http
                .get(format!("{}/_matrix/client/versions", self.url))
                .send()
                .await;
            if versions.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!("Synapse did not answer within 60 s:\n{}", self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The last lines of Synapse's log (for failure messages).
    pub fn log_tail(&self) -> String {
        let text = fs::read_to_string(self.dir.path().join("homeserver.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// The full user id of `localpart` here (`@alice:localhost`).
    pub fn user_id(localpart: &str) -> String {
        format!("@{localpart}:{SERVER_NAME}")
    }

    /// Registers an account with the shared secret (no subprocess), admin or not.
    pub async fn register(
        &self,
        localpart: &str,
        password: &str,
        admin: bool,
    ) -> anyhow::Result<Account> {
        let url = format!("{}/_synapse/admin/v1/register", self.url);
        let nonce: Value = self
            .http
            .get(&url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let nonce = nonce["nonce"]
            .as_str()
            .context("no nonce from /register")?
            .to_string();
        let mut mac =
            Hmac::<sha1::Sha1>::new_from_slice(self.secret.as_bytes()).context("hmac key")?;
        let role = if admin { "admin" } else { "notadmin" };
        mac.update(format!("{nonce}\0{localpart}\0{password}\0{role}").as_bytes());
        let mac = hex::encode(mac.finalize().into_bytes());
        let body = json!({"nonce": nonce, "username": localpart, "password": password, "admin": admin, "mac": mac});
        let response = self.http.post(&url).json(&body).send().await?;
        let status = response.status();
        let answer: Value = response.json().await?;
        if !status.is_success() {
            bail!("registering {localpart} failed ({status}): {answer}");
        }
        Ok(Account {
            user_id: answer["user_id"]
                .as_str()
                .context("no user_id")?
                .to_string(),
            localpart: localpart.to_string(),
            password: password.to_string(),
            access_token: answer["access_token"]
                .as_str()
                .context("no access_token")?
                .to_string(),
        })
    }

    /// Lifts the message rate limit of `user_id` (an admin's token is needed), so only the bot meets the limits.
    pub async fn unlimit(&self, admin: &Account, user_id: &str) -> anyhow::Result<()> {
        let url = format!(
            "{}/_synapse/admin/v1/users/{user_id}/override_ratelimit",
            self.url
        );
        let body = json!({"messages_per_second": 0, "burst_count": 0});
        self.http
            .post(&url)
            .bearer_auth(&admin.access_token)
            .json(&body)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// The devices of an account, as the admin API lists them (ids).
    pub async fn devices(&self, admin: &Account, user_id: &str) -> anyhow::Result<Vec<String>> {
        let url = format!("{}/_synapse/admin/v2/users/{user_id}/devices", self.url);
        let answer: Value = self
            .http
            .get(&url)
            .bearer_auth(&admin.access_token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let devices = answer["devices"].as_array().context("no devices list")?;
        Ok(devices
            .iter()
            .filter_map(|d| d["device_id"].as_str().map(str::to_string))
            .collect())
    }

    /// The process id (to check that exactly this process is stopped).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the homeserver (the process this launcher started, and only it) and waits for it.
    pub fn stop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Drop for Synapse {
    fn drop(&mut self) {
        self.stop();
    }
}

const RELAXED: &str = "{per_second: 1000, burst_count: 10000}";

fn write_config(
    dir: &Path,
    port: u16,
    secret: &str,
    options: SynapseOptions,
) -> anyhow::Result<()> {
    let d = dir.display();
    let mut yaml = format!(
        r#"server_name: "{SERVER_NAME}"
pid_file: "{d}/homeserver.pid"
listeners:
  - port: {port}
    tls: false
    type: http
    x_forwarded: false
    bind_addresses: ['127.0.0.1']
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: "{d}/homeserver.db"
media_store_path: "{d}/media_store"
signing_key_path: "{d}/signing.key"
registration_shared_secret: "{secret}"
enable_registration: false
report_stats: false
macaroon_secret_key: "{secret}-macaroon"
form_secret: "{secret}-form"
trusted_key_servers: []
suppress_key_server_warning: true
presence:
  enabled: false
"#
    );
    if !options.default_rate_limits {
        for key in [
            "rc_message",
            "rc_registration",
            "rc_room_creation",
            "rc_admin_redaction",
            "rc_key_requests",
            "rc_3pid_validation",
            "rc_third_party_invite",
            "rc_joins_per_room",
            "rc_reports",
            "rc_media_create",
            "rc_delayed_event_mgmt",
        ] {
            yaml.push_str(&format!("{key}: {RELAXED}\n"));
        }
        yaml.push_str(&format!(
            "rc_login:\n  address: {RELAXED}\n  account: {RELAXED}\n  failed_attempts: {RELAXED}\n"
        ));
        yaml.push_str(&format!(
            "rc_joins:\n  local: {RELAXED}\n  remote: {RELAXED}\n"
        ));
        yaml.push_str(&format!(
            "rc_invites:\n  per_room: {RELAXED}\n  per_user: {RELAXED}\n  per_issuer: {RELAXED}\n"
        ));
    }
    fs::write(dir.join("homeserver.yaml"), yaml)?;
    fs::write(
        dir.join("signing.key"),
        format!("ed25519 a_test {}\n", base64_unpadded(&rand_bytes())),
    )?;
    Ok(())
}

fn rand_bytes() -> [u8; 32] {
    let mut out = [0u8; 32];
    for chunk in out.chunks_mut(16) {
        chunk.copy_from_slice(&uuid::Uuid::new_v4().into_bytes()[..chunk.len()]);
    }
    out
}

/// Standard base64 without padding (the signing key file's format).
fn base64_unpadded(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64_unpadded;

    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(base64_unpadded(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_unpadded(b"fooba"), "Zm9vYmE");
        assert_eq!(base64_unpadded(b"f"), "Zg");
    }
}
