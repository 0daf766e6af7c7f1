//! `slack-load`: the Slack slash-command load test. `serve` runs the bot's Slack front; `drive` sends signed
//! commands at 10, 50 and 200 connections (by default) and prints a Markdown table.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use mystocks_bench::drive::{DriveOptions, level};
use mystocks_bench::serve::{ServeOptions, serve};

// The bot's allocator (see bot/src/main.rs), so the server side measures what the bot does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(about = "Load test of the bot's Slack slash-command endpoint")]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Serve the Slack endpoints (the bot's front: verify, claim, decode, hand off to parse + authorize).
    Serve {
        #[arg(long, default_value = "127.0.0.1:3900")]
        listen: SocketAddr,
        /// Redis for claims (e.g. redis://127.0.0.1:6379); in-process when absent.
        #[arg(long)]
        redis: Option<String>,
        #[arg(long, default_value = "load-test-signing-secret")]
        secret: String,
        #[arg(long, default_value = "TLOAD")]
        team: String,
        #[arg(long, default_value_t = 1000)]
        users: usize,
        /// How long a response may wait to carry the answer (the bot's default; 0: acknowledge at once).
        #[arg(long, default_value_t = 2000)]
        ack_wait_ms: u64,
        /// Tokio worker threads (default: one per core).
        #[arg(long)]
        workers: Option<usize>,
    },
    /// Send signed slash commands and report acks/s and latency.
    Drive {
        #[arg(long, default_value = "127.0.0.1:3900")]
        addr: String,
        #[arg(long, default_value = "load-test-signing-secret")]
        secret: String,
        #[arg(long, default_value = "TLOAD")]
        team: String,
        #[arg(long, default_value_t = 1000)]
        users: usize,
        #[arg(long, default_value = "status")]
        text: String,
        /// Connection counts, one level each.
        #[arg(long, value_delimiter = ',', default_value = "10,50,200")]
        connections: Vec<usize>,
        /// Seconds per level.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long)]
        workers: Option<usize>,
    },
}

fn runtime(workers: Option<usize>) -> anyhow::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = workers {
        builder.worker_threads(n.max(1));
    }
    Ok(builder.enable_all().build()?)
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().mode {
        Mode::Serve {
            listen,
            redis,
            secret,
            team,
            users,
            ack_wait_ms,
            workers,
        } => runtime(workers)?.block_on(serve(ServeOptions {
            listen,
            redis,
            secret,
            team,
            users,
            ack_wait: Duration::from_millis(ack_wait_ms),
        })),
        Mode::Drive {
            addr,
            secret,
            team,
            users,
            text,
            connections,
            seconds,
            workers,
        } => {
            let options = Arc::new(DriveOptions {
                addr,
                path: "/slack/commands".into(),
                secret,
                team,
                users,
                text,
                duration: Duration::from_secs(seconds),
            });
            runtime(workers)?.block_on(async {
                println!("| connections | acks/s | p50 ms | p99 ms | max ms | acks | errors |");
                println!("|---|---|---|---|---|---|---|");
                for n in connections {
                    let mut result = level(options.clone(), n).await?;
                    println!("{}", result.row());
                }
                Ok(())
            })
        }
    }
}
