//! The mock API: `POST /api/refresh`, and `/api/data` behind a bearer token.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use refresh_client::Tokens;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// The API's clock when it issues a token: every token's `iat`.
pub const ISSUED_AT: i64 = 1_700_000_000;

/// Every access token's lifetime, `exp - iat`, in seconds.
pub const LIFETIME: i64 = 60;

/// How long the API waits for a condition a test set up before it gives
/// up and answers anyway (the test then fails on its counts).
const PATIENCE: Duration = Duration::from_secs(5);

/// How the API answers `POST /api/refresh`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshAnswer {
    /// New tokens as `accessToken`, `refreshToken` and `expiresIn`.
    Rotate,
    /// A new `accessToken` only: the refresh token stays valid.
    AccessOnly,
    /// New tokens as `access_token`, `refresh_token` and `expires_in`.
    OAuthNames,
    /// This status and no tokens.
    Status(StatusCode),
}

/// What one refresh request carried.
#[derive(Clone, Debug)]
pub struct RefreshRequest {
    pub body: Bytes,
    pub cookie: Option<String>,
    /// The refresh token, from the JSON body or the `refresh_token` cookie.
    pub refresh_token: Option<String>,
}

/// A running mock API. Clones talk to the same server.
#[derive(Clone)]
pub struct MockApi {
    addr: SocketAddr,
    app: Router,
    state: Arc<ApiState>,
}

struct ApiState {
    behaviour: Mutex<Behaviour>,
    issued: Mutex<Issued>,
    refresh_requests: Mutex<Vec<RefreshRequest>>,
    generation: watch::Sender<u64>,
    protected_calls: watch::Sender<usize>,
    refresh_calls: watch::Sender<usize>,
    refresh_released: watch::Sender<bool>,
    rejections: AtomicUsize,
}

struct Behaviour {
    answer: RefreshAnswer,
    reject_everything: bool,
    refresh_waits_for_protected_calls: usize,
    refresh_delay: Duration,
}

/// The tokens the API accepts: the newest access token (none once a test
/// expired it) and the refresh token that goes with it.
struct Issued {
    access: Option<String>,
    refresh: String,
}

