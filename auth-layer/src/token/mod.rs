//! Issuing and verifying access and refresh tokens.
//!
//! A [`TokenIssuer`] signs pairs: an access token (header `typ: at+jwt`,
//! RFC 9068) signed with the access key set, and a refresh token (header
//! `typ: rt+jwt`) signed with a separate refresh key set. An
//! [`AccessVerifier`] checks access tokens; it is what the layer runs on
//! every request, and a resource server can build one from public keys
//! alone.

mod config;
mod error;
pub(crate) mod flat;
mod issuer;
pub(crate) mod jws;
mod pair;
mod verifier;

pub use config::TokenConfig;
pub use error::TokenError;
pub use issuer::TokenIssuer;
pub use pair::{IssuedToken, TokenPair};
pub use verifier::AccessVerifier;

/// The `typ` header of access tokens (RFC 9068).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// The `typ` header of refresh tokens.
pub const REFRESH_TOKEN_TYPE: &str = "rt+jwt";
