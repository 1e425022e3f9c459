//! The compact JWS form: `base64url(header).base64url(payload).base64url(sig)`.
//!
//! Decoding checks the header and the signature before the payload is
//! parsed, and parses the payload once, straight into the claim type.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};

use super::TokenError;
use crate::keys::{Key, KeySet};

/// Headers are small; a larger one (a 10 KiB `kid`, say) is refused.
const MAX_HEADER_LEN: usize = 1024;
/// RSA-4096 signatures are the largest this crate verifies.
const MAX_SIGNATURE_LEN: usize = 512;
/// Payloads up to this size are decoded on the stack.
const STACK_PAYLOAD_LEN: usize = 1024;

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'a str,
    kid: &'a str,
}

#[derive(Deserialize)]
struct ParsedHeader<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow, default)]
    typ: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    kid: Option<Cow<'a, str>>,
    #[serde(default)]
    crit: Option<IgnoredAny>,
}

/// Signs `claims` with `key` under the given `typ`.
pub(crate) fn encode<T: Serialize>(key: &Key, typ: &str, claims: &T) -> Result<String, TokenError> {
    let header = Header {
        alg: key.algorithm().as_str(),
        typ,
        kid: key.kid(),
    };
    let header = serde_json::to_vec(&header).map_err(|_| TokenError::Malformed)?;
    let payload = serde_json::to_vec(claims).map_err(|_| TokenError::InvalidClaims)?;

    let mut token = String::with_capacity((header.len() + payload.len()) * 4 / 3 + 100);
    URL_SAFE_NO_PAD.encode_string(&header, &mut token);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
    let signature = key.sign(token.as_bytes())?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    Ok(token)
}

/// Verifies `token` against `keys` and returns its claims.
///
/// The key is chosen by `kid` and dictates the algorithm; the header's `alg`
/// must merely name the same one. Claims are not validated here beyond
/// their shape.
pub(crate) fn decode<T: DeserializeOwned>(
    keys: &KeySet,
    token: &str,
    typ: &str,
    max_len: usize,
) -> Result<T, TokenError> {
    if token.len() > max_len {
        return Err(TokenError::TooLong);
    }
    let (signing_input, signature) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
    let (header, payload) = signing_input.split_once('.').ok_or(TokenError::Malformed)?;
    if payload.contains('.') {
        return Err(TokenError::Malformed);
    }

    let key = check_header(keys, header, typ)?;

    let mut sig = [0u8; MAX_SIGNATURE_LEN];
    let sig_len = decode_into(signature, &mut sig)?;
    if !key.verify(signing_input.as_bytes(), &sig[..sig_len]) {
        return Err(TokenError::BadSignature);
    }

    if base64::decoded_len_estimate(payload.len()) <= STACK_PAYLOAD_LEN {
        let mut buf = [0u8; STACK_PAYLOAD_LEN];
        let len = decode_into(payload, &mut buf)?;
        parse_claims(&buf[..len])
    } else {
        let buf = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Malformed)?;
        parse_claims(&buf)
    }
}

fn check_header<'k>(keys: &'k KeySet, header: &str, typ: &str) -> Result<&'k Key, TokenError> {
    let mut buf = [0u8; MAX_HEADER_LEN];
    let len = decode_into(header, &mut buf)?;
    let header: ParsedHeader<'_> =
        serde_json::from_slice(&buf[..len]).map_err(|_| TokenError::Malformed)?;
    if header.crit.is_some() {
        return Err(TokenError::Malformed);
    }

    let kid = header.kid.ok_or(TokenError::UnknownKey)?;
    let key = keys.find(&kid).ok_or(TokenError::UnknownKey)?;
    if header.alg != key.algorithm().as_str() {
        return Err(TokenError::AlgorithmMismatch);
    }
    match header.typ {
        Some(found) if same_type(&found, typ) => Ok(key),
        _ => Err(TokenError::WrongType),
    }
}

/// `typ` compares case-insensitively and may carry the `application/`
/// prefix (RFC 7515, section 4.1.9).
fn same_type(found: &str, expected: &str) -> bool {
    let found = match found.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &found[12..],
        _ => found,
    };
    found.eq_ignore_ascii_case(expected)
}

fn decode_into(segment: &str, buf: &mut [u8]) -> Result<usize, TokenError> {
    if base64::decoded_len_estimate(segment.len()) > buf.len() {
        return Err(TokenError::Malformed);
    }
    URL_SAFE_NO_PAD
        .decode_slice(segment, buf)
        .map_err(|_| TokenError::Malformed)
}

fn parse_claims<T: DeserializeOwned>(json: &[u8]) -> Result<T, TokenError> {
    serde_json::from_slice(json).map_err(|_| TokenError::InvalidClaims)
}
