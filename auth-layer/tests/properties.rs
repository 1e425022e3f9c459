//! Properties of the parsers and verifiers on generated input: the layer
//! answers every `Authorization` header with 200, 400 or 401 and never
//! panics; nothing but a genuine token verifies; whatever is issued reads
//! back exactly; the fast claims reader and `serde_json` agree; the refresh
//! endpoint refuses every body and cookie that holds no genuine token.
//!
//! Case counts stay modest so that the whole suite stays fast; the fuzz
//! targets in `fuzz/` search the same inputs for far longer.

use std::convert::Infallible;
use std::sync::{Arc, LazyLock};

use auth_layer::session::{SessionConfig, Sessions};
use auth_layer::store::MemoryStore;
use auth_layer::{
    AccessClaims, AccessVerifier, AuthLayer, Key, KeySet, ManualClock, NoClaims, TokenConfig,
    TokenIssuer,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use http::header::{AUTHORIZATION, COOKIE};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::runtime::{Builder, Runtime};
use tower::{ServiceBuilder, ServiceExt, service_fn};

const ACCESS_SECRET: &str = "access secret of the property tests, 0123456789";
const REFRESH_SECRET: &str = "refresh secret of the property tests, 9876543210";
const ISSUER: &str = "https://auth.example.test";
const AUDIENCE: &str = "properties-api";
const NOW: i64 = 1_700_000_000;

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
});

/// An issuer whose clock stands at `NOW`.
fn issuer() -> TokenIssuer {
    let keys = |kid: &str, secret: &str| {
        KeySet::new(Key::hs256(kid, secret).expect("a key")).expect("a key set")
    };
    TokenIssuer::with_clock(
        keys("access-1", ACCESS_SECRET),
        keys("refresh-1", REFRESH_SECRET),
        TokenConfig::new(ISSUER, AUDIENCE),
        Arc::new(ManualClock::new(NOW)),
    )
    .expect("an issuer")
}

static ISSUER_AT_NOW: LazyLock<TokenIssuer> = LazyLock::new(issuer);

static GOOD: LazyLock<String> = LazyLock::new(|| {
    ISSUER_AT_NOW
        .issue_pair("alice", "session-1", &NoClaims {})
        .expect("a pair")
        .access_token()
        .to_owned()
});

fn verifier() -> AccessVerifier {
    ISSUER_AT_NOW.access_verifier()
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token over raw header and payload bytes with a genuine HS256
/// signature under the access secret.
fn signed_raw(header: &[u8], payload: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let mut mac = Hmac::<Sha256>::new_from_slice(ACCESS_SECRET.as_bytes()).expect("an HMAC key");
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(mac.finalize().into_bytes()))
}

const ACCESS_HEADER: &[u8] = br#"{"alg":"HS256","typ":"at+jwt","kid":"access-1"}"#;

/// Sends one request with these `Authorization` values through the layer
/// and returns the status.
fn status_through_the_layer(values: &[HeaderValue]) -> StatusCode {
    let service = ServiceBuilder::new()
        .layer(AuthLayer::new(verifier()))
        .service(service_fn(|_: Request<Full<Bytes>>| async {
            Ok::<_, Infallible>(Response::new(Full::<Bytes>::default()))
        }));
    let mut request = Request::new(Full::default());
    for value in values {
        request.headers_mut().append(AUTHORIZATION, value.clone());
    }
    RUNTIME.block_on(async move {
        let response = service
            .oneshot(request)
            .await
            .expect("an infallible service");
        response.status()
    })
}

/// Strings heavy in the characters that need escaping in JSON.
fn awkward_string() -> impl Strategy<Value = String> {
    let awkward_char = prop_oneof![
        4 => any::<char>(),
        1 => Just('"'),
        1 => Just('\\'),
        1 => proptest::char::range('\u{0}', '\u{1f}'),
        1 => Just('\u{7f}'),
        1 => Just('\u{2028}'),
        1 => Just('é'),
    ];
    proptest::collection::vec(awkward_char, 0..24).prop_map(String::from_iter)
}

