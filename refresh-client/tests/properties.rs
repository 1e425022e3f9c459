//! Properties of the client's reading of login and refresh responses, on
//! generated bodies: `Tokens::from_json` never panics and reads exactly the
//! tokens the body names; the middleware takes in any tokens, whatever the
//! access token's unverified `exp` and `iat` say, without panicking; and
//! `Debug` never shows a token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use refresh_client::{RefreshMiddleware, Tokens};
use serde_json::{Value, json};

/// A middleware whose clock stands at a fixed time; nothing here sends a
/// request, so the refresh URL is never called.
fn middleware(now: i64) -> RefreshMiddleware {
    RefreshMiddleware::builder("http://127.0.0.1:9/api/refresh")
        .expect("an absolute URL")
        .clock(move || now)
        .build()
}

/// An unsigned JWT-shaped token whose payload is `payload`.
fn token_with_payload(payload: &[u8]) -> String {
    format!(
        "eyJhbGciOiJIUzI1NiJ9.{}.c2lnbmF0dXJl",
        URL_SAFE_NO_PAD.encode(payload)
    )
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map(any::<String>(), inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A response body: the names the client reads, each with any value or
/// absent, beside other fields.
fn response_body() -> impl Strategy<Value = Value> {
    let name = prop_oneof![
        Just("accessToken"),
        Just("access_token"),
        Just("refreshToken"),
        Just("refresh_token"),
        Just("tokenType"),
        Just("expiresIn"),
        Just("AccessToken"),
    ];
    let value = prop_oneof![3 => any::<String>().prop_map(Value::from), 1 => json_value()];
    proptest::collection::vec((name, value), 0..5).prop_map(|fields| {
        Value::Object(
            fields
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
        )
    })
}

/// The string a body holds under either of two names, as the client
/// should read it: `None` when neither or both are there, or when it is
/// not a string; `Some(None)` when it is absent, `null` or empty.
fn named(body: &Value, one: &str, other: &str) -> Option<Option<String>> {
    match (body.get(one), body.get(other)) {
        (Some(_), Some(_)) => None,
        (Some(value), None) | (None, Some(value)) => match value {
            Value::String(text) if text.is_empty() => Some(None),
            Value::String(text) => Some(Some(text.clone())),
            Value::Null => Some(None),
            _ => None,
        },
        (None, None) => Some(None),
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        // Failures are kept as named regression tests instead.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_bytes_are_read_or_refused_without_panicking(
        body in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let _ = Tokens::from_json(&body);
    }

    #[test]
    fn a_body_that_is_not_an_object_gives_no_tokens(body in json_value()) {
        prop_assume!(!body.is_object());
        let bytes = serde_json::to_vec(&body).expect("JSON");
        prop_assert!(Tokens::from_json(&bytes).is_none(), "{}", body);
    }

    #[test]
    fn the_tokens_read_are_exactly_the_ones_the_body_names(body in response_body()) {
        let bytes = serde_json::to_vec(&body).expect("JSON");
        let read = Tokens::from_json(&bytes);

        let access = named(&body, "accessToken", "access_token");
        let refresh = named(&body, "refreshToken", "refresh_token");
        match (access, refresh) {
            (Some(Some(access)), Some(refresh)) => {
                let read = read.expect("a body with an access token");
                prop_assert_eq!(read.access, access);
                prop_assert_eq!(read.refresh, refresh);
            }
            _ => prop_assert!(read.is_none(), "{body}"),
        }
    }

    #[test]
    fn the_middleware_takes_in_tokens_whatever_their_exp_and_iat(
        exp in prop_oneof![any::<i64>(), Just(i64::MAX), Just(i64::MIN)],
        iat in prop_oneof![any::<i64>(), Just(0), Just(-1), Just(i64::MIN)].prop_map(Some),
        now in 0i64..4_102_444_800,
    ) {
        let mut claims = json!({ "exp": exp });
        if let Some(iat) = iat {
            claims["iat"] = json!(iat);
        }
        let access = token_with_payload(claims.to_string().as_bytes());
        let body = json!({ "accessToken": access, "refreshToken": "r" }).to_string();

        let auth = middleware(now);
        prop_assert!(auth.set_tokens_from_json(body.as_bytes()));
        prop_assert_eq!(auth.tokens().map(|t| t.access), Some(access));
    }

    #[test]
    fn the_middleware_takes_in_tokens_whatever_their_payload(
        payload in proptest::collection::vec(any::<u8>(), 0..96),
    ) {
        let tokens = Tokens {
            access: token_with_payload(&payload),
            refresh: Some("r".to_owned()),
        };

        let auth = middleware(1_700_000_000);
        auth.set_tokens(tokens.clone());
        prop_assert_eq!(auth.tokens(), Some(tokens));
    }

    #[test]
    fn debug_output_never_shows_a_token(
        access in "tok-[A-Za-z0-9._-]{16,64}",
        refresh in proptest::option::of("[A-Za-z0-9._-]{1,64}"),
    ) {
        let tokens = Tokens { access: access.clone(), refresh: refresh.clone() };
        let placeholder = Tokens {
            access: String::new(),
            refresh: refresh.as_ref().map(|_| String::new()),
        };
        prop_assert_eq!(format!("{tokens:?}"), format!("{placeholder:?}"));

        let auth = middleware(1_700_000_000);
        auth.set_tokens(tokens);
        let debug = format!("{auth:?}");
        prop_assert!(!debug.contains(&access), "{}", debug);
    }
}

/// The crashing input the `refresh_response` fuzz target found, kept in
/// `fuzz/regressions/refresh_response/`: an access token whose unverified
/// `exp` lies so far past its `iat` that working out when to refresh ahead
/// of time overflowed.
#[test]
fn an_access_token_that_claims_to_live_for_ever_does_not_panic_the_middleware() {
    let crasher = include_bytes!("../../fuzz/regressions/refresh_response/exp-far-past-iat");
    let (_, payload) = crasher.split_first().expect("a mode byte and a payload");
    let access = token_with_payload(payload);

    let auth = middleware(1_700_000_000);
    auth.set_tokens(Tokens {
        access: access.clone(),
        refresh: Some("r".to_owned()),
    });

    assert_eq!(auth.tokens().map(|t| t.access), Some(access));
}

/// The second input the `refresh_response` fuzz target found, kept in
/// `fuzz/regressions/refresh_response/`: a JSON array of two strings, which
/// serde reads into the response's fields in order, so the client took an
/// empty access token from a body that names none.
#[test]
fn a_json_array_is_not_read_as_a_refresh_response() {
    let crasher = include_bytes!("../../fuzz/regressions/refresh_response/array-body");
    let (_, body) = crasher.split_first().expect("a mode byte and a body");

    assert!(Tokens::from_json(body).is_none());
    assert!(Tokens::from_json(br#"["access", "refresh"]"#).is_none());
}

/// The third: a body whose skipped field holds a byte that is not UTF-8.
/// Read as bytes, serde lets it pass in a field it ignores, so the client
/// took tokens from a body that is not JSON.
#[test]
fn a_body_that_is_not_utf8_is_not_read() {
    let crasher =
        include_bytes!("../../fuzz/regressions/refresh_response/not-utf8-in-an-ignored-field");
    let (_, body) = crasher.split_first().expect("a mode byte and a body");

    assert!(serde_json::from_slice::<Value>(body).is_err());
    assert!(Tokens::from_json(body).is_none());
}

/// The fourth: a number too large for any float, in a skipped field.
#[test]
fn a_body_with_a_number_out_of_range_is_not_read() {
    let crasher = include_bytes!(
        "../../fuzz/regressions/refresh_response/number-out-of-range-in-an-ignored-field"
    );
    let (_, body) = crasher.split_first().expect("a mode byte and a body");

    assert!(serde_json::from_slice::<Value>(body).is_err());
    assert!(Tokens::from_json(body).is_none());
}

#[test]
fn an_empty_access_token_is_no_access_token() {
    assert!(Tokens::from_json(br#"{"accessToken":"","refreshToken":"r"}"#).is_none());
    let tokens = Tokens::from_json(br#"{"accessToken":"a","refreshToken":""}"#).expect("tokens");
    assert_eq!(tokens.refresh, None);
}
