//! Hostile and broken input against the auth layer, over real HTTP.
//!
//! Every server here listens on 127.0.0.1 on a free port; every request has
//! a timeout and is checked never to draw a 5xx; after every hostile
//! request the server must still answer `/healthz`. Forged tokens are
//! signed with the real key wherever that matters, so that each test proves
//! the check it names rather than the signature check. Time comes from a
//! `ManualClock` only.

mod support;

use std::io::ErrorKind;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use auth_layer::{Algorithm, Key, KeySet, ManualClock, NoClaims, TokenConfig, TokenIssuer};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use support::*;

const ED25519_PEM: &str = include_str!("../auth-layer/tests/keys/ed25519.pem");
const ED25519_PUB_PEM: &str = include_str!("../auth-layer/tests/keys/ed25519.pub.pem");
const ES256_PEM: &str = include_str!("../auth-layer/tests/keys/es256.pem");
const ES256_PUB_PEM: &str = include_str!("../auth-layer/tests/keys/es256.pub.pem");
const RS256_PEM: &str = include_str!("../auth-layer/tests/keys/rs256.pem");
const RS256_PUB_PEM: &str = include_str!("../auth-layer/tests/keys/rs256.pub.pem");

/// The asymmetric algorithms, each with its key id, private and public PEM.
const ASYMMETRIC: [(Algorithm, &str, &str, &str); 3] = [
    (Algorithm::RS256, "rs-1", RS256_PEM, RS256_PUB_PEM),
    (Algorithm::ES256, "es-1", ES256_PEM, ES256_PUB_PEM),
    (Algorithm::EdDSA, "ed-1", ED25519_PEM, ED25519_PUB_PEM),
];

/// A server that verifies `alg` tokens with the public key alone.
async fn asymmetric_server(alg: Algorithm) -> AsymmetricServer {
    let (_, kid, private, public) = ASYMMETRIC
        .into_iter()
        .find(|(a, ..)| *a == alg)
        .expect("a test key for the algorithm");
    AsymmetricServer::start(
        Key::from_pem(kid, alg, public).expect("the public test key"),
        Key::from_pem(kid, alg, private).expect("the private test key"),
    )
    .await
}

/// An issuer with the reference server's configuration whose access tokens
/// are signed by `access` instead of the reference server's key.
fn issuer_signing_with(access: Key) -> TokenIssuer {
    TokenIssuer::with_clock(
        KeySet::new(access).expect("a signing key set"),
        KeySet::new(Key::hs256("refresh-1", REFRESH_SECRET).expect("a refresh key"))
            .expect("a refresh key set"),
        TokenConfig::new(ISSUER, AUDIENCE),
        Arc::new(ManualClock::new(START)),
    )
    .expect("an issuer")
}

fn access_token_of(issuer: &TokenIssuer) -> String {
    issuer
        .issue_pair("demo", "session-1", &NoClaims {})
        .expect("a token pair")
        .access_token()
        .to_owned()
}

#[tokio::test]
async fn a_good_token_from_login_reaches_the_handler() {
    let server = Reference::start().await;
    let login = server
        .http
        .client()
        .post(server.http.url("/api/login"))
        .json(&json!({"username": "demo", "password": "demo-password"}))
        .send()
        .await
        .expect("the login answers");
    assert_eq!(login.status(), reqwest::StatusCode::OK);
    let pair: Value = login.json().await.expect("the pair JSON");
    assert_eq!(pair["tokenType"], "Bearer");
    assert_eq!(pair["expiresIn"], ACCESS_TTL);
    let token = pair["accessToken"].as_str().expect("an access token");
    let sid = segment(token, 1)["sid"].clone();
    assert!(sid.as_str().is_some_and(|s| !s.is_empty()), "sid: {sid}");

    let body = server
        .http
        .assert_accepted("the login's token", token)
        .await;
    assert_eq!(body, json!({"userId": "demo", "sessionId": sid}));

    // The forging helpers make tokens the server accepts when nothing is
    // wrong with them, so the refusals elsewhere are down to what is.
    let forged = signed(&access_header(), &access_claims());
    let body = server
        .http
        .assert_accepted("a well-forged token", &forged)
        .await;
    assert_eq!(body, json!({"userId": "demo", "sessionId": "session-1"}));
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let server = Reference::start().await;
    let token = server.good_token();
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let header = format!("{scheme} {token}");
        server
            .http
            .me_with(&[header.as_bytes()])
            .await
            .assert_ok(scheme);
    }
}

#[tokio::test]
async fn a_request_without_bearer_credentials_is_asked_for_a_token() {
    let server = Reference::start().await;
    server.http.me_with(&[]).await.assert_missing("no header");
    server.http.assert_alive().await;

    let token = server.good_token();
    let basic = format!("Basic {}", STANDARD.encode("demo:demo-password"));
    let others = [
        basic,
        format!("Token {token}"),
        format!("Bearerx {token}"),
        format!("Digest username=\"demo\", token=\"{token}\""),
        token.clone(),
    ];
    for header in &others {
        server
            .http
            .me_with(&[header.as_bytes()])
            .await
            .assert_missing(header);
        server.http.assert_alive().await;
    }
}

