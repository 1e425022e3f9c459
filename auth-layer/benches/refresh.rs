//! What one refresh with rotation costs a core, without the network.
//!
//! `refresh/issue_pair` signs a new pair (the least a rotation must do);
//! `refresh/sessions` is `Sessions::refresh` on the memory store: verify
//! the refresh token, read the session, sign the pair, rotate; and
//! `refresh/handle_refresh` is the whole HTTP handler on a JSON body,
//! answer and cookie included. Each iteration refreshes with the token the
//! previous one was given, as a client does.
//!
//! Run with `cargo bench -p auth-layer --bench refresh`.

use std::hint::black_box;

use auth_layer::session::{SessionConfig, Sessions};
use auth_layer::store::MemoryStore;
use auth_layer::{Key, KeySet, NoClaims, TokenConfig, TokenIssuer};
use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::Request;
use http_body_util::{BodyExt, Full};

fn sessions() -> Sessions {
    let keys = |kid: &str| {
        KeySet::new(Key::hs256(kid, format!("bench {kid} secret of at least 32 bytes")).unwrap())
            .unwrap()
    };
    let config = TokenConfig::new("https://auth.example.com", "api");
    let issuer = TokenIssuer::new(keys("a1"), keys("r1"), config).unwrap();
    Sessions::new(issuer, MemoryStore::new(), SessionConfig::default())
}

fn refresh(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let sessions = sessions();
    let login = runtime
        .block_on(sessions.login("user-42", &NoClaims {}))
        .unwrap();
    let mut token = login.pair.refresh_token().to_owned();

    let mut group = c.benchmark_group("refresh");
    group.bench_function("issue_pair", |b| {
        b.iter(|| {
            sessions
                .issuer()
                .issue_pair(black_box("user-42"), "session-1", &NoClaims {})
                .unwrap()
        })
    });
    group.bench_function("sessions", |b| {
        b.iter(|| {
            let grant = runtime.block_on(sessions.refresh(&token)).unwrap();
            token = grant.refresh_token().unwrap().to_owned();
        })
    });
    group.bench_function("handle_refresh", |b| {
        b.iter(|| {
            let body = format!(r#"{{"refreshToken":"{token}"}}"#);
            let request = Request::post("/api/refresh")
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body)))
                .unwrap();
            let response = runtime.block_on(sessions.handle_refresh(request));
            assert_eq!(response.status(), 200);
            let body = runtime
                .block_on(response.into_body().collect())
                .unwrap()
                .to_bytes();
            let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
            token = answer["refreshToken"].as_str().unwrap().to_owned();
        })
    });
    group.finish();
}

criterion_group!(benches, refresh);
criterion_main!(benches);
