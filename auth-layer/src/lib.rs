//! Short-lived access tokens and long-lived refresh tokens for HTTP APIs,
//! with a Tower layer that refuses requests without a valid access token.
//!
//! An access token (a JWT with `typ: at+jwt`, minutes long) travels in
//! `Authorization: Bearer` on every request; the [`AuthLayer`] verifies it
//! and answers `401` when it is missing, invalid or expired. A refresh token
//! (days long, its own `typ` and its own key) is only ever shown to the
//! refresh endpoint, which trades it for a new pair.
//!
//! # The whole flow
//!
//! ```
//! use std::convert::Infallible;
//!
//! use auth_layer::{AccessClaims, AuthLayer, Key, KeySet, NoClaims, TokenConfig, TokenIssuer};
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::Full;
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Keys: one for access tokens, another for refresh tokens.
//! let issuer = TokenIssuer::new(
//!     KeySet::new(Key::hs256("access-1", b"access secret, at least 32 bytes!!")?)?,
//!     KeySet::new(Key::hs256("refresh-1", b"refresh secret, at least 32 bytes!")?)?,
//!     TokenConfig::new("https://auth.example.com", "api"),
//! )?;
//!
//! // A protected service: the layer puts the verified claims in the
//! // request's extensions.
//! let api = ServiceBuilder::new()
//!     .layer(AuthLayer::new(issuer.access_verifier::<NoClaims>()))
//!     .service(service_fn(|request: Request<Full<Bytes>>| async move {
//!         let claims = request.extensions().get::<AccessClaims>().unwrap();
//!         let hello = format!("hello, {}", claims.sub());
//!         Ok::<_, Infallible>(Response::new(Full::<Bytes>::from(hello)))
//!     }));
//!
//! // After checking a password, the application issues a pair.
//! let pair = issuer.issue_pair("alice", &auth_layer::random_id(), &NoClaims {})?;
//!
//! let signed_in = Request::builder()
//!     .header("authorization", format!("Bearer {}", pair.access_token()))
//!     .body(Full::default())?;
//! assert_eq!(api.clone().oneshot(signed_in).await?.status(), StatusCode::OK);
//!
//! let anonymous = Request::new(Full::default());
//! let refused = api.oneshot(anonymous).await?;
//! assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(refused.headers()["www-authenticate"], r#"Bearer realm="api""#);
//! # Ok(())
//! # }
//! ```
//!
//! # Keys
//!
//! HS256 is the default (secrets of at least 32 bytes; shorter ones are
//! refused when the [`Key`] is made), and EdDSA, ES256 and RS256 keys load
//! from PEM so that resource servers can verify with public keys alone and
//! publish them with [`KeySet::jwks`]. The key named by a token's `kid`
//! decides the algorithm; the token's own `alg` is never trusted.
//!
//! Signatures are made and checked with the RustCrypto backend of
//! `jsonwebtoken`, which this crate selects explicitly for every operation.
//! It never consults `jsonwebtoken`'s process-wide crypto provider, so the
//! run-time panic that `jsonwebtoken` raises when both or neither of its
//! backend features are enabled cannot happen through this crate, whatever
//! features other crates in the build turn on.
//!
//! # Sessions
//!
//! [`session::Sessions`] adds what keeps people signed in: login creates a
//! session in a [`store::SessionStore`]; refresh rotates the refresh token
//! atomically, replays the first answer inside a short grace window, and
//! revokes the whole session when an older token comes back; logout and
//! "log out everywhere" revoke at once, and the layer made by
//! [`session::Sessions::layer`] refuses the revoked session's access tokens
//! on the very next request.
//!
//! # Feature flags
//!
//! - `axum`: the [`Authenticated`] extractor and the
//!   [`session::handlers`] for refresh and logout.
//! - `redis`: the Redis session store, for many server processes sharing
//!   one Redis.

#![warn(missing_docs)]

mod claims;
mod clock;
#[cfg(feature = "axum")]
mod extract;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod id;
pub mod keys;
pub mod layer;
pub mod session;
pub mod store;
pub mod token;

pub use claims::{AccessClaims, NoClaims, RefreshClaims};
pub use clock::{Clock, ManualClock, SystemClock};
#[cfg(feature = "axum")]
pub use extract::{Authenticated, MissingClaims};
pub use id::random_id;
pub use keys::{Algorithm, Key, KeyError, KeySet};
pub use layer::{
    Auth, AuthLayer, Check, JsonRejection, Rejection, RejectionKind, RenderRejection, ResponseBody,
    ResponseFuture, RevocationCheck, TokenRef, Verdict,
};
pub use token::{AccessVerifier, IssuedToken, TokenConfig, TokenError, TokenIssuer, TokenPair};