#[tokio::test]
async fn an_empty_bearer_token_is_a_malformed_request() {
    let server = Reference::start().await;
    for header in ["Bearer", "Bearer ", "Bearer      ", "bearer\t"] {
        server
            .http
            .me_with(&[header.as_bytes()])
            .await
            .assert_invalid_request(&format!("{header:?}"));
        server.http.assert_alive().await;
    }
}

#[tokio::test]
async fn two_or_more_authorization_headers_are_a_malformed_request() {
    let server = Reference::start().await;
    let good = format!("Bearer {}", server.good_token());
    let cases: [&[&[u8]]; 3] = [
        &[good.as_bytes(), good.as_bytes()],
        &[good.as_bytes(), b"Basic ZGVtbzpkZW1vLXBhc3N3b3Jk"],
        &[b"Bearer a.b.c", good.as_bytes(), good.as_bytes()],
    ];
    for headers in cases {
        server
            .http
            .me_with(headers)
            .await
            .assert_invalid_request(&format!("{} headers", headers.len()));
        server.http.assert_alive().await;
    }
}

#[tokio::test]
async fn a_token_with_an_inner_space_is_a_malformed_request() {
    let server = Reference::start().await;
    let token = server.good_token();
    let (input, signature) = token.rsplit_once('.').expect("three segments");
    for header in [
        format!("Bearer {input}. {signature}"),
        format!("Bearer {token} {token}"),
        format!("Bearer {token} x"),
        "Bearer a b".to_owned(),
    ] {
        server
            .http
            .me_with(&[header.as_bytes()])
            .await
            .assert_invalid_request(&header);
        server.http.assert_alive().await;
    }
}

#[tokio::test]
async fn bytes_outside_the_b64token_syntax_are_an_invalid_token() {
    let server = Reference::start().await;
    let token = server.good_token();
    let (head, tail) = token.split_at(10);
    let mut cases: Vec<Vec<u8>> = vec![
        b"Bearer \xff\xfe\xfd".to_vec(),
        b"Bearer \xc3\x28".to_vec(),
        [
            b"Bearer ".as_slice(),
            head.as_bytes(),
            b"\xe9",
            tail.as_bytes(),
        ]
        .concat(),
        [b"Bearer ".as_slice(), token.as_bytes(), b"\x80"].concat(),
    ];
    for text in [
        format!("\"{token}\""),
        format!("{head}\"{tail}"),
        format!("{head}'{tail}"),
        format!("{token},"),
        format!("{token};"),
        format!("{head}%2E{tail}"),
        "====".to_owned(),
        "=abc".to_owned(),
    ] {
        cases.push(format!("Bearer {text}").into_bytes());
    }
    for header in &cases {
        server
            .http
            .me_with(&[header])
            .await
            .assert_invalid_token(&String::from_utf8_lossy(header));
        server.http.assert_alive().await;
    }
}

#[tokio::test]
async fn tokens_without_exactly_three_segments_are_refused() {
    let server = Reference::start().await;
    let token = server.good_token();
    let (input, _) = token.rsplit_once('.').expect("three segments");
    let cases = [
        "abc".to_owned(),
        "a.b".to_owned(),
        "a.b.c.d".to_owned(),
        ".".to_owned(),
        "..".to_owned(),
        "...".to_owned(),
        input.to_owned(),
        format!("{input}."),
        format!("{token}."),
        format!("{token}.{token}"),
        format!("{token}.e30"),
        format!(".{token}"),
        token.replacen('.', "..", 1),
    ];
    for case in &cases {
        server.http.assert_invalid(case, case).await;
    }
    server.http.assert_accepted("the good token", &token).await;
}

#[tokio::test]
async fn segments_that_are_not_canonical_base64url_are_refused() {
    let server = Reference::start().await;
    let token = server.good_token();
    let parts: Vec<&str> = token.split('.').collect();
    let replace = |index: usize, segment: String| {
        let mut parts: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
        parts[index] = segment;
        parts.join(".")
    };

    let mut cases = Vec::new();
    for (index, part) in parts.iter().enumerate() {
        // The standard alphabet's `+` and `/` are b64token characters but
        // not base64url ones.
        cases.push(replace(index, format!("{}+/{}", &part[..4], &part[4..])));
        cases.push(replace(index, format!("{part}~")));
        // One character too many: a segment that no longer decodes, or
        // decodes to other bytes.
        cases.push(replace(index, format!("{part}A")));
    }
    // Padding, which JWS leaves out.
    cases.push(format!("{token}="));
    cases.push(format!("{token}=="));
    cases.push(replace(0, format!("{}==", parts[0])));
    // The last character of the signature carries two unused bits; a
    // token with those bits set is another spelling of the same signature
    // and must not verify.
    let signature = parts[2];
    let last = signature.chars().last().expect("a signature");
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let value = alphabet.find(last).expect("a base64url character");
    assert_eq!(value & 0b11, 0, "a 32-byte signature leaves 2 zero bits");
    let sloppy = alphabet.as_bytes()[value | 0b01] as char;
    cases.push(replace(
        2,
        format!("{}{sloppy}", &signature[..signature.len() - 1]),
    ));

    for case in &cases {
        server.http.assert_invalid(case, case).await;
    }
    server.http.assert_accepted("the good token", &token).await;
}

