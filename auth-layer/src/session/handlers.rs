//! The refresh and logout endpoints as axum handlers.
//!
//! They take the [`Sessions`] from the router's state (directly, or through
//! [`FromRef`](axum::extract::FromRef) from a larger state).
//!
//! ```
//! use auth_layer::session::{Sessions, handlers};
//! use axum::Router;
//! use axum::routing::post;
//!
//! fn routes(sessions: Sessions) -> Router {
//!     Router::new()
//!         .route("/api/refresh", post(handlers::refresh))
//!         .route("/api/logout", post(handlers::logout))
//!         .route("/api/logout-all", post(handlers::logout_all))
//!         .with_state(sessions)
//! }
//! ```

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;

use super::Sessions;

/// `POST /api/refresh`; see [`Sessions::refresh_service`].
pub async fn refresh(State(sessions): State<Sessions>, request: Request) -> Response {
    sessions.handle_refresh(request).await.map(Body::new)
}

/// `POST /api/logout`; see [`Sessions::logout_service`].
pub async fn logout(State(sessions): State<Sessions>, request: Request) -> Response {
    sessions.handle_logout(request).await.map(Body::new)
}

/// `POST /api/logout-all`; see [`Sessions::logout_all_service`].
pub async fn logout_all(State(sessions): State<Sessions>, request: Request) -> Response {
    sessions.handle_logout_all(request).await.map(Body::new)
}
