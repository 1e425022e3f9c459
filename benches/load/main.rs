//! The project's load driver: the reference server over loopback, the way a
//! user choosing between this and a hand-written check would measure it.
//!
//! `cargo bench --bench load` starts the reference server in-process on a
//! free port, once with the memory store and once with the Redis store
//! (`REDIS_URL`, default `redis://127.0.0.1:6379`). The server runs on one
//! core (`SERVER_CORE`, default 0) and the load on another (`LOAD_CORE`,
//! default 1), each a tokio runtime of one worker pinned there, so the
//! figures are what one core of server does. Besides throughput and
//! latency it reads the server threads' CPU time, which gives the CPU cost
//! of one request: on a shared machine that moves far less than
//! throughput does.
//!
//! Public and protected routes are measured in interleaved rounds on the
//! same server and the medians compared. It also measures the memory
//! store's footprint at a million sessions and the client middleware, and
//! writes `docs/bench-latency.svg`.
//!
//! Settings: `SECONDS` per round (default 2), `CONCURRENCY` (default 64),
//! `ROUNDS` (default 5), `SESSIONS` for the footprint (default 1,000,000),
//! and `PARTS`, which of `server`, `sweep`, `client` and `memory` to run
//! (comma-separated; default `all`).

mod chart;
mod client;
mod cores;
mod http;
mod memory;

use std::net::SocketAddr;
use std::sync::Arc;

use auth_layer::SystemClock;
use auth_layer::store::{RedisConfig, RedisStore};
use cores::Pinned;
use http::{Load, Stats};
use tokenpair::reference::{Config, Server};
use tokio::runtime::Handle;

const ACCESS_SECRET: &str = "load driver access secret, 32 bytes or more";
const REFRESH_SECRET: &str = "load driver refresh secret, 32 bytes or more";

struct Settings {
    seconds: f64,
    concurrency: usize,
    rounds: usize,
    sessions: usize,
    server_core: usize,
    load_core: usize,
    redis_url: String,
    parts: String,
}

impl Settings {
    fn from_env() -> Self {
        let number = |name: &str, default: f64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        Self {
            seconds: number("SECONDS", 2.0),
            concurrency: number("CONCURRENCY", 64.0) as usize,
            rounds: (number("ROUNDS", 5.0) as usize).max(1),
            sessions: number("SESSIONS", 1_000_000.0) as usize,
            server_core: number("SERVER_CORE", 0.0) as usize,
            load_core: number("LOAD_CORE", 1.0) as usize,
            redis_url: std::env::var("REDIS_URL")
                .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned()),
            parts: std::env::var("PARTS").unwrap_or_else(|_| "all".to_owned()),
        }
    }

    /// Whether `PARTS` (a comma-separated list, default `all`) names `part`.
    fn wants(&self, part: &str) -> bool {
        self.parts
            .split(',')
            .any(|p| p.trim() == part || p.trim() == "all")
    }
}

fn config() -> Config {
    Config::from_lookup(|name| match name {
        "ACCESS_SECRET" => Some(ACCESS_SECRET.to_owned()),
        "REFRESH_SECRET" => Some(REFRESH_SECRET.to_owned()),
        // Longer than any run, and short enough that the sessions a run
        // leaves in the shared Redis go soon after.
        "ACCESS_TTL" => Some("10m".to_owned()),
        "REFRESH_TTL" => Some("20m".to_owned()),
        _ => None,
    })
    .expect("configuration")
}

/// Serves `server`'s routes from the server runtime on a free port.
fn serve(runtime: &Handle, server: &Server) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    let router = server.router();
    runtime.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
        axum::serve(listener, router).await
    });
    addr
}

async fn login(addr: SocketAddr) -> serde_json::Value {
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/api/login"))
        .json(&serde_json::json!({"username": "demo", "password": "demo-password"}))
        .send()
        .await
        .expect("login");
    response.json().await.expect("login json")
}

/// One round's figures, with what it cost each side.
#[derive(Clone, Copy, Default)]
struct Round {
    stats: Stats,
    /// Server CPU per answered request.
    server_us: f64,
    /// How busy the server's and the load's cores were.
    server_busy: f64,
    load_busy: f64,
}

/// A served reference server with a signed-in user.
struct Target {
    addr: SocketAddr,
    access: String,
    public: Load,
    protected: Load,
}