#[tokio::test]
async fn a_header_that_is_not_a_json_object_is_refused() {
    let server = Reference::start().await;
    let claims = to_json(&access_claims());
    let headers: [&[u8]; 12] = [
        br#"["HS256","at+jwt","access-1",null]"#,
        br#"["HS256","at+jwt","access-1"]"#,
        b"[]",
        b"42",
        br#""HS256""#,
        b"null",
        b"true",
        b"{",
        br#"{"alg":"HS256","typ":"at+jwt","kid":"access-1""#,
        br#"{"alg":"HS256","typ":"at+jwt","kid":"access-1"}garbage"#,
        b"",
        b"\xff{\"alg\":\"HS256\"}",
    ];
    for header in headers {
        let token = hs256_raw(ACCESS_SECRET.as_bytes(), header, &claims);
        server
            .http
            .assert_invalid(&String::from_utf8_lossy(header), &token)
            .await;
    }
    let good = hs256_raw(
        ACCESS_SECRET.as_bytes(),
        &to_json(&access_header()),
        &claims,
    );
    server
        .http
        .assert_accepted("the object header", &good)
        .await;
}

#[tokio::test]
async fn a_payload_that_is_not_a_json_object_is_refused() {
    let server = Reference::start().await;
    let header = to_json(&access_header());
    // The claims in the order the claim struct declares them, as an array.
    let as_array = json!([
        ISSUER,
        AUDIENCE,
        "demo",
        START,
        START + ACCESS_TTL,
        null,
        "jti-1",
        "session-1"
    ]);
    let object = to_json(&access_claims());
    let mut trailing = object.clone();
    trailing.extend_from_slice(b"garbage");
    let payloads: Vec<Vec<u8>> = vec![
        to_json(&as_array),
        b"[]".to_vec(),
        b"42".to_vec(),
        br#""demo""#.to_vec(),
        b"null".to_vec(),
        b"true".to_vec(),
        b"{".to_vec(),
        object[..object.len() - 1].to_vec(),
        trailing,
        b"".to_vec(),
        [b"\xff".as_slice(), &object].concat(),
    ];
    for payload in &payloads {
        let token = hs256_raw(ACCESS_SECRET.as_bytes(), &header, payload);
        server
            .http
            .assert_invalid(&String::from_utf8_lossy(payload), &token)
            .await;
    }
    let good = hs256_raw(ACCESS_SECRET.as_bytes(), &header, &object);
    server
        .http
        .assert_accepted("the object payload", &good)
        .await;
}

#[tokio::test]
async fn a_64_kib_token_is_refused_and_the_server_keeps_answering() {
    let server = Reference::start().await;
    let junk = format!(
        "{}.{}.{}",
        "a".repeat(21 * 1024),
        "b".repeat(22 * 1024),
        "c".repeat(21 * 1024)
    );
    assert_eq!(junk.len(), 64 * 1024 + 2);
    server.http.assert_invalid("64 KiB of junk", &junk).await;

    // Genuinely signed, good claims, and a 64 KiB claim of its own.
    let big = signed(
        &access_header(),
        &with(access_claims(), "pad", json!("x".repeat(48 * 1024))),
    );
    assert!(big.len() >= 64 * 1024, "{}", big.len());
    server.http.assert_invalid("64 KiB, signed", &big).await;

    server
        .http
        .assert_accepted("a good token afterwards", &server.good_token())
        .await;
}

#[tokio::test]
async fn a_token_over_8_kib_is_refused_and_one_within_8_kib_is_accepted() {
    const LIMIT: usize = 8 * 1024;
    let server = Reference::start().await;
    let padded = |len: usize| {
        signed(
            &access_header(),
            &with(access_claims(), "pad", json!("x".repeat(len))),
        )
    };
    // The longest padded token within the limit and the shortest beyond.
    let mut pad = 0;
    while padded(pad + 1).len() <= LIMIT {
        pad += 1;
    }
    let within = padded(pad);
    let over = padded(pad + 1);
    assert!(within.len() <= LIMIT && within.len() > LIMIT - 4);
    assert!(over.len() > LIMIT);

    server
        .http
        .assert_accepted(&format!("{} bytes", within.len()), &within)
        .await;
    server
        .http
        .assert_invalid(&format!("{} bytes", over.len()), &over)
        .await;
    server
        .http
        .assert_accepted("a good token afterwards", &within)
        .await;
}

