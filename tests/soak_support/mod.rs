//! What the soak tests share: the reference server with a recorder in front
//! of it, the client tasks and what they saw, a private `redis-server`, the
//! key rotation, and the memory store's sampler.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use auth_layer::store::MemoryStore;
use auth_layer::{Key, KeySet, TokenIssuer};
use axum::extract::{Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use refresh_client::{RefreshError, RefreshMiddleware};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest_middleware::ClientWithMiddleware;
use tokenpair::reference::{Config, DEMO_PASSWORD, DEMO_USER, Server};
use tokio::task::JoinHandle;

/// How many client tasks run at once, each with its own middleware and
/// session.
pub const TASKS: usize = 64;
/// Every this-many-th task logs out and in again, over and over.
pub const LOGOUT_EVERY_NTH: usize = 8;
/// The access token lifetime the soaks run with.
pub const ACCESS_TTL: Duration = Duration::from_secs(1);
/// The verification leeway (`TokenConfig::DEFAULT_LEEWAY`).
pub const LEEWAY: Duration = Duration::from_secs(5);

const ACCESS_SECRET: &str = "soak access secret, 32 bytes or more, 0123456789";
const NEXT_ACCESS_SECRET: &str = "soak next access secret, 32 bytes or more, 9876";
const REFRESH_SECRET: &str = "soak refresh secret, 32 bytes or more, abcdefghij";

/// How long a logging-out task keeps a session before it logs out.
const SESSION_LENGTH: Duration = Duration::from_secs(2);
/// The pause between two rounds of a task: enough to leave the shared
/// machine some breath, short enough that every task crosses many refresh
/// times.
const PAUSE: Duration = Duration::from_millis(25);
/// The pause before a task tries to log in again after a `503`.
const RETRY_PAUSE: Duration = Duration::from_millis(100);
/// A bound on a task's rounds, on top of its deadline.
const MAX_ROUNDS: usize = 20_000;
/// Every HTTP request gives up after this long.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The reference server's settings: 1-second access tokens, a 2-second
/// grace window, and refresh tokens that outlive the soak (but not by much,
/// since the shared Redis keeps them).
pub fn config(access_ttl: &str, redis_url: Option<String>) -> Config {
    Config::from_lookup(|name| match name {
        "ACCESS_SECRET" => Some(ACCESS_SECRET.to_owned()),
        "REFRESH_SECRET" => Some(REFRESH_SECRET.to_owned()),
        "ACCESS_TTL" => Some(access_ttl.to_owned()),
        "REFRESH_TTL" => Some("2m".to_owned()),
        "REFRESH_GRACE" => Some("2s".to_owned()),
        "REDIS_URL" => redis_url.clone(),
        _ => None,
    })
    .expect("the soak configuration is valid")
}

/// A client with a request timeout, for everything the tasks send.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("a reqwest client")
}

// ---------------------------------------------------------------------------
// The server side.

/// Which access keys the server holds, as the recorder labels requests
/// (before the rotation: 0).
const OLD_AND_NEW_KEY: u8 = 1;
const NEW_KEY_ONLY: u8 = 2;

/// Every answer the server gave, counted by `"{method} {path} {status}"`,
/// and the `401`s of `/api/me` by reason, as `"me 401 {reason}"`.
#[derive(Default)]
pub struct ServerLog {
    counts: Mutex<BTreeMap<String, u64>>,
    keys: AtomicU8,
}

impl ServerLog {
    /// How many answers were counted under `key`.
    pub fn count(&self, key: &str) -> u64 {
        self.counts().get(key).copied().unwrap_or(0)
    }

    /// Every count.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The answers under keys for which `pick` holds, added up.
    pub fn total(&self, pick: impl Fn(&str) -> bool) -> u64 {
        let counts = self.counts();
        counts.iter().filter(|(k, _)| pick(k)).map(|(_, n)| n).sum()
    }

    /// Every `"{method} {path} {status}"` with a 5xx status.
    pub fn server_errors(&self) -> Vec<String> {
        let counts = self.counts();
        counts
            .into_iter()
            .filter(|(key, _)| {
                let status = key.rsplit(' ').next().and_then(|s| s.parse::<u16>().ok());
                status.is_some_and(|status| status >= 500)
            })
            .map(|(key, n)| format!("{key} ×{n}"))
            .collect()
    }

