//! The Tower layer that answers requests without a valid access token.
//!
//! [`AuthLayer`] wraps any `Service<http::Request<B>>`, so it serves axum
//! and plain hyper alike. For each request it
//!
//! 1. reads `Authorization: Bearer <token>` (the scheme in any case),
//! 2. verifies the token with its key's own algorithm and checks `typ`,
//!    `iss`, `aud`, `exp` and `nbf`,
//! 3. asks the [`RevocationCheck`], if one is set, whether the token or its
//!    session was revoked,
//! 4. puts the [`AccessClaims`](crate::AccessClaims) into the request's
//!    extensions and calls the inner service.
//!
//! Otherwise it answers itself, without calling the inner service:
//!
//! | request | status | `WWW-Authenticate` |
//! | --- | --- | --- |
//! | no bearer token | `401` | `Bearer realm="api"` |
//! | invalid, expired or revoked token | `401` | `… error="invalid_token", error_description="…"` |
//! | two `Authorization` headers, empty bearer | `400` | `… error="invalid_request"` |
//! | revocations cannot be checked | `503` | none |
//!
//! The body is a small JSON object repeating the error, such as
//! `{"error":"invalid_token","error_description":"the access token expired"}`;
//! [`RenderRejection`] changes it in one place.

pub(crate) mod bearer;
mod check;
mod future;
#[allow(clippy::module_inception)]
mod layer;
mod rejection;
mod service;

use bytes::Bytes;
use http_body_util::{Either, Full};

pub use check::{Check, RevocationCheck, TokenRef, Verdict};
pub use future::ResponseFuture;
pub use layer::AuthLayer;
pub use rejection::{JsonRejection, Rejection, RejectionKind, RenderRejection};
pub use service::Auth;

/// The body of the layer's responses: the inner service's body, or the
/// layer's own for a refusal.
pub type ResponseBody<B> = Either<B, Full<Bytes>>;
