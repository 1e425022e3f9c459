//! The layer's `Authorization` header parser, on one or two header values
//! of arbitrary bytes.

#![no_main]

use auth_layer::fuzzing::{BearerOutcome, bearer};
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // A 0xff byte (never part of a valid header value) splits the input into
    // header values.
    let mut headers = HeaderMap::new();
    for part in data.split(|&b| b == 0xff).take(3) {
        let Ok(value) = HeaderValue::from_bytes(part) else {
            return;
        };
        headers.append(AUTHORIZATION, value);
    }
    let values: Vec<&[u8]> = headers
        .get_all(AUTHORIZATION)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();

    let outcome = bearer(&headers);
    match values.as_slice() {
        [] => assert_eq!(outcome, BearerOutcome::Missing),
        [_, _, ..] => assert_eq!(outcome, BearerOutcome::Malformed),
        [value] => check_one(value, &outcome),
    }
});

fn check_one(value: &[u8], outcome: &BearerOutcome<'_>) {
    let scheme = value.split(|&b| b == b' ').next().unwrap_or_default();
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        assert_eq!(*outcome, BearerOutcome::Missing);
        return;
    }
    if let BearerOutcome::Token(token) = outcome {
        assert!(!token.is_empty());
        let body = token.trim_end_matches('=');
        assert!(!body.is_empty(), "a token of padding only: {token:?}");
        assert!(body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        }));
        // The token is the credentials, trimmed, and nothing else.
        let credentials = &value[scheme.len() + 1..];
        assert_eq!(credentials.trim_ascii(), token.as_bytes());
    }
}
