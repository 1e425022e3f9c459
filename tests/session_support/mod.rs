//! Helpers for the session tests: the reference server (or a server without
//! rotation) on a free port with a clock the test moves, a client that sends
//! cookies by hand, and readers for the cookies and tokens that come back.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use auth_layer::session::{SessionConfig, Sessions};
use auth_layer::store::MemoryStore;
use auth_layer::{
    Authenticated, Clock, Key, KeySet, ManualClock, NoClaims, TokenConfig, TokenIssuer,
};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::{CACHE_CONTROL, COOKIE, SET_COOKIE, WWW_AUTHENTICATE};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::{Value, json};
use tokenpair::reference::{Config, Server};

/// The HS256 secret for access tokens in these tests.
const ACCESS_SECRET: &str = "access secret of the session tests, 0123456789";
/// The HS256 secret for refresh tokens in these tests.
const REFRESH_SECRET: &str = "refresh secret of the session tests, 9876543210";
/// Where every clock starts, in seconds since the Unix epoch.
const START: i64 = 1_700_000_000;
/// Every request gives up after this long, so a hang fails the test.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The access token lifetime of every server here, in seconds.
pub const ACCESS_TTL: u64 = 60;
/// The refresh token lifetime of the reference server by default (7 days).
pub const REFRESH_TTL: u64 = 7 * 24 * 60 * 60;
/// The clock skew the verifiers tolerate by default, in seconds.
pub const LEEWAY: u64 = 5;
/// The grace window of the reference server, in seconds.
pub const GRACE: u64 = 10;

/// The refresh cookie's name.
pub const COOKIE_NAME: &str = "refresh_token";
/// The only paths the refresh cookie may be set for.
pub const COOKIE_PATHS: [&str; 2] = ["/api/refresh", "/api/logout"];

/// What the layer says about a revoked access token.
pub const REVOKED: &str = "the access token has been revoked";
/// What the layer says about an expired access token.
pub const EXPIRED: &str = "the access token expired";

/// Serves `router` on 127.0.0.1 on a free port and returns its base URL.
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port on 127.0.0.1");
    let addr = listener.local_addr().expect("the listener's address");
    tokio::spawn(async move {
        axum::serve(listener, router)
            .await
            .expect("the server stopped with an error");
    });
    format!("http://{addr}")
}

/// Moves `clock` forward by `secs` seconds.
pub fn advance(clock: &ManualClock, secs: u64) {
    clock.advance(Duration::from_secs(secs));
}

/// The reference server with a memory store and a manual clock.
pub struct Reference {
    pub client: Client,
    pub clock: ManualClock,
    pub store: Arc<MemoryStore>,
    pub server: Server,
}

impl Reference {
    /// The reference server with refresh tokens that live 7 days.
    pub async fn start() -> Self {
        Self::start_with_refresh_ttl("7d").await
    }

    /// The reference server with refresh tokens that live `refresh_ttl`
    /// (humantime, such as `120s`).
    pub async fn start_with_refresh_ttl(refresh_ttl: &str) -> Self {
        let refresh_ttl = refresh_ttl.to_owned();
        let config = Config::from_lookup(|name| match name {
            "ACCESS_SECRET" => Some(ACCESS_SECRET.to_owned()),
            "REFRESH_SECRET" => Some(REFRESH_SECRET.to_owned()),
            "ACCESS_TTL" => Some(format!("{ACCESS_TTL}s")),
            "REFRESH_TTL" => Some(refresh_ttl.clone()),
            "REFRESH_GRACE" => Some(format!("{GRACE}s")),
            _ => None,
        })
        .expect("a valid configuration");
        let clock = ManualClock::new(START);
        let shared: Arc<dyn Clock> = Arc::new(clock.clone());
        let store = Arc::new(MemoryStore::with_clock(Arc::clone(&shared)));

        let server = Server::with_store(&config, shared, store.clone()).expect("a server");
        let base = serve(server.router()).await;

        Self {
            client: Client::new(base),
            clock,
            store,
            server,
        }
    }

    /// Signs the demo user in over HTTP and returns the `200` reply.
    pub async fn login(&self) -> Reply {
        let credentials = json!({"username": "demo", "password": "demo-password"});
        let reply = self
            .client
            .send(self.client.post("/api/login").json(&credentials))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "login: {reply:?}");
        reply
    }

    /// Signs the demo user in without HTTP and returns the access and
    /// refresh tokens, for tests that need many sessions quickly.
    pub async fn login_directly(&self) -> (String, String) {
        let login = self
            .server
            .sessions()
            .login("demo", &NoClaims {})
            .await
            .expect("a login");
        let pair = login.pair;
        (
            pair.access_token().to_owned(),
            pair.refresh_token().to_owned(),
        )
    }

    /// Signs in over HTTP and rotates once, returning the login reply and
    /// the refresh reply.
    pub async fn login_and_refresh(&self) -> (Reply, Reply) {
        let login = self.login().await;
        let refreshed = self.client.refresh_with_body(login.refresh_token()).await;
        assert_eq!(
            refreshed.status,
            StatusCode::OK,
            "first refresh: {refreshed:?}"
        );
        (login, refreshed)
    }
}