/// The two runtimes and the settings.
struct Bench {
    server: Pinned,
    load: Pinned,
    settings: Settings,
}

impl Bench {
    fn round(&self, addr: SocketAddr, load: &Load, concurrency: usize, seconds: f64) -> Round {
        let (server_before, load_before) = (self.server.cpu(), self.load.cpu());
        let stats = self
            .load
            .runtime
            .block_on(http::drive(addr, load, concurrency, seconds));
        let server_ns = self.server.cpu().since(&server_before) as f64;
        let load_ns = self.load.cpu().since(&load_before) as f64;
        let wall_ns = stats.requests as f64 / stats.rps.max(f64::MIN_POSITIVE) * 1e9;
        Round {
            stats,
            server_us: server_ns / 1e3 / stats.requests.max(1) as f64,
            server_busy: server_ns / wall_ns,
            load_busy: load_ns / wall_ns,
        }
    }

    fn login(&self, addr: SocketAddr) -> serde_json::Value {
        self.load.runtime.block_on(login(addr))
    }

    /// Serves `server` on a free port and signs the demo user in there.
    fn signed_in(&self, server: &Server) -> Target {
        let addr = serve(self.server.runtime.handle(), server);
        let access = self.login(addr)["accessToken"]
            .as_str()
            .expect("token")
            .to_owned();
        Target {
            addr,
            public: Load::Get {
                path: "/healthz",
                bearer: None,
            },
            protected: Load::Get {
                path: "/api/me",
                bearer: Some(access.clone()),
            },
            access,
        }
    }

    /// Public, protected and refresh figures for one server.
    fn server_figures(&self, store: &'static str, server: &Server) -> ServerFigures {
        let Settings {
            seconds,
            concurrency,
            rounds,
            ..
        } = self.settings;
        let Target {
            addr,
            public,
            protected,
            ..
        } = self.signed_in(server);
        self.round(addr, &public, concurrency, 0.5);
        self.round(addr, &protected, concurrency, 0.5);

        let (mut publics, mut protecteds, mut refreshes) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            // Alternate which goes first, so drift hurts both alike.
            if round % 2 == 0 {
                publics.push(self.round(addr, &public, concurrency, seconds));
                protecteds.push(self.round(addr, &protected, concurrency, seconds));
            } else {
                protecteds.push(self.round(addr, &protected, concurrency, seconds));
                publics.push(self.round(addr, &public, concurrency, seconds));
            }
            // Fresh sessions each round: a connection's rotated token
            // goes with it when the round ends.
            let tokens = (0..concurrency)
                .map(|_| {
                    self.login(addr)["refreshToken"]
                        .as_str()
                        .expect("refresh")
                        .to_owned()
                })
                .collect();
            refreshes.push(self.round(addr, &Load::Refresh { tokens }, concurrency, seconds));
        }
        ServerFigures {
            store,
            public: median(publics),
            protected: median(protecteds),
            refresh: median(refreshes),
        }
    }
}

/// The round of median throughput, with the median CPU per request of all
/// rounds (the two need not come from the same round).
fn median(mut rounds: Vec<Round>) -> Round {
    let mid = rounds.len() / 2;
    rounds.sort_by(|a, b| a.server_us.total_cmp(&b.server_us));
    let server_us = rounds[mid].server_us;
    rounds.sort_by(|a, b| a.stats.rps.total_cmp(&b.stats.rps));
    Round {
        server_us,
        ..rounds[mid]
    }
}

struct ServerFigures {
    store: &'static str,
    public: Round,
    protected: Round,
    refresh: Round,
}

/// One row of the server table.
fn row(name: &str, r: &Round, base: Option<&Round>) -> Vec<String> {
    let s = &r.stats;
    let (rps_ratio, cpu_ratio) = base.map_or((String::new(), String::new()), |b| {
        (
            format!("{:.3}", s.rps / b.stats.rps),
            format!("{:.3}", b.server_us / r.server_us),
        )
    });
    vec![
        name.to_owned(),
        format!("{:.0}", s.rps),
        format!("{:.0}", s.p50_us),
        format!("{:.0}", s.p99_us),
        format!("{:.2}", r.server_us),
        format!("{:.0}", 1e6 / r.server_us),
        format!(
            "{:.0}% / {:.0}%",
            r.server_busy * 100.0,
            r.load_busy * 100.0
        ),
        rps_ratio,
        cpu_ratio,
        s.errors.to_string(),
    ]
}

