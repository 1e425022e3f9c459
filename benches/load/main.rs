//! The project's load driver: the reference server over loopback, the way a
//! user choosing between this and a hand-written check would measure it.
//!
//! `cargo bench --bench load` starts the reference server in-process on a
//! free port, once with the memory store and once with the Redis store
//! (`REDIS_URL`, default `redis://127.0.0.1:6379`), drives it with
//! keep-alive HTTP/1 connections for a fixed time at a fixed concurrency,
//! and prints one table. Public and protected routes are measured in
//! interleaved rounds on the same server, and the medians compared, since
//! the machine is shared and noisy. It also measures the memory store's
//! footprint at a million sessions and the client middleware. It writes
//! `docs/bench-latency.svg`.
//!
//! Settings: `SECONDS` per round (default 2), `CONCURRENCY` (default 64),
//! `ROUNDS` (default 3), `SESSIONS` for the footprint (default 1,000,000).

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use auth_layer::store::{MemoryStore, NewSession, RedisConfig, RedisStore, SessionStore};
use auth_layer::{Clock, ManualClock, SystemClock};
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{HeaderValue, Request};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use refresh_client::RefreshMiddleware;
use tokenpair::reference::{Config, Server};

/// Counts live heap bytes, for the memory store's footprint.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const ACCESS_SECRET: &str = "load driver access secret, 32 bytes or more";
const REFRESH_SECRET: &str = "load driver refresh secret, 32 bytes or more";

fn setting(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn config(redis: Option<String>) -> Config {
    let mut config = Config::from_lookup(|name| match name {
        "ACCESS_SECRET" => Some(ACCESS_SECRET.to_owned()),
        "REFRESH_SECRET" => Some(REFRESH_SECRET.to_owned()),
        "ACCESS_TTL" => Some("1h".to_owned()),
        _ => None,
    })
    .expect("configuration");
    config.redis_url = redis;
    config
}

async fn serve(server: &Server) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let router = server.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// Throughput and latency of one measured round.
#[derive(Clone, Copy, Default)]
struct Stats {
    rps: f64,
    p50_us: f64,
    p99_us: f64,
    errors: u64,
}

/// What each connection sends.
#[derive(Clone)]
enum Load {
    Get {
        path: &'static str,
        bearer: Option<HeaderValue>,
    },
    /// Rotates its own session's refresh token, again and again.
    Refresh { tokens: Vec<String> },
}

/// Drives `addr` with `concurrency` keep-alive connections for `seconds`.
async fn drive(addr: &str, load: &Load, concurrency: usize, seconds: f64) -> Stats {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let errors = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let (addr, load, errors) = (addr.to_owned(), load.clone(), Arc::clone(&errors));
            tokio::spawn(async move { connection(&addr, load, worker, deadline, &errors).await })
        })
        .collect();
    let started = Instant::now();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.unwrap_or_default());
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as f64
    };
    Stats {
        rps: latencies.len() as f64 / elapsed,
        p50_us: at(0.50),
        p99_us: at(0.99),
        errors: errors.load(Ordering::Relaxed),
    }
}

/// One connection's requests until `deadline`; returns their latencies in
/// microseconds.
async fn connection(
    addr: &str,
    load: Load,
    worker: usize,
    deadline: Instant,
    errors: &AtomicU64,
) -> Vec<u32> {
    let Ok(stream) = tokio::net::TcpStream::connect(addr).await else {
        errors.fetch_add(1, Ordering::Relaxed);
        return Vec::new();
    };
    let _ = stream.set_nodelay(true);
    let Ok((mut sender, conn)) = http1::handshake(TokioIo::new(stream)).await else {
        errors.fetch_add(1, Ordering::Relaxed);
        return Vec::new();
    };
    tokio::spawn(conn);
    let host = HeaderValue::try_from(addr).expect("host");
    let mut refresh = match &load {
        Load::Refresh { tokens } => Some(tokens[worker % tokens.len()].clone()),
        Load::Get { .. } => None,
    };

    let mut latencies = Vec::with_capacity(4096);
    while Instant::now() < deadline {
        let request = match (&load, &refresh) {
            (Load::Get { path, bearer }, _) => {
                let mut request = Request::get(*path).header(HOST, host.clone());
                if let Some(bearer) = bearer {
                    request = request.header(AUTHORIZATION, bearer.clone());
                }
                request.body(Full::new(Bytes::new()))
            }
            (Load::Refresh { .. }, Some(token)) => Request::post("/api/refresh")
                .header(HOST, host.clone())
                .header(CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(format!(
                    r#"{{"refreshToken":"{token}"}}"#
                )))),
            (Load::Refresh { .. }, None) => break,
        };
        let Ok(request) = request else { break };
        let started = Instant::now();
        let Ok(response) = sender.send_request(request).await else {
            errors.fetch_add(1, Ordering::Relaxed);
            break;
        };
        let ok = response.status().is_success();
        let body = response.into_body().collect().await.map(|b| b.to_bytes());
        latencies.push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
        if !ok {
            errors.fetch_add(1, Ordering::Relaxed);
        }
        if let (Some(token), Ok(body)) = (&mut refresh, body)
            && let Ok(answer) = serde_json::from_slice::<serde_json::Value>(&body)
            && let Some(next) = answer["refreshToken"].as_str()
        {
            *token = next.to_owned();
        }
    }
    latencies
}