/// A server whose sessions never rotate the refresh token, with
/// `POST /api/refresh` and a protected `GET /api/me`.
pub struct NonRotating {
    pub client: Client,
    pub clock: ManualClock,
    pub sessions: Sessions,
}

impl NonRotating {
    pub async fn start() -> Self {
        let clock = ManualClock::new(START);
        let shared: Arc<dyn Clock> = Arc::new(clock.clone());
        let issuer = TokenIssuer::with_clock(
            KeySet::new(Key::hs256("access-1", ACCESS_SECRET).expect("an access key"))
                .expect("an access key set"),
            KeySet::new(Key::hs256("refresh-1", REFRESH_SECRET).expect("a refresh key"))
                .expect("a refresh key set"),
            TokenConfig::new("tokenpair-sessions-test", "tokenpair-api")
                .access_ttl(Duration::from_secs(ACCESS_TTL)),
            Arc::clone(&shared),
        )
        .expect("an issuer");
        let store = MemoryStore::with_clock(shared);
        let sessions = Sessions::new(issuer, store, SessionConfig::default().rotation(false));

        let protected = Router::new()
            .route("/api/me", get(me))
            .layer(sessions.layer::<NoClaims>());
        let router = Router::new()
            .route_service("/api/refresh", sessions.refresh_service())
            .merge(protected);
        let base = serve(router).await;

        Self {
            client: Client::new(base),
            clock,
            sessions,
        }
    }

    /// Creates a session for the demo user and returns its access and
    /// refresh tokens.
    pub async fn login(&self) -> (String, String) {
        let login = self
            .sessions
            .login("demo", &NoClaims {})
            .await
            .expect("a login");
        let pair = login.pair;
        (
            pair.access_token().to_owned(),
            pair.refresh_token().to_owned(),
        )
    }
}

async fn me(Authenticated(claims): Authenticated<NoClaims>) -> Json<Value> {
    Json(json!({ "userId": claims.sub(), "sessionId": claims.sid() }))
}

/// A client for one server: no cookie store, a timeout on every request.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    fn new(base: String) -> Self {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .no_proxy()
            .build()
            .expect("an HTTP client");
        Self { http, base }
    }

    /// The server's own origin, such as `http://127.0.0.1:4000`.
    pub fn origin(&self) -> &str {
        &self.base
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.http.get(format!("{}{path}", self.base))
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.http.post(format!("{}{path}", self.base))
    }

    /// Sends `request` and reads the whole reply.
    pub async fn send(&self, request: RequestBuilder) -> Reply {
        let response = request
            .send()
            .await
            .expect("the server answered within the timeout");
        let headers = response.headers();
        let header = |name| {
            headers.get(name).map(|v: &reqwest::header::HeaderValue| {
                String::from_utf8_lossy(v.as_bytes()).into_owned()
            })
        };
        let status = response.status();
        let www_authenticate = header(WWW_AUTHENTICATE);
        let cache_control = header(CACHE_CONTROL);
        let set_cookies = headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();

        let text = response.text().await.expect("the whole body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            www_authenticate,
            cache_control,
            set_cookies,
            body,
            text,
        }
    }

    /// `GET /api/me` with `Authorization: Bearer <access>`.
    pub async fn me(&self, access: &str) -> Reply {
        self.send(self.get("/api/me").bearer_auth(access)).await
    }

    /// `POST /api/refresh` with `{"refreshToken": refresh}`.
    pub async fn refresh_with_body(&self, refresh: &str) -> Reply {
        let body = json!({ "refreshToken": refresh });
        self.send(self.post("/api/refresh").json(&body)).await
    }

    /// `POST /api/refresh` with the refresh cookie and no body.
    pub async fn refresh_with_cookie(&self, refresh: &str) -> Reply {
        self.send(with_cookie(self.post("/api/refresh"), refresh))
            .await
    }

    /// `POST /api/logout` with `Authorization: Bearer <access>` only.
    pub async fn logout_with_bearer(&self, access: &str) -> Reply {
        self.send(self.post("/api/logout").bearer_auth(access))
            .await
    }

    /// `POST /api/logout-all` with `Authorization: Bearer <access>`.
    pub async fn logout_all(&self, access: &str) -> Reply {
        self.send(self.post("/api/logout-all").bearer_auth(access))
            .await
    }
}

/// `request` with the refresh cookie set to `refresh`, as a browser sends
/// it.
pub fn with_cookie(request: RequestBuilder, refresh: &str) -> RequestBuilder {
    request.header(COOKIE, format!("{COOKIE_NAME}={refresh}"))
}

/// What a server answered.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub www_authenticate: Option<String>,
    pub cache_control: Option<String>,
    pub set_cookies: Vec<String>,
    /// The body as JSON, or `null` when it is empty or not JSON.
    pub body: Value,
    /// The body exactly as sent.
    pub text: String,
}

