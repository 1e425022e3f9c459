//! The Redis store across processes and through Redis outages.
//!
//! Stores sharing the Redis at `REDIS_URL` stand in for server instances
//! behind a load balancer. The outage tests start a private `redis-server`
//! on a free port, kill it, and start it again on the same port; it keeps
//! nothing on disk, like the machine's Redis. Real time passes only where
//! Redis or the store's reconnection must see it, and only briefly.

mod common_redis;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_layer::store::{
    NewSession, RedisConfig, RedisStore, Rotated, Rotation, SessionStore, StoreError,
};
use auth_layer::{Check, Clock, ManualClock, RevocationCheck, TokenRef, Verdict};
use common_redis::{config, connect, unique_prefix};

const HOUR: i64 = 3_600;

fn verdict(store: &RedisStore, sid: &str, jti: &str) -> Verdict {
    let token = TokenRef {
        sub: "someone",
        sid,
        jti,
        iat: 0,
        exp: i64::MAX,
    };
    match store.check(token) {
        Check::Ready(verdict) => verdict,
        Check::Pending(_) => panic!("the check must answer without waiting"),
    }
}

/// Polls `store`'s verdict on `sid`/`jti` every few milliseconds until it
/// is `wanted`, and returns how long that took, or `None` after `limit`.
async fn time_until(
    store: &RedisStore,
    sid: &str,
    jti: &str,
    wanted: Verdict,
    limit: Duration,
) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if verdict(store, sid, jti) == wanted {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    None
}

/// A `redis-server` of this test's own, on a port of its own.
struct PrivateRedis {
    port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut redis = Self { port, child: None };
        redis.restart();
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server again on the same port, empty.
    fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (apt-get install redis-server)");
        self.child = Some(child);

        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.answers_ping() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not start on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn answers_ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
        let mut reply = [0; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }

    /// Freezes (`STOP`) or thaws (`CONT`) the server: its connections stay
    /// open and nothing answers on them.
    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("the server is running").id();
        let status = Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} {pid} failed");
    }

    /// Kills the server outright; it keeps nothing.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A store on `redis` that goes stale after `stale_after`.
async fn store_on(
    redis: &PrivateRedis,
    prefix: &str,
    clock: &ManualClock,
    stale_after: Duration,
) -> RedisStore {
    let config = RedisConfig::new(redis.url())
        .key_prefix(prefix)
        .clock(Arc::new(clock.clone()))
        .stale_after(stale_after)
        .command_timeout(Duration::from_millis(500));
    connect(config).await
}

