//! The client half: `RefreshMiddleware` against plain reqwest on the same
//! server, and 10,000 requests meeting an expired token at once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use auth_layer::store::{MemoryStore, SessionStore};
use auth_layer::{Clock, ManualClock, SystemClock};
use http::header::AUTHORIZATION;
use refresh_client::{RefreshMiddleware, Tokens};
use reqwest_middleware::ClientWithMiddleware;
use tokenpair::reference::Server;
use tokio::runtime::Handle;

/// The three clients compared.
#[derive(Clone)]
pub enum Client {
    /// `reqwest::Client`, the bearer header set by hand.
    Plain(reqwest::Client, String),
    /// `ClientWithMiddleware` with no middleware, the header set by hand.
    Bare(ClientWithMiddleware, String),
    /// `ClientWithMiddleware` with `RefreshMiddleware` holding the token.
    Refreshing(ClientWithMiddleware),
}

impl Client {
    /// The three, for the token `access` of the server at `addr`.
    pub fn all(addr: SocketAddr, access: &str) -> [(&'static str, Client); 3] {
        let bearer = format!("Bearer {access}");
        let plain = reqwest::Client::new();
        let bare = reqwest_middleware::ClientBuilder::new(plain.clone()).build();
        let auth = RefreshMiddleware::builder(&format!("http://{addr}/api/refresh"))
            .expect("url")
            .build();
        auth.set_tokens(Tokens {
            access: access.to_owned(),
            refresh: None,
        });
        let refreshing = reqwest_middleware::ClientBuilder::new(plain.clone())
            .with(auth)
            .build();
        [
            ("reqwest::Client", Client::Plain(plain, bearer.clone())),
            (
                "ClientWithMiddleware, no middleware",
                Client::Bare(bare, bearer),
            ),
            (
                "ClientWithMiddleware + RefreshMiddleware",
                Client::Refreshing(refreshing),
            ),
        ]
    }

    async fn get(&self, url: &str) -> bool {
        let sent = match self {
            Self::Plain(c, bearer) => c.get(url).header(AUTHORIZATION, bearer).send().await.ok(),
            Self::Bare(c, bearer) => c.get(url).header(AUTHORIZATION, bearer).send().await.ok(),
            Self::Refreshing(c) => c.get(url).send().await.ok(),
        };
        sent.is_some_and(|r| r.status().is_success())
    }
}

/// Successful requests through `client` in `seconds`, `concurrency` at a
/// time, and how long that took.
pub async fn drive(
    client: &Client,
    url: &str,
    concurrency: usize,
    seconds: f64,
) -> (u64, Duration) {
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, url, done) = (client.clone(), url.to_owned(), Arc::clone(&done));
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    if client.get(&url).await {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
    (done.load(Ordering::Relaxed), started.elapsed())
}

/// What the storm of requests on an expired token came to.
pub struct Storm {
    pub took: Duration,
    pub refreshes: u64,
    pub succeeded: usize,
}

/// `n` requests at once with an access token the server has let expire, on
/// a fresh server whose clock the storm moves.
pub async fn expired_storm(
    server: &Handle,
    config: &tokenpair::reference::Config,
    n: usize,
) -> Storm {
    let clock = ManualClock::new(SystemClock.now());
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::with_clock(Arc::clone(&shared)));
    let reference = Server::with_store(config, shared, store).expect("server");
    let addr = crate::serve(server, &reference);

    let auth = RefreshMiddleware::builder(&format!("http://{addr}/api/refresh"))
        .expect("url")
        .build();
    auth.set_tokens_from_json(crate::login(addr).await.to_string().as_bytes());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let client = reqwest_middleware::ClientBuilder::new(client)
        .with(auth.clone())
        .build();

    clock.advance(config.access_ttl + Duration::from_secs(10));
    let url = format!("http://{addr}/api/me");
    let started = Instant::now();
    let calls: Vec<_> = (0..n)
        .map(|_| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                let sent = client.get(&url).send().await;
                sent.is_ok_and(|r| r.status().is_success())
            })
        })
        .collect();
    let mut succeeded = 0;
    for call in calls {
        succeeded += usize::from(call.await.unwrap_or(false));
    }
    Storm {
        took: started.elapsed(),
        refreshes: auth.refresh_count(),
        succeeded,
    }
}
