//! The `[runbooks]` settings: where the runbook files are. Loading never fails: a missing directory or a
//! malformed file is a problem the bot reports at start (and `check-config` reports) while it runs without it.

use std::path::PathBuf;

use serde::Deserialize;

use super::loader::{RunbookSet, load_dir};

/// `[runbooks]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunbooksConfig {
    /// The directory of `*.toml` runbooks (e.g. `/etc/mystocks-bot/runbooks`); none: the bot has no runbooks.
    pub directory: Option<PathBuf>,
}

impl RunbooksConfig {
    /// Loads the configured runbooks (an empty set when no directory is configured).
    pub fn load(&self) -> RunbookSet {
        match &self.directory {
            Some(dir) => load_dir(dir),
            None => RunbookSet::default(),
        }
    }

    /// One line for the settings summary: where the runbooks come from and how many loaded.
    pub fn describe(&self, set: &RunbookSet) -> String {
        match &self.directory {
            None => "none (set `runbooks.directory`)".to_string(),
            Some(dir) => {
                let mut line = format!("{} runbook(s) from {}", set.runbooks.len(), dir.display());
                if !set.problems.is_empty() {
                    line.push_str(&format!(", {} file(s) with problems", set.problems.len()));
                }
                line
            }
        }
    }
}
