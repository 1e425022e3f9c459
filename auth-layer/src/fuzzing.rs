//! Entry points for the fuzz targets in `fuzz/`: thin wrappers around
//! parsers that are not public. Only built with the `fuzzing` feature, and
//! not part of the crate's API.

use http::HeaderMap;

use crate::AccessClaims;
use crate::layer::bearer::{self, Bearer};
use crate::token::flat;

/// What the `Authorization` header parser made of a request's headers.
#[derive(Debug, PartialEq, Eq)]
pub enum BearerOutcome<'a> {
    /// No bearer credentials.
    Missing,
    /// A token in the `b64token` syntax.
    Token(&'a str),
    /// Bearer credentials that cannot be a token.
    Invalid,
    /// A malformed request.
    Malformed,
}

/// Runs the layer's `Authorization` header parser on `headers`.
pub fn bearer(headers: &HeaderMap) -> BearerOutcome<'_> {
    match bearer::bearer(headers) {
        Bearer::Missing => BearerOutcome::Missing,
        Bearer::Token(token) => BearerOutcome::Token(token),
        Bearer::Invalid => BearerOutcome::Invalid,
        Bearer::Malformed(_) => BearerOutcome::Malformed,
    }
}

/// Whether the fast claims reader accepts `json`.
pub fn flat_accepts(json: &[u8]) -> bool {
    flat::read(json).is_some()
}

/// Checks the fast claims reader against `serde_json` on `json`: `Ok` when
/// the fast reader refuses it, or accepts it and reads exactly the claims
/// that `serde_json` reads; `Err` with what differs otherwise.
pub fn flat_agrees(json: &[u8]) -> Result<(), String> {
    let Some(fast) = flat::read(json) else {
        return Ok(());
    };
    let full: AccessClaims = serde_json::from_slice(json)
        .map_err(|err| format!("the fast reader accepted what serde_json refused: {err}"))?;

    let fast_view = (
        fast.iss,
        vec![fast.aud],
        (fast.sub, fast.jti, fast.sid),
        (fast.iat, fast.exp, fast.nbf),
    );
    let full_view = (
        full.iss(),
        full.aud().collect::<Vec<_>>(),
        (full.sub(), full.jti(), full.sid()),
        (full.iat(), full.exp(), full.nbf()),
    );
    if fast_view == full_view {
        Ok(())
    } else {
        Err(format!("fast {fast_view:?} != serde_json {full_view:?}"))
    }
}
