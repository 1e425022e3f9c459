//! The reference server: a small API that signs a demo user in and protects
//! `/api/me` with [`auth_layer::AuthLayer`].
//!
//! | route | behaviour |
//! | --- | --- |
//! | `POST /api/login` | `{"username","password"}`: `200`, the pair and the cookie; or `401` |
//! | `POST /api/refresh` | token from body or cookie: `200`, a rotated pair, a new cookie |
//! | `POST /api/logout` | bearer access token and/or refresh token: session revoked, `204` |
//! | `POST /api/logout-all` | bearer access token; `204`, every session of the user revoked |
//! | `GET /api/me` | protected; `200` with the user id and session id |
//! | `GET /healthz` | public; `200` |
//! | `GET /` | the demo page (with `/app.js` and `/app.css`), compiled into the binary |
//!
//! A refresh that fails answers `400 invalid_grant`; login, refresh and
//! logout set or clear the HttpOnly refresh cookie.

mod config;
mod page;
mod routes;

pub use config::{Config, ConfigError};
pub use routes::{DEMO_PASSWORD, DEMO_USER, Server};
