//! Sessions: login, refresh with rotation and reuse detection, logout and
//! revocation, and the refresh cookie.
//!
//! [`Sessions`] ties a [`TokenIssuer`](crate::TokenIssuer) to a
//! [`SessionStore`](crate::store::SessionStore). Login stays the
//! application's: it checks the credentials and calls [`Sessions::login`],
//! which creates the session and returns the pair with a ready response.
//! Refresh and logout are ready-made Tower services
//! ([`Sessions::refresh_service`], [`Sessions::logout_service`],
//! [`Sessions::logout_all_service`]); with the `axum` feature the
//! [`handlers`] module has them as axum handlers.
//!
//! # Rotation
//!
//! Each refresh with the session's current refresh token rotates it,
//! atomically in the store, so two racing refreshes cannot both win. The
//! token just replaced still gets the same answer for a short grace window
//! (10 seconds by default), so that tabs and parallel requests racing on one
//! token converge on one session. Any other reuse of an old refresh token is
//! taken for theft: the whole session is revoked, the caller gets
//! `400 invalid_grant`, and a warning names the session id.
//!
//! # The cookie
//!
//! The refresh cookie is `HttpOnly; Secure; SameSite=Strict`, set only for
//! the refresh and logout paths. A refresh or logout that relies on the
//! cookie and comes from another site (by `Origin` or `Sec-Fetch-Site`) is
//! refused with `403`.

mod config;
mod cookie;
mod error;
#[cfg(feature = "axum")]
pub mod handlers;
mod http;
mod sessions;

pub use self::http::{Endpoint, EndpointFuture};
pub use config::{CookieConfig, SessionConfig};
pub use error::{RefreshError, SessionError};
pub use sessions::{Grant, Login, Sessions};
