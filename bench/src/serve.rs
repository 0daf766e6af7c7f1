//! The server side of the Slack load test: the bot's own Slack HTTP router (`SlackFront` + signature check),
//! handing each command to a handler that claims it in the coordinator (the core claims in its store, with Redis
//! as a pre-filter) and does the core's pure steps — parse, resolve the person, authorize — counts, and answers
//! with a one-line reply. As in the bot, the response waits (up to
//! `ack_wait`) for that answer and carries it, rendered as Block Kit. The core's own execution (audit writes,
//! cluster calls) is not part of this test.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use mystocks_adapters::in_flight::InFlight;
use mystocks_adapters::slack::{SlackFront, SlackIdentity, SlackSigner, http};
use mystocks_commands::coordinator::{Coordinator, InProcessCoordinator, RedisCoordinator};
use mystocks_commands::directory::{DirectoryConfig, PersonConfig};
use mystocks_commands::reply::{Level, MessageRef, Reply, ReplyKind, ReplySink, SinkError};
use mystocks_commands::{Command, Conversation, Directory, Handler, Invocation, grammar, policy};

/// What `serve` needs.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    /// Redis URL for claims; none: in-process.
    pub redis: Option<String>,
    pub secret: String,
    pub team: String,
    /// Users `U0`…`U{n-1}` exist as persons (viewers).
    pub users: usize,
    /// How long a response may wait for the answer (the bot's `slack.ack_wait_ms`; zero: ack at once).
    pub ack_wait: Duration,
}

/// How long a command stays claimed.
const CLAIM_TTL: Duration = Duration::from_secs(600);

/// Deliveries in flight at once: the load test measures throughput, not the bot's bound (`[limits]`).
const MAX_IN_FLIGHT: usize = 100_000;

/// Counts of what the handler saw.
#[derive(Debug, Default)]
pub struct Counters {
    pub handled: AtomicU64,
    pub authorized: AtomicU64,
    pub refused: AtomicU64,
    /// Answers that did not fit in the response and would have been posted.
    pub posted: AtomicU64,
}

/// Parse, resolve, authorize — the pure steps of the core — then count.
pub struct ParseAndAuthorize {
    directory: Directory,
    coordinator: Arc<dyn Coordinator>,
    pub counters: Arc<Counters>,
}

#[async_trait]
impl Handler for ParseAndAuthorize {
    async fn handle(&self, invocation: Invocation, sink: Arc<dyn ReplySink>) {
        let key = format!("event:{}", invocation.event_id);
        if !matches!(self.coordinator.claim(&key, CLAIM_TTL).await, Ok(true)) {
            return;
        }
        self.counters.handled.fetch_add(1, Ordering::Relaxed);
        let Some(text) = grammar::addressed_command(invocation.addressing, &invocation.text, false)
        else {
            return;
        };
        let principal = self.directory.resolve(&invocation.actor.identity);
        let allowed = Command::parse(text)
            .map(|c| {
                self.directory
                    .authorize(&principal, &policy::rule(&c))
                    .is_ok()
            })
            .unwrap_or(false);
        let (counter, answer) = if allowed {
            (
                &self.counters.authorized,
                Reply::text(ReplyKind::Result, Level::Ok, format!("`{text}`: allowed")),
            )
        } else {
            let refusal = Reply::text(ReplyKind::Refusal, Level::Warn, "not allowed");
            (
                &self.counters.refused,
                refusal.private_to(invocation.actor.identity.clone()),
            )
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let _ = sink.post(&invocation.conversation, &answer).await;
    }

    async fn settle(&self) {}
}

/// Where answers that miss the response would be posted: counted, not sent.
struct NoReplies(Arc<Counters>);

#[async_trait]
impl ReplySink for NoReplies {
    async fn post(
        &self,
        conversation: &Conversation,
        _reply: &Reply,
    ) -> Result<MessageRef, SinkError> {
        self.0.posted.fetch_add(1, Ordering::Relaxed);
        Ok(MessageRef {
            conversation: conversation.clone(),
            message_id: "none".into(),
        })
    }
    async fn update(&self, _message: &MessageRef, _reply: &Reply) -> Result<(), SinkError> {
        Ok(())
    }
}

fn directory(team: &str, users: usize) -> anyhow::Result<Directory> {
    let persons = (0..users)
        .map(|i| PersonConfig {
            id: format!("u{i}"),
            display: None,
            identities: vec![format!("slack:{team}/U{i}")],
            roles: vec!["viewer".into()],
            groups: Vec::new(),
        })
        .collect();
    Ok(Directory::from_config(&DirectoryConfig {
        persons,
        ..DirectoryConfig::default()
    })?)
}

/// Serves the Slack endpoints until the process is stopped, printing counters every 5 s.
pub async fn serve(options: ServeOptions) -> anyhow::Result<()> {
    let coordinator: Arc<dyn Coordinator> = match &options.redis {
        Some(url) => {
            let prefix = format!("mystocks-bench:{}:", uuid::Uuid::new_v4().simple());
            Arc::new(
                RedisCoordinator::connect(url, &prefix)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
            )
        }
        None => Arc::new(InProcessCoordinator::default()),
    };
    let counters = Arc::new(Counters::default());
    let handler = Arc::new(ParseAndAuthorize {
        directory: directory(&options.team, options.users)?,
        coordinator: coordinator.clone(),
        counters: counters.clone(),
    });
    let identity = SlackIdentity {
        team_id: options.team.clone(),
        enterprise_id: None,
        workspaces: Vec::new(),
        api_app_id: Some("A1".into()),
        bot_user_id: Some("UBOT".into()),
    };
    let front = SlackFront::new(identity, handler, Arc::new(NoReplies(counters.clone())))
        .with_ack_wait(options.ack_wait)
        .with_in_flight(InFlight::new(MAX_IN_FLIGHT));
    let router = http::router(front, SlackSigner::new(options.secret.clone().into()));
    let listener = tokio::net::TcpListener::bind(options.listen).await?;
    eprintln!(
        "slack-load serve: listening on {} (claims: {})",
        listener.local_addr()?,
        coordinator.describe()
    );
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            eprintln!(
                "handled {} (authorized {}, refused {}); answers posted instead of in the response: {}",
                counters.handled.load(Ordering::Relaxed),
                counters.authorized.load(Ordering::Relaxed),
                counters.refused.load(Ordering::Relaxed),
                counters.posted.load(Ordering::Relaxed)
            );
        }
    });
    axum::serve(listener, router).await?;
    Ok(())
}
