//! `mystocks-bot demo`: the simulated cluster in-process, a SQLite store (temporary or `--data DIR`), the demo
//! people, and the console adapter reading chat lines from the terminal or a pipe.

mod echo;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use mystocks_adapters::console::{Console, Format};
use mystocks_commands::Handler;
use tokio::io::BufReader;

use crate::cli::{DemoArgs, OutputFormat};

pub use echo::EchoHandler;

/// What the demo runs against, built before the handler.
pub struct DemoParts {
    /// Where the demo keeps its store.
    pub data_dir: PathBuf,
    /// `sqlite://…` URL of the demo store, in `data_dir`.
    pub store_url: String,
    /// Removed when the demo ends (absent with `--data DIR`).
    _temp: Option<tempfile::TempDir>,
}

impl DemoParts {
    /// Prepares the data directory and starts what the demo needs.
    pub async fn start(args: &DemoArgs) -> anyhow::Result<DemoParts> {
        let (data_dir, temp) = match &args.data {
            Some(dir) => {
                std::fs::create_dir_all(dir).with_context(|| {
                    format!("cannot create the data directory {}", dir.display())
                })?;
                (dir.clone(), None)
            }
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("mystocks-demo-")
                    .tempdir()
                    .context("cannot create a temporary data directory")?;
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        let store_url = format!("sqlite://{}", data_dir.join("mystocks-demo.db").display());
        Ok(DemoParts {
            data_dir,
            store_url,
            _temp: temp,
        })
    }

    /// Stops what `start` started.
    pub async fn shutdown(self) {}
}

/// The handler the demo talks to. The one line to change when the command core's `Core` lands.
async fn handler(_parts: &DemoParts) -> anyhow::Result<Arc<dyn Handler>> {
    Ok(Arc::new(EchoHandler))
}

/// Runs the demo until end of input, `:quit`, Ctrl-C or SIGTERM.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let parts = DemoParts::start(&args).await?;
    let handler = handler(&parts).await?;
    let format = match args.format {
        OutputFormat::Text => Format::Text,
        OutputFormat::Json => Format::Json,
    };
    let mut console = Console::stdio(handler, format, "alice");
    let result = tokio::select! {
        r = console.run(BufReader::new(tokio::io::stdin())) => r.context("reading the console input"),
        () = crate::shutdown::signal() => Ok(()),
    };
    parts.shutdown().await;
    result
}
