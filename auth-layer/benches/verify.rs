//! Access-token verification against its floor.
//!
//! `hs256/raw_hmac_sha256` is the least any HS256 verifier must do: one
//! HMAC-SHA256 of the token's signing input with a pre-keyed state.
//! `hs256/verify` is the layer's own path (header, signature, one parse of
//! the claims, claim checks). `hs256/jsonwebtoken_decode` is
//! `jsonwebtoken::decode` on the same token, for comparison.
//!
//! Run with `cargo bench -p auth-layer --bench verify`.

use std::hint::black_box;

use auth_layer::{Algorithm, Key, KeySet, NoClaims, TokenConfig, TokenIssuer};
use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::{DecodingKey, Validation};
use sha2::Sha256;

const ACCESS_SECRET: &str = "bench access secret of at least 32 bytes";
const REFRESH_SECRET: &str = "bench refresh secret of at least 32 bytes";

fn issuer(access: Key) -> TokenIssuer {
    let refresh = Key::hs256("r1", REFRESH_SECRET).unwrap();
    let config = TokenConfig::new("https://auth.example.com", "api");
    TokenIssuer::new(
        KeySet::new(access).unwrap(),
        KeySet::new(refresh).unwrap(),
        config,
    )
    .unwrap()
}

fn hs256(c: &mut Criterion) {
    let issuer = issuer(Key::hs256("a1", ACCESS_SECRET).unwrap());
    let token = issuer
        .issue_access("user-42", "session-1", &NoClaims {})
        .unwrap();
    let token = token.as_str();
    let verifier = issuer.access_verifier::<NoClaims>();
    assert!(verifier.verify(token).is_ok());

    let signing_input = &token[..token.rfind('.').unwrap()];
    let keyed = Hmac::<Sha256>::new_from_slice(ACCESS_SECRET.as_bytes()).unwrap();

    let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_issuer(&["https://auth.example.com"]);
    validation.set_audience(&["api"]);
    let decoding = DecodingKey::from_secret(ACCESS_SECRET.as_bytes()).unwrap();

    let mut group = c.benchmark_group("hs256");
    group.bench_function("raw_hmac_sha256", |b| {
        b.iter(|| {
            let mut mac = keyed.clone();
            mac.update(black_box(signing_input).as_bytes());
            black_box(mac.finalize().into_bytes())
        })
    });
    group.bench_function("verify", |b| {
        b.iter(|| verifier.verify(black_box(token)).unwrap())
    });
    group.bench_function("jsonwebtoken_decode", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<serde_json::Value>(black_box(token), &decoding, &validation)
                .unwrap()
        })
    });
    group.finish();
}

fn eddsa(c: &mut Criterion) {
    let pem = include_str!("../tests/keys/ed25519.pem");
    let issuer = issuer(Key::from_pem("ed1", Algorithm::EdDSA, pem).unwrap());
    let token = issuer
        .issue_access("user-42", "session-1", &NoClaims {})
        .unwrap();
    let verifier = issuer.access_verifier::<NoClaims>();

    c.bench_function("eddsa/verify", |b| {
        b.iter(|| verifier.verify(black_box(token.as_str())).unwrap())
    });
}

criterion_group!(benches, hs256, eddsa);
criterion_main!(benches);