/// Bytes that may form a header value, often starting with a bearer scheme.
fn header_value() -> impl Strategy<Value = HeaderValue> {
    let scheme = prop_oneof![
        Just(Vec::new()),
        Just(b"Bearer ".to_vec()),
        Just(b"bearer ".to_vec()),
        Just(b"BEARER".to_vec()),
        Just(b"Basic ".to_vec()),
    ];
    let rest = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        "[A-Za-z0-9._~+/=-]{0,64}".prop_map(String::into_bytes),
        "[ \t]{0,3}[A-Za-z0-9._ -]{0,40}[ \t=]{0,3}".prop_map(String::into_bytes),
    ];
    (scheme, rest).prop_filter_map("not a header value", |(scheme, rest)| {
        HeaderValue::from_bytes(&[scheme, rest].concat()).ok()
    })
}

/// A payload with each registered claim as a valid value, a value of the
/// wrong type, or absent, in JSON text written in several styles, with
/// sometimes a claim twice or a claim of the application's.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    let string_value = |good: &'static str| {
        prop_oneof![
            24 => Just(json!(good)),
            2 => awkward_string().prop_map(Value::from),
            1 => Just(Value::Null),
            1 => any::<i64>().prop_map(Value::from),
            1 => Just(json!([good])),
            1 => Just(json!(true)),
        ]
    };
    let time_value = |good: i64| {
        prop_oneof![
            24 => Just(json!(good)),
            1 => any::<i64>().prop_map(Value::from),
            1 => Just(json!(good as f64 + 0.5)),
            1 => Just(json!(good.to_string())),
            1 => Just(Value::Null),
            1 => Just(json!(u64::MAX)),
            3 => prop::sample::select(RAW_NUMBERS.to_vec()).prop_map(raw),
        ]
    };
    let claims = (
        string_value(ISSUER),
        prop_oneof![4 => string_value(AUDIENCE), 1 => Just(json!([AUDIENCE, "other"]))],
        string_value("alice"),
        time_value(NOW),
        time_value(NOW + 60),
        string_value("jti-1"),
        string_value("session-1"),
        prop_oneof![4 => Just(None), 1 => time_value(NOW).prop_map(Some)],
    );
    let style = (any::<bool>(), any::<bool>(), 0u8..4, any::<u8>());
    (claims, style).prop_map(
        |((iss, aud, sub, iat, exp, jti, sid, nbf), (spaced, escaped, extra, drop))| {
            let mut pairs: Vec<(&str, Value)> = vec![
                ("iss", iss),
                ("aud", aud),
                ("sub", sub),
                ("iat", iat),
                ("exp", exp),
                ("jti", jti),
                ("sid", sid),
            ];
            if let Some(nbf) = nbf {
                pairs.push(("nbf", nbf));
            }
            if drop < 16 {
                pairs.remove(usize::from(drop) % pairs.len());
            }
            match extra {
                1 => pairs.push(("role", json!("admin"))),
                2 => pairs.push(("sub", json!("mallory"))),
                _ => {}
            }
            let gap = if spaced { " " } else { "" };
            let fields: Vec<String> = pairs
                .iter()
                .map(|(name, value)| {
                    let name = if escaped && *name == "sub" {
                        r#""s\u0075b""#.to_owned()
                    } else {
                        format!("{name:?}")
                    };
                    format!("{name}{gap}:{gap}{value}")
                })
                .collect();
            let text = format!("{{{gap}{}{gap}}}", fields.join(&format!(",{gap}")));
            unquote_raw(text).into_bytes()
        },
    )
}

/// Number syntax that JSON values cannot hold: written into payloads as
/// it is, each must be refused as `serde_json` refuses it. (`-0`, which
/// the fast reader accepted, has its own test below.)
const RAW_NUMBERS: [&str; 6] = ["1e0", "1.0", "00", "+1", "-", "1_000"];

/// A placeholder that `unquote_raw` turns into `text` written bare.
fn raw(text: &'static str) -> Value {
    json!(format!("\u{1}{text}"))
}

fn unquote_raw(mut json: String) -> String {
    for text in RAW_NUMBERS {
        json = json.replace(&format!("\"\\u0001{text}\""), text);
    }
    json
}