async fn login(addr: &str) -> serde_json::Value {
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/api/login"))
        .json(&serde_json::json!({"username": "demo", "password": "demo-password"}))
        .send()
        .await
        .expect("login");
    response.json().await.expect("login json")
}

fn median(mut runs: Vec<Stats>) -> Stats {
    runs.sort_by(|a, b| a.rps.total_cmp(&b.rps));
    runs[runs.len() / 2]
}

/// The server figures for one store: public, protected and refresh.
struct ServerFigures {
    store: &'static str,
    public: Stats,
    protected: Stats,
    refresh: Stats,
}

async fn server_figures(
    store: &'static str,
    server: &Server,
    concurrency: usize,
    seconds: f64,
    rounds: usize,
) -> ServerFigures {
    let addr = serve(server).await;
    let access = login(&addr).await["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let public = Load::Get {
        path: "/healthz",
        bearer: None,
    };
    let protected = Load::Get {
        path: "/api/me",
        bearer: Some(HeaderValue::try_from(format!("Bearer {access}")).expect("header")),
    };
    drive(&addr, &public, concurrency, 0.5).await;
    drive(&addr, &protected, concurrency, 0.5).await;

    let (mut publics, mut protecteds) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        // Alternate which goes first, so drift hurts both alike.
        if round % 2 == 0 {
            publics.push(drive(&addr, &public, concurrency, seconds).await);
            protecteds.push(drive(&addr, &protected, concurrency, seconds).await);
        } else {
            protecteds.push(drive(&addr, &protected, concurrency, seconds).await);
            publics.push(drive(&addr, &public, concurrency, seconds).await);
        }
    }

    let mut tokens = Vec::new();
    for _ in 0..concurrency {
        tokens.push(
            login(&addr).await["refreshToken"]
                .as_str()
                .expect("refresh")
                .to_owned(),
        );
    }
    let refresh = drive(&addr, &Load::Refresh { tokens }, concurrency, seconds).await;
    ServerFigures {
        store,
        public: median(publics),
        protected: median(protecteds),
        refresh,
    }
}

/// Live heap bytes per session and per revocation at `n`, and what is left
/// once they have expired.
async fn footprint(n: usize) -> (f64, f64, isize, usize) {
    let clock = ManualClock::new(1_700_000_000);
    let store = MemoryStore::with_clock(Arc::new(clock.clone()));
    let base = LIVE.load(Ordering::Relaxed);
    for i in 0..n {
        let session = NewSession {
            sid: auth_layer::random_id(),
            sub: format!("user-{i}"),
            claims: "{}".to_owned(),
            refresh_jti: auth_layer::random_id(),
            expires_at: 1_700_000_000 + 7 * 24 * 3600,
        };
        store.create(session).await.expect("create");
    }
    let sessions = LIVE.load(Ordering::Relaxed) - base;
    for _ in 0..n {
        store
            .revoke_token(&auth_layer::random_id(), 1_700_000_000 + 900)
            .await
            .expect("revoke");
    }
    let revocations = LIVE.load(Ordering::Relaxed) - base - sessions;

    clock.advance(Duration::from_secs(8 * 24 * 3600));
    store.purge_expired();
    let left = LIVE.load(Ordering::Relaxed) - base;
    (
        sessions as f64 / n as f64,
        revocations as f64 / n as f64,
        left,
        resident_bytes(),
    )
}

fn resident_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<usize>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

