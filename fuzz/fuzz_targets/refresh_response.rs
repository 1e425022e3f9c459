//! The client's reading of login and refresh responses: `Tokens::from_json`
//! on arbitrary bodies, and the middleware taking in the tokens it yields,
//! which reads the access token's `exp` and `iat` without verifying them.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use refresh_client::{RefreshMiddleware, Tokens};
use serde_json::Value;

mod common;
use common::b64;

static MIDDLEWARE: LazyLock<RefreshMiddleware> = LazyLock::new(|| {
    RefreshMiddleware::builder("http://127.0.0.1:9/api/refresh")
        .unwrap()
        .build()
});

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let tokens = if mode % 2 == 0 {
        // A whole response body.
        let Some(tokens) = Tokens::from_json(rest) else {
            return;
        };
        let body: Value = serde_json::from_slice(rest).expect("a body that was read is JSON");
        let access = body.get("accessToken").or_else(|| body.get("access_token"));
        assert_eq!(access.and_then(Value::as_str), Some(tokens.access.as_str()));
        tokens
    } else {
        // A response whose access token carries the input as its payload.
        let access = format!("eyJhbGciOiJIUzI1NiJ9.{}.c2lnbmF0dXJl", b64(rest));
        let body = serde_json::json!({"accessToken": access, "refreshToken": "r"});
        Tokens::from_json(body.to_string().as_bytes()).expect("a well-formed response")
    };

    // Debug never shows a token.
    let placeholder = Tokens {
        access: String::new(),
        refresh: tokens.refresh.as_ref().map(|_| String::new()),
    };
    assert_eq!(format!("{tokens:?}"), format!("{placeholder:?}"));

    MIDDLEWARE.set_tokens(tokens.clone());
    assert_eq!(MIDDLEWARE.tokens(), Some(tokens));
});