/// The test's own reading of whether `claims` are valid at `NOW`.
fn valid_at_now(claims: &AccessClaims) -> bool {
    let leeway = 5;
    claims.iss() == ISSUER
        && claims.aud().any(|a| a == AUDIENCE)
        && claims.nbf().unwrap_or(i64::MIN).max(claims.iat()) <= NOW + leeway
        && NOW < claims.exp().saturating_add(leeway)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        // Failures are kept as named regression tests instead.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_layer_refuses_any_other_authorization_header_with_400_or_401(
        values in proptest::collection::vec(header_value(), 0..3),
    ) {
        let status = status_through_the_layer(&values);
        prop_assert!(
            [StatusCode::UNAUTHORIZED, StatusCode::BAD_REQUEST].contains(&status),
            "{status} for {values:?}"
        );
        if values.len() > 1 {
            prop_assert_eq!(status, StatusCode::BAD_REQUEST);
        }
    }

    #[test]
    fn a_genuine_token_passes_the_layer_whatever_the_scheme_case(
        scheme in "[bB][eE][aA][rR][eE][rR]",
        spaces in "[ ]{0,3}",
    ) {
        let value = HeaderValue::try_from(format!("{scheme} {}{spaces}", *GOOD))
            .expect("a header value");
        prop_assert_eq!(status_through_the_layer(&[value]), StatusCode::OK);
    }

    #[test]
    fn no_arbitrary_string_verifies(token in any::<String>()) {
        prop_assert!(verifier().verify(&token).is_err());
        prop_assert!(ISSUER_AT_NOW.verify_refresh(&token).is_err());
    }

    #[test]
    fn no_string_shaped_like_a_jwt_verifies(
        token in "[A-Za-z0-9_-]{0,80}\\.[A-Za-z0-9_-]{0,200}\\.[A-Za-z0-9_-]{0,90}",
    ) {
        prop_assert!(verifier().verify(&token).is_err());
    }

    #[test]
    fn what_is_issued_verifies_with_the_same_subject_and_session(
        sub in awkward_string(),
        sid in awkward_string(),
    ) {
        let pair = ISSUER_AT_NOW.issue_pair(&sub, &sid, &NoClaims {}).expect("a pair");

        let claims = verifier().verify(pair.access_token()).expect("the token just issued");
        prop_assert_eq!(claims.sub(), sub.as_str());
        prop_assert_eq!(claims.sid(), sid.as_str());
        prop_assert_eq!(claims.jti(), pair.access.jti());
        let refresh = ISSUER_AT_NOW.verify_refresh(pair.refresh_token()).expect("a refresh");
        prop_assert_eq!(&refresh.sub, &sub);
        prop_assert_eq!(&refresh.sid, &sid);
    }

    #[test]
    fn the_applications_claims_survive_issuing_and_verifying(
        name in awkward_string(),
        level in any::<i64>(),
    ) {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Extra {
            name: String,
            level: i64,
        }
        let extra = Extra { name, level };
        let pair = ISSUER_AT_NOW.issue_pair("alice", "s", &extra).expect("a pair");

        let claims = ISSUER_AT_NOW
            .access_verifier::<Extra>()
            .verify(pair.access_token())
            .expect("the token just issued");
        prop_assert_eq!(claims.extra, extra);
    }

    #[test]
    fn changing_any_one_byte_of_a_genuine_token_makes_it_fail(
        at in any::<prop::sample::Index>(),
        to in 0x21u8..0x7f,
    ) {
        let mut bytes = GOOD.clone().into_bytes();
        let at = at.index(bytes.len());
        prop_assume!(bytes[at] != to);
        bytes[at] = to;
        let token = String::from_utf8(bytes).expect("ASCII");

        prop_assert!(verifier().verify(&token).is_err(), "{token}");
    }

    #[test]
    fn dropping_or_adding_a_byte_makes_a_genuine_token_fail(
        at in any::<prop::sample::Index>(),
        extra in "[A-Za-z0-9_.=-]",
    ) {
        let at = at.index(GOOD.len());
        let shorter = format!("{}{}", &GOOD[..at], &GOOD[at + 1..]);
        let longer = format!("{}{extra}{}", &GOOD[..at], &GOOD[at..]);

        prop_assert!(verifier().verify(&shorter).is_err(), "{shorter}");
        prop_assert!(verifier().verify(&longer).is_err(), "{longer}");
    }

    #[test]
    fn the_token_kinds_never_stand_in_for_each_other(
        sub in awkward_string(),
        sid in awkward_string(),
    ) {
        let pair = ISSUER_AT_NOW.issue_pair(&sub, &sid, &NoClaims {}).expect("a pair");

        prop_assert!(verifier().verify(pair.refresh_token()).is_err());
        prop_assert!(ISSUER_AT_NOW.verify_refresh(pair.access_token()).is_err());
    }

    #[test]
    fn a_genuinely_signed_payload_is_read_as_serde_json_reads_it(payload in payload()) {
        let token = signed_raw(ACCESS_HEADER, &payload);
        let text = String::from_utf8_lossy(&payload);

        let verified = verifier().verify(&token);
        let full = serde_json::from_slice::<AccessClaims>(&payload);
        match (&verified, &full) {
            (Ok(claims), Ok(full)) => prop_assert_eq!(claims, full, "{}", text),
            (Ok(_), Err(err)) => {
                prop_assert!(false, "accepted what serde_json refuses ({err}): {text}")
            }
            (Err(_), Ok(full)) => {
                prop_assert!(!valid_at_now(full), "refused valid claims: {text}")
            }
            (Err(_), Err(_)) => {}
        }
    }

    #[test]
    fn the_refresh_endpoint_refuses_any_body_and_cookie_without_a_genuine_token(
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..128),
            awkward_string().prop_map(|t| json!({"refreshToken": t}).to_string().into_bytes()),
            any::<String>().prop_map(|t| format!("{{\"refresh_token\":{t:?}}}").into_bytes()),
        ],
        cookie in proptest::collection::vec(any::<u8>(), 0..96),
        cookie_token in "[A-Za-z0-9._-]{0,80}",
    ) {
        let sessions = Sessions::new(issuer(), MemoryStore::new(), SessionConfig::default());
        let mut request = Request::post("/api/refresh")
            .body(Full::new(Bytes::from(body)))
            .expect("a request");
        for value in [cookie, format!("refresh_token={cookie_token}").into_bytes()] {
            if let Ok(value) = HeaderValue::from_bytes(&value) {
                request.headers_mut().append(COOKIE, value);
            }
        }

        let (status, answer) = RUNTIME.block_on(async {
            let response = sessions.handle_refresh(request).await;
            let status = response.status();
            let body = response.into_body().collect().await.expect("a full body");
            (status, body.to_bytes())
        });

        prop_assert_eq!(status, StatusCode::BAD_REQUEST);
        let error: Value = serde_json::from_slice(&answer).expect("a JSON error");
        prop_assert_eq!(&error["error"], "invalid_grant");
    }
}

