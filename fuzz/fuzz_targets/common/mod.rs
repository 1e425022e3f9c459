//! What the targets share: one issuer, fixed in time, and raw signing.

#![allow(dead_code)]

use std::sync::{Arc, LazyLock};

use auth_layer::{Key, KeySet, ManualClock, NoClaims, TokenConfig, TokenIssuer};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub const ACCESS_SECRET: &str = "access secret of the fuzz targets, 0123456789";
pub const REFRESH_SECRET: &str = "refresh secret of the fuzz targets, 9876543210";
pub const ISSUER: &str = "fuzz-issuer";
pub const AUDIENCE: &str = "fuzz-api";
pub const NOW: i64 = 1_700_000_000;

/// An issuer whose clock stands still at `NOW`.
pub static ISSUER_AT_NOW: LazyLock<TokenIssuer> = LazyLock::new(|| {
    let keys = |kid: &str, secret: &str| KeySet::new(Key::hs256(kid, secret).unwrap()).unwrap();
    TokenIssuer::with_clock(
        keys("access-1", ACCESS_SECRET),
        keys("refresh-1", REFRESH_SECRET),
        TokenConfig::new(ISSUER, AUDIENCE),
        Arc::new(ManualClock::new(NOW)),
    )
    .unwrap()
});

/// A genuine access token, issued at `NOW`.
pub static GOOD_ACCESS: LazyLock<String> = LazyLock::new(|| {
    ISSUER_AT_NOW
        .issue_access("user", "session", &NoClaims {})
        .unwrap()
        .into_string()
});

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `header.payload.signature` over the raw segments given, signed with
/// HS256 under `secret`.
pub fn hs256(secret: &[u8], header: &[u8], payload: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(mac.finalize().into_bytes()))
}
