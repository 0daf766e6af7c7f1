//! The coordinator: short-lived claims shared by every process of the bot.
//!
//! Redis in production (`SET key 1 NX PX ttl`), in-process for a single replica. It is a pre-filter only: a delivery
//! marked here is a known duplicate; the store's claim decides (one change at a time is the store's rule too).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

/// The coordinator could not be reached or answered nonsense.
#[derive(Debug, thiserror::Error)]
#[error("coordinator unavailable: {0}")]
pub struct CoordinatorError(pub String);

/// Claims with a time to live.
#[async_trait]
pub trait Coordinator: Send + Sync + 'static {
    /// Claims `key` for `ttl`; true only for the first caller while the claim lives.
    async fn claim(&self, key: &str, ttl: Duration) -> Result<bool, CoordinatorError>;
    /// Whether `key` is claimed right now (a read: claims nothing).
    async fn is_claimed(&self, key: &str) -> Result<bool, CoordinatorError>;
    /// Releases the claim on `key`.
    async fn release(&self, key: &str) -> Result<(), CoordinatorError>;
    /// A short name for logs and `check-config` (`in-process`, `redis://host:6379`).
    fn describe(&self) -> String;
}

/// One process's claims, for a single replica and for the demo.
#[derive(Debug, Default)]
pub struct InProcessCoordinator {
    claims: Mutex<HashMap<String, Instant>>,
}

#[async_trait]
impl Coordinator for InProcessCoordinator {
    async fn claim(&self, key: &str, ttl: Duration) -> Result<bool, CoordinatorError> {
        let now = Instant::now();
        let mut claims = self
            .claims
            .lock()
            .map_err(|_| CoordinatorError("lock poisoned".into()))?;
        claims.retain(|_, until| *until > now);
        if claims.contains_key(key) {
            return Ok(false);
        }
        claims.insert(key.to_string(), now + ttl);
        Ok(true)
    }

    async fn is_claimed(&self, key: &str) -> Result<bool, CoordinatorError> {
        let claims = self
            .claims
            .lock()
            .map_err(|_| CoordinatorError("lock poisoned".into()))?;
        Ok(claims.get(key).is_some_and(|until| *until > Instant::now()))
    }

    async fn release(&self, key: &str) -> Result<(), CoordinatorError> {
        let mut claims = self
            .claims
            .lock()
            .map_err(|_| CoordinatorError("lock poisoned".into()))?;
        claims.remove(key);
        Ok(())
    }

    fn describe(&self) -> String {
        "in-process".to_string()
    }
}

/// Claims in Redis, shared by every replica: `SET key 1 NX PX ttl`.
pub struct RedisCoordinator {
    conn: redis::aio::ConnectionManager,
    prefix: String,
    shown_url: String,
}

impl std::fmt::Debug for RedisCoordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCoordinator")
            .field("url", &self.shown_url)
            .finish_non_exhaustive()
    }
}

impl RedisCoordinator {
    /// Connects to `url`; keys are namespaced with `prefix` (e.g. `mystocks-bot:`).
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, CoordinatorError> {
        let shown_url = crate::store::redact_url(url);
        let client = redis::Client::open(url)
            .map_err(|e| CoordinatorError(format!("bad Redis URL {shown_url}: {e}")))?;
        let conn = redis::aio::ConnectionManager::new(client)
            .await
            .map_err(|e| CoordinatorError(format!("cannot connect to {shown_url}: {e}")))?;
        Ok(RedisCoordinator {
            conn,
            prefix: prefix.to_string(),
            shown_url,
        })
    }

    async fn set_nx(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<bool, CoordinatorError> {
        let mut conn = self.conn.clone();
        let millis = ttl.as_millis().max(1) as u64;
        let answer: Option<String> = redis::cmd("SET")
            .arg(format!("{}{key}", self.prefix))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(millis)
            .query_async(&mut conn)
            .await
            .map_err(|e| CoordinatorError(e.to_string()))?;
        Ok(answer.is_some())
    }
}

#[async_trait]
impl Coordinator for RedisCoordinator {
    async fn claim(&self, key: &str, ttl: Duration) -> Result<bool, CoordinatorError> {
        self.set_nx(key, "1", ttl).await
    }

    async fn is_claimed(&self, key: &str) -> Result<bool, CoordinatorError> {
        let mut conn = self.conn.clone();
        let found: i64 = redis::cmd("EXISTS")
            .arg(format!("{}{key}", self.prefix))
            .query_async(&mut conn)
            .await
            .map_err(|e| CoordinatorError(e.to_string()))?;
        Ok(found > 0)
    }

    async fn release(&self, key: &str) -> Result<(), CoordinatorError> {
        let mut conn = self.conn.clone();
        let _: i64 = redis::cmd("DEL")
            .arg(format!("{}{key}", self.prefix))
            .query_async(&mut conn)
            .await
            .map_err(|e| CoordinatorError(e.to_string()))?;
        Ok(())
    }

    fn describe(&self) -> String {
        self.shown_url.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn in_process_claims_once_until_expiry() {
        let c = InProcessCoordinator::default();
        assert!(!c.is_claimed("e1").await.unwrap());
        assert!(c.claim("e1", Duration::from_millis(50)).await.unwrap());
        assert!(c.is_claimed("e1").await.unwrap());
        assert!(!c.claim("e1", Duration::from_millis(50)).await.unwrap());
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(!c.is_claimed("e1").await.unwrap(), "expired");
        assert!(c.claim("e1", Duration::from_millis(50)).await.unwrap());
        c.release("e1").await.unwrap();
        assert!(c.claim("e1", Duration::from_secs(5)).await.unwrap());
    }
}