#[tokio::test]
async fn alg_none_in_any_casing_is_refused() {
    let server = Reference::start().await;
    let claims = access_claims();
    for alg in ["none", "None", "NONE", "nOnE"] {
        let headers = [
            json!({"alg": alg, "typ": "at+jwt", "kid": "access-1"}),
            json!({"alg": alg, "typ": "at+jwt"}),
            json!({"alg": alg}),
        ];
        for header in &headers {
            let unsigned = jws(&to_json(header), &to_json(&claims), |_| Vec::new());
            assert!(unsigned.ends_with('.'));
            server
                .http
                .assert_invalid(&format!("{header}, unsigned"), &unsigned)
                .await;

            // With a genuine HMAC signature: only the `alg` check stops it.
            let hmac = signed(header, &claims);
            server
                .http
                .assert_invalid(&format!("{header}, HMAC"), &hmac)
                .await;

            let junk = jws(&to_json(header), &to_json(&claims), |_| vec![0; 32]);
            server
                .http
                .assert_invalid(&format!("{header}, zeros"), &junk)
                .await;
        }
    }
}

#[tokio::test]
async fn other_algorithm_names_for_the_hs256_key_are_refused() {
    let server = Reference::start().await;
    for alg in [
        "hs256", "HS384", "HS512", "RS256", "ES256", "EdDSA", "", " HS256",
    ] {
        let header = with(access_header(), "alg", json!(alg));
        server
            .http
            .assert_invalid(alg, &signed(&header, &access_claims()))
            .await;
    }
    for alg in [json!(null), json!(256), json!(["HS256"])] {
        let header = with(access_header(), "alg", alg.clone());
        server
            .http
            .assert_invalid(&alg.to_string(), &signed(&header, &access_claims()))
            .await;
    }
    let mut header = access_header();
    header.as_object_mut().expect("an object").remove("alg");
    server
        .http
        .assert_invalid("no alg", &signed(&header, &access_claims()))
        .await;
}

#[tokio::test]
async fn an_hs256_token_keyed_with_a_public_key_is_refused_by_an_asymmetric_server() {
    for (alg, kid, _, public_pem) in ASYMMETRIC {
        let server = asymmetric_server(alg).await;
        server
            .http
            .assert_accepted(&format!("{alg} control"), &server.good_token())
            .await;

        let der = pem_to_der(public_pem);
        let secrets: [&[u8]; 3] = [public_pem.as_bytes(), public_pem.trim().as_bytes(), &der];
        let claims = access_claims();
        for secret in secrets {
            for header_alg in ["HS256", alg.as_str()] {
                let header = json!({"alg": header_alg, "typ": "at+jwt", "kid": kid});
                let token = hs256(secret, &header, &claims);
                server
                    .http
                    .assert_invalid(
                        &format!(
                            "{alg} server, alg {header_alg}, {} byte secret",
                            secret.len()
                        ),
                        &token,
                    )
                    .await;
            }
        }
    }
}

#[tokio::test]
async fn asymmetric_tokens_are_refused_by_an_hs256_server() {
    let server = Reference::start().await;
    for (alg, _, private_pem, _) in ASYMMETRIC {
        // The reference server's kid, its issuer and audience, another
        // algorithm.
        let key = Key::from_pem("access-1", alg, private_pem).expect("the private test key");
        let token = access_token_of(&issuer_signing_with(key));
        assert_eq!(segment(&token, 0)["alg"], alg.as_str());
        server.http.assert_invalid(alg.as_str(), &token).await;

        // The same signature under a header that claims HS256.
        let (_, rest) = token.split_once('.').expect("three segments");
        let relabelled = format!("{}.{rest}", b64(to_json(&access_header())));
        server
            .http
            .assert_invalid(&format!("{alg} relabelled HS256"), &relabelled)
            .await;
    }
    server
        .http
        .assert_accepted("a good token", &server.good_token())
        .await;
}

#[tokio::test]
async fn an_unknown_kid_is_refused() {
    let server = Reference::start().await;
    let claims = access_claims();
    for kid in [
        json!("access-2"),
        json!("ACCESS-1"),
        json!("access-1 "),
        json!("access-1\u{0}"),
        json!(""),
        json!(null),
        json!(1),
        json!(["access-1"]),
        json!({"kid": "access-1"}),
    ] {
        let header = with(access_header(), "kid", kid.clone());
        server
            .http
            .assert_invalid(&kid.to_string(), &signed(&header, &claims))
            .await;
    }
    let mut header = access_header();
    header.as_object_mut().expect("an object").remove("kid");
    server
        .http
        .assert_invalid("no kid", &signed(&header, &claims))
        .await;

    // The refresh key's id, with a token genuinely signed by the refresh key.
    let header = with(access_header(), "kid", json!("refresh-1"));
    let token = hs256(REFRESH_SECRET.as_bytes(), &header, &claims);
    server.http.assert_invalid("the refresh kid", &token).await;
}

#[tokio::test]
async fn kids_with_path_or_quote_characters_are_refused() {
    let server = Reference::start().await;
    let long = "../".repeat(700);
    for kid in [
        "../../etc/passwd",
        "/etc/passwd",
        "..\\..\\windows\\win.ini",
        "\"",
        "access-1\"",
        "' OR 1=1 --",
        "access-1' OR '1'='1",
        "$(reboot)",
        "`reboot`",
        "access-1; rm -rf /",
        "%2e%2e%2fetc%2fpasswd",
        "\r\nX-Injected: 1",
        long.as_str(),
    ] {
        let header = with(access_header(), "kid", json!(kid));
        // The refusal is the fixed one, so it cannot echo the kid.
        server
            .http
            .assert_invalid(kid, &signed(&header, &access_claims()))
            .await;
    }
}