/// Prints a Markdown table's header.
fn header(names: &[&str]) {
    println!("| {} |", names.join(" | "));
    println!("|{}", " --- |".repeat(names.len()));
}

/// Prints one Markdown table row.
fn cells(cells: &[String]) {
    println!("| {} |", cells.join(" | "));
}

fn main() {
    let settings = Settings::from_env();

    // First, while nothing else allocates: the footprint is read off a
    // counting allocator.
    let footprint = settings.wants("memory").then(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(memory::footprint(settings.sessions))
    });

    let bench = Bench {
        server: Pinned::new("server", settings.server_core),
        load: Pinned::new("load", settings.load_core),
        settings,
    };
    let memory_server = bench
        .server
        .runtime
        .block_on(Server::new(&config()))
        .expect("memory server");

    if bench.settings.wants("server") {
        let memory = bench.server_figures("memory", &memory_server);
        let redis = bench.server_figures("redis", &redis_server(&bench));
        print_server(&bench.settings, &memory, &redis);
    }
    if bench.settings.wants("sweep") {
        let sweep = sweep(&bench, &memory_server);
        let _ = std::fs::create_dir_all("docs");
        let _ = std::fs::write("docs/bench-latency.svg", chart::chart(&sweep));
        print_sweep(&bench.settings, &sweep);
    }
    if bench.settings.wants("client") {
        let clients = client_figures(&bench, &memory_server);
        let storm = bench.load.runtime.block_on(client::expired_storm(
            bench.server.runtime.handle(),
            &config(),
            10_000,
        ));
        print_clients(&bench.settings, &clients);
        println!(
            "\n10,000 concurrent requests on an expired token: all done in {:.2} s, \
             {} refresh(es), {} succeeded",
            storm.took.as_secs_f64(),
            storm.refreshes,
            storm.succeeded
        );
    }
    if let Some(footprint) = footprint {
        print_footprint(bench.settings.sessions, &footprint);
    }
}

/// The reference server on the Redis store, under a key prefix of its own.
fn redis_server(bench: &Bench) -> Server {
    let url = bench.settings.redis_url.as_str();
    let redis_config =
        RedisConfig::new(url).key_prefix(format!("tokenpair-bench:{}:", auth_layer::random_id()));
    let store = bench
        .server
        .runtime
        .block_on(RedisStore::connect(redis_config))
        .unwrap_or_else(|err| {
            panic!(
                "Redis at {url} is unreachable ({err}); start it with \
                 redis-server --daemonize yes --port 6379 --save \"\""
            )
        });
    Server::with_store(&config(), Arc::new(SystemClock), Arc::new(store)).expect("redis server")
}

/// Public and protected latency at each concurrency, memory store.
fn sweep(bench: &Bench, server: &Server) -> Vec<(usize, Stats, Stats)> {
    let Target {
        addr,
        public,
        protected,
        ..
    } = bench.signed_in(server);
    let seconds = bench.settings.seconds / 2.0;
    [1, 4, 16, 64, 256]
        .into_iter()
        .map(|c| {
            let public = bench.round(addr, &public, c, seconds).stats;
            let protected = bench.round(addr, &protected, c, seconds).stats;
            (c, public, protected)
        })
        .collect()
}