    fn add(&self, key: String) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        *counts.entry(key).or_default() += 1;
    }

    fn note(&self, route: &str, token: Option<&str>, response: &Response) {
        let status = response.status();
        self.add(format!("{route} {}", status.as_u16()));
        if route != "GET /api/me" {
            return;
        }

        if status == StatusCode::UNAUTHORIZED {
            let challenge = response
                .headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default();
            // A token that was already past its time says nothing about
            // the keys: only a live one refused as invalid does.
            let reason = if challenge.contains("has been revoked") {
                "revoked"
            } else if challenge.contains("expired") {
                "expired"
            } else if challenge.contains("invalid") && token.is_some_and(is_live) {
                "invalid, token live"
            } else if challenge.contains("invalid") {
                "invalid, token past its time"
            } else {
                "no token"
            };
            self.add(format!("me 401 {reason}"));
        } else if status == StatusCode::OK
            && self.keys.load(Ordering::Relaxed) == OLD_AND_NEW_KEY
            && token.and_then(kid).as_deref() == Some("access-1")
        {
            self.add("me 200 old key during the overlap".to_owned());
        }
    }
}

async fn record(State(log): State<Arc<ServerLog>>, request: Request, next: Next) -> Response {
    let route = format!("{} {}", request.method(), request.uri().path());
    let token = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::to_owned);
    let response = next.run(request).await;
    log.note(&route, token.as_deref(), &response);
    response
}

/// Serves `server`'s routes behind the recorder on a free port of
/// 127.0.0.1; returns the base URL and the serving task.
pub async fn serve(server: &Server, log: Arc<ServerLog>) -> (String, JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port on 127.0.0.1");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    let router = server.router().layer(from_fn_with_state(log, record));
    let serving = tokio::spawn(async move {
        axum::serve(listener, router)
            .await
            .expect("the server stopped with an error");
    });
    (base, serving)
}

// ---------------------------------------------------------------------------
// Tokens read without verifying, for labels and checks.

fn part(token: &str, index: usize) -> Option<serde_json::Value> {
    let text = token.split('.').nth(index)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(text).ok()?).ok()
}

/// The `kid` in a token's header.
pub fn kid(token: &str) -> Option<String> {
    Some(part(token, 0)?.get("kid")?.as_str()?.to_owned())
}

/// Whether the server would still take `token` by its time (`exp` plus
/// the leeway not reached).
fn is_live(token: &str) -> bool {
    let exp = part(token, 1).and_then(|claims| claims.get("exp")?.as_i64());
    let leeway = LEEWAY.as_secs() as i64;
    exp.is_some_and(|exp| unix_now() < exp + leeway)
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64)
}

// ---------------------------------------------------------------------------
// The clients.

/// What one step of a client task came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `GET /api/me` answered `200` for the demo user.
    Ok,
    /// `GET /api/me` answered `503 temporarily_unavailable`: the layer
    /// could not check revocations and failed closed.
    Unavailable,
    /// The refresh endpoint answered `503`; the client kept its tokens.
    RefreshUnavailable,
    /// The refresh was refused: the session is over.
    SessionEnded,
    /// A login answered `200`.
    SignedIn,
    /// A login answered `503 temporarily_unavailable`.
    LoginUnavailable,
    /// A logout answered `204`.
    LoggedOut,
    /// A logout answered `503 temporarily_unavailable`.
    LogoutUnavailable,
    /// After a logout, the old access token was refused as revoked.
    RevocationHeld,
    /// After a logout, the old access token was refused as expired: it
    /// was past its time (a token's time is checked before its session).
    RefusedAsExpired,
    /// Anything else.
    Failed(String),
}

impl Outcome {
    /// Whether this is one of the documented fail-closed answers.
    pub fn is_fail_closed(&self) -> bool {
        matches!(
            self,
            Self::Unavailable
                | Self::RefreshUnavailable
                | Self::LoginUnavailable
                | Self::LogoutUnavailable
        )
    }
}

/// An outcome and when it came.
#[derive(Clone, Debug)]
pub struct Event {
    pub at: Instant,
    pub outcome: Outcome,
}

/// What one task saw.
#[derive(Debug)]
pub struct TaskReport {
    pub task: usize,
    pub events: Vec<Event>,
    /// Requests to `/api/me` through the middleware.
    pub requests: u64,
    /// Refresh calls the task's middleware made.
    pub refreshes: u64,
    /// Logins after the server ended the session.
    pub relogins_after_session_end: u64,
    /// The access token in use at the end, if signed in.
    pub last_access: Option<String>,
}