/// A listener that counts the connections made to it.
struct Tripwire {
    listener: TcpListener,
}

impl Tripwire {
    fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        Self { listener }
    }

    fn url(&self, path: &str) -> String {
        let addr = self.listener.local_addr().expect("the tripwire's address");
        format!("http://{addr}{path}")
    }

    /// Connections made so far: the kernel completes a handshake on its
    /// own, so every connection ever made waits in the accept queue.
    fn connections(&self) -> usize {
        let mut count = 0;
        loop {
            match self.listener.accept() {
                Ok(_) => count += 1,
                Err(err) if err.kind() == ErrorKind::WouldBlock => return count,
                Err(err) => panic!("accept failed: {err}"),
            }
        }
    }
}

#[tokio::test]
async fn jwk_jku_and_x5u_headers_are_refused_and_never_fetched() {
    let tripwire = Tripwire::new();
    let attacker = b"the attacker's own HS256 secret, 32+ bytes";
    let claims = access_claims();

    let server = Reference::start().await;
    let attacker_jwk = json!({"kty": "oct", "kid": "access-1", "k": b64(attacker)});
    let headers = [
        with(access_header(), "jku", json!(tripwire.url("/jwks.json"))),
        with(access_header(), "x5u", json!(tripwire.url("/cert.pem"))),
        with(access_header(), "jwk", attacker_jwk.clone()),
        with(
            with(access_header(), "kid", json!("attacker")),
            "jku",
            json!(tripwire.url("/jwks.json")),
        ),
        json!({
            "alg": "HS256", "typ": "at+jwt", "kid": "access-1",
            "jku": tripwire.url("/jwks.json"),
            "x5u": tripwire.url("/cert.pem"),
            "jwk": attacker_jwk,
        }),
    ];
    for header in &headers {
        let token = hs256(attacker, header, &claims);
        server
            .http
            .assert_invalid(&header.to_string(), &token)
            .await;
    }

    // An EdDSA server, handed the attacker's public key in `jwk` and URLs
    // for it in `jku` and `x5u`, with a genuine signature by that key.
    let server = asymmetric_server(Algorithm::EdDSA).await;
    let seed = [7; 32];
    let headers = [
        json!({"alg": "EdDSA", "typ": "at+jwt", "kid": "ed-1", "jwk": ed25519_jwk(seed, "ed-1")}),
        json!({"alg": "EdDSA", "typ": "at+jwt", "jwk": ed25519_jwk(seed, "attacker")}),
        json!({"alg": "EdDSA", "typ": "at+jwt", "kid": "ed-1", "jku": tripwire.url("/jwks")}),
        json!({"alg": "EdDSA", "typ": "at+jwt", "kid": "attacker", "jku": tripwire.url("/jwks")}),
        json!({"alg": "EdDSA", "typ": "at+jwt", "kid": "ed-1", "x5u": tripwire.url("/x509")}),
        json!({
            "alg": "EdDSA", "typ": "at+jwt", "kid": "ed-1",
            "jwk": ed25519_jwk(seed, "ed-1"),
            "jku": tripwire.url("/jwks"),
            "x5u": tripwire.url("/x509"),
            "x5c": [b64(b"not a certificate")],
        }),
    ];
    for header in &headers {
        let token = jws(&to_json(header), &to_json(&claims), |input| {
            ed25519_sign(seed, input)
        });
        server
            .http
            .assert_invalid(&header.to_string(), &token)
            .await;
    }
    // The same forgery with the server's own header is refused for its
    // signature alone, and the server's own token still passes.
    let plain = json!({"alg": "EdDSA", "typ": "at+jwt", "kid": "ed-1"});
    let token = jws(&to_json(&plain), &to_json(&claims), |input| {
        ed25519_sign(seed, input)
    });
    server
        .http
        .assert_invalid("the attacker's key", &token)
        .await;
    server
        .http
        .assert_accepted("EdDSA control", &server.good_token())
        .await;

    assert_eq!(tripwire.connections(), 0, "the server fetched a key");
    // The tripwire does see a connection when one is made.
    let _probe = TcpStream::connect(
        tripwire
            .listener
            .local_addr()
            .expect("the tripwire's address"),
    )
    .expect("a connection to the tripwire");
    assert_eq!(tripwire.connections(), 1);
}

