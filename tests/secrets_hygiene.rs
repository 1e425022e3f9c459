//! No token, secret or password reaches a log line or a `Debug` output.
//!
//! The whole flow runs over real HTTP against the reference server with
//! every `tracing` event at TRACE level written into a buffer: logins (one
//! with a wrong password), calls, refreshes by body and by cookie, a replay
//! inside the grace window, a reuse after it, logout, logout everywhere,
//! the client middleware refreshing and retrying, and bad tokens. The
//! buffer must then hold none of the tokens, secrets or passwords seen,
//! yet hold the flow's log lines, the reuse warning with its session id
//! among them. `Debug` of every public type that holds a secret or a token
//! is checked on its own.

use std::io::Write;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use auth_layer::session::{SessionConfig, Sessions};
use auth_layer::store::{MemoryStore, RedisConfig, SessionStore};
use auth_layer::{AuthLayer, Clock, Key, KeySet, ManualClock, NoClaims, TokenConfig, TokenIssuer};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use refresh_client::{MemoryTokenStore, RefreshError, RefreshMiddleware, TokenStore, Tokens};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use tokenpair::reference::{Config, DEMO_PASSWORD, Server};
use tracing::Level;

const ACCESS_SECRET: &str = "hygiene access secret: Xq7#pL2!vR9@kM4$";
const REFRESH_SECRET: &str = "hygiene refresh secret: Zt5%nB8^wC3&hJ6*";
const WRONG_PASSWORD: &str = "wrong-password-7f3a9c";
const REDIS_PASSWORD: &str = "hunter2";
const START: i64 = 1_700_000_000;
const ACCESS_TTL: u64 = 60;

/// Everything every test in this file logs, at every level.
static LOG: LazyLock<Arc<Mutex<Vec<u8>>>> = LazyLock::new(|| {
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&buffer);
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(Level::TRACE)
        .with_ansi(false)
        .with_writer(move || Sink(Arc::clone(&sink)))
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
    buffer
});

/// A writer into the shared buffer.
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut buffer = self.0.lock().unwrap_or_else(|e| e.into_inner());
        buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logged() -> String {
    let buffer = LOG.lock().unwrap_or_else(|e| e.into_inner());
    String::from_utf8_lossy(&buffer).into_owned()
}

fn config() -> Config {
    Config::from_lookup(|name| match name {
        "ACCESS_SECRET" => Some(ACCESS_SECRET.to_owned()),
        "REFRESH_SECRET" => Some(REFRESH_SECRET.to_owned()),
        "ACCESS_TTL" => Some(format!("{ACCESS_TTL}s")),
        _ => None,
    })
    .expect("a valid configuration")
}

/// Every token the flow has seen, to look for in the log afterwards.
#[derive(Default)]
struct Seen(Vec<String>);

impl Seen {
    fn add(&mut self, token: impl Into<String>) {
        let token = token.into();
        if !token.is_empty() {
            self.0.push(token);
        }
    }

    fn add_pair(&mut self, body: &Value) {
        for name in ["accessToken", "refreshToken"] {
            if let Some(token) = body[name].as_str() {
                self.add(token);
            }
        }
    }

    fn add_tokens(&mut self, tokens: Option<Tokens>) {
        if let Some(tokens) = tokens {
            self.add(tokens.access);
            self.add(tokens.refresh.unwrap_or_default());
        }
    }

    /// The tokens and, for JWTs, their payload and signature segments on
    /// their own (a log could carry either without the whole token).
    fn needles(&self) -> Vec<String> {
        let mut needles = Vec::new();
        for token in &self.0 {
            needles.push(token.clone());
            let segments: Vec<&str> = token.split('.').collect();
            if let [_, payload, signature] = segments[..] {
                needles.extend([payload, signature].map(str::to_owned));
            }
        }
        needles.retain(|needle| needle.len() >= 8);
        needles
    }
}

/// A reply's status, JSON body and refresh cookie values.
struct Reply {
    status: StatusCode,
    body: Value,
    cookies: Vec<String>,
}

async fn send(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.expect("the server answered");
    let status = response.status();
    let cookies = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|cookie| cookie.split(';').next()?.split_once('='))
        .map(|(_, value)| value.to_owned())
        .collect();
    let body = response.json().await.unwrap_or(Value::Null);
    Reply {
        status,
        body,
        cookies,
    }
}