fn session(sid: &str, jti: &str, clock: &ManualClock) -> NewSession {
    NewSession {
        sid: sid.to_owned(),
        sub: "alice".to_owned(),
        claims: "{}".to_owned(),
        refresh_jti: jti.to_owned(),
        expires_at: clock.now() + HOUR,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_through_one_store_reaches_another_within_100_ms() {
    let clock = ManualClock::starting_now();
    let prefix = unique_prefix();
    let shared_prefix = || config(&clock).key_prefix(prefix.clone());
    let (here, there) = (
        connect(shared_prefix()).await,
        connect(shared_prefix()).await,
    );
    assert_eq!(verdict(&there, "s1", "a1"), Verdict::Valid);

    let start = Instant::now();
    here.revoke_session("s1", clock.now() + HOUR).await.unwrap();
    let session_seen =
        time_until(&there, "s1", "a1", Verdict::Revoked, Duration::from_secs(1)).await;
    let session_seen = session_seen.map(|_| start.elapsed());

    let start = Instant::now();
    here.revoke_token("a2", clock.now() + HOUR).await.unwrap();
    let token_seen = time_until(&there, "s2", "a2", Verdict::Revoked, Duration::from_secs(1)).await;
    let token_seen = token_seen.map(|_| start.elapsed());

    let limit = Duration::from_millis(100);
    assert!(
        session_seen.is_some_and(|took| took < limit),
        "session revocation seen after {session_seen:?}"
    );
    assert!(
        token_seen.is_some_and(|took| took < limit),
        "token revocation seen after {token_seen:?}"
    );
    assert_eq!(verdict(&there, "s3", "a3"), Verdict::Valid);
    here.shutdown().await;
    there.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_fails_closed_while_redis_is_down_and_recovers_with_its_revocations() {
    let mut redis = PrivateRedis::start();
    let clock = ManualClock::starting_now();
    let prefix = unique_prefix();
    let stale_after = Duration::from_millis(300);
    let store = store_on(&redis, &prefix, &clock, stale_after).await;
    store.create(session("s1", "r1", &clock)).await.unwrap();
    store
        .revoke_session("gone", clock.now() + HOUR)
        .await
        .unwrap();

    let stopped = Instant::now();
    redis.stop();

    assert_eq!(
        verdict(&store, "s1", "a1"),
        Verdict::Valid,
        "the copy answers within the bound"
    );
    let write = Instant::now();
    let refused = store.revoke_token("a1", clock.now() + HOUR).await;
    assert!(
        matches!(refused, Err(StoreError::Unavailable(_))),
        "{refused:?}"
    );
    let rotate = Rotation {
        sid: "s1",
        presented_jti: "r1",
        next_jti: "r2",
        expires_at: clock.now() + HOUR,
        answer: "answer",
        now: clock.now(),
        grace: 10,
        revoke_until: clock.now() + HOUR,
    };
    assert!(matches!(
        store.rotate(rotate).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        store.session("s1").await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(
        write.elapsed() < Duration::from_millis(750),
        "writes took {:?}",
        write.elapsed()
    );

    let closed = time_until(
        &store,
        "s1",
        "a1",
        Verdict::Unavailable,
        Duration::from_secs(3),
    )
    .await;
    let closed = closed
        .map(|_| stopped.elapsed())
        .expect("the check fails closed");
    assert!(
        closed >= stale_after,
        "failed closed after {closed:?}, before the bound"
    );
    assert!(
        closed < stale_after + Duration::from_millis(500),
        "failed closed only after {closed:?}"
    );
    assert_eq!(
        verdict(&store, "gone", "a1"),
        Verdict::Revoked,
        "a held revocation still answers"
    );

    // Restarted empty: no data, and no scripts, so every script first
    // meets NOSCRIPT and falls back to its text.
    redis.restart();
    let recovered = time_until(&store, "s1", "a1", Verdict::Valid, Duration::from_secs(10)).await;
    assert!(recovered.is_some(), "the store never recovered");
    store.create(session("s2", "r1", &clock)).await.unwrap();
    assert!(store.session("s2").await.unwrap().is_some());
    assert_eq!(verdict(&store, "gone", "a1"), Verdict::Revoked);
    let newcomer = store_on(&redis, &prefix, &clock, stale_after).await;
    assert_eq!(
        verdict(&newcomer, "gone", "a1"),
        Verdict::Revoked,
        "Redis was re-seeded"
    );
    assert_eq!(verdict(&newcomer, "s2", "a1"), Verdict::Valid);
    newcomer.shutdown().await;
    store.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_fails_closed_when_redis_hangs_without_closing_its_connections() {
    let redis = PrivateRedis::start();
    let clock = ManualClock::starting_now();
    let stale_after = Duration::from_millis(300);
    let store = store_on(&redis, &unique_prefix(), &clock, stale_after).await;

    let frozen = Instant::now();
    redis.signal("STOP");
    let closed = time_until(
        &store,
        "s1",
        "a1",
        Verdict::Unavailable,
        Duration::from_secs(3),
    )
    .await;
    let closed = closed.map(|_| frozen.elapsed());
    redis.signal("CONT");

    // The heartbeat gives up after the command timeout (500 ms), and the
    // bound counts from its last answer before the freeze.
    let limit = Duration::from_millis(500) + Duration::from_millis(300);
    assert!(
        closed.is_some_and(|took| took < limit),
        "failed closed after {closed:?}"
    );
    let recovered = time_until(&store, "s1", "a1", Verdict::Valid, Duration::from_secs(10)).await;
    assert!(recovered.is_some(), "the store never recovered");
    store.revoke_token("a1", clock.now() + HOUR).await.unwrap();
    assert_eq!(verdict(&store, "s1", "a1"), Verdict::Revoked);
    store.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fail_open_store_answers_from_its_copy_while_redis_is_down() {
    let mut redis = PrivateRedis::start();
    let clock = ManualClock::starting_now();
    let stale_after = Duration::from_millis(100);
    let config = RedisConfig::new(redis.url())
        .key_prefix(unique_prefix())
        .clock(Arc::new(clock.clone()))
        .stale_after(stale_after)
        .fail_open(true);
    let store = connect(config).await;
    store
        .revoke_session("gone", clock.now() + HOUR)
        .await
        .unwrap();

    redis.stop();
    tokio::time::sleep(stale_after * 4).await;

    assert_eq!(verdict(&store, "s1", "a1"), Verdict::Valid);
    assert_eq!(verdict(&store, "gone", "a1"), Verdict::Revoked);
    store.shutdown().await;
}

#[tokio::test]
async fn connecting_to_a_port_where_nothing_listens_fails_quickly_with_unavailable() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = RedisConfig::new(format!("redis://127.0.0.1:{port}"))
        .command_timeout(Duration::from_millis(500));

    let start = Instant::now();
    let result = RedisStore::connect(config).await;

    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn an_unreadable_url_is_refused_without_echoing_it() {
    let result = RedisStore::connect(RedisConfig::new("no scheme, password s3cret")).await;

    let error = result.expect_err("the URL cannot be read");
    let source = std::error::Error::source(&error)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(matches!(error, StoreError::Unavailable(_)));
    assert!(!format!("{error} {source} {error:?}").contains("s3cret"));
}

#[tokio::test]
async fn a_second_instance_replays_the_answer_the_first_instance_gave() {
    let clock = ManualClock::starting_now();
    let prefix = unique_prefix();
    let shared_prefix = || config(&clock).key_prefix(prefix.clone());
    let first = connect(shared_prefix()).await;
    first.create(session("s1", "r1", &clock)).await.unwrap();
    let rotate = |presented, next| Rotation {
        sid: "s1",
        presented_jti: presented,
        next_jti: next,
        expires_at: clock.now() + HOUR,
        answer: "first answer",
        now: clock.now(),
        grace: 10,
        revoke_until: clock.now() + HOUR,
    };
    assert_eq!(
        first.rotate(rotate("r1", "r2")).await.unwrap(),
        Rotated::Rotated
    );

    let second = connect(shared_prefix()).await;

    let replayed = Rotated::Replayed("first answer".to_owned());
    assert_eq!(second.rotate(rotate("r1", "r3")).await.unwrap(), replayed);
    assert_eq!(
        second.session("s1").await.unwrap().unwrap().current_jti,
        "r2"
    );
    first.shutdown().await;
    second.shutdown().await;
}
