//! The compact JWS form: `base64url(header).base64url(payload).base64url(sig)`.
//!
//! Decoding checks the header and the signature before the payload is
//! parsed, and parses the payload once, straight into the claim type.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Deserializer, Serialize};

use super::{ACCESS_TOKEN_TYPE, REFRESH_TOKEN_TYPE, TokenError};
use crate::keys::{Key, KeySet};

/// Headers are small; a larger one (a 10 KiB `kid`, say) is refused.
const MAX_HEADER_LEN: usize = 1024;
/// RSA-4096 signatures are the largest this crate verifies.
const MAX_SIGNATURE_LEN: usize = 512;
/// Signatures up to this size (HS256, EdDSA, ES256) are decoded on the stack.
const STACK_SIGNATURE_LEN: usize = 64;
/// Payloads up to this size are decoded on the stack.
const STACK_PAYLOAD_LEN: usize = 512;

/// The two kinds of token, told apart by their `typ` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Access,
    Refresh,
}

impl Kind {
    pub(crate) fn typ(self) -> &'static str {
        match self {
            Self::Access => ACCESS_TOKEN_TYPE,
            Self::Refresh => REFRESH_TOKEN_TYPE,
        }
    }
}

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
    /// Present at all, whatever its value (even `null`).
    #[serde(default, deserialize_with = "present")]
    crit: bool,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(d).map(|_| true)
}

/// The base64url header this crate writes for `kind` under `key`. Keys keep
/// it, so that signing does not rebuild it and verifying can recognise it
/// without decoding.
pub(crate) fn encoded_header(key: &Key, kind: Kind) -> String {
    let header = Header {
        alg: key.algorithm().as_str(),
        typ: kind.typ(),
        kid: key.kid(),
    };
    let json = serde_json::to_vec(&header).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

/// Signs `claims` with `key` as a token of `kind`.
pub(crate) fn encode<T: Serialize>(
    key: &Key,
    kind: Kind,
    claims: &T,
) -> Result<String, TokenError> {
    let header = key.encoded_header(kind);
    let payload = serde_json::to_vec(claims).map_err(|_| TokenError::InvalidClaims)?;

    let mut token = String::with_capacity(header.len() + payload.len() * 4 / 3 + 100);
    token.push_str(header);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
    let signature = key.sign(token.as_bytes())?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    Ok(token)
}

/// Verifies `token` against `keys` and returns its claims, as read from the
/// payload's JSON by `parse`.
///
/// The key is chosen by `kid` and dictates the algorithm; the header's `alg`
/// must merely name the same one. The payload is read only after the
/// signature has verified, and must be a JSON object. Claims are not
/// validated here beyond their shape.
pub(crate) fn decode<T>(
    keys: &KeySet,
    token: &str,
    kind: Kind,
    max_len: usize,
    parse: impl FnOnce(&[u8]) -> Result<T, TokenError>,
) -> Result<T, TokenError> {
    if token.len() > max_len {
        return Err(TokenError::TooLong);
    }
    let (signing_input, signature) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
    let (header, payload) = signing_input.split_once('.').ok_or(TokenError::Malformed)?;
    // A dot left in `payload` fails its base64 decoding below.

    let key = match keys.keys().find(|key| key.encoded_header(kind) == header) {
        Some(key) => key,
        None => check_header(keys, header, kind.typ())?,
    };

    let verified = if base64::decoded_len_estimate(signature.len()) <= STACK_SIGNATURE_LEN {
        let mut sig = [0u8; STACK_SIGNATURE_LEN];
        let len = decode_into(signature, &mut sig)?;
        key.verify(signing_input.as_bytes(), &sig[..len])
    } else {
        let mut sig = [0u8; MAX_SIGNATURE_LEN];
        let len = decode_into(signature, &mut sig)?;
        key.verify(signing_input.as_bytes(), &sig[..len])
    };
    if !verified {
        return Err(TokenError::BadSignature);
    }

    if base64::decoded_len_estimate(payload.len()) <= STACK_PAYLOAD_LEN {
        let mut buf = [0u8; STACK_PAYLOAD_LEN];
        let len = decode_into(payload, &mut buf)?;
        parse(object(&buf[..len])?)
    } else {
        let buf = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Malformed)?;
        parse(object(&buf)?)
    }
}

/// Header and payload must be JSON objects; serde would also read a
/// struct from an array of its fields in order.
fn object(json: &[u8]) -> Result<&[u8], TokenError> {
    match json.trim_ascii_start().first() {
        Some(b'{') => Ok(json),
        _ => Err(TokenError::Malformed),
    }
}

fn check_header<'k>(keys: &'k KeySet, header: &str, typ: &str) -> Result<&'k Key, TokenError> {
    let mut buf = [0u8; MAX_HEADER_LEN];
    let len = decode_into(header, &mut buf)?;
    let header: ParsedHeader<'_> =
        serde_json::from_slice(object(&buf[..len])?).map_err(|_| TokenError::Malformed)?;
    if header.crit {
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

/// Reads claims with `serde_json`.
pub(crate) fn parse_claims<T: DeserializeOwned>(json: &[u8]) -> Result<T, TokenError> {
    serde_json::from_slice(json).map_err(|_| TokenError::InvalidClaims)
}