/// The session id a token names, read without verifying it.
fn sid_of(token: &str) -> String {
    let payload = token.split('.').nth(1).expect("a JWT");
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
            .expect("JSON claims");
    claims["sid"].as_str().expect("a sid").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_flow_at_trace_level_logs_no_token_secret_or_password() {
    LazyLock::force(&LOG);
    let clock = ManualClock::new(START);
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::with_clock(Arc::clone(&shared)));
    let server = Server::with_store(&config(), shared, store).expect("a server");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    let router = server.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .no_proxy()
        .build()
        .expect("a client");
    let url = |path: &str| format!("{base}{path}");
    let mut seen = Seen::default();

    // Logins: a wrong password, then the right one.
    let wrong = json!({"username": "demo", "password": WRONG_PASSWORD});
    let refused = send(http.post(url("/api/login")).json(&wrong)).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let right = json!({"username": "demo", "password": DEMO_PASSWORD});
    let login = send(http.post(url("/api/login")).json(&right)).await;
    assert_eq!(login.status, StatusCode::OK);
    seen.add_pair(&login.body);
    login.cookies.iter().for_each(|c| seen.add(c.clone()));
    let first_access = login.body["accessToken"]
        .as_str()
        .expect("a token")
        .to_owned();
    let first_refresh = login.body["refreshToken"]
        .as_str()
        .expect("a token")
        .to_owned();

    // A call, a refresh by body, a refresh by cookie, a replay.
    let me = send(http.get(url("/api/me")).bearer_auth(&first_access)).await;
    assert_eq!(me.status, StatusCode::OK);
    let by_body = send(
        http.post(url("/api/refresh"))
            .json(&json!({ "refreshToken": first_refresh })),
    )
    .await;
    assert_eq!(by_body.status, StatusCode::OK);
    seen.add_pair(&by_body.body);
    by_body.cookies.iter().for_each(|c| seen.add(c.clone()));
    let second_refresh = by_body.body["refreshToken"]
        .as_str()
        .expect("a token")
        .to_owned();
    let by_cookie = send(
        http.post(url("/api/refresh"))
            .header(COOKIE, format!("refresh_token={second_refresh}")),
    )
    .await;
    assert_eq!(by_cookie.status, StatusCode::OK);
    seen.add_pair(&by_cookie.body);
    by_cookie.cookies.iter().for_each(|c| seen.add(c.clone()));
    let replay = send(
        http.post(url("/api/refresh"))
            .json(&json!({ "refreshToken": second_refresh })),
    )
    .await;
    assert_eq!(replay.status, StatusCode::OK, "a replay inside the window");

    // Reuse after the grace window: the session is revoked, with a warning.
    clock.advance(Duration::from_secs(11));
    let reused = send(
        http.post(url("/api/refresh"))
            .json(&json!({ "refreshToken": second_refresh })),
    )
    .await;
    assert_eq!(reused.status, StatusCode::BAD_REQUEST);
    let revoked = send(http.get(url("/api/me")).bearer_auth(&first_access)).await;
    assert_eq!(revoked.status, StatusCode::UNAUTHORIZED);
    let reused_sid = sid_of(&second_refresh);

    // Logout, and logout everywhere.
    let other = send(http.post(url("/api/login")).json(&right)).await;
    seen.add_pair(&other.body);
    let other_access = other.body["accessToken"].as_str().expect("a token");
    let logout = send(http.post(url("/api/logout")).bearer_auth(other_access)).await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    let third = send(http.post(url("/api/login")).json(&right)).await;
    seen.add_pair(&third.body);
    let third_access = third.body["accessToken"].as_str().expect("a token");
    let everywhere = send(http.post(url("/api/logout-all")).bearer_auth(third_access)).await;
    assert_eq!(everywhere.status, StatusCode::NO_CONTENT);

    // The client middleware: a 401 for a revoked access token makes it
    // refresh and retry; later the token's age makes it refresh ahead of
    // time.
    let now = clock.clone();
    let auth = RefreshMiddleware::builder(&url("/api/refresh"))
        .expect("a URL")
        .clock(move || now.now())
        .build();
    let client = reqwest_middleware::ClientBuilder::new(http.clone())
        .with(auth.clone())
        .build();
    let signed_in = send(http.post(url("/api/login")).json(&right)).await;
    seen.add_pair(&signed_in.body);
    assert!(auth.set_tokens_from_json(signed_in.body.to_string().as_bytes()));
    let access = auth.tokens().expect("tokens").access;
    let claims = server
        .issuer()
        .access_verifier::<NoClaims>()
        .verify(&access)
        .expect("a genuine token");
    server
        .sessions()
        .revoke_access_token(claims.jti(), claims.exp())
        .await
        .expect("a revocation");
    let retried = client.get(url("/api/me")).send().await.expect("an answer");
    assert_eq!(retried.status(), StatusCode::OK);
    assert_eq!(auth.refresh_count(), 1);
    seen.add_tokens(auth.tokens());
    clock.advance(Duration::from_secs(ACCESS_TTL));
    let ahead = client.get(url("/api/me")).send().await.expect("an answer");
    assert_eq!(ahead.status(), StatusCode::OK);
    assert_eq!(auth.refresh_count(), 2);
    seen.add_tokens(auth.tokens());

    // Bad tokens, to the layer and to the refresh endpoint.
    let forged_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#),
        URL_SAFE_NO_PAD.encode(br#"{"sub":"demo","note":"forged-none-token"}"#)
    );
    let tampered = {
        let mut parts: Vec<&str> = first_access.split('.').collect();
        let fake_payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"admin","note":"tampered"}"#);
        parts[1] = &fake_payload;
        parts.join(".")
    };
    for bad in [
        "garbage-token-8d2f1c".to_owned(),
        forged_none,
        tampered,
        first_refresh.clone(),
    ] {
        let refused = send(http.get(url("/api/me")).bearer_auth(&bad)).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        let refused = send(
            http.post(url("/api/refresh"))
                .json(&json!({ "refreshToken": bad })),
        )
        .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        seen.add(bad);
    }

    let log = logged();
    for needle in seen.needles() {
        assert!(!log.contains(&needle), "a token in the log: {needle}");
    }
    for secret in [
        ACCESS_SECRET,
        REFRESH_SECRET,
        DEMO_PASSWORD,
        WRONG_PASSWORD,
        &STANDARD.encode(ACCESS_SECRET),
        &URL_SAFE_NO_PAD.encode(ACCESS_SECRET),
    ] {
        assert!(!log.contains(secret), "a secret in the log: {secret}");
    }

    // And the flow did log, the reuse warning with its session id.
    assert!(log.contains("refresh"), "{log}");
    let warning = log
        .lines()
        .find(|line| line.contains("refresh token reused"))
        .unwrap_or_else(|| panic!("no reuse warning in {log}"));
    assert!(warning.contains("WARN"), "{warning}");
    assert!(warning.contains(&reused_sid), "{warning}");
    assert!(log.contains("access token refused"), "{log}");
    assert!(log.contains("refresh succeeded"), "{log}");
}

