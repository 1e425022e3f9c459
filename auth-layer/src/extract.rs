//! The axum extractor for verified claims.

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;

use crate::claims::{AccessClaims, NoClaims};
use crate::layer::Rejection;

/// The verified claims of the request's access token, for axum handlers
/// behind an [`AuthLayer`](crate::AuthLayer).
///
/// Without the layer in front (a route that was meant to be protected but
/// was mounted outside it), extraction fails with the layer's own `401`, so
/// a wiring mistake locks the route instead of opening it.
///
/// # Example
///
/// ```
/// use auth_layer::{Authenticated, NoClaims};
///
/// async fn me(Authenticated(claims): Authenticated<NoClaims>) -> String {
///     format!("user {} in session {}", claims.sub(), claims.sid())
/// }
/// # let _: axum::Router = axum::Router::new().route("/me", axum::routing::get(me));
/// ```
#[derive(Clone, Debug)]
pub struct Authenticated<C = NoClaims>(pub AccessClaims<C>);

/// The `401` an [`Authenticated`] extractor answers with when the layer did
/// not run.
#[derive(Debug)]
pub struct MissingClaims;

impl IntoResponse for MissingClaims {
    fn into_response(self) -> Response {
        Rejection::missing("api").to_response().map(Body::new)
    }
}

impl<S, C> FromRequestParts<S> for Authenticated<C>
where
    S: Send + Sync,
    C: Clone + Send + Sync + 'static,
{
    type Rejection = MissingClaims;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<AccessClaims<C>>()
            .cloned()
            .map(Authenticated)
            .ok_or(MissingClaims)
    }
}