/// The crashing input the `flat_reader` fuzz target found, kept in
/// `fuzz/regressions/flat_reader/`: `-0` as a time. `serde_json` reads it as
/// the float `-0.0` and refuses it as an integer; the fast reader must not
/// accept what `serde_json` refuses, so a genuinely signed token that
/// writes a time as `-0` is refused like any other payload `serde_json`
/// cannot read.
#[test]
fn a_time_written_as_minus_zero_is_refused_as_serde_json_refuses_it() {
    let found = include_bytes!("../../fuzz/regressions/flat_reader/minus-zero-iat.json");
    assert!(serde_json::from_slice::<AccessClaims>(found).is_err());

    for (iat, nbf) in [("-0", None), (&*NOW.to_string(), Some("-0"))] {
        let nbf = nbf
            .map(|nbf| format!(r#","nbf":{nbf}"#))
            .unwrap_or_default();
        let exp = NOW + 60;
        let payload = format!(
            r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","sub":"alice","iat":{iat},"exp":{exp},"#
        ) + &format!(r#""jti":"j","sid":"s"{nbf}}}"#);
        assert!(
            serde_json::from_str::<AccessClaims>(&payload).is_err(),
            "{payload}"
        );

        let token = signed_raw(ACCESS_HEADER, payload.as_bytes());
        let verified = verifier().verify(&token);
        assert!(verified.is_err(), "{payload} was accepted: {verified:?}");
    }
}
