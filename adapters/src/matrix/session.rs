//! The bot's Matrix session: log in once, save the session in the data dir, and restore it on every later start,
//! so the bot keeps one device (and its encryption keys) for its whole life.

use std::path::{Path, PathBuf};

use matrix_sdk::Client;
use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::store::RoomLoadSettings;
use matrix_sdk::{SessionMeta, SessionTokens};
use secrecy::ExposeSecret;

use super::MatrixError;
use super::config::{Login, MatrixConfig};

/// The session file in the data dir (user id, device id, access token: keep the data dir private).
pub const SESSION_FILE: &str = "session.json";

/// Builds a client over the persistent stores and logs it in: restores the saved session, or logs in and saves it.
pub async fn connect(config: &MatrixConfig) -> Result<Client, MatrixError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| MatrixError::DataDir {
        path: config.data_dir.clone(),
        reason: e.to_string(),
    })?;
    let client = build_client(config, Some(&config.data_dir.join("store"))).await?;
    let path = session_path(config);
    if path.exists() {
        let session = read_session(&path)?;
        if session.meta.user_id.as_str() != config.user_id {
            return Err(MatrixError::Session(format!(
                "{} belongs to {}, not {}; point data_dir elsewhere or delete the file to log in as {}",
                path.display(),
                session.meta.user_id,
                config.user_id,
                config.user_id
            )));
        }
        client
            .matrix_auth()
            .restore_session(session, RoomLoadSettings::default())
            .await
            .map_err(|e| {
                MatrixError::Session(format!(
                    "cannot restore the session saved in {}: {e}",
                    path.display()
                ))
            })?;
        tracing::info!(device = ?client.device_id(), "Matrix session restored");
        return Ok(client);
    }
    let session = match &config.login {
        Login::Password(password) => {
            let response = client
                .matrix_auth()
                .login_username(&config.user_id, password.expose_secret())
                .initial_device_display_name(&config.device_name)
                .send()
                .await
                .map_err(|e| {
                    MatrixError::Login(format!("password login of {} failed: {e}", config.user_id))
                })?;
            MatrixSession::from(&response)
        }
        Login::AccessToken(token) => {
            let session = token_session(config, token.expose_secret()).await?;
            client
                .matrix_auth()
                .restore_session(session.clone(), RoomLoadSettings::default())
                .await
                .map_err(|e| MatrixError::Login(format!("cannot use the access token: {e}")))?;
            session
        }
    };
    write_session(&path, &session)?;
    tracing::info!(device = %session.meta.device_id, "Matrix login; session saved");
    Ok(client)
}

/// Where the session is saved.
pub fn session_path(config: &MatrixConfig) -> PathBuf {
    config.data_dir.join(SESSION_FILE)
}

async fn build_client(config: &MatrixConfig, store: Option<&Path>) -> Result<Client, MatrixError> {
    let mut builder = Client::builder().homeserver_url(&config.homeserver_url);
    if let Some(store) = store {
        let passphrase = config
            .store_passphrase
            .as_ref()
            .map(|p| p.expose_secret().to_string());
        builder = builder.sqlite_store(store, passphrase.as_deref());
    }
    builder.build().await.map_err(|e| {
        MatrixError::Connect(format!(
            "cannot set up a client for {}: {e}",
            config.homeserver_url
        ))
    })
}

/// The session of an existing access token: its device id comes from `whoami`, asked with a throw-away client.
async fn token_session(config: &MatrixConfig, token: &str) -> Result<MatrixSession, MatrixError> {
    let probe = build_client(config, None).await?;
    let user_id = config.user_id.as_str().try_into().map_err(|e| {
        MatrixError::Login(format!("user id `{}` is not valid: {e}", config.user_id))
    })?;
    let provisional = MatrixSession {
        meta: SessionMeta {
            user_id,
            device_id: "MYSTOCKSPROBE".into(),
        },
        tokens: SessionTokens {
            access_token: token.to_string(),
            refresh_token: None,
        },
    };
    probe
        .matrix_auth()
        .restore_session(provisional.clone(), RoomLoadSettings::default())
        .await
        .map_err(|e| MatrixError::Login(format!("cannot use the access token: {e}")))?;
    let whoami = probe
        .whoami()
        .await
        .map_err(|e| MatrixError::Login(format!("the access token was refused: {e}")))?;
    if whoami.user_id.as_str() != config.user_id {
        return Err(MatrixError::Login(format!(
            "the access token belongs to {}, not {}",
            whoami.user_id, config.user_id
        )));
    }
    let device_id = whoami.device_id.ok_or_else(|| {
        MatrixError::Login(
            "the access token has no device; log in with a password instead".to_string(),
        )
    })?;
    Ok(MatrixSession {
        meta: SessionMeta {
            device_id,
            ..provisional.meta
        },
        tokens: provisional.tokens,
    })
}

fn read_session(path: &Path) -> Result<MatrixSession, MatrixError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| MatrixError::Session(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        MatrixError::Session(format!(
            "{} is not a saved session ({e}); delete it to log in again",
            path.display()
        ))
    })
}

fn write_session(path: &Path, session: &MatrixSession) -> Result<(), MatrixError> {
    use std::io::Write;
    let text = serde_json::to_string(session)
        .map_err(|e| MatrixError::Session(format!("cannot encode the session: {e}")))?;
    let tmp = path.with_extension("json.tmp");
    let failed = |what: &Path, e: std::io::Error| {
        MatrixError::Session(format!("cannot write {}: {e}", what.display()))
    };
    // A leftover from a crash may have any mode: start afresh, and create the file readable by its owner only
    // from the first byte (never written first and restricted afterwards).
    match std::fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(failed(&tmp, e)),
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp).map_err(|e| failed(&tmp, e))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| failed(&tmp, e))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(|e| failed(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> MatrixSession {
        MatrixSession {
            meta: SessionMeta {
                user_id: "@bot:example.org".try_into().expect("user id"),
                device_id: "DEVICE".into(),
            },
            tokens: SessionTokens {
                access_token: "syt_secret_token".to_string(),
                refresh_token: None,
            },
        }
    }

    /// The file that holds the access token is the owner's alone from the moment it exists, also when a
    /// world-readable leftover of an interrupted write is in the way.
    #[cfg(unix)]
    #[test]
    fn the_session_file_is_created_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join(SESSION_FILE);
        let leftover = path.with_extension("json.tmp");
        std::fs::write(&leftover, "{}").expect("leftover");
        std::fs::set_permissions(&leftover, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        write_session(&path, &session()).expect("written");
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "mode {mode:o}");
        assert_eq!(
            read_session(&path)
                .expect("read back")
                .meta
                .device_id
                .as_str(),
            "DEVICE"
        );
    }

    /// A session that cannot be written is an error, never ignored.
    #[test]
    fn a_session_that_cannot_be_written_is_an_error() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("missing-dir").join(SESSION_FILE);
        assert!(matches!(
            write_session(&path, &session()),
            Err(MatrixError::Session(_))
        ));
    }
}
