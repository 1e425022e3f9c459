//! Reaching the Redis that the Redis tests share.
//!
//! The tests use `REDIS_URL` (default `redis://127.0.0.1:6379`) and fail,
//! never skip, when it cannot be reached. Each store gets a random key
//! prefix, so tests running in parallel never see each other's keys.

use std::sync::Arc;

use auth_layer::store::{RedisConfig, RedisStore};
use auth_layer::{ManualClock, random_id};

/// How to start the Redis the tests expect.
pub const START_REDIS: &str = "redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 \
     --save \"\" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log";

/// The shared Redis's URL.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A key prefix no other test uses.
pub fn unique_prefix() -> String {
    format!("tokenpair-test:{}:", random_id())
}

/// A configuration for the shared Redis under a fresh prefix, on `clock`.
pub fn config(clock: &ManualClock) -> RedisConfig {
    RedisConfig::new(redis_url())
        .key_prefix(unique_prefix())
        .clock(Arc::new(clock.clone()))
}

/// Connects, or fails the test with a message that says how to start Redis.
pub async fn connect(config: RedisConfig) -> RedisStore {
    let shown = format!("{config:?}");
    match RedisStore::connect(config).await {
        Ok(store) => store,
        Err(error) => {
            let cause = std::error::Error::source(&error).map(ToString::to_string);
            panic!(
                "cannot reach Redis ({error}: {}) with {shown}\n\
                 start it with:\n    {START_REDIS}\n\
                 or point REDIS_URL at another server",
                cause.unwrap_or_default()
            )
        }
    }
}