#[tokio::test]
async fn an_es256_signature_with_r_and_s_zero_is_refused() {
    let server = asymmetric_server(Algorithm::ES256).await;
    server
        .http
        .assert_accepted("ES256 control", &server.good_token())
        .await;
    let header = json!({"alg": "ES256", "typ": "at+jwt", "kid": "es-1"});
    let zeros = jws(&to_json(&header), &to_json(&access_claims()), |_| {
        vec![0; 64]
    });
    server.http.assert_invalid("r = s = 0", &zeros).await;

    // The same with the server's own token, and as DER `SEQUENCE { 0, 0 }`.
    let good = server.good_token();
    let (input, _) = good.rsplit_once('.').expect("three segments");
    server
        .http
        .assert_invalid(
            "r = s = 0 on a real token",
            &format!("{input}.{}", b64([0; 64])),
        )
        .await;
    let der = [0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00];
    server
        .http
        .assert_invalid("DER zeros", &format!("{input}.{}", b64(der)))
        .await;
    // r = s = n, the order of P-256, which reduces to zero.
    let n = hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    server
        .http
        .assert_invalid(
            "r = s = n",
            &format!("{input}.{}", b64([n.clone(), n].concat())),
        )
        .await;
    server
        .http
        .assert_accepted("ES256 control again", &good)
        .await;
}

#[tokio::test]
async fn signatures_of_zeros_or_the_wrong_length_are_refused_by_every_asymmetric_server() {
    for (alg, ..) in ASYMMETRIC {
        let server = asymmetric_server(alg).await;
        let good = server.good_token();
        let (input, signature) = good.rsplit_once('.').expect("three segments");
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .expect("a base64url signature");
        let len = signature.len();
        let cases = [
            ("empty", Vec::new()),
            ("zeros", vec![0; len]),
            ("ones", vec![0xff; len]),
            ("one byte short", signature[..len - 1].to_vec()),
            ("one byte long", [signature.as_slice(), &[0]].concat()),
            ("doubled", signature.repeat(2)),
            ("600 bytes", vec![1; 600]),
        ];
        for (what, bytes) in cases {
            server
                .http
                .assert_invalid(
                    &format!("{alg}: {what}"),
                    &format!("{input}.{}", b64(bytes)),
                )
                .await;
        }
        server.http.assert_accepted(alg.as_str(), &good).await;
    }
}

#[tokio::test]
async fn exp_nbf_and_iat_are_checked_for_type_and_range() {
    enum Outcome {
        Accepted,
        Invalid,
        Expired,
    }
    use Outcome::*;

    let server = Reference::start().await;
    let cases = [
        ("exp", json!("9999999999"), Invalid),
        ("exp", json!("soon"), Invalid),
        ("exp", json!(-1), Expired),
        ("exp", json!(i64::MIN), Expired),
        ("exp", json!(i64::MAX), Accepted),
        ("exp", json!(u64::MAX), Invalid),
        ("exp", json!([START + ACCESS_TTL]), Invalid),
        ("exp", json!({"exp": START + ACCESS_TTL}), Invalid),
        ("nbf", json!("0"), Invalid),
        ("nbf", json!(-1), Accepted),
        ("nbf", json!(i64::MIN), Accepted),
        ("nbf", json!(i64::MAX), Invalid),
        ("nbf", json!(u64::MAX), Invalid),
        ("nbf", json!(START + 60), Invalid),
        // The leeway is 5 seconds.
        ("nbf", json!(START + 6), Invalid),
        ("nbf", json!(START + 5), Accepted),
        ("nbf", json!(START), Accepted),
        ("nbf", json!(null), Accepted),
        ("iat", json!(i64::MAX), Invalid),
        ("iat", json!(START + 60), Invalid),
        ("iat", json!(-1), Accepted),
        ("iat", json!("0"), Invalid),
    ];
    for (claim, value, outcome) in cases {
        let what = format!("{claim}: {value}");
        let token = signed(&access_header(), &with(access_claims(), claim, value));
        match outcome {
            Accepted => {
                server.http.assert_accepted(&what, &token).await;
            }
            Invalid => server.http.assert_invalid(&what, &token).await,
            Expired => server.http.assert_expired(&what, &token).await,
        }
    }
}

#[tokio::test]
async fn registered_claims_of_the_wrong_type_are_refused() {
    let server = Reference::start().await;
    let original = signed(&access_header(), &access_claims());
    server.http.assert_accepted("the original", &original).await;

    for claim in ["iss", "aud", "sub", "iat", "exp", "jti", "sid"] {
        for value in [json!(null), json!(true), json!(0)] {
            let claims = with(access_claims(), claim, value.clone());
            let what = format!("{claim}: {value}");

            // With the original signature, any change is a forgery.
            let tampered = with_payload(&original, &to_json(&claims));
            server
                .http
                .assert_invalid(&format!("{what}, original signature"), &tampered)
                .await;

            // Re-signed, the type check alone decides. `iat: 0` is a valid
            // time in the past, and `exp: 0` one that has long expired.
            let resigned = signed(&access_header(), &claims);
            let what = format!("{what}, re-signed");
            match (claim, &value) {
                ("iat", Value::Number(_)) => {
                    server.http.assert_accepted(&what, &resigned).await;
                }
                ("exp", Value::Number(_)) => server.http.assert_expired(&what, &resigned).await,
                _ => server.http.assert_invalid(&what, &resigned).await,
            }
        }

        // Left out altogether.
        let mut claims = access_claims();
        claims.as_object_mut().expect("an object").remove(claim);
        server
            .http
            .assert_invalid(&format!("no {claim}"), &signed(&access_header(), &claims))
            .await;
    }
}

