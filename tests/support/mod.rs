//! Helpers for tests that talk to a server over real HTTP: starting one on
//! a free port, sending requests with chosen `Authorization` headers, and
//! forging tokens byte by byte.

use std::sync::Arc;
use std::time::Duration;

use auth_layer::Clock;
use auth_layer::store::MemoryStore;
use auth_layer::{
    AccessVerifier, AuthLayer, Authenticated, Key, KeySet, ManualClock, NoClaims, TokenConfig,
    TokenIssuer,
};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CACHE_CONTROL, HeaderValue, WWW_AUTHENTICATE};
use serde_json::{Value, json};
use sha2::Sha256;
use tokenpair::reference::{Config, Server};

/// The reference server's HS256 secret for access tokens in these tests.
pub const ACCESS_SECRET: &str = "access secret of the bad_input tests, 0123456789";
/// The reference server's HS256 secret for refresh tokens in these tests.
pub const REFRESH_SECRET: &str = "refresh secret of the bad_input tests, 9876543210";
/// The issuer the reference server names in its tokens.
pub const ISSUER: &str = "tokenpair-reference";
/// The audience the reference server names in its access tokens.
pub const AUDIENCE: &str = "tokenpair-api";
/// The realm every server in these tests announces.
pub const REALM: &str = "tokenpair";
/// Where every `ManualClock` starts, in seconds since the Unix epoch.
pub const START: i64 = 1_700_000_000;
/// The access token lifetime of every server in these tests, in seconds.
pub const ACCESS_TTL: i64 = 15 * 60;

/// What the description in a refusal of a bad token says.
pub const INVALID: &str = "the access token is invalid";
/// What the description in a refusal of an expired token says.
pub const EXPIRED: &str = "the access token expired";

/// Every request gives up after this long, so a hang fails the test.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

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

/// A client for one server, with a timeout on every request.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    base: String,
}

/// What the server answered to `GET /api/me`.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub challenge: Option<String>,
    pub cache_control: Option<String>,
    /// The body as JSON, or as a JSON string when it is not JSON.
    pub body: Value,
}