/// Client figures: plain reqwest against the middleware on the protected
/// route, at `concurrency`.
async fn client_rps(
    addr: &str,
    access: &str,
    with_middleware: bool,
    concurrency: usize,
    seconds: f64,
) -> f64 {
    let plain = reqwest::Client::new();
    let client = if with_middleware {
        let auth = RefreshMiddleware::builder(&format!("http://{addr}/api/refresh"))
            .expect("url")
            .build();
        auth.set_tokens(refresh_client::Tokens {
            access: access.to_owned(),
            refresh: None,
        });
        reqwest_middleware::ClientBuilder::new(plain)
            .with(auth)
            .build()
    } else {
        reqwest_middleware::ClientBuilder::new(plain).build()
    };
    let bearer = (!with_middleware).then(|| format!("Bearer {access}"));
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let url = format!("http://{addr}/api/me");
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, url, bearer, done) = (
                client.clone(),
                url.clone(),
                bearer.clone(),
                Arc::clone(&done),
            );
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let mut request = client.get(&url);
                    if let Some(bearer) = &bearer {
                        request = request.header(AUTHORIZATION, bearer);
                    }
                    if request.send().await.is_ok_and(|r| r.status().is_success()) {
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

/// 10,000 requests at once with an access token the server has let expire:
/// how long until all complete, and how many refreshes that took.
async fn expired_storm(n: usize) -> (Duration, u64, usize) {
    let clock = ManualClock::new(SystemClock.now());
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::with_clock(Arc::clone(&shared)));
    let server = Server::with_store(&config(None), shared, store).expect("server");
    let addr = serve(&server).await;
    let auth = RefreshMiddleware::builder(&format!("http://{addr}/api/refresh"))
        .expect("url")
        .build();
    auth.set_tokens_from_json(login(&addr).await.to_string().as_bytes());
    let client = reqwest_middleware::ClientBuilder::new(
        reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client"),
    )
    .with(auth.clone())
    .build();

    clock.advance(Duration::from_secs(3600 + 10));
    let url = format!("http://{addr}/api/me");
    let started = Instant::now();
    let calls: Vec<_> = (0..n)
        .map(|_| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                client
                    .get(&url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            })
        })
        .collect();
    let mut ok = 0;
    for call in calls {
        ok += usize::from(call.await.unwrap_or(false));
    }
    (started.elapsed(), auth.refresh_count(), ok)
}

/// An SVG chart of p50 latency against concurrency, public and protected.
fn chart(points: &[(usize, Stats, Stats)]) -> String {
    let (w, h, left, bottom) = (640.0, 360.0, 60.0, 40.0);
    let max = points
        .iter()
        .flat_map(|(_, a, b)| [a.p50_us, b.p50_us])
        .fold(1.0, f64::max)
        * 1.1;
    let x = |i: usize| left + (w - left - 20.0) * i as f64 / (points.len().max(2) - 1) as f64;
    let y = |v: f64| (h - bottom) - (h - bottom - 20.0) * v / max;
    let line = |pick: fn(&(usize, Stats, Stats)) -> f64| {
        points
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(pick(p))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/>"#
    );
    let _ = write!(
        svg,
        r#"<text x="{left}" y="14">p50 latency (µs) against concurrency, reference server, memory store</text>"#
    );
    let _ = write!(
        svg,
        r#"<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="black"/><line x1="{left}" y1="20" x2="{left}" y2="{}" stroke="black"/>"#,
        h - bottom,
        w - 20.0,
        h - bottom,
        h - bottom
    );
    for (i, (c, _, _)) in points.iter().enumerate() {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{c}</text>"#,
            x(i),
            h - bottom + 16.0
        );
    }
    for k in 0..=4 {
        let v = max * k as f64 / 4.0;
        let _ = write!(
            svg,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{v:.0}</text>"#,
            left - 6.0,
            y(v) + 4.0
        );
    }
    let _ = write!(
        svg,
        r##"<polyline fill="none" stroke="#2b6cb0" stroke-width="2" points="{}"/>"##,
        line(|p| p.1.p50_us)
    );
    let _ = write!(
        svg,
        r##"<polyline fill="none" stroke="#c05621" stroke-width="2" stroke-dasharray="6 3" points="{}"/>"##,
        line(|p| p.2.p50_us)
    );
    let _ = write!(
        svg,
        r##"<text x="{}" y="40" fill="#2b6cb0">public /healthz</text><text x="{}" y="56" fill="#c05621">protected /api/me</text>"##,
        left + 20.0,
        left + 20.0
    );
    let _ = write!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">concurrent connections</text></svg>"#,
        w / 2.0,
        h - 6.0
    );
    svg
}