/// `Debug` of `value` holds none of `secrets`.
#[track_caller]
fn assert_hidden(what: &str, value: &dyn std::fmt::Debug, secrets: &[&str]) {
    let debug = format!("{value:?} {value:#?}");
    for secret in secrets {
        assert!(!debug.contains(secret), "{what}: {secret} in {debug}");
    }
}

#[tokio::test]
async fn debug_of_every_type_that_holds_a_secret_or_a_token_is_redacted() {
    let access_key = Key::hs256("access-1", ACCESS_SECRET).expect("a key");
    let refresh_key = Key::hs256("refresh-1", REFRESH_SECRET).expect("a key");
    let secrets = [
        ACCESS_SECRET,
        REFRESH_SECRET,
        &STANDARD.encode(ACCESS_SECRET),
        &URL_SAFE_NO_PAD.encode(ACCESS_SECRET),
        &URL_SAFE_NO_PAD.encode(REFRESH_SECRET),
    ];
    assert_hidden("Key", &access_key, &secrets);
    let access_keys = KeySet::new(access_key).expect("a key set");
    let refresh_keys = KeySet::new(refresh_key).expect("a key set");
    assert_hidden("KeySet", &access_keys, &secrets);
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(START));
    let issuer = TokenIssuer::with_clock(
        access_keys,
        refresh_keys,
        TokenConfig::new("iss", "aud"),
        Arc::clone(&clock),
    )
    .expect("an issuer");
    assert_hidden("TokenIssuer", &issuer, &secrets);
    let verifier = issuer.access_verifier::<NoClaims>();
    assert_hidden("AccessVerifier", &verifier, &secrets);
    assert_hidden("AuthLayer", &AuthLayer::new(verifier), &secrets);

    let pair = issuer
        .issue_pair("alice", "session-1", &NoClaims {})
        .expect("a pair");
    let tokens = [
        pair.access_token().to_owned(),
        pair.refresh_token().to_owned(),
    ];
    let tokens = [tokens[0].as_str(), tokens[1].as_str()];
    let signature = |token: &str| token.rsplit('.').next().unwrap_or_default().to_owned();
    let hidden: Vec<&str> = secrets.iter().copied().chain(tokens).collect();
    assert_hidden("TokenPair", &pair, &hidden);
    assert_hidden("IssuedToken", &pair.access, &hidden);
    let access_signature = signature(tokens[0]);
    assert_hidden("TokenPair", &pair, &[&access_signature]);

    let sessions = Sessions::new(
        issuer,
        MemoryStore::with_clock(clock),
        SessionConfig::default(),
    );
    let login = sessions
        .login("alice", &NoClaims {})
        .await
        .expect("a login");
    let grant = sessions
        .refresh(login.pair.refresh_token())
        .await
        .expect("a grant");
    let session_tokens = [
        login.pair.access_token(),
        login.pair.refresh_token(),
        grant.refresh_token().expect("a rotated token"),
    ];
    let hidden: Vec<&str> = secrets.iter().copied().chain(session_tokens).collect();
    assert_hidden("Login", &login, &hidden);
    assert_hidden("Grant", &grant, &hidden);
    assert_hidden("Sessions", &sessions, &hidden);
    assert_hidden("Endpoint", &sessions.refresh_service(), &hidden);

    let config = config();
    assert_hidden("Config", &config, &secrets);
    let server = Server::new(&config).await.expect("a server");
    assert_hidden("Server", &server, &secrets);
    let redis = RedisConfig::new(format!("redis://:{REDIS_PASSWORD}@127.0.0.1:6379/0"));
    assert_hidden("RedisConfig", &redis, &[REDIS_PASSWORD]);
    let redis = RedisConfig::new(format!("redis://user:{REDIS_PASSWORD}@127.0.0.1:6379"));
    assert_hidden("RedisConfig", &redis, &[REDIS_PASSWORD]);

    let client_tokens = Tokens {
        access: login.pair.access_token().to_owned(),
        refresh: Some(login.pair.refresh_token().to_owned()),
    };
    assert_hidden("Tokens", &client_tokens, &session_tokens);
    let store = MemoryTokenStore::new();
    store.save(Some(&client_tokens));
    assert_hidden("MemoryTokenStore", &store, &session_tokens);
    let auth = RefreshMiddleware::builder("http://127.0.0.1:9/api/refresh")
        .expect("a URL")
        .build();
    auth.set_tokens(client_tokens.clone());
    assert_hidden("RefreshMiddleware", &auth, &session_tokens);
}

