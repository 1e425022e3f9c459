use crate::keys::KeyError;

/// Why a token was refused, or could not be issued.
///
/// Messages are fixed phrases: they never contain the token or any part of
/// it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not three base64url segments of JSON, or a header this crate does not
    /// accept (such as one with `crit`).
    #[error("the token is malformed")]
    Malformed,
    /// Longer than the configured maximum.
    #[error("the token is too long")]
    TooLong,
    /// The `alg` header differs from the algorithm of the key named by
    /// `kid` (this covers `alg: none`).
    #[error("the token's algorithm does not match its key")]
    AlgorithmMismatch,
    /// The `kid` header is missing or names no key in the set.
    #[error("the token names no known key")]
    UnknownKey,
    /// The `typ` header is not the one expected, such as a refresh token
    /// presented as an access token.
    #[error("the token is of the wrong type")]
    WrongType,
    /// The signature does not verify.
    #[error("the token's signature is invalid")]
    BadSignature,
    /// The payload is not the expected claims (a claim is missing or of the
    /// wrong type).
    #[error("the token's claims are invalid")]
    InvalidClaims,
    /// `exp` has passed, beyond the leeway.
    #[error("the token has expired")]
    Expired,
    /// `nbf` or `iat` lies in the future, beyond the leeway.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iss` is not the configured issuer.
    #[error("the token comes from another issuer")]
    WrongIssuer,
    /// `aud` does not contain the configured audience.
    #[error("the token is meant for another audience")]
    WrongAudience,
    /// Signing a new token failed.
    #[error("the token could not be signed")]
    Signing(#[from] KeyError),
}

impl TokenError {
    /// Whether the token was genuine but has expired: the case in which a
    /// client should refresh.
    pub fn is_expired(&self) -> bool {
        matches!(self, Self::Expired)
    }
}
