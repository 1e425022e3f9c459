//! The refresh endpoint on arbitrary bodies, cookies and `Origin` headers,
//! with and without a genuine refresh token in the mix.

#![no_main]

use std::sync::LazyLock;

use auth_layer::NoClaims;
use auth_layer::session::{SessionConfig, Sessions};
use auth_layer::store::MemoryStore;
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use libfuzzer_sys::fuzz_target;
use tokio::runtime::{Builder, Runtime};

mod common;
use common::*;

static RUNTIME: LazyLock<Runtime> =
    LazyLock::new(|| Builder::new_current_thread().build().unwrap());

/// Where the genuine token goes, if anywhere.
#[derive(Clone, Copy)]
enum Genuine {
    Nowhere,
    InBody,
    InCookie,
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    // Input layout: flags, then cookie, body and origin cut at 0xff bytes.
    let mut parts = rest.split(|&b| b == 0xff);
    let cookie = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();
    let origin = parts.next();
    let genuine = match flags % 3 {
        0 => Genuine::Nowhere,
        1 => Genuine::InBody,
        _ => Genuine::InCookie,
    };
    let method = if flags & 0x80 != 0 {
        Method::GET
    } else {
        Method::POST
    };

    RUNTIME.block_on(async {
        // A store per input, so that inputs do not depend on each other.
        let sessions = Sessions::new(
            ISSUER_AT_NOW.clone(),
            MemoryStore::new(),
            SessionConfig::default(),
        );
        let token = sessions
            .login("user", &NoClaims {})
            .await
            .unwrap()
            .pair
            .refresh_token()
            .to_owned();

        let mut builder = Request::builder().method(method.clone()).uri("/api/refresh");
        let mut cookie = cookie.to_vec();
        let mut body = body.to_vec();
        match genuine {
            Genuine::Nowhere => {}
            Genuine::InBody => body.extend_from_slice(token.as_bytes()),
            Genuine::InCookie => cookie.extend_from_slice(token.as_bytes()),
        }
        if let Ok(value) = http::HeaderValue::from_bytes(&cookie) {
            builder = builder.header("cookie", value);
        }
        if let Some(origin) = origin.and_then(|o| http::HeaderValue::from_bytes(o).ok()) {
            builder = builder.header("origin", origin);
        }
        let request = builder.body(Full::new(Bytes::from(body))).unwrap();

        let response = sessions.handle_refresh(request).await;
        let status = response.status();
        let answer = response.into_body().collect().await.unwrap().to_bytes();

        let expected = [
            StatusCode::OK,
            StatusCode::BAD_REQUEST,
            StatusCode::FORBIDDEN,
            StatusCode::METHOD_NOT_ALLOWED,
        ];
        assert!(expected.contains(&status), "{status}");
        if method != Method::POST {
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        }
        if status == StatusCode::OK {
            // Only the genuine token can be traded, and the answer is a
            // new pair.
            assert!(!matches!(genuine, Genuine::Nowhere));
            let pair: serde_json::Value = serde_json::from_slice(&answer).unwrap();
            let access = pair["accessToken"].as_str().unwrap();
            assert!(ISSUER_AT_NOW.access_verifier::<NoClaims>().verify(access).is_ok());
            assert_ne!(pair["refreshToken"].as_str(), Some(token.as_str()));
        } else {
            let error: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
            if status != StatusCode::METHOD_NOT_ALLOWED {
                assert!(error["error"].is_string(), "{status}: {answer:?}");
            }
        }
    });
});
