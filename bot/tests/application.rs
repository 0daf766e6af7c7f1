//! `Application::build` from settings, as `run` does it: against the simulated cluster and a SQLite store, the
//! health endpoints answer and the core serves the people and target the settings name.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use mystocks_bot::application::Application;
use mystocks_bot::settings::Settings;
use mystocks_commands::reply::{MessageRef, Reply, ReplySink, SinkError};
use mystocks_commands::{Actor, Addressing, Conversation, Handler, Identity, Invocation};
use mystocks_sim::{Sim, SimConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Default)]
struct Recorder(Mutex<Vec<Reply>>);

#[async_trait]
impl ReplySink for Recorder {
    async fn post(
        &self,
        conversation: &Conversation,
        reply: &Reply,
    ) -> Result<MessageRef, SinkError> {
        let mut replies = self.0.lock().map_err(|_| SinkError("poisoned".into()))?;
        replies.push(reply.clone());
        Ok(MessageRef {
            conversation: conversation.clone(),
            message_id: replies.len().to_string(),
        })
    }
    async fn update(&self, _message: &MessageRef, reply: &Reply) -> Result<(), SinkError> {
        self.0
            .lock()
            .map_err(|_| SinkError("poisoned".into()))?
            .push(reply.clone());
        Ok(())
    }
}

async fn get(port: u16, path: &str) -> String {
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
    answer
}

#[tokio::test]
async fn built_from_settings_it_serves_health_and_the_configured_people() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = Sim::start(SimConfig {
        speed: 20.0,
        ..SimConfig::default()
    })
    .await
    .expect("sim starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig)
        .expect("kubeconfig written");
    let config = format!(
        r#"
[kubernetes]
kubeconfig = "{}"
[store]
data_dir = "{}"
[audit]
hmac_key = "0123456789abcdef0123456789abcdef"
[server]
listen = "127.0.0.1:0"
[[people.persons]]
id = "zed"
identities = ["console:zed"]
roles = ["viewer"]
"#,
        kubeconfig.display(),
        dir.path().display()
    );
    let path = dir.path().join("bot.toml");
    std::fs::write(&path, config).expect("config written");
    let settings: Settings = Settings::figment(&path).extract().expect("settings parse");

    let app = Application::build(&settings)
        .await
        .expect("application builds");
    let port = app.port();
    let core = app.core().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));

    assert!(get(port, "/healthz").await.starts_with("HTTP/1.1 200"));
    assert!(get(port, "/readyz").await.starts_with("HTTP/1.1 200"));
    assert!(
        dir.path().join("mystocks-bot.db").exists(),
        "the default SQLite store is in data_dir"
    );

    let sink = Arc::new(Recorder::default());
    let ask = |who: &str, text: &str| Invocation {
        event_id: format!("test:{who}:{text}"),
        actor: Actor {
            identity: Identity::new("console", who),
            display_name: who.into(),
        },
        conversation: Conversation {
            channel: "console:main".into(),
            thread: None,
        },
        addressing: Addressing::Direct,
        text: text.into(),
        received_at: chrono::Utc::now(),
    };
    core.handle(ask("zed", "pods"), sink.clone()).await;
    core.handle(ask("stranger", "pods"), sink.clone()).await;
    let replies = sink.0.lock().expect("replies").clone();
    assert_eq!(replies.len(), 2, "{replies:?}");
    assert!(
        replies[0].plain_text().contains("mystocks-api-"),
        "zed (viewer) sees the pods: {replies:?}"
    );
    assert!(
        replies[1].plain_text().contains("ask #platform"),
        "an unknown identity is refused: {replies:?}"
    );

    let _ = stop.send(());
    server
        .await
        .expect("server task")
        .expect("server stops cleanly");
    sim.shutdown().await;
}
