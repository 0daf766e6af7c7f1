//! What an instance answers on `/health` and `/api/health/database`, as status code and JSON body. Pure, so the
//! logs (kubelet probe lines) and the HTTP endpoints agree.

use serde_json::{Value, json};

use super::noise::Noise;
use super::profile::{DB_HEALTH_CHECKOUT_MS, Mode, POOL_MAX, Profile};

/// The database error of `/api/health/database` when no pool connection came within its checkout timeout
/// ([`DB_HEALTH_CHECKOUT_MS`]), in SQLAlchemy's wording.
pub(crate) fn pool_timeout() -> String {
    format!(
        "QueuePool limit of size {POOL_MAX} overflow 0 reached, connection timed out, timeout {:.2}",
        DB_HEALTH_CHECKOUT_MS as f64 / 1000.0
    )
}
/// The Redis client's error when the cache is unreachable.
pub(crate) const REDIS_REFUSED: &str = "Error 111 connecting to redis:6379. Connection refused.";
/// Why the bad release fails.
pub(crate) const SCHEMA_ERROR: &str =
    "(psycopg.errors.UndefinedColumn) column quotes.exchange_code does not exist";

/// The pool's figures at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pool {
    pub active: u32,
    pub idle: u32,
    pub max: u32,
}

/// The pool of an instance in `profile`, jittering per 10-second bucket of pod `uid`.
pub(crate) fn pool(profile: &Profile, uid: &str, unix_seconds: i64) -> Pool {
    let (lo, hi) = profile.pool_active;
    let active = Noise::at(uid, unix_seconds.div_euclid(10), "pool")
        .range(u64::from(lo), u64::from(hi)) as u32;
    let idle = (POOL_MAX - active).min(5);
    Pool {
        active,
        idle,
        max: POOL_MAX,
    }
}

/// `/health`: status code and body. `ready` is the pod's readiness; `uptime` in seconds.
///
/// It answers whether this instance can serve requests: the database and the time-series store are pinged, the
/// cache is reported but not required (requests fall back to the database when Redis is down, so the instance
/// still serves: 200 `healthy` with `checks.cache` = `down`). It does not check out a pool connection, so an
/// exhausted pool shows on `/api/health/database`, not here.
pub(crate) fn health(
    mode: Mode,
    ready: bool,
    version: &str,
    pod: &str,
    uptime: i64,
) -> (u16, Value) {
    let body = |status: &str, database: &str, cache: &str, reason: Option<String>| {
        let mut v = json!({
            "status": status,
            "version": version,
            "pod": pod,
            "uptime_seconds": uptime,
            "checks": { "database": database, "cache": cache, "tdengine": "up" },
        });
        if let (Some(reason), Some(obj)) = (reason, v.as_object_mut()) {
            obj.insert("reason".into(), Value::String(reason));
        }
        v
    };
    if mode == Mode::Crashing {
        let reason = format!("schema check failed: {SCHEMA_ERROR}");
        return (500, body("unhealthy", "error", "up", Some(reason)));
    }
    if !ready {
        return (
            503,
            body(
                "unhealthy",
                "starting",
                "starting",
                Some("starting: warming up caches".into()),
            ),
        );
    }
    let cache = if mode == Mode::CacheDown {
        "down"
    } else {
        "up"
    };
    (200, body("healthy", "up", cache, None))
}

/// `/api/health/database`: status code and body.
pub(crate) fn database(mode: Mode, pool: Pool) -> (u16, Value) {
    let pool_json = json!({ "active": pool.active, "idle": pool.idle, "max": pool.max });
    match mode {
        Mode::PoolExhausted => (
            503,
            json!({ "status": "unhealthy", "error": pool_timeout(), "pool": pool_json }),
        ),
        Mode::Crashing => (
            500,
            json!({ "status": "unhealthy", "error": SCHEMA_ERROR, "pool": pool_json }),
        ),
        _ => (200, json!({ "status": "healthy", "pool": pool_json })),
    }
}