impl Http {
    pub fn new(base: String) -> Self {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .no_proxy()
            .build()
            .expect("an HTTP client");
        Self { client, base }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// `GET /api/me` with one `Authorization` header per item of
    /// `authorization`, each sent as the raw bytes given.
    pub async fn me_with(&self, authorization: &[&[u8]]) -> Reply {
        let mut request = self.client.get(self.url("/api/me"));
        for value in authorization {
            let value = HeaderValue::from_bytes(value).expect("a header value the client can send");
            request = request.header(AUTHORIZATION, value);
        }
        let response = request
            .send()
            .await
            .expect("the server answered within the timeout");
        let header = |name| {
            response
                .headers()
                .get(name)
                .map(|v: &HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        let status = response.status();
        let challenge = header(WWW_AUTHENTICATE);
        let cache_control = header(CACHE_CONTROL);
        let bytes = response.bytes().await.expect("the whole body");
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        let reply = Reply {
            status,
            challenge,
            cache_control,
            body,
        };
        assert!(
            !reply.status.is_server_error(),
            "the server failed on a client's input: {reply:?}"
        );
        reply
    }

    /// `GET /api/me` with `Authorization: Bearer <token>`.
    pub async fn me(&self, token: &str) -> Reply {
        self.me_with(&[format!("Bearer {token}").as_bytes()]).await
    }

    /// Asserts that the server still answers `GET /healthz` with `200`.
    pub async fn assert_alive(&self) {
        let response = self
            .client
            .get(self.url("/healthz"))
            .send()
            .await
            .expect("the server still answers");
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "/healthz after a bad request"
        );
    }

    /// Sends `token` and asserts the refusal of an invalid token, then that
    /// the server still answers.
    pub async fn assert_invalid(&self, what: &str, token: &str) {
        self.me(token).await.assert_invalid_token(what);
        self.assert_alive().await;
    }

    /// Sends `token` and asserts the refusal of an expired token, then that
    /// the server still answers.
    pub async fn assert_expired(&self, what: &str, token: &str) {
        self.me(token).await.assert_expired_token(what);
        self.assert_alive().await;
    }

    /// Sends `token` and asserts that it is accepted.
    pub async fn assert_accepted(&self, what: &str, token: &str) -> Value {
        let reply = self.me(token).await;
        reply.assert_ok(what);
        reply.body
    }
}

impl Reply {
    #[track_caller]
    pub fn assert_ok(&self, what: &str) {
        assert_eq!(self.status, StatusCode::OK, "{what}: {self:?}");
        assert_eq!(self.body["userId"], "demo", "{what}: {self:?}");
    }

    /// `401` with a bare challenge: no credentials were offered.
    #[track_caller]
    pub fn assert_missing(&self, what: &str) {
        assert_eq!(self.status, StatusCode::UNAUTHORIZED, "{what}: {self:?}");
        assert_eq!(
            self.challenge.as_deref(),
            Some(format!("Bearer realm=\"{REALM}\"").as_str()),
            "{what}: {self:?}"
        );
        assert_eq!(
            self.body,
            json!({"error": "unauthorized", "error_description": "an access token is required"}),
            "{what}"
        );
        self.assert_not_cached(what);
    }

    #[track_caller]
    pub fn assert_invalid_token(&self, what: &str) {
        self.assert_refusal(
            what,
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            Some(INVALID),
        );
    }

    #[track_caller]
    pub fn assert_expired_token(&self, what: &str) {
        self.assert_refusal(
            what,
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            Some(EXPIRED),
        );
    }

    #[track_caller]
    pub fn assert_invalid_request(&self, what: &str) {
        self.assert_refusal(what, StatusCode::BAD_REQUEST, "invalid_request", None);
    }

    #[track_caller]
    fn assert_refusal(
        &self,
        what: &str,
        status: StatusCode,
        error: &str,
        description: Option<&str>,
    ) {
        assert_eq!(self.status, status, "{what}: {self:?}");
        let challenge = self
            .challenge
            .as_deref()
            .unwrap_or_else(|| panic!("{what}: no WWW-Authenticate in {self:?}"));
        assert!(
            challenge.starts_with(&format!("Bearer realm=\"{REALM}\"")),
            "{what}: {challenge}"
        );
        assert!(
            challenge.contains(&format!("error=\"{error}\"")),
            "{what}: {challenge}"
        );
        assert_eq!(self.body["error"], error, "{what}: {self:?}");
        assert_eq!(
            self.body.as_object().map(|body| body.len()),
            Some(2),
            "{what}: the body holds the error and its description only: {self:?}"
        );
        let said = self.body["error_description"]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: no error_description in {self:?}"));
        assert!(
            challenge.contains(&format!("error_description=\"{said}\"")),
            "{what}: the challenge and the body disagree: {self:?}"
        );
        if let Some(description) = description {
            assert_eq!(said, description, "{what}: {self:?}");
        }
        self.assert_not_cached(what);
    }

    #[track_caller]
    fn assert_not_cached(&self, what: &str) {
        assert_eq!(
            self.cache_control.as_deref(),
            Some("no-store"),
            "{what}: {self:?}"
        );
    }
}

/// The reference server on a free port, on a `ManualClock`.
pub struct Reference {
    pub http: Http,
    pub clock: ManualClock,
    pub issuer: TokenIssuer,
}

impl Reference {
    pub async fn start() -> Self {
        let config = Config::from_lookup(|name| match name {
            "ACCESS_SECRET" => Some(ACCESS_SECRET.to_owned()),
            "REFRESH_SECRET" => Some(REFRESH_SECRET.to_owned()),
            "ACCESS_TTL" => Some(format!("{ACCESS_TTL}s")),
            _ => None,
        })
        .expect("a valid configuration");
        let clock = ManualClock::new(START);
        let shared: Arc<dyn Clock> = Arc::new(clock.clone());
        let store = Arc::new(MemoryStore::with_clock(Arc::clone(&shared)));
        let server = Server::with_store(&config, shared, store).expect("the reference server");
        let http = Http::new(serve(server.router()).await);
        Self {
            http,
            clock,
            issuer: server.issuer().clone(),
        }
    }

    /// A fresh, good access token for the demo user.
    pub fn good_token(&self) -> String {
        self.issuer
            .issue_pair("demo", "session-1", &NoClaims {})
            .expect("a token pair")
            .access_token()
            .to_owned()
    }
}

/// A server whose access tokens are verified with an asymmetric key set,
/// and an issuer that signs tokens it accepts.
pub struct AsymmetricServer {
    pub http: Http,
    pub issuer: TokenIssuer,
}

impl AsymmetricServer {
    /// Verifies with `public` alone; `private` is only used to issue the
    /// good tokens the tests compare against.
    pub async fn start(public: Key, private: Key) -> Self {
        let clock = ManualClock::new(START);
        let config =
            TokenConfig::new(ISSUER, AUDIENCE).access_ttl(Duration::from_secs(ACCESS_TTL as u64));
        let verifier = AccessVerifier::<NoClaims>::with_clock(
            KeySet::verify_only([public]).expect("a verify-only key set"),
            config.clone(),
            Arc::new(clock.clone()),
        );
        let issuer = TokenIssuer::with_clock(
            KeySet::new(private).expect("a signing key set"),
            KeySet::new(Key::hs256("refresh-1", REFRESH_SECRET).expect("a refresh key"))
                .expect("a refresh key set"),
            config,
            Arc::new(clock),
        )
        .expect("an issuer");
        let router = Router::new()
            .route("/api/me", get(me))
            .layer(AuthLayer::new(verifier).realm(REALM))
            .route("/healthz", get(|| async { "ok" }));
        Self {
            http: Http::new(serve(router).await),
            issuer,
        }
    }

    pub fn good_token(&self) -> String {
        self.issuer
            .issue_pair("demo", "session-1", &NoClaims {})
            .expect("a token pair")
            .access_token()
            .to_owned()
    }
}

async fn me(Authenticated(claims): Authenticated<NoClaims>) -> Json<Value> {
    Json(json!({ "userId": claims.sub(), "sessionId": claims.sid() }))
}

/// base64url without padding, as JWS segments are written.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes segment `index` of `token` as JSON.
pub fn segment(token: &str, index: usize) -> Value {
    let text = token.split('.').nth(index).expect("a token segment");
    let bytes = URL_SAFE_NO_PAD.decode(text).expect("a base64url segment");
    serde_json::from_slice(&bytes).expect("a JSON segment")
}

/// HMAC-SHA256 of `input` under `secret`.
pub fn hmac_sha256(secret: &[u8], input: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(input);
    mac.finalize().into_bytes().to_vec()
}

/// `base64url(header).base64url(payload)` and a signature over it made by
/// `sign`, from the raw bytes of header and payload.
pub fn jws(header: &[u8], payload: &[u8], sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let signature = sign(input.as_bytes());
    format!("{input}.{}", b64(signature))
}

/// A token from raw header and payload bytes, signed with HS256 under
/// `secret`.
pub fn hs256_raw(secret: &[u8], header: &[u8], payload: &[u8]) -> String {
    jws(header, payload, |input| hmac_sha256(secret, input))
}

/// A token from JSON header and payload, signed with HS256 under `secret`.
pub fn hs256(secret: &[u8], header: &Value, payload: &Value) -> String {
    hs256_raw(secret, &to_json(header), &to_json(payload))
}

/// The same token with the reference server's own access secret: a genuine
/// signature over whatever header and payload the test chooses.
pub fn signed(header: &Value, payload: &Value) -> String {
    hs256(ACCESS_SECRET.as_bytes(), header, payload)
}

/// The header of the reference server's access tokens.
pub fn access_header() -> Value {
    json!({"alg": "HS256", "typ": "at+jwt", "kid": "access-1"})
}

/// Good access token claims for the demo user, issued at `START`.
pub fn access_claims() -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "demo",
        "iat": START,
        "exp": START + ACCESS_TTL,
        "jti": "jti-1",
        "sid": "session-1",
    })
}