fn row(name: &str, s: &Stats, ratio: Option<f64>) -> String {
    let ratio = ratio.map_or_else(String::new, |r| format!("{r:.3}"));
    format!(
        "| {name} | {:.0} | {:.0} | {:.0} | {ratio} | {} |",
        s.rps, s.p50_us, s.p99_us, s.errors
    )
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let seconds = setting("SECONDS", 2.0);
    let concurrency = setting("CONCURRENCY", 64.0) as usize;
    let rounds = setting("ROUNDS", 3.0) as usize;
    let sessions = setting("SESSIONS", 1_000_000.0) as usize;
    let redis_url =
        std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());

    // First, while nothing else allocates: the footprint is read off a
    // counting allocator.
    let (per_session, per_revocation, left, rss) = footprint(sessions).await;

    let memory_server = Server::new(&config(None)).await.expect("memory server");
    let memory = server_figures("memory", &memory_server, concurrency, seconds, rounds).await;
    let redis_store = RedisStore::connect(RedisConfig::new(redis_url.as_str()).key_prefix(format!("tokenpair-bench:{}:", auth_layer::random_id())))
        .await
        .unwrap_or_else(|err| panic!("Redis at {redis_url} is unreachable ({err}); start it with redis-server --daemonize yes --port 6379 --save \"\""));
    let redis_server =
        Server::with_store(&config(None), Arc::new(SystemClock), Arc::new(redis_store))
            .expect("redis server");
    let redis = server_figures("redis", &redis_server, concurrency, seconds, rounds).await;

    let sweep_addr = serve(&memory_server).await;
    let access = login(&sweep_addr).await["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let bearer = HeaderValue::try_from(format!("Bearer {access}")).expect("header");
    let mut sweep = Vec::new();
    for c in [1, 4, 16, 64, 256] {
        let public = drive(
            &sweep_addr,
            &Load::Get {
                path: "/healthz",
                bearer: None,
            },
            c,
            seconds / 2.0,
        )
        .await;
        let protected = drive(
            &sweep_addr,
            &Load::Get {
                path: "/api/me",
                bearer: Some(bearer.clone()),
            },
            c,
            seconds / 2.0,
        )
        .await;
        sweep.push((c, public, protected));
    }
    let _ = std::fs::create_dir_all("docs");
    let _ = std::fs::write("docs/bench-latency.svg", chart(&sweep));

    let mut clients = Vec::new();
    for c in [1, 64] {
        let (mut plain, mut with) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            plain.push(client_rps(&sweep_addr, &access, false, c, seconds).await);
            with.push(client_rps(&sweep_addr, &access, true, c, seconds).await);
        }
        plain.sort_by(f64::total_cmp);
        with.sort_by(f64::total_cmp);
        clients.push((c, plain[plain.len() / 2], with[with.len() / 2]));
    }
    let storm = expired_storm(10_000).await;

    println!("\n## Server ({concurrency} connections, median of {rounds} rounds of {seconds} s)\n");
    println!("| route | requests/s | p50 µs | p99 µs | protected/public | errors |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for f in [&memory, &redis] {
        println!(
            "{}",
            row(
                &format!("public /healthz, {} store", f.store),
                &f.public,
                None
            )
        );
        println!(
            "{}",
            row(
                &format!("protected /api/me, {} store", f.store),
                &f.protected,
                Some(f.protected.rps / f.public.rps)
            )
        );
    }
    for f in [&memory, &redis] {
        println!(
            "{}",
            row(
                &format!("refresh with rotation, {} store", f.store),
                &f.refresh,
                None
            )
        );
    }
    println!(
        "\n## Concurrency sweep (memory store, {:.1} s each)\n",
        seconds / 2.0
    );
    println!(
        "| connections | public rps | public p50 µs | protected rps | protected p50 µs | protected/public |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for (c, public, protected) in &sweep {
        println!(
            "| {c} | {:.0} | {:.0} | {:.0} | {:.0} | {:.3} |",
            public.rps,
            public.p50_us,
            protected.rps,
            protected.p50_us,
            protected.rps / public.rps
        );
    }
    println!("\n## Client (protected route, median of {rounds} rounds)\n");
    println!("| concurrency | plain reqwest rps | with RefreshMiddleware rps | ratio |");
    println!("| --- | --- | --- | --- |");
    for (c, plain, with) in &clients {
        println!("| {c} | {plain:.0} | {with:.0} | {:.3} |", with / plain);
    }
    println!(
        "\n10,000 concurrent requests on an expired token: all done in {:.2} s, {} refresh(es), {} succeeded\n",
        storm.0.as_secs_f64(),
        storm.1,
        storm.2
    );
    println!("## Memory store at {sessions} sessions\n");
    println!("| figure | value |");
    println!("| --- | --- |");
    println!("| heap bytes per live session | {per_session:.0} |");
    println!("| heap bytes per revocation | {per_revocation:.0} |");
    println!("| heap bytes left after expiry and purge | {left} |");
    println!(
        "| resident set after expiry and purge | {:.1} MiB |",
        rss as f64 / (1024.0 * 1024.0)
    );
}