impl TaskReport {
    fn push(&mut self, outcome: Outcome) {
        self.events.push(Event {
            at: Instant::now(),
            outcome,
        });
    }

    /// How many events were `outcome`.
    pub fn count(&self, outcome: &Outcome) -> usize {
        self.events.iter().filter(|e| e.outcome == *outcome).count()
    }
}

/// What every task shares: where the server is, when to stop, and when
/// each logout was sent.
pub struct Soak {
    pub base: String,
    pub deadline: Instant,
    http: reqwest::Client,
    logouts: Mutex<Vec<Instant>>,
}

impl Soak {
    pub fn new(base: String, deadline: Instant) -> Arc<Self> {
        Arc::new(Self {
            base,
            deadline,
            http: http_client(),
            logouts: Mutex::new(Vec::new()),
        })
    }

    /// How many logouts were sent within the last `window`.
    pub fn recent_logouts(&self, window: Duration) -> usize {
        let logouts = self.logouts.lock().unwrap_or_else(|e| e.into_inner());
        logouts.iter().filter(|at| at.elapsed() <= window).count()
    }

    /// How many logouts were sent in all.
    pub fn logouts(&self) -> usize {
        self.logouts.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Starts the client tasks.
pub fn start_clients(soak: &Arc<Soak>) -> Vec<JoinHandle<TaskReport>> {
    (0..TASKS)
        .map(|task| tokio::spawn(client_task(task, Arc::clone(soak))))
        .collect()
}

/// Waits for every task; a task that panicked fails the test.
pub async fn join_clients(tasks: Vec<JoinHandle<TaskReport>>) -> Vec<TaskReport> {
    let mut reports = Vec::with_capacity(tasks.len());
    for task in tasks {
        reports.push(task.await.expect("a client task panicked"));
    }
    reports
}

/// One client: signs in, then calls `/api/me` twice at once, round after
/// round, until the deadline; some tasks also log out and in again.
async fn client_task(task: usize, soak: Arc<Soak>) -> TaskReport {
    let auth = RefreshMiddleware::builder(&soak.url("/api/refresh"))
        .expect("an absolute URL")
        .client(soak.http.clone())
        .build();
    let api = reqwest_middleware::ClientBuilder::new(soak.http.clone())
        .with(auth.clone())
        .build();
    let logs_out = task.is_multiple_of(LOGOUT_EVERY_NTH);
    let mut report = TaskReport {
        task,
        events: Vec::new(),
        requests: 0,
        refreshes: 0,
        relogins_after_session_end: 0,
        last_access: None,
    };
    let mut session_start = Instant::now();
    let mut session_ended = false;

    for _ in 0..MAX_ROUNDS {
        if Instant::now() >= soak.deadline {
            break;
        }
        if auth.tokens().is_none() {
            if !sign_in(&soak, &auth, &mut report).await {
                break;
            }
            if session_ended {
                report.relogins_after_session_end += 1;
                session_ended = false;
            }
            session_start = Instant::now();
        }
        if logs_out && session_start.elapsed() >= SESSION_LENGTH {
            // A logout that failed leaves the session live: keep using it
            // and try again one session length later.
            log_out(&soak, &auth, &mut report).await;
            session_start = Instant::now();
            continue;
        }

        let (first, second) = tokio::join!(me(&soak, &api), me(&soak, &api));
        report.requests += 2;
        for outcome in [first, second] {
            session_ended |= outcome == Outcome::SessionEnded;
            report.push(outcome);
        }
        tokio::time::sleep(PAUSE).await;
    }

    report.refreshes = auth.refresh_count();
    report.last_access = auth.tokens().map(|tokens| tokens.access);
    report
}

/// Logs in, trying again after a `503` until the deadline. Returns whether
/// the task is signed in.
async fn sign_in(soak: &Soak, auth: &RefreshMiddleware, report: &mut TaskReport) -> bool {
    while Instant::now() < soak.deadline {
        let credentials = serde_json::json!({"username": DEMO_USER, "password": DEMO_PASSWORD});
        let sent = soak
            .http
            .post(soak.url("/api/login"))
            .json(&credentials)
            .send()
            .await;
        let outcome = match sent {
            Ok(response) if response.status() == StatusCode::OK => {
                let body = response.bytes().await.unwrap_or_default();
                if auth.set_tokens_from_json(&body) {
                    report.push(Outcome::SignedIn);
                    return true;
                }
                Outcome::Failed("the login answer held no tokens".to_owned())
            }
            Ok(response) => unavailable_or_failed(response, Outcome::LoginUnavailable).await,
            Err(err) => Outcome::Failed(format!("POST /api/login: {}", chain(&err))),
        };
        report.push(outcome);
        tokio::time::sleep(RETRY_PAUSE).await;
    }
    false
}

/// Logs out with the bearer access token; once the server says `204`, the
/// task forgets its tokens and checks that the old one is refused.
async fn log_out(soak: &Soak, auth: &RefreshMiddleware, report: &mut TaskReport) {
    let Some(tokens) = auth.tokens() else {
        return;
    };
    soak.logouts
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Instant::now());
    let sent = soak
        .http
        .post(soak.url("/api/logout"))
        .bearer_auth(&tokens.access)
        .send()
        .await;
    let outcome = match sent {
        Ok(response) if response.status() == StatusCode::NO_CONTENT => Outcome::LoggedOut,
        Ok(response) => unavailable_or_failed(response, Outcome::LogoutUnavailable).await,
        Err(err) => Outcome::Failed(format!("POST /api/logout: {}", chain(&err))),
    };
    if outcome != Outcome::LoggedOut {
        return report.push(outcome);
    }
    auth.clear();
    report.push(Outcome::LoggedOut);

    let check = soak
        .http
        .get(soak.url("/api/me"))
        .bearer_auth(&tokens.access)
        .send()
        .await;
    let outcome = match check {
        Ok(response) if refused_as_revoked(&response) => Outcome::RevocationHeld,
        Ok(response) if refused_for(&response, "expired") && !is_live(&tokens.access) => {
            Outcome::RefusedAsExpired
        }
        Ok(response) => Outcome::Failed(format!(
            "a logged-out token got {} {:?}",
            response.status(),
            response.headers().get(WWW_AUTHENTICATE)
        )),
        Err(err) => Outcome::Failed(format!("GET /api/me after logout: {err}")),
    };
    report.push(outcome);
}

/// `GET /api/me` through the middleware.
async fn me(soak: &Soak, api: &ClientWithMiddleware) -> Outcome {
    let response = match api.get(soak.url("/api/me")).send().await {
        Ok(response) => response,
        Err(err) => {
            return match RefreshError::find(&err) {
                Some(RefreshError::Server { status }) if *status == 503 => {
                    Outcome::RefreshUnavailable
                }
                Some(refresh) if refresh.session_ended() => Outcome::SessionEnded,
                _ => Outcome::Failed(format!("GET /api/me: {}", chain(&err))),
            };
        }
    };
    if response.status() != StatusCode::OK {
        return unavailable_or_failed(response, Outcome::Unavailable).await;
    }
    let body: serde_json::Value = match response.json().await {
        Ok(body) => body,
        Err(err) => return Outcome::Failed(format!("GET /api/me body: {err}")),
    };
    if body["userId"] == DEMO_USER {
        Outcome::Ok
    } else {
        Outcome::Failed(format!("GET /api/me answered {body}"))
    }
}

/// `unavailable` for `503 temporarily_unavailable`, a failure otherwise.
async fn unavailable_or_failed(response: reqwest::Response, unavailable: Outcome) -> Outcome {
    let status = response.status();
    let challenge = response.headers().get(WWW_AUTHENTICATE).cloned();
    let body = response.text().await.unwrap_or_default();
    let error = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|body| Some(body.get("error")?.as_str()?.to_owned()));
    if status == StatusCode::SERVICE_UNAVAILABLE
        && error.as_deref() == Some("temporarily_unavailable")
    {
        unavailable
    } else {
        Outcome::Failed(format!("answered {status} {challenge:?}: {body}"))
    }
}

