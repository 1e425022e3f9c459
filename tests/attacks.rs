//! The attack corpus: one test per known attack on JWT bearer tokens and
//! refresh-token sessions, each against the reference server over real
//! HTTP. Every test asserts the exact status the attack gets and that the
//! server still answers `/healthz` afterwards. Forgeries carry a genuine
//! signature wherever that matters, so that the test proves the check it
//! names rather than the signature check. Time moves on a `ManualClock`.
//!
//! The reference server signs with HS256 only. The two attacks that need a
//! public key (the public key used as an HMAC secret, and the ES256
//! signature `r = s = 0`) are also run against a server that verifies
//! with public keys alone, built by the test support.
//!
//! `SECURITY.md` lists the threats and points at these tests.

// The support module serves several test files; each uses part of it.
#[allow(dead_code)]
mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use auth_layer::store::{MemoryStore, SessionStore};
use auth_layer::{Algorithm, Clock, Key, ManualClock};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::*;
use tokenpair::reference::{Config, ConfigError, Server};

const ES256_PEM: &str = include_str!("../auth-layer/tests/keys/es256.pem");
const ES256_PUB_PEM: &str = include_str!("../auth-layer/tests/keys/es256.pub.pem");
const RS256_PEM: &str = include_str!("../auth-layer/tests/keys/rs256.pem");
const RS256_PUB_PEM: &str = include_str!("../auth-layer/tests/keys/rs256.pub.pem");
const ED25519_PEM: &str = include_str!("../auth-layer/tests/keys/ed25519.pem");
const ED25519_PUB_PEM: &str = include_str!("../auth-layer/tests/keys/ed25519.pub.pem");

/// What the layer says of a token whose session was revoked.
const REVOKED: &str = "the access token has been revoked";
/// The reference server's grace window, in seconds.
const GRACE: u64 = 10;

/// The access and refresh tokens of one login.
struct Pair {
    access: String,
    refresh: String,
}

impl Pair {
    fn from_json(body: &Value) -> Self {
        let field = |name: &str| {
            body[name]
                .as_str()
                .unwrap_or_else(|| panic!("no {name} in {body}"))
                .to_owned()
        };
        Self {
            access: field("accessToken"),
            refresh: field("refreshToken"),
        }
    }
}

/// Signs the demo user in over HTTP.
async fn login(http: &Http) -> Pair {
    let credentials = json!({"username": "demo", "password": "demo-password"});
    let response = http
        .client()
        .post(http.url("/api/login"))
        .json(&credentials)
        .send()
        .await
        .expect("the login answered");
    assert_eq!(response.status(), StatusCode::OK, "login");
    Pair::from_json(&response.json().await.expect("a JSON login answer"))
}

/// `POST /api/refresh` with `{"refreshToken": token}`: the status, and the
/// body as JSON.
async fn refresh(http: &Http, token: &str) -> (StatusCode, Value) {
    let response = http
        .client()
        .post(http.url("/api/refresh"))
        .json(&json!({ "refreshToken": token }))
        .send()
        .await
        .expect("the refresh answered");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Asserts that a refresh with `token` is refused with `400 invalid_grant`.
#[track_caller]
fn assert_invalid_grant(what: &str, (status, body): &(StatusCode, Value)) {
    assert_eq!(*status, StatusCode::BAD_REQUEST, "{what}: {body}");
    assert_eq!(body["error"], "invalid_grant", "{what}: {body}");
}

/// `POST /api/logout` with the access token as a bearer token.
async fn logout(http: &Http, access: &str) -> StatusCode {
    http.client()
        .post(http.url("/api/logout"))
        .bearer_auth(access)
        .send()
        .await
        .expect("the logout answered")
        .status()
}

/// Asserts that `/api/me` refuses `access` as revoked.
async fn assert_revoked(http: &Http, what: &str, access: &str) {
    let reply = http.me(access).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what}: {reply:?}");
    assert_eq!(reply.body["error"], "invalid_token", "{what}: {reply:?}");
    assert_eq!(
        reply.body["error_description"], REVOKED,
        "{what}: {reply:?}"
    );
}