/// `value` with `key` set to `to`.
pub fn with(mut value: Value, key: &str, to: Value) -> Value {
    value[key] = to;
    value
}

pub fn to_json(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("JSON")
}

/// `token` with its payload replaced by `payload`, keeping the original
/// header and signature.
pub fn with_payload(token: &str, payload: &[u8]) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = b64(payload);
    parts.join(".")
}

/// The DER bytes inside PEM text.
pub fn pem_to_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    STANDARD.decode(body).expect("base64 inside the PEM")
}

/// An Ed25519 signature over `input` by the key with this `seed`.
pub fn ed25519_sign(seed: [u8; 32], input: &[u8]) -> Vec<u8> {
    use ed25519_dalek::Signer;
    ed25519_dalek::SigningKey::from_bytes(&seed)
        .sign(input)
        .to_bytes()
        .to_vec()
}

/// The public half of the Ed25519 key with this `seed`, as a JWK.
pub fn ed25519_jwk(seed: [u8; 32], kid: &str) -> Value {
    let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
    json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": kid, "x": b64(public.as_bytes())})
}

/// A PKCS#8 PEM for the Ed25519 private key with this 32-byte `seed`: a key
/// no server in these tests trusts.
pub fn ed25519_pem(seed: [u8; 32]) -> String {
    // PrivateKeyInfo { version 0, AlgorithmIdentifier { 1.3.101.112 },
    // OCTET STRING { OCTET STRING seed } } (RFC 8410).
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&seed);
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(der)
    )
}