/// Whether `response` is the layer's `401` for a revoked token.
pub fn refused_as_revoked(response: &reqwest::Response) -> bool {
    refused_for(response, "has been revoked")
}

/// Whether `response` is a `401` whose challenge says "the access token
/// {why}".
fn refused_for(response: &reqwest::Response, why: &str) -> bool {
    let challenge = response.headers().get(WWW_AUTHENTICATE);
    response.status() == StatusCode::UNAUTHORIZED
        && challenge
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.contains(&format!("the access token {why}")))
}

/// An error and its sources on one line.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

// ---------------------------------------------------------------------------
// Key rotation.

/// When the new access key started signing, and when the old one was
/// dropped.
#[derive(Debug)]
pub struct KeyRotation {
    pub started: Instant,
    pub dropped: Instant,
}

/// At `at`, lets a new access key sign while the old one still verifies;
/// once every token the old key signed has expired (lifetime, leeway, and
/// a second for whole-second clocks), drops the old key.
pub fn rotate_access_keys(
    issuer: TokenIssuer,
    log: Arc<ServerLog>,
    at: Instant,
) -> JoinHandle<KeyRotation> {
    tokio::spawn(async move {
        let old = Key::hs256("access-1", ACCESS_SECRET).expect("the old key");
        let new = Key::hs256("access-2", NEXT_ACCESS_SECRET).expect("the new key");
        tokio::time::sleep_until(at.into()).await;

        let both = KeySet::new(new.clone()).and_then(|keys| keys.with_verify_key(old));
        issuer
            .set_access_keys(both.expect("a key set"))
            .expect("the new key signs");
        log.keys.store(OLD_AND_NEW_KEY, Ordering::Relaxed);
        let started = Instant::now();

        tokio::time::sleep(ACCESS_TTL + LEEWAY + Duration::from_secs(1)).await;
        issuer
            .set_access_keys(KeySet::new(new).expect("a key set"))
            .expect("the old key is dropped");
        log.keys.store(NEW_KEY_ONLY, Ordering::Relaxed);
        KeyRotation {
            started,
            dropped: Instant::now(),
        }
    })
}

