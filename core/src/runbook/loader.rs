//! Loading the runbooks directory: every `*.toml` file in it, each parsed and validated on its own, so one
//! malformed file is reported (file, line, reason) and skipped while the others load.

use std::fmt;
use std::path::{Path, PathBuf};

use super::format::{Runbook, parse_runbook};

/// A runbook file that could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunbookProblem {
    pub file: PathBuf,
    /// The line (from 1), when the problem is in one.
    pub line: Option<usize>,
    pub reason: String,
}

impl fmt::Display for RunbookProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file.display(), self.reason),
            None => write!(f, "{}: {}", self.file.display(), self.reason),
        }
    }
}

/// The runbooks that loaded, sorted by name, and the files that did not.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunbookSet {
    pub runbooks: Vec<Runbook>,
    pub problems: Vec<RunbookProblem>,
    /// Where they were loaded from (`None`: no directory configured).
    pub directory: Option<PathBuf>,
}

impl RunbookSet {
    /// The runbook called `name` (ASCII case-insensitive).
    pub fn get(&self, name: &str) -> Option<&Runbook> {
        self.runbooks
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(name))
    }

    /// Builds a set from file texts (`(file name, text)`), as [`load_dir`] does after reading them.
    pub fn from_texts<'a>(files: impl IntoIterator<Item = (PathBuf, &'a str)>) -> RunbookSet {
        let mut set = RunbookSet::default();
        for (file, text) in files {
            let stem = file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            match parse_runbook(text, &stem) {
                Ok(runbook) => {
                    if let Some(first) = set.runbooks.iter().find(|r| r.name == runbook.name) {
                        let reason = format!(
                            "runbook name `{}` is already used by `{}`",
                            runbook.name, first.title
                        );
                        set.problems.push(RunbookProblem {
                            file,
                            line: None,
                            reason,
                        });
                    } else {
                        set.runbooks.push(runbook);
                    }
                }
                Err(err) => set.problems.push(RunbookProblem {
                    file,
                    line: err.line,
                    reason: err.reason,
                }),
            }
        }
        set.runbooks.sort_by(|a, b| a.name.cmp(&b.name));
        set
    }
}

/// Largest runbook file read (a bigger one is a mistake, not a runbook).
pub const MAX_FILE_BYTES: u64 = 256 * 1024;

/// Loads every `*.toml` in `dir` (not recursing), in file-name order. Never fails: an unreadable directory or
/// file becomes a problem in the set.
pub fn load_dir(dir: &Path) -> RunbookSet {
    let mut problems = Vec::new();
    let mut texts: Vec<(PathBuf, String)> = Vec::new();
    match std::fs::read_dir(dir) {
        Err(err) => problems.push(RunbookProblem {
            file: dir.to_path_buf(),
            line: None,
            reason: format!(
                "cannot read the runbooks directory: {err}; check `runbooks.directory`"
            ),
        }),
        Ok(entries) => {
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
                .collect();
            files.sort();
            for file in files {
                match read_file(&file) {
                    Ok(text) => texts.push((file, text)),
                    Err(reason) => problems.push(RunbookProblem {
                        file,
                        line: None,
                        reason,
                    }),
                }
            }
        }
    }
    let mut set = RunbookSet::from_texts(texts.iter().map(|(f, t)| (f.clone(), t.as_str())));
    problems.append(&mut set.problems);
    set.problems = problems;
    set.directory = Some(dir.to_path_buf());
    set
}

fn read_file(file: &Path) -> Result<String, String> {
    let size = std::fs::metadata(file)
        .map_err(|e| format!("cannot read: {e}"))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(format!(
            "{size} bytes is too large for a runbook (at most {MAX_FILE_BYTES})"
        ));
    }
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read: {e}"))?;
    String::from_utf8(bytes)
        .map_err(|e| format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()))
}
