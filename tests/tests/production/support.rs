//! Helpers of the production suite: plain HTTP GETs, invocations, and an `Application` built from settings
//! against the sim with the bot's Role-bound token, as `run` builds it.

use std::path::Path;

use mystocks_bot::settings::Settings;
use mystocks_commands::{Actor, Addressing, Conversation, Identity, Invocation};
use mystocks_sim::{Sim, SimConfig, SimToken};
use mystocks_tests::rbac;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `GET path` on 127.0.0.1:port: the status code and the body.
pub async fn get(port: u16, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("request sent");
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .await
        .expect("answer read");
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// The status of `GET path` on 127.0.0.1:port, or none while nothing answers there.
pub async fn try_get(port: u16, path: &str) -> Option<u16> {
    let answer = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .timeout(std::time::Duration::from_secs(2))
        .send()
        .await
        .ok()?;
    Some(answer.status().as_u16())
}

/// A sim at 50× speed that takes only `token` (the bot's Role-bound token, or one a test made).
pub async fn sim_for(token: SimToken) -> Sim {
    Sim::start(SimConfig {
        tokens: vec![token],
        speed: 50.0,
        ..SimConfig::default()
    })
    .await
    .expect("sim")
}

/// An invocation of `text` by a console user, with its own event id.
pub fn invocation(event_id: &str, who: &str, text: &str) -> Invocation {
    Invocation {
        event_id: event_id.to_string(),
        actor: Actor {
            identity: Identity::new("console", who),
            display_name: who.to_string(),
        },
        conversation: Conversation {
            channel: "console:main".into(),
            thread: None,
        },
        addressing: Addressing::Direct,
        text: text.to_string(),
        received_at: chrono::Utc::now(),
    }
}

/// Settings for `Application::build`: the sim through a kubeconfig holding the bot's token, a store in `dir`
/// (or `store_url`), Redis when given, both listeners on port 0, and the demo people.
pub fn settings(
    sim: &Sim,
    bot_token: &str,
    dir: &Path,
    store_url: Option<&str>,
    redis_url: Option<&str>,
) -> Settings {
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(&kubeconfig, sim.kubeconfig_for(rbac::BOT_USER, bot_token))
        .expect("kubeconfig written");
    let store = store_url
        .map(|u| format!("url = \"{u}\"\n"))
        .unwrap_or_default();
    let redis = redis_url
        .map(|u| format!("[coordinator]\nredis_url = \"{u}\"\n"))
        .unwrap_or_default();
    let config = format!(
        r#"
[kubernetes]
kubeconfig = "{kubeconfig}"
[store]
data_dir = "{dir}"
{store}
{redis}
[audit]
hmac_key = "0123456789abcdef0123456789abcdef"
[server]
listen = "127.0.0.1:0"
ops_listen = "127.0.0.1:0"
[rate_limit]
read_per_minute = 10000
destructive_per_minute = 10000
[[people.persons]]
id = "alice"
identities = ["console:alice"]
roles = ["operator"]
[[people.persons]]
id = "bob"
identities = ["console:bob"]
roles = ["approver"]
"#,
        kubeconfig = kubeconfig.display(),
        dir = dir.display(),
    );
    let path = dir.join("bot.toml");
    std::fs::write(&path, config).expect("config written");
    Settings::figment(&path).extract().expect("settings parse")
}

/// A `redis-server` of a test's own (the shared one must stay up), on a free port, stopped and started at will.
pub struct OwnRedis {
    port: u16,
    child: Option<std::process::Child>,
}

impl OwnRedis {
    pub fn start() -> OwnRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut redis = OwnRedis { port, child: None };
        redis.restart();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Starts the server (again) on its port and waits until it takes connections.
    pub fn restart(&mut self) {
        self.stop();
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        self.child = Some(child);
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        panic!("redis-server did not listen on {}", self.port);
    }

    /// Kills the server, as a crash does.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
