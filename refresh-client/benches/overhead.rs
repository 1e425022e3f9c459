//! The middleware's cost per request, against its floors, in one run.
//!
//! `cargo bench -p refresh-client --bench overhead` starts a loopback
//! server in-process and drives it with 64 concurrent requests (set
//! `CONCURRENCY` and `SECONDS` to change that), through three clients in
//! turn: a plain `reqwest::Client`, a `ClientWithMiddleware` with no
//! middleware, and one with `RefreshMiddleware` holding a valid token. The
//! rounds are interleaved so that a noisy neighbour hurts all three alike;
//! the table gives each client's median round and the ratios.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use refresh_client::{RefreshMiddleware, Tokens};
use reqwest_middleware::ClientWithMiddleware;

#[derive(Clone)]
enum Client {
    Plain(reqwest::Client),
    Wrapped(ClientWithMiddleware),
}

impl Client {
    async fn get(&self, url: &str) -> bool {
        match self {
            Self::Plain(c) => c
                .get(url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success()),
            Self::Wrapped(c) => c
                .get(url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success()),
        }
    }
}

/// Requests per second through `client` for `seconds`, `concurrency` at a
/// time.
async fn drive(client: &Client, url: &str, concurrency: usize, seconds: f64) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
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
    let started = Instant::now();
    for worker in workers {
        let _ = worker.await;
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

fn env(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let concurrency = env("CONCURRENCY", 64.0) as usize;
    let seconds = env("SECONDS", 1.5);
    let rounds = env("ROUNDS", 7.0) as usize;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().route("/api/me", get(|| async { "ok" }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let url = format!("{base}/api/me");

    let plain = reqwest::Client::new();
    let bare = reqwest_middleware::ClientBuilder::new(plain.clone()).build();
    let auth = RefreshMiddleware::builder(&format!("{base}/api/refresh"))
        .unwrap()
        .build();
    auth.set_tokens(Tokens {
        access: "eyJhbGciOiJIUzI1NiJ9.eyJpYXQiOjAsImV4cCI6OTk5OTk5OTk5OX0.sig".into(),
        refresh: Some("refresh".into()),
    });
    let with_auth = reqwest_middleware::ClientBuilder::new(plain.clone())
        .with(auth)
        .build();
    let clients = [
        ("reqwest::Client", Client::Plain(plain)),
        ("ClientWithMiddleware, no middleware", Client::Wrapped(bare)),
        (
            "ClientWithMiddleware + RefreshMiddleware",
            Client::Wrapped(with_auth),
        ),
    ];

    // Warm every client's connection pool first, then interleave rounds,
    // starting each round with a different client.
    for (_, client) in &clients {
        drive(client, &url, concurrency, 0.5).await;
    }
    let mut runs = [Vec::new(), Vec::new(), Vec::new()];
    for round in 0..rounds {
        for k in 0..clients.len() {
            let i = (round + k) % clients.len();
            runs[i].push(drive(&clients[i].1, &url, concurrency, seconds).await);
        }
    }
    let best = runs.map(|mut r| {
        r.sort_by(f64::total_cmp);
        r[r.len() / 2]
    });

    println!(
        "\n{concurrency} concurrent requests, median of {rounds} rounds of {seconds} s each\n"
    );
    println!("| client | requests/s | vs plain | vs bare wrapper |");
    println!("| --- | --- | --- | --- |");
    for (i, (name, _)) in clients.iter().enumerate() {
        println!(
            "| {name} | {:.0} | {:.3} | {:.3} |",
            best[i],
            best[i] / best[0],
            best[i] / best[1]
        );
    }
}
