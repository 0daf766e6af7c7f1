//! The demo's data directory: a temporary one removed at exit, or `--data DIR` kept between runs — with the
//! audit key saved next to the store, since a kept audit chain can only be verified with the same key.

use std::path::{Path, PathBuf};

use anyhow::Context;
use mystocks_commands::audit::AuditKey;
use secrecy::SecretString;

/// The file in the data directory that holds the demo's audit key.
pub const AUDIT_KEY_FILE: &str = "audit.key";

/// Where the demo keeps its state.
#[derive(Debug)]
pub struct DataDir {
    pub path: PathBuf,
    /// Removed on drop (absent with `--data DIR`).
    temp: Option<tempfile::TempDir>,
}

impl DataDir {
    /// Uses `dir` (created if missing), or a fresh temporary directory.
    pub fn open(dir: Option<&Path>) -> anyhow::Result<DataDir> {
        match dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).with_context(|| {
                    format!("cannot create the data directory {}", dir.display())
                })?;
                Ok(DataDir {
                    path: dir.to_path_buf(),
                    temp: None,
                })
            }
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("mystocks-demo-")
                    .tempdir()
                    .context("cannot create a temporary data directory")?;
                Ok(DataDir {
                    path: temp.path().to_path_buf(),
                    temp: Some(temp),
                })
            }
        }
    }

    /// Whether the directory is removed at exit.
    pub fn is_temporary(&self) -> bool {
        self.temp.is_some()
    }

    /// The `sqlite://` URL of the demo store.
    pub fn store_url(&self) -> String {
        format!("sqlite://{}", self.path.join("mystocks-demo.db").display())
    }

    /// The audit key: random for a temporary directory; for a kept one, read from `audit.key`, or created there
    /// (readable by the owner only) on first use.
    pub fn audit_key(&self) -> anyhow::Result<AuditKey> {
        if self.is_temporary() {
            return Ok(AuditKey::random());
        }
        let file = self.path.join(AUDIT_KEY_FILE);
        let key = match std::fs::read_to_string(&file) {
            Ok(text) => text.trim().to_string(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = hex::encode(rand::random::<[u8; 32]>());
                write_private(&file, &key)?;
                key
            }
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot read the audit key {}", file.display()));
            }
        };
        AuditKey::new(SecretString::from(key)).with_context(|| {
            format!(
                "the audit key in {} is unusable; delete the data directory",
                file.display()
            )
        })
    }
}

fn write_private(file: &Path, content: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options
        .open(file)
        .with_context(|| format!("cannot create {}", file.display()))?;
    f.write_all(content.as_bytes())
        .with_context(|| format!("cannot write {}", file.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_directory_reuses_its_audit_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = DataDir::open(Some(&dir.path().join("demo"))).expect("opens");
        assert!(!data.is_temporary());
        data.audit_key().expect("key created");
        let first = std::fs::read_to_string(data.path.join(AUDIT_KEY_FILE)).expect("key file");
        data.audit_key().expect("key read");
        let second = std::fs::read_to_string(data.path.join(AUDIT_KEY_FILE)).expect("key file");
        assert_eq!(first, second);
        assert_eq!(first.len(), 64);
        assert!(
            data.store_url().starts_with("sqlite://")
                && data.store_url().ends_with("mystocks-demo.db")
        );
    }

    #[test]
    fn a_temporary_directory_is_removed() {
        let data = DataDir::open(None).expect("opens");
        let path = data.path.clone();
        assert!(path.is_dir() && data.is_temporary());
        drop(data);
        assert!(!path.exists());
    }
}