#[tokio::test]
async fn a_refresh_error_hides_the_tokens_and_the_refresh_urls_secrets() {
    // An API that refuses every token, and a refresh URL whose port is
    // closed and whose query carries a secret.
    let api = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let api_base = format!("http://{}", api.local_addr().expect("an address"));
    let refuse = axum::Router::new().route(
        "/api/me",
        axum::routing::get(|| async { StatusCode::UNAUTHORIZED }),
    );
    tokio::spawn(async move { axum::serve(api, refuse).await });
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let refresh_url = format!(
        "http://127.0.0.1:{}/api/refresh?client_secret=s3cr3t-in-query",
        closed.local_addr().expect("an address").port()
    );
    drop(closed);

    let auth = RefreshMiddleware::builder(&refresh_url)
        .expect("a URL")
        .origin(&api_base)
        .expect("an origin")
        .build();
    let tokens = Tokens {
        access: "access-token-that-must-stay-hidden".to_owned(),
        refresh: Some("refresh-token-that-must-stay-hidden".to_owned()),
    };
    auth.set_tokens(tokens);
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(auth.clone())
        .build();

    let failed = client
        .get(format!("{api_base}/api/me"))
        .send()
        .await
        .expect_err("the refresh fails in transport");
    let error = RefreshError::find(&failed).expect("a refresh error");
    assert!(matches!(error, RefreshError::Transport(_)), "{error:?}");

    let hidden = [
        "access-token-that-must-stay-hidden",
        "refresh-token-that-must-stay-hidden",
        "s3cr3t-in-query",
    ];
    assert_hidden("RefreshError", error, &hidden);
    let display = format!("{error} {failed} {failed:?}");
    for secret in hidden {
        assert!(!display.contains(secret), "{secret} in {display}");
    }
}

#[test]
fn debug_of_the_middleware_hides_secrets_in_the_refresh_url() {
    // Transport errors drop the URL because its query may carry secrets;
    // `Debug` of the middleware and its builder must not show them either.
    let url = "https://client:pa55w0rd-in-userinfo@auth.example.test/api/refresh\
               ?client_secret=s3cr3t-in-query";
    let hidden = ["pa55w0rd-in-userinfo", "s3cr3t-in-query"];

    let builder = RefreshMiddleware::builder(url).expect("a URL");
    assert_hidden("Builder", &builder, &hidden);
    let auth = builder.build();
    assert_hidden("RefreshMiddleware", &auth, &hidden);
}