/// Per concurrency and client: median requests per second and client CPU
/// per request.
struct ClientFigures {
    concurrency: usize,
    names: [&'static str; 3],
    rps: [f64; 3],
    cpu_us: [f64; 3],
}

fn client_figures(bench: &Bench, server: &Server) -> Vec<ClientFigures> {
    let Target { addr, access, .. } = bench.signed_in(server);
    let url = format!("http://{addr}/api/me");
    let clients = bench
        .load
        .runtime
        .block_on(async { client::Client::all(addr, &access) });
    let Settings {
        seconds, rounds, ..
    } = bench.settings;

    [1, 64]
        .into_iter()
        .map(|concurrency| {
            let run = |client: &client::Client, seconds: f64| {
                let before = bench.load.cpu();
                let (done, took) =
                    bench
                        .load
                        .runtime
                        .block_on(client::drive(client, &url, concurrency, seconds));
                let cpu_ns = bench.load.cpu().since(&before) as f64;
                (
                    done as f64 / took.as_secs_f64(),
                    cpu_ns / 1e3 / done.max(1) as f64,
                )
            };
            for (_, client) in &clients {
                run(client, 0.5);
            }
            let mut runs: [Vec<(f64, f64)>; 3] = Default::default();
            for round in 0..rounds {
                // Start each round with another client.
                for k in 0..clients.len() {
                    let i = (round + k) % clients.len();
                    runs[i].push(run(&clients[i].1, seconds));
                }
            }
            let mid = |mut v: Vec<f64>| {
                v.sort_by(f64::total_cmp);
                v[v.len() / 2]
            };
            let rps = runs.clone().map(|r| mid(r.iter().map(|x| x.0).collect()));
            let cpu_us = runs.map(|r| mid(r.iter().map(|x| x.1).collect()));
            ClientFigures {
                concurrency,
                names: clients.clone().map(|(name, _)| name),
                rps,
                cpu_us,
            }
        })
        .collect()
}

fn print_server(settings: &Settings, memory: &ServerFigures, redis: &ServerFigures) {
    println!(
        "\n## Server ({} connections, median of {} rounds of {} s; \
         server on core {}, load on core {})\n",
        settings.concurrency,
        settings.rounds,
        settings.seconds,
        settings.server_core,
        settings.load_core
    );
    header(&[
        "route",
        "requests/s",
        "p50 µs",
        "p99 µs",
        "server CPU µs/request",
        "requests per server core-second",
        "busy: server / load core",
        "protected/public, rps",
        "protected/public, CPU",
        "errors",
    ]);
    for f in [memory, redis] {
        let store = f.store;
        let public = format!("public `/healthz`, {store} store");
        cells(&row(&public, &f.public, None));
        let protected = format!("protected `/api/me`, {store} store");
        cells(&row(&protected, &f.protected, Some(&f.public)));
    }
    for f in [memory, redis] {
        let refresh = format!("refresh with rotation, {} store", f.store);
        cells(&row(&refresh, &f.refresh, None));
    }
}

fn print_sweep(settings: &Settings, sweep: &[(usize, Stats, Stats)]) {
    println!(
        "\n## Concurrency sweep (memory store, {:.1} s each)\n",
        settings.seconds / 2.0
    );
    header(&[
        "connections",
        "public rps",
        "public p50 µs",
        "protected rps",
        "protected p50 µs",
        "protected/public",
    ]);
    for (c, public, protected) in sweep {
        cells(&[
            c.to_string(),
            format!("{:.0}", public.rps),
            format!("{:.0}", public.p50_us),
            format!("{:.0}", protected.rps),
            format!("{:.0}", protected.p50_us),
            format!("{:.3}", protected.rps / public.rps),
        ]);
    }
}

fn print_clients(settings: &Settings, clients: &[ClientFigures]) {
    println!(
        "\n## Client (protected route, median of {} rounds of {} s)\n",
        settings.rounds, settings.seconds
    );
    header(&[
        "concurrency",
        "client",
        "requests/s",
        "client CPU µs/request",
        "rps vs plain",
        "rps vs bare wrapper",
        "CPU vs bare wrapper",
    ]);
    for f in clients {
        for i in 0..3 {
            cells(&[
                f.concurrency.to_string(),
                f.names[i].to_owned(),
                format!("{:.0}", f.rps[i]),
                format!("{:.2}", f.cpu_us[i]),
                format!("{:.3}", f.rps[i] / f.rps[0]),
                format!("{:.3}", f.rps[i] / f.rps[1]),
                format!("{:.3}", f.cpu_us[i] / f.cpu_us[1]),
            ]);
        }
    }
}

fn print_footprint(sessions: usize, f: &memory::Footprint) {
    let mib = |bytes: usize| format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0));
    println!("\n## Memory store at {sessions} sessions\n");
    header(&["figure", "value"]);
    let rows = [
        (
            "heap bytes per live session",
            format!("{:.0}", f.per_session),
        ),
        (
            "heap bytes per revocation",
            format!("{:.0}", f.per_revocation),
        ),
        ("resident set with all of them live", mib(f.resident_full)),
        ("heap bytes left after expiry and purge", f.left.to_string()),
        ("resident set after expiry and purge", mib(f.resident)),
    ];
    for (name, value) in rows {
        cells(&[name.to_owned(), value]);
    }
}