// ---------------------------------------------------------------------------
// The memory store's size.

/// How long after a logout its revocation may still be counted: the store
/// holds it for the access lifetime plus the leeway (the last token the
/// session was issued expires by then), one more second because times are
/// whole seconds, and two more for the logout to reach the store and for
/// the next write to sweep it away (writes come many times a second here).
pub const REVOCATION_WINDOW: Duration = Duration::from_secs(1 + 5 + 1 + 2);

/// One look at the memory store: its size, and what it may hold at most.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub len: usize,
    pub bound: usize,
}

/// Samples `store`'s size every 100 ms until the soak's deadline.
///
/// Each task holds at most one live session at a time (it logs out before
/// it logs in again), and a logged-out session leaves one revocation for
/// [`REVOCATION_WINDOW`]; nothing else is written. So the store may hold
/// at most one entry per task plus one per logout of the last window, and
/// that does not grow with time.
pub fn sample_memory(store: MemoryStore, soak: Arc<Soak>) -> JoinHandle<Vec<Sample>> {
    tokio::spawn(async move {
        let mut samples = Vec::new();
        while Instant::now() < soak.deadline {
            // Size first: a logout is logged before it is sent, so every
            // revocation in this size is in the count that follows.
            let len = store.len();
            let recent = soak.recent_logouts(REVOCATION_WINDOW);
            samples.push(Sample {
                len,
                bound: TASKS + recent,
            });
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        samples
    })
}

// ---------------------------------------------------------------------------
// Panics anywhere in the process, server tasks included.

static PANICS: AtomicUsize = AtomicUsize::new(0);

/// How many panics the process has seen since the first call.
pub fn panics() -> usize {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
    });
    PANICS.load(Ordering::SeqCst)
}

// ---------------------------------------------------------------------------
// A Redis of the test's own.

/// A `redis-server` child on a free port of 127.0.0.1 that keeps nothing on
/// disk. Dropping it kills it.
pub struct PrivateRedis {
    port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    /// Starts one and waits until it answers.
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut redis = Self { port, child: None };
        redis.restart().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it with SIGKILL: no goodbye to its clients, nothing kept.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it (again) on the same port, empty, and waits until it
    /// answers `PING`.
    pub async fn restart(&mut self) {
        let port = self.port.to_string();
        let child = Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (apt-get install redis-server)");
        self.child = Some(child);

        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.answers_ping().await {
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            assert!(exited.is_none(), "redis-server exited: {exited:?}");
            assert!(Instant::now() < deadline, "redis-server did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Whether it answers `PING`, asked off the runtime's threads.
    async fn answers_ping(&self) -> bool {
        let port = self.port;
        let ping = move || {
            let timeout = Some(Duration::from_millis(500));
            let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
            stream.set_read_timeout(timeout)?;
            stream.set_write_timeout(timeout)?;
            stream.write_all(b"PING\r\n")?;
            let mut reply = [0; 7];
            stream.read_exact(&mut reply)?;
            Ok::<_, std::io::Error>(&reply == b"+PONG\r\n")
        };
        let answered = tokio::task::spawn_blocking(ping).await;
        matches!(answered, Ok(Ok(true)))
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}
