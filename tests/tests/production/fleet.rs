//! Replicas as processes: each is this test binary run again as `replicas::replica_process` — exactly what
//! `mystocks-bot run --config FILE` runs for a Slack configuration — with a settings file of its own, read by the
//! normal loader, on a port of its own. A replica can be killed with SIGKILL (`kill -9`: no SIGTERM handler runs,
//! no lease is given back) and a fresh process started in its place, on the same port and settings file.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use crate::replicas::{REPLICA_CONFIG_ENV, free_port};

/// Where a replica's world is: the cluster's kubeconfig, the store, the Redis and the Slack Web API.
pub struct World {
    pub kubeconfig: PathBuf,
    pub store_url: String,
    pub redis_url: String,
    pub slack_api: String,
    pub signing_secret: String,
    pub audit_key: String,
}

/// One replica's place: its port and settings file, and the process now running there.
struct Slot {
    port: u16,
    config: PathBuf,
    child: Child,
}

/// Replicas as processes, and the directory holding their settings files and logs (kept when the test fails).
pub struct Fleet {
    dir: Option<tempfile::TempDir>,
    slots: Vec<Slot>,
    started: usize,
}

/// A replica's settings file: a 3 s job lease (a job of a killed replica is taken over within seconds), no rate
/// limits to speak of, no pacing of Slack posts, and the people of the soak.
fn settings(world: &World, port: u16) -> String {
    let person = |id: &str, role: &str, user: &str| {
        format!(
            "[[people.persons]]\nid = \"{id}\"\nidentities = [\"slack:T1/{user}\"]\nroles = [\"{role}\"]\n"
        )
    };
    format!(
        "[kubernetes]\nkubeconfig = \"{kube}\"\n[store]\nurl = \"{store}\"\n[coordinator]\nredis_url = \"{redis}\"\n\
         [audit]\nhmac_key = \"{key}\"\n[jobs]\nlease = \"3s\"\n\
         [rate_limit]\nread_per_minute = 100000\ndestructive_per_minute = 100000\n\
         [server]\nlisten = \"127.0.0.1:{port}\"\nshutdown_grace = \"1s\"\n\
         [slack]\nbot_token = \"{token}\"\nsigning_secret = \"{secret}\"\napi_url = \"{api}\"\n\
         team_id = \"T1\"\napi_app_id = \"A1\"\nbot_user_id = \"UBOT\"\npost_interval_ms = 0\n{a}{b}{c}",
        kube = world.kubeconfig.display(),
        store = world.store_url,
        redis = world.redis_url,
        key = world.audit_key,
        token = mystocks_tests::fake_slack::BOT_TOKEN,
        secret = world.signing_secret,
        api = world.slack_api,
        a = person("alice", "operator", "UALICE"),
        b = person("bob", "approver", "UBOB"),
        c = person("dave", "admin", "UDAVE"),
    )
}

impl Fleet {
    /// Starts `count` replicas and waits until each serves.
    pub async fn start(world: &World, count: usize) -> Fleet {
        let dir = tempfile::Builder::new()
            .prefix("mystocks-soak-")
            .tempdir()
            .expect("temp dir");
        let mut fleet = Fleet {
            dir: Some(dir),
            slots: Vec::new(),
            started: 0,
        };
        for n in 0..count {
            let port = free_port();
            let config = fleet.path().join(format!("replica-{n}.toml"));
            std::fs::write(&config, settings(world, port)).expect("settings written");
            let child = fleet.spawn(&config);
            fleet.slots.push(Slot {
                port,
                config,
                child,
            });
        }
        for n in 0..count {
            fleet.wait_serving(n).await;
        }
        fleet
    }

    /// The directory of the settings files and logs.
    pub fn path(&self) -> &Path {
        self.dir.as_ref().expect("the fleet's directory").path()
    }

    /// How many replicas there are.
    pub fn count(&self) -> usize {
        self.slots.len()
    }

    pub fn port(&self, n: usize) -> u16 {
        self.slots[n].port
    }

    /// Which replica is the process `pid`, if it is one of ours.
    pub fn replica_of_pid(&self, pid: u32) -> Option<usize> {
        self.slots.iter().position(|s| s.child.id() == pid)
    }

    /// Processes started so far, replacements included.
    pub fn started(&self) -> usize {
        self.started
    }

    fn spawn(&mut self, config: &Path) -> Child {
        let log_path = self.path().join(format!("process-{}.log", self.started));
        self.started += 1;
        let log = std::fs::File::create(&log_path).expect("log file");
        Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "replicas::replica_process",
                "--exact",
                "--ignored",
                "--nocapture",
            ])
            .env(REPLICA_CONFIG_ENV, config)
            .env("RUST_LOG", "info")
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("a replica process starts")
    }

    /// Waits until replica `n` answers `/healthz` (it has connected to its store and serves Slack).
    async fn wait_serving(&mut self, n: usize) {
        let port = self.slots[n].port;
        for _ in 0..600 {
            if crate::support::try_get(port, "/healthz").await == Some(200) {
                return;
            }
            if let Ok(Some(status)) = self.slots[n].child.try_wait() {
                panic!(
                    "replica {n} exited before it served ({status}); logs in {}",
                    self.path().display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "replica {n} did not serve on {port}; logs in {}",
            self.path().display()
        );
    }

    /// Kills replica `n` with SIGKILL (`Child::kill` is `kill -9` on Unix), then starts a fresh process in its
    /// place and waits until it serves.
    pub async fn kill_and_replace(&mut self, n: usize) {
        let slot = &mut self.slots[n];
        slot.child.kill().expect("SIGKILL sent");
        slot.child.wait().expect("the killed replica is reaped");
        let config = slot.config.clone();
        self.slots[n].child = self.spawn(&config);
        self.wait_serving(n).await;
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for slot in &mut self.slots {
            let _ = slot.child.kill();
            let _ = slot.child.wait();
        }
        if std::thread::panicking()
            && let Some(dir) = self.dir.take()
        {
            eprintln!(
                "the replicas' settings and logs are kept in {}",
                dir.keep().display()
            );
        }
    }
}
