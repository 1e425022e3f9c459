use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use fred::clients::Pool;
use fred::interfaces::{ClientLike, EventInterface};
use fred::types::Builder;
use fred::types::config::{Config, ReconnectPolicy, UnresponsiveConfig};
use tokio::sync::Notify;

use super::config::RedisConfig;
use super::health::Health;
use super::keys::Keys;
use super::mirror::Mirror;
use super::script::Scripts;
use super::shared::{Shared, Tasks, unavailable};
use super::sync;
use crate::layer::{Check, RevocationCheck, TokenRef, Verdict};
use crate::store::StoreError;

/// Sessions and revocations in Redis, shared by every process that points
/// at the same server and key prefix.
///
/// Every write is one Lua script, so a rotation is a single atomic
/// compare-and-swap however many processes race on it. The per-request
/// check never waits on Redis: each process keeps a copy of the
/// revocations in memory, kept current by a pub/sub subscription and by a
/// full resync after every (re)connect. Clones share the connections and
/// the copy.
///
/// # Example
///
/// ```no_run
/// use auth_layer::store::{NewSession, RedisConfig, RedisStore, SessionStore};
/// use auth_layer::{Check, RevocationCheck, TokenRef, Verdict};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), auth_layer::store::StoreError> {
/// let store = RedisStore::connect(RedisConfig::new("redis://127.0.0.1:6379")).await?;
/// let session = NewSession {
///     sid: "s1".into(),
///     sub: "alice".into(),
///     claims: "{}".into(),
///     refresh_jti: "r1".into(),
///     expires_at: i64::MAX,
/// };
/// store.create(session).await?;
/// store.revoke_session("s1", i64::MAX).await?;
///
/// // Answered from memory, without a round trip to Redis.
/// let token = TokenRef { sub: "alice", sid: "s1", jti: "a1", iat: 0, exp: i64::MAX };
/// assert!(matches!(store.check(token), Check::Ready(Verdict::Revoked)));
/// store.shutdown().await;
/// # Ok(())
/// # }
/// ```
///
/// # Data model
///
/// Every name starts with the configured prefix `{p}` (default
/// `tokenpair:`):
///
/// | key | type | holds | expires |
/// | --- | --- | --- | --- |
/// | `{p}s:{sid}` | hash | `sub`, `claims`, `cur`, `exp`; `prev`, `prev_at` | with the session |
/// | `{p}a:{sid}` | string | the answer the last rotation gave | after the grace window |
/// | `{p}u:{sub}` | set | the user's session ids | with the user's latest session |
/// | `{p}revoked` | sorted set | `s:{sid}` and `j:{jti}` | with its latest entry |
/// | `{p}revocations` | channel | every revocation, as `"{until} {member}"` | |
///
/// In a session's hash, `cur` is the current refresh token's `jti`, and
/// `prev` and `prev_at`, set by a rotation, the one it replaced and when.
/// The user's set serves "log out everywhere". A revocation's score is the
/// time until which it is refused; the set is pruned of what has expired
/// whenever it is written.
///
/// Times are seconds since the Unix epoch from the configured
/// [`Clock`](crate::Clock). Every decision compares them with the clock;
/// Redis expiry only reclaims memory. A refresh costs two round trips (read
/// the session, run the rotation), and nothing scans the key space.
///
/// # When Redis is unreachable
///
/// - Writes fail with [`StoreError::Unavailable`] at once when the
///   connection is known to be down, and otherwise within the
///   [command timeout](RedisConfig::command_timeout). Nothing panics and
///   nothing waits forever.
/// - The check answers from the copy for
///   [`stale_after`](RedisConfig::stale_after) (2 s by default), then
///   [`Verdict::Unavailable`], which the layer turns into `503`, unless the
///   store is configured to [`fail_open`](RedisConfig::fail_open). A
///   revocation the copy holds is answered as such either way.
/// - The store reconnects by itself, from 50 ms up to a second apart. Then
///   it resyncs: it merges what Redis holds into the copy and writes back
///   the revocations Redis lacks, so a Redis that restarted empty does not
///   bring a revoked token back. (Its sessions are gone, though: their
///   users sign in again.)
/// - An outage is logged once at `warn`, the recovery at `info`.
///
/// # Why fred
///
/// The client is [fred](https://docs.rs/fred). It reconnects on its own
/// under a policy the store sets, keeps track of what its subscriber
/// connection listens to so it can subscribe again, and reports every
/// reconnect and connection error as an event. The store turns those
/// events into its health: the copy counts as current only while the
/// subscription is up and a resync has finished since it came back. fred
/// also runs scripts by hash and lets the store fall back to the text when
/// a restarted Redis has forgotten them. With redis-rs, noticing and
/// rebuilding a dropped pub/sub connection would be left to this crate,
/// and that is the part of this store that must not go wrong.
///
/// # Limits
///
/// - One Redis server, not Redis Cluster: the scripts touch keys that do
///   not share a hash slot.
/// - The processes sharing a Redis should agree on the time, as they must
///   for token expiry anyway.
/// - The copy holds every revocation in force, one entry per revoked
///   session or token, until its time passes.
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    /// The listener and the watcher.
    tasks: Tasks,
    /// The tasks that drive fred's connections.
    connections: Tasks,
}