impl Reply {
    /// The string field `name` of the JSON body.
    pub fn field(&self, name: &str) -> &str {
        self.body[name]
            .as_str()
            .unwrap_or_else(|| panic!("no string `{name}` in {:?}", self.body))
    }

    pub fn access_token(&self) -> &str {
        self.field("accessToken")
    }

    pub fn refresh_token(&self) -> &str {
        self.field("refreshToken")
    }

    /// The refresh cookies this reply sets.
    pub fn cookies(&self) -> Vec<SetCookie> {
        self.set_cookies
            .iter()
            .map(|c| SetCookie::parse(c))
            .collect()
    }

    /// Asserts `401 invalid_token` with `description`, both in the
    /// challenge and in the JSON body.
    pub fn assert_invalid_token(&self, description: &str) {
        assert_eq!(self.status, StatusCode::UNAUTHORIZED, "{self:?}");
        assert_eq!(self.body["error"], "invalid_token", "{self:?}");
        assert_eq!(self.body["error_description"], description, "{self:?}");
        let challenge = self.www_authenticate.as_deref().unwrap_or_default();
        assert!(
            challenge.starts_with("Bearer realm=")
                && challenge.contains("error=\"invalid_token\"")
                && challenge.contains(&format!("error_description=\"{description}\"")),
            "challenge: {challenge:?}"
        );
    }

    /// Asserts `400 invalid_grant` with an `error_description`.
    pub fn assert_invalid_grant(&self) {
        assert_eq!(self.status, StatusCode::BAD_REQUEST, "{self:?}");
        assert_eq!(self.body["error"], "invalid_grant", "{self:?}");
        assert!(self.body["error_description"].is_string(), "{self:?}");
    }

    /// Asserts that the reply sets the refresh cookie to `value` on each
    /// auth path and nowhere else, `HttpOnly; Secure; SameSite=Strict`,
    /// for `max_age` seconds.
    pub fn assert_refresh_cookies(&self, value: &str, max_age: u64) {
        let cookies = self.cookies();
        let paths: BTreeSet<&str> = cookies.iter().map(|c| c.attribute("path")).collect();
        assert_eq!(cookies.len(), COOKIE_PATHS.len(), "{:?}", self.set_cookies);
        assert_eq!(
            paths,
            BTreeSet::from(COOKIE_PATHS),
            "{:?}",
            self.set_cookies
        );
        for cookie in &cookies {
            assert_eq!(cookie.name, COOKIE_NAME, "{cookie:?}");
            assert_eq!(cookie.value, value, "{cookie:?}");
            assert_eq!(
                cookie.attribute("max-age"),
                max_age.to_string(),
                "{cookie:?}"
            );
            cookie.assert_locked_down();
        }
    }

    /// Asserts that the reply deletes the refresh cookie on each auth path.
    pub fn assert_cookies_cleared(&self) {
        self.assert_refresh_cookies("", 0);
    }
}

/// One `Set-Cookie` header, split into its parts.
#[derive(Debug)]
pub struct SetCookie {
    pub name: String,
    pub value: String,
    /// Attribute names in lower case, with their values (empty for flags).
    pub attributes: Vec<(String, String)>,
}

impl SetCookie {
    fn parse(header: &str) -> Self {
        let mut parts = header.split(';').map(str::trim);
        let (name, value) = parts
            .next()
            .and_then(|pair| pair.split_once('='))
            .unwrap_or_else(|| panic!("a cookie pair in {header:?}"));
        let attributes = parts
            .map(|part| match part.split_once('=') {
                Some((key, value)) => (key.to_ascii_lowercase(), value.to_owned()),
                None => (part.to_ascii_lowercase(), String::new()),
            })
            .collect();
        Self {
            name: name.to_owned(),
            value: value.to_owned(),
            attributes,
        }
    }

    /// The value of attribute `name` (lower case); panics when absent.
    pub fn attribute(&self, name: &str) -> &str {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .unwrap_or_else(|| panic!("no {name} attribute in {self:?}"))
    }

    fn has(&self, name: &str) -> bool {
        self.attributes.iter().any(|(key, _)| key == name)
    }

    /// `HttpOnly; Secure; SameSite=Strict`, no `Domain`, and a path that is
    /// one of the auth endpoints, never `/`.
    fn assert_locked_down(&self) {
        assert!(self.has("httponly"), "not HttpOnly: {self:?}");
        assert!(self.has("secure"), "not Secure: {self:?}");
        assert_eq!(self.attribute("samesite"), "Strict", "{self:?}");
        assert!(!self.has("domain"), "a Domain widens the cookie: {self:?}");
        let path = self.attribute("path");
        assert_ne!(path, "/", "the cookie would reach every route: {self:?}");
        assert!(COOKIE_PATHS.contains(&path), "unexpected path: {self:?}");
    }
}

/// The payload of a JWT, decoded without verifying it.
pub fn payload(token: &str) -> Value {
    let segment = token.split('.').nth(1).expect("a JWT with a payload");
    let bytes = URL_SAFE_NO_PAD.decode(segment).expect("base64url");
    serde_json::from_slice(&bytes).expect("a JSON payload")
}
