//! The coordinator: short-lived claims and locks shared by every process of the bot.
//!
//! Redis in production (`SET key value NX PX ttl`), in-process for a single replica. Claims make a duplicate
//! event do nothing; locks keep one change at a time per target across processes. A process remembers the locks
//! it holds, so a graceful stop gives them back (`release_held`) instead of leaving them to expire.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

/// The coordinator could not be reached or answered nonsense.
#[derive(Debug, thiserror::Error)]
#[error("coordinator unavailable: {0}")]
pub struct CoordinatorError(pub String);

/// Claims and locks with a time to live.
#[async_trait]
pub trait Coordinator: Send + Sync + 'static {
    /// Claims `key` for `ttl`; true only for the first caller while the claim lives.
    async fn claim(&self, key: &str, ttl: Duration) -> Result<bool, CoordinatorError>;
    /// Whether `key` is claimed right now (a read: claims nothing).
    async fn is_claimed(&self, key: &str) -> Result<bool, CoordinatorError>;
    /// Releases a claim held with `key` (used for locks; claims of events simply expire).
    async fn release(&self, key: &str) -> Result<(), CoordinatorError>;
    /// Takes `key` as a lock of this process for `ttl`: a claim that this process releases (`release`) when done,
    /// and that a graceful stop gives back with [`Coordinator::release_held`].
    async fn lock(&self, key: &str, ttl: Duration) -> Result<bool, CoordinatorError> {
        self.claim(key, ttl).await
    }
    /// Releases every lock this process still holds (graceful stop); returns how many.
    async fn release_held(&self) -> usize {
        0
    }
    /// A short name for logs and `check-config` (`in-process`, `redis://host:6379`).
    fn describe(&self) -> String;
}

/// One process's claims, for a single replica and for the demo.
#[derive(Debug, Default)]
pub struct InProcessCoordinator {
    claims: Mutex<HashMap<String, Instant>>,
    held: HeldLocks,
}

/// The locks this process holds.
#[derive(Debug, Default)]
struct HeldLocks(Mutex<HashSet<String>>);

impl HeldLocks {
    fn add(&self, key: &str) {
        if let Ok(mut held) = self.0.lock() {
            held.insert(key.to_string());
        }
    }

    /// Forgets `key`; true if it was held.
    fn remove(&self, key: &str) -> bool {
        self.0.lock().is_ok_and(|mut held| held.remove(key))
    }

    fn take_all(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|mut held| held.drain().collect())
            .unwrap_or_default()
    }
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
        self.held.remove(key);
        Ok(())
    }

    async fn lock(&self, key: &str, ttl: Duration) -> Result<bool, CoordinatorError> {
        let won = self.claim(key, ttl).await?;
        if won {
            self.held.add(key);
        }
        Ok(won)
    }

    async fn release_held(&self) -> usize {
        let keys = self.held.take_all();
        for key in &keys {
            let _ = self.release(key).await;
        }
        keys.len()
    }

    fn describe(&self) -> String {
        "in-process".to_string()
    }
}

/// Claims in Redis, shared by every replica: `SET key 1 NX PX ttl`. A lock's value is this process's token,
/// and it is released only while it still holds that value (another process may have it after it expired).
pub struct RedisCoordinator {
    conn: redis::aio::ConnectionManager,
    prefix: String,
    shown_url: String,
    /// This process's lock value.
    token: String,
    held: HeldLocks,
}

/// Deletes a lock only if it still has this process's value.
const RELEASE_IF_OURS: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

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
            token: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
            held: HeldLocks::default(),
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

    async fn release_lock(&self, key: &str) -> Result<(), CoordinatorError> {
        let mut conn = self.conn.clone();
        let _: i64 = redis::Script::new(RELEASE_IF_OURS)
            .key(format!("{}{key}", self.prefix))
            .arg(&self.token)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| CoordinatorError(e.to_string()))?;
        Ok(())
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
        if self.held.remove(key) {
            return self.release_lock(key).await;
        }
        let mut conn = self.conn.clone();
        let _: i64 = redis::cmd("DEL")
            .arg(format!("{}{key}", self.prefix))
            .query_async(&mut conn)
            .await
            .map_err(|e| CoordinatorError(e.to_string()))?;
        Ok(())
    }

    async fn lock(&self, key: &str, ttl: Duration) -> Result<bool, CoordinatorError> {
        let won = self.set_nx(key, &self.token, ttl).await?;
        if won {
            self.held.add(key);
        }
        Ok(won)
    }

    async fn release_held(&self) -> usize {
        let keys = self.held.take_all();
        let mut released = 0;
        for key in &keys {
            match self.release_lock(key).await {
                Ok(()) => released += 1,
                Err(err) => {
                    tracing::warn!(error = %err, lock = %key, "could not release a lock; it expires by itself")
                }
            }
        }
        released
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

    #[tokio::test]
    async fn held_locks_are_given_back_on_stop_and_claims_are_not() {
        let c = InProcessCoordinator::default();
        assert!(
            c.lock("change-lock:a", Duration::from_secs(30))
                .await
                .unwrap()
        );
        assert!(
            c.lock("change-lock:b", Duration::from_secs(30))
                .await
                .unwrap()
        );
        assert!(c.claim("event:1", Duration::from_secs(30)).await.unwrap());
        c.release("change-lock:b").await.unwrap();
        assert_eq!(c.release_held().await, 1, "only the lock still held");
        assert!(
            c.lock("change-lock:a", Duration::from_secs(30))
                .await
                .unwrap()
        );
        assert!(!c.claim("event:1", Duration::from_secs(30)).await.unwrap());
    }
}