#[derive(Debug, thiserror::Error)]
#[error("the Redis URL cannot be read")]
struct BadUrl;

/// How many command connections the store keeps: fred sends one script at
/// a time per connection, so several let concurrent refreshes overlap.
const CONNECTIONS: usize = 4;

impl RedisStore {
    /// Connects to Redis, loads the scripts, subscribes to the revocation
    /// channel and copies the revocations in force, so that the store's
    /// check is current when it is returned.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the URL cannot be read or Redis
    /// cannot be reached within the command timeout. After this returns,
    /// the store reconnects on its own for as long as it lives.
    pub async fn connect(config: RedisConfig) -> Result<Self, StoreError> {
        let builder = builder(&config)?;
        let connections = Tasks::default();

        let subscriber = builder.build_subscriber_client().map_err(unavailable)?;
        // Taken before connecting, so that no event is missed.
        let mut reconnects = subscriber.reconnect_rx();
        let errors = subscriber.error_rx();
        let messages = subscriber.message_rx();
        connections.push(subscriber.init().await.map_err(unavailable)?.abort_handle());

        let mut clients = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            let client = builder.build().map_err(unavailable)?;
            connections.push(client.init().await.map_err(unavailable)?.abort_handle());
            clients.push(client);
        }
        let pool = Pool::from_clients(clients).map_err(unavailable)?;
        let scripts = Scripts::load(pool.next()).await.map_err(unavailable)?;

        let shared = Arc::new(Shared {
            pool,
            subscriber,
            scripts,
            keys: Keys::new(&config.key_prefix),
            mirror: Mirror::new(),
            health: Health::new(config.stale_after, config.fail_open),
            clock: config.clock,
            lagged: Notify::new(),
            command_timeout: config.command_timeout,
            stale_after: config.stale_after,
            fail_open: config.fail_open,
        });
        let tasks = Tasks::default();
        tasks.push(tokio::spawn(sync::listen(shared.clone(), messages)).abort_handle());
        sync::resync(&shared).await.map_err(unavailable)?;
        shared.health.restored();

        // The first connection's event; the resync above has covered it.
        while reconnects.try_recv().is_ok() {}
        let every =
            (config.stale_after / 4).clamp(Duration::from_millis(20), Duration::from_secs(1));
        let watch = sync::watch(shared.clone(), reconnects, errors, every);
        tasks.push(tokio::spawn(watch).abort_handle());

        let inner = Inner {
            shared,
            tasks,
            connections,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// Stops the background tasks and closes the connections. Afterwards
    /// writes fail with [`StoreError::Unavailable`] and the check fails
    /// closed once the stale bound has passed, as in an outage.
    ///
    /// Dropping the last clone does the same without waiting for Redis to
    /// acknowledge the close.
    pub async fn shutdown(&self) {
        let inner = &*self.inner;
        inner.tasks.abort();
        inner.shared.health.lost();

        let quit = async {
            let _ = inner.shared.pool.quit().await;
            let _ = inner.shared.subscriber.quit().await;
        };
        let _ = tokio::time::timeout(inner.shared.command_timeout, quit).await;
        inner.connections.abort();
    }

    pub(super) fn shared(&self) -> &Shared {
        &self.inner.shared
    }
}

fn builder(config: &RedisConfig) -> Result<Builder, StoreError> {
    let mut fred_config = Config::from_url_centralized(&config.url)
        .map_err(|_| StoreError::Unavailable(Box::new(BadUrl)))?;
    fred_config.fail_fast = true;

    let timeout = config.command_timeout;
    let mut builder = Builder::from_config(fred_config);
    // Retry forever, from 50 ms up to a second apart (plus jitter).
    builder
        .set_policy(ReconnectPolicy::new_exponential(0, 50, 1_000, 2))
        .with_performance_config(|perf| {
            perf.default_command_timeout = timeout;
            perf.broadcast_channel_capacity = 1_024;
        })
        .with_connection_config(|connection| {
            connection.connection_timeout = timeout;
            connection.internal_command_timeout = timeout;
            // A retried rotation could find its own first attempt and take
            // it for reuse.
            connection.max_command_attempts = 1;
            connection.unresponsive = UnresponsiveConfig {
                max_timeout: Some(timeout * 2),
                interval: (timeout / 2).max(Duration::from_millis(10)),
            };
        });
    Ok(builder)
}

impl RevocationCheck for RedisStore {
    fn check(&self, token: TokenRef<'_>) -> Check {
        let shared = &*self.inner.shared;
        // A revocation is never wrong, even from a stale copy.
        if shared
            .mirror
            .revoked(token.sid, token.jti, || shared.clock.now())
        {
            Check::Ready(Verdict::Revoked)
        } else if shared.health.usable() {
            Check::Ready(Verdict::Valid)
        } else {
            Check::Ready(Verdict::Unavailable)
        }
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = &*self.inner.shared;
        f.debug_struct("RedisStore")
            .field("key_prefix", &shared.keys.prefix())
            .field("current", &shared.health.is_current())
            .field("revocations", &shared.mirror.len())
            .field("fail_open", &shared.fail_open)
            .finish_non_exhaustive()
    }
}