impl MockApi {
    pub async fn start() -> Self {
        let state = Arc::new(ApiState {
            behaviour: Mutex::new(Behaviour {
                answer: RefreshAnswer::Rotate,
                reject_everything: false,
                refresh_waits_for_protected_calls: 0,
                refresh_delay: Duration::ZERO,
            }),
            issued: Mutex::new(Issued {
                access: None,
                refresh: String::new(),
            }),
            refresh_requests: Mutex::default(),
            generation: watch::Sender::new(0),
            protected_calls: watch::Sender::new(0),
            refresh_calls: watch::Sender::new(0),
            refresh_released: watch::Sender::new(true),
            rejections: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/api/refresh", post(refresh))
            .route("/api/data", any(data))
            .route("/api/data/after/{generation}", any(data_after))
            .with_state(state.clone());

        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the mock API");
        let addr = listener.local_addr().expect("the mock API's address");
        tokio::spawn(axum::serve(listener, app.clone()).into_future());
        Self { addr, app, state }
    }

    /// Serves the same API on `addr` too: an endpoint that was unreachable
    /// comes back.
    pub async fn serve_also_on(&self, addr: SocketAddr) {
        let listener = TcpListener::bind(addr)
            .await
            .expect("bind the freed port again");
        tokio::spawn(axum::serve(listener, self.app.clone()).into_future());
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn refresh_url(&self) -> String {
        format!("{}/api/refresh", self.origin())
    }

    pub fn data_url(&self) -> String {
        format!("{}/api/data", self.origin())
    }

    /// A protected URL whose answer waits until the API has issued tokens
    /// of `generation`, then a further 100 ms: requests to it are in flight
    /// while a refresh completes.
    pub fn data_url_answered_after_generation(&self, generation: u64) -> String {
        format!("{}/api/data/after/{generation}", self.origin())
    }

    /// New tokens, as a login would hand out; the old ones stop working.
    pub fn issue_tokens(&self) -> Tokens {
        self.state.issue(true)
    }

    /// The current access token stops working, as if it had expired; the
    /// refresh token still works.
    pub fn expire_access_token(&self) {
        self.state.issued().access = None;
    }

    pub fn answer_refresh_with(&self, answer: RefreshAnswer) {
        self.state.behaviour().answer = answer;
    }

    /// `/api/data` answers `401` whatever token it gets.
    pub fn reject_every_request(&self) {
        self.state.behaviour().reject_everything = true;
    }

    /// The refresh answer waits until `/api/data` has been called this many
    /// times in all, then for `settle` (at most 300 ms) so the clients have
    /// read their `401`s.
    pub fn hold_refresh_until_protected_calls(&self, calls: usize, settle: Duration) {
        assert!(
            settle <= Duration::from_millis(300),
            "keep server delays short"
        );
        let mut behaviour = self.state.behaviour();
        behaviour.refresh_waits_for_protected_calls = calls;
        behaviour.refresh_delay = settle;
    }

    /// Refreshes wait (at most 5 s) until [`MockApi::release_refresh`].
    pub fn hold_refresh(&self) {
        self.state.refresh_released.send_replace(false);
    }

    pub fn release_refresh(&self) {
        self.state.refresh_released.send_replace(true);
    }

    pub fn refresh_calls(&self) -> usize {
        *self.state.refresh_calls.borrow()
    }

    pub fn protected_calls(&self) -> usize {
        *self.state.protected_calls.borrow()
    }

    /// How many `401`s `/api/data` has answered.
    pub fn rejections(&self) -> usize {
        self.state.rejections.load(Ordering::SeqCst)
    }

    pub fn refresh_requests(&self) -> Vec<RefreshRequest> {
        self.state.refresh_requests.lock().unwrap().clone()
    }

    /// The refresh tokens presented to the refresh endpoint, in order.
    pub fn presented_refresh_tokens(&self) -> Vec<Option<String>> {
        let requests = self.refresh_requests();
        requests.into_iter().map(|r| r.refresh_token).collect()
    }

    pub async fn wait_for_refresh_calls(&self, calls: usize) {
        let mut seen = self.state.refresh_calls.subscribe();
        let reached = tokio::time::timeout(PATIENCE, seen.wait_for(|n| *n >= calls)).await;
        assert!(reached.is_ok(), "the API never saw {calls} refresh calls");
    }

    pub async fn wait_for_protected_calls(&self, calls: usize) {
        let mut seen = self.state.protected_calls.subscribe();
        let reached = tokio::time::timeout(PATIENCE, seen.wait_for(|n| *n >= calls)).await;
        assert!(reached.is_ok(), "the API never saw {calls} protected calls");
    }
}

impl ApiState {
    fn behaviour(&self) -> MutexGuard<'_, Behaviour> {
        self.behaviour.lock().unwrap()
    }

    fn issued(&self) -> MutexGuard<'_, Issued> {
        self.issued.lock().unwrap()
    }

    /// Issues the next generation of tokens; `rotate` replaces the refresh
    /// token too.
    fn issue(&self, rotate: bool) -> Tokens {
        let mut issued = self.issued();
        let mut generation = 0;
        self.generation.send_modify(|g| {
            *g += 1;
            generation = *g;
        });
        let access = access_token(generation);
        issued.access = Some(access.clone());
        if rotate {
            issued.refresh = format!("refresh-{generation}");
        }
        Tokens {
            access,
            refresh: Some(issued.refresh.clone()),
        }
    }

    fn answer_data(&self, headers: &HeaderMap) -> Response {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let accepted = {
            let issued = self.issued();
            presented.is_some() && presented == issued.access.as_deref()
        };

        if accepted && !self.behaviour().reject_everything {
            let generation = *self.generation.borrow();
            return (StatusCode::OK, generation.to_string()).into_response();
        }
        self.rejections.fetch_add(1, Ordering::SeqCst);
        StatusCode::UNAUTHORIZED.into_response()
    }

    /// Waits for what the test set up before a refresh may be answered.
    async fn refresh_may_answer(&self) {
        let (calls, settle) = {
            let behaviour = self.behaviour();
            let calls = behaviour.refresh_waits_for_protected_calls;
            (calls, behaviour.refresh_delay)
        };

        let mut protected = self.protected_calls.subscribe();
        let _ = tokio::time::timeout(PATIENCE, protected.wait_for(|n| *n >= calls)).await;
        tokio::time::sleep(settle).await;
        let mut released = self.refresh_released.subscribe();
        let _ = tokio::time::timeout(PATIENCE, released.wait_for(|r| *r)).await;
    }
}

async fn data(State(api): State<Arc<ApiState>>, headers: HeaderMap) -> Response {
    api.protected_calls.send_modify(|n| *n += 1);
    api.answer_data(&headers)
}

async fn data_after(
    State(api): State<Arc<ApiState>>,
    Path(generation): Path<u64>,
    headers: HeaderMap,
) -> Response {
    api.protected_calls.send_modify(|n| *n += 1);

    let mut issued = api.generation.subscribe();
    let waited = tokio::time::timeout(PATIENCE, issued.wait_for(|g| *g >= generation)).await;
    if waited.is_ok_and(|changed| changed.is_ok()) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    api.answer_data(&headers)
}

async fn refresh(State(api): State<Arc<ApiState>>, headers: HeaderMap, body: Bytes) -> Response {
    api.refresh_calls.send_modify(|n| *n += 1);
    let cookie = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let refresh_token = presented_refresh_token(&body, cookie.as_deref());
    api.refresh_requests.lock().unwrap().push(RefreshRequest {
        body,
        cookie,
        refresh_token: refresh_token.clone(),
    });

    api.refresh_may_answer().await;

    let answer = api.behaviour().answer;
    if let RefreshAnswer::Status(status) = answer {
        return status.into_response();
    }
    let current = api.issued().refresh.clone();
    if refresh_token.as_deref() != Some(current.as_str()) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let tokens = api.issue(answer != RefreshAnswer::AccessOnly);
    axum::Json(answer_body(answer, tokens)).into_response()
}

fn presented_refresh_token(body: &[u8], cookie: Option<&str>) -> Option<String> {
    let from_body = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|json| json["refreshToken"].as_str().map(str::to_owned));
    let from_cookie = cookie
        .into_iter()
        .flat_map(|c| c.split(';'))
        .find_map(|pair| pair.trim().strip_prefix("refresh_token="))
        .map(str::to_owned);
    from_body.or(from_cookie)
}

fn answer_body(answer: RefreshAnswer, tokens: Tokens) -> Value {
    match answer {
        RefreshAnswer::AccessOnly => json!({
            "accessToken": tokens.access,
            "expiresIn": LIFETIME,
        }),
        RefreshAnswer::OAuthNames => json!({
            "access_token": tokens.access,
            "refresh_token": tokens.refresh,
            "expires_in": LIFETIME,
            "token_type": "Bearer",
        }),
        _ => json!({
            "accessToken": tokens.access,
            "refreshToken": tokens.refresh,
            "expiresIn": LIFETIME,
        }),
    }
}

/// A JWT-shaped token: `{"iat","exp","gen"}` and a signature nobody checks.
fn access_token(generation: u64) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let claims = json!({
        "iat": ISSUED_AT,
        "exp": ISSUED_AT + LIFETIME,
        "gen": generation,
    });
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.mock-signature")
}
