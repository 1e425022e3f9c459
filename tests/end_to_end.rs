//! The client middleware against the reference server, and two reference
//! servers sharing one Redis, over real HTTP.

// Only the URL and the start command are used here.
#[allow(dead_code)]
mod common_redis;

use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_layer::store::{MemoryStore, SessionStore};
use auth_layer::{Clock, ManualClock};
use refresh_client::{RefreshError, RefreshMiddleware};
use reqwest_middleware::ClientWithMiddleware;
use tokenpair::reference::{Config, Server};

const ACCESS_SECRET: &str = "end-to-end access secret, 32 bytes or more";
const REFRESH_SECRET: &str = "end-to-end refresh secret, 32 bytes or more";

fn config() -> Config {
    Config::from_lookup(|name| match name {
        "ACCESS_SECRET" => Some(ACCESS_SECRET.to_owned()),
        "REFRESH_SECRET" => Some(REFRESH_SECRET.to_owned()),
        "ACCESS_TTL" => Some("60s".to_owned()),
        _ => None,
    })
    .unwrap()
}

async fn serve(server: &Server) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = server.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

async fn login(base: &str) -> bytes::Bytes {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({"username": "demo", "password": "demo-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.bytes().await.unwrap()
}

/// A reference server on `clock` with the memory store, and a client whose
/// middleware reads the same clock, signed in.
async fn signed_in(clock: &ManualClock) -> (String, RefreshMiddleware, ClientWithMiddleware) {
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::with_clock(Arc::clone(&shared)));
    let server = Server::with_store(&config(), shared, store).unwrap();
    let base = serve(&server).await;

    let now = clock.clone();
    let auth = RefreshMiddleware::builder(&format!("{base}/api/refresh"))
        .unwrap()
        .clock(move || now.now())
        .build();
    assert!(auth.set_tokens_from_json(&login(&base).await));
    let client = reqwest_middleware::ClientBuilder::new(
        reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap(),
    )
    .with(auth.clone())
    .build();
    (base, auth, client)
}

#[tokio::test]
async fn twenty_requests_after_expiry_share_one_refresh_against_the_reference_server() {
    let clock = ManualClock::new(1_700_000_000);
    let (base, auth, client) = signed_in(&clock).await;
    let first = auth.tokens().unwrap();

    clock.advance(Duration::from_secs(60 + 6));
    let calls = (0..20).map(|_| client.get(format!("{base}/api/me")).send());
    let responses = futures_join(calls).await;

    assert!(
        responses
            .iter()
            .all(|r| r.as_ref().is_ok_and(|r| r.status() == 200))
    );
    assert_eq!(auth.refresh_count(), 1);
    assert_ne!(
        auth.tokens().unwrap().refresh,
        first.refresh,
        "the refresh rotated"
    );
}

#[tokio::test]
async fn after_logout_the_client_reports_that_the_session_ended() {
    let clock = ManualClock::new(1_700_000_000);
    let (base, auth, client) = signed_in(&clock).await;
    let access = auth.tokens().unwrap().access;
    let logout = reqwest::Client::new()
        .post(format!("{base}/api/logout"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);

    let err = client
        .get(format!("{base}/api/me"))
        .send()
        .await
        .unwrap_err();

    let refresh = RefreshError::find(&err).expect("a refresh error");
    assert!(refresh.session_ended(), "{refresh}");
    assert!(auth.tokens().is_none());
    assert_eq!(auth.refresh_count(), 1);
}

#[tokio::test]
async fn a_logout_through_one_server_is_refused_by_another_within_100_ms() {
    let mut config = config();
    config.redis_url = Some(common_redis::redis_url());
    let first = Server::new(&config).await.unwrap_or_else(|err| {
        panic!(
            "cannot reach Redis: {err}; start it with\n    {}",
            common_redis::START_REDIS
        )
    });
    let second = Server::new(&config).await.unwrap();
    let (a, b) = (serve(&first).await, serve(&second).await);
    let body: serde_json::Value = serde_json::from_slice(&login(&a).await).unwrap();
    let access = body["accessToken"].as_str().unwrap().to_owned();
    let http = reqwest::Client::new();
    let me = |base: &str| {
        http.get(format!("{base}/api/me"))
            .bearer_auth(&access)
            .send()
    };
    assert_eq!(me(&b).await.unwrap().status(), 200);

    let logout = http
        .post(format!("{a}/api/logout"))
        .bearer_auth(&access)
        .send();
    assert_eq!(logout.await.unwrap().status(), 204);
    let revoked_at = Instant::now();
    loop {
        let status = me(&b).await.unwrap().status();
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            revoked_at.elapsed() < Duration::from_millis(100),
            "still accepted after 100 ms"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(revoked_at.elapsed() < Duration::from_millis(100));
}

/// Runs the futures concurrently and collects their outputs in order.
async fn futures_join<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.unwrap());
    }
    outputs
}