#[tokio::test]
async fn a_claim_given_twice_is_refused() {
    let server = Reference::start().await;
    let header = to_json(&access_header());
    let good = String::from_utf8(to_json(&access_claims())).expect("UTF-8 JSON");
    let body = good.trim_end_matches('}');
    for extra in [
        format!(r#""exp":{}"#, i64::MAX),
        r#""sub":"admin""#.to_owned(),
        format!(r#""iss":"{ISSUER}""#),
        r#""aud":"another-api""#.to_owned(),
    ] {
        let payload = format!("{body},{extra}}}");
        let token = hs256_raw(ACCESS_SECRET.as_bytes(), &header, payload.as_bytes());
        server.http.assert_invalid(&payload, &token).await;
    }
    let claims = to_json(&access_claims());
    for header in [
        r#"{"alg":"HS256","typ":"at+jwt","kid":"access-1","alg":"none"}"#,
        r#"{"alg":"HS256","typ":"at+jwt","kid":"access-1","kid":"access-1"}"#,
        r#"{"alg":"HS256","typ":"rt+jwt","kid":"access-1","typ":"at+jwt"}"#,
    ] {
        let token = hs256_raw(ACCESS_SECRET.as_bytes(), header.as_bytes(), &claims);
        server.http.assert_invalid(header, &token).await;
    }
}

#[tokio::test]
async fn a_tampered_token_with_the_original_signature_is_refused() {
    let server = Reference::start().await;
    let original = server.good_token();
    server.http.assert_accepted("the original", &original).await;
    let claims = segment(&original, 1);

    let payloads = [
        with(claims.clone(), "sub", json!("admin")),
        with(claims.clone(), "exp", json!(i64::MAX)),
        with(claims.clone(), "sid", json!("another-session")),
        with(claims.clone(), "role", json!("admin")),
    ];
    for payload in &payloads {
        let token = with_payload(&original, &to_json(payload));
        server
            .http
            .assert_invalid(&payload.to_string(), &token)
            .await;
    }
    // The very same claims, written differently.
    let pretty = serde_json::to_vec_pretty(&claims).expect("JSON");
    server
        .http
        .assert_invalid("the same claims, pretty", &with_payload(&original, &pretty))
        .await;

    // A header changed under the original signature.
    let (_, rest) = original.split_once('.').expect("three segments");
    let header = with(access_header(), "extra", json!(1));
    let token = format!("{}.{rest}", b64(to_json(&header)));
    server.http.assert_invalid("a changed header", &token).await;

    // A signature from another token.
    let other = server.good_token();
    let (input, _) = original.rsplit_once('.').expect("three segments");
    let (_, signature) = other.rsplit_once('.').expect("three segments");
    server
        .http
        .assert_invalid("another token's signature", &format!("{input}.{signature}"))
        .await;
}

#[tokio::test]
async fn a_token_signed_by_another_key_with_the_same_kid_is_refused() {
    let server = Reference::start().await;
    let other_secret = b"another HS256 secret, not the server's one";
    let token = hs256(other_secret, &access_header(), &access_claims());
    server
        .http
        .assert_invalid("another HS256 secret", &token)
        .await;
    let issuer = issuer_signing_with(Key::hs256("access-1", other_secret).expect("a key"));
    let token = access_token_of(&issuer);
    server
        .http
        .assert_invalid("another HS256 issuer", &token)
        .await;

    for (alg, kid, ..) in ASYMMETRIC {
        let server = asymmetric_server(alg).await;
        server
            .http
            .assert_accepted(&format!("{alg} control"), &server.good_token())
            .await;
        // The server's own private key of another algorithm is as foreign
        // as any other key.
        let others = ASYMMETRIC
            .into_iter()
            .filter(|(a, ..)| *a != alg)
            .map(|(a, _, pem, _)| Key::from_pem(kid, a, pem).expect("a test key"));
        for key in others {
            let what = format!("{alg} server, {} key", key.algorithm());
            let token = access_token_of(&issuer_signing_with(key));
            server.http.assert_invalid(&what, &token).await;
        }
    }

    // For Ed25519, another key of the very same algorithm.
    let server = asymmetric_server(Algorithm::EdDSA).await;
    let key = Key::from_pem("ed-1", Algorithm::EdDSA, ed25519_pem([9; 32])).expect("a key");
    let token = access_token_of(&issuer_signing_with(key));
    assert_eq!(segment(&token, 0)["kid"], "ed-1");
    server
        .http
        .assert_invalid("another Ed25519 key", &token)
        .await;
}

#[tokio::test]
async fn an_expired_token_is_refused_as_expired() {
    let server = Reference::start().await;
    let token = server.good_token();
    let ttl = ACCESS_TTL as u64;

    // Within the 5-second leeway, the token still passes.
    server.clock.advance(Duration::from_secs(ttl + 4));
    server.http.assert_accepted("4 s after exp", &token).await;

    server.clock.advance(Duration::from_secs(2));
    server.http.assert_expired("6 s after exp", &token).await;
    server.clock.advance(Duration::from_secs(365 * 24 * 3600));
    server.http.assert_expired("a year after exp", &token).await;

    // An expired token with a broken signature is invalid, not expired.
    let (input, _) = token.rsplit_once('.').expect("three segments");
    server
        .http
        .assert_invalid("expired and forged", &format!("{input}.{}", b64([0; 32])))
        .await;
    // A token issued now is fine.
    server
        .http
        .assert_accepted("a fresh token", &server.good_token())
        .await;
}

#[tokio::test]
async fn a_token_for_another_issuer_or_audience_is_refused() {
    let server = Reference::start().await;
    let keys = || {
        (
            KeySet::new(Key::hs256("access-1", ACCESS_SECRET).expect("a key")).expect("a set"),
            KeySet::new(Key::hs256("refresh-1", REFRESH_SECRET).expect("a key")).expect("a set"),
        )
    };
    let clock = server.clock.clone();
    for (iss, aud) in [
        ("another-issuer", AUDIENCE),
        (ISSUER, "another-api"),
        ("another-issuer", "another-api"),
        ("", ""),
        ("TOKENPAIR-REFERENCE", AUDIENCE),
        (ISSUER, "tokenpair-api "),
    ] {
        let (access, refresh) = keys();
        let issuer = TokenIssuer::with_clock(
            access,
            refresh,
            TokenConfig::new(iss, aud),
            Arc::new(clock.clone()),
        )
        .expect("an issuer");
        let token = access_token_of(&issuer);
        server
            .http
            .assert_invalid(&format!("iss {iss:?}, aud {aud:?}"), &token)
            .await;
    }

    // Audience lists: one that names this API passes, others do not.
    for (aud, accepted) in [
        (json!(["another-api", AUDIENCE]), true),
        (json!([]), false),
        (json!(["another-api"]), false),
        (json!([null]), false),
        (json!([AUDIENCE, 1]), false),
    ] {
        let token = signed(&access_header(), &with(access_claims(), "aud", aud.clone()));
        let what = format!("aud {aud}");
        if accepted {
            server.http.assert_accepted(&what, &token).await;
        } else {
            server.http.assert_invalid(&what, &token).await;
        }
    }

    // A foreign token that has also expired is invalid, not expired: only
    // our own tokens are said to expire.
    let foreign = signed(
        &access_header(),
        &with(
            with(access_claims(), "iss", json!("another-issuer")),
            "exp",
            json!(1),
        ),
    );
    server
        .http
        .assert_invalid("foreign and expired", &foreign)
        .await;
}

#[tokio::test]
async fn a_refresh_token_is_refused_as_an_access_token() {
    let server = Reference::start().await;
    let pair = server
        .issuer
        .issue_pair("demo", "session-1", &NoClaims {})
        .expect("a pair");
    server
        .http
        .assert_invalid("the refresh token", pair.refresh_token())
        .await;
    server
        .http
        .assert_accepted("its access token", pair.access_token())
        .await;

    // A refresh token's claims and type, signed with the access key.
    let refresh_claims = segment(pair.refresh_token(), 1);
    let header = with(access_header(), "typ", json!("rt+jwt"));
    server
        .http
        .assert_invalid(
            "refresh claims, access key",
            &signed(&header, &refresh_claims),
        )
        .await;
    server
        .http
        .assert_invalid("access claims, rt+jwt", &signed(&header, &access_claims()))
        .await;
}

#[tokio::test]
async fn only_the_access_token_type_is_accepted() {
    let server = Reference::start().await;
    for (typ, accepted) in [
        (json!("at+jwt"), true),
        (json!("AT+JWT"), true),
        (json!("application/at+jwt"), true),
        (json!("JWT"), false),
        (json!("rt+jwt"), false),
        (json!("at+jwt "), false),
        (json!("application/"), false),
        (json!(""), false),
        (json!(null), false),
        (json!(["at+jwt"]), false),
    ] {
        let header = with(access_header(), "typ", typ.clone());
        let token = signed(&header, &access_claims());
        let what = format!("typ {typ}");
        if accepted {
            server.http.assert_accepted(&what, &token).await;
        } else {
            server.http.assert_invalid(&what, &token).await;
        }
    }
    let mut header = access_header();
    header.as_object_mut().expect("an object").remove("typ");
    server
        .http
        .assert_invalid("no typ", &signed(&header, &access_claims()))
        .await;
}

#[tokio::test]
async fn a_crit_header_is_refused() {
    let server = Reference::start().await;
    for crit in [json!(["exp"]), json!([]), json!("b64"), json!(null)] {
        let header = with(access_header(), "crit", crit.clone());
        server
            .http
            .assert_invalid(&format!("crit {crit}"), &signed(&header, &access_claims()))
            .await;
    }
}

/// Bytes from hexadecimal text.
fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hexadecimal"))
        .collect()
}