/// The session is over: its newest refresh token and its access tokens
/// are all refused.
async fn assert_session_revoked(http: &Http, newest_refresh: &str, access: &[&str]) {
    assert_invalid_grant(
        "the newest refresh token",
        &refresh(http, newest_refresh).await,
    );
    for token in access {
        assert_revoked(http, "an access token of the session", token).await;
    }
}

/// A server that verifies access tokens with this public key alone.
async fn public_key_server(alg: Algorithm, kid: &str, private: &str, public: &str) -> Http {
    let server = AsymmetricServer::start(
        Key::from_pem(kid, alg, public).expect("the public test key"),
        Key::from_pem(kid, alg, private).expect("the private test key"),
    )
    .await;
    server
        .http
        .assert_accepted(&format!("{alg} control"), &server.good_token())
        .await;
    server.http
}

/// Every upper/lower-case spelling of `word`.
fn casings(word: &str) -> Vec<String> {
    let letters: Vec<char> = word.chars().collect();
    (0..1u32 << letters.len())
        .map(|mask| {
            letters
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if mask & (1 << i) == 0 {
                        c.to_ascii_lowercase()
                    } else {
                        c.to_ascii_uppercase()
                    }
                })
                .collect()
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Forged access tokens

#[tokio::test]
async fn alg_none_in_every_casing_is_refused_with_401() {
    let server = Reference::start().await;
    let spellings = casings("none");
    assert_eq!(spellings.len(), 16);

    for alg in &spellings {
        for header in [
            with(access_header(), "alg", json!(alg)),
            json!({"alg": alg, "typ": "at+jwt"}),
            json!({"alg": alg}),
        ] {
            let unsigned = jws(&to_json(&header), &to_json(&access_claims()), |_| vec![]);
            server
                .http
                .assert_invalid(&format!("{header}"), &unsigned)
                .await;
        }
    }
    server.http.assert_alive().await;
}

#[tokio::test]
async fn a_token_with_an_empty_missing_or_null_signature_is_refused_with_401() {
    let server = Reference::start().await;
    let good = server.good_token();
    let (input, _) = good.rsplit_once('.').expect("three segments");

    for forged in [
        format!("{input}."),
        input.to_owned(),
        format!("{input}.null"),
        format!("{input}.{}", b64("null")),
        format!("{input}.{}", b64([0u8; 32])),
        format!("{input}.."),
    ] {
        server.http.assert_invalid(&forged, &forged).await;
    }
    server
        .http
        .assert_accepted("the genuine token", &good)
        .await;
}

#[tokio::test]
async fn a_token_with_a_truncated_signature_is_refused_with_401() {
    let server = Reference::start().await;
    let good = server.good_token();
    let (input, signature) = good.rsplit_once('.').expect("three segments");

    for keep in [signature.len() - 1, signature.len() - 2, 22, 8, 1] {
        let forged = format!("{input}.{}", &signature[..keep]);
        server
            .http
            .assert_invalid(&format!("{keep} characters of signature"), &forged)
            .await;
    }
    server
        .http
        .assert_accepted("the genuine token", &good)
        .await;
}

#[tokio::test]
async fn tokens_signed_with_empty_or_well_known_weak_secrets_are_refused_with_401() {
    let server = Reference::start().await;
    let weak: [&[u8]; 14] = [
        b"",
        b"secret",
        b"Secret",
        b"password",
        b"changeme",
        b"your-256-bit-secret",
        b"your-secret-key",
        b"jwt-secret",
        b"key",
        b"123456",
        b"access-1",
        b"tokenpair",
        b"tokenpair-reference",
        &[0; 32],
    ];

    for secret in weak {
        let token = hs256(secret, &access_header(), &access_claims());
        let what = format!("secret {:?}", String::from_utf8_lossy(secret));
        server.http.assert_invalid(&what, &token).await;
    }
    server.http.assert_alive().await;
}

#[tokio::test]
async fn a_public_key_used_as_an_hmac_secret_is_refused_with_401() {
    let public_keys = [
        (Algorithm::RS256, "rs-1", RS256_PEM, RS256_PUB_PEM),
        (Algorithm::ES256, "es-1", ES256_PEM, ES256_PUB_PEM),
        (Algorithm::EdDSA, "ed-1", ED25519_PEM, ED25519_PUB_PEM),
    ];

    // The HS256 reference server, handed tokens keyed with public keys.
    let reference = Reference::start().await;
    for (_, _, _, public) in public_keys {
        let token = hs256(public.as_bytes(), &access_header(), &access_claims());
        reference.http.assert_invalid("a public PEM", &token).await;
    }

    // Servers that hold only a public key: the key an attacker can read.
    for (alg, kid, private, public) in public_keys {
        let http = public_key_server(alg, kid, private, public).await;
        let der = pem_to_der(public);
        for secret in [
            public.as_bytes(),
            public.trim_end().as_bytes(),
            der.as_slice(),
        ] {
            for header_alg in ["HS256", alg.as_str()] {
                let header = json!({"alg": header_alg, "typ": "at+jwt", "kid": kid});
                let token = hs256(secret, &header, &access_claims());
                let what = format!("{alg} server, alg {header_alg}, {} bytes", secret.len());
                http.assert_invalid(&what, &token).await;
            }
        }
    }
    reference.http.assert_alive().await;
}

/// A listener that counts every connection made to it: where the server
/// is told to fetch a key, so that a fetch would be seen.
struct Tripwire {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
}

impl Tripwire {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let addr = listener.local_addr().expect("the tripwire's address");
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        tokio::spawn(async move {
            while listener.accept().await.is_ok() {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        Self { addr, hits }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Waits up to `patience` for the count to reach `at_least`, and
    /// returns the count.
    async fn hits(&self, at_least: usize, patience: Duration) -> usize {
        let deadline = Instant::now() + patience;
        while self.hits.load(Ordering::SeqCst) < at_least && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.hits.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn embedded_jwk_jku_and_x5u_headers_are_refused_with_401_and_never_fetched() {
    let server = Reference::start().await;
    let tripwire = Tripwire::start().await;
    let attacker = b"a secret of the attacker's choosing, 32+ bytes";
    let attacker_jwk = json!({"kty": "oct", "kid": "access-1", "k": b64(attacker)});
    let ed_seed = [5u8; 32];

    let headers = [
        with(access_header(), "jwk", attacker_jwk.clone()),
        with(
            access_header(),
            "jku",
            json!(tripwire.url("/.well-known/jwks.json")),
        ),
        with(access_header(), "x5u", json!(tripwire.url("/cert.pem"))),
        json!({"alg": "HS256", "typ": "at+jwt", "kid": "evil", "jku": tripwire.url("/jwks")}),
        json!({"alg": "HS256", "typ": "at+jwt", "jwk": attacker_jwk}),
        json!({
            "alg": "HS256", "typ": "at+jwt", "kid": "access-1",
            "jwk": attacker_jwk, "jku": tripwire.url("/k"), "x5u": tripwire.url("/x"),
            "x5c": [b64("not a certificate")],
        }),
    ];
    for header in &headers {
        let token = hs256(attacker, header, &access_claims());
        server
            .http
            .assert_invalid(&header.to_string(), &token)
            .await;
    }
    // An Ed25519 key of the attacker's, embedded, with its own signature.
    let header = json!({
        "alg": "EdDSA", "typ": "at+jwt", "kid": "access-1",
        "jwk": ed25519_jwk(ed_seed, "access-1"), "jku": tripwire.url("/ed"),
    });
    let token = jws(&to_json(&header), &to_json(&access_claims()), |input| {
        ed25519_sign(ed_seed, input)
    });
    server
        .http
        .assert_invalid("an embedded Ed25519 key", &token)
        .await;
    server.http.assert_alive().await;

    // No outbound request was made; the tripwire does see one when made.
    assert_eq!(tripwire.hits(1, Duration::from_millis(200)).await, 0);
    let probe = tokio::net::TcpStream::connect(tripwire.addr)
        .await
        .expect("the tripwire accepts connections");
    assert_eq!(tripwire.hits(1, Duration::from_secs(5)).await, 1);
    drop(probe);
}

#[tokio::test]
async fn malicious_kid_values_are_refused_with_401() {
    let server = Reference::start().await;
    let ten_kib = "k".repeat(10 * 1024);
    let kids = [
        "../../../../../../dev/null",
        "/dev/null",
        "../../../../etc/passwd",
        "..\\..\\..\\windows\\win.ini",
        "file:///etc/passwd",
        "access-1/../access-1",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "\"",
        "access-1\"",
        "'",
        "' OR '1'='1",
        "access-1' UNION SELECT 'secret' --",
        "$(id)",
        "`id`",
        "access-1; cat /etc/passwd",
        "access-1 | nc 127.0.0.1 9",
        "access-1 && true",
        "\u{0}",
        "access-1\u{0}",
        "\r\nSet-Cookie: x=1",
        ten_kib.as_str(),
    ];

    for kid in kids {
        let header = with(access_header(), "kid", json!(kid));
        let what = format!("kid {:?}", &kid[..kid.len().min(40)]);
        // A genuine signature, so the kid alone decides.
        server
            .http
            .assert_invalid(&what, &signed(&header, &access_claims()))
            .await;
        // The classic: a kid naming an empty file, signed with an empty key.
        let empty_key = hs256(b"", &header, &access_claims());
        server.http.assert_invalid(&what, &empty_key).await;
    }
    server
        .http
        .assert_accepted("a genuine token", &server.good_token())
        .await;
}

#[tokio::test]
async fn an_es256_signature_with_r_and_s_zero_is_refused_with_401() {
    let zero = [0u8; 64];
    let claims = to_json(&access_claims());

    // The reference server, told the token is ES256 under its own kid.
    let reference = Reference::start().await;
    let header = json!({"alg": "ES256", "typ": "at+jwt", "kid": "access-1"});
    let token = jws(&to_json(&header), &claims, |_| zero.to_vec());
    reference
        .http
        .assert_invalid("ES256 r = s = 0", &token)
        .await;

    // A server that does verify ES256 with its public key.
    let http = public_key_server(Algorithm::ES256, "es-1", ES256_PEM, ES256_PUB_PEM).await;
    let header = json!({"alg": "ES256", "typ": "at+jwt", "kid": "es-1"});
    let token = jws(&to_json(&header), &claims, |_| zero.to_vec());
    http.assert_invalid("ES256 r = s = 0", &token).await;
    let der_zeros = [0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00];
    let token = jws(&to_json(&header), &claims, |_| der_zeros.to_vec());
    http.assert_invalid("ES256 r = s = 0 in DER", &token).await;

    reference.http.assert_alive().await;
}

#[tokio::test]
async fn claims_swapped_for_null_true_zero_or_strings_are_refused_with_401() {
    let server = Reference::start().await;
    let http = &server.http;
    let genuine = login(http).await.access;
    let claims = segment(&genuine, 1);

    for name in ["iss", "aud", "sub", "iat", "exp", "jti", "sid"] {
        let original = &claims[name];
        let as_string = json!(original.to_string());
        for swapped in [json!(null), json!(true), json!(0), json!(""), as_string] {
            if swapped == *original {
                continue;
            }
            let payload = with(claims.clone(), name, swapped.clone());
            let forged = with_payload(&genuine, &to_json(&payload));
            http.assert_invalid(&format!("{name}: {swapped}"), &forged)
                .await;
        }
    }
    http.assert_accepted("the genuine token", &genuine).await;
}

#[tokio::test]
async fn claims_of_the_wrong_type_are_refused_with_401_even_when_genuinely_signed() {
    let server = Reference::start().await;
    // `0` is a valid time for `iat`, and a long-expired one for `exp`: both
    // are covered by other checks, so only strings and non-numbers here.
    let swaps = [
        ("iss", [json!(null), json!(true), json!(0), json!([ISSUER])]),
        (
            "aud",
            [json!(null), json!(true), json!(0), json!({"aud": AUDIENCE})],
        ),
        ("sub", [json!(null), json!(true), json!(0), json!(["demo"])]),
        (
            "sid",
            [json!(null), json!(true), json!(0), json!(["session-1"])],
        ),
        ("jti", [json!(null), json!(true), json!(0), json!({})]),
        (
            "iat",
            [
                json!(null),
                json!(true),
                json!("0"),
                json!(START.to_string()),
            ],
        ),
        (
            "exp",
            [json!(null), json!(true), json!("9999999999"), json!(1e300)],
        ),
    ];
    for (name, values) in swaps {
        for value in values {
            let token = signed(
                &access_header(),
                &with(access_claims(), name, value.clone()),
            );
            server
                .http
                .assert_invalid(&format!("{name}: {value}"), &token)
                .await;
        }
    }
    server.http.assert_alive().await;
}

#[tokio::test]
async fn a_refresh_token_presented_as_an_access_token_is_refused_with_401() {
    let server = Reference::start().await;
    let pair = login(&server.http).await;

    server
        .http
        .assert_invalid("a genuine refresh token", &pair.refresh)
        .await;
    // Refresh claims relabelled as an access token, signed by the refresh
    // key: the access key set does not hold it.
    let header = json!({"alg": "HS256", "typ": "at+jwt", "kid": "refresh-1"});
    let relabelled = hs256(
        REFRESH_SECRET.as_bytes(),
        &header,
        &segment(&pair.refresh, 1),
    );
    server.http.assert_invalid("relabelled", &relabelled).await;
    server
        .http
        .assert_accepted("the access token", &pair.access)
        .await;
}

#[tokio::test]
async fn an_access_token_presented_as_a_refresh_token_is_refused_with_400() {
    let server = Reference::start().await;
    let pair = login(&server.http).await;

    assert_invalid_grant(
        "a genuine access token",
        &refresh(&server.http, &pair.access).await,
    );
    // Access claims under the refresh type, signed by the access key.
    let header = json!({"alg": "HS256", "typ": "rt+jwt", "kid": "access-1"});
    let relabelled = signed(&header, &segment(&pair.access, 1));
    assert_invalid_grant("relabelled", &refresh(&server.http, &relabelled).await);

    // The session is untouched: its refresh token still rotates.
    let (status, _) = refresh(&server.http, &pair.refresh).await;
    assert_eq!(status, StatusCode::OK);
    server.http.assert_alive().await;
}

#[tokio::test]
async fn an_access_token_for_another_issuer_is_refused_with_401() {
    let server = Reference::start().await;
    for iss in [
        "https://evil.example",
        "",
        "TOKENPAIR-REFERENCE",
        "tokenpair-reference ",
    ] {
        let token = signed(&access_header(), &with(access_claims(), "iss", json!(iss)));
        server.http.assert_invalid(iss, &token).await;
    }
    server.http.assert_alive().await;
}

#[tokio::test]
async fn an_access_token_for_another_audience_is_refused_with_401() {
    let server = Reference::start().await;
    for aud in [
        json!("another-api"),
        json!(""),
        json!("TOKENPAIR-API"),
        json!(["another-api"]),
        json!([]),
    ] {
        let token = signed(&access_header(), &with(access_claims(), "aud", aud.clone()));
        server.http.assert_invalid(&aud.to_string(), &token).await;
    }
    server.http.assert_alive().await;
}

#[tokio::test]
async fn a_refresh_token_for_another_issuer_is_refused_with_400() {
    let server = Reference::start().await;
    let pair = login(&server.http).await;
    let header = segment(&pair.refresh, 0);
    let claims = with(
        segment(&pair.refresh, 1),
        "iss",
        json!("https://evil.example"),
    );
    let forged = hs256(REFRESH_SECRET.as_bytes(), &header, &claims);

    assert_invalid_grant("another issuer", &refresh(&server.http, &forged).await);
    server.http.assert_alive().await;
}

// ---------------------------------------------------------------------------
// Replayed tokens

#[tokio::test]
async fn an_access_token_replayed_after_logout_is_refused_with_401() {
    let server = Reference::start().await;
    let pair = login(&server.http).await;
    server
        .http
        .assert_accepted("before logout", &pair.access)
        .await;

    assert_eq!(
        logout(&server.http, &pair.access).await,
        StatusCode::NO_CONTENT
    );

    assert_revoked(&server.http, "after logout", &pair.access).await;
    server.http.assert_alive().await;
}

#[tokio::test]
async fn a_refresh_token_replayed_after_logout_is_refused_with_400() {
    let server = Reference::start().await;
    let pair = login(&server.http).await;

    assert_eq!(
        logout(&server.http, &pair.access).await,
        StatusCode::NO_CONTENT
    );

    assert_invalid_grant("after logout", &refresh(&server.http, &pair.refresh).await);
    server.http.assert_alive().await;
}

#[tokio::test]
async fn a_rotated_refresh_token_replayed_after_the_grace_window_revokes_the_session() {
    let server = Reference::start().await;
    let first = login(&server.http).await;
    let (status, body) = refresh(&server.http, &first.refresh).await;
    assert_eq!(status, StatusCode::OK);
    let second = Pair::from_json(&body);

    server.clock.advance(Duration::from_secs(GRACE + 1));
    let replay = refresh(&server.http, &first.refresh).await;

    assert_invalid_grant("the rotated token after the window", &replay);
    assert_session_revoked(
        &server.http,
        &second.refresh,
        &[&first.access, &second.access],
    )
    .await;
    server.http.assert_alive().await;
}

#[tokio::test]
async fn a_rotated_refresh_token_replayed_inside_the_grace_window_gets_the_same_pair() {
    let server = Reference::start().await;
    let first = login(&server.http).await;
    let (_, rotated) = refresh(&server.http, &first.refresh).await;

    server.clock.advance(Duration::from_secs(GRACE - 1));
    let (status, replayed) = refresh(&server.http, &first.refresh).await;

    // The racing tab's answer: the very pair the first refresh got, no
    // third token.
    assert_eq!(status, StatusCode::OK);
    assert_eq!(replayed, rotated);
    let (status, _) = refresh(&server.http, &Pair::from_json(&rotated).refresh).await;
    assert_eq!(status, StatusCode::OK, "the newest token is still current");
    server.http.assert_alive().await;
}

#[tokio::test]
async fn the_second_to_last_refresh_token_inside_the_grace_window_revokes_the_session() {
    let server = Reference::start().await;
    let first = login(&server.http).await;
    let (_, body) = refresh(&server.http, &first.refresh).await;
    let second = Pair::from_json(&body);
    let (_, body) = refresh(&server.http, &second.refresh).await;
    let third = Pair::from_json(&body);

    // Still inside the window of both rotations, which happened this very
    // second: only the token just replaced may be replayed, not an older one.
    let replay = refresh(&server.http, &first.refresh).await;

    assert_invalid_grant("the second-to-last token", &replay);
    assert_session_revoked(
        &server.http,
        &third.refresh,
        &[&first.access, &second.access, &third.access],
    )
    .await;
    server.http.assert_alive().await;
}

// ---------------------------------------------------------------------------
// Cross-site requests and oversized input

#[tokio::test]
async fn a_cross_site_refresh_riding_on_the_cookie_is_refused_with_403() {
    let server = Reference::start().await;
    let pair = login(&server.http).await;
    let cookie = format!("refresh_token={}", pair.refresh);

    for (header, value) in [
        ("origin", "https://evil.example"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let response = server
            .http
            .client()
            .post(server.http.url("/api/refresh"))
            .header("cookie", &cookie)
            .header(header, value)
            .send()
            .await
            .expect("the refresh answered");
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{header}: {value}"
        );
    }
    // The forged requests did not spend the token.
    let (status, _) = refresh(&server.http, &pair.refresh).await;
    assert_eq!(status, StatusCode::OK);
    server.http.assert_alive().await;
}

#[tokio::test]
async fn a_huge_refresh_body_is_refused_with_413() {
    let server = Reference::start().await;
    let huge = json!({ "refreshToken": "x".repeat(64 * 1024) });

    let response = server
        .http
        .client()
        .post(server.http.url("/api/refresh"))
        .json(&huge)
        .send()
        .await
        .expect("the refresh answered");

    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    server.http.assert_alive().await;
}

#[tokio::test]
async fn a_huge_authorization_header_is_refused_with_431() {
    let server = Reference::start().await;
    let huge = format!("Bearer {}", "A".repeat(512 * 1024));

    let response = server
        .http
        .client()
        .get(server.http.url("/api/me"))
        .header("authorization", huge)
        .send()
        .await
        .expect("the server answered");

    assert_eq!(
        response.status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    server.http.assert_alive().await;
}

// ---------------------------------------------------------------------------
// Weak secrets

/// A configuration with these secrets, and otherwise the defaults.
fn config_with(access: &str, refresh: &str) -> Result<Config, ConfigError> {
    let (access, refresh) = (access.to_owned(), refresh.to_owned());
    Config::from_lookup(move |name| match name {
        "ACCESS_SECRET" => Some(access.clone()),
        "REFRESH_SECRET" => Some(refresh.clone()),
        _ => None,
    })
}

/// The weak secrets every server must refuse, with what makes each weak.
fn weak_secrets() -> Vec<(&'static str, String)> {
    vec![
        ("the word secret", "secret".to_owned()),
        ("31 bytes", "0123456789abcdefghijklmnopqrstu".to_owned()),
        ("one byte repeated", "a".repeat(64)),
        ("empty", String::new()),
        ("two bytes alternating", "ab".repeat(32)),
    ]
}

#[tokio::test]
async fn the_server_refuses_to_start_with_a_weak_or_short_hmac_secret() {
    assert_eq!(weak_secrets()[1].1.len(), 31);
    for (what, weak) in weak_secrets() {
        for (access, refresh) in [
            (weak.as_str(), REFRESH_SECRET),
            (ACCESS_SECRET, weak.as_str()),
        ] {
            let config = config_with(access, refresh).expect("secrets are not checked here");
            let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(START));
            let store: Arc<dyn SessionStore> =
                Arc::new(MemoryStore::with_clock(Arc::clone(&clock)));

            let refused = Server::with_store(&config, clock, store).expect_err(what);
            assert!(
                matches!(refused, ConfigError::Key(_)),
                "{what}: {refused:?}"
            );
            let message = refused.to_string();
            assert!(message.contains("HS256 secret"), "{what}: {message}");
            // The message names the key and the rule, never the secret.
            assert!(!message.contains(&format!("`{weak}`")), "{what}: {message}");
            if weak.len() >= 8 {
                assert!(!message.contains(&weak), "{what}: {message}");
            }

            let refused = Server::new(&config).await.expect_err(what);
            assert!(
                matches!(refused, ConfigError::Key(_)),
                "{what}: {refused:?}"
            );
        }
    }
}

/// The reference server's binary, built if it is not there yet. `cargo
/// test` builds the examples before it runs the tests, so the binary is
/// normally there and current; it is only built here when a single test
/// file was built (`cargo test --test attacks`) in a fresh target folder.
fn server_binary() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("target"));
    let binary = target
        .join("debug")
        .join("examples")
        .join(format!("server{}", std::env::consts::EXE_SUFFIX));
    if !binary.exists() {
        let built = Command::new(env!("CARGO"))
            .args(["build", "--example", "server"])
            .current_dir(manifest)
            .status()
            .expect("cargo runs");
        assert!(built.success(), "cargo build --example server failed");
    }
    binary
}

#[test]
fn the_server_binary_exits_at_once_with_a_clear_message_on_a_weak_secret() {
    let binary = server_binary();
    let strong_refresh = "a refresh secret that is strong enough, 0123456789";

    let started = Instant::now();
    let mut child = Command::new(&binary)
        .env_clear()
        .env("ACCESS_SECRET", "secret")
        .env("REFRESH_SECRET", strong_refresh)
        .env("ADDR", "127.0.0.1:0")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server binary starts");
    // It must stop by itself; a server that started would run for ever.
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child's status") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("the server started with ACCESS_SECRET=secret");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = child.wait_with_output().expect("the child's output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert!(!status.success(), "exit status {status}");
    assert!(
        stderr.contains("HS256 secret for key `access-1`") && stderr.contains("32 bytes"),
        "no clear message on stderr: {stderr:?} (stdout: {stdout:?})"
    );
    for secret in ["secret\n", "\"secret\"", "`secret`", strong_refresh] {
        assert!(!stderr.contains(secret), "{stderr:?}");
        assert!(!stdout.contains(secret), "{stdout:?}");
    }
}
